//! What one event does to a session that exists: its view, its timeline, the totals, the storm
//! series and its target's counters. One method per event kind; `Spawned` and `Removed` change
//! the session list itself and stay with the store.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::TargetAcc;
use crate::engine::events::{
    BackoffInfo, Cause, CloseInfo, ErrorKind, EventKind, HandshakeInfo, ScriptEvent, ScriptPhase,
    SessionState,
};
use crate::protocol::extensions;
use crate::state::snapshot::{
    AttemptOutcome, AttemptRecord, INITIATORS, ScriptProgress, SessionView, TIMELINE_LEN,
    TargetView, Totals,
};
use crate::state::storm::StormTracker;

/// The parts of the store one event of one session changes (disjoint borrows of the store).
pub(super) struct SessionChange<'a> {
    pub ts: DateTime<Utc>,
    pub s: &'a mut SessionView,
    pub totals: &'a mut Totals,
    pub storm: &'a mut StormTracker,
    /// The session's target (a spare when the target is unknown).
    pub tv: &'a mut TargetView,
    pub acc: &'a mut TargetAcc,
}

impl SessionChange<'_> {
    /// Apply `kind` (not `Spawned` or `Removed`, which the store handles).
    pub fn apply(&mut self, kind: &EventKind) {
        match kind {
            EventKind::Spawned { .. } | EventKind::Removed => {}
            EventKind::Connecting {
                attempt,
                slot_wait_ms,
                ..
            } => self.connecting(*attempt, *slot_wait_ms),
            EventKind::Handshaking { .. } => self.set_state(SessionState::Handshaking),
            // An answer refused as malformed is kept for the detail view; the error event
            // that follows it is what counts.
            EventKind::Handshake(info) if info.invalid.is_some() => {
                self.s.last_handshake = Some(info.clone());
            }
            EventKind::Handshake(info) => self.handshake(info),
            EventKind::Open { link, .. } => {
                self.s.link = *link;
                self.s.link_lost = None;
                self.open();
            }
            EventKind::Closing { .. } => self.set_state(SessionState::Closing),
            EventKind::Closed(ci) => self.closed(ci),
            EventKind::Error { kind, message } => self.error(*kind, message),
            EventKind::Backoff(b) => {
                self.connection_lost(&b.cause);
                self.backoff(b);
            }
            EventKind::GaveUp { attempts, cause } => {
                self.connection_lost(cause);
                self.gave_up(*attempts);
            }
            // wsmon stopping: the final snapshot keeps the state each session was in.
            EventKind::Ended {
                cause: Some(Cause::Shutdown),
                ..
            } => {}
            EventKind::Ended { why, cause } => {
                if let Some(c) = cause {
                    self.connection_lost(c);
                }
                self.ended(why, *cause);
            }
            EventKind::Paused { paused } => self.s.paused = *paused,
            EventKind::Script(sc) => self.script(sc),
            EventKind::Message(_) => {}
            EventKind::Stale { silent_ms } => self.stale(*silent_ms),
            EventKind::Fresh { .. } => self.s.stale_since = None,
            EventKind::Latency { us, .. } => {
                self.s.latency.get_or_insert_default().record(*us);
                self.acc.record_latency(*us);
            }
        }
    }

    /// A script step started, matched or timed out: the session's progress; a timeout counts
    /// for its target, by step.
    fn script(&mut self, sc: &ScriptEvent) {
        let mut captured = self.s.script.take().map(|p| p.captured).unwrap_or_default();
        for (name, value) in &sc.captured {
            captured.retain(|(n, _)| n != name);
            captured.push((name.clone(), value.clone()));
        }
        if sc.phase == ScriptPhase::TimedOut {
            *self.tv.script_failures.entry(sc.step).or_default() += 1;
        }
        self.s.script = Some(ScriptProgress {
            step: sc.step,
            steps: sc.steps,
            phase: sc.phase,
            what: sc.what.clone(),
            since: self.ts,
            captured,
            last: sc.last.clone(),
        });
    }

    /// A session lost with its HTTP/2 connection: the connection counts once, its sessions
    /// each (a reset stream is no lost connection).
    fn connection_lost(&mut self, cause: &Cause) {
        let Cause::Connection { reason, .. } = cause else {
            return;
        };
        let Some(conn) = self.s.link.connection else {
            return;
        };
        self.s.link_lost = Some(*cause);
        if *reason == crate::protocol::http2::LossReason::RstStream {
            return;
        }
        let n = self.totals.lost_connections.entry(conn).or_default();
        if *n == 0 {
            self.totals.connections_lost += 1;
        }
        *n += 1;
    }

    fn set_state(&mut self, st: SessionState) {
        if self.s.state != st {
            self.s.state = st;
            self.s.state_since = self.ts;
        }
        // Only an open connection can be stale.
        if st != SessionState::Open {
            self.s.stale_since = None;
        }
    }

    /// No message from the server for `silent_ms`: the open connection is stale.
    fn stale(&mut self, silent_ms: u64) {
        if self.s.state == SessionState::Open && self.s.stale_since.is_none() {
            self.s.stale_since = Some(self.ts);
            self.s.stale_silent_ms = silent_ms;
        }
    }

    fn connecting(&mut self, attempt: u32, slot_wait_ms: u64) {
        let ts = self.ts;
        self.set_state(SessionState::Connecting);
        let s = &mut *self.s;
        s.attempt = attempt;
        s.next_attempt_at = None;
        s.ended_why = None;
        self.totals.attempts += 1;
        // First connections are not retries, and neither are the operator's (`r`, `R`):
        // they count in attempts/s only, not in the lockstep index.
        if attempt > 1 && !asked_by_operator(s, attempt) {
            self.storm.record_attempt(ts);
        } else {
            self.storm.record_first_attempt(ts);
        }
        self.tv.attempts += 1;
        self.acc.record_attempt(ts.timestamp());
        match s.timeline.back_mut() {
            Some(r) if r.attempt == attempt && r.started_at.is_none() => {
                r.started_at = Some(ts);
                r.slot_wait_ms = Some(slot_wait_ms);
            }
            _ => push_record(
                s,
                AttemptRecord {
                    attempt,
                    cause: None,
                    kind: None,
                    window_ms: None,
                    delay_ms: None,
                    retry_after_ms: None,
                    scheduled_at: None,
                    started_at: Some(ts),
                    slot_wait_ms: Some(slot_wait_ms),
                    outcome: None,
                    uptime_ms: None,
                    ended_at: None,
                    manual: false,
                },
            ),
        }
    }

    /// A valid answer to the upgrade (101 or another status).
    fn handshake(&mut self, info: &Arc<HandshakeInfo>) {
        let (ts, s, totals) = (self.ts, &mut *self.s, &mut *self.totals);
        *totals.statuses.entry(info.status).or_default() += 1;
        if !info.is_upgrade() {
            self.tv.http_failures += 1;
        }
        if let Some(start) = s.timeline.back().and_then(|r| r.started_at) {
            let ms = (ts - start).num_milliseconds().max(0);
            self.acc.record_handshake(u64::try_from(ms).unwrap_or(0));
        }
        if info.is_upgrade() && info.status == 200 {
            totals.h2_opened += 1;
        }
        if info.is_upgrade() {
            *totals
                .negotiated
                .entry(extensions::format_header(&info.accepted))
                .or_default() += 1;
        } else if let Some(r) = s.timeline.back_mut() {
            r.outcome = Some(AttemptOutcome::Status {
                status: info.status,
            });
            r.ended_at = Some(ts);
        }
        s.last_handshake = Some(info.clone());
    }

    fn open(&mut self) {
        self.set_state(SessionState::Open);
        self.totals.opens += 1;
        self.tv.opens += 1;
        let s = &mut *self.s;
        s.opened_at = Some(self.ts);
        s.last_error = None;
        // The script runs from the top on every connection.
        s.script = None;
        if let Some(r) = s.timeline.back_mut() {
            r.outcome = Some(AttemptOutcome::Opened);
        }
    }

    fn closed(&mut self, ci: &CloseInfo) {
        let ts = self.ts;
        self.set_state(SessionState::Closed);
        let (s, totals) = (&mut *self.s, &mut *self.totals);
        s.opened_at = None;
        *totals.closes_by_code.entry(ci.code).or_default() += 1;
        *self.tv.closes_by_code.entry(ci.code).or_default() += 1;
        if let Some(slot) = INITIATORS.iter().position(|i| *i == ci.initiator) {
            totals.closes_by_initiator.entry(ci.code).or_default()[slot] += 1;
        }
        self.storm.record_close(ts, ci.code);
        if let Some(r) = s.timeline.back_mut() {
            r.outcome = Some(AttemptOutcome::Closed { code: ci.code });
            r.uptime_ms = ci.uptime_ms;
            r.ended_at = Some(ts);
        }
        s.last_close = Some(ci.clone());
    }

    fn error(&mut self, kind: ErrorKind, message: &str) {
        *self.totals.errors.entry(kind).or_default() += 1;
        let s = &mut *self.s;
        s.last_error = Some((kind, message.to_string()));
        if let Some(r) = s.timeline.back_mut()
            && (r.outcome.is_none() || r.outcome == Some(AttemptOutcome::Opened))
        {
            r.outcome = Some(AttemptOutcome::Error { kind });
            r.ended_at = Some(self.ts);
        }
        if s.state == SessionState::Connecting || s.state == SessionState::Handshaking {
            self.set_state(SessionState::Closed);
        }
    }

    fn backoff(&mut self, b: &BackoffInfo) {
        self.set_state(SessionState::Waiting);
        let s = &mut *self.s;
        s.next_attempt_at = Some(b.next_attempt_at);
        let totals = &mut *self.totals;
        totals.max_backoff_attempt = totals.max_backoff_attempt.max(b.attempt);
        let next = s.attempt.saturating_add(1);
        let manual = b.cause == Cause::Manual;
        // The operator's `r` while a retry was pending: that attempt runs now. One row
        // per attempt: the pending row is marked manual instead of a second row.
        if manual
            && let Some(r) = s.timeline.back_mut()
            && r.attempt == next
            && r.started_at.is_none()
        {
            r.manual = true;
            return;
        }
        push_record(
            s,
            AttemptRecord {
                attempt: next,
                cause: Some(b.cause),
                kind: Some(b.kind),
                window_ms: Some(b.window_ms),
                delay_ms: Some(b.delay_ms),
                retry_after_ms: b.retry_after_ms,
                scheduled_at: Some(self.ts),
                started_at: None,
                slot_wait_ms: None,
                outcome: None,
                uptime_ms: None,
                ended_at: None,
                manual,
            },
        );
    }

    fn gave_up(&mut self, attempts: u32) {
        self.set_state(SessionState::GaveUp);
        let s = &mut *self.s;
        s.next_attempt_at = None;
        s.ended_why = Some(format!(
            "gave up after {attempts} retries (--max-attempts); press r to reconnect"
        ));
        self.totals.gave_up += 1;
        self.tv.gave_up += 1;
    }

    /// A session ended without a retry (not at wsmon's shutdown).
    fn ended(&mut self, why: &str, cause: Option<Cause>) {
        count_ended(self.totals, cause);
        self.set_state(SessionState::Closed);
        self.s.next_attempt_at = None;
        self.s.ended_why = Some(why.to_string());
    }
}

fn push_record(s: &mut SessionView, r: AttemptRecord) {
    // Most sessions connect once: room for one record, not the default four.
    if s.timeline.capacity() == 0 {
        s.timeline.reserve_exact(1);
    }
    if s.timeline.len() >= TIMELINE_LEN {
        s.timeline.pop_front();
        s.timeline_dropped += 1;
    }
    s.timeline.push_back(r);
}

/// Whether attempt `attempt`, about to start, is one the operator asked for (`r`, `R`): its row
/// in the timeline was opened (or marked) by a `backoff` with cause `manual`. Pressing `R` is
/// no herd.
fn asked_by_operator(s: &SessionView, attempt: u32) -> bool {
    s.timeline
        .back()
        .is_some_and(|r| r.attempt == attempt && r.started_at.is_none() && r.manual)
}

/// A session ended without a retry (not at wsmon's shutdown): count it by cause.
fn count_ended(totals: &mut Totals, cause: Option<Cause>) {
    if let Some(cause) = cause {
        match totals.ended.iter_mut().find(|(c, _)| *c == cause) {
            Some((_, n)) => *n += 1,
            None => totals.ended.push((cause, 1)),
        }
    }
}
