//! WebSockets over HTTP/2 (RFC 8441): one HTTP/2 connection carries many sessions, each on its
//! own stream opened by an extended CONNECT (`:method CONNECT`, `:protocol websocket`).
//!
//! Here: the connection ([`connect`]: the HTTP/2 handshake on a TCP or TLS byte stream, a task
//! that drives it and records how it ended, the check of the server's SETTINGS), the stream
//! ([`open_stream`]: the request, the judgement of the answer, recorded like an HTTP/1.1
//! answer) and [`H2Stream`], the stream as a byte stream under the frame layer.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use h2::client::SendRequest;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use url::Url;

use crate::protocol::error::ErrorKind;
use crate::protocol::extensions::Extension;
use crate::protocol::handshake::{
    ConnectError, HandshakeInfo, RequestSpec, Timings, Transport, UpgradeOutcome, Verdict,
    build_request, check_agreement,
};
use crate::redact;

mod tap;

/// Which HTTP carries the WebSockets (`--transport`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportMode {
    /// HTTP/1.1 Upgrade, one TCP connection per session.
    #[default]
    H1,
    /// HTTP/2 extended CONNECT: TLS with ALPN `h2` over wss://, prior knowledge (h2c) over ws://.
    H2,
    /// wss://: what ALPN and the server's SETTINGS allow, else HTTP/1.1; ws://: HTTP/1.1.
    Auto,
}

impl TransportMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TransportMode::H1 => "h1",
            TransportMode::H2 => "h2",
            TransportMode::Auto => "auto",
        }
    }
}

impl std::str::FromStr for TransportMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "h1" => Ok(TransportMode::H1),
            "h2" => Ok(TransportMode::H2),
            "auto" => Ok(TransportMode::Auto),
            other => Err(format!(
                "unknown transport '{}' (h1, h2 or auto)",
                redact::escape_control(other)
            )),
        }
    }
}

/// The HTTP version that carried a session's WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proto {
    H1,
    H2,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::H1 => "h1",
            Proto::H2 => "h2",
        }
    }
}

/// Where a session's attempt runs: its transport, and over HTTP/2 its connection (`c3`) and
/// stream id. Exported on `connecting`, `handshake` and `open` when known; empty (nothing
/// exported) for the default HTTP/1.1 transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Link {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<Proto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<u32>,
}

impl Link {
    pub fn is_empty(&self) -> bool {
        *self == Link::default()
    }

    /// `c3`, the connection as shown and exported.
    pub fn connection_name(&self) -> Option<String> {
        self.connection.map(|c| format!("c{c}"))
    }
}

/// The name of an HTTP/2 error code (RFC 9113 section 7), as in GOAWAY and RST_STREAM.
pub fn error_name(code: u32) -> String {
    const NAMES: [&str; 14] = [
        "NO_ERROR",
        "PROTOCOL_ERROR",
        "INTERNAL_ERROR",
        "FLOW_CONTROL_ERROR",
        "SETTINGS_TIMEOUT",
        "STREAM_CLOSED",
        "FRAME_SIZE_ERROR",
        "REFUSED_STREAM",
        "CANCEL",
        "COMPRESSION_ERROR",
        "CONNECT_ERROR",
        "ENHANCE_YOUR_CALM",
        "INADEQUATE_SECURITY",
        "HTTP_1_1_REQUIRED",
    ];
    NAMES
        .get(code as usize)
        .map_or_else(|| format!("0x{code:x}"), |n| (*n).to_string())
}

/// The code of an HTTP/2 error name ([`error_name`] read back).
pub fn error_code(name: &str) -> Option<u32> {
    if let Some(hex) = name.strip_prefix("0x") {
        return u32::from_str_radix(hex, 16).ok();
    }
    (0..14).find(|c| error_name(*c) == name)
}

/// `connection goaway NO_ERROR`, `connection reset`: a connection cause in a few words.
pub fn loss_label(reason: LossReason, h2_error: Option<u32>) -> String {
    match h2_error {
        Some(code) => format!("connection {} {}", reason.as_str(), error_name(code)),
        None => format!("connection {}", reason.as_str()),
    }
}

