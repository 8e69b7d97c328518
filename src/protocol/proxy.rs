//! The client side of proxies: HTTP `CONNECT` (RFC 9110 section 9.3.6, with Basic credentials
//! taken from the proxy URL) and SOCKS5 (RFC 1928, username/password from RFC 1929), plus the
//! choice of proxy from the environment as curl makes it ([`proxy_for`]).
//!
//! A tunnel is a plain [`TcpStream`]: the WebSocket upgrade (and TLS for `wss://`) runs over it
//! unchanged. Credentials never leave this module in text form: [`ProxyUrl`]'s `Display` and
//! `Debug` and every [`ProxyError`] message show the URL redacted.

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::redact;

/// Largest CONNECT response head we read.
const MAX_HEAD: usize = 8 * 1024;

/// Which proxy protocol, and where a SOCKS5 proxy's target name is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyScheme {
    /// `http://`: HTTP CONNECT.
    Http,
    /// `socks5://`: wsmon resolves the target and sends an address.
    Socks5,
    /// `socks5h://`: the proxy resolves the target's host name.
    Socks5h,
}

/// A parsed proxy URL. `Display` and `Debug` never show the password or the user name.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    pub scheme: ProxyScheme,
    pub host: String,
    pub port: u16,
    credentials: Option<(String, String)>,
}

/// The port a proxy URL without one gets (curl's default for every proxy type).
pub const DEFAULT_PROXY_PORT: u16 = 1080;

impl ProxyUrl {
    /// Parse `http://[user:pass@]host[:port]`, `socks5://...` or `socks5h://...`. A URL without
    /// a scheme is an HTTP proxy, as in curl; a missing port is 1080.
    pub fn parse(raw: &str) -> Result<ProxyUrl, ProxyError> {
        let raw = raw.trim();
        let with_scheme = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("http://{raw}")
        };
        // User input, quoted in the error: redacted, then escaped.
        let bad = |why: String| ProxyError::BadUrl {
            proxy: redact::escape_control(&redact::url(&with_scheme)),
            why,
        };
        let url = url::Url::parse(&with_scheme).map_err(|e| bad(e.to_string()))?;
        let scheme = match url.scheme() {
            "http" => ProxyScheme::Http,
            "socks5" => ProxyScheme::Socks5,
            "socks5h" => ProxyScheme::Socks5h,
            other => {
                return Err(bad(format!(
                    "scheme '{other}' is not supported (use http://, socks5:// or socks5h://)"
                )));
            }
        };
        let host = match url.host() {
            Some(url::Host::Ipv6(a)) => a.to_string(),
            Some(h) => h.to_string(),
            None => return Err(bad("no host".into())),
        };
        if host.is_empty() {
            return Err(bad("no host".into()));
        }
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let credentials = (!url.username().is_empty() || url.password().is_some())
            .then(|| (decode(url.username()), decode(url.password().unwrap_or(""))));
        Ok(ProxyUrl {
            scheme,
            host,
            port: url.port().unwrap_or(DEFAULT_PROXY_PORT),
            credentials,
        })
    }

    /// Whether the URL carried credentials.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// `scheme://host:port`, with `<redacted>@` when there are credentials.
    pub fn redacted(&self) -> String {
        let scheme = match self.scheme {
            ProxyScheme::Http => "http",
            ProxyScheme::Socks5 => "socks5",
            ProxyScheme::Socks5h => "socks5h",
        };
        let auth = if self.credentials.is_some() {
            format!("{}@", redact::REDACTED)
        } else {
            String::new()
        };
        format!("{scheme}://{auth}{}", host_port(&self.host, self.port))
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyUrl({})", self.redacted())
    }
}

fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Why a tunnel could not be made. Every message names the proxy with credentials redacted.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("proxy URL '{proxy}': {why}")]
    BadUrl { proxy: String, why: String },
    /// TCP to the proxy failed.
    #[error("proxy {proxy}: connect failed: {source}")]
    Connect { proxy: String, source: io::Error },
    /// The proxy answered CONNECT with a status other than 2xx.
    #[error("proxy {proxy} refused CONNECT {target}: HTTP {status} {reason}")]
    HttpRefused {
        proxy: String,
        target: String,
        status: u16,
        reason: String,
    },
    /// The SOCKS5 proxy answered with a failure reply code (RFC 1928 section 6).
    #[error("proxy {proxy} refused {target}: SOCKS5 reply {code} ({})", socks_reply_text(*code))]
    SocksRefused {
        proxy: String,
        target: String,
        code: u8,
    },
    /// The SOCKS5 proxy accepts none of the offered methods, or refused the credentials.
    #[error("proxy {proxy}: SOCKS5 authentication failed: {why}")]
    SocksAuth { proxy: String, why: String },
    /// `socks5://` resolves the target locally, and that failed.
    #[error("proxy {proxy}: resolving {target} for SOCKS5 failed: {why}")]
    Resolve {
        proxy: String,
        target: String,
        why: String,
    },
    /// The proxy's answer was not valid for its protocol.
    #[error("proxy {proxy}: invalid answer: {why}")]
    Protocol { proxy: String, why: String },
    /// Reading or writing the proxy exchange failed.
    #[error("proxy {proxy}: {source}")]
    Io { proxy: String, source: io::Error },
}

/// The error kind name proxy failures are recorded under (`errors{kind=proxy}`).
pub const ERROR_KIND: &str = "proxy";

impl ProxyError {
    /// The proxy's own status: the HTTP status of a refused CONNECT, or the SOCKS5 reply code.
    pub fn status(&self) -> Option<u16> {
        match self {
            ProxyError::HttpRefused { status, .. } => Some(*status),
            ProxyError::SocksRefused { code, .. } => Some(u16::from(*code)),
            _ => None,
        }
    }

    /// Whether retrying later may help: not for a bad URL, refused credentials (407, or 401 as
    /// tinyproxy sends for a wrong password; SOCKS auth)
    /// or a target the proxy forbids (403, SOCKS "not allowed by ruleset").
    pub fn retryable(&self) -> bool {
        match self {
            ProxyError::BadUrl { .. } | ProxyError::SocksAuth { .. } => false,
            ProxyError::HttpRefused { status, .. } => {
                !matches!(status, 400 | 401 | 403 | 405 | 407)
            }
            ProxyError::SocksRefused { code, .. } => !matches!(code, 2 | 7 | 8),
            _ => true,
        }
    }
}

/// What the retry policy needs to know about a proxy failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// [`ProxyError::status`].
    pub status: Option<u16>,
    /// [`ProxyError::retryable`].
    pub retryable: bool,
}

impl ProxyError {
    pub fn refusal(&self) -> Refusal {
        Refusal {
            status: self.status(),
            retryable: self.retryable(),
        }
    }
}

/// RFC 1928 section 6 reply codes.
pub fn socks_reply_text(code: u8) -> &'static str {
    match code {
        0 => "succeeded",
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unassigned reply code",
    }
}

/// How long the proxy hop took, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProxyTiming {
    /// TCP connect to the proxy (None when the caller connected).
    pub connect: Option<f64>,
    /// The CONNECT or SOCKS5 exchange, until the tunnel was ready.
    pub tunnel: f64,
}

/// A ready tunnel to the target through the proxy.
#[derive(Debug)]
pub struct Tunnel {
    pub stream: TcpStream,
    pub timing: ProxyTiming,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Connect to the proxy and open a tunnel to `host:port`.
pub async fn connect(proxy: &ProxyUrl, host: &str, port: u16) -> Result<Tunnel, ProxyError> {
    let t0 = Instant::now();
    let stream = TcpStream::connect((proxy.host.as_str(), proxy.port))
        .await
        .map_err(|source| ProxyError::Connect {
            proxy: proxy.redacted(),
            source,
        })?;
    let connected = ms(t0.elapsed());
    let mut tunnel = tunnel(stream, proxy, host, port).await?;
    tunnel.timing.connect = Some(connected);
    Ok(tunnel)
}

/// Open a tunnel to `host:port` over `stream`, already connected to the proxy.
pub async fn tunnel(
    stream: TcpStream,
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
) -> Result<Tunnel, ProxyError> {
    let t0 = Instant::now();
    let stream = match proxy.scheme {
        ProxyScheme::Http => http_connect(stream, proxy, host, port).await?,
        ProxyScheme::Socks5 | ProxyScheme::Socks5h => socks5(stream, proxy, host, port).await?,
    };
    Ok(Tunnel {
        stream,
        timing: ProxyTiming {
            connect: None,
            tunnel: ms(t0.elapsed()),
        },
    })
}

fn io_err(proxy: &ProxyUrl) -> impl Fn(io::Error) -> ProxyError + '_ {
    move |source| ProxyError::Io {
        proxy: proxy.redacted(),
        source,
    }
}

