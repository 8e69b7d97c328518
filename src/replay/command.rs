//! `wsmon replay`: the headless commands over a recording (summary, state at a moment, slice).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::engine::events::{Cause, EventKind, SessionId, SessionState};
use crate::export::jsonl::format_ts;
use crate::export::reader::Summary;
use crate::export::{CodeNamer, ExportWriter, RunInfo, to_json_line};
use crate::redact::escape_control;
use crate::runtime::replay::cursor::ReplayCursor;
use crate::runtime::replay::load::{self, Recording};
use crate::runtime::replay::merge::{Merged, merge};
use crate::runtime::replay::time::parse_time;
use crate::state::snapshot::Snapshot;

/// What `wsmon replay` was asked to do (built by the CLI from its `ReplayArgs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The first file; `more_files` the others (`wsmon replay A.jsonl B.jsonl ...`), merged
    /// with it by time.
    pub file: PathBuf,
    pub more_files: Vec<PathBuf>,
    /// `--fail-if EXPR` (repeatable): the thresholds of `watch --headless`, on the record.
    pub fail_if: Vec<String>,
    /// `--summary-json FILE`: the summary as JSON, of the same shape as `watch`'s.
    pub summary_json: Option<PathBuf>,
    /// `--no-default-gate`: the verdict is the thresholds' only.
    pub no_default_gate: bool,
    /// `--summary` (also what plain `wsmon replay FILE` does without a screen).
    pub summary: bool,
    pub at: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub export: Option<PathBuf>,
    /// The config file's `[keys]`, for the TUI.
    pub keys: std::collections::BTreeMap<String, String>,
    /// `--messages`: print the recorded messages (of `--session`, matching `--grep`).
    pub messages: bool,
    pub session: Option<String>,
    pub grep: Option<String>,
}

/// Exit code for a file that is not a wsmon export, or a time that cannot be used.
const USAGE: u8 = 2;

/// What `wsmon replay` does with its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayMode {
    Summary,
    At,
    Export,
    /// The TUI on the recording, with a time cursor.
    Tui,
    /// `--messages`: the recorded messages, one line each.
    Messages,
}

/// Plain `wsmon replay FILE` opens the TUI on the recording when stdout is a terminal, and
/// prints the summary otherwise (or with `--summary`, `--from`, `--to`).
pub fn mode(args: &Options, stdout_is_terminal: bool) -> ReplayMode {
    if args.messages {
        ReplayMode::Messages
    } else if args.at.is_some() {
        ReplayMode::At
    } else if args.export.is_some() {
        ReplayMode::Export
    } else if stdout_is_terminal
        && !args.summary
        && args.from.is_none()
        && args.to.is_none()
        && args.fail_if.is_empty()
        && args.summary_json.is_none()
    {
        ReplayMode::Tui
    } else {
        ReplayMode::Summary
    }
}

/// The TUI on a recording: the replay source (a driver task owning the time cursor) runs in a
/// runtime; the TUI shows its snapshots and sends it the time cursor's commands.
async fn run_tui(
    rec: Arc<Recording>,
    file: String,
    keys: std::collections::BTreeMap<String, String>,
) -> anyhow::Result<ExitCode> {
    let cursor = ReplayCursor::new(rec);
    let Some(replay) = crate::tui::replay::ReplayView::new(file.clone(), &cursor) else {
        return usage(format!("{file}: no events"));
    };
    let opts = crate::tui::TuiOptions {
        keys,
        ..crate::tui::TuiOptions::default()
    };
    let view = match crate::tui::replay_view_state(&opts, replay) {
        Ok(view) => view,
        Err(e) => return usage(e),
    };
    let screen = match crate::tui::Screen::open() {
        Ok(screen) => screen,
        // Replay has no --headless: say what it does without a screen.
        Err(crate::tui::ScreenError::NoTerminal) => {
            return usage("no terminal: use --summary, --at or --export");
        }
        Err(e) => return usage(e),
    };
    let rt = crate::runtime::start(
        crate::runtime::replay::Replay { cursor },
        crate::runtime::Sinks::default(),
    )?;
    let (snapshots, commands) = (rt.snapshots.clone(), rt.commands.clone());
    let result = crate::tui::run_replay(screen, snapshots, commands, view, opts.fps).await;
    rt.shutdown().await;
    result.map(|()| ExitCode::SUCCESS)
}

