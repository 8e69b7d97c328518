//! `watch --headless`: the same runtime (engine and store), no TUI. A status line on stderr about once a
//! second, a summary on stdout at the end, with the `--fail-if` thresholds and an exit status for CI
//! (see [`run_gated`]). Ctrl-C or SIGTERM end it cleanly.

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
use crate::thresholds::{self, Threshold, ThresholdResult, Verdict};

/// Exit status: the default gate or a `--fail-if` threshold failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: wsmon itself failed (an export or summary write error).
pub const EXIT_INTERNAL: u8 = 3;

/// The CI gate of a headless run: `--fail-if`, `--abort-on-fail`, `--summary-json`.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    /// `--no-default-gate`: do not fail the run when no session became usable or one ended
    /// for a failure ([`thresholds::default_gate`]).
    pub no_default_gate: bool,
    pub thresholds: Vec<Threshold>,
    pub abort_on_fail: bool,
    pub summary_json: Option<std::path::PathBuf>,
    /// `--metrics-linger`: how long `/metrics` may outlive the run waiting for a scrape of
    /// the final values (zero: stop with the run).
    pub metrics_linger: Duration,
    /// `--start-at`: `--duration` counts from this instant (the first session's start).
    pub starts: Option<Instant>,
}

/// Run until `duration` passes, a stop signal or an export failure, then shut down and print
/// the summary.
pub async fn run(
    rt: Runtime,
    duration: Option<Duration>,
    registry: Arc<Registry>,
) -> anyhow::Result<ExitCode> {
    run_gated(rt, duration, registry, &Gate::default()).await
}

/// How long `/metrics` may outlive a headless run by default, waiting for one scrape of the
/// final values (`--metrics-linger`): Prometheus' default scrape interval.
pub const METRICS_LINGER: Duration = Duration::from_secs(15);

/// The proxies the targets go through (credentials redacted, escaped, each named once), how
/// many targets go direct, and how many there are.
pub fn proxies_used<'a>(
    rule: &crate::engine::settings::ProxyRule,
    urls: impl Iterator<Item = &'a url::Url>,
) -> (Vec<String>, usize, usize) {
    let (mut via, mut direct, mut all) = (Vec::<String>::new(), 0usize, 0usize);
    for url in urls {
        all += 1;
        match rule.for_url(url) {
            Ok(Some(p)) => {
                let shown = crate::redact::escape_control(&p.redacted());
                if !via.contains(&shown) {
                    via.push(shown);
                }
            }
            _ => direct += 1,
        }
    }
    (via, direct, all)
}

/// The start line that says which proxy the sessions go through (credentials redacted), and
/// where that came from; None when every target is reached directly.
pub fn proxy_line<'a>(
    rule: &crate::engine::settings::ProxyRule,
    urls: impl Iterator<Item = &'a url::Url>,
) -> Option<String> {
    use crate::engine::settings::ProxyRule;
    let (via, direct, all) = proxies_used(rule, urls);
    if via.is_empty() {
        return None;
    }
    let from = match rule {
        ProxyRule::Env(_) => " (from the environment; --no-proxy ignores it)",
        ProxyRule::Fixed { .. } => " (--proxy)",
        ProxyRule::Direct => "",
    };
    let mut line = format!("via proxy {}{from}", via.join(", "));
    if direct > 0 {
        let _ = write!(line, "; {direct} of {all} targets direct (no_proxy)");
    }
    Some(line)
}

/// How often the store publishes snapshots by itself for headless mode: the status line and the
/// verdict each ask for a fresh one when they need it.
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(1);

