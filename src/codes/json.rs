//! Explanations as JSON records, for scripts (`wsmon explain --json`).

use serde::Serialize;

use super::explain::{description_paragraphs, sources};
use super::{Category, Entry, Lang, RetryAdvice, Sender};

/// One entry as JSON, for scripts.
#[derive(Debug, Serialize)]
pub struct JsonEntry {
    /// The code; absent for a range listed by `--all`.
    pub code: Option<u16>,
    /// The range whose texts explain the code (or the listed range).
    pub range: Option<JsonRange>,
    pub name: String,
    pub category: Category,
    pub sender: Sender,
    pub on_wire: bool,
    pub retry: RetryAdvice,
    pub library_defined: bool,
    pub app_defined: bool,
    /// The sources joined with "; " (kept for scripts written before `sources`).
    pub source: String,
    /// What each claim rests on.
    pub sources: Vec<String>,
    pub lang: &'static str,
    pub description: String,
    pub when: String,
    pub fix: String,
    pub retry_why: String,
    pub send_when: String,
    /// In a comparison: the fields whose values differ from the other codes'.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differs_in: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct JsonRange {
    pub start: u16,
    pub end: u16,
}

impl JsonEntry {
    pub fn new(e: &Entry<'_>, lang: Lang) -> JsonEntry {
        let sources = sources(e, lang);
        JsonEntry {
            code: e.code,
            range: e.range.map(|(start, end)| JsonRange { start, end }),
            name: if e.code.is_none() {
                e.kb_name(lang).to_string()
            } else {
                e.name(lang)
            },
            category: e.category(),
            sender: e.sender(),
            on_wire: e.on_wire(),
            retry: e.retry_advice(),
            library_defined: e.library_defined(),
            app_defined: e.app_defined(),
            source: sources.join("; "),
            sources,
            lang: lang.as_str(),
            description: description_paragraphs(e, lang).join(" "),
            when: e.when(lang).to_string(),
            fix: e.fix(lang).to_string(),
            retry_why: e.retry_why(lang).to_string(),
            send_when: e.send_when(lang).to_string(),
            differs_in: Vec::new(),
        }
    }
}

/// Mark, on each entry of a comparison, the fields that are not the same for all of them.
pub fn mark_differences(entries: &mut [JsonEntry]) {
    if entries.len() < 2 {
        return;
    }
    let keys = |e: &JsonEntry| -> [(&'static str, String); 9] {
        [
            ("name", e.name.clone()),
            ("category", e.category.as_str().to_string()),
            ("sender", e.sender.as_str().to_string()),
            ("on_wire", e.on_wire.to_string()),
            ("retry", e.retry.as_str().to_string()),
            ("description", e.description.clone()),
            ("when", e.when.clone()),
            ("fix", e.fix.clone()),
            ("send_when", e.send_when.clone()),
        ]
    };
    let first = keys(&entries[0]);
    let mut differ: Vec<&'static str> = Vec::new();
    for (i, (field, value)) in first.iter().enumerate() {
        if entries.iter().any(|e| &keys(e)[i].1 != value) {
            differ.push(field);
        }
    }
    for e in entries {
        e.differs_in = differ.clone();
    }
}
