//! End to end: record a short run (`wsmon demo --headless --duration 4s --export f.jsonl`, the
//! scenario server in-process), open `wsmon replay f.jsonl` in a real terminal (tmux) and drive
//! the time cursor with keys as a user would: the header shows REPLAY, the file and the recorded
//! time, which moves with Space (play), Right (+1 s), G (the end) and `:+2s`; an operator key is
//! refused; q quits cleanly.
//!
//! tmux is installed by `tests/peers/install.sh`. If it is missing, the test fails and says so.

use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

mod common;

use common::tmux::{POLL, Tmux};

/// The header's cursor: `(+0m02s of 0m04s)` -> ("0m02s", "0m04s").
fn position(screen: &str) -> (String, String) {
    let first = screen.lines().next().unwrap_or_default();
    let at = first
        .find("(+")
        .unwrap_or_else(|| panic!("no cursor in the header: {first}"));
    let rest = &first[at + 2..];
    let close = rest.find(')').expect("closing parenthesis");
    let mut parts = rest[..close].split(" of ");
    (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default().to_string(),
    )
}

/// The recorded wall-clock time in the header (`14:03:12Z`).
fn clock(screen: &str) -> String {
    let first = screen.lines().next().unwrap_or_default();
    let at = first.find("(+").expect("cursor");
    first[..at]
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn replay_opens_the_tui_and_keys_move_the_time_cursor() {
    let bin = Path::new(env!("CARGO_BIN_EXE_wsmon"));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("f.jsonl");
    let file_arg = file.to_str().expect("UTF-8 path");
    let rec = Command::new(bin)
        .args([
            "demo",
            "--headless",
            "--duration",
            "4s",
            "--export",
            file_arg,
        ])
        .output()
        .expect("wsmon demo runs");
    assert!(
        rec.status.success(),
        "{}",
        String::from_utf8_lossy(&rec.stderr)
    );

    let tmux = Tmux::start(dir.path(), bin, &["replay", file_arg]);
    let screen = tmux.wait_for("the replay header", Duration::from_secs(20), |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.contains("REPLAY") && l.contains("(+"))
    });
    let header = screen.lines().next().unwrap_or_default().to_string();
    assert!(header.contains("f.jsonl"), "the file name: {header}");
    let (at, length) = position(&screen);
    assert_eq!(at, "0m00s", "{header}");
    let t0 = clock(&screen);

    tmux.keys(&["Right"]);
    let screen = tmux.wait_for("+1 s", Duration::from_secs(5), |s| position(s).0 == "0m01s");
    assert_ne!(clock(&screen), t0, "the recorded time moved");

    tmux.keys(&["G"]);
    tmux.wait_for("the end", Duration::from_secs(5), |s| {
        position(s).0 == length
    });

    tmux.keys(&[":"]);
    tmux.text("+2s");
    tmux.keys(&["Enter"]);
    tmux.wait_for("+2 s", Duration::from_secs(5), |s| position(s).0 == "0m02s");

    tmux.keys(&["Space"]);
    tmux.wait_for("playing", Duration::from_secs(5), |s| {
        s.lines().next().is_some_and(|l| l.contains("▶"))
    });
    tmux.keys(&["Space"]);
    let screen = tmux.wait_for("paused", Duration::from_secs(5), |s| {
        s.lines().next().is_some_and(|l| l.contains("⏸"))
    });
    let (paused_at, _) = position(&screen);
    assert!(
        paused_at.as_str() >= "0m02s",
        "played on from +2s: {paused_at}"
    );

    tmux.keys(&["R"]);
    tmux.wait_for("the refusal", Duration::from_secs(5), |s| {
        s.contains("replay: nothing is sent")
    });

    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = tmux.exit_status() {
            assert_eq!(status, 0, "wsmon replay exits cleanly:\n{}", tmux.screen());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no exit after q:\n{}",
            tmux.screen()
        );
        sleep(POLL);
    }
}