/// Serde for an optional HTTP/2 error code as its RFC name (`"NO_ERROR"`, or `"0x42"`).
pub mod h2_error_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(code: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
        match code {
            Some(c) => s.serialize_str(&super::error_name(*c)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(name) => super::error_code(&name).map(Some).ok_or_else(|| {
                serde::de::Error::custom(format!("unknown HTTP/2 error code '{name}'"))
            }),
        }
    }
}

/// How a connection was lost, for every session on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossReason {
    /// The server sent GOAWAY.
    Goaway,
    /// The TCP connection was reset, or failed with another I/O error.
    Reset,
    /// The server closed the TCP connection without a GOAWAY.
    Eof,
    /// The server did not answer our PING in time.
    PingTimeout,
    /// The server broke the HTTP/2 protocol (our GOAWAY).
    Protocol,
    /// The server reset this session's stream (RST_STREAM): the connection itself lives on.
    RstStream,
}

impl LossReason {
    pub fn as_str(self) -> &'static str {
        match self {
            LossReason::Goaway => "goaway",
            LossReason::Reset => "reset",
            LossReason::Eof => "eof",
            LossReason::PingTimeout => "ping_timeout",
            LossReason::Protocol => "protocol",
            LossReason::RstStream => "rst_stream",
        }
    }
}

/// A lost connection: why, and the HTTP/2 error code when a frame carried one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loss {
    pub reason: LossReason,
    pub h2_error: Option<u32>,
}

/// What a connection's sessions share: its id, its open streams and how it ended.
#[derive(Debug)]
pub struct ConnShared {
    /// `c1`, `c2` ... in the order connections were opened.
    pub id: u32,
    /// Streams handed out and not yet dropped.
    pub active: AtomicUsize,
    dead: AtomicBool,
    loss: Mutex<Option<Loss>>,
    /// Drops the connection (a PING timeout): every stream on it fails.
    abort: tokio::sync::Notify,
    /// The server's GOAWAY: (last stream id, error code).
    goaway: Mutex<Option<(u32, u32)>>,
}

impl ConnShared {
    pub fn new(id: u32) -> Self {
        ConnShared {
            id,
            active: AtomicUsize::new(0),
            dead: AtomicBool::new(false),
            loss: Mutex::new(None),
            abort: tokio::sync::Notify::new(),
            goaway: Mutex::new(None),
        }
    }

    /// The connection no longer takes streams (it ended, or the server sent GOAWAY).
    pub fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    /// How the connection was lost, once it was.
    pub fn loss(&self) -> Option<Loss> {
        self.loss.lock().ok().and_then(|l| *l)
    }

    /// The server's GOAWAY, once it came: (last stream id, error code).
    pub fn goaway(&self) -> Option<(u32, u32)> {
        self.goaway.lock().ok().and_then(|g| *g)
    }

    /// A GOAWAY arrived: no new stream goes here; streams after `last` were refused.
    fn saw_goaway(&self, last: u32, code: u32) {
        if let Ok(mut g) = self.goaway.lock() {
            g.get_or_insert((last, code));
        }
        self.dead.store(true, Ordering::Release);
    }

    /// What ended the connection's streams: the server's GOAWAY when it sent one (the TCP close
    /// that follows it is its consequence), else `loss`.
    fn explain(&self, loss: Loss) -> Loss {
        match (self.goaway(), loss.reason) {
            (Some((_, code)), r) if r != LossReason::RstStream => Loss {
                reason: LossReason::Goaway,
                h2_error: Some(code),
            },
            _ => loss,
        }
    }

    /// Record the loss (the first one counts) and stop handing out streams.
    pub fn set_lost(&self, loss: Loss) {
        let loss = self.explain(loss);
        if let Ok(mut l) = self.loss.lock() {
            l.get_or_insert(loss);
        }
        self.dead.store(true, Ordering::Release);
    }

    fn end(&self) {
        self.dead.store(true, Ordering::Release);
    }
}

/// A place for one stream on a connection, taken before the stream is opened so that sessions
/// opening at once do not all pick the same connection; given back when dropped.
#[derive(Debug)]
pub struct Lease(Arc<ConnShared>);

