#!/usr/bin/env bash
# Side-by-side benchmark (issue 14): wsmon (release, headless), the Node `ws` client and a bare
# tokio-tungstenite client (the floor), in one run, against the same local servers:
#   - a Node `ws` server (benches/ws_server.js) for opening and holding sessions,
#   - `wsmon serve` (/overload?cap=...) for the reconnect storm.
# Everything is on 127.0.0.1, bounded in count and time, and stops by itself.
#
#   benches/side_by_side.sh           full: open 1,000 and 10,000, a 60 s storm of 10,000, idle
#                                     sessions pinging every 15 s (headless, Node, bare), TUI idle
#   benches/side_by_side.sh --quick   1,000 sessions, a 10 s storm
#
# Needs: a release build (built here if missing), Node with `ws` (tests/peers/install.sh puts it
# under target/peers/node), tmux for the TUI row, python3 for the table.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
if [ $QUICK = 1 ]; then
  OPEN_NS=(1000); OPEN_SECS=8; STORM_N=1000; STORM_CAP=100; STORM_SECS=10; TUI_N=1000; TUI_SECS=10
else
  OPEN_NS=(1000 10000); OPEN_SECS=25; STORM_N=10000; STORM_CAP=1000; STORM_SECS=60; TUI_N=10000; TUI_SECS=30
fi

# 10,000 client sockets and as many server ones: raise the open-file limit as far as allowed.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 11000 ] && [ $QUICK = 0 ]; then
  echo "side_by_side: ulimit -n is $(ulimit -n); 10,000 sessions need more (try --quick)" >&2
  exit 1
fi

WSMON=$ROOT/target/release/wsmon
BARE=$ROOT/target/release/examples/bare_client
if [ ! -x "$WSMON" ] || [ ! -x "$BARE" ]; then
  cargo build --release --bin wsmon --example bare_client
fi
NODE_MODULES=$ROOT/target/peers/node/node_modules
[ -d "$NODE_MODULES/ws" ] || { echo "side_by_side: run tests/peers/install.sh first (Node ws)" >&2; exit 1; }
export NODE_PATH=$NODE_MODULES

OUT=$(mktemp -d /tmp/wsmon-bench.XXXXXX)
NODE_PORT=${NODE_PORT:-9301}
STORM_PORT=${STORM_PORT:-9302}
PIDS=()
TMUX_SOCK=wsmon-bench-$$
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  tmux -L "$TMUX_SOCK" kill-server 2>/dev/null || true
}
trap cleanup EXIT

node "$ROOT/benches/ws_server.js" "$NODE_PORT" >"$OUT/node_server.log" 2>&1 &
PIDS+=($!)
"$WSMON" serve --bind "127.0.0.1:$STORM_PORT" >"$OUT/storm_server.log" 2>&1 &
PIDS+=($!)
sleep 1.5

