//! Message health through the real binary (issue 20 items 3 and 5): `--stale-after`,
//! `--stale-action`, the `stale` threshold, the summary and the export, against the scenario
//! server's `/echo` (silent unless spoken to) started in-process on 127.0.0.1:0.

mod common;

use common::binary::{Server, wsmon};
use serde_json::Value;

/// `/echo` says nothing unless spoken to: with `--stale-after 500ms` every session is stale
/// before the end of a 2.5 s run, `--fail-if 'stale>0'` fails it (exit 1), and the summary
/// and its JSON count them. Sessions that hear their echo every 200 ms never go stale.
#[test]
fn silent_sessions_go_stale_and_fail_the_stale_threshold() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("tmp");
    let json = dir.path().join("summary.json");
    let export = dir.path().join("run.jsonl");
    let out = wsmon()
        .args(["watch", "--headless", "--duration", "2500ms", "-n", "3"])
        .args(["--stale-after", "500ms", "--fail-if", "stale>0"])
        .args(["--fail-if", "stale_ratio<1"])
        .arg("--summary-json")
        .arg(&json)
        .arg("--export")
        .arg(&export)
        .arg(server.url("/echo"))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("FAIL    stale>0  (observed 3)"), "{stdout}");
    assert!(
        stdout.contains("pass    stale_ratio<1  (observed 1)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("stale sessions (open, no message for --stale-after): 3 at the end"),
        "{stdout}"
    );
    assert!(stderr.contains("open 3 (stale 3)"), "{stderr}");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(&json).expect("written")).expect("JSON");
    assert_eq!(summary["stale_sessions"]["end"], 3, "{summary}");

    // The replay of the export (events only) fails the same threshold.
    let out = wsmon()
        .args(["replay", "--summary", "--fail-if", "stale>0"])
        .arg(&export)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("FAIL    stale>0  (observed 3)"), "{stdout}");

    let out = wsmon()
        .args(["watch", "--headless", "--duration", "2s", "-n", "2"])
        .args(["--send", "ping", "--send-every", "200ms"])
        .args(["--stale-after", "1s", "--fail-if", "stale>0"])
        .args(["--fail-if", "msgs_in_per_s<2"])
        .arg(server.url("/echo"))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("pass    stale>0  (observed 0)"), "{stdout}");
    assert!(stdout.contains("pass    msgs_in_per_s<2"), "{stdout}");
    assert!(!stdout.contains("stale sessions"), "{stdout}");
}

/// `--stale-action reconnect:4000`: a stale session closes with 4000 (by the client, reason
/// "stale: no message for ..."), retries per the policy with cause error kind `stale`, and the
/// export records `stale` before each close.
#[test]
fn stale_action_reconnect_closes_with_the_code_and_retries() {
    let server = Server::start();
    let dir = tempfile::tempdir().expect("tmp");
    let export = dir.path().join("run.jsonl");
    wsmon()
        .args([
            "watch",
            "--headless",
            "--duration",
            "3s",
            "--no-default-gate",
        ])
        .args(["--stale-after", "400ms", "--stale-action", "reconnect:4000"])
        .args(["--backoff-base", "100ms", "--backoff-cap", "200ms"])
        .arg("--export")
        .arg(&export)
        .arg(server.url("/echo"))
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&export).expect("export");
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let named = |n: &'static str| events.iter().filter(move |e| e["event"] == n);
    let stale: Vec<&Value> = named("stale").collect();
    assert!(stale.len() >= 2, "stale, reconnect, stale again:\n{text}");
    assert!(
        stale.iter().all(|e| e["silent_ms"].as_u64() >= Some(400)),
        "{text}"
    );
    let closes: Vec<&Value> = named("closed").filter(|e| e["code"] == 4000).collect();
    assert!(closes.len() >= 2, "{text}");
    for c in &closes {
        assert_eq!(c["initiator"], "client", "{c}");
        let reason = c["reason"].as_str().expect("reason");
        assert!(reason.starts_with("stale: no message for "), "{reason}");
    }
    let retried = named("backoff")
        .filter(|e| e["cause"]["type"] == "error" && e["cause"]["kind"] == "stale")
        .count();
    assert!(
        retried >= 2,
        "each stale close is retried as error kind stale:\n{text}"
    );
    assert!(named("open").count() >= 2, "reconnected:\n{text}");
}

/// A stale action that cannot be used exits 2 before any connection.
#[test]
fn a_bad_stale_action_exits_2() {
    for (flag, value, says) in [
        (
            "--stale-action",
            "close",
            "must be keep, reconnect or reconnect:CODE",
        ),
        ("--stale-action", "reconnect:1006", "1006 cannot be sent"),
        ("--stale-after", "0s", "--stale-after must be more than 0"),
    ] {
        let out = wsmon()
            .args(["watch", "--headless", "--duration", "1s", flag, value])
            .arg("ws://127.0.0.1:9/")
            .assert()
            .code(2)
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{flag} {value}: {stderr}");
    }
}

/// GET /metrics from `addr` (HTTP/1.0): the body.
fn scrape(addr: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect to /metrics");
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    write!(s, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    raw.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

/// Issue 20's check: Prometheus shows the stale sessions. A headless agent's `/metrics`
/// counts its 2 silent sessions in `wsmon_stale_sessions` and their messages (the echo of
/// `--send`) in `wsmon_messages_total`.
#[test]
fn metrics_show_stale_sessions_and_messages() {
    use std::io::BufRead;
    let server = Server::start();
    let url = server.url("/echo");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("wsmon"))
        .args(["watch", "--headless", "--duration", "20s", "-n", "2"])
        .args(["--send", "hi", "--stale-after", "300ms"])
        .args(["--metrics", "127.0.0.1:0", "--metrics-linger", "0s"])
        .arg(&url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start wsmon");
    let stderr = child.stderr.take().expect("piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(at) = line.strip_prefix("wsmon: metrics at http://") {
                let _ = tx.send(at.trim_end_matches("/metrics").to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the agent prints its metrics address");
    let want = [
        format!("wsmon_stale_sessions{{target=\"{url}\"}} 2"),
        format!("wsmon_messages_total{{target=\"{url}\",direction=\"in\"}} 2"),
        format!("wsmon_messages_total{{target=\"{url}\",direction=\"out\"}} 2"),
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut text = String::new();
    while std::time::Instant::now() < deadline {
        text = scrape(&addr);
        if want.iter().all(|w| text.lines().any(|l| l == w)) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    for w in &want {
        assert!(text.lines().any(|l| l == w), "missing {w} in\n{text}");
    }
}
