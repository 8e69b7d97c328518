//! The runtime: wires one source of events to the store and its sinks, and hands the front end
//! what it needs (snapshots, a command sender, typed notices).
//!
//! ```text
//! source (the live engine) --SessionMsg (bounded)--> store task
//! store task --SinkMsg (bounded, every event, in order, batched)--> each sink (export writer thread, ...)
//! store task --watch<Arc<Snapshot>> (<= 10/s)--> front end (TUI, headless)
//! live sessions --each frame, under a short lock--> the store's message logs (no event)
//! front end --Request (bounded)--> router --Source::Cmd (bounded)--> source    (FlushExport is answered here)
//! ```
//!
//! A recorded log ([`replay::Replay`]) keeps its own store at a recorded clock and publishes
//! the snapshots itself ([`Source::OWN_STORE`]); its commands come on the same channel.
//!
//! A new source implements [`Source`]; a new sink is a [`Sink`] passed in [`Sinks::others`].
//! Neither needs a change in the engine.

pub mod metrics_sink;
pub mod replay;
pub mod threads;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::codes::Registry;
use crate::engine::events::{Command, Notice, SessionMsg};
use crate::engine::{self, EngineSettings};
use crate::export::{ExportError, ExportWriter, RunInfo};
use crate::metrics::registry::{ExportCounts, Metrics};
use crate::state::export_fault::ExportFault;
use crate::state::messages::{LogCaps, MessageLogs};
use crate::state::snapshot::Snapshot;
use crate::state::store::{self, Pace, SinkMsg, Store};

/// Capacity of the source -> store channel. Bounded: a slow store slows sessions down.
const EVENT_QUEUE: usize = 16 * 1024;
/// Capacity of the store -> sink channels, in batches (of at most `store::BATCH` events).
const SINK_QUEUE: usize = 16;
/// Capacity of the front end -> source command channels.
const COMMAND_QUEUE: usize = 256;
/// Capacity of the notice channel to the front end.
const NOTICE_QUEUE: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot write export {path}: {source}")]
    Export { path: String, source: ExportError },
    #[error("cannot start the {name} thread: {source}")]
    Thread {
        name: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Engine(#[from] engine::StartError),
}

/// What a front end asks of the runtime: a command for the engine, or one for a recording's
/// time cursor. Both travel on the one bounded command channel ([`Runtime::commands`]); the
/// source takes the kind it knows ([`Source::accept`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Engine(Command),
    Replay(replay::ReplayCmd),
}

impl From<Command> for Request {
    fn from(cmd: Command) -> Request {
        Request::Engine(cmd)
    }
}

/// A request is the engine command it carries (tests compare what the keys returned).
impl PartialEq<Command> for Request {
    fn eq(&self, other: &Command) -> bool {
        matches!(self, Request::Engine(cmd) if cmd == other)
    }
}

impl From<replay::ReplayCmd> for Request {
    fn from(cmd: replay::ReplayCmd) -> Request {
        Request::Replay(cmd)
    }
}

/// The ends a source is given: where its events go, where its commands come from, where its
/// answers to commands go, and (for a source that keeps its own store) where its snapshots go.
pub struct SourceIo<C> {
    pub events: mpsc::Sender<SessionMsg>,
    pub commands: mpsc::Receiver<C>,
    pub notices: mpsc::Sender<Notice>,
    /// `Some` exactly when the source keeps its own store ([`Source::OWN_STORE`]).
    pub snapshots: Option<watch::Sender<Arc<Snapshot>>>,
    /// The store's message logs, for a source that logs its frames itself
    /// ([`Source::LOGS_MESSAGES`]).
    pub messages: MessageLogs,
}

/// Something that feeds the store: the live engine, or a recorded log ([`replay::Replay`]).
/// The returned task ends once the source has stopped and dropped its event sender.
pub trait Source {
    /// The commands it takes: the engine's [`Command`], a recording's [`replay::ReplayCmd`].
    type Cmd: Send + 'static;
    /// The source keeps its own store and publishes its snapshots on `SourceIo::snapshots`;
    /// the runtime then runs no store task.
    const OWN_STORE: bool = false;
    /// The command in a front end's request that this source takes (others are dropped).
    fn accept(req: Request) -> Option<Self::Cmd>;
    fn start(self, io: SourceIo<Self::Cmd>) -> Result<JoinHandle<()>, RuntimeError>;
    /// The bounds of the store's message logs (`--message-log`).
    fn message_caps(&self) -> LogCaps {
        LogCaps::default()
    }
    /// The source pushes its sessions' frames into [`SourceIo::messages`] itself; its `message`
    /// events (if any) only go to the sinks. Otherwise the store logs the `message` events.
    const LOGS_MESSAGES: bool = false;
}

