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
            link: Default::default(),
        },
        EventKind::Open {
            attempt: 1,
            link: Default::default(),
        },
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

/// A small valid recording (spawned at +0 s, an attempt at +10 s) in `dir`.
fn small(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("small.jsonl");
    std::fs::write(
        &path,
        concat!(
            "{\"ts\":\"2026-11-25T14:00:00Z\",\"session\":1,\"event\":\"spawned\",\"target\":0,\"index\":0,\"url\":\"ws://h/\"}\n",
            "{\"ts\":\"2026-11-25T14:00:10Z\",\"session\":1,\"event\":\"connecting\",\"attempt\":1}\n",
        ),
    )
    .expect("write");
    path
}

fn replay(args: &[&std::ffi::OsStr]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("wsmon")
        .expect("binary")
        .arg("replay")
        .args(args)
        .timeout(std::time::Duration::from_secs(30))
        .assert()
}

/// stderr holds `needle` exactly once.
fn once(needle: &'static str) -> impl predicates::Predicate<str> {
    predicate::function(move |s: &str| s.matches(needle).count() == 1)
}

#[test]
fn a_missing_file_is_a_usage_error_said_once() {
    replay(&["/nope.jsonl".as_ref()])
        .code(2)
        .stderr(once("No such file or directory"))
        .stderr(predicate::str::contains("/nope.jsonl"));
}

#[test]
fn a_directory_is_a_usage_error_said_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path().join("logs.jsonl");
    std::fs::create_dir(&d).expect("mkdir");
    replay(&[d.as_os_str()])
        .code(2)
        .stderr(once("logs.jsonl"))
        .stderr(predicate::str::contains("not a regular file"));
}

#[test]
fn an_export_with_an_unknown_extension_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small(&dir);
    let out = dir.path().join("out.txt");
    replay(&["--export".as_ref(), out.as_os_str(), path.as_os_str()])
        .code(2)
        .stderr(once("out.txt"));
    assert!(!out.exists(), "nothing written");
}

#[test]
fn from_after_to_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small(&dir);
    replay(&[
        "--from".as_ref(),
        "+8s".as_ref(),
        "--to".as_ref(),
        "+2s".as_ref(),
        path.as_os_str(),
    ])
    .code(2)
    .stderr(predicate::str::contains("--from"))
    .stderr(predicate::str::contains("after --to"));
}

#[test]
fn times_before_the_end_are_accepted_as_separate_arguments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small(&dir);
    // The form the README documents: `--at -10s`, not only `--at=-10s`.
    replay(&["--at".as_ref(), "-10s".as_ref(), path.as_os_str()])
        .success()
        .stdout(predicate::str::contains("At 2026-11-25T14:00:00"));
    replay(&[
        "--from".as_ref(),
        "-5s".as_ref(),
        "--to".as_ref(),
        "-0s".as_ref(),
        path.as_os_str(),
    ])
    .success()
    .stdout(predicate::str::contains("small.jsonl"));
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = small(&dir);
    // The reader is gone before wsmon writes: every write meets a broken pipe (`| head` that
    // already quit).
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("wsmon"))
        .arg("replay")
        .arg(&path)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn top_level_help_says_replay_opens_a_tui_on_a_terminal() {
    let out = Command::cargo_bin("wsmon")
        .expect("binary")
        .arg("--help")
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("replay"))
        .unwrap_or_else(|| panic!("no replay line in:\n{text}"));
    assert!(line.contains("TUI"), "{line}");
    assert!(text.contains("on a terminal"), "{text}");
}
