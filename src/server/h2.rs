//! `wsmon serve --h2`: the scenario paths as WebSockets over HTTP/2 (RFC 8441), h2c with prior
//! knowledge. SETTINGS carry SETTINGS_ENABLE_CONNECT_PROTOCOL=1 (unless
//! `--h2-no-connect-protocol`); a stream with `:method CONNECT` and `:protocol websocket` gets
//! a 200 (no `Sec-WebSocket-Accept` in HTTP/2) and then runs the same scenario code as an
//! HTTP/1.1 upgrade, on the stream's DATA frames ([`H2Io`]).
//!
//! Connection-level faults: `/h2/goaway?after=DUR&code=C` sends GOAWAY after DUR (NO_ERROR:
//! graceful, the open streams go on until they end or [`GOAWAY_GRACE`] has passed; another
//! code: the connection closes once the frame is out); `/h2/reset?after=DUR` drops the TCP
//! connection with a reset after DUR, losing every stream on it.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use h2::server::{Connection, SendResponse};
use h2::{Reason, RecvStream};
use http::{Response, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Shared;
use super::conn::{self, HEADER_TIMEOUT, PlainAnswer, shutting_down};
use super::h2_io::H2Io;
use super::http::Request;
use super::scenario::{self, Scenario};

/// How long open streams may go on after a NO_ERROR GOAWAY before the connection is closed.
pub const GOAWAY_GRACE: Duration = Duration::from_secs(2);
/// SETTINGS_MAX_CONCURRENT_STREAMS of the listener.
pub const MAX_STREAMS: u32 = 1000;
/// Connection-level receive window: enough for a hundred busy streams.
pub const CONNECTION_WINDOW: u32 = 4 << 20;

/// How the HTTP/2 listener behaves.
#[derive(Debug, Clone, Copy)]
pub struct H2Settings {
    /// Announce SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441); without it no WebSocket can be
    /// opened, which is what `--h2-no-connect-protocol` is for.
    pub connect_protocol: bool,
}

/// A connection-level fault asked for by a stream.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    GoAway(u32),
    Reset,
}

/// The TCP socket under an HTTP/2 connection. When `reset` is set before it is dropped, it is
/// dropped with SO_LINGER 0: the kernel sends RST instead of FIN.
struct Socket {
    tcp: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for Socket {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Acquire) {
            let _ = self.tcp.set_zero_linger();
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// Serve one HTTP/2 connection to the end. Errors are logged, never propagated.
pub(crate) async fn handle(
    mut tcp: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    settings: H2Settings,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let first = tokio::select! {
        r = tokio::time::timeout(HEADER_TIMEOUT, starts_like_h2(&tcp)) => r,
        () = shutting_down(&mut shutdown) => return,
    };
    match first {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => {
            // An HTTP/1.1 client on the HTTP/2 port: say so in words it can read.
            let body = "this is the scenario server's HTTP/2 listener (h2c with prior knowledge, \
                        RFC 8441): open WebSockets here over HTTP/2, or use the HTTP/1.1 port\n";
            let response = super::http::text_response(400, &[], body);
            let _ = super::http::respond_and_close(&mut tcp, &response).await;
            return;
        }
        Ok(Err(_)) | Err(_) => return,
    }
    let reset = Arc::new(AtomicBool::new(false));
    let socket = Socket {
        tcp,
        reset: reset.clone(),
    };
    let mut builder = h2::server::Builder::new();
    builder
        .max_concurrent_streams(MAX_STREAMS)
        .initial_connection_window_size(CONNECTION_WINDOW);
    if settings.connect_protocol {
        builder.enable_connect_protocol();
    }
    let handshake = tokio::select! {
        r = tokio::time::timeout(HEADER_TIMEOUT, builder.handshake::<_, Bytes>(socket)) => r,
        () = shutting_down(&mut shutdown) => return,
    };
    let conn = match handshake {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "HTTP/2 handshake failed");
            return;
        }
        Err(_elapsed) => {
            tracing::debug!(%peer, "HTTP/2 preface not received in time");
            return;
        }
    };
    serve_connection(conn, &reset, &shared, &mut shutdown).await;
    if reset.load(Ordering::Acquire) {
        tracing::debug!(%peer, "HTTP/2 connection reset by scenario /h2/reset");
    }
}

/// Whether the first bytes a client sent are (the start of) the HTTP/2 connection preface;
/// `false` for anything else, e.g. an HTTP/1.1 request line.
async fn starts_like_h2(tcp: &TcpStream) -> io::Result<bool> {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    let mut buf = [0u8; PREFACE.len()];
    let n = tcp.peek(&mut buf).await?;
    Ok(n > 0 && buf[..n] == PREFACE[..n])
}

