//! The store: the single owner of session state. It applies events, forwards every event to the
//! sinks (never dropping one: their channels apply backpressure), and publishes
//! read-only snapshots at most 10 times a second, and at least once a second.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, watch};

use crate::engine::counters::{EngineGauges, SessionCounters};
use crate::engine::events::{Event, EventKind, SessionId, SessionMsg, SessionState};
use crate::state::export_fault::ExportFault;
use crate::state::messages::{LogCaps, MessageLogs};
use crate::state::snapshot::{
    ERROR_MESSAGES_MAX, EVENT_LOG_LEN, LogEntry, MSGS_IN_WINDOW, SessionView, Snapshot,
    TARGET_HANDSHAKE_SAMPLES, TARGET_LATENCY_SAMPLES, TargetView, Totals, nearest_rank,
};
use crate::state::storm::StormTracker;

mod apply;

use apply::SessionChange;

/// What a sink (the export writer, later metrics) receives from the store, in order, on its
/// own bounded channel.
#[derive(Debug)]
pub enum SinkMsg {
    /// Events in order, in batches of at most [`BATCH`]: one wake-up of the sink per batch.
    Events(Vec<Event>),
    /// Push out everything received so far; answers with the number of events written.
    Flush(oneshot::Sender<Result<u64, String>>),
}

/// The state, without any I/O: `apply` events, take `snapshot`s. Cloning is cheap (sessions
/// are shared `Arc`s, copied on their next change): replay keeps clones as checkpoints.
#[derive(Clone)]
pub struct Store {
    sessions: Vec<Arc<SessionView>>,
    /// The live counters of each session, same order as `sessions`; `None` for a session
    /// nothing counts (replayed from an export).
    counters: Vec<Option<Arc<SessionCounters>>>,
    pending_counters: HashMap<SessionId, Arc<SessionCounters>>,
    targets: Vec<TargetView>,
    /// Per target, what its percentiles and rate are computed from (same indices as `targets`).
    target_acc: Vec<TargetAcc>,
    /// Each target's URL, shared by its sessions' views (not one copy per session).
    target_urls: Vec<Arc<str>>,
    totals: Totals,
    storm: StormTracker,
    generation: u64,
    export_path: Option<String>,
    exported: Arc<AtomicU64>,
    gauges: Option<Arc<EngineGauges>>,
    export_fault: Option<Arc<ExportFault>>,
    dirty: bool,
    /// The event log ring (shared with snapshots; copied on write at most once per publish).
    events: Arc<std::collections::VecDeque<LogEntry>>,
    /// Every session's message log (shared with snapshots: a handle).
    messages: MessageLogs,
    /// The source pushes its sessions' frames into `messages` itself (the live engine): a
    /// `message` event is then only passed on to the sinks, never logged twice.
    source_logs: bool,
    /// Messages received by the sessions counted at the previous `tick` (None before one).
    msgs_in_seen: Option<u64>,
    /// How late events reached the store ([`crate::state::lag`]).
    lag: crate::state::lag::StoreLag,
}

impl Store {
    pub fn new(export_path: Option<String>, exported: Arc<AtomicU64>) -> Self {
        Store {
            sessions: Vec::new(),
            counters: Vec::new(),
            pending_counters: HashMap::new(),
            targets: Vec::new(),
            target_acc: Vec::new(),
            target_urls: Vec::new(),
            totals: Totals::default(),
            storm: StormTracker::new(),
            generation: 0,
            export_path,
            exported,
            gauges: None,
            export_fault: None,
            dirty: true,
            events: Arc::default(),
            messages: MessageLogs::new(LogCaps::default()),
            source_logs: false,
            msgs_in_seen: None,
            lag: Default::default(),
        }
    }

    /// Bound every session's message log (`--message-log`; [`LogCaps::OFF`] keeps none).
    pub fn set_message_caps(&mut self, caps: LogCaps) {
        self.messages = MessageLogs::new(caps);
    }

    /// Keep `logs` as the message logs; `source_logs`: the source pushes its frames into them
    /// itself, so `message` events are not logged again.
    pub fn use_message_logs(&mut self, logs: MessageLogs, source_logs: bool) {
        self.messages = logs;
        self.source_logs = source_logs;
    }

    /// Every session's message log (a handle).
    pub fn message_logs(&self) -> &MessageLogs {
        &self.messages
    }

    /// Show the export writer's failure (set by its thread) in every snapshot.
    pub fn set_export_fault(&mut self, fault: Arc<ExportFault>) {
        self.export_fault = Some(fault);
    }

    pub fn register(&mut self, id: SessionId, counters: Arc<SessionCounters>) {
        self.pending_counters.insert(id, counters);
    }

    /// The engine's gauges, read at every snapshot.
    pub fn set_gauges(&mut self, gauges: Arc<EngineGauges>) {
        self.gauges = Some(gauges);
    }

    fn index(&self, id: SessionId) -> Option<usize> {
        self.sessions.binary_search_by_key(&id, |s| s.id).ok()
    }

