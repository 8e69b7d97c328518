//! The client side of the HTTP/1.1 upgrade (RFC 6455 section 4), done by hand so that every
//! header, status, body and phase timing of every attempt can be captured. After a 101 the
//! socket and any bytes read past the headers go to the frame layer and tokio-tungstenite.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use url::Url;

use crate::protocol::error::ErrorKind;
use crate::protocol::extensions::{self, Agreement, Extension};
use crate::protocol::proxy::{self, ProxyError, ProxyUrl};
use crate::redact;

mod record;
mod retry_after;

pub use record::{HandshakeInfo, Timings};
pub use retry_after::{RetryAfterError, parse_retry_after};

/// Largest response head we accept (status line + headers).
const MAX_HEAD: usize = 16 * 1024;
/// How much of a non-101 body we keep.
const MAX_BODY: usize = 4 * 1024;
/// How long we wait for a non-101 body after the headers.
const BODY_WAIT: Duration = Duration::from_millis(500);

/// A TCP or TLS byte stream.
pub enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// What a request needs besides the URL.
#[derive(Debug, Clone, Default)]
pub struct RequestSpec {
    pub headers: Vec<(String, String)>,
    pub subprotocols: Vec<String>,
    pub offers: Vec<Extension>,
    pub required: Vec<String>,
}

/// A failed phase, with what was captured up to then.
#[derive(Debug)]
pub struct ConnectError {
    pub kind: ErrorKind,
    pub message: String,
    pub timings: Timings,
    /// For a proxy failure: the proxy's status and whether retrying may help.
    pub proxy: Option<proxy::Refusal>,
    /// The answer as far as it could be read, when one (or part of one) arrived but was not a
    /// valid upgrade answer: record it before the error.
    pub info: Option<Box<HandshakeInfo>>,
    /// A TLS failure the server decided (it sent an alert), not one wsmon decided (a refused
    /// certificate): who ended the attempt.
    pub tls_alert_from_peer: bool,
}

impl ConnectError {
    fn new(kind: ErrorKind, message: impl Into<String>, timings: Timings) -> Self {
        ConnectError {
            kind,
            message: message.into(),
            timings,
            proxy: None,
            info: None,
            tls_alert_from_peer: false,
        }
    }

    fn proxy(e: &ProxyError, timings: Timings) -> Self {
        ConnectError {
            kind: ErrorKind::Proxy,
            message: e.to_string(),
            timings,
            proxy: Some(e.refusal()),
            info: None,
            tls_alert_from_peer: false,
        }
    }
}

/// Result of the upgrade exchange.
pub enum UpgradeOutcome {
    /// 101 and a valid WebSocket answer. `agreement.missing` lists required extensions the
    /// server did not accept (the caller closes with 1010).
    Upgraded {
        transport: Transport,
        leftover: Vec<u8>,
        info: HandshakeInfo,
        agreement: Agreement,
    },
    /// 101, but the extension answer is invalid: fail the connection with 1002.
    BadExtensions {
        transport: Transport,
        info: HandshakeInfo,
        problems: Vec<String>,
    },
    /// Any other status: a recorded outcome, not an error.
    Rejected { info: HandshakeInfo },
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// How to reach the target: straight, or through a proxy; from any source address or a given one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Route<'a> {
    pub proxy: Option<&'a ProxyUrl>,
    /// Bind to this address (port 0) before connecting.
    pub local: Option<IpAddr>,
}

/// Resolve, connect and (for wss) run TLS. Fills `timings` as phases complete, so a timeout
/// still shows the phases that finished.
pub async fn open_transport(
    url: &Url,
    tls: Option<&TlsConnector>,
    timings: &mut Timings,
) -> Result<Transport, ConnectError> {
    open_transport_via(url, tls, timings, Route::default()).await
}

