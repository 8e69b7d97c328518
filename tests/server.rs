//! The scenario server against real clients on 127.0.0.1: tokio-tungstenite for the WebSocket
//! side, raw TCP where the exact bytes matter.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{WebSocketStream, client_async};
use wsmon::server::{self, ServerHandle};

type Ws = WebSocketStream<TcpStream>;

async fn serve() -> ServerHandle {
    server::start("127.0.0.1:0")
        .await
        .expect("bind a scenario server on 127.0.0.1:0")
}

async fn connect(srv: &ServerHandle, path: &str) -> Ws {
    let tcp = TcpStream::connect(srv.addr()).await.expect("tcp connect");
    let (ws, resp) = client_async(srv.url(path), tcp)
        .await
        .expect("websocket upgrade");
    assert_eq!(resp.status().as_u16(), 101);
    ws
}

/// The next close frame the client sees (skipping data), as (code, reason). Keeps reading
/// until the stream ends, so tungstenite sends its close reply like a real client.
async fn next_close(ws: &mut Ws) -> Option<(u16, String)> {
    while let Some(msg) = ws.next().await {
        if let Message::Close(frame) = msg.expect("clean websocket read") {
            while ws.next().await.is_some() {}
            return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
        }
    }
    panic!("stream ended without a close frame");
}

/// A response read over raw TCP.
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    /// Bytes after the head (body, or the first WebSocket frames).
    rest: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn body(&self) -> String {
        String::from_utf8_lossy(&self.rest).into_owned()
    }
}

fn upgrade_request(path: &str, extra: &[&str]) -> String {
    let mut req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    );
    for h in extra {
        req.push_str(h);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    req
}

/// Send `request` and read the response head (plus whatever already followed it).
async fn raw_exchange(srv: &ServerHandle, request: &str) -> (TcpStream, RawResponse) {
    let mut tcp = TcpStream::connect(srv.addr()).await.expect("tcp connect");
    tcp.write_all(request.as_bytes())
        .await
        .expect("send request");
    let resp = read_head(&mut tcp).await;
    (tcp, resp)
}

async fn read_head(tcp: &mut TcpStream) -> RawResponse {
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 1024];
        let n = tcp.read(&mut chunk).await.expect("read response");
        assert!(n > 0, "connection closed before a response head: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(len) = resp.parse(&buf).expect("valid HTTP response") {
            return RawResponse {
                status: resp.code.expect("status code"),
                headers: resp
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect(),
                rest: buf[len..].to_vec(),
            };
        }
        assert!(buf.len() < 64 * 1024, "response head too long");
    }
}

/// A plain HTTP exchange whose response ends with the connection: the whole body.
async fn http_get(srv: &ServerHandle, request: &str) -> RawResponse {
    let (mut tcp, mut resp) = raw_exchange(srv, request).await;
    tcp.read_to_end(&mut resp.rest).await.expect("read body");
    resp
}

/// Read until `n` bytes after the head are available.
async fn read_at_least(tcp: &mut TcpStream, have: &mut Vec<u8>, n: usize) {
    while have.len() < n {
        let mut chunk = [0u8; 256];
        let got = tcp.read(&mut chunk).await.expect("read frame bytes");
        assert!(
            got > 0,
            "connection closed after {} bytes: {have:?}",
            have.len()
        );
        have.extend_from_slice(&chunk[..got]);
    }
}

#[tokio::test]
async fn echo_round_trip_and_ping() {
    let srv = serve().await;
    let mut ws = connect(&srv, "/echo").await;
    ws.send(Message::text("hello")).await.expect("send text");
    assert_eq!(
        ws.next().await.expect("reply").expect("ok"),
        Message::text("hello")
    );
    ws.send(Message::binary(vec![0u8, 1, 2, 255]))
        .await
        .expect("send binary");
    assert_eq!(
        ws.next().await.expect("reply").expect("ok"),
        Message::binary(vec![0u8, 1, 2, 255])
    );
    ws.send(Message::Ping(b"p1".to_vec().into()))
        .await
        .expect("send ping");
    assert_eq!(
        ws.next().await.expect("reply").expect("ok"),
        Message::Pong(b"p1".to_vec().into())
    );
    ws.close(None).await.expect("close");
    srv.shutdown().await;
}

