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
use crate::state::snapshot::{
    ERROR_MESSAGES_MAX, EVENT_LOG_LEN, LogEntry, SessionView, Snapshot, TARGET_HANDSHAKE_SAMPLES,
    TargetView, Totals,
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
        }
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
        if let EventKind::Removed = ev.kind {
            let s = self.sessions.remove(i);
            self.counters.remove(i);
            if let Some(t) = self.targets.get_mut(s.target) {
                t.sessions = t.sessions.saturating_sub(1);
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
        let (mut open, mut waiting, mut connecting) = (0u64, 0u64, 0u64);
        for s in &self.sessions {
            match s.state {
                SessionState::Open | SessionState::Closing => open += 1,
                SessionState::Waiting => waiting += 1,
                SessionState::Connecting | SessionState::Handshaking => connecting += 1,
                _ => {}
            }
        }
        self.storm.tick(now, open, waiting, connecting);
        self.dirty = true;
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
        }
        for s in &self.sessions {
            totals.by_state[s.state.index()] += 1;
            if let Some(t) = targets.get_mut(s.target) {
                t.by_state[s.state.index()] += 1;
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
            counters: self
                .counters
                .iter()
                .map(|c| c.as_ref().map(|c| c.load()))
                .collect(),
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
    })
}

/// What a target's percentiles and attempt rate are computed from.
#[derive(Debug, Clone, Default)]
struct TargetAcc {
    /// The most recent handshake times, ms.
    handshakes: VecDeque<u64>,
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
/// storm it wakes at most ~100 times a second instead of once per event.
const GATHER: Duration = Duration::from_millis(10);

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
                            if !sinks.is_empty() {
                                pending.push(ev);
                                unflushed = true;
                            }
                        }
                    }
                }
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
}
