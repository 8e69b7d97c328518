//! Realistic snapshots for screen tests and the render bench (only with the `test-support`
//! feature): sessions in every state, handshakes with permessage-deflate, 1013 closes with
//! timelines of doubling windows, a 1010 that will not be retried, a 503 with Retry-After, and
//! storm seconds with a retry herd. Each session's events are fed through the real store, so
//! the snapshots are what the store produces. Everything follows a fixed clock, so screens are
//! reproducible.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::engine::counters::{CounterValues, SessionCounters};
use crate::engine::events::{
    BackoffInfo, Cause, CloseInfo, DelayKind, ErrorKind, Event, EventKind, HandshakeInfo,
    Initiator, Jitter, SessionId, Timings,
};
use crate::protocol::extensions::{Extension, Param};
use crate::state::snapshot::{STORM_SECONDS, Snapshot};
use crate::state::store::Store;

/// The fixed "now" of every fixture: 2025-01-15 12:00:00 UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 15, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

/// The fixture targets.
pub const TARGETS: [&str; 4] = [
    "ws://127.0.0.1:9001/echo",
    "ws://127.0.0.1:9001/overload",
    "ws://127.0.0.1:9001/flaky",
    "ws://127.0.0.1:9001/strict",
];

fn ms(n: i64) -> Duration {
    Duration::milliseconds(n)
}

fn param(name: &str, value: Option<&str>) -> Param {
    Param {
        name: name.to_string(),
        value: value.map(str::to_string),
    }
}

fn deflate_offer() -> Extension {
    Extension {
        name: "permessage-deflate".to_string(),
        params: vec![
            param("client_max_window_bits", None),
            param("client_no_context_takeover", None),
        ],
    }
}

fn deflate_accept() -> Extension {
    Extension {
        name: "permessage-deflate".to_string(),
        params: vec![
            param("client_max_window_bits", Some("15")),
            param("client_no_context_takeover", None),
            param("server_no_context_takeover", None),
        ],
    }
}

fn request_headers() -> Vec<(String, String)> {
    vec![
        ("Host".to_string(), "127.0.0.1:9001".to_string()),
        ("Upgrade".to_string(), "websocket".to_string()),
        ("Connection".to_string(), "Upgrade".to_string()),
        (
            "Sec-WebSocket-Key".to_string(),
            "dGhlIHNhbXBsZSBub25jZQ==".to_string(),
        ),
        ("Sec-WebSocket-Version".to_string(), "13".to_string()),
        (
            "Sec-WebSocket-Extensions".to_string(),
            "permessage-deflate; client_max_window_bits; client_no_context_takeover".to_string(),
        ),
        (
            "Authorization".to_string(),
            crate::redact::REDACTED.to_string(),
        ),
    ]
}

fn handshake_101(accepted: bool) -> HandshakeInfo {
    let mut response = vec![
        ("Upgrade".to_string(), "websocket".to_string()),
        ("Connection".to_string(), "Upgrade".to_string()),
        (
            "Sec-WebSocket-Accept".to_string(),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".to_string(),
        ),
    ];
    if accepted {
        response.push((
            "Sec-WebSocket-Extensions".to_string(),
            "permessage-deflate; client_max_window_bits=15; client_no_context_takeover; \
             server_no_context_takeover"
                .to_string(),
        ));
    }
    HandshakeInfo {
        status: 101,
        status_line: "HTTP/1.1 101 Switching Protocols".to_string(),
        request_headers: request_headers(),
        response_headers: response,
        body: None,
        offered: vec![deflate_offer()],
        accepted: if accepted {
            vec![deflate_accept()]
        } else {
            vec![]
        },
        required: vec![],
        missing: vec![],
        unexpected: vec![],
        subprotocol: None,
        retry_after_ms: None,
        retry_after_invalid: None,
        timings_ms: Timings {
            dns: None,
            connect: Some(0.4),
            tls: None,
            upgrade: Some(1.8),
            proxy: None,
        },
        ..HandshakeInfo::default()
    }
}

