//! The scenario routes: a request target (`/close/1008?reason=x`) becomes a [`Scenario`], or a
//! 404 / 400 with an explanation. Pure: no I/O, so every rule is unit-tested here.

use std::time::Duration;

/// Longest close reason on the wire: a control frame carries at most 125 bytes, 2 are the code.
pub use crate::protocol::MAX_CLOSE_REASON;
/// Upper bound for `/burst?n=`: enough for any storm, small enough that one request cannot keep
/// the server busy for minutes.
pub const MAX_BURST: u32 = 100_000;
/// Upper bound for `after=` delays.
pub const MAX_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
/// Default capacity of `/overload` when `cap` is not given.
pub const DEFAULT_CAP: usize = 10;
/// Default probability of `/flaky` when `p` is not given.
pub const DEFAULT_P: f64 = 0.5;
/// Default message count of `/burst` when `n` is not given.
pub const DEFAULT_BURST: u32 = 10;
/// Default rate of `/feed` (messages a second) when `rate` is not given.
pub const DEFAULT_FEED_RATE: f64 = 1.0;
/// Highest `/feed` rate: a thousand messages a second per session is a load test already.
pub const MAX_FEED_RATE: f64 = 1000.0;
/// Default `/auth` timeout when `timeout` is not given.
pub const DEFAULT_AUTH_TIMEOUT: Duration = Duration::from_secs(5);
/// Close code of `/auth` when no auth message came in time (graphql-ws uses the same number
/// for its connection-init timeout).
pub const AUTH_TIMEOUT_CODE: u16 = 4408;
/// Default HTTP/2 error code of `/h2/goaway`.
pub const DEFAULT_GOAWAY_CODE: u32 = 0;
/// `Retry-After` sent with `/reject/503` and `/reject/429` unless `retry_after` overrides it.
pub const DEFAULT_RETRY_AFTER: &str = "3";

/// Every scenario path with a one-line description: used by the help page, the 404 body and the
/// `wsmon serve` banner.
pub const SCENARIOS: &[(&str, &str)] = &[
    (
        "/echo",
        "echo text and binary messages; negotiates permessage-deflate when offered",
    ),
    ("/nodeflate", "echo, never negotiates an extension"),
    (
        "/overload?cap=K",
        "first K concurrent sessions echo, later ones are closed with 1013 (default K=10)",
    ),
    (
        "/flaky?p=P&after=DUR",
        "close with 1013 with probability P (0..1, default 0.5), right away or after DUR; else echo",
    ),
    (
        "/close/CODE?reason=TEXT",
        "complete the upgrade, then close with CODE (1005: a close frame without a code)",
    ),
    (
        "/reject/STATUS?retry_after=V",
        "refuse the upgrade with that HTTP status; 503 and 429 carry Retry-After (default 3)",
    ),
    (
        "/drop?after=DUR",
        "complete the upgrade, then drop TCP without a close frame (right away or after DUR)",
    ),
    ("/stall", "read the upgrade request and never answer it"),
    (
        "/burst?n=N",
        "send N compressible ~1 KiB JSON text messages (default 10), then echo",
    ),
    (
        "/feed?rate=R&stall_after=DUR",
        "send R {\"type\":\"tick\",\"seq\":N,\"ts_ms\":MS} a second (default 1); silent after DUR",
    ),
    (
        "/rpc?delay=MIN-MAX",
        "answer each JSON message with an id after a random delay in [MIN, MAX] (default 0)",
    ),
    (
        "/auth?timeout=DUR",
        "close with 4408 unless {\"type\":\"auth\"} comes within DUR (default 5s); then echo",
    ),
    (
        "/h2/goaway?after=DUR&code=C",
        "HTTP/2 only: echo; after DUR send GOAWAY (code C, default NO_ERROR) on the connection",
    ),
    (
        "/h2/reset?after=DUR",
        "HTTP/2 only: echo; after DUR drop the TCP connection (every stream on it is lost)",
    ),
];