impl Lease {
    pub fn new(conn: &Arc<ConnShared>) -> Self {
        conn.active.fetch_add(1, Ordering::AcqRel);
        Lease(conn.clone())
    }

    pub fn connection(&self) -> &Arc<ConnShared> {
        &self.0
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The loss an HTTP/2 error means, if it is a connection-level one.
pub fn loss_of(e: &h2::Error) -> Option<Loss> {
    let code = e.reason().map(u32::from);
    if e.is_go_away() {
        let reason = if e.is_remote() {
            LossReason::Goaway
        } else {
            LossReason::Protocol
        };
        return Some(Loss {
            reason,
            h2_error: code,
        });
    }
    if e.is_io() {
        let eof = e
            .get_io()
            .is_some_and(|io| io.kind() == io::ErrorKind::UnexpectedEof);
        let reason = if eof {
            LossReason::Eof
        } else {
            LossReason::Reset
        };
        return Some(Loss {
            reason,
            h2_error: None,
        });
    }
    None
}

/// A connection ready for streams.
pub struct Connection {
    pub send: SendRequest<Bytes>,
    pub shared: Arc<ConnShared>,
    /// The server's SETTINGS_ENABLE_CONNECT_PROTOCOL.
    pub extended_connect: bool,
    /// The server's SETTINGS_MAX_CONCURRENT_STREAMS (h2's default of 100 when it sent none).
    pub max_streams: usize,
}

/// How long the server's SETTINGS may take after the preface.
const SETTINGS_WAIT: Duration = Duration::from_secs(10);

/// The HTTP/2 handshake on `transport`, then a task that drives the connection and records how
/// it ends. Returns once the server's SETTINGS are known: a PING is answered only after the
/// server's first frame, its SETTINGS (RFC 9113 section 3.4), which h2 applies before reading on.
/// With `keepalive`, a PING goes out that often; one unanswered for as long drops the connection
/// (`ping_timeout`).
pub async fn connect(
    transport: Transport,
    id: u32,
    keepalive: Option<Duration>,
) -> Result<Connection, ConnectError> {
    let io_err = |what: &str, e: h2::Error| {
        ConnectError::new(
            ErrorKind::Io,
            format!("HTTP/2 {what}: {e}"),
            Timings::default(),
        )
    };
    let shared = Arc::new(ConnShared::new(id));
    let (send, mut conn) = h2::client::Builder::new()
        .enable_push(false)
        .handshake::<_, Bytes>(tap::Tap::new(transport, shared.clone()))
        .await
        .map_err(|e| io_err("handshake", e))?;
    let mut ping = conn.ping_pong();
    let watch = shared.clone();
    tokio::spawn(async move {
        tokio::select! {
            r = &mut conn => match r {
                Ok(()) => watch.end(),
                Err(e) => watch.set_lost(loss_of(&e).unwrap_or(Loss {
                    reason: LossReason::Protocol,
                    h2_error: e.reason().map(u32::from),
                })),
            },
            // Dropping the connection fails every stream on it.
            _ = watch.abort.notified() => watch.end(),
        }
    });
    if let Some(p) = ping.as_mut() {
        match tokio::time::timeout(SETTINGS_WAIT, p.ping(h2::Ping::opaque())).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(io_err("connection preface", e)),
            Err(_) => {
                return Err(ConnectError::new(
                    ErrorKind::Timeout,
                    "the server sent no HTTP/2 SETTINGS within 10 s",
                    Timings::default(),
                ));
            }
        }
    }
    if let (Some(every), Some(p)) = (keepalive, ping) {
        tokio::spawn(keep_alive(p, shared.clone(), every));
    }
    let mut send = send;
    let ready = std::future::poll_fn(|cx| send.poll_ready(cx)).await;
    ready.map_err(|e| io_err("connection", e))?;
    Ok(Connection {
        extended_connect: send.is_extended_connect_protocol_enabled(),
        max_streams: send.current_max_send_streams(),
        send,
        shared,
    })
}

/// PING every `every`; a PING unanswered for `every` loses the connection.
async fn keep_alive(mut ping: h2::PingPong, conn: Arc<ConnShared>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if conn.is_dead() {
            return;
        }
        match tokio::time::timeout(every, ping.ping(h2::Ping::opaque())).await {
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                conn.set_lost(Loss {
                    reason: LossReason::PingTimeout,
                    h2_error: None,
                });
                conn.abort.notify_one();
                return;
            }
        }
    }
}

