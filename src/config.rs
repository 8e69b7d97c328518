//! Configuration: a TOML file merged with CLI flags (CLI wins) into one validated [`Config`],
//! which carries the engine's own settings types ([`EngineSettings`] via [`Config::engine`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::cli::{LangArg, WatchArgs};
use crate::codes::AppCode;
use crate::engine::backoff::{self, Advice, BackoffConfig};
use crate::engine::events::Jitter;
use crate::engine::settings::{ProxyRule, StaleAction};
use crate::engine::{EngineSettings, SessionSettings, TargetSpec};
use crate::protocol::extensions::{DEFAULT_OFFER, Extension, is_token};
use crate::protocol::proxy::ProxyUrl;
use crate::redact::escape_control;
use crate::thresholds::{self, Threshold};
use crate::units::{parse_duration, parse_size};

mod protocols;
mod script;
mod values;

use values::{check_subprotocols, parse_file_headers, parse_headers, parse_offers};
pub use values::{expand_env, parse_header_arg, parse_url};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", escape_control(&path.display().to_string()))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {}: {message}", escape_control(&path.display().to_string()))]
    Parse { path: PathBuf, message: String },
    #[error(
        "config file {} is not a regular file ({kind})",
        escape_control(&path.display().to_string())
    )]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error(
        "config file {} is {}, over the {} limit",
        escape_control(&path.display().to_string()),
        mib(*size),
        mib(MAX_CONFIG_BYTES)
    )]
    TooBig { path: PathBuf, size: u64 },
    #[error("{0}")]
    Invalid(String),
}

/// The largest config file read: a real one is a few KiB (25,000 `[[targets]]` fit in 1 MiB),
/// and parsing costs about 30 times the file in memory.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The longest line of a config file quoted in a parse error (the parser quotes the offending
/// one), and the longest line of any other config error (a value quoted in it is cut).
const MAX_QUOTED_LINE: usize = 160;
const MAX_ERROR_LINE: usize = 400;
/// The longest `[keys]` action name or key list.
const MAX_KEY_ENTRY: usize = 64;

/// "50.0 MiB", "1 MiB".
fn mib(bytes: u64) -> String {
    let m = bytes as f64 / (1024.0 * 1024.0);
    if bytes.is_multiple_of(1024 * 1024) {
        format!("{m:.0} MiB")
    } else {
        format!("{m:.1} MiB")
    }
}

/// Text from a file for an error message: each line cut to `max` characters (with `...`),
/// then every control character escaped, line breaks kept.
fn excerpt(text: &str, max: usize) -> String {
    let cut: Vec<String> = text
        .lines()
        .map(|l| match l.char_indices().nth(max) {
            Some((at, _)) => format!("{}...", &l[..at]),
            None => l.to_string(),
        })
        .collect();
    crate::redact::escape_control_lines(&cut.join("\n"))
}

fn invalid(msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(msg.into())
}

/// Everything `watch` needs, validated: the engine's own settings, embedded as they are (the
/// engine never reads a file or a flag), and the front ends' settings beside them.
#[derive(Debug, Clone)]
pub struct Config {
    /// Targets, session settings, backoff, seed, proxy, source addresses, shard.
    pub engine: EngineSettings,
    pub headless: bool,
    pub duration: Option<Duration>,
    pub export: Option<PathBuf>,
    pub fps: u32,
    pub lang: Option<LangArg>,
    pub keys: BTreeMap<String, String>,
    pub app_codes: BTreeMap<u16, AppCode>,
    /// A well-known protocol's close codes (`--profile`, config `profile`).
    pub profile: Option<String>,
    pub log_file: Option<PathBuf>,
    /// `--fail-if` thresholds (headless).
    pub fail_if: Vec<Threshold>,
    /// `--abort-on-fail`: stop at the first failed threshold.
    pub abort_on_fail: bool,
    /// `--no-default-gate` (headless).
    pub no_default_gate: bool,
    /// `--metrics-linger DUR` (headless): how long `/metrics` may outlive the run, waiting for
    /// a scrape of the final values. None: the default ([`crate::headless::METRICS_LINGER`]).
    pub metrics_linger: Option<Duration>,
    /// `--summary-json FILE`.
    pub summary_json: Option<PathBuf>,
    /// `--metrics ADDR`, config `metrics`: where `/metrics` is served.
    pub metrics: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            engine: EngineSettings::default(),
            headless: false,
            duration: None,
            export: None,
            fps: 10,
            lang: None,
            keys: BTreeMap::new(),
            app_codes: BTreeMap::new(),
            profile: None,
            log_file: None,
            fail_if: Vec::new(),
            abort_on_fail: false,
            no_default_gate: false,
            metrics_linger: None,
            summary_json: None,
            metrics: None,
        }
    }
}

/// `cfg.session`, `cfg.targets` ... read the embedded [`EngineSettings`]: a config is the
/// engine's settings plus the front ends' own, and each field has one home.
impl std::ops::Deref for Config {
    type Target = EngineSettings;
    fn deref(&self) -> &EngineSettings {
        &self.engine
    }
}

