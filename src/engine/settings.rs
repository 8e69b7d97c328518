//! What the engine is told to do: targets, per-connection settings, the backoff policy and the
//! seed. Built by `config` from the TOML file and the CLI flags; the engine never reads either.

use std::time::Duration;

use url::Url;

use crate::engine::backoff::BackoffConfig;
use crate::engine::shard::{LocalAddrs, Shard};
use crate::protocol::extensions::{self, Extension};
use crate::protocol::proxy::{self, ProxyError, ProxyUrl};

/// One target: a URL and how to talk to it.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub url: Url,
    pub sessions: usize,
    pub headers: Vec<(String, String)>,
    pub subprotocols: Vec<String>,
    pub offers: Vec<Extension>,
    pub require: Vec<String>,
    /// What the target's sessions say once open (a script, a built-in protocol); `None`:
    /// nothing but `--send`.
    pub conversation: Option<std::sync::Arc<dyn crate::engine::conversation::ConversationFactory>>,
}

impl TargetSpec {
    /// `sessions` sessions to `url` with the default offer and nothing else.
    pub fn new(url: Url, sessions: usize) -> Self {
        TargetSpec {
            url,
            sessions,
            headers: Vec::new(),
            subprotocols: Vec::new(),
            offers: extensions::parse_header(extensions::DEFAULT_OFFER).unwrap_or_default(),
            require: Vec::new(),
            conversation: None,
        }
    }
}

/// Per-connection behaviour shared by all sessions.
#[derive(Debug, Clone)]
pub struct SessionSettings {
    pub connect_timeout: Duration,
    pub max_message_size: usize,
    /// `None` = no pings.
    pub ping_interval: Option<Duration>,
    pub send: Option<String>,
    pub send_every: Option<Duration>,
    pub insecure: bool,
    /// How long to wait for the peer's close frame after sending ours.
    pub close_timeout: Duration,
    /// At most this many attempts between TCP connect and the upgrade answer (`--max-connecting`).
    pub max_connecting: usize,
    /// First attempts started per second (`--ramp`); `None`: all at once.
    pub ramp: Option<f64>,
    /// The same wait for the 1001 closes sent when wsmon stops (`--close-timeout`): short, so
    /// a run ends about this long after its deadline or signal.
    pub shutdown_close_timeout: Duration,
    /// A session with no message from the server for this long is stale (`--stale-after`);
    /// `None`: never (a protocol may set its own).
    pub stale_after: Option<Duration>,
    /// What a stale session does (`--stale-action`).
    pub stale_action: StaleAction,
    /// The message log and `--record-messages`: whether sessions report their frames.
    pub messages: MessageSettings,
    /// HTTP/1.1, HTTP/2 or what the server allows (`--transport`).
    pub transport: crate::protocol::http2::TransportMode,
    /// Sessions per HTTP/2 connection (`--streams-per-connection`), capped by the server's
    /// SETTINGS_MAX_CONCURRENT_STREAMS.
    pub streams_per_connection: usize,
}

/// `--message-log COUNT,SIZE`, `--message-preview SIZE`, `--record-messages`. Sessions emit a
/// `message` event per frame only when the log is on or the frames are recorded: with both
/// off the log costs nothing (no event, no copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageSettings {
    /// Entries kept per session (0: the log is off).
    pub log_count: usize,
    /// Payload bytes kept per session, over all its entries (0: the log is off).
    pub log_bytes: usize,
    /// Payload bytes kept per entry: a longer payload keeps its first bytes and its length.
    pub preview: usize,
    /// `--record-messages`: `message` events go to the export too.
    pub record: bool,
}

impl Default for MessageSettings {
    fn default() -> Self {
        MessageSettings {
            log_count: 200,
            log_bytes: 64 * 1024,
            preview: 4 * 1024,
            record: false,
        }
    }
}

impl MessageSettings {
    /// The log keeps nothing (`--message-log 0`).
    pub fn log_off(&self) -> bool {
        self.log_count == 0 || self.log_bytes == 0
    }

