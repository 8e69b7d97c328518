//! `wsmon serve --h2`: the scenario server's HTTP/2 listener (RFC 8441) against the `h2`
//! crate as a client on 127.0.0.1. Extended CONNECT, byte-for-byte echo (also past the flow
//! control windows), permessage-deflate, many streams on one connection, GOAWAY with its code
//! and last stream id (read from the raw frames), a reset connection, and a server that does
//! not announce extended CONNECT.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use h2::client::SendRequest;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;
use wsmon::engine::counters::SessionCounters;
use wsmon::protocol::deflate::DeflateParams;
use wsmon::protocol::wire::WireStream;
use wsmon::server::h2::H2Settings;
use wsmon::server::h2_io::H2Io;
use wsmon::server::{self, ServeOptions, ServerHandle};

async fn serve_h2(connect_protocol: bool) -> ServerHandle {
    let options = ServeOptions {
        h2: Some(("127.0.0.1:0".to_string(), H2Settings { connect_protocol })),
    };
    server::start_with("127.0.0.1:0", &options)
        .await
        .expect("bind a scenario server with an HTTP/2 listener")
}

/// A TCP stream that keeps a copy of every byte the server sent, to read its frames.
struct Tap {
    tcp: TcpStream,
    log: Arc<Mutex<Vec<u8>>>,
}

impl AsyncRead for Tap {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            let new = buf.filled()[before..].to_vec();
            self.log
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(&new);
        }
        r
    }
}

impl AsyncWrite for Tap {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// One client connection: the request handle, the connection task (its result says how the
/// connection ended), and the raw bytes the server sent.
struct Client {
    send: SendRequest<Bytes>,
    conn: JoinHandle<Result<(), h2::Error>>,
    log: Arc<Mutex<Vec<u8>>>,
}

async fn client(srv: &ServerHandle) -> Client {
    let addr = srv.h2_addr().expect("an HTTP/2 listener");
    let tcp = TcpStream::connect(addr).await.expect("tcp connect");
    let log = Arc::new(Mutex::new(Vec::new()));
    let tap = Tap {
        tcp,
        log: log.clone(),
    };
    let (send, conn) = h2::client::handshake(tap).await.expect("HTTP/2 handshake");
    let conn = tokio::spawn(conn);
    let send = send.ready().await.expect("connection ready");
    Client { send, conn, log }
}

/// A frame the server sent: (type, flags, stream id, payload).
type Frame = (u8, u8, u32, Vec<u8>);

fn frames(log: &Mutex<Vec<u8>>) -> Vec<Frame> {
    let bytes = log.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let mut out = Vec::new();
    let mut rest = &bytes[..];
    while rest.len() >= 9 {
        let len = u32::from_be_bytes([0, rest[0], rest[1], rest[2]]) as usize;
        if rest.len() < 9 + len {
            break;
        }
        let sid = u32::from_be_bytes([rest[5], rest[6], rest[7], rest[8]]) & 0x7fff_ffff;
        out.push((rest[3], rest[4], sid, rest[9..9 + len].to_vec()));
        rest = &rest[9 + len..];
    }
    out
}

/// Every GOAWAY the server sent, as (last stream id, error code).
fn goaways(log: &Mutex<Vec<u8>>) -> Vec<(u32, u32)> {
    frames(log)
        .into_iter()
        .filter(|(kind, _, _, _)| *kind == 0x7)
        .map(|(_, _, _, p)| {
            let last = u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & 0x7fff_ffff;
            (last, u32::from_be_bytes([p[4], p[5], p[6], p[7]]))
        })
        .collect()
}

/// SETTINGS_ENABLE_CONNECT_PROTOCOL (0x8) as the server's first SETTINGS frame carries it.
fn announced_connect_protocol(log: &Mutex<Vec<u8>>) -> Option<u32> {
    let (_, _, _, payload) = frames(log)
        .into_iter()
        .find(|(kind, flags, _, _)| *kind == 0x4 && flags & 0x1 == 0)?;
    payload.chunks(6).find_map(|s| {
        (u16::from_be_bytes([s[0], s[1]]) == 0x8)
            .then(|| u32::from_be_bytes([s[2], s[3], s[4], s[5]]))
    })
}

/// An extended CONNECT for `path`: the response and, on 200, the stream as bytes.
async fn open(
    c: &mut Client,
    path: &str,
    extensions: Option<&str>,
) -> (http::Response<()>, Option<H2Io>) {
    let mut req = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri(format!("http://127.0.0.1{path}"))
        .header("sec-websocket-version", "13")
        .extension(h2::ext::Protocol::from("websocket"));
    if let Some(ext) = extensions {
        req = req.header("sec-websocket-extensions", ext);
    }
    let req = req.body(()).expect("request");
    let (response, send) = c.send.send_request(req, false).expect("send the CONNECT");
    let response = timeout(Duration::from_secs(5), response)
        .await
        .expect("a response in time")
        .expect("a response");
    let (head, body) = response.into_parts();
    let io = (head.status == http::StatusCode::OK).then(|| H2Io::new(send, body));
    (http::Response::from_parts(head, ()), io)
}

async fn websocket(c: &mut Client, path: &str) -> WebSocketStream<H2Io> {
    let (resp, io) = open(c, path, None).await;
    assert_eq!(resp.status(), 200, "{path}");
    assert!(
        resp.headers().get("sec-websocket-accept").is_none(),
        "no Sec-WebSocket-Accept over HTTP/2"
    );
    WebSocketStream::from_raw_socket(io.expect("a stream"), Role::Client, None).await
}

async fn echo<S>(ws: &mut WebSocketStream<S>, m: Message)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.send(m.clone()).await.expect("send");
    let got = timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("echo in time")
        .expect("stream open")
        .expect("clean read");
    assert!(
        got == m,
        "echo differs: sent {} bytes, got {got:?}",
        m.len()
    );
}

