// The Node `ws` client of the conversation benchmark (benches/conversation.sh): N sessions on a
// feed, each message parsed with JSON.parse and matched against {"type":"tick"}, which is what
// wsmon's script `expect json {"type":"tick"} within 5s` does.
//
//   node feed_client.mjs URL N SECONDS [SEND_EVERY_MS]
//
// With SEND_EVERY_MS (for an echo server, until a feed exists), every session sends
// {"type":"tick","seq":n} that often and parses the echo. Prints one JSON line of results on
// stdout after SECONDS, then exits. `ws` is found through NODE_PATH (target/peers/node).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const WebSocket = require('ws');

const [url, nArg, secsArg, everyArg] = process.argv.slice(2);
const N = Number(nArg);
const SECS = Number(secsArg);
const EVERY = everyArg === undefined ? 0 : Number(everyArg);
if (!url || !(N > 0) || !(SECS > 0) || !(EVERY >= 0)) {
  process.stderr.write('usage: node feed_client.mjs URL N SECONDS [SEND_EVERY_MS]\n');
  process.exit(2);
}

let opened = 0, failed = 0, closed = 0, messages = 0, matched = 0, unparsed = 0, sent = 0;
const sockets = [];
for (let i = 0; i < N; i++) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  sockets.push(ws);
  let timer = null;
  ws.on('open', () => {
    opened++;
    if (EVERY > 0) {
      let seq = 0;
      // Spread the sends over the period, as independent clients would be.
      setTimeout(() => {
        timer = setInterval(() => {
          ws.send(JSON.stringify({ type: 'tick', seq: seq++ }));
          sent++;
        }, EVERY);
      }, Math.floor(Math.random() * EVERY));
    }
  });
  ws.on('message', (data, isBinary) => {
    messages++;
    if (isBinary) return;
    let v;
    try {
      v = JSON.parse(data.toString());
    } catch (_) {
      unparsed++;
      return;
    }
    if (v !== null && typeof v === 'object' && v.type === 'tick') matched++;
  });
  ws.on('error', () => { failed++; });
  ws.on('close', () => { closed++; if (timer) clearInterval(timer); });
}

setTimeout(() => {
  console.log(JSON.stringify({ client: 'node', n: N, secs: SECS, opened, failed, closed,
    messages, matched, unparsed, sent }));
  for (const ws of sockets) ws.terminate();
  process.exit(0);
}, SECS * 1000);