/// What one request asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Scenario {
    /// `/`: the help page (as plain HTTP); a WebSocket upgrade there is a 404.
    Index,
    Echo,
    NoDeflate,
    Overload {
        cap: usize,
    },
    Flaky {
        p: f64,
        after: Option<Duration>,
    },
    /// `code: None` is 1005: a close frame with an empty payload.
    Close {
        code: Option<u16>,
        reason: String,
    },
    Reject {
        status: u16,
        retry_after: Option<String>,
    },
    Drop {
        after: Option<Duration>,
    },
    Stall,
    Burst {
        n: u32,
    },
    /// `/feed`: `rate` ticks a second, none after `stall_after`.
    Feed {
        rate: f64,
        stall_after: Option<Duration>,
    },
    /// `/rpc`: answers after a delay drawn uniformly in `[min, max]`.
    Rpc {
        min: Duration,
        max: Duration,
    },
    /// `/auth`: 4408 unless an auth message arrives within `timeout`.
    Auth {
        timeout: Duration,
    },
    /// `/h2/goaway` (HTTP/2 listener only): echo; after `after`, GOAWAY with `code`.
    H2Goaway {
        after: Duration,
        code: u32,
    },
    /// `/h2/reset` (HTTP/2 listener only): echo; after `after`, drop the TCP connection.
    H2Reset {
        after: Duration,
    },
}

impl Scenario {
    /// Whether the upgrade negotiates permessage-deflate when the client offers it.
    pub fn negotiates_deflate(&self) -> bool {
        !matches!(self, Scenario::NoDeflate)
    }

    /// Whether the server resets its compressor after every message even when the client did
    /// not ask it to (RFC 7692 section 7.1.1.1 lets a server add `server_no_context_takeover`).
    /// A compressor that keeps its context holds about 300 KiB per session; the load paths
    /// (everything but `/echo`, which answers exactly what was asked) host thousands of demo
    /// sessions, so they do not keep it.
    pub fn forces_server_no_context_takeover(&self) -> bool {
        !matches!(self, Scenario::Echo)
    }

    /// Whether the scenario is a fault of an HTTP/2 connection (served on `serve --h2` only).
    pub fn is_h2_only(&self) -> bool {
        matches!(self, Scenario::H2Goaway { .. } | Scenario::H2Reset { .. })
    }
}

/// Why a request target does not name a scenario.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// HTTP 404.
    #[error("no scenario at {0}")]
    NotFound(String),
    /// HTTP 400, with the explanation as the body.
    #[error("{0}")]
    BadRequest(String),
}

/// The scenario a request target asks for.
pub fn route(target: &str) -> Result<Scenario, RouteError> {
    if !target.starts_with('/') {
        return Err(RouteError::BadRequest(format!(
            "request target must be a path starting with '/', got {:?}",
            crate::redact::escape_control(target)
        )));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (target, ""),
    };
    let params = Params::parse(path, query)?;
    let scenario = match path {
        "/" => {
            params.only(&[])?;
            Scenario::Index
        }
        "/echo" => {
            params.only(&[])?;
            Scenario::Echo
        }
        "/nodeflate" => {
            params.only(&[])?;
            Scenario::NoDeflate
        }
        "/overload" => {
            params.only(&["cap"])?;
            let cap = match params.get("cap") {
                Some(v) => v.parse::<usize>().map_err(|_| {
                    bad(format!(
                        "cap must be a whole number of sessions, got {:?}",
                        esc(v)
                    ))
                })?,
                None => DEFAULT_CAP,
            };
            Scenario::Overload { cap }
        }
        "/flaky" => {
            params.only(&["p", "after"])?;
            let p = match params.get("p") {
                Some(v) => parse_probability(v)?,
                None => DEFAULT_P,
            };
            let after = params.get("after").map(parse_after).transpose()?;
            Scenario::Flaky { p, after }
        }
        "/drop" => {
            params.only(&["after"])?;
            let after = params.get("after").map(parse_after).transpose()?;
            Scenario::Drop { after }
        }
        "/stall" => {
            params.only(&[])?;
            Scenario::Stall
        }
        "/burst" => {
            params.only(&["n"])?;
            let n = match params.get("n") {
                Some(v) => match v.parse::<u32>() {
                    Ok(n) if n <= MAX_BURST => n,
                    _ => {
                        return Err(bad(format!(
                            "n must be a message count from 0 to {MAX_BURST}, got {:?}",
                            esc(v)
                        )));
                    }
                },
                None => DEFAULT_BURST,
            };
            Scenario::Burst { n }
        }
        "/feed" => {
            params.only(&["rate", "stall_after"])?;
            let rate = match params.get("rate") {
                Some(v) => parse_rate(v)?,
                None => DEFAULT_FEED_RATE,
            };
            let stall_after = params.get("stall_after").map(parse_after).transpose()?;
            Scenario::Feed { rate, stall_after }
        }
        "/rpc" => {
            params.only(&["delay"])?;
            let (min, max) = match params.get("delay") {
                Some(v) => parse_delay_range(v)?,
                None => (Duration::ZERO, Duration::ZERO),
            };
            Scenario::Rpc { min, max }
        }
        "/auth" => {
            params.only(&["timeout"])?;
            let timeout = match params.get("timeout") {
                Some(v) => parse_after(v)?,
                None => DEFAULT_AUTH_TIMEOUT,
            };
            Scenario::Auth { timeout }
        }
        "/h2/goaway" => {
            params.only(&["after", "code"])?;
            let after = params.get("after").map(parse_after).transpose()?;
            let code = match params.get("code") {
                Some(v) => parse_h2_code(v)?,
                None => DEFAULT_GOAWAY_CODE,
            };
            Scenario::H2Goaway {
                after: after.unwrap_or(Duration::ZERO),
                code,
            }
        }
        "/h2/reset" => {
            params.only(&["after"])?;
            let after = params.get("after").map(parse_after).transpose()?;
            Scenario::H2Reset {
                after: after.unwrap_or(Duration::ZERO),
            }
        }
        _ => {
            if let Some(code) = path.strip_prefix("/close/") {
                params.only(&["reason"])?;
                close_scenario(code, params.get("reason"))?
            } else if let Some(status) = path.strip_prefix("/reject/") {
                params.only(&["retry_after"])?;
                reject_scenario(status, params.get("retry_after"))?
            } else {
                return Err(RouteError::NotFound(esc(path)));
            }
        }
    };
    Ok(scenario)
}

