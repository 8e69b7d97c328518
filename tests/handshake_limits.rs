//! Bounded and paced handshakes (`--max-connecting`, `--ramp`) and a connection closed before
//! any upgrade answer being retried with backoff.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{config, run_until, target};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wsmon::engine::events::SessionState;

/// A server that holds every upgrade for `hold` before answering 101, and counts how many
/// upgrades were unanswered at once (the most ever seen) and how many arrived in all.
async fn holding_server(hold: Duration) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let pending = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let total = Arc::new(AtomicUsize::new(0));
    let (most_out, total_out) = (most.clone(), total.clone());
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (pending, most, total) = (pending.clone(), most.clone(), total.clone());
            tokio::spawn(async move {
                // Counted from the TCP accept: the slot covers connect and upgrade.
                let now = pending.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                total.fetch_add(1, Ordering::SeqCst);
                let Some(key) = common::read_upgrade_key(&mut sock).await else {
                    pending.fetch_sub(1, Ordering::SeqCst);
                    return;
                };
                tokio::time::sleep(hold).await;
                let accept =
                    tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
                let answer = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                     Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                );
                pending.fetch_sub(1, Ordering::SeqCst);
                let _ = sock.write_all(answer.as_bytes()).await;
                // Hold the connection open until the client goes.
                let mut buf = [0u8; 512];
                while let Ok(n) = sock.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    (format!("ws://{addr}/"), most_out, total_out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_more_than_max_connecting_handshakes_in_flight() {
    let (url, most, total) = holding_server(Duration::from_millis(150)).await;
    let mut cfg = config(vec![target(&url, 12)]);
    cfg.session.max_connecting = 3;
    let run = run_until(cfg, Duration::from_secs(30), |s| {
        s.totals.by_state[SessionState::Open.index()] == 12
    })
    .await;
    assert_eq!(total.load(Ordering::SeqCst), 12, "one connection each");
    assert_eq!(
        most.load(Ordering::SeqCst),
        3,
        "the limit is reached and never passed"
    );
    let waits: Vec<u64> = run
        .of("connecting")
        .iter()
        .map(|e| e["slot_wait_ms"].as_u64().expect("slot_wait_ms"))
        .collect();
    assert_eq!(waits.len(), 12);
    // 12 sessions through 3 slots of ~150 ms: the last ones wait about 450 ms.
    assert!(
        waits.iter().filter(|w| **w >= 100).count() >= 6,
        "slot waits recorded: {waits:?}"
    );
    let timeline_waits: Vec<u64> = run
        .snapshot
        .sessions
        .iter()
        .filter_map(|s| s.timeline.front().and_then(|r| r.slot_wait_ms))
        .collect();
    assert_eq!(
        timeline_waits.len(),
        12,
        "the timeline records the slot wait"
    );
    assert_eq!(
        timeline_waits.iter().max(),
        waits.iter().max(),
        "the timeline and the export agree"
    );
}

#[tokio::test(start_paused = true)]
async fn the_ramp_spreads_first_attempts_over_the_expected_time() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![target(&server.url("/echo"), 6)]);
    cfg.session.ramp = Some(2.0);
    cfg.session.connect_timeout = Duration::from_secs(120);
    let run = run_until(cfg, Duration::from_secs(60), |s| {
        s.totals.by_state[SessionState::Open.index()] == 6
    })
    .await;
    let mut waits: Vec<u64> = run
        .of("connecting")
        .iter()
        .map(|e| e["slot_wait_ms"].as_u64().expect("slot_wait_ms"))
        .collect();
    waits.sort();
    assert_eq!(waits.len(), 6);
    // Two per second: first attempts at 0, 0.5, 1.0 ... 2.5 s.
    for (i, w) in waits.iter().enumerate() {
        let want = 500 * i as u64;
        assert!(
            w.abs_diff(want) <= 5,
            "attempt {i} waited {w} ms: {waits:?}"
        );
    }
    server.shutdown().await;
}

/// A server that accepts and closes at once, before any upgrade answer.
async fn closing_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            drop(sock);
        }
    });
    format!("ws://{addr}/")
}

#[tokio::test(start_paused = true)]
async fn a_connection_closed_before_the_upgrade_answer_backs_off() {
    let url = closing_server().await;
    let mut cfg = config(vec![target(&url, 2)]);
    cfg.backoff.jitter = wsmon::engine::events::Jitter::None;
    let run = run_until(cfg, Duration::from_secs(900), |s| {
        s.sessions.iter().all(|v| v.timeline.len() > 4)
    })
    .await;
    // Only wsmon's own stop ends them (`ended` with cause shutdown); EOF never does.
    let ended: Vec<_> = run
        .of("ended")
        .into_iter()
        .filter(|e| e["cause"]["type"] != "shutdown")
        .collect();
    assert!(ended.is_empty(), "not given up: {:?}", run.of("ended"));
    for id in run.sessions() {
        let backoffs: Vec<&Value> = run.for_session(id, "backoff");
        assert!(backoffs.len() >= 4, "{backoffs:?}");
        let windows: Vec<u64> = backoffs
            .iter()
            .map(|b| b["window_ms"].as_u64().expect("window_ms"))
            .collect();
        assert_eq!(&windows[..4], &[1000, 2000, 4000, 8000], "growing windows");
        for b in &backoffs {
            assert_eq!(b["cause"]["type"], "error", "{b}");
            assert_eq!(b["cause"]["kind"], "io", "{b}");
        }
    }
    let errors = run.of("error");
    assert!(
        errors.iter().all(|e| e["message"]
            .as_str()
            .is_some_and(|m| m.contains("without answering"))),
        "{errors:?}"
    );
}
