//! Plain data that flows from session tasks to the store (events) and from the UI to the
//! supervisor (commands). Nothing here does I/O; everything is `Clone` and serialisable so the
//! export writer can write it as is.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::counters::{EngineGauges, SessionCounters};
pub use crate::protocol::error::ErrorKind;
pub use crate::protocol::handshake::{HandshakeInfo, Timings};
pub use crate::protocol::http2::{Link, Proto};

/// What the engine emits, in order, on the one bounded channel it is given.
#[derive(Debug)]
pub enum SessionMsg {
    /// A session's counters, sent by the supervisor before the session starts.
    Register {
        id: SessionId,
        counters: Arc<SessionCounters>,
    },
    Event(Event),
    /// Engine-wide gauges (sessions waiting for a handshake slot), sent once at start.
    Gauges(Arc<EngineGauges>),
}

/// Stable session id, unique for the life of the process. Shown as `s<id>`.
pub type SessionId = u64;

/// A map keyed by session id, hashed with one multiply instead of SipHash: ids are ours (not
/// an attacker's), and the message log looks one up for every frame of every session.
pub type IdMap<V> = std::collections::HashMap<SessionId, V, BuildIdHasher>;

/// The hasher of [`IdMap`]: Fibonacci hashing of the id (spreads sequential ids over the high
/// bits, which the table's probes use).
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildIdHasher;

impl std::hash::BuildHasher for BuildIdHasher {
    type Hasher = IdHasher;
    fn build_hasher(&self) -> IdHasher {
        IdHasher(0)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not used by u64 keys; any other key still hashes all its bytes.
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Life-cycle state of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    /// DNS, TCP connect and TLS are in progress.
    Connecting,
    /// The HTTP upgrade request was sent; waiting for the answer.
    Handshaking,
    Open,
    /// A close frame was sent or received; waiting for the other side.
    Closing,
    /// Ended and will not be retried (see `ended_why`).
    Closed,
    /// Waiting for the next reconnect attempt.
    Waiting,
    /// `--max-attempts` was reached.
    GaveUp,
}

impl SessionState {
    pub const ALL: [SessionState; 7] = [
        SessionState::Connecting,
        SessionState::Handshaking,
        SessionState::Open,
        SessionState::Closing,
        SessionState::Closed,
        SessionState::Waiting,
        SessionState::GaveUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Connecting => "connecting",
            SessionState::Handshaking => "handshaking",
            SessionState::Open => "open",
            SessionState::Closing => "closing",
            SessionState::Closed => "closed",
            SessionState::Waiting => "waiting",
            SessionState::GaveUp => "gave_up",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// Who ended the connection: the side that sent the first close frame, or that dropped the
/// connection without one. Whether the code itself travelled is [`CloseInfo::code_on_wire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initiator {
    /// The server sent the first close frame (with a code, or without one: 1005), ended the
    /// connection without any close frame (1006 after its FIN or reset), or failed the TLS
    /// handshake with an alert (1015).
    Server,
    /// wsmon sent the first close frame (1010, 1009, a user's `c`, shutdown's 1001), or refused
    /// the TLS handshake (1015, a certificate it does not trust).
    Client,
    /// Nobody known: 1006 after a local I/O error.
    Local,
}

impl Initiator {
    pub fn as_str(self) -> &'static str {
        match self {
            Initiator::Server => "server",
            Initiator::Client => "client",
            Initiator::Local => "local",
        }
    }
}

/// A finished connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloseInfo {
    pub code: u16,
    /// At most 123 bytes as received, with control characters escaped.
    pub reason: String,
    pub initiator: Initiator,
    /// Both close frames were exchanged and the TCP connection closed after that.
    pub clean: bool,
    /// How long the connection was open, if it ever opened.
    pub uptime_ms: Option<u64>,
    /// The code the peer sent when it may not be on the wire (RFC 6455 section 7.4); the
    /// record then says 1002 from the client, which failed the connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_code: Option<u16>,
    /// Why wsmon sent the first close frame (the close tracker's reason); `None` when the
    /// server closed first or nobody sent a close frame.
    #[serde(default, rename = "close_why", skip_serializing_if = "Option::is_none")]
    pub why: Option<CloseWhy>,
}

