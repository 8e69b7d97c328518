//! A reader that passes whole lines of at most [`MAX_LINE`] bytes and drops longer ones,
//! keeping line numbers: an over-long line becomes an empty line, and its number and length
//! are kept for the warning ("line 12 is 200 MB, over the 16 MiB limit"). Memory stays
//! bounded by the limit whatever the file holds (one line of 4 GB, or no newline at all).

use std::io::{self, BufRead, BufReader, Read};

/// The longest line replay reads. A wsmon export line is a few hundred bytes; a handshake with
/// its headers and body a few hundred KiB.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

/// The limit as people read it.
pub const MAX_LINE_TEXT: &str = "16 MiB";

/// Lines over [`MAX_LINE`] in a file: (line number from 1, length in bytes without the newline).
pub type LongLines = Vec<(u64, u64)>;

/// The read buffer: well under the limit, so that every line that starts and ends inside one
/// buffer is under it too.
const BUFFER: usize = 1 << 20;

pub struct LineCap<R> {
    inner: BufReader<R>,
    /// The start of a line whose end has not been read yet (at most `MAX_LINE` bytes).
    partial: Vec<u8>,
    /// Bytes ready to be passed on, from `pos`.
    ready: Vec<u8>,
    pos: usize,
    /// The length so far of an over-long line being dropped.
    skipping: Option<u64>,
    /// Lines completed so far.
    lines: u64,
    long: LongLines,
}

impl<R: Read> LineCap<R> {
    pub fn new(inner: R) -> Self {
        Self::with_buffer(inner, BUFFER)
    }

    fn with_buffer(inner: R, buffer: usize) -> Self {
        LineCap {
            inner: BufReader::with_capacity(buffer.min(BUFFER), inner),
            partial: Vec::new(),
            ready: Vec::new(),
            pos: 0,
            skipping: None,
            lines: 0,
            long: Vec::new(),
        }
    }

    /// The lines dropped so far.
    pub fn long_lines(&self) -> &LongLines {
        &self.long
    }

    /// Take in the next piece of the input; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        let avail = self.inner.fill_buf()?;
        if avail.is_empty() {
            if let Some(len) = self.skipping.take() {
                self.long.push((self.lines + 1, len));
            } else if !self.partial.is_empty() {
                // A last line without its newline: passed as it is (the loader judges it).
                std::mem::swap(&mut self.ready, &mut self.partial);
                return Ok(true);
            }
            return Ok(false);
        }
        let first = avail.iter().position(|&b| b == b'\n');
        if let Some(len) = self.skipping {
            match first {
                Some(p) => {
                    self.long.push((self.lines + 1, len + p as u64));
                    self.skipping = None;
                    // The newline stays: the dropped line reads as an empty one.
                    self.inner.consume(p);
                }
                None => {
                    let n = avail.len();
                    self.skipping = Some(len + n as u64);
                    self.inner.consume(n);
                }
            }
            return Ok(true);
        }
        let Some(first) = first else {
            let n = avail.len();
            self.partial.extend_from_slice(avail);
            self.inner.consume(n);
            if self.partial.len() > MAX_LINE {
                self.skipping = Some(self.partial.len() as u64);
                self.partial = Vec::new();
            }
            return Ok(true);
        };
        if self.partial.len() + first > MAX_LINE {
            self.long
                .push((self.lines + 1, (self.partial.len() + first) as u64));
            self.partial = Vec::new();
            self.inner.consume(first);
            return Ok(true);
        }
        // Whole lines up to the last newline here; the ones after the first are shorter than
        // the buffer, which is smaller than the limit.
        let last = avail.iter().rposition(|&b| b == b'\n').unwrap_or(first);
        let whole = &avail[..=last];
        self.ready.clear();
        self.ready.append(&mut self.partial);
        self.ready.extend_from_slice(whole);
        self.lines += whole.iter().filter(|&&b| b == b'\n').count() as u64;
        self.inner.consume(last + 1);
        Ok(true)
    }
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.ready.len() {
                let n = out.len().min(self.ready.len() - self.pos);
                out[..n].copy_from_slice(&self.ready[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            self.ready.clear();
            self.pos = 0;
            if !self.refill()? {
                return Ok(0);
            }
        }
    }
}

/// "200 MB", "17 MB": a length as people read it.
pub fn size_text(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(input: &[u8], buffer: usize) -> (Vec<u8>, LongLines) {
        let mut cap = LineCap::with_buffer(input, buffer);
        let mut out = Vec::new();
        cap.read_to_end(&mut out).expect("reads");
        (out, cap.long)
    }

    #[test]
    fn short_lines_pass_unchanged_whatever_the_buffer() {
        let text = b"a\nbb\n\nccc\nlast without newline";
        for buffer in [1, 2, 3, 7, 64] {
            assert_eq!(pass(text, buffer), (text.to_vec(), vec![]), "{buffer}");
        }
    }

    #[test]
    fn an_over_long_line_becomes_empty_and_is_counted() {
        let mut text = b"first\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        text.extend(b"\nthird\n");
        text.extend(std::iter::repeat_n(b'y', MAX_LINE + 1));
        for buffer in [1 << 16, 1 << 20] {
            let (out, long) = pass(&text, buffer);
            assert_eq!(out, b"first\n\nthird\n", "{buffer}");
            assert_eq!(
                long,
                vec![(2, MAX_LINE as u64 + 10), (4, MAX_LINE as u64 + 1)]
            );
        }
        assert_eq!(size_text(200_000_000), "200 MB");
    }
}
