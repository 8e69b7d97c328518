//! Loading an export (`.jsonl` or `.csv`) back into [`Event`]s in time order.
//!
//! Damaged and foreign logs: a cut-off last line, unknown events or fields (a newer wsmon),
//! unreadable lines and lines slightly out of time order are loaded around, with one
//! [`Warning`] per kind (how many, and the first line). A file whose first record is not a
//! wsmon event is refused with [`LoadError::NotAnExport`].

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::cap::{LineCap, LongLines, MAX_LINE_TEXT, size_text};
use super::line::{self, LineError, Parsed};
use crate::engine::events::Event;
use crate::export::{Format, csv::COLUMNS};

/// A path as messages show it: control characters escaped.
fn shown(path: &Path) -> String {
    crate::redact::escape_control(&path.display().to_string())
}

/// Why a file cannot be replayed. The messages quote the path escaped, and the file's own
/// bytes only as a short escaped excerpt.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(
        "cannot tell the format of '{}': replay reads .jsonl (JSON Lines) or .csv exports",
        shown(path)
    )]
    UnknownFormat { path: PathBuf },
    // The OS's words once (not also as a source: callers print the chain).
    #[error("{}: {error}", shown(path))]
    Io { path: PathBuf, error: io::Error },
    #[error(
        "{}: not a regular file ({what}); replay reads files written by `watch --export`",
        shown(path)
    )]
    NotAFile { path: PathBuf, what: &'static str },
    #[error(
        "{}: not a wsmon export (line {line}: {why}); replay reads files written by `watch --export`",
        shown(path)
    )]
    NotAnExport {
        path: PathBuf,
        line: u64,
        why: String,
    },
}

/// What was wrong with a log that still loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WarningKind {
    /// The last line is incomplete (the writer was killed mid-line).
    TruncatedLastLine,
    /// Lines that are neither JSON events nor valid CSV rows.
    Unreadable,
    /// Events of a type this version does not know.
    UnknownEvent,
    /// Fields this version does not know (ignored; the event still loads).
    UnknownField,
    /// Lines whose time is earlier than a line before them (the log is sorted by time).
    OutOfOrder,
    /// Lines over the length limit, skipped without being read into memory.
    TooLong,
}

/// One kind of damage: how many lines, the first one, and an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub kind: WarningKind,
    pub count: u64,
    pub first_line: u64,
    /// What the first occurrence was (a name, an error, a lag).
    pub example: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, ex, first) = (self.count, &self.example, self.first_line);
        let s = if n == 1 { "" } else { "s" };
        match self.kind {
            WarningKind::TruncatedLastLine => {
                write!(f, "last line {first} is cut off ({ex}); skipped")
            }
            WarningKind::Unreadable => {
                write!(
                    f,
                    "{n} unreadable line{s} skipped, first at line {first} ({ex})"
                )
            }
            WarningKind::UnknownEvent => write!(
                f,
                "{n} event{s} of unknown type skipped, first at line {first} ({ex})"
            ),
            WarningKind::UnknownField => write!(
                f,
                "{n} unknown field{s} ignored, first at line {first} ({ex})"
            ),
            WarningKind::OutOfOrder => write!(
                f,
                "{n} line{s} out of time order (by up to {ex}), first at line {first}; sorted by time"
            ),
            WarningKind::TooLong if n == 1 => write!(
                f,
                "line {first} is {ex}, over the {MAX_LINE_TEXT} limit; skipped"
            ),
            WarningKind::TooLong => write!(
                f,
                "{n} lines over the {MAX_LINE_TEXT} limit skipped, first: line {first} is {ex}"
            ),
        }
    }
}

/// A loaded log: every event in time order, plus what the file told about itself.
#[derive(Debug)]
pub struct Recording {
    pub path: PathBuf,
    pub format: Format,
    /// In time order (stable: lines with the same time keep their file order).
    pub events: Vec<Event>,
    /// Close-code names as the log gave them (`code_name`), first one seen per code.
    pub code_names: HashMap<u16, String>,
    /// One per kind of damage, in [`WarningKind`] order.
    pub warnings: Vec<Warning>,
}

impl Recording {
    /// Time of the first event.
    pub fn start(&self) -> Option<DateTime<Utc>> {
        self.events.first().map(|e| e.ts)
    }

    /// Time of the last event.
    pub fn end(&self) -> Option<DateTime<Utc>> {
        self.events.last().map(|e| e.ts)
    }

    /// Number of events with `ts <= t`.
    pub fn count_until(&self, t: DateTime<Utc>) -> usize {
        self.events.partition_point(|e| e.ts <= t)
    }

