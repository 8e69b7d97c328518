//! Hand-built, realistic snapshots for screen tests and the render bench: sessions in every
//! state, handshakes with permessage-deflate, 1013 closes with timelines of doubling windows,
//! a 1010 that will not be retried, a 503 with Retry-After, and storm seconds.
//! Everything is computed from a fixed clock, so screens are reproducible.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::engine::counters::CounterValues;
use crate::engine::events::{
    Cause, CloseInfo, DelayKind, HandshakeInfo, Initiator, SessionState, Timings,
};
use crate::protocol::extensions::{Extension, Param};
use crate::state::snapshot::{
    AttemptRecord, LogEntry, Outcome, SecondSample, SessionView, Snapshot, StormView, TargetView,
    Totals,
};

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
        },
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
        },
        ..HandshakeInfo::default()
    }
}

/// A timeline of `n` attempts against an overloaded server: each attempt opens, the server
/// closes with 1013 after ~100 ms, and the window doubles from 1 s. Ends at `end`.
fn overload_timeline(n: u32, end: DateTime<Utc>, jitter_seed: u64) -> VecDeque<AttemptRecord> {
    // Walk backwards from `end` so the last attempt finishes just before it.
    let mut records = Vec::new();
    let mut t = end;
    for attempt in (1..=n).rev() {
        let uptime = 90 + (jitter_seed + u64::from(attempt) * 7) % 40;
        let started = t - ms(uptime as i64 + 3);
        let window = (attempt > 1).then(|| 1000u64 << (attempt - 2).min(6));
        let delay =
            window.map(|w| w / 2 + (w / 2) * ((jitter_seed + u64::from(attempt)) % 10) / 10);
        records.push(AttemptRecord {
            attempt,
            cause: (attempt > 1).then_some(Cause::Close { code: 1013 }),
            kind: (attempt > 1).then_some(DelayKind::Backoff),
            window_ms: window,
            delay_ms: delay,
            retry_after_ms: None,
            scheduled_at: delay.map(|d| started - ms(d as i64)),
            started_at: Some(started),
            outcome: Some(Outcome::Closed { code: 1013 }),
            uptime_ms: Some(uptime),
            ended_at: Some(started + ms(uptime as i64 + 3)),
            manual: false,
        });
        t = started - ms(delay.unwrap_or(0) as i64);
    }
    records.reverse();
    records.into()
}

/// The kinds of session the fixture mixes, by `i % 10`.
fn kind_of(i: usize) -> usize {
    match i % 10 {
        0..=4 => 0, // echo, open
        5..=7 => 1, // overload, waiting after 1013
        8 => 2,     // flaky: 1006 drops, or a 503 with Retry-After
        _ => 3,     // strict: 1010, not retried
    }
}