/// [`run`] with thresholds: evaluated on the last snapshot before the shutdown (so the 1001
/// closes of the shutdown itself do not count), and with `abort_on_fail` on every snapshot.
pub async fn run_gated(
    mut rt: Runtime,
    duration: Option<Duration>,
    registry: Arc<Registry>,
    gate: &Gate,
) -> anyhow::Result<ExitCode> {
    let started = gate.starts.unwrap_or_else(Instant::now);
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    ticker.tick().await;
    let until = duration.map(|d| started + d);
    let stop = crate::signal::stop();
    tokio::pin!(stop);
    let mut snapshots = rt.snapshots.clone();
    let mut gate_rx = rt.snapshots.clone();
    let abort = gate.abort_on_fail && !gate.thresholds.is_empty();
    let mut aborted: Option<String> = None;
    let mut causes = CauseWatch::default();
    let mut export_failed = false;
    loop {
        tokio::select! {
            _ = &mut stop => { err_line("wsmon: stopping (signal)"); break; }
            changed = gate_rx.changed(), if abort => {
                if changed.is_err() { break; }
                let snap = gate_rx.borrow_and_update().clone();
                let failed = gate.thresholds.iter().map(|t| t.evaluate(&snap)).find(|r| r.verdict == Verdict::Fail);
                if let Some(r) = failed {
                    err_line(&format!("wsmon: stopping: threshold failed: {} (observed {})", r.expr, r.shown));
                    aborted = Some(r.expr);
                    break;
                }
            }
            _ = tokio::time::sleep_until(until.unwrap_or(started + Duration::from_secs(u32::MAX as u64))), if until.is_some() => break,
            _ = ticker.tick() => {
                // Asked of the store now: the line tells the state at its second.
                let snap = rt.fresh_snapshot().await;
                snapshots.mark_unchanged();
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
                 (exit status {EXIT_INTERNAL})"
            ));
            export_failed = true;
            break;
        }
    }
    let elapsed = started.elapsed();
    let before = rt.fresh_snapshot().await;
    let results = thresholds::evaluate_all(&gate.thresholds, &before);
    let endpoint = rt.take_metrics();
    let (last, export) = rt.shutdown().await;
    let mut out = summary(&last, elapsed, &registry);
    let mut status = 0u8;
    match &export {
        Some(Ok(n)) => {
            if let Some(p) = &last.export_path {
                // A path may hold any byte: never a raw escape on the operator's terminal.
                let p = crate::redact::escape_control(p);
                let _ = writeln!(out, "export: {p} ({n} events)");
            }
        }
        Some(Err(e)) => {
            if !export_failed {
                err_line(&format!("wsmon: EXPORT FAILED: {e}"));
            }
            status = EXIT_INTERNAL;
        }
        None => {}
    }
    out.push_str(&thresholds_section(&results));
    if let Some(expr) = &aborted {
        let _ = writeln!(out, "aborted: threshold failed: {expr}");
    }
    let causes = if thresholds::usable_opens(&last) == 0 {
        top_causes(&before, 3)
    } else {
        Vec::new()
    };
    let gate_failed = if gate.no_default_gate {
        out.push_str("default gate: off (--no-default-gate)\n");
        Vec::new()
    } else {
        let failed = thresholds::default_gate(&last, &causes);
        if failed.is_empty() {
            out.push_str("default gate: pass\n");
        }
        for f in &failed {
            let line = format!("default gate: FAIL {}: {}", f.rule, f.message);
            let _ = writeln!(out, "{line}");
            err_line(&format!("wsmon: {line}"));
        }
        failed
    };
    if status == 0
        && (!gate_failed.is_empty() || results.iter().any(|r| r.verdict == Verdict::Fail))
    {
        status = EXIT_FAILED;
    }
    if let Some(path) = &gate.summary_json {
        let json = summary_json(
            &last,
            elapsed,
            &results,
            &causes,
            aborted.as_deref(),
            status,
        );
        let json = with_default_gate(json, !gate.no_default_gate, &gate_failed);
        let written = serde_json::to_vec_pretty(&json)
            .map_err(std::io::Error::other)
            .and_then(|b| std::fs::write(path, b));
        if let Err(e) = written {
            err_line(&format!(
                "wsmon: cannot write the summary to {}: {e}",
                path.display()
            ));
            status = EXIT_INTERNAL;
        }
    }
    // A closed stdout (`| head`) must not turn a finished run into a crash.
    let _ = std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes());
    if let Some(endpoint) = endpoint {
        linger(endpoint, gate.metrics_linger).await;
    }
    Ok(ExitCode::from(status))
}