impl CloseInfo {
    /// Whether the code travelled in a close frame. 1005 (a close frame without a code), 1006
    /// (no close frame) and 1015 (no WebSocket yet) never do: the close tracker records them
    /// only for those cases, and turns a peer's frame carrying one of them into 1002.
    pub fn code_on_wire(&self) -> bool {
        crate::codes::valid_on_wire(self.code)
    }

    /// wsmon closed it because it was stopping (its 1001 on shutdown).
    pub fn is_shutdown(&self) -> bool {
        self.why == Some(CloseWhy::Shutdown)
    }
}

/// Why wsmon sends a close frame: the close tracker's reason, kept in the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseWhy {
    /// The operator's `c`: close with the operator's code; not retried.
    Operator,
    /// The operator's `r` on an open connection (1000).
    Reconnect,
    /// wsmon is stopping (1001).
    Shutdown,
    /// The session is being removed (1000).
    Removal,
    /// A required extension was not negotiated (1010).
    MissingExtension,
    /// The server's extension answer broke RFC 6455 section 9.1 or RFC 7692 (1002).
    BadExtensions,
    /// A message over the size limit (1009).
    TooBig,
    /// Text that is not UTF-8, or compressed data that does not inflate (1007).
    BadData,
    /// Another protocol violation by the peer (1002).
    ProtocolError,
    /// The peer keeps sending pings but does not read our answers (1008): the queue of unsent
    /// bytes reached its bound.
    PeerNotReading,
    /// A script step failed (an `expect` timed out): the script's close code, 1000 by default.
    Script,
    /// No message from the server for the stale threshold, with `--stale-action reconnect`.
    Stale,
}

impl CloseWhy {
    /// The export's spelling (`shutdown`, `peer_not_reading` ...).
    pub fn as_str(self) -> &'static str {
        match self {
            CloseWhy::Operator => "operator",
            CloseWhy::Reconnect => "reconnect",
            CloseWhy::Shutdown => "shutdown",
            CloseWhy::Removal => "removal",
            CloseWhy::MissingExtension => "missing_extension",
            CloseWhy::BadExtensions => "bad_extensions",
            CloseWhy::TooBig => "too_big",
            CloseWhy::BadData => "bad_data",
            CloseWhy::ProtocolError => "protocol_error",
            CloseWhy::PeerNotReading => "peer_not_reading",
            CloseWhy::Script => "script",
            CloseWhy::Stale => "stale",
        }
    }
}

/// Why a retry was scheduled (or refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Cause {
    /// The connection closed with this code (sent by the server or detected locally).
    Close { code: u16 },
    /// The upgrade was answered with this HTTP status.
    Status { status: u16 },
    /// The attempt failed before a close code existed.
    Error { kind: ErrorKind },
    /// The user asked for it (`r`).
    Manual,
    /// wsmon was stopping (`--duration`, `q`, a signal): the session's last event.
    Shutdown,
    /// Over HTTP/2: the shared connection was lost (a GOAWAY with its error code, a TCP reset,
    /// a PING timeout ...), or the server reset the session's stream (`rst_stream`).
    Connection {
        reason: crate::protocol::http2::LossReason,
        #[serde(default, with = "crate::protocol::http2::h2_error_serde")]
        h2_error: Option<u32>,
    },
}

/// Which delay rule produced a backoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DelayKind {
    /// Exponential window with jitter.
    Backoff,
    /// Random delay in the restart range (1012, 1001).
    RestartDelay,
    /// Retry at once.
    Immediate,
}

