//! One verdict for a fleet (issue 22): the exports of `--shard K/N` agents replayed and judged as
//! one run, and `--start-at`. The real binary against the in-process scenario server.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

fn wsmon() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("wsmon").expect("binary is built");
    for v in wsmon::engine::settings::PROXY_ENV_VARS {
        cmd.env_remove(v);
    }
    cmd
}

/// `wsmon ARGS` on a blocking thread (the scenario server runs on this test's runtime).
async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || wsmon().args(args).output().expect("wsmon runs"))
        .await
        .expect("join")
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `watch --headless` for 2 s, exported to `export`; extra `args` before the URLs.
async fn watch(export: &Path, args: &[String], urls: &[String]) -> Output {
    let mut all = s(&[
        "watch",
        "--headless",
        "--duration",
        "2s",
        "--ping-interval",
        "0",
        // The runs close with 1008 on purpose: the default gate is not what is compared.
        "--no-default-gate",
    ]);
    all.extend(["--export".to_string(), export.display().to_string()]);
    all.extend_from_slice(args);
    all.extend_from_slice(urls);
    let out = run(all).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    out
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("summary written")).expect("JSON")
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

/// The counts a merged summary must share with one unsharded run.
fn counts(summary: &Value) -> Value {
    serde_json::json!({
        "sessions": summary["sessions"],
        "sessions_by_state": summary["sessions_by_state"],
        "closes_by_code": summary["closes_by_code"],
        "statuses": summary["statuses"],
        "attempts": summary["attempts"],
        "opens": summary["opens"],
        "gave_up": summary["gave_up"],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_shards_merged_count_like_one_unsharded_run() {
    let server = wsmon::server::start("127.0.0.1:0")
        .await
        .expect("scenario server");
    let dir = tempfile::tempdir().expect("temp dir");
    // Runs whose counts do not depend on timing: echo stays open; 1008 is not retried; 1012
    // waits 5-30 s before a retry, longer than the run.
    let urls = vec![
        server.url("/echo"),
        server.url("/close/1008"),
        server.url("/close/1012"),
    ];
    let n = s(&["-n", "5"]);
    let (a, b, one) = (
        dir.path().join("shard1.jsonl"),
        dir.path().join("shard2.csv"),
        dir.path().join("all.jsonl"),
    );
    // One start time for both agents, as a fleet is given.
    let at = (chrono::Utc::now() + chrono::TimeDelta::milliseconds(1500))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let start = s(&["--start-at", &at]);
    let shard = |k: &str| [n.clone(), start.clone(), s(&["--shard", k])].concat();
    let (one_of_two, two_of_two) = (shard("1/2"), shard("2/2"));
    let (ra, rb) = tokio::join!(watch(&a, &one_of_two, &urls), watch(&b, &two_of_two, &urls));
    assert!(
        text(&ra.stderr).contains("wsmon: starting at "),
        "{}",
        text(&ra.stderr)
    );
    drop(rb);
    watch(&one, &n, &urls).await;

    // Every spawned event says its shard (an unsharded run: 1/1), and the start time.
    let first: Value = serde_json::from_str(
        std::fs::read_to_string(&a)
            .expect("export")
            .lines()
            .next()
            .expect("a line"),
    )
    .expect("JSON");
    assert_eq!(first["event"], "spawned");
    assert_eq!(first["shard"], "1/2");
    assert!(first["start_at"].is_string(), "{first}");
    let csv = std::fs::read_to_string(&b).expect("csv export");
    assert!(
        csv.contains(r#"""shard"":""2/2"""#),
        "{}",
        &csv[..400.min(csv.len())]
    );
    let unsharded = std::fs::read_to_string(&one).expect("export");
    assert!(unsharded.contains(r#""shard":"1/1""#));
    assert!(!unsharded.contains("start_at"));

    let (merged_json, one_json) = (dir.path().join("m.json"), dir.path().join("o.json"));
    // 1008 on purpose: the default gate is left out of what is compared.
    let out = run(s(&[
        "replay",
        "--no-default-gate",
        "--summary-json",
        &p(&merged_json),
        &p(&a),
        &p(&b),
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("2 files merged; shards 1/2, 2/2"),
        "{stdout}"
    );
    assert!(stdout.contains("Sessions: 15"), "{stdout}");
    // Targets merged by URL: 5 sessions each, not 2 + 3 on separate lines.
    for url in &urls {
        assert!(
            stdout.contains(&format!("       5  {url}")),
            "{url} in {stdout}"
        );
    }
    assert!(
        !text(&out.stderr).contains("clocks"),
        "same start, no clock warning: {}",
        text(&out.stderr)
    );
    let out = run(s(&[
        "replay",
        "--no-default-gate",
        "--summary-json",
        &p(&one_json),
        &p(&one),
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (merged, single) = (read_json(&merged_json), read_json(&one_json));
    assert_eq!(counts(&merged), counts(&single));
    assert_eq!(merged["opens"], 15, "{merged}");
    assert_eq!(merged["closes_by_code"]["1008"], 5, "{merged}");
    assert_eq!(merged["closes_by_code"]["1012"], 5, "{merged}");
    assert_eq!(
        merged["closes_by_code"]["1001"], 5,
        "the shutdown's, {merged}"
    );
    // Thresholds are judged before the shutdown: echo still open, 1012 waiting, no 1001.
    let out = run(s(&[
        "replay",
        "--no-default-gate",
        "--fail-if",
        "sessions{state=open}!=5",
        "--fail-if",
        "sessions{state=waiting}!=5",
        "--fail-if",
        "closes{code=1001}>0",
        &p(&a),
        &p(&b),
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    // Without --no-default-gate, the record's sessions that ended with 1008 (not retried) fail
    // the verdict as they failed `watch`'s.
    let out = run(s(&[
        "replay",
        "--fail-if",
        "closes{code=1001}>0",
        &p(&a),
        &p(&b),
    ]))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("default gate: FAIL ended_with_failure: 5 x close 1008"),
        "{}",
        text(&out.stdout)
    );

    // Session ids are qualified by shard: the waiting sessions at the end of the record.
    let out = run(s(&["replay", "--at", "-0.5s", &p(&a), &p(&b)])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let at = text(&out.stdout);
    assert!(at.contains("  1/2:s"), "{at}");
    assert!(at.contains("  2/2:s"), "{at}");
    let recs: Vec<_> = [&a, &b]
        .iter()
        .map(|f| wsmon::runtime::replay::load::load_run(f).expect("loads"))
        .collect();
    let m = wsmon::runtime::replay::merge::merge(recs);
    let mut labels: Vec<&String> = m.labels.values().collect();
    labels.sort();
    assert_eq!(labels.len(), 15);
    assert!(
        labels
            .iter()
            .all(|l| l.starts_with("1/2:s") || l.starts_with("2/2:s"))
    );

    // A slice of the merged record keeps each session's shard and replays on its own.
    let slice = dir.path().join("slice.jsonl");
    let out = run(s(&["replay", "--export", &p(&slice), &p(&a), &p(&b)])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let sliced = std::fs::read_to_string(&slice).expect("slice");
    assert!(sliced.contains(r#""shard":"1/2""#) && sliced.contains(r#""shard":"2/2""#));
    assert!(
        sliced.contains(r#""start_at":""#),
        "the common start time is kept"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_if_on_records_has_watch_exit_codes_and_summary_shape() {
    let server = wsmon::server::start("127.0.0.1:0")
        .await
        .expect("scenario server");
    let dir = tempfile::tempdir().expect("temp dir");
    let (storm, clean) = (
        dir.path().join("storm.jsonl"),
        dir.path().join("clean.jsonl"),
    );
    let watch_json = dir.path().join("watch.json");
    let gate = "closes{code=1013}>0";
    // `watch`'s own summary of the clean run, to compare shapes.
    let clean_args = s(&[
        "-n",
        "4",
        "--summary-json",
        &p(&watch_json),
        "--fail-if",
        gate,
    ]);
    let storm_args = s(&["-n", "6"]);
    watch(&clean, &clean_args, &[server.url("/echo")]).await;
    watch(&storm, &storm_args, &[server.url("/overload?cap=2")]).await;

    let replay_json = dir.path().join("replay.json");
    let out = run(s(&["replay", "--summary", "--fail-if", gate, &p(&storm)])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("FAIL    closes{code=1013}>0  (observed "));
    let out = run(s(&[
        "replay",
        "--summary",
        "--fail-if",
        gate,
        "--fail-if",
        "open_ratio<0.99",
        "--summary-json",
        &p(&replay_json),
        &p(&clean),
    ]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("thresholds: 2 checked, 0 failed"));
    let (w, r) = (read_json(&watch_json), read_json(&replay_json));
    let keys =
        |v: &Value| -> Vec<String> { v.as_object().expect("object").keys().cloned().collect() };
    assert_eq!(keys(&w), keys(&r));
    assert_eq!(keys(&w["sessions_by_state"]), keys(&r["sessions_by_state"]));
    assert_eq!(keys(&w["thresholds"][0]), keys(&r["thresholds"][0]));
    assert_eq!(r["exit_status"], 0);
    assert_eq!(r["opens"], w["opens"]);
    assert_eq!(r["sessions_by_state"], w["sessions_by_state"]);

    // Usage: a bad expression exits 2 and names it; so does --fail-if with --at.
    let out = run(s(&["replay", "--fail-if", "open_ration<0.99", &p(&clean)])).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown metric 'open_ration'"),
        "{}",
        text(&out.stderr)
    );
    let out = run(s(&["replay", "--at", "+1s", "--fail-if", gate, &p(&clean)])).await;
    assert_eq!(out.status.code(), Some(2));
    // The summary JSON cannot be written: exit 3.
    let out = run(s(&[
        "replay",
        "--fail-if",
        gate,
        "--summary-json",
        "/nonexistent-dir/s.json",
        &p(&clean),
    ]))
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    server.shutdown().await;
}

/// An export written by the library's writer: `sessions` sessions spawned and opened at
/// `first`, with the run's `start_at`.
fn synthetic(path: &Path, shard: &str, start_at: &str, first: &str, extra: &str) -> PathBuf {
    let mut lines = String::new();
    for id in 1..=2 {
        lines.push_str(&format!(
            "{{\"ts\":\"{first}\",\"session\":{id},\"url\":\"ws://h/x\",\"event\":\"spawned\",\"target\":0,\"index\":{id},\"shard\":\"{shard}\",\"start_at\":\"{start_at}\"}}\n\
             {{\"ts\":\"{first}\",\"session\":{id},\"url\":\"ws://h/x\",\"event\":\"open\",\"attempt\":1}}\n"
        ));
    }
    lines.push_str(extra);
    std::fs::write(path, lines).expect("write");
    path.to_path_buf()
}

#[test]
fn merging_warns_about_clocks_foreign_events_and_torn_lines_and_refuses_non_exports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let at = "2026-12-07T12:00:00.000Z";
    let a = synthetic(
        &dir.path().join("a.jsonl"),
        "1/2",
        at,
        "2026-12-07T12:00:00.010Z",
        "{\"ts\":\"2026-12-07T12:00:01.000Z\",\"session\":1,\"url\":\"ws://h/x\",\"event\":\"teleported\"}\n\
         {\"ts\":\"2026-12-07T12:00:01.100Z\",\"session\":2,\"url\":\"ws://h/x\",\"event\":\"teleported\"}\n",
    );
    let b = synthetic(
        &dir.path().join("b.jsonl"),
        "2/2",
        at,
        "2026-12-07T12:00:02.510Z",
        "{\"ts\":\"2026-12-07T12:00:03.000Z\",\"session\":1,\"url\":\"ws://h/x\",\"ev",
    );
    let out = wsmon()
        .args(["replay", "--summary", &p(&a), &p(&b)])
        .output()
        .expect("runs");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("Sessions: 4"), "{stdout}");
    assert!(
        stderr.contains(
            "b.jsonl starts 2.500 s after a.jsonl although both say --start-at 2026-12-07T12:00:00.000Z"
        ),
        "{stderr}"
    );
    // One warning for the two unknown events, one for the torn last line.
    assert_eq!(stderr.matches("of unknown type").count(), 1, "{stderr}");
    assert!(
        stderr.contains("2 events of unknown type skipped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("b.jsonl: last line 5 is cut off"),
        "{stderr}"
    );

    // A file that is not an export: exit 2, and the message names it.
    let notes = dir.path().join("notes.jsonl");
    std::fs::write(&notes, "hello\n").expect("write");
    let out = wsmon()
        .args(["replay", "--summary", &p(&a), &p(&notes)])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("notes.jsonl: not a wsmon export"),
        "{stderr}"
    );
}

#[test]
fn start_at_bad_times_exit_2_and_past_times_start_at_once() {
    for bad in ["tomorrow", "12:30", "+soon"] {
        let out = wsmon()
            .args([
                "watch",
                "--headless",
                "--start-at",
                bad,
                "ws://127.0.0.1:9/",
            ])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "--start-at {bad}");
        assert!(
            text(&out.stderr).contains("--start-at"),
            "{}",
            text(&out.stderr)
        );
        let out = wsmon()
            .args(["demo", "--headless", "--start-at", bad])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "demo --start-at {bad}");
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("d.jsonl");
    let started = std::time::Instant::now();
    let out = wsmon()
        .args([
            "demo",
            "--headless",
            "-n",
            "4",
            "--duration",
            "1s",
            "--start-at",
            "2020-01-01T00:00:00Z",
            "--export",
            &p(&export),
        ])
        .output()
        .expect("runs");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("wsmon: warning: --start-at 2020-01-01T00:00:00.000Z is ")
            && stderr.contains("s in the past: starting now"),
        "{stderr}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let first = std::fs::read_to_string(&export).expect("export");
    assert!(first.contains(r#""start_at":"2020-01-01T00:00:00.000Z""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_at_opens_the_first_session_then_and_duration_counts_from_it() {
    let server = wsmon::server::start("127.0.0.1:0")
        .await
        .expect("scenario server");
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("e.jsonl");
    let asked = chrono::Utc::now();
    let started = std::time::Instant::now();
    // Metrics are served while the agent waits for its start.
    let args = s(&["-n", "2", "--start-at", "+2s", "--metrics", "127.0.0.1:0"]);
    let out = watch(&export, &args, &[server.url("/echo")]).await;
    let took = started.elapsed();
    assert!(
        text(&out.stderr).contains("wsmon: metrics at"),
        "{}",
        text(&out.stderr)
    );
    // 2 s of waiting, then the 2 s --duration.
    assert!(took >= std::time::Duration::from_millis(3900), "{took:?}");
    let rec = wsmon::runtime::replay::load::load_run(&export).expect("loads");
    let start_at = rec.1.start_at.expect("start_at recorded");
    let first = rec.0.start().expect("events");
    let wait = (start_at - asked).num_milliseconds();
    assert!(
        (1900..=2200).contains(&wait),
        "start_at {wait} ms after asking"
    );
    let late = (first - start_at).num_milliseconds();
    assert!(
        (0..300).contains(&late),
        "first event {late} ms after start_at"
    );
    let last = rec.0.end().expect("events");
    let ran = (last - first).num_milliseconds();
    assert!((1800..3000).contains(&ran), "ran {ran} ms after the start");
    server.shutdown().await;
}