fn session(i: usize, now: DateTime<Utc>) -> (SessionView, CounterValues) {
    let id = i as u64 + 1;
    let kind = kind_of(i);
    let url: Arc<str> = Arc::from(TARGETS[kind]);
    let base = SessionView {
        state: SessionState::Open,
        attempt: 1,
        ..SessionView::new(id, kind, url, now)
    };
    let spread = (i as i64 * 7919) % 3_600_000;
    match kind {
        0 => {
            let opened = now - ms(60_000 + spread);
            let mut timeline = VecDeque::new();
            timeline.push_back(AttemptRecord {
                attempt: 1,
                cause: None,
                kind: None,
                window_ms: None,
                delay_ms: None,
                retry_after_ms: None,
                scheduled_at: None,
                started_at: Some(opened - ms(3)),
                outcome: Some(Outcome::Opened),
                uptime_ms: None,
                ended_at: None,
                manual: false,
            });
            let msgs = 10 + (i as u64 * 37) % 5000;
            let counters = CounterValues {
                msgs_in: msgs,
                msgs_out: msgs,
                wire_in: msgs * 61,
                wire_out: msgs * 67,
                payload_in: msgs * 180,
                payload_out: msgs * 180,
                rtt_us: Some(250 + (i as u64 * 13) % 2000),
            };
            let view = SessionView {
                state: if i % 50 == 4 {
                    SessionState::Connecting
                } else {
                    SessionState::Open
                },
                state_since: opened,
                opened_at: Some(opened),
                last_handshake: Some(Arc::new(handshake_101(true))),
                timeline,
                ..base
            };
            if view.state == SessionState::Connecting {
                let view = SessionView {
                    opened_at: None,
                    last_handshake: None,
                    state_since: now - ms(400),
                    ..view
                };
                return (view, CounterValues::default());
            }
            (view, counters)
        }
        1 => {
            let n = 3 + (i % 5) as u32;
            let end = now - ms(200 + (i as i64 * 37) % 900);
            let mut timeline = overload_timeline(n, end, i as u64);
            let next_window = 1000u64 << (n - 1).min(6);
            let next_delay = next_window / 2 + (i as u64 * 131) % (next_window / 2);
            let uptime_ms = timeline.back().and_then(|r| r.uptime_ms);
            // As the store does: the next attempt is in the timeline, scheduled, not started.
            timeline.push_back(AttemptRecord {
                attempt: n + 1,
                cause: Some(Cause::Close { code: 1013 }),
                kind: Some(DelayKind::Backoff),
                window_ms: Some(next_window),
                delay_ms: Some(next_delay),
                retry_after_ms: None,
                scheduled_at: Some(end),
                started_at: None,
                outcome: None,
                uptime_ms: None,
                ended_at: None,
                manual: false,
            });
            let close = CloseInfo {
                code: 1013,
                reason: "server overloaded, try later".to_string(),
                initiator: Initiator::Server,
                clean: true,
                uptime_ms,
            };
            let view = SessionView {
                state: SessionState::Waiting,
                state_since: end,
                attempt: n,
                paused: i % 40 == 25,
                last_handshake: Some(Arc::new(handshake_101(true))),
                last_close: Some(close),
                next_attempt_at: Some(end + ms(next_delay as i64)),
                timeline,
                ..base
            };
            let counters = CounterValues {
                msgs_in: 0,
                msgs_out: 1,
                wire_in: 4,
                wire_out: 18,
                payload_in: 0,
                payload_out: 12,
                rtt_us: None,
            };
            (view, counters)
        }
        2 if i % 20 == 8 => {
            let started = now - ms(4_000 + spread % 20_000);
            let record = AttemptRecord {
                attempt: 1,
                cause: None,
                kind: None,
                window_ms: None,
                delay_ms: None,
                retry_after_ms: None,
                scheduled_at: None,
                started_at: Some(started),
                outcome: Some(Outcome::Status { status: 503 }),
                uptime_ms: None,
                ended_at: None,
                manual: false,
            };
            // The server's Retry-After sets the delay.
            let pending = AttemptRecord {
                attempt: 2,
                cause: Some(Cause::Status { status: 503 }),
                kind: Some(DelayKind::Backoff),
                window_ms: Some(1000),
                delay_ms: Some(30_000),
                retry_after_ms: Some(30_000),
                scheduled_at: Some(started + ms(3)),
                started_at: None,
                outcome: None,
                uptime_ms: None,
                ended_at: None,
                manual: false,
            };
            let view = SessionView {
                state: SessionState::Waiting,
                state_since: started + ms(3),
                last_handshake: Some(Arc::new(handshake_503())),
                next_attempt_at: Some(started + ms(30_003)),
                timeline: VecDeque::from([record, pending]),
                ..base
            };
            (view, CounterValues::default())
        }
        2 => {
            let opened = now - ms(2_000 + spread % 50_000);
            let first = AttemptRecord {
                attempt: 1,
                cause: None,
                kind: None,
                window_ms: None,
                delay_ms: None,
                retry_after_ms: None,
                scheduled_at: None,
                started_at: Some(opened - ms(9_000)),
                outcome: Some(Outcome::Closed { code: 1006 }),
                uptime_ms: Some(8_200),
                ended_at: None,
                manual: false,
            };
            let second = AttemptRecord {
                attempt: 2,
                cause: Some(Cause::Close { code: 1006 }),
                kind: Some(DelayKind::Backoff),
                window_ms: Some(1000),
                delay_ms: Some(640),
                retry_after_ms: None,
                scheduled_at: Some(opened - ms(650)),
                started_at: Some(opened - ms(4)),
                outcome: Some(Outcome::Opened),
                uptime_ms: None,
                ended_at: None,
                manual: false,
            };
            let view = SessionView {
                state: SessionState::Open,
                state_since: opened,
                opened_at: Some(opened),
                attempt: 2,
                last_handshake: Some(Arc::new(handshake_101(true))),
                last_close: Some(CloseInfo {
                    code: 1006,
                    reason: String::new(),
                    initiator: Initiator::Local,
                    clean: false,
                    uptime_ms: Some(8_200),
                }),
                timeline: VecDeque::from([first, second]),
                ..base
            };
            let msgs = 3 + (i as u64 * 17) % 300;
            let counters = CounterValues {
                msgs_in: msgs,
                msgs_out: msgs,
                wire_in: msgs * 140,
                wire_out: msgs * 146,
                payload_in: msgs * 136,
                payload_out: msgs * 136,
                rtt_us: Some(1_500 + (i as u64 * 29) % 9_000),
            };
            (view, counters)
        }
        _ => {
            let started = now - ms(30_000 + spread % 300_000);
            let record = AttemptRecord {
                attempt: 1,
                cause: None,
                kind: None,
                window_ms: None,
                delay_ms: None,
                retry_after_ms: None,
                scheduled_at: None,
                started_at: Some(started),
                outcome: Some(Outcome::Closed { code: 1010 }),
                uptime_ms: Some(2),
                ended_at: None,
                manual: false,
            };
            let view = SessionView {
                state: SessionState::Closed,
                state_since: started + ms(5),
                last_handshake: Some(Arc::new(handshake_strict())),
                last_close: Some(CloseInfo {
                    code: 1010,
                    reason: "permessage-deflate".to_string(),
                    initiator: Initiator::Client,
                    clean: true,
                    uptime_ms: Some(2),
                }),
                ended_why: Some(
                    "closed with 1010 Mandatory Extension: a retry does not fix a missing \
                     required extension"
                        .to_string(),
                ),
                timeline: VecDeque::from([record]),
                ..base
            };
            (view, CounterValues::default())
        }
    }
}

