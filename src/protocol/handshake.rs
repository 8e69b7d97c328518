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
}

impl ConnectError {
    fn new(kind: ErrorKind, message: impl Into<String>, timings: Timings) -> Self {
        ConnectError {
            kind,
            message: message.into(),
            timings,
            proxy: None,
        }
    }

    fn proxy(e: &ProxyError, timings: Timings) -> Self {
        ConnectError {
            kind: ErrorKind::Proxy,
            message: e.to_string(),
            timings,
            proxy: Some(e.refusal()),
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
                        ErrorKind::Dns,
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
            let e = ProxyError::Connect {
                proxy: p.redacted(),
                source: io::Error::other(
                    last_err.unwrap_or_else(|| "no address to connect to".into()),
                ),
            };
            return Err(ConnectError::proxy(&e, *timings));
        }
        (None, None) => {
            return Err(ConnectError::new(
                ErrorKind::Connect,
                last_err.unwrap_or_else(|| "no address to connect to".into()),
                *timings,
            ));
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
        let refused = e
            .get_ref()
            .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
        let (kind, what) = if refused {
            (ErrorKind::Tls, "failed")
        } else {
            (ErrorKind::Io, "was interrupted")
        };
        ConnectError::new(
            kind,
            format!("TLS handshake with {bare} {what}: {e}"),
            *timings,
        )
    })?;
    timings.tls = Some(ms(t2.elapsed()));
    Ok(Transport::Tls(Box::new(stream)))
}

/// TCP connect to `addr`, bound to `local` first when given.
async fn connect_from(addr: SocketAddr, local: Option<IpAddr>) -> Result<TcpStream, String> {
    let Some(local) = local else {
        return TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect to {addr}: {e}"));
    };
    let socket = match (local, addr) {
        (IpAddr::V4(_), SocketAddr::V4(_)) => tokio::net::TcpSocket::new_v4(),
        (IpAddr::V6(_), SocketAddr::V6(_)) => tokio::net::TcpSocket::new_v6(),
        _ => return Err(format!("local address {local} cannot reach {addr}")),
    }
    .map_err(|e| format!("socket for {addr}: {e}"))?;
    socket
        .bind(SocketAddr::new(local, 0))
        .map_err(|e| format!("bind to {local}: {e}"))?;
    socket
        .connect(addr)
        .await
        .map_err(|e| format!("connect to {addr} from {local}: {e}"))
}

/// The request as sent: (request line, headers in order). Credentials in the URL become a Basic
/// Authorization header (as curl and most clients do).
pub fn build_request(url: &Url, spec: &RequestSpec, key: &str) -> (String, Vec<(String, String)>) {
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
    (format!("GET {target} HTTP/1.1"), headers)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn redact_headers(h: &[(String, String)]) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                redact::escape_control(redact::header_value(k, v)),
            )
        })
        .collect()
}

