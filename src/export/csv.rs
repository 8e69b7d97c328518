//! CSV rows: one per event, fixed columns; whatever does not fit a column goes into `detail` as
//! JSON. Quoting is done by the `csv` crate (RFC 4180: fields with commas, quotes or line
//! breaks are quoted, quotes doubled).

use serde_json::{Map, Value};

/// The fixed columns, in order.
pub const COLUMNS: [&str; 21] = [
    "ts",
    "session",
    "url",
    "event",
    "attempt",
    "code",
    "code_name",
    "reason",
    "initiator",
    "code_on_wire",
    "clean",
    "uptime_ms",
    "status",
    "kind",
    "message",
    "window_ms",
    "delay_ms",
    "retry_after_ms",
    "jitter",
    "next_attempt_at",
    "detail",
];

/// The cells of one row, from the flat JSON object of an event (see `to_json_line`).
pub fn row(line: &Value) -> Vec<String> {
    let mut rest: Map<String, Value> = match line {
        Value::Object(m) => m.clone(),
        other => {
            let mut m = Map::new();
            m.insert("value".into(), other.clone());
            m
        }
    };
    let mut cells: Vec<String> = COLUMNS[..COLUMNS.len() - 1]
        .iter()
        .map(|c| rest.remove(*c).map(|v| cell(&v)).unwrap_or_default())
        .collect();
    cells.push(if rest.is_empty() {
        String::new()
    } else {
        Value::Object(rest).to_string()
    });
    cells
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(_) | Value::Object(_) => v.to_string(),
    }
}

/// Encode one record as a complete CSV line (with its line terminator).
pub fn encode_record<I, T>(cells: I) -> Result<Vec<u8>, ::csv::Error>
where
    I: IntoIterator<Item = T>,
    T: AsRef<[u8]>,
{
    let mut w = ::csv::WriterBuilder::new()
        .buffer_capacity(1024)
        .from_writer(Vec::with_capacity(256));
    w.write_record(cells)?;
    w.into_inner()
        .map_err(|e| ::csv::Error::from(e.into_error()))
}
