//! `--fail-if EXPR` thresholds, after k6's convention, on the same names as the metrics:
//! `NAME[{label=value,...}] OP VALUE[UNIT]`, for example `open_ratio<0.99`,
//! `closes{code=1013,initiator=server}>=10` or `handshake_p99>500ms`. An expression that holds at
//! the end of a run fails the run. Pure: parsing is text in, evaluation is a [`Snapshot`] in.
//!
//! Names: `open_ratio` (sessions open now / live sessions), `opens`, `attempts`,
//! `attempts_per_s` (peak over the run), `gave_up`, `lockstep` (peak over the run),
//! `lockstep_excess` (peak over the run of the lockstep index minus what chance gives for the
//! same attempt counts: the screen's verdict), `closes{code,initiator}`, `errors{kind}`,
//! `statuses{status}`, `sessions{state}`, and `handshake_p50|p90|p95|p99` (over each live
//! session's latest handshake; the value needs a unit, `ms` or `s`), and message health:
//! `stale` (open sessions with no message for `--stale-after`), `stale_ratio` (stale / open),
//! `msg_latency_p50|p90|p95|p99` (over every target's last 512 request/response or ping/pong
//! latencies; a unit, `ms` or `s`) and `msgs_in_per_s` (messages received per second over the
//! last 10 s; live runs only: an export does not record messages one by one).
//!
//! Beside the thresholds, the **default gate** ([`default_gate`]) always holds unless turned
//! off (`--no-default-gate`): a run fails when no session ever became usable, or when a session
//! ended, not retried, for a cause that is a failure ([`is_failure`]).

use std::fmt;

use serde::Serialize;

use crate::engine::events::{Cause, ErrorKind, Initiator, SessionState};
use crate::state::snapshot::{INITIATORS, Snapshot};

/// Why an expression cannot be used (a usage error: exit status 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThresholdError {
    #[error("'{expr}': unknown metric '{name}' (known: {known})", known = METRIC_NAMES.join(", "))]
    UnknownMetric { expr: String, name: String },
    #[error("'{expr}': unknown operator '{op}' (use <, <=, >, >=, ==, !=)")]
    UnknownOperator { expr: String, op: String },
    #[error("'{expr}': {message}")]
    Invalid { expr: String, message: String },
}

const METRIC_NAMES: [&str; 23] = [
    "open_ratio",
    "opens",
    "attempts",
    "attempts_per_s",
    "gave_up",
    "lockstep",
    "lockstep_excess",
    "closes",
    "errors",
    "statuses",
    "sessions",
    "handshake_p50",
    "handshake_p90",
    "handshake_p95",
    "handshake_p99",
    "stale",
    "stale_ratio",
    "msg_latency_p50",
    "msg_latency_p90",
    "msg_latency_p95",
    "msg_latency_p99",
    "msgs_in_per_s",
    "connections_lost",
];

/// What a threshold measures, with its label filters.
#[derive(Debug, Clone, PartialEq)]
pub enum Metric {
    OpenRatio,
    Opens,
    Attempts,
    AttemptsPerS,
    GaveUp,
    Lockstep,
    /// Peak of (lockstep index - chance) over the run.
    LockstepExcess,
    Closes {
        code: Option<u16>,
        initiator: Option<Initiator>,
    },
    Errors {
        kind: Option<ErrorKind>,
    },
    Statuses {
        status: Option<u16>,
    },
    Sessions {
        state: Option<SessionState>,
    },
    /// Percentile (50, 90, 95 or 99) of handshake durations, in milliseconds.
    HandshakePercentile(u8),
    /// Open sessions that are stale.
    Stale,
    /// Stale sessions / open sessions.
    StaleRatio,
    /// Percentile of message latencies (index into `Totals::msg_latency_us`: p50, p90, p95,
    /// p99), in milliseconds.
    MsgLatencyPercentile(u8),
    /// Messages received per second.
    MsgsInPerS,
    /// HTTP/2 connections lost under their sessions (GOAWAY, reset, PING timeout).
    ConnectionsLost,
}

/// What a value means, which decides the units it accepts and how it is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Count,
    Ratio,
    Millis,
    PerSecond,
}

impl Metric {
    fn unit(&self) -> Unit {
        match self {
            Metric::OpenRatio | Metric::Lockstep | Metric::LockstepExcess => Unit::Ratio,
            Metric::StaleRatio => Unit::Ratio,
            Metric::HandshakePercentile(_) | Metric::MsgLatencyPercentile(_) => Unit::Millis,
            Metric::AttemptsPerS | Metric::MsgsInPerS => Unit::PerSecond,
            _ => Unit::Count,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

impl Op {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }
}

/// One parsed `--fail-if` expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// As the user wrote it (trimmed).
    pub expr: String,
    pub metric: Metric,
    pub op: Op,
    /// In the metric's base unit (a ratio in 0..1, milliseconds, a count, per second).
    pub value: f64,
}

/// How one threshold came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The failure condition does not hold.
    Pass,
    /// The failure condition holds.
    Fail,
    /// Nothing to measure (no sessions, no handshake, too few attempts for a lockstep index):
    /// the run does not fail on it.
    NoData,
}

