//! `wsmon report`: one self-contained HTML file that tells the story of a recorded run, for
//! people who will not open a terminal. The third front end on the same store (after the TUI
//! and `replay`): the recording is loaded as replay loads it, fed through the live
//! [`Store`](crate::state::store::Store) with the recorded clock, and read back as aggregates.
//!
//! - [`data`]: one pass over the events gives the per-second series (attempts, opens, closes by
//!   code, statuses, errors by kind, open / waiting sessions, retries due, handshake p50/p99,
//!   the lockstep index against chance), the header counts, the busiest sessions; the final
//!   snapshot gives the per-target table and the `--fail-if` verdicts.
//! - [`html`]: the page. Every string that came from the record is HTML-escaped; the chart data
//!   sits in a JSON block with `<`, `>` and `&` escaped, so nothing in it can close the script.
//! - [`write`]: temporary file in the target directory, then rename: never a half-written report.
//!
//! The page holds aggregated series (per second, per code), never raw events, so its size does
//! not grow with the number of sessions (a 1,000,000-event run gives a page of a few hundred KB).
//!
//! **Charting: uPlot** (vendored from npm into `assets/vendor/uplot/` with its MIT licence and
//! version, embedded with `include_str!`). Chosen for size (about 50 KB minified, no
//! dependencies, so the page stays one small file that opens from disk offline), speed (it draws
//! on a canvas and stays fast on 100,000+ points, where SVG with one node per point does not),
//! and interaction out of the box: hover values in a legend, and one cursor shared by every
//! chart (`cursor.sync`), which is what an incident review needs to line up a close spike with
//! the retries it caused. Drawing SVG in Rust would have meant writing axes, hover and cursor
//! sync by hand. The page's Content-Security-Policy allows no network access at all.

pub mod data;
pub mod html;
pub mod write;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};

use crate::codes::Lang;
use crate::export::jsonl::format_ts;
use crate::redact::escape_control;
use crate::runtime::replay::load::{self, Recording};
use crate::runtime::replay::merge::{Merged, merge};
use crate::runtime::replay::time::parse_time;

/// What `wsmon report` was asked to do (built by the CLI).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Options {
    /// One or several exports (`.jsonl` / `.csv`).
    pub files: Vec<PathBuf>,
    /// `-o`: the HTML file to write.
    pub output: PathBuf,
    pub from: Option<String>,
    pub to: Option<String>,
    pub lang: Lang,
    /// `--fail-if` expressions, evaluated on the final snapshot.
    pub fail_if: Vec<String>,
    pub title: Option<String>,
}

/// Exit codes: a threshold failed (the report is written), bad input, the report not written.
const EXIT_THRESHOLD: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_WRITE: u8 = 3;

fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("wsmon: {msg}");
    ExitCode::from(code)
}

fn shown(path: &Path) -> String {
    escape_control(&path.display().to_string())
}

/// Several files, loaded as replay loads them and merged as replay merges them (by time,
/// session ids qualified by their file's shard, targets by URL: see
/// [`merge`](crate::runtime::replay::merge)). Warnings come back as text: each file's, prefixed
/// with its name, then the merge's notes (clock offsets, shards missing or repeated).
pub fn load_all(files: &[PathBuf]) -> Result<(Merged, Vec<String>), load::LoadError> {
    let mut loaded = Vec::with_capacity(files.len());
    let mut warnings = Vec::new();
    for f in files {
        let (rec, meta) = load::load_run(f)?;
        let name = shown(&rec.path);
        warnings.extend(rec.warnings.iter().map(|w| format!("{name}: {w}")));
        loaded.push((rec, meta));
    }
    let merged = merge(loaded);
    warnings.extend(merged.notes.iter().cloned());
    Ok((merged, warnings))
}

/// `--from` / `--to` resolved against the recording (both inclusive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Window {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t <= e)
    }
}

/// `--from` / `--to` with replay's forms (`14:03:12`, `+2m`, `-10s`, RFC 3339).
pub fn resolve_window(
    rec: &Recording,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Window, String> {
    let (start, end) = match (rec.start(), rec.end()) {
        (Some(a), Some(b)) => (a, b),
        _ => (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC),
    };
    let resolve = |flag: &str, spec: Option<&str>| {
        spec.map(|s| parse_time(s, start, end))
            .transpose()
            .map_err(|e| format!("{flag}: {e}"))
    };
    let w = Window {
        from: resolve("--from", from)?,
        to: resolve("--to", to)?,
    };
    if let (Some(f), Some(t)) = (w.from, w.to)
        && f > t
    {
        return Err(format!(
            "--from {} is after --to {}: the window is empty",
            format_ts(&f),
            format_ts(&t)
        ));
    }
    Ok(w)
}

/// Run `wsmon report`. Exit 0 when written, 1 when written and a `--fail-if` threshold failed,
/// 2 for bad input (a file that is not an export, a time or threshold that cannot be used), 3
/// when the report could not be written (nothing is left behind then).
pub fn run(opts: &Options) -> ExitCode {
    let mut thresholds = Vec::with_capacity(opts.fail_if.len());
    for expr in &opts.fail_if {
        match crate::thresholds::parse(expr) {
            Ok(t) => thresholds.push(t),
            Err(e) => return fail(EXIT_USAGE, format!("--fail-if {e}")),
        }
    }
    if opts.files.is_empty() {
        return fail(EXIT_USAGE, "report needs at least one export file");
    }
    if let Some(same) = opts
        .files
        .iter()
        .find(|f| write::same_file(f, &opts.output))
    {
        return fail(
            EXIT_USAGE,
            format!("-o {} would overwrite an input file", shown(same)),
        );
    }
    let (merged, warnings) = match load_all(&opts.files) {
        Ok(r) => r,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    let rec: &Recording = &merged.rec;
    for w in &warnings {
        eprintln!("wsmon: warning: {w}");
    }
    let window = match resolve_window(rec, opts.from.as_deref(), opts.to.as_deref()) {
        Ok(w) => w,
        Err(e) => return fail(EXIT_USAGE, e),
    };
    let files = opts.files.iter().map(|f| shown(f)).collect();
    let report = data::build(&merged, window, &thresholds, opts.lang, files, warnings);
    let title = opts.title.clone().unwrap_or_else(|| report.default_title());
    let page = html::render(&report, &title);
    if let Err(e) = write::atomic(&opts.output, page.as_bytes()) {
        return fail(EXIT_WRITE, e);
    }
    println!(
        "wrote {} ({} KB): {} events, {} sessions",
        shown(&opts.output),
        page.len().div_ceil(1024),
        report.header.events,
        report.header.sessions
    );
    let mut failed = false;
    for v in &report.verdicts {
        println!("{}", escape_control(&v.to_string()));
        failed |= v.verdict == crate::thresholds::Verdict::Fail;
    }
    if failed {
        return ExitCode::from(EXIT_THRESHOLD);
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests;
