//! How a connection ended, decided in one place: a pure state machine.
//!
//! The session feeds the [`CloseTracker`] what happened on the connection ([`Input`]): a close
//! frame from the peer (its raw code, as the frame layer saw it), a close frame we send
//! ([`OurClose`]), the frame layer failing the connection, a broken connection, the end of the
//! stream, the close timeout, a TLS failure. Each input gives a [`Step`]: the close frame the
//! session must send, the `closing` event to emit, and whether to stop reading.
//! [`CloseTracker::finish`] gives the one [`CloseInfo`] of the connection, plus what went on
//! the wire both ways ([`CloseOutcome`]).
//!
//! Rules (RFC 6455 sections 5.5.1, 7.1.5, 7.1.7 and 7.4):
//! - The first close frame on the wire decides the code and the initiator.
//! - A close frame without a code is recorded as 1005, sent by the side that sent the frame
//!   (`server`); a connection that ends without any close frame as 1006, by `server` when the
//!   peer ended it (its FIN or reset), else `local`; a failed TLS handshake as 1015, by `server`
//!   when its alert ended it, by `client` when wsmon refused it (a certificate).
//!   These three codes are never on the wire (`code_on_wire` false in the record).
//! - When wsmon closes first, the record keeps why ([`CloseWhy`]): the store and the exports
//!   read it instead of guessing from the code.
//! - A peer close frame whose code may not be on the wire, or whose payload is one byte, is a
//!   protocol error: the client fails the connection with 1002 (`client`, not clean), and the
//!   raw code is kept as `peer_code`.
//! - Clean means both close frames were exchanged and the stream ended after that.

use std::time::Duration;

use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

pub use crate::engine::events::CloseWhy;
use crate::engine::events::{CloseInfo, Initiator};
use crate::protocol::close_reason;
use crate::redact;

/// The reason tungstenite puts in its own answer to a close code it does not allow.
pub const STACK_PROTOCOL_REASON: &str = "Protocol violation";

pub use crate::codes::valid_on_wire;

/// A close frame as the peer sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerFrame {
    /// An empty payload: no status code (recorded as 1005).
    NoCode,
    /// A status code, raw as it was on the wire, and the reason.
    Code { code: u16, reason: String },
    /// A payload of one byte: neither empty nor a code (RFC 6455 section 5.5.1).
    OneByte,
}

impl CloseWhy {
    /// The reason behind a close the frame layer sent when it failed the connection.
    pub fn from_layer_code(code: u16) -> Self {
        match code {
            1009 => CloseWhy::TooBig,
            1007 => CloseWhy::BadData,
            1008 => CloseWhy::PeerNotReading,
            _ => CloseWhy::ProtocolError,
        }
    }

    /// Whether this close fails the connection (send the close frame and drop the connection,
    /// RFC 6455 section 7.1.7) instead of starting the closing handshake.
    pub fn fails(self) -> bool {
        matches!(
            self,
            CloseWhy::BadExtensions
                | CloseWhy::TooBig
                | CloseWhy::BadData
                | CloseWhy::ProtocolError
                | CloseWhy::PeerNotReading
        )
    }
}

/// A close frame wsmon sends, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurClose {
    pub why: CloseWhy,
    pub code: u16,
    /// At most 123 bytes.
    pub reason: String,
}

impl OurClose {
    /// `reason` is cut to 123 bytes.
    pub fn new(why: CloseWhy, code: u16, reason: &str) -> Self {
        OurClose {
            why,
            code,
            reason: close_reason(reason).to_string(),
        }
    }
    pub fn operator(code: u16, reason: &str) -> Self {
        Self::new(CloseWhy::Operator, code, reason)
    }
    pub fn reconnect() -> Self {
        Self::new(
            CloseWhy::Reconnect,
            1000,
            "reconnect requested by the operator",
        )
    }
    pub fn shutdown() -> Self {
        Self::new(CloseWhy::Shutdown, 1001, "wsmon is shutting down")
    }
    pub fn removal() -> Self {
        Self::new(CloseWhy::Removal, 1000, "session removed by the operator")
    }
    pub fn missing_extension(reason: &str) -> Self {
        Self::new(CloseWhy::MissingExtension, 1010, reason)
    }
    pub fn bad_extensions(reason: &str) -> Self {
        Self::new(CloseWhy::BadExtensions, 1002, reason)
    }
}