    /// Name of a close code: the log's own name, else the knowledge base's.
    pub fn code_name(&self, code: u16) -> String {
        self.code_names
            .get(&code)
            .cloned()
            .unwrap_or_else(|| crate::codes::Registry::builtin().name(code))
    }
}

/// What an export says about the run that wrote it (from its first `spawned` event that says
/// it; older exports say nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunMeta {
    /// `--shard` as written (`2/4`; `1/1` for an unsharded run).
    pub shard: Option<String>,
    /// `--start-at`, when the run had one.
    pub start_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct Collector {
    run: RunMeta,
    events: Vec<Event>,
    code_names: HashMap<u16, String>,
    warnings: HashMap<WarningKind, Warning>,
    /// The line of each event (same order as `events`), for the out-of-order warning.
    lines: Vec<u64>,
    first_record_seen: bool,
}

impl Collector {
    fn warn(&mut self, kind: WarningKind, line: u64, example: impl FnOnce() -> String) {
        self.warnings
            .entry(kind)
            .and_modify(|w| w.count += 1)
            .or_insert_with(|| Warning {
                kind,
                count: 1,
                first_line: line,
                example: example(),
            });
    }

    /// Take one parsed (or failed) record. `last` marks a final line without its newline.
    fn take(
        &mut self,
        path: &Path,
        line_no: u64,
        result: Result<Parsed, LineError>,
        cut_off: bool,
    ) -> Result<(), LoadError> {
        let first = !self.first_record_seen;
        self.first_record_seen = true;
        match result {
            Ok(p) => {
                if p.unknown_fields > 0 {
                    let name = p.first_unknown.unwrap_or_default();
                    for _ in 0..p.unknown_fields {
                        self.warn(WarningKind::UnknownField, line_no, || {
                            format!("\"{}\"", line::excerpt(&name))
                        });
                    }
                }
                if let Some((code, name)) = p.code_name {
                    self.code_names.entry(code).or_insert(name);
                }
                if self.run.shard.is_none() {
                    self.run.shard = p.shard;
                }
                if self.run.start_at.is_none() {
                    self.run.start_at = p.start_at;
                }
                self.events.push(p.event);
                self.lines.push(line_no);
            }
            Err(LineError::Malformed(why)) if first => {
                return Err(LoadError::NotAnExport {
                    path: path.to_path_buf(),
                    line: line_no,
                    why,
                });
            }
            Err(LineError::Malformed(why)) if cut_off => {
                self.warn(WarningKind::TruncatedLastLine, line_no, || why)
            }
            Err(LineError::Malformed(why)) => self.warn(WarningKind::Unreadable, line_no, || why),
            Err(LineError::UnknownEvent(name)) => {
                self.warn(WarningKind::UnknownEvent, line_no, || {
                    format!("\"{}\"", line::excerpt(&name))
                })
            }
        }
        Ok(())
    }

    /// Add the collector of the next part of the file, whose line numbers start after
    /// `line_base` lines.
    fn append(&mut self, mut next: Collector, line_base: u64) {
        self.run.shard = self.run.shard.take().or(next.run.shard.take());
        self.run.start_at = self.run.start_at.or(next.run.start_at);
        self.events.append(&mut next.events);
        self.lines.extend(next.lines.iter().map(|l| l + line_base));
        for (code, name) in next.code_names {
            self.code_names.entry(code).or_insert(name);
        }
        for (kind, w) in next.warnings {
            self.warnings
                .entry(kind)
                .and_modify(|mine| mine.count += w.count)
                .or_insert(Warning {
                    first_line: w.first_line + line_base,
                    ..w
                });
        }
    }

    /// Take the lines the reader dropped for their length. A file with no record besides them
    /// is not an export.
    fn long_lines(&mut self, path: &Path, long: &LongLines) -> Result<(), LoadError> {
        let Some(&(line, len)) = long.first() else {
            return Ok(());
        };
        if self.events.is_empty() {
            return Err(LoadError::NotAnExport {
                path: path.to_path_buf(),
                line,
                why: format!(
                    "line {line} is {}, over the {MAX_LINE_TEXT} limit",
                    size_text(len)
                ),
            });
        }
        for &(line, len) in long {
            self.warn(WarningKind::TooLong, line, || size_text(len));
        }
        Ok(())
    }

