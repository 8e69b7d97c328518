//! The message inspector's search across sessions (`S`): 10,000 sessions with full logs (200
//! entries each, ~200-byte JSON payloads, the default caps), one search per pattern, timed
//! end to end (the lock taken per session to copy handles, matching outside it, the newest
//! 1000 hits kept). Also the Messages view's frame time on one full log. Prints the numbers.
//! Run with `cargo bench --bench search`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use wsmon::engine::events::{Direction, MessageRecord, Opcode};
use wsmon::state::messages::{LogCaps, MessageLogs};
use wsmon::tui::app::App;
use wsmon::tui::inspect::{self, Inspector, SEARCH_LIMIT};
use wsmon::tui::{fixtures, ui};

const SESSIONS: u64 = 10_000;
const PER_SESSION: u64 = 200;
const RUNS: usize = 5;

fn payload(s: u64, k: u64) -> Vec<u8> {
    let mut p = format!(
        r#"{{"type":"tick","session":{s},"seq":{k},"symbol":"SYM{}","price":{}.{:02},"qty":{},"order":"order-{}-{k}","note":""#,
        (s * 7 + k) % 500,
        (s + k) % 100,
        (s * 13 + k) % 100,
        (k * 3) % 1000,
        s
    );
    while p.len() < 196 {
        p.push('x');
    }
    p.push_str("\"}");
    p.into_bytes()
}

fn fill() -> MessageLogs {
    let logs = MessageLogs::new(LogCaps::default());
    let t0 = fixtures::now() - chrono::Duration::seconds(PER_SESSION as i64);
    for s in 1..=SESSIONS {
        for k in 0..PER_SESSION {
            let p = payload(s, k);
            let ts: DateTime<Utc> =
                t0 + chrono::Duration::milliseconds((k * 1000 + s % 1000) as i64);
            logs.push(
                s,
                ts,
                Arc::new(MessageRecord {
                    dir: if k % 2 == 0 {
                        Direction::In
                    } else {
                        Direction::Out
                    },
                    opcode: Opcode::Text,
                    wire_size: p.len() as u64,
                    size: p.len() as u64,
                    rsv1: false,
                    payload: p,
                }),
            );
        }
    }
    logs
}

fn time_search(logs: &MessageLogs, pattern: &str) {
    let Ok(re) = inspect::compile(pattern) else {
        println!("bad pattern {pattern}");
        return;
    };
    let mut samples = Vec::new();
    let mut found = inspect::Found::default();
    for _ in 0..RUNS {
        let start = Instant::now();
        found = black_box(inspect::search(logs, &re, SEARCH_LIMIT));
        samples.push(start.elapsed());
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "search {pattern:<34} {:>8} entries  {:>8} matches  best {:>7.1} ms  median {:>7.1} ms  worst {:>7.1} ms",
        found.entries,
        found.total,
        ms(samples[0]),
        ms(samples[RUNS / 2]),
        ms(samples[RUNS - 1]),
    );
}

fn main() {
    let start = Instant::now();
    let logs = fill();
    let (entries, bytes) = {
        let l = logs.lock();
        l.sessions.values().fold((0, 0), |(e, b), log| {
            (e + log.entries().len(), b + log.bytes())
        })
    };
    println!(
        "filled {SESSIONS} sessions: {entries} entries, {} MiB of payload, in {:.1} s",
        bytes / (1024 * 1024),
        start.elapsed().as_secs_f64()
    );
    time_search(&logs, "order-4242-17\"");
    time_search(&logs, r#""price":9\d\.\d+"#);
    time_search(&logs, "tick");
    time_search(&logs, "no such text");

    // The Messages view of one full session, following the newest, on 200x50.
    let mut snap = fixtures::snapshot(50);
    snap.messages = logs.clone();
    let mut app = App::new(fixtures::view_state());
    app.view.inspect = Some(Inspector::new(7));
    let Ok(mut terminal) = Terminal::new(TestBackend::new(200, 50));
    let area = ratatui::layout::Rect::new(0, 0, 200, 50);
    let mut samples = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        app.prepare(&snap, area);
        let Ok(_) = terminal.draw(|f| ui::draw(f, &snap, &app.view));
        black_box(terminal.backend().buffer());
        samples.push(t.elapsed());
    }
    samples.sort();
    println!(
        "messages view, one full log (200 entries), 200x50: p50 {:.3} ms  p99 {:.3} ms",
        samples[100].as_secs_f64() * 1e3,
        samples[197].as_secs_f64() * 1e3
    );
}