#[tokio::test]
async fn nodeflate_never_accepts_an_extension() {
    let srv = serve().await;
    let (tcp, resp) = raw_exchange(
        &srv,
        &upgrade_request(
            "/nodeflate",
            &["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"],
        ),
    )
    .await;
    assert_eq!(resp.status, 101);
    assert_eq!(
        resp.header("sec-websocket-accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    assert_eq!(resp.header("sec-websocket-extensions"), None);
    drop(tcp);
    srv.shutdown().await;
}

#[tokio::test]
async fn malformed_extension_offer_is_400() {
    let srv = serve().await;
    let resp = http_get(
        &srv,
        &upgrade_request(
            "/echo",
            &["Sec-WebSocket-Extensions: permessage-deflate; x=\"open"],
        ),
    )
    .await;
    assert_eq!(resp.status, 400);
    assert!(
        resp.body().contains("Sec-WebSocket-Extensions"),
        "{}",
        resp.body()
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn overload_closes_the_third_session_with_1013_and_frees_slots() {
    let srv = serve().await;
    let mut a = connect(&srv, "/overload?cap=2").await;
    let mut b = connect(&srv, "/overload?cap=2").await;
    for ws in [&mut a, &mut b] {
        ws.send(Message::text("x")).await.expect("send");
        assert_eq!(
            ws.next().await.expect("echo").expect("ok"),
            Message::text("x")
        );
    }
    let mut c = connect(&srv, "/overload?cap=2").await;
    assert_eq!(
        next_close(&mut c).await,
        Some((1013, "overloaded: 2/2 sessions".to_string()))
    );
    // One of the two leaves: its slot goes to the next client.
    a.close(None).await.expect("close a");
    while a.next().await.is_some() {}
    let mut d = connect(&srv, "/overload?cap=2").await;
    d.send(Message::text("in")).await.expect("send");
    assert_eq!(
        d.next().await.expect("echo").expect("ok"),
        Message::text("in")
    );
    drop((b, d));
    srv.shutdown().await;
}

#[tokio::test]
async fn flaky_p1_closes_with_1013_and_p0_stays_open() {
    let srv = serve().await;
    let mut bad = connect(&srv, "/flaky?p=1").await;
    let (code, reason) = next_close(&mut bad).await.expect("a close code");
    assert_eq!(code, 1013);
    assert!(reason.contains("try again later"), "{reason}");

    let mut good = connect(&srv, "/flaky?p=0").await;
    good.send(Message::text("still here")).await.expect("send");
    assert_eq!(
        good.next().await.expect("echo").expect("ok"),
        Message::text("still here")
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), good.next())
            .await
            .is_err(),
        "p=0 must not close the session"
    );
    drop(good);
    srv.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn flaky_after_stays_open_then_closes_with_1013() {
    let srv = serve().await;
    let mut ws = connect(&srv, "/flaky?p=1&after=15s").await;
    let opened = tokio::time::Instant::now();
    ws.send(Message::text("early")).await.expect("send");
    assert_eq!(
        ws.next().await.expect("echo").expect("ok"),
        Message::text("early")
    );
    assert!(
        tokio::time::timeout(Duration::from_secs(14), ws.next())
            .await
            .is_err(),
        "closed before after=15s"
    );
    let (code, _) = next_close(&mut ws).await.expect("a close code");
    assert_eq!(code, 1013);
    let lived = opened.elapsed();
    assert!(
        lived >= Duration::from_secs(15) && lived < Duration::from_secs(16),
        "{lived:?}"
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn close_1008_with_code_name_as_reason() {
    let srv = serve().await;
    let mut ws = connect(&srv, "/close/1008").await;
    assert_eq!(
        next_close(&mut ws).await,
        Some((1008, "scenario close 1008 Policy Violation".to_string()))
    );
    let mut ws = connect(&srv, "/close/4001?reason=session+expired").await;
    assert_eq!(
        next_close(&mut ws).await,
        Some((4001, "session expired".to_string()))
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn close_1014_is_on_the_wire() {
    let srv = serve().await;
    let (mut tcp, resp) = raw_exchange(&srv, &upgrade_request("/close/1014", &[])).await;
    assert_eq!(resp.status, 101);
    let mut frame = resp.rest;
    read_at_least(&mut tcp, &mut frame, 2).await;
    let len = usize::from(frame[1]);
    read_at_least(&mut tcp, &mut frame, 2 + len).await;
    assert_eq!(frame[0], 0x88, "FIN + close opcode");
    assert_eq!(&frame[2..4], &1014u16.to_be_bytes());
    assert_eq!(&frame[4..2 + len], b"scenario close 1014 Bad Gateway");
    srv.shutdown().await;
}

#[tokio::test]
async fn close_1005_sends_an_empty_close_frame_then_closes_tcp_after_our_reply() {
    let srv = serve().await;
    let (mut tcp, resp) = raw_exchange(&srv, &upgrade_request("/close/1005", &[])).await;
    assert_eq!(resp.status, 101);
    let mut frame = resp.rest;
    read_at_least(&mut tcp, &mut frame, 2).await;
    assert_eq!(frame, [0x88, 0x00]);
    // Our (masked, empty) close reply: the server then closes the TCP connection.
    tcp.write_all(&[0x88, 0x80, 1, 2, 3, 4])
        .await
        .expect("send close reply");
    let mut rest = Vec::new();
    let n = tokio::time::timeout(Duration::from_secs(2), tcp.read_to_end(&mut rest))
        .await
        .expect("server closes TCP promptly after the close handshake")
        .expect("read to end");
    assert_eq!(n, 0, "{rest:?}");
    srv.shutdown().await;
}

#[tokio::test]
async fn close_codes_that_never_go_on_the_wire_are_400() {
    let srv = serve().await;
    for code in ["1006", "1004", "1015", "999", "5000"] {
        let resp = http_get(&srv, &upgrade_request(&format!("/close/{code}"), &[])).await;
        assert_eq!(resp.status, 400, "{code}");
        assert!(
            resp.body().contains("cannot be sent"),
            "{code}: {}",
            resp.body()
        );
        assert_eq!(
            resp.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn reject_503_carries_retry_after_3() {
    let srv = serve().await;
    let resp = http_get(&srv, &upgrade_request("/reject/503", &[])).await;
    assert_eq!(resp.status, 503);
    assert_eq!(resp.header("retry-after"), Some("3"));
    assert!(
        resp.body().contains("503 Service Unavailable"),
        "{}",
        resp.body()
    );

    // The same through a real client: the upgrade fails with the status.
    let tcp = TcpStream::connect(srv.addr()).await.expect("connect");
    match client_async(srv.url("/reject/503"), tcp).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status().as_u16(), 503);
            assert_eq!(
                r.headers().get("retry-after").map(|v| v.as_bytes()),
                Some(&b"3"[..])
            );
        }
        other => panic!("expected an HTTP error, got {:?}", other.map(|(_, r)| r)),
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn reject_429_passes_retry_after_through() {
    let srv = serve().await;
    let resp = http_get(
        &srv,
        &upgrade_request(
            "/reject/429?retry_after=Wed,%2021%20Oct%202015%2007:28:00%20GMT",
            &[],
        ),
    )
    .await;
    assert_eq!(resp.status, 429);
    assert_eq!(
        resp.header("retry-after"),
        Some("Wed, 21 Oct 2015 07:28:00 GMT")
    );
    let resp = http_get(
        &srv,
        &upgrade_request("/reject/429?retry_after=soon-ish", &[]),
    )
    .await;
    assert_eq!(resp.header("retry-after"), Some("soon-ish"));
    let resp = http_get(&srv, &upgrade_request("/reject/403", &[])).await;
    assert_eq!(resp.status, 403);
    assert_eq!(resp.header("retry-after"), None);
    srv.shutdown().await;
}

#[tokio::test]
async fn drop_ends_the_connection_without_a_close_frame() {
    let srv = serve().await;
    let (mut tcp, resp) = raw_exchange(&srv, &upgrade_request("/drop", &[])).await;
    assert_eq!(resp.status, 101);
    let mut rest = resp.rest;
    tcp.read_to_end(&mut rest).await.expect("read to end");
    assert!(rest.is_empty(), "no close frame, no data: {rest:?}");

    let mut ws = connect(&srv, "/drop").await;
    match ws.next().await {
        None | Some(Err(_)) => {}
        Some(Ok(m)) => panic!("expected the connection to drop, got {m:?}"),
    }
    srv.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn drop_after_echoes_first() {
    let srv = serve().await;
    let opened = tokio::time::Instant::now();
    let mut ws = connect(&srv, "/drop?after=2s").await;
    ws.send(Message::text("a")).await.expect("send");
    assert_eq!(
        ws.next().await.expect("echo").expect("ok"),
        Message::text("a")
    );
    match ws.next().await {
        None | Some(Err(_)) => {}
        Some(Ok(m)) => panic!("expected the connection to drop, got {m:?}"),
    }
    let lived = opened.elapsed();
    assert!(
        lived >= Duration::from_secs(2) && lived < Duration::from_secs(3),
        "{lived:?}"
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn stall_never_answers() {
    let srv = serve().await;
    let mut tcp = TcpStream::connect(srv.addr()).await.expect("connect");
    tcp.write_all(upgrade_request("/stall", &[]).as_bytes())
        .await
        .expect("send request");
    let mut buf = [0u8; 64];
    assert!(
        tokio::time::timeout(Duration::from_millis(500), tcp.read(&mut buf))
            .await
            .is_err(),
        "/stall answered"
    );
    srv.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn stall_outlives_the_header_timeout() {
    let srv = serve().await;
    let mut tcp = TcpStream::connect(srv.addr()).await.expect("connect");
    tcp.write_all(upgrade_request("/stall", &[]).as_bytes())
        .await
        .expect("send request");
    let mut buf = [0u8; 64];
    assert!(
        tokio::time::timeout(Duration::from_secs(60), tcp.read(&mut buf))
            .await
            .is_err(),
        "/stall answered or closed within a minute"
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn burst_sends_n_messages_then_echoes() {
    let srv = serve().await;
    let mut ws = connect(&srv, "/burst?n=5").await;
    for seq in 0..5 {
        let msg = ws.next().await.expect("burst message").expect("ok");
        let text = msg.into_text().expect("text message");
        assert!(text.len() >= 1000, "{}", text.len());
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(v["seq"], seq);
    }
    ws.send(Message::text("after")).await.expect("send");
    assert_eq!(
        ws.next().await.expect("echo").expect("ok"),
        Message::text("after")
    );
    drop(ws);
    srv.shutdown().await;
}

#[tokio::test]
async fn unknown_path_is_404_with_the_list_and_root_is_help() {
    let srv = serve().await;
    let resp = http_get(&srv, &upgrade_request("/nope", &[])).await;
    assert_eq!(resp.status, 404);
    for (path, _) in server::SCENARIOS {
        assert!(
            resp.body().contains(path),
            "{path} missing from {}",
            resp.body()
        );
    }
    let resp = http_get(&srv, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(resp.status, 200);
    assert!(resp.body().contains("/overload?cap=K"), "{}", resp.body());
    assert!(resp.body().contains("/stall"), "{}", resp.body());
    srv.shutdown().await;
}

#[tokio::test]
async fn bad_upgrades_are_refused_with_a_reason() {
    let srv = serve().await;
    let resp = http_get(&srv, "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(resp.status, 400);
    assert!(
        resp.body().contains("Upgrade: websocket"),
        "{}",
        resp.body()
    );

    let req = upgrade_request("/echo", &[]).replace("Version: 13", "Version: 8");
    let resp = http_get(&srv, &req).await;
    assert_eq!(resp.status, 426);
    assert_eq!(resp.header("sec-websocket-version"), Some("13"));

    let resp = http_get(&srv, "POST /echo HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(resp.status, 405);

    let resp = http_get(&srv, &upgrade_request("/overload?cap=lots", &[])).await;
    assert_eq!(resp.status, 400);
    assert!(resp.body().contains("cap"), "{}", resp.body());
    srv.shutdown().await;
}

#[tokio::test]
async fn hostile_heads_do_not_hurt_the_server() {
    let srv = serve().await;
    let mut huge = String::from("GET /echo HTTP/1.1\r\nX-Junk: ");
    huge.push_str(&"a".repeat(20_000));
    huge.push_str("\r\n\r\n");
    let resp = http_get(&srv, &huge).await;
    assert_eq!(resp.status, 431);

    let resp = http_get(&srv, "\u{1}\u{2}garbage\r\n\r\n").await;
    assert_eq!(resp.status, 400);

    // Still serving.
    let mut ws = connect(&srv, "/echo").await;
    ws.send(Message::text("ok")).await.expect("send");
    assert_eq!(
        ws.next().await.expect("echo").expect("ok"),
        Message::text("ok")
    );
    drop(ws);
    srv.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn slow_heads_time_out_with_408() {
    let srv = serve().await;
    let mut tcp = TcpStream::connect(srv.addr()).await.expect("connect");
    tcp.write_all(b"GET /echo HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("half a head");
    let started = tokio::time::Instant::now();
    let resp = read_head(&mut tcp).await;
    assert_eq!(resp.status, 408);
    assert!(
        started.elapsed() >= Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_open_sessions_with_1001() {
    let srv = serve().await;
    let addr = srv.addr();
    let mut a = connect(&srv, "/echo").await;
    let mut b = connect(&srv, "/burst?n=1").await;
    let mut stalled = TcpStream::connect(addr).await.expect("connect");
    stalled
        .write_all(upgrade_request("/stall", &[]).as_bytes())
        .await
        .expect("send");
    let shutdown = tokio::spawn(srv.shutdown());
    let want = Some((1001, "server shutting down".to_string()));
    assert_eq!(next_close(&mut a).await, want);
    assert_eq!(next_close(&mut b).await, want);
    // The close handshakes complete, so shutdown does not wait for its grace period.
    tokio::time::timeout(Duration::from_secs(3), shutdown)
        .await
        .expect("shutdown finishes promptly")
        .expect("shutdown task");
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
    // The stalled connection was let go too (FIN, or a reset if shutdown came before the
    // server had read the request).
    let mut rest = Vec::new();
    let end = tokio::time::timeout(Duration::from_secs(1), stalled.read_to_end(&mut rest))
        .await
        .expect("the stalled connection ends at shutdown");
    assert!(
        matches!(&end, Ok(0))
            || matches!(&end, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "{end:?} {rest:?}"
    );
}

// ---- permessage-deflate ----

use std::sync::Arc;
use wsmon::engine::counters::SessionCounters;
use wsmon::protocol::deflate::{Compressor, Decompressor, DeflateParams};
use wsmon::protocol::extensions;
use wsmon::protocol::frame::{self, FrameHead};
use wsmon::protocol::wire::{Role, WireStream};

/// Upgrade over raw TCP with this extension offer; returns the negotiated parameters and a
/// client WebSocket on a client-role WireStream.
async fn deflate_client(
    srv: &ServerHandle,
    path: &str,
    offer: &str,
) -> (
    Option<DeflateParams>,
    String,
    WebSocketStream<WireStream<TcpStream>>,
    Arc<SessionCounters>,
) {
    let header = format!("Sec-WebSocket-Extensions: {offer}");
    let (tcp, resp) = raw_exchange(srv, &upgrade_request(path, &[&header])).await;
    assert_eq!(resp.status, 101);
    let answer = resp
        .header("sec-websocket-extensions")
        .unwrap_or_default()
        .to_string();
    let accepted = if answer.is_empty() {
        Vec::new()
    } else {
        extensions::parse_header(&answer).expect("server extension header parses")
    };
    let offered = extensions::parse_header(offer).expect("offer parses");
    let agreement = extensions::check_response(&offered, &[], &accepted)
        .expect("the server accepts only what was offered");
    let counters = Arc::new(SessionCounters::default());
    let stream = WireStream::new(
        tcp,
        Role::Client,
        agreement.deflate,
        resp.rest,
        16 << 20,
        counters.clone(),
    );
    let ws = WebSocketStream::from_raw_socket(stream, Role::Client, None).await;
    (agreement.deflate, answer, ws, counters)
}

fn compressible(n: usize) -> String {
    "{\"sensor\":\"s-1\",\"status\":\"ok\",\"value\":42}".repeat(n)
}

#[tokio::test]
async fn echo_negotiates_deflate_and_echoes_compressed() {
    let srv = serve().await;
    let (params, answer, mut ws, counters) =
        deflate_client(&srv, "/echo", "permessage-deflate; client_max_window_bits").await;
    assert_eq!(answer, "permessage-deflate");
    assert_eq!(params, Some(DeflateParams::default()));
    let text = compressible(100);
    for _ in 0..3 {
        ws.send(Message::text(text.clone())).await.expect("send");
        assert_eq!(
            ws.next().await.expect("echo").expect("ok"),
            Message::text(text.clone())
        );
    }
    let c = counters.load();
    assert_eq!(c.payload_in as usize, 3 * text.len());
    assert!(
        c.wire_in * 5 < c.payload_in,
        "the echo came back compressed: {c:?}"
    );
    ws.close(None).await.expect("close");
    while ws.next().await.is_some() {}
    let server = srv.traffic();
    assert!(
        server.compression_ratio().expect("traffic") > 5.0,
        "{server:?}"
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn echo_answers_with_the_parameters_asked_for() {
    let srv = serve().await;
    let offer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=10; client_max_window_bits=9, permessage-deflate";
    let (params, answer, mut ws, _) = deflate_client(&srv, "/echo", offer).await;
    assert_eq!(
        params,
        Some(DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 10,
            client_max_window_bits: 9,
        }),
        "{answer}"
    );
    let text = compressible(50);
    for _ in 0..3 {
        ws.send(Message::text(text.clone())).await.expect("send");
        assert_eq!(
            ws.next().await.expect("echo").expect("ok"),
            Message::text(text.clone())
        );
    }
    ws.send(Message::binary(vec![7u8; 5000]))
        .await
        .expect("send binary");
    assert_eq!(
        ws.next().await.expect("echo").expect("ok"),
        Message::binary(vec![7u8; 5000])
    );
    drop(ws);
    srv.shutdown().await;
}

#[tokio::test]
async fn nodeflate_sessions_work_through_the_layer_uncompressed() {
    let srv = serve().await;
    let (params, answer, mut ws, counters) =
        deflate_client(&srv, "/nodeflate", "permessage-deflate").await;
    assert_eq!((params, answer.as_str()), (None, ""));
    let text = compressible(20);
    ws.send(Message::text(text.clone())).await.expect("send");
    assert_eq!(
        ws.next().await.expect("echo").expect("ok"),
        Message::text(text.clone())
    );
    let c = counters.load();
    assert!(c.wire_in > c.payload_in, "not compressed: {c:?}");
    drop(ws);
    srv.shutdown().await;
}

#[tokio::test]
async fn compressed_frames_on_the_wire() {
    // Raw bytes: a compressed message sent by hand comes back as a frame with RSV1 set whose
    // payload inflates to the same text (RFC 7692 section 7.2).
    let srv = serve().await;
    let (mut tcp, resp) = raw_exchange(
        &srv,
        &upgrade_request(
            "/echo",
            &["Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover"],
        ),
    )
    .await;
    assert_eq!(resp.status, 101);
    assert_eq!(
        resp.header("sec-websocket-extensions"),
        Some("permessage-deflate; server_no_context_takeover")
    );
    let text = compressible(10);
    let payload = Compressor::new(15, false)
        .compress(text.as_bytes())
        .expect("compress");
    assert!(payload.len() < 126);
    let key = [0x11u8, 0x22, 0x33, 0x44];
    let mut frame = Vec::new();
    frame::write_head(
        &mut frame,
        true,
        true,
        frame::OP_TEXT,
        Some(key),
        payload.len(),
    );
    let mut masked = payload.clone();
    frame::apply_mask(&mut masked, key, 0);
    frame.extend_from_slice(&masked);
    assert_eq!(frame[..2], [0xC1, 0x80 | payload.len() as u8]);
    tcp.write_all(&frame).await.expect("send compressed frame");

    let mut got = resp.rest;
    read_at_least(&mut tcp, &mut got, 2).await;
    assert_eq!(got[0], 0xC1, "FIN + RSV1 + text");
    let head = FrameHead::parse(&got).expect("a short frame header is complete in 2 bytes");
    assert_eq!(head.mask, None, "server frames are unmasked");
    let len = usize::try_from(head.len).expect("small");
    assert!(len < 126, "{len}");
    read_at_least(&mut tcp, &mut got, 2 + len).await;
    let inflated = Decompressor::new(15, true)
        .decompress(&got[2..2 + len], 1 << 20)
        .expect("inflate");
    assert_eq!(inflated, text.as_bytes());
    drop(tcp);
    srv.shutdown().await;
}

#[tokio::test]
async fn burst_with_deflate_is_compressed() {
    let srv = serve().await;
    let (params, answer, mut ws, counters) = deflate_client(
        &srv,
        "/burst?n=5",
        "permessage-deflate; client_no_context_takeover",
    )
    .await;
    // Load paths keep no compression context on the server (RFC 7692 7.1.1.1 allows adding it).
    assert_eq!(
        answer,
        "permessage-deflate; client_no_context_takeover; server_no_context_takeover"
    );
    assert!(params.is_some_and(|p| p.server_no_context_takeover && p.client_no_context_takeover));
    for seq in 0..5 {
        let text = ws
            .next()
            .await
            .expect("burst message")
            .expect("ok")
            .into_text()
            .expect("text");
        let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(v["seq"], seq);
    }
    let c = counters.load();
    assert!(c.wire_in * 3 < c.payload_in, "{c:?}");
    drop(ws);
    srv.shutdown().await;
}

#[tokio::test]
async fn what_a_tungstenite_client_reports_for_1005_and_1014() {
    // Facts for the engine: an empty close frame arrives as `Close(None)` (report 1005), and
    // tungstenite 0.30 turns a received 1014 into 1002 "Protocol violation" (the raw-bytes test
    // above shows the server really sent 1014), so the real code must be read below tungstenite.
    let srv = serve().await;
    let mut ws = connect(&srv, "/close/1005").await;
    assert_eq!(next_close(&mut ws).await, None);
    let mut ws = connect(&srv, "/close/1014").await;
    assert_eq!(
        next_close(&mut ws).await,
        Some((1002, "Protocol violation".to_string()))
    );
    srv.shutdown().await;
}
