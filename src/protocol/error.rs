//! How an attempt failed when there was no close code to report.

use serde::{Deserialize, Serialize};

/// What went wrong when there was no close code to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The URL could not be used (bad scheme, no host ...).
    Url,
    /// Name resolution failed.
    Dns,
    /// TCP connect failed (refused, unreachable).
    Connect,
    /// `--connect-timeout` passed before the upgrade answered.
    Timeout,
    /// TLS handshake or certificate failure.
    Tls,
    /// The upgrade answer was not a valid WebSocket upgrade (bad Sec-WebSocket-Accept,
    /// malformed HTTP, a non-101 answer is *not* this: it is a handshake with a status).
    Handshake,
    /// The server's extension answer broke RFC 6455 section 9.1 or RFC 7692.
    Extension,
    /// A framing or protocol violation after the upgrade.
    Protocol,
    /// Any other I/O error.
    Io,
    /// A local resource ran out: no file descriptor left (EMFILE, ENFILE).
    Resource,
    /// A bug in wsmon: the session's task panicked. The session ends; the others go on.
    Internal,
    /// The proxy could not be reached or refused the tunnel (HTTP 407/403/502, a SOCKS5 reply).
    Proxy,
    /// A step of the session's script (or built-in protocol) failed: an `expect` timed out.
    Script,
    /// No message from the server for `--stale-after`, and `--stale-action reconnect` closed
    /// the connection.
    Stale,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Url => "url",
            ErrorKind::Dns => "dns",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Tls => "tls",
            ErrorKind::Handshake => "handshake",
            ErrorKind::Extension => "extension",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Io => "io",
            ErrorKind::Resource => "resource",
            ErrorKind::Internal => "internal",
            ErrorKind::Proxy => "proxy",
            ErrorKind::Script => "script",
            ErrorKind::Stale => "stale",
        }
    }
}

/// The error kind of a failed socket or file operation: `Resource` when the process or the
/// system ran out of file descriptors (EMFILE, ENFILE), else `otherwise`.
pub fn io_kind(e: &std::io::Error, otherwise: ErrorKind) -> ErrorKind {
    #[cfg(unix)]
    if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)) {
        return ErrorKind::Resource;
    }
    otherwise
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_out_of_descriptors_is_a_resource_error() {
        let emfile = std::io::Error::from_raw_os_error(libc::EMFILE);
        let enfile = std::io::Error::from_raw_os_error(libc::ENFILE);
        let refused = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(io_kind(&emfile, ErrorKind::Connect), ErrorKind::Resource);
        assert_eq!(io_kind(&enfile, ErrorKind::Io), ErrorKind::Resource);
        assert_eq!(io_kind(&refused, ErrorKind::Connect), ErrorKind::Connect);
        assert_eq!(ErrorKind::Resource.as_str(), "resource");
        assert_eq!(ErrorKind::Internal.as_str(), "internal");
    }
}
