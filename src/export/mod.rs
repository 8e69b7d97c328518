//! `--export FILE`: every event as it happens, JSON Lines for `.jsonl` (or `.json`), CSV for
//! `.csv`; and the reader that `wsmon replay FILE.jsonl` uses to summarise such a log.
//!
//! Nothing is dropped and every line is written whole: each event is encoded into its own
//! buffer first and handed to the buffered file writer in one piece, so the file always ends
//! at a line boundary after each write to the OS. The writer keeps each session's URL from its
//! `spawned` event (redacted) and forgets it on `removed`.

pub mod csv;
pub mod jsonl;
pub mod reader;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::events::{Event, EventKind, SessionId};
use crate::redact;

pub use jsonl::to_json_line;

/// File format of an export, chosen by the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
}

impl Format {
    /// `.jsonl` / `.json` give JSON Lines, `.csv` gives CSV (case-insensitive); anything else is
    /// an error that names both.
    pub fn from_path(path: &Path) -> Result<Format, ExportError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("jsonl" | "json") => Ok(Format::Jsonl),
            Some("csv") => Ok(Format::Csv),
            _ => Err(ExportError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// A path as messages show it: control characters escaped (a file name can hold ESC).
fn shown(path: &Path) -> String {
    crate::redact::escape_control(&path.display().to_string())
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "cannot tell the export format of '{}': use a name ending in .jsonl (JSON Lines) or .csv (CSV)",
        shown(path)
    )]
    UnknownFormat { path: PathBuf },
    #[error("{}: {source}", shown(path))]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: cannot encode a CSV row: {source}", shown(path))]
    Csv { path: PathBuf, source: ::csv::Error },
    #[error("{}: cannot encode an event as JSON: {source}", shown(path))]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{}:{line}: {message}", shown(path))]
    Malformed {
        path: PathBuf,
        line: u64,
        message: String,
    },
}

impl ExportError {
    fn io(path: &Path, source: io::Error) -> Self {
        ExportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// What a run says about itself in every `spawned` event: its `--shard` (`"1/1"` for an
/// unsharded run) and its `--start-at` (absent without one). `replay` of several files uses
/// them to qualify session ids (`2/4:s17`) and to check that the agents' clocks agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    pub shard: String,
    pub start_at: Option<chrono::DateTime<chrono::Utc>>,
    /// `--record-messages`: `message` events (with their payloads) are written; without it
    /// the writer drops them, and no payload ever reaches the file.
    pub record_messages: bool,
}

impl Default for RunInfo {
    fn default() -> Self {
        RunInfo {
            shard: "1/1".into(),
            start_at: None,
            record_messages: false,
        }
    }
}

/// Names close codes for the export (the knowledge base's `name`).
pub type CodeNamer = Arc<dyn Fn(u16) -> String + Send + Sync>;

/// Buffered data reaches the OS at least this often while events keep coming.
const FLUSH_EVERY: Duration = Duration::from_secs(1);

/// Writes every event to the export file. Owned by the store task.
pub struct ExportWriter {
    path: PathBuf,
    format: Format,
    out: BufWriter<File>,
    code_name: CodeNamer,
    urls: HashMap<SessionId, Arc<str>>,
    run: RunInfo,
    /// Per-session shards, over `run.shard` (a merged replay's slice: each session keeps the
    /// shard of the file it came from).
    shard_of: HashMap<SessionId, Arc<str>>,
    line: Vec<u8>,
    count: u64,
    last_flush: Instant,
}

impl std::fmt::Debug for ExportWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportWriter")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl ExportWriter {
    /// Create (truncate) `path`; the format follows the extension. A CSV file starts with its
    /// header row.
    pub fn create(path: &Path, code_name: CodeNamer) -> Result<Self, ExportError> {
        let format = Format::from_path(path)?;
        let file = File::create(path).map_err(|e| ExportError::io(path, e))?;
        let mut w = ExportWriter {
            path: path.to_path_buf(),
            format,
            out: BufWriter::with_capacity(64 * 1024, file),
            code_name,
            urls: HashMap::new(),
            run: RunInfo::default(),
            shard_of: HashMap::new(),
            line: Vec::with_capacity(1024),
            count: 0,
            last_flush: Instant::now(),
        };
        if format == Format::Csv {
            let header = csv::encode_record(csv::COLUMNS).map_err(|e| w.csv_error(e))?;
            w.out
                .write_all(&header)
                .map_err(|e| ExportError::io(path, e))?;
        }
        Ok(w)
    }

