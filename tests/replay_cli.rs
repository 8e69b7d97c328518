//! `wsmon replay FILE.jsonl` run as a user would: the real binary on a real export.

use std::sync::Arc;

use assert_cmd::Command;
use chrono::{DateTime, TimeDelta, Utc};
use predicates::prelude::*;
use wsmon::engine::events::{
    BackoffInfo, Cause, CloseInfo, DelayKind, Event, EventKind, Initiator, Jitter,
};
use wsmon::export::ExportWriter;

fn ts(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_795_634_417, 0).expect("valid timestamp")
        + TimeDelta::milliseconds(ms)
}

#[test]
fn replay_prints_a_summary_of_an_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.jsonl");
    let namer = Arc::new(|code: u16| {
        if code == 1013 {
            "Try Again Later".to_string()
        } else {
            format!("code {code}")
        }
    });
    let mut w = ExportWriter::create(&path, namer).expect("create export");
    let kinds = [
        EventKind::Spawned {
            target: 0,
            index: 0,
            url: "ws://user:pw-secret@127.0.0.1:9/overload".into(),
        },
        EventKind::Connecting {
            attempt: 1,
            slot_wait_ms: 0,
        },
        EventKind::Open { attempt: 1 },
        EventKind::Closed(CloseInfo {
            code: 1013,
            reason: "busy".into(),
            initiator: Initiator::Server,
            clean: true,
            uptime_ms: Some(2),
            peer_code: None,
            why: None,
        }),
        EventKind::Backoff(BackoffInfo {
            attempt: 4,
            cause: Cause::Close { code: 1013 },
            kind: DelayKind::Backoff,
            window_ms: 8000,
            delay_ms: 5500,
            retry_after_ms: None,
            jitter: Jitter::Full,
            next_attempt_at: ts(5600),
        }),
    ];
    for (i, kind) in kinds.into_iter().enumerate() {
        w.write(&Event {
            ts: ts(i as i64 * 25),
            session: 3,
            kind,
        })
        .expect("write");
    }
    w.flush().expect("flush");

    Command::cargo_bin("wsmon")
        .expect("binary")
        .args(["replay"])
        .arg(&path)
        .assert()
        .success()
        .stdout(predicate::str::contains("Events: 5 over 0.1 s"))
        .stdout(predicate::str::contains("Sessions: 1"))
        .stdout(predicate::str::contains("1013 Try Again Later"))
        .stdout(predicate::str::contains(
            "Largest backoff attempt: 4 (longest delay 5.5 s)",
        ))
        .stdout(predicate::str::contains("pw-secret").not());
}

#[test]
fn replay_of_a_broken_file_names_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken.jsonl");
    std::fs::write(
        &path,
        "{\"event\":\"open\",\"session\":1}\n{\"event\": tru\n",
    )
    .expect("write");
    Command::cargo_bin("wsmon")
        .expect("binary")
        .arg("replay")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "broken.jsonl: not a wsmon export (line 1: \"open\" event without \"ts\")",
        ));
}
