//! Handshake slots: at most `max_connecting` attempts between TCP connect and the upgrade
//! answer, and an optional ramp that paces sessions' first attempts.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::engine::counters::EngineGauges;

/// Default for `--max-connecting`. Enough to open 10,000 sessions on loopback as fast as 256
/// (about a second) with half the handshake time; with one worker, fewer attempts in flight
/// also keep retries due during a herd on schedule (a 10,000-session storm's lag p99 went from
/// about 60 ms to about 14 ms going from 256 to 128). Raise it for far servers: N in flight
/// allow at most N / RTT handshakes a second.
pub const DEFAULT_MAX_CONNECTING: usize = 128;

/// The slot limit and the ramp, shared by every session.
#[derive(Debug)]
pub struct Slots {
    sem: Arc<Semaphore>,
    /// Time between two first attempts (`--ramp RATE` = 1/RATE s); `None`: no pacing.
    spacing: Option<Duration>,
    next_first: Mutex<Option<Instant>>,
    gauges: Arc<EngineGauges>,
}

/// A held handshake slot (dropping it frees the slot) and how long it took to get.
#[derive(Debug)]
pub struct Slot {
    pub permit: Option<OwnedSemaphorePermit>,
    pub waited: Duration,
}

/// Counts one waiting session while alive (also when the wait is cancelled).
struct Waiting<'a>(&'a EngineGauges);

impl<'a> Waiting<'a> {
    fn new(g: &'a EngineGauges) -> Self {
        g.waiting_for_slot.fetch_add(1, Ordering::Relaxed);
        Waiting(g)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting_for_slot.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Slots {
    /// `max_connecting` slots (at least 1); `ramp`: first attempts per second.
    pub fn new(max_connecting: usize, ramp: Option<f64>, gauges: Arc<EngineGauges>) -> Self {
        let spacing = ramp
            .filter(|r| r.is_finite() && *r > 0.0)
            .map(|r| Duration::from_secs_f64(1.0 / r));
        Slots {
            sem: Arc::new(Semaphore::new(
                max_connecting.clamp(1, Semaphore::MAX_PERMITS),
            )),
            spacing,
            next_first: Mutex::new(None),
            gauges,
        }
    }

    pub fn gauges(&self) -> &Arc<EngineGauges> {
        &self.gauges
    }

    /// When the next first attempt may start (and book the one after it).
    fn book_first(&self) -> Option<Instant> {
        let spacing = self.spacing?;
        let now = Instant::now();
        let mut next = self
            .next_first
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let at = next.map_or(now, |n| n.max(now));
        *next = Some(at + spacing);
        Some(at)
    }

    /// Wait for the ramp (first attempts only) and a free slot. Retries take a free slot at
    /// once and wait only when all are taken.
    pub async fn take(&self, first: bool) -> Slot {
        let t0 = Instant::now();
        let mut waiting = None;
        if first
            && let Some(at) = self.book_first()
            && at > t0
        {
            waiting = Some(Waiting::new(&self.gauges));
            tokio::time::sleep_until(at).await;
        }
        let permit = match self.sem.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => {
                waiting.get_or_insert_with(|| Waiting::new(&self.gauges));
                // The semaphore is never closed; if it were, go without a slot.
                self.sem.clone().acquire_owned().await.ok()
            }
        };
        drop(waiting);
        Slot {
            permit,
            waited: t0.elapsed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_ramp_spaces_first_attempts_and_not_retries() {
        let slots = Arc::new(Slots::new(1000, Some(4.0), Arc::default()));
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let s = slots.clone();
            tasks.push(tokio::spawn(async move {
                let slot = s.take(true).await;
                (Instant::now() - t0, slot.waited)
            }));
        }
        let mut starts = Vec::new();
        for t in tasks {
            starts.push(t.await.expect("task").0);
        }
        starts.sort();
        for (i, at) in starts.iter().enumerate() {
            assert_eq!(*at, Duration::from_millis(250 * i as u64), "{starts:?}");
        }
        let retry = slots.take(false).await;
        assert_eq!(retry.waited, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_limit_makes_the_next_one_wait_and_counts_it() {
        let slots = Arc::new(Slots::new(2, None, Arc::default()));
        let a = slots.take(false).await;
        let _b = slots.take(true).await;
        let s = slots.clone();
        let third = tokio::spawn(async move { s.take(false).await.waited });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            slots.gauges().waiting_for_slot.load(Ordering::Relaxed),
            1,
            "one session waits for a slot"
        );
        drop(a);
        let waited = third.await.expect("task");
        assert_eq!(waited, Duration::from_millis(300));
        assert_eq!(slots.gauges().waiting_for_slot.load(Ordering::Relaxed), 0);
    }
}
