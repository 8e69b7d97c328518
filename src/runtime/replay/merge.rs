//! Several exports of one fleet (agents run with `--shard K/N`) as one recording: events merged
//! by time, session ids made unique and qualified by their file's shard (`2/4:s17`), targets
//! merged by URL. One file comes back as it was.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::load::{Recording, RunMeta};
use crate::engine::events::{EventKind, SessionId};

/// Files whose first events are further apart than this, with the same `--start-at`, get a
/// warning: their agents' clocks (or starts) disagree.
pub const CLOCK_TOLERANCE_MS: i64 = 1000;

/// The merged recording and how to name its sessions.
#[derive(Debug)]
pub struct Merged {
    pub rec: Arc<Recording>,
    /// Each merged session's qualified id (`2/4:s17`); empty for one file, whose ids are kept.
    pub labels: HashMap<SessionId, String>,
    /// Each merged session's shard (`2/4`), for a slice written from the merged record.
    pub shard_of: HashMap<SessionId, Arc<str>>,
    /// Each file's shard, in the order given.
    pub shards: Vec<String>,
    /// What the merge found odd (clock offsets, shards repeated or missing), one line each.
    pub notes: Vec<String>,
    /// When each file's shutdown began (see [`shutdown_start`]), by shard.
    pub shutdown_at: HashMap<String, DateTime<Utc>>,
    /// The runs' `--start-at` when every file says the same one.
    pub start_at: Option<DateTime<Utc>>,
}

impl Merged {
    /// `s17` for one file, `2/4:s17` for a merged session.
    /// Whether `ev` belongs to the shutdown of the agent that recorded it: the record as it
    /// stood just before the shutdown leaves these out (as `watch --headless` judges its
    /// thresholds on the last snapshot before stopping).
    pub fn after_shutdown(&self, ev: &crate::engine::events::Event) -> bool {
        let shard = match self.shard_of.get(&ev.session) {
            Some(s) => s.as_ref(),
            None => self.shards.first().map_or("", String::as_str),
        };
        self.shutdown_at
            .get(shard)
            .is_some_and(|&at| ev.ts > at || (ev.ts == at && is_shutdown_event(&ev.kind)))
    }

    pub fn label(&self, id: SessionId) -> String {
        self.labels
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("s{id}"))
    }
}

fn file_name(path: &std::path::Path) -> String {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    crate::redact::escape_control(&name)
}

/// Each file's shard: its own `shard` field when every file has a distinct one, else its
/// position (`k/n`, k from 1 in the order given), with a note saying why.
fn shard_labels(files: &[(Recording, RunMeta)], notes: &mut Vec<String>) -> Vec<String> {
    let n = files.len();
    let own: Vec<Option<String>> = files
        .iter()
        .map(|(_, m)| m.shard.as_deref().map(crate::redact::escape_control))
        .collect();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for s in own.iter().flatten() {
        *seen.entry(s.as_str()).or_insert(0) += 1;
    }
    let repeated: Vec<&str> = seen
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(s, _)| *s)
        .collect();
    if !repeated.is_empty() {
        notes.push(format!(
            "shard {} is written by more than one file: sessions are named by file position (1/{n} ... {n}/{n}) instead",
            repeated.join(", ")
        ));
        return (1..=n).map(|k| format!("{k}/{n}")).collect();
    }
    own.into_iter()
        .enumerate()
        .map(|(i, s)| {
            s.unwrap_or_else(|| {
                let by_pos = format!("{}/{n}", i + 1);
                notes.push(format!(
                    "{}: no shard recorded (an older export): its sessions are {by_pos}",
                    file_name(&files[i].0.path)
                ));
                by_pos
            })
        })
        .collect()
}

/// Files started with the same `--start-at` whose first events are more than
/// [`CLOCK_TOLERANCE_MS`] apart.
fn clock_notes(files: &[(Recording, RunMeta)], notes: &mut Vec<String>) {
    let mut groups: BTreeMap<DateTime<Utc>, Vec<(DateTime<Utc>, usize)>> = BTreeMap::new();
    for (i, (rec, meta)) in files.iter().enumerate() {
        if let (Some(at), Some(first)) = (meta.start_at, rec.start()) {
            groups.entry(at).or_default().push((first, i));
        }
    }
    for (at, mut group) in groups {
        group.sort();
        let Some(&(earliest, e)) = group.first() else {
            continue;
        };
        for &(first, i) in &group[1..] {
            let ms = (first - earliest).num_milliseconds();
            if ms > CLOCK_TOLERANCE_MS {
                notes.push(format!(
                    "{} starts {:.3} s after {} although both say --start-at {}: their clocks (or starts) disagree",
                    file_name(&files[i].0.path),
                    ms as f64 / 1000.0,
                    file_name(&files[e].0.path),
                    crate::export::jsonl::format_ts(&at)
                ));
            }
        }
    }
}

