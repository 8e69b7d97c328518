//! The real binary: `watch` with valid and invalid input, and a headless run against the
//! scenario server (started in-process on 127.0.0.1:0).

use assert_cmd::Command;
use predicates::prelude::*;

fn wsmon() -> Command {
    let mut c = Command::cargo_bin("wsmon").expect("binary is built");
    c.env("NO_COLOR", "1");
    c
}

#[test]
fn bad_input_exits_2_with_one_clear_line() {
    let cases: [(&[&str], &str); 8] = [
        (&["watch", "--headless"], "no URL to watch"),
        (
            &["watch", "--headless", "http://example.invalid/"],
            "use ws:// or wss://",
        ),
        (&["watch", "--headless", "ws://"], "not a valid URL"),
        (
            &["watch", "--headless", "-n", "0", "ws://127.0.0.1:1/"],
            "at least 1",
        ),
        (
            &[
                "watch",
                "--headless",
                "--header",
                "NoColon",
                "ws://127.0.0.1:1/",
            ],
            "Name: value",
        ),
        (
            &[
                "watch",
                "--headless",
                "--export",
                "out.txt",
                "ws://127.0.0.1:1/",
            ],
            ".jsonl",
        ),
        (
            &[
                "watch",
                "--headless",
                "--offer",
                "permessage-deflate; server_max_window_bits=99",
                "ws://127.0.0.1:1/",
            ],
            "server_max_window_bits",
        ),
        (
            &[
                "watch",
                "--headless",
                "--backoff-base",
                "5s",
                "--backoff-cap",
                "1s",
                "ws://127.0.0.1:1/",
            ],
            "smaller than",
        ),
    ];
    for (args, want) in cases {
        let out = wsmon()
            .args(args)
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone();
        let err = String::from_utf8_lossy(&out);
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: one line: {err}"
        );
    }
}

#[test]
fn invalid_config_files_are_named_in_the_error() {
    let dir = env!("CARGO_MANIFEST_DIR");
    wsmon()
        .args([
            "watch",
            "--headless",
            "-c",
            &format!("{dir}/tests/fixtures/unknown_key.toml"),
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("unknown_key.toml").and(predicate::str::contains("sesions")),
        );
    wsmon()
        .args([
            "watch",
            "--headless",
            "-c",
            &format!("{dir}/tests/fixtures/bad_code.toml"),
            "ws://127.0.0.1:1/",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("4000-4999"));
    wsmon()
        .args(["watch", "--headless", "-c", "/nonexistent/wsmon.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read config file"));
}

#[test]
fn print_config_is_a_valid_config() {
    let out = wsmon()
        .args(["watch", "--print-config"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf-8");
    assert!(text.contains("[backoff]") && text.contains("stable_after"));
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("wsmon.toml");
    std::fs::write(&path, text).expect("write");
    // Valid: it runs (briefly, against a closed port); no session opened, so it exits 1.
    wsmon()
        .args(["watch", "--headless", "--duration", "1s", "-c"])
        .arg(&path)
        .arg("ws://127.0.0.1:1/")
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("wsmon summary")
                .and(predicate::str::contains("no session opened")),
        );
}

#[test]
fn headless_run_exports_csv_and_summarises_with_secrets_redacted() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt
        .block_on(wsmon::server::start("127.0.0.1:0"))
        .expect("server");
    let dir = tempfile::tempdir().expect("tmp");
    let csv = dir.path().join("run.csv");
    let fixture = format!("{}/tests/fixtures/valid.toml", env!("CARGO_MANIFEST_DIR"));
    let out = wsmon()
        .args([
            "watch",
            "--headless",
            "--duration",
            "3s",
            "-c",
            &fixture,
            "--export",
        ])
        .arg(&csv)
        .arg(server.url("/overload?cap=1"))
        .arg(server.url("/close/4001"))
        .assert()
        .success()
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("attempts/s") && stderr.contains("lockstep"),
        "{stderr}"
    );
    assert!(stdout.contains("1013 Try Again Later"), "{stdout}");
    assert!(
        stdout.contains("4001 Session expired"),
        "app code named from the config: {stdout}"
    );
    assert!(stdout.contains("largest backoff attempt"), "{stdout}");
    let text = std::fs::read_to_string(&csv).expect("csv written");
    assert!(text.starts_with("ts,session,url,event,"));
    assert!(text.contains(",backoff,"), "overload backs off");
    assert!(
        !text.contains("fixture-secret"),
        "Authorization is redacted in the export"
    );
    rt.block_on(server.shutdown());
}

/// `demo --help` says how many sessions the demo runs and what --duration does, and the count
/// is the one the demo really starts.
#[test]
fn demo_help_tells_the_session_count_and_the_duration() {
    let out = wsmon()
        .args(["demo", "--help"])
        .output()
        .expect("demo --help runs");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("runs 78 sessions"), "{help}");
    assert!(help.contains("the smallest, 4, runs 22"), "{help}");
    assert!(help.contains("--duration <DURATION>"), "{help}");
    assert!(help.contains("Stop after this long"), "{help}");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
        for (n, total) in [(20, 78), (4, 22), (1, 22)] {
            let args = wsmon::cli::DemoArgs {
                sessions: n,
                headless: true,
                duration: None,
                export: None,
                lang: None,
                fps: 10,
                metrics: None,
                close_timeout: std::time::Duration::from_secs(1),
                start_at: None,
            };
            let cfg = wsmon::app::demo_config(&server, &args).expect("demo config");
            let started: usize = cfg.targets.iter().map(|t| t.sessions).sum();
            assert_eq!(started, total, "-n {n}");
        }
        server.shutdown().await;
    });
}