/// A threshold's expression, observed value and verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdResult {
    pub expr: String,
    pub observed: Option<f64>,
    /// `observed` with its unit, for the summary ("412.5ms", "0.97", "3").
    pub shown: String,
    pub verdict: Verdict,
}

/// Parse one expression.
pub fn parse(expr: &str) -> Result<Threshold, ThresholdError> {
    let expr = expr.trim();
    let invalid = |message: String| ThresholdError::Invalid {
        expr: expr.to_string(),
        message,
    };
    let name_end = expr
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(expr.len());
    let name = &expr[..name_end];
    if name.is_empty() {
        return Err(invalid(
            "expected a metric name, as in open_ratio<0.99".into(),
        ));
    }
    let mut rest = &expr[name_end..];
    let mut labels: Vec<(&str, &str)> = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        let close = after
            .find('}')
            .ok_or_else(|| invalid("'{' without a closing '}'".into()))?;
        for pair in after[..close].split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                invalid(format!("label '{}' needs a value: name=value", pair.trim()))
            })?;
            labels.push((k.trim(), v.trim().trim_matches('"')));
        }
        rest = &after[close + 1..];
    }
    let metric = metric(name, &labels).map_err(|e| match e {
        None => ThresholdError::UnknownMetric {
            expr: expr.to_string(),
            name: name.to_string(),
        },
        Some(message) => invalid(message),
    })?;

    let rest = rest.trim_start();
    let op_len = rest
        .find(|c: char| !matches!(c, '<' | '>' | '=' | '!'))
        .unwrap_or(rest.len());
    let op = match &rest[..op_len] {
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "==" => Op::Eq,
        "!=" => Op::Ne,
        "" => {
            let found: String = rest.chars().take_while(|c| !c.is_ascii_digit()).collect();
            return Err(if found.trim().is_empty() {
                invalid("expected an operator and a value, as in >0".into())
            } else {
                ThresholdError::UnknownOperator {
                    expr: expr.to_string(),
                    op: found.trim().to_string(),
                }
            });
        }
        other => {
            return Err(ThresholdError::UnknownOperator {
                expr: expr.to_string(),
                op: other.to_string(),
            });
        }
    };
    let value = value(rest[op_len..].trim(), metric.unit()).map_err(invalid)?;
    Ok(Threshold {
        expr: expr.to_string(),
        metric,
        op,
        value,
    })
}

