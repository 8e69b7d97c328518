//! Reconnect-storm metrics over a rolling window at 1 s resolution: attempts per second, closes
//! per second by code, open / waiting / connecting sessions per second, the lockstep index, and
//! a forecast of retries already scheduled.
//!
//! The **lockstep index** of a second is the share of its attempts that fall in its busiest
//! 100 ms (a sliding 100 ms window at 10 ms resolution, so a herd that straddles a slice
//! boundary still counts as one herd): 1.0 means every client reconnected at the same instant,
//! about 0.1 means the attempts were spread evenly. Seconds with fewer than
//! [`LOCKSTEP_MIN_ATTEMPTS`] attempts have none.
//!
//! Memory is bounded: one fixed-size bucket per second for `STORM_SECONDS` + 1 seconds
//! (about 0.3 MB in all). Events may arrive out of order; anything still inside the window lands
//! in its own second, anything older is counted in [`StormTracker::dropped`].

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};

use super::snapshot::{STORM_SECONDS, SecondSample, StormView};

/// A second needs at least this many attempts to have a lockstep index.
pub const LOCKSTEP_MIN_ATTEMPTS: u64 = 5;
/// The smoothed lockstep index covers this many recent completed seconds.
pub const LOCKSTEP_RECENT_SECONDS: i64 = 10;
/// Forecast horizons, in seconds (matches `StormView::forecast`).
pub const FORECAST_SECONDS: [i64; 3] = [1, 5, 30];

/// Resolution of the per-second attempt histogram.
const SLOT_MS: u32 = 10;
const SLOTS: usize = 1000 / SLOT_MS as usize;
/// 100 ms expressed in slots.
const SLICE_SLOTS: usize = 100 / SLOT_MS as usize;
/// Completed seconds kept, plus the second in progress.
const KEEP: usize = STORM_SECONDS + 1;

#[derive(Debug, Clone)]
struct Bucket {
    second: i64,
    attempts: u64,
    /// Attempts per 10 ms slot of this second.
    hist: [u32; SLOTS],
    closes: BTreeMap<u16, u64>,
    open: u64,
    waiting: u64,
    connecting: u64,
}

impl Bucket {
    fn new(second: i64, open: u64, waiting: u64, connecting: u64) -> Self {
        Bucket {
            second,
            attempts: 0,
            hist: [0; SLOTS],
            closes: BTreeMap::new(),
            open,
            waiting,
            connecting,
        }
    }

    /// Attempts in the busiest 100 ms window of this second.
    fn busiest_slice(&self) -> u64 {
        let mut sum: u64 = self.hist[..SLICE_SLOTS].iter().map(|&n| u64::from(n)).sum();
        let mut best = sum;
        for i in SLICE_SLOTS..SLOTS {
            sum += u64::from(self.hist[i]);
            sum -= u64::from(self.hist[i - SLICE_SLOTS]);
            best = best.max(sum);
        }
        best
    }

    fn lockstep(&self) -> Option<f64> {
        (self.attempts >= LOCKSTEP_MIN_ATTEMPTS)
            .then(|| self.busiest_slice() as f64 / self.attempts as f64)
    }

    fn sample(&self) -> SecondSample {
        SecondSample {
            second: self.second,
            attempts: self.attempts,
            closes: self.closes.clone(),
            open: self.open,
            waiting: self.waiting,
            connecting: self.connecting,
            lockstep: self.lockstep(),
        }
    }
}

/// Rolling per-second storm metrics. Owned by the store; fed with every attempt and close,
/// ticked with the session gauges, read with [`StormTracker::view`].
#[derive(Debug, Clone, Default)]
pub struct StormTracker {
    /// Contiguous seconds, oldest first; the last one may still be in progress.
    buckets: VecDeque<Bucket>,
    /// Events older than the window (or otherwise unplaceable) that were not counted.
    dropped: u64,
}

