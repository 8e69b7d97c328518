//! Replay load and seek times on a generated 1,000,000-event log (10,000 sessions under 1013
//! storms with backoff). Not a timed test: run `cargo bench --bench replay` and read the table.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use rand::{Rng, SeedableRng, rngs::SmallRng};
use wsmon::engine::events::Event;
use wsmon::runtime::replay::{ReplayCursor, load};

#[path = "common/log.rs"]
mod log;
use log::{generate, ms};

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
