//! Render cost with 10,000 sessions on a 200x50 `TestBackend`: the main screen and the storm view
//! (the steady state: the order is cached), plus the cost of re-sorting when a new snapshot
//! arrives. Prints mean / p50 / p99 per frame. Run with `cargo bench --bench render`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use wsmon::state::snapshot::Snapshot;
use wsmon::tui::app::App;
use wsmon::tui::view::{Column, Tab};
use wsmon::tui::{fixtures, ui};

const SESSIONS: usize = 10_000;
const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;
const WARMUP: usize = 20;
const ITERATIONS: usize = 500;

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let n = samples.len();
    let total: Duration = samples.iter().sum();
    let mean = total / u32::try_from(n).unwrap_or(u32::MAX).max(1);
    let pct = |p: f64| samples[((n as f64 * p).ceil() as usize).clamp(1, n) - 1];
    println!(
        "{name:<40} n={n:<4} mean {:>8.3} ms   p50 {:>8.3} ms   p99 {:>8.3} ms",
        mean.as_secs_f64() * 1e3,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
}

/// Time `ITERATIONS` frames of `app` over `snap` (after a warm-up).
fn frames(app: &mut App, snap: &Snapshot) -> Vec<Duration> {
    let Ok(mut terminal) = Terminal::new(TestBackend::new(WIDTH, HEIGHT));
    let area = ratatui::layout::Rect::new(0, 0, WIDTH, HEIGHT);
    let mut out = Vec::with_capacity(ITERATIONS);
    for i in 0..WARMUP + ITERATIONS {
        // Move the selection so the visible window changes like a user scrolling.
        app.view.select_position(snap, (i * 37) % SESSIONS);
        let start = Instant::now();
        app.prepare(snap, area);
        let Ok(_) = terminal.draw(|f| ui::draw(f, snap, &app.view));
        black_box(terminal.backend().buffer());
        if i >= WARMUP {
            out.push(start.elapsed());
        }
    }
    out
}

fn main() {
    let snap = Arc::new(fixtures::snapshot(SESSIONS));

    let mut app = App::new(fixtures::view_state());
    report("main screen, 10k sessions, 200x50", frames(&mut app, &snap));

    let mut app = App::new(fixtures::view_state());
    app.view.tab = Tab::Storm;
    report("storm view, 10k sessions, 200x50", frames(&mut app, &snap));

    let mut app = App::new(fixtures::view_state());
    app.view.tab = Tab::Targets;
    report(
        "targets view, 10k sessions, 200x50",
        frames(&mut app, &snap),
    );

    let mut app = App::new(fixtures::view_state());
    app.view.detail = Some(7);
    report("session detail, 200x50", frames(&mut app, &snap));

    // A new snapshot every frame (a new generation) forces the filtered+sorted order to be
    // recomputed: the worst case, at most --fps times a second.
    let mut app = App::new(fixtures::view_state());
    app.view.sort = Column::Uptime;
    app.view.descending = true;
    let mut snapshots: Vec<Snapshot> = (0..4)
        .map(|g| {
            let mut s = (*snap).clone();
            s.generation = 1000 + g;
            s
        })
        .collect();
    let Ok(mut terminal) = Terminal::new(TestBackend::new(WIDTH, HEIGHT));
    let area = ratatui::layout::Rect::new(0, 0, WIDTH, HEIGHT);
    let mut samples = Vec::with_capacity(ITERATIONS);
    for i in 0..WARMUP + ITERATIONS {
        let k = i % snapshots.len();
        snapshots[k].generation += 4;
        let s = &snapshots[k];
        let start = Instant::now();
        app.prepare(s, area);
        let Ok(_) = terminal.draw(|f| ui::draw(f, s, &app.view));
        black_box(terminal.backend().buffer());
        if i >= WARMUP {
            samples.push(start.elapsed());
        }
    }
    report("main screen + re-sort by uptime (new gen)", samples);

    app.view.filter = "try again".to_string();
    let mut samples = Vec::with_capacity(ITERATIONS / 5);
    for i in 0..ITERATIONS / 5 {
        let k = i % snapshots.len();
        snapshots[k].generation += 4;
        let s = &snapshots[k];
        let start = Instant::now();
        app.prepare(s, area);
        let Ok(_) = terminal.draw(|f| ui::draw(f, s, &app.view));
        black_box(terminal.backend().buffer());
        samples.push(start.elapsed());
    }
    report("main screen + text filter (new gen)", samples);
}
