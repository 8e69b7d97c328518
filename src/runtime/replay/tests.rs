use std::io::Write;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::engine::events::{
    CloseInfo, ErrorKind, Event, EventKind, HandshakeInfo, Initiator, SessionState,
};
use crate::engine::test_events::{self as build, backoff, close_info, closed, connecting, spawned};
use crate::export::ExportWriter;
use crate::protocol::extensions::Extension;
use crate::state::store::Store;

fn ts(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_795_634_417, 0).expect("valid timestamp")
        + TimeDelta::milliseconds(ms)
}

fn ev(ms: i64, session: u64, kind: EventKind) -> Event {
    build::event(ts(ms), session, kind)
}

/// Two sessions: one opens and stays open, one is closed with 1013 and waits, retries, waits.
fn sample() -> Vec<Event> {
    let close = |code| {
        EventKind::Closed(CloseInfo {
            reason: "busy, try later".into(),
            uptime_ms: Some(3),
            ..close_info(code, Initiator::Server)
        })
    };
    let backoff = |attempt, at| backoff(attempt, 1013, ts(at));
    let hs = EventKind::Handshake(Arc::new(HandshakeInfo {
        status: 101,
        status_line: "HTTP/1.1 101 Switching Protocols".into(),
        // The export writes header objects with sorted names.
        request_headers: vec![("Accept".into(), "a".into()), ("Host".into(), "x".into())],
        response_headers: vec![("Upgrade".into(), "websocket".into())],
        offered: vec![
            Extension::new("permessage-deflate").with_param("client_max_window_bits", None),
        ],
        accepted: vec![
            Extension::new("permessage-deflate").with_param("server_max_window_bits", Some("10")),
        ],
        bytes_received: 321,
        ..HandshakeInfo::default()
    }));
    vec![
        ev(0, 1, spawned(0, "ws://h/echo")),
        ev(1, 2, spawned(1, "ws://h/overload")),
        ev(2, 1, connecting(1)),
        ev(3, 2, connecting(1)),
        ev(5, 1, hs),
        ev(
            6,
            1,
            EventKind::Open {
                attempt: 1,
                link: Default::default(),
            },
        ),
        ev(
            7,
            2,
            EventKind::Open {
                attempt: 1,
                link: Default::default(),
            },
        ),
        ev(9, 2, close(1013)),
        ev(10, 2, backoff(1, 710)),
        ev(710, 2, connecting(2)),
        ev(
            712,
            2,
            EventKind::Open {
                attempt: 2,
                link: Default::default(),
            },
        ),
        ev(1300, 2, close(1013)),
        ev(1301, 2, backoff(2, 2800)),
        ev(2800, 2, connecting(3)),
        ev(2805, 2, build::error(ErrorKind::Connect, "refused")),
    ]
}

fn namer() -> crate::export::CodeNamer {
    Arc::new(|c: u16| crate::codes::Registry::builtin().name(c))
}

fn write(dir: &tempfile::TempDir, name: &str, events: &[Event]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    let mut w = ExportWriter::create(&path, namer()).expect("create export");
    for e in events {
        w.write(e).expect("write");
    }
    w.flush().expect("flush");
    path
}

fn append(path: &std::path::Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open for append");
    f.write_all(text.as_bytes()).expect("append");
}

#[test]
fn jsonl_and_csv_round_trip_to_the_same_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let events = sample();
    for name in ["run.jsonl", "run.csv"] {
        let rec = load(&write(&dir, name, &events)).expect("loads");
        assert!(rec.warnings.is_empty(), "{name}: {:?}", rec.warnings);
        assert_eq!(rec.events, events, "{name}");
        assert_eq!(
            rec.code_names.get(&1013).map(String::as_str),
            Some("Try Again Later")
        );
    }
}

fn warning(rec: &Recording, kind: WarningKind) -> &Warning {
    rec.warnings
        .iter()
        .find(|w| w.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} warning in {:?}", rec.warnings))
}

/// A refused answer (issue 9) comes back with what arrived of it and why it was refused.
#[test]
fn a_refused_handshake_round_trips() {
    let dir = tempfile::tempdir().expect("tempdir");
    let refused = EventKind::Handshake(Arc::new(HandshakeInfo {
        status: 101,
        status_line: "HTTP/1.1 101 Switching Protocols".into(),
        response_headers: vec![("Upgrade".into(), "websocket".into())],
        bytes_received: 97,
        invalid: Some("malformed HTTP answer: header 'X-Evil' is not valid".into()),
        bad_header: Some("X-Evil".into()),
        ..HandshakeInfo::default()
    }));
    let events = vec![Event {
        ts: DateTime::from_timestamp_millis(1_800_000_000_000).expect("ts"),
        session: 1,
        kind: refused,
    }];
    for name in ["refused.jsonl", "refused.csv"] {
        let rec = load(&write(&dir, name, &events)).expect("loads");
        assert!(rec.warnings.is_empty(), "{name}: {:?}", rec.warnings);
        assert_eq!(rec.events, events, "{name}");
    }
}

