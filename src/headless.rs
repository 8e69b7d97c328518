//! `watch --headless`: the same runtime (engine and store), no TUI. A status line on stderr about once a
//! second, a summary on stdout at the end. Ctrl-C or SIGTERM end it cleanly.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::codes::Registry;
use crate::engine::events::{ErrorKind, SessionState};
use crate::runtime::Runtime;
use crate::state::snapshot::Snapshot;

/// Exit status when wsmon itself failed (its export could not be written).
pub const EXIT_FAILED: u8 = 3;

/// Run until `duration` passes, a stop signal or an export failure, then shut down and print
/// the summary.
pub async fn run(
    rt: Runtime,
    duration: Option<Duration>,
    registry: Arc<Registry>,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    let until = duration.map(|d| started + d);
    let stop = crate::signal::stop();
    tokio::pin!(stop);
    let mut snapshots = rt.snapshots.clone();
    let mut causes = CauseWatch::default();
    let mut export_failed = false;
    loop {
        tokio::select! {
            _ = &mut stop => { err_line("wsmon: stopping (signal)"); break; }
            _ = tokio::time::sleep_until(until.unwrap_or(started + Duration::from_secs(u32::MAX as u64))), if until.is_some() => break,
            _ = ticker.tick() => {
                let snap = snapshots.borrow_and_update().clone();
                let mut line = status_line(&snap, started.elapsed(), &registry);
                if let Some(news) = causes.update(&snap) {
                    line.push_str(" | ");
                    line.push_str(&news);
                }
                err_line(&line);
            }
            _ = snapshots.changed() => {}
        }
        // The export is this run's record: without it, stop now.
        if let Some(e) = &snapshots.borrow().export_error {
            err_line(&format!(
                "wsmon: EXPORT FAILED: {e}. Stopping now: the export is this run's record \
                 (exit status {EXIT_FAILED})"
            ));
            export_failed = true;
            break;
        }
    }
    let elapsed = started.elapsed();
    let (last, export) = rt.shutdown().await;
    let mut out = summary(&last, elapsed, &registry);
    let code = match export {
        Some(Ok(n)) => {
            if let Some(p) = &last.export_path {
                let _ = writeln!(out, "export: {p} ({n} events)");
            }
            ExitCode::SUCCESS
        }
        Some(Err(e)) => {
            if !export_failed {
                err_line(&format!("wsmon: EXPORT FAILED: {e}"));
            }
            ExitCode::from(EXIT_FAILED)
        }
        None => ExitCode::SUCCESS,
    };
    // A closed stdout (`| head`) must not turn a finished run into a crash.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
    Ok(code)
}