/// [`open_transport`] along `route`: with a proxy, DNS and connect are the proxy's, then the
/// tunnel (`timings.proxy`), then TLS to the target over the tunnel for wss://.
pub async fn open_transport_via(
    url: &Url,
    tls: Option<&TlsConnector>,
    timings: &mut Timings,
    route: Route<'_>,
) -> Result<Transport, ConnectError> {
    let host = url
        .host_str()
        .ok_or_else(|| ConnectError::new(ErrorKind::Url, "URL has no host", *timings))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| ConnectError::new(ErrorKind::Url, "URL has no port", *timings))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');

    let (dial_host, dial_port) = match route.proxy {
        Some(p) => (p.host.as_str(), p.port),
        None => (bare, port),
    };
    let t0 = Instant::now();
    let addrs: Vec<SocketAddr> = match dial_host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, dial_port)],
        Err(_) => {
            let found = tokio::net::lookup_host((dial_host, dial_port))
                .await
                .map_err(|e| {
                    ConnectError::new(
                        crate::protocol::error::io_kind(&e, ErrorKind::Dns),
                        format!("cannot resolve {dial_host}: {e}"),
                        *timings,
                    )
                })?
                .collect::<Vec<_>>();
            timings.dns = Some(ms(t0.elapsed()));
            if found.is_empty() {
                return Err(ConnectError::new(
                    ErrorKind::Dns,
                    format!("{dial_host} has no addresses"),
                    *timings,
                ));
            }
            found
        }
    };

    let t1 = Instant::now();
    let mut last_err = None;
    let mut tcp = None;
    for addr in &addrs {
        match connect_from(*addr, route.local).await {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last_err = Some(e),
        }
    }
    let tcp = match (tcp, route.proxy) {
        (Some(s), _) => s,
        (None, Some(p)) => {
            let message = last_err.map_or_else(|| "no address to connect to".into(), |(_, m)| m);
            let e = ProxyError::Connect {
                proxy: p.redacted(),
                source: io::Error::other(message),
            };
            return Err(ConnectError::proxy(&e, *timings));
        }
        (None, None) => {
            let (kind, message) =
                last_err.unwrap_or_else(|| (ErrorKind::Connect, "no address to connect to".into()));
            return Err(ConnectError::new(kind, message, *timings));
        }
    };
    timings.connect = Some(ms(t1.elapsed()));
    let _ = tcp.set_nodelay(true);

    let tcp = match route.proxy {
        None => tcp,
        Some(p) => {
            let tunnel = proxy::tunnel(tcp, p, bare, port)
                .await
                .map_err(|e| ConnectError::proxy(&e, *timings))?;
            timings.proxy = Some(tunnel.timing.tunnel);
            tunnel.stream
        }
    };

    if url.scheme() != "wss" {
        return Ok(Transport::Plain(tcp));
    }
    let connector = tls.ok_or_else(|| {
        ConnectError::new(ErrorKind::Tls, "wss:// needs a TLS configuration", *timings)
    })?;
    let name = rustls::pki_types::ServerName::try_from(bare.to_string()).map_err(|e| {
        ConnectError::new(
            ErrorKind::Tls,
            format!("invalid TLS server name {bare}: {e}"),
            *timings,
        )
    })?;
    let t2 = Instant::now();
    let stream = connector.connect(name, tcp).await.map_err(|e| {
        // A refused certificate or TLS setup (a rustls error) fails every attempt the same way;
        // a reset or an early end of stream during the handshake is a network problem.
        let tls = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        let (kind, what) = if tls.is_some() {
            (ErrorKind::Tls, "failed")
        } else {
            (ErrorKind::Io, "was interrupted")
        };
        ConnectError {
            tls_alert_from_peer: matches!(tls, Some(rustls::Error::AlertReceived(_))),
            ..ConnectError::new(
                kind,
                // rustls quotes the certificate's names, which the peer chose: escaped.
                redact::escape_control(&format!("TLS handshake with {bare} {what}: {e}")),
                *timings,
            )
        }
    })?;
    timings.tls = Some(ms(t2.elapsed()));
    Ok(Transport::Tls(Box::new(stream)))
}

/// TCP connect to `addr`, bound to `local` first when given.
async fn connect_from(
    addr: SocketAddr,
    local: Option<IpAddr>,
) -> Result<TcpStream, (ErrorKind, String)> {
    // Out of file descriptors is `resource`, not a network failure.
    let fail = |e: io::Error, what: String| {
        (
            crate::protocol::error::io_kind(&e, ErrorKind::Connect),
            format!("{what}: {e}"),
        )
    };
    let Some(local) = local else {
        return TcpStream::connect(addr)
            .await
            .map_err(|e| fail(e, format!("connect to {addr}")));
    };
    let socket = match (local, addr) {
        (IpAddr::V4(_), SocketAddr::V4(_)) => tokio::net::TcpSocket::new_v4(),
        (IpAddr::V6(_), SocketAddr::V6(_)) => tokio::net::TcpSocket::new_v6(),
        _ => {
            return Err((
                ErrorKind::Connect,
                format!("local address {local} cannot reach {addr}"),
            ));
        }
    }
    .map_err(|e| fail(e, format!("socket for {addr}")))?;
    socket
        .bind(SocketAddr::new(local, 0))
        .map_err(|e| fail(e, format!("bind to {local}")))?;
    socket
        .connect(addr)
        .await
        .map_err(|e| fail(e, format!("connect to {addr} from {local}")))
}