/// Who put a close frame of ours on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentBy {
    /// The session, as told by a [`Step`].
    Session,
    /// tungstenite's automatic answer to the peer's close frame.
    Stack,
    /// The frame layer, when it failed the connection.
    Layer,
}

/// A close frame that went from us to the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentClose {
    /// `None` for an empty close frame (the answer to one without a code).
    pub code: Option<u16>,
    pub reason: String,
    pub by: SentBy,
}

/// What happened on the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A close frame arrived from the peer.
    Peer(PeerFrame),
    /// We close (the session sends the frame the step names).
    Ours(OurClose),
    /// The frame layer failed the connection and sent this close frame itself.
    LayerFailed { code: u16, reason: String },
    /// The connection broke on our side or somewhere unknown (an I/O error); says how.
    Lost(String),
    /// The peer ended the connection (its FIN, or a reset) without finishing a closing
    /// handshake; says how.
    Dropped(String),
    /// The stream ended.
    Eof,
    /// The closing handshake did not finish within the close timeout.
    Timeout,
    /// The TLS handshake failed (before any WebSocket connection existed): by the peer's alert
    /// (`by_peer`), or because wsmon refused what it was shown (a certificate).
    TlsFailed { message: String, by_peer: bool },
}

/// What the session does after an input.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Step {
    /// Send this close frame now: (code, reason).
    pub send: Option<(u16, String)>,
    /// Emit a `closing` event: the first close frame of the connection.
    pub closing: Option<(u16, Initiator)>,
    /// Stop reading and drop the connection (after flushing what is queued).
    pub stop: bool,
}

/// The first close of the connection: it decides the record.
#[derive(Debug, Clone, PartialEq, Eq)]
struct First {
    code: u16,
    reason: String,
    initiator: Initiator,
    peer_code: Option<u16>,
    /// Why we closed, when we sent the first close frame.
    why: Option<CloseWhy>,
}

/// How the connection ended, in full.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseOutcome {
    /// The record (the `closed` event).
    pub info: CloseInfo,
    /// The first close frame we sent (or our stack or frame layer sent for us).
    pub sent: Option<SentClose>,
    /// The first close frame the peer sent.
    pub received: Option<PeerFrame>,
    /// Our own close, when we closed first (it tells the session what to do next).
    pub ours: Option<OurClose>,
}

/// The close state of one connection; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct CloseTracker {
    first: Option<First>,
    sent: Option<SentClose>,
    received: Option<PeerFrame>,
    ours: Option<OurClose>,
    /// Failed, broken or timed out: never clean.
    failed: bool,
    /// How the connection ended when there was no close frame (the 1006 reason).
    lost: Option<String>,
    /// The peer ended the connection before any close frame (a 1006 by the server).
    peer_dropped: bool,
    /// The stream ended normally.
    eof: bool,
}

