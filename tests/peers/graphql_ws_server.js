#!/usr/bin/env node
// A real graphql-ws server (npm `graphql-ws` on `ws`, the graphql-transport-ws protocol) for
// tests/protocols.rs.
//
// Binds 127.0.0.1 on a free port and prints `PORT <n>` on stdout once it listens. Exits when stdin
// closes (so a test that dies never leaves it running) or on SIGTERM / SIGINT.
//
// Schema: `query { hello }` and `subscription { tick }`, which yields 1, 2, 3 ... every
// --tick-ms (default 100) until the client completes it.
// Flags: --init-wait MS  the server's connectionInitWaitTimeout (default: graphql-ws's, 3000):
//                        a client that sends no connection_init in time is closed with 4408.
//        --tick-ms MS    the subscription's period.
//        --no-ack        never acknowledge: the onConnect hook never returns (a server stuck
//                        checking a token), so connection_ack never comes.
// The packages are looked up in target/peers/node (where `bash tests/peers/install.sh` puts
// them), or in NODE_PATH.
'use strict';

const http = require('http');
const path = require('path');

const local = path.join(__dirname, '..', '..', 'target', 'peers', 'node');
function load(name) {
  try {
    return require(require.resolve(name, { paths: [local] }));
  } catch (_) {
    return require(name);
  }
}
const { WebSocketServer } = load('ws');
const { useServer } = load('graphql-ws/use/ws');
const { buildSchema } = load('graphql');

function usage(msg) {
  process.stderr.write(`graphql_ws_server.js: ${msg}\n`);
  process.exit(2);
}

const opts = { initWait: undefined, tickMs: 100 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--no-ack') { opts.noAck = true; continue; }
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n <= 0) usage(`${argv[i]} needs a positive integer`);
  if (argv[i] === '--init-wait') opts.initWait = n;
  else if (argv[i] === '--tick-ms') opts.tickMs = n;
  else usage(`unknown flag ${argv[i]}`);
  i++;
}

const schema = buildSchema('type Query { hello: String } type Subscription { tick: Int }');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const roots = {
  query: { hello: () => 'world' },
  subscription: {
    tick: async function* () {
      for (let n = 1; ; n++) {
        await sleep(opts.tickMs);
        yield { tick: n };
      }
    },
  },
};

const server = http.createServer((_, res) => { res.writeHead(404); res.end(); });
const wss = new WebSocketServer({ server });
const serverOpts = { schema, roots };
if (opts.initWait !== undefined) serverOpts.connectionInitWaitTimeout = opts.initWait;
if (opts.noAck) serverOpts.onConnect = () => new Promise(() => {});
useServer(serverOpts, wss);

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
const stop = () => { wss.close(); server.close(); process.exit(0); };
process.stdin.on('end', stop);
process.stdin.on('close', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