/// Jitter strategy (AWS Architecture Blog, "Exponential Backoff And Jitter").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// random(0, window)
    #[default]
    Full,
    /// window/2 + random(0, window/2)
    Equal,
    /// min(cap, random(base, previous * 3))
    Decorrelated,
    /// exactly the window
    None,
}

/// A retry that was scheduled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackoffInfo {
    /// The attempt number this delay leads to, counted as retries: 1 for the first retry.
    pub attempt: u32,
    pub cause: Cause,
    pub kind: DelayKind,
    pub window_ms: u64,
    pub delay_ms: u64,
    pub retry_after_ms: Option<u64>,
    pub jitter: Jitter,
    pub next_attempt_at: DateTime<Utc>,
}

/// One thing that happened to one session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub ts: DateTime<Utc>,
    pub session: SessionId,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A session was created for target `target` (index into the target list); `index` counts
    /// the target's sessions from 0 (with `--shard`, the same count in every agent).
    Spawned {
        target: usize,
        #[serde(default)]
        index: usize,
        url: String,
    },
    /// Attempt `attempt` starts (1 for the first connection), after waiting `slot_wait_ms` for
    /// a handshake slot (`--max-connecting`, `--ramp`); the backoff delay is not included.
    Connecting {
        attempt: u32,
        #[serde(default)]
        slot_wait_ms: u64,
        /// Over HTTP/2 (`--transport`): the transport asked for.
        #[serde(default, skip_serializing_if = "Link::is_empty")]
        link: Link,
    },
    /// The upgrade request was sent.
    Handshaking { attempt: u32 },
    /// An HTTP answer to the upgrade arrived (101 or not).
    Handshake(std::sync::Arc<HandshakeInfo>),
    /// The WebSocket is open; over HTTP/2 `link` says on which connection and stream.
    Open {
        attempt: u32,
        #[serde(default, skip_serializing_if = "Link::is_empty")]
        link: Link,
    },
    /// A close frame was sent (`initiator` client) or received (`initiator` server).
    Closing { code: u16, initiator: Initiator },
    /// The connection ended.
    Closed(CloseInfo),
    /// The attempt failed without a close code.
    Error { kind: ErrorKind, message: String },
    /// A retry was scheduled.
    Backoff(BackoffInfo),
    /// `--max-attempts` reached; no more retries.
    GaveUp { attempts: u32, cause: Cause },
    /// The session ended for good without retrying; `why` says why.
    Ended { cause: Option<Cause>, why: String },
    /// Retries were paused or resumed for this session.
    Paused { paused: bool },
    /// The session was removed (`-` in the TUI); it no longer exists.
    Removed,
    /// A step of the session's script (or built-in protocol) started, matched or timed out.
    Script(Arc<ScriptEvent>),
    /// No message from the server for `silent_ms` (the stale threshold): the connection may be
    /// up, the conversation is not.
    Stale { silent_ms: u64 },
    /// A message came after a stale spell of `silent_ms`.
    Fresh { silent_ms: u64 },
    /// A request got its response (`rpc`: a script's `send` then `expect`) or an application
    /// ping its pong (`ping`), `us` microseconds later.
    Latency {
        us: u64,
        source: LatencySource,
        /// The script step that matched (0 for a built-in protocol's ping).
        step: u32,
    },
    /// A frame sent or received, for the message log (`--message-log`) and the export
    /// (`--record-messages`).
    Message(Arc<MessageRecord>),
}

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the server.
    In,
    /// From wsmon.
    Out,
}

/// A message's or control frame's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Opcode {
    Text,
    Binary,
    Ping,
    Pong,
    Close,
}

/// Where a session's frames go while the message log is on: its log in the store, written by
/// the session directly (a `message` event goes to the store only for `--record-messages`).
/// Implemented by the store's logs ([`crate::state::messages::MessageLogs`]).
pub trait FrameLog: Send + Sync {
    /// Keep `record`, a frame of `session` seen at `ts`.
    fn push(&self, session: SessionId, ts: DateTime<Utc>, record: Arc<MessageRecord>);
}

