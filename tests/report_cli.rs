//! `wsmon report` on the command line: what it writes, its exit codes, and that a failed write
//! leaves nothing behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The binary, in English whatever the test's locale (the page's language follows LANG).
fn wsmon() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsmon"));
    cmd.env("LC_ALL", "C.UTF-8");
    cmd
}

/// A small export: two sessions, one closed with 1013 and retried, a 503, a torn last line.
fn export(dir: &Path, torn: bool) -> PathBuf {
    let lines = [
        r#"{"event":"spawned","index":0,"session":1,"target":0,"ts":"2026-11-25T14:00:00.000Z","url":"ws://127.0.0.1:9/a"}"#,
        r#"{"event":"spawned","index":1,"session":2,"target":0,"ts":"2026-11-25T14:00:00.000Z","url":"ws://127.0.0.1:9/a"}"#,
        r#"{"attempt":1,"event":"connecting","session":1,"slot_wait_ms":0,"ts":"2026-11-25T14:00:00.001Z"}"#,
        r#"{"attempt":1,"event":"connecting","session":2,"slot_wait_ms":0,"ts":"2026-11-25T14:00:00.002Z"}"#,
        r#"{"attempt":1,"event":"open","session":1,"ts":"2026-11-25T14:00:00.010Z"}"#,
        r#"{"clean":true,"code":1013,"code_name":"Try Again Later","event":"closed","initiator":"server","reason":"<img src=x onerror=alert(1)>","session":1,"ts":"2026-11-25T14:00:01.000Z","uptime_ms":990}"#,
        r#"{"event":"backoff","attempt":1,"cause":{"type":"close","code":1013},"kind":"backoff","window_ms":2000,"delay_ms":1500,"retry_after_ms":null,"jitter":"full","next_attempt_at":"2026-11-25T14:00:02.500Z","session":1,"ts":"2026-11-25T14:00:01.000Z"}"#,
        r#"{"attempt":2,"event":"connecting","session":1,"slot_wait_ms":0,"ts":"2026-11-25T14:00:02.500Z"}"#,
        r#"{"attempt":2,"event":"open","session":1,"ts":"2026-11-25T14:00:02.510Z"}"#,
    ];
    let mut text = lines.join("\n") + "\n";
    if torn {
        text.push_str(r#"{"attempt":3,"event":"conn"#);
    }
    let path = dir.join(if torn { "torn.jsonl" } else { "run.jsonl" });
    std::fs::write(&path, text).expect("write export");
    path
}

fn run(args: &[&str], files: &[&Path], out: &Path) -> Output {
    wsmon()
        .arg("report")
        .args(files)
        .arg("-o")
        .arg(out)
        .args(args)
        .output()
        .expect("run wsmon")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn writes_one_page_with_the_counts_and_the_reason_as_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = export(dir.path(), false);
    let out = dir.path().join("r.html");
    let o = run(&["--title", "incident <42>"], &[&file], &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).expect("page");
    assert!(html.contains("<title>incident &lt;42&gt;</title>"));
    assert!(html.contains("id=\"h-sessions\" data-value=\"2\""));
    assert!(html.contains("id=\"h-attempts\" data-value=\"3\""));
    assert!(html.contains("id=\"h-opens\" data-value=\"2\""));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(!html.contains("<img"));
    assert!(html.contains("id=\"code-1013\""), "1013 explained");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.starts_with("wrote "), "{stdout}");
}

#[test]
fn verdicts_go_in_the_header_and_a_failed_one_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = export(dir.path(), false);
    let out = dir.path().join("r.html");
    let o = run(&["--fail-if", "closes{code=1013}>0"], &[&file], &out);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).expect("written anyway");
    assert!(html.contains("<tr class=\"fail\"><td>FAIL</td>"));
    let o = run(&["--fail-if", "closes{code=1006}>0"], &[&file], &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["--fail-if", "nonsense>1"], &[&file], &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown metric"), "{}", stderr(&o));
}

#[test]
fn a_damaged_export_loads_with_its_warnings_in_the_page() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = export(dir.path(), true);
    let out = dir.path().join("r.html");
    let o = run(&[], &[&file], &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("cut off"), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).expect("page");
    assert!(
        html.contains("<ul class=\"warnings\">\n<li>"),
        "warnings listed"
    );
    assert!(html.contains("is cut off"));
}