#[tokio::test]
async fn extended_connect_opens_a_websocket_that_echoes_byte_for_byte() {
    let srv = serve_h2(true).await;
    let mut c = client(&srv).await;
    let mut ws = websocket(&mut c, "/echo").await;
    // By the time of the 200 the server's SETTINGS are in.
    assert!(c.send.is_extended_connect_protocol_enabled());
    assert_eq!(announced_connect_protocol(&c.log), Some(1));
    echo(&mut ws, Message::text("hello over h2")).await;
    let binary: Vec<u8> = (0..=255u8).collect();
    echo(&mut ws, Message::binary(binary)).await;
    // Past the 64 KiB stream and connection windows: flow control is released as read.
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    for _ in 0..3 {
        echo(&mut ws, Message::binary(big.clone())).await;
    }
    ws.close(None).await.expect("close");
    while let Some(Ok(_)) = ws.next().await {}
    srv.shutdown().await;
}

#[tokio::test]
async fn many_websockets_share_one_connection() {
    let srv = serve_h2(true).await;
    let mut c = client(&srv).await;
    let mut sockets = Vec::new();
    for _ in 0..50 {
        sockets.push(websocket(&mut c, "/echo").await);
    }
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, mut ws)| {
            tokio::spawn(async move {
                for j in 0..20 {
                    echo(&mut ws, Message::text(format!("stream {i} message {j}"))).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("echo task");
    }
    srv.shutdown().await;
}

/// permessage-deflate is negotiated by sec-websocket-extensions as over HTTP/1.1, and the
/// compressed messages echo through wsmon's deflate layer.
#[tokio::test]
async fn permessage_deflate_over_h2() {
    let srv = serve_h2(true).await;
    let mut c = client(&srv).await;
    let (resp, io) = open(&mut c, "/echo", Some("permessage-deflate")).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("sec-websocket-extensions")
            .and_then(|v| v.to_str().ok()),
        Some("permessage-deflate")
    );
    let counters = Arc::new(SessionCounters::default());
    let layer = WireStream::new(
        io.expect("stream"),
        wsmon::protocol::wire::Role::Client,
        Some(DeflateParams::default()),
        Vec::new(),
        1 << 20,
        counters.clone(),
    );
    let mut ws = WebSocketStream::from_raw_socket(layer, Role::Client, None).await;
    let text = "{\"reading\":\"ok\",\"value\":42}".repeat(200);
    for _ in 0..5 {
        echo(&mut ws, Message::text(text.clone())).await;
    }
    let ratio = counters.load().compression_ratio().expect("traffic");
    assert!(ratio > 5.0, "compression ratio {ratio}");
    srv.shutdown().await;
}

/// Paths, refusals and the help page answer as plain HTTP/2 responses.
#[tokio::test]
async fn refusals_are_plain_responses() {
    let srv = serve_h2(true).await;
    let mut c = client(&srv).await;
    let (resp, io) = open(&mut c, "/nowhere", None).await;
    assert_eq!((resp.status().as_u16(), io.is_none()), (404, true));
    let (resp, _) = open(&mut c, "/reject/503", None).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(
        resp.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"3"[..])
    );
    let (resp, _) = open(&mut c, "/feed?rate=0", None).await;
    assert_eq!(resp.status(), 400);
    let get = http::Request::get("http://127.0.0.1/")
        .body(())
        .expect("request");
    let (response, _) = c.send.send_request(get, true).expect("GET /");
    let response = response.await.expect("help page");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let mut text = Vec::new();
    while let Some(chunk) = body.data().await {
        text.extend_from_slice(&chunk.expect("body"));
    }
    let text = String::from_utf8_lossy(&text);
    assert!(text.contains("/h2/goaway"), "{text}");
    srv.shutdown().await;
}