#[test]
fn damaged_logs_load_with_one_warning_per_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut events = sample();
    // Two lines a few ms out of order.
    events.swap(2, 3);
    events.swap(5, 6);
    let path = write(&dir, "damaged.jsonl", &events);
    append(
        &path,
        concat!(
            r#"{"ts":"2027-11-26T08:00:20.000Z","session":1,"url":"","event":"teleported","to":"mars"}"#,
            "\n",
            r#"{"ts":"2027-11-26T08:00:20.000Z","session":1,"url":"","event":"teleported"}"#,
            "\n",
            r#"{"ts":"2027-11-26T08:00:21.000Z","session":1,"url":"","event":"paused","paused":true,"why":"x","mood":1}"#,
            "\n",
            "this line is garbage\n",
            r#"{"ts":"2027-11-26T08:00:22.000Z","session":1,"url":"","event":"clo"#
        ),
    );
    let rec = load(&path).expect("loads");
    let kinds: Vec<WarningKind> = rec.warnings.iter().map(|w| w.kind).collect();
    assert_eq!(
        kinds,
        [
            WarningKind::TruncatedLastLine,
            WarningKind::Unreadable,
            WarningKind::UnknownEvent,
            WarningKind::UnknownField,
            WarningKind::OutOfOrder
        ]
    );
    let ooo = warning(&rec, WarningKind::OutOfOrder);
    assert_eq!(
        (ooo.count, ooo.first_line, ooo.example.as_str()),
        (2, 4, "1 ms")
    );
    let unknown = warning(&rec, WarningKind::UnknownEvent);
    assert_eq!((unknown.count, unknown.first_line), (2, 16));
    assert!(unknown.example.contains("teleported"));
    let field = warning(&rec, WarningKind::UnknownField);
    // "why" is a known field (of `ended`); only "mood" is new.
    assert_eq!((field.count, field.first_line), (1, 18));
    assert!(field.example.contains("mood"));
    assert_eq!(warning(&rec, WarningKind::Unreadable).first_line, 19);
    assert_eq!(warning(&rec, WarningKind::TruncatedLastLine).first_line, 20);
    // Everything readable loaded, in time order.
    assert_eq!(rec.events.len(), sample().len() + 1);
    assert!(rec.events.windows(2).all(|w| w[0].ts <= w[1].ts));
    assert_eq!(&rec.events[..sample().len()], &sample()[..]);
    let text = warning(&rec, WarningKind::OutOfOrder).to_string();
    assert_eq!(
        text,
        "2 lines out of time order (by up to 1 ms), first at line 4; sorted by time"
    );
}

#[test]
fn a_cut_off_csv_row_is_a_truncated_last_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(&dir, "run.csv", &sample());
    let full = std::fs::read_to_string(&path).expect("read");
    let cut = &full[..full.len() - 12];
    std::fs::write(&path, cut).expect("write");
    let rec = load(&path).expect("loads");
    assert_eq!(rec.events.len(), sample().len() - 1);
    assert_eq!(
        rec.warnings.iter().map(|w| w.kind).collect::<Vec<_>>(),
        [WarningKind::TruncatedLastLine]
    );
}

#[test]
fn foreign_files_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("notes.jsonl", "hello world\n"),
        ("other.jsonl", "{\"level\":\"info\",\"msg\":\"started\"}\n"),
        ("sheet.csv", "name,age\nann,3\n"),
    ];
    for (name, text) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        match load(&path) {
            Err(LoadError::NotAnExport { line: 1, .. }) => {}
            other => panic!("{name}: {other:?}"),
        }
    }
    let path = dir.path().join("x.txt");
    std::fs::write(&path, "").expect("write");
    assert!(matches!(load(&path), Err(LoadError::UnknownFormat { .. })));
}

/// The store fed live-style: events in order, a tick at each second boundary.
fn live_store(events: &[Event], at: DateTime<Utc>) -> crate::state::snapshot::Snapshot {
    let mut store = Store::new(None, Arc::new(std::sync::atomic::AtomicU64::new(0)));
    let mut last = events[0].ts.timestamp();
    for e in events.iter().filter(|e| e.ts <= at) {
        while e.ts.timestamp() > last {
            last += 1;
            store.tick(DateTime::from_timestamp(last, 0).expect("second"));
        }
        store.apply(e);
    }
    while at.timestamp() > last {
        last += 1;
        store.tick(DateTime::from_timestamp(last, 0).expect("second"));
    }
    store.snapshot(at)
}

fn same(a: &crate::state::snapshot::Snapshot, b: &crate::state::snapshot::Snapshot) {
    assert_eq!(a.now, b.now);
    assert_eq!(a.sessions, b.sessions);
    assert_eq!(a.totals, b.totals);
    assert_eq!(a.storm, b.storm);
    assert_eq!(a.targets, b.targets);
}

