//! What the engine is told to do: targets, per-connection settings, the backoff policy and the
//! seed. Built by `config` from the TOML file and the CLI flags; the engine never reads either.

use std::time::Duration;

use url::Url;

use crate::engine::backoff::BackoffConfig;
use crate::protocol::extensions::{self, Extension};

/// One target: a URL and how to talk to it.
#[derive(Debug, Clone)]
pub struct TargetSpec {
    pub url: Url,
    pub sessions: usize,
    pub headers: Vec<(String, String)>,
    pub subprotocols: Vec<String>,
    pub offers: Vec<Extension>,
    pub require: Vec<String>,
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
        }
    }
}

/// Everything the engine needs to start.
#[derive(Debug, Clone, Default)]
pub struct EngineSettings {
    pub targets: Vec<TargetSpec>,
    pub session: SessionSettings,
    pub backoff: BackoffConfig,
    /// Seed for jitter randomness; `None` draws one from the OS.
    pub seed: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
