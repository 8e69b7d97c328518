#!/usr/bin/env node
// A real WebSocket peer for wsmon's interop tests, built on Node `ws` 8.
//
// Binds 127.0.0.1 on a free port and prints `PORT <n>` on stdout once it listens. Exits when stdin
// closes (so a test that dies never leaves it running) or on SIGTERM / SIGINT.
//
// Paths:
//   /echo          echoes every text and binary message exactly
//   /close/CODE    closes at once with CODE and reason "peer close CODE"
//   /close/none    closes at once with ws.close() and no code: an empty close frame, what
//                  Socket.IO (engine.io, on `ws`) sends when it drops a client after a ping timeout
//   /log           like /echo, and writes "<text|binary> <length> <sha256>" per message to stderr,
//                  then "close <code> <reason>" for the client's close frame (1006 if none came)
//   /fragment      echoes each message (4 bytes or more) as 4 fragments, with a ping between them
//
// Flags: --compression on|off, --server-max-window-bits N, --client-max-window-bits N,
//        --no-context-takeover (server_no_context_takeover).
// `ws` is looked up in target/peers/node (where `bash tests/peers/install.sh` puts it), or in
// NODE_PATH.
'use strict';

const crypto = require('crypto');
const path = require('path');

function loadWs() {
  const local = path.join(__dirname, '..', '..', 'target', 'peers', 'node', 'node_modules', 'ws');
  try {
    return require(local);
  } catch (_) {
    return require('ws');
  }
}

function usage(msg) {
  process.stderr.write(`ws_server.js: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { compression: 'on', serverMaxWindowBits: undefined, clientMaxWindowBits: undefined, noContextTakeover: false };
  const bits = (name, v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 8 || n > 15) usage(`${name} must be 8..15, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--compression') {
      opts.compression = value();
      if (opts.compression !== 'on' && opts.compression !== 'off') usage('--compression must be on or off');
    } else if (a === '--server-max-window-bits') {
      opts.serverMaxWindowBits = bits(a, value());
    } else if (a === '--client-max-window-bits') {
      opts.clientMaxWindowBits = bits(a, value());
    } else if (a === '--no-context-takeover') {
      opts.noContextTakeover = true;
    } else {
      usage(`unknown argument ${a}`);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const { WebSocketServer } = loadWs();

let perMessageDeflate = false;
if (opts.compression === 'on') {
  // threshold 0: compress every message, however small.
  perMessageDeflate = { threshold: 0 };
  // Only set what was asked for: `serverNoContextTakeover: false` would make ws refuse offers that
  // ask for server_no_context_takeover.
  if (opts.noContextTakeover) perMessageDeflate.serverNoContextTakeover = true;
  if (opts.serverMaxWindowBits !== undefined) perMessageDeflate.serverMaxWindowBits = opts.serverMaxWindowBits;
  if (opts.clientMaxWindowBits !== undefined) perMessageDeflate.clientMaxWindowBits = opts.clientMaxWindowBits;
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate, maxPayload: 32 * 1024 * 1024 });

function echo(ws, log) {
  ws.on('message', (data, isBinary) => {
    if (log) {
      const sha = crypto.createHash('sha256').update(data).digest('hex');
      process.stderr.write(`${isBinary ? 'binary' : 'text'} ${data.length} ${sha}\n`);
    }
    ws.send(data, { binary: isBinary });
  });
  if (log) {
    // The close frame the client sent (1006 if none arrived).
    ws.on('close', (code, reason) => process.stderr.write(`close ${code} ${reason.toString()}\n`));
  }
}

// Echo each message (4 bytes or more) as 4 fragments, with a ping between fragments (control
// frames may interleave). Text is split by bytes, so a fragment may end inside a UTF-8 character.
function echoFragmented(ws) {
  ws.on('message', (data, isBinary) => {
    const n = data.length;
    if (n < 4) {
      ws.send(data, { binary: isBinary });
      return;
    }
    for (let i = 0; i < 4; i++) {
      if (i > 0) ws.ping(`mid-message ${i}`);
      const part = data.subarray(Math.floor((n * i) / 4), Math.floor((n * (i + 1)) / 4));
      ws.send(part, { binary: isBinary, fin: i === 3 });
    }
  });
}

wss.on('connection', (ws, req) => {
  ws.on('error', (err) => process.stderr.write(`connection error: ${err.message}\n`));
  const p = (req.url || '/').split('?')[0];
  const close = /^\/close\/(\d+)$/.exec(p);
  if (p === '/echo') {
    echo(ws, false);
  } else if (p === '/log') {
    echo(ws, true);
  } else if (p === '/fragment') {
    echoFragmented(ws);
  } else if (close) {
    const code = Number(close[1]);
    ws.close(code, `peer close ${code}`);
  } else if (p === '/close/none') {
    ws.close();
  } else {
    ws.close(1008, `unknown path ${p.slice(0, 80)}`);
  }
});

wss.on('error', (err) => {
  process.stderr.write(`server error: ${err.message}\n`);
  process.exit(1);
});

wss.on('listening', () => {
  process.stdout.write(`PORT ${wss.address().port}\n`);
});

function shutdown() {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
  // Do not hang on a stuck connection.
  setTimeout(() => process.exit(0), 500).unref();
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();
