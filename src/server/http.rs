//! The server side of the HTTP/1.1 upgrade: read one bounded request head, check the
//! WebSocket headers (RFC 6455 section 4.2.1), and write responses.

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::http::StatusCode;

/// Largest request head (request line and headers) we read before answering 431.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;
/// Most header lines we parse before answering 431.
pub const MAX_HEADERS: usize = 64;

/// A parsed request head.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    /// Minor version: 1 for HTTP/1.1.
    pub version: u8,
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// Every value of a header (case-insensitive name), in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated header (over all its lines) lists `token`, case-insensitively.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.header_values(name)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Whether the client asks for a WebSocket upgrade at all (`Upgrade: websocket`).
    pub fn wants_websocket(&self) -> bool {
        self.has_token("upgrade", "websocket")
    }
}

/// Why no request head could be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("connection closed before the request head was complete")]
    Closed,
    #[error("request head larger than {MAX_HEAD_BYTES} bytes or more than {MAX_HEADERS} headers")]
    TooLarge,
    #[error("malformed HTTP request: {0}")]
    Malformed(#[from] httparse::Error),
    #[error("request head is not valid UTF-8")]
    NotUtf8,
    #[error("read error: {0}")]
    Io(#[from] io::Error),
}

/// Read one request head. Returns it and the bytes that followed it (already WebSocket frames,
/// if the client did not wait for our answer).
pub async fn read_request<S>(sock: &mut S) -> Result<(Request, Vec<u8>), ReadError>
where
    S: AsyncRead + Unpin,
{
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    loop {
        let room = MAX_HEAD_BYTES.saturating_sub(buf.len());
        if room == 0 {
            return Err(ReadError::TooLarge);
        }
        let n = (&mut *sock).take(room as u64).read_buf(&mut buf).await?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let request = Request {
                    method: req.method.unwrap_or_default().to_string(),
                    target: req.path.unwrap_or_default().to_string(),
                    version: req.version.unwrap_or_default(),
                    headers: req
                        .headers
                        .iter()
                        .map(|h| {
                            std::str::from_utf8(h.value)
                                .map(|v| (h.name.to_string(), v.trim().to_string()))
                                .map_err(|_| ReadError::NotUtf8)
                        })
                        .collect::<Result<_, _>>()?,
                };
                return Ok((request, buf[len..].to_vec()));
            }
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => return Err(ReadError::TooLarge),
            Err(e) => return Err(ReadError::Malformed(e)),
        }
    }
}

/// Why a request is not an acceptable WebSocket upgrade: the status to answer and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct UpgradeRefusal {
    pub status: u16,
    pub message: String,
}

/// Check the upgrade headers of a GET request; returns the `Sec-WebSocket-Accept` value.
pub fn check_upgrade(req: &Request) -> Result<String, UpgradeRefusal> {
    let refuse = |status: u16, message: &str| UpgradeRefusal {
        status,
        message: message.to_string(),
    };
    if req.version < 1 {
        return Err(refuse(400, "a WebSocket upgrade needs HTTP/1.1"));
    }
    if !req.wants_websocket() {
        return Err(refuse(
            400,
            "this path expects a WebSocket upgrade: missing \"Upgrade: websocket\" header",
        ));
    }
    if !req.has_token("connection", "upgrade") {
        return Err(refuse(
            400,
            "missing \"Connection: Upgrade\" header in the WebSocket upgrade",
        ));
    }
    let versions: Vec<&str> = req.header_values("sec-websocket-version").collect();
    if versions.is_empty() {
        return Err(refuse(
            426,
            "missing \"Sec-WebSocket-Version: 13\" header in the WebSocket upgrade",
        ));
    }
    if versions != ["13"] {
        return Err(UpgradeRefusal {
            status: 426,
            message: format!(
                "unsupported Sec-WebSocket-Version {:?}: this server speaks 13",
                crate::redact::escape_control(&versions.join(", "))
            ),
        });
    }
    let keys: Vec<&str> = req.header_values("sec-websocket-key").collect();
    match keys.as_slice() {
        [] => Err(refuse(400, "missing Sec-WebSocket-Key header")),
        [key] if is_valid_key(key) => Ok(derive_accept_key(key.as_bytes())),
        [_] => Err(refuse(
            400,
            "Sec-WebSocket-Key must be 16 bytes in base64 (24 characters ending in \"==\")",
        )),
        _ => Err(refuse(400, "more than one Sec-WebSocket-Key header")),
    }
}

