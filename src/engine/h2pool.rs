//! Shared HTTP/2 connections (`--transport h2|auto`): a pool per target (and source address)
//! that hands each session a place for its stream on a connection with room, and opens a new
//! connection only when every live one is full (`--streams-per-connection`, capped by the
//! server's SETTINGS_MAX_CONCURRENT_STREAMS). Retries reuse connections with free streams.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use h2::client::SendRequest;
use tokio_rustls::TlsConnector;
use url::Url;

use crate::protocol::error::ErrorKind;
use crate::protocol::handshake::{self, ConnectError, RequestSpec, Route, Timings, Transport};
use crate::protocol::http2::{self, ConnShared, Lease, TransportMode};

/// Connections are keyed by target and source address (sessions of one target may bind
/// different `--local-addr`s).
type Key = (usize, Option<IpAddr>);

/// What a session gets from the pool.
pub enum Leased {
    /// A place on this connection (the session that opened it has the DNS, TCP and TLS
    /// phases in its timings).
    H2 {
        send: SendRequest<Bytes>,
        lease: Lease,
    },
    /// Use HTTP/1.1 (`auto` on ws://, or a server without HTTP/2 or extended CONNECT); over TLS
    /// the stream ALPN settled on `http/1.1` comes along, ready for the upgrade.
    H1(Option<Transport>),
}

struct Pooled {
    send: SendRequest<Bytes>,
    shared: Arc<ConnShared>,
    limit: usize,
}

#[derive(Default)]
struct Entry {
    conns: Vec<Pooled>,
    /// `auto` found no HTTP/2 WebSockets here: HTTP/1.1 from now on.
    h1_only: bool,
}

/// The pool, held in the sessions' `Shared`.
pub struct Pool {
    mode: TransportMode,
    per_connection: usize,
    keepalive: Option<Duration>,
    /// ALPN `h2` only (`h2`), or `h2, http/1.1` (`auto`).
    tls: Option<TlsConnector>,
    next_id: AtomicU32,
    entries: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<Entry>>>>,
}

impl Pool {
    /// A pool for `mode`; `keepalive` is the PING interval on each connection.
    pub fn new(
        mode: TransportMode,
        per_connection: usize,
        insecure: bool,
        keepalive: Option<Duration>,
    ) -> Result<Self, String> {
        let alpn: &[&[u8]] = match mode {
            TransportMode::H1 => &[],
            TransportMode::H2 => &[b"h2"],
            TransportMode::Auto => &[b"h2", b"http/1.1"],
        };
        let tls = match mode {
            TransportMode::H1 => None,
            _ => Some(handshake::tls_connector_alpn(insecure, alpn)?),
        };
        Ok(Pool {
            mode,
            per_connection: per_connection.max(1),
            keepalive,
            tls,
            next_id: AtomicU32::new(1),
            entries: Mutex::new(HashMap::new()),
        })
    }

    pub fn mode(&self) -> TransportMode {
        self.mode
    }

    /// Whether sessions to `url` go through the pool at all.
    pub fn applies_to(&self, url: &Url) -> bool {
        match self.mode {
            TransportMode::H1 => false,
            TransportMode::H2 => true,
            TransportMode::Auto => url.scheme() == "wss",
        }
    }

    /// Live connections (for the gauges), and their streams.
    pub fn connections(&self) -> usize {
        let Ok(entries) = self.entries.lock() else {
            return 0;
        };
        entries
            .values()
            .filter_map(|e| e.try_lock().ok().map(|e| e.conns.len()))
            .sum()
    }

    /// A place for one stream to `url`: on a live connection with room, else on a new one
    /// (opened here, filling `timings`). Sessions asking at once wait for the one opening.
    pub async fn lease(
        &self,
        key: (usize, Option<IpAddr>),
        url: &Url,
        route: Route<'_>,
        spec: &RequestSpec,
        timings: &mut Timings,
    ) -> Result<Leased, ConnectError> {
        let entry = {
            let mut entries = self
                .entries
                .lock()
                .map_err(|_| ConnectError::new(ErrorKind::Internal, "pool poisoned", *timings))?;
            entries.entry(key).or_default().clone()
        };
        let mut entry = entry.lock().await;
        if entry.h1_only {
            return Ok(Leased::H1(None));
        }
        entry.conns.retain(|c| !c.shared.is_dead());
        if let Some(c) = entry
            .conns
            .iter()
            .find(|c| c.shared.active.load(Ordering::Acquire) < c.limit)
        {
            return Ok(Leased::H2 {
                send: c.send.clone(),
                lease: Lease::new(&c.shared),
            });
        }
        let transport =
            handshake::open_transport_via(url, self.tls.as_ref(), timings, route).await?;
        let negotiated_h2 = transport.alpn() == Some(b"h2".as_slice());
        if url.scheme() == "wss" && !negotiated_h2 {
            if self.mode == TransportMode::Auto {
                entry.h1_only = true;
                return Ok(Leased::H1(Some(transport)));
            }
            return Err(ConnectError::new(
                ErrorKind::Handshake,
                "the server did not choose HTTP/2 in the TLS handshake (ALPN h2): \
                 it cannot carry WebSockets over HTTP/2 (try --transport auto or h1)",
                *timings,
            ));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = http2::connect(transport, id, self.keepalive)
            .await
            .map_err(|e| ConnectError {
                timings: *timings,
                ..e
            })?;
        if !conn.extended_connect {
            if self.mode == TransportMode::Auto {
                entry.h1_only = true;
                return Ok(Leased::H1(None));
            }
            return Err(http2::no_extended_connect(url, spec, *timings));
        }
        let limit = self.per_connection.min(conn.max_streams.max(1));
        let lease = Lease::new(&conn.shared);
        let send = conn.send.clone();
        entry.conns.push(Pooled {
            send: conn.send,
            shared: conn.shared,
            limit,
        });
        Ok(Leased::H2 { send, lease })
    }
}
