//! The real binary under a hostile environment: a low open-files limit (at start and mid-run),
//! a server that never answers the close at shutdown, a session whose task panics, and a full
//! export file system (a file-size limit on the child, or a small tmpfs).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

fn wsmon() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wsmon"));
    c.env("NO_COLOR", "1").env_remove("WSMON_LOG");
    c
}

/// The binary run through `sh` with `ulimit` lines first (a real limit in the child only).
fn wsmon_limited(ulimits: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("{ulimits}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_wsmon"))
        .env("NO_COLOR", "1")
        .env_remove("WSMON_LOG");
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The export, one JSON object per line, grouped by session (in order).
fn stories(path: &Path) -> BTreeMap<u64, Vec<Value>> {
    let body = std::fs::read_to_string(path).expect("export readable");
    let mut by: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    for line in body.lines() {
        let v: Value = serde_json::from_str(line).expect("each line is JSON");
        let s = v["session"].as_u64().expect("session id");
        by.entry(s).or_default().push(v);
    }
    by
}

fn events<'a>(story: &'a [Value], name: &str) -> Vec<&'a Value> {
    story.iter().filter(|e| e["event"] == name).collect()
}

/// The scenario server in this process (the child wsmon is another process).
fn scenario_server() -> (tokio::runtime::Runtime, wsmon::server::ServerHandle) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt
        .block_on(wsmon::server::start("127.0.0.1:0"))
        .expect("server");
    (rt, server)
}

#[test]
fn more_sessions_than_the_open_files_limit_exit_2_before_starting() {
    let started = Instant::now();
    let out = wsmon_limited("ulimit -n 100")
        .args(["watch", "--headless", "--duration", "5s", "-n", "80"])
        .arg("ws://127.0.0.1:1/")
        .output()
        .expect("runs");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "it did not start"
    );
    for needle in [
        "80 sessions",
        "open-files limit is 100",
        "ulimit -n",
        "LimitNOFILE",
        "limits.conf",
    ] {
        assert!(err.contains(needle), "{needle:?} missing in: {err}");
    }
    assert!(out.stdout.is_empty(), "no summary: nothing ran");
    // The same count fits a limit with room for it.
    let out = wsmon_limited("ulimit -n 400")
        .args(["watch", "--headless", "--duration", "500ms", "-n", "80"])
        .arg("ws://127.0.0.1:1/")
        .output()
        .expect("runs");
    // It starts (nothing listens on port 1, so no session opens: exit 1, not the usage exit 2).
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no session opened"), "{err}");
    assert!(!err.contains("ulimit"), "{err}");
}

#[test]
fn descriptors_running_out_mid_run_are_resource_errors_that_back_off() {
    let (rt, server) = scenario_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("fds.jsonl");
    let sessions = 30;
    let out = wsmon_limited("ulimit -n 200")
        // After the start-up check passes, the test hook leaves only 16 descriptors free.
        .env("WSMON_TEST_LEAVE_FDS", "16")
        .args([
            "watch",
            "--headless",
            "--duration",
            "3s",
            "--jitter",
            "none",
        ])
        .args(["--backoff-base", "100ms", "--ping-interval", "0"])
        .args(["-n", &sessions.to_string(), "--export"])
        .arg(&export)
        .arg(server.url("/echo"))
        .output()
        .expect("runs");
    rt.block_on(server.shutdown());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {err}");
    let by = stories(&export);
    assert_eq!(by.len(), sessions);
    let opened = by
        .values()
        .filter(|s| !events(s, "open").is_empty())
        .count();
    let starved: Vec<_> = by
        .values()
        .filter(|s| events(s, "error").iter().any(|e| e["kind"] == "resource"))
        .collect();
    assert!(opened > 0, "some sessions fit");
    assert!(!starved.is_empty(), "some sessions found no descriptor");
    let mut attempts = 0;
    for story in &starved {
        let errors = events(story, "error");
        assert!(
            errors[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("Too many open files")),
            "{errors:?}"
        );
        // Exponential windows, each retry caused by the resource error: a backoff, not a spin.
        let windows: Vec<u64> = events(story, "backoff")
            .iter()
            .filter(|b| b["cause"]["kind"] == "resource")
            .map(|b| b["window_ms"].as_u64().expect("window"))
            .collect();
        assert!(windows.len() >= 2, "{windows:?}");
        assert!(windows.windows(2).all(|w| w[1] > w[0]), "{windows:?}");
        let n = events(story, "connecting").len();
        assert!(n <= 8, "{n} attempts in 3 s is a spin");
        attempts += n;
    }
    assert!(
        err.contains("resource errors"),
        "status lines say so: {err}"
    );
    let summary = text(&out.stdout);
    assert!(summary.contains("resource x"), "{summary}");
    eprintln!(
        "fd exhaustion: {sessions} sessions, {opened} opened, {} starved, {attempts} attempts by \
         starved sessions in 3 s",
        starved.len()
    );
}

