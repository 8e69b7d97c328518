//! The session's `message` events: every data message and control frame, both ways, for the
//! message log (`--message-log`) and the export (`--record-messages`). Sent only when one of
//! them is on (`MessageSettings::emit_cap`); each payload is cut to the preview cap before the
//! event is built, so a 16 MiB message costs a copy of its first bytes only.
//!
//! Received frames come from tungstenite (the message, inflated) with their wire size and RSV1
//! from the frame layer's [`FrameTap`]; frames sent come from the tap alone, as they left: our
//! messages (compressed), our pings, the pongs and close frames tungstenite answers with on
//! its own, and the close frame the layer sends when it fails the connection.

use futures_util::FutureExt;

use super::*;
use crate::engine::events::{Direction, MessageRecord, Opcode};
use crate::protocol::frame::{OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};
use crate::protocol::wire::{LayerCloseHandle, TappedFrame};

/// One connection's view of its frames (only while `message` events are on).
pub(super) struct Frames {
    layer: LayerCloseHandle,
    cap: usize,
    /// Data messages received on this connection.
    received: u64,
}

impl Session {
    /// Start recording the frames of a new connection, when `message` events are on.
    pub(super) fn tap_frames(&mut self, mut layer: WireStream<Transport>) -> WireStream<Transport> {
        self.frames = self.shared.settings.messages.emit_cap().map(|cap| {
            layer.tap(cap);
            Frames {
                layer: layer.layer_close(),
                cap,
                received: 0,
            }
        });
        layer
    }

    /// What `ws.next()` gave, logged as a received frame (after the frames written before
    /// it), and handed back unchanged. tungstenite answers a ping on its next write or read:
    /// the pong is pushed out at once, so the log shows it right after its ping.
    pub(super) async fn seen<S>(
        &mut self,
        ws: &mut WsStream<S>,
        msg: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) -> Option<Result<Message, tokio_tungstenite::tungstenite::Error>>
    where
        S: Socket,
    {
        if self.frames.is_none() {
            return msg;
        }
        self.frames_written(ws).await;
        if let Some(Ok(m)) = &msg
            && let Some(record) = self.received_record(ws, m)
        {
            self.log_frame(record).await;
            if matches!(m, Message::Ping(_)) {
                // One try, without waiting: a peer that does not read keeps its pong queued.
                let _ = ws.flush().now_or_never();
                self.frames_written(ws).await;
            }
        }
        msg
    }

    /// The record of a received message or control frame.
    fn received_record<S>(&mut self, ws: &mut WsStream<S>, m: &Message) -> Option<MessageRecord>
    where
        S: Socket,
    {
        let f = self.frames.as_mut()?;
        let cut = |b: &[u8]| b[..b.len().min(f.cap)].to_vec();
        let (opcode, payload, size) = match m {
            Message::Text(t) => (Opcode::Text, cut(t.as_bytes()), t.len()),
            Message::Binary(b) => (Opcode::Binary, cut(b), b.len()),
            Message::Ping(b) => (Opcode::Ping, cut(b), b.len()),
            Message::Pong(b) => (Opcode::Pong, cut(b), b.len()),
            Message::Close(frame) => {
                // As on the wire: tungstenite rewrites codes it does not allow.
                let payload = match (f.layer.peer_close(), frame) {
                    (Some(raw), _) => close_payload(raw.code, &raw.reason),
                    (None, Some(fr)) => close_payload(Some(u16::from(fr.code)), &fr.reason),
                    (None, None) => Vec::new(),
                };
                let size = payload.len();
                (Opcode::Close, cut(&payload), size)
            }
            Message::Frame(_) => return None,
        };
        let size = size as u64;
        let (wire_size, rsv1) = if matches!(opcode, Opcode::Text | Opcode::Binary) {
            f.received += 1;
            // A compressed message's wire size is in the tap; otherwise it is its size.
            let compressed = ws
                .get_mut()
                .frame_tap()
                .and_then(|t| t.received(f.received));
            compressed.unwrap_or((size, false))
        } else {
            (size, false)
        };
        Some(MessageRecord {
            dir: Direction::In,
            opcode,
            wire_size,
            size,
            rsv1,
            payload,
        })
    }

    /// Log the frames written since the last call.
    pub(super) async fn frames_written<S>(&mut self, ws: &mut WsStream<S>)
    where
        S: Socket,
    {
        if self.frames.is_none() {
            return;
        }
        let Some(tap) = ws.get_mut().frame_tap() else {
            return;
        };
        for frame in tap.take_written() {
            if let Some(record) = sent_record(frame) {
                self.log_frame(record).await;
            }
        }
    }

    /// A frame into the session's message log (directly: the log is the store's, behind a
    /// short lock) and, with `--record-messages`, a `message` event for the export with the
    /// same time, so a replay rebuilds the same log.
    async fn log_frame(&mut self, record: MessageRecord) {
        let ts = Utc::now();
        let record = Arc::new(record);
        if let Some(logs) = &self.shared.messages {
            logs.push(self.spec.id, ts, record.clone());
        }
        if self.shared.settings.messages.record {
            self.emit_at(ts, EventKind::Message(record)).await;
        }
    }
}

/// A close frame's payload as on the wire: the code (big-endian) and the reason.
fn close_payload(code: Option<u16>, reason: &str) -> Vec<u8> {
    crate::protocol::frame::close_payload(code, reason)
}

/// The record of a frame written; `None` for an opcode that is none of ours.
fn sent_record(f: TappedFrame) -> Option<MessageRecord> {
    let opcode = match f.opcode {
        OP_TEXT => Opcode::Text,
        OP_BINARY => Opcode::Binary,
        OP_CLOSE => Opcode::Close,
        OP_PING => Opcode::Ping,
        OP_PONG => Opcode::Pong,
        _ => return None,
    };
    Some(MessageRecord {
        dir: Direction::Out,
        opcode,
        wire_size: f.wire_size,
        size: f.size,
        rsv1: f.rsv1,
        payload: f.payload,
    })
}
