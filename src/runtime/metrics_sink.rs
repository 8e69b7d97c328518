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
            SinkMsg::Event(ev) => counter.observe(&ev),
            SinkMsg::Flush(reply) => {
                let _ = reply.send(Ok(counter.events()));
            }
        }
    }
    Ok(counter.events())
}

/// The gauges of a snapshot: sessions by target and state, retries due by target, lockstep.
pub fn gauges(snap: &Snapshot) -> Gauges {
    let mut targets: Vec<TargetGauges> = snap
        .targets
        .iter()
        .map(|t| TargetGauges {
            url: t.url.clone(),
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
    Gauges {
        targets,
        lockstep: snap.storm.lockstep,
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