/// A WebSocket server that upgrades every connection and then reads and ignores everything:
/// it never answers a close frame.
fn deaf_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                let mut key = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("sec-websocket-key")
                    {
                        key = v.trim().to_string();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let accept =
                    tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
                let answer = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                     Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
                );
                if conn.write_all(answer.as_bytes()).is_err() {
                    return;
                }
                let mut sink = [0u8; 4096];
                while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
            });
        }
    });
    addr
}

#[test]
fn shutdown_ends_about_a_second_after_the_deadline_and_every_story_ends() {
    let (rt, server) = scenario_server();
    let deaf = deaf_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("shutdown.jsonl");
    let started = Instant::now();
    let out = wsmon()
        .args(["watch", "--headless", "--duration", "2s", "-n", "2"])
        .args(["--ping-interval", "0", "--export"])
        .arg(&export)
        // Open, and never answers the 1001 close.
        .arg(format!("ws://{deaf}/"))
        // Handshaking forever.
        .arg(server.url("/stall"))
        // Refused: waiting for the next attempt.
        .arg("ws://127.0.0.1:1/")
        .output()
        .expect("runs");
    let took = started.elapsed();
    rt.block_on(server.shutdown());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        took < Duration::from_secs(4),
        "2 s run took {took:?}: the close wait must be about --close-timeout (1 s)"
    );
    let by = stories(&export);
    assert_eq!(by.len(), 6);
    let mut last_events = BTreeMap::new();
    for (id, story) in &by {
        let last = story.last().expect("a story");
        let name = last["event"].as_str().expect("event").to_string();
        assert!(
            name == "closed" || name == "ended",
            "session {id} ends with {last}"
        );
        if name == "ended" {
            assert_eq!(last["cause"]["type"], "shutdown", "{last}");
            assert!(last["why"].as_str().is_some_and(|w| w.contains("stopped")));
        } else {
            assert!(
                !events(story, "closing")
                    .iter()
                    .filter(|c| c["code"] == 1001 && c["initiator"] == "client")
                    .collect::<Vec<_>>()
                    .is_empty(),
                "session {id}: 1001 sent: {story:?}"
            );
        }
        *last_events.entry(name).or_insert(0) += 1;
    }
    // The deaf sessions closed (after their 1001 went unanswered), the others ended.
    assert_eq!(last_events.get("closed"), Some(&2), "{last_events:?}");
    assert_eq!(last_events.get("ended"), Some(&4), "{last_events:?}");
    // The summary keeps the state each session was in when wsmon stopped. The refused ones
    // are waiting for their next attempt, or (when a retry was due right at the stop) in it.
    let summary = text(&out.stdout);
    let line = summary
        .lines()
        .find_map(|l| l.strip_prefix("sessions by final state: "))
        .unwrap_or_else(|| panic!("no final states: {summary}"));
    let count = |state: &str| -> u32 {
        let words: Vec<&str> = line.split_whitespace().collect();
        words
            .windows(2)
            .find(|w| w[0] == state)
            .map_or(0, |w| w[1].parse().expect("a count"))
    };
    assert_eq!((count("handshaking"), count("closed")), (2, 2), "{summary}");
    assert_eq!(
        count("waiting") + count("connecting"),
        2,
        "the refused sessions: {summary}"
    );
    eprintln!("shutdown: a 2 s run with a deaf server took {took:?}");
}

