//! The generated 1,000,000-event log shared by `benches/replay.rs` and `benches/report.rs`
//! (included with `#[path]`; not a bench of its own).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rand::{Rng, SeedableRng, rngs::SmallRng};
use wsmon::engine::events::{
    BackoffInfo, Cause, CloseInfo, DelayKind, Event, EventKind, HandshakeInfo, Initiator, Jitter,
};
use wsmon::export::ExportWriter;

pub const SESSIONS: u64 = 10_000;
pub const EVENTS: usize = 1_000_000;

/// Sessions connect, most are closed with 1013 and back off (full jitter, 1 s base, 60 s cap);
/// every 2 minutes a storm closes most open sessions at once.
pub fn generate(path: &std::path::Path) -> usize {
    let start = DateTime::<Utc>::from_timestamp(1_795_634_400, 0).expect("valid start");
    let mut rng = SmallRng::seed_from_u64(11);
    let namer = Arc::new(|c: u16| wsmon::codes::Registry::builtin().name(c));
    let mut events: Vec<Event> = Vec::with_capacity(EVENTS + 16);
    let mut n = 0usize;
    // (due time ms, session, attempt, retries)
    let mut due: std::collections::BinaryHeap<std::cmp::Reverse<(i64, u64, u32, u32)>> =
        Default::default();
    let emit = |w: &mut Vec<Event>, ms: i64, session: u64, kind: EventKind| {
        w.push(Event {
            ts: start + TimeDelta::milliseconds(ms),
            session,
            kind,
        });
    };
    for s in 1..=SESSIONS {
        let ms = (s as i64) / 10;
        emit(
            &mut events,
            ms,
            s,
            EventKind::Spawned {
                target: (s % 4) as usize,
                index: 0,
                url: format!("ws://10.0.0.{}:9001/overload", s % 4),
            },
        );
        n += 1;
        due.push(std::cmp::Reverse((ms + 1, s, 1, 0)));
    }
    let hs = |status: u16| {
        EventKind::Handshake(Arc::new(HandshakeInfo {
            status,
            status_line: format!("HTTP/1.1 {status} x"),
            request_headers: vec![
                ("Host".into(), "10.0.0.1:9001".into()),
                ("Sec-WebSocket-Version".into(), "13".into()),
            ],
            response_headers: vec![("Upgrade".into(), "websocket".into())],
            ..HandshakeInfo::default()
        }))
    };
    while n < EVENTS {
        let Some(std::cmp::Reverse((ms, s, attempt, retries))) = due.pop() else {
            break;
        };
        emit(
            &mut events,
            ms,
            s,
            EventKind::Connecting {
                attempt,
                slot_wait_ms: 0,
                link: Default::default(),
            },
        );
        emit(&mut events, ms + 2, s, EventKind::Handshaking { attempt });
        emit(&mut events, ms + 4, s, hs(101));
        emit(
            &mut events,
            ms + 5,
            s,
            EventKind::Open {
                attempt,
                link: Default::default(),
            },
        );
        n += 4;
        // Open for a while; storms every 120 s close most sessions together.
        let storm = (ms / 120_000 + 1) * 120_000;
        let close_at = if rng.random_bool(0.7) {
            ms + 20 + rng.random_range(0..50)
        } else {
            storm + rng.random_range(0..300)
        };
        emit(
            &mut events,
            close_at,
            s,
            EventKind::Closed(CloseInfo {
                code: 1013,
                reason: "overloaded".into(),
                initiator: Initiator::Server,
                clean: true,
                uptime_ms: Some((close_at - ms) as u64),
                peer_code: None,
                why: None,
            }),
        );
        let retry = retries + 1;
        let window = (1000u64 << retry.min(6)).min(60_000);
        let delay = rng.random_range(0..window);
        let next = close_at + 1 + delay as i64;
        emit(
            &mut events,
            close_at + 1,
            s,
            EventKind::Backoff(BackoffInfo {
                attempt: retry,
                cause: Cause::Close { code: 1013 },
                kind: DelayKind::Backoff,
                window_ms: window,
                delay_ms: delay,
                retry_after_ms: None,
                jitter: Jitter::Full,
                next_attempt_at: start + TimeDelta::milliseconds(next),
            }),
        );
        n += 2;
        due.push(std::cmp::Reverse((
            next,
            s,
            attempt + 1,
            if retry > 8 { 0 } else { retry },
        )));
    }
    // An export is written in time order.
    events.sort_by_key(|e| e.ts);
    let mut w = ExportWriter::create(path, namer).expect("create the log");
    for e in &events {
        w.write(e).expect("write");
    }
    w.flush().expect("flush");
    n
}

pub fn ms(d: Duration) -> String {
    format!("{:>9.1} ms", d.as_secs_f64() * 1000.0)
}
