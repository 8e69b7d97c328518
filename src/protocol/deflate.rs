//! permessage-deflate (RFC 7692): the codec only, pure, no I/O. [`super::wire::WireStream`]
//! runs it under tokio-tungstenite.
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

use std::sync::Mutex;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

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
pub(crate) const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
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

/// Both directions of one connection: compress what this side sends, inflate what the peer
/// sends, each with the window and context rule negotiated for its sender.
pub struct Codec {
    pub compressor: Compressor,
    pub decompressor: Decompressor,
}

impl Codec {
    /// The codec of the client end.
    pub fn client(p: DeflateParams) -> Self {
        Codec {
            compressor: Compressor::new(p.client_max_window_bits, p.client_no_context_takeover),
            decompressor: Decompressor::new(p.server_max_window_bits, p.server_no_context_takeover),
        }
    }

    /// The codec of the server end.
    pub fn server(p: DeflateParams) -> Self {
        Codec {
            compressor: Compressor::new(p.server_max_window_bits, p.server_no_context_takeover),
            decompressor: Decompressor::new(p.client_max_window_bits, p.client_no_context_takeover),
        }
    }

    /// Whether zlib state is held now. Without context takeover it is given back to the pool
    /// after every message, so an idle connection holds none.
    pub fn holds_zlib_state(&self) -> bool {
        self.compressor.inner.is_some() || self.decompressor.inner.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::test_support::strict_inflate;

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
}
