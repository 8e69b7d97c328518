//! Session scripts (issue 20.1): checked before any connection (a bad script exits 2 with
//! file:line:column and connects nowhere), and run on every connection against the scenario
//! server's `/echo`: sends go out with their templates, an `expect` that matches records its
//! latency, one that never matches fails the attempt as kind `script`, closes with the script's
//! code and is retried, the next connection running the script from the top.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use assert_cmd::Command;
use common::{config, run_until, target};
use wsmon::engine::events::ScriptPhase;
use wsmon::engine::script::{ScriptFactory, parse};
use wsmon::state::snapshot::Snapshot;

const LIMIT: Duration = Duration::from_secs(20);

fn wsmon() -> Command {
    let mut c = Command::cargo_bin("wsmon").expect("binary is built");
    c.env("NO_COLOR", "1");
    c
}

/// A listener that counts who connected to it.
struct Listener(TcpListener);

impl Listener {
    fn new() -> Listener {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.set_nonblocking(true).expect("non-blocking");
        Listener(l)
    }
    fn url(&self) -> String {
        format!("ws://{}/echo", self.0.local_addr().expect("addr"))
    }
    fn connections(&self) -> usize {
        std::iter::from_fn(|| self.0.accept().ok()).count()
    }
}

/// Run `watch` with `args`; it must exit 2 with exactly one line containing `want`, having
/// connected nowhere and written no export.
fn refused(dir: &Path, args: &[&str], want: &str) {
    let target = Listener::new();
    let export = dir.join("out.jsonl");
    let out = wsmon()
        .args(["watch", "--headless", "--duration", "2s", "--export"])
        .arg(&export)
        .args(args)
        .arg(target.url())
        .env_remove("WSMON_TEST_UNSET")
        .env("WSMON_TEST_TOKEN", "t0k")
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8_lossy(&out);
    assert!(err.contains(want), "{args:?}: want {want:?} in: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert_eq!(target.connections(), 0, "no connection before validation");
    assert!(!export.exists(), "no export file left behind");
}

#[test]
fn a_bad_script_exits_2_with_file_line_and_column_before_connecting() {
    let dir = tempfile::tempdir().expect("tmp");
    let script = dir.path().join("bad.wss");
    let p = script.to_str().expect("utf-8 path");
    let cases = [
        ("# hello\nsend hi\nwait 5s\n", ":3:1: unknown step 'wait'"),
        ("expect /(unclosed/ within 1s\n", ":1:9: invalid regex"),
        ("send json {\"a\": }\n", ":1:17: invalid JSON"),
        ("send hi {who}\n", ":1:9: unknown template variable {who}"),
        (
            "  send {env.WSMON_TEST_UNSET}\n",
            ":1:8: environment variable WSMON_TEST_UNSET is not set",
        ),
    ];
    for (text, want) in cases {
        std::fs::write(&script, text).expect("write");
        refused(dir.path(), &["--script", p], &format!("{p}{want}"));
    }
    // --script is for one target.
    std::fs::write(&script, "send hi\n").expect("write");
    refused(
        dir.path(),
        &["--script", p, "ws://127.0.0.1:9/other"],
        "--script runs one target's script, but there are 2 targets",
    );
    refused(
        dir.path(),
        &["--script", &format!("{p}.missing")],
        "cannot read it",
    );
}

#[test]
fn config_scripts_report_the_config_file_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("wsmon.toml");
    let c = cfg.to_str().expect("utf-8 path");
    let target = Listener::new();
    // Inline: line 5 of the file is the script's line 2.
    std::fs::write(
        &cfg,
        format!(
            "[[targets]]\nurl = '{}'\nscript = \"\"\"\nsend json {{\"token\":\"{{env.WSMON_TEST_TOKEN}}\"}}\n\
             expect json {{\"type\":\"ok\"}} capture id=payload\n\"\"\"\n",
            target.url()
        ),
    )
    .expect("write");
    refused(
        dir.path(),
        &["-c", c],
        &format!("{c}:5:38: 'payload' is not a JSON pointer"),
    );
    // A script on the same line as its quotes: the column counts from the line's start.
    std::fs::write(
        &cfg,
        format!(
            "[[targets]]\nurl = '{}'\nscript = 'send {{nope}}'\n",
            target.url()
        ),
    )
    .expect("write");
    refused(
        dir.path(),
        &["-c", c],
        &format!("{c}:3:16: unknown template variable {{nope}}"),
    );
    // script_file: relative to the config file.
    std::fs::write(dir.path().join("t.wss"), "send ok\nexpect /(/\n").expect("write");
    std::fs::write(
        &cfg,
        format!(
            "[[targets]]\nurl = '{}'\nscript_file = 't.wss'\n",
            target.url()
        ),
    )
    .expect("write");
    let file = dir.path().join("t.wss");
    refused(
        dir.path(),
        &["-c", c],
        &format!("{}:2:9: invalid regex", file.display()),
    );
    assert_eq!(target.connections(), 0);
}

