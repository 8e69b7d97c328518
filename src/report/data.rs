//! What the report shows, computed in one pass over the recording: per-second series in the
//! window, the header counts (the same rules as `replay --summary`), the sessions with the most
//! attempts, and the store's final snapshot (targets table, `--fail-if` verdicts, timelines).
//!
//! The store is driven exactly as replay's cursor drives it (every event applied in order, a
//! tick at the start of each recorded second), so the open / waiting gauges and the lockstep
//! index are the ones the TUI showed. Those come from the store's storm window (600 s), read
//! every [`HARVEST_SECONDS`] of recorded time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use chrono::{DateTime, Utc};

use super::Window;
use crate::codes::Lang;
use crate::engine::events::{Event, EventKind, SessionId};
use crate::runtime::replay::load::Recording;
use crate::runtime::replay::merge::Merged;
use crate::state::snapshot::{AttemptRecord, STORM_SECONDS, SessionView, Snapshot, TargetView};
use crate::state::store::Store;
use crate::state::storm::{LOCKSTEP_MIN_ATTEMPTS, chance};
use crate::thresholds::{Threshold, ThresholdResult, evaluate_all};

/// At most this many points per series: longer windows are drawn with wider buckets (counts
/// become per-second averages), so a day-long run still makes a page of a few MB at most.
pub const MAX_POINTS: i64 = 20_000;
/// Read the store's storm window this often (it keeps 600 s).
pub const HARVEST_SECONDS: i64 = 300;
/// Sessions listed with their backoff timelines.
pub const TOP_SESSIONS: usize = 20;
/// Attempts shown per listed session (the latest ones).
pub const TIMELINE_ROWS: usize = 50;

/// The header of the page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    /// First and last event inside the window (None: no events there).
    pub span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Events, distinct sessions, `connecting` and `open` events inside the window.
    pub events: u64,
    pub sessions: u64,
    pub attempts: u64,
    pub opens: u64,
    /// Target URLs (redacted) of the sessions spawned in the recording.
    pub targets: Vec<String>,
}

/// Aggregated series: one point per `step` seconds from `t0` (unix seconds).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub t0: i64,
    pub step: i64,
    pub len: usize,
    pub attempts: Vec<f64>,
    pub opens: Vec<f64>,
    pub closes: BTreeMap<u16, Vec<f64>>,
    /// HTTP answers other than 101.
    pub statuses: BTreeMap<u16, Vec<f64>>,
    pub errors: BTreeMap<&'static str, Vec<f64>>,
    pub open: Vec<Option<f64>>,
    pub waiting: Vec<Option<f64>>,
    /// Retries scheduled to start in each bucket.
    pub retries_due: Vec<f64>,
    pub hs_p50: Vec<Option<f64>>,
    pub hs_p99: Vec<Option<f64>>,
    /// The lockstep index of a second, with the chance level for its retries and a band of two
    /// standard deviations around it.
    pub lockstep: Vec<Option<f64>>,
    pub chance: Vec<Option<f64>>,
    pub chance_lo: Vec<Option<f64>>,
    pub chance_hi: Vec<Option<f64>>,
}

/// One of the sessions with the most attempts.
#[derive(Debug, Clone, PartialEq)]
pub struct TopSession {
    pub id: SessionId,
    /// How the page names it (`s17`, or qualified by its file when several were merged).
    pub label: String,
    /// Attempts started inside the window.
    pub attempts: u64,
    /// The session at the end of the window (None if it was removed).
    pub view: Option<Arc<SessionView>>,
    /// Its attempts inside the window, the latest [`TIMELINE_ROWS`].
    pub timeline: Vec<AttemptRecord>,
    /// Attempts inside the window not listed.
    pub hidden: usize,
}

/// Everything the page shows.
#[derive(Debug, Clone)]
pub struct Report {
    pub lang: Lang,
    pub files: Vec<String>,
    pub warnings: Vec<String>,
    pub window: Window,
    pub header: Header,
    pub verdicts: Vec<ThresholdResult>,
    pub series: Series,
    pub targets: Vec<TargetView>,
    /// Closes inside the window by code, with the name the log gave (or the registry's).
    pub closes: Vec<(u16, u64, String)>,
    /// HTTP answers inside the window by status.
    pub statuses: Vec<(u16, u64)>,
    pub top: Vec<TopSession>,
}

