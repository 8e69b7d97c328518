//! The frame layer under tungstenite: [`WireStream`] sits between the socket and tungstenite
//! (`WsStream::from_raw_socket(WireStream, ..)` for sessions, tokio-tungstenite's
//! `WebSocketStream` in the scenario server). It always counts bytes,
//! enforces the message size limit and records close frames as they were on the wire
//! ([`LayerCloseHandle`]); with a permessage-deflate [`Codec`] (RFC 7692; tungstenite 0.30
//! rejects every frame with RSV1 set) it also compresses and inflates. Without a codec, data
//! frames pass through unchanged.
//!
//! - **Reading** (peer -> tungstenite): frames are parsed as they arrive. Control frames and
//!   uncompressed data frames pass through unchanged, payload bytes streamed as they come. With
//!   a codec, a data message whose first frame has RSV1 is inflated incrementally (its frames
//!   unmasked, `00 00 ff ff` appended at the end) with a hard output limit, and handed to
//!   tungstenite as ONE uncompressed frame (FIN, same opcode, RSV clear; masked with an all-zero
//!   key in the server role, because tungstenite's server expects masked client frames).
//!   Control frames in the middle of a fragmented compressed message reach tungstenite before
//!   the message.
//! - **Writing** (tungstenite -> peer): tungstenite writes complete frames into the layer. With
//!   a codec, data frames are compressed per message (sync flush, trailing `00 00 ff ff`
//!   removed, RSV1 on the first frame only, an empty result sent as the single byte `00`) and
//!   re-masked with the key tungstenite drew for that frame (a fresh random key per frame,
//!   client role). Control frames pass through.
//! - **Violations** found by the layer (a message over the size limit -> 1009, compressed data
//!   that does not inflate -> 1007, RSV1 on a control or continuation frame and similar framing
//!   errors -> 1002): the layer queues a close frame with that code and a reason, flushes it,
//!   records it in [`LayerCloseHandle`] and then fails the read with an
//!   [`io::ErrorKind::InvalidData`] error. Writes after that are dropped: nothing may follow a
//!   close frame. The size limit applies to uncompressed messages as well (checked from the
//!   frame headers before the payload arrives), so one mechanism gives 1009 in every case.
//! - **A greedy peer**: every ping owes a pong. A peer that keeps pinging but never reads
//!   makes the pongs pile up (tungstenite queues them without a bound unless told one, see
//!   `engine::session::ws_config`). The layer counts the pings that arrive while what it has
//!   to send is stuck above its high-water mark; past [`MAX_OWED_PONGS`] of them it fails the
//!   connection with 1008 Policy Violation: the peer
//!   breaks the rules of the exchange (RFC 6455 section 5.5.2 obliges the pongs it will not
//!   take), which is a policy matter, not an internal error of ours (1011). That close frame
//!   cannot reach a peer that does not read, so the read error comes at once instead of after
//!   a drain that would never end.
//!
//! Buffers start empty and are released when they drain.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::deflate::{Codec, DeflateError, DeflateParams};
use super::frame::{
    self, CloseBody, FrameHead, MAX_HEAD, OP_CLOSE, OP_PING, apply_mask, write_head,
};
pub use super::tap::{FrameTap, Tapped, TappedFrame};

/// Which end of the connection this layer serves (tungstenite's own type, so the same value
/// goes to `from_raw_socket`).
pub use tokio_tungstenite::tungstenite::protocol::Role;

/// Where the layer counts traffic (the engine's per-session counters implement it).
pub trait ByteCounter: Send + Sync {
    /// Bytes read from the socket (frame headers included).
    fn add_wire_in(&self, n: u64);
    /// Bytes written to the socket (frame headers included).
    fn add_wire_out(&self, n: u64);
    /// Payload of data messages received, after inflating.
    fn add_payload_in(&self, n: u64);
    /// Payload of data messages sent, before deflating.
    fn add_payload_out(&self, n: u64);
}

/// Buffers that grew beyond this are released once they drain, so an idle session keeps at
/// most a few KiB here.
const KEEP_CAPACITY: usize = 1024;
/// Above this many unsent bytes, writes wait for the socket.
const WRITE_HIGH_WATER: usize = 64 * 1024;
/// Bytes read from the socket per call (a stack buffer, not kept per connection).
const READ_CHUNK: usize = 8 * 1024;
/// Pings the peer may send while our unsent bytes stay above [`WRITE_HIGH_WATER`] (it does
/// not read: the kernel's socket buffers are full as well) before the layer fails the
/// connection. A peer that reads never gets there.
pub const MAX_OWED_PONGS: u64 = 1024;

/// Why the layer failed the connection; the session reports it as a close sent by the client
/// (or by the server in the server role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerClose {
    pub code: u16,
    pub reason: String,
}

impl LayerClose {
    fn new(code: u16, reason: impl Into<String>) -> Self {
        let mut reason = reason.into();
        reason.truncate(frame::close_reason(&reason).len());
        LayerClose { code, reason }
    }
}

impl std::fmt::Display for LayerClose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.reason)
    }
}

/// A close frame as the peer sent it, before tungstenite sees it. tungstenite 0.30 replaces
/// codes it does not know (1014 Bad Gateway, for one) with 1002; this keeps what was on the wire.
pub type PeerClose = CloseBody;

#[derive(Debug, Default)]
struct HandleState {
    layer: Option<LayerClose>,
    peer: Option<PeerClose>,
}