/// `CONNECT host:port`, then read the answer head byte by byte so that nothing the target
/// sends after it is consumed here.
async fn http_connect(
    mut stream: TcpStream,
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
) -> Result<TcpStream, ProxyError> {
    let target = host_port(host, port);
    let mut req = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some((user, pass)) = &proxy.credentials {
        let token = data_encoding::BASE64.encode(format!("{user}:{pass}").as_bytes());
        req.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    req.push_str("\r\n");
    stream
        .write_all(req.as_bytes())
        .await
        .map_err(io_err(proxy))?;

    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_HEAD {
            return Err(ProxyError::Protocol {
                proxy: proxy.redacted(),
                why: format!("CONNECT answer head longer than {MAX_HEAD} bytes"),
            });
        }
        let n = stream.read(&mut byte).await.map_err(io_err(proxy))?;
        if n == 0 {
            return Err(ProxyError::Protocol {
                proxy: proxy.redacted(),
                why: "connection closed before the CONNECT answer ended".into(),
            });
        }
        head.push(byte[0]);
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) | Err(_) => {
            return Err(ProxyError::Protocol {
                proxy: proxy.redacted(),
                why: "the CONNECT answer is not valid HTTP/1.x".into(),
            });
        }
    }
    let status = resp.code.unwrap_or(0);
    if (200..300).contains(&status) {
        return Ok(stream);
    }
    Err(ProxyError::HttpRefused {
        proxy: proxy.redacted(),
        target,
        status,
        reason: resp
            .reason
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .collect(),
    })
}

async fn socks5(
    mut stream: TcpStream,
    proxy: &ProxyUrl,
    host: &str,
    port: u16,
) -> Result<TcpStream, ProxyError> {
    let target = host_port(host, port);
    let bad = |why: String| ProxyError::Protocol {
        proxy: proxy.redacted(),
        why,
    };
    // The address to send: an IP as is; a name resolved here (socks5) or sent (socks5h).
    let addr: Vec<u8> = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => ip_bytes(ip),
        Err(_) if proxy.scheme == ProxyScheme::Socks5 => {
            let resolved = tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| ProxyError::Resolve {
                    proxy: proxy.redacted(),
                    target: target.clone(),
                    why: e.to_string(),
                })?
                .next()
                .ok_or_else(|| ProxyError::Resolve {
                    proxy: proxy.redacted(),
                    target: target.clone(),
                    why: "no address".into(),
                })?;
            ip_bytes(resolved.ip())
        }
        Err(_) => {
            let name = host.as_bytes();
            let len = u8::try_from(name.len())
                .map_err(|_| bad(format!("host name '{host}' is longer than 255 bytes")))?;
            let mut v = vec![3, len];
            v.extend_from_slice(name);
            v
        }
    };

    // Method negotiation: no authentication, plus username/password when we have credentials.
    let greeting: &[u8] = if proxy.credentials.is_some() {
        &[5, 2, 0, 2]
    } else {
        &[5, 1, 0]
    };
    stream.write_all(greeting).await.map_err(io_err(proxy))?;
    let mut choice = [0u8; 2];
    stream
        .read_exact(&mut choice)
        .await
        .map_err(io_err(proxy))?;
    if choice[0] != 5 {
        return Err(bad(format!(
            "version {} in the method answer, not 5",
            choice[0]
        )));
    }
    match (choice[1], &proxy.credentials) {
        (0, _) => {}
        (2, Some((user, pass))) => {
            let (u, p) = (user.as_bytes(), pass.as_bytes());
            let (Ok(ul), Ok(pl)) = (u8::try_from(u.len()), u8::try_from(p.len())) else {
                return Err(ProxyError::SocksAuth {
                    proxy: proxy.redacted(),
                    why: "user name or password longer than 255 bytes".into(),
                });
            };
            let mut msg = vec![1, ul];
            msg.extend_from_slice(u);
            msg.push(pl);
            msg.extend_from_slice(p);
            stream.write_all(&msg).await.map_err(io_err(proxy))?;
            let mut answer = [0u8; 2];
            stream
                .read_exact(&mut answer)
                .await
                .map_err(io_err(proxy))?;
            if answer[1] != 0 {
                return Err(ProxyError::SocksAuth {
                    proxy: proxy.redacted(),
                    why: format!("the proxy refused the credentials (status {})", answer[1]),
                });
            }
        }
        (0xff, _) => {
            return Err(ProxyError::SocksAuth {
                proxy: proxy.redacted(),
                why: if proxy.credentials.is_some() {
                    "no acceptable method".into()
                } else {
                    "the proxy requires credentials (none in the proxy URL)".into()
                },
            });
        }
        (m, _) => {
            return Err(bad(format!(
                "the proxy chose method {m}, which was not offered"
            )));
        }
    }

    let mut req = vec![5, 1, 0];
    req.extend_from_slice(&addr);
    req.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&req).await.map_err(io_err(proxy))?;
    let mut reply = [0u8; 4];
    stream.read_exact(&mut reply).await.map_err(io_err(proxy))?;
    if reply[0] != 5 {
        return Err(bad(format!("version {} in the reply, not 5", reply[0])));
    }
    if reply[1] != 0 {
        return Err(ProxyError::SocksRefused {
            proxy: proxy.redacted(),
            target,
            code: reply[1],
        });
    }
    // Skip the bound address and port.
    let rest = match reply[3] {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut len = [0u8; 1];
            stream.read_exact(&mut len).await.map_err(io_err(proxy))?;
            usize::from(len[0]) + 2
        }
        t => return Err(bad(format!("address type {t} in the reply"))),
    };
    let mut skip = vec![0u8; rest];
    stream.read_exact(&mut skip).await.map_err(io_err(proxy))?;
    Ok(stream)
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => [&[1u8][..], &a.octets()].concat(),
        IpAddr::V6(a) => [&[4u8][..], &a.octets()].concat(),
    }
}