/// A request value that must not be sent. Quoted values have their control characters escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error(
        "subprotocol '{0}' is not an RFC 6455 token (letters, digits and !#$%&'*+-.^_`|~ only, no spaces, commas or control characters)"
    )]
    Subprotocol(String),
    #[error("header name '{0}' is not an HTTP token")]
    HeaderName(String),
    #[error(
        "header '{name}' has the control character {found} in its value (only horizontal tab is allowed)"
    )]
    HeaderValue { name: String, found: String },
}

/// A `Sec-WebSocket-Protocol` value must be a token (RFC 6455 section 4.1).
pub fn validate_subprotocol(p: &str) -> Result<(), RequestError> {
    if extensions::is_token(p) {
        Ok(())
    } else {
        Err(RequestError::Subprotocol(redact::escape_control(p)))
    }
}

/// A header name must be a token (RFC 9110 section 5.1).
pub fn validate_header_name(name: &str) -> Result<(), RequestError> {
    if extensions::is_token(name) {
        Ok(())
    } else {
        Err(RequestError::HeaderName(redact::escape_control(name)))
    }
}

/// A header value may hold no control character but horizontal tab (RFC 9110 section 5.5:
/// CR, LF and NUL would split or end the header; the others reach the peer's logs raw).
pub fn validate_header_value(name: &str, value: &str) -> Result<(), RequestError> {
    match value.chars().find(|&c| c != '\t' && c.is_control()) {
        None => Ok(()),
        Some(c) => Err(RequestError::HeaderValue {
            name: redact::escape_control(name),
            found: redact::escape_control(&c.to_string()),
        }),
    }
}

/// The request as sent: (request line, headers in order). Credentials in the URL become a Basic
/// Authorization header (as curl and most clients do). Refuses any subprotocol that is not a
/// token and any header with a control character, whatever the caller checked before.
pub fn build_request(
    url: &Url,
    spec: &RequestSpec,
    key: &str,
) -> Result<(String, Vec<(String, String)>), RequestError> {
    for p in &spec.subprotocols {
        validate_subprotocol(p)?;
    }
    let mut target = url.path().to_string();
    if target.is_empty() {
        target.push('/');
    }
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let host = url.host_str().unwrap_or_default();
    let host_header = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    let mut headers = vec![
        ("Host".to_string(), host_header),
        ("Upgrade".to_string(), "websocket".to_string()),
        ("Connection".to_string(), "Upgrade".to_string()),
        ("Sec-WebSocket-Key".to_string(), key.to_string()),
        ("Sec-WebSocket-Version".to_string(), "13".to_string()),
        (
            "User-Agent".to_string(),
            concat!("wsmon/", env!("CARGO_PKG_VERSION")).to_string(),
        ),
    ];
    if !spec.offers.is_empty() {
        headers.push((
            "Sec-WebSocket-Extensions".to_string(),
            extensions::format_header(&spec.offers),
        ));
    }
    if !spec.subprotocols.is_empty() {
        headers.push((
            "Sec-WebSocket-Protocol".to_string(),
            spec.subprotocols.join(", "),
        ));
    }
    if !url.username().is_empty()
        && !spec
            .headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    {
        let user = percent_decode(url.username());
        let pass = url.password().map(percent_decode).unwrap_or_default();
        let token = data_encoding::BASE64.encode(format!("{user}:{pass}").as_bytes());
        headers.push(("Authorization".to_string(), format!("Basic {token}")));
    }
    headers.extend(spec.headers.iter().cloned());
    for (k, v) in &headers {
        validate_header_name(k)?;
        validate_header_value(k, v)?;
    }
    let line = format!("GET {target} HTTP/1.1");
    validate_header_value("request line", &line)?;
    Ok((line, headers))
}

/// The request's bytes on the wire.
fn encode_request(line: &str, headers: &[(String, String)]) -> String {
    let mut req = String::with_capacity(512);
    req.push_str(line);
    req.push_str("\r\n");
    for (k, v) in headers {
        req.push_str(k);
        req.push_str(": ");
        req.push_str(v);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");
    req
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Request headers as they may be recorded: values exactly as sent (they hold no control
/// character), secrets redacted.
fn redact_headers(h: &[(String, String)]) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| (k.clone(), redact::header_value(k, v).to_string()))
        .collect()
}

/// Response headers as they may be recorded: secrets redacted, and what HTTP lets through that a
/// terminal would act on (tab, C1 controls decoded from obs-text bytes) escaped.
fn record_response_headers(h: &[(String, String)]) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                redact::escape_control(&redact::header_value(k, v)),
            )
        })
        .collect()
}

