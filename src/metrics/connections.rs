//! Transport connections, for `wsmon_connections{transport}` and
//! `wsmon_connection_losses_total{reason}`: which connection each open session runs on (from
//! its `open` event's link), and which HTTP/2 connections were lost (once each, whatever the
//! number of sessions that record the loss).

use std::collections::{HashMap, HashSet};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::engine::events::{Cause, Event, EventKind, Proto, SessionId};
use crate::protocol::http2::LossReason;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransportLabels {
    transport: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// The two families and what they are computed from.
#[derive(Debug, Default)]
pub struct Connections {
    gauge: Family<TransportLabels, Gauge>,
    losses: Family<ReasonLabels, Counter>,
    /// Open sessions: their HTTP/2 connection, or `None` for HTTP/1.1 (a connection each).
    open: HashMap<SessionId, Option<u32>>,
    /// Each session's last HTTP/2 connection (kept after it closed, for the cause that follows).
    last: HashMap<SessionId, u32>,
    lost: HashSet<u32>,
}

impl Connections {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "wsmon_connections",
            "Open transport connections: one per open WebSocket over HTTP/1.1, shared ones over HTTP/2",
            self.gauge.clone(),
        );
        registry.register(
            "wsmon_connection_losses",
            "HTTP/2 connections lost (GOAWAY, TCP reset, PING timeout ...), each counted once",
            self.losses.clone(),
        );
        drop(
            self.gauge
                .get_or_create(&TransportLabels { transport: "h1" }),
        );
    }

    pub fn observe(&mut self, ev: &Event) {
        match &ev.kind {
            EventKind::Open { link, .. } => {
                let conn = (link.transport == Some(Proto::H2))
                    .then_some(link.connection)
                    .flatten();
                if let Some(c) = conn {
                    self.last.insert(ev.session, c);
                    drop(
                        self.gauge
                            .get_or_create(&TransportLabels { transport: "h2" }),
                    );
                }
                self.open.insert(ev.session, conn);
            }
            EventKind::Closed(_) => {
                self.open.remove(&ev.session);
            }
            EventKind::Removed => {
                self.open.remove(&ev.session);
                self.last.remove(&ev.session);
            }
            EventKind::Backoff(b) => self.cause(ev.session, &b.cause),
            EventKind::GaveUp { cause, .. }
            | EventKind::Ended {
                cause: Some(cause), ..
            } => self.cause(ev.session, cause),
            _ => return,
        }
        self.set_gauge();
    }

    fn cause(&mut self, session: SessionId, cause: &Cause) {
        let Cause::Connection { reason, .. } = cause else {
            return;
        };
        // A reset stream is not a lost connection.
        if *reason == LossReason::RstStream {
            return;
        }
        if let Some(c) = self.last.get(&session)
            && self.lost.insert(*c)
        {
            self.losses
                .get_or_create(&ReasonLabels {
                    reason: reason.as_str(),
                })
                .inc();
        }
    }

    fn set_gauge(&self) {
        let h1 = self.open.values().filter(|c| c.is_none()).count();
        let h2: HashSet<u32> = self.open.values().flatten().copied().collect();
        self.gauge
            .get_or_create(&TransportLabels { transport: "h1" })
            .set(i64::try_from(h1).unwrap_or(i64::MAX));
        if !h2.is_empty() || self.last.values().next().is_some() {
            self.gauge
                .get_or_create(&TransportLabels { transport: "h2" })
                .set(i64::try_from(h2.len()).unwrap_or(i64::MAX));
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::engine::events::{BackoffInfo, DelayKind, Initiator, Link};
    use crate::engine::test_events as build;

    fn open(session: SessionId, conn: Option<u32>) -> Event {
        let link = Link {
            transport: Some(if conn.is_some() { Proto::H2 } else { Proto::H1 }),
            connection: conn,
            stream: conn.map(|_| 1),
        };
        build::event(Utc::now(), session, EventKind::Open { attempt: 1, link })
    }

    fn lost(session: SessionId, reason: LossReason) -> Event {
        let cause = Cause::Connection {
            reason,
            h2_error: Some(0),
        };
        build::event(
            Utc::now(),
            session,
            EventKind::Backoff(BackoffInfo {
                attempt: 1,
                cause,
                kind: DelayKind::Backoff,
                window_ms: 100,
                delay_ms: 50,
                retry_after_ms: None,
                jitter: Default::default(),
                next_attempt_at: Utc::now(),
            }),
        )
    }

    fn text(c: &Connections) -> String {
        let mut registry = Registry::default();
        c.register(&mut registry);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry).expect("encodes");
        out
    }

    #[test]
    fn shared_connections_count_once_and_a_loss_counts_once_per_connection() {
        let mut c = Connections::default();
        for (s, conn) in [(1, Some(1)), (2, Some(1)), (3, Some(2)), (4, None)] {
            c.observe(&open(s, conn));
        }
        let t = text(&c);
        assert!(t.contains(r#"wsmon_connections{transport="h2"} 2"#), "{t}");
        assert!(t.contains(r#"wsmon_connections{transport="h1"} 1"#), "{t}");
        // c1 goes away under sessions 1 and 2: one loss. A reset stream is no loss.
        for s in [1, 2] {
            c.observe(&build::event(
                Utc::now(),
                s,
                build::closed(1006, Initiator::Server),
            ));
            c.observe(&lost(s, LossReason::Goaway));
        }
        c.observe(&lost(3, LossReason::RstStream));
        let t = text(&c);
        assert!(
            t.contains(r#"wsmon_connection_losses_total{reason="goaway"} 1"#),
            "{t}"
        );
        assert!(!t.contains("rst_stream"), "{t}");
        assert!(t.contains(r#"wsmon_connections{transport="h2"} 1"#), "{t}");
    }
}
