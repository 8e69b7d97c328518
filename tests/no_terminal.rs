//! The TUI needs a terminal: without one (`wsmon watch URL </dev/null`, output to a pipe)
//! wsmon says so and exits 2 before any session connects, and leaves no export behind.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;

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