/// Send the upgrade request and read the answer. `timings` gets `upgrade` when an answer arrives.
pub async fn upgrade(
    mut transport: Transport,
    url: &Url,
    spec: &RequestSpec,
    mut timings: Timings,
) -> Result<UpgradeOutcome, ConnectError> {
    let key = generate_key();
    let (line, headers) = build_request(url, spec, &key);
    let mut req = String::with_capacity(512);
    req.push_str(&line);
    req.push_str("\r\n");
    for (k, v) in &headers {
        req.push_str(k);
        req.push_str(": ");
        req.push_str(v);
        req.push_str("\r\n");
    }
    req.push_str("\r\n");

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

    // Read until the end of the response head.
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let head_len = loop {
        if let Some(pos) = find_head_end(&buf) {
            break pos;
        }
        if buf.len() >= MAX_HEAD {
            return Err(ConnectError::new(
                ErrorKind::Handshake,
                format!(
                    "the upgrade answer's headers are larger than {} KiB",
                    MAX_HEAD / 1024
                ),
                timings,
            ));
        }
        let mut chunk = [0u8; 2048];
        let n = transport
            .read(&mut chunk)
            .await
            .map_err(|e| io_err(e, "reading the upgrade answer", timings))?;
        if n == 0 {
            let msg = if buf.is_empty() {
                "the server closed the connection without answering the upgrade".to_string()
            } else {
                "the server closed the connection in the middle of the upgrade answer".to_string()
            };
            return Err(ConnectError::new(ErrorKind::Handshake, msg, timings));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    timings.upgrade = Some(ms(t0.elapsed()));

    let mut raw_headers = [httparse::EMPTY_HEADER; 96];
    let mut resp = httparse::Response::new(&mut raw_headers);
    match resp.parse(&buf[..head_len]) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(ConnectError::new(
                ErrorKind::Handshake,
                "incomplete HTTP answer to the upgrade",
                timings,
            ));
        }
        Err(e) => {
            return Err(ConnectError::new(
                ErrorKind::Handshake,
                format!("malformed HTTP answer to the upgrade: {e}"),
                timings,
            ));
        }
    }
    let status = resp.code.unwrap_or(0);
    let reason_phrase = redact::escape_control(resp.reason.unwrap_or(""));
    let version = resp.version.unwrap_or(1);
    let response_headers: Vec<(String, String)> = resp
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let get = |name: &str| -> Vec<&str> {
        response_headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };

    let mut info = HandshakeInfo {
        status,
        status_line: format!("HTTP/1.{version} {status} {reason_phrase}")
            .trim_end()
            .to_string(),
        request_headers: redact_headers(&headers),
        response_headers: redact_headers(&response_headers),
        offered: spec.offers.clone(),
        required: spec.required.iter().map(Extension::new).collect(),
        timings_ms: timings,
        ..HandshakeInfo::default()
    };
    if let Some(ra) = get("retry-after").first() {
        match parse_retry_after(ra, SystemTime::now()) {
            Ok(d) => info.retry_after_ms = Some(d.as_millis() as u64),
            Err(_) => info.retry_after_invalid = Some(redact::escape_control(ra)),
        }
    }
    let leftover = buf[head_len..].to_vec();

    if status != 101 {
        info.body = Some(read_body(&mut transport, leftover, &response_headers).await);
        return Ok(UpgradeOutcome::Rejected { info });
    }

    // RFC 6455 section 4.1: validate the 101 answer.
    let has_token = |name: &str, token: &str| {
        get(name)
            .iter()
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    let fail = |msg: String, t: Timings| Err(ConnectError::new(ErrorKind::Handshake, msg, t));
    if !has_token("upgrade", "websocket") {
        return fail("101 answer without 'Upgrade: websocket'".into(), timings);
    }
    if !has_token("connection", "upgrade") {
        return fail("101 answer without 'Connection: Upgrade'".into(), timings);
    }
    let expected = derive_accept_key(key.as_bytes());
    match get("sec-websocket-accept").as_slice() {
        [v] if v.trim() == expected => {}
        [] => return fail("101 answer without Sec-WebSocket-Accept".into(), timings),
        [v] => {
            return fail(
                format!(
                    "Sec-WebSocket-Accept is '{}', expected '{expected}'",
                    redact::escape_control(v)
                ),
                timings,
            );
        }
        _ => {
            return fail(
                "101 answer with several Sec-WebSocket-Accept headers".into(),
                timings,
            );
        }
    }
    let protos = get("sec-websocket-protocol");
    if let Some(p) = protos.first() {
        let p = p.trim();
        if protos.len() > 1 || !spec.subprotocols.iter().any(|s| s == p) {
            return fail(
                format!(
                    "server chose subprotocol '{}' that was not requested",
                    redact::escape_control(p)
                ),
                timings,
            );
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
                return Ok(UpgradeOutcome::Upgraded {
                    transport,
                    leftover,
                    info,
                    agreement,
                });
            }
            Err(p) => problems = p,
        }
    }
    info.unexpected = problems.clone();
    Ok(UpgradeOutcome::BadExtensions {
        transport,
        info,
        problems,
    })
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Up to 4 KiB of a non-101 body, waiting briefly: Content-Length if given, else what arrives.
async fn read_body(
    transport: &mut Transport,
    mut body: Vec<u8>,
    headers: &[(String, String)],
) -> String {
    let declared: Option<usize> = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok());
    let want = declared.unwrap_or(MAX_BODY).min(MAX_BODY);
    let deadline = tokio::time::Instant::now() + BODY_WAIT;
    while body.len() < want {
        let mut chunk = [0u8; 1024];
        match tokio::time::timeout_at(deadline, transport.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(MAX_BODY);
    redact::escape_control(String::from_utf8_lossy(&body).trim_end())
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
        let (line, h) = build_request(&url, &spec, "dGhlIHNhbXBsZSBub25jZQ==");
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

    #[test]
    fn head_end() {
        assert_eq!(find_head_end(b"HTTP/1.1 101 OK\r\n\r\nxyz"), Some(19));
        assert_eq!(find_head_end(b"HTTP/1.1 101 OK\r\n"), None);
    }
}