/// The message-layer scenarios run unchanged on an HTTP/2 stream.
#[tokio::test]
async fn message_scenarios_run_over_h2() {
    let srv = serve_h2(true).await;
    let mut c = client(&srv).await;
    let mut auth = websocket(&mut c, "/auth?timeout=200ms").await;
    let mut rpc = websocket(&mut c, "/rpc?delay=20ms-40ms").await;
    rpc.send(Message::text(r#"{"id":9}"#)).await.expect("send");
    let answer = timeout(Duration::from_secs(2), rpc.next()).await;
    assert!(
        matches!(answer, Ok(Some(Ok(Message::Text(ref t)))) if t.as_str() == r#"{"id":9,"type":"result","echo":{"id":9}}"#),
        "{answer:?}"
    );
    let close = timeout(Duration::from_secs(2), auth.next()).await;
    match close {
        Ok(Some(Ok(Message::Close(Some(frame))))) => {
            assert_eq!(
                (u16::from(frame.code), frame.reason.as_str()),
                (4408, "auth timeout")
            );
        }
        other => panic!("expected 4408, got {other:?}"),
    }
    srv.shutdown().await;
}

/// `/h2/goaway?after=300ms&code=ENHANCE_YOUR_CALM`: GOAWAY with that code and the last stream
/// the server took (the second WebSocket, id 3), then the connection is gone for both streams.
#[tokio::test]
async fn goaway_with_a_code_names_the_last_stream_and_ends_the_connection() {
    let srv = serve_h2(true).await;
    let mut c = client(&srv).await;
    let start = Instant::now();
    let mut faulty = websocket(&mut c, "/h2/goaway?after=300ms&code=ENHANCE_YOUR_CALM").await;
    let mut other = websocket(&mut c, "/echo").await;
    echo(&mut faulty, Message::text("before")).await;
    echo(&mut other, Message::text("before")).await;
    let ended = timeout(Duration::from_secs(3), c.conn)
        .await
        .expect("the connection ends")
        .expect("connection task");
    let e = ended.expect_err("GOAWAY with an error code is an error");
    assert!(e.is_go_away(), "{e}");
    assert_eq!(e.reason(), Some(h2::Reason::ENHANCE_YOUR_CALM));
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(goaways(&c.log), [(3, 0xb)]);
    for ws in [&mut faulty, &mut other] {
        let next = timeout(Duration::from_secs(2), ws.next()).await;
        assert!(
            matches!(next, Ok(Some(Err(_)) | None)),
            "a lost stream, got {next:?}"
        );
    }
    srv.shutdown().await;
}

/// `/h2/goaway?after=300ms` (NO_ERROR): a graceful GOAWAY; the open streams still work until
/// the grace period ends, then the connection is closed.
#[tokio::test]
async fn graceful_goaway_lets_open_streams_finish_then_closes() {
    let srv = serve_h2(true).await;
    let mut c = client(&srv).await;
    let mut ws = websocket(&mut c, "/h2/goaway?after=300ms").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let seen = goaways(&c.log);
    assert!(!seen.is_empty(), "no GOAWAY after 600 ms");
    assert!(seen.iter().all(|(_, code)| *code == 0), "{seen:?}");
    assert_eq!(seen.last().map(|(last, _)| *last), Some(1), "{seen:?}");
    // Still served during the grace period.
    echo(&mut ws, Message::text("during the grace")).await;
    // A new stream is refused.
    let req = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri("http://127.0.0.1/echo")
        .header("sec-websocket-version", "13")
        .extension(h2::ext::Protocol::from("websocket"))
        .body(())
        .expect("request");
    let refused = match c.send.send_request(req, false) {
        Err(_) => true,
        Ok((resp, _)) => matches!(timeout(Duration::from_secs(2), resp).await, Ok(Err(_))),
    };
    assert!(refused, "a stream opened after GOAWAY");
    let ended = timeout(Duration::from_secs(4), c.conn)
        .await
        .expect("closed after the grace period")
        .expect("connection task");
    // Ended by the server closing TCP while a stream was open.
    assert!(ended.is_err() || ws.next().await.is_none_or(|m| m.is_err()));
    srv.shutdown().await;
}

/// `/h2/reset?after=300ms`: the TCP connection is reset; every stream on it is lost.
#[tokio::test]
async fn reset_drops_the_connection_and_every_stream() {
    let srv = serve_h2(true).await;
    let mut c = client(&srv).await;
    let mut faulty = websocket(&mut c, "/h2/reset?after=300ms").await;
    let mut other = websocket(&mut c, "/echo").await;
    echo(&mut other, Message::text("before")).await;
    let ended = timeout(Duration::from_secs(3), c.conn)
        .await
        .expect("the connection ends")
        .expect("connection task");
    let e = ended.expect_err("a reset connection is an error");
    assert!(e.is_io(), "{e}");
    assert_eq!(
        e.get_io().map(|io| io.kind()),
        Some(std::io::ErrorKind::ConnectionReset),
        "{e}"
    );
    assert!(goaways(&c.log).is_empty(), "a reset sends no GOAWAY");
    for ws in [&mut faulty, &mut other] {
        let next = timeout(Duration::from_secs(2), ws.next()).await;
        assert!(
            matches!(next, Ok(Some(Err(_)))),
            "a stream lost with an error, got {next:?}"
        );
    }
    // The server itself is fine: a new connection works.
    let mut c2 = client(&srv).await;
    let mut ws = websocket(&mut c2, "/echo").await;
    echo(&mut ws, Message::text("after")).await;
    srv.shutdown().await;
}

/// `--h2-no-connect-protocol`: SETTINGS do not announce extended CONNECT, so no WebSocket can
/// be opened there.
#[tokio::test]
async fn without_extended_connect_no_websocket_opens() {
    let srv = serve_h2(false).await;
    let mut c = client(&srv).await;
    // A full request/response makes sure the server's SETTINGS were applied.
    let get = http::Request::get("http://127.0.0.1/")
        .body(())
        .expect("request");
    let (response, _) = c.send.send_request(get, true).expect("GET /");
    assert_eq!(response.await.expect("help page").status(), 200);
    assert!(!c.send.is_extended_connect_protocol_enabled());
    assert_eq!(announced_connect_protocol(&c.log), None);
    let req = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri("http://127.0.0.1/echo")
        .header("sec-websocket-version", "13")
        .extension(h2::ext::Protocol::from("websocket"))
        .body(())
        .expect("request");
    let opened = match c.send.send_request(req, false) {
        Err(_) => false,
        Ok((resp, _)) => matches!(
            timeout(Duration::from_secs(2), resp).await,
            Ok(Ok(r)) if r.status() == 200
        ),
    };
    assert!(!opened, "a WebSocket opened without extended CONNECT");
    srv.shutdown().await;
}

/// Server shutdown closes WebSockets on HTTP/2 with 1001, like over HTTP/1.1.
#[tokio::test]
async fn shutdown_closes_h2_websockets_with_1001() {
    let srv = serve_h2(true).await;
    let mut c = client(&srv).await;
    let mut ws = websocket(&mut c, "/echo").await;
    let down = tokio::spawn(srv.shutdown());
    let next = timeout(Duration::from_secs(3), ws.next()).await;
    match next {
        Ok(Some(Ok(Message::Close(Some(frame))))) => assert_eq!(u16::from(frame.code), 1001),
        other => panic!("expected a 1001 close, got {other:?}"),
    }
    while let Ok(Some(Ok(_))) = timeout(Duration::from_secs(3), ws.next()).await {}
    timeout(Duration::from_secs(6), down)
        .await
        .expect("shutdown finishes")
        .expect("shutdown task");
}

/// `wsmon serve --h2` prints the HTTP/2 address like the HTTP/1.1 one, and a WebSocket opens
/// there; `--h2-no-connect-protocol` needs `--h2`.
#[tokio::test]
async fn serve_h2_prints_its_address_and_serves_there() {
    use tokio::io::AsyncBufReadExt;
    let bin = env!("CARGO_BIN_EXE_wsmon");
    let out = std::process::Command::new(bin)
        .args(["serve", "--h2-no-connect-protocol"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "--h2-no-connect-protocol alone");
    let mut child = tokio::process::Command::new(bin)
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--h2",
            "--h2-bind",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start wsmon serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let mut banner = Vec::new();
    let h2_addr = timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            banner.push(line.clone());
            if let Some(rest) = line.strip_prefix("HTTP/2 (h2c, RFC 8441) on ws://") {
                return rest.to_string();
            }
        }
        panic!("no HTTP/2 line in {banner:?}");
    })
    .await
    .expect("banner in time");
    assert!(banner[0].starts_with("wsmon scenario server on ws://127.0.0.1:"));
    let tcp = TcpStream::connect(&h2_addr)
        .await
        .expect("connect to the h2 address");
    let (send, conn) = h2::client::handshake(tcp).await.expect("HTTP/2 handshake");
    tokio::spawn(conn);
    let mut c = Client {
        send: send.ready().await.expect("ready"),
        conn: tokio::spawn(async { Ok(()) }),
        log: Arc::new(Mutex::new(Vec::new())),
    };
    let mut ws = websocket(&mut c, "/echo").await;
    echo(&mut ws, Message::text("via the CLI")).await;
    child.start_kill().expect("stop wsmon serve");
    let _ = child.wait().await;
}

/// An HTTP/1.1 request on the HTTP/2 port gets a readable 400, not HTTP/2 frames.
#[tokio::test]
async fn http1_on_the_h2_port_is_told_so() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let srv = serve_h2(true).await;
    let mut tcp = TcpStream::connect(srv.h2_addr().expect("h2 listener"))
        .await
        .expect("connect");
    tcp.write_all(
        b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await
    .expect("send");
    let mut answer = String::new();
    timeout(Duration::from_secs(5), tcp.read_to_string(&mut answer))
        .await
        .expect("answer in time")
        .expect("read");
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(answer.contains("HTTP/2 listener"), "{answer}");
    srv.shutdown().await;
}

/// The other scenarios behave over HTTP/2 as over HTTP/1.1: a scripted close code, a stream
/// that is never answered, a dropped one, and overload slots.
#[tokio::test]
async fn close_stall_drop_and_overload_over_h2() {
    let srv = serve_h2(true).await;
    let mut c = client(&srv).await;
    let mut ws = websocket(&mut c, "/close/4001?reason=bye").await;
    match timeout(Duration::from_secs(2), ws.next()).await {
        Ok(Some(Ok(Message::Close(Some(frame))))) => {
            assert_eq!(
                (u16::from(frame.code), frame.reason.as_str()),
                (4001, "bye")
            );
        }
        other => panic!("expected 4001, got {other:?}"),
    }
    // /stall: no response at all; the client gives up and resets the stream.
    let req = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri("http://127.0.0.1/stall")
        .header("sec-websocket-version", "13")
        .extension(h2::ext::Protocol::from("websocket"))
        .body(())
        .expect("request");
    let (resp, _send) = c.send.send_request(req, false).expect("send");
    assert!(
        timeout(Duration::from_millis(500), resp).await.is_err(),
        "/stall answered"
    );
    // /drop: the stream ends without a close frame (the HTTP/2 form of a dropped socket).
    let mut dropped = websocket(&mut c, "/drop").await;
    match timeout(Duration::from_secs(2), dropped.next()).await {
        Ok(None | Some(Err(_))) => {}
        other => panic!("expected the stream to end without a close frame, got {other:?}"),
    }
    // /overload?cap=1: the first session echoes, the second is closed with 1013.
    let mut first = websocket(&mut c, "/overload?cap=1").await;
    let mut second = websocket(&mut c, "/overload?cap=1").await;
    match timeout(Duration::from_secs(2), second.next()).await {
        Ok(Some(Ok(Message::Close(Some(frame))))) => assert_eq!(u16::from(frame.code), 1013),
        other => panic!("expected 1013, got {other:?}"),
    }
    echo(&mut first, Message::text("still mine")).await;
    srv.shutdown().await;
}

/// 1,000 WebSockets on 10 HTTP/2 connections (100 streams each) open and echo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_websockets_on_ten_connections() {
    let srv = serve_h2(true).await;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for conn in 0..10 {
        let mut c = client(&srv).await;
        let mut sockets = Vec::new();
        for _ in 0..100 {
            sockets.push(websocket(&mut c, "/echo").await);
        }
        tasks.push(tokio::spawn(async move {
            for (i, ws) in sockets.iter_mut().enumerate() {
                echo(ws, Message::text(format!("connection {conn} stream {i}"))).await;
            }
            (c, sockets)
        }));
    }
    let mut kept = Vec::new();
    for t in tasks {
        kept.push(t.await.expect("echo task"));
    }
    let took = start.elapsed();
    eprintln!("1000 WebSockets on 10 HTTP/2 connections opened and echoed in {took:?}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert_eq!(kept.iter().map(|(_, s)| s.len()).sum::<usize>(), 1000);
    srv.shutdown().await;
}
