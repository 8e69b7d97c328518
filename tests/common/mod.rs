//! Shared helpers for engine tests: run the real engine against a real server on 127.0.0.1:0
//! and read back what it exported.
#![allow(dead_code)]

pub mod binary;
pub mod prometheus;
pub mod proxies;
pub mod tmux;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use wsmon::codes::Registry;
use wsmon::config::Config;
use wsmon::engine::TargetSpec;
use wsmon::protocol::url::parse_ws_url;
use wsmon::state::snapshot::Snapshot;

pub fn target(url: &str, sessions: usize) -> TargetSpec {
    TargetSpec::new(parse_ws_url(url).expect("test URL is valid"), sessions)
}

pub fn temp_export(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("events.jsonl")
}

/// Result of a run: the last snapshot and every exported event.
pub struct Run {
    pub snapshot: Arc<Snapshot>,
    pub events: Vec<Value>,
}

impl Run {
    pub fn of(&self, event: &str) -> Vec<&Value> {
        self.events.iter().filter(|e| e["event"] == event).collect()
    }
    pub fn for_session(&self, session: u64, event: &str) -> Vec<&Value> {
        self.events
            .iter()
            .filter(|e| e["session"] == session && e["event"] == event)
            .collect()
    }
    pub fn sessions(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .of("spawned")
            .iter()
            .filter_map(|e| e["session"].as_u64())
            .collect();
        ids.sort();
        ids
    }
}

/// Start the engine with `cfg`, wait until `done(snapshot)` is true (or `limit` passes, which
/// fails the test), shut down, and read the export.
pub async fn run_until(mut cfg: Config, limit: Duration, done: impl Fn(&Snapshot) -> bool) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = temp_export(&dir);
    cfg.export = Some(path.clone());
    cfg.headless = true;
    let expected = cfg.total_sessions();
    let registry = Arc::new(Registry::builtin().clone());
    let engine = wsmon::runtime::live(cfg.engine.clone(), registry, cfg.export.as_deref())
        .expect("runtime starts");
    let mut rx = engine.snapshots.clone();
    let reached = tokio::time::timeout(limit, async {
        loop {
            let snap = rx.borrow_and_update().clone();
            // Judge only once every configured session exists (an empty snapshot proves nothing).
            if snap.sessions.len() == expected && done(&snap) {
                return;
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    })
    .await;
    let (snapshot, export) = engine.shutdown().await;
    let written = export.expect("export configured").expect("export ok");
    let events = wsmon::export::reader::read_jsonl(&path).expect("export is valid JSONL");
    assert_eq!(
        events.len() as u64,
        written,
        "every event written is read back"
    );
    assert!(
        reached.is_ok(),
        "condition not reached within {limit:?}; last snapshot totals: {:?}",
        snapshot.totals
    );
    Run { snapshot, events }
}

/// A config with quiet defaults for tests: no pings, short close timeout.
pub fn config(targets: Vec<TargetSpec>) -> Config {
    let mut cfg = Config {
        engine: wsmon::engine::EngineSettings {
            targets,
            ..Default::default()
        },
        ..Config::default()
    };
    cfg.session.ping_interval = None;
    cfg.session.close_timeout = Duration::from_secs(2);
    cfg.seed = Some(7);
    cfg
}

/// A 127.0.0.1 port that was free a moment ago, for peers (Prometheus, tinyproxy, microsocks)
/// that cannot bind port 0 and report it.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// For a hand-written test server: read an upgrade request up to its blank line and return its
/// `Sec-WebSocket-Key` (empty when it has none), or `None` when the client went away first.
pub async fn read_upgrade_key(sock: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 4096];
    let mut len = 0;
    while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") && len < buf.len() {
        match sock.read(&mut buf[len..]).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => len += n,
        }
    }
    let req = String::from_utf8_lossy(&buf[..len]).to_string();
    Some(
        req.lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap_or_default()
            .trim()
            .to_string(),
    )
}
