// The Node `ws` client of the side-by-side benchmark (benches/side_by_side.sh).
//   node node_client.js open URL N SECONDS [deflate]  open N sessions, hold them, exit after SECONDS
//   node node_client.js storm URL N SECONDS           N sessions that reconnect with full-jitter
//                                                     backoff (base 1 s, cap 60 s) for SECONDS
//   node node_client.js ping URL N SECONDS            open N sessions and ping each every 15 s,
//                                                     on a 1 s grid at a random slot
// Prints one JSON line of results on stdout.
'use strict';
const WebSocket = require('ws');
const [mode, url, nArg, secsArg, flag] = process.argv.slice(2);
const N = Number(nArg);
const SECS = Number(secsArg);
const BASE = 1000, CAP = 60000, STABLE = 10000;
const now = () => Number(process.hrtime.bigint() / 1000000n);
const pct = (xs, p) => {
  if (!xs.length) return null;
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const t0 = now();
const deadline = t0 + SECS * 1000;

if (mode === 'open') {
  const deflate = flag === 'deflate';
  let opened = 0, failed = 0, firstConnect = null, lastOpen = null;
  const hs = [];
  for (let i = 0; i < N; i++) {
    const start = now();
    if (firstConnect === null) firstConnect = start;
    const ws = new WebSocket(url, { perMessageDeflate: deflate ? { clientNoContextTakeover: true } : false });
    ws.on('open', () => { opened++; lastOpen = now(); hs.push(lastOpen - start); });
    ws.on('error', () => { failed++; });
  }
  setTimeout(() => {
    console.log(JSON.stringify({ client: 'node', mode, n: N, opened, failed,
      open_ms: lastOpen === null ? null : lastOpen - firstConnect,
      hs_p50: pct(hs, 50), hs_p99: pct(hs, 99) }));
    process.exit(0);
  }, SECS * 1000);
} else if (mode === 'storm') {
  let attempts = 0;
  const due = [];   // scheduled retries: [due time]
  const lags = [];
  let onTime = 0;   // scheduled retries that started before the deadline
  function connect(retry, scheduledAt) {
    if (now() >= deadline) return;
    if (scheduledAt !== null) { lags.push(now() - scheduledAt); onTime++; }
    attempts++;
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let openedAt = null, done = false;
    ws.on('open', () => { openedAt = now(); });
    const again = () => {
      if (done) return; done = true;
      // The retry counter resets only after a connection stayed open STABLE ms.
      const n = openedAt !== null && now() - openedAt >= STABLE ? 1 : retry + 1;
      const window = Math.min(CAP, BASE * 2 ** (n - 1));
      const delay = Math.random() * window;
      const at = now() + delay;
      if (at < deadline) due.push(at);
      setTimeout(() => connect(n, at), delay);
    };
    ws.on('close', again);
    ws.on('error', () => {});
  }
  for (let i = 0; i < N; i++) connect(0, null);
  setTimeout(() => {
    console.log(JSON.stringify({ client: 'node', mode, n: N, attempts,
      ideal: N + due.length, on_time: N + onTime,
      lag_p50: pct(lags, 50), lag_p99: pct(lags, 99) }));
    process.exit(0);
  }, SECS * 1000);
} else if (mode === 'ping') {
  const EVERY = 15000;  // wsmon's default ping interval
  let opened = 0, failed = 0, pongs = 0;
  for (let i = 0; i < N; i++) {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.on('open', () => {
      opened++;
      let first = t0 + 1000 * Math.floor(Math.random() * (EVERY / 1000));
      while (first <= now()) first += EVERY;
      setTimeout(() => { ws.ping(); setInterval(() => ws.ping(), EVERY); }, first - now());
    });
    ws.on('pong', () => { pongs++; });
    ws.on('error', () => { failed++; });
  }
  setTimeout(() => {
    console.log(JSON.stringify({ client: 'node', mode, n: N, opened, failed, pongs }));
    process.exit(0);
  }, SECS * 1000);
} else {
  console.error('usage: node_client.js open|storm|ping URL N SECONDS [deflate]');
  process.exit(2);
}
