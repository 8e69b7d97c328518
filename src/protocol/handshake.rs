//! The client side of the HTTP/1.1 upgrade (RFC 6455 section 4), done by hand so that every
//! header, status, body and phase timing of every attempt can be captured. After a 101 the
//! socket and any bytes read past the headers go to the frame layer and tokio-tungstenite.
//!
//! Here: the exchange itself ([`upgrade`]) and the judgement of the answer. Beside it:
//! `transport` (resolve, connect, proxy tunnel, TLS), `request` (the request and its checks),
//! `head` (reading and parsing the answer's head), `record` (what is recorded), `retry_after`,
//! and `http2`: the same exchange as an extended CONNECT on a shared HTTP/2 connection (RFC 8441).

use std::io;
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use url::Url;

use crate::protocol::error::ErrorKind;
use crate::protocol::extensions::{self, Agreement, Extension};
use crate::protocol::proxy::{self, ProxyError};
use crate::redact;

mod head;
pub mod http2;
mod record;
mod request;
mod retry_after;
mod transport;

use head::salvage;
pub(crate) use head::{HeadCut, parse_head, read_head};
pub use record::{HandshakeInfo, Timings};
pub use request::{
    RequestError, RequestSpec, build_request, validate_header_name, validate_header_value,
    validate_subprotocol,
};
use request::{encode_request, redact_headers};
pub use retry_after::{RetryAfterError, parse_retry_after};
pub use transport::{
    Route, Transport, open_transport, open_transport_via, tls_connector, tls_connector_alpn,
};

/// How much of a non-101 body we keep.
const MAX_BODY: usize = 4 * 1024;
/// How long we wait for a non-101 body after the headers.
const BODY_WAIT: Duration = Duration::from_millis(500);

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
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>, timings: Timings) -> Self {
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

pub(crate) fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// Response headers as they may be recorded: secrets redacted, and what HTTP lets through that a
/// terminal would act on (tab, C1 controls decoded from obs-text bytes) escaped.
pub(crate) fn record_response_headers(h: &[(String, String)]) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.clone(),
                redact::escape_control(&redact::header_value(k, v)),
            )
        })
        .collect()
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
    check_agreement(info, &response_headers, spec, timings)
}

/// The part of the judgement HTTP/1.1 and HTTP/2 share: the subprotocol and the extension
/// answer of an accepted upgrade (101, or 200 to an extended CONNECT).
pub(crate) fn check_agreement(
    mut info: HandshakeInfo,
    response_headers: &[(String, String)],
    spec: &RequestSpec,
    timings: Timings,
) -> Result<Verdict, ConnectError> {
    let get = |name: &str| -> Vec<&str> {
        response_headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