/// The live engine: a supervisor and one task per session.
pub struct Live {
    pub settings: EngineSettings,
    pub registry: Arc<Registry>,
}

impl Source for Live {
    type Cmd = Command;
    const LOGS_MESSAGES: bool = true;

    fn accept(req: Request) -> Option<Command> {
        match req {
            Request::Engine(cmd) => Some(cmd),
            // The TUI refuses the time cursor keys outside replay.
            Request::Replay(_) => None,
        }
    }

    fn message_caps(&self) -> LogCaps {
        LogCaps::from(&self.settings.session.messages)
    }

    fn start(self, io: SourceIo<Command>) -> Result<JoinHandle<()>, RuntimeError> {
        Ok(engine::start(
            self.settings,
            self.registry,
            io.events,
            io.commands,
            io.notices,
            Arc::new(io.messages),
        )?)
    }
}

/// What a sink reports when it ends: events written, or the error that stopped it.
pub type SinkResult = Result<u64, String>;

/// A consumer of every event, fed by the store in order on its own bounded queue, running on
/// its own thread (its I/O never blocks the async runtime).
pub struct Sink {
    tx: mpsc::Sender<SinkMsg>,
    thread: std::thread::JoinHandle<SinkResult>,
}

impl Sink {
    /// Run `consume` on a thread named `name`; it reads its queue until the store closes it.
    pub fn spawn(
        name: &str,
        consume: impl FnOnce(mpsc::Receiver<SinkMsg>) -> SinkResult + Send + 'static,
    ) -> Result<Sink, RuntimeError> {
        let (tx, rx) = mpsc::channel(SINK_QUEUE);
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || consume(rx))
            .map_err(|source| RuntimeError::Thread {
                name: name.to_string(),
                source,
            })?;
        Ok(Sink { tx, thread })
    }

    async fn join(thread: std::thread::JoinHandle<SinkResult>) -> SinkResult {
        tokio::task::spawn_blocking(move || {
            thread
                .join()
                .unwrap_or_else(|_| Err("sink thread panicked".into()))
        })
        .await
        .unwrap_or_else(|e| Err(format!("sink thread: {e}")))
    }
}

/// The export writer as a sink: every event to `--export FILE`, a flush at least once a second.
pub struct ExportSink {
    sink: Sink,
    path: PathBuf,
    exported: Arc<AtomicU64>,
    fault: Arc<ExportFault>,
    failed: Arc<AtomicU64>,
}

impl ExportSink {
    /// Create (truncate) the file and start its writer thread.
    pub fn create(path: &Path, registry: Arc<Registry>) -> Result<ExportSink, RuntimeError> {
        Self::create_for(path, registry, RunInfo::default())
    }

    /// [`ExportSink::create`] for a run whose `spawned` events carry `run` (shard, start time).
    pub fn create_for(
        path: &Path,
        registry: Arc<Registry>,
        run: RunInfo,
    ) -> Result<ExportSink, RuntimeError> {
        let name = move |code: u16| registry.name(code);
        let mut writer =
            ExportWriter::create(path, Arc::new(name)).map_err(|source| RuntimeError::Export {
                path: crate::redact::escape_control(&path.display().to_string()),
                source,
            })?;
        writer.set_run(run);
        let exported = Arc::new(AtomicU64::new(0));
        let fault = Arc::new(ExportFault::default());
        let failed = Arc::new(AtomicU64::new(0));
        let mut out = ExportOut {
            writer: Some(writer),
            path: path.to_path_buf(),
            received: 0,
            exported: exported.clone(),
            fault: fault.clone(),
            failed: failed.clone(),
        };
        let sink = Sink::spawn("wsmon-export", move |mut rx| {
            while let Some(msg) = rx.blocking_recv() {
                match msg {
                    SinkMsg::Events(batch) => batch.iter().for_each(|ev| out.write(ev)),
                    SinkMsg::Flush(reply) => {
                        let _ = reply.send(out.flush());
                    }
                }
            }
            out.flush()
        })?;
        Ok(ExportSink {
            sink,
            path: path.to_path_buf(),
            exported,
            fault,
            failed,
        })
    }