fn handshake_strict() -> HandshakeInfo {
    let mut h = handshake_101(false);
    h.required = vec![Extension {
        name: "permessage-deflate".to_string(),
        params: vec![],
    }];
    h.missing = vec!["permessage-deflate".to_string()];
    h
}

fn handshake_503() -> HandshakeInfo {
    HandshakeInfo {
        status: 503,
        status_line: "HTTP/1.1 503 Service Unavailable".to_string(),
        request_headers: request_headers(),
        response_headers: vec![
            ("Retry-After".to_string(), "30".to_string()),
            ("Content-Length".to_string(), "12".to_string()),
        ],
        body: Some("overloaded\\n".to_string()),
        offered: vec![deflate_offer()],
        retry_after_ms: Some(30_000),
        timings_ms: Timings {
            dns: None,
            connect: Some(0.5),
            tls: None,
            upgrade: Some(2.1),
            proxy: None,
        },
        ..HandshakeInfo::default()
    }
}

/// When the herd started: the overload, flaky and strict sessions made their first attempt
/// together, 35 s before [`now`] (within a few milliseconds of each other).
fn herd_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - ms(35_000)
}

/// The handshakes the sessions get, shared like the engine shares them.
struct Handshakes {
    deflate: Arc<HandshakeInfo>,
    strict: Arc<HandshakeInfo>,
    rejected: Arc<HandshakeInfo>,
}

/// The events of one session, in the order its task would emit them.
struct Script {
    id: SessionId,
    events: Vec<Event>,
}

impl Script {
    fn new(id: SessionId) -> Script {
        Script {
            id,
            events: Vec::new(),
        }
    }

    fn emit(&mut self, ts: DateTime<Utc>, kind: EventKind) {
        self.events.push(Event {
            ts,
            session: self.id,
            kind,
        });
    }

    /// The session is created on fixture target `target` at `ts`.
    fn spawn(&mut self, ts: DateTime<Utc>, target: usize) {
        self.emit(
            ts,
            EventKind::Spawned {
                target,
                index: 0,
                url: TARGETS[target].to_string(),
            },
        );
    }

    /// Attempt `attempt` from `start` to an upgrade answered by `handshake` at `start + 3 ms`
    /// (and, for a 101, open at `start + 4 ms`). Returns when the connection opened (or the
    /// answer came).
    fn attempt(
        &mut self,
        attempt: u32,
        start: DateTime<Utc>,
        handshake: &Arc<HandshakeInfo>,
    ) -> DateTime<Utc> {
        self.emit(
            start,
            EventKind::Connecting {
                attempt,
                slot_wait_ms: 0,
                link: Default::default(),
            },
        );
        self.emit(start + ms(1), EventKind::Handshaking { attempt });
        self.emit(start + ms(3), EventKind::Handshake(handshake.clone()));
        if handshake.status != 101 {
            return start + ms(3);
        }
        self.emit(
            start + ms(4),
            EventKind::Open {
                attempt,
                link: Default::default(),
            },
        );
        start + ms(4)
    }

    /// A retry scheduled at `ts`: the jitter's delay, or the server's Retry-After.
    fn backoff(
        &mut self,
        ts: DateTime<Utc>,
        retry: u32,
        cause: Cause,
        window_ms: u64,
        delay: Delay,
    ) {
        let (delay_ms, retry_after_ms, jitter) = match delay {
            Delay::Jitter(ms, jitter) => (ms, None, jitter),
            Delay::RetryAfter(ms) => (ms, Some(ms), Jitter::Equal),
        };
        self.emit(
            ts,
            EventKind::Backoff(BackoffInfo {
                attempt: retry,
                cause,
                kind: DelayKind::Backoff,
                window_ms,
                delay_ms,
                retry_after_ms,
                jitter,
                next_attempt_at: ts + ms(delay_ms as i64),
            }),
        );
    }
}

/// How long a scheduled retry waits.
enum Delay {
    /// This many milliseconds, drawn with this jitter.
    Jitter(u64, Jitter),
    /// The server's Retry-After, in milliseconds.
    RetryAfter(u64),
}