/// After the run: keep `/metrics` up until one scrape has read the final values (the closes of
/// the end of the run included), at most `max`; say so on stderr.
async fn linger(endpoint: crate::metrics::http::Endpoint, max: Duration) {
    if max.is_zero() {
        endpoint.stop();
        return;
    }
    err_line(&format!(
        "wsmon: serving /metrics until its next scrape reads the final values (at most {max:?}, \
         --metrics-linger)"
    ));
    if !endpoint.linger(max).await {
        err_line(&format!(
            "wsmon: /metrics was not scraped within {max:?}: the final values were not read"
        ));
    }
}

/// `--summary-json` with the default gate: `"default_gate": {"enabled", "failed": [{"rule",
/// "message", "causes"}]}`.
pub fn with_default_gate(
    mut json: serde_json::Value,
    enabled: bool,
    failed: &[thresholds::GateFailure],
) -> serde_json::Value {
    if let Some(map) = json.as_object_mut() {
        map.insert(
            "default_gate".to_string(),
            serde_json::json!({ "enabled": enabled, "failed": failed }),
        );
    }
    json
}

/// The thresholds part of the summary: one line per threshold, value and verdict.
pub fn thresholds_section(results: &[ThresholdResult]) -> String {
    let mut out = String::new();
    if results.is_empty() {
        return out;
    }
    let failed = results
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .count();
    let _ = writeln!(
        out,
        "thresholds: {} checked, {failed} failed",
        results.len()
    );
    for r in results {
        let _ = writeln!(out, "  {r}");
    }
    out
}

/// The most frequent reasons sessions did not open, as "20 x connect: ...", most first. Each
/// session counts once, by its latest error or HTTP answer.
pub fn top_causes(snap: &Snapshot, n: usize) -> Vec<String> {
    let mut by: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for s in &snap.sessions {
        let why = match (&s.last_error, &s.last_handshake) {
            (Some((kind, msg)), _) => format!("{}: {msg}", kind.as_str()),
            // "HTTP 503 Service Unavailable", not the status line's own "HTTP/1.1 503 ...".
            (None, Some(h)) if !h.is_upgrade() => {
                let line = crate::redact::escape_control(&h.status_line);
                match line.split_once(' ') {
                    Some((version, rest)) if version.starts_with("HTTP/") => format!("HTTP {rest}"),
                    _ => format!("HTTP {}", h.status),
                }
            }
            _ => match &s.last_close {
                Some(c) => format!("closed with {}", c.code),
                None => "still connecting".to_string(),
            },
        };
        *by.entry(why).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = by.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter()
        .take(n)
        .map(|(why, k)| format!("{k} x {why}"))
        .collect()
}

/// `--summary-json`: the summary's numbers, the thresholds and the exit status.
pub fn summary_json(
    snap: &Snapshot,
    elapsed: Duration,
    results: &[ThresholdResult],
    causes: &[String],
    aborted: Option<&str>,
    exit_status: u8,
) -> serde_json::Value {
    let t = &snap.totals;
    let by_state: serde_json::Map<String, serde_json::Value> = SessionState::ALL
        .iter()
        .map(|st| (st.as_str().to_string(), t.by_state[st.index()].into()))
        .collect();
    let keyed = |m: &std::collections::BTreeMap<u16, u64>| -> serde_json::Value {
        m.iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let errors: serde_json::Map<String, serde_json::Value> = t
        .errors
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), (*v).into()))
        .collect();
    let thresholds: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            serde_json::json!({
                "expr": r.expr,
                "value": r.observed,
                "shown": r.shown,
                "verdict": r.verdict,
            })
        })
        .collect();
    serde_json::json!({
        "elapsed_s": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "sessions": snap.sessions.len(),
        "sessions_by_state": by_state,
        "closes_by_code": keyed(&t.closes_by_code),
        "statuses": keyed(&t.statuses),
        "errors": errors,
        "attempts": t.attempts,
        "opens": t.opens,
        "gave_up": t.gave_up,
        "thresholds": thresholds,
        "stale_sessions": { "end": stale_counts(snap).0, "most": stale_counts(snap).1 },
        "message_latency_us": snap.targets.iter().filter(|t| t.latency_p50_us.is_some()).map(|t| {
            serde_json::json!({"target": t.url, "p50": t.latency_p50_us, "p99": t.latency_p99_us})
        }).collect::<Vec<_>>(),
        "no_open_causes": causes,
        "aborted_by": aborted,
        "exit_status": exit_status,
    })
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
        // Stale sessions are open, counted apart.
        if st == SessionState::Open && snap.totals.stale > 0 {
            let _ = write!(line, " (stale {})", snap.totals.stale);
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
            let _ = write!(out, " {} x{n}", k.as_str());
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
    out.push_str(&script_failures(snap));
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
    out.push_str(&message_health(snap));
    out.push_str(&store_lag(snap));
    out
}

