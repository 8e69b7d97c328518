#!/usr/bin/env python3
"""Prints the side-by-side table from the files benches/side_by_side.sh left in its results dir."""
import json
import os
import sys
from datetime import datetime

out, quick, open_ns, storm_n, storm_cap, storm_secs, tui_n, tui_secs = sys.argv[1:9]
open_ns = [int(n) for n in open_ns.split()]
storm_secs = int(storm_secs)


def load(name, ext):
    p = os.path.join(out, f"{name}.{ext}")
    if not os.path.exists(p):
        return None
    with open(p) as f:
        text = f.read().strip()
    if not text:
        return None
    try:
        return json.loads(text.splitlines()[-1])
    except json.JSONDecodeError:
        return None


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000.0


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def events(name):
    p = os.path.join(out, f"{name}.jsonl")
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return [json.loads(line) for line in f if line.strip()]


def wsmon_open(name):
    evs = events(name)
    first_connect, opened, hs, timeouts = {}, {}, [], 0
    for e in evs:
        s = e["session"]
        if e["event"] == "connecting" and s not in first_connect:
            first_connect[s] = ts(e["ts"])
        elif e["event"] == "open" and s not in opened:
            opened[s] = ts(e["ts"])
            hs.append(opened[s] - first_connect.get(s, opened[s]))
        elif e["event"] == "error" and e.get("kind") == "timeout":
            timeouts += 1
    if not opened:
        return {"opened": 0}
    return {"opened": len(opened), "open_ms": max(opened.values()) - min(first_connect.values()),
            "hs_p50": pct(hs, 50), "hs_p99": pct(hs, 99), "timeouts": timeouts}


def wsmon_storm(name):
    evs = events(name)
    spawned = [ts(e["ts"]) for e in evs if e["event"] == "spawned"]
    if not spawned:
        return {}
    end = min(spawned) + storm_secs * 1000
    per = {}
    for e in evs:
        per.setdefault(e["session"], []).append(e)
    attempts = sum(1 for e in evs if e["event"] == "connecting" and ts(e["ts"]) < end)
    n = len(per)
    ideal, on_time, lags, waits, total = n, n, [], [], []
    for s, es in per.items():
        for i, e in enumerate(es):
            if e["event"] != "backoff":
                continue
            due = ts(e["next_attempt_at"])
            if due >= end:
                continue
            ideal += 1
            nxt = next((x for x in es[i + 1:] if x["event"] == "connecting"), None)
            if nxt is not None and ts(nxt["ts"]) < end:
                on_time += 1
                # `connecting` is stamped once the attempt has its handshake slot: the
                # schedule lag is when it asked for one (the slot wait is --max-connecting's
                # pacing, by design, and shown apart as in the export).
                wait = nxt.get("slot_wait_ms", 0)
                lags.append(ts(nxt["ts"]) - wait - due)
                waits.append(wait)
                total.append(ts(nxt["ts"]) - due)
    return {"attempts": attempts, "ideal": ideal, "on_time": on_time,
            "lag_p50": pct(lags, 50), "lag_p99": pct(lags, 99),
            "slot_p50": pct(waits, 50), "slot_p99": pct(waits, 99),
            "start_p50": pct(total, 50), "start_p99": pct(total, 99)}


def f(v, unit="", nd=0):
    if v is None:
        return "-"
    if isinstance(v, float) and nd == 0 and abs(v) < 10:
        nd = 1
    return f"{v:,.{nd}f}{unit}"


def ratio(a, b):
    # Below 0.1 (a lag of about zero, say), a ratio says nothing.
    if a is None or b is None or abs(b) < 0.1:
        return "-"
    return f"{a / b:.2f}"


rows = []


def row(what, w, n, b, r_nb=True):
    rows.append((what, w, n, b, ratio_cell(w, n), ratio_cell(w, b) if r_nb else "-"))


def ratio_cell(a, b):
    return ratio(a[1] if isinstance(a, tuple) else None, b[1] if isinstance(b, tuple) else None)


def cell(v, unit="", nd=0):
    return (f(v, unit, nd), v)


