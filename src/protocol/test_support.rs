//! Helpers for unit tests only.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::protocol::deflate::TAIL;
use crate::protocol::wire::ByteCounter;

/// A [`ByteCounter`] for stream tests.
#[derive(Debug, Default)]
pub struct CountingBytes {
    wire_in: AtomicU64,
    wire_out: AtomicU64,
    payload_in: AtomicU64,
    payload_out: AtomicU64,
}

/// What a [`CountingBytes`] counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteTotals {
    pub wire_in: u64,
    pub wire_out: u64,
    pub payload_in: u64,
    pub payload_out: u64,
}

impl CountingBytes {
    pub fn load(&self) -> ByteTotals {
        ByteTotals {
            wire_in: self.wire_in.load(Ordering::Relaxed),
            wire_out: self.wire_out.load(Ordering::Relaxed),
            payload_in: self.payload_in.load(Ordering::Relaxed),
            payload_out: self.payload_out.load(Ordering::Relaxed),
        }
    }
}

impl ByteCounter for CountingBytes {
    fn add_wire_in(&self, n: u64) {
        self.wire_in.fetch_add(n, Ordering::Relaxed);
    }
    fn add_wire_out(&self, n: u64) {
        self.wire_out.fetch_add(n, Ordering::Relaxed);
    }
    fn add_payload_in(&self, n: u64) {
        self.payload_in.fetch_add(n, Ordering::Relaxed);
    }
    fn add_payload_out(&self, n: u64) {
        self.payload_out.fetch_add(n, Ordering::Relaxed);
    }
}

/// A tiny reference inflater (after zlib's puff.c) that enforces a window of `window`
/// bytes across messages, as a strict 8-bit peer would. `history` = output so far.
pub fn strict_inflate(payload: &[u8], history: &mut Vec<u8>, window: usize) -> Result<(), String> {
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
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
        131, 163, 195, 227, 258,
    ];
    const LEXT: [u32; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    const DBASE: [u16; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
        2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];
    const DEXT: [u32; 30] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
        13, 13,
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
                            return Err(format!("distance {d} beyond the {window}-byte window"));
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