/// RFC 6455 4.1: the key is a base64-encoded 16-byte value, so 22 base64 characters and `==`.
fn is_valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 24
        && b.ends_with(b"==")
        && b[..22]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

/// The `101 Switching Protocols` head, with the accepted extensions if any.
pub fn switching_protocols(accept: &str, extensions: Option<&str>) -> String {
    let mut head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n"
    );
    if let Some(ext) = extensions {
        head.push_str("Sec-WebSocket-Extensions: ");
        head.push_str(ext);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head
}

/// A complete plain-text response that closes the connection.
pub fn text_response(status: u16, extra_headers: &[(&str, &str)], body: &str) -> String {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown");
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in extra_headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.push_str(body);
    out
}

/// Canonical reason phrase of a status, for bodies ("503 Service Unavailable").
pub fn status_line(status: u16) -> String {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown");
    format!("{status} {reason}")
}

/// Write a response and close our side, then read (and discard) what the client still sends for
/// a short while, so closing with unread input does not turn into a reset that loses the response.
pub async fn respond_and_close<S>(sock: &mut S, response: &str) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    sock.write_all(response.as_bytes()).await?;
    sock.flush().await?;
    sock.shutdown().await?;
    let drain = async {
        let mut scratch = [0u8; 1024];
        let mut total = 0usize;
        while total < 64 * 1024 {
            match sock.read(&mut scratch).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), drain).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            target: "/echo".into(),
            version: 1,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
        }
    }

    const GOOD: &[(&str, &str)] = &[
        ("Host", "h"),
        ("Upgrade", "websocket"),
        ("Connection", "keep-alive, Upgrade"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn rfc_example_accept_key() {
        // RFC 6455 section 1.3.
        assert_eq!(
            check_upgrade(&request(GOOD)),
            Ok("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".to_string())
        );
    }

    #[test]
    fn refusals_say_why() {
        let without = |name: &str| {
            let h: Vec<(&str, &str)> = GOOD.iter().copied().filter(|(n, _)| *n != name).collect();
            check_upgrade(&request(&h)).expect_err("must be refused")
        };
        assert!(without("Upgrade").message.contains("Upgrade: websocket"));
        assert!(
            without("Connection")
                .message
                .contains("Connection: Upgrade")
        );
        assert_eq!(without("Sec-WebSocket-Version").status, 426);
        assert!(
            without("Sec-WebSocket-Key")
                .message
                .contains("Sec-WebSocket-Key")
        );

        let mut h = GOOD.to_vec();
        h[3] = ("Sec-WebSocket-Version", "8");
        let r = check_upgrade(&request(&h)).expect_err("version 8");
        assert_eq!(r.status, 426);
        h[3] = ("Sec-WebSocket-Version", "13");
        h[4] = ("Sec-WebSocket-Key", "short");
        assert_eq!(check_upgrade(&request(&h)).map_err(|r| r.status), Err(400));
    }

    #[tokio::test]
    async fn reads_head_and_keeps_leftover() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            client
                .write_all(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n\x81\x80abcd")
                .await
                .expect("write");
            client
        });
        let (req, leftover) = read_request(&mut server).await.expect("request");
        assert_eq!(req.target, "/echo");
        assert_eq!(req.header_values("host").collect::<Vec<_>>(), ["x"]);
        assert_eq!(leftover, b"\x81\x80abcd");
        drop(writer.await);
    }

    #[tokio::test]
    async fn oversized_head_is_refused() {
        let (mut client, mut server) = tokio::io::duplex(MAX_HEAD_BYTES * 2);
        let mut big = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
        big.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES));
        client.write_all(&big).await.expect("write");
        assert!(matches!(
            read_request(&mut server).await,
            Err(ReadError::TooLarge)
        ));
    }

    #[tokio::test]
    async fn garbage_is_malformed() {
        let (mut client, mut server) = tokio::io::duplex(256);
        client
            .write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")
            .await
            .expect("write");
        assert!(matches!(
            read_request(&mut server).await,
            Err(ReadError::Malformed(_))
        ));
    }

    #[test]
    fn text_response_shape() {
        let r = text_response(503, &[("Retry-After", "3")], "busy\n");
        assert!(r.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{r}");
        assert!(r.contains("\r\nRetry-After: 3\r\n"), "{r}");
        assert!(r.contains("\r\nContent-Length: 5\r\n"), "{r}");
        assert!(r.ends_with("\r\n\r\nbusy\n"), "{r}");
    }
}
