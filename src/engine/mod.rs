//! The session engine: one task per session, a supervisor, and the pure backoff policy.
//!
//! ```text
//! session tasks --StoreMsg (bounded)--> store task --ExportMsg (bounded)--> export writer thread
//!                                            \--watch<Arc<Snapshot>>--> TUI / headless
//! TUI --Command (bounded)--> supervisor --SessionCmd--> session tasks
//! ```

pub mod backoff;
pub mod counters;
pub mod events;
pub mod session;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::SeedableRng;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use crate::codes::Registry;
use crate::config::{Config, Target, parse_url};
use crate::engine::counters::SessionCounters;
use crate::engine::events::{Command, Notice, SessionId};
use crate::engine::session::{Session, SessionCmd, SessionSpec, Shared};
use crate::export::ExportWriter;
use crate::protocol::handshake::{RequestSpec, tls_connector};
use crate::state::snapshot::Snapshot;
use crate::state::store::{self, ExportMsg, Store, StoreMsg};

/// Capacity of the session -> store channel. Bounded: a slow store slows sessions down.
const STORE_QUEUE: usize = 16 * 1024;
/// Capacity of the store -> export writer channel.
const EXPORT_QUEUE: usize = 16 * 1024;

/// A running engine.
pub struct Engine {
    /// Read-only snapshots, at most ~10 per second.
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// Commands (from the TUI, or `Shutdown` from headless mode).
    pub commands: mpsc::Sender<Command>,
    /// Messages for the UI about commands (e.g. "export flushed: ..."); the UI takes it.
    pub notices: Option<mpsc::Receiver<Notice>>,
    supervisor: tokio::task::JoinHandle<()>,
    store: tokio::task::JoinHandle<Arc<Snapshot>>,
    writer: Option<std::thread::JoinHandle<Result<u64, String>>>,
}

impl Engine {
    /// Ask every session to close with 1001, wait for them, flush the export.
    /// Returns the final snapshot and the export result (events written, or the error).
    pub async fn shutdown(self) -> (Arc<Snapshot>, Option<Result<u64, String>>) {
        let _ = self.commands.send(Command::Shutdown).await;
        self.wait().await
    }

    /// Wait for the engine to stop (after a `Command::Shutdown`).
    pub async fn wait(self) -> (Arc<Snapshot>, Option<Result<u64, String>>) {
        let Engine {
            snapshots,
            commands,
            supervisor,
            store,
            writer,
            ..
        } = self;
        drop(commands);
        let _ = supervisor.await;
        let last = match store.await {
            Ok(s) => s,
            Err(_) => snapshots.borrow().clone(),
        };
        let export = match writer {
            Some(w) => Some(
                tokio::task::spawn_blocking(move || {
                    w.join()
                        .unwrap_or_else(|_| Err("export writer panicked".into()))
                })
                .await
                .unwrap_or_else(|e| Err(format!("export writer: {e}"))),
            ),
            None => None,
        };
        (last, export)
    }
}

/// Start the engine: the store, the export writer, the supervisor and every session.
pub fn start(cfg: Config, registry: Arc<Registry>) -> anyhow::Result<Engine> {
    let exported = Arc::new(AtomicU64::new(0));
    let (export_tx, writer) = match &cfg.export {
        Some(path) => {
            let (tx, handle) = spawn_writer(path.clone(), registry.clone(), exported.clone())?;
            (Some(tx), Some(handle))
        }
        None => (None, None),
    };
    let export_path = cfg.export.as_ref().map(|p| p.display().to_string());
    let (store_tx, store_rx) = mpsc::channel(STORE_QUEUE);
    let (snap_tx, snap_rx) = watch::channel(Arc::new(Snapshot::default()));
    let store = tokio::spawn(store::run(
        Store::new(export_path, exported),
        store_rx,
        snap_tx,
        export_tx,
    ));

    let tls = tls_connector(cfg.session.insecure).map_err(|e| anyhow::anyhow!(e))?;
    let shared = Arc::new(Shared {
        settings: cfg.session.clone(),
        backoff: cfg.backoff.clone(),
        tls: Some(tls),
        registry,
        store: store_tx,
    });
    let (cmd_tx, cmd_rx) = mpsc::channel(256);
    let (notice_tx, notice_rx) = mpsc::channel(64);
    let seed = cfg
        .seed
        .unwrap_or_else(|| rand::Rng::random(&mut rand::rngs::SmallRng::from_os_rng()));
    let mut sup = Supervisor {
        shared,
        targets: Vec::new(),
        sessions: BTreeMap::new(),
        tasks: JoinSet::new(),
        next_id: 1,
        seed,
        notices: notice_tx,
    };
    let initial = cfg.targets.clone();
    let supervisor = tokio::spawn(async move {
        for t in initial {
            let n = t.sessions;
            sup.add_target(t, n).await;
        }
        sup.run(cmd_rx).await
    });
    Ok(Engine {
        snapshots: snap_rx,
        commands: cmd_tx,
        notices: Some(notice_rx),
        supervisor,
        store,
        writer,
    })
}

