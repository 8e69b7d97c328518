//! One task per session: it owns its socket and its backoff state, and only sends events.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role as WsRole, WebSocketConfig};
use url::Url;

use crate::codes::Registry;
use crate::engine::backoff::{self, Advice, BackoffConfig, DecideInput, Decision};
use crate::engine::close::{self, CloseTracker, CloseWhy, Input, OurClose, PeerFrame, Step};
use crate::engine::counters::SessionCounters;
use crate::engine::events::{
    BackoffInfo, Cause, DelayKind, ErrorKind, Event, EventKind, SessionId, SessionMsg, Timings,
};
use crate::engine::inbox::{Inbox, SessionCmd};
use crate::engine::settings::SessionSettings;
use crate::engine::slots::{Slot, Slots};
use crate::protocol::handshake::{self, RequestSpec, Transport, UpgradeOutcome};
use crate::protocol::wire::{Role, Tapped, WireStream};
use crate::protocol::ws::WsStream;

/// The byte stream under an open session's WebSocket: our frame layer, whose frame tap the
/// message log reads, or a bare transport (a connection failed before the layer was set up).
pub(super) trait Socket:
    tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Tapped
{
}

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Tapped> Socket for S {}

mod deadline;
mod frames;
mod h2;
mod open;
mod talk;
mod write;
pub use open::ws_config;

/// Settings shared by every session.
pub struct Shared {
    pub settings: SessionSettings,
    pub backoff: BackoffConfig,
    pub tls: Option<TlsConnector>,
    pub registry: Arc<Registry>,
    pub events: mpsc::Sender<SessionMsg>,
    /// Handshake slots (`--max-connecting`) and the ramp of first attempts (`--ramp`).
    pub slots: Slots,
    /// Start of the pings' shared time grid.
    pub epoch: Instant,
    /// Shared HTTP/2 connections (`--transport h2|auto`); unused with HTTP/1.1.
    pub h2: crate::engine::h2pool::Pool,
    /// The store's message logs, when the log is on: each frame goes straight into its
    /// session's log (a `message` event is sent only for `--record-messages`).
    pub messages: Option<Arc<dyn crate::engine::events::FrameLog>>,
}

/// One session's identity.
pub struct SessionSpec {
    pub id: SessionId,
    pub target: usize,
    /// Index among the target's sessions (counted over all shards).
    pub index: usize,
    /// The proxy to go through, if any.
    pub proxy: Option<crate::protocol::proxy::ProxyUrl>,
    /// The source address to bind before connecting (`--local-addr`).
    pub local: Option<std::net::IpAddr>,
    /// Shared by the target's sessions.
    pub url: Arc<Url>,
    pub url_shown: Arc<str>,
    pub request: Arc<RequestSpec>,
    /// The secret values this session sends: scrubbed from every event it emits.
    pub secrets: Arc<crate::redact::Secrets>,
    pub seed: u64,
    /// The target's conversation (script or protocol), started on every connection.
    pub conversation: Option<Arc<dyn crate::engine::conversation::ConversationFactory>>,
}

/// Why the session loop stops for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Shutdown,
    Remove,
}

/// How one attempt ended.
enum AttemptEnd {
    /// It failed before a close code existed, or the upgrade was refused with a status.
    Failed {
        cause: Cause,
        retry_after: Option<Duration>,
    },
    /// The connection (or its TLS handshake) ended with this close code.
    Closed {
        code: u16,
        uptime: Option<Duration>,
    },
    /// The operator closed it with `code` (`c`): not retried. `cause`: what the record says.
    ClosedByOperator {
        code: u16,
        cause: Cause,
    },
    /// The operator asked to reconnect now.
    ReconnectNow,
    /// Over HTTP/2: the connection under the session was lost, or its stream reset.
    Lost {
        cause: Cause,
        uptime: Option<Duration>,
    },
    Stopped(Stop),
}

impl AttemptEnd {
    fn failed(cause: Cause) -> Self {
        AttemptEnd::Failed {
            cause,
            retry_after: None,
        }
    }
}