fn usage(msg: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("wsmon: {msg}");
    Ok(ExitCode::from(USAGE))
}

/// Run `wsmon replay`. Bad input (a file that cannot be read or is not an export, a time
/// that cannot be used, an export name without a known extension) exits 2 with one message; a
/// reader that went away (`| head`) ends the output quietly.
pub async fn run(args: &Options) -> anyhow::Result<ExitCode> {
    if let Some(out) = &args.export
        && let Err(e) = crate::export::Format::from_path(out)
    {
        return usage(e);
    }
    let gate = match super::gate::parse(&args.fail_if) {
        Ok(gate) => gate,
        Err(e) => return usage(e),
    };
    let paths: Vec<&PathBuf> = std::iter::once(&args.file)
        .chain(&args.more_files)
        .collect();
    let mut files = Vec::with_capacity(paths.len());
    for path in &paths {
        match load::load_run(path) {
            Ok((rec, meta)) => {
                let shown = escape_control(&rec.path.display().to_string());
                for w in &rec.warnings {
                    eprintln!("wsmon: warning: {shown}: {w}");
                }
                files.push((rec, meta));
            }
            Err(e) => return usage(e),
        }
    }
    let merged = merge(files);
    for note in &merged.notes {
        eprintln!("wsmon: warning: {note}");
    }
    let shown = if paths.len() == 1 {
        escape_control(&args.file.display().to_string())
    } else {
        format!(
            "{} ({} files merged; shards {})",
            paths
                .iter()
                .map(|p| escape_control(&p.display().to_string()))
                .collect::<Vec<_>>()
                .join(" + "),
            paths.len(),
            merged.shards.join(", ")
        )
    };
    let rec = &merged.rec;
    let (start, end) = match (rec.start(), rec.end()) {
        (Some(a), Some(b)) => (a, b),
        _ => (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC),
    };
    let resolve = |spec: &Option<String>| spec.as_deref().map(|s| parse_time(s, start, end));
    let from = match resolve(&args.from).transpose() {
        Ok(t) => t,
        Err(e) => return usage(format!("--from: {e}")),
    };
    let to = match resolve(&args.to).transpose() {
        Ok(t) => t,
        Err(e) => return usage(format!("--to: {e}")),
    };
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return usage(format!(
            "--from {} is after --to {}: the window is empty",
            format_ts(&f),
            format_ts(&t)
        ));
    }
    let window = Window { from, to };
    let mode = mode(args, io::stdout().is_terminal());
    if mode == ReplayMode::Tui {
        let name = paths
            .iter()
            .map(|p| {
                p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                )
            })
            .collect::<Vec<_>>()
            .join(" + ");
        return run_tui(merged.rec, escape_control(&name), args.keys.clone()).await;
    }
    let mut status = 0;
    let text = match mode {
        ReplayMode::At => {
            let at = match resolve(&args.at).transpose() {
                Ok(Some(t)) => t,
                Ok(None) => return usage("--at needs a time"),
                Err(e) => return usage(format!("--at: {e}")),
            };
            if rec.events.is_empty() {
                return usage(format!("{shown}: no events"));
            }
            if at < start || at > end {
                return usage(format!(
                    "--at {} is outside the recording ({} .. {})",
                    format_ts(&at),
                    format_ts(&start),
                    format_ts(&end)
                ));
            }
            let mut cursor = ReplayCursor::new(rec.clone());
            cursor.seek(at);
            let snap = cursor.snapshot();
            format!(
                "{shown}\n{}",
                state_report(&merged, &snap, cursor.position())
            )
        }
        ReplayMode::Export => {
            let Some(path) = &args.export else {
                return usage("--export needs a file");
            };
            if paths.iter().any(|p| same_file(path, p)) {
                return usage("--export would overwrite a file being replayed");
            }
            let n = match write_slice(&merged, window, path) {
                Ok(n) => n,
                Err(e) => {
                    // The export error's own text: its path escaped, the OS's cause once.
                    eprintln!("wsmon: {e}");
                    return Ok(ExitCode::from(EXIT_FAILED));
                }
            };
            let out = escape_control(&path.display().to_string());
            format!("wrote {n} events to {out}\n")
        }
        ReplayMode::Messages => return messages(&merged, window, args),
        ReplayMode::Tui | ReplayMode::Summary => {
            let mut text = format!("{shown}\n{}", summary(rec, window));
            if !gate.is_empty() || args.summary_json.is_some() {
                let v = super::gate::judge(
                    &merged,
                    &gate,
                    !args.no_default_gate,
                    args.summary_json.as_deref(),
                );
                text.push_str(&v.text);
                status = v.status;
            }
            text
        }
    };
    print_quietly(&text)?;
    Ok(ExitCode::from(status))
}