/// wsmon's own delay: how late events reached the store (p50 / p99 / largest), `message`
/// events apart. Empty when nothing was counted (a replay).
fn store_lag(snap: &Snapshot) -> String {
    let mut out = String::new();
    for (what, lag) in [
        ("events", &snap.lag.events),
        ("message events", &snap.lag.messages),
    ] {
        let (Some(p50), Some(p99)) = (lag.quantile_us(0.5), lag.quantile_us(0.99)) else {
            continue;
        };
        if out.is_empty() {
            out.push_str("wsmon's own lag, from an event to the store (p50 / p99 / max):\n");
        }
        let _ = writeln!(
            out,
            "  {what}: {} / {} / {} over {}",
            fmt_us(p50),
            fmt_us(p99),
            fmt_us(lag.max_us()),
            lag.total()
        );
    }
    out
}

/// Script steps that timed out, by target and step, each with what it waited for when a
/// session still shows it; empty when none did.
fn script_failures(snap: &Snapshot) -> String {
    let mut out = String::new();
    for (i, tv) in snap.targets.iter().enumerate() {
        for (step, n) in &tv.script_failures {
            if out.is_empty() {
                out.push_str("script failures by step:\n");
            }
            let what = snap
                .sessions
                .iter()
                .filter(|s| s.target == i)
                .filter_map(|s| s.script.as_ref())
                .find(|p| p.step == *step)
                .map(|p| format!(" {}", one_line(&p.what)))
                .unwrap_or_default();
            let _ = writeln!(out, "  {n:>6} x {} step {step}{what}", tv.url);
        }
    }
    out
}

/// Stale sessions at the end (the last completed second: before wsmon's own closes) and at
/// most, over the storm window.
fn stale_counts(snap: &Snapshot) -> (u64, u64) {
    let end = snap.storm.seconds.back().map_or(0, |s| s.stale);
    let most = snap
        .storm
        .seconds
        .iter()
        .map(|s| s.stale)
        .max()
        .unwrap_or(0);
    (
        end.max(snap.totals.stale as u64),
        most.max(snap.totals.stale as u64),
    )
}

/// The summary's message health: stale sessions, latency p50/p99 by target. Empty when there
/// is nothing to say (no stale session, no latency).
fn message_health(snap: &Snapshot) -> String {
    let mut out = String::new();
    let (end, most) = stale_counts(snap);
    if most > 0 {
        let _ = writeln!(
            out,
            "stale sessions (open, no message for --stale-after): {end} at the end, at most {most}"
        );
    }
    let with_latency: Vec<_> = snap
        .targets
        .iter()
        .filter_map(|t| Some((t, t.latency_p50_us?, t.latency_p99_us?)))
        .collect();
    if !with_latency.is_empty() {
        out.push_str("message latency by target (p50 / p99 of the last 512):\n");
        for (t, p50, p99) in with_latency {
            let url = crate::redact::escape_control(&t.url);
            let _ = writeln!(out, "  {url}  {} / {}", fmt_us(p50), fmt_us(p99));
        }
    }
    out
}

