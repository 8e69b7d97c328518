//! `wsmon report` opened in real headless Chromium (installed by `tests/peers/install.sh`): a
//! real run against `wsmon serve` (one target closes with the reason
//! `<script>alert(1)</script>`), its report loaded from disk with `--dump-dom` and
//! `--screenshot`. The page writes its own checks into the DOM (`data-drawn` per chart,
//! `data-errors` with `window.onerror` and `console.error` captured).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn wsmon() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_wsmon"))
}

fn chromium() -> Option<&'static str> {
    ["chromium-headless-shell", "chromium"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
}

/// Headless Chromium on a file, with no network, no profile of its own beyond a temp dir.
fn browse(bin: &str, dir: &Path, extra: &[&str], page: &Path) -> Output {
    let profile = dir.join("profile");
    let url = format!("file://{}", page.display());
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
        "--window-size=1280,2000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .args(extra)
    .arg(url)
    .stdin(Stdio::null());
    run_bounded(cmd, Duration::from_secs(60))
}

/// Run `cmd` for at most `limit`, its output through files (a pipe that fills up would stall
/// it before it exits).
fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let mut child: Child = cmd
        .stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"))
        .spawn()
        .expect("start");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("timed out after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: std::fs::read(&out).expect("stdout"),
        stderr: std::fs::read(&err).expect("stderr"),
    }
}

/// A few seconds of a real run: an overloaded target and one that closes with a hostile reason.
fn record(dir: &Path) -> PathBuf {
    let port = common::free_port();
    let mut server = Command::new(wsmon())
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let export = dir.join("run.jsonl");
    let hostile = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let mut watch = Command::new(wsmon());
    watch
        .args([
            "watch",
            "--headless",
            "--duration",
            "3s",
            "-n",
            "4",
            "--export",
        ])
        .arg(&export)
        .arg(format!("ws://127.0.0.1:{port}/overload?cap=2"))
        .arg(format!("ws://127.0.0.1:{port}/close/4000?reason={hostile}"));
    let out = run_bounded(watch, Duration::from_secs(30));
    let _ = server.kill();
    let _ = server.wait();
    assert!(export.exists(), "no export: {out:?}");
    export
}

/// A number after `label` at the start of a line of `replay --summary`.
fn summary_number(summary: &str, label: &str) -> u64 {
    summary
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no '{label}' in summary:\n{summary}"))
}

/// The `data-value` of the header fact `id` in the dumped DOM.
fn header_value(dom: &str, id: &str) -> u64 {
    let key = format!("id=\"h-{id}\" data-value=\"");
    let at = dom
        .find(&key)
        .unwrap_or_else(|| panic!("no {key} in the DOM"))
        + key.len();
    dom[at..]
        .split('"')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

#[test]
fn the_report_draws_in_chromium_with_the_replay_totals_and_no_markup_from_the_record() {
    let Some(bin) = chromium() else {
        eprintln!("skipped: no chromium-headless-shell or chromium (run tests/peers/install.sh)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let export = record(dir.path());
    let page = dir.path().join("report.html");
    let out = Command::new(wsmon())
        .arg("report")
        .arg(&export)
        .arg("-o")
        .arg(&page)
        .args(["--title", "browser test"])
        .output()
        .expect("report");
    assert!(out.status.success(), "report failed: {out:?}");
    let html = std::fs::read_to_string(&page).expect("page");

    // No load from anywhere: no src attribute, no CSS import or url(); every href is a source
    // link (an <a>, followed only when clicked) to where a claim can be read.
    assert!(!html.contains(" src="), "a src attribute");
    assert!(
        !html.contains("@import") && !html.contains("url(http"),
        "a CSS load"
    );
    let links = [
        "https://www.rfc-editor.org/",
        "https://www.iana.org/",
        "https://github.com/",
    ];
    let hrefs: Vec<usize> = html.match_indices("href=\"").map(|(i, _)| i).collect();
    assert!(!hrefs.is_empty(), "no source links");
    for i in hrefs {
        let value = &html[i + 6..];
        assert!(
            html[..i].ends_with("<a ") && links.iter().any(|l| value.starts_with(l)),
            "an href that is not a source link: {}",
            &html[i.saturating_sub(10)..(i + 60).min(html.len())]
        );
    }

    let dump = browse(bin, dir.path(), &["--dump-dom"], &page);
    let dom = String::from_utf8_lossy(&dump.stdout).into_owned();
    assert!(
        dom.contains("data-errors=\"0\""),
        "page errors: {dom:.2000}"
    );
    assert!(dom.contains("<ul id=\"errors\"></ul>"));
    assert!(dom.contains("data-draw-ms=\""));
    for chart in [
        "rates",
        "closes",
        "failures",
        "sessions",
        "handshake",
        "lockstep",
    ] {
        let tag = format!("id=\"chart-{chart}\" data-chart=\"{chart}\" data-drawn=\"yes\"");
        assert!(dom.contains(&tag), "chart {chart} did not draw");
    }
    // The hostile reason is text: our three script elements and no other.
    assert!(
        dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "reason not shown"
    );
    assert_eq!(
        dom.matches("<script").count(),
        3,
        "a script element from the record"
    );

    // The header says what `replay --summary` says.
    let summary = Command::new(wsmon())
        .args(["replay", "--summary"])
        .arg(&export)
        .output()
        .expect("replay");
    let summary = String::from_utf8_lossy(&summary.stdout).into_owned();
    assert_eq!(
        header_value(&dom, "events"),
        summary_number(&summary, "Events:")
    );
    assert_eq!(
        header_value(&dom, "sessions"),
        summary_number(&summary, "Sessions:")
    );
    assert_eq!(
        header_value(&dom, "attempts"),
        summary_number(&summary, "Connection attempts:")
    );
    assert_eq!(
        header_value(&dom, "opens"),
        summary_number(&summary, "open ")
    );
    assert_eq!(header_value(&dom, "sessions"), 8);

    // Hovering the middle of the first chart moves the one shared cursor: every chart's
    // legend shows the values at that moment (the page's #selftest does the hover).
    let selftest = dir.path().join("report.html#selftest");
    let dump = browse(bin, dir.path(), &["--dump-dom"], &selftest);
    let dom = String::from_utf8_lossy(&dump.stdout).into_owned();
    assert!(
        dom.contains("data-cursor-charts=\"6\""),
        "cursor not shared: {:.300}",
        dom.find("<body").map_or("", |i| &dom[i..])
    );
    assert!(
        dom.contains("data-cursor-time=\"20"),
        "no time under the cursor"
    );

    let shot = dir.path().join("shot.png");
    let arg = format!("--screenshot={}", shot.display());
    let _ = browse(bin, dir.path(), &[&arg], &page);
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    assert!(
        png.len() > 20_000,
        "an empty screenshot ({} bytes)",
        png.len()
    );
}