/// Shared view of what the layer saw: the close it sent when it failed the connection, and
/// the first close frame the peer sent.
#[derive(Debug, Clone, Default)]
pub struct LayerCloseHandle(Arc<Mutex<HandleState>>);

impl LayerCloseHandle {
    fn with<T>(&self, f: impl FnOnce(&mut HandleState) -> T) -> T {
        match self.0.lock() {
            Ok(mut g) => f(&mut g),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// The close the layer sent, if any.
    pub fn get(&self) -> Option<LayerClose> {
        self.with(|s| s.layer.clone())
    }

    /// The first close frame the peer sent, exactly as it was on the wire.
    pub fn peer_close(&self) -> Option<PeerClose> {
        self.with(|s| s.peer.clone())
    }

    fn set(&self, close: LayerClose) {
        self.with(|s| s.layer = Some(close));
    }

    fn set_peer(&self, close: PeerClose) {
        self.with(|s| {
            if s.peer.is_none() {
                s.peer = Some(close);
            }
        });
    }
}

/// Release a drained buffer's memory if it grew large.
fn reset_buf(buf: &mut Vec<u8>, pos: &mut usize) {
    buf.clear();
    *pos = 0;
    if buf.capacity() > KEEP_CAPACITY {
        *buf = Vec::new();
    }
}

/// Drop the consumed front of a buffer once it is at least half of it.
fn compact(buf: &mut Vec<u8>, pos: &mut usize) {
    if *pos == buf.len() {
        reset_buf(buf, pos);
    } else if *pos > 0 && *pos >= buf.len() / 2 {
        buf.drain(..*pos);
        *pos = 0;
    }
}

/// What the reader is in the middle of.
#[derive(Debug, Clone, Copy)]
enum ReadState {
    /// Waiting for a frame header.
    Head,
    /// Copying a frame's payload to tungstenite unchanged.
    Pass { remaining: u64 },
    /// Feeding a compressed frame's payload to the decompressor.
    Inflate {
        remaining: u64,
        mask: Option<[u8; 4]>,
        offset: usize,
        fin: bool,
    },
}

/// The data message being received.
#[derive(Debug, Clone, Copy)]
struct InMsg {
    compressed: bool,
    opcode: u8,
    /// Payload bytes so far (uncompressed messages).
    size: u64,
}

/// The frame layer, with or without a permessage-deflate codec; see the module docs.
pub struct WireStream<S> {
    inner: S,
    role: Role,
    max_message_size: usize,
    counters: Arc<dyn ByteCounter>,
    close: LayerCloseHandle,
    /// Set once the layer failed the connection.
    failed: Option<LayerClose>,
    /// Whether to report the failure only once its close frame left (not when the peer does
    /// not read).
    drain_on_fail: bool,
    eof: bool,
    /// Pings read from the peer since our unsent bytes went above the high-water mark (see
    /// [`MAX_OWED_PONGS`]).
    pings_unread: u64,

    // Reading.
    raw: Vec<u8>,
    raw_pos: usize,
    out: Vec<u8>,
    out_pos: usize,
    state: ReadState,
    msg: Option<InMsg>,
    /// permessage-deflate, when negotiated.
    codec: Option<Codec>,
    /// Inflated message, after `MAX_HEAD` bytes kept free for its frame header.
    inflated: Vec<u8>,

    // Writing.
    pending: Vec<u8>,
    pending_pos: usize,
    wire: Vec<u8>,
    wire_pos: usize,
    scratch: Vec<u8>,
    /// The message log's view of the frames ([`WireStream::tap`]); `None`: nothing recorded.
    tap: Option<FrameTap>,
    /// Data messages received whole (the tap numbers compressed ones by it).
    data_in: u64,
}

impl<S> WireStream<S> {
    /// Wrap `inner` (the upgraded socket). `deflate` = the negotiated parameters, or `None`
    /// to pass every frame through (still counting bytes and enforcing the size limit).
    /// `leftover` = bytes already read after the HTTP headers: they are frames. Messages
    /// larger than `max_message_size` bytes (after inflating) fail the connection with 1009.
    pub fn new(
        inner: S,
        role: Role,
        deflate: Option<DeflateParams>,
        leftover: Vec<u8>,
        max_message_size: usize,
        counters: Arc<dyn ByteCounter>,
    ) -> Self {
        counters.add_wire_in(leftover.len() as u64);
        let codec = deflate.map(|p| match role {
            Role::Client => Codec::client(p),
            Role::Server => Codec::server(p),
        });
        WireStream {
            inner,
            role,
            max_message_size,
            counters,
            close: LayerCloseHandle::default(),
            failed: None,
            drain_on_fail: true,
            eof: false,
            pings_unread: 0,
            raw: leftover,
            raw_pos: 0,
            out: Vec::new(),
            out_pos: 0,
            state: ReadState::Head,
            msg: None,
            inflated: Vec::new(),
            pending: Vec::new(),
            pending_pos: 0,
            wire: Vec::new(),
            wire_pos: 0,
            codec,
            scratch: Vec::new(),
            tap: None,
            data_in: 0,
        }
    }

    /// Record what the message log needs of every frame from now on, payloads cut to `cap`
    /// bytes (see [`FrameTap`]).
    pub fn tap(&mut self, cap: usize) {
        self.tap = Some(FrameTap::new(cap));
    }

    /// A handle that tells whether (and how) the layer failed the connection. Read it when
    /// tungstenite reports an error or the end of the stream.
    pub fn layer_close(&self) -> LayerCloseHandle {
        self.close.clone()
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Fail the connection: queue a close frame, drop unsent input from tungstenite.
    fn fail(&mut self, close: LayerClose) {
        if self.failed.is_some() {
            return;
        }
        tracing::debug!(code = close.code, reason = %close.reason, "frame layer fails the connection");
        self.pending.clear();
        self.pending_pos = 0;
        let mask = match self.role {
            Role::Client => Some(frame::random_mask()),
            Role::Server => None,
        };
        self.wire
            .extend_from_slice(&frame::close_frame(Some(close.code), &close.reason, mask));
        if let Some(t) = &mut self.tap {
            let payload = frame::close_payload(Some(close.code), &close.reason);
            t.on_written(OP_CLOSE, &payload, None, payload.len() as u64, false);
        }
        self.close.set(close.clone());
        self.failed = Some(close);
    }

    fn too_big(&self, inflated: bool) -> LayerClose {
        let what = if inflated { " after inflating" } else { "" };
        LayerClose::new(
            1009,
            format!(
                "message too big: over {} bytes{what}",
                self.max_message_size
            ),
        )
    }

    /// A data message was received whole: its wire size for the message log.
    fn tap_received(&mut self, wire: u64, rsv1: bool) {
        self.data_in += 1;
        if rsv1 && let Some(t) = &mut self.tap {
            t.on_received(self.data_in, wire, rsv1);
        }
    }

    /// Turn raw socket bytes into frames for tungstenite, as far as they go.
    fn process_input(&mut self) -> Result<(), LayerClose> {
        loop {
            match self.state {
                ReadState::Head => {
                    let Some(h) = FrameHead::parse(&self.raw[self.raw_pos..]) else {
                        return Ok(());
                    };
                    if h.opcode == OP_CLOSE && h.len <= frame::MAX_CONTROL_PAYLOAD {
                        // A close frame: wait for its (small) payload and record it as sent.
                        let end = self.raw_pos + h.size + h.len as usize;
                        if self.raw.len() < end {
                            return Ok(());
                        }
                        let mut payload = self.raw[self.raw_pos + h.size..end].to_vec();
                        if let Some(k) = h.mask {
                            apply_mask(&mut payload, k, 0);
                        }
                        self.close.set_peer(CloseBody::decode(&payload));
                    }
                    self.on_head(h)?;
                }
                ReadState::Pass { remaining } => {
                    let avail = &self.raw[self.raw_pos..];
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(avail.len());
                    if n == 0 && remaining > 0 {
                        return Ok(());
                    }
                    self.out.extend_from_slice(&avail[..n]);
                    self.raw_pos += n;
                    let remaining = remaining - n as u64;
                    self.state = if remaining == 0 {
                        ReadState::Head
                    } else {
                        ReadState::Pass { remaining }
                    };
                }
                ReadState::Inflate {
                    remaining,
                    mask,
                    offset,
                    fin,
                } => {
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(self.raw.len() - self.raw_pos);
                    if n == 0 && remaining > 0 {
                        return Ok(());
                    }
                    let chunk = &mut self.raw[self.raw_pos..self.raw_pos + n];
                    if let Some(k) = mask {
                        apply_mask(chunk, k, offset);
                    }
                    let limit = self.max_message_size;
                    let Some(d) = self.codec.as_mut().map(|c| &mut c.decompressor) else {
                        return Err(LayerClose::new(1011, "internal error: no decompressor"));
                    };
                    let mut result = d.feed(chunk, &mut self.inflated, limit);
                    self.raw_pos += n;
                    let remaining = remaining - n as u64;
                    if remaining > 0 {
                        self.state = ReadState::Inflate {
                            remaining,
                            mask,
                            offset: offset + n,
                            fin,
                        };
                    } else {
                        self.state = ReadState::Head;
                        if fin && result.is_ok() {
                            result = d.finish(&mut self.inflated, limit);
                        }
                    }
                    match result {
                        Ok(()) => {}
                        Err(DeflateError::TooBig { .. }) => return Err(self.too_big(true)),
                        Err(e) => {
                            return Err(LayerClose::new(1007, e.to_string()));
                        }
                    }
                    if remaining == 0 && fin {
                        self.emit_inflated();
                    }
                }
            }
        }
    }

    /// Decide what to do with a frame from its header.
    fn on_head(&mut self, h: FrameHead) -> Result<(), LayerClose> {
        let limit = self.max_message_size as u64;
        if h.is_control() {
            if h.rsv1 && self.codec.is_some() {
                return Err(LayerClose::new(1002, "RSV1 set on a control frame"));
            }
            if h.opcode == OP_PING {
                self.count_ping()?;
            }
            self.pass(h);
            return Ok(());
        }
        if !h.is_data() {
            // Reserved opcode: tungstenite rejects it.
            self.pass(h);
            return Ok(());
        }
        let compressed_msg = self.msg.is_some_and(|m| m.compressed);
        if h.opcode != 0 {
            if compressed_msg {
                return Err(LayerClose::new(
                    1002,
                    "new data frame before the compressed message ended",
                ));
            }
            if h.rsv1 && self.codec.is_some() {
                self.check_mask(h)?;
                self.msg = Some(InMsg {
                    compressed: true,
                    opcode: h.opcode,
                    size: h.len,
                });
                self.start_inflate(h);
                return Ok(());
            }
            if h.len > limit {
                return Err(self.too_big(false));
            }
            self.msg = (!h.fin).then_some(InMsg {
                compressed: false,
                opcode: h.opcode,
                size: h.len,
            });
            if h.fin {
                self.tap_received(h.len, false);
            }
            self.counters.add_payload_in(h.len);
            self.pass(h);
            return Ok(());
        }
        // Continuation frame.
        if h.rsv1 && self.codec.is_some() {
            return Err(LayerClose::new(1002, "RSV1 set on a continuation frame"));
        }
        match self.msg {
            Some(mut m) if m.compressed => {
                self.check_mask(h)?;
                m.size = m.size.saturating_add(h.len);
                self.msg = Some(m);
                self.start_inflate(h);
            }
            Some(mut m) => {
                m.size = m.size.saturating_add(h.len);
                if m.size > limit {
                    return Err(self.too_big(false));
                }
                self.msg = (!h.fin).then_some(m);
                if h.fin {
                    self.tap_received(m.size, false);
                }
                self.counters.add_payload_in(h.len);
                self.pass(h);
            }
            // Nothing to continue: tungstenite rejects it.
            None => self.pass(h),
        }
        Ok(())
    }

    /// A ping arrived: count it if the peer is not reading what we send.
    fn count_ping(&mut self) -> Result<(), LayerClose> {
        let unsent = self.wire.len() - self.wire_pos;
        if unsent <= WRITE_HIGH_WATER {
            self.pings_unread = 0;
            return Ok(());
        }
        self.pings_unread += 1;
        if self.pings_unread <= MAX_OWED_PONGS {
            return Ok(());
        }
        self.drain_on_fail = false;
        Err(LayerClose::new(
            1008,
            format!(
                "the peer sent {} pings without reading ({} KiB unsent)",
                self.pings_unread,
                unsent / 1024
            ),
        ))
    }

    fn check_mask(&self, h: FrameHead) -> Result<(), LayerClose> {
        match (self.role, h.mask.is_some()) {
            (Role::Client, true) => Err(LayerClose::new(1002, "masked frame from server")),
            (Role::Server, false) => Err(LayerClose::new(1002, "unmasked frame from client")),
            _ => Ok(()),
        }
    }

    fn pass(&mut self, h: FrameHead) {
        let head = &self.raw[self.raw_pos..self.raw_pos + h.size];
        self.out.extend_from_slice(head);
        self.raw_pos += h.size;
        self.state = ReadState::Pass { remaining: h.len };
    }

    fn start_inflate(&mut self, h: FrameHead) {
        self.raw_pos += h.size;
        if h.opcode != 0 {
            self.inflated.clear();
            self.inflated.resize(MAX_HEAD, 0);
        }
        self.state = ReadState::Inflate {
            remaining: h.len,
            mask: h.mask,
            offset: 0,
            fin: h.fin,
        };
    }

    /// Hand the inflated message to tungstenite as one frame.
    fn emit_inflated(&mut self) {
        let Some(msg) = self.msg.take() else {
            return;
        };
        let len = self.inflated.len().saturating_sub(MAX_HEAD);
        self.counters.add_payload_in(len as u64);
        self.tap_received(msg.size, true);
        // tungstenite's server insists on masked client frames: any key will do.
        let mask = (self.role == Role::Server).then_some([0u8; 4]);
        let mut head = Vec::with_capacity(MAX_HEAD);
        write_head(&mut head, true, false, msg.opcode, mask, len);
        let start = MAX_HEAD - head.len();
        self.inflated[start..MAX_HEAD].copy_from_slice(&head);
        if self.out_pos == self.out.len() {
            self.out = std::mem::take(&mut self.inflated);
            self.out_pos = start;
        } else {
            self.out.extend_from_slice(&self.inflated[start..]);
            let mut pos = 0;
            reset_buf(&mut self.inflated, &mut pos);
        }
    }

    /// Turn complete frames written by tungstenite into wire frames.
    fn process_output(&mut self) -> io::Result<()> {
        while let Some(h) = FrameHead::parse(&self.pending[self.pending_pos..]) {
            let total = usize::try_from(h.len)
                .ok()
                .and_then(|l| l.checked_add(h.size))
                .ok_or_else(|| io::Error::other("frame too large"))?;
            if self.pending.len() - self.pending_pos < total {
                break;
            }
            let frame = self.pending_pos..self.pending_pos + total;
            self.pending_pos += total;
            if h.is_data() {
                self.counters.add_payload_out(h.len);
            }
            let Some(c) = self
                .codec
                .as_mut()
                .map(|c| &mut c.compressor)
                .filter(|_| h.is_data())
            else {
                if let Some(t) = &mut self.tap {
                    let payload = &self.pending[frame.start + h.size..frame.end];
                    t.on_written(h.opcode, payload, h.mask, h.len, false);
                }
                self.wire.extend_from_slice(&self.pending[frame]);
                continue;
            };
            let payload = &mut self.pending[frame.start + h.size..frame.end];
            if let Some(k) = h.mask {
                apply_mask(payload, k, 0);
            }
            self.scratch.clear();
            c.compress_fragment(payload, h.fin, &mut self.scratch)
                .map_err(io::Error::other)?;
            // RSV1 on the first frame of the message only (RFC 7692 section 6).
            let first = h.opcode != 0;
            if let Some(t) = &mut self.tap {
                t.on_written(h.opcode, payload, None, self.scratch.len() as u64, first);
            }
            write_head(
                &mut self.wire,
                h.fin,
                first,
                h.opcode,
                h.mask,
                self.scratch.len(),
            );
            if let Some(k) = h.mask {
                apply_mask(&mut self.scratch, k, 0);
            }
            self.wire.extend_from_slice(&self.scratch);
            if self.scratch.capacity() > KEEP_CAPACITY {
                self.scratch = Vec::new();
            }
        }
        compact(&mut self.pending, &mut self.pending_pos);
        Ok(())
    }
}

impl<S: AsyncWrite + Unpin> WireStream<S> {
    /// Write everything queued for the socket.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.wire_pos < self.wire.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.wire[self.wire_pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.wire_pos += n;
            self.counters.add_wire_out(n as u64);
        }
        reset_buf(&mut self.wire, &mut self.wire_pos);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for WireStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.out_pos < this.out.len() {
                let n = buf.remaining().min(this.out.len() - this.out_pos);
                buf.put_slice(&this.out[this.out_pos..this.out_pos + n]);
                this.out_pos += n;
                if this.out_pos == this.out.len() {
                    reset_buf(&mut this.out, &mut this.out_pos);
                }
                return Poll::Ready(Ok(()));
            }
            if let Some(close) = &this.failed {
                let msg = format!("permessage-deflate layer closed the connection: {close}");
                if this.drain_on_fail {
                    ready!(this.poll_drain(cx))?;
                } else if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
                    return Poll::Ready(Err(e));
                }
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, msg)));
            }
            if let Err(close) = this.process_input() {
                this.fail(close);
            }
            compact(&mut this.raw, &mut this.raw_pos);
            if this.out_pos < this.out.len() || this.failed.is_some() {
                continue;
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            // Not zeroed: the socket fills what it returns (zeroing 8 KiB per read, twice per
            // message, was 3 % of the CPU of 10,000 sessions on a feed).
            let mut tmp = [std::mem::MaybeUninit::<u8>::uninit(); READ_CHUNK];
            let mut rb = ReadBuf::uninit(&mut tmp);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut rb))?;
            let got = rb.filled();
            if got.is_empty() {
                this.eof = true;
            } else {
                this.counters.add_wire_in(got.len() as u64);
                this.raw.extend_from_slice(got);
            }
        }
    }
}