/// Microseconds as milliseconds with one decimal below 10 ms (`0.4ms`, `21ms`).
fn fmt_us(us: u64) -> String {
    if us < 10_000 {
        format!("{:.1}ms", us as f64 / 1000.0)
    } else {
        format!("{}ms", (us + 500) / 1000)
    }
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
    for (status, n) in t.refused_statuses() {
        out.insert(format!("HTTP {status}"), n);
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

    /// Issue 20 item 7: stale sessions (at the end and at most) and latency by target.
    #[test]
    fn summary_shows_stale_sessions_and_latency_by_target() {
        let registry = Registry::builtin();
        let mut s = Snapshot::default();
        assert!(!summary(&s, Duration::from_secs(1), registry).contains("stale"));
        for (second, stale) in [(1, 2), (2, 5), (3, 3)] {
            s.storm
                .seconds
                .push_back(crate::state::snapshot::SecondSample {
                    second,
                    stale,
                    ..Default::default()
                });
        }
        s.targets.push(crate::state::snapshot::TargetView {
            url: "ws://127.0.0.1:9/rpc".into(),
            latency_p50_us: Some(9_140),
            latency_p99_us: Some(39_600),
            ..Default::default()
        });
        s.targets.push(Default::default());
        let text = summary(&s, Duration::from_secs(1), registry);
        assert!(
            text.ends_with(
                "stale sessions (open, no message for --stale-after): 3 at the end, at most 5\n\
                 message latency by target (p50 / p99 of the last 512):\n  \
                 ws://127.0.0.1:9/rpc  9.1ms / 40ms\n"
            ),
            "{text}"
        );
        s.totals.stale = 3;
        s.totals.by_state[SessionState::Open.index()] = 4;
        s.totals.by_state[SessionState::Waiting.index()] = 2;
        let line = status_line(&s, Duration::from_secs(1), registry);
        assert!(line.contains(" open 4 (stale 3) waiting 2 |"), "{line}");
        let json = summary_json(&s, Duration::from_secs(1), &[], &[], None, 0);
        assert_eq!(json["stale_sessions"]["most"], 5);
        assert_eq!(json["message_latency_us"][0]["p50"], 9_140);
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
        assert!(!out.contains("script failures"), "{out}");
    }

    #[test]
    fn summary_lists_script_failures_by_target_and_step() {
        let mut s = snap_with(0, 0);
        s.targets = vec![crate::state::snapshot::TargetView {
            url: "ws://127.0.0.1:9/auth".into(),
            script_failures: [(2, 7), (4, 1)].into_iter().collect(),
            ..Default::default()
        }];
        let mut session = crate::state::snapshot::SessionView::new(
            1,
            0,
            std::sync::Arc::from("ws://127.0.0.1:9/auth"),
            s.now,
        );
        session.script = Some(crate::state::snapshot::ScriptProgress {
            step: 2,
            steps: 4,
            phase: crate::engine::events::ScriptPhase::TimedOut,
            what: r#"expect {"type":"auth_ok"} within 5s"#.into(),
            since: s.now,
            captured: Vec::new(),
            last: None,
        });
        s.sessions = vec![std::sync::Arc::new(session)];
        let out = summary(
            &s,
            Duration::from_secs(3),
            crate::codes::Registry::builtin(),
        );
        assert!(
            out.contains(
                "script failures by step:\n       7 x ws://127.0.0.1:9/auth step 2 \
                 expect {\"type\":\"auth_ok\"} within 5s\n       1 x ws://127.0.0.1:9/auth step 4\n"
            ),
            "{out}"
        );
    }
}
