//! `replay --summary --fail-if EXPR ... FILES`: the thresholds of `watch --headless`, judged on
//! a record. The merged record is replayed up to the moment each agent began its shutdown (its
//! own 1001 closes do not count, as in `watch`), and the thresholds are evaluated on the store's
//! snapshot there: the same functions, the same exit codes, the same `--summary-json` (whose
//! numbers, as `watch`'s, are those of the whole record, shutdown included).
//!
//! Every metric of `--fail-if` can be computed from a record: sessions, states, opens, closes,
//! statuses and errors are events; handshake durations are the `handshake` events' timings;
//! `attempts_per_s` and `lockstep` are rebuilt by the store from the recorded attempt times.

use std::sync::Arc;
use std::time::Duration;

use crate::headless::{self, EXIT_FAILED, EXIT_INTERNAL};
use crate::runtime::replay::cursor::ReplayCursor;
use crate::runtime::replay::load::Recording;
use crate::runtime::replay::merge::Merged;
use crate::state::snapshot::Snapshot;
use crate::thresholds::{self, Threshold, ThresholdResult, Verdict};

/// Parse every `--fail-if` (exit 2 on the first bad one, with the parser's message).
pub fn parse(exprs: &[String]) -> Result<Vec<Threshold>, String> {
    exprs
        .iter()
        .map(|e| thresholds::parse(e).map_err(|err| format!("--fail-if {err}")))
        .collect()
}

/// The record as it stood just before the agents' shutdowns, replayed to its end.
pub fn last_snapshot_before_shutdown(merged: &Merged) -> Arc<Snapshot> {
    let rec = &merged.rec;
    let events: Vec<_> = rec
        .events
        .iter()
        .filter(|ev| !merged.after_shutdown(ev))
        .cloned()
        .collect();
    let before = Recording {
        path: rec.path.clone(),
        format: rec.format,
        events,
        code_names: rec.code_names.clone(),
        warnings: Vec::new(),
    };
    let end = before.end();
    let mut cursor = ReplayCursor::new(Arc::new(before));
    if let Some(end) = end {
        cursor.seek(end);
    }
    cursor.snapshot()
}

/// The verdict: the thresholds section of the summary, and the exit status (0 every threshold
/// passed, 1 one failed, 3 the summary JSON could not be written).
pub struct Verdicts {
    pub text: String,
    pub status: u8,
}

/// Evaluate `gate` (and the default gate, unless `--no-default-gate`) on the merged record;
/// write `--summary-json` when asked.
pub fn judge(
    merged: &Merged,
    gate: &[Threshold],
    default_gate: bool,
    summary_json: Option<&std::path::Path>,
) -> Verdicts {
    let snap = last_snapshot_before_shutdown(merged);
    let results: Vec<ThresholdResult> = thresholds::evaluate_all(gate, &snap);
    // As `watch` does: the thresholds on the state before the shutdown, the summary's numbers
    // on the whole record.
    let last = {
        let mut cursor = ReplayCursor::new(merged.rec.clone());
        if let Some(end) = merged.rec.end() {
            cursor.seek(end);
        }
        cursor.snapshot()
    };
    let mut text = headless::thresholds_section(&results);
    let mut status = if results.iter().any(|r| r.verdict == Verdict::Fail) {
        EXIT_FAILED
    } else {
        0
    };
    let causes = if thresholds::usable_opens(&last) == 0 {
        headless::top_causes(&snap, 3)
    } else {
        Vec::new()
    };
    // The same default gate as `watch`, on the whole record.
    let gate_failed = if default_gate {
        let failed = thresholds::default_gate(&last, &causes);
        if failed.is_empty() {
            text.push_str("default gate: pass\n");
        }
        for f in &failed {
            text.push_str(&format!("default gate: FAIL {}: {}\n", f.rule, f.message));
        }
        failed
    } else {
        text.push_str("default gate: off (--no-default-gate)\n");
        Vec::new()
    };
    if !gate_failed.is_empty() {
        status = EXIT_FAILED;
    }
    if let Some(path) = summary_json {
        // The recorded run's length, from its first event to the moment judged.
        let elapsed = merged
            .rec
            .start()
            .and_then(|a| (snap.now - a).to_std().ok())
            .unwrap_or(Duration::ZERO);
        let json = headless::summary_json(&last, elapsed, &results, &causes, None, status);
        let json = headless::with_default_gate(json, default_gate, &gate_failed);
        let written = serde_json::to_vec_pretty(&json)
            .map_err(std::io::Error::other)
            .and_then(|b| std::fs::write(path, b));
        if let Err(e) = written {
            let shown = crate::redact::escape_control(&path.display().to_string());
            text.push_str(&format!("cannot write the summary to {shown}: {e}\n"));
            eprintln!("wsmon: cannot write the summary to {shown}: {e}");
            status = EXIT_INTERNAL;
        }
    }
    Verdicts { text, status }
}