/// One message or control frame as kept: its sizes always, its payload up to the preview cap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub dir: Direction,
    pub opcode: Opcode,
    /// Payload bytes on the wire (compressed when `rsv1`).
    pub wire_size: u64,
    /// Payload bytes after inflating: the message's full length.
    pub size: u64,
    /// Sent compressed (permessage-deflate).
    pub rsv1: bool,
    /// The payload's first bytes (all of it when `payload.len() == size`). A close frame's
    /// payload is its code (2 bytes, big-endian) and reason, as on the wire.
    pub payload: Vec<u8>,
}

impl MessageRecord {
    /// Only the first bytes of the payload were kept.
    pub fn is_cut(&self) -> bool {
        (self.payload.len() as u64) < self.size
    }

    /// A close frame's code (`None`: a close frame without one) and reason, from its payload
    /// (the reason decoded lossily: it comes from the peer).
    pub fn close_parts(&self) -> (Option<u16>, std::borrow::Cow<'_, str>) {
        match self.payload.as_slice() {
            [a, b, rest @ ..] => (
                Some(u16::from_be_bytes([*a, *b])),
                String::from_utf8_lossy(rest),
            ),
            _ => (None, std::borrow::Cow::Borrowed("")),
        }
    }
}

/// What a `script` event says about its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScriptPhase {
    Started,
    Matched,
    TimedOut,
}

impl ScriptPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptPhase::Started => "started",
            ScriptPhase::Matched => "matched",
            ScriptPhase::TimedOut => "timed_out",
        }
    }
}

/// One step of a script, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptEvent {
    /// The step's number in the script, from 1 (0: a built-in protocol's own step).
    pub step: u32,
    /// How many steps the script has (0: not known: a built-in protocol, or an export written
    /// before the field existed). Exported as `steps` when known.
    #[serde(default)]
    pub steps: u32,
    pub phase: ScriptPhase,
    /// What the step does or waits for, as shown: `expect {"type":"connection_ack"} within 5s`.
    pub what: String,
    /// On `timed_out`: the last message that came (escaped, cut); `None` when none came.
    #[serde(default)]
    pub last: Option<String>,
    /// On `matched`: the values the step captured, secret ones already `<redacted>`.
    #[serde(default)]
    pub captured: Vec<(String, String)>,
}

/// Where a latency sample comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencySource {
    /// A script's `send` answered by the `expect` after it.
    Rpc,
    /// An application-level ping answered by its pong (graphql-ws `ping`/`pong`).
    Ping,
}

impl LatencySource {
    pub fn as_str(self) -> &'static str {
        match self {
            LatencySource::Rpc => "rpc",
            LatencySource::Ping => "ping",
        }
    }
}

impl EventKind {
    /// Rewrite every text that came from the peer or the wire (answer headers and body, status
    /// line, reasons, messages) with `f`, which returns `Owned` only when it changed something.
    /// The session runs its known secrets through it before an event leaves ([`Secrets`]).
    ///
    /// [`Secrets`]: crate::redact::Secrets
    pub fn rewrite_texts(&mut self, f: impl Fn(&str) -> std::borrow::Cow<'_, str>) {
        let fix = |s: &mut String| {
            if let std::borrow::Cow::Owned(new) = f(s) {
                *s = new;
            }
        };
        match self {
            EventKind::Handshake(h) => {
                let h = Arc::make_mut(h);
                fix(&mut h.status_line);
                for (_, v) in h.request_headers.iter_mut().chain(&mut h.response_headers) {
                    fix(v);
                }
                for s in [
                    &mut h.body,
                    &mut h.subprotocol,
                    &mut h.retry_after_invalid,
                    &mut h.invalid,
                    &mut h.bad_header,
                ]
                .into_iter()
                .flatten()
                {
                    fix(s);
                }
                h.missing.iter_mut().chain(&mut h.unexpected).for_each(fix);
            }
            EventKind::Closed(c) => fix(&mut c.reason),
            EventKind::Error { message, .. } => fix(message),
            EventKind::Ended { why, .. } => fix(why),
            EventKind::Script(sc) => {
                let sc = Arc::make_mut(sc);
                fix(&mut sc.what);
                sc.last.iter_mut().for_each(fix);
                sc.captured.iter_mut().for_each(|(_, v)| fix(v));
            }
            // The URL is shown through `redact::url`; the rest holds no text.
            _ => {}
        }
    }

