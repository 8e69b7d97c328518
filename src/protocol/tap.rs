//! The message log's view of the frame layer ([`FrameTap`]): the wire size and RSV1 of each
//! data message received, and every frame written, as [`super::wire::WireStream`] saw them.

use super::frame::apply_mask;

/// A frame the layer wrote to the socket, as the message log keeps it (see [`FrameTap`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TappedFrame {
    /// The frame's opcode (`1` text, `2` binary, `8` close, `9` ping, `10` pong).
    pub opcode: u8,
    /// Payload bytes on the wire (compressed when `rsv1`).
    pub wire_size: u64,
    /// Payload bytes before compressing.
    pub size: u64,
    pub rsv1: bool,
    /// The payload's first bytes (at most the tap's cap), unmasked, before compressing.
    pub payload: Vec<u8>,
}

/// What the layer saw of each frame, for the message log: the wire size and RSV1 of every
/// compressed data message received (tungstenite hands over the inflated message only; an
/// uncompressed message's wire size is its size), and every frame written (our messages
/// compressed, our pings, the pongs and close frames tungstenite answers with on its own, the
/// layer's own close). Owned by the layer ([`super::wire::WireStream::tap`]); off (no tap)
/// unless the session asks for it: then the layer records nothing. The session reads it
/// through [`Tapped`], in the same task: no lock, no other allocation to touch per message.
#[derive(Debug, Default)]
pub struct FrameTap {
    cap: usize,
    /// (message number, wire size, RSV1) of compressed data messages not yet taken.
    sizes: std::collections::VecDeque<(u64, u64, bool)>,
    /// Frames written, not yet taken.
    written: Vec<TappedFrame>,
}

/// A stream the session can ask for its [`FrameTap`]: the frame layer, or a bare transport
/// (no tap).
pub trait Tapped {
    fn frame_tap(&mut self) -> Option<&mut FrameTap>;
}

/// Sizes of data messages the session has not taken yet (a bound: it takes them one by one).
const TAP_SIZES: usize = 4096;

impl FrameTap {
    /// A tap keeping the first `cap` bytes of each payload written.
    pub(super) fn new(cap: usize) -> Self {
        FrameTap {
            cap,
            ..FrameTap::default()
        }
    }

    /// The wire size and RSV1 of the `n`-th data message received (from 1), if it was
    /// compressed (otherwise its wire size is its size).
    pub fn received(&mut self, n: u64) -> Option<(u64, bool)> {
        while let Some(&(k, wire, rsv1)) = self.sizes.front() {
            if k > n {
                return None;
            }
            self.sizes.pop_front();
            if k == n {
                return Some((wire, rsv1));
            }
        }
        None
    }

    /// The frames written since the last call, in order.
    pub fn take_written(&mut self) -> Vec<TappedFrame> {
        std::mem::take(&mut self.written)
    }

    /// The `n`-th data message received (from 1) was compressed: `wire` bytes on the wire.
    pub(super) fn on_received(&mut self, n: u64, wire: u64, rsv1: bool) {
        if self.sizes.len() == TAP_SIZES {
            self.sizes.pop_front();
        }
        self.sizes.push_back((n, wire, rsv1));
    }

    /// A frame written: `payload` unmasked and before compressing; `wire_size` as sent.
    pub(super) fn on_written(
        &mut self,
        opcode: u8,
        payload: &[u8],
        mask: Option<[u8; 4]>,
        wire_size: u64,
        rsv1: bool,
    ) {
        let mut kept = payload[..payload.len().min(self.cap)].to_vec();
        if let Some(k) = mask {
            apply_mask(&mut kept, k, 0);
        }
        let size = payload.len() as u64;
        match self.written.last_mut() {
            // A continuation frame adds to its message.
            Some(last) if opcode == 0 => {
                last.wire_size += wire_size;
                last.size += size;
                let room = self.cap.saturating_sub(last.payload.len());
                last.payload
                    .extend_from_slice(&kept[..kept.len().min(room)]);
            }
            _ => self.written.push(TappedFrame {
                opcode,
                wire_size,
                size,
                rsv1,
                payload: kept,
            }),
        }
    }
}
