//! A read-side tap on an HTTP/2 connection's bytes: it follows the frame boundaries (RFC 9113
//! section 4.1) and keeps what h2 does not tell its user, the GOAWAY the server sent (its last
//! stream id and error code), so every session on the connection can record the real cause.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::ConnShared;

/// Frame type of GOAWAY.
const GOAWAY: u8 = 0x7;

/// Where the reader is in the stream of frames.
#[derive(Debug, Default)]
pub(super) struct FrameScan {
    head: [u8; 9],
    head_len: usize,
    /// Payload bytes of the current frame still to come.
    remaining: usize,
    kind: u8,
    goaway: [u8; 8],
    goaway_len: usize,
}

impl FrameScan {
    /// Follow `bytes`; returns each complete GOAWAY's (last stream id, error code).
    pub(super) fn feed(&mut self, mut bytes: &[u8]) -> Vec<(u32, u32)> {
        let mut found = Vec::new();
        while !bytes.is_empty() {
            if self.remaining == 0 {
                let n = (9 - self.head_len).min(bytes.len());
                self.head[self.head_len..self.head_len + n].copy_from_slice(&bytes[..n]);
                self.head_len += n;
                bytes = &bytes[n..];
                if self.head_len == 9 {
                    let h = self.head;
                    self.remaining =
                        usize::from(h[0]) << 16 | usize::from(h[1]) << 8 | usize::from(h[2]);
                    self.kind = h[3];
                    self.head_len = 0;
                    self.goaway_len = 0;
                }
                continue;
            }
            let n = self.remaining.min(bytes.len());
            if self.kind == GOAWAY && self.goaway_len < 8 {
                let take = (8 - self.goaway_len).min(n);
                self.goaway[self.goaway_len..self.goaway_len + take]
                    .copy_from_slice(&bytes[..take]);
                self.goaway_len += take;
                if self.goaway_len == 8 {
                    let g = self.goaway;
                    let last = u32::from_be_bytes([g[0], g[1], g[2], g[3]]) & 0x7fff_ffff;
                    let code = u32::from_be_bytes([g[4], g[5], g[6], g[7]]);
                    found.push((last, code));
                }
            }
            self.remaining -= n;
            bytes = &bytes[n..];
        }
        found
    }
}

/// The connection's byte stream, with its incoming frames followed.
pub(super) struct Tap<T> {
    inner: T,
    scan: FrameScan,
    conn: Arc<ConnShared>,
}

impl<T> Tap<T> {
    pub(super) fn new(inner: T, conn: Arc<ConnShared>) -> Self {
        Tap {
            inner,
            scan: FrameScan::default(),
            conn,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Tap<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            for (last, code) in this.scan.feed(&buf.filled()[before..]) {
                this.conn.saw_goaway(last, code);
            }
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tap<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let len = payload.len();
        let mut f = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, 0];
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn a_goaway_is_found_across_any_split_and_after_other_frames() {
        let mut wire = frame(0x4, 0, &[0, 3, 0, 0, 0, 100]); // SETTINGS
        wire.extend(frame(0x0, 1, b"some data for stream 1"));
        wire.extend(frame(0x4, 0, &[])); // SETTINGS ack, empty
        let mut goaway = 7u32.to_be_bytes().to_vec();
        goaway.extend(0u32.to_be_bytes());
        goaway.extend(b"debug data");
        wire.extend(frame(GOAWAY, 0, &goaway));
        wire.extend(frame(0x0, 3, b"more"));
        for step in [1, 2, 5, 9, 13, wire.len()] {
            let mut scan = FrameScan::default();
            let found: Vec<_> = wire.chunks(step).flat_map(|c| scan.feed(c)).collect();
            assert_eq!(found, [(7, 0)], "split every {step} bytes");
        }
        // ENHANCE_YOUR_CALM with the reserved bit set on the stream id.
        let mut scan = FrameScan::default();
        let mut payload = (0x8000_0005u32).to_be_bytes().to_vec();
        payload.extend(11u32.to_be_bytes());
        assert_eq!(scan.feed(&frame(GOAWAY, 0, &payload)), [(5, 11)]);
    }
}