/// A running session.
pub struct Session {
    spec: SessionSpec,
    shared: Arc<Shared>,
    counters: Arc<SessionCounters>,
    cmds: Inbox,
    paused: bool,
    rng: SmallRng,
    /// The store is gone: stop quietly.
    orphaned: bool,
    /// wsmon is stopping: closes wait `shutdown_close_timeout`.
    stopping: bool,
    /// The `event` name of the last event sent (what the session was doing).
    last_event: &'static str,
    /// The proxy's verdict on the attempt that just failed with `ErrorKind::Proxy`.
    proxy_refusal: Option<crate::protocol::proxy::Refusal>,
    /// The open connection's frames, while `message` events are on.
    frames: Option<frames::Frames>,
    /// The attempt's transport, connection and stream (`--transport h2|auto`).
    link: crate::engine::events::Link,
    /// The HTTP/2 connection the attempt runs on.
    conn: Option<Arc<crate::protocol::http2::ConnShared>>,
}

tokio::task_local! {
    static IN_SESSION: SessionId;
}

/// Run `fut` as a session's task: [`in_session_task`] is true while it runs.
pub async fn session_scope<F: std::future::Future>(id: SessionId, fut: F) -> F::Output {
    IN_SESSION.scope(id, fut).await
}

/// Whether the caller runs inside a session's task (a panic hook asks, to leave a session's
/// panic to the supervisor, which records it, instead of ending the whole UI).
pub fn in_session_task() -> bool {
    IN_SESSION.try_with(|_| ()).is_ok()
}

/// Test-only (feature `fault-injection`): `WSMON_TEST_PANIC_SESSION=ID` makes session ID's task
/// panic when its first attempt starts, to check that a panic stays in its session.
#[cfg(feature = "fault-injection")]
fn test_panic(id: SessionId) {
    let chosen = std::env::var("WSMON_TEST_PANIC_SESSION")
        .ok()
        .and_then(|v| v.parse::<SessionId>().ok());
    if chosen == Some(id) {
        panic!("fault-injection: session {id} panics on purpose (WSMON_TEST_PANIC_SESSION)");
    }
}

impl Session {
    pub fn new(
        spec: SessionSpec,
        shared: Arc<Shared>,
        counters: Arc<SessionCounters>,
        cmds: Inbox,
    ) -> Self {
        let rng = SmallRng::seed_from_u64(spec.seed);
        Session {
            spec,
            shared,
            counters,
            cmds,
            paused: false,
            rng,
            orphaned: false,
            stopping: false,
            last_event: "",
            proxy_refusal: None,
            frames: None,
            link: Default::default(),
            conn: None,
        }
    }

    async fn emit(&mut self, kind: EventKind) {
        self.emit_at(Utc::now(), kind).await;
    }