/// `Err(None)`: the name is unknown; `Err(Some(msg))`: a label problem.
fn metric(name: &str, labels: &[(&str, &str)]) -> Result<Metric, Option<String>> {
    let allowed: &[&str] = match name {
        "closes" => &["code", "initiator"],
        "errors" => &["kind"],
        "statuses" => &["status"],
        "sessions" => &["state"],
        n if METRIC_NAMES.contains(&n) => &[],
        _ => return Err(None),
    };
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in labels {
        if !allowed.contains(k) {
            return Err(Some(if allowed.is_empty() {
                format!("{name} takes no labels (found '{k}')")
            } else {
                format!("{name} has no label '{k}' (labels: {})", allowed.join(", "))
            }));
        }
        if seen.contains(k) {
            return Err(Some(format!("label '{k}' is given twice")));
        }
        seen.push(k);
    }
    let label = |key: &str| labels.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let number = |key: &str| -> Result<Option<u16>, Option<String>> {
        label(key)
            .map(|v| {
                v.parse::<u16>()
                    .map_err(|_| Some(format!("{key}={v}: expected a number")))
            })
            .transpose()
    };
    Ok(match name {
        "open_ratio" => Metric::OpenRatio,
        "opens" => Metric::Opens,
        "attempts" => Metric::Attempts,
        "attempts_per_s" => Metric::AttemptsPerS,
        "gave_up" => Metric::GaveUp,
        "lockstep" => Metric::Lockstep,
        "lockstep_excess" => Metric::LockstepExcess,
        "closes" => Metric::Closes {
            code: number("code")?,
            initiator: label("initiator")
                .map(|v| {
                    INITIATORS
                        .into_iter()
                        .find(|i| i.as_str() == v)
                        .ok_or_else(|| {
                            Some(format!(
                                "initiator={v}: expected one of server, client, local"
                            ))
                        })
                })
                .transpose()?,
        },
        "errors" => Metric::Errors {
            kind: label("kind")
                .map(|v| {
                    ERROR_KINDS
                        .into_iter()
                        .find(|k| k.as_str() == v)
                        .ok_or_else(|| {
                            let names: Vec<&str> = ERROR_KINDS.iter().map(|k| k.as_str()).collect();
                            Some(format!("kind={v}: expected one of {}", names.join(", ")))
                        })
                })
                .transpose()?,
        },
        "statuses" => Metric::Statuses {
            status: number("status")?,
        },
        "sessions" => Metric::Sessions {
            state: label("state")
                .map(|v| {
                    SessionState::ALL
                        .into_iter()
                        .find(|s| s.as_str() == v)
                        .ok_or_else(|| {
                            let names: Vec<&str> =
                                SessionState::ALL.iter().map(|s| s.as_str()).collect();
                            Some(format!("state={v}: expected one of {}", names.join(", ")))
                        })
                })
                .transpose()?,
        },
        "handshake_p50" => Metric::HandshakePercentile(50),
        "handshake_p90" => Metric::HandshakePercentile(90),
        "handshake_p95" => Metric::HandshakePercentile(95),
        "handshake_p99" => Metric::HandshakePercentile(99),
        "stale" => Metric::Stale,
        "stale_ratio" => Metric::StaleRatio,
        "msg_latency_p50" => Metric::MsgLatencyPercentile(50),
        "msg_latency_p90" => Metric::MsgLatencyPercentile(90),
        "msg_latency_p95" => Metric::MsgLatencyPercentile(95),
        "msg_latency_p99" => Metric::MsgLatencyPercentile(99),
        "msgs_in_per_s" => Metric::MsgsInPerS,
        "connections_lost" => Metric::ConnectionsLost,
        _ => return Err(None),
    })
}

const ERROR_KINDS: [ErrorKind; 11] = [
    ErrorKind::Url,
    ErrorKind::Dns,
    ErrorKind::Connect,
    ErrorKind::Timeout,
    ErrorKind::Tls,
    ErrorKind::Handshake,
    ErrorKind::Extension,
    ErrorKind::Protocol,
    ErrorKind::Io,
    ErrorKind::Proxy,
    ErrorKind::Stale,
];

/// A number with an optional unit, converted to the metric's base unit.
fn value(s: &str, unit: Unit) -> Result<f64, String> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a number (as in 0.99, 500ms, 97%)"))?;
    let scale = match (suffix.trim(), unit) {
        // A bare number is ambiguous for a duration (0.1 second or millisecond?): ask.
        ("", Unit::Millis) => {
            return Err(format!("a duration needs a unit: {num}ms or {num}s"));
        }
        ("", _) => 1.0,
        ("%", Unit::Ratio) => 0.01,
        ("ms", Unit::Millis) => 1.0,
        ("s", Unit::Millis) => 1000.0,
        (u, Unit::Ratio) => {
            return Err(format!("unit '{u}' does not fit a ratio (use 0.99 or 99%)"));
        }
        (u, Unit::Millis) => {
            return Err(format!("unit '{u}' does not fit a duration (use ms or s)"));
        }
        (u, _) => {
            return Err(format!(
                "unit '{u}' does not fit a count (write a plain number)"
            ));
        }
    };
    Ok(n * scale)
}

