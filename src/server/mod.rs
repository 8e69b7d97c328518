//! The scenario server behind `wsmon serve` and `wsmon demo`: one port, one path per
//! misbehaviour (echo, overload with 1013, flaky, scripted close codes, rejected upgrades,
//! dropped and stalled connections, bursts). See [`scenario::SCENARIOS`].
//!
//! The HTTP/1.1 upgrade is done here (bounded, timed), extensions are negotiated with
//! [`crate::protocol::extensions`], and the WebSocket side runs on tokio-tungstenite.
//! Shutdown follows mini-redis: a watch channel tells every connection to stop (open sessions
//! are closed with 1001 "server shutting down"), and the accept loop waits for them.

pub mod closing;
pub mod conn;
pub mod h2;
pub mod h2_io;
pub mod http;
pub mod messages;
pub mod scenario;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::engine::counters::{CounterValues, SessionCounters};

pub use scenario::SCENARIOS;

/// How long shutdown waits for connections to finish their close handshakes before it aborts
/// them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running scenario server. Dropping it without [`ServerHandle::shutdown`] also stops it,
/// without waiting.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    accept_loop: JoinHandle<()>,
    shared: Arc<Shared>,
    /// The HTTP/2 listener, when started with one.
    h2: Option<(SocketAddr, h2::H2Settings, JoinHandle<()>)>,
}

/// Listeners of a scenario server beyond its HTTP/1.1 one.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Also listen for HTTP/2 (h2c, prior knowledge) on this address, with these settings.
    pub h2: Option<(String, h2::H2Settings)>,
}

impl ServerHandle {
    /// The address the server listens on (the real port when bound to port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://ADDR/path` for a scenario path such as `/echo` or `overload?cap=3`.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("ws://{}{path}", self.addr)
        } else {
            format!("ws://{}/{path}", self.addr)
        }
    }

    /// The HTTP/2 listener's address, when there is one.
    pub fn h2_addr(&self) -> Option<SocketAddr> {
        self.h2.as_ref().map(|(addr, _, _)| *addr)
    }

    /// `ws://H2ADDR/path` on the HTTP/2 listener (a WebSocket URL: HTTP/2 is the transport).
    pub fn h2_url(&self, path: &str) -> Option<String> {
        let addr = self.h2_addr()?;
        let path = path.strip_prefix('/').unwrap_or(path);
        Some(format!("ws://{addr}/{path}"))
    }

    /// Traffic of every WebSocket session this server ran so far, added up: messages, wire
    /// bytes and payload bytes (so `compression_ratio()` shows what permessage-deflate saved).
    pub fn traffic(&self) -> CounterValues {
        self.shared.counters.load()
    }

    /// Stop accepting, close every open session with 1001 "server shutting down", and wait
    /// for the connections to finish (at most [`SHUTDOWN_GRACE`], then they are aborted).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        if let Err(e) = self.accept_loop.await {
            tracing::warn!(error = %e, "scenario server accept loop failed");
        }
        if let Some((_, _, h2_loop)) = self.h2
            && let Err(e) = h2_loop.await
        {
            tracing::warn!(error = %e, "scenario server HTTP/2 accept loop failed");
        }
    }
}

/// State shared by all connections of one server.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Open sessions on `/overload` (all caps share one count).
    overload_active: AtomicUsize,
    rng: Mutex<SmallRng>,
    /// Traffic of all sessions together (the deflate layer adds to it).
    counters: Arc<SessionCounters>,
}

impl Shared {
    fn new() -> Self {
        Shared {
            overload_active: AtomicUsize::new(0),
            rng: Mutex::new(SmallRng::from_os_rng()),
            counters: Arc::new(SessionCounters::default()),
        }
    }

    /// Take one of `cap` slots on `/overload`, or say how many are taken.
    pub(crate) fn try_overload_slot(&self, cap: usize) -> Result<OverloadSlot<'_>, usize> {
        self.overload_active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < cap).then_some(n + 1)
            })
            .map(|_| OverloadSlot(&self.overload_active))
    }

    pub(crate) fn rng(&self) -> MutexGuard<'_, SmallRng> {
        self.rng.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A held `/overload` slot; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct OverloadSlot<'a>(&'a AtomicUsize);

impl Drop for OverloadSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Pending-connection queue of the listener. tokio's default (1024) drops SYNs when thousands
/// of demo sessions reconnect at once, which shows up as one-second connect delays; the kernel
/// caps this at `net.core.somaxconn`.
pub const LISTEN_BACKLOG: u32 = 4096;

/// Bind (`127.0.0.1:0` picks a free port) and spawn the accept loop.
pub async fn start(bind: &str) -> std::io::Result<ServerHandle> {
    start_with(bind, &ServeOptions::default()).await
}