/// Counters with every field set from `c`.
fn counters(c: CounterValues) -> Arc<SessionCounters> {
    let n = SessionCounters::default();
    n.msgs_in.store(c.msgs_in, Ordering::Relaxed);
    n.msgs_out.store(c.msgs_out, Ordering::Relaxed);
    n.wire_in.store(c.wire_in, Ordering::Relaxed);
    n.wire_out.store(c.wire_out, Ordering::Relaxed);
    n.payload_in.store(c.payload_in, Ordering::Relaxed);
    n.payload_out.store(c.payload_out, Ordering::Relaxed);
    n.rtt_us.store(c.rtt_us.unwrap_or(0), Ordering::Relaxed);
    n.last_in_ms
        .store(c.last_in_ms.unwrap_or(0), Ordering::Relaxed);
    Arc::new(n)
}

/// The wall clock (unix ms) `ago_ms` before `now`.
fn last_message(now: DateTime<Utc>, ago_ms: u64) -> u64 {
    u64::try_from(now.timestamp_millis())
        .unwrap_or(0)
        .saturating_sub(ago_ms)
}

/// The kinds of session the fixture mixes, by `i % 10`.
fn kind_of(i: usize) -> usize {
    match i % 10 {
        0..=4 => 0, // echo: open (a few connecting, handshaking, closing or given up)
        5..=7 => 1, // overload: 1013 after ~100 ms, doubling windows, waiting now
        8 => 2,     // flaky: a 1006 drop then open again, or a 503 with Retry-After
        _ => 3,     // strict: 1010, not retried
    }
}

/// The events of session `i` (id `i + 1`) up to [`now`] and its counters.
fn session(i: usize, now: DateTime<Utc>, hs: &Handshakes) -> (Vec<Event>, CounterValues) {
    let mut s = Script::new(i as SessionId + 1);
    // The herd's members start within 20 ms of each other.
    let herd = herd_start(now) + ms((i % 7) as i64 * 3);
    let counters = match kind_of(i) {
        0 => echo(&mut s, i, now, hs),
        1 => overload(&mut s, i, herd, now, hs),
        2 if i % 20 == 8 => rejected(&mut s, herd, now, hs),
        2 => dropped(&mut s, i, herd, now, hs),
        _ => strict(&mut s, herd, hs),
    };
    s.events.retain(|e| e.ts <= now);
    (s.events, counters)
}

/// An echo session: open for a while (a few connecting, handshaking, closing or given up).
fn echo(s: &mut Script, i: usize, now: DateTime<Utc>, hs: &Handshakes) -> CounterValues {
    let spread = (i as i64 * 7919) % 3_600_000;
    let started = match i % 50 {
        4 | 24 => now - ms(400),
        34 => now - ms(30_000),
        44 => now - ms(20_000),
        _ => now - ms(60_000 + spread) - ms(4),
    };
    s.spawn(started, 0);
    match i % 50 {
        // Still connecting, or the upgrade request is out.
        4 | 24 => {
            s.emit(
                started,
                EventKind::Connecting {
                    attempt: 1,
                    slot_wait_ms: 0,
                    link: Default::default(),
                },
            );
            if i % 50 == 24 {
                s.emit(started + ms(2), EventKind::Handshaking { attempt: 1 });
            }
            return CounterValues::default();
        }
        // Closing: the server sent 1001 and the answer is on its way.
        34 => {
            s.attempt(1, started, &hs.deflate);
            s.emit(
                now - ms(50),
                EventKind::Closing {
                    code: 1001,
                    initiator: Initiator::Server,
                },
            );
        }
        // Connection refused three times: --max-attempts 2 reached.
        44 => {
            let mut t = started;
            let cause = Cause::Error {
                kind: ErrorKind::Connect,
            };
            for attempt in 1..=3u32 {
                s.emit(
                    t,
                    EventKind::Connecting {
                        attempt,
                        slot_wait_ms: 0,
                        link: Default::default(),
                    },
                );
                s.emit(
                    t + ms(1),
                    EventKind::Error {
                        kind: ErrorKind::Connect,
                        message: "connection refused".to_string(),
                    },
                );
                if attempt < 3 {
                    let window = 1000 << (attempt - 1);
                    let delay = Delay::Jitter(window, Jitter::None);
                    s.backoff(t + ms(1), attempt, cause, window, delay);
                    t += ms(1 + window as i64);
                } else {
                    s.emit(t + ms(1), EventKind::GaveUp { attempts: 2, cause });
                }
            }
            return CounterValues::default();
        }
        _ => {
            s.attempt(1, started, &hs.deflate);
        }
    }
    let msgs = 10 + (i as u64 * 37) % 5000;
    CounterValues {
        msgs_in: msgs,
        msgs_out: msgs,
        wire_in: msgs * 61,
        wire_out: msgs * 67,
        payload_in: msgs * 180,
        payload_out: msgs * 180,
        rtt_us: Some(250 + (i as u64 * 13) % 2000),
        // Most talked a moment ago; one in 11 has been silent for over a minute.
        last_in_ms: Some(last_message(
            now,
            (i as u64 * 373) % 9_000 + 65_000 * u64::from(i % 11 == 3),
        )),
    }
}

