//! Reconnect-storm metrics over a rolling window at 1 s resolution: attempts per second, closes
//! per second by code, open / waiting / connecting sessions per second, the lockstep index, and
//! a forecast of retries already scheduled.
//!
//! The **lockstep index** of a second is the share of its retries (first connections are left
//! out: sessions started together are not retries in step) that fall in its busiest
//! 100 ms (a sliding 100 ms window at 10 ms resolution, so a herd that straddles a slice
//! boundary still counts as one herd): 1.0 means every client reconnected at the same instant,
//! about 0.1 means the attempts were spread evenly. Seconds with fewer than
//! [`LOCKSTEP_MIN_ATTEMPTS`] attempts have none.
//!
//! With a few attempts per second one slice holds a large share by chance, so the **verdict**
//! ([`LockstepVerdict`]) compares the busiest-slice counts of recent seconds with what
//! independent retries, spread uniformly over each second, give for the same counts (a fixed
//! table from a seeded simulation of the same 10 ms histogram): in step only when the excess
//! is both large and far outside chance, and no verdict below [`LOCKSTEP_MIN_SAMPLE`] attempts.
//!
//! Memory is bounded: one fixed-size bucket per second for `STORM_SECONDS` + 1 seconds
//! (about 0.3 MB in all). Events may arrive out of order; anything still inside the window lands
//! in its own second, anything older is counted in [`StormTracker::dropped`].

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};

use std::sync::OnceLock;

use crate::engine::events::Jitter;

use super::snapshot::{LockstepLevel, LockstepVerdict, STORM_SECONDS, SecondSample, StormView};

/// A second needs at least this many attempts to have a lockstep index.
pub const LOCKSTEP_MIN_ATTEMPTS: u64 = 5;
/// The smoothed lockstep index covers this many recent completed seconds.
pub const LOCKSTEP_RECENT_SECONDS: i64 = 10;
/// Recent attempts needed before the lockstep verdict says anything.
pub const LOCKSTEP_MIN_SAMPLE: u64 = 20;
/// Standard deviations above chance for "clustered" and "in step".
const CLUSTER_Z: f64 = 3.0;
const IN_STEP_Z: f64 = 4.0;
/// Excess share over chance for "clustered" and "in step".
const CLUSTER_EXCESS: f64 = 0.1;
const IN_STEP_EXCESS: f64 = 0.25;
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
    /// Every attempt, first connections included.
    attempts: u64,
    /// Retries (attempts after the first connection): what the lockstep index judges.
    retries: u64,
    /// Retries per 10 ms slot of this second.
    hist: [u32; SLOTS],
    closes: BTreeMap<u16, u64>,
    open: u64,
    waiting: u64,
    connecting: u64,
    /// Stale sessions (a gauge, carried to the next seconds like the others).
    stale: u64,
    /// Messages received in this second, where counted.
    msgs_in: Option<u64>,
}

impl Bucket {
    fn new(second: i64, open: u64, waiting: u64, connecting: u64) -> Self {
        Bucket {
            second,
            attempts: 0,
            retries: 0,
            hist: [0; SLOTS],
            closes: BTreeMap::new(),
            open,
            waiting,
            connecting,
            stale: 0,
            msgs_in: None,
        }
    }

