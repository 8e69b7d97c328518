#!/usr/bin/env python3
"""A real WebSocket peer for wsmon's interop tests, built on Python `websockets` (asyncio).

Binds 127.0.0.1 on a free port and prints `PORT <n>` on stdout once it listens. Exits when stdin
closes (so a test that dies never leaves it running) or on SIGTERM / SIGINT.

Paths:
  /echo          echoes every text and binary message exactly
  /close/CODE    closes at once with CODE and reason "peer close CODE"
  /log           like /echo, and writes "<text|binary> <length> <sha256>" per message to stderr,
                 then "close <code> <reason>" for the client's close frame (1006 if none came)
  /fragment      echoes each message (4 bytes or more) as 4 fragments, with a ping between them

Run it with the venv that `bash tests/peers/install.sh` creates:
  target/peers/venv/bin/python tests/peers/ws_server.py --compression on --server-max-window-bits 10
"""

import argparse
import asyncio
import hashlib
import os
import signal
import sys
import threading

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory


def window_bits(value: str) -> int:
    bits = int(value)
    if not 8 <= bits <= 15:
        raise argparse.ArgumentTypeError(f"window bits must be 8..15, got {bits}")
    return bits


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--compression", choices=["on", "off"], default="on")
    p.add_argument("--server-max-window-bits", type=window_bits, default=None)
    p.add_argument("--client-max-window-bits", type=window_bits, default=None)
    p.add_argument("--no-context-takeover", action="store_true", help="server_no_context_takeover")
    return p.parse_args()


async def echo(ws, log: bool) -> None:
    try:
        async for message in ws:
            if log:
                data = message.encode() if isinstance(message, str) else message
                kind = "text" if isinstance(message, str) else "binary"
                print(f"{kind} {len(data)} {hashlib.sha256(data).hexdigest()}", file=sys.stderr, flush=True)
            await ws.send(message)
    except ConnectionClosed:
        pass
    if log:
        await ws.wait_closed()
        # The close frame the client sent (1006 if none arrived).
        print(f"close {ws.close_code} {ws.close_reason}", file=sys.stderr, flush=True)


def split4(message):
    """Four nearly equal parts of a str (by characters) or bytes."""
    n = len(message)
    return [message[n * i // 4 : n * (i + 1) // 4] for i in range(4)]


async def echo_fragmented(ws) -> None:
    """Echo each message as a fragmented message of 4 frames plus websockets' empty final
    continuation, with a ping between fragments (control frames may interleave)."""
    try:
        async for message in ws:
            if len(message) < 4:
                await ws.send(message)
                continue
            parts = split4(message)

            async def fragments():
                for i, part in enumerate(parts):
                    if i > 0:
                        await ws.ping(f"mid-message {i}")
                    yield part

            await ws.send(fragments())
    except ConnectionClosed:
        pass


async def handler(ws) -> None:
    path = ws.request.path.split("?", 1)[0]
    if path == "/echo":
        await echo(ws, log=False)
    elif path == "/log":
        await echo(ws, log=True)
    elif path == "/fragment":
        await echo_fragmented(ws)
    elif path.startswith("/close/") and path[len("/close/"):].isdigit():
        code = int(path[len("/close/"):])
        await ws.close(code, f"peer close {code}")
    else:
        await ws.close(1008, f"unknown path {path[:80]}")


async def main() -> None:
    args = parse_args()
    extensions = None
    if args.compression == "on":
        extensions = [
            ServerPerMessageDeflateFactory(
                server_no_context_takeover=args.no_context_takeover,
                server_max_window_bits=args.server_max_window_bits,
                client_max_window_bits=args.client_max_window_bits,
            )
        ]

    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def finish() -> None:
        if not stop.done():
            stop.set_result(None)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, finish)

    def watch_stdin() -> None:
        # Blocks until the parent closes our stdin (or dies). os.read, not sys.stdin: a daemon
        # thread blocked inside the buffered reader makes interpreter shutdown abort.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        loop.call_soon_threadsafe(finish)

    threading.Thread(target=watch_stdin, daemon=True).start()

    # compression=None: we pass the deflate factory ourselves (or none at all).
    async with serve(
        handler,
        "127.0.0.1",
        0,
        compression=None,
        extensions=extensions,
        max_size=32 * 1024 * 1024,
        ping_interval=None,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