impl Report {
    pub fn default_title(&self) -> String {
        let name = match self.lang {
            Lang::En => "wsmon report",
            Lang::Fr => "rapport wsmon",
        };
        match self.header.span {
            Some((a, _)) => format!("{name}: {}", a.format("%Y-%m-%d %H:%M:%S UTC")),
            None => name.to_string(),
        }
    }
}

fn second_start(s: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(s, 0).unwrap_or_default()
}

/// The store as replay's cursor drives it: ticks at each recorded second boundary (at most the
/// storm window's worth of quiet seconds).
struct Driven {
    store: Store,
    ticked: Option<i64>,
}

impl Driven {
    fn tick_through(&mut self, sec: i64) {
        let Some(last) = self.ticked else {
            self.ticked = Some(sec);
            return;
        };
        if sec <= last {
            return;
        }
        for s in (last + 1).max(sec - STORM_SECONDS as i64 - 1)..=sec {
            self.store.tick(second_start(s));
        }
        self.ticked = Some(sec);
    }
}

/// Per-bucket accumulators.
struct Acc {
    s: Series,
    /// Retries per second of the window (for the chance level of each second's index).
    retries: Vec<u32>,
    /// (bucket, handshake ms) pairs.
    handshakes: Vec<(u32, u32)>,
    /// Last second read from the storm window.
    harvested: i64,
    nsec: i64,
}

impl Acc {
    fn new(lo: i64, hi: i64) -> Acc {
        let nsec = hi - lo + 1;
        let step = ((nsec + MAX_POINTS - 1) / MAX_POINTS).max(1);
        let len = usize::try_from((nsec + step - 1) / step).unwrap_or(0);
        let zeros = vec![0.0; len];
        let none = vec![None; len];
        Acc {
            s: Series {
                t0: lo,
                step,
                len,
                attempts: zeros.clone(),
                opens: zeros.clone(),
                retries_due: zeros,
                open: none.clone(),
                waiting: none.clone(),
                hs_p50: none.clone(),
                hs_p99: none.clone(),
                lockstep: none.clone(),
                chance: none.clone(),
                chance_lo: none.clone(),
                chance_hi: none,
                ..Series::default()
            },
            retries: vec![0; usize::try_from(nsec).unwrap_or(0)],
            handshakes: Vec::new(),
            harvested: lo - 1,
            nsec,
        }
    }

    fn bucket(&self, sec: i64) -> Option<usize> {
        let off = sec - self.s.t0;
        (0..self.nsec)
            .contains(&off)
            .then(|| usize::try_from(off / self.s.step).ok())
            .flatten()
    }

    fn count<K: Ord>(map: &mut BTreeMap<K, Vec<f64>>, key: K, len: usize, i: usize) {
        map.entry(key).or_insert_with(|| vec![0.0; len])[i] += 1.0;
    }

    /// Read the storm window's seconds up to `now_sec` (exclusive) that are not read yet.
    fn harvest(&mut self, store: &mut Store, now_sec: i64) {
        let snap = store.snapshot(second_start(now_sec));
        for sample in &snap.storm.seconds {
            if sample.second <= self.harvested {
                continue;
            }
            let Some(i) = self.bucket(sample.second) else {
                continue;
            };
            self.s.open[i] = Some(sample.open as f64);
            self.s.waiting[i] = Some(sample.waiting as f64);
            let retries = usize::try_from(sample.second - self.s.t0)
                .ok()
                .and_then(|o| self.retries.get(o))
                .copied()
                .unwrap_or(0);
            if let Some(l) = sample.lockstep
                && u64::from(retries) >= LOCKSTEP_MIN_ATTEMPTS
                && self.s.lockstep[i].is_none_or(|old| l > old)
            {
                let n = f64::from(retries);
                let (mean, var) = chance(u64::from(retries));
                let sd = var.max(0.0).sqrt();
                self.s.lockstep[i] = Some(l);
                self.s.chance[i] = Some(mean / n);
                self.s.chance_lo[i] = Some(((mean - 2.0 * sd) / n).max(0.0));
                self.s.chance_hi[i] = Some(((mean + 2.0 * sd) / n).min(1.0));
            }
        }
        self.harvested = self.harvested.max(now_sec - 1);
    }

