//! Reading an exported JSONL log back, and the summary `wsmon replay` prints.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::ExportError;
use crate::redact::escape_control;

/// Call `f(line_number, value)` for every non-blank line of a JSONL export, streaming (the
/// file is never held in memory). Each line must be a JSON object with a string `event` field;
/// the first line that is not gives an error naming its line number. Returns the number of
/// events read.
pub fn for_each_jsonl(path: &Path, mut f: impl FnMut(u64, Value)) -> Result<u64, ExportError> {
    let file = File::open(path).map_err(|e| ExportError::io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let mut count = 0u64;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| ExportError::io(path, e))?;
        if n == 0 {
            return Ok(count);
        }
        line_no += 1;
        let malformed = |message: String| ExportError::Malformed {
            path: path.to_path_buf(),
            line: line_no,
            message,
        };
        let text = std::str::from_utf8(&buf).map_err(|e| malformed(format!("not UTF-8 ({e})")))?;
        if text.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(text).map_err(|e| malformed(format!("invalid JSON: {e}")))?;
        if !value.get("event").is_some_and(Value::is_string) {
            return Err(malformed(
                "not a wsmon event (expected a JSON object with an \"event\" field)".into(),
            ));
        }
        count += 1;
        f(line_no, value);
    }
}

/// Every event of a JSONL export, in file order.
pub fn read_jsonl(path: &Path) -> Result<Vec<Value>, ExportError> {
    let mut out = Vec::new();
    for_each_jsonl(path, |_, v| out.push(v))?;
    Ok(out)
}

/// What `replay` reports about a log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub events: u64,
    pub by_event: BTreeMap<String, u64>,
    pub sessions: u64,
    /// Sessions per URL (from `spawned` events).
    pub urls: BTreeMap<String, u64>,
    /// `connecting` events: every connection attempt, first ones included.
    pub attempts: u64,
    pub statuses: BTreeMap<u16, u64>,
    /// Closes by code, with the name the log gave.
    pub closes: BTreeMap<u16, (u64, String)>,
    pub errors: BTreeMap<String, u64>,
    /// Largest retry number in a `backoff` event, and the longest delay scheduled.
    pub max_backoff_attempt: Option<u64>,
    pub max_delay_ms: Option<u64>,
    pub gave_up: u64,
    /// Why sessions ended without retrying, and how many times.
    pub ended: BTreeMap<String, u64>,
    pub first_ts: Option<DateTime<Utc>>,
    pub last_ts: Option<DateTime<Utc>>,
    seen_sessions: HashSet<u64>,
}

impl Summary {
    /// Account for one event object.
    pub fn add(&mut self, v: &Value) {
        let event = v.get("event").and_then(Value::as_str).unwrap_or("?");
        self.events += 1;
        *self.by_event.entry(event.to_string()).or_insert(0) += 1;
        if let Some(id) = v.get("session").and_then(Value::as_u64)
            && self.seen_sessions.insert(id)
        {
            self.sessions += 1;
        }
        if let Some(ts) = v
            .get("ts")
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        {
            let ts = ts.with_timezone(&Utc);
            self.first_ts = Some(self.first_ts.map_or(ts, |f| f.min(ts)));
            self.last_ts = Some(self.last_ts.map_or(ts, |l| l.max(ts)));
        }
        let u64_field = |k: &str| v.get(k).and_then(Value::as_u64);
        let str_field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("");
        match event {
            "spawned" => *self.urls.entry(str_field("url").to_string()).or_insert(0) += 1,
            "connecting" => self.attempts += 1,
            // A refused answer is counted by its error event, not as a status.
            "handshake" if v.get("invalid").is_some() => {}
            "handshake" => {
                if let Some(s) = u64_field("status").and_then(|s| u16::try_from(s).ok()) {
                    *self.statuses.entry(s).or_insert(0) += 1;
                }
            }
            "closed" => {
                if let Some(code) = u64_field("code").and_then(|c| u16::try_from(c).ok()) {
                    let entry = self
                        .closes
                        .entry(code)
                        .or_insert_with(|| (0, str_field("code_name").to_string()));
                    entry.0 += 1;
                }
            }
            "error" => {
                *self
                    .errors
                    .entry(str_field("kind").to_string())
                    .or_insert(0) += 1
            }
            "backoff" => {
                if let Some(a) = u64_field("attempt") {
                    self.max_backoff_attempt = Some(self.max_backoff_attempt.unwrap_or(0).max(a));
                }
                if let Some(d) = u64_field("delay_ms") {
                    self.max_delay_ms = Some(self.max_delay_ms.unwrap_or(0).max(d));
                }
            }
            "gave_up" => self.gave_up += 1,
            "ended" => *self.ended.entry(str_field("why").to_string()).or_insert(0) += 1,
            _ => {}
        }
    }
}

/// Summarise a list of event objects.
pub fn summarize(values: &[Value]) -> Summary {
    let mut s = Summary::default();
    for v in values {
        s.add(v);
    }
    s
}

impl fmt::Display for Summary {
    /// Plain text; every string that came from the file is escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.events == 0 {
            return writeln!(f, "No events.");
        }
        write!(f, "Events: {}", self.events)?;
        if let (Some(a), Some(b)) = (self.first_ts, self.last_ts) {
            let secs = (b - a).num_milliseconds() as f64 / 1000.0;
            write!(
                f,
                " over {secs:.1} s ({} .. {})",
                super::jsonl::format_ts(&a),
                super::jsonl::format_ts(&b)
            )?;
        }
        writeln!(f)?;
        writeln!(f, "Sessions: {}", self.sessions)?;
        for (url, n) in &self.urls {
            writeln!(f, "  {n:>6}  {}", escape_control(url))?;
        }
        writeln!(f, "Connection attempts: {}", self.attempts)?;
        writeln!(f, "Events by type:")?;
        for (name, n) in &self.by_event {
            writeln!(f, "  {:<12} {n:>8}", escape_control(name))?;
        }
        if !self.statuses.is_empty() {
            writeln!(f, "Handshake statuses:")?;
            for (status, n) in &self.statuses {
                writeln!(f, "  {status:<12} {n:>8}")?;
            }
        }
        if !self.closes.is_empty() {
            writeln!(f, "Closes by code:")?;
            for (code, (n, name)) in &self.closes {
                writeln!(f, "  {code} {:<28} {n:>8}", escape_control(name))?;
            }
        }
        if !self.errors.is_empty() {
            writeln!(f, "Errors by kind:")?;
            for (kind, n) in &self.errors {
                writeln!(f, "  {:<12} {n:>8}", escape_control(kind))?;
            }
        }
        match (self.max_backoff_attempt, self.max_delay_ms) {
            (Some(a), Some(d)) => writeln!(
                f,
                "Largest backoff attempt: {a} (longest delay {:.1} s)",
                d as f64 / 1000.0
            )?,
            (Some(a), None) => writeln!(f, "Largest backoff attempt: {a}")?,
            _ => writeln!(f, "Largest backoff attempt: none (no retries scheduled)")?,
        }
        writeln!(f, "Gave up: {}", self.gave_up)?;
        if !self.ended.is_empty() {
            writeln!(f, "Ended without retrying:")?;
            for (why, n) in &self.ended {
                writeln!(f, "  {n:>6}  {}", escape_control(why))?;
            }
        }
        Ok(())
    }
}
