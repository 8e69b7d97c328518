//! The byte stream under the upgrade: resolve, connect (straight or through a proxy, from any
//! source address or a given one) and, for wss://, TLS.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;
use url::Url;

use super::{ConnectError, Timings, ms};
use crate::protocol::error::ErrorKind;
use crate::protocol::proxy::{self, ProxyError, ProxyUrl};
use crate::redact;

/// A TCP or TLS byte stream.
pub enum Transport {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// A WebSocket's stream on a shared HTTP/2 connection (RFC 8441).
    H2(Box<crate::protocol::http2::H2Stream>),
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
            Transport::H2(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
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
            Transport::H2(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Transport::H2(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Transport::H2(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
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

impl Transport {
    /// The protocol ALPN chose on a TLS stream.
    pub fn alpn(&self) -> Option<&[u8]> {
        match self {
            Transport::Tls(s) => s.get_ref().1.alpn_protocol(),
            _ => None,
        }
    }
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

/// TLS client configuration: webpki roots, or no verification at all with `insecure`.
pub fn tls_connector(insecure: bool) -> Result<TlsConnector, String> {
    tls_connector_alpn(insecure, &[b"http/1.1"])
}

/// [`tls_connector`] offering these ALPN protocols (`h2` for WebSockets over HTTP/2).
pub fn tls_connector_alpn(insecure: bool, alpn: &[&[u8]]) -> Result<TlsConnector, String> {
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
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
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

/// A bare transport has no frame layer, so nothing to tap (the message log's frames come from
/// [`crate::protocol::wire::WireStream`]).
impl crate::protocol::tap::Tapped for Transport {
    fn frame_tap(&mut self) -> Option<&mut crate::protocol::tap::FrameTap> {
        None
    }
}
