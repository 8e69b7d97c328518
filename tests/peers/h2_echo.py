"""ASGI WebSocket echo for hypercorn: the RFC 8441 peer of tests/h2.rs.

Run: hypercorn --bind 127.0.0.1:0 tests.peers.h2_echo:app (h2c prior knowledge), or with
--certfile/--keyfile for TLS with ALPN h2. Echoes text as text and binary as binary; hypercorn's
wsproto negotiates permessage-deflate when the client offers it. Any other HTTP request gets 404.
"""


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"not a websocket path\n"})
        return
    # /refuse answers the extended CONNECT with 403 (an ASGI close before accept).
    if scope["path"] == "/refuse":
        await receive()
        await send({"type": "websocket.close", "code": 1008})
        return
    await receive()  # websocket.connect
    subprotocols = scope.get("subprotocols") or []
    accept = {"type": "websocket.accept"}
    if subprotocols:
        accept["subprotocol"] = subprotocols[0]
    await send(accept)
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        elif message.get("bytes") is not None:
            await send({"type": "websocket.send", "bytes": message["bytes"]})