    /// The payload bytes a `message` event carries, or `None` when sessions emit none.
    pub fn emit_cap(&self) -> Option<usize> {
        if self.record {
            Some(self.preview)
        } else if self.log_off() {
            None
        } else {
            Some(self.preview.min(self.log_bytes))
        }
    }
}

/// What a stale session does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StaleAction {
    /// Stay open, shown and counted as stale until the next message.
    #[default]
    Keep,
    /// Close with this code (initiator client, reason "stale: no message for ...") and
    /// reconnect per the reconnect policy, as a real client would.
    Reconnect { code: u16 },
}

impl std::str::FromStr for StaleAction {
    type Err = String;

    /// `keep`, `reconnect` (close with 1000) or `reconnect:CODE` (a code wsmon may send:
    /// 1000-1003, 1007-1014, 3000-4999).
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "stale action '{}' must be keep, reconnect or reconnect:CODE",
                crate::redact::escape_control(s)
            )
        };
        match s.split_once(':') {
            None if s == "keep" => Ok(StaleAction::Keep),
            None if s == "reconnect" => Ok(StaleAction::Reconnect { code: 1000 }),
            Some(("reconnect", c)) => {
                let code = crate::codes::parse_code(c).map_err(|_| bad())?;
                if !crate::codes::valid_on_wire(code) {
                    return Err(format!(
                        "stale action: {code} cannot be sent in a close frame (use \
                         1000-1003, 1007-1014 or 3000-4999)"
                    ));
                }
                Ok(StaleAction::Reconnect { code })
            }
            _ => Err(bad()),
        }
    }
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            connect_timeout: Duration::from_secs(10),
            max_message_size: 16 * 1024 * 1024,
            ping_interval: Some(Duration::from_secs(15)),
            send: None,
            send_every: None,
            insecure: false,
            close_timeout: Duration::from_secs(5),
            max_connecting: crate::engine::slots::DEFAULT_MAX_CONNECTING,
            ramp: None,
            shutdown_close_timeout: Duration::from_secs(1),
            stale_after: None,
            stale_action: StaleAction::Keep,
            messages: MessageSettings::default(),
            transport: Default::default(),
            streams_per_connection: DEFAULT_STREAMS_PER_CONNECTION,
        }
    }
}

/// `--streams-per-connection` unless told.
pub const DEFAULT_STREAMS_PER_CONNECTION: usize = 100;

