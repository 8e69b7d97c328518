#!/usr/bin/env bash
# A fleet on one machine, measured (issue 22 item 5): AGENTS wsmon agents (`watch --headless
# --shard K/AGENTS --start-at ... --metrics ... --export ...`) against AGENTS `wsmon serve`
# processes, and a real Prometheus scraping the agents every second. Everything on 127.0.0.1,
# bounded in time, and it stops by itself (every child is killed on exit).
#
#   benches/fleet.sh              4 agents x 12,500 sessions (50,000), then a storm phase
#   benches/fleet.sh 500          4 agents x 500 sessions: a quick check that it works
#
# Phase 1 (open): every agent opens its share of AGENTS x N sessions on /echo of every server,
# all starting at the same --start-at. Checked: all open; sum(wsmon_sessions{state="open"}) in
# Prometheus reads the total; Prometheus's opens equal the merged replay's (`wsmon replay
# --summary-json` of the AGENTS exports). Printed: time to all open (from the start time to the
# last `open` event in the exports), RSS per session of each agent, CPU of each agent and of
# Prometheus.
# Phase 2 (storm): the same fleet on /overload?cap=C of every server, sustained until the storm
# alert of assets/prometheus-rules.yml fires in Prometheus; then Prometheus's opens and 1013
# closes must equal the merged replay's to the event.
#
# With assets/prometheus-rules.yml (or RULES=FILE), Prometheus loads it and the alerts that fired
# during the storm are listed.
# Needs: tests/peers/install.sh (Debian's prometheus), python3. WSMON=path picks the binary
# (default target/release/wsmon, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

N=${1:-12500}                 # sessions per agent
AGENTS=${AGENTS:-4}
TOTAL=$((N * AGENTS))
PER_URL=$((TOTAL / AGENTS))   # -n per target URL: one URL per server, AGENTS servers
BASE_PORT=${BASE_PORT:-9480}  # servers BASE+1.., agents' metrics BASE+11.., Prometheus BASE
START_DELAY=${START_DELAY:-5} # seconds from launch to --start-at
OPEN_SECS=${OPEN_SECS:-$((20 + N / 1000))}
# The storm lasts long enough for the rules file's WsmonReconnectStorm alert (1013 closes above
# 10/s per target over 1 m, for 2 m) to fire: STORM_REJECT sessions per server are refused and
# keep retrying (backoff capped at 5 s), the others stay open.
STORM_SECS=${STORM_SECS:-200}
STORM_REJECT=${STORM_REJECT:-$(( N < 500 ? N / 2 : 250 ))}
STORM_CAP=${STORM_CAP:-$((N - STORM_REJECT))}

# Each agent holds N sockets (and each server as many): raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt $((N + 1000)) ]; then
  echo "fleet: ulimit -n is $NOFILE; $N sessions per agent need more" >&2
  exit 1
fi
command -v prometheus >/dev/null || { echo "fleet: run tests/peers/install.sh first (prometheus)" >&2; exit 1; }

WSMON=${WSMON:-$ROOT/target/release/wsmon}
if [ ! -x "$WSMON" ]; then
  cargo build --release --bin wsmon
fi