#[test]
fn a_panicking_session_is_recorded_and_the_others_go_on() {
    let (rt, server) = scenario_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("panic.jsonl");
    let out = wsmon()
        .env("WSMON_TEST_PANIC_SESSION", "2")
        .args(["watch", "--headless", "--duration", "1500ms", "-n", "3"])
        .args(["--ping-interval", "0", "--export"])
        .arg(&export)
        .arg(server.url("/echo"))
        .output()
        .expect("runs");
    rt.block_on(server.shutdown());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let by = stories(&export);
    assert_eq!(by.len(), 3);
    let two = &by[&2];
    let error = events(two, "error");
    assert_eq!(error.len(), 1, "{two:?}");
    assert_eq!(error[0]["kind"], "internal");
    assert!(
        error[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("panicked") && m.contains("on purpose")),
        "{error:?}"
    );
    let last = two.last().expect("story");
    assert_eq!(last["event"], "ended", "{last}");
    assert_eq!(last["cause"]["kind"], "internal", "{last}");
    for id in [1, 3] {
        let story = &by[&id];
        assert_eq!(events(story, "open").len(), 1, "session {id} went on");
        let last = story.last().expect("story");
        assert_eq!(last["event"], "closed");
        assert_eq!(last["code"], 1001);
    }
    assert!(
        text(&out.stdout).contains("internal x1"),
        "summary counts it"
    );
}

/// A headless run whose export hits a full file system (or a file-size limit) early: it must
/// stop at once with a clear message and exit status 3, the file holding every event up to the
/// failure, each whole.
fn export_failure_stops_headless(mut cmd: Command, export: &Path, expect_error: &str) {
    let (rt, server) = scenario_server();
    let started = Instant::now();
    let out = cmd
        .args(["watch", "--headless", "--duration", "20s", "-n", "400"])
        .args(["--ping-interval", "0", "--export"])
        .arg(export)
        .arg(server.url("/echo"))
        .output()
        .expect("runs");
    let took = started.elapsed();
    rt.block_on(server.shutdown());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {err}");
    assert!(
        took < Duration::from_secs(10),
        "a 20 s run must stop at the failure, took {took:?}"
    );
    let line = err
        .lines()
        .find(|l| l.starts_with("wsmon: EXPORT FAILED"))
        .unwrap_or_else(|| panic!("no EXPORT FAILED line in: {err}"));
    assert!(line.contains(expect_error), "{line}");
    assert!(line.contains("exit status 3"), "{line}");
    // "the file holds the first N events": every one whole, in the file.
    let n: usize = line
        .split("holds the first ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no event count in: {line}"));
    let body = std::fs::read_to_string(export).expect("export readable");
    assert!(body.is_empty() || body.ends_with('\n'), "no cut line");
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a whole JSON event"))
        .collect();
    assert_eq!(lines.len(), n, "the message counts the events in the file");
    assert!(n > 0, "events before the failure were written");
    assert_eq!(lines[0]["event"], "spawned");
    eprintln!(
        "export failure ({expect_error}): stopped after {took:?}, {n} events ({} bytes) kept",
        body.len()
    );
}

#[test]
fn a_file_size_limit_on_the_export_stops_headless_with_status_3() {
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("full.jsonl");
    // 64 blocks of 512 bytes: a 32 KiB file-size limit on the child only (SIGXFSZ is ignored
    // by wsmon, so the write fails with EFBIG instead of killing it).
    export_failure_stops_headless(wsmon_limited("ulimit -f 64"), &export, "File too large");
    assert!(std::fs::metadata(&export).expect("meta").len() <= 32 * 1024);
}

/// A tmpfs of 256 KiB: a real full disk (ENOSPC). Needs root (mount); skipped, saying why,
/// otherwise.
#[test]
fn a_full_disk_under_the_export_stops_headless_with_status_3() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).expect("mount point");
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "size=256k",
            "wsmon-test",
            mnt.to_str().expect("utf-8"),
        ])
        .output();
    match mounted {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            eprintln!(
                "SKIPPED: cannot mount a small tmpfs: {}",
                text(&o.stderr).trim()
            );
            return;
        }
        Err(e) => {
            eprintln!("SKIPPED: cannot run mount: {e}");
            return;
        }
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&mnt);
    let export = mnt.join("full.jsonl");
    export_failure_stops_headless(wsmon(), &export, "No space left on device");
}