/// Everything the engine needs to start.
#[derive(Debug, Clone, Default)]
pub struct EngineSettings {
    pub targets: Vec<TargetSpec>,
    pub session: SessionSettings,
    pub backoff: BackoffConfig,
    /// Seed for jitter randomness; `None` draws one from the OS.
    pub seed: Option<u64>,
    /// Which proxy each target goes through (`--proxy`, or the environment).
    pub proxy: ProxyRule,
    /// Source addresses, handed out round-robin in spawn order (`--local-addr`).
    pub local_addrs: Option<LocalAddrs>,
    /// This agent's share of every target's sessions (`--shard K/N`).
    pub shard: Shard,
    /// `--start-at`: the first session opens at this wall-clock time (at once when it has
    /// passed); `None` starts at once.
    pub start_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The proxy environment variables curl reads, captured once at start.
pub const PROXY_ENV_VARS: [&str; 7] = [
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// Which proxy a target's sessions go through.
#[derive(Clone, Default, PartialEq)]
pub enum ProxyRule {
    /// Straight to every target (`--no-proxy`, `--proxy ''`).
    #[default]
    Direct,
    /// Through this proxy, except for hosts in `no_proxy` (the `NO_PROXY` list, as curl does).
    Fixed {
        proxy: ProxyUrl,
        no_proxy: Option<String>,
    },
    /// As curl chooses from these environment variables ([`proxy::proxy_for`]).
    Env(std::collections::BTreeMap<String, String>),
}

impl ProxyRule {
    /// `--proxy URL` with the environment's `no_proxy`/`NO_PROXY` list.
    pub fn fixed(proxy: ProxyUrl, env: &dyn Fn(&str) -> Option<String>) -> ProxyRule {
        let no_proxy = env("no_proxy")
            .or_else(|| env("NO_PROXY"))
            .filter(|v| !v.trim().is_empty());
        ProxyRule::Fixed { proxy, no_proxy }
    }

    /// The proxy variables of `env` (unset and empty ones left out).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> ProxyRule {
        ProxyRule::Env(
            PROXY_ENV_VARS
                .iter()
                .filter_map(|k| env(k).map(|v| (k.to_string(), v)))
                .filter(|(_, v)| !v.trim().is_empty())
                .collect(),
        )
    }

    /// The proxy for `url`, or None to go direct.
    pub fn for_url(&self, url: &Url) -> Result<Option<ProxyUrl>, ProxyError> {
        match self {
            ProxyRule::Direct => Ok(None),
            ProxyRule::Fixed { proxy, no_proxy } => {
                let host = url.host_str().unwrap_or_default();
                let port = url.port_or_known_default().unwrap_or(0);
                if no_proxy
                    .as_deref()
                    .is_some_and(|l| proxy::no_proxy_matches(l, host, port))
                {
                    Ok(None)
                } else {
                    Ok(Some(proxy.clone()))
                }
            }
            ProxyRule::Env(vars) => proxy::proxy_for(url, |k| vars.get(k).cloned()),
        }
    }
}

/// Never shows a proxy's credentials.
impl std::fmt::Debug for ProxyRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyRule::Direct => f.write_str("Direct"),
            ProxyRule::Fixed { proxy, no_proxy } => f
                .debug_struct("Fixed")
                .field("proxy", proxy)
                .field("no_proxy", no_proxy)
                .finish(),
            ProxyRule::Env(vars) => {
                let shown: Vec<String> = vars
                    .iter()
                    .map(|(k, v)| {
                        let shown = if k.eq_ignore_ascii_case("no_proxy") {
                            v.clone()
                        } else {
                            ProxyUrl::parse(v)
                                .map(|p| p.to_string())
                                .unwrap_or_else(|_| "<invalid>".into())
                        };
                        format!("{k}={shown}")
                    })
                    .collect();
                f.debug_tuple("Env").field(&shown).finish()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn proxy_rules_choose_per_target_and_never_show_credentials() {
        let ws = Url::parse("ws://api.example.com/feed").expect("url");
        let wss = Url::parse("wss://api.example.com/feed").expect("url");
        let local = Url::parse("ws://127.0.0.1:9001/echo").expect("url");
        let vars = [
            ("http_proxy", "http://user:hunter2@proxy:3128"),
            ("HTTPS_PROXY", "socks5h://proxy:1080"),
            ("NO_PROXY", "127.0.0.1,.internal"),
        ];
        let rule = ProxyRule::from_env(&env(&vars));
        let shown = |u: &Url| rule.for_url(u).expect("valid").map(|p| p.to_string());
        assert_eq!(shown(&ws).as_deref(), Some("http://<redacted>@proxy:3128"));
        assert_eq!(shown(&wss).as_deref(), Some("socks5h://proxy:1080"));
        assert_eq!(shown(&local), None, "NO_PROXY");
        assert!(!format!("{rule:?}").contains("hunter2"), "{rule:?}");

        let fixed = ProxyRule::fixed(
            ProxyUrl::parse("http://a:b@10.0.0.1:8080").expect("proxy"),
            &env(&vars),
        );
        assert!(fixed.for_url(&wss).expect("ok").is_some());
        assert_eq!(fixed.for_url(&local).expect("ok"), None, "NO_PROXY applies");
        assert!(!format!("{fixed:?}").contains(":b@"), "{fixed:?}");
        assert_eq!(ProxyRule::Direct.for_url(&ws).expect("ok"), None);
        assert_eq!(
            ProxyRule::from_env(&env(&[])).for_url(&ws).expect("ok"),
            None
        );
    }

    #[test]
    fn a_new_target_offers_deflate_without_client_context() {
        let url = Url::parse("ws://127.0.0.1:1/").expect("valid URL");
        let t = TargetSpec::new(url, 3);
        assert_eq!(t.sessions, 3);
        assert_eq!(t.offers.len(), 1);
        assert_eq!(t.offers[0].name, extensions::PERMESSAGE_DEFLATE);
        assert!(t.offers[0].param("client_no_context_takeover").is_some());
    }
}
