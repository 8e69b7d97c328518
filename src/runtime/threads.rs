//! The async runtime wsmon runs on, and how its thread waits for work.
//!
//! **Which runtime.** Headless (`watch --headless`, `demo --headless`) one thread runs
//! everything: the sessions, the store, the status lines; there is no screen to draw, and a
//! second thread would only add the cost of waking it. With the TUI the screen is drawn on the
//! main thread while one worker runs the sessions and the store, so drawing never delays a
//! session's timers. `TOKIO_WORKER_THREADS=N` asks for N workers either way.
//!
//! **Resting between wake-ups.** 10,000 sessions on a feed of one message a second each see a
//! message every 100 µs: a thread that parks as soon as it has nothing to do is woken for almost
//! every one of them (2,500 context switches a second measured, a sixth of the client's CPU in
//! the kernel's task switch). Before it parks, a thread that parked less than [`REST`] ago
//! first rests for the remainder, then takes everything that arrived meanwhile in one go: at
//! most ~1,000 wake-ups a second while busy (about 900 measured), none added while idle. The price:
//! a message or timer waits at most [`REST`] longer, far below what the screen (10 frames a
//! second) or the export (events in order, flushed every second) can show.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// The shortest time between two parks of a busy thread.
pub const REST: Duration = Duration::from_millis(1);

/// A runtime builder for `headless` or TUI use, resting between wake-ups.
pub fn builder(headless: bool) -> tokio::runtime::Builder {
    let workers = std::env::var_os("TOKIO_WORKER_THREADS").is_some();
    let mut builder = if headless && !workers {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        // One worker: sessions are I/O bound, and a second worker mostly wakes up to find
        // nothing to steal (a storm cost twice the context switches).
        if !workers {
            b.worker_threads(1);
        }
        b
    };
    builder.on_thread_park(|| {
        thread_local!(static LAST_PARK: Cell<Option<Instant>> = const { Cell::new(None) });
        let now = Instant::now();
        if let Some(rest) = rest_before_park(LAST_PARK.get(), now) {
            std::thread::sleep(rest);
        }
        LAST_PARK.set(Some(Instant::now()));
    });
    builder
}

/// How long a thread about to park at `now` rests first, given when it last parked.
fn rest_before_park(last_park: Option<Instant>, now: Instant) -> Option<Duration> {
    let since = now.saturating_duration_since(last_park?);
    (since < REST).then(|| REST - since)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_woken_right_after_it_parked_rests_for_the_remainder() {
        let t0 = Instant::now();
        assert_eq!(
            rest_before_park(None, t0),
            None,
            "the first park waits at once"
        );
        assert_eq!(
            rest_before_park(Some(t0), t0 + Duration::from_micros(300)),
            Some(Duration::from_micros(700))
        );
        // Idle for longer than the rest: it parks at once.
        assert_eq!(
            rest_before_park(Some(t0), t0 + Duration::from_millis(5)),
            None
        );
        assert_eq!(rest_before_park(Some(t0), t0 + REST), None);
    }

    #[test]
    fn both_runtimes_run_tasks_and_timers() {
        for headless in [true, false] {
            let rt = builder(headless).enable_all().build().expect("runtime");
            let waited = rt.block_on(async {
                let t = tokio::spawn(async {
                    let start = Instant::now();
                    for _ in 0..5 {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                    start.elapsed()
                });
                t.await.expect("task")
            });
            assert!(waited >= Duration::from_millis(10), "{waited:?}");
        }
    }
}