impl Threshold {
    /// The metric's value in `snap`, or None when there is nothing to measure.
    pub fn observe(&self, snap: &Snapshot) -> Option<f64> {
        let t = &snap.totals;
        let count = |n: u64| Some(n as f64);
        match &self.metric {
            Metric::OpenRatio => {
                let live: usize = t.by_state.iter().sum();
                let open = t.by_state[SessionState::Open.index()]
                    + t.by_state[SessionState::Closing.index()];
                (live > 0).then(|| open as f64 / live as f64)
            }
            Metric::Opens => count(t.opens),
            Metric::ConnectionsLost => count(t.connections_lost),
            Metric::Attempts => count(t.attempts),
            Metric::AttemptsPerS => count(t.peak_attempts_per_sec),
            Metric::GaveUp => count(t.gave_up),
            Metric::Lockstep => t.peak_lockstep,
            Metric::LockstepExcess => t.peak_lockstep_excess,
            Metric::Closes { code, initiator } => count(match initiator {
                None => t
                    .closes_by_code
                    .iter()
                    .filter(|(c, _)| code.is_none_or(|want| **c == want))
                    .map(|(_, n)| n)
                    .sum(),
                Some(i) => {
                    let slot = INITIATORS.iter().position(|x| x == i).unwrap_or(0);
                    t.closes_by_initiator
                        .iter()
                        .filter(|(c, _)| code.is_none_or(|want| **c == want))
                        .map(|(_, n)| n[slot])
                        .sum()
                }
            }),
            Metric::Errors { kind } => count(
                t.errors
                    .iter()
                    .filter(|(k, _)| kind.is_none_or(|want| **k == want))
                    .map(|(_, n)| n)
                    .sum(),
            ),
            Metric::Statuses { status } => count(
                t.statuses
                    .iter()
                    .filter(|(s, _)| status.is_none_or(|want| **s == want))
                    .map(|(_, n)| n)
                    .sum(),
            ),
            Metric::Sessions { state } => Some(match state {
                None => t.by_state.iter().sum::<usize>() as f64,
                Some(s) => t.by_state[s.index()] as f64,
            }),
            Metric::HandshakePercentile(p) => {
                let mut ms: Vec<f64> = snap
                    .sessions
                    .iter()
                    .filter_map(|s| s.last_handshake.as_ref())
                    .filter_map(|h| {
                        let t = h.timings_ms;
                        let parts = [t.dns, t.connect, t.proxy, t.tls, t.upgrade];
                        t.upgrade.map(|_| parts.iter().flatten().sum())
                    })
                    .collect();
                percentile(&mut ms, *p)
            }
            Metric::Stale => count(t.stale as u64),
            Metric::StaleRatio => {
                let open = t.by_state[SessionState::Open.index()];
                (open > 0).then(|| t.stale as f64 / open as f64)
            }
            Metric::MsgLatencyPercentile(p) => {
                let slot = [50, 90, 95, 99].iter().position(|q| q == p)?;
                t.msg_latency_us.map(|l| l[slot] as f64 / 1000.0)
            }
            Metric::MsgsInPerS => t.msgs_in_per_s,
        }
    }

    /// Evaluate against `snap`.
    pub fn evaluate(&self, snap: &Snapshot) -> ThresholdResult {
        let observed = self.observe(snap);
        let verdict = match observed {
            None => Verdict::NoData,
            Some(v) if self.op.holds(v, self.value) => Verdict::Fail,
            Some(_) => Verdict::Pass,
        };
        ThresholdResult {
            expr: self.expr.clone(),
            observed,
            shown: observed.map_or_else(|| "no data".to_string(), |v| show(v, self.metric.unit())),
            verdict,
        }
    }
}

/// A rule of the default gate that failed: its name (`no_usable_session`,
/// `ended_with_failure`), what it says, and the causes behind it ("2 x close 1010").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateFailure {
    pub rule: &'static str,
    pub message: String,
    pub causes: Vec<String>,
}

/// Rule: no session ever became usable.
pub const NO_USABLE_SESSION: &str = "no_usable_session";
/// Rule: a session ended, not retried, for a cause that is a failure.
pub const ENDED_WITH_FAILURE: &str = "ended_with_failure";

/// Whether a session that ended for `cause` (without a retry) ended in failure: a close with
/// 1002, 1003, 1007-1011 (1011 only gets here when it was not retried), 1014 or 1015 (TLS), an
/// HTTP 4xx answer, or an error without a close code (TLS, a broken handshake, a bad URL ...)
/// other than wsmon's own (`internal`, `resource`).
/// 1000 (done), 1001/1012/1013 (the server going away, restarting, busy) and application codes
/// (3000-4999, whose meaning is the application's) are not.
pub fn is_failure(cause: &Cause) -> bool {
    match cause {
        Cause::Close { code } => matches!(code, 1002 | 1003 | 1007..=1011 | 1014 | 1015),
        Cause::Status { status } => (400..500).contains(status),
        // wsmon's own trouble (a panicked session task, no descriptor left) says nothing
        // about the target: the summary and the export report it.
        Cause::Error {
            kind: ErrorKind::Internal | ErrorKind::Resource,
        } => false,
        Cause::Error { .. } => true,
        Cause::Manual | Cause::Shutdown => false,
        // A lost connection counts in `connections_lost`, not as the target's failure.
        Cause::Connection { .. } => false,
    }
}

/// How a cause is named in the gate's messages: `close 1010`, `HTTP 403`, `error tls`.
pub fn cause_label(cause: &Cause) -> String {
    match cause {
        Cause::Close { code } => format!("close {code}"),
        Cause::Status { status } => format!("HTTP {status}"),
        Cause::Error { kind } => format!("error {}", kind.as_str()),
        Cause::Manual => "the operator".to_string(),
        Cause::Shutdown => "wsmon's shutdown".to_string(),
        Cause::Connection { reason, h2_error } => {
            crate::protocol::http2::loss_label(*reason, *h2_error)
        }
    }
}