    /// [`Session::emit`], stamped `ts`.
    async fn emit_at(&mut self, ts: DateTime<Utc>, mut kind: EventKind) {
        if self.orphaned {
            return;
        }
        // A peer that echoes the request (an error page, a close reason) must not put our
        // secrets into the store, the exports or the screen.
        kind.rewrite_texts(|text| self.spec.secrets.scrub(text));
        self.last_event = kind.name();
        let ev = Event {
            ts,
            session: self.spec.id,
            kind,
        };
        // Most events find room at once; only a full channel (the store is behind) waits, in a
        // boxed future, so the room for that wait is not reserved in every session's future.
        let msg = match self.shared.events.try_send(SessionMsg::Event(ev)) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(msg)) => msg,
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.orphaned = true;
                return;
            }
        };
        if Box::pin(self.shared.events.send(msg)).await.is_err() {
            self.orphaned = true;
        }
    }

    /// The session's whole life.
    pub async fn run(mut self) {
        let url = self.spec.url_shown.to_string();
        let target = self.spec.target;
        let index = self.spec.index;
        self.emit(EventKind::Spawned { target, index, url }).await;
        let mut attempt: u32 = 1;
        let mut retries = Retries::default();
        let mut first = true;
        loop {
            if self.orphaned {
                return;
            }
            let slot = self.shared.slots.take(first);
            let slot =
                match race(slot, Instant::now() + FAR, &mut self.cmds, &mut self.paused).await {
                    Ok(Some(slot)) => slot,
                    Ok(None) | Err(Stop::Shutdown) => return,
                    Err(Stop::Remove) => {
                        self.emit(EventKind::Removed).await;
                        return;
                    }
                };
            first = false;
            let slot_wait_ms = u64::try_from(slot.waited.as_millis()).unwrap_or(u64::MAX);
            self.link = self.connecting_link();
            self.conn = None;
            self.emit(EventKind::Connecting {
                attempt,
                slot_wait_ms,
                link: self.link,
            })
            .await;
            #[cfg(feature = "fault-injection")]
            test_panic(self.spec.id);
            // Each phase of an attempt is boxed while it runs, so an idle session holds only
            // the phase it is in (an open connection), not room for the largest of them all.
            let end = match Box::pin(self.connect(attempt, slot)).await {
                Ok(up) => {
                    let failure = match &up.transport {
                        Transport::H2(s) => Some(s.failure()),
                        _ => None,
                    };
                    let end =
                        Box::pin(self.run_open(attempt, up.transport, up.leftover, up.agreement))
                            .await;
                    self.transport_cause(end, failure)
                }
                Err(end) => end,
            };
            attempt = attempt.saturating_add(1);
            if let Err(stop) = self.between_attempts(end, &mut retries).await {
                match stop {
                    Stop::Remove => self.emit(EventKind::Removed).await,
                    Stop::Shutdown => self.end_at_shutdown().await,
                }
                return;
            }
        }
    }

    /// wsmon is stopping: unless the session's story already ends (a `closed` after its 1001,
    /// an `ended` or a `gave_up`), say where the shutdown found it, so every story in the
    /// export ends.
    async fn end_at_shutdown(&mut self) {
        let doing = match self.last_event {
            "closed" | "ended" | "gave_up" => return,
            "connecting" => "connecting",
            "handshaking" | "handshake" => "handshaking",
            "backoff" if self.paused => "paused, waiting to retry",
            "backoff" => "waiting to retry",
            "paused" => "paused",
            _ => "between attempts",
        };
        let why = format!("wsmon stopped while the session was {doing}");
        self.emit(EventKind::Ended {
            cause: Some(Cause::Shutdown),
            why,
        })
        .await;
    }

    /// After an attempt: decide by cause, then back off, wait for the operator, or stop.
    /// `Ok` means "connect again".
    async fn between_attempts(
        &mut self,
        end: AttemptEnd,
        retries: &mut Retries,
    ) -> Result<(), Stop> {
        let (cause, uptime, retry_after) = match end {
            AttemptEnd::Stopped(stop) => return Err(stop),
            AttemptEnd::ClosedByOperator { code, cause } => {
                let why = format!("closed by the operator with {code}; press r to reconnect");
                self.emit(EventKind::Ended {
                    cause: Some(cause),
                    why,
                })
                .await;
                return self.park(retries).await;
            }
            AttemptEnd::ReconnectNow => {
                // The retry count stays: if this attempt fails, it waits the next window.
                self.emit_immediate(retries.number).await;
                return Ok(());
            }
            AttemptEnd::Failed { cause, retry_after } => (cause, None, retry_after),
            AttemptEnd::Closed { code, uptime } => (Cause::Close { code }, uptime, None),
            AttemptEnd::Lost { cause, uptime } => (cause, uptime, None),
        };
        retries.number =
            backoff::next_attempt(retries.number, uptime, self.shared.backoff.stable_after);
        let registry = self.shared.registry.clone();
        let advice = move |code: u16| Advice::from(registry.retry_advice(code));
        let decision = backoff::decide(
            &DecideInput {
                retry_after,
                prev_delay: retries.prev_delay,
                proxy: self.proxy_refusal.take(),
                ..DecideInput::new(&self.shared.backoff, &advice, retries.number, cause)
            },
            &mut self.rng,
        );
        match decision {
            Decision::Retry { delay, .. } => {
                retries.prev_delay = Some(delay);
                if let Some(info) =
                    decision.backoff_info(cause, self.shared.backoff.jitter, Utc::now())
                {
                    self.emit(EventKind::Backoff(info)).await;
                }
                match self
                    .wait(Some(Instant::now() + delay), retries.number)
                    .await
                {
                    // `r` runs the pending attempt now and keeps its number.
                    Wait::Elapsed | Wait::Now => Ok(()),
                    Wait::Closed(code) => {
                        let why = format!(
                            "closed by the operator with {code} while waiting; press r to reconnect"
                        );
                        self.emit(EventKind::Ended {
                            cause: Some(cause),
                            why,
                        })
                        .await;
                        self.park(retries).await
                    }
                    Wait::Stop(stop) => Err(stop),
                }
            }
            Decision::Stop { why } => {
                self.emit(EventKind::Ended {
                    cause: Some(cause),
                    why,
                })
                .await;
                self.park(retries).await
            }
            Decision::GiveUp { attempts } => {
                self.emit(EventKind::GaveUp { attempts, cause }).await;
                self.park(retries).await
            }
        }
    }

    /// Ended or gave up: wait for `r` (connect again, with a fresh retry count) or a stop.
    async fn park(&mut self, retries: &mut Retries) -> Result<(), Stop> {
        match self.wait(None, 0).await {
            Wait::Stop(stop) => Err(stop),
            _ => {
                *retries = Retries::default();
                Ok(())
            }
        }
    }

    /// The operator's `r`: an immediate attempt, recorded in the timeline. `retry` is the retry
    /// number it runs as (0 when it restarts an ended session).
    async fn emit_immediate(&mut self, retry: u32) {
        self.emit(EventKind::Backoff(BackoffInfo {
            attempt: retry,
            cause: Cause::Manual,
            kind: DelayKind::Immediate,
            window_ms: 0,
            delay_ms: 0,
            retry_after_ms: None,
            jitter: self.shared.backoff.jitter,
            next_attempt_at: Utc::now(),
        }))
        .await;
    }

    async fn set_paused(&mut self, p: bool) {
        if self.paused != p {
            self.paused = p;
            self.emit(EventKind::Paused { paused: p }).await;
        }
    }

    /// Wait until `deadline` (a backoff delay; paused sessions wait until resumed), or, with no
    /// deadline, until the operator restarts or removes the session. `retry` is the retry
    /// number the wait leads to.
    async fn wait(&mut self, deadline: Option<Instant>, retry: u32) -> Wait {
        loop {
            let until = deadline.unwrap_or_else(|| Instant::now() + FAR);
            tokio::select! {
                _ = tokio::time::sleep_until(until), if deadline.is_some() && !self.paused => return Wait::Elapsed,
                cmd = self.cmds.recv() => match cmd {
                    None | Some(SessionCmd::Shutdown) => return Wait::Stop(Stop::Shutdown),
                    Some(SessionCmd::Remove) => return Wait::Stop(Stop::Remove),
                    Some(SessionCmd::ReconnectNow) => {
                        self.emit_immediate(retry).await;
                        return Wait::Now;
                    }
                    // `R` wakes only sessions waiting for a retry, not ended ones.
                    Some(SessionCmd::ReconnectIfWaiting) if deadline.is_some() => {
                        self.emit_immediate(retry).await;
                        return Wait::Now;
                    }
                    Some(SessionCmd::ReconnectIfWaiting) => {}
                    Some(SessionCmd::Close { code, .. }) if deadline.is_some() => return Wait::Closed(code),
                    Some(SessionCmd::Close { .. }) => {}
                    Some(SessionCmd::SetPaused(p)) => self.set_paused(p).await,
                },
            }
        }
    }

    /// Connect and upgrade: the open connection, or (`Err`) how the attempt ended without one.
    /// The handshake `slot` is held until the upgrade is answered (or fails).
    async fn connect(&mut self, attempt: u32, slot: Slot) -> Result<Upgraded, AttemptEnd> {
        let timeout = self.shared.settings.connect_timeout;
        let deadline = Instant::now() + timeout;
        if self.shared.h2.applies_to(&self.spec.url) {
            return Box::pin(self.connect_h2(attempt, slot, deadline)).await;
        }
        self.connect_h1(attempt, slot, None, Timings::default(), deadline)
            .await
    }

    /// Over HTTP/1.1: DNS, TCP and TLS (unless `transport` is already open), then the upgrade.
    async fn connect_h1(
        &mut self,
        attempt: u32,
        slot: Slot,
        transport: Option<Transport>,
        mut timings: Timings,
        deadline: Instant,
    ) -> Result<Upgraded, AttemptEnd> {
        let transport = match transport {
            Some(t) => t,
            None => {
                // Phase 1: DNS, TCP, TLS.
                let route = handshake::Route {
                    proxy: self.spec.proxy.as_ref(),
                    local: self.spec.local,
                };
                let fut = handshake::open_transport_via(
                    &self.spec.url,
                    self.shared.tls.as_ref(),
                    &mut timings,
                    route,
                );
                match race(Box::pin(fut), deadline, &mut self.cmds, &mut self.paused).await {
                    Err(stop) => return Err(AttemptEnd::Stopped(stop)),
                    Ok(None) => return Err(self.connect_timed_out(&timings).await),
                    Ok(Some(Err(e))) => return Err(self.transport_failed(e).await),
                    Ok(Some(Ok(t))) => t,
                }
            }
        };

        // Phase 2: the upgrade.
        self.emit(EventKind::Handshaking { attempt }).await;
        let fut = handshake::upgrade(transport, &self.spec.url, &self.spec.request, timings);
        let outcome = match race(Box::pin(fut), deadline, &mut self.cmds, &mut self.paused).await {
            Err(stop) => return Err(AttemptEnd::Stopped(stop)),
            Ok(r) => r,
        };
        // The upgrade is answered (or failed): the next session may start its handshake.
        drop(slot);
        self.answered(outcome).await
    }

    /// The connect timeout fired before the transport was up.
    async fn connect_timed_out(&mut self, timings: &Timings) -> AttemptEnd {
        let phase = self.unfinished_phase(timings);
        let timeout = self.shared.settings.connect_timeout;
        self.fail(
            ErrorKind::Timeout,
            format!(
                "{phase} did not finish within {}",
                humantime::format_duration(timeout)
            ),
        )
        .await
    }

    /// DNS, TCP, a proxy or TLS failed (or the server refused HTTP/2 WebSockets).
    async fn transport_failed(&mut self, e: handshake::ConnectError) -> AttemptEnd {
        self.proxy_refusal = e.proxy;
        // An answer that arrived but was refused is recorded before the error.
        if let Some(info) = e.info {
            self.emit(EventKind::Handshake(std::sync::Arc::new(*info)))
                .await;
        }
        self.emit(EventKind::Error {
            kind: e.kind,
            message: e.message.clone(),
        })
        .await;
        if e.kind == ErrorKind::Tls {
            // A TLS failure is reported as 1015 (never on the wire), ended by the side
            // that decided it.
            let mut tracker = CloseTracker::new();
            tracker.on(Input::TlsFailed {
                message: e.message,
                by_peer: e.tls_alert_from_peer,
            });
            return self.end_connection(tracker, None).await;
        }
        AttemptEnd::failed(Cause::Error { kind: e.kind })
    }

    /// What the answer to the upgrade (or the extended CONNECT) means for the attempt; `None`:
    /// the connect timeout fired first.
    async fn answered(
        &mut self,
        outcome: Option<Result<UpgradeOutcome, handshake::ConnectError>>,
    ) -> Result<Upgraded, AttemptEnd> {
        let timeout = self.shared.settings.connect_timeout;
        match outcome {
            None => Err(self
                .fail(
                    ErrorKind::Timeout,
                    format!(
                        "the server did not answer the upgrade within {}",
                        humantime::format_duration(timeout)
                    ),
                )
                .await),
            Some(Err(e)) => {
                // An answer that arrived but was refused is recorded before the error.
                if let Some(info) = e.info {
                    self.emit(EventKind::Handshake(std::sync::Arc::new(*info)))
                        .await;
                }
                Err(self.fail(e.kind, e.message).await)
            }
            Some(Ok(UpgradeOutcome::Rejected { info })) => {
                let status = info.status;
                let retry_after = info.retry_after_ms.map(Duration::from_millis);
                self.emit(EventKind::Handshake(std::sync::Arc::new(info)))
                    .await;
                Err(AttemptEnd::Failed {
                    cause: Cause::Status { status },
                    retry_after,
                })
            }
            Some(Ok(UpgradeOutcome::BadExtensions {
                transport,
                info,
                problems,
            })) => {
                self.emit(EventKind::Handshake(std::sync::Arc::new(info)))
                    .await;
                let message = problems.join("; ");
                self.emit(EventKind::Error {
                    kind: ErrorKind::Extension,
                    message: message.clone(),
                })
                .await;
                // Fail the WebSocket connection (RFC 6455 section 7.1.7): send 1002 and drop.
                let mut ws =
                    WsStream::from_raw_socket(transport, WsRole::Client, Some(ws_config(1024)));
                let mut tracker = CloseTracker::new();
                let step = tracker.on(Input::Ours(OurClose::bad_extensions(&message)));
                self.apply(&mut ws, step).await;
                Err(self.end_connection(tracker, Some(Duration::ZERO)).await)
            }
            Some(Ok(UpgradeOutcome::Upgraded {
                transport,
                leftover,
                info,
                agreement,
            })) => {
                self.emit(EventKind::Handshake(std::sync::Arc::new(info)))
                    .await;
                Ok(Upgraded {
                    transport,
                    leftover,
                    agreement,
                })
            }
        }
    }

    /// The phase of the transport that had not finished when the connect timeout fired.
    fn unfinished_phase(&self, timings: &Timings) -> &'static str {
        // The host dialled: the proxy's, when there is one.
        let dials_a_name = match &self.spec.proxy {
            Some(p) => p.host.parse::<std::net::IpAddr>().is_err(),
            None => self
                .spec
                .url
                .host()
                .is_some_and(|h| matches!(h, url::Host::Domain(_))),
        };
        if timings.dns.is_none() && dials_a_name {
            "name resolution"
        } else if timings.connect.is_none() {
            "TCP connect"
        } else if self.spec.proxy.is_some() && timings.proxy.is_none() {
            "the proxy tunnel"
        } else {
            "TLS handshake"
        }
    }

    async fn fail(&mut self, kind: ErrorKind, message: String) -> AttemptEnd {
        self.emit(EventKind::Error { kind, message }).await;
        AttemptEnd::failed(Cause::Error { kind })
    }
}

