//! A WebSocket over an async byte stream, polled by one task: tungstenite's `WebSocket` with
//! the `Stream` and `Sink` of tokio-tungstenite's `WebSocketStream` (the same behaviour: the
//! same errors, the same `ready`/`closing`/`ended` rules, ported from tokio-tungstenite 0.30,
//! MIT), without its waker proxies.
//!
//! tokio-tungstenite lets the read half and the write half be polled by two tasks, so every
//! poll registers the caller's waker in two atomic slots, and the socket wakes a proxy that
//! wakes both. A session polls its connection from its own task only: here the socket gets
//! the task's waker itself, kept in the adapter and replaced only when the task's waker
//! changes. On 10,000 sessions reading a feed, the proxies' registering and waking was 8 % of
//! the client's CPU.

use std::io::{Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures_util::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::error::Error as WsError;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocket, WebSocketConfig};

/// The async stream as the `Read + Write` tungstenite wants: each call polls it once with the
/// waker of the task that polls the [`WsStream`] (`WouldBlock` when it is not ready).
struct Polled<S> {
    inner: S,
    waker: Waker,
}

impl<S> Polled<S> {
    fn poll<R>(
        &mut self,
        f: impl FnOnce(Pin<&mut S>, &mut Context<'_>) -> Poll<std::io::Result<R>>,
    ) -> std::io::Result<R>
    where
        S: Unpin,
    {
        let mut cx = Context::from_waker(&self.waker);
        match f(Pin::new(&mut self.inner), &mut cx) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(std::io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl<S: AsyncRead + Unpin> Read for Polled<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut buf = ReadBuf::new(buf);
        self.poll(|s, cx| s.poll_read(cx, &mut buf))?;
        Ok(buf.filled().len())
    }
}

impl<S: AsyncWrite + Unpin> Write for Polled<S> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.poll(|s, cx| s.poll_write(cx, buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.poll(|s, cx| s.poll_flush(cx))
    }
}

/// A WebSocket over `S`, for one task. `Stream` of messages, `Sink` of messages.
pub struct WsStream<S> {
    inner: WebSocket<Polled<S>>,
    /// A close was queued and is being flushed.
    closing: bool,
    /// The connection ended (closed, or an error was returned): the stream is fused.
    ended: bool,
    /// tungstenite can take another message (`false` after a write hit `WouldBlock`).
    ready: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> WsStream<S> {
    /// A WebSocket over `stream`, whose handshake is done.
    pub fn from_raw_socket(stream: S, role: Role, config: Option<WebSocketConfig>) -> Self {
        let polled = Polled {
            inner: stream,
            waker: Waker::noop().clone(),
        };
        WsStream {
            inner: WebSocket::from_raw_socket(polled, role, config),
            closing: false,
            ended: false,
            ready: true,
        }
    }

    /// Send a close frame (with `frame`) and flush it.
    pub async fn close(&mut self, frame: Option<CloseFrame>) -> Result<(), WsError> {
        futures_util::SinkExt::send(self, Message::Close(frame)).await
    }

    pub fn get_ref(&self) -> &S {
        &self.inner.get_ref().inner
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner.get_mut().inner
    }

    /// Run `f` with the task's waker (`cx`) for the stream, if one is given.
    fn with<R>(
        &mut self,
        cx: Option<&mut Context<'_>>,
        f: impl FnOnce(&mut WebSocket<Polled<S>>) -> R,
    ) -> R {
        if let Some(cx) = cx {
            let slot = &mut self.inner.get_mut().waker;
            if !slot.will_wake(cx.waker()) {
                slot.clone_from(cx.waker());
            }
        }
        f(&mut self.inner)
    }
}

/// `WouldBlock` is "not ready yet".
fn cvt<T>(r: Result<T, WsError>) -> Poll<Result<T, WsError>> {
    match r {
        Err(WsError::Io(ref e)) if e.kind() == std::io::ErrorKind::WouldBlock => Poll::Pending,
        other => Poll::Ready(other),
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WsStream<S> {
    type Item = Result<Message, WsError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.ended {
            return Poll::Ready(None);
        }
        match futures_util::ready!(self.with(Some(cx), |s| cvt(s.read()))) {
            Ok(m) => Poll::Ready(Some(Ok(m))),
            Err(e) => {
                self.ended = true;
                if matches!(e, WsError::AlreadyClosed | WsError::ConnectionClosed) {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Err(e)))
                }
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WsStream<S> {
    type Error = WsError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        if self.ready {
            return Poll::Ready(Ok(()));
        }
        // Blocked: try to flush the blockage away.
        let r = futures_util::ready!(self.with(Some(cx), |s| cvt(s.flush())));
        self.ready = true;
        Poll::Ready(r)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), WsError> {
        match self.with(None, |s| s.write(item)) {
            Ok(()) => {
                self.ready = true;
                Ok(())
            }
            // Accepted and queued: `poll_ready` now flushes it.
            Err(WsError::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                self.ready = false;
                Ok(())
            }
            Err(e) => {
                self.ready = true;
                Err(e)
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        let r = futures_util::ready!(self.with(Some(cx), |s| cvt(s.flush())));
        self.ready = true;
        Poll::Ready(match r {
            // The connection just closed: flushing is done, not an error.
            Err(WsError::ConnectionClosed) => Ok(()),
            other => other,
        })
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), WsError>> {
        self.ready = true;
        let closing = self.closing;
        let res = self.with(
            Some(cx),
            |s| if closing { s.flush() } else { s.close(None) },
        );
        match res {
            Ok(()) | Err(WsError::ConnectionClosed) => Poll::Ready(Ok(())),
            Err(WsError::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                self.closing = true;
                Poll::Pending
            }
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::WebSocketStream;

    use super::*;

    /// Our client against tokio-tungstenite's server over an in-memory pipe: messages both ways,
    /// a ping answered on its own, and the closing handshake ending the stream.
    #[tokio::test]
    async fn talks_to_tokio_tungstenite_and_closes_cleanly() {
        let (a, b) = tokio::io::duplex(64);
        let server = tokio::spawn(async move {
            let mut ws = WebSocketStream::from_raw_socket(b, Role::Server, None).await;
            ws.send(Message::Ping(b"p".to_vec().into())).await?;
            // A large message through a 64-byte pipe: many partial reads and writes.
            ws.send(Message::text("x".repeat(100_000))).await?;
            let mut seen = Vec::new();
            while let Some(m) = ws.next().await {
                seen.push(m?);
            }
            Ok::<_, WsError>(seen)
        });
        let mut ws = WsStream::from_raw_socket(a, Role::Client, None);
        let first = ws.next().await.expect("a message").expect("ok");
        assert_eq!(first, Message::Ping(b"p".to_vec().into()));
        let big = ws.next().await.expect("a message").expect("ok");
        assert_eq!(big.len(), 100_000);
        ws.send(Message::text("hello")).await.expect("sent");
        ws.close(None).await.expect("close sent");
        // The server's close reply ends our stream.
        while let Some(m) = ws.next().await {
            assert!(matches!(m, Ok(Message::Close(_))), "{m:?}");
        }
        let seen = server.await.expect("server task").expect("server ok");
        let kinds: Vec<&str> = seen
            .iter()
            .map(|m| match m {
                Message::Pong(_) => "pong",
                Message::Text(_) => "text",
                Message::Close(_) => "close",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["pong", "text", "close"]);
    }
}