OUT=$(mktemp -d /tmp/wsmon-fleet.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

PROM_PORT=$BASE_PORT
PROM=http://127.0.0.1:$PROM_PORT
# query PROMQL: the instant value as a number (empty when there is none).
query() {
  curl -s --max-time 5 "$PROM/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}

# Servers.
URLS_ECHO=(); URLS_STORM=()
for k in $(seq 1 "$AGENTS"); do
  port=$((BASE_PORT + k))
  "$WSMON" serve --bind "127.0.0.1:$port" >"$OUT/server-$k.log" 2>&1 &
  PIDS+=($!)
  URLS_ECHO+=("ws://127.0.0.1:$port/echo")
  URLS_STORM+=("ws://127.0.0.1:$port/overload?cap=$STORM_CAP")
done

# Prometheus, scraping every agent's metrics port every second.
targets=$(for k in $(seq 1 "$AGENTS"); do printf "'127.0.0.1:%d'," $((BASE_PORT + 10 + k)); done)
# The alert and recording rules (assets/prometheus-rules.yml), when this checkout has them.
RULES=${RULES:-$ROOT/assets/prometheus-rules.yml}
RULE_FILES=""
[ -f "$RULES" ] && RULE_FILES="rule_files: ['$RULES']"
cat >"$OUT/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
$RULE_FILES
scrape_configs:
  - job_name: wsmon-fleet
    static_configs:
      - targets: [${targets%,}]
EOF
prometheus --config.file="$OUT/prometheus.yml" --storage.tsdb.path="$OUT/prom-data" \
  --web.listen-address="127.0.0.1:$PROM_PORT" >"$OUT/prometheus.log" 2>&1 &
PROM_PID=$!
PIDS+=($PROM_PID)
for _ in $(seq 1 60); do
  curl -sf --max-time 1 "$PROM/-/ready" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -sf --max-time 1 "$PROM/-/ready" >/dev/null || { echo "fleet: prometheus not ready" >&2; cat "$OUT/prometheus.log" >&2; exit 1; }

FAILS=0
check() { # check WHAT GOT WANT
  if [ "$2" = "$3" ]; then echo "  ok    $1: $2"; else echo "  FAIL  $1: got '$2', want '$3'"; FAILS=$((FAILS + 1)); fi
}

# run_phase NAME SECS EXTRA_ARGS URL...: start the agents at a common --start-at.
AGENT_PIDS=()
run_phase() {
  local name=$1 secs=$2 extra=$3; shift 3
  local start_at
  start_at=$(date -u -d "+$START_DELAY sec" +%Y-%m-%dT%H:%M:%S.%3NZ)
  AGENT_PIDS=()
  for k in $(seq 1 "$AGENTS"); do
    # shellcheck disable=SC2086
    "$WSMON" watch --headless -n "$PER_URL" --shard "$k/$AGENTS" --start-at "$start_at" \
      --duration "${secs}s" --metrics "127.0.0.1:$((BASE_PORT + 10 + k))" \
      --export "$OUT/$name-shard-$k.jsonl" $extra "$@" \
      >"$OUT/$name-agent-$k.out" 2>"$OUT/$name-agent-$k.err" &
    AGENT_PIDS+=($!)
    PIDS+=($!)
  done
  START_AT=$start_at
}

# Wait (at most SECS) until Prometheus reads WANT for PROMQL; prints the last value.
wait_prom() { # PROMQL WANT SECS
  local v="" end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ]; do
    v=$(query "$1")
    [ "${v%.*}" = "$2" ] && break
    sleep 1
  done
  echo "${v%.*}"
}

# Sample the agents' and Prometheus's CPU until the agents have ended.
follow_agents() {
  while kill -0 "${AGENT_PIDS[0]}" 2>/dev/null; do
    for i in $(seq 0 $((AGENTS - 1))); do
      t=$(cpu_ticks "${AGENT_PIDS[$i]}"); [ "$t" != 0 ] && LAST_CPU[$i]=$t
    done
    PROM_CPU1=$(cpu_ticks $PROM_PID)
    sleep 0.5
  done
}

agents_exit() {
  local code=0
  for p in "${AGENT_PIDS[@]}"; do wait "$p" || code=$?; done
  return $code
}

replay_json() { # NAME: the merged replay's summary JSON of the phase's exports
  "$WSMON" replay --summary --summary-json "$OUT/$1-merged.json" "$OUT/$1"-shard-*.jsonl \
    >"$OUT/$1-merged.txt" 2>"$OUT/$1-merged.err"
  cat "$OUT/$1-merged.json"
}

echo "fleet: $AGENTS agents x $N sessions = $TOTAL, against $AGENTS wsmon serve; Prometheus on :$PROM_PORT; output in $OUT"

# ---- Phase 1: open ----
PROM_CPU0=$(cpu_ticks $PROM_PID)
run_phase open "$OPEN_SECS" "" "${URLS_ECHO[@]}"
echo "phase 1 (open): start at $START_AT, $OPEN_SECS s"
open=$(wait_prom 'sum(wsmon_sessions{state="open"})' "$TOTAL" $((START_DELAY + OPEN_SECS - 5)))
check 'sum(wsmon_sessions{state="open"}) in Prometheus' "$open" "$TOTAL"
sleep 2
prom_opens=$(query 'sum(wsmon_opens_total)'); prom_opens=${prom_opens%.*}
for i in $(seq 0 $((AGENTS - 1))); do
  p=${AGENT_PIDS[$i]}
  RSS[$i]=$(rss_kib "$p")
done
LAST_CPU=()
follow_agents
agents_exit || { echo "  FAIL  an agent exited non-zero (see $OUT/open-agent-*.err)"; FAILS=$((FAILS + 1)); }
json=$(replay_json open)
read -r r_opens r_sessions < <(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["opens"], j["sessions"])' "$json")
check "merged replay: sessions" "$r_sessions" "$TOTAL"
check "merged replay opens = Prometheus sum(wsmon_opens_total)" "$r_opens" "$prom_opens"
all_open=$(python3 - "$START_AT" "$OUT"/open-shard-*.jsonl <<'EOF'
import json, sys
from datetime import datetime
start = datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00"))
last = None
for path in sys.argv[2:]:
    with open(path) as f:
        for line in f:
            if '"event":"open"' in line:
                ts = datetime.fromisoformat(json.loads(line)["ts"].replace("Z", "+00:00"))
                last = ts if last is None or ts > last else last
print(f"{(last - start).total_seconds():.2f}" if last else "-")
EOF
)
echo "  time from --start-at to the last session open: $all_open s"
for i in $(seq 0 $((AGENTS - 1))); do
  printf "  agent %d/%d: RSS %d KiB = %.1f KiB per session; CPU %.2f s over the phase\n" \
    $((i + 1)) "$AGENTS" "${RSS[$i]}" "$(div "${RSS[$i]}" "$N")" \
    "$(div "${LAST_CPU[$i]:-0}" "$TICK")"
done
printf "  prometheus: CPU %.2f s during the phase, RSS %d KiB\n" \
  "$(div $((${PROM_CPU1:-0} - PROM_CPU0)) "$TICK")" "$(rss_kib $PROM_PID)"

# ---- Phase 2: storm ----
storm_args="--backoff-base 500ms --backoff-cap 5s --ping-interval 0"
PROM_CPU0=$(cpu_ticks $PROM_PID)
run_phase storm "$STORM_SECS" "$storm_args" "${URLS_STORM[@]}"
echo "phase 2 (storm): /overload?cap=$STORM_CAP on each server, start at $START_AT, $STORM_SECS s, $storm_args"
# The alert of the rules file, firing in Prometheus (one per target) while the storm goes on.
if [ -n "$RULE_FILES" ]; then
  firing=$(wait_prom 'count(ALERTS{alertname="WsmonReconnectStorm",alertstate="firing"})' "$AGENTS" $((START_DELAY + STORM_SECS - 5)))
  check "WsmonReconnectStorm firing in Prometheus (one per target)" "$firing" "$AGENTS"
fi
# Until the agents have ended (each keeps /metrics up until one scrape read its final values).
follow_agents
sleep 2
# The agents have ended, so their series are stale: the last value each scrape read, of the
# storm's targets only (the open phase's /echo series are still in the window).
prom_opens=$(query 'sum(last_over_time(wsmon_opens_total{target=~".*/overload.*"}[10m]))'); prom_opens=${prom_opens%.*}
prom_1013=$(query 'sum(last_over_time(wsmon_closes_total{code="1013",target=~".*/overload.*"}[10m]))'); prom_1013=${prom_1013%.*}
peak_rate=$(query 'max_over_time(sum(rate(wsmon_closes_total{code="1013"}[5s]))[5m:1s])')
agents_exit || { echo "  FAIL  an agent exited non-zero (see $OUT/storm-agent-*.err)"; FAILS=$((FAILS + 1)); }
json=$(replay_json storm)
read -r r_opens r_1013 < <(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(j["opens"], j["closes_by_code"].get("1013", 0))' "$json")
check "merged replay opens = Prometheus" "$r_opens" "$prom_opens"
check "merged replay 1013 closes = Prometheus" "$r_1013" "$prom_1013"
printf "  peak 1013 closes/s across the fleet (Prometheus, 5 s rate): %.0f\n" "${peak_rate:-0}"
if [ -n "$RULE_FILES" ]; then
  fired=$(curl -s --max-time 5 "$PROM/api/v1/query" \
    --data-urlencode 'query=max_over_time(ALERTS{alertstate="firing"}[5m])' |
    python3 -c 'import json,sys; print(" ".join(sorted({r["metric"]["alertname"] for r in json.load(sys.stdin)["data"]["result"]})) or "none")')
  echo "  alerts that fired during the storm ($(basename "$RULES")): $fired"
fi
for i in $(seq 0 $((AGENTS - 1))); do
  printf "  agent %d/%d: CPU %.2f s over the storm phase\n" $((i + 1)) "$AGENTS" \
    "$(div "${LAST_CPU[$i]:-0}" "$TICK")"
done
printf "  prometheus: CPU %.2f s during the storm phase\n" "$(div $((${PROM_CPU1:-0} - PROM_CPU0)) "$TICK")"

if [ "$FAILS" -gt 0 ]; then
  echo "fleet: $FAILS check(s) failed; logs in $OUT" >&2
  exit 1
fi
echo "fleet: every check passed; logs in $OUT"