    /// Apply one event. Events for unknown sessions (already removed) are ignored.
    pub fn apply(&mut self, ev: &Event) {
        self.dirty = true;
        self.log(ev);
        if let EventKind::Spawned { target, url, .. } = &ev.kind {
            self.spawn(ev.session, *target, url, ev.ts);
            return;
        }
        let Some(i) = self.index(ev.session) else {
            return;
        };
        if let EventKind::Message(record) = &ev.kind {
            // Into the session's log only (unless the source logged it already): the session's
            // view does not change (and is not copied) for a message.
            if !self.source_logs {
                self.messages.push(ev.session, ev.ts, record.clone());
            }
            return;
        }
        if let EventKind::Removed = ev.kind {
            self.messages.remove(ev.session);
            let s = self.sessions.remove(i);
            let counters = self.counters.remove(i);
            if let Some(t) = self.targets.get_mut(s.target) {
                t.sessions = t.sessions.saturating_sub(1);
            }
            // Its messages stay counted in its target's totals.
            if let (Some(c), Some(acc)) = (counters, self.target_acc.get_mut(s.target)) {
                acc.removed_msgs[0] += c.msgs_in.load(Ordering::Relaxed);
                acc.removed_msgs[1] += c.msgs_out.load(Ordering::Relaxed);
            }
            return;
        }
        let s = Arc::make_mut(&mut self.sessions[i]);
        // Per-target counters, kept here (O(1) per event) rather than recounted per snapshot.
        let (mut spare_tv, mut spare_acc) = (TargetView::default(), TargetAcc::default());
        let (tv, acc) = match (
            self.targets.get_mut(s.target),
            self.target_acc.get_mut(s.target),
        ) {
            (Some(tv), Some(acc)) => (tv, acc),
            _ => (&mut spare_tv, &mut spare_acc),
        };
        SessionChange {
            ts: ev.ts,
            s,
            totals: &mut self.totals,
            storm: &mut self.storm,
            tv,
            acc,
        }
        .apply(&ev.kind);
    }

    /// A new session of `target` (the target is created on its first session).
    fn spawn(&mut self, id: SessionId, target: usize, url: &str, ts: DateTime<Utc>) {
        while self.targets.len() <= target {
            self.targets.push(TargetView::default());
            self.target_acc.push(TargetAcc::default());
        }
        let t = &mut self.targets[target];
        if t.url.is_empty() {
            t.url = url.to_string();
        }
        t.sessions += 1;
        while self.target_urls.len() <= target {
            self.target_urls.push(Arc::from(""));
        }
        let shared = &mut self.target_urls[target];
        if **shared != *url {
            *shared = Arc::from(url);
        }
        let view = SessionView::new(id, target, shared.clone(), ts);
        let counters = self.pending_counters.remove(&id);
        let pos = self.sessions.partition_point(|s| s.id < id);
        self.sessions.insert(pos, Arc::new(view));
        self.counters.insert(pos, counters);
    }