fn close_scenario(raw: &str, reason: Option<&str>) -> Result<Scenario, RouteError> {
    let code: u16 = raw.parse().map_err(|_| {
        bad(format!(
            "/close/CODE needs a close code from 1000 to 4999, got {:?}",
            esc(raw)
        ))
    })?;
    if let Some(why) = not_on_the_wire(code) {
        return Err(bad(format!(
            "close code {code} cannot be sent in a close frame: {why}"
        )));
    }
    if code == 1005 {
        if reason.is_some() {
            return Err(bad(
                "1005 means \"no status\": the close frame has no code, so it cannot carry a reason"
                    .to_string(),
            ));
        }
        return Ok(Scenario::Close {
            code: None,
            reason: String::new(),
        });
    }
    let reason = match reason {
        Some(r) if r.len() > MAX_CLOSE_REASON => {
            return Err(bad(format!(
                "close reason is {} bytes; a close frame allows at most {MAX_CLOSE_REASON}",
                r.len()
            )));
        }
        Some(r) => r.to_string(),
        None => default_close_reason(code),
    };
    Ok(Scenario::Close {
        code: Some(code),
        reason,
    })
}

/// Why the scenario server will not send `code` in a close frame, or `None` when it will.
///
/// The wire rule has one owner, [`crate::codes::valid_on_wire`]. The scenario server goes past
/// it on purpose in two places, to show how a client meets a peer that breaks it: 1005 is sent
/// as a close frame without a code, and 1016-2999 (reserved, invalid on the wire) are sent as
/// they are. The other invalid codes are refused, with the reason.
pub fn not_on_the_wire(code: u16) -> Option<&'static str> {
    if crate::codes::valid_on_wire(code) || code == 1005 || (1016..=2999).contains(&code) {
        return None;
    }
    Some(match code {
        0..=999 => "codes 0-999 are not used (RFC 6455 section 7.4.2)",
        1004 => "1004 is reserved and must not be sent",
        1006 => {
            "1006 (Abnormal Closure) is only reported locally when a connection drops without a \
             close frame; use /drop to make that happen"
        }
        1015 => {
            "1015 (TLS Handshake failure) is only reported locally when the TLS handshake fails"
        }
        _ => "close codes end at 4999",
    })
}

/// `scenario close 1008 Policy Violation`.
pub fn default_close_reason(code: u16) -> String {
    format!(
        "scenario close {code} {}",
        crate::codes::Registry::builtin().name(code)
    )
}