/// How many bytes of an unparsable answer are quoted in the error.
const QUOTE_BYTES: usize = 48;

/// A response head: the status line and the header lines that parsed. When the head as a
/// whole is not valid HTTP, `bad_header` names the first header line that was not, and
/// `malformed` says what was wrong.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Head {
    /// 0 when no status line could be read.
    pub status: u16,
    /// Control characters escaped; empty when there was no status line.
    pub status_line: String,
    pub headers: Vec<(String, String)>,
    pub bad_header: Option<String>,
    pub malformed: Option<String>,
}

/// A header value byte that HTTP allows (RFC 9110 section 5.5: VCHAR, obs-text, SP, HTAB).
fn is_value_byte(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// Parse a response head (`head` ends at the blank line, or is what arrived when it never
/// did). Never fails: a head httparse refuses is read line by line for what can be kept.
pub(crate) fn parse_head(head: &[u8]) -> Head {
    let mut raw_headers = [httparse::EMPTY_HEADER; 96];
    let mut resp = httparse::Response::new(&mut raw_headers);
    let problem = match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {
            let status = resp.code.unwrap_or(0);
            let reason = redact::escape_control(resp.reason.unwrap_or(""));
            let version = resp.version.unwrap_or(1);
            return Head {
                status,
                status_line: format!("HTTP/1.{version} {status} {reason}")
                    .trim_end()
                    .to_string(),
                headers: resp
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect(),
                bad_header: None,
                malformed: None,
            };
        }
        Ok(httparse::Status::Partial) => "incomplete HTTP answer to the upgrade".to_string(),
        Err(e) => format!("malformed HTTP answer to the upgrade ({e})"),
    };
    salvage(head, problem)
}

/// Read what can be read of a head that is not valid HTTP: the status line if there is one,
/// the well-formed header lines, and the name of the first bad one.
fn salvage(head: &[u8], problem: String) -> Head {
    let mut out = Head::default();
    // Only complete lines: the last one may have been cut.
    let complete = head.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let mut lines = head[..complete]
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    let status = parse_status_line(first);
    match status {
        Some(code) => {
            out.status = code;
            out.status_line = redact::escape_bytes(&first[..first.len().min(200)]);
            for line in lines {
                if line.is_empty() {
                    break;
                }
                let good = line.iter().position(|&b| b == b':').and_then(|colon| {
                    let name = std::str::from_utf8(&line[..colon]).ok()?;
                    let value = line[colon + 1..].trim_ascii();
                    (extensions::is_token(name) && value.iter().copied().all(is_value_byte)).then(
                        || {
                            (
                                name.to_string(),
                                String::from_utf8_lossy(value).into_owned(),
                            )
                        },
                    )
                });
                match good {
                    Some(h) => out.headers.push(h),
                    None if out.bad_header.is_none() => {
                        let name = match line.iter().position(|&b| b == b':') {
                            Some(colon) => &line[..colon],
                            None => line,
                        };
                        out.bad_header = Some(redact::escape_bytes(&name[..name.len().min(80)]));
                    }
                    None => {}
                }
            }
            out.malformed = Some(match &out.bad_header {
                Some(name) => format!("{problem}: header '{name}' is not valid"),
                None => problem,
            });
        }
        None => {
            let shown = &head[..head.len().min(QUOTE_BYTES)];
            out.malformed = Some(format!(
                "{problem}: the answer does not start with an HTTP status line; it starts with \"{}\"{}",
                redact::escape_bytes(shown),
                if head.len() > QUOTE_BYTES { "..." } else { "" }
            ));
        }
    }
    out
}

/// The status code of an `HTTP/1.x NNN reason` line.
fn parse_status_line(line: &[u8]) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/1.")?;
    let (&minor, rest) = rest.split_first()?;
    if !minor.is_ascii_digit() {
        return None;
    }
    let rest = rest.strip_prefix(b" ")?;
    let code = rest.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) || rest.get(3).is_some_and(|&b| b != b' ') {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

/// What a complete answer head means, before any body is read.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// A valid 101 with a valid extension answer.
    Upgraded {
        info: HandshakeInfo,
        agreement: Agreement,
    },
    /// A valid 101 whose extension answer breaks the rules.
    BadExtensions {
        info: HandshakeInfo,
        problems: Vec<String>,
    },
    /// Any other status (a body may follow).
    Rejected { info: HandshakeInfo },
}