impl<S> Tapped for WireStream<S> {
    fn frame_tap(&mut self) -> Option<&mut FrameTap> {
        self.tap.as_mut()
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WireStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.failed.is_some() {
            // Nothing may follow the close frame the layer sent.
            return Poll::Ready(Ok(buf.len()));
        }
        if this.wire.len() - this.wire_pos > WRITE_HIGH_WATER {
            ready!(this.poll_drain(cx))?;
        }
        this.pending.extend_from_slice(buf);
        this.process_output()?;
        // Start sending now; a full socket is fine, flush finishes the job.
        if let Poll::Ready(Err(e)) = this.poll_drain(cx) {
            return Poll::Ready(Err(e));
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_support::{ByteTotals, CountingBytes};
    use crate::protocol::ws::WsStream;
    use futures_util::{SinkExt, StreamExt};
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;

    // The adapter sessions use (`protocol::ws`), in both roles.
    type Ws = WsStream<WireStream<DuplexStream>>;
    const MIB: usize = 1024 * 1024;

    struct End {
        ws: Ws,
        counters: Arc<CountingBytes>,
        close: LayerCloseHandle,
    }

    async fn end(
        io: DuplexStream,
        role: Role,
        deflate: Option<DeflateParams>,
        leftover: Vec<u8>,
        limit: usize,
    ) -> End {
        let counters = Arc::new(CountingBytes::default());
        let s = WireStream::new(io, role, deflate, leftover, limit, counters.clone());
        let close = s.layer_close();
        let ws = WsStream::from_raw_socket(s, role, None);
        End {
            ws,
            counters,
            close,
        }
    }

    async fn pair(deflate: Option<DeflateParams>, client_limit: usize) -> (End, End) {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let client = end(a, Role::Client, deflate, Vec::new(), client_limit).await;
        let server = end(b, Role::Server, deflate, Vec::new(), 16 * MIB).await;
        (client, server)
    }

    /// A client on the layer and a raw socket standing in for the server.
    async fn client_and_raw(
        deflate: Option<DeflateParams>,
        leftover: Vec<u8>,
    ) -> (End, DuplexStream) {
        let (a, b) = tokio::io::duplex(64 * 1024);
        (end(a, Role::Client, deflate, leftover, MIB).await, b)
    }

    /// Read one frame from a raw socket: (first byte, unmasked payload, was masked).
    async fn read_frame(io: &mut (impl AsyncRead + Unpin)) -> (u8, Vec<u8>, bool) {
        let mut buf = Vec::new();
        loop {
            if let Some(h) = FrameHead::parse(&buf) {
                let total = h.size + h.len as usize;
                if buf.len() >= total {
                    let mut payload = buf[h.size..total].to_vec();
                    if let Some(k) = h.mask {
                        apply_mask(&mut payload, k, 0);
                    }
                    return (buf[0], payload, h.mask.is_some());
                }
            }
            let mut b = [0u8; 1];
            let n = io.read(&mut b).await.expect("raw read");
            assert_eq!(n, 1, "raw socket closed early");
            buf.push(b[0]);
        }
    }

    fn text(len: usize) -> String {
        let words = ["alpha ", "beta ", "gamma ", "delta ", "session ", "1013 "];
        let mut s = String::new();
        let mut i = 0usize;
        while s.len() < len {
            s.push_str(words[(i * 7 + i / 3) % words.len()]);
            i += 1;
        }
        s.truncate(len);
        s
    }

    async fn next(ws: &mut Ws) -> Message {
        ws.next().await.expect("stream ended").expect("message")
    }

    /// Echo server: returns after the client closes.
    fn spawn_echo(mut server: End) -> tokio::task::JoinHandle<End> {
        tokio::spawn(async move {
            while let Some(Ok(m)) = server.ws.next().await {
                match m {
                    Message::Text(_) | Message::Binary(_) => {
                        server.ws.send(m).await.expect("echo");
                    }
                    Message::Close(_) => break,
                    _ => {}
                }
            }
            server
        })
    }

    async fn round_trip(deflate: Option<DeflateParams>) -> (ByteTotals, ByteTotals) {
        let (mut client, server) = pair(deflate, 16 * MIB).await;
        let server = spawn_echo(server);
        let msgs = vec![
            Message::text(text(20_000)),
            Message::text("Hello"),
            Message::text(""),
            Message::binary(text(70_000).into_bytes()),
            Message::text(text(300)),
        ];
        for m in &msgs {
            client.ws.send(m.clone()).await.expect("send");
            // A ping in between: answered by the server while messages flow.
            client
                .ws
                .send(Message::Ping(b"p".to_vec().into()))
                .await
                .expect("ping");
            assert_eq!(&next(&mut client.ws).await, m, "{deflate:?}");
            assert_eq!(
                next(&mut client.ws).await,
                Message::Pong(b"p".to_vec().into())
            );
        }
        client.ws.close(None).await.expect("close");
        let server = server.await.expect("server task");
        assert!(client.close.get().is_none() && server.close.get().is_none());
        let total: usize = msgs.iter().map(Message::len).sum();
        let (c, s) = (client.counters.load(), server.counters.load());
        assert_eq!(c.payload_out, total as u64);
        assert_eq!(c.payload_in, total as u64);
        assert_eq!(s.payload_in, total as u64);
        assert_eq!(s.payload_out, total as u64);
        assert_eq!(c.wire_out, s.wire_in);
        assert_eq!(s.wire_out, c.wire_in);
        (c, s)
    }

    #[tokio::test]
    async fn round_trip_with_context_takeover() {
        let (c, _) = round_trip(Some(DeflateParams::default())).await;
        assert!(c.wire_out * 5 < c.payload_out, "{c:?}");
        assert!(c.wire_in * 5 < c.payload_in, "{c:?}");
    }

    #[tokio::test]
    async fn round_trip_without_context_takeover_and_small_windows() {
        for (cb, sb) in [(15, 15), (9, 12), (8, 8)] {
            let p = DeflateParams {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_max_window_bits: sb,
                client_max_window_bits: cb,
            };
            let (c, _) = round_trip(Some(p)).await;
            assert!(c.wire_out * 2 < c.payload_out, "{p:?} {c:?}");
        }
        let p = DeflateParams {
            client_max_window_bits: 10,
            ..DeflateParams::default()
        };
        round_trip(Some(p)).await;
    }

    #[tokio::test]
    async fn round_trip_without_deflate() {
        let (c, _) = round_trip(None).await;
        // Frame headers cost bytes: without compression the wire is larger.
        assert!(c.wire_out > c.payload_out, "{c:?}");
    }

    #[tokio::test]
    async fn reads_rfc7692_frames_and_interleaved_control_frames() {
        let hello = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        // The first frame arrived with the HTTP response (leftover bytes).
        let (mut client, mut raw) =
            client_and_raw(Some(DeflateParams::default()), hello.to_vec()).await;
        assert_eq!(next(&mut client.ws).await, Message::text("Hello"));
        // Shared window: the second "Hello" refers back to the first.
        raw.write_all(&[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00])
            .await
            .expect("write");
        assert_eq!(next(&mut client.ws).await, Message::text("Hello"));
        // Fragmented compressed message with a ping in the middle.
        raw.write_all(&[0x41, 0x03, 0xf2, 0x48, 0xcd])
            .await
            .expect("write");
        raw.write_all(&[0x89, 0x02, b'h', b'i'])
            .await
            .expect("write");
        raw.write_all(&[0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00])
            .await
            .expect("write");
        assert_eq!(
            next(&mut client.ws).await,
            Message::Ping(b"hi".to_vec().into())
        );
        assert_eq!(next(&mut client.ws).await, Message::text("Hello"));
        // The automatic pong went out masked and uncompressed.
        let (b0, payload, masked) = read_frame(&mut raw).await;
        assert_eq!((b0, payload.as_slice(), masked), (0x8a, &b"hi"[..], true));
        // Uncompressed messages still pass.
        raw.write_all(&[0x81, 0x02, b'o', b'k'])
            .await
            .expect("write");
        assert_eq!(next(&mut client.ws).await, Message::text("ok"));
        let c = client.counters.load();
        assert_eq!(c.payload_in, 5 + 5 + 5 + 2);
        assert_eq!(c.wire_in, 9 + 7 + 5 + 4 + 6 + 4);
    }

    #[tokio::test]
    async fn writes_rfc7692_frames() {
        let (mut client, mut raw) =
            client_and_raw(Some(DeflateParams::default()), Vec::new()).await;
        client.ws.send(Message::text("Hello")).await.expect("send");
        client.ws.send(Message::text("Hello")).await.expect("send");
        client
            .ws
            .send(Message::binary(Vec::new()))
            .await
            .expect("send");
        let (b0, p, masked) = read_frame(&mut raw).await;
        assert_eq!(
            (b0, p.as_slice(), masked),
            (0xc1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00][..], true)
        );
        let (b0, p, _) = read_frame(&mut raw).await;
        assert_eq!(
            (b0, p.as_slice()),
            (0xc1, &[0xf2, 0x00, 0x11, 0x00, 0x00][..])
        );
        let (b0, p, _) = read_frame(&mut raw).await;
        assert_eq!((b0, p.as_slice()), (0xc2, &[0x00][..]));
        // Control frames are never compressed.
        client
            .ws
            .send(Message::Ping(b"x".to_vec().into()))
            .await
            .expect("ping");
        let (b0, p, _) = read_frame(&mut raw).await;
        assert_eq!((b0, p.as_slice()), (0x89, &b"x"[..]));
    }

    /// Send `frames` from a raw server; the client must fail with `code` and `reason`, and
    /// the raw server must receive that close frame, masked.
    async fn expect_layer_close(
        deflate: Option<DeflateParams>,
        frames: &[u8],
        code: u16,
        reason: &str,
    ) {
        let (mut client, raw) = client_and_raw(deflate, Vec::new()).await;
        let (mut raw, mut raw_w) = tokio::io::split(raw);
        // Written from a task: the client stops reading once it fails, so a large write
        // may never finish.
        let frames = frames.to_vec();
        tokio::spawn(async move { raw_w.write_all(&frames).await });
        let err = client
            .ws
            .next()
            .await
            .expect("an item")
            .expect_err("layer error");
        assert!(err.to_string().contains(reason), "{err}");
        assert_eq!(
            client.close.get(),
            Some(LayerClose {
                code,
                reason: reason.to_string()
            })
        );
        let (b0, p, masked) = read_frame(&mut raw).await;
        assert_eq!(b0, 0x88);
        assert!(masked);
        assert_eq!(u16::from_be_bytes([p[0], p[1]]), code);
        assert_eq!(&p[2..], reason.as_bytes());
    }

    #[tokio::test]
    async fn violations_close_with_the_right_code() {
        let on = Some(DeflateParams::default());
        expect_layer_close(
            on,
            &[
                0x41, 0x03, 0xf2, 0x48, 0xcd, 0xc0, 0x04, 0xc9, 0xc9, 0x07, 0x00,
            ],
            1002,
            "RSV1 set on a continuation frame",
        )
        .await;
        expect_layer_close(on, &[0xc9, 0x00], 1002, "RSV1 set on a control frame").await;
        expect_layer_close(
            on,
            &[0xc1, 0x03, 0xff, 0xff, 0xff],
            1007,
            "invalid compressed data: invalid block type",
        )
        .await;
        expect_layer_close(
            on,
            &[
                0xc1, 0x87, 1, 2, 3, 4, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00,
            ],
            1002,
            "masked frame from server",
        )
        .await;
        // Declared too big: refused from the header, before the payload arrives.
        let mut head = Vec::new();
        write_head(&mut head, true, false, 2, None, 2 * MIB);
        expect_layer_close(None, &head, 1009, "message too big: over 1048576 bytes").await;
        // Fragments add up.
        let mut frames = Vec::new();
        for (i, op) in [2u8, 0, 0].into_iter().enumerate() {
            write_head(&mut frames, i == 2, false, op, None, MIB / 2);
            frames.resize(frames.len() + MIB / 2, b'a');
        }
        expect_layer_close(None, &frames, 1009, "message too big: over 1048576 bytes").await;
    }

    #[tokio::test]
    async fn without_deflate_rsv1_frames_reach_tungstenite() {
        let (mut client, mut raw) = client_and_raw(None, Vec::new()).await;
        raw.write_all(&[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
            .await
            .expect("write");
        let err = client.ws.next().await.expect("item").expect_err("rejected");
        assert!(err.to_string().to_lowercase().contains("reserved"), "{err}");
        assert_eq!(client.close.get(), None);
    }

    #[tokio::test]
    async fn too_big_inflated_message_closes_with_1009() {
        let (mut client, mut server) = pair(Some(DeflateParams::default()), MIB).await;
        let big = text(2 * MIB);
        let server_task = tokio::spawn(async move {
            server.ws.send(Message::text(big)).await.expect("send");
            let got = server.ws.next().await.expect("item").expect("close frame");
            (server, got)
        });
        let err = client.ws.next().await.expect("item").expect_err("too big");
        assert!(err.to_string().contains("1009"), "{err}");
        let reason = "message too big: over 1048576 bytes after inflating";
        assert_eq!(
            client.close.get(),
            Some(LayerClose {
                code: 1009,
                reason: reason.into()
            })
        );
        let (server, got) = server_task.await.expect("server task");
        match got {
            Message::Close(Some(CloseFrame { code, reason: r })) => {
                assert_eq!(u16::from(code), 1009);
                assert_eq!(r.as_str(), reason);
            }
            other => panic!("expected a close frame, got {other:?}"),
        }
        // The compressed message was small on the wire.
        assert!(server.counters.load().wire_out < 100 * 1024);
        // Nothing of the 2 MiB was counted as delivered.
        assert_eq!(client.counters.load().payload_in, 0);
    }

    #[tokio::test]
    async fn server_role_rejects_unmasked_compressed_frames() {
        let (a, mut raw) = tokio::io::duplex(4096);
        let mut server = end(
            a,
            Role::Server,
            Some(DeflateParams::default()),
            Vec::new(),
            MIB,
        )
        .await;
        // A proper masked compressed frame from a client first.
        let mut frame = vec![0xc1, 0x87, 9, 8, 7, 6];
        let mut payload = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        apply_mask(&mut payload, [9, 8, 7, 6], 0);
        frame.extend_from_slice(&payload);
        raw.write_all(&frame).await.expect("write");
        assert_eq!(next(&mut server.ws).await, Message::text("Hello"));
        raw.write_all(&[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00])
            .await
            .expect("write");
        assert!(server.ws.next().await.expect("item").is_err());
        assert_eq!(
            server.close.get().map(|c| (c.code, c.reason)),
            Some((1002, "unmasked frame from client".to_string()))
        );
        // The server's close frame is not masked.
        let (b0, p, masked) = read_frame(&mut raw).await;
        assert_eq!((b0, masked), (0x88, false));
        assert_eq!(&p[..2], &1002u16.to_be_bytes());
    }

    /// A peer that pings and never reads: the pongs it owes are bounded, and past
    /// [`MAX_OWED_PONGS`] the layer fails the connection with 1008 at once (no drain first: the
    /// peer would never take it). A peer that reads its pongs may ping as much as it likes.
    #[tokio::test]
    async fn a_peer_that_pings_without_reading_is_failed_with_1008() {
        let ping: Vec<u8> = (0..2000u32)
            .flat_map(|_| [0x89u8, 0x04, b'p', b'i', b'n', b'g'])
            .collect();
        // Reading peer: 2,000 pings, each pong taken; no failure.
        let (mut client, raw) = client_and_raw(None, Vec::new()).await;
        let (mut raw_r, mut raw_w) = tokio::io::split(raw);
        let drain = tokio::spawn(async move {
            let mut sink = vec![0u8; 64 * 1024];
            let mut n = 0usize;
            while n < 2000 * 10 {
                match raw_r.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => n += k,
                }
            }
            n
        });
        let pings = ping.clone();
        tokio::spawn(async move { raw_w.write_all(&pings).await });
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            let mut seen = 0;
            while seen < 2000 {
                match client.ws.next().await {
                    Some(Ok(Message::Ping(_))) => seen += 1,
                    other => panic!("{other:?}"),
                }
            }
            // The last pong goes out with the next read or flush.
            client.ws.flush().await.expect("flush");
        })
        .await;
        assert!(read.is_ok(), "2,000 pings read");
        assert_eq!(
            drain.await.expect("drain"),
            2000 * 10,
            "every pong reached the peer"
        );
        assert_eq!(client.close.get(), None);

        // Greedy peer: a 1 KiB pipe it never reads; 20,000 pings (about 200 KB of pongs).
        let ping: Vec<u8> = (0..20_000u32)
            .flat_map(|_| [0x89u8, 0x04, b'p', b'i', b'n', b'g'])
            .collect();
        let (a, b) = tokio::io::duplex(1024);
        let mut client = end(a, Role::Client, None, Vec::new(), MIB).await;
        let (_keep_reader, mut raw_w) = tokio::io::split(b);
        tokio::spawn(async move { raw_w.write_all(&ping).await });
        let err = tokio::time::timeout(std::time::Duration::from_secs(5), async {
            loop {
                match client.ws.next().await {
                    Some(Ok(Message::Ping(_))) => continue,
                    Some(Err(e)) => return e,
                    other => panic!("{other:?}"),
                }
            }
        })
        .await
        .expect("the layer fails the connection without waiting for the peer");
        assert!(err.to_string().contains("1008"), "{err}");
        let close = client.close.get().expect("layer close");
        assert_eq!(close.code, 1008);
        assert!(
            close.reason.starts_with(&format!(
                "the peer sent {} pings without reading (",
                MAX_OWED_PONGS + 1
            )),
            "{close}"
        );
        // What it holds stays small: the pongs it could not send are not kept.
        let held = client.ws.get_ref();
        assert!(
            held.wire.len() < WRITE_HIGH_WATER + 1024,
            "{}",
            held.wire.len()
        );
    }

    #[tokio::test]
    async fn idle_session_holds_no_zlib_state_or_big_buffers() {
        let p = DeflateParams {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            ..DeflateParams::default()
        };
        let (mut client, server) = pair(Some(p), 16 * MIB).await;
        let server = spawn_echo(server);
        for len in [10, 5_000, 300_000] {
            let m = Message::text(text(len));
            client.ws.send(m.clone()).await.expect("send");
            assert_eq!(next(&mut client.ws).await, m);
        }
        let s = client.ws.get_ref();
        let zlib_left = s.codec.as_ref().is_some_and(Codec::holds_zlib_state);
        assert!(!zlib_left, "zlib state kept between messages");
        let held: usize = [&s.raw, &s.out, &s.inflated, &s.pending, &s.wire, &s.scratch]
            .iter()
            .map(|b| b.capacity())
            .sum();
        assert!(held <= 6 * KEEP_CAPACITY, "idle buffers hold {held} bytes");
        client.ws.close(None).await.expect("close");
        server.await.expect("server task");
    }

    #[test]
    fn stream_is_send() {
        fn is_send<T: Send + Unpin>() {}
        is_send::<WireStream<tokio::net::TcpStream>>();
    }
}
