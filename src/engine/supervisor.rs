//! The supervisor: starts the sessions of every target, carries out the operator's commands,
//! and on `Shutdown` closes every session with 1001 and waits for the close handshakes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

use crate::codes::Registry;
use crate::engine::counters::{EngineGauges, SessionCounters};
use crate::engine::events::{
    Cause, Command, ErrorKind, Event, EventKind, Notice, SessionId, SessionMsg,
};
use crate::engine::inbox::SessionCmd;
use crate::engine::inbox::{InboxSender, inbox};
use crate::engine::session::{Session, SessionSpec, Shared, session_scope};
use crate::engine::settings::{EngineSettings, ProxyRule, TargetSpec};
use crate::engine::shard::{LocalAddrs, Shard};
use crate::engine::slots::Slots;
use crate::protocol::handshake::{RequestSpec, tls_connector};
use crate::protocol::url::parse_ws_url;

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The TLS client could not be built.
    #[error("{0}")]
    Tls(String),
}

/// Start the supervisor and every configured session. Events go out on `events` (bounded: a
/// slow consumer slows the sessions down); commands come in on `commands`; answers to commands
/// go out on `notices`. The task ends after a `Command::Shutdown` (or when `commands` closes)
/// once every session has closed.
pub fn start(
    settings: EngineSettings,
    registry: Arc<Registry>,
    events: mpsc::Sender<SessionMsg>,
    mut commands: mpsc::Receiver<Command>,
    notices: mpsc::Sender<Notice>,
    messages: Arc<dyn crate::engine::events::FrameLog>,
) -> Result<JoinHandle<()>, StartError> {
    let tls = tls_connector(settings.session.insecure).map_err(StartError::Tls)?;
    let h2 = crate::engine::h2pool::Pool::new(
        settings.session.transport,
        settings.session.streams_per_connection,
        settings.session.insecure,
        settings.session.ping_interval,
    )
    .map_err(StartError::Tls)?;
    let gauges = Arc::new(EngineGauges::default());
    let slots = Slots::new(
        settings.session.max_connecting,
        settings.session.ramp,
        gauges.clone(),
    );
    // Sessions push their frames into the store's logs themselves, when the log is on.
    let messages = (!settings.session.messages.log_off()).then_some(messages);
    let shared = Arc::new(Shared {
        messages,
        slots,
        epoch: tokio::time::Instant::now(),
        settings: settings.session,
        backoff: settings.backoff,
        tls: Some(tls),
        registry,
        events,
        h2,
    });
    let seed = settings
        .seed
        .unwrap_or_else(|| rand::Rng::random(&mut rand::rngs::SmallRng::from_os_rng()));
    let mut sup = Supervisor {
        shared,
        targets: Vec::new(),
        sessions: BTreeMap::new(),
        tasks: JoinSet::new(),
        task_ids: HashMap::new(),
        next_id: 1,
        seed,
        notices,
        proxy: settings.proxy,
        local_addrs: settings.local_addrs,
        shard: settings.shard,
        spawned: 0,
    };
    let initial = settings.targets;
    let start_at = settings.start_at.map(instant_of);
    Ok(tokio::spawn(async move {
        let _ = sup.shared.events.send(SessionMsg::Gauges(gauges)).await;
        let mut held = Vec::new();
        if let Some(at) = start_at {
            match wait_for_start(at, &mut commands).await {
                Some(cmds) => held = cmds,
                None => return,
            }
        }
        for t in initial {
            let n = t.sessions;
            sup.add_target(t, n).await;
        }
        for cmd in held {
            sup.handle(cmd).await;
        }
        sup.run(commands).await
    }))
}

/// The monotonic instant of a wall-clock time (now, when it has passed).
fn instant_of(at: chrono::DateTime<chrono::Utc>) -> tokio::time::Instant {
    let ahead = (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO);
    tokio::time::Instant::now() + ahead
}

/// Commands kept while waiting for `--start-at` (more are dropped: keys pressed meanwhile).
const HELD_COMMANDS: usize = 256;

/// `--start-at`: no session before `at`. Commands that arrive meanwhile are returned to run
/// after the start; a stop ends the run before any session (`None`).
async fn wait_for_start(
    at: tokio::time::Instant,
    commands: &mut mpsc::Receiver<Command>,
) -> Option<Vec<Command>> {
    let mut held = Vec::new();
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(at) => return Some(held),
            cmd = commands.recv() => match cmd {
                None | Some(Command::Shutdown) => return None,
                Some(cmd) if held.len() < HELD_COMMANDS => held.push(cmd),
                Some(_) => {}
            },
        }
    }
}

/// How much longer than `--close-timeout` shutdown waits for the sessions' own bounds to fire.
const SHUTDOWN_SLACK: Duration = Duration::from_millis(500);

/// The text of a panic's payload (`panic!` with a literal or a formatted message).
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(s) => (*s).to_string(),
            Err(_) => "(no message)".to_string(),
        },
    }
}