impl StormTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// A connection attempt started at `ts`.
    pub fn record_attempt(&mut self, ts: DateTime<Utc>) {
        // Leap seconds report up to 1999 ms; clamp into the last slot.
        let ms = ts.timestamp_subsec_millis().min(999);
        let slot = (ms / SLOT_MS) as usize;
        match self.bucket_mut(ts.timestamp()) {
            Some(b) => {
                b.attempts += 1;
                b.hist[slot] = b.hist[slot].saturating_add(1);
            }
            None => self.dropped += 1,
        }
    }

    /// A connection closed with `code` at `ts`.
    pub fn record_close(&mut self, ts: DateTime<Utc>, code: u16) {
        match self.bucket_mut(ts.timestamp()) {
            Some(b) => *b.closes.entry(code).or_insert(0) += 1,
            None => self.dropped += 1,
        }
    }

    /// Record the session gauges at `now` (the latest tick within a second wins) and move the
    /// window forward: every second before `now`'s is complete. Seconds without a tick carry
    /// the previous gauges forward.
    pub fn tick(&mut self, now: DateTime<Utc>, open: u64, waiting: u64, connecting: u64) {
        if let Some(b) = self.bucket_mut(now.timestamp()) {
            b.open = open;
            b.waiting = waiting;
            b.connecting = connecting;
        }
    }

    /// Events that were too old to place in the window.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The metrics as of `now`. `next_attempts` yields the `next_attempt_at` of every waiting
    /// session (one pass, three comparisons each: cheap at 10,000 sessions); retries already
    /// overdue count as due within every horizon.
    pub fn view(
        &self,
        now: DateTime<Utc>,
        next_attempts: impl Iterator<Item = DateTime<Utc>>,
    ) -> StormView {
        let now_sec = now.timestamp();
        let mut seconds: VecDeque<SecondSample> = VecDeque::with_capacity(STORM_SECONDS);
        for b in self.buckets.iter().filter(|b| b.second < now_sec) {
            seconds.push_back(b.sample());
        }
        // Seconds between the last recorded one and `now` that saw nothing (no event, no tick):
        // show them as quiet seconds with the last known gauges.
        if let Some(last) = self.buckets.back() {
            let first_gap = (last.second + 1).max(now_sec - STORM_SECONDS as i64);
            for second in first_gap..now_sec {
                let quiet = Bucket::new(second, last.open, last.waiting, last.connecting);
                seconds.push_back(quiet.sample());
            }
        }
        while seconds.len() > STORM_SECONDS
            || seconds
                .front()
                .is_some_and(|s| s.second < now_sec - STORM_SECONDS as i64)
        {
            seconds.pop_front();
        }

        let attempts_per_sec = seconds
            .back()
            .filter(|s| s.second == now_sec - 1)
            .map_or(0.0, |s| s.attempts as f64);

        // Attempt-weighted mean of the recent seconds' indices: sum(busiest) / sum(attempts).
        let (mut busiest, mut attempts) = (0.0, 0u64);
        for s in seconds
            .iter()
            .rev()
            .take_while(|s| s.second >= now_sec - LOCKSTEP_RECENT_SECONDS)
        {
            if let Some(l) = s.lockstep {
                busiest += l * s.attempts as f64;
                attempts += s.attempts;
            }
        }
        let lockstep = (attempts > 0).then(|| busiest / attempts as f64);

        StormView {
            seconds,
            attempts_per_sec,
            lockstep,
            forecast: forecast(now, next_attempts),
        }
    }

    /// The bucket for `second`, creating it (and moving the window) when it is newer than any
    /// seen. None when the second has already left the window.
    fn bucket_mut(&mut self, second: i64) -> Option<&mut Bucket> {
        let back = match self.buckets.back() {
            None => {
                self.buckets.push_back(Bucket::new(second, 0, 0, 0));
                return self.buckets.back_mut();
            }
            Some(b) => b,
        };
        if second > back.second {
            let (open, waiting, connecting) = (back.open, back.waiting, back.connecting);
            if second - back.second > KEEP as i64 {
                self.buckets.clear();
                self.buckets
                    .push_back(Bucket::new(second, open, waiting, connecting));
            } else {
                for s in back.second + 1..=second {
                    self.buckets
                        .push_back(Bucket::new(s, open, waiting, connecting));
                }
            }
            while self.buckets.len() > KEEP {
                self.buckets.pop_front();
            }
            return self.buckets.back_mut();
        }
        let front = self.buckets.front()?.second;
        let idx = usize::try_from(second.checked_sub(front)?).ok()?;
        self.buckets.get_mut(idx)
    }
}

