//! A session's attempt over HTTP/2 (RFC 8441): a place on a shared connection from the pool,
//! then an extended CONNECT on its own stream. The stream goes to the same open loop as an
//! HTTP/1.1 socket. Split from `session.rs`.

use super::*;
use crate::engine::h2pool::Leased;
use crate::protocol::http2::{self, Link, Proto};

impl Session {
    /// Lease a stream (opening a connection if all are full), then the extended CONNECT. Over
    /// `auto`, a server without HTTP/2 WebSockets gets the HTTP/1.1 upgrade instead.
    pub(super) async fn connect_h2(
        &mut self,
        attempt: u32,
        slot: Slot,
        deadline: Instant,
    ) -> Result<Upgraded, AttemptEnd> {
        let mut timings = Timings::default();
        let route = handshake::Route {
            proxy: self.spec.proxy.as_ref(),
            local: self.spec.local,
        };
        let shared = self.shared.clone();
        let key = (self.spec.target, self.spec.local);
        let fut = shared
            .h2
            .lease(key, &self.spec.url, route, &self.spec.request, &mut timings);
        let leased = match race(Box::pin(fut), deadline, &mut self.cmds, &mut self.paused).await {
            Err(stop) => return Err(AttemptEnd::Stopped(stop)),
            Ok(None) => return Err(self.connect_timed_out(&timings).await),
            Ok(Some(Err(e))) => return Err(self.transport_failed(e).await),
            Ok(Some(Ok(l))) => l,
        };
        let (send, lease) = match leased {
            Leased::H1(transport) => {
                self.link = Link {
                    transport: Some(Proto::H1),
                    ..Link::default()
                };
                return self
                    .connect_h1(attempt, slot, transport, timings, deadline)
                    .await;
            }
            Leased::H2 { send, lease } => (send, lease),
        };
        let conn = lease.connection().clone();
        self.link = Link {
            transport: Some(Proto::H2),
            connection: Some(conn.id),
            stream: None,
        };
        self.conn = Some(conn);

        self.emit(EventKind::Handshaking { attempt }).await;
        let fut = http2::open_stream(&send, lease, &self.spec.url, &self.spec.request, timings);
        let outcome = match race(Box::pin(fut), deadline, &mut self.cmds, &mut self.paused).await {
            Err(stop) => return Err(AttemptEnd::Stopped(stop)),
            Ok(r) => r,
        };
        drop(slot);
        if let Some(Ok(crate::protocol::handshake::UpgradeOutcome::Upgraded { transport, .. })) =
            &outcome
            && let Transport::H2(s) = transport
        {
            self.link.stream = Some(s.stream_id());
        }
        self.answered(outcome).await
    }

    /// An HTTP/2 session whose WebSocket ended without a close frame (1006) ended because of
    /// its transport: the connection's loss (GOAWAY, reset, PING timeout), else its stream's
    /// (RST_STREAM). That is the cause its retry records.
    pub(super) fn transport_cause(
        &self,
        end: AttemptEnd,
        stream: Option<std::sync::Arc<std::sync::Mutex<Option<http2::Loss>>>>,
    ) -> AttemptEnd {
        let AttemptEnd::Closed { code: 1006, uptime } = end else {
            return end;
        };
        let of_stream = stream.and_then(|s| s.lock().ok().and_then(|l| *l));
        let of_conn = self.conn.as_ref().and_then(|c| c.loss());
        match of_conn.or(of_stream) {
            Some(loss) => AttemptEnd::Lost {
                cause: Cause::Connection {
                    reason: loss.reason,
                    h2_error: loss.h2_error,
                },
                uptime,
            },
            None => end,
        }
    }

    /// The link the `connecting` event announces.
    pub(super) fn connecting_link(&self) -> Link {
        match self.shared.h2.mode() {
            http2::TransportMode::H2 => Link {
                transport: Some(Proto::H2),
                ..Link::default()
            },
            _ => Link::default(),
        }
    }
}