/// [`start`], with the listeners `options` add (an HTTP/2 one). Both share the scenario state.
pub async fn start_with(bind: &str, options: &ServeOptions) -> std::io::Result<ServerHandle> {
    let listener = listen(bind).await?;
    let addr = listener.local_addr()?;
    let h2_listener = match &options.h2 {
        Some((h2_bind, settings)) => Some((listen(h2_bind).await?, *settings)),
        None => None,
    };
    let (tx, rx) = watch::channel(false);
    let shared = Arc::new(Shared::new());
    let h2 = match h2_listener {
        Some((l, settings)) => {
            let h2_addr = l.local_addr()?;
            let kind = Kind::H2(settings);
            let task = tokio::spawn(accept_loop(l, kind, shared.clone(), rx.clone()));
            tracing::info!(addr = %h2_addr, "scenario server listening for HTTP/2");
            Some((h2_addr, settings, task))
        }
        None => None,
    };
    let accept_loop = tokio::spawn(accept_loop(listener, Kind::H1, shared.clone(), rx));
    tracing::info!(%addr, "scenario server listening");
    Ok(ServerHandle {
        addr,
        shutdown: tx,
        accept_loop,
        shared,
        h2,
    })
}

/// What a listener speaks.
#[derive(Debug, Clone, Copy)]
enum Kind {
    H1,
    H2(h2::H2Settings),
}

/// Resolve `bind` and listen on the first address that works.
async fn listen(bind: &str) -> std::io::Result<TcpListener> {
    let mut last_err = None;
    for addr in tokio::net::lookup_host(bind).await? {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        match socket
            .bind(addr)
            .and_then(|()| socket.listen(LISTEN_BACKLOG))
        {
            Ok(listener) => return Ok(listener),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{bind:?} resolves to no address"),
        )
    }))
}

async fn accept_loop(
    listener: TcpListener,
    kind: Kind,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            () = conn::shutting_down(&mut shutdown) => break,
            Some(done) = conns.join_next(), if !conns.is_empty() => {
                if let Err(e) = done
                    && e.is_panic()
                {
                    tracing::error!(error = %e, "scenario connection task panicked");
                }
            }
            accepted = listener.accept() => match accepted {
                Ok((sock, peer)) => {
                    let (shared, down) = (shared.clone(), shutdown.clone());
                    match kind {
                        Kind::H1 => conns.spawn(conn::handle(sock, peer, shared, down)),
                        Kind::H2(settings) => {
                            conns.spawn(h2::handle(sock, peer, shared, settings, down))
                        }
                    };
                }
                Err(e) if is_connection_error(&e) => {
                    tracing::debug!(error = %e, "accept: connection gone before accept");
                }
                Err(e) => {
                    // Typically out of file descriptors: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed; retrying in 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
    drop(listener);
    let open = conns.len();
    if open > 0 {
        tracing::info!(
            open,
            "scenario server shutting down: closing open connections"
        );
    }
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = conns.len(),
            "connections still open after the shutdown grace period: aborting them"
        );
        conns.shutdown().await;
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset | Interrupted
    )
}

/// The scenario paths, one per line, aligned: for 404 bodies and the banner.
pub fn path_list() -> String {
    let width = SCENARIOS.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    SCENARIOS
        .iter()
        .map(|(path, what)| format!("  {path:<width$}  {what}\n"))
        .collect()
}

/// The plain-text page served on `GET /`.
pub fn help_text() -> String {
    format!(
        "wsmon scenario server\n\n\
         Open a WebSocket to one of these paths:\n\n{}\n\
         DUR is a duration such as 500ms, 15s or 1m30s. Every path except /nodeflate accepts\n\
         permessage-deflate when the client offers it: /echo with exactly the parameters asked\n\
         for, the others also with server_no_context_takeover (no per-session compression\n\
         context on the server, so thousands of sessions stay small).\n\n\
         With `wsmon serve --h2`, an HTTP/2 listener (h2c, prior knowledge) serves the same paths\n\
         to an extended CONNECT (RFC 8441, :protocol websocket); the /h2/ paths work only there.\n",
        path_list()
    )
}

/// `wsmon serve` on a started server (`start`): print the address and the paths, serve until
/// Ctrl-C or SIGTERM.
pub async fn run(handle: ServerHandle) -> anyhow::Result<ExitCode> {
    println!("wsmon scenario server on ws://{}", handle.addr());
    if let Some((addr, settings, _)) = &handle.h2 {
        let note = if settings.connect_protocol {
            ""
        } else {
            " (extended CONNECT not announced: no WebSocket can open there)"
        };
        println!("HTTP/2 (h2c, RFC 8441) on ws://{addr}{note}");
    }
    println!();
    print!("{}", path_list());
    println!();
    println!("Press Ctrl-C to stop.");
    crate::signal::stop().await;
    eprintln!("wsmon: shutting down, closing open sessions with 1001");
    handle.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overload_slots_free_on_drop() {
        let shared = Shared::new();
        let a = shared.try_overload_slot(2).expect("first slot");
        let b = shared.try_overload_slot(2).expect("second slot");
        assert_eq!(shared.try_overload_slot(2).map(|_| ()), Err(2));
        drop(a);
        let c = shared.try_overload_slot(2).expect("freed slot");
        assert_eq!(shared.try_overload_slot(0).map(|_| ()), Err(2));
        drop((b, c));
        assert_eq!(shared.overload_active.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn help_lists_every_path() {
        let help = help_text();
        for (path, _) in SCENARIOS {
            assert!(help.contains(path), "{path}");
        }
    }
}