/// One line on stderr; a closed stderr is ignored rather than a panic.
fn err_line(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn fmt_secs(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// One line: sessions by state, closes by code, attempts/s, lockstep, forecast.
pub fn status_line(snap: &Snapshot, elapsed: Duration, registry: &Registry) -> String {
    let mut line = format!(
        "[{:>6}] {} sessions:",
        fmt_secs(elapsed),
        snap.sessions.len()
    );
    let mut any = false;
    for st in SessionState::ALL {
        let n = snap.totals.by_state[st.index()];
        if n > 0 {
            let _ = write!(line, " {} {n}", st.as_str());
            any = true;
        }
    }
    if !any {
        line.push_str(" none");
    }
    if snap.totals.waiting_for_slot > 0 {
        let _ = write!(
            line,
            " (waiting for a slot {})",
            snap.totals.waiting_for_slot
        );
    }
    if !snap.totals.closes_by_code.is_empty() {
        line.push_str(" | closes");
        let mut codes: Vec<_> = snap.totals.closes_by_code.iter().collect();
        codes.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (code, n) in codes.iter().take(4) {
            let _ = write!(line, " {code}x{n}");
        }
        if codes.len() > 4 {
            let _ = write!(line, " +{} more", codes.len() - 4);
        }
        if let Some((top, _)) = codes.first() {
            let _ = write!(line, " ({} {})", top, registry.name(**top));
        }
    }
    let st = &snap.storm;
    let _ = write!(line, " | attempts/s {:.0}", st.attempts_per_sec);
    match st.verdict {
        Some(v) => {
            let _ = write!(
                line,
                " | lockstep {:.2} {} (chance {:.2})",
                v.share,
                v.level.as_str(),
                v.chance
            );
        }
        None => line.push_str(" | lockstep - (few retries)"),
    }
    let _ = write!(
        line,
        " | retries due 1s:{} 5s:{} 30s:{}",
        st.forecast[0], st.forecast[1], st.forecast[2]
    );
    if let Some(n) = snap.totals.errors.get(&ErrorKind::Resource) {
        let _ = write!(line, " | resource errors {n} (out of file descriptors)");
    }
    line
}

/// The end-of-run summary.
pub fn summary(snap: &Snapshot, elapsed: Duration, registry: &Registry) -> String {
    let t = &snap.totals;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "wsmon summary after {:.1}s, {} sessions",
        elapsed.as_secs_f64(),
        snap.sessions.len()
    );
    out.push_str("sessions by final state:");
    for st in SessionState::ALL {
        let n = t.by_state[st.index()];
        if n > 0 {
            let _ = write!(out, " {} {n}", st.as_str());
        }
    }
    out.push('\n');
    // wsmon's own 1001s at the end are not something the servers did: count them apart.
    let mut during = t.closes_by_code.clone();
    if let Some(n) = during.get_mut(&1001) {
        *n = n.saturating_sub(t.shutdown_closes);
        if *n == 0 {
            during.remove(&1001);
        }
    }
    if during.is_empty() {
        out.push_str("close codes during the run: none\n");
    } else {
        out.push_str("close codes during the run:\n");
        for (code, n) in &during {
            let _ = writeln!(out, "  {code} {:<28} {n:>8}", registry.name(*code));
        }
    }
    if t.shutdown_closes > 0 {
        let _ = writeln!(
            out,
            "closed by wsmon at the end: {} x 1001 Going Away",
            t.shutdown_closes
        );
    }
    if !t.statuses.is_empty() {
        out.push_str("handshake statuses:");
        for (status, n) in &t.statuses {
            let _ = write!(out, " {status}x{n}");
        }
        out.push('\n');
    }
    if !t.errors.is_empty() {
        out.push_str("errors:");
        for (kind, n) in &t.errors {
            let k: &ErrorKind = kind;
            let _ = write!(out, " {}x{n}", k.as_str());
        }
        out.push('\n');
        // The messages say what to fix ("Connection refused", "Name or service not known").
        let mut msgs: Vec<(&(ErrorKind, String), &u64)> = t.error_messages.iter().collect();
        msgs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for ((kind, msg), n) in msgs.iter().take(TOP_MESSAGES) {
            let _ = writeln!(out, "  {n:>6} x {}: {}", kind.as_str(), one_line(msg));
        }
        let rest: u64 = msgs
            .iter()
            .skip(TOP_MESSAGES)
            .map(|(_, n)| **n)
            .sum::<u64>()
            + t.other_error_messages;
        if rest > 0 {
            let _ = writeln!(out, "  {rest:>6} x other messages");
        }
    }
    if !t.negotiated.is_empty() {
        out.push_str("negotiated extensions:\n");
        for (ext, n) in &t.negotiated {
            let shown = if ext.is_empty() {
                "(none)"
            } else {
                ext.as_str()
            };
            let _ = writeln!(out, "  {shown} x{n}");
        }
    }
    let _ = writeln!(
        out,
        "attempts: {}; largest backoff attempt: {}; gave up: {}",
        t.attempts, t.max_backoff_attempt, t.gave_up
    );
    let ended: Vec<_> = snap
        .sessions
        .iter()
        .filter_map(|s| s.ended_why.as_deref())
        .collect();
    if !ended.is_empty() {
        let mut whys: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
        for w in ended {
            *whys.entry(w).or_default() += 1;
        }
        out.push_str("not retried:\n");
        for (w, n) in whys {
            let _ = writeln!(out, "  {n} x {w}");
        }
    }
    out
}

/// Distinct error messages the summary lists.
const TOP_MESSAGES: usize = 5;

/// A message on one line, control characters escaped.
fn one_line(msg: &str) -> String {
    crate::redact::escape_control(msg)
}

/// Failure causes (close codes, HTTP statuses, error kinds) by count, with their labels.
fn cause_counts(snap: &Snapshot) -> std::collections::BTreeMap<String, u64> {
    let t = &snap.totals;
    let mut out = std::collections::BTreeMap::new();
    for (code, n) in &t.closes_by_code {
        out.insert(format!("close {code}"), *n);
    }
    for (status, n) in t.statuses.iter().filter(|(s, _)| **s != 101) {
        out.insert(format!("HTTP {status}"), *n);
    }
    for (kind, n) in &t.errors {
        out.insert(format!("error {}", kind.as_str()), *n);
    }
    out
}

/// Notices a sudden new cause between two status lines: one that was quiet until now (or
/// never seen) and suddenly accounts for a burst of failures.
#[derive(Debug, Default)]
pub struct CauseWatch {
    last: Option<std::collections::BTreeMap<String, u64>>,
    /// Causes active in recent status lines (their last increase, in ticks).
    active: std::collections::BTreeMap<String, u64>,
    tick: u64,
}

/// A cause is "new" when it grew by at least this much in one second ...
const BURST: u64 = 5;
/// ... after being quiet for at least this many status lines.
const QUIET_TICKS: u64 = 10;

impl CauseWatch {
    /// Feed the latest snapshot (about once a second); returns "NEW: 12 x error connect
    /// (Connection refused)" when a quiet cause bursts.
    pub fn update(&mut self, snap: &Snapshot) -> Option<String> {
        self.tick += 1;
        let now = cause_counts(snap);
        let last = self.last.replace(now.clone())?;
        let mut burst: Option<(String, u64)> = None;
        for (cause, n) in &now {
            let grew = n.saturating_sub(last.get(cause).copied().unwrap_or(0));
            if grew == 0 {
                continue;
            }
            let quiet = self
                .active
                .get(cause)
                .is_none_or(|t| self.tick.saturating_sub(*t) > QUIET_TICKS);
            self.active.insert(cause.clone(), self.tick);
            if quiet && grew >= BURST && burst.as_ref().is_none_or(|(_, b)| grew > *b) {
                burst = Some((cause.clone(), grew));
            }
        }
        let (cause, grew) = burst?;
        let mut text = format!("NEW: {grew} x {cause}");
        if let Some(kind) = cause.strip_prefix("error ") {
            let top = snap
                .totals
                .error_messages
                .iter()
                .filter(|((k, _), _)| k.as_str() == kind)
                .max_by_key(|(_, n)| **n);
            if let Some(((_, msg), _)) = top {
                let _ = write!(text, " ({})", one_line(msg));
            }
        }
        Some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap_with(errors: u64, refused: u64) -> Snapshot {
        let mut s = Snapshot::default();
        s.totals.closes_by_code.insert(1013, 40 + errors);
        if refused > 0 {
            s.totals.errors.insert(ErrorKind::Connect, refused);
            s.totals.error_messages.insert(
                (
                    ErrorKind::Connect,
                    "Connection refused (os error 111)".into(),
                ),
                refused,
            );
        }
        s
    }

    #[test]
    fn a_sudden_new_cause_is_named_once() {
        let mut w = CauseWatch::default();
        assert_eq!(
            w.update(&snap_with(0, 0)),
            None,
            "first line: nothing to compare"
        );
        // 1013 keeps growing steadily: after its first burst it is not news.
        let first = w.update(&snap_with(6, 0));
        assert_eq!(first.as_deref(), Some("NEW: 6 x close 1013"));
        assert_eq!(w.update(&snap_with(12, 0)), None);
        // Connection refused bursts: named with its message.
        let news = w
            .update(&snap_with(18, 9))
            .expect("a burst of connect errors");
        assert_eq!(
            news,
            "NEW: 9 x error connect (Connection refused (os error 111))"
        );
        assert_eq!(w.update(&snap_with(24, 20)), None, "still going: not new");
    }

    #[test]
    fn summary_separates_shutdown_closes_and_lists_messages() {
        let mut s = snap_with(0, 3);
        s.totals.closes_by_code.insert(1001, 50);
        s.totals.shutdown_closes = 45;
        s.totals.errors.insert(ErrorKind::Dns, 2);
        s.totals.error_messages.insert(
            (
                ErrorKind::Dns,
                "failed to lookup address information: Name or service not known".into(),
            ),
            2,
        );
        let out = summary(
            &s,
            Duration::from_secs(3),
            crate::codes::Registry::builtin(),
        );
        assert!(out.contains("close codes during the run:\n"), "{out}");
        assert!(out.contains("  1001 Going Away"), "{out}");
        assert!(
            out.contains("         5\n"),
            "five 1001s came from servers: {out}"
        );
        assert!(
            out.contains("closed by wsmon at the end: 45 x 1001 Going Away"),
            "{out}"
        );
        assert!(
            out.contains("     3 x connect: Connection refused (os error 111)"),
            "{out}"
        );
        assert!(out.contains("Name or service not known"), "{out}");
    }
}
