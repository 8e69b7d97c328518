//! The message log: each session's most recent frames, bounded by count and by payload bytes
//! (`--message-log COUNT,SIZE`), with what was dropped or cut counted, never silent.
//!
//! The store owns every session's log and hands it out as a [`MessageLogs`] handle: live
//! sessions push their frames into it directly (one short lock per frame, no event: at 10,000
//! messages a second the store would otherwise apply 10,000 events a second that change
//! nothing else); a replay's store pushes the recorded `message` events, so a replay rebuilds
//! the same logs at the cursor. Front ends read them through the handle in each snapshot, a few
//! rows at a time, under a short lock.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use crate::engine::events::{IdMap, MessageRecord, SessionId};

/// The bounds of every session's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogCaps {
    /// Entries kept per session; 0 turns the log off.
    pub count: usize,
    /// Payload bytes kept per session, over all its entries.
    pub bytes: usize,
    /// Payload bytes kept per entry (a longer payload keeps its first bytes and its length).
    pub preview: usize,
}

impl Default for LogCaps {
    fn default() -> Self {
        LogCaps {
            count: 200,
            bytes: 64 * 1024,
            preview: 4 * 1024,
        }
    }
}

impl LogCaps {
    /// The log is off (`--message-log 0`).
    pub const OFF: LogCaps = LogCaps {
        count: 0,
        bytes: 0,
        preview: 0,
    };

    pub fn is_off(&self) -> bool {
        self.count == 0 || self.bytes == 0
    }
}

impl From<&crate::engine::settings::MessageSettings> for LogCaps {
    /// `--message-log COUNT,SIZE` and `--message-preview SIZE`.
    fn from(m: &crate::engine::settings::MessageSettings) -> Self {
        if m.log_off() {
            return LogCaps::OFF;
        }
        LogCaps {
            count: m.log_count,
            bytes: m.log_bytes,
            preview: m.preview,
        }
    }
}

/// One kept frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The session's frame number, from 1, counting every frame logged (dropped ones too).
    pub seq: u64,
    pub ts: DateTime<Utc>,
    pub record: Arc<MessageRecord>,
}

/// One session's log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageLog {
    entries: VecDeque<Entry>,
    /// Payload bytes of `entries`.
    bytes: usize,
    /// Frames logged so far (the next entry's `seq` is this plus one).
    logged: u64,
    /// Entries dropped from the front to stay within the caps.
    dropped: u64,
    /// Entries whose payload was cut to the preview cap.
    cut: u64,
}

impl MessageLog {
    /// Keep `record` (its payload cut to `caps.preview`), dropping the oldest entries until
    /// the log fits `caps` again.
    pub fn push(&mut self, caps: &LogCaps, ts: DateTime<Utc>, record: Arc<MessageRecord>) {
        self.logged += 1;
        if caps.is_off() {
            self.dropped += 1;
            return;
        }
        let record = if record.payload.len() > caps.preview.min(caps.bytes) {
            let mut r = (*record).clone();
            r.payload.truncate(caps.preview.min(caps.bytes));
            Arc::new(r)
        } else {
            record
        };
        if record.is_cut() {
            self.cut += 1;
        }
        self.bytes += record.payload.len();
        self.entries.push_back(Entry {
            seq: self.logged,
            ts,
            record,
        });
        while self.entries.len() > caps.count || self.bytes > caps.bytes {
            let Some(old) = self.entries.pop_front() else {
                break;
            };
            self.bytes -= old.record.payload.len();
            self.dropped += 1;
        }
    }

    /// The kept entries, oldest first.
    pub fn entries(&self) -> &VecDeque<Entry> {
        &self.entries
    }

    /// Entries no longer kept ("312 earlier messages not kept").
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Entries kept with only their first bytes.
    pub fn cut(&self) -> u64 {
        self.cut
    }

    /// Payload bytes kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Frames logged in all.
    pub fn logged(&self) -> u64 {
        self.logged
    }
}

/// Every session's log, shared by the store (the one writer) and the front ends (readers).
/// Cloning is cheap: it is a handle.
#[derive(Debug, Clone, Default)]
pub struct MessageLogs {
    inner: Arc<Mutex<Logs>>,
}

/// The logs behind the handle.
#[derive(Debug, Default)]
pub struct Logs {
    pub caps: LogCaps,
    pub sessions: IdMap<MessageLog>,
    /// A frame was logged since the store last looked ([`MessageLogs::take_changed`]).
    changed: bool,
}