    /// The export's counts, as `wsmon_export_events_total` and `wsmon_export_errors_total`.
    pub fn counts(&self) -> ExportCounts {
        ExportCounts {
            written: self.exported.clone(),
            failed: self.failed.clone(),
        }
    }
}

/// The writer thread's state. The first failed write or flush stops the writing: the file is
/// cut back to its last whole event, and the failure (with the count of events not written,
/// growing with every later event) goes to the store's snapshots at once.
struct ExportOut {
    /// `None` once a write failed.
    writer: Option<ExportWriter>,
    path: PathBuf,
    /// Events handed to this sink.
    received: u64,
    exported: Arc<AtomicU64>,
    fault: Arc<ExportFault>,
    /// Events not written, for the metrics (`wsmon_export_errors_total`).
    failed: Arc<AtomicU64>,
}

impl ExportOut {
    fn write(&mut self, ev: &crate::engine::events::Event) {
        self.received += 1;
        let Some(w) = self.writer.as_mut() else {
            self.fault.add_unwritten();
            self.failed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        match w.write(ev) {
            Ok(()) => self.exported.store(w.count(), Ordering::Relaxed),
            Err(e) => self.fail(&e),
        }
    }

    fn flush(&mut self) -> SinkResult {
        if let Some(w) = self.writer.as_mut() {
            match w.flush() {
                Ok(()) => return Ok(w.count()),
                Err(e) => self.fail(&e),
            }
        }
        Err(self.fault.error().unwrap_or("export failed").to_string())
    }

    fn fail(&mut self, error: &ExportError) {
        let Some(w) = self.writer.take() else {
            return;
        };
        let format = w.format();
        w.abandon();
        let (written, whole) = match crate::export::salvage(&self.path, format) {
            Ok(n) => (
                n,
                format!("the file holds the first {n} events, each whole"),
            ),
            Err(e) => (
                self.exported.load(Ordering::Relaxed),
                format!("its last line may be cut ({e})"),
            ),
        };
        // `exported` stays as it is: it is a counter (metrics) and must not go down; the
        // message and `unwritten` say what the file really holds.
        // The OS's words first: they are what a narrow header keeps.
        let what = match error {
            ExportError::Io { path, source } => format!("{source} writing {}", path.display()),
            other => other.to_string(),
        };
        let message = format!("{what}; {whole}; later events are not written");
        tracing::error!("{message}");
        // At least the write or flush that failed did not make it.
        let unwritten = self.received.saturating_sub(written).max(1);
        self.failed.store(unwritten, Ordering::Relaxed);
        self.fault.fail(message, unwritten);
    }
}

/// Where the store's events go.
#[derive(Default)]
pub struct Sinks {
    /// `--export FILE`: its path and count show in snapshots, `FlushExport` flushes it, and its
    /// result is what [`Runtime::wait`] reports.
    pub export: Option<ExportSink>,
    /// Any other consumer of every event.
    pub others: Vec<Sink>,
}

/// A running source, store and sinks.
pub struct Runtime {
    /// Read-only snapshots, at most ~10 per second.
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    /// Commands (from the TUI, or `Shutdown` from headless mode).
    pub commands: mpsc::Sender<Request>,
    /// Answers to commands (e.g. "export flushed"); the front end takes it.
    pub notices: Option<mpsc::Receiver<Notice>>,
    source: JoinHandle<()>,
    router: JoinHandle<()>,
    /// `None` for a source with its own store.
    store: Option<JoinHandle<Arc<Snapshot>>>,
    export: Option<std::thread::JoinHandle<SinkResult>>,
    others: Vec<std::thread::JoinHandle<SinkResult>>,
    /// The `/metrics` endpoint, stopped once the store has stopped (unless the front end took
    /// it with [`Runtime::take_metrics`] to let it linger).
    metrics: Option<crate::metrics::http::Endpoint>,
    /// Asks the store for a snapshot now ([`Runtime::fresh_snapshot`]).
    refresh: Arc<tokio::sync::Notify>,
}

/// Start `source` feeding the store, and the store feeding `sinks`; snapshots ten a second.
pub fn start<S: Source>(source: S, sinks: Sinks) -> Result<Runtime, RuntimeError> {
    start_paced(source, sinks, store::MIN_PUBLISH)
}

/// [`start`], with snapshots at most every `snapshot_every` (and at least once a second).
pub fn start_paced<S: Source>(
    source: S,
    sinks: Sinks,
    snapshot_every: Duration,
) -> Result<Runtime, RuntimeError> {
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (source_cmd_tx, source_cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (notice_tx, notice_rx) = mpsc::channel(NOTICE_QUEUE);
    let (snap_tx, snap_rx) = watch::channel(Arc::new(Snapshot::default()));
    let (store_snapshots, source_snapshots) = if S::OWN_STORE {
        (None, Some(snap_tx))
    } else {
        (Some(snap_tx), None)
    };
    let messages = MessageLogs::new(source.message_caps());
    let source = source.start(SourceIo {
        events: events_tx,
        commands: source_cmd_rx,
        notices: notice_tx.clone(),
        snapshots: source_snapshots,
        messages: messages.clone(),
    })?;

    let mut txs = Vec::new();
    let (store, export_flush, export) = match sinks.export {
        Some(e) => {
            let weak = e.sink.tx.downgrade();
            txs.push(e.sink.tx);
            let mut store = Store::new(Some(e.path.display().to_string()), e.exported);
            store.set_export_fault(e.fault);
            (store, Some(weak), Some(e.sink.thread))
        }
        None => (Store::new(None, Arc::new(AtomicU64::new(0))), None, None),
    };
    let mut store = store;
    store.use_message_logs(messages, S::LOGS_MESSAGES);
    let mut others = Vec::new();
    for s in sinks.others {
        txs.push(s.tx);
        others.push(s.thread);
    }
    let pace = Pace::every(snapshot_every);
    let refresh = pace.refresh.clone();
    let store = store_snapshots
        .map(|snap_tx| tokio::spawn(store::run(store, events_rx, snap_tx, txs, pace)));
    let router = tokio::spawn(route(
        cmd_rx,
        source_cmd_tx,
        S::accept,
        export_flush,
        notice_tx,
    ));
    Ok(Runtime {
        snapshots: snap_rx,
        commands: cmd_tx,
        notices: Some(notice_rx),
        source,
        router,
        store,
        export,
        others,
        metrics: None,
        refresh,
    })
}

/// What a live run writes about itself in its export's `spawned` events.
fn run_info(settings: &EngineSettings) -> RunInfo {
    RunInfo {
        shard: settings.shard.to_string(),
        start_at: settings.start_at,
        record_messages: settings.session.messages.record,
    }
}

/// The live engine with an optional export file: what `watch` and `demo` run; snapshots ten a
/// second.
pub fn live(
    settings: EngineSettings,
    registry: Arc<Registry>,
    export: Option<&Path>,
) -> Result<Runtime, RuntimeError> {
    live_paced(settings, registry, export, store::MIN_PUBLISH)
}

/// [`live`], with snapshots at most every `snapshot_every`.
pub fn live_paced(
    settings: EngineSettings,
    registry: Arc<Registry>,
    export: Option<&Path>,
    snapshot_every: Duration,
) -> Result<Runtime, RuntimeError> {
    let export = export
        .map(|p| ExportSink::create_for(p, registry.clone(), run_info(&settings)))
        .transpose()?;
    start_paced(
        Live { settings, registry },
        Sinks {
            export,
            others: Vec::new(),
        },
        snapshot_every,
    )
}

/// [`live`], and with `metrics` (a bound `--metrics` listener) the metrics sink and the
/// `/metrics` endpoint on that listener.
pub fn live_with_metrics(
    settings: EngineSettings,
    registry: Arc<Registry>,
    export: Option<&Path>,
    metrics: Option<tokio::net::TcpListener>,
    snapshot_every: Duration,
) -> Result<Runtime, RuntimeError> {
    let Some(listener) = metrics else {
        return live_paced(settings, registry, export, snapshot_every);
    };
    let export = export
        .map(|p| ExportSink::create_for(p, registry.clone(), run_info(&settings)))
        .transpose()?;
    let counts = export.as_ref().map(ExportSink::counts).unwrap_or_default();
    let families = Arc::new(Metrics::new(counts));
    let sink = metrics_sink::sink(families.clone())?;
    let mut rt = start_paced(
        Live { settings, registry },
        Sinks {
            export,
            others: vec![sink],
        },
        snapshot_every,
    )?;
    let render = metrics_sink::render(families, rt.snapshots.clone());
    rt.metrics = Some(crate::metrics::http::spawn(listener, render));
    Ok(rt)
}

/// Pass requests on to the source (those it `accept`s), answering `FlushExport` here. Ends
/// after `Shutdown` (passed on if the source takes it) or when every command sender is gone;
/// either way the source's command channel closes.
async fn route<C>(
    mut from: mpsc::Receiver<Request>,
    to: mpsc::Sender<C>,
    accept: fn(Request) -> Option<C>,
    export: Option<mpsc::WeakSender<SinkMsg>>,
    notices: mpsc::Sender<Notice>,
) {
    while let Some(req) = from.recv().await {
        let last = req == Request::Engine(Command::Shutdown);
        if req == Request::Engine(Command::FlushExport) {
            flush_export(export.as_ref(), &notices).await;
            continue;
        }
        if let Some(cmd) = accept(req)
            && to.send(cmd).await.is_err()
        {
            break;
        }
        if last {
            break;
        }
    }
}

/// Ask the export writer to flush; its answer becomes a notice without holding up commands.
async fn flush_export(export: Option<&mpsc::WeakSender<SinkMsg>>, notices: &mpsc::Sender<Notice>) {
    let Some(weak) = export else {
        let _ = notices.send(Notice::NoExport).await;
        return;
    };
    let (reply, answer) = oneshot::channel();
    let sent = match weak.upgrade() {
        Some(tx) => tx.send(SinkMsg::Flush(reply)).await.is_ok(),
        None => false,
    };
    let notices = notices.clone();
    tokio::spawn(async move {
        let msg = match answer.await {
            Ok(Ok(n)) if sent => Notice::ExportFlushed { events: n },
            Ok(Err(error)) if sent => Notice::ExportFailed { error },
            _ => Notice::ExportFailed {
                error: "the export writer is gone".to_string(),
            },
        };
        let _ = notices.send(msg).await;
    });
}

impl Runtime {
    /// A snapshot of everything the store has received so far (not the last one published,
    /// which may be up to a second old in headless mode). The latest published one if the
    /// store does not answer within a second.
    pub async fn fresh_snapshot(&self) -> Arc<Snapshot> {
        let mut rx = self.snapshots.clone();
        rx.mark_unchanged();
        self.refresh.notify_one();
        let _ = tokio::time::timeout(Duration::from_secs(1), rx.changed()).await;
        rx.borrow().clone()
    }

    /// Take the `/metrics` endpoint out: [`Runtime::wait`] then leaves it running, and the
    /// caller stops it (after letting it answer a last scrape, [`crate::metrics::http::Endpoint::linger`]).
    pub fn take_metrics(&mut self) -> Option<crate::metrics::http::Endpoint> {
        self.metrics.take()
    }

    /// Ask the source to stop (every session closes with 1001), wait for it, flush the sinks.
    /// Returns the final snapshot and the export result (events written, or the error).
    pub async fn shutdown(self) -> (Arc<Snapshot>, Option<SinkResult>) {
        let _ = self.commands.send(Command::Shutdown.into()).await;
        self.wait().await
    }

    /// Wait for the runtime to stop (after a `Command::Shutdown`).
    pub async fn wait(self) -> (Arc<Snapshot>, Option<SinkResult>) {
        let Runtime {
            snapshots,
            commands,
            source,
            router,
            store,
            export,
            others,
            metrics,
            ..
        } = self;
        drop(commands);
        let _ = source.await;
        // The source is gone: commands still held by the front end have nowhere to go.
        router.abort();
        let last = match store {
            Some(store) => match store.await {
                Ok(s) => s,
                Err(_) => snapshots.borrow().clone(),
            },
            None => snapshots.borrow().clone(),
        };
        if let Some(server) = metrics {
            server.stop();
        }
        for thread in others {
            if let Err(e) = Sink::join(thread).await {
                tracing::warn!("sink: {e}");
            }
        }
        let export = match export {
            Some(thread) => Some(Sink::join(thread).await),
            None => None,
        };
        (last, export)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::Utc;

    use super::*;
    use crate::engine::counters::SessionCounters;
    use crate::engine::events::{Event, EventKind};

    /// A source that emits one session's spawn and pause, then waits for `Shutdown`.
    struct Scripted;

    impl Source for Scripted {
        type Cmd = Command;

        fn accept(req: Request) -> Option<Command> {
            match req {
                Request::Engine(cmd) => Some(cmd),
                Request::Replay(_) => None,
            }
        }

        fn start(self, mut io: SourceIo<Command>) -> Result<JoinHandle<()>, RuntimeError> {
            Ok(tokio::spawn(async move {
                let ev = |kind| {
                    SessionMsg::Event(Event {
                        ts: Utc::now(),
                        session: 1,
                        kind,
                    })
                };
                let counters = Arc::new(SessionCounters::default());
                let _ = io
                    .events
                    .send(SessionMsg::Register { id: 1, counters })
                    .await;
                let spawned = EventKind::Spawned {
                    target: 0,
                    index: 0,
                    url: "ws://h/".into(),
                };
                let _ = io.events.send(ev(spawned)).await;
                let _ = io.events.send(ev(EventKind::Paused { paused: true })).await;
                while let Some(cmd) = io.commands.recv().await {
                    if cmd == Command::Shutdown {
                        break;
                    }
                }
            }))
        }
    }

    /// A sink thread that hands each batch to `each` and answers flushes with its count.
    fn test_sink(mut each: impl FnMut(Vec<Event>) + Send + 'static) -> Sink {
        Sink::spawn("test-sink", move |mut rx| {
            let mut n = 0;
            while let Some(msg) = rx.blocking_recv() {
                match msg {
                    SinkMsg::Events(batch) => {
                        n += batch.len() as u64;
                        each(batch);
                    }
                    SinkMsg::Flush(reply) => {
                        let _ = reply.send(Ok(n));
                    }
                }
            }
            Ok(n)
        })
        .expect("thread starts")
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn export_failures_are_counted_for_the_metrics() {
        // /dev/full takes the open and refuses every write.
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("full.jsonl");
        std::os::unix::fs::symlink("/dev/full", &path).expect("symlink");
        let export =
            ExportSink::create(&path, Arc::new(Registry::builtin().clone())).expect("opens");
        let counts = export.counts();
        let rt = start(
            Scripted,
            Sinks {
                export: Some(export),
                others: Vec::new(),
            },
        )
        .expect("starts");
        let (_, result) = rt.shutdown().await;
        assert!(matches!(result, Some(Err(_))), "{result:?}");
        assert!(counts.failed.load(Ordering::Relaxed) >= 1);
        assert_eq!(counts.written.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_fresh_snapshot_holds_every_event_received_between_slow_publishes() {
        // A sink that says when it has both of the source's events (so the store has them).
        // One message, once: a channel of one is enough.
        let (got, mut both) = mpsc::channel(1);
        let mut n = 0;
        let sink = test_sink(move |batch| {
            n += batch.len();
            if n == 2 {
                let _ = got.try_send(());
            }
        });
        let rt = start_paced(
            Scripted,
            Sinks {
                export: None,
                others: vec![sink],
            },
            Duration::from_secs(60),
        )
        .expect("starts");
        both.recv().await.expect("the sink saw both events");
        let fresh = rt.fresh_snapshot().await;
        assert_eq!(fresh.sessions.len(), 1);
        assert!(fresh.sessions[0].paused);
        rt.shutdown().await;
    }

    #[tokio::test]
    async fn any_source_feeds_the_store_and_every_sink() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let sink = test_sink(move |batch| {
            let mut log = log.lock().expect("not poisoned");
            log.extend(batch.into_iter().map(|ev| ev.kind));
        });
        let mut rt = start(
            Scripted,
            Sinks {
                export: None,
                others: vec![sink],
            },
        )
        .expect("starts");
        let mut notices = rt.notices.take().expect("notices");
        rt.commands
            .send(Command::FlushExport.into())
            .await
            .expect("router alive");
        assert_eq!(notices.recv().await, Some(Notice::NoExport));
        let (last, export) = rt.shutdown().await;
        assert!(export.is_none());
        assert_eq!(last.sessions.len(), 1);
        assert!(last.sessions[0].paused);
        let kinds = seen.lock().expect("not poisoned").clone();
        assert_eq!(kinds.len(), 2, "{kinds:?}");
        assert_eq!(kinds[1], EventKind::Paused { paused: true });
    }
}