/// Judge an answer head against the request (RFC 6455 section 4.1). `head` is the response head
/// up to and including the blank line; `request_headers` are the headers as sent. Pure.
pub(crate) fn judge_answer(
    head: &[u8],
    key: &str,
    spec: &RequestSpec,
    request_headers: &[(String, String)],
    timings: Timings,
) -> Result<Verdict, ConnectError> {
    let parsed = parse_head(head);
    let mut info = HandshakeInfo {
        status: parsed.status,
        status_line: parsed.status_line,
        request_headers: redact_headers(request_headers),
        response_headers: record_response_headers(&parsed.headers),
        offered: spec.offers.clone(),
        required: spec.required.iter().map(Extension::new).collect(),
        timings_ms: timings,
        bytes_received: head.len() as u64,
        bad_header: parsed.bad_header,
        ..HandshakeInfo::default()
    };
    let response_headers = parsed.headers;
    let refuse = |mut info: HandshakeInfo, msg: String| {
        info.invalid = Some(msg.clone());
        Err(ConnectError {
            kind: ErrorKind::Handshake,
            message: msg,
            timings,
            proxy: None,
            info: Some(Box::new(info)),
            tls_alert_from_peer: false,
        })
    };
    if let Some(why) = parsed.malformed {
        return refuse(info, why);
    }
    let get = |name: &str| -> Vec<&str> {
        response_headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    if let Some(ra) = get("retry-after").first() {
        match parse_retry_after(ra, SystemTime::now()) {
            Ok(d) => info.retry_after_ms = Some(d.as_millis() as u64),
            Err(_) => info.retry_after_invalid = Some(redact::escape_control(ra)),
        }
    }
    if info.status != 101 {
        return Ok(Verdict::Rejected { info });
    }

    // RFC 6455 section 4.1: validate the 101 answer.
    let has_token = |name: &str, token: &str| {
        get(name)
            .iter()
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !has_token("upgrade", "websocket") {
        return refuse(info, "101 answer without 'Upgrade: websocket'".into());
    }
    if !has_token("connection", "upgrade") {
        return refuse(info, "101 answer without 'Connection: Upgrade'".into());
    }
    let expected = derive_accept_key(key.as_bytes());
    match get("sec-websocket-accept").as_slice() {
        [v] if v.trim() == expected => {}
        [] => return refuse(info, "101 answer without Sec-WebSocket-Accept".into()),
        [v] => {
            let msg = format!(
                "Sec-WebSocket-Accept is '{}', expected '{expected}'",
                redact::escape_control(v)
            );
            return refuse(info, msg);
        }
        _ => {
            return refuse(
                info,
                "101 answer with several Sec-WebSocket-Accept headers".into(),
            );
        }
    }
    let protos = get("sec-websocket-protocol");
    if let Some(p) = protos.first() {
        let p = p.trim();
        if protos.len() > 1 || !spec.subprotocols.iter().any(|s| s == p) {
            let msg = format!(
                "server chose subprotocol '{}' that was not requested",
                redact::escape_control(p)
            );
            return refuse(info, msg);
        }
        info.subprotocol = Some(p.to_string());
    }

    // Extensions: parse every header line, then check against the offer.
    let mut accepted = Vec::new();
    let mut problems = Vec::new();
    for v in get("sec-websocket-extensions") {
        match extensions::parse_header(v) {
            Ok(mut e) => accepted.append(&mut e),
            Err(e) => problems.push(format!(
                "malformed Sec-WebSocket-Extensions '{}': {e}",
                redact::escape_control(v)
            )),
        }
    }
    info.accepted = accepted.clone();
    if problems.is_empty() {
        match extensions::check_response(&spec.offers, &spec.required, &accepted) {
            Ok(agreement) => {
                info.missing = agreement.missing.clone();
                return Ok(Verdict::Upgraded { info, agreement });
            }
            Err(p) => problems = p,
        }
    }
    info.unexpected = problems.clone();
    Ok(Verdict::BadExtensions { info, problems })
}

/// Send the upgrade request and read the answer. `timings` gets `upgrade` when an answer arrives.
pub async fn upgrade(
    mut transport: Transport,
    url: &Url,
    spec: &RequestSpec,
    mut timings: Timings,
) -> Result<UpgradeOutcome, ConnectError> {
    let key = generate_key();
    let (line, headers) = build_request(url, spec, &key).map_err(|e| {
        ConnectError::new(
            ErrorKind::Handshake,
            format!("refusing to send the upgrade request: {e}"),
            timings,
        )
    })?;
    let req = encode_request(&line, &headers);

    let t0 = Instant::now();
    let io_err = |e: io::Error, what: &str, t: Timings| {
        ConnectError::new(ErrorKind::Io, format!("{what}: {e}"), t)
    };
    transport
        .write_all(req.as_bytes())
        .await
        .map_err(|e| io_err(e, "sending the upgrade request", timings))?;
    transport
        .flush()
        .await
        .map_err(|e| io_err(e, "sending the upgrade request", timings))?;

    // Read until the end of the response head. A head cut short (too large, or the server
    // closed) is still recorded with what arrived.
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let cut_short = |buf: &[u8], msg: String, timings: Timings| {
        let mut info = HandshakeInfo {
            timings_ms: timings,
            bytes_received: buf.len() as u64,
            request_headers: redact_headers(&headers),
            offered: spec.offers.clone(),
            required: spec.required.iter().map(Extension::new).collect(),
            ..HandshakeInfo::default()
        };
        let parsed = salvage(buf, msg.clone());
        let msg = if parsed.status == 0 && !buf.is_empty() {
            parsed.malformed.unwrap_or(msg)
        } else {
            msg
        };
        info.status = parsed.status;
        info.status_line = parsed.status_line;
        info.response_headers = record_response_headers(&parsed.headers);
        info.bad_header = parsed.bad_header;
        info.invalid = Some(msg.clone());
        ConnectError {
            kind: ErrorKind::Handshake,
            message: msg,
            timings,
            proxy: None,
            // Nothing arrived: there is no answer to record.
            info: (!buf.is_empty()).then(|| Box::new(info)),
            tls_alert_from_peer: false,
        }
    };
    let head_len = match read_head(&mut transport, &mut buf).await {
        Ok(n) => n,
        Err(HeadCut::Io(e)) => return Err(io_err(e, "reading the upgrade answer", timings)),
        // No answer at all is a network failure (a server out of file descriptors accepts and
        // closes): transient, so it backs off. A cut-off answer is a broken upgrade.
        Err(HeadCut::NoAnswer) => {
            timings.upgrade = Some(ms(t0.elapsed()));
            return Err(ConnectError::new(
                ErrorKind::Io,
                HeadCut::NoAnswer.to_string(),
                timings,
            ));
        }
        Err(cut) => {
            timings.upgrade = Some(ms(t0.elapsed()));
            return Err(cut_short(&buf, cut.to_string(), timings));
        }
    };
    timings.upgrade = Some(ms(t0.elapsed()));
    let leftover = buf[head_len..].to_vec();
    let verdict = match judge_answer(&buf[..head_len], &key, spec, &headers, timings) {
        Ok(v) => v,
        Err(mut e) => {
            // A refused answer: everything read counts, bytes after the head included.
            if let Some(info) = e.info.as_mut() {
                info.bytes_received = buf.len() as u64;
            }
            return Err(e);
        }
    };
    match verdict {
        Verdict::Rejected { mut info } => {
            let (body, extra) = read_body(&mut transport, leftover, &info.response_headers).await;
            info.bytes_received = (buf.len() + extra) as u64;
            info.body = Some(body);
            Ok(UpgradeOutcome::Rejected { info })
        }
        // Bytes after the head are frames: the frame layer counts them.
        Verdict::Upgraded { info, agreement } => Ok(UpgradeOutcome::Upgraded {
            transport,
            leftover,
            info,
            agreement,
        }),
        Verdict::BadExtensions { info, problems } => Ok(UpgradeOutcome::BadExtensions {
            transport,
            info,
            problems,
        }),
    }
}

/// Why a response head could not be read whole.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeadCut {
    #[error("the upgrade answer's headers are larger than {} KiB", MAX_HEAD / 1024)]
    TooLarge,
    #[error("the server closed the connection without answering the upgrade")]
    NoAnswer,
    #[error("the server closed the connection in the middle of the upgrade answer")]
    Closed,
    #[error("{0}")]
    Io(io::Error),
}

/// Read into `buf` until it holds a whole response head; returns the head's length (bytes
/// after it belong to the body or the frames). On failure `buf` holds what arrived.
pub(crate) async fn read_head<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut Vec<u8>,
) -> Result<usize, HeadCut> {
    loop {
        if let Some(pos) = find_head_end(buf) {
            return Ok(pos);
        }
        if buf.len() >= MAX_HEAD {
            return Err(HeadCut::TooLarge);
        }
        // Read into the buffer's spare room: no array on the future's stack, which every
        // session's task would carry for its whole life.
        buf.reserve(2048);
        let n = io.read_buf(buf).await.map_err(HeadCut::Io)?;
        if n == 0 {
            return Err(if buf.is_empty() {
                HeadCut::NoAnswer
            } else {
                HeadCut::Closed
            });
        }
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Up to 4 KiB of a non-101 body, waiting briefly: Content-Length if given, else what arrives.
/// Also returns how many bytes were read from the socket here.
async fn read_body(
    transport: &mut Transport,
    mut body: Vec<u8>,
    headers: &[(String, String)],
) -> (String, usize) {
    let mut extra = 0;
    let declared: Option<usize> = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok());
    let want = declared.unwrap_or(MAX_BODY).min(MAX_BODY);
    let deadline = tokio::time::Instant::now() + BODY_WAIT;
    while body.len() < want {
        body.reserve(1024);
        match tokio::time::timeout_at(deadline, transport.read_buf(&mut body)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => extra += n,
        }
    }
    body.truncate(MAX_BODY);
    (
        redact::escape_control(String::from_utf8_lossy(&body).trim_end()),
        extra,
    )
}

/// TLS client configuration: webpki roots, or no verification at all with `insecure`.
pub fn tls_connector(insecure: bool) -> Result<TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let mut config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
            .with_no_client_auth()
    } else {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

/// `--insecure`: accepts any certificate (signatures are still checked for well-formedness).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_has_the_rfc_headers_and_basic_auth_from_url() {
        let url = Url::parse("ws://bob:p%40ss@127.0.0.1:9001/echo?x=1").expect("url");
        let spec = RequestSpec {
            offers: extensions::parse_header("permessage-deflate; client_max_window_bits")
                .expect("offer"),
            subprotocols: vec!["chat".into()],
            ..Default::default()
        };
        let (line, h) = build_request(&url, &spec, "dGhlIHNhbXBsZSBub25jZQ==").expect("valid");
        assert_eq!(line, "GET /echo?x=1 HTTP/1.1");
        let get = |n: &str| h.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        assert_eq!(get("Host").as_deref(), Some("127.0.0.1:9001"));
        assert_eq!(get("Sec-WebSocket-Version").as_deref(), Some("13"));
        assert_eq!(get("Sec-WebSocket-Protocol").as_deref(), Some("chat"));
        assert_eq!(
            get("Sec-WebSocket-Extensions").as_deref(),
            Some("permessage-deflate; client_max_window_bits")
        );
        // bob:p@ss
        assert_eq!(get("Authorization").as_deref(), Some("Basic Ym9iOnBAc3M="));
        let shown = redact_headers(&h);
        assert!(
            shown
                .iter()
                .any(|(k, v)| k == "Authorization" && v == redact::REDACTED)
        );
    }

    fn spec_with(headers: &[(&str, &str)], subprotocols: &[&str]) -> RequestSpec {
        RequestSpec {
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            subprotocols: subprotocols.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn subprotocols_must_be_tokens() {
        for good in ["chat", "v2.json", "graphql-ws", "a!#$%&'*+-.^_`|~"] {
            assert!(validate_subprotocol(good).is_ok(), "{good}");
        }
        let bad = [
            "",
            "chat\r\nX-Injected: 1",
            "a b",
            "a,b",
            "a;b",
            "\"q\"",
            "a\u{1}",
            "a\tb",
            "é",
            "a/b",
            "a\x7f",
        ];
        for bad in bad {
            let e = validate_subprotocol(bad).expect_err(bad);
            assert!(!e.to_string().chars().any(|c| c.is_control()), "{e}");
        }
    }

    #[test]
    fn header_values_refuse_control_characters_but_tab() {
        assert!(validate_header_value("X", "a\tb c~é").is_ok());
        for bad in ["a\rb", "a\nb", "a\u{0}", "\u{1}", "\u{1b}[31m", "a\u{7f}"] {
            let e = validate_header_value("X-Evil", bad).expect_err(bad);
            assert!(e.to_string().contains("X-Evil"), "{e}");
            assert!(!e.to_string().chars().any(|c| c.is_control()), "{e}");
        }
        assert!(validate_header_name("X-Ok").is_ok());
        for bad in ["", "X Bad", "X:Y", "X\r\nY", "é"] {
            assert!(validate_header_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn build_request_refuses_what_would_break_the_request() {
        let url = Url::parse("ws://h/").expect("url");
        let cases = [
            spec_with(&[], &["chat\r\nX-Injected: yes"]),
            spec_with(&[], &["a b"]),
            spec_with(&[("X-A", "v\r\nX-Injected: yes")], &[]),
            spec_with(&[("X-A", "v\u{1}")], &[]),
            spec_with(&[("X-A", "v\n")], &[]),
            spec_with(&[("X-A\r\nB", "v")], &[]),
            spec_with(&[("", "v")], &[]),
        ];
        for spec in cases {
            assert!(build_request(&url, &spec, "k").is_err(), "{spec:?}");
        }
        let ok = spec_with(&[("X-Tab", "a\tb"), ("X-Back", "a\\b")], &["chat", "v2"]);
        let (line, h) = build_request(&url, &ok, "k").expect("valid");
        let wire = encode_request(&line, &h);
        assert!(wire.contains("\r\nX-Tab: a\tb\r\n"), "{wire}");
        assert!(
            wire.contains("\r\nSec-WebSocket-Protocol: chat, v2\r\n"),
            "{wire}"
        );
        // Exactly one line per header, and the record equals the wire (no escaping).
        assert_eq!(wire.matches("\r\n").count(), 1 + h.len() + 1);
        let recorded = redact_headers(&h);
        assert!(recorded.contains(&("X-Back".to_string(), "a\\b".to_string())));
        assert!(recorded.contains(&("X-Tab".to_string(), "a\tb".to_string())));
    }

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn judge(head: &str) -> Result<Verdict, ConnectError> {
        judge_answer(
            head.as_bytes(),
            KEY,
            &RequestSpec::default(),
            &[],
            Timings::default(),
        )
    }

    #[test]
    fn an_escape_sequence_in_a_header_is_refused_but_recorded() {
        let head = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nX-Evil: a\x1b]0;pwned\x07b\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
        );
        let e = judge(&head).expect_err("refused");
        assert_eq!(e.kind, ErrorKind::Handshake);
        assert!(e.message.contains("X-Evil"), "{}", e.message);
        let info = e.info.expect("the answer is recorded");
        assert_eq!(info.status, 101);
        assert_eq!(info.status_line, "HTTP/1.1 101 Switching Protocols");
        assert_eq!(info.bad_header.as_deref(), Some("X-Evil"));
        assert_eq!(info.bytes_received, head.len() as u64);
        let names: Vec<&str> = info
            .response_headers
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(names, ["Upgrade", "Connection", "Sec-WebSocket-Accept"]);
        assert_eq!(info.invalid.as_deref(), Some(e.message.as_str()));
    }

    #[test]
    fn garbage_and_bad_answers_are_named_and_escaped() {
        let e = judge("\u{1b}[2J\u{7}SSH-2.0-OpenSSH\r\n\r\n").expect_err("garbage");
        assert!(e.message.contains("\\u{1b}[2J"), "{}", e.message);
        assert!(!e.message.chars().any(|c| c.is_control()), "{}", e.message);
        let info = e.info.expect("recorded");
        assert_eq!(info.status, 0);

        let e = judge(&format!(
            "HTTP/1.1 101 OK\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
        ))
        .expect_err("no upgrade");
        assert!(e.message.contains("Upgrade: websocket"), "{}", e.message);
        assert_eq!(e.info.expect("recorded").status, 101);

        let e = judge(
            "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n",
        )
        .expect_err("bad accept");
        assert!(e.message.contains("expected"), "{}", e.message);
        let info = e.info.expect("recorded");
        assert_eq!(info.response_headers.len(), 3);

        let ok = judge(&format!(
            "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
        ))
        .expect("valid");
        assert!(matches!(ok, Verdict::Upgraded { .. }));
    }

    #[test]
    fn status_lines() {
        assert_eq!(parse_status_line(b"HTTP/1.1 101 Switching"), Some(101));
        assert_eq!(parse_status_line(b"HTTP/1.0 503"), Some(503));
        assert_eq!(parse_status_line(b"HTTP/1.1 1011 x"), None);
        assert_eq!(parse_status_line(b"HTTP/2 200"), None);
        assert_eq!(parse_status_line(b"SSH-2.0"), None);
        assert_eq!(parse_status_line(b""), None);
    }

    #[test]
    fn head_end() {
        assert_eq!(find_head_end(b"HTTP/1.1 101 OK\r\n\r\nxyz"), Some(19));
        assert_eq!(find_head_end(b"HTTP/1.1 101 OK\r\n"), None);
    }
}