/// The recorded answer of a server whose SETTINGS do not enable extended CONNECT.
pub fn no_extended_connect(url: &Url, spec: &RequestSpec, timings: Timings) -> ConnectError {
    let msg = "the server's HTTP/2 SETTINGS do not enable extended CONNECT \
               (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441): it cannot carry WebSockets over HTTP/2"
        .to_string();
    let info = HandshakeInfo {
        status_line: "HTTP/2 SETTINGS without SETTINGS_ENABLE_CONNECT_PROTOCOL".into(),
        request_headers: request_headers(url, spec)
            .map(|(_, h)| h)
            .unwrap_or_default(),
        offered: spec.offers.clone(),
        required: spec.required.iter().map(Extension::new).collect(),
        timings_ms: timings,
        invalid: Some(msg.clone()),
        ..HandshakeInfo::default()
    };
    ConnectError {
        info: Some(Box::new(info)),
        ..ConnectError::new(ErrorKind::Handshake, msg, timings)
    }
}

/// Header pairs in order.
type Headers = Vec<(String, String)>;

/// The request's pseudo-headers and headers as recorded (in order), and the request itself.
fn request_headers(url: &Url, spec: &RequestSpec) -> Result<(http::Request<()>, Headers), String> {
    // The HTTP/1.1 request's headers, less those RFC 8441 section 5 replaces.
    let (_, h1) = build_request(url, spec, "").map_err(|e| e.to_string())?;
    let scheme = if url.scheme() == "wss" {
        "https"
    } else {
        "http"
    };
    let authority = h1
        .iter()
        .find(|(k, _)| k == "Host")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let mut path = url.path().to_string();
    if path.is_empty() {
        path.push('/');
    }
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let mut recorded = vec![
        (":method".to_string(), "CONNECT".to_string()),
        (":protocol".to_string(), "websocket".to_string()),
        (":scheme".to_string(), scheme.to_string()),
        (":path".to_string(), path.clone()),
        (":authority".to_string(), authority.clone()),
    ];
    let mut req = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri(format!("{scheme}://{authority}{path}"));
    for (k, v) in h1 {
        let skip = ["host", "upgrade", "connection", "sec-websocket-key"];
        if skip.iter().any(|s| k.eq_ignore_ascii_case(s)) {
            continue;
        }
        let k = k.to_ascii_lowercase();
        req = req.header(k.as_str(), v.as_str());
        recorded.push((k, v));
    }
    let mut req = req.body(()).map_err(|e| e.to_string())?;
    req.extensions_mut()
        .insert(h2::ext::Protocol::from_static("websocket"));
    Ok((req, recorded))
}

