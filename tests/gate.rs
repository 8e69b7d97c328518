//! The CI gate through the real binary: `--fail-if` thresholds, `--abort-on-fail`,
//! `--summary-json`, and each exit status (0 passed, 1 failed, 2 usage, 3 wsmon failed),
//! against the scenario server started in-process on 127.0.0.1:0.

use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn wsmon() -> Command {
    let mut c = Command::cargo_bin("wsmon").expect("binary is built");
    c.env("NO_COLOR", "1");
    for v in wsmon::engine::settings::PROXY_ENV_VARS {
        c.env_remove(v);
    }
    c
}

struct Server {
    rt: tokio::runtime::Runtime,
    handle: Option<wsmon::server::ServerHandle>,
}

impl Server {
    fn start() -> Server {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let handle = rt
            .block_on(wsmon::server::start("127.0.0.1:0"))
            .expect("scenario server starts");
        Server {
            rt,
            handle: Some(handle),
        }
    }
    fn url(&self, path: &str) -> String {
        self.handle.as_ref().expect("running").url(path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
    }
}

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("summary written")).expect("valid JSON")
}

#[test]
fn passing_thresholds_exit_0_and_the_summary_lists_them() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("tmp");
    let json = dir.path().join("summary.json");
    let out = wsmon()
        .args(["watch", "--headless", "--duration", "2s", "-n", "4"])
        .args([
            "--fail-if",
            "open_ratio<0.99",
            "--fail-if",
            "closes{code=1006}>0",
        ])
        .args(["--fail-if", "handshake_p99>5s", "--fail-if", "errors>0"])
        .arg("--summary-json")
        .arg(&json)
        .arg(server.url("/echo"))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("thresholds: 4 checked, 0 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("pass    open_ratio<0.99  (observed 1)"),
        "{stdout}"
    );
    let v = read_json(&json);
    assert_eq!(v["exit_status"], 0);
    assert_eq!(v["sessions"], 4);
    assert_eq!(v["opens"], 4);
    let th = v["thresholds"].as_array().expect("thresholds array");
    assert_eq!(th.len(), 4);
    assert_eq!(th[0]["expr"], "open_ratio<0.99");
    assert_eq!(th[0]["value"], 1.0);
    assert_eq!(th[0]["verdict"], "pass");
    assert!(th.iter().all(|t| t["verdict"] == "pass"), "{th:?}");
}

#[test]
fn a_failed_threshold_exits_1_with_its_value_in_summary_and_json() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("tmp");
    let json = dir.path().join("summary.json");
    let out = wsmon()
        .args(["watch", "--headless", "--duration", "3s", "-n", "3"])
        .args(["--fail-if", "closes{code=1013}>0", "--fail-if", "gave_up>0"])
        .arg("--summary-json")
        .arg(&json)
        .arg(server.url("/overload?cap=1"))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("thresholds: 2 checked, 1 failed"),
        "{stdout}"
    );
    assert!(stdout.contains("FAIL    closes{code=1013}>0"), "{stdout}");
    assert!(
        stdout.contains("pass    gave_up>0  (observed 0)"),
        "{stdout}"
    );
    let v = read_json(&json);
    assert_eq!(v["exit_status"], 1);
    assert_eq!(v["thresholds"][0]["verdict"], "fail");
    let closes = v["thresholds"][0]["value"].as_f64().expect("a value");
    assert!(closes >= 1.0, "{v}");
    assert_eq!(
        v["closes_by_code"]["1013"].as_f64(),
        Some(closes),
        "the threshold counts what the summary counts (before the shutdown's 1001s): {v}"
    );
    assert!(v["sessions_by_state"]["open"].is_u64(), "{v}");
    assert!(v["attempts"].as_u64().expect("attempts") >= 3);
}

#[test]
fn abort_on_fail_stops_the_run_at_the_first_failure() {
    let server = Server::start();
    let started = Instant::now();
    let out = wsmon()
        .args(["watch", "--headless", "--duration", "30s", "-n", "2"])
        .args(["--fail-if", "closes{code=4001}>0", "--abort-on-fail"])
        .arg(server.url("/close/4001"))
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "aborted well before --duration: {:?}",
        started.elapsed()
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("stopping: threshold failed: closes{code=4001}>0"),
        "{stderr}"
    );
    assert!(
        stdout.contains("aborted: threshold failed: closes{code=4001}>0"),
        "{stdout}"
    );
}

#[test]
fn bad_expressions_are_usage_errors_naming_the_problem() {
    wsmon()
        .args(["watch", "--headless", "--fail-if", "open_ration<0.99"])
        .arg("ws://127.0.0.1:1/")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown metric 'open_ration'"));
    wsmon()
        .args(["watch", "--headless", "--fail-if", "opens=>1"])
        .arg("ws://127.0.0.1:1/")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown operator '=>'"));
    wsmon()
        .args(["watch", "--fail-if", "opens<1", "ws://127.0.0.1:1/"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("need --headless"));
}

#[test]
fn no_session_ever_opened_exits_1_with_the_top_causes() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port();
    // The listener is dropped: the port refuses connections.
    let dir = tempfile::tempdir().expect("tmp");
    let json = dir.path().join("summary.json");
    let out = wsmon()
        .args(["watch", "--headless", "--duration", "2s", "-n", "3"])
        .arg("--summary-json")
        .arg(&json)
        .arg(format!("ws://127.0.0.1:{port}/"))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("no session opened: 3 x connect: connect to 127.0.0.1:"),
        "{stdout}"
    );
    let v = read_json(&json);
    assert_eq!(v["exit_status"], 1);
    assert_eq!(v["opens"], 0);
    assert!(
        v["no_open_causes"][0]
            .as_str()
            .is_some_and(|c| c.starts_with("3 x connect:")),
        "{v}"
    );
}

#[test]
fn wsmon_failing_itself_exits_3() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("tmp");
    // The summary cannot be written: its directory does not exist.
    wsmon()
        .args(["watch", "--headless", "--duration", "1s"])
        .arg("--summary-json")
        .arg(dir.path().join("missing/summary.json"))
        .arg(server.url("/echo"))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("cannot write the summary"));
    // The export file cannot be created: no session can start.
    wsmon()
        .args(["watch", "--headless", "--duration", "1s", "--export"])
        .arg(dir.path().join("missing/events.jsonl"))
        .arg(server.url("/echo"))
        .assert()
        .code(3);
}