/// An upgraded connection, ready to run.
struct Upgraded {
    transport: Transport,
    leftover: Vec<u8>,
    agreement: crate::protocol::extensions::Agreement,
}

/// The retry counter of the backoff policy, and the last delay (for decorrelated jitter).
#[derive(Debug, Default)]
struct Retries {
    number: u32,
    prev_delay: Option<Duration>,
}

/// "Never", for timers that must not fire.
const FAR: Duration = Duration::from_secs(86400 * 365);

/// Run one connect phase until it finishes (`Ok(Some)`), the deadline passes (`Ok(None)`) or
/// the operator stops the session (`Err`). Pause requests are remembered for later.
async fn race<F: std::future::Future>(
    fut: F,
    deadline: Instant,
    cmds: &mut Inbox,
    paused: &mut bool,
) -> Result<Option<F::Output>, Stop> {
    tokio::pin!(fut);
    loop {
        tokio::select! {
            r = &mut fut => return Ok(Some(r)),
            _ = tokio::time::sleep_until(deadline) => return Ok(None),
            cmd = cmds.recv() => match cmd {
                None | Some(SessionCmd::Shutdown) => return Err(Stop::Shutdown),
                Some(SessionCmd::Remove) => return Err(Stop::Remove),
                Some(SessionCmd::SetPaused(p)) => *paused = p,
                Some(_) => {}
            },
        }
    }
}