struct TargetEntry {
    target: TargetSpec,
    request: Arc<RequestSpec>,
    url: Arc<url::Url>,
    url_shown: Arc<str>,
    /// The secret values its requests carry (see `redact::Secrets`).
    secrets: Arc<crate::redact::Secrets>,
    /// Live sessions of this target (ids grow: oldest first). A set: 10,000 sessions ending at
    /// shutdown each leave it in O(log n).
    sessions: BTreeSet<SessionId>,
    /// The proxy this target goes through.
    proxy: Option<crate::protocol::proxy::ProxyUrl>,
    /// Index of the target's next session (counted over all shards).
    next_index: usize,
}

struct Supervisor {
    shared: Arc<Shared>,
    targets: Vec<TargetEntry>,
    sessions: BTreeMap<SessionId, InboxSender>,
    tasks: JoinSet<SessionId>,
    /// Which session each task runs: a task that panicked returns no id, only its task id.
    task_ids: HashMap<tokio::task::Id, SessionId>,
    next_id: SessionId,
    seed: u64,
    notices: mpsc::Sender<Notice>,
    proxy: ProxyRule,
    local_addrs: Option<LocalAddrs>,
    shard: Shard,
    /// Sessions this agent started (the round-robin counter for `local_addrs`).
    spawned: usize,
}

impl Supervisor {
    async fn add_target(&mut self, target: TargetSpec, count: usize) -> usize {
        let request = Arc::new(RequestSpec {
            headers: target.headers.clone(),
            subprotocols: target.subprotocols.clone(),
            offers: target.offers.clone(),
            required: target.require.clone(),
        });
        let url_shown = Arc::from(crate::redact::url(target.url.as_str()));
        let secrets = Arc::new(crate::redact::Secrets::of_request(
            &target.url,
            &request.headers,
            &request.subprotocols,
        ));
        let url = Arc::new(target.url.clone());
        // The environment was checked when the config was built; a target added later with a
        // proxy variable that cannot be parsed goes direct, and says so in the log.
        let proxy = self.proxy.for_url(&target.url).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "proxy ignored");
            None
        });
        self.targets.push(TargetEntry {
            target,
            request,
            url,
            url_shown,
            secrets,
            sessions: BTreeSet::new(),
            proxy,
            next_index: 0,
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
            let index = self.targets[target].next_index;
            self.targets[target].next_index += 1;
            if !self.shard.owns(index) {
                continue;
            }
            let local = self
                .local_addrs
                .as_ref()
                .map(|l| l.for_session(self.spawned));
            self.spawned += 1;
            let id = self.next_id;
            self.next_id += 1;
            let counters = Arc::new(SessionCounters::default());
            // Registration goes on the same channel as the events, before the session starts,
            // so it arrives first.
            let _ = self
                .shared
                .events
                .send(SessionMsg::Register {
                    id,
                    counters: counters.clone(),
                })
                .await;
            let entry = &mut self.targets[target];
            let (tx, rx) = inbox();
            let spec = SessionSpec {
                id,
                target,
                index,
                proxy: entry.proxy.clone(),
                local,
                url: entry.url.clone(),
                url_shown: entry.url_shown.clone(),
                request: entry.request.clone(),
                conversation: entry.target.conversation.clone(),
                secrets: entry.secrets.clone(),
                seed: self
                    .seed
                    .wrapping_add(id.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            };
            let session = Session::new(spec, self.shared.clone(), counters, rx);
            // Boxed: the task's cell stays small, and the session's future is allocated once
            // at its own size (see `Session::run`).
            let run = Box::pin(session.run());
            let task = self.tasks.spawn(session_scope(id, async move {
                run.await;
                id
            }));
            self.task_ids.insert(task.id(), id);
            self.sessions.insert(id, tx);
            entry.sessions.insert(id);
        }
    }

    fn send(&self, id: SessionId, cmd: SessionCmd) {
        if let Some(tx) = self.sessions.get(&id) {
            tx.send(cmd);
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
                Some(done) = self.tasks.join_next_with_id() => self.finished(done).await,
            }
        }
        // Graceful shutdown: every session closes with 1001 and we wait for the close handshakes,
        // at most `--close-timeout` (each session's own bound) and a little more.
        for tx in self.sessions.values() {
            tx.send(SessionCmd::Shutdown);
        }
        let grace = self.shared.settings.shutdown_close_timeout + SHUTDOWN_SLACK;
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            match tokio::time::timeout_at(deadline, self.tasks.join_next_with_id()).await {
                Ok(Some(done)) => self.finished(done).await,
                Ok(None) => break,
                Err(_) => {
                    self.tasks.abort_all();
                    while let Some(done) = self.tasks.join_next_with_id().await {
                        self.finished(done).await;
                    }
                    break;
                }
            }
        }
    }

    /// A session task ended: normally, by a panic (a bug: recorded as an `internal` error and
    /// the session's end; the other sessions go on), or aborted at the end of shutdown.
    async fn finished(
        &mut self,
        done: Result<(tokio::task::Id, SessionId), tokio::task::JoinError>,
    ) {
        let (task, error) = match done {
            Ok((task, _)) => (task, None),
            Err(e) => (e.id(), Some(e)),
        };
        let Some(id) = self.task_ids.remove(&task) else {
            return;
        };
        self.forget(id);
        let Some(e) = error else {
            return;
        };
        let (error, cause, why) = if e.is_panic() {
            let what = panic_message(e.into_panic());
            let message = format!("the session's task panicked: {what} (a bug in wsmon)");
            let why = "a bug in wsmon ended this session (its task panicked); the others go on";
            let cause = Cause::Error {
                kind: ErrorKind::Internal,
            };
            (Some(message), cause, why)
        } else {
            let why = "wsmon stopped before this session's close finished (--close-timeout)";
            (None, Cause::Shutdown, why)
        };
        if let Some(message) = error {
            tracing::error!(session = id, "{message}");
            self.emit(
                id,
                EventKind::Error {
                    kind: ErrorKind::Internal,
                    message,
                },
            )
            .await;
        }
        let ended = EventKind::Ended {
            cause: Some(cause),
            why: why.to_string(),
        };
        self.emit(id, ended).await;
    }

    async fn emit(&self, session: SessionId, kind: EventKind) {
        let ev = Event {
            ts: chrono::Utc::now(),
            session,
            kind,
        };
        let _ = self.shared.events.send(SessionMsg::Event(ev)).await;
    }

    fn forget(&mut self, id: SessionId) {
        self.sessions.remove(&id);
        for t in &mut self.targets {
            t.sessions.remove(&id);
        }
    }

    async fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::AddSessions { url, count } => match parse_ws_url(&url) {
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
                            Some(t) => TargetSpec {
                                url: u,
                                sessions: count,
                                ..t
                            },
                            None => TargetSpec::new(u, count),
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
                        let newest: Vec<SessionId> =
                            t.sessions.iter().rev().take(count).copied().collect();
                        for id in &newest {
                            t.sessions.remove(id);
                        }
                        newest
                    }
                    None => Vec::new(),
                };
                for id in ids {
                    self.send(id, SessionCmd::Remove);
                }
            }
            Command::Close {
                session,
                code,
                reason,
            } => self.send(session, SessionCmd::Close { code, reason }),
            Command::ReconnectNow { session: Some(id) } => self.send(id, SessionCmd::ReconnectNow),
            // Only sessions waiting for a retry: an open session is never closed by `R`.
            Command::ReconnectNow { session: None } => {
                for tx in self.sessions.values() {
                    tx.send(SessionCmd::ReconnectIfWaiting);
                }
            }
            Command::SetPaused {
                session: Some(id),
                paused,
            } => self.send(id, SessionCmd::SetPaused(paused)),
            Command::SetPaused {
                session: None,
                paused,
            } => {
                for tx in self.sessions.values() {
                    tx.send(SessionCmd::SetPaused(paused));
                }
            }
            // The runtime answers FlushExport (the engine has no export); Shutdown ends `run`.
            Command::FlushExport | Command::Shutdown => {}
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