/// The storm series: two minutes with a retry herd every few seconds against the overload
/// target (in step, so the lockstep index is high) and a few 1006 drops.
fn storm(now: DateTime<Utc>, sessions: usize) -> StormView {
    let overload = (sessions * 3).div_ceil(10) as u64;
    let mut seconds = VecDeque::new();
    let end = now.timestamp();
    for k in 0..120i64 {
        let second = end - 120 + k;
        let herd = k % 8 == 0 || k % 8 == 1;
        let attempts = if herd {
            overload / 2 + 3
        } else {
            1 + (k as u64 % 3)
        };
        let mut closes = BTreeMap::new();
        closes.insert(1013, if herd { overload / 2 } else { k as u64 % 2 });
        if k % 15 == 7 {
            closes.insert(1006, 2);
        }
        if k == 3 {
            closes.insert(1010, (sessions / 10) as u64);
        }
        closes.retain(|_, v| *v > 0);
        let open = (sessions / 2) as u64 + (k as u64 % 5);
        seconds.push_back(SecondSample {
            second,
            attempts,
            closes,
            open,
            waiting: overload,
            connecting: if herd { overload / 2 } else { 1 },
            lockstep: herd.then_some(0.86),
        });
    }
    let attempts_per_sec = seconds.back().map_or(0.0, |s| s.attempts as f64);
    let verdict = crate::state::storm::verdict(seconds.iter().rev().take(10).map(|s| {
        let share = s.lockstep.unwrap_or(1.0 / s.attempts.max(1) as f64);
        (s.attempts, (share * s.attempts as f64).round() as u64)
    }));
    StormView {
        seconds,
        attempts_per_sec,
        lockstep: Some(0.82),
        forecast: [overload / 6, overload / 2, overload],
        verdict,
        jitter: Some(crate::engine::events::Jitter::Full),
    }
}

