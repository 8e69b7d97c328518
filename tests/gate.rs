//! The CI gate through the real binary: `--fail-if` thresholds, `--abort-on-fail`,
//! `--summary-json`, and each exit status (0 passed, 1 failed, 2 usage, 3 wsmon failed),
//! against the scenario server started in-process on 127.0.0.1:0.

use std::time::{Duration, Instant};

mod common;

use common::binary::{Server, wsmon};
use predicates::prelude::*;
use serde_json::Value;

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
        stdout.contains(
            "default gate: FAIL no_usable_session: no session opened: 3 x connect: connect to \
             127.0.0.1:"
        ),
        "{stdout}"
    );
    // Issue 19 section 3: `errors: connectx86`.
    assert!(stdout.contains("errors: connect x"), "{stdout}");
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

fn dead_port() -> u16 {
    // The listener is dropped at once: the port refuses connections.
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port()
}

/// Issue 19 section 1: adding a threshold used to turn the "no session opened" rule off.
#[test]
fn a_threshold_does_not_turn_off_the_default_gate() {
    let dir = tempfile::tempdir().expect("tmp");
    let json = dir.path().join("summary.json");
    let out = wsmon()
        .args(["watch", "--headless", "--duration", "2s"])
        .args(["--fail-if", "closes{code=1006}>0"])
        .arg("--summary-json")
        .arg(&json)
        .arg(format!("ws://127.0.0.1:{}/", dead_port()))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("pass    closes{code=1006}>0  (observed 0)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("default gate: FAIL no_usable_session: no session opened: "),
        "{stdout}"
    );
    let v = read_json(&json);
    assert_eq!(v["exit_status"], 1);
    assert_eq!(v["default_gate"]["enabled"], true);
    assert_eq!(
        v["default_gate"]["failed"][0]["rule"], "no_usable_session",
        "{v}"
    );
}

/// Issue 19 section 1: every session opened, then closed with 1010 (the required extension
/// was not negotiated) and was not retried: the run used to pass.
#[test]
fn a_required_extension_that_is_never_negotiated_fails_the_run() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("tmp");
    let json = dir.path().join("summary.json");
    let out = wsmon()
        .args(["watch", "--headless", "--duration", "2s", "-n", "2"])
        .args(["--require", "permessage-deflate"])
        .arg("--summary-json")
        .arg(&json)
        .arg(server.url("/nodeflate"))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "default gate: FAIL no_usable_session: no session became usable (opened and kept \
             past its handshake and required extensions): 2 x closed with 1010"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("default gate: FAIL ended_with_failure: 2 x close 1010 (not retried)"),
        "{stdout}"
    );
    let v = read_json(&json);
    let rules: Vec<&str> = v["default_gate"]["failed"]
        .as_array()
        .expect("failed rules")
        .iter()
        .filter_map(|r| r["rule"].as_str())
        .collect();
    assert_eq!(rules, ["no_usable_session", "ended_with_failure"], "{v}");
}

/// One session ends for a cause that is not retried and is a failure (1008), while the others
/// stay open: the run fails and names it.
#[test]
fn one_session_ended_by_a_failure_fails_the_run() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("tmp");
    let json = dir.path().join("summary.json");
    let out = wsmon()
        .args(["watch", "--headless", "--duration", "2s"])
        .arg("--summary-json")
        .arg(&json)
        .arg(server.url("/echo"))
        .arg(server.url("/close/1008"))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("default gate: FAIL ended_with_failure: 1 x close 1008 (not retried)"),
        "{stdout}"
    );
    assert!(!stdout.contains("no_usable_session"), "{stdout}");
    let v = read_json(&json);
    assert_eq!(v["default_gate"]["failed"][0]["rule"], "ended_with_failure");
    assert_eq!(
        v["default_gate"]["failed"][0]["causes"][0],
        "1 x close 1008"
    );
}

/// A clean close (1000) that is not retried is not a failure.
#[test]
fn a_normal_close_passes_the_default_gate() {
    let server = Server::start();
    wsmon()
        .args(["watch", "--headless", "--duration", "2s"])
        .arg(server.url("/close/1000"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("default gate: pass"));
}

#[test]
fn no_default_gate_turns_the_default_gate_off() {
    let out = wsmon()
        .args([
            "watch",
            "--headless",
            "--duration",
            "1s",
            "--no-default-gate",
        ])
        .arg(format!("ws://127.0.0.1:{}/", dead_port()))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("default gate: off (--no-default-gate)"),
        "{stdout}"
    );
}