type WriterSpawn = (
    mpsc::Sender<ExportMsg>,
    std::thread::JoinHandle<Result<u64, String>>,
);

/// The export writer runs on its own thread: file I/O never blocks the runtime.
fn spawn_writer(
    path: PathBuf,
    registry: Arc<Registry>,
    exported: Arc<AtomicU64>,
) -> anyhow::Result<WriterSpawn> {
    let name = move |code: u16| registry.name(code);
    let mut writer = ExportWriter::create(&path, Arc::new(name))
        .map_err(|e| anyhow::anyhow!("cannot write export {}: {e}", path.display()))?;
    let (tx, mut rx) = mpsc::channel::<ExportMsg>(EXPORT_QUEUE);
    let handle = std::thread::Builder::new()
        .name("wsmon-export".into())
        .spawn(move || {
            let mut error: Option<String> = None;
            while let Some(msg) = rx.blocking_recv() {
                match msg {
                    ExportMsg::Event(ev) => {
                        if error.is_none() {
                            if let Err(e) = writer.write(&ev) {
                                error = Some(format!("export {}: {e}", path.display()));
                            }
                            exported.store(writer.count(), Ordering::Relaxed);
                        }
                    }
                    ExportMsg::Flush(reply) => {
                        let r = match (&error, writer.flush()) {
                            (Some(e), _) => Err(e.clone()),
                            (None, Err(e)) => Err(format!("export {}: {e}", path.display())),
                            (None, Ok(())) => Ok(writer.count()),
                        };
                        let _ = reply.send(r);
                    }
                }
            }
            match (error, writer.flush()) {
                (Some(e), _) => Err(e),
                (None, Err(e)) => Err(format!("export {}: {e}", path.display())),
                (None, Ok(())) => Ok(writer.count()),
            }
        })?;
    Ok((tx, handle))
}

struct TargetEntry {
    target: Target,
    request: Arc<RequestSpec>,
    url_shown: String,
    /// Live sessions of this target, oldest first.
    sessions: Vec<SessionId>,
}

struct Supervisor {
    shared: Arc<Shared>,
    targets: Vec<TargetEntry>,
    sessions: BTreeMap<SessionId, mpsc::Sender<SessionCmd>>,
    tasks: JoinSet<SessionId>,
    next_id: SessionId,
    seed: u64,
    notices: mpsc::Sender<Notice>,
}

impl Supervisor {
    async fn add_target(&mut self, target: Target, count: usize) -> usize {
        let request = Arc::new(RequestSpec {
            headers: target.headers.clone(),
            subprotocols: target.subprotocols.clone(),
            offers: target.offers.clone(),
            required: target.require.clone(),
        });
        let url_shown = crate::redact::url(target.url.as_str());
        self.targets.push(TargetEntry {
            target,
            request,
            url_shown,
            sessions: Vec::new(),
        });
        let idx = self.targets.len() - 1;
        self.grow(idx, count).await;
        idx
    }

    async fn grow(&mut self, target: usize, count: usize) {
        if target >= self.targets.len() {
            return;
        }
        for _ in 0..count {
            let id = self.next_id;
            self.next_id += 1;
            let counters = Arc::new(SessionCounters::default());
            // Registration goes on the same channel as the events, before the session starts,
            // so it arrives first.
            let _ = self
                .shared
                .store
                .send(StoreMsg::Register {
                    id,
                    counters: counters.clone(),
                })
                .await;
            let entry = &mut self.targets[target];
            let (tx, rx) = mpsc::channel(16);
            let spec = SessionSpec {
                id,
                target,
                url: entry.target.url.clone(),
                url_shown: entry.url_shown.clone(),
                request: entry.request.clone(),
                seed: self
                    .seed
                    .wrapping_add(id.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            };
            let session = Session::new(spec, self.shared.clone(), counters, rx);
            self.tasks.spawn(async move {
                session.run().await;
                id
            });
            self.sessions.insert(id, tx);
            entry.sessions.push(id);
        }
    }

    async fn send(&self, id: SessionId, cmd: SessionCmd) {
        if let Some(tx) = self.sessions.get(&id) {
            let _ = tx.send(cmd).await;
        }
    }

    fn notice(&self, msg: Notice) {
        let _ = self.notices.try_send(msg);
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        loop {
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None | Some(Command::Shutdown) => break,
                    Some(cmd) => self.handle(cmd).await,
                },
                Some(done) = self.tasks.join_next() => {
                    if let Ok(id) = done {
                        self.forget(id);
                    }
                }
            }
        }
        // Graceful shutdown: every session closes with 1001 and we wait for the close handshakes.
        for tx in self.sessions.values() {
            let _ = tx.send(SessionCmd::Shutdown).await;
        }
        let grace = self.shared.settings.close_timeout + Duration::from_secs(1);
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_err() {
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
    }