for n in open_ns:
    for d in ("plain", "deflate"):
        label = "with deflate" if d == "deflate" else "no deflate"
        w = wsmon_open(f"open_{n}_{d}_wsmon")
        nd = load(f"open_{n}_{d}_node", "out") or {}
        bd = load(f"open_{n}_{d}_bare", "out") or {} if d == "plain" else {}
        wp = load(f"open_{n}_{d}_wsmon", "proc") or {}
        np_ = load(f"open_{n}_{d}_node", "proc") or {}
        bp = load(f"open_{n}_{d}_bare", "proc") or {}
        bare_na = ("n/a (no deflate)", None)
        rows.append((f"open {n:,} {label}: sessions opened", cell(w.get("opened")), cell(nd.get("opened")),
                     cell(bd.get("opened")) if d == "plain" else bare_na, "", ""))
        for key, title in (("open_ms", "first connect -> last open"),):
            a, b, c = cell(w.get(key), " ms"), cell(nd.get(key), " ms"), cell(bd.get(key), " ms") if d == "plain" else bare_na
            rows.append((f"open {n:,} {label}: {title}", a, b, c, ratio_cell(a, b), ratio_cell(a, c)))
        a = (f"{f(w.get('hs_p50'))} / {f(w.get('hs_p99'))} ms", w.get("hs_p99"))
        b = (f"{f(nd.get('hs_p50'))} / {f(nd.get('hs_p99'))} ms", nd.get("hs_p99"))
        c = (f"{f(bd.get('hs_p50'))} / {f(bd.get('hs_p99'))} ms", bd.get("hs_p99")) if d == "plain" else bare_na
        rows.append((f"open {n:,} {label}: handshake p50 / p99 (ratio of p99)", a, b, c, ratio_cell(a, b), ratio_cell(a, c)))
        a, b = cell(wp.get("cpu_s"), " s", 2), cell(np_.get("cpu_s"), " s", 2)
        c = cell(bp.get("cpu_s"), " s", 2) if d == "plain" else bare_na
        rows.append((f"open {n:,} {label}: CPU seconds (open, then idle)", a, b, c, ratio_cell(a, b), ratio_cell(a, c)))
        if w:
            rows.append((f"open {n:,} {label}: wsmon connect timeouts", cell(w.get("timeouts")), ("", None), ("", None), "", ""))

# RSS per idle session: slope between the smallest and largest open run (fixed costs cancel).
if len(open_ns) >= 2:
    lo, hi = open_ns[0], open_ns[-1]
    for d in ("plain", "deflate"):
        vals = {}
        for c in ("wsmon", "node", "bare"):
            a = load(f"open_{lo}_{d}_{c}", "proc")
            b = load(f"open_{hi}_{d}_{c}", "proc")
            vals[c] = (b["rss_kib"] - a["rss_kib"]) / (hi - lo) if a and b else None
        label = "with deflate (no message)" if d == "deflate" else "no deflate"
        a, b = cell(vals["wsmon"], " KiB", 1), cell(vals["node"], " KiB", 1)
        c = cell(vals["bare"], " KiB", 1) if d == "plain" else ("n/a (no deflate)", None)
        rows.append((f"RSS per idle open session, {label} ({lo:,} -> {hi:,})", a, b, c, ratio_cell(a, b), ratio_cell(a, c)))
else:
    for d in ("plain",):
        vals = {}
        for c in ("wsmon", "node", "bare"):
            a = load(f"open_{open_ns[0]}_{d}_{c}", "proc")
            vals[c] = a["rss_kib"] / open_ns[0] if a else None
        a, b, c = cell(vals["wsmon"], " KiB", 1), cell(vals["node"], " KiB", 1), cell(vals["bare"], " KiB", 1)
        rows.append((f"RSS / session incl. fixed costs ({open_ns[0]:,}, no deflate)", a, b, c, ratio_cell(a, b), ratio_cell(a, c)))

sw = wsmon_storm("storm_wsmon")
sn = load("storm_node", "out") or {}
sb = load("storm_bare", "out") or {}
pw, pn, pb = (load(f"storm_{c}", "proc") or {} for c in ("wsmon", "node", "bare"))
title = f"storm {int(storm_n):,} on /overload?cap={storm_cap}, {storm_secs} s"