impl CloseTracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// A close frame was sent or received: no more data, pings or commands.
    pub fn is_closing(&self) -> bool {
        self.first.is_some()
    }

    /// Account for one thing that happened; returns what the session must do.
    pub fn on(&mut self, input: Input) -> Step {
        match input {
            Input::Peer(frame) => self.on_peer(frame),
            Input::Ours(close) => self.on_ours(close),
            Input::LayerFailed { code, reason } => {
                self.failed = true;
                if self.first.is_some() {
                    return stop();
                }
                self.sent = Some(SentClose {
                    code: Some(code),
                    reason: reason.clone(),
                    by: SentBy::Layer,
                });
                let why = CloseWhy::from_layer_code(code);
                self.set_first(code, reason, Initiator::Client, None, Some(why));
                Step {
                    closing: Some((code, Initiator::Client)),
                    ..stop()
                }
            }
            Input::Dropped(why) => {
                if self.first.is_none() && self.lost.is_none() {
                    self.peer_dropped = true;
                }
                self.on(Input::Lost(why))
            }
            Input::Lost(why) => {
                // After both close frames, the connection may as well end this way.
                if self.handshake_done() {
                    self.eof = true;
                } else {
                    self.failed = true;
                }
                self.lost.get_or_insert(why);
                stop()
            }
            Input::Eof => {
                if self.first.is_none() && self.lost.is_none() {
                    self.peer_dropped = true;
                }
                self.eof = true;
                stop()
            }
            Input::Timeout => {
                self.failed = true;
                self.lost.get_or_insert_with(|| {
                    "the peer did not finish the closing handshake in time".into()
                });
                stop()
            }
            Input::TlsFailed { message, by_peer } => {
                self.failed = true;
                if self.first.is_none() {
                    let by = if by_peer {
                        Initiator::Server
                    } else {
                        Initiator::Client
                    };
                    self.set_first(1015, message, by, None, None);
                }
                stop()
            }
        }
    }

    fn on_peer(&mut self, frame: PeerFrame) -> Step {
        if self.received.is_some() {
            return Step::default();
        }
        self.received = Some(frame.clone());
        if self.first.is_some() {
            // The answer to our close (or a frame after the one that decided the record).
            return match frame {
                PeerFrame::OneByte => {
                    self.failed = true;
                    stop()
                }
                PeerFrame::Code { code, .. } if !valid_on_wire(code) => {
                    if let Some(f) = &mut self.first {
                        f.peer_code = Some(code);
                    }
                    Step::default()
                }
                _ => Step::default(),
            };
        }
        match frame {
            PeerFrame::NoCode => {
                self.sent = Some(SentClose {
                    code: None,
                    reason: String::new(),
                    by: SentBy::Stack,
                });
                // The server sent the frame; only its code was missing (RFC 6455 7.1.5).
                self.set_first(1005, String::new(), Initiator::Server, None, None);
                Step {
                    closing: Some((1005, Initiator::Server)),
                    ..Step::default()
                }
            }
            PeerFrame::Code { code, reason } if valid_on_wire(code) => {
                self.sent = Some(stack_answer(code, &reason));
                self.set_first(code, reason, Initiator::Server, None, None);
                Step {
                    closing: Some((code, Initiator::Server)),
                    ..Step::default()
                }
            }
            PeerFrame::Code { code, reason } => {
                // tungstenite answers it with 1002 by itself; the session only flushes.
                self.failed = true;
                self.sent = Some(stack_answer(code, &reason));
                let mut why = format!("peer sent invalid close code {code}");
                if !reason.is_empty() {
                    why = format!("{why}: {reason}");
                }
                self.set_first(
                    1002,
                    why,
                    Initiator::Client,
                    Some(code),
                    Some(CloseWhy::ProtocolError),
                );
                Step {
                    closing: Some((1002, Initiator::Client)),
                    ..stop()
                }
            }
            PeerFrame::OneByte => {
                // tungstenite reports an error and answers nothing: the session sends 1002.
                let reason = "peer sent a close frame with a 1-byte payload".to_string();
                self.failed = true;
                self.sent = Some(SentClose {
                    code: Some(1002),
                    reason: reason.clone(),
                    by: SentBy::Session,
                });
                self.set_first(
                    1002,
                    reason.clone(),
                    Initiator::Client,
                    None,
                    Some(CloseWhy::ProtocolError),
                );
                Step {
                    send: Some((1002, reason)),
                    closing: Some((1002, Initiator::Client)),
                    stop: true,
                }
            }
        }
    }

    fn on_ours(&mut self, close: OurClose) -> Step {
        let fails = close.why.fails();
        if self.first.is_some() {
            // A close frame is already on the wire: nothing more may be sent.
            if fails {
                self.failed = true;
                return stop();
            }
            return Step::default();
        }
        self.failed |= fails;
        self.sent = Some(SentClose {
            code: Some(close.code),
            reason: close.reason.clone(),
            by: SentBy::Session,
        });
        self.set_first(
            close.code,
            close.reason.clone(),
            Initiator::Client,
            None,
            Some(close.why),
        );
        let step = Step {
            send: Some((close.code, close.reason.clone())),
            closing: Some((close.code, Initiator::Client)),
            stop: fails,
        };
        self.ours = Some(close);
        step
    }

    fn set_first(
        &mut self,
        code: u16,
        reason: String,
        initiator: Initiator,
        peer_code: Option<u16>,
        why: Option<CloseWhy>,
    ) {
        self.first = Some(First {
            code,
            reason,
            initiator,
            peer_code,
            why,
        });
    }

    /// Both close frames were exchanged.
    fn handshake_done(&self) -> bool {
        self.sent.is_some() && self.received.is_some()
    }

    /// The record of the connection. `uptime`: how long it was open (`None` if it never was).
    pub fn finish(self, uptime: Option<Duration>) -> CloseOutcome {
        let clean = !self.failed && self.eof && self.handshake_done();
        let first = self.first.unwrap_or_else(|| First {
            code: 1006,
            reason: self
                .lost
                .unwrap_or_else(|| "connection dropped without a close frame".into()),
            initiator: if self.peer_dropped {
                Initiator::Server
            } else {
                Initiator::Local
            },
            peer_code: None,
            why: None,
        });
        let info = CloseInfo {
            code: first.code,
            reason: redact::escape_control(close_reason(&first.reason)),
            initiator: first.initiator,
            clean: clean && first.code != 1006,
            uptime_ms: uptime.map(|u| u64::try_from(u.as_millis()).unwrap_or(u64::MAX)),
            peer_code: first.peer_code,
            why: first.why,
        };
        CloseOutcome {
            info,
            sent: self.sent,
            received: self.received,
            ours: self.ours,
        }
    }
}