impl MessageLogs {
    pub fn new(caps: LogCaps) -> Self {
        MessageLogs {
            inner: Arc::new(Mutex::new(Logs {
                caps,
                sessions: IdMap::default(),
                changed: false,
            })),
        }
    }

    /// The logs, locked. Hold the guard briefly: the store waits for it to log the next frame.
    pub fn lock(&self) -> MutexGuard<'_, Logs> {
        // A reader that panicked holding the lock left the logs as they were: still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn push(&self, session: SessionId, ts: DateTime<Utc>, record: Arc<MessageRecord>) {
        let mut logs = self.lock();
        let caps = logs.caps;
        if caps.is_off() {
            return;
        }
        logs.changed = true;
        logs.sessions
            .entry(session)
            .or_default()
            .push(&caps, ts, record);
    }

    /// Whether a frame was logged since the last call (the store then publishes a snapshot, so
    /// an open Messages view follows the session live).
    pub fn take_changed(&self) -> bool {
        std::mem::take(&mut self.lock().changed)
    }

    /// Rebuild the logs from recorded events (a replay cursor that jumped to a checkpoint):
    /// what [`crate::state::store::Store::apply`] logs, in one pass under one lock: messages of
    /// sessions spawned and not removed, a removed session's log dropped.
    pub fn replay(&self, events: &[crate::engine::events::Event]) {
        use crate::engine::events::EventKind;
        let mut logs = self.lock();
        let caps = logs.caps;
        if caps.is_off() {
            return;
        }
        let mut alive = std::collections::HashSet::new();
        for ev in events {
            match &ev.kind {
                EventKind::Spawned { .. } => {
                    alive.insert(ev.session);
                }
                EventKind::Removed => {
                    alive.remove(&ev.session);
                    logs.sessions.remove(&ev.session);
                }
                EventKind::Message(r) if alive.contains(&ev.session) => logs
                    .sessions
                    .entry(ev.session)
                    .or_default()
                    .push(&caps, ev.ts, r.clone()),
                _ => {}
            }
        }
    }

    /// A removed session's log goes with it.
    pub fn remove(&self, session: SessionId) {
        self.lock().sessions.remove(&session);
    }
}

impl crate::engine::events::FrameLog for MessageLogs {
    fn push(&self, session: SessionId, ts: DateTime<Utc>, record: Arc<MessageRecord>) {
        MessageLogs::push(self, session, ts, record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::events::{Direction, Opcode};

    fn text(n: usize) -> Arc<MessageRecord> {
        Arc::new(MessageRecord {
            dir: Direction::In,
            opcode: Opcode::Text,
            wire_size: n as u64,
            size: n as u64,
            rsv1: false,
            payload: vec![b'x'; n],
        })
    }

    fn ts() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_800_000_000_000).expect("ts")
    }

    #[test]
    fn the_oldest_entries_go_first_and_are_counted() {
        let caps = LogCaps {
            count: 3,
            bytes: 1000,
            preview: 100,
        };
        let mut log = MessageLog::default();
        for _ in 0..5 {
            log.push(&caps, ts(), text(10));
        }
        let seqs: Vec<u64> = log.entries().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
        assert_eq!(log.dropped(), 2);
        assert_eq!(log.bytes(), 30);
    }

    #[test]
    fn the_byte_cap_and_the_preview_cap_hold() {
        let caps = LogCaps {
            count: 100,
            bytes: 250,
            preview: 100,
        };
        let mut log = MessageLog::default();
        log.push(&caps, ts(), text(1_000_000));
        let first = &log.entries()[0].record;
        assert_eq!(first.payload.len(), 100, "first bytes kept");
        assert_eq!(first.size, 1_000_000, "full length kept");
        assert!(first.is_cut());
        assert_eq!(log.cut(), 1);
        for _ in 0..3 {
            log.push(&caps, ts(), text(90));
        }
        assert!(log.bytes() <= 250, "{}", log.bytes());
        assert_eq!(log.dropped(), 2);
        assert_eq!(log.entries().len(), 2);
    }

    #[test]
    fn an_off_log_keeps_nothing() {
        let logs = MessageLogs::new(LogCaps::OFF);
        logs.push(1, ts(), text(10));
        assert!(logs.lock().sessions.is_empty());
    }
}
