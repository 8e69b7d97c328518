//! `wsmon replay` without a screen, run as a user would: `--at`, `--from/--to --export`,
//! damaged logs and foreign files.

use std::sync::Arc;

use assert_cmd::Command;
use chrono::{DateTime, TimeDelta, Utc};
use predicates::prelude::*;
use wsmon::engine::events::{
    BackoffInfo, Cause, CloseInfo, DelayKind, Event, EventKind, Initiator, Jitter,
};
use wsmon::export::ExportWriter;

fn ts(ms: i64) -> DateTime<Utc> {
    // 2026-11-25T19:20:17Z
    DateTime::<Utc>::from_timestamp(1_795_634_417, 0).expect("valid timestamp")
        + TimeDelta::milliseconds(ms)
}

/// s1 opens and stays open; s2 is closed with 1013 twice and waits for its third attempt.
fn recording(path: &std::path::Path) {
    let namer = Arc::new(|c: u16| wsmon::codes::Registry::builtin().name(c));
    let mut w = ExportWriter::create(path, namer).expect("create export");
    let close = || {
        EventKind::Closed(CloseInfo {
            code: 1013,
            reason: "busy".into(),
            initiator: Initiator::Server,
            clean: true,
            uptime_ms: Some(2),
            peer_code: None,
            why: None,
        })
    };
    let backoff = |attempt, delay: i64, at: i64| {
        EventKind::Backoff(BackoffInfo {
            attempt,
            cause: Cause::Close { code: 1013 },
            kind: DelayKind::Backoff,
            window_ms: 2000,
            delay_ms: delay as u64,
            retry_after_ms: None,
            jitter: Jitter::Full,
            next_attempt_at: ts(at),
        })
    };
    let events = [
        (
            0,
            1,
            EventKind::Spawned {
                target: 0,
                index: 0,
                url: "ws://h/echo".into(),
            },
        ),
        (
            0,
            2,
            EventKind::Spawned {
                target: 1,
                index: 0,
                url: "ws://h/overload".into(),
            },
        ),
        (
            1,
            1,
            EventKind::Connecting {
                attempt: 1,
                slot_wait_ms: 0,
                link: Default::default(),
            },
        ),
        (
            1,
            2,
            EventKind::Connecting {
                attempt: 1,
                slot_wait_ms: 0,
                link: Default::default(),
            },
        ),
        (
            5,
            1,
            EventKind::Open {
                attempt: 1,
                link: Default::default(),
            },
        ),
        (
            5,
            2,
            EventKind::Open {
                attempt: 1,
                link: Default::default(),
            },
        ),
        (7, 2, close()),
        (8, 2, backoff(1, 900, 908)),
        (
            908,
            2,
            EventKind::Connecting {
                attempt: 2,
                slot_wait_ms: 0,
                link: Default::default(),
            },
        ),
        (
            910,
            2,
            EventKind::Open {
                attempt: 2,
                link: Default::default(),
            },
        ),
        (912, 2, close()),
        (913, 2, backoff(2, 1500, 2413)),
        (
            2413,
            2,
            EventKind::Connecting {
                attempt: 3,
                slot_wait_ms: 0,
                link: Default::default(),
            },
        ),
        (
            2415,
            2,
            EventKind::Open {
                attempt: 3,
                link: Default::default(),
            },
        ),
        (4000, 1, EventKind::Paused { paused: true }),
    ];
    for (ms, session, kind) in events {
        w.write(&Event {
            ts: ts(ms),
            session,
            kind,
        })
        .expect("write");
    }
    w.flush().expect("flush");
}

fn wsmon() -> Command {
    Command::cargo_bin("wsmon").expect("binary")
}

#[test]
fn at_prints_the_state_at_a_clock_time_or_an_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.jsonl");
    recording(&path);
    for at in ["+1.5s", "19:20:18.500", "2026-11-25T19:20:18.5Z"] {
        wsmon()
            .args(["replay", "--at", at])
            .arg(&path)
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "At 2026-11-25T19:20:18.500Z (+1.5 s from the start; 12 of 15 events)",
            ))
            .stdout(predicate::str::contains("Sessions: 2"))
            .stdout(predicate::str::is_match(r"open\s+1\n").expect("regex"))
            .stdout(predicate::str::is_match(r"waiting\s+1\n").expect("regex"))
            .stdout(predicate::str::is_match(r"1013 Try Again Later\s+2\n").expect("regex"))
            .stdout(predicate::str::contains(
                "s2      attempt 3    at 2026-11-25T19:20:19.413Z (in 0.9 s)  after close 1013 Try Again Later",
            ));
    }
    // Outside the recording, or not a time: usage errors.
    wsmon()
        .args(["replay", "--at", "+1h"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("outside the recording"));
    wsmon()
        .args(["replay", "--at", "teatime"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid time"));
}

#[test]
fn from_to_export_writes_a_slice_that_replays_on_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.jsonl");
    recording(&path);
    let out = dir.path().join("slice.csv");
    wsmon()
        .args(["replay", "--from", "+0.9s", "--to", "+2.5s", "--export"])
        .arg(&out)
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote 7 events"));
    let slice = wsmon::runtime::replay::load(&out).expect("the slice loads");
    assert!(slice.warnings.is_empty(), "{:?}", slice.warnings);
    // s2's spawned line is carried over; s1 has no event in the window.
    let names: Vec<&str> = slice.events.iter().map(|e| e.kind.name()).collect();
    assert_eq!(
        names,
        [
            "spawned",
            "connecting",
            "open",
            "closed",
            "backoff",
            "connecting",
            "open"
        ]
    );
    assert_eq!(slice.events.len(), 7);
    assert!(slice.events.iter().all(|e| e.session == 2));
    // The summary of the window, and of the slice file, say the same counts.
    wsmon()
        .args(["replay", "--summary", "--from", "+0.9s", "--to", "+2.5s"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("Events: 6"))
        .stdout(predicate::str::contains("Connection attempts: 2"));
    wsmon()
        .args(["replay"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("Events: 7"))
        .stdout(predicate::str::contains("1013 Try Again Later"));
}

#[test]
fn damaged_logs_warn_once_per_kind_and_foreign_files_exit_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.jsonl");
    recording(&path);
    let mut text = std::fs::read_to_string(&path).expect("read");
    text.push_str(
        "{\"ts\":\"2026-11-25T19:20:22.000Z\",\"session\":1,\"url\":\"\",\"event\":\"warped\"}\n",
    );
    text.push_str(
        "{\"ts\":\"2026-11-25T19:20:23.000Z\",\"session\":1,\"url\":\"\",\"event\":\"pau",
    );
    std::fs::write(&path, text).expect("write");
    wsmon()
        .args(["replay"])
        .arg(&path)
        .assert()
        .success()
        .stderr(predicate::str::contains("last line 17 is cut off"))
        .stderr(predicate::str::contains(
            "1 event of unknown type skipped, first at line 16 (\"warped\")",
        ))
        .stderr(predicate::function(|s: &str| s.lines().count() == 2))
        .stdout(predicate::str::contains("Events: 15"));

    let foreign = dir.path().join("access.jsonl");
    std::fs::write(&foreign, "{\"level\":\"info\"}\n").expect("write");
    wsmon()
        .args(["replay"])
        .arg(&foreign)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a wsmon export"));
    let sheet = dir.path().join("sheet.csv");
    std::fs::write(&sheet, "a,b\n1,2\n").expect("write");
    wsmon()
        .args(["replay", "--at", "+1s"])
        .arg(&sheet)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a wsmon export"));
}
