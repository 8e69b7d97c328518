//! The metric families, built with `prometheus-client`: counters and histograms follow the event
//! stream ([`EventCounter`]), gauges are set from the latest snapshot at scrape time
//! ([`Metrics::set_gauges`]), and [`Metrics::render`] writes the text exposition.
//!
//! Labels are bounded: `target` is the redacted target URL, never a session id.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::engine::events::{Event, EventKind, ScriptPhase, SessionId, SessionState, Timings};

/// Buckets of `wsmon_handshake_phase_seconds`: 0.5 ms to 10 s.
pub const PHASE_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Buckets of `wsmon_backoff_delay_seconds`: 10 ms to 5 min (the default Retry-After cap).
pub const BACKOFF_BUCKETS: [f64; 13] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];
/// The `within` label values of `wsmon_retries_due`, in the order of [`TargetGauges::due`].
pub const DUE_WITHIN: [&str; 3] = ["1s", "5s", "30s"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabels {
    target: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    target: Arc<str>,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CloseLabels {
    target: Arc<str>,
    code: String,
    initiator: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    target: Arc<str>,
    status: String,
}

/// A script step, by its number in the script.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StepLabels {
    target: Arc<str>,
    step: u32,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    target: Arc<str>,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    target: Arc<str>,
    phase: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DueLabels {
    target: Arc<str>,
    within: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectionLabels {
    target: Arc<str>,
    direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn phase_histogram() -> Histogram {
    Histogram::new(PHASE_BUCKETS)
}

fn backoff_histogram() -> Histogram {
    Histogram::new(BACKOFF_BUCKETS)
}

/// The export's own counts, read at scrape time: events written, and events it failed to
/// write (a failed write or flush, and every event after a failed write).
#[derive(Debug, Clone, Default)]
pub struct ExportCounts {
    pub written: Arc<AtomicU64>,
    pub failed: Arc<AtomicU64>,
}

/// Gauges taken from a snapshot, as plain values (this layer does not read snapshots).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Gauges {
    pub targets: Vec<TargetGauges>,
    /// The lockstep verdict's index (as the screen shows it); `None` while there is no verdict
    /// (too few retries): the family is then absent.
    pub lockstep: Option<f64>,
    /// What chance gives for the same retry counts (`wsmon_lockstep_chance`); the excess
    /// (`wsmon_lockstep_excess`) is the index minus this. Absent with the index.
    pub lockstep_chance: Option<f64>,
}

/// One target's sessions by state and retries due.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TargetGauges {
    /// The redacted target URL, as in the `Spawned` event.
    pub url: String,
    /// Sessions in each state, indexed by [`SessionState::index`].
    pub by_state: [u64; 7],
    /// Waiting sessions whose next attempt is due within 1 s, 5 s, 30 s ([`DUE_WITHIN`]).
    pub due: [u64; 3],
    /// Open sessions that are stale.
    pub stale: u64,
    /// Data messages received and sent so far (`wsmon_messages_total`).
    pub msgs_in: u64,
    pub msgs_out: u64,
}

/// The families that are neither event counts nor per-target gauges: read on each scrape.
#[derive(Debug)]
struct Scraped {
    /// f64 bits of the lockstep index and of its chance level; NaN when there is no verdict.
    lockstep: AtomicU64,
    chance: AtomicU64,
    export: ExportCounts,
}

impl Collector for Scraped {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let lockstep = f64::from_bits(self.lockstep.load(Ordering::Relaxed));
        let chance = f64::from_bits(self.chance.load(Ordering::Relaxed));
        let gauges = [
            (
                "wsmon_lockstep_index",
                "Share of recent retries that fall in the busiest 100 ms of their second (1 all at once, about 0.1 spread evenly over many retries); absent without a verdict.",
                lockstep,
            ),
            (
                "wsmon_lockstep_chance",
                "The lockstep index that independent retries, spread uniformly, give for the same retry counts; absent without a verdict.",
                chance,
            ),
            (
                "wsmon_lockstep_excess",
                "wsmon_lockstep_index minus wsmon_lockstep_chance: how far the retries are in step beyond chance (the screen says IN STEP from 0.25 on); absent without a verdict.",
                lockstep - chance,
            ),
        ];
        for (name, help, value) in gauges {
            if !value.is_nan() {
                let g = ConstGauge::new(value);
                let m = encoder.encode_descriptor(name, help, None, g.metric_type())?;
                g.encode(m)?;
            }
        }
        let counts = [
            (
                "wsmon_export_events",
                "Events written to the --export file.",
                &self.export.written,
            ),
            (
                "wsmon_export_errors",
                "Events the --export file failed to take (a failed write or flush, and every event after a failed write).",
                &self.export.failed,
            ),
        ];
        for (name, help, value) in counts {
            let c = ConstCounter::new(value.load(Ordering::Relaxed));
            let m = encoder.encode_descriptor(name, help, None, c.metric_type())?;
            c.encode(m)?;
        }
        Ok(())
    }
}

/// Every wsmon metric family, in one `prometheus-client` registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    sessions: Family<StateLabels, Gauge>,
    attempts: Family<TargetLabels, Counter>,
    opens: Family<TargetLabels, Counter>,
    closes: Family<CloseLabels, Counter>,
    handshake_failures: Family<StatusLabels, Counter>,
    errors: Family<KindLabels, Counter>,
    phases: HistogramFamily<PhaseLabels>,
    backoff: HistogramFamily<TargetLabels>,
    retries_due: Family<DueLabels, Gauge>,
    scraped: Arc<Scraped>,
    script_failures: Family<StepLabels, Counter>,
    stale: Family<TargetLabels, Gauge>,
    latency: HistogramFamily<TargetLabels>,
    messages: Family<DirectionLabels, Counter>,
    /// `wsmon_connections{transport}`, `wsmon_connection_losses_total{reason}`.
    connections: std::sync::Mutex<super::connections::Connections>,
}