/// Open a session's stream: send the extended CONNECT and judge the answer. A `200` with a
/// valid WebSocket answer opens it; any other status is a recorded refusal, as in HTTP/1.1.
/// `timings.upgrade` gets the time to the answer.
pub async fn open_stream(
    send: &SendRequest<Bytes>,
    lease: Lease,
    url: &Url,
    spec: &RequestSpec,
    mut timings: Timings,
) -> Result<UpgradeOutcome, ConnectError> {
    let (req, recorded) = request_headers(url, spec).map_err(|e| {
        ConnectError::new(
            ErrorKind::Handshake,
            format!("refusing to send the extended CONNECT request: {e}"),
            timings,
        )
    })?;
    let t0 = Instant::now();
    let stream_err = |e: h2::Error, t: Timings| {
        ConnectError::new(
            ErrorKind::Io,
            format!("HTTP/2 stream for the extended CONNECT: {e}"),
            t,
        )
    };
    let mut send = send.clone();
    std::future::poll_fn(|cx| send.poll_ready(cx))
        .await
        .map_err(|e| stream_err(e, timings))?;
    let (answer, send_stream) = send
        .send_request(req, false)
        .map_err(|e| stream_err(e, timings))?;
    let stream_id = send_stream.stream_id().as_u32();
    let response = answer.await;
    timings.upgrade = Some(super::ms(t0.elapsed()));
    let response = response.map_err(|e| stream_err(e, timings))?;
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut info = HandshakeInfo {
        link: Link {
            transport: Some(Proto::H2),
            connection: Some(lease.connection().id),
            stream: Some(stream_id),
        },
        status,
        status_line: format!("HTTP/2 {status}"),
        request_headers: redact_recorded(&recorded),
        response_headers: super::record_response_headers(&headers),
        offered: spec.offers.clone(),
        required: spec.required.iter().map(Extension::new).collect(),
        timings_ms: timings,
        ..HandshakeInfo::default()
    };
    let mut recv = response.into_body();
    if status != 200 {
        info.body = Some(read_body(&mut recv).await);
        return Ok(UpgradeOutcome::Rejected { info });
    }
    let stream = H2Stream {
        send: send_stream,
        recv,
        buf: Bytes::new(),
        lease,
        id: stream_id,
        failed: Arc::default(),
    };
    let transport = Transport::H2(Box::new(stream));
    Ok(match check_agreement(info, &headers, spec, timings)? {
        Verdict::Upgraded { info, agreement } => UpgradeOutcome::Upgraded {
            transport,
            leftover: Vec::new(),
            info,
            agreement,
        },
        Verdict::BadExtensions { info, problems } => UpgradeOutcome::BadExtensions {
            transport,
            info,
            problems,
        },
        Verdict::Rejected { info } => UpgradeOutcome::Rejected { info },
    })
}

fn redact_recorded(h: &[(String, String)]) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| (k.clone(), redact::header_value(k, v).into_owned()))
        .collect()
}

/// Up to 4 KiB of a refusal's body, waiting briefly.
async fn read_body(recv: &mut h2::RecvStream) -> String {
    let mut body = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
    while body.len() < 4096 {
        match tokio::time::timeout_at(deadline, recv.data()).await {
            Ok(Some(Ok(b))) => {
                let _ = recv.flow_control().release_capacity(b.len());
                body.extend_from_slice(&b);
            }
            _ => break,
        }
    }
    body.truncate(4096);
    redact::escape_control(String::from_utf8_lossy(&body).trim_end())
}

/// One session's stream as a byte stream: reads release flow-control capacity as the frame
/// layer takes the bytes, writes wait for the peer's window. Dropping it resets the stream
/// (CANCEL) unless it was shut down, and frees its place on the connection.
pub struct H2Stream {
    send: h2::SendStream<Bytes>,
    recv: h2::RecvStream,
    buf: Bytes,
    lease: Lease,
    id: u32,
    /// How the stream failed, for the session to read after the frame layer gave up.
    failed: Arc<Mutex<Option<Loss>>>,
}

impl H2Stream {
    /// Where the stream's failure is recorded (a RST_STREAM, a GOAWAY that refused it).
    pub fn failure(&self) -> Arc<Mutex<Option<Loss>>> {
        self.failed.clone()
    }

    fn fail(&self, e: h2::Error) -> io::Error {
        let loss = if e.is_reset() {
            Some(Loss {
                reason: LossReason::RstStream,
                h2_error: e.reason().map(u32::from),
            })
        } else {
            loss_of(&e)
        };
        let loss = loss.map(|l| self.connection().explain(l));
        if let (Some(loss), Ok(mut slot)) = (loss, self.failed.lock()) {
            slot.get_or_insert(loss);
        }
        to_io(e)
    }

    /// The connection it runs on.
    pub fn connection(&self) -> &Arc<ConnShared> {
        self.lease.connection()
    }

    /// Its stream id.
    pub fn stream_id(&self) -> u32 {
        self.id
    }
}

/// An h2 error as an I/O error the frame layer passes on; the h2 error stays inside.
fn to_io(e: h2::Error) -> io::Error {
    if e.is_io() {
        return e
            .into_io()
            .unwrap_or_else(|| io::Error::other("HTTP/2 I/O"));
    }
    let kind = if e.is_reset() || e.is_go_away() {
        io::ErrorKind::ConnectionReset
    } else {
        io::ErrorKind::Other
    };
    io::Error::new(kind, e)
}

