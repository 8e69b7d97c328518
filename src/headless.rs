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
    let mut export_failed = false;
    loop {
        tokio::select! {
            _ = &mut stop => { err_line("wsmon: stopping (signal)"); break; }
            _ = tokio::time::sleep_until(until.unwrap_or(started + Duration::from_secs(u32::MAX as u64))), if until.is_some() => break,
            _ = ticker.tick() => {
                let snap = snapshots.borrow_and_update().clone();
                err_line(&status_line(&snap, started.elapsed(), &registry));
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
    match st.lockstep {
        Some(l) => {
            let _ = write!(line, " | lockstep {l:.2}");
        }
        None => line.push_str(" | lockstep -"),
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
    if t.closes_by_code.is_empty() {
        out.push_str("close codes: none\n");
    } else {
        out.push_str("close codes:\n");
        for (code, n) in &t.closes_by_code {
            let _ = writeln!(out, "  {code} {:<28} {n:>8}", registry.name(*code));
        }
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