/// Merge loaded exports (in the order given). Session ids become `offset + id`, the offset of
/// a file being the largest id of the files before it, so ids stay unique and in file order.
pub fn merge(mut files: Vec<(Recording, RunMeta)>) -> Merged {
    let mut notes = Vec::new();
    if files.len() == 1
        && let Some((rec, meta)) = files.pop()
    {
        let shard = meta.shard.unwrap_or_else(|| "1/1".into());
        let shutdown_at = shutdown_start(&rec)
            .map(|at| (shard.clone(), at))
            .into_iter()
            .collect();
        return Merged {
            rec: Arc::new(rec),
            labels: HashMap::new(),
            shard_of: HashMap::new(),
            shards: vec![shard],
            notes,
            shutdown_at,
            start_at: meta.start_at,
        };
    }
    let shards = shard_labels(&files, &mut notes);
    clock_notes(&files, &mut notes);
    let start_at = files.first().and_then(|(_, m)| m.start_at);
    let start_at = start_at.filter(|at| files.iter().all(|(_, m)| m.start_at == Some(*at)));
    let shutdown_at: HashMap<String, DateTime<Utc>> = files
        .iter()
        .zip(&shards)
        .filter_map(|((rec, _), s)| shutdown_start(rec).map(|at| (s.clone(), at)))
        .collect();
    let path: PathBuf = files
        .first()
        .map(|(r, _)| r.path.clone())
        .unwrap_or_default();
    let format = files
        .first()
        .map_or(crate::export::Format::Jsonl, |(r, _)| r.format);
    let mut events = Vec::with_capacity(files.iter().map(|(r, _)| r.events.len()).sum());
    let mut code_names = HashMap::new();
    let mut labels = HashMap::new();
    let mut shard_of = HashMap::new();
    let mut target_urls: Vec<String> = Vec::new();
    let mut offset: SessionId = 0;
    for ((rec, _), shard) in files.into_iter().zip(&shards) {
        let shard: Arc<str> = Arc::from(shard.as_str());
        let mut top = offset;
        for (code, name) in rec.code_names {
            code_names.entry(code).or_insert(name);
        }
        for mut ev in rec.events {
            let id = offset.saturating_add(ev.session);
            top = top.max(id);
            if let EventKind::Spawned { target, url, .. } = &mut ev.kind {
                *target = match target_urls.iter().position(|u| u == url) {
                    Some(t) => t,
                    None => {
                        target_urls.push(url.clone());
                        target_urls.len() - 1
                    }
                };
            }
            if let std::collections::hash_map::Entry::Vacant(v) = labels.entry(id) {
                v.insert(format!("{shard}:s{}", ev.session));
                shard_of.insert(id, shard.clone());
            }
            ev.session = id;
            events.push(ev);
        }
        offset = top;
    }
    // Stable: each file's own order is kept among events of the same time.
    events.sort_by_key(|e| e.ts);
    Merged {
        rec: Arc::new(Recording {
            path,
            format,
            events,
            code_names,
            warnings: Vec::new(),
        }),
        labels,
        shard_of,
        shards,
        notes,
        shutdown_at,
        start_at,
    }
}

/// Whether `ev` is part of wsmon's own shutdown: the 1001 close it sends, or a session ended
/// because wsmon stopped.
pub fn is_shutdown_event(kind: &EventKind) -> bool {
    use crate::engine::events::{Cause, Initiator};
    match kind {
        EventKind::Closing { code, initiator } => *code == 1001 && *initiator == Initiator::Client,
        EventKind::Closed(c) => c.code == 1001 && c.initiator == Initiator::Client,
        EventKind::Ended { cause, .. } => matches!(cause, Some(Cause::Shutdown)),
        _ => false,
    }
}