#[test]
fn an_empty_window_still_writes_a_page_that_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = export(dir.path(), false);
    let out = dir.path().join("r.html");
    let o = run(&["--from", "14:30:00"], &[&file], &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).expect("page");
    assert!(html.contains("No events in this window."));
    let o = run(&["--lang", "fr", "--from", "14:30:00"], &[&file], &out);
    assert_eq!(o.status.code(), Some(0));
    let html = std::fs::read_to_string(&out).expect("page");
    assert!(html.contains("Aucun événement dans cette fenêtre."));
}

#[test]
fn bad_input_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = export(dir.path(), false);
    let out = dir.path().join("r.html");
    let o = run(&["--from", "+2s", "--to", "+1s"], &[&file], &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("the window is empty"), "{}", stderr(&o));
    let o = run(&["--from", "yesterday"], &[&file], &out);
    assert_eq!(o.status.code(), Some(2));
    let not_export = dir.path().join("notes.jsonl");
    std::fs::write(&not_export, "{\"hello\":1}\n").expect("write");
    let o = run(&[], &[&not_export], &out);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a wsmon export"), "{}", stderr(&o));
    let o = run(&[], &[&file], &file);
    assert_eq!(o.status.code(), Some(2), "-o onto the input");
    assert!(!out.exists(), "nothing written on bad input");
}

/// No temporary file left in `dir` (nor the report).
fn nothing_left(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.expect("entry").file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn an_output_that_cannot_be_written_exits_3_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = export(dir.path(), false);
    let missing = dir.path().join("missing").join("r.html");
    let o = run(&[], &[&file], &missing);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot write the report"),
        "{}",
        stderr(&o)
    );
    assert!(!missing.exists());

    // A directory we may not write in: chmod 555 (root writes there anyway, so as root use
    // /proc, where nobody can create files).
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).expect("mkdir");
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let target = if is_root {
        PathBuf::from("/proc/wsmon-report.html")
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).expect("chmod");
        ro.join("r.html")
    };
    let o = run(&[], &[&file], &target);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(!target.exists());
    nothing_left(&ro);
}

#[test]
fn several_files_merge_with_qualified_sessions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = export(dir.path(), false);
    let b_dir = dir.path().join("b");
    std::fs::create_dir(&b_dir).expect("mkdir");
    let b = export(&b_dir, false);
    let out = dir.path().join("r.html");
    let o = run(&[], &[&a, &b], &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).expect("page");
    assert!(html.contains("id=\"h-sessions\" data-value=\"4\""));
    assert!(
        html.contains("id=\"h-targets\" data-value=\"1\""),
        "merged by URL"
    );
    assert!(html.contains(">2/2:s1 <"), "qualified session id: {html}");
    // The files say no shard: the merge's note is listed with the warnings.
    assert!(html.contains("no shard recorded"), "merge notes listed");
    let summary = wsmon()
        .args(["replay", "--summary"])
        .arg(&a)
        .arg(&b)
        .output()
        .expect("replay");
    let summary = String::from_utf8_lossy(&summary.stdout).into_owned();
    assert!(summary.contains("Sessions: 4\n"), "{summary}");
    assert!(summary.contains("Connection attempts: 6\n"), "{summary}");
    assert!(html.contains("id=\"h-attempts\" data-value=\"6\""));
}

#[test]
fn a_window_counts_what_replay_summary_counts_in_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = export(dir.path(), false);
    let out = dir.path().join("r.html");
    let window = ["--from", "+1s", "--to", "+2600ms"];
    let o = run(&window, &[&file], &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).expect("page");
    let summary = wsmon()
        .args(["replay", "--summary"])
        .args(window)
        .arg(&file)
        .output()
        .expect("replay");
    let summary = String::from_utf8_lossy(&summary.stdout).into_owned();
    // 14:00:01.000 .. 14:00:02.600: the close, its backoff, the retry and its open.
    assert!(summary.contains("Events: 4 "), "{summary}");
    assert!(summary.contains("Sessions: 1\n"), "{summary}");
    assert!(summary.contains("Connection attempts: 1\n"), "{summary}");
    assert!(html.contains("id=\"h-events\" data-value=\"4\""));
    assert!(html.contains("id=\"h-sessions\" data-value=\"1\""));
    assert!(html.contains("id=\"h-attempts\" data-value=\"1\""));
    assert!(html.contains("id=\"h-opens\" data-value=\"1\""));
}