/// The proxy the environment asks for, for a `ws://` or `wss://` URL, as curl chooses it:
/// `https_proxy` then `HTTPS_PROXY` for wss; `http_proxy` for ws (lowercase only: curl ignores
/// `HTTP_PROXY`, which a CGI environment can set from a request's `Proxy:` header); then
/// `all_proxy`, `ALL_PROXY`. `no_proxy` (or `NO_PROXY`) lists hosts that go direct: see
/// [`no_proxy_matches`]. Empty variables count as unset. `env` reads a variable.
pub fn proxy_for(
    url: &url::Url,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<ProxyUrl>, ProxyError> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let Some(host) = url.host_str() else {
        return Ok(None);
    };
    let port = url.port_or_known_default().unwrap_or(0);
    if let Some(list) = get("no_proxy").or_else(|| get("NO_PROXY"))
        && no_proxy_matches(&list, host, port)
    {
        return Ok(None);
    }
    let scheme_var = match url.scheme() {
        "wss" | "https" => get("https_proxy").or_else(|| get("HTTPS_PROXY")),
        "ws" | "http" => get("http_proxy"),
        _ => None,
    };
    scheme_var
        .or_else(|| get("all_proxy"))
        .or_else(|| get("ALL_PROXY"))
        .map(|v| ProxyUrl::parse(&v))
        .transpose()
}

/// [`proxy_for`] with the process environment.
pub fn proxy_from_env(url: &url::Url) -> Result<Option<ProxyUrl>, ProxyError> {
    proxy_for(url, |name| std::env::var(name).ok())
}

/// Whether `host:port` is in a `NO_PROXY` list: comma (or space) separated entries, each `*`
/// (everything), a domain (`example.com` and `.example.com` both match the domain and its
/// subdomains), an IP address or CIDR block (`10.0.0.0/8`, `::1`), optionally with `:port`
/// (then only that port matches). Case-insensitive; a trailing dot is ignored.
pub fn no_proxy_matches(list: &str, host: &str, port: u16) -> bool {
    let host = host
        .trim_matches(['[', ']'])
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let host_ip: Option<IpAddr> = host.parse().ok();
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let (pattern, want_port) = split_port(entry);
            if want_port.is_some_and(|p| p != port) {
                return false;
            }
            let pattern = pattern
                .trim_matches(['[', ']'])
                .trim_end_matches('.')
                .to_ascii_lowercase();
            if let Some(ip) = host_ip {
                return ip_matches(&pattern, ip);
            }
            let domain = pattern.trim_start_matches("*.").trim_start_matches('.');
            !domain.is_empty()
                && (host == domain
                    || host
                        .strip_suffix(domain)
                        .is_some_and(|pre| pre.ends_with('.')))
        })
}