/// `--messages`: print the lines; exit 0 when some were printed, 1 when none matched (or none
/// were recorded), 2 for a bad `--grep` or a `--session` not in the recording.
fn messages(merged: &Merged, window: Window, args: &Options) -> anyhow::Result<ExitCode> {
    match message_lines(merged, window, args) {
        Ok((text, code)) => {
            print_quietly(&text)?;
            Ok(ExitCode::from(code))
        }
        Err(e) => usage(e),
    }
}

fn message_lines(merged: &Merged, window: Window, args: &Options) -> Result<(String, u8), String> {
    let grep = args
        .grep
        .as_deref()
        .map(|g| {
            regex::Regex::new(g).map_err(|e| format!("--grep: {}", escape_control(&e.to_string())))
        })
        .transpose()?;
    let filter = super::messages::Filter {
        session: args.session.clone(),
        grep,
    };
    let listing = super::messages::list(merged, &|t| window.contains(t), &filter);
    if let Some(s) = &args.session
        && !listing.session_found
    {
        return Err(format!(
            "--session {}: no such session in the recording",
            escape_control(s)
        ));
    }
    if listing.recorded == 0 {
        eprintln!("wsmon: no messages in the recording (record them with watch --record-messages)");
    }
    Ok((
        listing.text,
        if listing.shown > 0 { 0 } else { EXIT_FAILED },
    ))
}

/// Exit code when the slice could not be written.
const EXIT_FAILED: u8 = 1;

/// Write `text` to stdout; a reader that went away (`wsmon replay ... | head`) is not an error.
fn print_quietly(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// `--from` / `--to`, both inclusive.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Window {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t <= e)
    }
}

/// Close-code names as the log gave them, else the knowledge base's.
fn namer(rec: &Recording) -> CodeNamer {
    let names: HashMap<u16, String> = rec.code_names.clone();
    Arc::new(move |code| {
        names
            .get(&code)
            .cloned()
            .unwrap_or_else(|| crate::codes::Registry::builtin().name(code))
    })
}

/// Today's summary, over the events inside `window`.
pub fn summary(rec: &Recording, window: Window) -> Summary {
    let name = namer(rec);
    let mut urls: HashMap<SessionId, String> = HashMap::new();
    let mut s = Summary::default();
    for ev in &rec.events {
        if let EventKind::Spawned { url, .. } = &ev.kind {
            urls.insert(ev.session, crate::redact::url(url));
        }
        if window.contains(ev.ts) {
            let url = urls.get(&ev.session).map_or("", String::as_str);
            s.add(&to_json_line(ev, url, &*name));
        }
    }
    s
}