/// A snapshot of `n` sessions over the four fixture targets, at [`now`].
pub fn snapshot(n: usize) -> Snapshot {
    let now = now();
    let mut sessions = Vec::with_capacity(n);
    let mut counters = Vec::with_capacity(n);
    let mut totals = Totals::default();
    let mut targets: Vec<TargetView> = TARGETS
        .iter()
        .map(|u| TargetView {
            url: (*u).to_string(),
            sessions: 0,
        })
        .collect();
    for i in 0..n {
        let (view, c) = session(i, now);
        totals.by_state[view.state.index()] += 1;
        totals.attempts += u64::from(view.attempt);
        for r in &view.timeline {
            match r.outcome {
                Some(Outcome::Closed { code }) => {
                    *totals.closes_by_code.entry(code).or_default() += 1;
                    *totals.statuses.entry(101).or_default() += 1;
                }
                Some(Outcome::Opened) => *totals.statuses.entry(101).or_default() += 1,
                Some(Outcome::Status { status }) => {
                    *totals.statuses.entry(status).or_default() += 1;
                }
                Some(Outcome::Error { kind }) => *totals.errors.entry(kind).or_default() += 1,
                None => {}
            }
        }
        if let Some(h) = &view.last_handshake {
            let key = h
                .accepted
                .iter()
                .map(crate::tui::ui::format::extension)
                .collect::<Vec<_>>()
                .join(", ");
            *totals.negotiated.entry(key).or_default() += 1;
        }
        totals.max_backoff_attempt = totals.max_backoff_attempt.max(
            view.timeline
                .back()
                .map_or(0, |r| r.attempt.saturating_sub(1)),
        );
        if let Some(t) = targets.get_mut(view.target) {
            t.sessions += 1;
        }
        sessions.push(Arc::new(view));
        counters.push(c);
    }
    let events = Arc::new(events(&sessions));
    Snapshot {
        now,
        generation: 42,
        targets,
        sessions,
        counters,
        totals,
        storm: storm(now, n),
        export_path: Some("/tmp/wsmon-demo.jsonl".to_string()),
        exported_events: 1234,
        events,
    }
}

/// The event log of the fixture sessions, from their timelines: attempts, their outcomes and
/// the backoffs scheduled, newest last.
fn events(sessions: &[Arc<SessionView>]) -> VecDeque<LogEntry> {
    let mut out: Vec<LogEntry> = Vec::new();
    for s in sessions {
        let entry =
            |ts: DateTime<Utc>, event: &'static str, what: String, detail: String| LogEntry {
                ts,
                session: s.id,
                target: s.target,
                event,
                what,
                detail,
                code: None,
            };
        for r in &s.timeline {
            if let (Some(at), Some(delay)) = (r.scheduled_at, r.delay_ms) {
                out.push(entry(
                    at,
                    "backoff",
                    format!("wait {}", crate::tui::ui::format::duration_ms(delay)),
                    format!(
                        "window {}",
                        crate::tui::ui::format::duration_ms(r.window_ms.unwrap_or(0))
                    ),
                ));
            }
            let Some(start) = r.started_at else { continue };
            out.push(entry(
                start,
                "connecting",
                format!("attempt {}", r.attempt),
                String::new(),
            ));
            let end = r
                .ended_at
                .unwrap_or(start + ms(r.uptime_ms.unwrap_or(0) as i64));
            match r.outcome {
                Some(Outcome::Opened) => {
                    out.push(entry(
                        start + ms(2),
                        "open",
                        format!("attempt {}", r.attempt),
                        String::new(),
                    ));
                }
                Some(Outcome::Closed { code }) => {
                    let reason = s
                        .last_close
                        .as_ref()
                        .map_or(String::new(), |c| c.reason.clone());
                    let mut e = entry(end, "closed", code.to_string(), reason);
                    e.code = Some(code);
                    out.push(e);
                }
                Some(Outcome::Status { status }) => {
                    out.push(entry(
                        end,
                        "handshake",
                        format!("HTTP {status}"),
                        "Service Unavailable".into(),
                    ));
                }
                Some(Outcome::Error { kind }) => {
                    out.push(entry(
                        end,
                        "error",
                        kind.as_str().to_string(),
                        String::new(),
                    ));
                }
                None => {}
            }
        }
    }
    // An attempt's end comes before the backoff decided at the same instant.
    out.sort_by_key(|e| (e.ts, e.session, e.event == "backoff"));
    let skip = out
        .len()
        .saturating_sub(crate::state::snapshot::EVENT_LOG_LEN);
    out.into_iter().skip(skip).collect()
}

/// A view state for tests: built-in registry, English, no color, title "demo", default keys.
pub fn view_state() -> crate::tui::view::ViewState {
    crate::tui::view::ViewState::new(
        crate::tui::keys::KeyMap::default(),
        crate::codes::Lang::En,
        false,
        "demo".to_string(),
        crate::codes::Registry::builtin(),
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
