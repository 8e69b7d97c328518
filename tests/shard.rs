//! Splitting the work: `--shard K/N` agents together run every session of every target exactly
//! once, and `--local-addr` spreads sessions evenly over source addresses. The real binary,
//! against the scenario server (and a raw WebSocket server that records peer addresses).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use serde_json::Value;

/// `wsmon watch --headless --duration 2s --export ... ARGS`, on a blocking thread; the events.
async fn watch(args: Vec<String>) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("events.jsonl");
    let export_arg = export.to_string_lossy().into_owned();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = assert_cmd::Command::cargo_bin("wsmon").expect("binary is built");
        for v in wsmon::engine::settings::PROXY_ENV_VARS {
            cmd.env_remove(v);
        }
        cmd.args([
            "watch",
            "--headless",
            "--duration",
            "2s",
            "--ping-interval",
            "0",
        ])
        .args(["--export", &export_arg])
        .args(args)
        .output()
        .expect("wsmon runs")
    })
    .await
    .expect("join");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wsmon::export::reader::read_jsonl(&export).expect("export is valid JSONL")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_shards_cover_every_session_of_every_target_once() {
    let server = wsmon::server::start("127.0.0.1:0")
        .await
        .expect("scenario server");
    let targets = [server.url("/echo"), server.url("/nodeflate")];
    let per_target = 8usize;
    // (target, index) -> which shards ran it and whether it opened there.
    let mut seen: BTreeMap<(u64, u64), Vec<(u32, bool)>> = BTreeMap::new();
    for k in 1..=3u32 {
        let mut args = vec![
            "--shard".to_string(),
            format!("{k}/3"),
            "-n".into(),
            per_target.to_string(),
        ];
        args.extend(targets.iter().cloned());
        let events = watch(args).await;
        let spawned: Vec<&Value> = events.iter().filter(|e| e["event"] == "spawned").collect();
        let expected = (k as usize - 1..per_target).step_by(3).count() * targets.len();
        assert_eq!(spawned.len(), expected, "shard {k}/3 runs its share");
        for s in spawned {
            let session = &s["session"];
            let opened = events
                .iter()
                .any(|e| e["session"] == *session && e["event"] == "open");
            let key = (
                s["target"].as_u64().expect("target"),
                s["index"].as_u64().expect("index"),
            );
            seen.entry(key).or_default().push((k, opened));
        }
    }
    let want: Vec<(u64, u64)> = (0..targets.len() as u64)
        .flat_map(|t| (0..per_target as u64).map(move |i| (t, i)))
        .collect();
    assert_eq!(seen.keys().copied().collect::<Vec<_>>(), want);
    for ((t, i), runs) in &seen {
        assert_eq!(runs.len(), 1, "target {t} session {i} ran in {runs:?}");
        assert_eq!(
            runs[0].0 as u64,
            i % 3 + 1,
            "session {i} belongs to shard {}",
            i % 3 + 1
        );
        assert!(runs[0].1, "target {t} session {i} opened");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_addr_spreads_sessions_evenly_over_source_addresses() {
    // A raw WebSocket server that records the source address of every connection.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let peers: Arc<Mutex<Vec<IpAddr>>> = Arc::default();
    let record = peers.clone();
    let accept = tokio::spawn(async move {
        while let Ok((tcp, peer)) = listener.accept().await {
            record.lock().expect("lock").push(peer.ip());
            tokio::spawn(async move {
                if let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await {
                    while let Some(Ok(_)) = ws.next().await {}
                }
            });
        }
    });
    let events = watch(vec![
        "--local-addr".into(),
        "127.0.0.2,127.0.0.3,127.0.0.4".into(),
        "-n".into(),
        "10".into(),
        format!("ws://127.0.0.1:{port}/"),
    ])
    .await;
    accept.abort();
    assert_eq!(
        events.iter().filter(|e| e["event"] == "open").count(),
        10,
        "every session opened once"
    );
    let mut counts: BTreeMap<IpAddr, usize> = BTreeMap::new();
    for ip in peers.lock().expect("lock").iter() {
        *counts.entry(*ip).or_default() += 1;
    }
    let want: Vec<IpAddr> = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
        .iter()
        .map(|s| s.parse().expect("ip"))
        .collect();
    assert_eq!(
        counts.keys().copied().collect::<Vec<_>>(),
        want,
        "{counts:?}"
    );
    let (min, max) = (
        counts.values().min().copied().unwrap_or(0),
        counts.values().max().copied().unwrap_or(0),
    );
    assert_eq!(counts.values().sum::<usize>(), 10);
    assert!(max - min <= 1, "even spread: {counts:?}");
}

#[test]
fn bad_shard_and_local_addr_are_usage_errors() {
    for (flag, value, says) in [
        ("--shard", "4/3", "1 <= K <= N"),
        ("--shard", "two", "K/N"),
        ("--local-addr", "127.0.0.2,nope", "not an IP address"),
        ("--proxy", "ftp://127.0.0.1:21", "not supported"),
    ] {
        assert_cmd::Command::cargo_bin("wsmon")
            .expect("binary is built")
            .args(["watch", "--headless", flag, value, "ws://127.0.0.1:1/"])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(says));
    }
}