    /// A new second after `prev`: its gauges carried over.
    fn after(second: i64, prev: &Bucket) -> Self {
        Bucket {
            stale: prev.stale,
            ..Bucket::new(second, prev.open, prev.waiting, prev.connecting)
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
        (self.retries >= LOCKSTEP_MIN_ATTEMPTS)
            .then(|| self.busiest_slice() as f64 / self.retries as f64)
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
            stale: self.stale,
            msgs_in: self.msgs_in,
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
    /// The jitter of the newest exponential backoff.
    jitter: Option<Jitter>,
}

impl StormTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// A retry (an attempt after the first connection) started at `ts`.
    pub fn record_attempt(&mut self, ts: DateTime<Utc>) {
        // Leap seconds report up to 1999 ms; clamp into the last slot.
        let ms = ts.timestamp_subsec_millis().min(999);
        let slot = (ms / SLOT_MS) as usize;
        match self.bucket_mut(ts.timestamp()) {
            Some(b) => {
                b.attempts += 1;
                b.retries += 1;
                b.hist[slot] = b.hist[slot].saturating_add(1);
            }
            None => self.dropped += 1,
        }
    }

    /// A session's first connection started at `ts`: it counts in attempts/s, not in the
    /// lockstep index (sessions started together are not retries in step).
    pub fn record_first_attempt(&mut self, ts: DateTime<Utc>) {
        match self.bucket_mut(ts.timestamp()) {
            Some(b) => b.attempts += 1,
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

    /// The message-health gauges at `now`: open sessions that are stale, and the messages
    /// received since the previous call (counted in the second before `now`'s).
    pub fn tick_messages(&mut self, now: DateTime<Utc>, stale: u64, msgs_in: Option<u64>) {
        if let Some(b) = self.bucket_mut(now.timestamp()) {
            b.stale = stale;
        }
        if let Some(n) = msgs_in
            && let Some(b) = self.bucket_mut(now.timestamp() - 1)
        {
            b.msgs_in = Some(b.msgs_in.unwrap_or(0) + n);
        }
    }

    /// An exponential backoff with this jitter was scheduled.
    pub fn record_jitter(&mut self, jitter: Jitter) {
        self.jitter = Some(jitter);
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
                let quiet = Bucket::after(second, last);
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

        // The recent completed seconds (a second without events has no bucket and adds nothing).
        let recent: Vec<&Bucket> = self
            .buckets
            .iter()
            .filter(|b| b.second < now_sec && b.second >= now_sec - LOCKSTEP_RECENT_SECONDS)
            .collect();
        // Retry-weighted mean of the recent seconds' indices: sum(busiest) / sum(retries).
        let (mut busiest, mut retries) = (0u64, 0u64);
        for b in recent.iter().filter(|b| b.lockstep().is_some()) {
            busiest += b.busiest_slice();
            retries += b.retries;
        }
        let lockstep = (retries > 0).then(|| busiest as f64 / retries as f64);
        let recent = recent.iter().map(|b| (b.retries, b.busiest_slice()));

        StormView {
            seconds,
            attempts_per_sec,
            lockstep,
            forecast: forecast(now, next_attempts),
            verdict: verdict(recent),
            jitter: self.jitter,
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
            let prev = back.clone();
            if second - back.second > KEEP as i64 {
                self.buckets.clear();
                self.buckets.push_back(Bucket::after(second, &prev));
            } else {
                for s in back.second + 1..=second {
                    self.buckets.push_back(Bucket::after(s, &prev));
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

/// The lockstep verdict over seconds given as (attempts, attempts in the busiest 100 ms).
/// `None` with fewer than [`LOCKSTEP_MIN_SAMPLE`] attempts in all.
pub fn verdict(seconds: impl Iterator<Item = (u64, u64)>) -> Option<LockstepVerdict> {
    let (mut n, mut observed, mut expected, mut var) = (0u64, 0u64, 0.0f64, 0.0f64);
    for (attempts, busiest) in seconds {
        if attempts == 0 {
            continue;
        }
        let (mean, v) = chance(attempts);
        n += attempts;
        observed += busiest;
        expected += mean;
        var += v;
    }
    if n < LOCKSTEP_MIN_SAMPLE {
        return None;
    }
    let excess = observed as f64 - expected;
    let z = excess / var.max(1e-9).sqrt();
    let share_excess = excess / n as f64;
    let level = if z >= IN_STEP_Z && share_excess >= IN_STEP_EXCESS {
        LockstepLevel::InStep
    } else if z >= CLUSTER_Z && share_excess >= CLUSTER_EXCESS {
        LockstepLevel::Clustered
    } else {
        LockstepLevel::Spread
    };
    Some(LockstepVerdict {
        share: observed as f64 / n as f64,
        chance: expected / n as f64,
        attempts: n,
        level,
    })
}

/// Largest attempt count with its own simulated entry; above it the scan statistic is
/// extrapolated (mean n/10 + k·sqrt(n), variance growing with n: cautious).
const CHANCE_TABLE: usize = 256;
const CHANCE_TRIALS: u32 = 200;

/// Mean and variance of the busiest-100 ms count for `n` attempts spread independently and
/// uniformly over one second, on the same 10 ms histogram the tracker keeps.
pub fn chance(n: u64) -> (f64, f64) {
    static TABLE: OnceLock<Vec<(f64, f64)>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut rng = SplitMix(0x5eed_1234_abcd_0001);
        (0..=CHANCE_TABLE).map(|n| simulate(n, &mut rng)).collect()
    });
    match usize::try_from(n) {
        Ok(i) if i <= CHANCE_TABLE => table[i],
        _ => {
            let (m, v) = table[CHANCE_TABLE];
            let base = CHANCE_TABLE as f64;
            let k = (m - base * 0.1) / base.sqrt();
            let n = n as f64;
            (n * 0.1 + k * n.sqrt(), v * n / base)
        }
    }
}

fn simulate(n: usize, rng: &mut SplitMix) -> (f64, f64) {
    if n == 0 {
        return (0.0, 0.0);
    }
    let (mut sum, mut sum2) = (0.0, 0.0);
    for _ in 0..CHANCE_TRIALS {
        let mut b = Bucket::new(0, 0, 0, 0);
        for _ in 0..n {
            let slot = (rng.next() % SLOTS as u64) as usize;
            b.hist[slot] += 1;
        }
        let m = b.busiest_slice() as f64;
        sum += m;
        sum2 += m * m;
    }
    let t = f64::from(CHANCE_TRIALS);
    let mean = sum / t;
    (mean, (sum2 / t - mean * mean).max(0.25))
}

/// A tiny deterministic generator for the chance table (the same table on every run).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
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

    /// 100 sessions on a steady overload: every attempt is turned away 5 ms after it starts,
    /// and the next one follows a backoff window of 1 s doubling to an 8 s cap. Returns the
    /// tracker's view two minutes in.
    fn steady_overload(jitter: Jitter) -> StormView {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let mut st = StormTracker::new();
        let end_ms = 120_000i64;
        for i in 0..100i64 {
            // Sessions start within 30 ms of each other, as the demo's do.
            let mut t = i * 3 / 10;
            let mut retry = 0u32;
            while t < end_ms {
                st.record_attempt(at(0, t));
                retry += 1;
                let window = (1000i64 << (retry - 1).min(3)).min(8000);
                let delay = match jitter {
                    Jitter::None => window,
                    _ => rng.random_range(0..=window),
                };
                t += 5 + delay;
            }
        }
        st.view(at(120, 0), std::iter::empty())
    }

    #[test]
    fn lockstep_verdict_compares_with_chance() {
        // Full jitter: a few dozen attempts a second, each second's busiest slice holds about
        // what chance gives: not in step (the old index alone called this a herd).
        let v = steady_overload(Jitter::Full);
        let verdict = v.verdict.expect("enough attempts for a verdict");
        assert_eq!(verdict.level, LockstepLevel::Spread, "{verdict:?}");
        assert!(
            verdict.share > 0.15,
            "by chance well above 0.1: {verdict:?}"
        );
        assert!((verdict.share - verdict.chance).abs() < 0.05, "{verdict:?}");
        // No jitter: every session retries at the same instant.
        let v = steady_overload(Jitter::None);
        let verdict = v.verdict.expect("enough attempts for a verdict");
        assert_eq!(verdict.level, LockstepLevel::InStep, "{verdict:?}");
        assert!(verdict.share > 0.9, "{verdict:?}");
        // Five attempts, even at one instant: no verdict.
        let mut st = StormTracker::new();
        for _ in 0..5 {
            st.record_attempt(at(0, 500));
        }
        assert_eq!(st.view(at(1, 0), std::iter::empty()).verdict, None);
        assert_eq!(verdict_of(&[(5, 5)]), None);
    }

    fn verdict_of(seconds: &[(u64, u64)]) -> Option<LockstepVerdict> {
        verdict(seconds.iter().copied())
    }

    #[test]
    fn chance_of_the_busiest_slice() {
        let (m1, _) = chance(1);
        assert!((m1 - 1.0).abs() < 1e-9);
        // Few attempts: one slice holds a large share by chance.
        let (m5, _) = chance(5);
        assert!(m5 / 5.0 > 0.3, "{m5}");
        // Many: close to a tenth, and the extrapolation joins the table smoothly.
        let (m256, _) = chance(256);
        let (m257, _) = chance(257);
        assert!(m256 / 256.0 < 0.2 && m256 / 256.0 > 0.1, "{m256}");
        assert!((m257 - m256).abs() < 1.5, "{m256} {m257}");
        // A herd of 50 in a second against 20 scattered ones: in step; clustered below.
        assert_eq!(
            verdict_of(&[(50, 50), (20, 5)]).map(|v| v.level),
            Some(LockstepLevel::InStep)
        );
        assert_eq!(
            verdict_of(&[(40, 6), (40, 7), (40, 6)]).map(|v| v.level),
            Some(LockstepLevel::Spread)
        );
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