    /// The run's shard and start time, written in every `spawned` event (`1/1` and no start
    /// time until set).
    pub fn set_run(&mut self, run: RunInfo) {
        self.run = run;
    }

    /// Shards of single sessions, written in their `spawned` events instead of the run's.
    pub fn set_session_shards(&mut self, shards: HashMap<SessionId, Arc<str>>) {
        self.shard_of = shards;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Write one event as one whole line (buffered; flushed at least once a second while
    /// events arrive, and by [`ExportWriter::flush`]).
    pub fn write(&mut self, ev: &Event) -> Result<(), ExportError> {
        if matches!(ev.kind, EventKind::Message(_)) && !self.run.record_messages {
            return Ok(());
        }
        if let EventKind::Spawned { url, .. } = &ev.kind {
            let shown = redact::url(url);
            // Sessions of one target share one copy of its URL.
            let shared = match self.urls.get(&ev.session.wrapping_sub(1)) {
                Some(prev) if **prev == *shown => prev.clone(),
                _ => Arc::from(shown),
            };
            self.urls.insert(ev.session, shared);
        }
        let url = self
            .urls
            .get(&ev.session)
            .cloned()
            .unwrap_or_else(|| Arc::from(""));
        let mut value = to_json_line(ev, &url, &*self.code_name);
        if matches!(ev.kind, EventKind::Spawned { .. })
            && let serde_json::Value::Object(m) = &mut value
        {
            let shard = self
                .shard_of
                .get(&ev.session)
                .map_or(self.run.shard.as_str(), |s| s);
            m.insert("shard".into(), serde_json::Value::String(shard.to_string()));
            if let Some(at) = &self.run.start_at {
                m.insert(
                    "start_at".into(),
                    serde_json::Value::String(jsonl::format_ts(at)),
                );
            }
        }
        self.line.clear();
        match self.format {
            Format::Jsonl => {
                serde_json::to_writer(&mut self.line, &value).map_err(|source| {
                    ExportError::Json {
                        path: self.path.clone(),
                        source,
                    }
                })?;
                self.line.push(b'\n');
            }
            Format::Csv => {
                let bytes = csv::encode_record(csv::row(&value)).map_err(|e| self.csv_error(e))?;
                self.line.extend_from_slice(&bytes);
            }
        }
        self.out
            .write_all(&self.line)
            .map_err(|e| ExportError::io(&self.path, e))?;
        self.count += 1;
        if matches!(ev.kind, EventKind::Removed) {
            self.urls.remove(&ev.session);
        }
        if self.last_flush.elapsed() >= FLUSH_EVERY {
            self.flush()?;
        }
        Ok(())
    }

    /// Push everything written so far to the file.
    pub fn flush(&mut self) -> Result<(), ExportError> {
        self.last_flush = Instant::now();
        self.out.flush().map_err(|e| ExportError::io(&self.path, e))
    }

    /// Events written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Give up after a failed write: close the file without pushing out what is still
    /// buffered (a retry could append to a cut line). [`salvage`] then makes the file whole.
    pub fn abandon(self) {
        let (file, _unwritten) = self.out.into_parts();
        drop(file);
    }

    fn csv_error(&self, source: ::csv::Error) -> ExportError {
        ExportError::Csv {
            path: self.path.clone(),
            source,
        }
    }
}

/// After a failed write (a full disk, a file-size limit): cut a partly written last line, so
/// that the file holds whole events only, and count them (the CSV header row is not one).
pub fn salvage(path: &Path, format: Format) -> io::Result<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let meta = f.metadata()?;
    if !meta.is_file() {
        // A device (/dev/full) or a pipe: nothing to cut, and reading it may never end.
        return Err(io::Error::other("not a regular file"));
    }
    let len = meta.len();
    let mut buf = vec![0u8; 64 * 1024];
    let mut end = len;
    let mut keep = 0;
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let n = usize::try_from(end - start).unwrap_or(buf.len());
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            keep = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    if keep < len {
        f.set_len(keep)?;
    }
    f.seek(SeekFrom::Start(0))?;
    let mut lines = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    Ok(match format {
        Format::Jsonl => lines,
        Format::Csv => lines.saturating_sub(1),
    })
}

// The store task owns the writer and may run on any worker thread.
const _: fn() = || {
    fn assert_send<T: Send + 'static>() {}
    assert_send::<ExportWriter>();
};

#[cfg(test)]
mod tests;