/// An overload session: each attempt opens and the server closes it with 1013 after ~100 ms.
/// Without jitter the windows double from 1 s and the sessions retry in step: a herd every
/// round, the last one a few seconds ago. One in 40 had its retries paused.
fn overload(
    s: &mut Script,
    i: usize,
    herd: DateTime<Utc>,
    now: DateTime<Utc>,
    hs: &Handshakes,
) -> CounterValues {
    s.spawn(herd, 1);
    let mut t = herd;
    let mut attempt = 1u32;
    while t <= now {
        let opened = s.attempt(attempt, t, &hs.deflate);
        let uptime = 100 + (i as u64 + u64::from(attempt) * 7) % 10;
        let closed = opened + ms(uptime as i64);
        s.emit(
            closed - ms(1),
            EventKind::Closing {
                code: 1013,
                initiator: Initiator::Server,
            },
        );
        s.emit(
            closed,
            EventKind::Closed(CloseInfo {
                code: 1013,
                reason: "server overloaded, try later".to_string(),
                initiator: Initiator::Server,
                clean: true,
                uptime_ms: Some(uptime),
                peer_code: None,
                why: None,
            }),
        );
        let window = 1000u64 << (attempt - 1).min(6);
        let delay = Delay::Jitter(window, Jitter::None);
        s.backoff(closed, attempt, Cause::Close { code: 1013 }, window, delay);
        if i % 40 == 25 && attempt == 2 {
            s.emit(closed + ms(1), EventKind::Paused { paused: true });
            break;
        }
        t = closed + ms(window as i64);
        attempt += 1;
    }
    CounterValues {
        msgs_in: 0,
        msgs_out: 1,
        wire_in: 4,
        wire_out: 18,
        payload_in: 0,
        payload_out: 12,
        rtt_us: None,
        last_in_ms: None,
    }
}

/// A flaky session answered 503 with Retry-After: 30: the server's value sets every delay.
fn rejected(
    s: &mut Script,
    herd: DateTime<Utc>,
    now: DateTime<Utc>,
    hs: &Handshakes,
) -> CounterValues {
    s.spawn(herd, 2);
    let mut t = herd;
    let mut attempt = 1u32;
    while t <= now {
        let answered = s.attempt(attempt, t, &hs.rejected);
        let window = 1000u64 << (attempt - 1).min(6);
        let delay = Delay::RetryAfter(30_000);
        s.backoff(
            answered,
            attempt,
            Cause::Status { status: 503 },
            window,
            delay,
        );
        t = answered + ms(30_000);
        attempt += 1;
    }
    CounterValues::default()
}