TICK=$(getconf CLK_TCK)
# cpu_ticks PID: user+system clock ticks of the whole process (finished threads included).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# ctxt PID: voluntary and involuntary context switches summed over the process's threads.
ctxt() {
  local v=0 i=0 a b
  for t in /proc/"$1"/task/*; do
    a=$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status" 2>/dev/null || echo 0)
    b=$(awk '/^nonvoluntary_ctxt_switches/ {print $2}' "$t/status" 2>/dev/null || echo 0)
    v=$((v + ${a:-0})); i=$((i + ${b:-0}))
  done
  echo "$v $i"
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# measure NAME SECS CMD...: run CMD for SECS seconds; one second before the end, record its
# CPU, context switches and RSS in $OUT/NAME.proc; CMD's stdout goes to $OUT/NAME.out.
measure() {
  local name=$1 secs=$2; shift 2
  "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" &
  local pid=$!
  sleep $((secs - 1))
  if [ -d "/proc/$pid" ]; then
    local cpu
    cpu=$(awk -v t="$(cpu_ticks $pid)" -v k="$TICK" 'BEGIN { printf "%.3f", t / k }')
    echo "{\"cpu_s\": $cpu, \"ctxt\": [$(ctxt $pid | tr ' ' ',')], \"rss_kib\": $(rss_kib $pid), \"secs\": $((secs - 1))}" >"$OUT/$name.proc"
  fi
  # wsmon stops by itself (--duration); the peers exit at SECS.
  local waited=0
  while kill -0 "$pid" 2>/dev/null && [ $waited -lt 40 ]; do sleep 0.5; waited=$((waited + 1)); done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "  $name done" >&2
}

echo "results in $OUT" >&2
NODE_URL=ws://127.0.0.1:$NODE_PORT/
for n in "${OPEN_NS[@]}"; do
  for d in plain deflate; do
    offer=(--no-offer); nflag=""
    [ $d = deflate ] && { offer=(); nflag=deflate; }
    measure "open_${n}_${d}_wsmon" $OPEN_SECS "$WSMON" watch "$NODE_URL" -n "$n" --headless \
      --duration "$((OPEN_SECS))s" --ping-interval 0 "${offer[@]}" --export "$OUT/open_${n}_${d}_wsmon.jsonl"
    measure "open_${n}_${d}_node" $OPEN_SECS node "$ROOT/benches/node_client.js" open "$NODE_URL" "$n" "$OPEN_SECS" $nflag
    if [ $d = plain ]; then
      measure "open_${n}_${d}_bare" $OPEN_SECS "$BARE" open "$NODE_URL" "$n" "$OPEN_SECS"
    fi
  done
done

STORM_URL="ws://127.0.0.1:$STORM_PORT/overload?cap=$STORM_CAP"
measure storm_wsmon $STORM_SECS "$WSMON" watch "$STORM_URL" -n "$STORM_N" --headless --no-offer \
  --duration "${STORM_SECS}s" --ping-interval 0 --export "$OUT/storm_wsmon.jsonl"
sleep 2
measure storm_node $STORM_SECS node "$ROOT/benches/node_client.js" storm "$STORM_URL" "$STORM_N" "$STORM_SECS"
sleep 2
measure storm_bare $STORM_SECS "$BARE" storm "$STORM_URL" "$STORM_N" "$STORM_SECS"

# idle_window NAME PID: after 20 s for the sessions to open, PID's CPU (% of one core) over
# TUI_SECS and its RSS, in $OUT/NAME.proc.
idle_window() {
  local name=$1 pid=$2
  sleep 20
  local c0 c1
  c0=$(cpu_ticks "$pid")
  sleep "$TUI_SECS"
  c1=$(cpu_ticks "$pid")
  local pct
  pct=$(awk -v d="$((c1 - c0))" -v k="$TICK" -v s="$TUI_SECS" 'BEGIN { printf "%.3f", d * 100 / k / s }')
  echo "{\"cpu_pct\": $pct, \"rss_kib\": $(rss_kib "$pid")}" >"$OUT/$name.proc"
}

# Idle sessions pinging every 15 s (wsmon's default), without a UI: wsmon headless, the Node
# client and the bare client hold TUI_N sessions; CPU over TUI_SECS once they are open.
idle_pings() {
  local name=$1; shift
  "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" &
  local pid=$!
  idle_window "$name" "$pid"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "  $name done" >&2
}
IDLE_RUN=$((TUI_SECS + 25))
idle_pings idle_pings_wsmon "$WSMON" watch "$NODE_URL" -n "$TUI_N" --headless --no-offer \
  --duration "${IDLE_RUN}s" --export "$OUT/idle_pings_wsmon.jsonl"
idle_pings idle_pings_node node "$ROOT/benches/node_client.js" ping "$NODE_URL" "$TUI_N" "$IDLE_RUN"
idle_pings idle_pings_bare "$BARE" ping "$NODE_URL" "$TUI_N" "$IDLE_RUN"

# TUI idle: wsmon in a private tmux server, TUI_N idle sessions, CPU over TUI_SECS once open.
tui_idle() {
  local name=$1; shift
  tmux -L "$TMUX_SOCK" new-session -d -s "$name" -x 160 -y 48 \
    "exec $WSMON watch $NODE_URL -n $TUI_N --no-offer $*"
  local pid
  pid=$(tmux -L "$TMUX_SOCK" list-panes -t "$name" -F '#{pane_pid}')
  idle_window "$name" "$pid"
  tmux -L "$TMUX_SOCK" send-keys -t "$name" q
  sleep 1
  tmux -L "$TMUX_SOCK" send-keys -t "$name" y 2>/dev/null || true
  sleep 3
  tmux -L "$TMUX_SOCK" kill-session -t "$name" 2>/dev/null || true
  echo "  $name done" >&2
}
tui_idle tui_pings
tui_idle tui_nopings --ping-interval 0

python3 "$ROOT/benches/side_by_side_table.py" "$OUT" "$QUICK" "${OPEN_NS[*]}" "$STORM_N" "$STORM_CAP" "$STORM_SECS" "$TUI_N" "$TUI_SECS"
