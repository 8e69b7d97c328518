//! Event builders for tests, written once: the metrics, replay and other tests build their
//! events from these (with struct update syntax for the fields they care about).

use chrono::{DateTime, Utc};

use super::events::{
    BackoffInfo, Cause, CloseInfo, DelayKind, ErrorKind, Event, EventKind, Initiator, Jitter,
    SessionId,
};

/// `kind` happening to `session` at `ts`.
pub fn event(ts: DateTime<Utc>, session: SessionId, kind: EventKind) -> Event {
    Event { ts, session, kind }
}

/// A session of target `target` (index 0) going to `url`.
pub fn spawned(target: usize, url: &str) -> EventKind {
    EventKind::Spawned {
        target,
        index: 0,
        url: url.into(),
    }
}

/// Attempt `attempt` starts, without waiting for a handshake slot.
pub fn connecting(attempt: u32) -> EventKind {
    EventKind::Connecting {
        attempt,
        slot_wait_ms: 0,
        link: Default::default(),
    }
}

/// A clean close with `code` by `initiator`, no reason, no uptime.
pub fn close_info(code: u16, initiator: Initiator) -> CloseInfo {
    CloseInfo {
        code,
        reason: String::new(),
        initiator,
        clean: true,
        uptime_ms: None,
        peer_code: None,
        why: None,
    }
}

/// [`close_info`] as an event kind.
pub fn closed(code: u16, initiator: Initiator) -> EventKind {
    EventKind::Closed(close_info(code, initiator))
}

/// After a close with `code`: attempt `attempt` waits 700 ms of a 1 s window (full jitter),
/// until `next_attempt_at`.
pub fn backoff(attempt: u32, code: u16, next_attempt_at: DateTime<Utc>) -> EventKind {
    EventKind::Backoff(BackoffInfo {
        attempt,
        cause: Cause::Close { code },
        kind: DelayKind::Backoff,
        window_ms: 1000,
        delay_ms: 700,
        retry_after_ms: None,
        jitter: Jitter::Full,
        next_attempt_at,
    })
}

/// An error of `kind` with `message`.
pub fn error(kind: ErrorKind, message: &str) -> EventKind {
    EventKind::Error {
        kind,
        message: message.into(),
    }
}
