//! SIGTERM, SIGHUP and SIGINT sent with `kill` to the real TUI in a real terminal (tmux): each
//! is handled like `q`. Open sessions close with 1001 (in the export), and the terminal is back
//! to normal: alternate screen left, mouse reporting off, the program's last line visible.
//! And panics: a session's stays in its session, the UI's restores the terminal.
//!
//! tmux is installed by `tests/peers/install.sh`; if it is missing the test fails and says so.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::tmux::Tmux;

/// Run wsmon with `args` in a real terminal.
fn start(dir: &std::path::Path, args: &[&str]) -> Tmux {
    Tmux::start(dir, std::path::Path::new(env!("CARGO_BIN_EXE_wsmon")), args)
}

#[test]
fn term_hup_and_int_are_handled_like_q() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt
        .block_on(wsmon::server::start("127.0.0.1:0"))
        .expect("server");
    let url = server.url("/echo");
    for signal in ["TERM", "HUP", "INT"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let export = dir.path().join("events.jsonl");
        let export_arg = export.to_str().expect("UTF-8 path");
        let tmux = start(
            dir.path(),
            &[
                "watch",
                "-n",
                "3",
                "--ping-interval",
                "0",
                "--export",
                export_arg,
                &url,
            ],
        );
        tmux.wait_for("three open sessions", Duration::from_secs(20), |s| {
            s.contains("open 3")
        });
        // The TUI owns the terminal: the checks below can fail.
        assert_eq!(tmux.format("#{alternate_on}"), "1");
        assert_eq!(tmux.format("#{mouse_any_flag}"), "1");

        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &tmux.wsmon_pid()])
            .status()
            .expect("kill runs");
        assert!(killed.success());
        let started = Instant::now();
        let screen = tmux.wait_for("wsmon to exit", Duration::from_secs(10), |s| {
            s.contains("[wsmon exit status")
        });
        let took = started.elapsed();
        assert!(
            screen.contains("[wsmon exit status 0]"),
            "SIG{signal}:\n{screen}"
        );
        assert!(
            screen.contains("events exported to"),
            "SIG{signal}: the last line is on the normal screen:\n{screen}"
        );
        assert_eq!(tmux.format("#{alternate_on}"), "0", "SIG{signal}");
        assert_eq!(tmux.format("#{mouse_any_flag}"), "0", "SIG{signal}");

        let body = std::fs::read_to_string(&export).expect("export");
        let closes: Vec<Value> = body
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("JSON line"))
            .filter(|v| v["event"] == "closed")
            .collect();
        assert_eq!(closes.len(), 3, "SIG{signal}: {closes:?}");
        for c in &closes {
            assert_eq!(c["code"], 1001, "SIG{signal}: {c}");
            assert_eq!(c["initiator"], "client", "SIG{signal}: {c}");
            assert_eq!(c["clean"], true, "SIG{signal}: {c}");
        }
        eprintln!("SIG{signal}: wsmon exited {took:?} after the signal, 3 closes with 1001");
    }
    rt.block_on(server.shutdown());
}

/// A session's panic under the TUI stays in that session: the screen is not garbled, the TUI
/// goes on and counts an `internal` error. A panic of the UI itself restores the terminal.
#[test]
fn a_session_panic_leaves_the_tui_running_and_a_ui_panic_restores_the_terminal() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt
        .block_on(wsmon::server::start("127.0.0.1:0"))
        .expect("server");
    let url = server.url("/echo");
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("events.jsonl");
    let export_arg = export.to_str().expect("UTF-8 path");
    let args = [
        "watch",
        "-n",
        "3",
        "--ping-interval",
        "0",
        "--export",
        export_arg,
        &url,
    ];

    let mut with_env = vec!["env", "WSMON_TEST_PANIC_SESSION=2"];
    with_env.push(env!("CARGO_BIN_EXE_wsmon"));
    with_env.extend_from_slice(&args);
    let tmux = Tmux::start_program(dir.path(), &with_env);
    let screen = tmux.wait_for(
        "two open sessions and an internal error",
        Duration::from_secs(20),
        |s| s.contains("open 2") && s.contains("error internal 1"),
    );
    assert!(
        !screen.contains("panicked at"),
        "no panic text on the screen:\n{screen}"
    );
    assert_eq!(tmux.format("#{alternate_on}"), "1", "the TUI goes on");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("wsmon to exit", Duration::from_secs(10), |s| {
        s.contains("[wsmon exit status")
    });
    assert!(screen.contains("[wsmon exit status 0]"), "{screen}");
    drop(tmux);

    let mut with_env = vec!["env", "RUST_BACKTRACE=0", "WSMON_TEST_PANIC_UI=1"];
    with_env.push(env!("CARGO_BIN_EXE_wsmon"));
    with_env.extend_from_slice(&args);
    let tmux = Tmux::start_program(dir.path(), &with_env);
    let screen = tmux.wait_for("the UI's panic", Duration::from_secs(20), |s| {
        s.contains("[wsmon exit status")
    });
    assert!(
        screen.contains("panics on purpose"),
        "the message is readable:\n{screen}"
    );
    assert!(!screen.contains("[wsmon exit status 0]"), "{screen}");
    assert_eq!(tmux.format("#{alternate_on}"), "0");
    assert_eq!(tmux.format("#{mouse_any_flag}"), "0");
    rt.block_on(server.shutdown());
}

/// The export fails under the TUI (a file-size limit on the child): the TUI keeps monitoring
/// under a red EXPORT FAILED badge with the count of events not written, and exits 3.
#[test]
fn a_failed_export_under_the_tui_shows_the_badge_and_monitoring_goes_on() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt
        .block_on(wsmon::server::start("127.0.0.1:0"))
        .expect("server");
    let url = server.url("/echo");
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("events.jsonl");
    let export_arg = export.to_str().expect("UTF-8 path");
    let program = env!("CARGO_BIN_EXE_wsmon");
    // 64 blocks of 512 bytes: 32 KiB, far less than 200 sessions' handshakes.
    let tmux = Tmux::start_program(
        dir.path(),
        &[
            "sh",
            "-c",
            r#"ulimit -f 64; exec "$0" "$@""#,
            program,
            "watch",
            "-n",
            "200",
            "--ping-interval",
            "0",
            "--export",
            export_arg,
            &url,
        ],
    );
    let screen = tmux.wait_for("the EXPORT FAILED badge", Duration::from_secs(20), |s| {
        s.contains("EXPORT FAILED") && s.contains("open 200")
    });
    assert!(
        // The header cuts the error to the width; its start names it.
        screen.contains("events unwritten: File too"),
        "{screen}"
    );
    assert_eq!(tmux.format("#{alternate_on}"), "1", "the TUI goes on");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("wsmon to exit", Duration::from_secs(10), |s| {
        s.contains("[wsmon exit status")
    });
    assert!(screen.contains("[wsmon exit status 3]"), "{screen}");
    assert!(
        screen.contains("wsmon: EXPORT FAILED: File too large"),
        "{screen}"
    );
    rt.block_on(server.shutdown());
}