impl Metrics {
    /// The families, registered; `export` is read on each scrape (all zero without an export).
    pub fn new(export: ExportCounts) -> Metrics {
        let mut registry = Registry::default();
        let connections = super::connections::Connections::default();
        let sessions = Family::<StateLabels, Gauge>::default();
        registry.register(
            "wsmon_sessions",
            "Sessions by target and state",
            sessions.clone(),
        );
        let attempts = Family::<TargetLabels, Counter>::default();
        registry.register(
            "wsmon_connection_attempts",
            "Connection attempts started (first connections and retries)",
            attempts.clone(),
        );
        let opens = Family::<TargetLabels, Counter>::default();
        registry.register(
            "wsmon_opens",
            "WebSocket connections opened (101 and a valid upgrade)",
            opens.clone(),
        );
        let closes = Family::<CloseLabels, Counter>::default();
        registry.register(
            "wsmon_closes",
            "Connections ended, by close code and who initiated the close",
            closes.clone(),
        );
        let handshake_failures = Family::<StatusLabels, Counter>::default();
        registry.register(
            "wsmon_handshake_failures",
            "Upgrades answered with an HTTP status other than 101",
            handshake_failures.clone(),
        );
        let errors = Family::<KindLabels, Counter>::default();
        registry.register(
            "wsmon_errors",
            "Attempts that failed without a close code, by error kind",
            errors.clone(),
        );
        let phases: HistogramFamily<PhaseLabels> = Family::new_with_constructor(phase_histogram);
        registry.register(
            "wsmon_handshake_phase_seconds",
            "Duration of each handshake phase (dns, connect, proxy, tls, upgrade) of attempts that got an HTTP answer",
            phases.clone(),
        );
        let backoff: HistogramFamily<TargetLabels> =
            Family::new_with_constructor(backoff_histogram);
        registry.register(
            "wsmon_backoff_delay_seconds",
            "Delays scheduled before a retry",
            backoff.clone(),
        );
        let retries_due = Family::<DueLabels, Gauge>::default();
        registry.register(
            "wsmon_retries_due",
            "Waiting sessions whose next attempt is due within 1s, 5s or 30s (overdue ones count in each)",
            retries_due.clone(),
        );
        let stale = Family::<TargetLabels, Gauge>::default();
        registry.register(
            "wsmon_stale_sessions",
            "Open sessions with no message from the server for --stale-after",
            stale.clone(),
        );
        let latency: HistogramFamily<TargetLabels> = Family::new_with_constructor(phase_histogram);
        registry.register(
            "wsmon_message_latency_seconds",
            "Message latency: a script's request to its response, a protocol's ping to its pong",
            latency.clone(),
        );
        let messages = Family::<DirectionLabels, Counter>::default();
        registry.register(
            "wsmon_messages",
            "Data messages received (in) and sent (out)",
            messages.clone(),
        );
        let build = Family::<VersionLabels, Gauge>::default();
        build
            .get_or_create(&VersionLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register("wsmon_build_info", "wsmon build, always 1", build);
        let scraped = Arc::new(Scraped {
            lockstep: AtomicU64::new(f64::NAN.to_bits()),
            chance: AtomicU64::new(f64::NAN.to_bits()),
            export,
        });
        registry.register_collector(Box::new(scraped.clone()));
        let script_failures = Family::<StepLabels, Counter>::default();
        registry.register(
            "wsmon_script_failures",
            "Session script steps that timed out, by target and step",
            script_failures.clone(),
        );
        connections.register(&mut registry);
        Metrics {
            registry,
            sessions,
            attempts,
            opens,
            closes,
            handshake_failures,
            errors,
            phases,
            backoff,
            retries_due,
            scraped,
            script_failures,
            stale,
            latency,
            messages,
            connections: std::sync::Mutex::new(connections),
        }
    }

    /// Set the gauges from a snapshot's values. Targets keep their series (at 0) once seen.
    pub fn set_gauges(&self, g: &Gauges) {
        for t in &g.targets {
            let target: Arc<str> = Arc::from(t.url.as_str());
            for st in SessionState::ALL {
                let labels = StateLabels {
                    target: target.clone(),
                    state: st.as_str(),
                };
                let n = t.by_state[st.index()];
                self.sessions
                    .get_or_create(&labels)
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
            for (within, n) in DUE_WITHIN.iter().zip(t.due) {
                let labels = DueLabels {
                    target: target.clone(),
                    within,
                };
                self.retries_due
                    .get_or_create(&labels)
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
        }
        for t in &g.targets {
            let target: Arc<str> = Arc::from(t.url.as_str());
            self.stale
                .get_or_create(&TargetLabels {
                    target: target.clone(),
                })
                .set(i64::try_from(t.stale).unwrap_or(i64::MAX));
            for (direction, n) in [("in", t.msgs_in), ("out", t.msgs_out)] {
                let labels = DirectionLabels {
                    target: target.clone(),
                    direction,
                };
                // A counter only grows: add what is new since the last scrape.
                let c = self.messages.get_or_create(&labels);
                let seen = c.get();
                if n > seen {
                    c.inc_by(n - seen);
                }
            }
        }
        // Both or neither: the excess is their difference.
        let (index, chance) = match (g.lockstep, g.lockstep_chance) {
            (Some(i), Some(c)) => (i, c),
            _ => (f64::NAN, f64::NAN),
        };
        self.scraped
            .lockstep
            .store(index.to_bits(), Ordering::Relaxed);
        self.scraped
            .chance
            .store(chance.to_bits(), Ordering::Relaxed);
    }

    /// The exposition: OpenMetrics text (Prometheus' text format as its official client writes
    /// it, ending with `# EOF`).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            // Only a failing `fmt::Write`, which a String never is; say so rather than panic.
            out = format!("# wsmon: cannot encode metrics: {e}\n# EOF\n");
        }
        out
    }
}

/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The phases of [`Timings`] with their `phase` label (`proxy`: the CONNECT or SOCKS5
/// exchange, only through a proxy).
fn phases(t: &Timings) -> [(&'static str, Option<f64>); 5] {
    [
        ("dns", t.dns),
        ("connect", t.connect),
        ("proxy", t.proxy),
        ("tls", t.tls),
        ("upgrade", t.upgrade),
    ]
}

/// Feeds events into the counters and histograms. Owned by the metrics sink's thread: it keeps
/// which target each live session belongs to (from `Spawned`, forgotten at `Removed`).
#[derive(Debug)]
pub struct EventCounter {
    metrics: Arc<Metrics>,
    targets: HashMap<SessionId, Arc<str>>,
    events: u64,
}

impl EventCounter {
    pub fn new(metrics: Arc<Metrics>) -> EventCounter {
        EventCounter {
            metrics,
            targets: HashMap::new(),
            events: 0,
        }
    }

    /// Events observed so far (every one, whatever its kind).
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Count one event. Events of a session never spawned here are counted under the target
    /// `unknown` (the engine always sends `Spawned` first).
    pub fn observe(&mut self, ev: &Event) {
        self.events += 1;
        if let Ok(mut c) = self.metrics.connections.lock() {
            c.observe(ev);
        }
        let target = match &ev.kind {
            EventKind::Spawned { url, .. } => {
                let t: Arc<str> = Arc::from(url.as_str());
                self.targets.insert(ev.session, t.clone());
                t
            }
            EventKind::Removed => {
                self.targets.remove(&ev.session);
                return;
            }
            _ => match self.targets.get(&ev.session) {
                Some(t) => t.clone(),
                None => Arc::from("unknown"),
            },
        };
        let m = &self.metrics;
        let by_target = TargetLabels {
            target: target.clone(),
        };
        match &ev.kind {
            EventKind::Spawned { .. } => {
                // Make the target's counters exist (at 0) from its first session on.
                drop(m.attempts.get_or_create(&by_target));
                drop(m.opens.get_or_create(&by_target));
            }
            EventKind::Connecting { .. } => {
                m.attempts.get_or_create(&by_target).inc();
            }
            EventKind::Open { .. } => {
                m.opens.get_or_create(&by_target).inc();
            }
            EventKind::Handshake(info) => {
                // A refused answer (malformed, bad accept ...) counts as its error event.
                if !info.is_upgrade() && info.invalid.is_none() {
                    let labels = StatusLabels {
                        target: target.clone(),
                        status: info.status.to_string(),
                    };
                    m.handshake_failures.get_or_create(&labels).inc();
                }
                for (phase, ms) in phases(&info.timings_ms) {
                    if let Some(ms) = ms {
                        let labels = PhaseLabels {
                            target: target.clone(),
                            phase,
                        };
                        m.phases.get_or_create(&labels).observe(ms / 1000.0);
                    }
                }
            }
            EventKind::Closed(ci) => {
                let labels = CloseLabels {
                    target,
                    code: ci.code.to_string(),
                    initiator: ci.initiator.as_str(),
                };
                m.closes.get_or_create(&labels).inc();
            }
            EventKind::Error { kind, .. } => {
                let labels = KindLabels {
                    target,
                    kind: kind.as_str(),
                };
                m.errors.get_or_create(&labels).inc();
            }
            EventKind::Script(sc) if sc.phase == ScriptPhase::TimedOut => {
                let labels = StepLabels {
                    target,
                    step: sc.step,
                };
                m.script_failures.get_or_create(&labels).inc();
            }
            EventKind::Backoff(b) => {
                m.backoff
                    .get_or_create(&by_target)
                    .observe(b.delay_ms as f64 / 1000.0);
            }
            EventKind::Latency { us, .. } => {
                m.latency
                    .get_or_create(&by_target)
                    .observe(*us as f64 / 1e6);
            }
            EventKind::Handshaking { .. }
            | EventKind::Closing { .. }
            | EventKind::GaveUp { .. }
            | EventKind::Ended { .. }
            | EventKind::Paused { .. }
            | EventKind::Removed
            | EventKind::Script(_)
            | EventKind::Stale { .. }
            | EventKind::Fresh { .. }
            | EventKind::Message(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::engine::events::{ErrorKind, HandshakeInfo, Initiator};
    use crate::engine::test_events::{self as build, connecting};

    fn ev(session: SessionId, kind: EventKind) -> Event {
        build::event(Utc::now(), session, kind)
    }

    fn spawned(session: SessionId, url: &str) -> Event {
        ev(session, build::spawned(0, url))
    }

    fn closed(session: SessionId, code: u16, initiator: Initiator) -> Event {
        ev(session, build::closed(code, initiator))
    }

    fn handshake(session: SessionId, status: u16, timings: Timings) -> Event {
        ev(
            session,
            EventKind::Handshake(Arc::new(HandshakeInfo {
                status,
                timings_ms: timings,
                ..HandshakeInfo::default()
            })),
        )
    }

    /// The sample lines of `text` (no comments), for exact matching.
    fn samples(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with('#')).collect()
    }

    fn has(text: &str, line: &str) -> bool {
        samples(text).contains(&line)
    }

    #[test]
    fn script_timeouts_count_by_target_and_step() {
        let metrics = Arc::new(Metrics::new(ExportCounts::default()));
        let mut c = EventCounter::new(metrics.clone());
        c.observe(&spawned(1, "ws://a/"));
        let step = |step, phase| {
            EventKind::Script(Arc::new(crate::engine::events::ScriptEvent {
                step,
                steps: 0,
                phase,
                what: "expect /x/ within 1s".into(),
                last: None,
                captured: Vec::new(),
            }))
        };
        for kind in [
            step(2, ScriptPhase::Started),
            step(2, ScriptPhase::TimedOut),
            step(2, ScriptPhase::TimedOut),
            step(3, ScriptPhase::Matched),
            step(4, ScriptPhase::TimedOut),
        ] {
            c.observe(&ev(1, kind));
        }
        let text = metrics.render();
        assert!(
            has(
                &text,
                r#"wsmon_script_failures_total{target="ws://a/",step="2"} 2"#
            ),
            "{text}"
        );
        assert!(
            has(
                &text,
                r#"wsmon_script_failures_total{target="ws://a/",step="4"} 1"#
            ),
            "{text}"
        );
        assert!(!text.contains(r#"step="3""#), "{text}");
    }

    /// An answer refused as invalid is no HTTP status (issue 9): only its error counts.
    #[test]
    fn a_refused_answer_is_not_a_handshake_failure() {
        let metrics = Arc::new(Metrics::new(ExportCounts::default()));
        let mut c = EventCounter::new(metrics.clone());
        c.observe(&spawned(1, "ws://a/"));
        c.observe(&ev(
            1,
            EventKind::Handshake(Arc::new(HandshakeInfo {
                status: 0,
                invalid: Some("the answer does not start with an HTTP status line".into()),
                ..HandshakeInfo::default()
            })),
        ));
        c.observe(&ev(
            1,
            build::error(
                ErrorKind::Handshake,
                "the answer does not start with an HTTP status line",
            ),
        ));
        let text = metrics.render();
        assert!(!text.contains("wsmon_handshake_failures_total{"), "{text}");
        assert!(
            has(
                &text,
                r#"wsmon_errors_total{target="ws://a/",kind="handshake"} 1"#
            ),
            "{text}"
        );
    }

    #[test]
    fn events_become_counters_and_histograms_by_target() {
        let metrics = Arc::new(Metrics::new(ExportCounts::default()));
        let mut c = EventCounter::new(metrics.clone());
        let a = "ws://a/overload?cap=2";
        let b = "ws://b/close/1008";
        let events = vec![
            spawned(1, a),
            spawned(2, a),
            spawned(3, b),
            ev(1, connecting(1)),
            ev(2, connecting(1)),
            ev(3, connecting(1)),
            handshake(
                1,
                101,
                Timings {
                    dns: None,
                    connect: Some(0.3),
                    tls: None,
                    upgrade: Some(2.0),
                    proxy: None,
                },
            ),
            ev(
                1,
                EventKind::Open {
                    attempt: 1,
                    link: Default::default(),
                },
            ),
            closed(1, 1013, Initiator::Server),
            closed(2, 1013, Initiator::Server),
            closed(3, 1008, Initiator::Server),
            handshake(2, 503, Timings::default()),
            ev(2, build::error(ErrorKind::Connect, "refused")),
            ev(2, build::backoff(1, 1013, Utc::now())),
            ev(3, EventKind::Removed),
            // After `Removed` the session is forgotten: its events count as `unknown`.
            ev(3, connecting(2)),
        ];
        for e in &events {
            c.observe(e);
        }
        assert_eq!(c.events(), events.len() as u64);
        let text = metrics.render();
        for line in [
            r#"wsmon_connection_attempts_total{target="ws://a/overload?cap=2"} 2"#,
            r#"wsmon_connection_attempts_total{target="ws://b/close/1008"} 1"#,
            r#"wsmon_connection_attempts_total{target="unknown"} 1"#,
            r#"wsmon_opens_total{target="ws://a/overload?cap=2"} 1"#,
            r#"wsmon_opens_total{target="ws://b/close/1008"} 0"#,
            r#"wsmon_closes_total{target="ws://a/overload?cap=2",code="1013",initiator="server"} 2"#,
            r#"wsmon_closes_total{target="ws://b/close/1008",code="1008",initiator="server"} 1"#,
            r#"wsmon_handshake_failures_total{target="ws://a/overload?cap=2",status="503"} 1"#,
            r#"wsmon_errors_total{target="ws://a/overload?cap=2",kind="connect"} 1"#,
            r#"wsmon_handshake_phase_seconds_count{target="ws://a/overload?cap=2",phase="upgrade"} 1"#,
            r#"wsmon_handshake_phase_seconds_bucket{le="0.0025",target="ws://a/overload?cap=2",phase="upgrade"} 1"#,
            r#"wsmon_handshake_phase_seconds_bucket{le="0.001",target="ws://a/overload?cap=2",phase="upgrade"} 0"#,
            r#"wsmon_handshake_phase_seconds_count{target="ws://a/overload?cap=2",phase="connect"} 1"#,
            r#"wsmon_backoff_delay_seconds_sum{target="ws://a/overload?cap=2"} 0.7"#,
            r#"wsmon_backoff_delay_seconds_bucket{le="1.0",target="ws://a/overload?cap=2"} 1"#,
            r#"wsmon_backoff_delay_seconds_bucket{le="0.5",target="ws://a/overload?cap=2"} 0"#,
            r#"wsmon_build_info{version="0.1.0"} 1"#,
            "wsmon_export_events_total 0",
            "wsmon_export_errors_total 0",
        ] {
            assert!(has(&text, line), "missing {line} in\n{text}");
        }
        // A 101 is not a failure; a phase that did not happen has no series.
        assert!(!text.contains(r#"status="101""#), "{text}");
        assert!(!text.contains(r#"phase="dns""#), "{text}");
        assert!(!text.contains("session"), "{text}");
        assert!(text.contains("# TYPE wsmon_closes counter\n"), "{text}");
        assert!(text.contains("# TYPE wsmon_handshake_phase_seconds histogram\n"));
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    /// Issue 20 item 6: stale sessions and messages by target from the snapshot's values
    /// (messages only grow), latency as a histogram from the events.
    #[test]
    fn stale_messages_and_latency_by_target() {
        let metrics = Arc::new(Metrics::new(ExportCounts::default()));
        let mut counter = EventCounter::new(metrics.clone());
        counter.observe(&spawned(1, "ws://a/rpc"));
        for us in [3_000, 20_000, 30_000] {
            counter.observe(&ev(
                1,
                EventKind::Latency {
                    us,
                    source: crate::engine::events::LatencySource::Rpc,
                    step: 1,
                },
            ));
        }
        let mut g = Gauges {
            targets: vec![TargetGauges {
                url: "ws://a/rpc".into(),
                stale: 4,
                msgs_in: 120,
                msgs_out: 7,
                ..Default::default()
            }],
            ..Default::default()
        };
        metrics.set_gauges(&g);
        g.targets[0].msgs_in = 100; // fewer (cannot happen): the counter stays
        g.targets[0].stale = 0;
        metrics.set_gauges(&g);
        let text = metrics.render();
        for line in [
            r#"wsmon_stale_sessions{target="ws://a/rpc"} 0"#,
            r#"wsmon_messages_total{target="ws://a/rpc",direction="in"} 120"#,
            r#"wsmon_messages_total{target="ws://a/rpc",direction="out"} 7"#,
            r#"wsmon_message_latency_seconds_count{target="ws://a/rpc"} 3"#,
            r#"wsmon_message_latency_seconds_bucket{le="0.005",target="ws://a/rpc"} 1"#,
            r#"wsmon_message_latency_seconds_bucket{le="0.025",target="ws://a/rpc"} 2"#,
            r#"wsmon_message_latency_seconds_bucket{le="0.05",target="ws://a/rpc"} 3"#,
        ] {
            assert!(has(&text, line), "missing {line} in\n{text}");
        }
        assert!(text.contains("# TYPE wsmon_message_latency_seconds histogram\n"));
        assert!(text.contains("# TYPE wsmon_messages counter\n"));
    }

    #[test]
    fn gauges_come_from_snapshot_values_and_lockstep_is_absent_without_verdict() {
        let written = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let metrics = Metrics::new(ExportCounts {
            written: written.clone(),
            failed: failed.clone(),
        });
        let mut by_state = [0; 7];
        by_state[SessionState::Open.index()] = 2;
        by_state[SessionState::Waiting.index()] = 3;
        let mut g = Gauges {
            targets: vec![TargetGauges {
                url: "ws://a/".into(),
                by_state,
                due: [1, 2, 3],
                ..Default::default()
            }],
            lockstep: None,
            lockstep_chance: None,
        };
        metrics.set_gauges(&g);
        written.store(42, Ordering::Relaxed);
        failed.store(1, Ordering::Relaxed);
        let text = metrics.render();
        for line in [
            r#"wsmon_sessions{target="ws://a/",state="open"} 2"#,
            r#"wsmon_sessions{target="ws://a/",state="waiting"} 3"#,
            r#"wsmon_sessions{target="ws://a/",state="gave_up"} 0"#,
            r#"wsmon_retries_due{target="ws://a/",within="1s"} 1"#,
            r#"wsmon_retries_due{target="ws://a/",within="5s"} 2"#,
            r#"wsmon_retries_due{target="ws://a/",within="30s"} 3"#,
            "wsmon_export_events_total 42",
            "wsmon_export_errors_total 1",
        ] {
            assert!(has(&text, line), "missing {line} in\n{text}");
        }
        assert!(!text.contains("wsmon_lockstep"), "{text}");

        g.lockstep = Some(0.75);
        g.lockstep_chance = Some(0.25);
        g.targets[0].by_state = [0; 7];
        metrics.set_gauges(&g);
        let text = metrics.render();
        assert!(has(&text, "wsmon_lockstep_index 0.75"), "{text}");
        assert!(has(&text, "wsmon_lockstep_chance 0.25"), "{text}");
        assert!(has(&text, "wsmon_lockstep_excess 0.5"), "{text}");
        assert!(
            text.contains("# TYPE wsmon_lockstep_chance gauge\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE wsmon_lockstep_index gauge\n"),
            "{text}"
        );
        assert!(has(
            &text,
            r#"wsmon_sessions{target="ws://a/",state="open"} 0"#
        ));
    }
}
