//! permessage-deflate (RFC 7692) as a frame-level stream layer under tokio-tungstenite.
//!
//! tungstenite 0.30 rejects every frame with RSV1 set, so wsmon sits a [`DeflateStream`]
//! between the socket and tungstenite (`WebSocketStream::from_raw_socket(DeflateStream, ..)`):
//!
//! - **Reading** (peer -> tungstenite): frames are parsed as they arrive. Control frames and
//!   uncompressed data frames pass through unchanged, payload bytes streamed as they come. A
//!   data message whose first frame has RSV1 is inflated incrementally (its frames unmasked,
//!   `00 00 ff ff` appended at the end) with a hard output limit, and handed to tungstenite as
//!   ONE uncompressed frame (FIN, same opcode, RSV clear; masked with an all-zero key in the
//!   server role, because tungstenite's server expects masked client frames). Control frames in
//!   the middle of a fragmented compressed message reach tungstenite before the message.
//! - **Writing** (tungstenite -> peer): tungstenite writes complete frames into the layer.
//!   Data frames are compressed per message (sync flush, trailing `00 00 ff ff` removed, RSV1 on
//!   the first frame only, an empty result sent as the single byte `00`) and re-masked with the
//!   key tungstenite drew for that frame (a fresh random key per frame, client role). Control
//!   frames pass through.
//! - **Violations** found by the layer (a message over the size limit -> 1009, compressed data
//!   that does not inflate -> 1007, RSV1 on a control or continuation frame and similar framing
//!   errors -> 1002): the layer queues a close frame with that code and a reason, flushes it,
//!   records it in [`LayerCloseHandle`] and then fails the read with an
//!   [`io::ErrorKind::InvalidData`] error. Writes after that are dropped: nothing may follow a
//!   close frame. The size limit applies to uncompressed messages as well (checked from the
//!   frame headers before the payload arrives), so one mechanism gives 1009 in every case.
//!
//! Window bits: zlib (and zlib-rs) refuse a raw deflate window of 8 bits, and flate2 accepts
//! only 9..=15. When 8 is negotiated, wsmon compresses with a 9-bit window: zlib-rs never emits
//! a match distance above `window - 262` (`MAX_DIST`), i.e. 250 bytes for a 512-byte window, so
//! the output stays readable with a 256-byte window (a unit test checks this against a strict
//! 8-bit inflater). It inflates with at least 9 bits, since peers that use zlib (Node, Python)
//! also compress with 9 bits when 8 was negotiated.
//!
//! Memory (measured with zlib-rs through flate2, release build): a compressor holds about
//! 245 KiB (9 bits) to 370 KiB (15 bits), a decompressor about 46 KiB whatever the window
//! (zlib-rs always allocates a 32 KiB inflate window), and creating a compressor plus
//! compressing a small message takes about 10 us. So both are created on first use, and with
//! `*_no_context_takeover` dropped after every message: an idle session then holds no zlib
//! state. With context takeover the state must live as long as the connection (a server that
//! keeps its context costs each client session ~46 KiB once it sent a compressed message).
//! Buffers start empty and are released when they drain.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::engine::counters::SessionCounters;

/// Which end of the connection this layer serves (tungstenite's own type, so the same value
/// goes to `from_raw_socket`).
pub use tokio_tungstenite::tungstenite::protocol::Role;

/// The permessage-deflate parameters in force on one connection (RFC 7692 section 7.1), as
/// negotiated by [`super::extensions::check_response`] or [`super::extensions::server_select`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// Base-2 log of the server's LZ77 window, 8..=15 (15 when not negotiated).
    pub server_max_window_bits: u8,
    /// Base-2 log of the client's LZ77 window, 8..=15 (15 when not negotiated).
    pub client_max_window_bits: u8,
}

impl Default for DeflateParams {
    /// No parameters: context takeover on both sides, 32 KiB windows.
    fn default() -> Self {
        DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

/// The trailer a sender strips and a receiver appends (RFC 7692 section 7.2.1/7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// Largest frame header: 2 + 8 (length) + 4 (mask).
const MAX_HEAD: usize = 14;
/// Buffers that grew beyond this are released once they drain, so an idle session keeps at
/// most a few KiB here.
const KEEP_CAPACITY: usize = 1024;
/// Above this many unsent bytes, writes wait for the socket.
const WRITE_HIGH_WATER: usize = 64 * 1024;
/// Bytes read from the socket per call (a stack buffer, not kept per connection).
const READ_CHUNK: usize = 8 * 1024;
/// A compression or decompression failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeflateError {
    /// Inflating would produce more than `limit` bytes; inflating stopped at the limit.
    #[error("message larger than {limit} bytes after inflating")]
    TooBig { limit: usize },
    /// The compressed data is not valid DEFLATE.
    #[error("invalid compressed data: {0}")]
    Corrupt(String),
    /// The compressor failed (should not happen).
    #[error("compression failed: {0}")]
    Compress(String),
}

/// zlib states of messages sent or received without context takeover are reused, not freed:
/// allocating and freeing a ~300 KiB compressor per message fragments the heap (measured with
/// glibc: resident memory grew by ~300 KiB per session at one message a second), while a pool
/// holds only as many states as are in use at the same moment. Keyed by window bits.
struct StatePool<T> {
    items: Mutex<Vec<(u8, T)>>,
}

/// The most idle states a pool keeps; more are freed.
const POOL_MAX: usize = 32;

impl<T> StatePool<T> {
    const fn new() -> Self {
        StatePool {
            items: Mutex::new(Vec::new()),
        }
    }