    /// Counts become per-second rates; gauges are carried over quiet gaps; handshake
    /// percentiles per bucket.
    fn finish(mut self) -> Series {
        let step = self.s.step as f64;
        if self.s.step > 1 {
            let per_sec = |v: &mut Vec<f64>| v.iter_mut().for_each(|x| *x /= step);
            per_sec(&mut self.s.attempts);
            per_sec(&mut self.s.opens);
            per_sec(&mut self.s.retries_due);
            self.s.closes.values_mut().for_each(per_sec);
            self.s.statuses.values_mut().for_each(per_sec);
            self.s.errors.values_mut().for_each(per_sec);
        }
        for g in [&mut self.s.open, &mut self.s.waiting] {
            let mut last = None;
            for v in g.iter_mut() {
                match v {
                    Some(x) => last = Some(*x),
                    None => *v = last,
                }
            }
        }
        self.handshakes.sort_unstable();
        for chunk in self.handshakes.chunk_by(|a, b| a.0 == b.0) {
            let i = chunk[0].0 as usize;
            let rank = |p: usize| chunk[(chunk.len() * p).div_ceil(100).max(1) - 1].1;
            self.s.hs_p50[i] = Some(f64::from(rank(50)));
            self.s.hs_p99[i] = Some(f64::from(rank(99)));
        }
        self.s
    }
}

/// What one pass over the events counts inside the window.
#[derive(Default)]
struct Counts {
    header: Header,
    sessions: HashSet<SessionId>,
    attempts: HashMap<SessionId, u64>,
    closes: BTreeMap<u16, u64>,
    statuses: BTreeMap<u16, u64>,
    /// When each session's current attempt started (for handshake times).
    started: HashMap<SessionId, DateTime<Utc>>,
}

impl Counts {
    fn take(&mut self, acc: &mut Acc, ev: &Event) {
        let h = &mut self.header;
        h.events += 1;
        h.span = Some(h.span.map_or((ev.ts, ev.ts), |(a, _)| (a, ev.ts)));
        if self.sessions.insert(ev.session) {
            h.sessions += 1;
        }
        let sec = ev.ts.timestamp();
        let Some(i) = acc.bucket(sec) else {
            return;
        };
        let len = acc.s.len;
        match &ev.kind {
            EventKind::Connecting { attempt, .. } => {
                h.attempts += 1;
                acc.s.attempts[i] += 1.0;
                *self.attempts.entry(ev.session).or_insert(0) += 1;
                self.started.insert(ev.session, ev.ts);
                if *attempt > 1
                    && let Some(r) = usize::try_from(sec - acc.s.t0)
                        .ok()
                        .and_then(|o| acc.retries.get_mut(o))
                {
                    *r += 1;
                }
            }
            EventKind::Open { .. } => {
                h.opens += 1;
                acc.s.opens[i] += 1.0;
            }
            EventKind::Closed(c) => {
                *self.closes.entry(c.code).or_insert(0) += 1;
                Acc::count(&mut acc.s.closes, c.code, len, i);
            }
            // A refused answer is counted by its error event, as `replay --summary` does.
            EventKind::Handshake(info) if info.invalid.is_none() => {
                *self.statuses.entry(info.status).or_insert(0) += 1;
                if !info.is_upgrade() {
                    Acc::count(&mut acc.s.statuses, info.status, len, i);
                }
                if let Some(start) = self.started.get(&ev.session) {
                    let ms = (ev.ts - *start)
                        .num_milliseconds()
                        .clamp(0, i64::from(u32::MAX));
                    acc.handshakes.push((i as u32, ms as u32));
                }
            }
            EventKind::Error { kind, .. } => Acc::count(&mut acc.s.errors, kind.as_str(), len, i),
            EventKind::Backoff(b) => {
                if let Some(j) = acc.bucket(b.next_attempt_at.timestamp()) {
                    acc.s.retries_due[j] += 1.0;
                }
            }
            _ => {}
        }
    }
}

