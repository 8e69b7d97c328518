//! The TUI needs a terminal: without one (`wsmon watch URL </dev/null`, output to a pipe)
//! wsmon says so and exits 2 before any session connects, and leaves no export behind.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;

mod common;

use common::tmux::Tmux;

#[test]
fn watch_without_a_terminal_exits_2_before_connecting() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("ws://{}/", listener.local_addr().expect("addr"));
    let tmp = tempfile::tempdir().expect("tempdir");
    Command::cargo_bin("wsmon")
        .expect("binary is built")
        .args(["watch", &url])
        .env("TMPDIR", tmp.path())
        .timeout(Duration::from_secs(30))
        .assert()
        .code(2)
        .stderr(predicate::eq("wsmon: no terminal: use --headless\n"));
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("a session connected before the terminal check: {other:?}"),
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).expect("read tmp").collect();
    assert!(left.is_empty(), "files left behind: {left:?}");
}

/// In a real terminal with stdin from /dev/null (the issue's `wsmon watch URL </dev/null`):
/// the same answer, and for `replay` the flags it has instead of `--headless`.
#[test]
fn stdin_from_dev_null_in_a_terminal_is_no_terminal_either() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("ws://{}/", listener.local_addr().expect("addr"));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("run.jsonl");
    std::fs::write(
        &file,
        "{\"ts\":\"2026-11-25T14:00:00Z\",\"session\":1,\"event\":\"spawned\",\"target\":0,\"index\":0,\"url\":\"ws://h/\"}\n",
    )
    .expect("write");
    let bin = assert_cmd::cargo::cargo_bin("wsmon");
    let bin = bin.to_str().expect("UTF-8 path");
    let file = file.to_str().expect("UTF-8 path");
    for (args, said) in [
        (
            ["watch", url.as_str()],
            "wsmon: no terminal: use --headless",
        ),
        (
            ["replay", file],
            "wsmon: no terminal: use --summary, --at or --export",
        ),
    ] {
        let tmux = Tmux::start_program(
            dir.path(),
            &[
                "sh",
                "-c",
                r#"exec "$0" "$1" "$2" </dev/null"#,
                bin,
                args[0],
                args[1],
            ],
        );
        let screen = tmux.wait_for("wsmon to exit", Duration::from_secs(20), |s| {
            s.contains("[wsmon exit status")
        });
        assert!(screen.contains("[wsmon exit status 2]"), "{screen}");
        assert!(screen.contains(said), "{screen}");
    }
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("a session connected before the terminal check: {other:?}"),
    }
}
