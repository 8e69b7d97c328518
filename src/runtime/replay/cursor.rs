//! The time cursor over a [`Recording`]: the store as it was at any recorded moment.
//!
//! The state at time `t` is the live store's: every event with `ts <= t` applied in order with
//! [`Store::apply`], and [`Store::tick`] called once at the start of each recorded second (the
//! live store task ticks once per wall-clock second), then [`Store::snapshot`] with `t` as `now`.
//! Seeking starts from the nearest earlier checkpoint (a clone of the store, sharing unchanged
//! sessions) or from the current position, whichever is closer.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::Speed;
use super::load::Recording;
use crate::engine::events::EventKind;
use crate::state::messages::LogCaps;
use crate::state::snapshot::{STORM_SECONDS, Snapshot};
use crate::state::store::Store;
use crate::state::storm::LOCKSTEP_MIN_ATTEMPTS;

/// At most this many checkpoints: memory stays a small multiple of the sessions' state.
pub const MAX_CHECKPOINTS: usize = 10;
/// Checkpoints are never closer than this many events.
pub const MIN_CHECKPOINT_EVENTS: usize = 8192;
/// Events applied per `play_tick` at [`Speed::Max`].
const MAX_SPEED_EVENTS: usize = 20_000;

/// The store after `pos` events, ticked through second `ticked`.
#[derive(Clone)]
struct Position {
    store: Store,
    pos: usize,
    ticked: Option<i64>,
}

/// One recorded second: attempts started and closes, for burst search and whole-recording
/// charts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondTotals {
    /// Unix second.
    pub second: i64,
    pub attempts: u32,
    /// Closes in this second by code, ascending.
    pub closes: Vec<(u16, u32)>,
}

/// Drives a [`Store`] over a recording. Memory: the recording's events (the index), at most
/// [`MAX_CHECKPOINTS`] store clones, and one `SecondTotals` per recorded second with activity.
pub struct ReplayCursor {
    rec: Arc<Recording>,
    checkpoints: Vec<Position>,
    cur: Position,
    time: DateTime<Utc>,
    seconds: Vec<SecondTotals>,
    burst_min: u32,
}

fn second_start(s: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(s, 0).unwrap_or_default()
}

/// The totals of second `sec`, appended if it is new (events come in time order).
fn second_mut(seconds: &mut Vec<SecondTotals>, sec: i64) -> &mut SecondTotals {
    if seconds.last().is_none_or(|s| s.second != sec) {
        seconds.push(SecondTotals {
            second: sec,
            attempts: 0,
            closes: Vec::new(),
        });
    }
    let last = seconds.len() - 1;
    &mut seconds[last]
}

/// The index pass and the checkpoints keep no message log (a copy of every log per
/// checkpoint would cost the recording's payloads again each time): the cursor's own store
/// logs, and rebuilds its logs from the events when it jumps to a checkpoint.
fn empty_store() -> Store {
    let mut store = Store::new(None, Arc::new(AtomicU64::new(0)));
    store.set_message_caps(LogCaps::OFF);
    store
}

/// Give `p` (a checkpoint's copy) its own message logs, as they were at its position.
fn with_logs(mut p: Position, rec: &Recording) -> Position {
    p.store.set_message_caps(LogCaps::default());
    p.store.message_logs().replay(&rec.events[..p.pos]);
    p
}

impl Position {
    fn start(rec: &Recording) -> Self {
        Position {
            store: empty_store(),
            pos: 0,
            // Like the live store, no tick for the second the run started in.
            ticked: rec.start().map(|t| t.timestamp()),
        }
    }

    /// Tick every second boundary up to and including `sec` (at most the storm window's worth
    /// of quiet seconds: older ones fall out of the window anyway, with the same gauges).
    fn tick_through(&mut self, sec: i64) {
        let Some(last) = self.ticked else {
            return;
        };
        if sec <= last {
            return;
        }
        let from = (last + 1).max(sec - STORM_SECONDS as i64 - 1);
        for s in from..=sec {
            self.store.tick(second_start(s));
        }
        self.ticked = Some(sec);
    }

    /// Apply every event with `ts <= t`.
    fn advance(&mut self, rec: &Recording, t: DateTime<Utc>) {
        while let Some(ev) = rec.events.get(self.pos) {
            if ev.ts > t {
                break;
            }
            self.tick_through(ev.ts.timestamp());
            self.store.apply(ev);
            self.pos += 1;
        }
        self.tick_through(t.timestamp());
    }
}