#[test]
fn seeking_anywhere_in_any_order_gives_the_state_of_a_straight_run() {
    // Many events so that several checkpoints exist.
    let mut events = Vec::new();
    for s in 0..50u64 {
        events.push(ev(s as i64, s, spawned(0, "ws://h/")));
    }
    let mut t = 100i64;
    for round in 0..400u32 {
        for s in 0..50u64 {
            t += 1;
            let kind = match round % 3 {
                0 => connecting(round + 1),
                1 => EventKind::Open {
                    attempt: round,
                    link: Default::default(),
                },
                _ => closed(1013, Initiator::Server),
            };
            events.push(ev(t, s, kind));
        }
    }
    let rec = Arc::new(Recording {
        path: "mem.jsonl".into(),
        format: crate::export::Format::Jsonl,
        events: events.clone(),
        code_names: Default::default(),
        warnings: Vec::new(),
    });
    let mut cursor = ReplayCursor::new(rec);
    assert!(cursor.checkpoints_len() > 2);
    let end = events.last().expect("events").ts;
    let times = [
        ts(15_000),
        ts(50),
        end,
        ts(9_999),
        ts(10_000),
        ts(200),
        ts(20_033),
        ts(0),
    ];
    for at in times {
        cursor.seek(at);
        same(&cursor.snapshot(), &live_store(&events, at));
    }
    // Stepping and playing land on the same states.
    cursor.seek(ts(0));
    cursor.step(TimeDelta::seconds(3));
    same(&cursor.snapshot(), &live_store(&events, ts(3000)));
    cursor.play_tick(Speed::X10, std::time::Duration::from_millis(150));
    same(&cursor.snapshot(), &live_store(&events, ts(4500)));
    while !cursor.play_tick(Speed::Max, std::time::Duration::from_millis(100)) {}
    same(&cursor.snapshot(), &live_store(&events, end));
}

#[test]
fn next_close_and_next_burst() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut events = sample();
    // A herd of 20 attempts in second 5.
    for s in 10..30u64 {
        events.push(ev(4000 + s as i64, s, spawned(2, "ws://h/herd")));
    }
    for s in 10..30u64 {
        events.push(ev(5000 + s as i64, s, connecting(1)));
    }
    events.push(ev(9000, 1, EventKind::Paused { paused: true }));
    let rec = Arc::new(load(&write(&dir, "b.jsonl", &events)).expect("loads"));
    let mut cursor = ReplayCursor::new(rec);
    assert_eq!(cursor.next_close(1013), Some(ts(9)));
    assert_eq!(cursor.snapshot().totals.closes_by_code.get(&1013), Some(&1));
    assert_eq!(cursor.next_close(1013), Some(ts(1300)), "the one after");
    assert_eq!(cursor.next_close(1010), None);
    assert_eq!(cursor.next_burst(), Some(ts(6000)));
    let snap = cursor.snapshot();
    assert_eq!(snap.storm.seconds.back().map(|s| s.attempts), Some(20));
    let s2 = &snap.sessions[snap.index_of(2).expect("session 2")];
    assert_eq!(s2.state, SessionState::Closed);
    assert_eq!(cursor.next_burst(), None);
}

/// The conversation events (issue 20) come back as they were recorded, captured secrets
/// already redacted by the writer.
#[test]
fn conversation_events_round_trip() {
    use crate::engine::events::{LatencySource, ScriptEvent, ScriptPhase};
    let dir = tempfile::tempdir().expect("tempdir");
    let script = |phase, last: Option<&str>, captured: Vec<(String, String)>| {
        EventKind::Script(Arc::new(ScriptEvent {
            step: 2,
            steps: 3,
            phase,
            what: "expect {\"type\":\"connection_ack\"} within 5s".into(),
            last: last.map(str::to_string),
            captured,
        }))
    };
    let events = vec![
        ev(0, 1, script(ScriptPhase::Started, None, vec![])),
        ev(
            5,
            1,
            script(
                ScriptPhase::Matched,
                None,
                vec![("user".into(), "ada, 7".into())],
            ),
        ),
        ev(
            9,
            1,
            EventKind::Latency {
                us: 23_456,
                source: LatencySource::Rpc,
                step: 2,
            },
        ),
        ev(
            10,
            1,
            script(ScriptPhase::TimedOut, Some("{\"type\":\"x\"}"), vec![]),
        ),
        ev(20, 1, EventKind::Stale { silent_ms: 3000 }),
        ev(30, 1, EventKind::Fresh { silent_ms: 4210 }),
    ];
    for name in ["talk.jsonl", "talk.csv"] {
        let rec = load(&write(&dir, name, &events)).expect("loads");
        assert!(rec.warnings.is_empty(), "{name}: {:?}", rec.warnings);
        assert_eq!(rec.events, events, "{name}");
    }
    // A captured value whose name is secret never reaches the file.
    let secret = vec![ev(
        0,
        1,
        script(
            ScriptPhase::Matched,
            None,
            vec![("token".into(), "s3cr3t-value".into())],
        ),
    )];
    let path = write(&dir, "secret.jsonl", &secret);
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(!text.contains("s3cr3t-value"), "{text}");
}
