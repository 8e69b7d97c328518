//! `--metrics`: every event into the counters (a sink like the export), and on each scrape the
//! gauges set from the latest snapshot before the exposition is written.

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::metrics::http::Render;
use crate::metrics::registry::{EventCounter, Gauges, Metrics, TargetGauges};
use crate::runtime::{RuntimeError, Sink, SinkResult};
use crate::state::snapshot::Snapshot;
use crate::state::store::SinkMsg;
use crate::state::storm;

/// The metrics sink: its thread feeds every event to `metrics`, in order.
pub fn sink(metrics: Arc<Metrics>) -> Result<Sink, RuntimeError> {
    Sink::spawn("wsmon-metrics", move |rx| consume(metrics, rx))
}

fn consume(metrics: Arc<Metrics>, mut rx: mpsc::Receiver<SinkMsg>) -> SinkResult {
    let mut counter = EventCounter::new(metrics);
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            SinkMsg::Events(batch) => batch.iter().for_each(|ev| counter.observe(ev)),
            SinkMsg::Flush(reply) => {
                let _ = reply.send(Ok(counter.events()));
            }
        }
    }
    Ok(counter.events())
}

/// The gauges of a snapshot: sessions by target and state, retries due by target, and the
/// lockstep verdict (index and chance).
pub fn gauges(snap: &Snapshot) -> Gauges {
    let mut targets: Vec<TargetGauges> = snap
        .targets
        .iter()
        .map(|t| TargetGauges {
            url: t.url.clone(),
            stale: t.stale as u64,
            msgs_in: t.msgs_in,
            msgs_out: t.msgs_out,
            ..TargetGauges::default()
        })
        .collect();
    let mut next: Vec<Vec<_>> = vec![Vec::new(); targets.len()];
    for s in &snap.sessions {
        if let Some(t) = targets.get_mut(s.target) {
            t.by_state[s.state.index()] += 1;
            if let Some(at) = s.next_attempt_at {
                next[s.target].push(at);
            }
        }
    }
    for (t, at) in targets.iter_mut().zip(next) {
        t.due = storm::forecast(snap.now, at.into_iter());
    }
    // The verdict the screen shows: its index and what chance gives for the same counts.
    let verdict = snap.storm.verdict;
    Gauges {
        targets,
        lockstep: verdict.map(|v| v.share),
        lockstep_chance: verdict.map(|v| v.chance),
    }
}

/// What `/metrics` answers: the gauges from the latest snapshot, then every family.
pub fn render(metrics: Arc<Metrics>, snapshots: watch::Receiver<Arc<Snapshot>>) -> Render {
    Arc::new(move || {
        let snap = snapshots.borrow().clone();
        metrics.set_gauges(&gauges(&snap));
        metrics.render()
    })
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

    use super::*;
    use crate::engine::events::SessionState;
    use crate::state::snapshot::{SessionView, TargetView};

    #[test]
    fn gauges_count_sessions_by_target_and_state_and_retries_due() {
        let now = Utc::now();
        let session = |id, target, state, next: Option<i64>| {
            let mut s = SessionView::new(id, target, Arc::from("ws://x/"), now);
            s.state = state;
            s.next_attempt_at = next.map(|secs| now + Duration::seconds(secs));
            Arc::new(s)
        };
        let mut snap = Snapshot {
            now,
            targets: vec![
                TargetView {
                    url: "ws://a/".into(),
                    sessions: 3,
                    ..TargetView::default()
                },
                TargetView {
                    url: "ws://b/".into(),
                    sessions: 1,
                    ..TargetView::default()
                },
            ],
            sessions: vec![
                session(1, 0, SessionState::Open, None),
                session(2, 0, SessionState::Waiting, Some(3)),
                session(3, 0, SessionState::Waiting, Some(-1)),
                session(4, 1, SessionState::Waiting, Some(20)),
            ],
            ..Snapshot::default()
        };
        let g = gauges(&snap);
        assert_eq!(
            (g.lockstep, g.lockstep_chance),
            (None, None),
            "no verdict yet"
        );
        snap.storm.lockstep = Some(0.5);
        snap.storm.verdict = Some(crate::state::snapshot::LockstepVerdict {
            share: 0.57,
            chance: 0.44,
            attempts: 30,
            level: crate::state::snapshot::LockstepLevel::Spread,
        });
        let g = gauges(&snap);
        assert_eq!(g.lockstep, Some(0.57), "the index the screen shows");
        assert_eq!(g.lockstep_chance, Some(0.44));
        assert_eq!(g.targets.len(), 2);
        let a = &g.targets[0];
        assert_eq!(a.url, "ws://a/");
        assert_eq!(a.by_state[SessionState::Open.index()], 1);
        assert_eq!(a.by_state[SessionState::Waiting.index()], 2);
        // The overdue retry counts within every horizon; the one in 3 s from 5 s on.
        assert_eq!(a.due, [1, 2, 2]);
        assert_eq!(g.targets[1].due, [0, 0, 1]);
    }
}