enum Wait {
    Elapsed,
    Now,
    Closed(u16),
    Stop(Stop),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every session's task carries its whole future for life: no large array may live in it.
    #[test]
    fn a_session_task_is_small() {
        let (events, _rx) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            settings: SessionSettings::default(),
            backoff: BackoffConfig::default(),
            tls: None,
            registry: Arc::new(Registry::builtin().clone()),
            events,
            slots: Slots::new(1, None, Arc::default()),
            epoch: Instant::now(),
            h2: crate::engine::h2pool::Pool::new(Default::default(), 100, false, None)
                .expect("an HTTP/1.1 pool needs no TLS"),
            messages: None,
        });
        let (_tx, cmds) = crate::engine::inbox::inbox();
        let url = Url::parse("ws://127.0.0.1:1/").expect("valid URL");
        let spec = SessionSpec {
            id: 1,
            target: 0,
            index: 0,
            proxy: None,
            local: None,
            url_shown: Arc::from(url.as_str()),
            url: Arc::new(url),
            request: Arc::new(RequestSpec::default()),
            secrets: Arc::default(),
            seed: 1,
            conversation: None,
        };
        let session = Session::new(spec, shared, Arc::default(), cmds);
        let run = session.run();
        let size = std::mem::size_of_val(&run);
        eprintln!("session future: {size} bytes");
        // Debug build: 1.4 KiB here. It was 6.1 KiB while the phases of an attempt (connect,
        // upgrade, the open connection) were reserved in it rather than boxed while they run,
        // and 10.1 KiB while httparse's header array lived in it.
        assert!(size <= 2 * 1024, "the session future takes {size} bytes");
    }
}