impl ReplayCursor {
    /// Index the recording: one pass through the store, keeping checkpoints. The cursor starts
    /// at the first event.
    pub fn new(rec: Arc<Recording>) -> Self {
        let n = rec.events.len();
        let every = (n / MAX_CHECKPOINTS + 1).max(MIN_CHECKPOINT_EVENTS);
        let mut p = Position::start(&rec);
        let mut checkpoints = vec![p.clone()];
        let mut seconds: Vec<SecondTotals> = Vec::new();
        while let Some(ev) = rec.events.get(p.pos) {
            let sec = ev.ts.timestamp();
            p.tick_through(sec);
            p.store.apply(ev);
            p.pos += 1;
            match &ev.kind {
                EventKind::Connecting { .. } => second_mut(&mut seconds, sec).attempts += 1,
                EventKind::Closed(c) => {
                    let closes = &mut second_mut(&mut seconds, sec).closes;
                    match closes.binary_search_by_key(&c.code, |c| c.0) {
                        Ok(i) => closes[i].1 += 1,
                        Err(i) => closes.insert(i, (c.code, 1)),
                    }
                }
                _ => {}
            }
            if p.pos.is_multiple_of(every) {
                checkpoints.push(p.clone());
            }
        }
        let peak = seconds.iter().map(|s| s.attempts).max().unwrap_or(0);
        let burst_min = (LOCKSTEP_MIN_ATTEMPTS as u32).max(peak / 4);
        let start = rec.start().unwrap_or_default();
        let mut cur = with_logs(checkpoints[0].clone(), &rec);
        cur.advance(&rec, start);
        ReplayCursor {
            rec,
            checkpoints,
            cur,
            time: start,
            seconds,
            burst_min,
        }
    }

    pub fn recording(&self) -> &Arc<Recording> {
        &self.rec
    }

    /// The recorded time at the cursor.
    pub fn time(&self) -> DateTime<Utc> {
        self.time
    }

    /// Events applied so far (those with `ts <= time()`).
    pub fn position(&self) -> usize {
        self.cur.pos
    }

    /// Start and end of the recording (both the first event's time when empty of span).
    pub fn bounds(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((self.rec.start()?, self.rec.end()?))
    }

    /// How many checkpoints the index keeps.
    pub fn checkpoints_len(&self) -> usize {
        self.checkpoints.len()
    }

    /// Is the cursor at (or past) the last event?
    pub fn at_end(&self) -> bool {
        self.cur.pos >= self.rec.events.len()
    }

    /// Attempts and closes per recorded second, for the whole recording.
    pub fn seconds(&self) -> &[SecondTotals] {
        &self.seconds
    }

    /// Move the cursor to `t` (clamped to the recording's span).
    pub fn seek(&mut self, t: DateTime<Utc>) {
        let t = match self.bounds() {
            Some((a, b)) => t.clamp(a, b),
            None => return,
        };
        let target = self.rec.count_until(t);
        let from_checkpoint = self
            .checkpoints
            .iter()
            .rev()
            .find(|c| c.pos <= target)
            .filter(|c| t < self.time || c.pos > self.cur.pos);
        if let Some(c) = from_checkpoint {
            self.cur = with_logs(c.clone(), &self.rec);
        }
        self.cur.advance(&self.rec, t);
        self.time = t;
    }

    /// Move by a signed duration (arrow keys).
    pub fn step(&mut self, by: TimeDelta) {
        self.seek(self.time + by);
    }

    /// Playback: move forward by `elapsed` wall time at `speed`. Returns true at the end.
    pub fn play_tick(&mut self, speed: Speed, elapsed: Duration) -> bool {
        let scaled = |k: u32| TimeDelta::from_std(elapsed * k).unwrap_or(TimeDelta::zero());
        let to = match speed {
            Speed::X1 => self.time + scaled(1),
            Speed::X10 => self.time + scaled(10),
            Speed::X100 => self.time + scaled(100),
            Speed::Max => {
                let i = (self.cur.pos + MAX_SPEED_EVENTS).min(self.rec.events.len());
                match i.checked_sub(1).and_then(|i| self.rec.events.get(i)) {
                    Some(ev) => ev.ts.max(self.time),
                    None => self.time,
                }
            }
        };
        self.seek(to);
        self.at_end()
    }

    /// Go to the next close with `code` after the cursor (the moment it happened).
    pub fn next_close(&mut self, code: u16) -> Option<DateTime<Utc>> {
        let ts = self.rec.events[self.cur.pos..]
            .iter()
            .find(|e| matches!(&e.kind, EventKind::Closed(c) if c.code == code))?
            .ts;
        self.seek(ts);
        Some(ts)
    }

    /// The seconds in which a burst of attempts starts: at least a quarter of the recording's
    /// peak attempts per second (and at least `LOCKSTEP_MIN_ATTEMPTS`), following a quieter
    /// second. In time order.
    pub fn burst_starts(&self) -> Vec<i64> {
        let mut prev_busy = false;
        let mut prev_second = i64::MIN;
        let mut starts = Vec::new();
        for s in &self.seconds {
            let busy = s.attempts >= self.burst_min;
            if busy && !(prev_busy && prev_second == s.second - 1) {
                starts.push(s.second);
            }
            prev_busy = busy;
            prev_second = s.second;
        }
        starts
    }

    /// Go to the end of the next burst of attempts (see [`Self::burst_starts`]) starting in the
    /// cursor's second or later. The cursor lands at the start of the second after it, so the
    /// burst is the storm view's last complete second.
    pub fn next_burst(&mut self) -> Option<DateTime<Utc>> {
        let now = self.time.timestamp();
        let found = self.burst_starts().into_iter().find(|&s| s >= now)?;
        self.seek(second_start(found + 1));
        Some(self.time)
    }

    /// The store's snapshot at the cursor, with the recorded time as `now`.
    pub fn snapshot(&mut self) -> Arc<Snapshot> {
        Arc::new(self.cur.store.snapshot(self.time))
    }
}
