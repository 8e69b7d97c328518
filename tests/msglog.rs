//! The message log's engine side, export and replay (issue 21 items 1, 4): every frame both
//! ways reaches the store as a `message` event with its wire size (compressed) and RSV1;
//! nothing is emitted when the log and recording are off; `--record-messages` writes the
//! payloads with secret JSON fields redacted; a replay rebuilds the same logs at the same
//! moments, from JSONL and from CSV.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::{config, run_until, target};
use serde_json::Value;
use wsmon::codes::Registry;
use wsmon::engine::events::{Direction, EventKind, Opcode};
use wsmon::engine::settings::MessageSettings;
use wsmon::runtime::replay::cursor::ReplayCursor;
use wsmon::runtime::replay::load;
use wsmon::state::messages::Entry;

const LIMIT: Duration = Duration::from_secs(20);

/// A compressible JSON message with a secret field, longer than `preview` below.
fn hello() -> String {
    format!(
        r#"{{"type":"hello","token":"s3cr3t-t0ken","pad":"{}"}}"#,
        "ab".repeat(300)
    )
}

fn dir_op(v: &Value) -> (String, String) {
    (
        v["direction"].as_str().unwrap_or("?").to_string(),
        v["opcode"].as_str().unwrap_or("?").to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_frame_both_ways_with_wire_sizes_and_redacted_payloads() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![target(&server.url("/echo"), 1)]);
    cfg.session.send = Some(hello());
    cfg.session.ping_interval = Some(Duration::from_millis(150));
    cfg.session.messages = MessageSettings {
        preview: 256,
        record: true,
        ..MessageSettings::default()
    };
    let run = run_until(cfg, LIMIT, |s| {
        let logs = s.messages.lock();
        logs.sessions.values().any(|l| {
            l.entries()
                .iter()
                .any(|e| e.record.dir == Direction::In && e.record.opcode == Opcode::Pong)
                && l.entries().iter().any(|e| e.record.opcode == Opcode::Text)
        })
    })
    .await;
    let msgs = run.of("message");
    let kinds: Vec<(String, String)> = msgs.iter().map(|m| dir_op(m)).collect();
    let pos = |d: &str, o: &str| {
        kinds
            .iter()
            .position(|k| k.0 == d && k.1 == o)
            .unwrap_or_else(|| panic!("no {d} {o} in {kinds:?}"))
    };
    // Our message leaves before its echo comes back; our ping before its pong.
    assert!(pos("out", "text") < pos("in", "text"), "{kinds:?}");
    assert!(pos("out", "ping") < pos("in", "pong"), "{kinds:?}");
    // At shutdown: our 1001 and the server's answer.
    let out_close = msgs[pos("out", "close")];
    assert_eq!(out_close["code"], 1001, "{out_close}");
    assert!(pos("out", "close") < pos("in", "close"), "{kinds:?}");

    let full = hello().len() as u64;
    for m in [msgs[pos("out", "text")], msgs[pos("in", "text")]] {
        assert_eq!(m["size"], full, "{m}");
        assert_eq!(m["rsv1"], true, "deflate was negotiated: {m}");
        let wire = m["wire_size"].as_u64().expect("wire_size");
        assert!(wire < full / 2, "compressed on the wire: {wire} of {full}");
        assert_eq!(m["cut"], true, "{m}");
        let text = m["text"].as_str().expect("text payload");
        assert!(
            text.starts_with(r#"{"type":"hello","token":"<redacted>","pad":"abab"#),
            "{text}"
        );
        assert!(!text.contains("s3cr3t"), "{text}");
    }
    let ping = msgs[pos("out", "ping")];
    assert_eq!(
        (ping["size"].as_u64(), ping["rsv1"].as_bool()),
        (Some(8), Some(false))
    );

    // The store's log kept the same frames, payloads cut to the preview.
    {
        let logs = run.snapshot.messages.lock();
        let log = logs.sessions.values().next().expect("one session's log");
        let entries: Vec<&Entry> = log.entries().iter().collect();
        assert!(entries.iter().all(|e| e.record.payload.len() <= 256));
        assert_eq!(
            log.logged() as usize,
            msgs.len(),
            "every exported frame was logged"
        );
    }
    server.shutdown().await;
}

/// Runs two `/echo` sessions sending "hi" every 50 ms until each got 5 messages; returns the
/// `message` events that reached the store's sinks and the final snapshot.
async fn message_events_with(log_count: usize) -> (u64, Arc<wsmon::state::snapshot::Snapshot>) {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![target(&server.url("/echo"), 2)]);
    cfg.session.send = Some("hi".into());
    cfg.session.send_every = Some(Duration::from_millis(50));
    cfg.session.messages.log_count = log_count;
    let seen = Arc::new(AtomicU64::new(0));
    let count = seen.clone();
    let sink = wsmon::runtime::Sink::spawn("test-count", move |mut rx| {
        let mut all = 0;
        while let Some(msg) = rx.blocking_recv() {
            if let wsmon::state::store::SinkMsg::Events(batch) = msg {
                all += batch.len() as u64;
                let n = batch
                    .iter()
                    .filter(|e| matches!(e.kind, EventKind::Message(_)))
                    .count();
                count.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
        Ok(all)
    })
    .expect("sink");
    let rt = wsmon::runtime::start(
        wsmon::runtime::Live {
            settings: cfg.engine.clone(),
            registry: Arc::new(Registry::builtin().clone()),
        },
        wsmon::runtime::Sinks {
            export: None,
            others: vec![sink],
        },
    )
    .expect("runtime");
    let mut rx = rt.snapshots.clone();
    tokio::time::timeout(LIMIT, async {
        loop {
            let snap = rx.borrow_and_update().clone();
            if snap
                .counters
                .iter()
                .flatten()
                .filter(|c| c.msgs_in >= 5)
                .count()
                == 2
            {
                return;
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    })
    .await
    .expect("messages flowed");
    let (snap, _) = rt.shutdown().await;
    server.shutdown().await;
    (seen.load(Ordering::Relaxed), snap)
}

/// With the log off and nothing recorded, sessions send no `message` event at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_emitted_when_the_log_and_recording_are_off() {
    let (events, snap) = message_events_with(0).await;
    assert_eq!(events, 0, "no message event");
    assert!(snap.messages.lock().sessions.is_empty());
}

/// With the log on and nothing recorded, sessions log their frames straight into the store's
/// logs: every frame is there, both ways, and not one `message` event crossed the channel
/// (10,000 sessions on a feed would otherwise send the store 10,000 events a second).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logged_frame_is_no_event_unless_recorded() {
    let (events, snap) = message_events_with(200).await;
    assert_eq!(events, 0, "no message event without --record-messages");
    let logs = snap.messages.lock();
    assert_eq!(logs.sessions.len(), 2, "both sessions logged");
    for log in logs.sessions.values() {
        let dirs: Vec<_> = log.entries().iter().map(|e| e.record.dir).collect();
        assert!(
            dirs.contains(&Direction::In) && dirs.contains(&Direction::Out),
            "{dirs:?}"
        );
        assert!(log.logged() >= 10, "{} frames", log.logged());
    }
}

/// A recorded run replays its logs as they were live: same entries at the same moments, from
/// the JSONL export and from the same events written as CSV.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_run_replays_the_same_logs_at_the_same_moments() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![target(&server.url("/echo"), 2)]);
    cfg.session.send = Some("tick \u{1b}[2J".into());
    cfg.session.send_every = Some(Duration::from_millis(40));
    cfg.session.messages.record = true;
    // A small log: entries drop off the front, and replay must drop the same ones.
    cfg.session.messages.log_count = 200;
    let run = run_until(cfg, LIMIT, |s| {
        s.counters
            .iter()
            .flatten()
            .filter(|c| c.msgs_in >= 120)
            .count()
            == 2
    })
    .await;
    let live: Vec<(u64, Vec<Entry>)> = {
        let logs = run.snapshot.messages.lock();
        let mut v: Vec<(u64, Vec<Entry>)> = logs
            .sessions
            .iter()
            .map(|(id, l)| (*id, l.entries().iter().cloned().collect()))
            .collect();
        v.sort_by_key(|(id, _)| *id);
        v
    };
    assert!(live.iter().all(|(_, e)| e.len() == 200), "full logs");

    let dir = tempfile::tempdir().expect("dir");
    let jsonl = dir.path().join("run.jsonl");
    let lines: Vec<String> = run.events.iter().map(|v| v.to_string()).collect();
    std::fs::write(&jsonl, lines.join("\n") + "\n").expect("write");
    let rec = load::load(&jsonl).expect("loads");
    // The same events, as CSV.
    let csv = dir.path().join("run.csv");
    let mut w =
        wsmon::export::ExportWriter::create(&csv, Arc::new(|_| String::new())).expect("csv");
    w.set_run(wsmon::export::RunInfo {
        record_messages: true,
        ..Default::default()
    });
    for ev in &rec.events {
        w.write(ev).expect("write");
    }
    w.flush().expect("flush");
    drop(w);
    let rec_csv = load::load(&csv).expect("csv loads");
    assert_eq!(rec.events, rec_csv.events, "CSV round trip");

    let end = rec.end().expect("end");
    for r in [rec, rec_csv] {
        let mut cursor = ReplayCursor::new(Arc::new(r));
        cursor.seek(end);
        let snap = cursor.snapshot();
        let logs = snap.messages.lock();
        for (id, entries) in &live {
            let replayed: Vec<&Entry> = logs.sessions[id].entries().iter().collect();
            assert_eq!(replayed.len(), entries.len());
            for (a, b) in replayed.iter().zip(entries) {
                assert_eq!(a.seq, b.seq);
                // The export keeps milliseconds.
                assert_eq!(a.ts.timestamp_millis(), b.ts.timestamp_millis());
                assert_eq!(a.record, b.record, "session {id} entry {}", a.seq);
            }
        }
    }
    server.shutdown().await;
}