    /// Close the storm second(s) up to `now`.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        let (mut open, mut waiting, mut connecting, mut stale) = (0u64, 0u64, 0u64, 0u64);
        for s in &self.sessions {
            match s.state {
                SessionState::Open | SessionState::Closing => open += 1,
                SessionState::Waiting => waiting += 1,
                SessionState::Connecting | SessionState::Handshaking => connecting += 1,
                _ => {}
            }
            stale += u64::from(s.stale_since.is_some());
        }
        self.storm.tick(now, open, waiting, connecting);
        // Messages received since the last tick, from the live counters (none in a replay).
        let counted = self.counters.iter().flatten().peekable().peek().is_some();
        let msgs_in = counted.then(|| {
            let total: u64 = self
                .counters
                .iter()
                .flatten()
                .map(|c| c.msgs_in.load(Ordering::Relaxed))
                .sum();
            let new = self.msgs_in_seen.map(|seen| total.saturating_sub(seen));
            self.msgs_in_seen = Some(total);
            new
        });
        self.storm.tick_messages(now, stale, msgs_in.flatten());
        self.dirty = true;
    }

    /// Count how late the events stamped `stamps` (µs since the epoch; `true` for a `message`
    /// event) reached the store, applied by `now`.
    pub fn record_lag(&mut self, now: DateTime<Utc>, stamps: &[(i64, bool)]) {
        let now = now.timestamp_micros();
        for &(ts, message) in stamps {
            let us = u64::try_from(now.saturating_sub(ts)).unwrap_or(0);
            match message {
                true => self.lag.messages.record(us),
                false => self.lag.events.record(us),
            }
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// A read-only copy of the state. Cheap: sessions are shared `Arc`s.
    pub fn snapshot(&mut self, now: DateTime<Utc>) -> Snapshot {
        self.dirty = false;
        self.generation += 1;
        let mut totals = self.totals.clone();
        totals.by_state = [0; 7];
        let mut all_paused = !self.sessions.is_empty();
        let mut targets = self.targets.clone();
        for (t, acc) in targets.iter_mut().zip(&self.target_acc) {
            t.by_state = [0; 7];
            (t.handshake_p50_ms, t.handshake_p99_ms) = acc.percentiles();
            t.attempts_per_sec = acc.per_sec(now.timestamp());
            (t.latency_p50_us, t.latency_p99_us) = acc.latency_percentiles();
            t.stale = 0;
            [t.msgs_in, t.msgs_out] = acc.removed_msgs;
        }
        let counters: Vec<_> = self
            .counters
            .iter()
            .map(|c| c.as_ref().map(|c| c.load()))
            .collect();
        for (s, c) in self.sessions.iter().zip(&counters) {
            if let (Some(c), Some(t)) = (c, targets.get_mut(s.target)) {
                t.msgs_in += c.msgs_in;
                t.msgs_out += c.msgs_out;
            }
        }
        totals.msg_latency_us = all_latencies(&self.target_acc);
        totals.stale = 0;
        for s in &self.sessions {
            totals.by_state[s.state.index()] += 1;
            let stale = usize::from(s.stale_since.is_some());
            totals.stale += stale;
            if let Some(t) = targets.get_mut(s.target) {
                t.by_state[s.state.index()] += 1;
                t.stale += stale;
            }
            all_paused &= s.paused;
        }
        totals.paused_all = all_paused;
        totals.waiting_for_slot = self
            .gauges
            .as_ref()
            .map_or(0, |g| g.waiting_for_slot.load(Ordering::Relaxed));
        let next = self.sessions.iter().filter_map(|s| s.next_attempt_at);
        let storm = self.storm.view(now, next);
        let counted: Vec<u64> = storm
            .seconds
            .iter()
            .rev()
            .take(MSGS_IN_WINDOW)
            .filter_map(|s| s.msgs_in)
            .collect();
        totals.msgs_in_per_s = (!counted.is_empty())
            .then(|| counted.iter().sum::<u64>() as f64 / counted.len() as f64);
        let peak = storm.seconds.iter().map(|s| s.attempts).max().unwrap_or(0);
        let t = &mut self.totals;
        t.peak_attempts_per_sec = t.peak_attempts_per_sec.max(peak);
        if let Some(l) = storm.lockstep {
            t.peak_lockstep = Some(t.peak_lockstep.map_or(l, |p| p.max(l)));
        }
        if let Some(v) = storm.verdict {
            let e = v.share - v.chance;
            t.peak_lockstep_excess = Some(t.peak_lockstep_excess.map_or(e, |p| p.max(e)));
        }
        totals.peak_attempts_per_sec = t.peak_attempts_per_sec;
        totals.peak_lockstep = t.peak_lockstep;
        totals.peak_lockstep_excess = t.peak_lockstep_excess;
        Snapshot {
            now,
            generation: self.generation,
            targets,
            sessions: self.sessions.clone(),
            counters,
            totals,
            storm,
            export_path: self.export_path.clone(),
            exported_events: self.exported.load(Ordering::Relaxed),
            events: self.events.clone(),
            export_error: self
                .export_fault
                .as_ref()
                .and_then(|f| f.error().map(str::to_string)),
            export_unwritten: self.export_fault.as_ref().map_or(0, |f| f.unwritten()),
            messages: self.messages.clone(),
            lag: self.lag.clone(),
        }
    }

    /// Event-log ring, distinct error messages, shutdown closes, jitter seen: what the event
    /// log and the headless summary need beyond the session views.
    fn log(&mut self, ev: &Event) {
        let target = match &ev.kind {
            EventKind::Spawned { target, .. } => *target,
            _ => match self.index(ev.session) {
                Some(i) => self.sessions[i].target,
                None => return,
            },
        };
        match &ev.kind {
            EventKind::Error { kind, message } => {
                let t = &mut self.totals;
                let key = (*kind, message.clone());
                if let Some(n) = t.error_messages.get_mut(&key) {
                    *n += 1;
                } else if t.error_messages.len() < ERROR_MESSAGES_MAX {
                    t.error_messages.insert(key, 1);
                } else {
                    t.other_error_messages += 1;
                }
            }
            // The close tracker's own reason, not a guess from (1001, client).
            EventKind::Closed(ci) if ci.is_shutdown() => self.totals.shutdown_closes += 1,
            EventKind::Backoff(b) if b.kind == crate::engine::events::DelayKind::Backoff => {
                self.storm.record_jitter(b.jitter);
            }
            _ => {}
        }
        let Some((what, detail, code)) = log_text(&ev.kind) else {
            return;
        };
        let ring = Arc::make_mut(&mut self.events);
        if ring.len() >= EVENT_LOG_LEN {
            ring.pop_front();
        }
        ring.push_back(LogEntry {
            ts: ev.ts,
            session: ev.session,
            target,
            event: ev.kind.name(),
            what,
            detail,
            code,
        });
    }
}

/// What the event log shows of an event: (code or status or kind, reason or message, close
/// code). `None` for events the log leaves out (the upgrade request, a 101 answer: `open`
/// follows).
fn log_text(kind: &EventKind) -> Option<(String, String, Option<u16>)> {
    use crate::engine::events::DelayKind;
    let ms = crate::units::format_ms;
    Some(match kind {
        EventKind::Handshaking { .. } => return None,
        EventKind::Handshake(h) if h.is_upgrade() => return None,
        EventKind::Spawned { url, .. } => (String::new(), url.clone(), None),
        EventKind::Connecting { attempt, .. } => {
            (format!("attempt {attempt}"), String::new(), None)
        }
        EventKind::Handshake(h) => (format!("HTTP {}", h.status), h.status_line.clone(), None),
        EventKind::Open { attempt, .. } => (format!("attempt {attempt}"), String::new(), None),
        EventKind::Closing { code, initiator } => (
            code.to_string(),
            format!("close frame by {}", initiator.as_str()),
            Some(*code),
        ),
        EventKind::Closed(ci) => (
            ci.code.to_string(),
            format!("{} (by {})", ci.reason, ci.initiator.as_str()),
            Some(ci.code),
        ),
        EventKind::Error { kind, message } => (kind.as_str().to_string(), message.clone(), None),
        EventKind::Backoff(b) => {
            let rule = match b.kind {
                DelayKind::Backoff => "backoff",
                DelayKind::RestartDelay => "restart delay",
                DelayKind::Immediate => "at once",
            };
            let cause = match b.cause {
                crate::engine::events::Cause::Close { code } => format!("after {code}"),
                crate::engine::events::Cause::Status { status } => format!("after HTTP {status}"),
                crate::engine::events::Cause::Error { kind } => format!("after {}", kind.as_str()),
                crate::engine::events::Cause::Manual => "asked by the operator".to_string(),
                crate::engine::events::Cause::Shutdown => "at shutdown".to_string(),
                crate::engine::events::Cause::Connection { reason, h2_error } => format!(
                    "after {}",
                    crate::protocol::http2::loss_label(reason, h2_error)
                ),
            };
            (
                format!("wait {}", ms(b.delay_ms)),
                format!("{rule} {cause}, window {}", ms(b.window_ms)),
                None,
            )
        }
        EventKind::GaveUp { attempts, .. } => {
            (format!("{attempts} retries"), "--max-attempts".into(), None)
        }
        EventKind::Ended { why, .. } => (String::new(), why.clone(), None),
        EventKind::Paused { paused } => (
            if *paused { "paused" } else { "resumed" }.to_string(),
            String::new(),
            None,
        ),
        EventKind::Removed => (String::new(), String::new(), None),
        EventKind::Script(sc) => {
            let mut text = sc.what.clone();
            if let Some(last) = &sc.last {
                text.push_str("; last message: ");
                text.push_str(last);
            }
            (
                format!("step {} {}", sc.step, sc.phase.as_str()),
                text,
                None,
            )
        }
        EventKind::Stale { silent_ms } => (
            "stale".to_string(),
            format!("no message for {}", ms(*silent_ms)),
            None,
        ),
        EventKind::Fresh { silent_ms } => (
            "fresh".to_string(),
            format!("a message after {} of silence", ms(*silent_ms)),
            None,
        ),
        // One a response: too many for the event log (the LAT column and the detail show
        // them).
        EventKind::Latency { .. } => return None,
        // The message log and the Messages view show them.
        EventKind::Message(_) => return None,
    })
}

/// What a target's percentiles and attempt rate are computed from.
#[derive(Debug, Clone, Default)]
struct TargetAcc {
    /// The most recent handshake times, ms.
    handshakes: VecDeque<u64>,
    /// The most recent message latencies, µs.
    latencies: VecDeque<u64>,
    /// Data messages received and sent by the target's removed sessions.
    removed_msgs: [u64; 2],
    /// The second of the latest attempt, attempts in it, and in the second before it.
    second: i64,
    in_second: u64,
    in_previous: u64,
}

impl TargetAcc {
    fn record_attempt(&mut self, sec: i64) {
        if sec != self.second {
            self.in_previous = if sec == self.second + 1 {
                self.in_second
            } else {
                0
            };
            self.second = sec;
            self.in_second = 0;
        }
        self.in_second += 1;
    }

    /// Attempts in the last completed second before `now` (unix seconds).
    fn per_sec(&self, now: i64) -> u64 {
        if now == self.second + 1 {
            self.in_second
        } else if now == self.second {
            self.in_previous
        } else {
            0
        }
    }

    fn record_handshake(&mut self, ms: u64) {
        if self.handshakes.len() >= TARGET_HANDSHAKE_SAMPLES {
            self.handshakes.pop_front();
        }
        self.handshakes.push_back(ms);
    }

    fn record_latency(&mut self, us: u64) {
        if self.latencies.len() >= TARGET_LATENCY_SAMPLES {
            self.latencies.pop_front();
        }
        self.latencies.push_back(us);
    }

    /// Median and 99th percentile (nearest rank) of the kept message latencies, µs.
    fn latency_percentiles(&self) -> (Option<u64>, Option<u64>) {
        if self.latencies.is_empty() {
            return (None, None);
        }
        let mut v: Vec<u64> = self.latencies.iter().copied().collect();
        v.sort_unstable();
        (Some(nearest_rank(&v, 50)), Some(nearest_rank(&v, 99)))
    }

    /// Median and 99th percentile (nearest rank) of the kept handshake times.
    fn percentiles(&self) -> (Option<u64>, Option<u64>) {
        if self.handshakes.is_empty() {
            return (None, None);
        }
        let mut v: Vec<u64> = self.handshakes.iter().copied().collect();
        v.sort_unstable();
        let rank = |p: usize| v[(v.len() * p).div_ceil(100).max(1) - 1];
        (Some(rank(50)), Some(rank(99)))
    }
}

/// Message latency p50, p90, p95 and p99 (µs) over every target's kept samples.
fn all_latencies(accs: &[TargetAcc]) -> Option<[u64; 4]> {
    let mut v: Vec<u64> = accs
        .iter()
        .flat_map(|a| a.latencies.iter().copied())
        .collect();
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some([50, 90, 95, 99].map(|p| nearest_rank(&v, p)))
}

/// Snapshot publishing limits: at most every [`Pace::every`] (at least [`MIN_PUBLISH`]), and at
/// least once a second.
pub const MIN_PUBLISH: Duration = Duration::from_millis(100);
const MAX_QUIET: Duration = Duration::from_secs(1);

/// How often the store publishes snapshots: a screen wants ten a second, headless mode one a
/// second (each costs a pass over every session). `refresh` asks for one now.
#[derive(Clone)]
pub struct Pace {
    pub every: Duration,
    pub refresh: Arc<tokio::sync::Notify>,
}

impl Pace {
    pub fn every(every: Duration) -> Self {
        Pace {
            every: every.max(MIN_PUBLISH),
            refresh: Arc::default(),
        }
    }
}

/// Most events handed to a sink in one go.
pub const BATCH: usize = 4096;
/// Most events taken from the source in one go: applying them runs without a break on the
/// runtime the sessions share, so a longer run would make their timers late under a storm.
const TAKE: usize = 512;
/// After taking events, the store lets more gather for this long before taking again: under a
/// storm it wakes at most ~500 times a second instead of once per event, and an event waits at
/// most this long (plus the runtime's rest, [`crate::runtime::threads::REST`]) to be applied.
const GATHER: Duration = Duration::from_millis(2);

/// Hand `pending` to every sink as one batch (waiting for room: backpressure, never loss).
async fn send_batch(sinks: &[mpsc::Sender<SinkMsg>], pending: &mut Vec<Event>) {
    if pending.is_empty() {
        return;
    }
    let batch = std::mem::take(pending);
    if let Some((last, rest)) = sinks.split_last() {
        for tx in rest {
            let _ = tx.send(SinkMsg::Events(batch.clone())).await;
        }
        let _ = last.send(SinkMsg::Events(batch)).await;
    }
}

/// The store task: runs until every sender of `rx` is gone, then flushes the sinks and returns
/// the final snapshot. Every event goes to every sink, in order, in batches handed over at
/// every 100 ms tick (or when [`BATCH`] events are waiting); a full sink queue makes the store
/// wait (backpressure, never loss).
pub async fn run(
    mut store: Store,
    mut rx: mpsc::Receiver<SessionMsg>,
    snapshots: watch::Sender<Arc<Snapshot>>,
    sinks: Vec<mpsc::Sender<SinkMsg>>,
    pace: Pace,
) -> Arc<Snapshot> {
    let mut tick = tokio::time::interval(MIN_PUBLISH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_publish = tokio::time::Instant::now();
    let mut last_second = Utc::now().timestamp();
    // Events handed to the sinks since their last flush: flushed once a second, so a file being
    // followed (`tail -f`) or a crash never leaves more than a second of events unwritten.
    let mut unflushed = false;
    let mut msgs = Vec::with_capacity(TAKE);
    let mut pending: Vec<Event> = Vec::new();
    let mut stamps: Vec<(i64, bool)> = Vec::with_capacity(TAKE);
    loop {
        tokio::select! {
            n = rx.recv_many(&mut msgs, TAKE) => {
                if n == 0 {
                    break;
                }
                for msg in msgs.drain(..) {
                    match msg {
                        SessionMsg::Register { id, counters } => store.register(id, counters),
                        SessionMsg::Gauges(g) => store.set_gauges(g),
                        SessionMsg::Event(ev) => {
                            store.apply(&ev);
                            let message = matches!(ev.kind, EventKind::Message(_));
                            stamps.push((ev.ts.timestamp_micros(), message));
                            if !sinks.is_empty() {
                                pending.push(ev);
                                unflushed = true;
                            }
                        }
                    }
                }
                store.record_lag(Utc::now(), &stamps);
                stamps.clear();
                if pending.len() >= BATCH {
                    send_batch(&sinks, &mut pending).await;
                }
                if n == TAKE {
                    // Behind: take the next ones at once, after letting the sessions run.
                    tokio::task::yield_now().await;
                } else {
                    // Let the next events gather (the channel is bounded: senders wait, none
                    // lost).
                    tokio::time::sleep(GATHER).await;
                }
            },
            _ = tick.tick() => {
                send_batch(&sinks, &mut pending).await;
                if store.messages.take_changed() {
                    store.dirty = true;
                }
                let now = Utc::now();
                if now.timestamp() != last_second {
                    last_second = now.timestamp();
                    store.tick(now);
                    if unflushed {
                        for tx in &sinks {
                            let (reply, _) = oneshot::channel();
                            let _ = tx.send(SinkMsg::Flush(reply)).await;
                        }
                        unflushed = false;
                    }
                }
                let since = last_publish.elapsed();
                if (store.is_dirty() && since >= pace.every) || since >= MAX_QUIET {
                    let _ = snapshots.send(Arc::new(store.snapshot(now)));
                    last_publish = tokio::time::Instant::now();
                }
            }
            () = pace.refresh.notified() => {
                // Whatever arrived so far is in the store: the snapshot is current.
                let _ = snapshots.send(Arc::new(store.snapshot(Utc::now())));
                last_publish = tokio::time::Instant::now();
            }
        }
    }
    send_batch(&sinks, &mut pending).await;
    for tx in &sinks {
        let (reply, done) = oneshot::channel();
        if tx.send(SinkMsg::Flush(reply)).await.is_ok() {
            let _ = done.await;
        }
    }
    let now = Utc::now();
    store.tick(now);
    let last = Arc::new(store.snapshot(now));
    let _ = snapshots.send(last.clone());
    last
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    use chrono::{DateTime, Duration, TimeZone, Utc};

    use super::*;
    use crate::engine::events::{
        BackoffInfo, Cause, CloseInfo, CloseWhy, DelayKind, ErrorKind, Event, Initiator, Jitter,
    };

    fn backoff(cause: Cause, kind: DelayKind, at: DateTime<Utc>) -> EventKind {
        EventKind::Backoff(BackoffInfo {
            attempt: 1,
            cause,
            kind,
            window_ms: 10_000,
            delay_ms: if kind == DelayKind::Immediate {
                0
            } else {
                9_000
            },
            retry_after_ms: None,
            jitter: Jitter::Full,
            next_attempt_at: at,
        })
    }

    /// 30 sessions wait for a retry; all retry within 30 ms, either on their own (a herd) or
    /// because the operator pressed `R` (a `backoff` with cause `manual` first).
    fn thirty_retry_together(by_the_operator: bool) -> Snapshot {
        let mut store = Store::new(None, Arc::new(AtomicU64::new(0)));
        let t0 = Utc
            .timestamp_opt(1_800_000_000, 300_000_000)
            .single()
            .expect("valid time");
        let connect = Cause::Error {
            kind: ErrorKind::Connect,
        };
        for id in 0..30u64 {
            let first = t0 + Duration::milliseconds(id as i64 * 20);
            let retry = t0 + Duration::milliseconds(1_000 + id as i64);
            let mut kinds = vec![
                (
                    first,
                    EventKind::Spawned {
                        target: 0,
                        index: id as usize,
                        url: "ws://h/".into(),
                    },
                ),
                (
                    first,
                    EventKind::Connecting {
                        attempt: 1,
                        slot_wait_ms: 0,
                        link: Default::default(),
                    },
                ),
                (
                    first,
                    EventKind::Error {
                        kind: ErrorKind::Connect,
                        message: "refused".into(),
                    },
                ),
                (
                    first,
                    backoff(connect, DelayKind::Backoff, first + Duration::seconds(9)),
                ),
            ];
            if by_the_operator {
                kinds.push((retry, backoff(Cause::Manual, DelayKind::Immediate, retry)));
            }
            kinds.push((
                retry,
                EventKind::Connecting {
                    attempt: 2,
                    slot_wait_ms: 0,
                    link: Default::default(),
                },
            ));
            for (ts, kind) in kinds {
                store.apply(&Event {
                    ts,
                    session: id,
                    kind,
                });
            }
        }
        let now = t0 + Duration::seconds(3);
        store.tick(now);
        store.snapshot(now)
    }

    /// Issue 19 section 1: pressing `R` turned the Storm tab to `0.93 IN STEP`. Attempts the
    /// operator asked for count in attempts/s, not in the lockstep index.
    #[test]
    fn retries_the_operator_asked_for_are_not_a_herd() {
        let herd = thirty_retry_together(false);
        assert!(
            herd.storm.lockstep.is_some_and(|l| l > 0.9),
            "{:?}",
            herd.storm.lockstep
        );
        let verdict = herd.storm.verdict.expect("30 retries judged");
        assert_eq!(verdict.level, crate::state::snapshot::LockstepLevel::InStep);
        assert!(herd.totals.peak_lockstep_excess.is_some_and(|e| e > 0.25));

        let pressed_r = thirty_retry_together(true);
        assert_eq!(pressed_r.storm.lockstep, None, "no retry of its own");
        assert_eq!(pressed_r.storm.verdict, None);
        assert_eq!(pressed_r.totals.peak_lockstep_excess, None);
        assert_eq!(pressed_r.totals.attempts, 60, "every attempt still counts");
        let busiest = pressed_r.storm.seconds.iter().map(|s| s.attempts).max();
        assert_eq!(busiest, Some(30), "in attempts/s too");
    }

    /// Sessions 1..=n of target `target` spawned and open at `t0`.
    fn open_sessions(
        store: &mut Store,
        t0: DateTime<Utc>,
        ids: std::ops::RangeInclusive<u64>,
        target: usize,
    ) {
        for session in ids {
            for kind in [
                EventKind::Spawned {
                    target,
                    index: 0,
                    url: format!("ws://h/{target}"),
                },
                EventKind::Connecting {
                    attempt: 1,
                    slot_wait_ms: 0,
                    link: Default::default(),
                },
                EventKind::Open {
                    attempt: 1,
                    link: Default::default(),
                },
            ] {
                store.apply(&Event {
                    ts: t0,
                    session,
                    kind,
                });
            }
        }
    }

    /// Issue 20 item 3: a stale session is still open but counted apart (totals, its target,
    /// the storm series); the next message, a close or any state but open ends it.
    #[test]
    fn stale_sessions_are_open_and_counted_apart_until_fresh_or_closed() {
        let mut store = Store::new(None, Arc::new(AtomicU64::new(0)));
        let t0 = Utc
            .timestamp_opt(1_800_000_000, 0)
            .single()
            .expect("valid time");
        open_sessions(&mut store, t0, 1..=4, 0);
        open_sessions(&mut store, t0, 5..=5, 1);
        let at = |s: i64| t0 + Duration::seconds(s);
        for session in [1, 2, 5] {
            store.apply(&Event {
                ts: at(3),
                session,
                kind: EventKind::Stale { silent_ms: 3_000 },
            });
        }
        store.tick(at(4));
        let snap = store.snapshot(at(5));
        assert_eq!(snap.totals.stale, 3);
        assert_eq!(
            snap.totals.by_state[SessionState::Open.index()],
            5,
            "still open"
        );
        assert_eq!((snap.targets[0].stale, snap.targets[1].stale), (2, 1));
        let s1 = &snap.sessions[0];
        assert_eq!(s1.stale_since, Some(at(3)));
        assert_eq!(s1.stale_for_ms(snap.now), Some(5_000), "silent since t0");
        assert_eq!(snap.storm.seconds.back().map(|s| s.stale), Some(3));

        // Session 1 hears a message; session 2 is closed; session 5 goes to closing.
        store.apply(&Event {
            ts: at(6),
            session: 1,
            kind: EventKind::Fresh { silent_ms: 6_000 },
        });
        store.apply(&closed(2, Some(CloseWhy::Stale)));
        store.apply(&Event {
            ts: at(6),
            session: 5,
            kind: EventKind::Closing {
                code: 1000,
                initiator: Initiator::Client,
            },
        });
        // A late `stale` for a session no longer open changes nothing.
        store.apply(&Event {
            ts: at(6),
            session: 2,
            kind: EventKind::Stale { silent_ms: 9_000 },
        });
        store.tick(at(7));
        let snap = store.snapshot(at(8));
        assert_eq!(snap.totals.stale, 0);
        assert!(snap.sessions.iter().all(|s| s.stale_since.is_none()));
        assert_eq!((snap.targets[0].stale, snap.targets[1].stale), (0, 0));
        assert_eq!(snap.storm.seconds.back().map(|s| s.stale), Some(0));
        let series: Vec<u64> = snap.storm.seconds.iter().map(|s| s.stale).collect();
        assert_eq!(series, [0, 0, 0, 0, 3, 3, 3, 0], "stale sessions over time");
    }

    /// Issue 20 item 4: per session last/p50/p99 over its recent samples, per target p50/p99
    /// over its last 512, and the totals' percentiles over every target.
    #[test]
    fn message_latency_per_session_per_target_and_overall() {
        let mut store = Store::new(None, Arc::new(AtomicU64::new(0)));
        let t0 = Utc
            .timestamp_opt(1_800_000_000, 0)
            .single()
            .expect("valid time");
        open_sessions(&mut store, t0, 1..=2, 0);
        open_sessions(&mut store, t0, 3..=3, 1);
        let lat = |session, us| Event {
            ts: t0,
            session,
            kind: EventKind::Latency {
                us,
                source: crate::engine::events::LatencySource::Rpc,
                step: 2,
            },
        };
        // Session 1: 1..=100 ms, then 1000 more samples of 5 ms on session 2 (the target keeps
        // the last 512 only).
        for ms in 1..=100u64 {
            store.apply(&lat(1, ms * 1000));
        }
        for _ in 0..1000 {
            store.apply(&lat(2, 5_000));
        }
        store.apply(&lat(3, 40_000));
        let snap = store.snapshot(t0);
        let l1 = snap.sessions[0].latency.as_deref().expect("latencies");
        // The session keeps its last 64: 37..=100 ms.
        assert_eq!(
            (l1.last_us, l1.p50_us, l1.p99_us, l1.count),
            (100_000, 68_000, 100_000, 100)
        );
        assert!(snap.sessions[2].latency.is_some());
        let t = &snap.targets[0];
        assert_eq!(
            (t.latency_p50_us, t.latency_p99_us),
            (Some(5_000), Some(5_000))
        );
        let t = &snap.targets[1];
        assert_eq!(
            (t.latency_p50_us, t.latency_p99_us),
            (Some(40_000), Some(40_000))
        );
        // 512 of 5 ms and one of 40 ms.
        assert_eq!(
            snap.totals.msg_latency_us,
            Some([5_000, 5_000, 5_000, 5_000])
        );
        let mut empty = Store::new(None, Arc::new(AtomicU64::new(0)));
        open_sessions(&mut empty, t0, 1..=1, 0);
        let snap = empty.snapshot(t0);
        assert_eq!(snap.totals.msg_latency_us, None);
        assert_eq!(snap.targets[0].latency_p50_us, None);
        assert_eq!(snap.sessions[0].latency, None);
    }

    /// Messages received per second come from the live counters (none in a replay).
    #[test]
    fn messages_in_per_second_from_the_counters() {
        let mut store = Store::new(None, Arc::new(AtomicU64::new(0)));
        let t0 = Utc
            .timestamp_opt(1_800_000_000, 0)
            .single()
            .expect("valid time");
        let c = Arc::new(SessionCounters::default());
        store.register(1, c.clone());
        open_sessions(&mut store, t0, 1..=2, 0);
        for s in 0..=4 {
            c.msgs_in.fetch_add(50, Ordering::Relaxed);
            store.tick(t0 + Duration::seconds(s));
        }
        let snap = store.snapshot(t0 + Duration::seconds(5));
        assert_eq!(snap.totals.msgs_in_per_s, Some(50.0));
        let mut replayed = Store::new(None, Arc::new(AtomicU64::new(0)));
        open_sessions(&mut replayed, t0, 1..=1, 0);
        replayed.tick(t0 + Duration::seconds(1));
        assert_eq!(
            replayed
                .snapshot(t0 + Duration::seconds(3))
                .totals
                .msgs_in_per_s,
            None
        );
    }

    fn closed(session: u64, why: Option<CloseWhy>) -> Event {
        Event {
            ts: Utc::now(),
            session,
            kind: EventKind::Closed(CloseInfo {
                code: 1001,
                reason: "bye".into(),
                initiator: Initiator::Client,
                clean: true,
                uptime_ms: Some(5),
                peer_code: None,
                why,
            }),
        }
    }

    /// Issue 18 item 5: the store takes the close tracker's reason; an operator's 1001 (`c`)
    /// is not a shutdown close, whatever its code says.
    #[test]
    fn shutdown_closes_come_from_the_trackers_reason_not_the_code() {
        let mut store = Store::new(None, Arc::new(AtomicU64::new(0)));
        for session in 1..=3 {
            store.apply(&Event {
                ts: Utc::now(),
                session,
                kind: EventKind::Spawned {
                    target: 0,
                    index: 0,
                    url: "ws://h/".into(),
                },
            });
        }
        store.apply(&closed(1, Some(CloseWhy::Operator)));
        store.apply(&closed(2, Some(CloseWhy::Shutdown)));
        store.apply(&closed(3, None));
        assert_eq!(store.snapshot(Utc::now()).totals.shutdown_closes, 1);
    }

    /// A 200 that opened a session over HTTP/2 is an upgrade; a 200 over HTTP/1.1 refused it.
    #[test]
    fn an_http2_200_is_no_refusal() {
        use crate::engine::events::HandshakeInfo;
        use crate::protocol::http2::{Link, Proto};
        let now = Utc
            .with_ymd_and_hms(2025, 1, 15, 12, 0, 0)
            .single()
            .unwrap_or_default();
        let mut store = Store::new(None, Arc::new(AtomicU64::new(0)));
        for (session, transport) in [(1, Some(Proto::H2)), (2, Some(Proto::H2)), (3, None)] {
            let link = Link {
                transport,
                connection: transport.map(|_| 1),
                stream: transport.map(|_| session as u32 * 2 - 1),
            };
            store.apply(&Event {
                ts: now,
                session,
                kind: EventKind::Spawned {
                    target: 0,
                    index: 0,
                    url: "wss://127.0.0.1:8443/echo".into(),
                },
            });
            let info = HandshakeInfo {
                status: 200,
                link,
                ..HandshakeInfo::default()
            };
            store.apply(&Event {
                ts: now,
                session,
                kind: EventKind::Handshake(Arc::new(info)),
            });
        }
        let snap = store.snapshot(now);
        assert_eq!(snap.totals.statuses.get(&200), Some(&3));
        assert_eq!(snap.totals.h2_opened, 2);
        let refused: Vec<(u16, u64)> = snap.totals.refused_statuses().collect();
        assert_eq!(refused, vec![(200, 1)]);
    }
}