/// Retries due within 1, 5 and 30 s of `now` (cumulative; overdue ones count in all three).
pub fn forecast(
    now: DateTime<Utc>,
    next_attempts: impl Iterator<Item = DateTime<Utc>>,
) -> [u64; 3] {
    let now_ms = now.timestamp_millis();
    let limits = FORECAST_SECONDS.map(|s| now_ms + s * 1000);
    let mut out = [0u64; 3];
    for at in next_attempts {
        let t = at.timestamp_millis();
        for (count, &limit) in out.iter_mut().zip(&limits) {
            if t <= limit {
                *count += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    const T0: i64 = 1_764_000_000;

    fn at(sec: i64, ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(T0 + sec, 0).expect("valid timestamp")
            + TimeDelta::milliseconds(ms)
    }

    fn second(view: &StormView, sec: i64) -> &SecondSample {
        view.seconds
            .iter()
            .find(|s| s.second == T0 + sec)
            .expect("second in view")
    }

    #[test]
    fn a_herd_has_lockstep_one() {
        let mut st = StormTracker::new();
        st.tick(at(0, 0), 0, 100, 0);
        // 100 clients retry within 40 ms of each other, straddling the 300 ms slice boundary.
        for i in 0..100 {
            st.record_attempt(at(0, 280 + i % 40));
        }
        st.tick(at(1, 100), 0, 0, 100);
        let v = st.view(at(1, 100), std::iter::empty());
        let s = second(&v, 0);
        assert_eq!(s.attempts, 100);
        assert_eq!(s.lockstep, Some(1.0));
        assert_eq!(v.lockstep, Some(1.0));
        assert_eq!(v.attempts_per_sec, 100.0);
    }

    #[test]
    fn an_even_spread_has_lockstep_about_a_tenth() {
        let mut st = StormTracker::new();
        for sec in 0..3 {
            for i in 0..200 {
                st.record_attempt(at(sec, i * 5)); // every 5 ms
            }
        }
        let v = st.view(at(3, 0), std::iter::empty());
        for sec in 0..3 {
            let l = second(&v, sec).lockstep.expect("enough attempts");
            assert!((l - 0.1).abs() < 0.011, "{l}");
        }
        let recent = v.lockstep.expect("recent value");
        assert!((recent - 0.1).abs() < 0.011, "{recent}");
    }

    #[test]
    fn few_attempts_have_no_lockstep_and_recent_is_weighted() {
        let mut st = StormTracker::new();
        for i in 0..4 {
            st.record_attempt(at(0, i));
        }
        // Second 1: a herd of 90. Second 2: 10 spread evenly over the second.
        for _ in 0..90 {
            st.record_attempt(at(1, 500));
        }
        for i in 0..10 {
            st.record_attempt(at(2, i * 100));
        }
        let v = st.view(at(3, 0), std::iter::empty());
        assert_eq!(second(&v, 0).lockstep, None);
        assert_eq!(second(&v, 2).lockstep, Some(0.1));
        // (90 * 1.0 + 10 * 0.1) / 100
        let recent = v.lockstep.expect("recent value");
        assert!((recent - 0.91).abs() < 1e-9, "{recent}");
        // Ten seconds later the herd has left the recent window.
        let v = st.view(at(13, 0), std::iter::empty());
        assert_eq!(v.lockstep, None);
        assert_eq!(v.attempts_per_sec, 0.0);
    }

    #[test]
    fn closes_and_gauges_per_second() {
        let mut st = StormTracker::new();
        st.tick(at(0, 0), 10, 0, 0);
        st.record_close(at(0, 10), 1013);
        st.record_close(at(0, 20), 1013);
        st.record_close(at(0, 30), 1006);
        st.tick(at(0, 900), 7, 3, 0);
        st.tick(at(1, 0), 2, 6, 2);
        st.tick(at(4, 0), 1, 1, 1);
        let v = st.view(at(4, 10), std::iter::empty());
        let s0 = second(&v, 0);
        assert_eq!(s0.closes, BTreeMap::from([(1006, 1), (1013, 2)]));
        assert_eq!(
            (s0.open, s0.waiting, s0.connecting),
            (7, 3, 0),
            "latest tick wins"
        );
        // Seconds 2 and 3 had no tick: the gauges carry over from second 1.
        let s3 = second(&v, 3);
        assert_eq!((s3.open, s3.waiting, s3.connecting), (2, 6, 2));
        assert!(s3.closes.is_empty());
        assert_eq!(v.seconds.len(), 4, "seconds 0-3 complete, 4 in progress");
    }

    #[test]
    fn out_of_order_events_land_in_their_second() {
        let mut st = StormTracker::new();
        st.tick(at(5, 0), 0, 0, 0);
        st.tick(at(7, 0), 0, 0, 0);
        st.record_attempt(at(5, 900));
        st.record_close(at(6, 100), 1011);
        st.record_attempt(at(7, 5));
        let v = st.view(at(8, 0), std::iter::empty());
        assert_eq!(second(&v, 5).attempts, 1);
        assert_eq!(second(&v, 6).closes.get(&1011), Some(&1));
        assert_eq!(second(&v, 7).attempts, 1);
        assert_eq!(st.dropped(), 0);
    }

    #[test]
    fn the_window_rolls_and_memory_stays_bounded() {
        let mut st = StormTracker::new();
        for sec in 0..700 {
            st.record_attempt(at(sec, 0));
            st.tick(at(sec, 500), 1, 0, 0);
        }
        assert!(st.buckets.len() <= STORM_SECONDS + 1);
        let v = st.view(at(700, 0), std::iter::empty());
        assert_eq!(v.seconds.len(), STORM_SECONDS);
        assert_eq!(v.seconds.front().map(|s| s.second), Some(T0 + 100));
        assert_eq!(v.seconds.back().map(|s| s.second), Some(T0 + 699));
        assert!(v.seconds.iter().all(|s| s.attempts == 1));
        // An event from before the window is dropped, not counted somewhere wrong.
        st.record_attempt(at(10, 0));
        assert_eq!(st.dropped(), 1);
        // A long quiet spell: the view still shows the last 600 seconds, all quiet.
        let v = st.view(at(2000, 0), std::iter::empty());
        assert_eq!(v.seconds.len(), STORM_SECONDS);
        assert_eq!(v.seconds.front().map(|s| s.second), Some(T0 + 1400));
        assert!(v.seconds.iter().all(|s| s.attempts == 0 && s.open == 1));
        // A jump far ahead restarts the window instead of filling thousands of buckets.
        st.record_attempt(at(10_000, 0));
        assert_eq!(st.buckets.len(), 1);
    }

    #[test]
    fn forecast_counts_scheduled_retries() {
        let now = at(100, 0);
        let due = [
            at(99, 0), // overdue: counts everywhere
            at(100, 500),
            at(101, 0), // exactly 1 s
            at(103, 0),
            at(105, 0),
            at(120, 0),
            at(131, 0), // beyond 30 s
        ];
        let st = StormTracker::new();
        let v = st.view(now, due.iter().copied());
        assert_eq!(v.forecast, [3, 5, 6]);
        assert!(v.seconds.is_empty());
        // 10,000 waiting sessions spread over 60 s.
        let many = (0..10_000).map(|i| now + TimeDelta::milliseconds(i * 6));
        assert_eq!(forecast(now, many), [167, 834, 5001]);
    }
}
