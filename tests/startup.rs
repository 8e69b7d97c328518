//! Start-up: everything is validated before the first connection. A bad config (its `[keys]`
//! included), no terminal for the TUI, or a `serve --bind` address in use exit 2 with one clear
//! line, having connected nowhere and created no export file.

use std::net::TcpListener;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn wsmon() -> Command {
    let mut c = Command::cargo_bin("wsmon").expect("binary is built");
    c.env("NO_COLOR", "1");
    c
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A listener that counts who connected to it (after the command under test ended).
struct Target(TcpListener);

impl Target {
    fn new() -> Target {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.set_nonblocking(true).expect("non-blocking");
        Target(l)
    }

    fn url(&self) -> String {
        format!("ws://{}/echo", self.0.local_addr().expect("addr"))
    }

    fn connections(&self) -> usize {
        std::iter::from_fn(|| self.0.accept().ok()).count()
    }
}

fn assert_nothing_started(target: &Target, export: &Path) {
    assert_eq!(target.connections(), 0, "no connection before validation");
    assert!(!export.exists(), "no export file left behind");
}

#[test]
fn a_bad_keys_entry_exits_2_before_connecting_and_leaves_no_export() {
    for headless in [false, true] {
        let target = Target::new();
        let dir = tempfile::tempdir().expect("tmp");
        let export = dir.path().join("out.jsonl");
        let mut cmd = wsmon();
        cmd.args(["watch", "--duration", "2s", "-c", &fixture("bad_keys.toml")]);
        if headless {
            cmd.arg("--headless");
        }
        let out = cmd
            .arg("--export")
            .arg(&export)
            .arg(target.url())
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("bad_keys.toml")
                    .and(predicate::str::contains("frobnicate"))
                    // The whole list of actions, to pick the right name from.
                    .and(predicate::str::contains("reconnect_all"))
                    .and(predicate::str::contains("quit")),
            )
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8_lossy(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert_nothing_started(&target, &export);
    }
}

#[test]
fn the_tui_without_a_terminal_says_use_headless_before_connecting() {
    let target = Target::new();
    let dir = tempfile::tempdir().expect("tmp");
    let export = dir.path().join("out.jsonl");
    // assert_cmd gives the child pipes, not a terminal.
    wsmon()
        .args(["watch", "--duration", "2s", "--export"])
        .arg(&export)
        .arg(target.url())
        .env_remove("TERM")
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no terminal: use --headless"));
    assert_nothing_started(&target, &export);
}

#[test]
fn serve_on_a_port_in_use_exits_2() {
    let busy = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = busy.local_addr().expect("addr").to_string();
    wsmon()
        .args(["serve", "--bind", &addr])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("cannot listen on {addr}")));
}