/// Write the events inside `window` to `path` (format by its extension). Sessions spawned
/// before the window keep their `spawned` line (with its own, earlier time) so the slice
/// replays on its own. Returns the number of events written.
pub fn write_slice(merged: &Merged, window: Window, path: &Path) -> anyhow::Result<u64> {
    let rec = &merged.rec;
    let mut spawned: HashMap<SessionId, usize> = HashMap::new();
    let mut carried: Vec<usize> = Vec::new();
    let mut inside: Vec<usize> = Vec::new();
    for (i, ev) in rec.events.iter().enumerate() {
        let is_spawn = matches!(ev.kind, EventKind::Spawned { .. });
        if window.contains(ev.ts) {
            if !is_spawn && let Some(j) = spawned.remove(&ev.session) {
                carried.push(j);
            }
            if is_spawn {
                spawned.remove(&ev.session);
            }
            inside.push(i);
        } else if is_spawn && window.from.is_some_and(|f| ev.ts < f) {
            spawned.insert(ev.session, i);
        }
    }
    carried.sort_unstable();
    let mut w = ExportWriter::create(path, namer(rec))?;
    // Each session keeps the shard of the file it came from.
    w.set_run(RunInfo {
        shard: merged
            .shards
            .first()
            .cloned()
            .unwrap_or_else(|| "1/1".into()),
        start_at: merged.start_at,
        // Messages in the log were recorded on purpose: the slice keeps them.
        record_messages: true,
    });
    w.set_session_shards(merged.shard_of.clone());
    for i in carried.into_iter().chain(inside) {
        w.write(&rec.events[i])?;
    }
    w.flush()?;
    Ok(w.count())
}

fn cause_text(rec: &Recording, c: &Cause) -> String {
    match *c {
        Cause::Close { code } => format!("close {code} {}", rec.code_name(code)),
        Cause::Status { status } => format!("HTTP {status}"),
        Cause::Error { kind } => format!("{} error", kind.as_str()),
        Cause::Manual => "manual".into(),
        Cause::Shutdown => "shutdown".into(),
        Cause::Connection { reason, h2_error } => {
            crate::protocol::http2::loss_label(reason, h2_error)
        }
    }
}

/// The state at the cursor as plain text: sessions by state, closes by code, waiting sessions
/// with their next attempt.
pub fn state_report(merged: &Merged, snap: &Snapshot, applied: usize) -> String {
    let rec = &merged.rec;
    let mut o = String::new();
    let now = snap.now;
    let offset = rec
        .start()
        .map_or(0.0, |s| (now - s).num_milliseconds() as f64 / 1000.0);
    let _ = writeln!(
        o,
        "At {} (+{offset:.1} s from the start; {applied} of {} events)",
        format_ts(&now),
        rec.events.len()
    );
    let t = &snap.totals;
    let _ = writeln!(o, "Sessions: {}", snap.sessions.len());
    for st in SessionState::ALL {
        let n = t.by_state[st.index()];
        if n > 0 {
            let _ = writeln!(o, "  {:<12} {n:>8}", st.as_str());
        }
    }
    let _ = writeln!(o, "Connection attempts so far: {}", t.attempts);
    if !t.closes_by_code.is_empty() {
        let _ = writeln!(o, "Closes by code so far:");
        for (code, n) in &t.closes_by_code {
            let name = escape_control(&rec.code_name(*code));
            let _ = writeln!(o, "  {code} {name:<28} {n:>8}");
        }
    }
    if !t.statuses.is_empty() {
        let _ = writeln!(o, "Handshake statuses so far:");
        for (status, n) in &t.statuses {
            let _ = writeln!(o, "  {status:<12} {n:>8}");
        }
    }
    let mut waiting: Vec<_> = snap
        .sessions
        .iter()
        .filter(|s| s.state == SessionState::Waiting)
        .filter_map(|s| s.next_attempt_at.map(|at| (at, s)))
        .collect();
    waiting.sort_by_key(|(at, s)| (*at, s.id));
    if !waiting.is_empty() {
        let _ = writeln!(o, "Waiting sessions (next attempt):");
        for (at, s) in waiting {
            let secs = (at - now).num_milliseconds() as f64 / 1000.0;
            let next = s.timeline.back();
            let attempt = next.map_or(s.attempt.saturating_add(1), |r| r.attempt);
            let cause = next
                .and_then(|r| r.cause.as_ref())
                .map(|c| format!("  after {}", cause_text(rec, c)))
                .unwrap_or_default();
            let _ = writeln!(
                o,
                "  {:<7} attempt {attempt:<4} at {} (in {secs:.1} s){}",
                merged.label(s.id),
                format_ts(&at),
                escape_control(&cause)
            );
        }
    }
    let _ = writeln!(o, "Gave up: {}", t.gave_up);
    o
}
