//! `wsmon report` of a generated 1,000,000-event log (10,000 sessions under 1013 storms with
//! backoff, the same log as `benches/replay.rs`): end to end with the binary, by phase in
//! process, the page's size, and its draw time in headless Chromium (when installed). Not a
//! timed test: run `cargo bench --bench report` and read the table.

use std::process::Command;
use std::time::{Duration, Instant};

use wsmon::report::{Window, data, html};
use wsmon::runtime::replay::load::{RunMeta, load};
use wsmon::runtime::replay::merge::merge;

#[path = "common/log.rs"]
mod log;
use log::{generate, ms};

/// The page's own draw time (`data-draw-ms`, performance.now() when the last chart drew), read
/// through `--dump-dom`.
fn draw_ms(page: &std::path::Path, profile: &std::path::Path) -> Option<String> {
    let bin = ["chromium-headless-shell", "chromium"]
        .into_iter()
        .find(|b| Command::new(b).arg("--version").output().is_ok())?;
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=10000",
            "--window-size=1280,2000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .ok()?;
    let dom = String::from_utf8_lossy(&out.stdout);
    let key = "data-draw-ms=\"";
    let at = dom.find(key)? + key.len();
    let drawn = dom.matches("data-drawn=\"yes\"").count();
    let errors = dom.contains("data-errors=\"0\"");
    Some(format!(
        "{} ms ({drawn} charts drawn, {})",
        dom[at..].split('"').next()?,
        if errors {
            "no page error"
        } else {
            "PAGE ERRORS"
        }
    ))
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.jsonl");
    let t = Instant::now();
    let written = generate(&path);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "generated {written} events ({:.0} MB) in {:.1} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    // End to end: the binary as a user runs it (best of 3).
    let page = dir.path().join("report.html");
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_wsmon"))
            .arg("report")
            .arg(&path)
            .arg("-o")
            .arg(&page)
            .output()
            .expect("run wsmon report");
        assert!(out.status.success(), "report failed: {out:?}");
        best = best.min(t.elapsed());
    }
    let page_size = std::fs::metadata(&page).map(|m| m.len()).unwrap_or(0);
    println!("{:<28}{}", "wsmon report (best of 3)", ms(best));
    println!("{:<28}{:>9.0} KB", "page size", page_size as f64 / 1024.0);

    // By phase, in process.
    let t = Instant::now();
    let rec = load(&path).expect("load");
    let parse = t.elapsed();
    let t = Instant::now();
    let merged = merge(vec![(rec, RunMeta::default())]);
    let report = data::build(
        &merged,
        Window::default(),
        &[],
        wsmon::codes::Lang::En,
        vec![],
        vec![],
    );
    let build = t.elapsed();
    let t = Instant::now();
    let text = html::render(&report, "bench");
    let render = t.elapsed();
    println!(
        "{:<28}{}  ({} events)",
        "parse (load)",
        ms(parse),
        merged.rec.events.len()
    );
    println!(
        "{:<28}{}  ({} points per series)",
        "build (store pass, series)",
        ms(build),
        report.series.len
    );
    println!(
        "{:<28}{}  ({} bytes)",
        "render (HTML)",
        ms(render),
        text.len()
    );
    match draw_ms(&page, &dir.path().join("profile")) {
        Some(d) => println!("{:<28}{d}", "draw in Chromium"),
        None => println!("{:<28}skipped (no chromium)", "draw in Chromium"),
    }
}