/// Connections that became usable: opened (101 and a valid upgrade) and not closed at once by
/// wsmon with 1010 because a required extension was missing.
pub fn usable_opens(snap: &Snapshot) -> u64 {
    let t = &snap.totals;
    let slot = INITIATORS
        .iter()
        .position(|i| *i == Initiator::Client)
        .unwrap_or(1);
    let missing_extension = t.closes_by_initiator.get(&1010).map_or(0, |n| n[slot]);
    t.opens.saturating_sub(missing_extension)
}

/// The default gate on the run's last snapshot. `no_open_causes`: the top reasons sessions did
/// not open, quoted when no session became usable. Empty when both rules hold.
pub fn default_gate(snap: &Snapshot, no_open_causes: &[String]) -> Vec<GateFailure> {
    let mut failed = Vec::new();
    if !snap.sessions.is_empty() && usable_opens(snap) == 0 {
        let mut message = if snap.totals.opens == 0 {
            "no session opened".to_string()
        } else {
            "no session became usable (opened and kept past its handshake and required \
             extensions)"
                .to_string()
        };
        if !no_open_causes.is_empty() {
            message = format!("{message}: {}", no_open_causes.join("; "));
        }
        failed.push(GateFailure {
            rule: NO_USABLE_SESSION,
            message,
            causes: no_open_causes.to_vec(),
        });
    }
    let mut ended: Vec<(String, u64)> = snap
        .totals
        .ended
        .iter()
        .filter(|(c, _)| is_failure(c))
        .map(|(c, n)| (cause_label(c), *n))
        .collect();
    ended.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if !ended.is_empty() {
        let causes: Vec<String> = ended.iter().map(|(c, n)| format!("{n} x {c}")).collect();
        failed.push(GateFailure {
            rule: ENDED_WITH_FAILURE,
            message: format!("{} (not retried)", causes.join(", ")),
            causes,
        });
    }
    failed
}

/// Nearest-rank percentile (the smallest value with at least p% of the samples at or below it).
fn percentile(values: &mut [f64], p: u8) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = (f64::from(p) / 100.0 * values.len() as f64).ceil() as usize;
    values.get(rank.clamp(1, values.len()) - 1).copied()
}