    fn finish(mut self, path: &Path, format: Format) -> (Recording, RunMeta) {
        let mut latest: Option<DateTime<Utc>> = None;
        let mut max_lag_ms = 0;
        for (ev, &line) in self.events.iter().zip(&self.lines) {
            match latest {
                Some(l) if ev.ts < l => {
                    max_lag_ms = max_lag_ms.max((l - ev.ts).num_milliseconds());
                    self.warnings
                        .entry(WarningKind::OutOfOrder)
                        .and_modify(|w| w.count += 1)
                        .or_insert(Warning {
                            kind: WarningKind::OutOfOrder,
                            count: 1,
                            first_line: line,
                            example: String::new(),
                        });
                }
                _ => latest = Some(ev.ts),
            }
        }
        if let Some(w) = self.warnings.get_mut(&WarningKind::OutOfOrder) {
            w.example = format!("{max_lag_ms} ms");
            // Stable: same-time lines (and each session's own lines) keep their order.
            self.events.sort_by_key(|e| e.ts);
        }
        let mut warnings: Vec<Warning> = self.warnings.into_values().collect();
        warnings.sort_by_key(|w| w.kind);
        let rec = Recording {
            path: path.to_path_buf(),
            format,
            events: self.events,
            code_names: self.code_names,
            warnings,
        };
        (rec, self.run)
    }
}

/// Load an export; the format follows the file name (`.jsonl`/`.json` or `.csv`). Only regular
/// files are read (a symlink to `/dev/zero` is refused before reading), line by line, each line
/// at most [`MAX_LINE`](super::cap::MAX_LINE) bytes.
pub fn load(path: &Path) -> Result<Recording, LoadError> {
    load_run(path).map(|(rec, _)| rec)
}

/// [`load`], and what the export says about its run (shard, start time).
pub fn load_run(path: &Path) -> Result<(Recording, RunMeta), LoadError> {
    let format = Format::from_path(path).map_err(|_| LoadError::UnknownFormat {
        path: path.to_path_buf(),
    })?;
    let io_error = |error| LoadError::Io {
        path: path.to_path_buf(),
        error,
    };
    let (file, _) = crate::files::open_regular(path).map_err(|e| match e {
        crate::files::OpenError::Io(e) => io_error(e),
        crate::files::OpenError::NotAFile(what) => LoadError::NotAFile {
            path: path.to_path_buf(),
            what,
        },
    })?;
    let mut reader = LineCap::new(file);
    let mut c = match format {
        Format::Jsonl => load_jsonl(path, &mut reader)?,
        Format::Csv => load_csv(path, &mut reader)?,
    };
    c.long_lines(path, reader.long_lines())?;
    Ok(c.finish(path, format))
}

/// Bytes of JSON Lines parsed at once (in parallel); the reader reads the next block after.
const BLOCK: usize = 16 << 20;

/// JSON Lines are read a block at a time (whole lines); each block is parsed in parallel: split
/// at line boundaries into one part per core, each part parsed on its own thread, and the parts
/// joined in file order.
fn load_jsonl(path: &Path, reader: &mut impl Read) -> Result<Collector, LoadError> {
    let mut all = Collector::default();
    let mut line_base = 0;
    let mut buf: Vec<u8> = Vec::new();
    let mut first = true;
    loop {
        let want = BLOCK.saturating_sub(buf.len()).max(1 << 20);
        let got = reader
            .by_ref()
            .take(want as u64)
            .read_to_end(&mut buf)
            .map_err(|error| LoadError::Io {
                path: path.to_path_buf(),
                error,
            })?;
        let end = got == 0;
        // Whole lines only, but everything at the end (a cut-off last line).
        let upto = if end {
            buf.len()
        } else {
            match buf.iter().rposition(|&b| b == b'\n') {
                Some(p) => p + 1,
                None => continue,
            }
        };
        for r in parse_block(path, &buf[..upto], first) {
            let (c, lines) = r?;
            all.append(c, line_base);
            line_base += lines;
        }
        first = false;
        buf.drain(..upto);
        if end {
            return Ok(all);
        }
    }
}

/// Parse whole lines in parallel parts; the results in file order.
fn parse_block(path: &Path, bytes: &[u8], first: bool) -> Vec<Result<(Collector, u64), LoadError>> {
    let parts = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let parts = if bytes.len() < (1 << 20) { 1 } else { parts };
    let mut bounds = vec![0usize];
    for k in 1..parts {
        let guess = (bytes.len() * k / parts).max(bounds[bounds.len() - 1]);
        let cut = bytes[guess..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |p| guess + p + 1);
        bounds.push(cut);
    }
    bounds.push(bytes.len());
    let chunks: Vec<&[u8]> = bounds.windows(2).map(|w| &bytes[w[0]..w[1]]).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .enumerate()
            .map(|(k, chunk)| scope.spawn(move || parse_jsonl_part(path, chunk, first && k == 0)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(LoadError::Io {
                        path: path.to_path_buf(),
                        error: io::Error::other("a parser thread panicked"),
                    })
                })
            })
            .collect()
    })
}

