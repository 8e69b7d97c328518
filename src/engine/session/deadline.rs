//! The one timer of an open connection's loop: the earliest of its deadlines (the closing
//! handshake's end, the conversation's next step, the stale threshold), kept across loop turns.
//!
//! Building a `Sleep` for each deadline on every turn cost 10,000 sessions on a feed a timer
//! built and dropped three times per message. This one is made once per connection (when a
//! deadline first exists) and moved only when a deadline comes *earlier* than it is set for; a
//! deadline that moved later (the stale threshold, pushed back by every message) lets it fire
//! early, and the loop then finds nothing due and aims it again: one wake-up per threshold
//! instead of a timer reset per message.

use std::pin::Pin;

use tokio::time::{Instant, Sleep};

#[derive(Default)]
pub(super) struct Deadline {
    sleep: Option<Pin<Box<Sleep>>>,
    /// When it fires; `None`: disarmed (nothing to wait for, or it fired).
    at: Option<Instant>,
}

impl Deadline {
    /// Wait for `next` (the earliest deadline now), unless it is already set to fire earlier.
    pub(super) fn aim(&mut self, next: Option<Instant>) {
        let Some(next) = next else {
            // Nothing to wait for: a timer still set only costs one early wake-up, but it is
            // not polled any more.
            self.at = None;
            return;
        };
        if self.at.is_some_and(|at| at <= next) {
            return;
        }
        match &mut self.sleep {
            Some(sleep) => sleep.as_mut().reset(next),
            None => self.sleep = Some(Box::pin(tokio::time::sleep_until(next))),
        }
        self.at = Some(next);
    }

    /// Whether it waits for something.
    pub(super) fn armed(&self) -> bool {
        self.at.is_some()
    }

    /// Until it fires (never, when disarmed); then it is disarmed until aimed again.
    pub(super) async fn fired(&mut self) {
        match (&mut self.sleep, self.at) {
            (Some(sleep), Some(_)) => {
                sleep.as_mut().await;
                self.at = None;
            }
            _ => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn it_fires_at_the_earliest_deadline_and_an_earlier_one_moves_it() {
        let t0 = Instant::now();
        let mut d = Deadline::default();
        assert!(!d.armed());
        d.aim(Some(t0 + Duration::from_secs(5)));
        d.aim(Some(t0 + Duration::from_secs(2)));
        assert!(d.armed());
        d.fired().await;
        assert_eq!(Instant::now() - t0, Duration::from_secs(2));
        assert!(!d.armed(), "disarmed once fired");
    }

    #[tokio::test(start_paused = true)]
    async fn a_later_deadline_keeps_the_earlier_wake_up() {
        let t0 = Instant::now();
        let mut d = Deadline::default();
        d.aim(Some(t0 + Duration::from_secs(3)));
        // The stale threshold moved later (a message came): the timer still fires at 3 s, and
        // the loop, finding nothing due, aims it at the new deadline.
        d.aim(Some(t0 + Duration::from_secs(8)));
        d.fired().await;
        assert_eq!(Instant::now() - t0, Duration::from_secs(3));
        d.aim(Some(t0 + Duration::from_secs(8)));
        d.fired().await;
        assert_eq!(Instant::now() - t0, Duration::from_secs(8));
    }

    #[tokio::test(start_paused = true)]
    async fn with_nothing_to_wait_for_it_never_fires() {
        let mut d = Deadline::default();
        d.aim(Some(Instant::now() + Duration::from_secs(1)));
        d.aim(None);
        assert!(!d.armed());
        let waited = tokio::time::timeout(Duration::from_secs(60), d.fired()).await;
        assert!(waited.is_err(), "a disarmed timer does not fire");
    }
}
