//! The scenario server's message-layer paths (`/feed`, `/rpc`, `/auth`) against a client that is
//! not wsmon: tokio-tungstenite on 127.0.0.1.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
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

/// The next data message within `wait`, as text (`None`: nothing came in time).
async fn next_text(ws: &mut Ws, wait: Duration) -> Option<String> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, ws.next()).await {
            Err(_elapsed) => return None,
            Ok(None) => panic!("stream ended while waiting for a message"),
            Ok(Some(Err(e))) => panic!("read error: {e}"),
            Ok(Some(Ok(Message::Text(t)))) => return Some(t.to_string()),
            Ok(Some(Ok(Message::Binary(b)))) => panic!("unexpected binary message {b:?}"),
            Ok(Some(Ok(Message::Close(c)))) => panic!("unexpected close {c:?}"),
            Ok(Some(Ok(_))) => {}
        }
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `/feed?rate=20&stall_after=1s`: 20 ticks in the first second with consecutive seq and the
/// current Unix time; then nothing, while pings are still answered and a close is returned.
#[tokio::test]
async fn feed_ticks_at_its_rate_then_stalls_with_the_connection_alive() {
    let srv = serve().await;
    let start = Instant::now();
    let mut ws = connect(&srv, "/feed?rate=20&stall_after=1s").await;
    let mut ticks = Vec::new();
    while let Some(t) = next_text(&mut ws, Duration::from_millis(600)).await {
        let arrived = start.elapsed();
        let v = json(&t);
        assert_eq!(v["type"], "tick", "{t}");
        let ts = v["ts_ms"].as_u64().expect("ts_ms is a number");
        assert!(ts.abs_diff(now_ms()) < 1000, "ts_ms {ts} is not now");
        ticks.push((v["seq"].as_u64().expect("seq is a number"), arrived));
        assert!(
            ticks.len() <= 25,
            "still ticking after {arrived:?}: {ticks:?}"
        );
    }
    // 20 a second for one second: seq 1..=20 (a tick due exactly at the stall may or may not go).
    let seqs: Vec<u64> = ticks.iter().map(|(s, _)| *s).collect();
    assert!(
        (20..=21).contains(&seqs.len()),
        "{} ticks: {seqs:?}",
        seqs.len()
    );
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    // Spread over the second, not sent at once.
    let (_, tenth) = ticks[9];
    assert!(
        (Duration::from_millis(400)..Duration::from_millis(800)).contains(&tenth),
        "the 10th tick came after {tenth:?}"
    );
    let (_, last) = ticks[ticks.len() - 1];
    assert!(last < Duration::from_millis(1300), "last tick at {last:?}");

    // Silent, but alive: a ping is answered, no tick comes, and the close handshake completes.
    ws.send(Message::Ping(b"still there?".to_vec().into()))
        .await
        .expect("send ping");
    let pong = match timeout(Duration::from_secs(2), ws.next())
        .await
        .expect("a pong within 2 s")
    {
        Some(Ok(Message::Pong(p))) => p,
        other => panic!("expected a pong (no tick after the stall), got {other:?}"),
    };
    assert_eq!(&pong[..], b"still there?");
    ws.close(None).await.expect("send close");
    let end = timeout(Duration::from_secs(2), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | None => return,
                Some(Ok(Message::Text(t))) => panic!("a tick after the stall: {t}"),
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("close handshake failed: {e}"),
            }
        }
    })
    .await;
    assert!(end.is_ok(), "no close answer");
    srv.shutdown().await;
}

/// Client messages do not make `/feed` talk: it ticks on its own schedule only, the first tick
/// one period after the open (like a timer: `stall_after=5s` at one a second sends five, the
/// last at 5 s).
#[tokio::test]
async fn feed_ignores_client_messages() {
    let srv = serve().await;
    let start = Instant::now();
    let mut ws = connect(&srv, "/feed?rate=1").await;
    let first = json(
        &next_text(&mut ws, Duration::from_secs(2))
            .await
            .expect("first tick"),
    );
    let at = start.elapsed();
    assert!(
        (Duration::from_millis(900)..Duration::from_millis(1500)).contains(&at),
        "the first tick came {at:?} after the connect, not one period"
    );
    assert_eq!(first["seq"], 1);
    for i in 0..5 {
        ws.send(Message::text(format!("{{\"n\":{i}}}")))
            .await
            .expect("send");
    }
    assert_eq!(next_text(&mut ws, Duration::from_millis(500)).await, None);
    let second = json(
        &next_text(&mut ws, Duration::from_secs(1))
            .await
            .expect("second tick"),
    );
    assert_eq!(second["seq"], 2);
    srv.shutdown().await;
}

/// `/rpc?delay=50ms-100ms`: every request with an id is answered once with that id and the
/// message, each after a delay within the range, all of them concurrently.
#[tokio::test]
async fn rpc_answers_every_id_within_the_delay_range_concurrently() {
    let srv = serve().await;
    let mut ws = connect(&srv, "/rpc?delay=50ms-100ms").await;
    let n = 40u64;
    let start = Instant::now();
    let mut sent_at = Vec::new();
    for id in 0..n {
        ws.send(Message::text(format!("{{\"id\":{id},\"op\":\"get\"}}")))
            .await
            .expect("send request");
        sent_at.push(Instant::now());
    }
    let mut ids = BTreeSet::new();
    let mut delays = Vec::new();
    for _ in 0..n {
        let t = next_text(&mut ws, Duration::from_secs(2))
            .await
            .expect("an answer");
        let got = Instant::now();
        let v = json(&t);
        assert_eq!(v["type"], "result", "{t}");
        let id = v["id"].as_u64().expect("numeric id");
        assert_eq!(v["echo"], json(&format!("{{\"id\":{id},\"op\":\"get\"}}")));
        assert!(ids.insert(id), "id {id} answered twice");
        delays.push(got - sent_at[id as usize]);
    }
    assert_eq!(ids, (0..n).collect());
    for d in &delays {
        // The lower bound is exact; the upper one allows for a loaded machine.
        assert!(
            *d >= Duration::from_millis(50) && *d < Duration::from_millis(400),
            "{delays:?}"
        );
    }
    // Sequential answers would take at least 40 x 50 ms = 2 s.
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    // Drawn, not fixed: the delays spread over the range.
    let spread = delays.iter().max().copied().unwrap_or_default()
        - delays.iter().min().copied().unwrap_or_default();
    assert!(spread >= Duration::from_millis(10), "{delays:?}");
    srv.shutdown().await;
}