    fn take(&self, bits: u8) -> Option<T> {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        let pos = items.iter().rposition(|(b, _)| *b == bits)?;
        Some(items.swap_remove(pos).1)
    }

    fn give(&self, bits: u8, state: T) {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        if items.len() < POOL_MAX {
            items.push((bits, state));
        }
    }
}

static COMPRESSORS: StatePool<Compress> = StatePool::new();
static DECOMPRESSORS: StatePool<Decompress> = StatePool::new();

/// Compresses messages for one direction (RFC 7692 section 7.2.1). Pure: no I/O.
pub struct Compressor {
    inner: Option<Compress>,
    window_bits: u8,
    no_context_takeover: bool,
    level: Compression,
    /// Compressed bytes produced for the current message so far.
    msg_out: usize,
}

impl Compressor {
    /// `window_bits` 8..=15 as negotiated for this sender (8 is compressed with 9 bits, see the
    /// module docs); `no_context_takeover` resets the LZ77 window after every message.
    pub fn new(window_bits: u8, no_context_takeover: bool) -> Self {
        Compressor {
            inner: None,
            window_bits,
            no_context_takeover,
            level: Compression::default(),
            msg_out: 0,
        }
    }

    /// Compress one whole message: the payload of a single frame with RSV1 set.
    pub fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>, DeflateError> {
        let mut out = Vec::new();
        self.compress_fragment(data, true, &mut out)?;
        Ok(out)
    }

    /// Compress the payload of one frame of a message and append it to `out`; `fin` marks the
    /// last frame. Non-final fragments may produce no output at all (that is allowed).
    pub fn compress_fragment(
        &mut self,
        data: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), DeflateError> {
        let start = out.len();
        let bits = self.window_bits.clamp(9, 15);
        let level = self.level;
        let pooled = self.no_context_takeover;
        let c = self
            .inner
            .get_or_insert_with(|| match COMPRESSORS.take(bits).filter(|_| pooled) {
                Some(mut c) => {
                    c.reset();
                    c
                }
                None => Compress::new_with_window_bits(level, false, bits),
            });
        let flush = if fin {
            FlushCompress::Sync
        } else {
            FlushCompress::None
        };
        let result = run_compress(c, data, flush, out);
        if let Err(e) = result {
            self.inner = None;
            self.msg_out = 0;
            return Err(e);
        }
        if fin && out[start..].ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        self.msg_out += out.len() - start;
        if fin {
            if self.msg_out == 0 {
                // RFC 7692 section 7.2.3.6: an empty message is sent as one 0x00 byte. (zlib
                // emits nothing for a second sync flush in a row.)
                out.push(0x00);
            }
            self.msg_out = 0;
            if self.no_context_takeover
                && let Some(c) = self.inner.take()
            {
                COMPRESSORS.give(bits, c);
            }
        }
        Ok(())
    }
}

fn run_compress(
    c: &mut Compress,
    mut input: &[u8],
    flush: FlushCompress,
    out: &mut Vec<u8>,
) -> Result<(), DeflateError> {
    loop {
        out.reserve((input.len() / 2).max(256));
        let spare = out.capacity() - out.len();
        let (before_in, before_out) = (c.total_in(), c.total_out());
        c.compress_vec(input, out, flush)
            .map_err(|e| DeflateError::Compress(e.to_string()))?;
        let consumed = usize::try_from(c.total_in() - before_in).unwrap_or(input.len());
        let produced = usize::try_from(c.total_out() - before_out).unwrap_or(spare);
        input = input.get(consumed..).unwrap_or_default();
        // Done once all input is taken and the output was not full (the flush completed).
        if input.is_empty() && produced < spare {
            return Ok(());
        }
        if consumed == 0 && produced == 0 {
            return Err(DeflateError::Compress("no progress".to_string()));
        }
    }
}

/// Inflates messages from one direction (RFC 7692 section 7.2.2). Pure: no I/O.
pub struct Decompressor {
    inner: Option<Decompress>,
    window_bits: u8,
    no_context_takeover: bool,
    /// Compressed bytes fed for the current message.
    msg_in: usize,
    /// Bytes produced for the current message.
    msg_out: usize,
    /// A block with BFINAL ended the DEFLATE stream inside this message.
    ended: bool,
}

impl Decompressor {
    /// `window_bits` 8..=15 as negotiated for the sender (inflated with at least 9, see the
    /// module docs); `no_context_takeover` = the sender resets its window per message.
    pub fn new(window_bits: u8, no_context_takeover: bool) -> Self {
        Decompressor {
            inner: None,
            window_bits,
            no_context_takeover,
            msg_in: 0,
            msg_out: 0,
            ended: false,
        }
    }

