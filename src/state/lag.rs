//! How late events reach the store: for every event, the time from its timestamp (the moment
//! its session saw what it reports: a frame read, a close, a timeout) to the store applying it.
//! This is wsmon's own delay: what the screen, the summary and the gate see is that late. The
//! headless summary prints it, `message` events (`--record-messages`) apart from the others.
//!
//! A live session's frames go into the message log directly, at their timestamp (no lag); a
//! `message` event reaches the store only to be exported.

/// Bucket upper bounds, in µs: 0.1 ms steps to 1 ms, then coarser to 10 s.
const BOUNDS_US: [u64; 22] = [
    100,
    200,
    300,
    400,
    500,
    600,
    700,
    800,
    900,
    1_000,
    1_500,
    2_000,
    3_000,
    4_000,
    5_000,
    7_500,
    10_000,
    25_000,
    100_000,
    1_000_000,
    10_000_000,
    u64::MAX,
];

/// Lags of one kind of event, counted in buckets over the whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lag {
    counts: [u64; BOUNDS_US.len()],
    max_us: u64,
    total: u64,
}

impl Lag {
    /// One event that reached the store `us` µs after its timestamp (a timestamp from a clock
    /// that stepped back counts as 0).
    pub fn record(&mut self, us: u64) {
        let i = BOUNDS_US.partition_point(|b| *b < us);
        self.counts[i.min(BOUNDS_US.len() - 1)] += 1;
        self.max_us = self.max_us.max(us);
        self.total += 1;
    }

    /// Events counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The largest lag, µs.
    pub fn max_us(&self) -> u64 {
        self.max_us
    }

    /// The bucket bound that `q` (0..=1) of the events stayed within, µs (at most the largest
    /// lag seen); `None` before any event.
    pub fn quantile_us(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        let want = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
        let mut seen = 0;
        for (bound, n) in BOUNDS_US.iter().zip(self.counts) {
            seen += n;
            if seen >= want {
                return Some((*bound).min(self.max_us));
            }
        }
        Some(self.max_us)
    }
}

/// The store's lag, `message` events apart from the others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreLag {
    pub messages: Lag,
    pub events: Lag,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_bucket_bounds_within_the_largest_lag() {
        let mut lag = Lag::default();
        assert_eq!(lag.quantile_us(0.5), None);
        for us in 0..98 {
            lag.record(us * 10); // 0..=970 µs
        }
        lag.record(4_200);
        lag.record(12_000);
        assert_eq!(lag.total(), 100);
        assert_eq!(lag.quantile_us(0.5), Some(500));
        // 99 of 100 within 4.2 ms: the 5 ms bucket's bound.
        assert_eq!(lag.quantile_us(0.99), Some(5_000));
        assert_eq!(lag.quantile_us(1.0), Some(12_000), "at most the largest");
        assert_eq!(lag.max_us(), 12_000);
    }

    #[test]
    fn a_single_small_lag_is_not_rounded_up_past_itself() {
        let mut lag = Lag::default();
        lag.record(130);
        assert_eq!(lag.quantile_us(0.99), Some(130));
    }
}
