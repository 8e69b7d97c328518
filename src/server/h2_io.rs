//! One HTTP/2 stream as a byte stream (`AsyncRead + AsyncWrite`), so the WebSocket frame code
//! runs on it unchanged (RFC 8441 section 5: after the 200, DATA frames carry the WebSocket
//! bytes).
//!
//! Flow control: received bytes are released back to the peer as soon as they are taken out
//! of h2's buffer (at most one DATA frame is held here), so a reader that stops reading stops
//! the peer, like TCP. Writes reserve send capacity and send only what the window allows.
//! Shutting the writer down (or dropping it) sends END_STREAM: the HTTP/2 form of a FIN.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use h2::{RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// An HTTP/2 stream's two halves as one byte stream.
#[derive(Debug)]
pub struct H2Io {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// Received bytes not yet read.
    pending: Bytes,
    recv_done: bool,
    send_done: bool,
}

impl H2Io {
    pub fn new(send: SendStream<Bytes>, recv: RecvStream) -> Self {
        H2Io {
            send,
            recv,
            pending: Bytes::new(),
            recv_done: false,
            send_done: false,
        }
    }
}

/// An h2 error as an I/O error: the I/O error underneath when there is one, a stream reset or
/// GOAWAY as `ConnectionReset` (with h2's text, which names the reason).
fn to_io(e: h2::Error) -> io::Error {
    if e.is_io() {
        return e
            .into_io()
            .unwrap_or_else(|| io::Error::other("HTTP/2 I/O error"));
    }
    io::Error::new(io::ErrorKind::ConnectionReset, e)
}

impl AsyncRead for H2Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.pending.is_empty() {
                let n = this.pending.len().min(buf.remaining());
                buf.put_slice(&this.pending.split_to(n));
                return Poll::Ready(Ok(()));
            }
            if this.recv_done {
                return Poll::Ready(Ok(()));
            }
            match ready!(this.recv.poll_data(cx)) {
                None => this.recv_done = true,
                Some(Ok(data)) => {
                    // Taken out of h2's buffer: the peer may send this much more.
                    let _ = this.recv.flow_control().release_capacity(data.len());
                    this.pending = data;
                }
                Some(Err(e)) => return Poll::Ready(Err(to_io(e))),
            }
        }
    }
}

impl AsyncWrite for H2Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.send_done {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        this.send.reserve_capacity(buf.len());
        let granted = match this.send.capacity() {
            0 => ready!(this.send.poll_capacity(cx)),
            n => Some(Ok(n)),
        };
        let granted = match granted {
            Some(Ok(n)) => n.min(buf.len()),
            Some(Err(e)) => return Poll::Ready(Err(to_io(e))),
            None => {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "HTTP/2 stream closed",
                )));
            }
        };
        this.send
            .send_data(Bytes::copy_from_slice(&buf[..granted]), false)
            .map_err(to_io)?;
        Poll::Ready(Ok(granted))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The connection task writes DATA frames out as soon as they are queued.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.send_done {
            this.send_done = true;
            this.send.send_data(Bytes::new(), true).map_err(to_io)?;
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for H2Io {
    /// A dropped byte stream ends like a closed socket: END_STREAM, no reset.
    fn drop(&mut self) {
        if !self.send_done {
            let _ = self.send.send_data(Bytes::new(), true);
        }
    }
}