    /// The `event` field of the export.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Spawned { .. } => "spawned",
            EventKind::Connecting { .. } => "connecting",
            EventKind::Handshaking { .. } => "handshaking",
            EventKind::Handshake(_) => "handshake",
            EventKind::Open { .. } => "open",
            EventKind::Closing { .. } => "closing",
            EventKind::Closed(_) => "closed",
            EventKind::Error { .. } => "error",
            EventKind::Backoff(_) => "backoff",
            EventKind::GaveUp { .. } => "gave_up",
            EventKind::Ended { .. } => "ended",
            EventKind::Paused { .. } => "paused",
            EventKind::Removed => "removed",
            EventKind::Script(_) => "script",
            EventKind::Stale { .. } => "stale",
            EventKind::Fresh { .. } => "fresh",
            EventKind::Latency { .. } => "latency",
            EventKind::Message(_) => "message",
        }
    }
}

/// What the UI asks the supervisor to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Add `count` sessions to `url` (a new target if the URL is new).
    AddSessions { url: String, count: usize },
    /// Add `count` sessions to an existing target.
    Grow { target: usize, count: usize },
    /// Remove the newest `count` sessions of a target (they close with 1000).
    Shrink { target: usize, count: usize },
    /// Close one session with this code and reason; it is not retried.
    Close {
        session: SessionId,
        code: u16,
        reason: String,
    },
    /// Skip the wait: reconnect now. One session (an open one is closed with 1000 first; an
    /// ended one is restarted), or with `None` every session waiting for a retry (open,
    /// connecting and ended sessions are not touched).
    ReconnectNow { session: Option<SessionId> },
    /// Pause or resume retries (one session, or all when `None`).
    SetPaused {
        session: Option<SessionId>,
        paused: bool,
    },
    /// Write the export now (flush) and report the path.
    FlushExport,
    /// Close every session with 1001 and stop.
    Shutdown,
    /// Several commands at once (an action on the marked sessions), carried out in order.
    Many(Vec<Command>),
}

/// What the engine and the runtime tell the front end about the commands they carried out.
/// Typed, so the UI decides how to show each one without reading its text.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// `count` sessions were added to the existing target `url` (redacted).
    SessionsAdded { url: String, count: usize },
    /// A new target `url` (redacted) was added with `count` sessions.
    TargetAdded { url: String, count: usize },
    /// An "add sessions" request could not be carried out.
    AddFailed { error: String },
    /// The export was flushed; `events` have been written so far.
    ExportFlushed { events: u64 },
    /// The export could not be written or flushed.
    ExportFailed { error: String },
    /// A flush was asked for, but there is no export file.
    NoExport,
}

impl Notice {
    /// Whether this reports a failure (drawn in the error style).
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            Notice::AddFailed { .. } | Notice::ExportFailed { .. } | Notice::NoExport
        )
    }
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::SessionsAdded { url, count } => write!(f, "added {count} sessions to {url}"),
            Notice::TargetAdded { url, count } => {
                write!(f, "added target {url} with {count} sessions")
            }
            Notice::AddFailed { error } => write!(f, "cannot add: {error}"),
            Notice::ExportFlushed { events } => {
                write!(f, "export flushed ({events} events written)")
            }
            Notice::ExportFailed { error } => write!(f, "{error}"),
            Notice::NoExport => write!(f, "no export file (use --export FILE)"),
        }
    }
}