impl std::ops::DerefMut for Config {
    fn deref_mut(&mut self) -> &mut EngineSettings {
        &mut self.engine
    }
}

// ----- the file format -----

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    targets: Vec<FileTarget>,
    sessions: Option<usize>,
    #[serde(default)]
    headers: Vec<String>,
    #[serde(default)]
    subprotocols: Vec<String>,
    offers: Option<Vec<String>>,
    #[serde(default)]
    require: Vec<String>,
    connect_timeout: Option<String>,
    max_connecting: Option<usize>,
    ramp: Option<f64>,
    close_timeout: Option<String>,
    max_message_size: Option<String>,
    ping_interval: Option<String>,
    send: Option<String>,
    send_every: Option<String>,
    insecure: Option<bool>,
    export: Option<PathBuf>,
    metrics: Option<String>,
    seed: Option<u64>,
    #[serde(default)]
    backoff: FileBackoff,
    /// Per-code retry advice: "1008" = "backoff".
    #[serde(default)]
    retry: BTreeMap<String, Advice>,
    #[serde(default)]
    codes: BTreeMap<String, AppCode>,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    ui: FileUi,
    #[serde(default)]
    keys: BTreeMap<String, String>,
    #[serde(default)]
    fail_if: Vec<String>,
    proxy: Option<String>,
    local_addr: Option<String>,
    shard: Option<String>,
    /// The file's path and text, for errors that name a line.
    #[serde(skip)]
    path: Option<PathBuf>,
    #[serde(skip)]
    text: String,
    stale_after: Option<String>,
    stale_action: Option<String>,
    message_log: Option<String>,
    message_preview: Option<String>,
    record_messages: Option<bool>,
    transport: Option<String>,
    streams_per_connection: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTarget {
    url: String,
    sessions: Option<usize>,
    headers: Option<Vec<String>>,
    subprotocols: Option<Vec<String>>,
    offers: Option<Vec<String>>,
    require: Option<Vec<String>>,
    /// A built-in protocol (`graphql-ws`, `socket.io`) and its options.
    protocol: Option<String>,
    protocol_options: Option<protocols::FileProtocolOptions>,
    /// A session script, inline (see `config::script`).
    script: Option<toml::Spanned<String>>,
    /// A session script in a file (relative to the config file).
    script_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBackoff {
    base: Option<String>,
    cap: Option<String>,
    jitter: Option<Jitter>,
    max_attempts: Option<u32>,
    retry_after_max: Option<String>,
    stable_after: Option<String>,
    restart_delay: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileUi {
    fps: Option<u32>,
    lang: Option<LangArg>,
}

/// The commented default config printed by `watch --print-config`.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../assets/wsmon.example.toml");

fn dur(field: &str, v: &Option<String>) -> Result<Option<Duration>, ConfigError> {
    v.as_deref()
        .map(|s| parse_duration(s).map_err(|e| invalid(format!("{field}: {e}"))))
        .transpose()
}

impl Config {
    /// Build the config for `watch`: the file (if any), then CLI flags on top.
    pub fn from_watch_args(args: &WatchArgs) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => load_file(path)?,
            None => FileConfig::default(),
        };
        // A value quoted in an error may come from the file: a short excerpt of it.
        Self::merge(file, args).map_err(|e| match e {
            ConfigError::Invalid(m) => ConfigError::Invalid(excerpt(&m, MAX_ERROR_LINE)),
            other => other,
        })
    }

    /// File and flags, section by section, in the order errors are reported.
    fn merge(file: FileConfig, args: &WatchArgs) -> Result<Config, ConfigError> {
        let targets = merge_targets(&file, args)?;
        let session = merge_session(&file, args)?;
        let backoff = merge_backoff(&file.backoff, &file.retry, args)?;
        let mut cfg = Config {
            engine: EngineSettings {
                targets,
                session,
                backoff,
                seed: args.seed.or(file.seed),
                ..EngineSettings::default()
            },
            ..Config::default()
        };
        let profile = protocols::apply(&mut cfg, &file, args)?;
        merge_front_end(&mut cfg, &file, args)?;
        // A protocol's close codes explain its closes unless another profile was asked for.
        cfg.profile = cfg.profile.take().or(profile.map(String::from));
        merge_network(&mut cfg.engine, &file, args)?;
        script::attach(&mut cfg.engine, &file, args)?;
        cfg.metrics = args.metrics.clone().or(file.metrics);
        Ok(cfg)
    }

    /// The sessions this agent runs: its shard's share of every target (`--shard K/N`), which
    /// is what the open-files check must count.
    pub fn total_sessions(&self) -> usize {
        let shard = self.engine.shard;
        self.targets.iter().map(|t| shard.count(t.sessions)).sum()
    }
}

/// The connection settings every target starts from: file, then flags.
struct TargetDefaults {
    sessions: usize,
    headers: Vec<(String, String)>,
    subprotocols: Vec<String>,
    offers: Vec<Extension>,
    require: Vec<String>,
}