fn stop() -> Step {
    Step {
        stop: true,
        ..Step::default()
    }
}

/// tungstenite's answer to a peer close frame with `code`: the same frame when it allows the
/// code, else 1002 "Protocol violation". It does not allow 1014 either, although 1014 is valid.
fn stack_answer(code: u16, reason: &str) -> SentClose {
    if CloseCode::from(code).is_allowed() {
        SentClose {
            code: Some(code),
            reason: reason.to_string(),
            by: SentBy::Stack,
        }
    } else {
        SentClose {
            code: Some(1002),
            reason: STACK_PROTOCOL_REASON.into(),
            by: SentBy::Stack,
        }
    }
}

/// The peer's close frame from what the frame layer saw (`raw`: the code, `None` for an empty
/// payload, and the reason) or, failing that, what tungstenite reported (it rewrites codes it
/// does not allow, so `raw` wins).
pub fn peer_frame(raw: Option<(Option<u16>, String)>, seen: Option<(u16, String)>) -> PeerFrame {
    match (raw, seen) {
        (Some((Some(code), reason)), _) | (None, Some((code, reason))) => {
            PeerFrame::Code { code, reason }
        }
        (Some((None, _)), _) | (None, None) => PeerFrame::NoCode,
    }
}

/// What a read error from tungstenite means (when the frame layer did not fail the connection
/// itself: check that first).
pub fn from_ws_error(e: &WsError) -> Input {
    match e {
        WsError::Capacity(c) => Input::Ours(OurClose::new(
            CloseWhy::TooBig,
            1009,
            &format!("message too big: {c}"),
        )),
        WsError::Utf8(_) => Input::Ours(OurClose::new(
            CloseWhy::BadData,
            1007,
            "text message is not valid UTF-8",
        )),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            Input::Dropped("connection reset without a close frame".into())
        }
        WsError::Protocol(ProtocolError::InvalidCloseSequence) => Input::Peer(PeerFrame::OneByte),
        WsError::Protocol(p) => Input::Ours(OurClose::new(
            CloseWhy::ProtocolError,
            1002,
            &format!("protocol error: {p}"),
        )),
        WsError::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::UnexpectedEof
            ) =>
        {
            Input::Dropped(format!("connection lost: {io}"))
        }
        WsError::Io(io) => Input::Lost(format!("connection lost: {io}")),
        other => Input::Lost(format!("connection ended: {other}")),
    }
}

#[cfg(test)]
mod tests;