/// A slow answer does not hold a faster one, and messages without an id (or not JSON, or
/// binary) get an error at once.
#[tokio::test]
async fn rpc_errors_come_at_once_and_string_ids_are_kept() {
    let srv = serve().await;
    let mut ws = connect(&srv, "/rpc?delay=300ms").await;
    ws.send(Message::text(r#"{"id":"slow-1"}"#))
        .await
        .expect("send");
    let start = Instant::now();
    for bad in ["hello", r#"{"op":"no id"}"#, "[1]"] {
        ws.send(Message::text(bad)).await.expect("send");
        let t = next_text(&mut ws, Duration::from_millis(200))
            .await
            .unwrap_or_else(|| panic!("no error answer for {bad:?} within 200 ms"));
        let v = json(&t);
        assert_eq!(v["type"], "error", "{t}");
        assert!(!v["error"].as_str().unwrap_or("").is_empty(), "{t}");
    }
    ws.send(Message::binary(vec![1u8, 2, 3]))
        .await
        .expect("send");
    let v = json(
        &next_text(&mut ws, Duration::from_millis(200))
            .await
            .expect("error"),
    );
    assert_eq!(v["type"], "error");
    let t = next_text(&mut ws, Duration::from_secs(1))
        .await
        .expect("the delayed answer");
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        t,
        r#"{"id":"slow-1","type":"result","echo":{"id":"slow-1"}}"#
    );
    srv.shutdown().await;
}

/// `/auth?timeout=300ms` without an auth message: closed with 4408 "auth timeout" at about
/// 300 ms; other messages before it are answered with an error.
#[tokio::test]
async fn auth_closes_4408_when_no_auth_message_comes() {
    let srv = serve().await;
    let start = Instant::now();
    let mut ws = connect(&srv, "/auth?timeout=300ms").await;
    ws.send(Message::text(r#"{"type":"hello"}"#))
        .await
        .expect("send");
    let v = json(
        &next_text(&mut ws, Duration::from_millis(200))
            .await
            .expect("error"),
    );
    assert_eq!(v["type"], "error");
    let close = match timeout(Duration::from_secs(2), ws.next())
        .await
        .expect("a close within 2 s")
    {
        Some(Ok(Message::Close(frame))) => frame.expect("a close code"),
        other => panic!("expected the close frame, got {other:?}"),
    };
    let elapsed = start.elapsed();
    assert_eq!(u16::from(close.code), 4408);
    assert_eq!(close.reason.as_str(), "auth timeout");
    assert!(
        (Duration::from_millis(300)..Duration::from_millis(1000)).contains(&elapsed),
        "{elapsed:?}"
    );
    srv.shutdown().await;
}

/// With `{"type":"auth"}` in time: `{"type":"auth_ok"}`, then an echo that outlives the timeout.
#[tokio::test]
async fn auth_acks_then_echoes() {
    let srv = serve().await;
    let mut ws = connect(&srv, "/auth?timeout=300ms").await;
    ws.send(Message::text(r#"{"type":"auth","token":"t0k3n"}"#))
        .await
        .expect("send");
    assert_eq!(
        next_text(&mut ws, Duration::from_millis(500))
            .await
            .as_deref(),
        Some(r#"{"type":"auth_ok"}"#)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    ws.send(Message::text("after the timeout"))
        .await
        .expect("send");
    assert_eq!(
        next_text(&mut ws, Duration::from_millis(500))
            .await
            .as_deref(),
        Some("after the timeout")
    );
    ws.send(Message::binary(vec![0u8, 255, 7]))
        .await
        .expect("send");
    let echoed = timeout(Duration::from_millis(500), ws.next())
        .await
        .expect("binary echo in time");
    assert!(
        matches!(echoed, Some(Ok(Message::Binary(ref b))) if b[..] == [0, 255, 7]),
        "{echoed:?}"
    );
    srv.shutdown().await;
}

/// Bad parameters are a 400 with the reason, before any upgrade.
#[tokio::test]
async fn bad_parameters_are_refused_with_their_reason() {
    let srv = serve().await;
    for (path, word) in [
        ("/feed?rate=0", "rate"),
        ("/rpc?delay=40ms-20ms", "backwards"),
        ("/auth?timeout=never", "duration"),
        ("/h2/goaway?after=1s", "HTTP/2"),
    ] {
        let tcp = TcpStream::connect(srv.addr()).await.expect("tcp connect");
        let err = client_async(srv.url(path), tcp)
            .await
            .expect_err("no upgrade");
        let tokio_tungstenite::tungstenite::Error::Http(resp) = err else {
            panic!("{path}: expected an HTTP answer, got {err}");
        };
        let body = String::from_utf8_lossy(resp.body().as_deref().unwrap_or_default()).to_string();
        assert!(
            matches!(resp.status().as_u16(), 400 | 404),
            "{path}: {}",
            resp.status()
        );
        assert!(body.contains(word), "{path}: {body}");
    }
    srv.shutdown().await;
}