    /// Inflate one whole message (the concatenated payloads of its frames), at most `limit`
    /// output bytes.
    pub fn decompress(&mut self, payload: &[u8], limit: usize) -> Result<Vec<u8>, DeflateError> {
        let mut out = Vec::new();
        self.feed(payload, &mut out, limit)?;
        self.finish(&mut out, limit)?;
        Ok(out)
    }

    /// Inflate the next piece of the current message's payload (any split), appending to
    /// `out`. Fails with [`DeflateError::TooBig`] as soon as the message would exceed `limit`
    /// bytes: never more than `limit + 1` bytes are produced, whatever the input.
    pub fn feed(
        &mut self,
        chunk: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), DeflateError> {
        self.msg_in += chunk.len();
        if self.ended || chunk.is_empty() {
            // Bytes after a final block (RFC 7692 section 7.2.3.4) carry nothing.
            return Ok(());
        }
        let r = self.inflate(chunk, out, limit);
        if r.is_err() {
            self.end_message(true);
        }
        r
    }

    /// End the current message: append `00 00 ff ff` and inflate what it releases. An empty
    /// payload is an empty message and leaves the window untouched.
    pub fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), DeflateError> {
        let r = if self.msg_in > 0 && !self.ended {
            self.inflate(&TAIL, out, limit)
        } else {
            Ok(())
        };
        self.end_message(r.is_err());
        r
    }

    fn end_message(&mut self, failed: bool) {
        // After a final block the sender starts a new stream, so the window goes too.
        // The window goes; a state that did not fail is reset and reused later.
        if (self.no_context_takeover || self.ended || failed)
            && let Some(d) = self.inner.take()
            && !failed
        {
            DECOMPRESSORS.give(self.window_bits.clamp(9, 15), d);
        }
        self.msg_in = 0;
        self.msg_out = 0;
        self.ended = false;
    }

    fn inflate(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), DeflateError> {
        let bits = self.window_bits.clamp(9, 15);
        let d = self
            .inner
            .get_or_insert_with(|| match DECOMPRESSORS.take(bits) {
                Some(mut d) => {
                    d.reset(false);
                    d
                }
                None => Decompress::new_with_window_bits(false, bits),
            });
        loop {
            // Room for this step: grow geometrically, but never past limit + 1 for the message
            // (one byte over the limit is how we learn it was exceeded).
            let room = limit.saturating_sub(self.msg_out).saturating_add(1);
            let step = room.min(self.msg_out.max(16 * 1024));
            let start = out.len();
            out.reserve_exact(step);
            out.resize(start + step, 0);
            let (before_in, before_out) = (d.total_in(), d.total_out());
            let status = d.decompress(input, &mut out[start..], FlushDecompress::None);
            let consumed = usize::try_from(d.total_in() - before_in).unwrap_or(input.len());
            let produced = usize::try_from(d.total_out() - before_out).unwrap_or(step);
            out.truncate(start + produced);
            let status = status.map_err(|e| {
                DeflateError::Corrupt(e.message().map_or_else(|| e.to_string(), str::to_string))
            })?;
            self.msg_out += produced;
            if self.msg_out > limit {
                return Err(DeflateError::TooBig { limit });
            }
            input = input.get(consumed..).unwrap_or_default();
            if status == Status::StreamEnd {
                self.ended = true;
                return Ok(());
            }
            if produced < step && input.is_empty() {
                // Output room left over and all input used: done for now.
                return Ok(());
            }
            if consumed == 0 && produced == 0 {
                return Err(DeflateError::Corrupt(
                    "inflate made no progress".to_string(),
                ));
            }
        }
    }
}

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
        reason.truncate(super::close_reason(&reason).len());
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerClose {
    /// `None` for a close frame without a status code (reported as 1005).
    pub code: Option<u16>,
    /// The reason, lossily decoded (tungstenite checks its UTF-8 itself).
    pub reason: String,
}

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

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameHead {
    fin: bool,
    rsv1: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    len: u64,
    /// Header length in bytes.
    size: usize,
}

impl FrameHead {
    fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }
    fn is_data(&self) -> bool {
        matches!(self.opcode, 0..=2)
    }
}