fn target_defaults(file: &FileConfig, args: &WatchArgs) -> Result<TargetDefaults, ConfigError> {
    let sessions = args.sessions.or(file.sessions).unwrap_or(1);
    if sessions == 0 {
        return Err(invalid("--sessions must be at least 1"));
    }
    let mut headers = parse_file_headers(&file.headers)?;
    headers.extend(parse_headers(&args.headers)?);
    let mut subprotocols = file.subprotocols.clone();
    subprotocols.extend(args.subprotocols.iter().cloned());
    check_subprotocols(&subprotocols)?;
    let offers = if args.no_offer {
        Vec::new()
    } else if !args.offers.is_empty() {
        parse_offers(&args.offers)?
    } else if let Some(o) = &file.offers {
        parse_offers(o)?
    } else {
        parse_offers(&[DEFAULT_OFFER.to_string()])?
    };
    let mut require = file.require.clone();
    require.extend(args.require.iter().cloned());
    for r in &require {
        if !is_token(r) {
            return Err(invalid(format!(
                "--require '{}' is not a valid extension name",
                escape_control(r)
            )));
        }
    }
    Ok(TargetDefaults {
        sessions,
        headers,
        subprotocols,
        offers,
        require,
    })
}

/// The file's `[[targets]]` (each over the defaults, flags on top), then the URLs given as
/// arguments (with the defaults).
fn merge_targets(file: &FileConfig, args: &WatchArgs) -> Result<Vec<TargetSpec>, ConfigError> {
    let d = target_defaults(file, args)?;
    let mut targets = Vec::new();
    for t in &file.targets {
        let url = parse_url(&t.url)?;
        let sessions = args.sessions.or(t.sessions).unwrap_or(d.sessions);
        let mut headers = match &t.headers {
            Some(h) => parse_file_headers(h)?,
            None => parse_file_headers(&file.headers)?,
        };
        headers.extend(parse_headers(&args.headers)?);
        let subprotocols = t
            .subprotocols
            .clone()
            .unwrap_or_else(|| d.subprotocols.clone());
        check_subprotocols(&subprotocols)?;
        let offers = match &t.offers {
            Some(o) if !args.no_offer && args.offers.is_empty() => parse_offers(o)?,
            _ => d.offers.clone(),
        };
        let mut require = t.require.clone().unwrap_or_else(|| file.require.clone());
        require.extend(args.require.iter().cloned());
        targets.push(TargetSpec {
            url,
            sessions,
            headers,
            subprotocols,
            offers,
            require,
            conversation: None,
        });
    }
    for u in &args.urls {
        targets.push(TargetSpec {
            url: parse_url(u)?,
            sessions: d.sessions,
            headers: d.headers.clone(),
            subprotocols: d.subprotocols.clone(),
            offers: d.offers.clone(),
            require: d.require.clone(),
            conversation: None,
        });
    }
    for t in &targets {
        if t.sessions == 0 {
            return Err(invalid(format!(
                "target {}: sessions must be at least 1",
                crate::redact::url(t.url.as_str())
            )));
        }
    }
    Ok(targets)
}

/// Per-connection settings: the defaults, the file, then the flags.
fn merge_session(file: &FileConfig, args: &WatchArgs) -> Result<SessionSettings, ConfigError> {
    let mut s = SessionSettings::default();
    if let Some(d) = args
        .connect_timeout
        .or(dur("connect_timeout", &file.connect_timeout)?)
    {
        if d.is_zero() {
            return Err(invalid("--connect-timeout must be more than 0"));
        }
        s.connect_timeout = d;
    }
    if let Some(n) = args.max_connecting.or(file.max_connecting) {
        if n == 0 {
            return Err(invalid("--max-connecting must be at least 1"));
        }
        s.max_connecting = n;
    }
    if let Some(t) = &file.transport {
        s.transport = t.parse().map_err(|e| invalid(format!("transport: {e}")))?;
    }
    if let Some(t) = args.transport {
        s.transport = t;
    }
    if let Some(n) = args.streams_per_connection.or(file.streams_per_connection) {
        if n == 0 {
            return Err(invalid("--streams-per-connection must be at least 1"));
        }
        s.streams_per_connection = n;
    }
    if let Some(r) = args.ramp.or(file.ramp) {
        if !(r.is_finite() && r > 0.0) {
            return Err(invalid(
                "--ramp must be a number of sessions per second above 0",
            ));
        }
        s.ramp = Some(r);
    }
    if let Some(d) = args
        .close_timeout
        .or(dur("close_timeout", &file.close_timeout)?)
    {
        s.shutdown_close_timeout = d;
    }
    let max = match (args.max_message_size, &file.max_message_size) {
        (Some(m), _) => Some(m),
        (None, Some(f)) => {
            Some(parse_size(f).map_err(|e| invalid(format!("max_message_size: {e}")))?)
        }
        _ => None,
    };
    if let Some(m) = max {
        if m == 0 {
            return Err(invalid("--max-message-size must be more than 0"));
        }
        s.max_message_size =
            usize::try_from(m).map_err(|_| invalid("--max-message-size is too large"))?;
    }
    if let Some(p) = args
        .ping_interval
        .or(dur("ping_interval", &file.ping_interval)?)
    {
        s.ping_interval = (!p.is_zero()).then_some(p);
    }
    s.send = args.send.clone().or(file.send.clone());
    s.send_every = args.send_every.or(dur("send_every", &file.send_every)?);
    if let Some(e) = s.send_every {
        if e.is_zero() {
            return Err(invalid("--send-every must be more than 0"));
        }
        if s.send.is_none() {
            return Err(invalid("send_every needs send (the message to repeat)"));
        }
    }
    s.insecure = args.insecure || file.insecure.unwrap_or(false);
    s.stale_after = args.stale_after.or(dur("stale_after", &file.stale_after)?);
    if s.stale_after.is_some_and(|d| d.is_zero()) {
        return Err(invalid("--stale-after must be more than 0"));
    }
    if let Some(a) = args.stale_action {
        s.stale_action = a;
    } else if let Some(a) = &file.stale_action {
        s.stale_action = a
            .parse::<StaleAction>()
            .map_err(|e| invalid(format!("stale_action: {e}")))?;
    }
    let exported = args.export.is_some() || file.export.is_some();
    let keys = (file.message_log.as_deref(), file.message_preview.as_deref());
    s.messages = crate::cli::message_settings(args, keys, file.record_messages, exported)
        .map_err(invalid)?;
    Ok(s)
}

