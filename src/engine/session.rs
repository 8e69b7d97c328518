//! One task per session: it owns its socket and its backoff state, and only sends events.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::{SinkExt, StreamExt};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role as WsRole, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message, error::ProtocolError};
use url::Url;

use crate::codes::Registry;
use crate::config::SessionSettings;
use crate::engine::backoff::{self, Advice, BackoffConfig, Decision};
use crate::engine::counters::SessionCounters;
use crate::engine::events::{
    BackoffInfo, Cause, CloseInfo, DelayKind, ErrorKind, Event, EventKind, Initiator, SessionId,
    Timings,
};
use crate::protocol::close_reason;
use crate::protocol::handshake::{self, RequestSpec, Transport, UpgradeOutcome};
use crate::protocol::wire::{Role, WireStream};
use crate::redact;
use crate::state::store::StoreMsg;

/// What the supervisor tells one session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionCmd {
    /// Close with this code; the session is not retried.
    Close {
        code: u16,
        reason: String,
    },
    /// Skip the wait and reconnect now (also restarts an ended session).
    ReconnectNow,
    SetPaused(bool),
    /// wsmon is stopping: close with 1001.
    Shutdown,
    /// The session is being removed: close with 1000 and end.
    Remove,
}

/// Settings shared by every session.
pub struct Shared {
    pub settings: SessionSettings,
    pub backoff: BackoffConfig,
    pub tls: Option<TlsConnector>,
    pub registry: Arc<Registry>,
    pub store: mpsc::Sender<StoreMsg>,
}

/// One session's identity.
pub struct SessionSpec {
    pub id: SessionId,
    pub target: usize,
    pub url: Url,
    pub url_shown: String,
    pub request: Arc<RequestSpec>,
    pub seed: u64,
}

/// Why the session loop stops for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Shutdown,
    Remove,
}

/// How one attempt ended.
struct AttemptEnd {
    cause: Option<Cause>,
    uptime: Option<Duration>,
    retry_after: Option<Duration>,
    /// Closed by the operator (`c`): do not retry.
    user_closed: Option<u16>,
    /// The operator asked to reconnect now.
    reconnect_now: bool,
    stop: Option<Stop>,
}

impl AttemptEnd {
    fn cause(cause: Cause) -> Self {
        AttemptEnd {
            cause: Some(cause),
            uptime: None,
            retry_after: None,
            user_closed: None,
            reconnect_now: false,
            stop: None,
        }
    }
    fn stopped(stop: Stop) -> Self {
        AttemptEnd {
            cause: None,
            uptime: None,
            retry_after: None,
            user_closed: None,
            reconnect_now: false,
            stop: Some(stop),
        }
    }
}

/// A running session.
pub struct Session {
    spec: SessionSpec,
    shared: Arc<Shared>,
    counters: Arc<SessionCounters>,
    cmds: mpsc::Receiver<SessionCmd>,
    paused: bool,
    rng: SmallRng,
    /// The store is gone: stop quietly.
    orphaned: bool,
}