/// Issue 19 section 1: `handshake_p99>0.1` was read as milliseconds.
#[test]
fn a_duration_threshold_without_a_unit_is_a_usage_error() {
    wsmon()
        .args(["watch", "--headless", "--fail-if", "handshake_p99>0.1"])
        .arg("ws://127.0.0.1:1/")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "handshake_p99>0.1': a duration needs a unit: 0.1ms or 0.1s",
        ));
}

/// Issue 19 section 5: SIGHUP killed a headless run (exit 129) with no summary and no end to
/// any session's story in the export. It is handled like SIGTERM.
#[cfg(unix)]
#[test]
fn sighup_ends_a_headless_run_like_sigterm() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("tmp");
    let export = dir.path().join("events.jsonl");
    let bin = assert_cmd::cargo::cargo_bin("wsmon");
    let mut child = std::process::Command::new(bin)
        .env("NO_COLOR", "1")
        .args([
            "watch",
            "--headless",
            "--duration",
            "30s",
            "-n",
            "2",
            "--export",
        ])
        .arg(&export)
        .arg(server.url("/echo"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn wsmon");
    // Wait for both sessions to open (the export says so), bounded.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = std::fs::read_to_string(&export).unwrap_or_default();
        if text.matches("\"event\":\"open\"").count() >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "sessions never opened: {text}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: kill(2) on our own child's pid, with a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    let waited = Instant::now();
    let out = loop {
        if child.try_wait().expect("wait").is_some() {
            break child.wait_with_output().expect("output");
        }
        if waited.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("wsmon did not stop after SIGHUP");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("wsmon: stopping (signal)"), "{stderr}");
    assert!(stdout.contains("wsmon summary after"), "{stdout}");
    assert!(
        stdout.contains("closed by wsmon at the end: 2 x 1001 Going Away"),
        "{stdout}"
    );
    let text = std::fs::read_to_string(&export).expect("export");
    let closes = text
        .lines()
        .filter(|l| l.contains("\"event\":\"closed\"") && l.contains("\"code\":1001"))
        .count();
    assert_eq!(closes, 2, "every session's story ends: {text}");
}

/// Issue 19 section 3: `no session opened: 1 x HTTP HTTP/1.1 503` said HTTP twice.
#[test]
fn a_refused_upgrade_is_named_once_as_http() {
    let server = Server::start();
    let out = wsmon()
        .args(["watch", "--headless", "--duration", "1s"])
        .arg(server.url("/reject/503"))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("no session opened: 1 x HTTP 503 Service Unavailable\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("HTTP HTTP"), "{stdout}");
}

/// Issue 19 section 3: a proxy taken from the environment was never shown. The headless start
/// line names it, credentials redacted.
#[test]
fn a_proxy_from_the_environment_is_named_at_the_start() {
    let port = dead_port();
    let out = wsmon()
        .env(
            "all_proxy",
            format!("http://alice:pr0xy-s3cret@127.0.0.1:{port}"),
        )
        .args([
            "watch",
            "--headless",
            "--duration",
            "1s",
            "--no-default-gate",
        ])
        .arg("ws://127.0.0.1:9/")
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "wsmon: via proxy http://<redacted>@127.0.0.1:{port} (from the environment"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("pr0xy-s3cret"), "{stderr}");
}

/// Issue 19 section 5: an ESC in the export path reached the terminal raw in the summary's
/// `export:` line.
#[test]
fn the_export_path_is_escaped_in_the_summary() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("tmp");
    let export = dir.path().join("ev\x1b]0;pwn\x07.jsonl");
    let out = wsmon()
        .args(["watch", "--headless", "--duration", "1s", "--export"])
        .arg(&export)
        .arg(server.url("/echo"))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains('\x1b') && !stdout.contains('\x07'),
        "{stdout:?}"
    );
    assert!(stdout.contains("ev\\u{1b}]0;pwn\\u{7}.jsonl ("), "{stdout}");
    assert!(export.exists(), "the file itself keeps its name");
}
