//! The upgrade request: what it needs besides the URL, the checks that keep every value sendable,
//! the request line and headers, their bytes on the wire and their recorded form.

use url::Url;

use crate::protocol::extensions::{self, Extension};
use crate::redact;

/// What a request needs besides the URL.
#[derive(Debug, Clone, Default)]
pub struct RequestSpec {
    pub headers: Vec<(String, String)>,
    pub subprotocols: Vec<String>,
    pub offers: Vec<Extension>,
    pub required: Vec<String>,
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
pub(super) fn encode_request(line: &str, headers: &[(String, String)]) -> String {
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
pub(super) fn redact_headers(h: &[(String, String)]) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| (k.clone(), redact::header_value(k, v).to_string()))
        .collect()
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
}