/// The backoff policy: `[backoff]` and `[retry]`, then the flags; validated as a whole.
fn merge_backoff(
    fb: &FileBackoff,
    retry: &BTreeMap<String, Advice>,
    args: &WatchArgs,
) -> Result<BackoffConfig, ConfigError> {
    let mut b = BackoffConfig::default();
    if let Some(v) = args.backoff_base.or(dur("backoff.base", &fb.base)?) {
        b.base = v;
    }
    if let Some(v) = args.backoff_cap.or(dur("backoff.cap", &fb.cap)?) {
        b.cap = v;
    }
    if let Some(j) = args.jitter.map(Jitter::from).or(fb.jitter) {
        b.jitter = j;
    }
    if let Some(m) = args.max_attempts.or(fb.max_attempts) {
        b.max_attempts = (m > 0).then_some(m);
    }
    if let Some(v) = args
        .retry_after_max
        .or(dur("backoff.retry_after_max", &fb.retry_after_max)?)
    {
        b.retry_after_max = v;
    }
    if let Some(v) = args
        .stable_after
        .or(dur("backoff.stable_after", &fb.stable_after)?)
    {
        b.stable_after = v;
    }
    if let Some(r) = args
        .restart_delay
        .as_deref()
        .or(fb.restart_delay.as_deref())
    {
        b.restart_delay = backoff::parse_restart_range(r)
            .map_err(|e| invalid(format!("--restart-delay: {e}")))?;
    }
    for (k, v) in retry {
        let code: u16 = k
            .parse()
            .ok()
            .filter(|c| (1000..=4999).contains(c))
            .ok_or_else(|| {
                invalid(format!(
                    "[retry] key '{}' is not a close code in 1000-4999",
                    escape_control(k)
                ))
            })?;
        b.overrides.insert(code, *v);
    }
    let flags = backoff::overrides_from(&args.retry_on, &args.no_retry_on)
        .map_err(|e| invalid(e.to_string()))?;
    b.overrides.extend(flags);
    b.validate().map_err(|e| invalid(e.to_string()))?;
    Ok(b)
}

/// What the front ends use: run mode, export, screen, codes, thresholds.
fn merge_front_end(
    cfg: &mut Config,
    file: &FileConfig,
    args: &WatchArgs,
) -> Result<(), ConfigError> {
    cfg.headless = args.headless;
    cfg.duration = args.duration;
    cfg.export = args.export.clone().or(file.export.clone());
    if let Some(p) = &cfg.export {
        crate::export::Format::from_path(p).map_err(|e| invalid(e.to_string()))?;
    }
    cfg.fps = args.fps.or(file.ui.fps).unwrap_or(10).clamp(1, 60);
    cfg.lang = args.lang.or(file.ui.lang);
    cfg.keys = file.keys.clone();
    cfg.app_codes =
        crate::codes::app_codes_from_table(&file.codes).map_err(|e| invalid(e.to_string()))?;
    cfg.profile = match args.profile.as_deref().or(file.profile.as_deref()) {
        Some(name) => Some(crate::codes::check_profile(name).map_err(|e| invalid(e.to_string()))?),
        None => None,
    };
    cfg.log_file = args.log_file.clone();
    for e in file.fail_if.iter().chain(&args.fail_if) {
        cfg.fail_if
            .push(thresholds::parse(e).map_err(|e| invalid(format!("--fail-if {e}")))?);
    }
    if !args.headless
        && (!args.fail_if.is_empty()
            || args.abort_on_fail
            || args.summary_json.is_some()
            || args.no_default_gate
            || args.metrics_linger.is_some())
    {
        return Err(invalid(
            "--fail-if, --abort-on-fail, --summary-json, --no-default-gate and \
             --metrics-linger need --headless",
        ));
    }
    cfg.abort_on_fail = args.abort_on_fail;
    cfg.no_default_gate = args.no_default_gate;
    cfg.metrics_linger = args.metrics_linger;
    cfg.summary_json = args.summary_json.clone();
    Ok(())
}