/// `entry` split into the host pattern and an optional port (`host:80`, `[::1]:80`).
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        if let Some((addr, tail)) = rest.split_once(']') {
            return (addr, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
        }
        return (entry, None);
    }
    // A bare IPv6 address (two or more colons) has no port.
    match entry.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => match p.parse() {
            Ok(port) => (h, Some(port)),
            Err(_) => (entry, None),
        },
        _ => (entry, None),
    }
}

fn ip_matches(pattern: &str, ip: IpAddr) -> bool {
    let (addr, bits) = match pattern.split_once('/') {
        Some((a, b)) => match b.parse::<u8>() {
            Ok(bits) => (a, Some(bits)),
            Err(_) => return false,
        },
        None => (pattern, None),
    };
    let Ok(net) = addr.parse::<IpAddr>() else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(h)) => prefix_eq(&n.octets(), &h.octets(), bits.unwrap_or(32)),
        (IpAddr::V6(n), IpAddr::V6(h)) => prefix_eq(&n.octets(), &h.octets(), bits.unwrap_or(128)),
        _ => false,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits).min(a.len() * 8);
    (0..bits).all(|i| {
        let mask = 0x80u8 >> (i % 8);
        a[i / 8] & mask == b[i / 8] & mask
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).expect("test URL")
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn chosen(u: &str, pairs: &[(&str, &str)]) -> Option<String> {
        proxy_for(&url(u), env(pairs))
            .expect("valid proxy variables")
            .map(|p| p.redacted())
    }

    #[test]
    fn parses_proxy_urls_and_never_shows_credentials() {
        let p = ProxyUrl::parse("http://alice:s3cr%40t@proxy.corp:3128").expect("parses");
        assert_eq!(p.scheme, ProxyScheme::Http);
        assert_eq!((p.host.as_str(), p.port), ("proxy.corp", 3128));
        assert_eq!(
            p.credentials,
            Some(("alice".to_string(), "s3cr@t".to_string()))
        );
        for shown in [p.to_string(), format!("{p:?}"), p.redacted()] {
            assert!(
                !shown.contains("s3cr") && !shown.contains("alice"),
                "{shown}"
            );
            assert!(shown.contains("<redacted>@proxy.corp:3128"), "{shown}");
        }
        let p = ProxyUrl::parse("proxy.corp").expect("no scheme");
        assert_eq!((p.scheme, p.port), (ProxyScheme::Http, DEFAULT_PROXY_PORT));
        assert_eq!(
            ProxyUrl::parse("socks5h://[::1]:1081")
                .expect("v6")
                .redacted(),
            "socks5h://[::1]:1081"
        );
        assert_eq!(
            ProxyUrl::parse("socks5://u:p@h").expect("socks").scheme,
            ProxyScheme::Socks5
        );
        let e = ProxyUrl::parse("https://bob:hunter2@p:443").expect_err("https proxy");
        assert!(e.to_string().contains("scheme 'https'"), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(ProxyUrl::parse("http://").is_err());
        for evil in [
            "\u{1b}[31mbad host\u{7}",
            "http://h:\u{1b}]0;x/",
            "ftp://\u{1b}[2J@h",
        ] {
            let e = ProxyUrl::parse(evil).expect_err(evil).to_string();
            assert!(!e.chars().any(char::is_control), "{e:?}");
        }
    }

    #[test]
    fn environment_is_read_as_curl_reads_it() {
        let all = [
            ("https_proxy", "http://s.lower:1"),
            ("HTTPS_PROXY", "http://s.upper:2"),
            ("http_proxy", "http://p.lower:3"),
            ("HTTP_PROXY", "http://p.upper:4"),
            ("ALL_PROXY", "socks5h://all:5"),
        ];
        assert_eq!(
            chosen("wss://e.test/", &all).as_deref(),
            Some("http://s.lower:1")
        );
        assert_eq!(
            chosen("ws://e.test/", &all).as_deref(),
            Some("http://p.lower:3")
        );
        // Uppercase HTTPS_PROXY is read; uppercase HTTP_PROXY never is (curl: httpoxy).
        assert_eq!(
            chosen("wss://e.test/", &all[1..]).as_deref(),
            Some("http://s.upper:2")
        );
        assert_eq!(
            chosen("ws://e.test/", &all[3..]).as_deref(),
            Some("socks5h://all:5")
        );
        assert_eq!(
            chosen("ws://e.test/", &[("HTTP_PROXY", "http://p:4")]),
            None
        );
        // all_proxy (lowercase first), and empty values are unset.
        assert_eq!(
            chosen(
                "ws://e.test/",
                &[
                    ("http_proxy", " "),
                    ("all_proxy", "a:9"),
                    ("ALL_PROXY", "b:9")
                ]
            )
            .as_deref(),
            Some("http://a:9")
        );
        assert_eq!(chosen("wss://e.test/", &[]), None);
        // no_proxy wins over every proxy variable; lowercase is read before uppercase.
        let mut with_no = all.to_vec();
        with_no.push(("no_proxy", "e.test"));
        with_no.push(("NO_PROXY", "other.test"));
        assert_eq!(chosen("wss://e.test/", &with_no), None);
        assert!(chosen("wss://other.test/", &with_no).is_some());
        // A malformed variable is an error that names it redacted.
        let e = proxy_for(
            &url("wss://e.test/"),
            env(&[("https_proxy", "ftp://u:pw@x")]),
        )
        .expect_err("ftp proxy");
        assert!(!e.to_string().contains("pw"), "{e}");
    }

    #[test]
    fn no_proxy_lists() {
        let m = no_proxy_matches;
        assert!(m("*", "anything.test", 443));
        assert!(m("example.com", "example.com", 443));
        assert!(m("example.com", "api.example.com", 443));
        assert!(m(".example.com", "example.com", 80));
        assert!(m(".example.com", "a.b.example.com", 80));
        assert!(m("*.example.com", "a.example.com", 80));
        assert!(!m("example.com", "badexample.com", 443));
        assert!(!m("example.com", "example.com.evil.test", 443));
        assert!(m("EXAMPLE.com.", "Api.Example.COM", 443));
        assert!(m("localhost, 10.0.0.0/8 ,corp.test", "10.1.2.3", 80));
        assert!(!m("10.0.0.0/8", "11.1.2.3", 80));
        assert!(m("127.0.0.1", "127.0.0.1", 9001));
        assert!(!m("127.0.0.1", "127.0.0.2", 9001));
        assert!(m("::1", "[::1]", 80));
        assert!(m("fd00::/8", "fd12::1", 80));
        assert!(!m("fd00::/8", "10.0.0.1", 80));
        assert!(m("example.com:8080", "example.com", 8080));
        assert!(!m("example.com:8080", "example.com", 443));
        assert!(m("[::1]:9001", "::1", 9001));
        assert!(!m("[::1]:9001", "::1", 9002));
        assert!(m("a.test b.test", "b.test", 1));
        assert!(!m("", "example.com", 443));
        assert!(!m(",,", "example.com", 443));
        assert!(!m("10.0.0.0/abc", "10.0.0.1", 80));
    }

    #[test]
    fn errors_carry_the_proxy_status_and_retry_advice() {
        let refused = |status| ProxyError::HttpRefused {
            proxy: "http://<redacted>@p:3128".into(),
            target: "h:443".into(),
            status,
            reason: "Proxy Authentication Required".into(),
        };
        let e = refused(407);
        assert_eq!(e.status(), Some(407));
        assert!(!e.retryable());
        assert!(refused(502).retryable());
        assert_eq!(
            e.to_string(),
            "proxy http://<redacted>@p:3128 refused CONNECT h:443: HTTP 407 Proxy Authentication Required"
        );
        let s = ProxyError::SocksRefused {
            proxy: "socks5://p:1080".into(),
            target: "h:80".into(),
            code: 2,
        };
        assert_eq!(s.status(), Some(2));
        assert!(!s.retryable());
        assert!(
            s.to_string()
                .contains("SOCKS5 reply 2 (connection not allowed by ruleset)")
        );
    }
}
