//! What one upgrade attempt looked like: phase timings and the captured HTTP exchange.

use serde::{Deserialize, Serialize};

use crate::protocol::extensions::Extension;

/// Durations of the phases of one attempt, in milliseconds. `None` for a phase that did not
/// happen (no TLS on ws://, no DNS for an IP literal) or did not finish.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub dns: Option<f64>,
    pub connect: Option<f64>,
    pub tls: Option<f64>,
    pub upgrade: Option<f64>,
    /// The CONNECT or SOCKS5 exchange with a proxy, after TCP connect to the proxy (`connect`);
    /// absent without a proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<f64>,
}

/// Everything captured about one upgrade attempt that got an answer. An answer that is not a
/// valid upgrade answer (malformed HTTP, a bad `Sec-WebSocket-Accept` ...) is recorded too, with
/// what could be read of it and `invalid` saying why it was refused.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HandshakeInfo {
    pub status: u16,
    /// e.g. "HTTP/1.1 101 Switching Protocols".
    pub status_line: String,
    /// Headers in the order sent, values exactly as on the wire except redacted secrets.
    pub request_headers: Vec<(String, String)>,
    /// Headers in the order received (those that parsed), secrets redacted.
    pub response_headers: Vec<(String, String)>,
    /// First 4 KiB of a non-101 body, lossily decoded, control characters escaped.
    pub body: Option<String>,
    pub offered: Vec<Extension>,
    pub accepted: Vec<Extension>,
    pub required: Vec<Extension>,
    /// Required extensions that the server did not accept (leads to a 1010 close).
    pub missing: Vec<String>,
    /// What the server answered that was not offered or not valid (leads to a 1002 failure).
    pub unexpected: Vec<String>,
    pub subprotocol: Option<String>,
    pub retry_after_ms: Option<u64>,
    /// The raw Retry-After value when it could not be parsed.
    pub retry_after_invalid: Option<String>,
    pub timings_ms: Timings,
    /// Bytes of the answer read from the socket: the head, and the body read after a non-101
    /// (bytes after a 101's head are frames, counted as traffic).
    #[serde(default)]
    pub bytes_received: u64,
    /// Why the answer was refused as a WebSocket upgrade (control characters escaped); `None`
    /// for a valid answer, 101 or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
    /// The first response header line that did not parse: its name, escaped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_header: Option<String>,
    /// Over HTTP/2: the transport, connection and stream (empty for the default HTTP/1.1).
    #[serde(
        default,
        skip_serializing_if = "crate::protocol::http2::Link::is_empty"
    )]
    pub link: crate::protocol::http2::Link,
}

impl HandshakeInfo {
    /// The answer opened the WebSocket: 101 to an HTTP/1.1 upgrade, 200 to an HTTP/2 extended
    /// CONNECT (RFC 8441).
    pub fn is_upgrade(&self) -> bool {
        self.status == 101
            || (self.status == 200
                && self.link.transport == Some(crate::protocol::http2::Proto::H2))
    }
}