/// How the engine reaches its targets: proxy (flags, file, or the environment, checked for
/// every target), source addresses, shard.
fn merge_network(
    engine: &mut EngineSettings,
    file: &FileConfig,
    args: &WatchArgs,
) -> Result<(), ConfigError> {
    let env = |k: &str| std::env::var(k).ok();
    let proxy = if args.no_proxy {
        Some("")
    } else {
        args.proxy.as_deref().or(file.proxy.as_deref())
    };
    engine.proxy = match proxy.map(str::trim) {
        Some("") => ProxyRule::Direct,
        Some(p) => ProxyRule::fixed(
            ProxyUrl::parse(p).map_err(|e| invalid(format!("--proxy: {e}")))?,
            &env,
        ),
        None => ProxyRule::from_env(&env),
    };
    for t in &engine.targets {
        engine
            .proxy
            .for_url(&t.url)
            .map_err(|e| invalid(format!("proxy from the environment: {e}")))?;
    }
    if let Some(l) = args.local_addr.as_deref().or(file.local_addr.as_deref()) {
        engine.local_addrs = Some(
            l.parse()
                .map_err(|e: crate::engine::shard::ShardError| invalid(e.to_string()))?,
        );
    }
    if let Some(k) = args.shard.as_deref().or(file.shard.as_deref()) {
        engine.shard = k
            .parse()
            .map_err(|e: crate::engine::shard::ShardError| invalid(e.to_string()))?;
    }
    Ok(())
}

/// The `[keys]` table of a config file (`wsmon replay -c FILE`).
pub fn keys_from_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    load_file(path).map(|f| f.keys)
}

/// Read a config file: a regular file (not a device, a FIFO or a directory, even through a
/// symlink) of at most `MAX_CONFIG_BYTES`.
fn read_bounded(path: &Path) -> Result<String, ConfigError> {
    use std::io::Read as _;
    let read_err = |source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    };
    let too_big = |size| ConfigError::TooBig {
        path: path.to_path_buf(),
        size,
    };
    let (file, meta) = crate::files::open_regular(path).map_err(|e| match e {
        crate::files::OpenError::Io(e) => read_err(e),
        crate::files::OpenError::NotAFile(kind) => ConfigError::NotAFile {
            path: path.to_path_buf(),
            kind,
        },
    })?;
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_err)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
    })
}