impl Session {
    pub fn new(
        spec: SessionSpec,
        shared: Arc<Shared>,
        counters: Arc<SessionCounters>,
        cmds: mpsc::Receiver<SessionCmd>,
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
        }
    }

    async fn emit(&mut self, kind: EventKind) {
        if self.orphaned {
            return;
        }
        let ev = Event {
            ts: Utc::now(),
            session: self.spec.id,
            kind,
        };
        if self.shared.store.send(StoreMsg::Event(ev)).await.is_err() {
            self.orphaned = true;
        }
    }

    /// The session's whole life.
    pub async fn run(mut self) {
        let url = self.spec.url_shown.clone();
        let target = self.spec.target;
        self.emit(EventKind::Spawned { target, url }).await;
        let mut attempt: u32 = 1;
        let mut retries = Retries::default();
        loop {
            if self.orphaned {
                return;
            }
            self.emit(EventKind::Connecting { attempt }).await;
            let end = self.attempt(attempt).await;
            attempt = attempt.saturating_add(1);
            if let Err(stop) = self.between_attempts(end, &mut retries).await {
                if stop == Stop::Remove {
                    self.emit(EventKind::Removed).await;
                }
                return;
            }
        }
    }

    /// After an attempt: decide by cause, then back off, wait for the operator, or stop.
    /// `Ok` means "connect again".
    async fn between_attempts(
        &mut self,
        end: AttemptEnd,
        retries: &mut Retries,
    ) -> Result<(), Stop> {
        if let Some(stop) = end.stop {
            return Err(stop);
        }
        if let Some(code) = end.user_closed {
            let why = format!("closed by the operator with {code}; press r to reconnect");
            self.emit(EventKind::Ended {
                cause: end.cause,
                why,
            })
            .await;
            return self.park(retries).await;
        }
        if end.reconnect_now {
            *retries = Retries::default();
            self.emit_immediate().await;
            return Ok(());
        }
        let Some(cause) = end.cause else {
            return Ok(());
        };
        retries.number =
            backoff::next_attempt(retries.number, end.uptime, self.shared.backoff.stable_after);
        let registry = self.shared.registry.clone();
        let advice = move |code: u16| Advice::from(registry.retry_advice(code));
        let decision = backoff::decide(
            &self.shared.backoff,
            &advice,
            retries.number,
            &cause,
            end.retry_after,
            retries.prev_delay,
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
                match self.wait(Some(Instant::now() + delay)).await {
                    Wait::Elapsed => Ok(()),
                    Wait::Now => {
                        *retries = Retries::default();
                        Ok(())
                    }
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
        match self.wait(None).await {
            Wait::Stop(stop) => Err(stop),
            _ => {
                *retries = Retries::default();
                Ok(())
            }
        }
    }

    /// The operator's `r`: an immediate retry, recorded in the timeline.
    async fn emit_immediate(&mut self) {
        self.emit(EventKind::Backoff(BackoffInfo {
            attempt: 0,
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
    /// deadline, until the operator restarts or removes the session.
    async fn wait(&mut self, deadline: Option<Instant>) -> Wait {
        loop {
            let until = deadline.unwrap_or_else(|| Instant::now() + FAR);
            tokio::select! {
                _ = tokio::time::sleep_until(until), if deadline.is_some() && !self.paused => return Wait::Elapsed,
                cmd = self.cmds.recv() => match cmd {
                    None | Some(SessionCmd::Shutdown) => return Wait::Stop(Stop::Shutdown),
                    Some(SessionCmd::Remove) => return Wait::Stop(Stop::Remove),
                    Some(SessionCmd::ReconnectNow) => {
                        self.emit_immediate().await;
                        return Wait::Now;
                    }
                    Some(SessionCmd::Close { code, .. }) if deadline.is_some() => return Wait::Closed(code),
                    Some(SessionCmd::Close { .. }) => {}
                    Some(SessionCmd::SetPaused(p)) => self.set_paused(p).await,
                },
            }
        }
    }

    /// Connect, upgrade, and (if it opens) run the connection until it ends.
    async fn attempt(&mut self, attempt: u32) -> AttemptEnd {
        let mut timings = Timings::default();
        let timeout = self.shared.settings.connect_timeout;
        let deadline = Instant::now() + timeout;

        // Phase 1: DNS, TCP, TLS.
        let fut = handshake::open_transport(&self.spec.url, self.shared.tls.as_ref(), &mut timings);
        let transport = match race(fut, deadline, &mut self.cmds, &mut self.paused).await {
            Err(stop) => return AttemptEnd::stopped(stop),
            Ok(r) => r,
        };
        let transport = match transport {
            None => {
                let phase = if timings.dns.is_none()
                    && self
                        .spec
                        .url
                        .host()
                        .is_some_and(|h| matches!(h, url::Host::Domain(_)))
                {
                    "name resolution"
                } else if timings.connect.is_none() {
                    "TCP connect"
                } else {
                    "TLS handshake"
                };
                return self
                    .fail(
                        ErrorKind::Timeout,
                        format!(
                            "{phase} did not finish within {}",
                            humantime::format_duration(timeout)
                        ),
                    )
                    .await;
            }
            Some(Err(e)) => {
                self.emit(EventKind::Error {
                    kind: e.kind,
                    message: e.message.clone(),
                })
                .await;
                if e.kind == ErrorKind::Tls {
                    // A TLS failure is reported as 1015, detected locally (never on the wire).
                    self.emit(EventKind::Closed(CloseInfo {
                        code: 1015,
                        reason: redact::escape_control(close_reason(&e.message)),
                        initiator: Initiator::Local,
                        clean: false,
                        uptime_ms: None,
                    }))
                    .await;
                    return AttemptEnd::cause(Cause::Close { code: 1015 });
                }
                return AttemptEnd::cause(Cause::Error { kind: e.kind });
            }
            Some(Ok(t)) => t,
        };

        // Phase 2: the upgrade.
        self.emit(EventKind::Handshaking { attempt }).await;
        let fut = handshake::upgrade(transport, &self.spec.url, &self.spec.request, timings);
        let outcome = match race(fut, deadline, &mut self.cmds, &mut self.paused).await {
            Err(stop) => return AttemptEnd::stopped(stop),
            Ok(r) => r,
        };
        match outcome {
            None => {
                self.fail(
                    ErrorKind::Timeout,
                    format!(
                        "the server did not answer the upgrade within {}",
                        humantime::format_duration(timeout)
                    ),
                )
                .await
            }
            Some(Err(e)) => {
                // An answer that arrived but was refused is recorded before the error.
                if let Some(info) = e.info {
                    self.emit(EventKind::Handshake(std::sync::Arc::new(*info)))
                        .await;
                }
                self.fail(e.kind, e.message).await
            }
            Some(Ok(UpgradeOutcome::Rejected { info })) => {
                let status = info.status;
                let retry_after = info.retry_after_ms.map(Duration::from_millis);
                self.emit(EventKind::Handshake(std::sync::Arc::new(info)))
                    .await;
                AttemptEnd {
                    retry_after,
                    ..AttemptEnd::cause(Cause::Status { status })
                }
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
                let reason = close_reason(&message).to_string();
                let mut ws = WebSocketStream::from_raw_socket(
                    transport,
                    WsRole::Client,
                    Some(ws_config(1024)),
                )
                .await;
                let frame = CloseFrame {
                    code: CloseCode::Protocol,
                    reason: reason.clone().into(),
                };
                let sent =
                    tokio::time::timeout(Duration::from_secs(1), ws.close(Some(frame))).await;
                self.emit(EventKind::Closing {
                    code: 1002,
                    initiator: Initiator::Client,
                })
                .await;
                self.emit(EventKind::Closed(CloseInfo {
                    code: 1002,
                    reason: redact::escape_control(&reason),
                    initiator: Initiator::Client,
                    clean: false,
                    uptime_ms: Some(0),
                }))
                .await;
                let _ = sent;
                AttemptEnd::cause(Cause::Close { code: 1002 })
            }
            Some(Ok(UpgradeOutcome::Upgraded {
                transport,
                leftover,
                info,
                agreement,
            })) => {
                self.emit(EventKind::Handshake(std::sync::Arc::new(info)))
                    .await;
                self.run_open(attempt, transport, leftover, agreement).await
            }
        }
    }

    async fn fail(&mut self, kind: ErrorKind, message: String) -> AttemptEnd {
        self.emit(EventKind::Error { kind, message }).await;
        AttemptEnd::cause(Cause::Error { kind })
    }

    /// The open connection: read, ping, send, obey commands, record how it ends.
    async fn run_open(
        &mut self,
        attempt: u32,
        transport: Transport,
        leftover: Vec<u8>,
        agreement: crate::protocol::extensions::Agreement,
    ) -> AttemptEnd {
        let settings = self.shared.settings.clone();
        let max = settings.max_message_size;
        let layer = WireStream::new(
            transport,
            Role::Client,
            agreement.deflate,
            leftover,
            max,
            self.counters.clone(),
        );
        let layer_state = layer.layer_close();
        let mut ws =
            WebSocketStream::from_raw_socket(layer, WsRole::Client, Some(ws_config(max))).await;
        self.emit(EventKind::Open { attempt }).await;
        let opened = Instant::now();

        // (code, reason, initiator) of the first close frame, once there is one.
        let mut closing: Option<(u16, String, Initiator)> = None;
        let mut close_deadline: Option<Instant> = None;
        let mut user_closed = None;
        let mut reconnect_now = false;
        let mut stop = None;
        let mut ended_error: Option<String> = None;

        if let Some(reason) = agreement.missing_reason() {
            let reason = close_reason(&reason).to_string();
            let _ = ws
                .send(Message::Close(Some(CloseFrame {
                    code: CloseCode::Extension,
                    reason: reason.clone().into(),
                })))
                .await;
            self.emit(EventKind::Closing {
                code: 1010,
                initiator: Initiator::Client,
            })
            .await;
            closing = Some((1010, reason, Initiator::Client));
            close_deadline = Some(Instant::now() + settings.close_timeout);
        } else if let Some(text) = &settings.send
            && ws.send(Message::text(text.clone())).await.is_ok()
        {
            SessionCounters::add(&self.counters.msgs_out, 1);
        }

        let ping_every = settings.ping_interval.unwrap_or(FAR);
        let mut ping = tokio::time::interval_at(opened + ping_every, ping_every);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let send_every = settings.send_every.unwrap_or(FAR);
        let mut resend = tokio::time::interval_at(opened + send_every, send_every);
        resend.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ping_seq: u64 = 0;
        let mut ping_sent: Option<(u64, Instant)> = None;

        loop {
            let deadline = close_deadline.unwrap_or(opened + FAR);
            tokio::select! {
                msg = ws.next() => match msg {
                    Some(Ok(Message::Text(_))) | Some(Ok(Message::Binary(_))) => {
                        SessionCounters::add(&self.counters.msgs_in, 1);
                    }
                    Some(Ok(Message::Pong(p))) => {
                        if let (Some((seq, at)), Ok(bytes)) = (ping_sent, <[u8; 8]>::try_from(p.as_ref()))
                            && u64::from_be_bytes(bytes) == seq
                        {
                            let rtt = at.elapsed().as_micros().max(1) as u64;
                            self.counters.rtt_us.store(rtt, std::sync::atomic::Ordering::Relaxed);
                            ping_sent = None;
                        }
                    }
                    Some(Ok(Message::Ping(_))) | Some(Ok(Message::Frame(_))) => {}
                    Some(Ok(Message::Close(frame))) => {
                        if closing.is_none() {
                            // The server closed first. Prefer the raw code our frame layer saw:
                            // tungstenite rewrites codes it does not know (e.g. 1014) to 1002.
                            let raw = layer_state.peer_close();
                            let (code, reason, initiator) = match (raw, frame) {
                                (Some(r), _) => match r.code {
                                    Some(c) => (c, r.reason, Initiator::Server),
                                    None => (1005, String::new(), Initiator::Local),
                                },
                                (None, Some(f)) => (u16::from(f.code), f.reason.to_string(), Initiator::Server),
                                (None, None) => (1005, String::new(), Initiator::Local),
                            };
                            self.emit(EventKind::Closing { code, initiator }).await;
                            closing = Some((code, reason, initiator));
                            close_deadline = Some(Instant::now() + settings.close_timeout);
                        }
                    }
                    Some(Err(e)) => {
                        if closing.is_none() {
                            ended_error = Some(self.handle_ws_error(&mut ws, &e, &layer_state, &mut closing).await);
                        }
                        break;
                    }
                    None => break,
                },
                _ = ping.tick(), if closing.is_none() && settings.ping_interval.is_some() => {
                    ping_seq += 1;
                    // Stamp before the send: the round trip includes our own write.
                    let sent_at = Instant::now();
                    if ws.send(Message::Ping(ping_seq.to_be_bytes().to_vec().into())).await.is_ok() {
                        ping_sent = Some((ping_seq, sent_at));
                    }
                }
                _ = resend.tick(), if closing.is_none() && settings.send_every.is_some() => {
                    if let Some(text) = &settings.send
                        && ws.send(Message::text(text.clone())).await.is_ok()
                    {
                        SessionCounters::add(&self.counters.msgs_out, 1);
                    }
                }
                cmd = self.cmds.recv(), if closing.is_none() => {
                    let (code, reason) = match cmd {
                        None | Some(SessionCmd::Shutdown) => { stop = Some(Stop::Shutdown); (1001, "wsmon is shutting down".to_string()) }
                        Some(SessionCmd::Remove) => { stop = Some(Stop::Remove); (1000, "session removed by the operator".to_string()) }
                        Some(SessionCmd::Close { code, reason }) => { user_closed = Some(code); (code, reason) }
                        Some(SessionCmd::ReconnectNow) => { reconnect_now = true; (1000, "reconnect requested by the operator".to_string()) }
                        Some(SessionCmd::SetPaused(p)) => {
                            self.set_paused(p).await;
                            continue;
                        }
                    };
                    let reason = close_reason(&reason).to_string();
                    let _ = ws.send(Message::Close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.clone().into() }))).await;
                    self.emit(EventKind::Closing { code, initiator: Initiator::Client }).await;
                    closing = Some((code, reason, Initiator::Client));
                    close_deadline = Some(Instant::now() + settings.close_timeout);
                }
                _ = tokio::time::sleep_until(deadline), if close_deadline.is_some() => {
                    ended_error = Some("the peer did not finish the closing handshake in time".into());
                    break;
                }
            }
        }
        let uptime = opened.elapsed();
        let clean = ended_error.is_none() && closing.is_some();
        let (code, reason, initiator) = match (closing, layer_state.get()) {
            (_, Some(lc)) => (lc.code, lc.reason, Initiator::Client),
            (Some(c), None) => c,
            (None, None) => (
                1006,
                ended_error
                    .clone()
                    .unwrap_or_else(|| "connection dropped without a close frame".into()),
                Initiator::Local,
            ),
        };
        let clean = clean && code != 1006;
        self.emit(EventKind::Closed(CloseInfo {
            code,
            reason: redact::escape_control(close_reason(&reason)),
            initiator,
            clean,
            uptime_ms: Some(uptime.as_millis() as u64),
        }))
        .await;
        AttemptEnd {
            cause: Some(Cause::Close { code }),
            uptime: Some(uptime),
            retry_after: None,
            user_closed,
            reconnect_now,
            stop,
        }
    }

    /// A read error while open and not closing: decide the close code and, where the client must
    /// close (too big, bad UTF-8, protocol error), send the close frame. Returns a description.
    async fn handle_ws_error<S>(
        &mut self,
        ws: &mut WebSocketStream<S>,
        e: &WsError,
        layer_state: &crate::protocol::wire::LayerCloseHandle,
        closing: &mut Option<(u16, String, Initiator)>,
    ) -> String
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        if let Some(lc) = layer_state.get() {
            self.emit(EventKind::Closing {
                code: lc.code,
                initiator: Initiator::Client,
            })
            .await;
            return lc.reason;
        }
        let (code, reason) = match e {
            WsError::Capacity(c) => (1009, format!("message too big: {c}")),
            WsError::Utf8(_) => (1007, "text message is not valid UTF-8".to_string()),
            WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
                return "connection reset without a close frame".into();
            }
            WsError::Protocol(p) => (1002, format!("protocol error: {p}")),
            WsError::Io(io) => return format!("connection lost: {io}"),
            other => return format!("connection ended: {other}"),
        };
        let reason = close_reason(&reason).to_string();
        self.emit(EventKind::Error {
            kind: ErrorKind::Protocol,
            message: reason.clone(),
        })
        .await;
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.clone().into(),
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(Some(frame))).await;
        self.emit(EventKind::Closing {
            code,
            initiator: Initiator::Client,
        })
        .await;
        *closing = Some((code, reason.clone(), Initiator::Client));
        reason
    }
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
    cmds: &mut mpsc::Receiver<SessionCmd>,
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

/// Small buffers: 10,000 idle sessions must stay small (tungstenite preallocates its read buffer).
pub fn ws_config(max_message: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message))
}