/// When the recorded run's shutdown began: the time of the first event of the trailing run of
/// shutdown events ([`is_shutdown_event`]), or `None` when the log does not end with one (it was
/// cut, or killed).
pub fn shutdown_start(rec: &Recording) -> Option<DateTime<Utc>> {
    let kept = rec
        .events
        .iter()
        .rposition(|e| !is_shutdown_event(&e.kind))
        .map_or(0, |i| i + 1);
    rec.events.get(kept).map(|e| e.ts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::events::{Cause, Event, EventKind, Initiator};
    use crate::engine::test_events::{close_info, event, spawned};

    fn t(ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + chrono::TimeDelta::milliseconds(1_800_000_000_000 + ms)
    }

    fn rec(name: &str, events: Vec<Event>) -> Recording {
        Recording {
            path: PathBuf::from(name),
            format: crate::export::Format::Jsonl,
            events,
            code_names: HashMap::new(),
            warnings: Vec::new(),
        }
    }

    fn meta(shard: Option<&str>, start_at: Option<DateTime<Utc>>) -> RunMeta {
        RunMeta {
            shard: shard.map(str::to_string),
            start_at,
        }
    }

    /// Sessions 1 and 2 of `url_a` and `url_b`, spawned at `first`, then a shutdown at
    /// `first + 5 s`.
    fn run(name: &str, first: i64) -> Recording {
        let open = EventKind::Open {
            attempt: 1,
            link: Default::default(),
        };
        let bye = || EventKind::Closed(close_info(1001, Initiator::Client));
        rec(
            name,
            vec![
                event(t(first), 1, spawned(0, "ws://h/a")),
                event(t(first), 2, spawned(1, "ws://h/b")),
                event(t(first + 10), 1, open.clone()),
                event(t(first + 20), 2, open),
                event(t(first + 5000), 1, bye()),
                event(
                    t(first + 5000),
                    2,
                    EventKind::Ended {
                        cause: Some(Cause::Shutdown),
                        why: "wsmon stopped".into(),
                    },
                ),
            ],
        )
    }

    #[test]
    fn sessions_are_renumbered_labelled_by_shard_and_targets_merged_by_url() {
        // The second agent's targets come in the other order: merged by URL, not by index.
        let mut b = run("b.jsonl", 3);
        for ev in &mut b.events {
            if let EventKind::Spawned { target, .. } = &mut ev.kind {
                *target = 1 - *target;
            }
        }
        let m = merge(vec![
            (run("a.jsonl", 0), meta(Some("1/2"), None)),
            (b, meta(Some("2/2"), None)),
        ]);
        assert_eq!(m.shards, ["1/2", "2/2"]);
        assert_eq!(m.rec.events.len(), 12);
        assert!(m.rec.events.windows(2).all(|w| w[0].ts <= w[1].ts));
        let labels: Vec<String> = (1..=4).map(|id| m.label(id)).collect();
        assert_eq!(labels, ["1/2:s1", "1/2:s2", "2/2:s1", "2/2:s2"]);
        let targets: Vec<(u64, usize)> = m
            .rec
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Spawned { target, url, .. } => {
                    Some((e.session, usize::from(url.ends_with('b')) * 10 + target))
                }
                _ => None,
            })
            .collect();
        // URL a is target 0 and URL b target 1 in both files.
        assert_eq!(targets, [(1, 0), (2, 11), (3, 0), (4, 11)]);
        assert!(m.notes.is_empty(), "{:?}", m.notes);
    }

    #[test]
    fn missing_or_repeated_shards_fall_back_to_file_positions() {
        let m = merge(vec![
            (run("a.jsonl", 0), meta(None, None)),
            (run("b.jsonl", 0), meta(Some("2/3"), None)),
        ]);
        assert_eq!(m.shards, ["1/2", "2/3"]);
        assert!(
            m.notes[0].contains("a.jsonl: no shard recorded"),
            "{:?}",
            m.notes
        );
        let m = merge(vec![
            (run("a.jsonl", 0), meta(Some("1/1"), None)),
            (run("b.jsonl", 0), meta(Some("1/1"), None)),
        ]);
        assert_eq!(m.shards, ["1/2", "2/2"]);
        assert!(m.notes[0].contains("shard 1/1 is written by more than one file"));
        assert_eq!(m.label(3), "2/2:s1");
    }

    #[test]
    fn the_same_start_with_first_events_over_a_second_apart_is_noted() {
        let at = Some(t(-100));
        let m = merge(vec![
            (run("a.jsonl", 0), meta(Some("1/3"), at)),
            (run("b.jsonl", 900), meta(Some("2/3"), at)),
            (run("c.jsonl", 1250), meta(Some("3/3"), at)),
        ]);
        assert_eq!(m.notes.len(), 1, "{:?}", m.notes);
        assert!(
            m.notes[0]
                .starts_with("c.jsonl starts 1.250 s after a.jsonl although both say --start-at"),
            "{}",
            m.notes[0]
        );
        assert_eq!(m.start_at, at);
        // Different start times: nothing to compare.
        let m = merge(vec![
            (run("a.jsonl", 0), meta(Some("1/2"), Some(t(0)))),
            (run("b.jsonl", 5000), meta(Some("2/2"), Some(t(5000)))),
        ]);
        assert!(m.notes.is_empty(), "{:?}", m.notes);
        assert_eq!(m.start_at, None);
    }

    #[test]
    fn each_file_s_shutdown_is_left_out_of_the_state_before_it() {
        let a = run("a.jsonl", 0);
        assert_eq!(shutdown_start(&a), Some(t(5000)));
        // b is still running when a stops: a's shutdown is a's only.
        let m = merge(vec![
            (a, meta(Some("1/2"), None)),
            (run("b.jsonl", 4000), meta(Some("2/2"), None)),
        ]);
        let after: Vec<(u64, i64)> = m
            .rec
            .events
            .iter()
            .filter(|e| m.after_shutdown(e))
            .map(|e| (e.session, (e.ts - t(0)).num_milliseconds()))
            .collect();
        assert_eq!(after, [(1, 5000), (2, 5000), (3, 9000), (4, 9000)]);
        // A log cut before its shutdown has none.
        let mut cut = run("c.jsonl", 0);
        cut.events.truncate(4);
        assert_eq!(shutdown_start(&cut), None);
        let one = merge(vec![(cut, meta(None, None))]);
        assert!(one.rec.events.iter().all(|e| !one.after_shutdown(e)));
        assert_eq!(one.label(2), "s2", "one file keeps its ids");
    }
}