fn show(v: f64, unit: Unit) -> String {
    let trimmed = |v: f64, places: usize| {
        let s = format!("{v:.places$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    match unit {
        Unit::Count => trimmed(v, 0),
        Unit::Ratio => trimmed(v, 4),
        Unit::Millis => format!("{}ms", trimmed(v, 1)),
        Unit::PerSecond => format!("{}/s", trimmed(v, 1)),
    }
}

/// Evaluate every threshold.
pub fn evaluate_all(thresholds: &[Threshold], snap: &Snapshot) -> Vec<ThresholdResult> {
    thresholds.iter().map(|t| t.evaluate(snap)).collect()
}

impl fmt::Display for ThresholdResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = match self.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::NoData => "no data",
        };
        write!(f, "{:<7} {}  (observed {})", verdict, self.expr, self.shown)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Utc;

    use super::*;
    use crate::engine::events::{HandshakeInfo, Timings};
    use crate::state::snapshot::SessionView;

    fn p(s: &str) -> Threshold {
        parse(s).unwrap_or_else(|e| panic!("{s} should parse: {e}"))
    }

    /// Issue 20 item 5: the message-health thresholds, on a snapshot and with no data.
    #[test]
    fn message_health_thresholds() {
        assert_eq!(p("stale>0").metric, Metric::Stale);
        assert_eq!(p("stale_ratio>5%").value, 0.05);
        assert_eq!(
            (
                p("msg_latency_p90>40ms").metric,
                p("msg_latency_p99>0.1s").value
            ),
            (Metric::MsgLatencyPercentile(90), 100.0)
        );
        assert!(
            parse("msg_latency_p50>40").is_err(),
            "a duration needs a unit"
        );
        assert_eq!(p("msgs_in_per_s<100").metric, Metric::MsgsInPerS);
        assert_eq!(
            p("errors{kind=stale}>0").metric,
            Metric::Errors {
                kind: Some(ErrorKind::Stale)
            }
        );
        let mut snap = Snapshot::default();
        for e in [
            "stale>0",
            "stale_ratio>0.1",
            "msg_latency_p50>1ms",
            "msgs_in_per_s<1",
        ] {
            let r = p(e).evaluate(&snap);
            let want = if e == "stale>0" {
                Verdict::Pass
            } else {
                Verdict::NoData
            };
            assert_eq!(r.verdict, want, "{e}: {r}");
        }
        snap.totals.by_state[SessionState::Open.index()] = 40;
        snap.totals.stale = 10;
        snap.totals.msg_latency_us = Some([21_000, 30_000, 35_500, 39_000]);
        snap.totals.msgs_in_per_s = Some(12.5);
        let r = p("stale>0").evaluate(&snap);
        assert_eq!((r.verdict, r.shown.as_str()), (Verdict::Fail, "10"));
        let r = p("stale_ratio>0.3").evaluate(&snap);
        assert_eq!((r.verdict, r.shown.as_str()), (Verdict::Pass, "0.25"));
        let r = p("msg_latency_p95>35ms").evaluate(&snap);
        assert_eq!((r.verdict, r.shown.as_str()), (Verdict::Fail, "35.5ms"));
        let r = p("msg_latency_p50>=21ms").evaluate(&snap);
        assert_eq!(r.verdict, Verdict::Fail);
        let r = p("msgs_in_per_s<10").evaluate(&snap);
        assert_eq!((r.verdict, r.shown.as_str()), (Verdict::Pass, "12.5/s"));
    }

    #[test]
    fn parses_the_documented_examples() {
        assert_eq!(p("open_ratio<0.99").metric, Metric::OpenRatio);
        assert_eq!(p("open_ratio<0.99").op, Op::Lt);
        assert_eq!(p("open_ratio < 99%").value, 0.99);
        let t = p("closes{code=1006}>0");
        assert_eq!(
            t.metric,
            Metric::Closes {
                code: Some(1006),
                initiator: None
            }
        );
        let t = p("closes{code=1013,initiator=server}>=10");
        assert_eq!(
            t.metric,
            Metric::Closes {
                code: Some(1013),
                initiator: Some(Initiator::Server)
            }
        );
        assert_eq!((t.op, t.value), (Op::Ge, 10.0));
        let t = p("handshake_p99>500ms");
        assert_eq!(
            (t.metric, t.value),
            (Metric::HandshakePercentile(99), 500.0)
        );
        assert_eq!(p("handshake_p95>0.5s").value, 500.0);
        assert_eq!(p("handshake_p50>20ms").value, 20.0);
        assert_eq!(p("lockstep_excess>0.25").metric, Metric::LockstepExcess);
        assert_eq!(p("attempts_per_s>200").metric, Metric::AttemptsPerS);
        assert_eq!(p("gave_up>0").metric, Metric::GaveUp);
        assert_eq!(p("lockstep>0.5").metric, Metric::Lockstep);
        assert_eq!(
            p("errors{kind=dns}>0").metric,
            Metric::Errors {
                kind: Some(ErrorKind::Dns)
            }
        );
        assert_eq!(
            p("statuses{status=503}>0").metric,
            Metric::Statuses { status: Some(503) }
        );
        assert_eq!(
            p("sessions{state=gave_up}!=0").metric,
            Metric::Sessions {
                state: Some(SessionState::GaveUp)
            }
        );
        for (s, op) in [
            ("opens<1", Op::Lt),
            ("opens<=1", Op::Le),
            ("opens>1", Op::Gt),
            ("opens>=1", Op::Ge),
            ("opens==1", Op::Eq),
            ("opens!=1", Op::Ne),
        ] {
            assert_eq!(p(s).op, op, "{s}");
        }
        assert_eq!(
            p("  closes{ code = 1000 } == 3 ").expr,
            "closes{ code = 1000 } == 3"
        );
    }

    #[test]
    fn bad_expressions_name_what_is_wrong() {
        let e = parse("open_rate<0.9").expect_err("unknown metric");
        assert!(matches!(&e, ThresholdError::UnknownMetric { name, .. } if name == "open_rate"));
        assert!(e.to_string().contains("unknown metric 'open_rate'"), "{e}");
        let e = parse("gave_up=>0").expect_err("unknown operator");
        assert!(
            matches!(&e, ThresholdError::UnknownOperator { op, .. } if op == "=>"),
            "{e}"
        );
        let e = parse("gave_up=0").expect_err("single =");
        assert!(e.to_string().contains("unknown operator '='"), "{e}");
        let e = parse("gave_up ~ 0").expect_err("tilde");
        assert!(e.to_string().contains("unknown operator '~'"), "{e}");
        for (bad, needle) in [
            ("gave_up", "expected an operator"),
            ("gave_up>", "is not a number"),
            ("gave_up>lots", "is not a number"),
            ("gave_up>5ms", "does not fit a count"),
            ("open_ratio<5ms", "does not fit a ratio"),
            ("handshake_p99>5%", "does not fit a duration"),
            (
                "handshake_p99>0.1",
                "a duration needs a unit: 0.1ms or 0.1s",
            ),
            ("closes{code=abc}>0", "code=abc: expected a number"),
            ("closes{initiator=them}>0", "initiator=them"),
            ("closes{reason=x}>0", "has no label 'reason'"),
            ("closes{code=1000,code=1001}>0", "given twice"),
            ("closes{code=1000>0", "without a closing"),
            (
                "errors{kind=weird}>0",
                "kind=weird: expected one of url, dns",
            ),
            ("sessions{state=asleep}>0", "state=asleep"),
            ("lockstep{code=1}>0", "takes no labels"),
            ("<0.9", "expected a metric name"),
            ("handshake_p42>1ms", "unknown metric"),
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(e.to_string().contains(needle), "{bad}: {e}");
        }
    }

    fn session(id: u64, state: SessionState, handshake_ms: Option<f64>) -> Arc<SessionView> {
        let mut v = SessionView::new(id, 0, Arc::from("ws://h/"), Utc::now());
        v.state = state;
        v.last_handshake = handshake_ms.map(|ms| {
            Arc::new(HandshakeInfo {
                status: 101,
                timings_ms: Timings {
                    dns: None,
                    connect: Some(ms / 2.0),
                    tls: None,
                    upgrade: Some(ms / 2.0),
                    proxy: None,
                },
                ..HandshakeInfo::default()
            })
        });
        Arc::new(v)
    }

    fn snapshot() -> Snapshot {
        let mut s = Snapshot::default();
        // 100 sessions: 97 open, 2 waiting, 1 gave up; handshakes of 1..=100 ms on 100 sessions.
        for i in 0..100u64 {
            let state = match i {
                0..97 => SessionState::Open,
                97 | 98 => SessionState::Waiting,
                _ => SessionState::GaveUp,
            };
            s.totals.by_state[state.index()] += 1;
            s.sessions.push(session(i, state, Some((i + 1) as f64)));
        }
        s.totals.closes_by_code.insert(1006, 4);
        s.totals.closes_by_code.insert(1013, 12);
        s.totals.closes_by_initiator.insert(1006, [0, 0, 4]);
        s.totals.closes_by_initiator.insert(1013, [11, 1, 0]);
        s.totals.statuses.insert(101, 113);
        s.totals.statuses.insert(503, 2);
        s.totals.errors.insert(ErrorKind::Dns, 3);
        s.totals.errors.insert(ErrorKind::Timeout, 1);
        s.totals.attempts = 120;
        s.totals.opens = 113;
        s.totals.gave_up = 1;
        s.totals.peak_attempts_per_sec = 250;
        s.totals.peak_lockstep = Some(0.62);
        s.totals.peak_lockstep_excess = Some(0.12);
        s
    }

    fn verdict(expr: &str, snap: &Snapshot) -> (Option<f64>, Verdict) {
        let r = p(expr).evaluate(snap);
        (r.observed, r.verdict)
    }

    #[test]
    fn evaluates_against_a_snapshot() {
        let s = snapshot();
        assert_eq!(verdict("open_ratio<0.99", &s), (Some(0.97), Verdict::Fail));
        assert_eq!(verdict("open_ratio<95%", &s), (Some(0.97), Verdict::Pass));
        assert_eq!(
            verdict("closes{code=1006}>0", &s),
            (Some(4.0), Verdict::Fail)
        );
        assert_eq!(verdict("closes>16", &s), (Some(16.0), Verdict::Pass));
        assert_eq!(
            verdict("closes{code=1013,initiator=server}>=10", &s),
            (Some(11.0), Verdict::Fail)
        );
        assert_eq!(
            verdict("closes{initiator=client}>1", &s),
            (Some(1.0), Verdict::Pass)
        );
        assert_eq!(
            verdict("closes{code=1000}>0", &s),
            (Some(0.0), Verdict::Pass)
        );
        assert_eq!(
            verdict("handshake_p99>50ms", &s),
            (Some(99.0), Verdict::Fail)
        );
        assert_eq!(
            verdict("handshake_p50>0.05s", &s),
            (Some(50.0), Verdict::Pass)
        );
        assert_eq!(
            verdict("attempts_per_s>200", &s),
            (Some(250.0), Verdict::Fail)
        );
        assert_eq!(verdict("gave_up>0", &s), (Some(1.0), Verdict::Fail));
        assert_eq!(verdict("lockstep>0.5", &s), (Some(0.62), Verdict::Fail));
        // Above 0.5, but only 0.12 above chance: the screen says "not in step", so does this.
        assert_eq!(
            verdict("lockstep_excess>0.25", &s),
            (Some(0.12), Verdict::Pass)
        );
        assert_eq!(
            verdict("errors{kind=dns}>0", &s),
            (Some(3.0), Verdict::Fail)
        );
        assert_eq!(verdict("errors>=5", &s), (Some(4.0), Verdict::Pass));
        assert_eq!(
            verdict("errors{kind=tls}>0", &s),
            (Some(0.0), Verdict::Pass)
        );
        assert_eq!(
            verdict("statuses{status=503}>0", &s),
            (Some(2.0), Verdict::Fail)
        );
        assert_eq!(
            verdict("sessions{state=waiting}==2", &s),
            (Some(2.0), Verdict::Fail)
        );
        assert_eq!(verdict("sessions!=100", &s), (Some(100.0), Verdict::Pass));
        assert_eq!(verdict("opens<113", &s), (Some(113.0), Verdict::Pass));
        assert_eq!(verdict("attempts<=120", &s), (Some(120.0), Verdict::Fail));
    }

    #[test]
    fn nothing_to_measure_is_no_data_not_a_failure() {
        let empty = Snapshot::default();
        assert_eq!(verdict("open_ratio<0.99", &empty), (None, Verdict::NoData));
        assert_eq!(
            verdict("handshake_p99>1ms", &empty),
            (None, Verdict::NoData)
        );
        assert_eq!(verdict("lockstep>0.5", &empty), (None, Verdict::NoData));
        assert_eq!(
            verdict("lockstep_excess>0.25", &empty),
            (None, Verdict::NoData)
        );
        assert_eq!(verdict("gave_up>0", &empty), (Some(0.0), Verdict::Pass));
    }

    #[test]
    fn results_show_the_value_with_its_unit() {
        let s = snapshot();
        let all = evaluate_all(
            &[
                p("handshake_p99>500ms"),
                p("open_ratio<0.99"),
                p("attempts_per_s>200"),
            ],
            &s,
        );
        let shown: Vec<&str> = all.iter().map(|r| r.shown.as_str()).collect();
        assert_eq!(shown, ["99ms", "0.97", "250/s"]);
        assert_eq!(
            all[1].to_string(),
            "FAIL    open_ratio<0.99  (observed 0.97)"
        );
        let json = serde_json::to_value(&all[0]).expect("serializes");
        assert_eq!(json["verdict"], "pass");
        assert_eq!(json["observed"], 99.0);
    }

    #[test]
    fn the_default_gate_names_each_rule_that_failed() {
        let mut s = snapshot();
        assert_eq!(
            default_gate(&s, &[]),
            Vec::new(),
            "113 opens, nothing ended"
        );
        s.totals.ended = vec![
            (Cause::Close { code: 1000 }, 3),
            (Cause::Close { code: 1013 }, 1),
            (Cause::Close { code: 4000 }, 1),
            (Cause::Status { status: 503 }, 1),
            (
                Cause::Error {
                    kind: ErrorKind::Internal,
                },
                1,
            ),
        ];
        assert_eq!(
            default_gate(&s, &[]),
            Vec::new(),
            "none of these is a failure"
        );
        s.totals.ended.push((Cause::Status { status: 403 }, 2));
        s.totals.ended.push((
            Cause::Error {
                kind: ErrorKind::Tls,
            },
            5,
        ));
        let failed = default_gate(&s, &[]);
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].rule, ENDED_WITH_FAILURE);
        assert_eq!(
            failed[0].message,
            "5 x error tls, 2 x HTTP 403 (not retried)"
        );
        // Every open was closed at once with 1010 by wsmon (a required extension missing).
        s.totals.opens = 4;
        s.totals.closes_by_initiator.insert(1010, [0, 4, 0]);
        s.totals.ended = vec![(Cause::Close { code: 1010 }, 4)];
        let failed = default_gate(&s, &["4 x closed with 1010".to_string()]);
        let rules: Vec<&str> = failed.iter().map(|f| f.rule).collect();
        assert_eq!(rules, [NO_USABLE_SESSION, ENDED_WITH_FAILURE]);
        assert!(
            failed[0]
                .message
                .ends_with("extensions): 4 x closed with 1010"),
            "{}",
            failed[0].message
        );
        assert_eq!(failed[1].causes, ["4 x close 1010"]);
        // A 1010 the server sent does not make a session unusable.
        s.totals.closes_by_initiator.insert(1010, [1, 3, 0]);
        assert_eq!(usable_opens(&s), 1);
        assert!(
            default_gate(&Snapshot::default(), &[]).is_empty(),
            "no session at all"
        );
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&mut v, 50), Some(3.0));
        assert_eq!(percentile(&mut v, 99), Some(5.0));
        assert_eq!(percentile(&mut [7.0], 99), Some(7.0));
        assert_eq!(percentile(&mut [], 99), None);
    }
}