/// Accept streams until the connection ends, a fault ends it, or the server stops. The
/// connection (and its socket) is dropped before this returns; after `/h2/reset` the drop is a
/// TCP reset.
async fn serve_connection(
    mut conn: Connection<Socket, Bytes>,
    reset: &AtomicBool,
    shared: &Arc<Shared>,
    shutdown: &mut watch::Receiver<bool>,
) {
    let mut streams = JoinSet::new();
    let mut fault: Option<(Instant, Fault)> = None;
    // When the connection is closed whatever its streams do (after a GOAWAY, at shutdown).
    let mut close_at: Option<Instant> = None;
    let mut goaway_sent = false;
    let mut stopping = false;
    loop {
        let fault_at = fault.filter(|_| !goaway_sent).map(|(at, _)| at);
        tokio::select! {
            () = shutting_down(shutdown), if !stopping => {
                // The stream tasks close their WebSockets with 1001 themselves; the connection
                // goes away once they are done.
                stopping = true;
                close_at = Some(Instant::now() + conn::CLOSE_TIMEOUT + Duration::from_secs(1));
                if streams.is_empty() && !goaway_sent {
                    conn.graceful_shutdown();
                    goaway_sent = true;
                }
            }
            Some(done) = streams.join_next(), if !streams.is_empty() => {
                if let Err(e) = done
                    && e.is_panic()
                {
                    tracing::error!(error = %e, "HTTP/2 stream task panicked");
                }
                if stopping && streams.is_empty() && !goaway_sent {
                    conn.graceful_shutdown();
                    goaway_sent = true;
                }
            }
            () = sleep_until_opt(fault_at) => {
                goaway_sent = true;
                match fault.map(|(_, f)| f) {
                    Some(Fault::Reset) | None => {
                        reset.store(true, Ordering::Release);
                        break;
                    }
                    Some(Fault::GoAway(0)) => conn.graceful_shutdown(),
                    Some(Fault::GoAway(code)) => conn.abrupt_shutdown(Reason::from(code)),
                }
                close_at = Some(Instant::now() + GOAWAY_GRACE);
            }
            () = sleep_until_opt(close_at) => break,
            accepted = conn.accept() => match accepted {
                None => break,
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "HTTP/2 connection ended with an error");
                    break;
                }
                Some(Ok((req, respond))) => {
                    if is_websocket(&req)
                        && let Some((after, f)) = request_fault(&req)
                    {
                        fault = Some(earliest(fault, (Instant::now() + after, f)));
                    }
                    streams.spawn(serve_stream(req, respond, shared.clone(), shutdown.clone()));
                }
            }
        }
    }
    // Every stream on the connection ends with it.
    streams.abort_all();
    drop(conn);
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The connection-level fault a request asks for (`/h2/goaway`, `/h2/reset`).
fn request_fault(req: &http::Request<RecvStream>) -> Option<(Duration, Fault)> {
    let target = req.uri().path_and_query()?.as_str();
    fault_of(&scenario::route(target).ok()?)
}

/// The fault a request asks for, with when it should fire.
fn fault_of(scenario: &Scenario) -> Option<(Duration, Fault)> {
    match scenario {
        Scenario::H2Goaway { after, code } => Some((*after, Fault::GoAway(*code))),
        Scenario::H2Reset { after } => Some((*after, Fault::Reset)),
        _ => None,
    }
}

/// Our request type from an HTTP/2 request head (for routing and extension negotiation).
fn request_of(req: &http::Request<RecvStream>) -> Request {
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    Request {
        method: req.method().as_str().to_string(),
        target,
        version: 1,
        headers: req
            .headers()
            .iter()
            .filter_map(|(k, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (k.as_str().to_string(), v.trim().to_string()))
            })
            .collect(),
    }
}

/// Whether a request is an RFC 8441 WebSocket: extended CONNECT with `:protocol websocket`.
fn is_websocket(req: &http::Request<RecvStream>) -> bool {
    req.method() == http::Method::CONNECT
        && req
            .extensions()
            .get::<h2::ext::Protocol>()
            .is_some_and(|p| p.as_str().eq_ignore_ascii_case("websocket"))
}