/// Build the report of a (merged) recording over `window`. `files` and `warnings` are shown as
/// given. The `--fail-if` thresholds are judged as `replay --fail-if` judges them: on the store
/// at the end of the window, without each agent's own shutdown (its 1001 closes), so the page
/// says what the CI step said.
pub fn build(
    merged: &Merged,
    window: Window,
    thresholds: &[Threshold],
    lang: Lang,
    files: Vec<String>,
    warnings: Vec<String>,
) -> Report {
    let rec: &Recording = &merged.rec;
    let in_window: Vec<&Event> = rec
        .events
        .iter()
        .filter(|e| window.contains(e.ts))
        .collect();
    let (lo, hi) = match (in_window.first(), in_window.last()) {
        (Some(a), Some(b)) => (a.ts.timestamp(), b.ts.timestamp()),
        _ => (0, -1),
    };
    drop(in_window);
    let mut acc = Acc::new(lo, hi);
    let mut counts = Counts::default();
    let mut driven = Driven {
        store: Store::new(None, Arc::new(AtomicU64::new(0))),
        ticked: None,
    };
    let mut judge = (!thresholds.is_empty()).then(|| Driven {
        store: Store::new(None, Arc::new(AtomicU64::new(0))),
        ticked: None,
    });
    let mut judged_ts = None;
    let end = window.to.or(rec.end()).unwrap_or_default();
    let mut last_ts = None;
    for ev in rec.events.iter().take_while(|e| e.ts <= end) {
        if let Some(j) = judge.as_mut()
            && !merged.after_shutdown(ev)
        {
            j.tick_through(ev.ts.timestamp());
            j.store.apply(ev);
            judged_ts = Some(ev.ts);
        }
        let sec = ev.ts.timestamp();
        // Read the storm window before it moves on: every HARVEST_SECONDS, and before a quiet
        // gap longer than that (the ticks through it would push older seconds out).
        if sec - acc.harvested > HARVEST_SECONDS
            && let Some(t) = driven.ticked.filter(|t| *t >= lo)
        {
            acc.harvest(&mut driven.store, t + 1);
        }
        driven.tick_through(sec);
        driven.store.apply(ev);
        if window.contains(ev.ts) {
            counts.take(&mut acc, ev);
        }
        last_ts = Some(ev.ts);
    }
    let now = last_ts.unwrap_or(end);
    if hi >= lo {
        driven.tick_through(hi + 1);
        acc.harvest(&mut driven.store, hi + 1);
    }
    let snap = driven.store.snapshot(now);
    let mut header = counts.header;
    header.targets = snap.targets.iter().map(|t| t.url.clone()).collect();
    let top = top_sessions(&counts.attempts, &snap, window, &|id| merged.label(id));
    let verdicts = match (judge.as_mut(), judged_ts) {
        (Some(j), Some(t)) => evaluate_all(thresholds, &j.store.snapshot(t)),
        _ => evaluate_all(thresholds, &snap),
    };
    Report {
        lang,
        files,
        warnings,
        window,
        verdicts,
        header,
        series: acc.finish(),
        targets: snap.targets.clone(),
        closes: counts
            .closes
            .into_iter()
            .map(|(code, n)| (code, n, rec.code_name(code)))
            .collect(),
        statuses: counts.statuses.into_iter().collect(),
        top,
    }
}

/// The [`TOP_SESSIONS`] sessions with the most attempts inside the window (ties: lower id
/// first), with their attempts inside the window from the final snapshot's timelines.
fn top_sessions(
    attempts: &HashMap<SessionId, u64>,
    snap: &Snapshot,
    window: Window,
    label: &dyn Fn(SessionId) -> String,
) -> Vec<TopSession> {
    let mut ranked: Vec<(SessionId, u64)> = attempts.iter().map(|(id, n)| (*id, *n)).collect();
    ranked.sort_unstable_by_key(|(id, n)| (std::cmp::Reverse(*n), *id));
    ranked.truncate(TOP_SESSIONS);
    ranked
        .into_iter()
        .map(|(id, n)| {
            let view = snap.index_of(id).map(|i| snap.sessions[i].clone());
            let records: Vec<AttemptRecord> = view
                .iter()
                .flat_map(|v| v.timeline.iter())
                // Attempts that started inside the window, and a retry scheduled inside it that
                // had not started by its end.
                .filter(|r| match r.started_at {
                    Some(t) => window.contains(t),
                    None => r.scheduled_at.is_some_and(|t| window.contains(t)),
                })
                .cloned()
                .collect();
            let hidden = records.len().saturating_sub(TIMELINE_ROWS);
            TopSession {
                id,
                label: label(id),
                attempts: n,
                view,
                timeline: records.into_iter().skip(hidden).collect(),
                hidden,
            }
        })
        .collect()
}