fn reject_scenario(raw: &str, retry_after: Option<&str>) -> Result<Scenario, RouteError> {
    let status = match raw.parse::<u16>() {
        Ok(s) if (200..=599).contains(&s) => s,
        _ => {
            return Err(bad(format!(
                "/reject/STATUS needs an HTTP status from 200 to 599, got {:?}",
                esc(raw)
            )));
        }
    };
    let retry_after = match retry_after {
        // Present but empty: send no Retry-After at all.
        Some("") => None,
        Some(v) => {
            if v.bytes().any(|b| b != b'\t' && (b < 0x20 || b == 0x7f)) {
                return Err(bad(
                    "retry_after must not contain control characters (no header injection)"
                        .to_string(),
                ));
            }
            Some(v.to_string())
        }
        None if status == 503 || status == 429 => Some(DEFAULT_RETRY_AFTER.to_string()),
        None => None,
    };
    Ok(Scenario::Reject {
        status,
        retry_after,
    })
}

fn parse_probability(v: &str) -> Result<f64, RouteError> {
    match v.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(bad(format!(
            "p must be a probability from 0 to 1, got {:?}",
            esc(v)
        ))),
    }
}

fn parse_after(v: &str) -> Result<Duration, RouteError> {
    match humantime::parse_duration(v) {
        Ok(d) if d <= MAX_AFTER => Ok(d),
        Ok(_) => Err(bad(format!("after must be at most 24h, got {:?}", esc(v)))),
        Err(e) => Err(bad(format!(
            "after must be a duration such as 500ms, 15s or 1m30s, got {:?}: {e}",
            esc(v)
        ))),
    }
}

fn parse_rate(v: &str) -> Result<f64, RouteError> {
    match v.parse::<f64>() {
        Ok(r) if r > 0.0 && r <= MAX_FEED_RATE => Ok(r),
        _ => Err(bad(format!(
            "rate must be messages a second, more than 0 and at most {MAX_FEED_RATE}, got {:?}",
            esc(v)
        ))),
    }
}

/// `20ms-40ms` or one value (`30ms`): a range of delays, `MIN <= MAX`.
fn parse_delay_range(v: &str) -> Result<(Duration, Duration), RouteError> {
    let one = |s: &str| match humantime::parse_duration(s.trim()) {
        Ok(d) if d <= MAX_AFTER => Ok(d),
        Ok(_) => Err(bad(format!("delay must be at most 24h, got {:?}", esc(v)))),
        Err(e) => Err(bad(format!(
            "delay must be a duration or a range such as 20ms-40ms, got {:?}: {e}",
            esc(v)
        ))),
    };
    let (min, max) = match v.split_once('-') {
        Some((lo, hi)) => (one(lo)?, one(hi)?),
        None => {
            let d = one(v)?;
            (d, d)
        }
    };
    if min > max {
        return Err(bad(format!(
            "delay range {:?} goes backwards: MIN must not be above MAX",
            esc(v)
        )));
    }
    Ok((min, max))
}

/// An HTTP/2 error code (RFC 9113 section 7): a name such as `NO_ERROR` or
/// `ENHANCE_YOUR_CALM`, or a number.
pub fn parse_h2_code(v: &str) -> Result<u32, RouteError> {
    if let Some(code) = H2_CODES
        .iter()
        .position(|name| name.eq_ignore_ascii_case(v))
    {
        return Ok(code as u32);
    }
    let digits = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X"));
    let parsed = match digits {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => v.parse::<u32>(),
    };
    parsed.map_err(|_| {
        bad(format!(
            "code must be an HTTP/2 error code ({}) or a number, got {:?}",
            H2_CODES.join(", "),
            esc(v)
        ))
    })
}

/// The HTTP/2 error codes by number (RFC 9113 section 7).
pub const H2_CODES: &[&str] = &[
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

/// Decoded query parameters of one request.
struct Params<'a> {
    path: &'a str,
    pairs: Vec<(String, String)>,
}

impl<'a> Params<'a> {
    fn parse(path: &'a str, query: &str) -> Result<Self, RouteError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            if pairs.iter().any(|(seen, _)| *seen == k) {
                return Err(bad(format!("parameter {:?} given twice", esc(&k))));
            }
            pairs.push((k.into_owned(), v.into_owned()));
        }
        Ok(Params { path, pairs })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Unknown parameters are an error, so a typo (`?cpa=3`) does not silently use a default.
    fn only(&self, known: &[&str]) -> Result<(), RouteError> {
        match self
            .pairs
            .iter()
            .find(|(k, _)| !known.contains(&k.as_str()))
        {
            None => Ok(()),
            Some((k, _)) if known.is_empty() => Err(bad(format!(
                "{} takes no parameters, got {:?}",
                esc(self.path),
                esc(k)
            ))),
            Some((k, _)) => Err(bad(format!(
                "unknown parameter {:?} for {} (known: {})",
                esc(k),
                esc(self.path),
                known.join(", ")
            ))),
        }
    }
}

