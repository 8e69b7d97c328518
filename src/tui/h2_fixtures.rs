//! A snapshot of sessions over HTTP/2 for the screen tests (only with the `test-support`
//! feature), pushed through the real store like `fixtures`, on the same fixed clock:
//! - s1-s8 opened on connection c1 (streams 1, 3 ... 15), lost with it by a GOAWAY NO_ERROR
//!   20 s ago; s1-s4 reopened on c3 (streams 1, 3, 5, 7), s5-s8 wait for their retry (in
//!   15 s to 24 s);
//! - s9-s48 are open on c2 (streams 1, 3 ... 79);
//! - s49 was on c2 until the server reset its stream (RST_STREAM CANCEL) 10 s ago;
//! - s50-s52 are open over HTTP/1.1 on a second target, chosen by `--transport auto`.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use chrono::{DateTime, Duration, Utc};

use crate::engine::counters::SessionCounters;
use crate::engine::events::{
    BackoffInfo, Cause, CloseInfo, DelayKind, Event, EventKind, HandshakeInfo, Initiator, Jitter,
    Link, SessionId,
};
use crate::protocol::http2::{LossReason, Proto};
use crate::state::snapshot::Snapshot;
use crate::state::store::Store;

use super::fixtures::now;

/// The targets: HTTP/2 first, then the one that answered over HTTP/1.1.
pub const TARGETS: [&str; 2] = ["wss://127.0.0.1:8443/echo", "wss://127.0.0.1:9443/legacy"];

/// Sessions in [`snapshot`].
pub const SESSIONS: u64 = 52;

fn ms(n: i64) -> Duration {
    Duration::milliseconds(n)
}

fn h2(connection: u32, stream: u32) -> Link {
    Link {
        transport: Some(Proto::H2),
        connection: Some(connection),
        stream: Some(stream),
    }
}

fn h1() -> Link {
    Link {
        transport: Some(Proto::H1),
        ..Link::default()
    }
}

/// The answer that opened a session: `200` over HTTP/2, `101` over HTTP/1.1.
fn answer(link: Link) -> Arc<HandshakeInfo> {
    let (status, status_line) = match link.transport {
        Some(Proto::H2) => (200, "HTTP/2 200"),
        _ => (101, "HTTP/1.1 101 Switching Protocols"),
    };
    Arc::new(HandshakeInfo {
        status,
        status_line: status_line.to_string(),
        link,
        ..HandshakeInfo::default()
    })
}

/// The events of one attempt that opened on `link` at `at`.
fn open(out: &mut Vec<(DateTime<Utc>, EventKind)>, at: DateTime<Utc>, attempt: u32, link: Link) {
    out.push((
        at,
        EventKind::Connecting {
            attempt,
            slot_wait_ms: 0,
            link: Link {
                connection: None,
                stream: None,
                ..link
            },
        },
    ));
    out.push((at + ms(2), EventKind::Handshaking { attempt }));
    out.push((at + ms(4), EventKind::Handshake(answer(link))));
    out.push((at + ms(4), EventKind::Open { attempt, link }));
}

/// The open connection lost at `at` (no close frame), and the retry `delay_ms` later.
fn lost(
    out: &mut Vec<(DateTime<Utc>, EventKind)>,
    at: DateTime<Utc>,
    opened: DateTime<Utc>,
    cause: Cause,
    delay_ms: i64,
) {
    out.push((
        at,
        EventKind::Closed(CloseInfo {
            code: 1006,
            reason: String::new(),
            initiator: Initiator::Local,
            clean: false,
            uptime_ms: u64::try_from((at - opened).num_milliseconds()).ok(),
            peer_code: None,
            why: None,
        }),
    ));
    out.push((
        at,
        EventKind::Backoff(BackoffInfo {
            attempt: 1,
            cause,
            kind: DelayKind::Backoff,
            window_ms: 30_000,
            delay_ms: u64::try_from(delay_ms).unwrap_or(0),
            retry_after_ms: None,
            jitter: Jitter::Full,
            next_attempt_at: at + ms(delay_ms),
        }),
    ));
}

/// The events of session `id` (1-based), with their times.
fn session(id: u64, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, EventKind)> {
    let start = now - ms(90_000) + ms(i64::try_from(id).unwrap_or(0) * 100);
    let stream = |k: u64| u32::try_from(2 * k + 1).unwrap_or(1);
    let mut out = Vec::new();
    match id {
        1..=8 => {
            open(&mut out, start, 1, h2(1, stream(id - 1)));
            let goaway = Cause::Connection {
                reason: LossReason::Goaway,
                h2_error: Some(0),
            };
            // s1-s4 are back (on c3), s5-s8 wait 15 s to 27 s more.
            let delay =
                i64::try_from(id).unwrap_or(0) * 3_000 + if id <= 4 { 2_000 } else { 20_000 };
            lost(&mut out, now - ms(20_000), start + ms(4), goaway, delay);
            if id <= 4 {
                let at = now - ms(20_000) + ms(delay);
                open(&mut out, at, 2, h2(3, stream(id - 1)));
            }
        }
        9..=49 => {
            open(&mut out, start, 1, h2(2, stream(id - 9)));
            if id == 49 {
                let reset = Cause::Connection {
                    reason: LossReason::RstStream,
                    h2_error: Some(8),
                };
                lost(&mut out, now - ms(10_000), start + ms(4), reset, 25_000);
            }
        }
        _ => open(&mut out, start, 1, h1()),
    }
    out
}

/// The snapshot described in the module's comment.
pub fn snapshot() -> Snapshot {
    let now = now();
    let mut store = Store::new(None, Arc::new(AtomicU64::new(0)));
    let mut events: Vec<Event> = Vec::new();
    for id in 1..=SESSIONS {
        let target = usize::from(id > 49);
        store.register(id as SessionId, Arc::new(SessionCounters::default()));
        events.push(Event {
            ts: now - ms(90_000),
            session: id,
            kind: EventKind::Spawned {
                target,
                index: 0,
                url: TARGETS[target].to_string(),
            },
        });
        events.extend(session(id, now).into_iter().map(|(ts, kind)| Event {
            ts,
            session: id,
            kind,
        }));
    }
    events.sort_by_key(|e| e.ts);
    for e in &events {
        store.apply(e);
    }
    store.snapshot(now)
}