/// Parse a frame header at the start of `b`; `None` until it is complete.
fn parse_head(b: &[u8]) -> Option<FrameHead> {
    let (&b0, &b1) = (b.first()?, b.get(1)?);
    let (len, mut size) = match b1 & 0x7f {
        126 => (
            u64::from(u16::from_be_bytes(b.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (u64::from_be_bytes(b.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    let mask = if b1 & 0x80 != 0 {
        let key: [u8; 4] = b.get(size..size + 4)?.try_into().ok()?;
        size += 4;
        Some(key)
    } else {
        None
    };
    Some(FrameHead {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        opcode: b0 & 0x0f,
        mask,
        len,
        size,
    })
}

fn write_head(
    out: &mut Vec<u8>,
    fin: bool,
    rsv1: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    len: usize,
) {
    out.push(u8::from(fin) << 7 | u8::from(rsv1) << 6 | (opcode & 0x0f));
    let m = if mask.is_some() { 0x80 } else { 0 };
    if len < 126 {
        out.push(m | len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        out.push(m | 126);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    if let Some(k) = mask {
        out.extend_from_slice(&k);
    }
}

/// XOR `data` with `key`, `offset` bytes into the masked payload.
fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let k = [
        key[offset & 3],
        key[(offset + 1) & 3],
        key[(offset + 2) & 3],
        key[(offset + 3) & 3],
    ];
    let mut chunks = data.chunks_exact_mut(4);
    for c in &mut chunks {
        c[0] ^= k[0];
        c[1] ^= k[1];
        c[2] ^= k[2];
        c[3] ^= k[3];
    }
    for (b, m) in chunks.into_remainder().iter_mut().zip(k) {
        *b ^= m;
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

/// The frame-level permessage-deflate layer; see the module docs.
pub struct DeflateStream<S> {
    inner: S,
    role: Role,
    deflate: bool,
    max_message_size: usize,
    counters: Arc<SessionCounters>,
    close: LayerCloseHandle,
    /// Set once the layer failed the connection.
    failed: Option<LayerClose>,
    eof: bool,

    // Reading.
    raw: Vec<u8>,
    raw_pos: usize,
    out: Vec<u8>,
    out_pos: usize,
    state: ReadState,
    msg: Option<InMsg>,
    decompressor: Option<Decompressor>,
    /// Inflated message, after `MAX_HEAD` bytes kept free for its frame header.
    inflated: Vec<u8>,

    // Writing.
    pending: Vec<u8>,
    pending_pos: usize,
    wire: Vec<u8>,
    wire_pos: usize,
    compressor: Option<Compressor>,
    scratch: Vec<u8>,
}

impl<S> DeflateStream<S> {
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
        counters: Arc<SessionCounters>,
    ) -> Self {
        SessionCounters::add(&counters.wire_in, leftover.len() as u64);
        let (compressor, decompressor) = match deflate {
            None => (None, None),
            Some(p) => {
                let (own_bits, own_nct, peer_bits, peer_nct) = match role {
                    Role::Client => (
                        p.client_max_window_bits,
                        p.client_no_context_takeover,
                        p.server_max_window_bits,
                        p.server_no_context_takeover,
                    ),
                    Role::Server => (
                        p.server_max_window_bits,
                        p.server_no_context_takeover,
                        p.client_max_window_bits,
                        p.client_no_context_takeover,
                    ),
                };
                (
                    Some(Compressor::new(own_bits, own_nct)),
                    Some(Decompressor::new(peer_bits, peer_nct)),
                )
            }
        };
        DeflateStream {
            inner,
            role,
            deflate: deflate.is_some(),
            max_message_size,
            counters,
            close: LayerCloseHandle::default(),
            failed: None,
            eof: false,
            raw: leftover,
            raw_pos: 0,
            out: Vec::new(),
            out_pos: 0,
            state: ReadState::Head,
            msg: None,
            decompressor,
            inflated: Vec::new(),
            pending: Vec::new(),
            pending_pos: 0,
            wire: Vec::new(),
            wire_pos: 0,
            compressor,
            scratch: Vec::new(),
        }
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
        tracing::debug!(code = close.code, reason = %close.reason, "deflate layer fails the connection");
        self.pending.clear();
        self.pending_pos = 0;
        let mut payload = close.code.to_be_bytes().to_vec();
        payload.extend_from_slice(close.reason.as_bytes());
        let mask = match self.role {
            Role::Client => Some(random_mask()),
            Role::Server => None,
        };
        write_head(&mut self.wire, true, false, 0x8, mask, payload.len());
        if let Some(k) = mask {
            apply_mask(&mut payload, k, 0);
        }
        self.wire.extend_from_slice(&payload);
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

    /// Turn raw socket bytes into frames for tungstenite, as far as they go.
    fn process_input(&mut self) -> Result<(), LayerClose> {
        loop {
            match self.state {
                ReadState::Head => {
                    let Some(h) = parse_head(&self.raw[self.raw_pos..]) else {
                        return Ok(());
                    };
                    if h.opcode == 0x8 && h.len <= 125 {
                        // A close frame: wait for its (small) payload and record it as sent.
                        let end = self.raw_pos + h.size + h.len as usize;
                        if self.raw.len() < end {
                            return Ok(());
                        }
                        let mut payload = self.raw[self.raw_pos + h.size..end].to_vec();
                        if let Some(k) = h.mask {
                            apply_mask(&mut payload, k, 0);
                        }
                        self.close.set_peer(PeerClose {
                            code: (payload.len() >= 2)
                                .then(|| u16::from_be_bytes([payload[0], payload[1]])),
                            reason: String::from_utf8_lossy(payload.get(2..).unwrap_or_default())
                                .into_owned(),
                        });
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
                    let Some(d) = self.decompressor.as_mut() else {
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
            if h.rsv1 && self.deflate {
                return Err(LayerClose::new(1002, "RSV1 set on a control frame"));
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
            if h.rsv1 && self.deflate {
                self.check_mask(h)?;
                self.msg = Some(InMsg {
                    compressed: true,
                    opcode: h.opcode,
                    size: 0,
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
            SessionCounters::add(&self.counters.payload_in, h.len);
            self.pass(h);
            return Ok(());
        }
        // Continuation frame.
        if h.rsv1 && self.deflate {
            return Err(LayerClose::new(1002, "RSV1 set on a continuation frame"));
        }
        match self.msg {
            Some(m) if m.compressed => {
                self.check_mask(h)?;
                self.start_inflate(h);
            }
            Some(mut m) => {
                m.size = m.size.saturating_add(h.len);
                if m.size > limit {
                    return Err(self.too_big(false));
                }
                self.msg = (!h.fin).then_some(m);
                SessionCounters::add(&self.counters.payload_in, h.len);
                self.pass(h);
            }
            // Nothing to continue: tungstenite rejects it.
            None => self.pass(h),
        }
        Ok(())
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
        SessionCounters::add(&self.counters.payload_in, len as u64);
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
        while let Some(h) = parse_head(&self.pending[self.pending_pos..]) {
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
                SessionCounters::add(&self.counters.payload_out, h.len);
            }
            let Some(c) = self.compressor.as_mut().filter(|_| h.is_data()) else {
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

/// A mask key for the layer's own close frame.
fn random_mask() -> [u8; 4] {
    use rand::TryRngCore;
    let mut key = [0u8; 4];
    // The payload is our own reason, so a fallback key cannot be abused by an application.
    let _ = rand::rngs::OsRng.try_fill_bytes(&mut key);
    key
}

impl<S: AsyncWrite + Unpin> DeflateStream<S> {
    /// Write everything queued for the socket.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.wire_pos < self.wire.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.wire[self.wire_pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.wire_pos += n;
            SessionCounters::add(&self.counters.wire_out, n as u64);
        }
        reset_buf(&mut self.wire, &mut self.wire_pos);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for DeflateStream<S> {
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
                ready!(this.poll_drain(cx))?;
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
            let mut tmp = [0u8; READ_CHUNK];
            let mut rb = ReadBuf::new(&mut tmp);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut rb))?;
            let got = rb.filled();
            if got.is_empty() {
                this.eof = true;
            } else {
                SessionCounters::add(&this.counters.wire_in, got.len() as u64);
                this.raw.extend_from_slice(got);
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for DeflateStream<S> {
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

    const HELLO: &[u8] = b"Hello";
    const MIB: usize = 1024 * 1024;

    /// Text with repeats at many distances, some far (up to ~2 KiB) and some near.
    fn sample(len: usize, seed: u32) -> Vec<u8> {
        let words = [
            "session",
            "reconnect",
            "backoff",
            "deflate",
            "window",
            "frame",
            "close",
            "1013",
        ];
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        let mut out = Vec::with_capacity(len + 16);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let w = words[(x % words.len() as u32) as usize];
            out.extend_from_slice(w.as_bytes());
            out.push(if x.is_multiple_of(7) { b'\n' } else { b' ' });
            if x.is_multiple_of(11) {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        out.truncate(len);
        out
    }

    #[test]
    fn rfc7692_hello_single_block() {
        let mut c = Compressor::new(15, false);
        let z = c.compress(HELLO).expect("compress");
        assert_eq!(z, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        let mut d = Decompressor::new(15, false);
        assert_eq!(d.decompress(&z, 100).expect("inflate"), HELLO);
    }

    #[test]
    fn rfc7692_shared_window_with_context_takeover() {
        let mut c = Compressor::new(15, false);
        let first = c.compress(HELLO).expect("compress");
        let second = c.compress(HELLO).expect("compress");
        assert_eq!(first, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        assert_eq!(second, [0xf2, 0x00, 0x11, 0x00, 0x00]);
        let mut d = Decompressor::new(15, false);
        assert_eq!(d.decompress(&first, 100).expect("first"), HELLO);
        assert_eq!(d.decompress(&second, 100).expect("second"), HELLO);
    }

    #[test]
    fn no_context_takeover_compresses_each_message_alone() {
        let mut c = Compressor::new(15, true);
        let first = c.compress(HELLO).expect("compress");
        let second = c.compress(HELLO).expect("compress");
        assert_eq!(first, second);
        // A receiver that resets per message reads both.
        let mut d = Decompressor::new(15, true);
        assert_eq!(d.decompress(&first, 100).expect("first"), HELLO);
        assert_eq!(d.decompress(&second, 100).expect("second"), HELLO);
        // The shared-window form needs the window: a resetting receiver cannot read it.
        let mut d = Decompressor::new(15, true);
        let _ = d.decompress(&first, 100).expect("first");
        assert!(d.decompress(&[0xf2, 0x00, 0x11, 0x00, 0x00], 100).is_err());
    }

    #[test]
    fn rfc7692_uncompressed_block_two_blocks_and_bfinal() {
        let mut d = Decompressor::new(15, false);
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        assert_eq!(d.decompress(&stored, 100).expect("stored"), HELLO);
        let two_blocks = [
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ];
        assert_eq!(d.decompress(&two_blocks, 100).expect("two"), HELLO);
        // BFINAL set (section 7.2.3.4): the stream ends, trailing bytes are ignored ...
        let bfinal = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        assert_eq!(d.decompress(&bfinal, 100).expect("bfinal"), HELLO);
        // ... and the next message starts a fresh stream.
        assert_eq!(
            d.decompress(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], 100)
                .expect("after bfinal"),
            HELLO
        );
    }

    #[test]
    fn rfc7692_fragmented_message() {
        // Section 7.2.3.1: "Hello" compressed, split over two frames.
        let mut d = Decompressor::new(15, false);
        let mut out = Vec::new();
        d.feed(&[0xf2, 0x48, 0xcd], &mut out, 100).expect("frame 1");
        d.feed(&[0xc9, 0xc9, 0x07, 0x00], &mut out, 100)
            .expect("frame 2");
        d.finish(&mut out, 100).expect("finish");
        assert_eq!(out, HELLO);

        // Our own fragmented output, fed back in byte-sized pieces.
        let data = sample(50_000, 1);
        let mut c = Compressor::new(15, false);
        let mut z = Vec::new();
        for (i, part) in data.chunks(7_000).enumerate() {
            let fin = (i + 1) * 7_000 >= data.len();
            c.compress_fragment(part, fin, &mut z).expect("fragment");
        }
        assert!(z.len() < data.len() / 3, "{} vs {}", z.len(), data.len());
        let mut out = Vec::new();
        for b in z.chunks(1) {
            d.feed(b, &mut out, MIB).expect("feed");
        }
        d.finish(&mut out, MIB).expect("finish");
        assert_eq!(out, data);
    }

    #[test]
    fn empty_message_is_one_zero_byte() {
        for takeover in [false, true] {
            let mut c = Compressor::new(15, !takeover);
            let mut d = Decompressor::new(15, !takeover);
            // First as the first message, then after another one (zlib emits nothing then).
            for msg in [&b""[..], HELLO, b"", b"", HELLO] {
                let z = c.compress(msg).expect("compress");
                if msg.is_empty() {
                    assert_eq!(z, [0x00], "takeover {takeover}");
                }
                assert_eq!(d.decompress(&z, 100).expect("inflate"), msg);
            }
        }
        // An empty RSV1 payload is an empty message and leaves the window intact.
        let mut c = Compressor::new(15, false);
        let mut d = Decompressor::new(15, false);
        let a = c.compress(HELLO).expect("a");
        let b = c.compress(HELLO).expect("b");
        assert_eq!(d.decompress(&a, 100).expect("a"), HELLO);
        assert_eq!(d.decompress(&[], 100).expect("empty"), b"");
        assert_eq!(d.decompress(&b, 100).expect("b"), HELLO);
    }

    #[test]
    fn window_bits_round_trip() {
        for bits in 8..=15u8 {
            for nct in [false, true] {
                let mut c = Compressor::new(bits, nct);
                let mut d = Decompressor::new(bits, nct);
                for i in 0..6 {
                    let msg = sample(3_000 + i * 1_500, u32::from(bits) * 10 + i as u32);
                    let z = c.compress(&msg).expect("compress");
                    assert!(z.len() < msg.len(), "bits {bits}: no gain");
                    let back = d.decompress(&z, MIB).expect("inflate");
                    assert_eq!(back, msg, "bits {bits} nct {nct} msg {i}");
                }
            }
        }
    }

    /// A tiny reference inflater (after zlib's puff.c) that enforces a window of `window`
    /// bytes across messages, as a strict 8-bit peer would. `history` = output so far.
    fn strict_inflate(payload: &[u8], history: &mut Vec<u8>, window: usize) -> Result<(), String> {
        struct Bits<'a> {
            data: &'a [u8],
            pos: usize,
            buf: u32,
            cnt: u32,
        }
        impl Bits<'_> {
            fn bits(&mut self, need: u32) -> Result<u32, String> {
                let mut val = self.buf;
                while self.cnt < need {
                    let b = *self.data.get(self.pos).ok_or("out of input")?;
                    self.pos += 1;
                    val |= u32::from(b) << self.cnt;
                    self.cnt += 8;
                }
                self.buf = val >> need;
                self.cnt -= need;
                Ok(val & ((1u32 << need) - 1))
            }
        }
        struct Huff {
            count: [u16; 16],
            symbol: Vec<u16>,
        }
        fn build(lengths: &[u8]) -> Huff {
            let mut count = [0u16; 16];
            for &l in lengths {
                count[usize::from(l)] += 1;
            }
            count[0] = 0;
            let mut offs = [0u16; 16];
            for i in 1..15 {
                offs[i + 1] = offs[i] + count[i];
            }
            let mut symbol = vec![0u16; lengths.len()];
            for (sym, &l) in lengths.iter().enumerate() {
                if l != 0 {
                    symbol[usize::from(offs[usize::from(l)])] = sym as u16;
                    offs[usize::from(l)] += 1;
                }
            }
            Huff { count, symbol }
        }
        fn decode(b: &mut Bits<'_>, h: &Huff) -> Result<u16, String> {
            let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
            for len in 1..16 {
                code |= b.bits(1)? as i32;
                let count = i32::from(h.count[len]);
                if code - count < first {
                    return Ok(h.symbol[(index + (code - first)) as usize]);
                }
                index += count;
                first = (first + count) << 1;
                code <<= 1;
            }
            Err("bad code".into())
        }
        const LBASE: [u16; 29] = [
            3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99,
            115, 131, 163, 195, 227, 258,
        ];
        const LEXT: [u32; 29] = [
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
        ];
        const DBASE: [u16; 30] = [
            1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025,
            1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
        ];
        const DEXT: [u32; 30] = [
            0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12,
            12, 13, 13,
        ];
        let mut input = payload.to_vec();
        input.extend_from_slice(&TAIL);
        let mut b = Bits {
            data: &input,
            pos: 0,
            buf: 0,
            cnt: 0,
        };
        while b.pos < input.len() || b.cnt >= 8 {
            let last = b.bits(1)?;
            match b.bits(2)? {
                0 => {
                    b.buf = 0;
                    b.cnt = 0;
                    let len = b.bits(16)? as usize;
                    let _nlen = b.bits(16)?;
                    let data = b.data.get(b.pos..b.pos + len).ok_or("stored overrun")?;
                    history.extend_from_slice(data);
                    b.pos += len;
                }
                t @ (1 | 2) => {
                    let (lit, dist) = if t == 1 {
                        let mut l = [8u8; 288];
                        l[144..256].fill(9);
                        l[256..280].fill(7);
                        (build(&l), build(&[5u8; 30]))
                    } else {
                        let nlen = b.bits(5)? as usize + 257;
                        let ndist = b.bits(5)? as usize + 1;
                        let ncode = b.bits(4)? as usize + 4;
                        const ORDER: [usize; 19] = [
                            16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                        ];
                        let mut cl = [0u8; 19];
                        for &o in &ORDER[..ncode] {
                            cl[o] = b.bits(3)? as u8;
                        }
                        let ch = build(&cl);
                        let mut lens = Vec::new();
                        while lens.len() < nlen + ndist {
                            let sym = decode(&mut b, &ch)?;
                            match sym {
                                0..=15 => lens.push(sym as u8),
                                16 => {
                                    let prev = *lens.last().ok_or("repeat with no length")?;
                                    let n = 3 + b.bits(2)?;
                                    lens.extend(std::iter::repeat_n(prev, n as usize));
                                }
                                17 => lens.extend(std::iter::repeat_n(0, 3 + b.bits(3)? as usize)),
                                _ => lens.extend(std::iter::repeat_n(0, 11 + b.bits(7)? as usize)),
                            }
                        }
                        (build(&lens[..nlen]), build(&lens[nlen..]))
                    };
                    loop {
                        let sym = usize::from(decode(&mut b, &lit)?);
                        if sym < 256 {
                            history.push(sym as u8);
                        } else if sym == 256 {
                            break;
                        } else {
                            let i = sym - 257;
                            let len = usize::from(LBASE[i]) + b.bits(LEXT[i])? as usize;
                            let d = usize::from(decode(&mut b, &dist)?);
                            let d = usize::from(DBASE[d]) + b.bits(DEXT[d])? as usize;
                            if d > window || d > history.len() {
                                return Err(format!(
                                    "distance {d} beyond the {window}-byte window"
                                ));
                            }
                            for _ in 0..len {
                                history.push(history[history.len() - d]);
                            }
                        }
                    }
                }
                _ => return Err("invalid block type".into()),
            }
            if last == 1 {
                break;
            }
        }
        Ok(())
    }

    #[test]
    fn eight_bit_window_output_is_readable_with_a_256_byte_window() {
        let msgs: Vec<Vec<u8>> = (0..5).map(|i| sample(4_000, 77 + i)).collect();
        let check = |bits: u8| -> Result<(), String> {
            let mut c = Compressor::new(bits, false);
            let mut history = Vec::new();
            for m in &msgs {
                let z = c.compress(m).map_err(|e| e.to_string())?;
                let start = history.len();
                strict_inflate(&z, &mut history, 256)?;
                assert_eq!(&history[start..], &m[..]);
            }
            Ok(())
        };
        check(8).expect("8-bit window output fits a 256-byte window");
        // Control: the reference inflater does reject a 15-bit compressor's far matches.
        let err = check(15).expect_err("15-bit output uses far distances");
        assert!(err.contains("beyond the 256-byte window"), "{err}");
    }

    #[test]
    fn deflate_bomb_stops_at_the_limit() {
        // 100 MiB of zeros compresses to ~100 KiB.
        let zeros = vec![0u8; MIB];
        let mut c = Compressor::new(15, false);
        let mut z = Vec::new();
        for i in 0..100 {
            c.compress_fragment(&zeros, i == 99, &mut z)
                .expect("compress");
        }
        assert!(z.len() < 200 * 1024, "bomb is {} bytes", z.len());
        let mut d = Decompressor::new(15, false);
        let mut out = Vec::new();
        let err = d.feed(&z, &mut out, MIB).expect_err("over the limit");
        assert_eq!(err, DeflateError::TooBig { limit: MIB });
        assert!(out.len() <= MIB + 1, "produced {}", out.len());
        assert!(out.capacity() <= MIB + 1, "allocated {}", out.capacity());
        // Exactly at the limit is fine.
        let mut c = Compressor::new(15, false);
        let z = c.compress(&zeros).expect("compress");
        let mut d = Decompressor::new(15, false);
        assert_eq!(d.decompress(&z, MIB).expect("at limit").len(), MIB);
        assert!(matches!(
            d.decompress(&c.compress(&zeros).expect("again"), MIB - 1),
            Err(DeflateError::TooBig { .. })
        ));
    }

    #[test]
    fn corrupt_data_is_an_error() {
        let mut d = Decompressor::new(15, false);
        // BTYPE 11 is reserved.
        let err = d.decompress(&[0xff, 0xff, 0xff], 100).expect_err("invalid");
        assert!(matches!(err, DeflateError::Corrupt(_)), "{err:?}");
        // The decompressor recovers for a later (independent) message.
        assert_eq!(
            d.decompress(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], 100)
                .expect("fresh"),
            HELLO
        );
    }

    #[test]
    fn frame_heads_parse_and_write() {
        for (len, masked) in [
            (0usize, false),
            (125, true),
            (126, false),
            (65_535, true),
            (65_536, false),
            (1 << 33, true),
        ] {
            let mut b = Vec::new();
            let mask = masked.then_some([1, 2, 3, 4]);
            write_head(&mut b, true, true, 2, mask, len);
            let h = parse_head(&b).expect("complete");
            assert_eq!(h.size, b.len());
            assert_eq!(
                (h.fin, h.rsv1, h.opcode, h.mask, h.len),
                (true, true, 2, mask, len as u64)
            );
            assert_eq!(parse_head(&b[..b.len() - 1]), None);
        }
        let mut data = *b"Hello, masked world";
        let orig = data;
        apply_mask(&mut data, [9, 8, 7, 6], 0);
        apply_mask(&mut data[..5], [9, 8, 7, 6], 0);
        apply_mask(&mut data[5..], [9, 8, 7, 6], 5);
        assert_eq!(data, orig);
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;
    use crate::engine::counters::CounterValues;
    use futures_util::{SinkExt, StreamExt};
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
    use tokio_tungstenite::WebSocketStream;
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::protocol::CloseFrame;

    type Ws = WebSocketStream<DeflateStream<DuplexStream>>;
    const MIB: usize = 1024 * 1024;

    struct End {
        ws: Ws,
        counters: Arc<SessionCounters>,
        close: LayerCloseHandle,
    }

    async fn end(
        io: DuplexStream,
        role: Role,
        deflate: Option<DeflateParams>,
        leftover: Vec<u8>,
        limit: usize,
    ) -> End {
        let counters = Arc::new(SessionCounters::default());
        let s = DeflateStream::new(io, role, deflate, leftover, limit, counters.clone());
        let close = s.layer_close();
        let ws = WebSocketStream::from_raw_socket(s, role, None).await;
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
            if let Some(h) = parse_head(&buf) {
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

    async fn round_trip(deflate: Option<DeflateParams>) -> (CounterValues, CounterValues) {
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
        let zlib_left = s.compressor.as_ref().is_some_and(|c| c.inner.is_some())
            || s.decompressor.as_ref().is_some_and(|d| d.inner.is_some());
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
        is_send::<DeflateStream<tokio::net::TcpStream>>();
    }
}