/// A flaky session: open, dropped without a close frame (1006), open again after a short
/// backoff.
fn dropped(
    s: &mut Script,
    i: usize,
    herd: DateTime<Utc>,
    now: DateTime<Utc>,
    hs: &Handshakes,
) -> CounterValues {
    s.spawn(herd, 2);
    let opened = s.attempt(1, herd, &hs.deflate);
    let uptime = 8_200 + (i as u64 * 131) % 4_000;
    let dropped = opened + ms(uptime as i64);
    s.emit(
        dropped,
        EventKind::Closed(CloseInfo {
            code: 1006,
            reason: String::new(),
            initiator: Initiator::Local,
            clean: false,
            uptime_ms: Some(uptime),
            peer_code: None,
            why: None,
        }),
    );
    let delay = 500 + (i as u64 * 29) % 500;
    let jittered = Delay::Jitter(delay, Jitter::Equal);
    s.backoff(dropped, 1, Cause::Close { code: 1006 }, 1000, jittered);
    s.attempt(2, dropped + ms(delay as i64), &hs.deflate);
    let msgs = 3 + (i as u64 * 17) % 300;
    CounterValues {
        msgs_in: msgs,
        msgs_out: msgs,
        wire_in: msgs * 140,
        wire_out: msgs * 146,
        payload_in: msgs * 136,
        payload_out: msgs * 136,
        rtt_us: Some(1_500 + (i as u64 * 29) % 9_000),
        last_in_ms: Some(last_message(now, (i as u64 * 211) % 4_000)),
    }
}

/// A strict session: the server did not accept the required permessage-deflate, so wsmon
/// closes with 1010 and does not retry.
fn strict(s: &mut Script, herd: DateTime<Utc>, hs: &Handshakes) -> CounterValues {
    s.spawn(herd, 3);
    let opened = s.attempt(1, herd, &hs.strict);
    let code = 1010;
    s.emit(
        opened,
        EventKind::Closing {
            code,
            initiator: Initiator::Client,
        },
    );
    s.emit(
        opened + ms(2),
        EventKind::Closed(CloseInfo {
            code,
            reason: "permessage-deflate".to_string(),
            initiator: Initiator::Client,
            clean: true,
            uptime_ms: Some(2),
            peer_code: None,
            why: None,
        }),
    );
    s.emit(
        opened + ms(2),
        EventKind::Ended {
            cause: Some(Cause::Close { code }),
            why: "closed with 1010 Mandatory Extension: a retry does not fix a missing \
                  required extension"
                .to_string(),
        },
    );
    CounterValues::default()
}

/// A snapshot of `n` sessions over the four fixture targets at [`now`], built by the real
/// store from the events the sessions' tasks would have sent, with the store ticked once a
/// second as its task does (so the storm seconds are the store's own).
pub fn snapshot(n: usize) -> Snapshot {
    snapshot_with(n, false)
}

/// [`snapshot`] with message health (issue 20): every echo session has request/response
/// latencies (18-43 ms, five in the last five seconds), and one echo session in three went
/// stale 42 s ago after 3 s of silence (its server's last message 45 s ago).
pub fn health_snapshot(n: usize) -> Snapshot {
    snapshot_with(n, true)
}

/// The message-health events of echo session `i` (see [`health_snapshot`]), and whether it
/// went stale.
fn health_events(i: usize, now: DateTime<Utc>) -> (Vec<crate::engine::events::Event>, bool) {
    let session = i as SessionId + 1;
    let mut out: Vec<crate::engine::events::Event> = (0..5u64)
        .map(|k| crate::engine::events::Event {
            ts: now - ms(1000 * (5 - k as i64)),
            session,
            kind: EventKind::Latency {
                us: 18_000 + (i as u64 * 1_300 + k * 2_700) % 25_000,
                source: crate::engine::events::LatencySource::Rpc,
                step: 2,
            },
        })
        .collect();
    let stale = i.is_multiple_of(3);
    if stale {
        out.push(crate::engine::events::Event {
            ts: now - ms(42_000),
            session,
            kind: EventKind::Stale { silent_ms: 3_000 },
        });
    }
    (out, stale)
}