fn scripted(url: &str, sessions: usize, text: &str) -> wsmon::engine::TargetSpec {
    let mut t = target(url, sessions);
    let script = parse(text, &|_: &str| None).expect("script parses");
    t.conversation = Some(Arc::new(ScriptFactory {
        script: Arc::new(script),
        shard: String::new(),
    }));
    t
}

fn matched(s: &Snapshot) -> usize {
    s.events
        .iter()
        .filter(|e| e.event == "script" && e.what.contains("matched"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_sends_and_expects_its_echo_and_records_the_latency() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let t = scripted(
        &server.url("/echo"),
        2,
        "send json {\"type\":\"hello\",\"from\":\"{session}\",\"token\":\"abc\"}\n\
         expect json {\"type\":\"hello\"} within 5s capture from=/from token=/token\n\
         send again {from}\nexpect /^again (s\\d+)$/ within 5s capture who=1\n",
    );
    let run = run_until(config(vec![t]), LIMIT, |s| {
        s.counters
            .iter()
            .flatten()
            .filter(|c| c.msgs_in >= 2 && c.msgs_out >= 2)
            .count()
            == 2
    })
    .await;
    let latencies = run.of("latency");
    assert_eq!(latencies.len(), 4, "{latencies:?}");
    for l in &latencies {
        assert_eq!(l["source"], "rpc");
        let ms = l["latency_ms"].as_f64().expect("latency_ms");
        assert!(ms > 0.0 && ms < 5000.0, "{ms}");
    }
    let steps: Vec<u64> = latencies
        .iter()
        .filter_map(|l| l["step"].as_u64())
        .collect();
    assert_eq!(steps.iter().filter(|s| **s == 2).count(), 2, "{steps:?}");
    assert_eq!(steps.iter().filter(|s| **s == 4).count(), 2, "{steps:?}");
    for session in run.sessions() {
        let script = run.for_session(session, "script");
        let phases: Vec<(u64, &str)> = script
            .iter()
            .map(|e| {
                (
                    e["step"].as_u64().unwrap_or(0),
                    e["phase"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            phases,
            [
                (2, "started"),
                (2, "matched"),
                (4, "started"),
                (4, "matched")
            ],
            "{script:?}"
        );
        // The session's own id came back; the token's value is never recorded.
        assert_eq!(script[1]["captured"]["from"], format!("s{session}"));
        assert_eq!(script[1]["captured"]["token"], "<redacted>");
        assert_eq!(script[3]["captured"]["who"], format!("s{session}"));
        assert_eq!(
            script[0]["what"], r#"expect {"type":"hello"} within 5s"#,
            "{script:?}"
        );
    }
    assert!(run.of("error").is_empty(), "{:?}", run.of("error"));
    // The store keeps each session's progress: the last step, and all it captured.
    for s in &run.snapshot.sessions {
        let p = s.script.as_ref().expect("script progress");
        assert_eq!((p.step, p.phase), (4, ScriptPhase::Matched));
        let names: Vec<&str> = p.captured.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["from", "token", "who"]);
        assert_eq!(p.captured[1].1, "<redacted>");
    }
    assert!(
        !serde_json::to_string(&run.events)
            .expect("json")
            .contains("abc")
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expect_that_never_matches_fails_closes_with_the_code_and_reruns_from_the_top() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let t = scripted(
        &server.url("/echo"),
        1,
        "close-code 4000\nsend hello {attempt}\nexpect /^welcome/ within 300ms\n",
    );
    let mut cfg = config(vec![t]);
    cfg.backoff.base = Duration::from_millis(50);
    cfg.backoff.cap = Duration::from_millis(100);
    let run = run_until(cfg, LIMIT, |s| {
        s.events
            .iter()
            .filter(|e| e.event == "script" && e.what.contains("timed_out"))
            .count()
            >= 2
    })
    .await;
    let errors = run.of("error");
    assert!(errors.len() >= 2, "{errors:?}");
    assert_eq!(errors[0]["kind"], "script");
    assert_eq!(
        errors[0]["message"],
        "step 2: expect /^welcome/ within 300ms timed out; last message: hello 1"
    );
    assert_eq!(
        errors[1]["message"],
        "step 2: expect /^welcome/ within 300ms timed out; last message: hello 2",
        "the second connection ran the script from the top, with its own attempt"
    );
    let closed = run.of("closed");
    assert_eq!(closed[0]["code"], 4000, "{closed:?}");
    assert_eq!(closed[0]["initiator"], "client");
    assert_eq!(closed[0]["close_why"], "script");
    assert_eq!(closed[0]["reason"], "script step 2 timed out after 300ms");
    let backoff = run.of("backoff");
    assert_eq!(backoff[0]["cause"]["type"], "error", "{backoff:?}");
    assert_eq!(backoff[0]["cause"]["kind"], "script", "{backoff:?}");
    let timed_out: Vec<_> = run
        .of("script")
        .into_iter()
        .filter(|e| e["phase"] == "timed_out")
        .collect();
    assert_eq!(timed_out[0]["last"], "hello 1");
    assert_eq!(timed_out[0]["step"], 2);
    assert_eq!(
        timed_out[0]["steps"], 2,
        "send and expect (close-code is no step)"
    );
    assert_eq!(matched(&run.snapshot), 0);
    let failures = &run.snapshot.targets[0].script_failures;
    assert!(failures.get(&2).is_some_and(|n| *n >= 2), "{failures:?}");
    assert_eq!(failures.len(), 1, "{failures:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_runs_a_script_file_headless() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let script = dir.path().join("s.wss");
    std::fs::write(
        &script,
        "send json {\"token\":\"{env.WSMON_TEST_TOKEN}\",\"n\":\"{index}\"}\n\
         expect json {\"n\":\"0\"} within 5s capture token=/token\n",
    )
    .expect("write");
    let export = dir.path().join("out.jsonl");
    let url = server.url("/echo");
    let (script2, export2) = (script.clone(), export.clone());
    let out = tokio::task::spawn_blocking(move || {
        wsmon()
            .args(["watch", "--headless", "--duration", "2s", "--script"])
            .arg(&script2)
            .arg("--export")
            .arg(&export2)
            .arg(&url)
            .env("WSMON_TEST_TOKEN", "hunter2")
            .timeout(Duration::from_secs(30))
            .output()
            .expect("runs")
    })
    .await
    .expect("joined");
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&export).expect("export");
    assert!(!text.contains("hunter2"), "{text}");
    let events = wsmon::export::reader::read_jsonl(&export).expect("jsonl");
    let script_events: Vec<_> = events.iter().filter(|e| e["event"] == "script").collect();
    assert_eq!(script_events.len(), 2, "{script_events:?}");
    assert_eq!(script_events[1]["phase"], "matched");
    assert_eq!(script_events[1]["captured"]["token"], "<redacted>");
    assert_eq!(events.iter().filter(|e| e["event"] == "latency").count(), 1);
    server.shutdown().await;
}