/// Parse one part of a JSONL file; returns its collector and its number of lines. Only the
/// first part judges whether the file is an export at all.
fn parse_jsonl_part(path: &Path, part: &[u8], first: bool) -> Result<(Collector, u64), LoadError> {
    let mut c = Collector {
        first_record_seen: !first,
        ..Collector::default()
    };
    let mut line_no = 0u64;
    let mut rest = part;
    while !rest.is_empty() {
        let (line, cut_off) = match rest.iter().position(|&b| b == b'\n') {
            Some(p) => {
                let line = &rest[..p];
                rest = &rest[p + 1..];
                (line, false)
            }
            None => (std::mem::take(&mut rest), true),
        };
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        c.take(path, line_no, line::parse_json(line), cut_off)?;
    }
    Ok((c, line_no))
}

/// Columns whose cells are numbers in the JSON form of an event.
const NUMERIC: [&str; 8] = [
    "session",
    "attempt",
    "code",
    "uptime_ms",
    "status",
    "window_ms",
    "delay_ms",
    "retry_after_ms",
];

/// A CSV cell back into the JSON value it was written from.
fn cell_value(column: &str, cell: &str) -> Value {
    if NUMERIC.contains(&column)
        && let Ok(n) = cell.parse::<u64>()
    {
        return Value::from(n);
    }
    if column == "clean" || column == "code_on_wire" {
        match cell {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
    }
    Value::String(cell.to_string())
}

fn load_csv(path: &Path, reader: &mut impl Read) -> Result<Collector, LoadError> {
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(reader);
    let mut c = Collector::default();
    let mut header: Option<Vec<String>> = None;
    let mut record = ::csv::StringRecord::new();
    let mut pending: Option<(u64, Result<Parsed, LineError>)> = None;
    loop {
        let line_no = rdr.position().line();
        let more = match rdr.read_record(&mut record) {
            Ok(more) => more,
            Err(e) => {
                // A broken row (for instance a quote cut off by a killed writer).
                if let Some((l, r)) = pending.take() {
                    c.take(path, l, r, false)?;
                }
                let why = line::excerpt(&e.to_string());
                if header.is_none() {
                    return Err(LoadError::NotAnExport {
                        path: path.to_path_buf(),
                        line: line_no,
                        why,
                    });
                }
                pending = Some((line_no, Err(LineError::Malformed(why))));
                continue;
            }
        };
        if !more {
            break;
        }
        let Some(names) = &header else {
            let names: Vec<String> = record.iter().map(str::to_string).collect();
            let ours = names.len() >= 4
                && names[..4] == COLUMNS[..4]
                && names.iter().any(|n| n == "detail");
            if !ours {
                return Err(LoadError::NotAnExport {
                    path: path.to_path_buf(),
                    line: line_no,
                    why: format!("the CSV header is not wsmon's ({})", COLUMNS[..4].join(",")),
                });
            }
            header = Some(names);
            continue;
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        let result = row_to_value(names, &record).and_then(line::parse_value);
        if let Some((l, r)) = pending.replace((line_no, result)) {
            c.take(path, l, r, false)?;
        }
    }
    if let Some((l, r)) = pending.take() {
        // A cut-off last row has too few cells or a broken `detail`.
        c.take(path, l, r, true)?;
    }
    Ok(c)
}

fn row_to_value(names: &[String], record: &::csv::StringRecord) -> Result<Value, LineError> {
    if record.len() != names.len() {
        return Err(LineError::Malformed(format!(
            "{} cells where the header has {}",
            record.len(),
            names.len()
        )));
    }
    let mut m = Map::new();
    for (name, cell) in names.iter().zip(record.iter()) {
        if cell.is_empty() {
            continue;
        }
        if name == "detail" {
            match serde_json::from_str::<Value>(cell) {
                Ok(Value::Object(rest)) => m.extend(rest),
                Ok(_) => return Err(LineError::Malformed("detail is not a JSON object".into())),
                Err(e) => {
                    return Err(LineError::Malformed(line::excerpt(&format!("detail: {e}"))));
                }
            }
        } else {
            m.insert(name.clone(), cell_value(name, cell));
        }
    }
    Ok(Value::Object(m))
}