/// The answer to a request that gets no WebSocket, or the scenario it opens.
fn admit(req: &http::Request<RecvStream>, head: &Request) -> Result<Scenario, PlainAnswer> {
    if !is_websocket(req) {
        return match *req.method() {
            http::Method::GET => match conn::route_request(&head.target, false) {
                Ok(_) => Err(PlainAnswer::new(
                    400,
                    "open a WebSocket here with an extended CONNECT (RFC 8441: :method CONNECT, \
                     :protocol websocket)\n"
                        .to_string(),
                )),
                Err(answer) => Err(answer),
            },
            http::Method::CONNECT => Err(PlainAnswer::new(
                400,
                "CONNECT needs :protocol websocket (RFC 8441); plain CONNECT tunnels are not \
                 served\n"
                    .to_string(),
            )),
            _ => Err(PlainAnswer::new(
                405,
                format!(
                    "method {} not allowed: open a WebSocket with an extended CONNECT\n",
                    crate::redact::escape_control(req.method().as_str())
                ),
            )),
        };
    }
    match head.header_values("sec-websocket-version").next() {
        Some("13") => {}
        Some(other) => {
            let mut a = PlainAnswer::new(
                426,
                format!(
                    "unsupported Sec-WebSocket-Version {:?}: this server speaks 13\n",
                    crate::redact::escape_control(other)
                ),
            );
            a.headers.push(("Sec-WebSocket-Version", "13".to_string()));
            return Err(a);
        }
        None => {
            return Err(PlainAnswer::new(
                400,
                "missing sec-websocket-version: 13 (RFC 8441 section 5)\n".to_string(),
            ));
        }
    }
    conn::route_request(&head.target, true)
}

/// Send a plain answer on a stream and end it.
fn answer(mut respond: SendResponse<Bytes>, a: &PlainAnswer) {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "text/plain; charset=utf-8");
    for (name, value) in &a.headers {
        builder = builder.header(*name, value.as_str());
    }
    let Ok(response) = builder.body(()) else {
        respond.send_reset(Reason::INTERNAL_ERROR);
        return;
    };
    match respond.send_response(response, a.body.is_empty()) {
        Ok(mut body) if !a.body.is_empty() => {
            let _ = body.send_data(Bytes::from(a.body.clone()), true);
        }
        Ok(_) => {}
        Err(e) => tracing::debug!(error = %e, "HTTP/2 answer not sent"),
    }
}

/// One stream: answer it, and when it is a WebSocket run its scenario to the end.
async fn serve_stream(
    req: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let head = request_of(&req);
    tracing::debug!(target = %crate::redact::escape_control(&head.target), "HTTP/2 request");
    let scenario = match admit(&req, &head) {
        Ok(s) => s,
        Err(a) => return answer(respond, &a),
    };
    if scenario == Scenario::Stall {
        // Never answer: hold the stream until the client resets it or the server stops.
        let reset = std::future::poll_fn(|cx| respond.poll_reset(cx));
        tokio::select! {
            _ = reset => {}
            () = shutting_down(&mut shutdown) => respond.send_reset(Reason::REFUSED_STREAM),
        }
        return;
    }
    let (ext_header, deflate) = match conn::negotiate(&head, &scenario) {
        Ok(agreed) => agreed,
        Err(a) => return answer(respond, &a),
    };
    let (fate, slot) = conn::decide_fate(&scenario, &shared);
    let mut builder = Response::builder().status(StatusCode::OK);
    if let Some(ext) = &ext_header {
        builder = builder.header("sec-websocket-extensions", ext.as_str());
    }
    let Ok(response) = builder.body(()) else {
        respond.send_reset(Reason::INTERNAL_ERROR);
        return;
    };
    let send = match respond.send_response(response, false) {
        Ok(send) => send,
        Err(e) => {
            tracing::debug!(error = %e, "HTTP/2 200 not sent");
            return;
        }
    };
    let io = H2Io::new(send, req.into_body());
    let result = conn::run_upgraded(io, Vec::new(), fate, deflate, &shared, &mut shutdown).await;
    drop(slot);
    if let Err(e) = result {
        tracing::debug!(error = %e, "HTTP/2 WebSocket stream ended with an error");
    }
}

/// When the pending fault fires, and which.
fn earliest(current: Option<(Instant, Fault)>, new: (Instant, Fault)) -> (Instant, Fault) {
    match current {
        Some(cur) if cur.0 <= new.0 => cur,
        _ => new,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_fault_fires() {
        let now = Instant::now();
        let later = now + Duration::from_secs(5);
        let goaway = (later, Fault::GoAway(0));
        let reset = (now, Fault::Reset);
        assert_eq!(earliest(None, goaway), goaway);
        assert_eq!(earliest(Some(goaway), reset), reset);
        assert_eq!(earliest(Some(reset), goaway), reset);
        assert_eq!(
            fault_of(&Scenario::H2Goaway {
                after: Duration::from_secs(1),
                code: 11
            }),
            Some((Duration::from_secs(1), Fault::GoAway(11)))
        );
        assert_eq!(fault_of(&Scenario::Echo), None);
    }
}