impl AsyncRead for H2Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.buf.is_empty() {
            match ready!(this.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    let _ = this.recv.flow_control().release_capacity(data.len());
                    this.buf = data;
                }
                None => return Poll::Ready(Ok(())),
                Some(Err(e)) => return Poll::Ready(Err(this.fail(e))),
            }
        }
        let n = this.buf.len().min(out.remaining());
        out.put_slice(&this.buf[..n]);
        this.buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for H2Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        this.send.reserve_capacity(buf.len());
        loop {
            match ready!(this.send.poll_capacity(cx)) {
                Some(Ok(0)) => continue,
                Some(Ok(n)) => {
                    let n = n.min(buf.len());
                    if let Err(e) = this
                        .send
                        .send_data(Bytes::copy_from_slice(&buf[..n]), false)
                    {
                        return Poll::Ready(Err(this.fail(e)));
                    }
                    return Poll::Ready(Ok(n));
                }
                Some(Err(e)) => return Poll::Ready(Err(this.fail(e))),
                None => {
                    return Poll::Ready(match ready!(this.send.poll_reset(cx)) {
                        Ok(reason) => Err(this.fail(h2::Error::from(reason))),
                        Err(e) => Err(this.fail(e)),
                    });
                }
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // The connection's task writes what h2 queued.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // END_STREAM; a stream already reset has nothing left to end.
        let _ = this.send.send_data(Bytes::new(), true);
        Poll::Ready(Ok(()))
    }
}

/// The RST_STREAM or GOAWAY code inside an I/O error from [`H2Stream`], if any.
pub fn h2_reason(e: &io::Error) -> Option<(bool, u32)> {
    let inner = e.get_ref()?.downcast_ref::<h2::Error>()?;
    Some((inner.is_go_away(), u32::from(inner.reason()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_have_their_rfc_names_and_read_back() {
        assert_eq!(error_name(0), "NO_ERROR");
        assert_eq!(error_name(8), "CANCEL");
        assert_eq!(error_name(13), "HTTP_1_1_REQUIRED");
        assert_eq!(error_name(0x42), "0x42");
        for c in [0, 7, 11, 0x42] {
            assert_eq!(error_code(&error_name(c)), Some(c));
        }
        assert_eq!(error_code("NOPE"), None);
    }

    #[test]
    fn the_connect_request_carries_rfc_8441_pseudo_headers_and_no_key() {
        let url = Url::parse("wss://user:pw@example.test:8443/chat?room=1").expect("url");
        let spec = RequestSpec {
            subprotocols: vec!["chat".into()],
            offers: crate::protocol::extensions::parse_header("permessage-deflate").expect("offer"),
            ..RequestSpec::default()
        };
        let (req, rec) = request_headers(&url, &spec).expect("request");
        assert_eq!(req.method(), http::Method::CONNECT);
        assert_eq!(
            req.uri().to_string(),
            "https://example.test:8443/chat?room=1"
        );
        let names: Vec<&str> = rec.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                ":method",
                ":protocol",
                ":scheme",
                ":path",
                ":authority",
                "sec-websocket-version",
                "user-agent",
                "sec-websocket-extensions",
                "sec-websocket-protocol",
                "authorization"
            ]
        );
        let redacted = redact_recorded(&rec);
        let auth = &redacted[redacted.len() - 1].1;
        assert!(!auth.contains("dXNlcjpwdw"), "{auth}");
        assert!(req.extensions().get::<h2::ext::Protocol>().is_some());
    }

    #[test]
    fn modes_parse_and_refuse_unknown_ones() {
        assert_eq!("h2".parse::<TransportMode>(), Ok(TransportMode::H2));
        assert_eq!("auto".parse::<TransportMode>(), Ok(TransportMode::Auto));
        let e = "h3".parse::<TransportMode>().expect_err("unknown");
        assert!(e.contains("h1, h2 or auto"), "{e}");
    }
}
