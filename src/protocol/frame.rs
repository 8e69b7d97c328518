//! RFC 6455 frames (section 5.2): header parse and encode, masking, and the close payload
//! (section 5.5.1). Pure: no I/O.

/// Continuation frame.
pub const OP_CONTINUATION: u8 = 0x0;
/// Text frame.
pub const OP_TEXT: u8 = 0x1;
/// Binary frame.
pub const OP_BINARY: u8 = 0x2;
/// Close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Ping frame.
pub const OP_PING: u8 = 0x9;
/// Pong frame.
pub const OP_PONG: u8 = 0xA;

/// Largest frame header: 2 + 8 (length) + 4 (mask).
pub const MAX_HEAD: usize = 14;

/// Largest payload of a control frame (section 5.5).
pub const MAX_CONTROL_PAYLOAD: u64 = 125;

/// A close frame's reason is at most 123 bytes of UTF-8 (section 5.5: 125 bytes of
/// control-frame payload minus the 2-byte code).
pub const MAX_CLOSE_REASON: usize = 123;

/// `s` cut to at most [`MAX_CLOSE_REASON`] bytes, on a character boundary.
pub fn close_reason(s: &str) -> &str {
    let mut end = s.len().min(MAX_CLOSE_REASON);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHead {
    pub fin: bool,
    pub rsv1: bool,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    /// Payload length.
    pub len: u64,
    /// Header length in bytes.
    pub size: usize,
}

impl FrameHead {
    /// Parse a frame header at the start of `b`; `None` until it is complete.
    pub fn parse(b: &[u8]) -> Option<FrameHead> {
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

    /// Close, ping, pong and the reserved control opcodes.
    pub fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }

    /// Continuation, text or binary.
    pub fn is_data(&self) -> bool {
        matches!(self.opcode, OP_CONTINUATION..=OP_BINARY)
    }
}

/// Append a frame header for a payload of `len` bytes.
pub fn write_head(
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

/// XOR `data` with `key`, `offset` bytes into the masked payload (masking and unmasking are
/// the same operation).
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
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

/// A fresh mask key from the OS random source.
pub fn random_mask() -> [u8; 4] {
    use rand::TryRngCore;
    let mut key = [0u8; 4];
    // Used for our own close frames only: a fallback key cannot be abused by an application.
    let _ = rand::rngs::OsRng.try_fill_bytes(&mut key);
    key
}

/// The payload of a close frame: an optional status code and a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseBody {
    /// `None` for a close frame without a status code (reported as 1005).
    pub code: Option<u16>,
    /// The reason, lossily decoded (a receiver checks the UTF-8 itself).
    pub reason: String,
}

impl CloseBody {
    /// Read an (unmasked) close payload. A lone byte carries no code.
    pub fn decode(payload: &[u8]) -> CloseBody {
        CloseBody {
            code: (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]])),
            reason: String::from_utf8_lossy(payload.get(2..).unwrap_or_default()).into_owned(),
        }
    }
}

/// A close payload: `code` big-endian, then `reason` cut to 123 bytes on a character boundary.
/// `code: None` gives the empty payload (the receiver reports 1005); the reason is dropped.
pub fn close_payload(code: Option<u16>, reason: &str) -> Vec<u8> {
    let Some(code) = code else {
        return Vec::new();
    };
    let reason = close_reason(reason).as_bytes();
    let mut out = Vec::with_capacity(2 + reason.len());
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(reason);
    out
}

/// A whole close frame (FIN set), masked with `mask` when given (client frames).
pub fn close_frame(code: Option<u16>, reason: &str, mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut payload = close_payload(code, reason);
    let mut out = Vec::with_capacity(6 + payload.len());
    write_head(&mut out, true, false, OP_CLOSE, mask, payload.len());
    if let Some(k) = mask {
        apply_mask(&mut payload, k, 0);
    }
    out.extend_from_slice(&payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let h = FrameHead::parse(&b).expect("complete");
            assert_eq!(h.size, b.len());
            assert_eq!(
                (h.fin, h.rsv1, h.opcode, h.mask, h.len),
                (true, true, 2, mask, len as u64)
            );
            assert_eq!(FrameHead::parse(&b[..b.len() - 1]), None);
        }
        let mut data = *b"Hello, masked world";
        let orig = data;
        apply_mask(&mut data, [9, 8, 7, 6], 0);
        apply_mask(&mut data[..5], [9, 8, 7, 6], 0);
        apply_mask(&mut data[5..], [9, 8, 7, 6], 5);
        assert_eq!(data, orig);
    }

    #[test]
    fn close_frames_by_hand() {
        assert_eq!(close_frame(None, "ignored", None), [0x88, 0x00]);
        assert_eq!(
            close_frame(Some(1014), "x", None),
            [0x88, 3, 0x03, 0xf6, b'x']
        );
        let long = "é".repeat(100); // 200 bytes
        let f = close_frame(Some(1000), &long, None);
        assert_eq!(usize::from(f[1]), f.len() - 2);
        assert!(f.len() - 4 <= MAX_CLOSE_REASON);
        assert!(std::str::from_utf8(&f[4..]).is_ok());
    }

    #[test]
    fn masked_close_frames_decode_back() {
        let key = [9, 8, 7, 6];
        let f = close_frame(Some(1009), "too big", Some(key));
        let h = FrameHead::parse(&f).expect("complete");
        assert_eq!(
            (h.fin, h.opcode, h.mask, h.len),
            (true, OP_CLOSE, Some(key), 9)
        );
        let mut payload = f[h.size..].to_vec();
        apply_mask(&mut payload, key, 0);
        assert_eq!(
            CloseBody::decode(&payload),
            CloseBody {
                code: Some(1009),
                reason: "too big".into()
            }
        );
        assert_eq!(
            CloseBody::decode(&[]),
            CloseBody {
                code: None,
                reason: String::new()
            }
        );
        assert_eq!(CloseBody::decode(&[0x03]).code, None);
    }

    #[test]
    fn close_reasons_are_cut_on_a_character_boundary() {
        assert_eq!(close_reason("bye"), "bye");
        let long = "é".repeat(100); // 200 bytes
        let cut = close_reason(&long);
        assert_eq!(cut.len(), 122);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