fn load_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = read_bounded(path)?;
    let mut file: FileConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        // The parser quotes the offending line: a short excerpt of it, escaped.
        message: excerpt(&e.to_string(), MAX_QUOTED_LINE),
    })?;
    // `[keys]` is checked with the rest of the file, before anything connects (the TUI would
    // otherwise refuse it after the sessions started).
    let keys_error = |message| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    for (name, value) in &file.keys {
        if name.chars().count() > MAX_KEY_ENTRY || value.chars().count() > MAX_KEY_ENTRY {
            return Err(keys_error(format!(
                "[keys] entry '{}' is over {MAX_KEY_ENTRY} characters",
                excerpt(name, 32)
            )));
        }
    }
    crate::tui::keys::KeyMap::from_config(&file.keys)
        .map_err(|e| keys_error(escape_control(&e)))?;
    file.path = Some(path.to_path_buf());
    file.text = text;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::values::parse_file_header;
    use super::*;

    fn args(urls: &[&str]) -> WatchArgs {
        WatchArgs {
            urls: urls.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    /// Issue 20 item 3: `stale_after`/`stale_action` from the file, the flags over them, and
    /// bad values refused with the key named.
    #[test]
    fn stale_after_and_action_from_file_and_flags() {
        let file = || -> FileConfig {
            toml::from_str("stale_after = '3s'\nstale_action = 'reconnect:4001'").expect("parses")
        };
        let cfg = Config::merge(file(), &args(&["ws://127.0.0.1:9/"])).expect("valid");
        assert_eq!(cfg.session.stale_after, Some(Duration::from_secs(3)));
        assert_eq!(
            cfg.session.stale_action,
            StaleAction::Reconnect { code: 4001 }
        );
        let mut a = args(&["ws://127.0.0.1:9/"]);
        a.stale_after = Some(Duration::from_millis(500));
        a.stale_action = Some(StaleAction::Keep);
        let cfg = Config::merge(file(), &a).expect("valid");
        assert_eq!(cfg.session.stale_after, Some(Duration::from_millis(500)));
        assert_eq!(cfg.session.stale_action, StaleAction::Keep);
        let cfg = Config::merge(FileConfig::default(), &args(&["ws://h:1/"])).expect("valid");
        assert_eq!(cfg.session.stale_after, None, "off by default");
        assert_eq!(cfg.session.stale_action, StaleAction::Keep);
        assert_eq!(
            "reconnect".parse::<StaleAction>(),
            Ok(StaleAction::Reconnect { code: 1000 })
        );
        for (toml, needle) in [
            ("stale_action = 'reconnect:1006'", "1006 cannot be sent"),
            (
                "stale_action = 'close'",
                "stale_action: stale action 'close' must be",
            ),
            ("stale_action = 'reconnect:x'", "must be keep, reconnect or"),
            ("stale_after = 'soon'", "stale_after:"),
            ("stale_after = '0s'", "--stale-after must be more than 0"),
        ] {
            let f: FileConfig = toml::from_str(toml).expect("parses");
            let err = Config::merge(f, &args(&["ws://h:1/"])).expect_err(toml);
            assert!(err.to_string().contains(needle), "{toml}: {err}");
        }
    }

    #[test]
    fn gate_proxy_local_addr_and_shard_from_file_and_flags() {
        let file: FileConfig = toml::from_str(
            "fail_if = ['open_ratio<0.99']\nproxy = 'socks5://127.0.0.1:1080'\n\
             local_addr = '127.0.0.2,127.0.0.3'\nshard = '2/3'",
        )
        .expect("parses");
        let mut a = args(&["ws://127.0.0.1:9/"]);
        a.headless = true;
        a.fail_if = vec!["closes{code=1006}>0".into()];
        let cfg = Config::merge(file, &a).expect("valid");
        let exprs: Vec<&str> = cfg.fail_if.iter().map(|t| t.expr.as_str()).collect();
        assert_eq!(exprs, ["open_ratio<0.99", "closes{code=1006}>0"]);
        assert!(matches!(cfg.proxy, ProxyRule::Fixed { .. }));
        assert_eq!(cfg.local_addrs.as_ref().expect("set").addrs().len(), 2);
        assert_eq!(cfg.shard.to_string(), "2/3");

        let mut a = args(&["ws://127.0.0.1:9/"]);
        a.no_proxy = true;
        let file: FileConfig = toml::from_str("proxy = 'http://p:1'").expect("parses");
        assert_eq!(
            Config::merge(file, &a).expect("valid").proxy,
            ProxyRule::Direct
        );

        let mut a = args(&["ws://127.0.0.1:9/"]);
        a.headless = true;
        a.fail_if = vec!["nope>1".into()];
        let e = Config::merge(FileConfig::default(), &a).expect_err("unknown metric");
        assert!(e.to_string().contains("unknown metric 'nope'"), "{e}");
        a.fail_if.clear();
        a.proxy = Some("http://user:hunter2@".into());
        let e = Config::merge(FileConfig::default(), &a).expect_err("no host");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    /// A fleet agent counts only its own share: 4 agents of 12,500 sessions each fit a 20,000
    /// open-files limit although the whole run asks for 50,000.
    #[test]
    fn an_agent_counts_only_its_shards_sessions() {
        let mut a = args(&["ws://127.0.0.1:9001/echo", "ws://127.0.0.1:9002/echo"]);
        a.sessions = Some(25_000);
        a.shard = Some("3/4".into());
        let cfg = Config::from_watch_args(&a).expect("valid");
        assert_eq!(cfg.total_sessions(), 12_500);
        a.shard = None;
        let cfg = Config::from_watch_args(&a).expect("valid");
        assert_eq!(cfg.total_sessions(), 50_000);
    }

    #[test]
    fn defaults_offer_deflate_without_client_context() {
        let cfg =
            Config::merge(FileConfig::default(), &args(&["ws://127.0.0.1:1/echo"])).expect("valid");
        assert_eq!(cfg.targets.len(), 1);
        assert_eq!(cfg.targets[0].sessions, 1);
        let offer = &cfg.targets[0].offers[0];
        assert_eq!(offer.name, "permessage-deflate");
        assert!(offer.param("client_no_context_takeover").is_some());
        assert_eq!(cfg.session.connect_timeout, Duration::from_secs(10));
        assert_eq!(cfg.session.shutdown_close_timeout, Duration::from_secs(1));
    }

    #[test]
    fn bad_urls_are_clear_errors() {
        for (u, want) in [
            ("http://x/", "scheme 'http'"),
            ("not a url", "not a valid URL"),
            ("ws://x/#frag", "fragment"),
        ] {
            let err = Config::merge(FileConfig::default(), &args(&[u]))
                .expect_err(u)
                .to_string();
            assert!(err.contains(want), "{u}: {err}");
        }
    }

    #[test]
    fn metrics_address_from_file_or_cli() {
        let file = || toml::from_str::<FileConfig>(r#"metrics = "127.0.0.1:9464""#).expect("toml");
        let url = ["ws://127.0.0.1:1/a"];
        let cfg = Config::merge(file(), &args(&url)).expect("valid");
        assert_eq!(cfg.metrics.as_deref(), Some("127.0.0.1:9464"));
        let mut cli = args(&url);
        cli.metrics = Some("127.0.0.1:0".into());
        let cfg = Config::merge(file(), &cli).expect("valid");
        assert_eq!(cfg.metrics.as_deref(), Some("127.0.0.1:0"));
        let cfg = Config::merge(FileConfig::default(), &args(&url)).expect("valid");
        assert_eq!(cfg.metrics, None);
    }

    #[test]
    fn cli_wins_over_file() {
        let file: FileConfig = toml::from_str(
            r#"
            sessions = 3
            connect_timeout = "2s"
            close_timeout = "250ms"
            [[targets]]
            url = "ws://127.0.0.1:1/a"
            sessions = 7
            require = ["permessage-deflate"]
            [backoff]
            cap = "30s"
            jitter = "none"
            [retry]
            "1008" = "backoff"
            [codes.4001]
            name = "Session expired"
            description = "Log in again"
            "#,
        )
        .expect("parses");
        let mut a = args(&["ws://127.0.0.1:1/b"]);
        a.connect_timeout = Some(Duration::from_secs(4));
        let cfg = Config::merge(file, &a).expect("valid");
        assert_eq!(cfg.targets.len(), 2);
        assert_eq!(cfg.targets[0].sessions, 7);
        assert_eq!(
            cfg.targets[0].require,
            vec!["permessage-deflate".to_string()]
        );
        assert_eq!(cfg.targets[1].sessions, 3);
        assert_eq!(cfg.session.connect_timeout, Duration::from_secs(4));
        assert_eq!(
            cfg.session.shutdown_close_timeout,
            Duration::from_millis(250)
        );
        assert_eq!(cfg.backoff.cap, Duration::from_secs(30));
        assert_eq!(cfg.backoff.jitter, Jitter::None);
        assert_eq!(cfg.backoff.overrides.get(&1008), Some(&Advice::Backoff));
        assert_eq!(
            cfg.app_codes.get(&4001).map(|c| c.name.as_str()),
            Some("Session expired")
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        assert!(toml::from_str::<FileConfig>("sesions = 3").is_err());
        let file: FileConfig =
            toml::from_str("[codes.1000]\nname='x'\ndescription='y'").expect("parses");
        let err = Config::merge(file, &args(&["ws://h/"]))
            .expect_err("1000 is not an app code")
            .to_string();
        assert!(err.contains("4000-4999"), "{err}");
        let mut a = args(&["ws://h/"]);
        a.headers = vec!["NoColon".into()];
        assert!(Config::merge(FileConfig::default(), &a).is_err());
        a.headers = vec!["Host: evil".into()];
        assert!(Config::merge(FileConfig::default(), &a).is_err());
    }

    #[test]
    fn message_log_flags_and_keys() {
        let merge = |toml: &str, a: &WatchArgs| {
            let file: FileConfig = toml::from_str(toml).expect("parses");
            Config::merge(file, a).map(|c| c.session.messages)
        };
        let a = args(&["ws://h/"]);
        let m = merge("", &a).expect("defaults");
        assert_eq!(
            (m.log_count, m.log_bytes, m.preview, m.record),
            (200, 65536, 4096, false)
        );
        assert_eq!(m.emit_cap(), Some(4096));
        let file = "message_log = \"50,8KiB\"\nmessage_preview = \"1KiB\"\nrecord_messages = true\nexport = \"x.jsonl\"";
        let m = merge(file, &a).expect("keys");
        assert_eq!(
            (m.log_count, m.log_bytes, m.preview, m.record),
            (50, 8192, 1024, true)
        );
        // The flags win; 0 turns the log off, and with nothing recorded no frame is reported.
        let mut off = args(&["ws://h/"]);
        off.message_log = Some(crate::cli::parse_message_log("0").expect("0"));
        let m = merge("message_log = \"50,8KiB\"", &off).expect("off");
        assert!(m.log_off());
        assert_eq!(m.emit_cap(), None);
        for bad in ["abc", "10", "10,lots", "x,1KiB"] {
            let err = crate::cli::parse_message_log(bad).expect_err(bad);
            assert!(err.contains(bad) || err.contains("size"), "{err}");
            let file = format!("message_log = \"{bad}\"");
            assert!(merge(&file, &a).is_err(), "{bad}");
        }
        let mut rec = args(&["ws://h/"]);
        rec.record_messages = true;
        let err = merge("", &rec).expect_err("needs an export").to_string();
        assert!(err.contains("--export"), "{err}");
    }

    #[test]
    fn subprotocols_must_be_tokens_everywhere() {
        let mut a = args(&["ws://h/"]);
        a.subprotocols = vec!["chat\r\nX-Injected: 1".into()];
        let err = Config::merge(FileConfig::default(), &a)
            .expect_err("CLI")
            .to_string();
        assert!(
            err.contains("subprotocol 'chat\\r\\nX-Injected: 1'"),
            "{err}"
        );
        assert!(!err.chars().any(char::is_control), "{err}");

        let global: FileConfig = toml::from_str("subprotocols = [\"a b\"]").expect("parses");
        assert!(Config::merge(global, &args(&["ws://h/"])).is_err());
        let per_target: FileConfig =
            toml::from_str("[[targets]]\nurl = \"ws://h/\"\nsubprotocols = [\"ok\", \"x\\u0001\"]")
                .expect("parses");
        let err = Config::merge(per_target, &args(&[])).expect_err("per target");
        assert!(err.to_string().contains("\\u{1}"), "{err}");
        let fine: FileConfig =
            toml::from_str("[[targets]]\nurl = \"ws://h/\"\nsubprotocols = [\"graphql-ws\"]")
                .expect("parses");
        assert!(Config::merge(fine, &args(&[])).is_ok());
    }

    #[test]
    fn header_values_refuse_control_characters_and_errors_are_escaped() {
        for bad in [
            "X-A: a\u{1}",
            "X-A: a\u{1b}[2J",
            "X-A: a\r",
            "X-A: a\nB: c",
            "X-A: \u{7f}",
        ] {
            let err = parse_header_arg(bad).expect_err(bad).to_string();
            assert!(
                err.contains("X-A") && err.contains("control character"),
                "{err}"
            );
            assert!(!err.chars().any(char::is_control), "{err}");
        }
        assert_eq!(
            parse_header_arg("X-A:  a\tb ").expect("tab inside is fine"),
            ("X-A".to_string(), "a\tb".to_string())
        );
        let err = parse_header_arg("\u{1b}[31m")
            .expect_err("no colon")
            .to_string();
        assert!(!err.chars().any(char::is_control), "{err}");
    }

    #[test]
    fn environment_variables_in_file_header_values() {
        let env = |n: &str| match n {
            "TOKEN" => Some("s3cret".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        assert_eq!(
            expand_env("Authorization: Bearer ${TOKEN}", env).as_deref(),
            Ok("Authorization: Bearer s3cret")
        );
        assert_eq!(
            expand_env("a${EMPTY}b $$5 $x", env).as_deref(),
            Ok("ab $5 $x")
        );
        let e = expand_env("X: ${MISSING}", env).expect_err("unset");
        assert!(e.contains("MISSING"), "{e}");
        assert!(expand_env("X: ${TOKEN", env).is_err());
        assert!(expand_env("X: ${BAD NAME}", env).is_err());
        // A variable whose value would break the header is refused like a literal one.
        let evil = |_: &str| Some("v\r\nX-Injected: 1".to_string());
        let err = parse_file_header("X-A: ${EVIL}", evil).expect_err("injection");
        assert!(!err.to_string().chars().any(char::is_control), "{err}");
        // The process environment, end to end (cargo sets CARGO_PKG_NAME for tests).
        let file: FileConfig =
            toml::from_str("headers = [\"X-A: ${CARGO_PKG_NAME}\"]").expect("parses");
        let cfg = Config::merge(file, &args(&["ws://h/"])).expect("valid");
        assert!(
            cfg.targets[0]
                .headers
                .contains(&("X-A".to_string(), "wsmon".to_string())),
            "{:?}",
            cfg.targets[0].headers
        );
    }

    #[test]
    fn toml_errors_are_escaped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("evil.toml");
        std::fs::write(&path, "sessions = 1\n\u{1b}]0;x\u{7} = = 1\n").expect("write");
        let err = load_file(&path).expect_err("invalid TOML").to_string();
        assert!(!err.chars().any(|c| c.is_control() && c != '\n'), "{err}");
        assert!(err.contains("\\u{1b}]0;x\\u{7}"), "{err}");
    }

    #[test]
    fn invalid_offers_are_rejected() {
        let mut a = args(&["ws://h/"]);
        a.offers = vec!["permessage-deflate; server_max_window_bits=99".into()];
        let err = Config::merge(FileConfig::default(), &a)
            .expect_err("bits out of range")
            .to_string();
        assert!(err.contains("server_max_window_bits"), "{err}");
        a.offers = vec!["permessage-deflate; x=\"unterminated".into()];
        assert!(Config::merge(FileConfig::default(), &a).is_err());
    }

    #[test]
    fn example_config_is_valid_and_shows_the_defaults() {
        let file: FileConfig = toml::from_str(DEFAULT_CONFIG_TOML).expect("example parses");
        let example = Config::merge(file, &args(&[])).expect("example is valid");
        // `watch --print-config` prints it as a starting point: its values must be the defaults.
        let defaults = Config::merge(FileConfig::default(), &args(&[])).expect("defaults");
        assert_eq!(
            format!("{:?}", example.session),
            format!("{:?}", defaults.session)
        );
        assert_eq!(
            format!("{:?}", example.backoff),
            format!("{:?}", defaults.backoff)
        );
    }
}