#[cfg(test)]
mod start_tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_start_waits_for_its_instant_and_keeps_commands_for_after() {
        let (tx, mut rx) = mpsc::channel(8);
        let t0 = tokio::time::Instant::now();
        let at = t0 + Duration::from_secs(30);
        let waiter = tokio::spawn(async move {
            let held = wait_for_start(at, &mut rx).await;
            (tokio::time::Instant::now(), held.map(|h| h.len()))
        });
        tx.send(Command::ReconnectNow { session: None })
            .await
            .expect("send");
        tokio::time::sleep(Duration::from_secs(29)).await;
        assert!(!waiter.is_finished(), "no start before the instant");
        let (when, held) = waiter.await.expect("join");
        assert_eq!(when - t0, Duration::from_secs(30));
        assert_eq!(held, Some(1), "the command waits for the start");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_while_waiting_ends_the_run_before_any_session() {
        let (tx, mut rx) = mpsc::channel(8);
        let at = tokio::time::Instant::now() + Duration::from_secs(3600);
        let waiter = tokio::spawn(async move { wait_for_start(at, &mut rx).await.is_none() });
        tokio::time::sleep(Duration::from_secs(5)).await;
        tx.send(Command::Shutdown).await.expect("send");
        assert!(waiter.await.expect("join"), "stopped, not started");
    }

    #[test]
    fn a_past_start_is_now() {
        let now = tokio::time::Instant::now();
        let past = chrono::Utc::now() - chrono::TimeDelta::seconds(60);
        let at = instant_of(past);
        assert!(at >= now && at - now < Duration::from_secs(1));
    }
}