def share(d):
    if not d.get("ideal"):
        return None
    return 100.0 * d["on_time"] / d["ideal"]


a, b, c = cell(share(sw), " %", 1), cell(share(sn), " %", 1), cell(share(sb), " %", 1)
rows.append((f"{title}: attempts on schedule vs the ideal", a, b, c, "", ""))
a, b, c = cell(sw.get("attempts")), cell(sn.get("attempts")), cell(sb.get("attempts"))
rows.append((f"{title}: attempts started", a, b, c, ratio_cell(a, b), ratio_cell(a, c)))
for k in ("lag_p50", "lag_p99"):
    a, b, c = cell(sw.get(k), " ms"), cell(sn.get(k), " ms"), cell(sb.get(k), " ms")
    rows.append((f"{title}: schedule lag {k[4:]} (due -> attempt starts; wsmon: asks for a "
                 "handshake slot)", a, b, c, ratio_cell(a, b), ratio_cell(a, c)))
for k in ("slot_p50", "slot_p99"):
    rows.append((f"{title}: wsmon handshake slot wait {k[5:]} (default --max-connecting)",
                 cell(sw.get(k), " ms"), ("", None), ("", None), "", ""))
for k in ("start_p50", "start_p99"):
    rows.append((f"{title}: wsmon due -> handshake starts {k[6:]} (lag + slot wait)",
                 cell(sw.get(k), " ms"), ("", None), ("", None), "", ""))


def cpu_pct(p):
    return 100.0 * p["cpu_s"] / p["secs"] if p else None


a, b, c = cell(cpu_pct(pw), " %", 1), cell(cpu_pct(pn), " %", 1), cell(cpu_pct(pb), " %", 1)
rows.append((f"{title}: client CPU (of one core)", a, b, c, ratio_cell(a, b), ratio_cell(a, c)))


def cs(p, i=None):
    if not p:
        return None
    return sum(p["ctxt"]) if i is None else p["ctxt"][i]


a, b, c = cell(cs(pw)), cell(cs(pn)), cell(cs(pb))
rows.append((f"{title}: context switches (vol + invol)", a, b, c, ratio_cell(a, b), ratio_cell(a, c)))
a, b, c = cell(cs(pw, 0)), cell(cs(pn, 0)), cell(cs(pb, 0))
rows.append((f"{title}: voluntary context switches", a, b, c, ratio_cell(a, b), ratio_cell(a, c)))


def per_attempt(p, d):
    if not p or not d.get("attempts"):
        return None
    return sum(p["ctxt"]) / d["attempts"]


a, b, c = cell(per_attempt(pw, sw), "", 2), cell(per_attempt(pn, sn), "", 2), cell(per_attempt(pb, sb), "", 2)
rows.append((f"{title}: context switches per attempt", a, b, c, ratio_cell(a, b), ratio_cell(a, c)))

# The same pings without a UI, all three clients: what the ping load itself costs.
cells = [cell((load(f"idle_pings_{c}", "proc") or {}).get("cpu_pct"), " %", 2)
         for c in ("wsmon", "node", "bare")]
rows.append((f"{int(tui_n):,} idle sessions pinging every 15 s (wsmon headless): CPU of one core "
             f"over {tui_secs} s", cells[0], cells[1], cells[2], ratio_cell(cells[0], cells[1]),
             ratio_cell(cells[0], cells[2])))

for name, label in (("tui_pings", "default pings (15 s)"), ("tui_nopings", "no pings")):
    p = load(name, "proc") or {}
    rows.append((f"TUI, {int(tui_n):,} idle sessions, {label}: CPU of one core over {tui_secs} s",
                 cell(p.get("cpu_pct"), " %", 2), ("", None), ("", None), "", ""))

mode = "quick" if quick == "1" else "full"
print(f"wsmon side by side ({mode} mode), results in {out}")
print("bare = tokio-tungstenite used directly (no monitoring; tungstenite has no deflate)")
print()
print("| | wsmon | Node ws | bare tokio-tungstenite | wsmon / Node | wsmon / bare |")
print("|---|---|---|---|---|---|")
for what, w, n, b, r1, r2 in rows:
    print(f"| {what} | {w[0]} | {n[0]} | {b[0]} | {r1} | {r2} |")
