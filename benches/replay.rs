//! Replay load and seek times on a generated 1,000,000-event log (10,000 sessions under 1013
//! storms with backoff). Not a timed test: run `cargo bench --bench replay` and read the table.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use rand::{Rng, SeedableRng, rngs::SmallRng};
use wsmon::engine::events::{
    BackoffInfo, Cause, CloseInfo, DelayKind, Event, EventKind, HandshakeInfo, Initiator, Jitter,
};
use wsmon::export::ExportWriter;
use wsmon::runtime::replay::{ReplayCursor, load};

const SESSIONS: u64 = 10_000;
const EVENTS: usize = 1_000_000;

/// Sessions connect, most are closed with 1013 and back off (full jitter, 1 s base, 60 s cap);
/// every 2 minutes a storm closes most open sessions at once.
fn generate(path: &std::path::Path) -> usize {
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
            },
        );
        emit(&mut events, ms + 2, s, EventKind::Handshaking { attempt });
        emit(&mut events, ms + 4, s, hs(101));
        emit(&mut events, ms + 5, s, EventKind::Open { attempt });
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

fn ms(d: Duration) -> String {
    format!("{:>9.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.jsonl");
    let t = Instant::now();
    let written = generate(&path);
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "generated {written} events ({:.0} MB) in {:.1} s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let rec = load(&path).expect("load");
    let parse = t.elapsed();
    let n = rec.events.len();
    let rec = Arc::new(rec);
    let t = Instant::now();
    let mut cursor = ReplayCursor::new(rec.clone());
    let index = t.elapsed();
    let (a, b) = cursor.bounds().expect("events");
    println!(
        "{n} events over {:.0} s, {} checkpoints, Event is {} bytes in the index",
        (b - a).num_seconds(),
        cursor.checkpoints_len(),
        std::mem::size_of::<Event>()
    );
    println!("{:<28}{}", "parse (load)", ms(parse));
    println!("{:<28}{}", "index (store pass, checkpoints)", ms(index));
    println!("{:<28}{}", "load total", ms(parse + index));
    let span = (b - a).num_milliseconds();
    let mut rng = SmallRng::seed_from_u64(3);
    let seek = |label: &str, at: DateTime<Utc>, cursor: &mut ReplayCursor| {
        let t = Instant::now();
        cursor.seek(at);
        let snap = cursor.snapshot();
        let d = t.elapsed();
        println!(
            "{label:<28}{}  ({} sessions, {} events applied)",
            ms(d),
            snap.sessions.len(),
            cursor.position()
        );
        d
    };
    let mut worst = Duration::ZERO;
    worst = worst.max(seek("seek end", b, &mut cursor));
    worst = worst.max(seek("seek start", a, &mut cursor));
    worst = worst.max(seek(
        "seek middle",
        a + TimeDelta::milliseconds(span / 2),
        &mut cursor,
    ));
    for i in 0..5 {
        let at = a + TimeDelta::milliseconds(rng.random_range(0..=span));
        worst = worst.max(seek(&format!("seek random #{}", i + 1), at, &mut cursor));
    }
    let t = Instant::now();
    cursor.seek(a);
    let mut steps = 0;
    while !cursor.play_tick(
        wsmon::runtime::replay::Speed::X100,
        Duration::from_millis(100),
    ) && steps < 200
    {
        let _ = cursor.snapshot();
        steps += 1;
    }
    println!("{:<28}{}", "play x100, 200 frames", ms(t.elapsed()));
    println!("{:<28}{}", "worst seek", ms(worst));
    let _ = std::io::stdout().flush();
}