fn bad(msg: String) -> RouteError {
    RouteError::BadRequest(msg)
}

fn esc(s: &str) -> String {
    crate::redact::escape_control(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(target: &str) -> Scenario {
        route(target).expect("route should accept this target")
    }

    fn bad_request(target: &str) -> String {
        match route(target) {
            Err(RouteError::BadRequest(m)) => m,
            other => panic!("{target}: expected 400, got {other:?}"),
        }
    }

    #[test]
    fn plain_paths() {
        assert_eq!(ok("/"), Scenario::Index);
        assert_eq!(ok("/echo"), Scenario::Echo);
        assert_eq!(ok("/nodeflate"), Scenario::NoDeflate);
        assert_eq!(ok("/stall"), Scenario::Stall);
        assert_eq!(ok("/drop"), Scenario::Drop { after: None });
    }

    #[test]
    fn unknown_paths_are_404() {
        for t in ["/nope", "/echo/", "/close", "/close/", "/ECHO"] {
            assert!(
                matches!(
                    route(t),
                    Err(RouteError::NotFound(_)) | Err(RouteError::BadRequest(_))
                ),
                "{t}"
            );
        }
        assert_eq!(route("/nope"), Err(RouteError::NotFound("/nope".into())));
        assert_eq!(route("/echo/"), Err(RouteError::NotFound("/echo/".into())));
    }

    #[test]
    fn overload_cap() {
        assert_eq!(ok("/overload?cap=2"), Scenario::Overload { cap: 2 });
        assert_eq!(ok("/overload"), Scenario::Overload { cap: DEFAULT_CAP });
        assert!(bad_request("/overload?cap=-1").contains("cap"));
        assert!(bad_request("/overload?cpa=3").contains("unknown parameter"));
    }

    #[test]
    fn flaky_probability_and_after() {
        assert_eq!(
            ok("/flaky?p=1"),
            Scenario::Flaky {
                p: 1.0,
                after: None
            }
        );
        assert_eq!(
            ok("/flaky?p=0.25&after=15s"),
            Scenario::Flaky {
                p: 0.25,
                after: Some(Duration::from_secs(15))
            }
        );
        assert!(bad_request("/flaky?p=1.5").contains("probability"));
        assert!(bad_request("/flaky?p=NaN").contains("probability"));
        assert!(bad_request("/flaky?after=soon").contains("duration"));
        assert!(bad_request("/flaky?after=1000d").contains("24h"));
    }

    #[test]
    fn close_codes_on_the_wire() {
        assert_eq!(
            ok("/close/1008"),
            Scenario::Close {
                code: Some(1008),
                reason: "scenario close 1008 Policy Violation".into()
            }
        );
        assert_eq!(
            ok("/close/1014"),
            Scenario::Close {
                code: Some(1014),
                reason: "scenario close 1014 Bad Gateway".into()
            }
        );
        assert_eq!(
            ok("/close/1005"),
            Scenario::Close {
                code: None,
                reason: String::new()
            }
        );
        assert_eq!(
            ok("/close/4001?reason=bye%0Anow"),
            Scenario::Close {
                code: Some(4001),
                reason: "bye\nnow".into()
            }
        );
        for code in ["999", "1004", "1006", "1015", "5000", "65535"] {
            assert!(
                bad_request(&format!("/close/{code}")).contains("cannot be sent"),
                "{code}"
            );
        }
        assert!(bad_request("/close/abc").contains("close code"));
        assert!(bad_request("/close/70000").contains("close code"));
        assert!(bad_request("/close/1006").contains("/drop"));
        assert!(bad_request("/close/1005?reason=x").contains("no code"));
        let long = "x".repeat(124);
        assert!(bad_request(&format!("/close/1000?reason={long}")).contains("123"));
    }

    #[test]
    fn reject_status_and_retry_after() {
        assert_eq!(
            ok("/reject/503"),
            Scenario::Reject {
                status: 503,
                retry_after: Some("3".into())
            }
        );
        assert_eq!(
            ok("/reject/429?retry_after=Wed,+21+Oct+2015+07:28:00+GMT"),
            Scenario::Reject {
                status: 429,
                retry_after: Some("Wed, 21 Oct 2015 07:28:00 GMT".into())
            }
        );
        assert_eq!(
            ok("/reject/403"),
            Scenario::Reject {
                status: 403,
                retry_after: None
            }
        );
        assert_eq!(
            ok("/reject/503?retry_after="),
            Scenario::Reject {
                status: 503,
                retry_after: None
            }
        );
        assert!(bad_request("/reject/101").contains("200 to 599"));
        assert!(bad_request("/reject/600").contains("200 to 599"));
        assert!(bad_request("/reject/503?retry_after=1%0D%0AX-Evil:+1").contains("control"));
    }

    #[test]
    fn burst_count() {
        assert_eq!(ok("/burst?n=5"), Scenario::Burst { n: 5 });
        assert_eq!(ok("/burst"), Scenario::Burst { n: DEFAULT_BURST });
        assert!(bad_request("/burst?n=100001").contains("0 to"));
    }

    #[test]
    fn feed_rate_and_stall() {
        assert_eq!(
            ok("/feed"),
            Scenario::Feed {
                rate: 1.0,
                stall_after: None
            }
        );
        assert_eq!(
            ok("/feed?rate=2.5&stall_after=20s"),
            Scenario::Feed {
                rate: 2.5,
                stall_after: Some(Duration::from_secs(20))
            }
        );
        for r in ["0", "-1", "1001", "NaN", "fast"] {
            assert!(
                bad_request(&format!("/feed?rate={r}")).contains("rate"),
                "{r}"
            );
        }
        assert!(bad_request("/feed?stall_after=later").contains("duration"));
        assert!(bad_request("/feed?stal_after=1s").contains("unknown parameter"));
    }

    #[test]
    fn rpc_delay_ranges() {
        let ms = Duration::from_millis;
        assert_eq!(
            ok("/rpc"),
            Scenario::Rpc {
                min: ms(0),
                max: ms(0)
            }
        );
        assert_eq!(
            ok("/rpc?delay=20ms-40ms"),
            Scenario::Rpc {
                min: ms(20),
                max: ms(40)
            }
        );
        assert_eq!(
            ok("/rpc?delay=1s"),
            Scenario::Rpc {
                min: ms(1000),
                max: ms(1000)
            }
        );
        assert!(bad_request("/rpc?delay=40ms-20ms").contains("backwards"));
        assert!(bad_request("/rpc?delay=20ms-").contains("range"));
        assert!(bad_request("/rpc?delay=soon").contains("range"));
        assert!(bad_request("/rpc?delay=1000d").contains("24h"));
    }

    #[test]
    fn auth_timeout() {
        assert_eq!(
            ok("/auth"),
            Scenario::Auth {
                timeout: Duration::from_secs(5)
            }
        );
        assert_eq!(
            ok("/auth?timeout=300ms"),
            Scenario::Auth {
                timeout: Duration::from_millis(300)
            }
        );
        assert!(bad_request("/auth?timeout=x").contains("duration"));
    }

    #[test]
    fn h2_faults() {
        assert_eq!(
            ok("/h2/goaway?after=2s"),
            Scenario::H2Goaway {
                after: Duration::from_secs(2),
                code: 0
            }
        );
        assert_eq!(
            ok("/h2/goaway?after=1s&code=ENHANCE_YOUR_CALM"),
            Scenario::H2Goaway {
                after: Duration::from_secs(1),
                code: 0xb
            }
        );
        assert_eq!(
            ok("/h2/goaway?code=0x2"),
            Scenario::H2Goaway {
                after: Duration::ZERO,
                code: 2
            }
        );
        assert!(ok("/h2/reset?after=1s").is_h2_only());
        assert!(!ok("/echo").is_h2_only());
        assert!(bad_request("/h2/goaway?code=OOPS").contains("HTTP/2 error code"));
        assert_eq!(
            route("/h2/nope"),
            Err(RouteError::NotFound("/h2/nope".into()))
        );
    }

    #[test]
    fn parameters_are_strict() {
        assert!(bad_request("/echo?x=1").contains("takes no parameters"));
        assert!(bad_request("/burst?n=1&n=2").contains("twice"));
        assert!(bad_request("http://h/echo").contains("starting with '/'"));
    }

    #[test]
    fn every_route_is_documented() {
        for (pattern, _) in SCENARIOS {
            let base = pattern.split('?').next().expect("split yields one item");
            let example = base.replace("CODE", "1000").replace("STATUS", "503");
            assert!(route(&example).is_ok(), "{pattern}");
        }
    }
}