    fn forget(&mut self, id: SessionId) {
        self.sessions.remove(&id);
        for t in &mut self.targets {
            t.sessions.retain(|s| *s != id);
        }
    }

    async fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::AddSessions { url, count } => match parse_url(&url) {
                Ok(u) => {
                    let count = count.clamp(1, 100_000);
                    if let Some(i) = self.targets.iter().position(|t| t.target.url == u) {
                        self.grow(i, count).await;
                        self.notice(Notice::SessionsAdded {
                            url: crate::redact::url(u.as_str()),
                            count,
                        });
                    } else {
                        let template = self.targets.first().map(|t| t.target.clone());
                        let target = match template {
                            Some(t) => Target {
                                url: u,
                                sessions: count,
                                ..t
                            },
                            None => Target {
                                url: u,
                                sessions: count,
                                headers: Vec::new(),
                                subprotocols: Vec::new(),
                                offers: crate::protocol::extensions::parse_header(
                                    crate::config::DEFAULT_OFFER,
                                )
                                .unwrap_or_default(),
                                require: Vec::new(),
                            },
                        };
                        let shown = crate::redact::url(target.url.as_str());
                        self.add_target(target, count).await;
                        self.notice(Notice::TargetAdded { url: shown, count });
                    }
                }
                Err(e) => self.notice(Notice::AddFailed {
                    error: e.to_string(),
                }),
            },
            Command::Grow { target, count } => self.grow(target, count.clamp(1, 100_000)).await,
            Command::Shrink { target, count } => {
                let ids: Vec<SessionId> = match self.targets.get_mut(target) {
                    Some(t) => {
                        let keep = t.sessions.len().saturating_sub(count);
                        t.sessions.split_off(keep)
                    }
                    None => Vec::new(),
                };
                for id in ids {
                    self.send(id, SessionCmd::Remove).await;
                }
            }
            Command::Close {
                session,
                code,
                reason,
            } => self.send(session, SessionCmd::Close { code, reason }).await,
            Command::ReconnectNow { session: Some(id) } => {
                self.send(id, SessionCmd::ReconnectNow).await
            }
            Command::ReconnectNow { session: None } => {
                for tx in self.sessions.values() {
                    let _ = tx.send(SessionCmd::ReconnectNow).await;
                }
            }
            Command::SetPaused {
                session: Some(id),
                paused,
            } => self.send(id, SessionCmd::SetPaused(paused)).await,
            Command::SetPaused {
                session: None,
                paused,
            } => {
                for tx in self.sessions.values() {
                    let _ = tx.send(SessionCmd::SetPaused(paused)).await;
                }
            }
            Command::FlushExport => {
                let (reply, answer) = oneshot::channel();
                if self
                    .shared
                    .store
                    .send(StoreMsg::FlushExport(reply))
                    .await
                    .is_ok()
                {
                    let notices = self.notices.clone();
                    tokio::spawn(async move {
                        let msg = match answer.await {
                            Ok(Ok(n)) => Notice::ExportFlushed { events: n },
                            Ok(Err(e)) if e.starts_with("no export file") => Notice::NoExport,
                            Ok(Err(error)) => Notice::ExportFailed { error },
                            Err(_) => Notice::ExportFailed {
                                error: "the export writer is gone".to_string(),
                            },
                        };
                        let _ = notices.send(msg).await;
                    });
                }
            }
            Command::Shutdown => {}
            Command::Many(cmds) => {
                for cmd in cmds {
                    // One level deep: the TUI never nests them.
                    if !matches!(cmd, Command::Many(_) | Command::Shutdown) {
                        Box::pin(self.handle(cmd)).await;
                    }
                }
            }
        }
    }
}