fn snapshot_with(n: usize, health: bool) -> Snapshot {
    let now = now();
    let hs = Handshakes {
        deflate: Arc::new(handshake_101(true)),
        strict: Arc::new(handshake_strict()),
        rejected: Arc::new(handshake_503()),
    };
    let exported = Arc::new(AtomicU64::new(1234));
    let mut store = Store::new(Some("/tmp/wsmon-demo.jsonl".to_string()), exported);
    let mut events = Vec::new();
    for i in 0..n {
        let (evs, mut c) = session(i, now, &hs);
        if health && kind_of(i) == 0 {
            let (more, stale) = health_events(i, now);
            if stale {
                c.last_in_ms = Some(last_message(now, 45_000));
            }
            events.extend(more);
        }
        store.register(i as SessionId + 1, counters(c));
        events.extend(evs);
    }
    // One stream in time order; a session's own events keep their order (stable sort).
    events.sort_by_key(|e| e.ts);
    // Seconds older than the storm window leave no trace: no need to tick through them.
    let mut second = events
        .first()
        .map_or(now.timestamp(), |e| e.ts.timestamp())
        .max(now.timestamp() - STORM_SECONDS as i64 - 1);
    let at = |sec: i64| Utc.timestamp_opt(sec, 0).single().unwrap_or(now);
    for ev in &events {
        while ev.ts.timestamp() > second {
            second += 1;
            store.tick(at(second));
        }
        store.apply(ev);
    }
    while second < now.timestamp() {
        second += 1;
        store.tick(at(second));
    }
    store.snapshot(now)
}

/// The events of [`snapshot`]'s `n` sessions, in time order (for a recording to replay).
pub fn events(n: usize) -> Vec<crate::engine::events::Event> {
    let now = now();
    let hs = Handshakes {
        deflate: Arc::new(handshake_101(true)),
        strict: Arc::new(handshake_strict()),
        rejected: Arc::new(handshake_503()),
    };
    let mut events = Vec::new();
    for i in 0..n {
        events.extend(session(i, now, &hs).0);
    }
    events.sort_by_key(|e| e.ts);
    events
}

/// A view state for tests: built-in registry, English, no color, title "demo", default keys.
pub fn view_state() -> crate::tui::view::ViewState {
    crate::tui::view::ViewState::new(
        crate::tui::keys::KeyMap::default(),
        crate::codes::Lang::En,
        false,
        "demo".to_string(),
        crate::tui::builtin_registry(),
    )
}

/// The text of a buffer, one string per row.
pub fn buffer_lines(buf: &ratatui::buffer::Buffer) -> Vec<String> {
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

/// Compare a rendered screen (from [`render`]) with the expected one, each line framed in
/// `|...|`. With `WSMON_SCREENS_DIR` set, the actual screen is also written there (to review a
/// change). For the whole-screen tests.
pub fn check_screen(name: &str, actual: &[String], expected: &str) {
    let actual: Vec<String> = actual.iter().map(|l| format!("|{l}|")).collect();
    if let Some(dir) = std::env::var_os("WSMON_SCREENS_DIR") {
        let path = std::path::Path::new(&dir).join(format!("{name}.txt"));
        std::fs::write(&path, actual.join("\n")).expect("write screen");
    }
    let expected: Vec<&str> = expected.trim_matches('\n').lines().collect();
    assert_eq!(
        actual.join("\n"),
        expected.join("\n"),
        "screen {name} differs"
    );
}

/// Draw `snap` as the loop would (order synced, cursor kept in view) on a `width` x `height`
/// test terminal and return the screen's text.
pub fn render(
    app: &mut crate::tui::app::App,
    snap: &Snapshot,
    width: u16,
    height: u16,
) -> Vec<String> {
    let backend = ratatui::backend::TestBackend::new(width, height);
    let Ok(mut terminal) = ratatui::Terminal::new(backend);
    app.prepare(snap, ratatui::layout::Rect::new(0, 0, width, height));
    let Ok(_) = terminal.draw(|f| crate::tui::ui::draw(f, snap, &app.view));
    buffer_lines(terminal.backend().buffer())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::events::SessionState;

    #[test]
    fn fifty_sessions_cover_every_state_and_the_storm_has_a_herd() {
        let snap = snapshot(50);
        for state in SessionState::ALL {
            assert!(
                snap.totals.by_state[state.index()] > 0,
                "no session is {}",
                state.as_str()
            );
        }
        assert!(snap.sessions.iter().any(|s| s.paused));
        assert_eq!(snap.now, now());
        assert!(snap.storm.lockstep.is_some_and(|l| l > 0.9));
        assert!(
            snap.storm
                .seconds
                .iter()
                .any(|s| s.closes.contains_key(&1013))
        );
    }
}
