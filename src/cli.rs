//! Command-line interface (clap derive). Flag names are a public contract: keep them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::events::Jitter;
use crate::engine::settings::StaleAction;

#[derive(Debug, Parser)]
#[command(
    name = "wsmon",
    version,
    about = "Run and watch many WebSocket client sessions at once"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open sessions to one or more ws:// or wss:// URLs and watch them (TUI, or --headless).
    Watch(Box<WatchArgs>),
    /// Start the scenario server in-process and watch a curated mix of its endpoints.
    Demo(DemoArgs),
    /// Run the scenario server (echo, overload, flaky, close codes, rejects, drops, stalls,
    /// silent feeds, slow RPC, auth timeouts; `--h2` adds the same over HTTP/2).
    Serve(ServeArgs),
    /// Explain close codes: `explain 1013`, compare two: `explain 1010 1013`, list: `--all`.
    Explain(ExplainArgs),
    /// Replay an exported log (.jsonl or .csv): a TUI with a time cursor on a terminal, else its
    /// summary; or its state at a moment, or a slice.
    Replay(ReplayArgs),
    /// Write one self-contained HTML report of one or several exports (charts, targets, codes
    /// explained, the busiest sessions' backoff timelines).
    Report(ReportArgs),
}

/// `--jitter`: the CLI spelling of [`Jitter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JitterArg {
    /// random(0, window)
    Full,
    /// window/2 + random(0, window/2)
    Equal,
    /// min(cap, random(base, previous * 3))
    Decorrelated,
    /// exactly the window
    None,
}

impl From<JitterArg> for Jitter {
    fn from(j: JitterArg) -> Jitter {
        match j {
            JitterArg::Full => Jitter::Full,
            JitterArg::Equal => Jitter::Equal,
            JitterArg::Decorrelated => Jitter::Decorrelated,
            JitterArg::None => Jitter::None,
        }
    }
}

/// Language of explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LangArg {
    #[default]
    En,
    Fr,
}

impl From<LangArg> for crate::codes::Lang {
    fn from(arg: LangArg) -> crate::codes::Lang {
        match arg {
            LangArg::En => crate::codes::Lang::En,
            LangArg::Fr => crate::codes::Lang::Fr,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ExplainArgs {
    /// Close codes (0-65535; 1000-1003, 1007-1014 and 3000-4999 are valid on the wire). One
    /// explains it; two compare them side by side.
    #[arg(value_name = "CODE", allow_negative_numbers = true)]
    pub codes: Vec<String>,
    /// Language of headings and texts (defaults from LANG: fr_* gives French).
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    /// List every code and range as a table.
    #[arg(long)]
    pub all: bool,
    /// Print the entries as JSON.
    #[arg(long)]
    pub json: bool,
    /// Config file whose [codes] table names application codes (4000-4999).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Explain HTTP statuses as answers to a WebSocket upgrade (e.g. --http 503).
    #[arg(long = "http", value_name = "STATUS", num_args = 1..)]
    pub http: Vec<String>,
    /// Load a well-known protocol's close codes: discord, graphql-ws.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
}

impl From<&ExplainArgs> for crate::explain::ExplainRequest {
    fn from(a: &ExplainArgs) -> Self {
        crate::explain::ExplainRequest {
            codes: a.codes.clone(),
            http: a.http.clone(),
            lang: a.lang.map(Into::into),
            all: a.all,
            json: a.json,
            config: a.config.clone(),
            profile: a.profile.clone(),
            width: None,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9001")]
    pub bind: String,
    /// Also serve the same paths as WebSockets over HTTP/2 (h2c with prior knowledge, RFC 8441
    /// extended CONNECT), plus the connection faults /h2/goaway and /h2/reset.
    #[arg(long)]
    pub h2: bool,
    /// Address of the HTTP/2 listener.
    #[arg(long, default_value = "127.0.0.1:9002", value_name = "ADDR")]
    pub h2_bind: String,
    /// Do not announce SETTINGS_ENABLE_CONNECT_PROTOCOL: an HTTP/2 server on which no
    /// WebSocket can open (to test clients against one).
    #[arg(long, requires = "h2")]
    pub h2_no_connect_protocol: bool,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ReplayArgs {
    /// .jsonl or .csv files written by `watch --export`; several (the agents of a fleet, one
    /// per `--shard`) are merged by time, their session ids qualified by shard (2/4:s17).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print the summary of the log (the default when not opening a screen).
    #[arg(long, conflicts_with_all = ["at", "export"])]
    pub summary: bool,
    /// Print the state at this moment: 14:03:12 (UTC, on the recording's date), +2m30s (after
    /// the start) or -10s (before the end).
    #[arg(
        long,
        value_name = "TIME",
        allow_hyphen_values = true,
        conflicts_with_all = ["from", "to", "export"]
    )]
    pub at: Option<String>,
    /// Only events from this time on (same forms as --at).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// Only events up to this time (same forms as --at).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub to: Option<String>,
    /// Write the events (of --from/--to) to a new file: .jsonl or .csv.
    #[arg(long, value_name = "OUT")]
    pub export: Option<PathBuf>,
    /// Fail (exit 1) if EXPR holds on the record, as `watch --headless --fail-if` does:
    /// judged just before the agents' shutdown (repeatable; implies --summary).
    #[arg(long = "fail-if", value_name = "EXPR", conflicts_with_all = ["at", "export"])]
    pub fail_if: Vec<String>,
    /// Write the summary as JSON to FILE (the shape of `watch --summary-json`).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["at", "export"])]
    pub summary_json: Option<PathBuf>,
    /// With --fail-if or --summary-json: turn off the default gate (as `watch
    /// --no-default-gate`: no session usable, or one ended for a failure, fails the verdict).
    #[arg(long, conflicts_with_all = ["at", "export"])]
    pub no_default_gate: bool,
    /// A config file whose [keys] table the replay TUI uses.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the recorded messages (`watch --record-messages`), one line each; exit 1 when
    /// none match.
    #[arg(long, conflicts_with_all = ["summary", "at", "export", "fail_if", "summary_json"])]
    pub messages: bool,
    /// With --messages: only this session's (17, s17, or 2/4:s17 for merged files).
    #[arg(long, value_name = "ID", requires = "messages")]
    pub session: Option<String>,
    /// With --messages: only messages whose payload (as shown) matches REGEX.
    #[arg(long, value_name = "REGEX", requires = "messages")]
    pub grep: Option<String>,
}

#[derive(Debug, Clone, Default, Args)]
pub struct ReportArgs {
    /// One or several .jsonl or .csv files written by `watch --export` (merged by time).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The HTML file to write (through a temporary file in the same directory).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: PathBuf,
    /// Only events from this time on (same forms as replay's --at).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub from: Option<String>,
    /// Only events up to this time (same forms as replay's --at).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub to: Option<String>,
    /// Language of the page and the explanations (defaults from LANG).
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    /// Show this threshold's verdict in the header, judged as `replay --fail-if` judges it (at
    /// the end of the window, without the run's own shutdown); exit 1 when one fails (the report
    /// is written anyway). Same expressions as watch (repeatable).
    #[arg(long = "fail-if", value_name = "EXPR")]
    pub fail_if: Vec<String>,
    /// The page's title (default: "wsmon report: " and the start time).
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
}

impl From<ReportArgs> for crate::report::Options {
    fn from(a: ReportArgs) -> Self {
        crate::report::Options {
            files: a.files,
            output: a.output,
            from: a.from,
            to: a.to,
            lang: crate::codes::Lang::resolve(a.lang.map(Into::into)),
            fail_if: a.fail_if,
            title: a.title,
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Sessions of the busiest scenario targets (echo, overload); the others get a quarter or
    /// half of it. The default, 20, runs 78 sessions over 11 targets (the smallest, 4, runs 22).
    #[arg(short = 'n', long = "sessions", default_value_t = 20, value_name = "N")]
    pub sessions: usize,
    /// No TUI: status lines on stderr, a summary on stdout at the end (for scripts and CI).
    #[arg(long)]
    pub headless: bool,
    /// Stop after this long (e.g. 20s, 5m) and print the summary; without it the demo runs
    /// until q (TUI) or Ctrl-C.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Write every event to this file (.jsonl or .csv).
    #[arg(long, value_name = "FILE")]
    pub export: Option<PathBuf>,
    /// Language of explanations.
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    /// Maximum redraws per second.
    #[arg(long, default_value_t = 10)]
    pub fps: u32,
    /// At shutdown, how long each session waits for the server's answer to its 1001 close.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    pub close_timeout: Duration,
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464; port 0 picks one).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// Open the first session at TIME (RFC 3339 UTC, or +30s from now); --duration counts
    /// from it.
    #[arg(long, value_name = "TIME", value_parser = parse_start_at_now)]
    pub start_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `watch`: every flag is optional so that a config file can provide it; CLI wins over file.
#[derive(Debug, Clone, Default, Args)]
pub struct WatchArgs {
    /// ws:// or wss:// URLs to watch (added to the config file's targets).
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,
    /// Load a well-known protocol's close codes (names, meanings, retry advice): discord,
    /// graphql-ws.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Concurrent sessions per URL (default 1).
    #[arg(short = 'n', long = "sessions")]
    pub sessions: Option<usize>,
    /// TOML config file (targets with their own counts, headers, offers, requirements).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print a commented default config file and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Turn off TLS certificate verification (wss://). Says so loudly.
    #[arg(long)]
    pub insecure: bool,
    /// Extra request header 'Name: value' (repeatable).
    #[arg(long = "header", value_name = "'K: V'")]
    pub headers: Vec<String>,
    /// Sec-WebSocket-Protocol to request (repeatable).
    #[arg(long = "subprotocol", value_name = "P")]
    pub subprotocols: Vec<String>,
    /// Bound on DNS + connect + TLS + upgrade (default 10s).
    #[arg(long, value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,
    /// At most N handshakes (TCP connect to upgrade answer) in flight at once (default 128).
    #[arg(long, value_name = "N")]
    pub max_connecting: Option<usize>,
    /// Start at most RATE sessions' first connections per second (default: all at once).
    #[arg(long, value_name = "RATE")]
    pub ramp: Option<f64>,
    /// At shutdown, how long each session waits for the server's answer to its 1001 close
    /// (default 1s): the run ends about this long after --duration, q or a signal.
    #[arg(long, value_parser = parse_duration)]
    pub close_timeout: Option<Duration>,
    /// Extension offer, e.g. 'permessage-deflate; client_max_window_bits' (repeatable).
    /// Default: permessage-deflate with client_max_window_bits and client_no_context_takeover.
    #[arg(long = "offer", value_name = "EXT")]
    pub offers: Vec<String>,
    /// Offer no extension at all.
    #[arg(long, conflicts_with = "offers")]
    pub no_offer: bool,
    /// Extension the server must accept, or wsmon closes with 1010 (repeatable).
    #[arg(long = "require", value_name = "NAME")]
    pub require: Vec<String>,
    /// Largest message accepted after inflating, e.g. 16MiB (larger closes with 1009).
    #[arg(long, value_parser = parse_size)]
    pub max_message_size: Option<u64>,
    /// Interval between pings (default 15s; 0 turns pings off).
    #[arg(long, value_parser = parse_duration)]
    pub ping_interval: Option<Duration>,
    /// Text message sent when a session opens.
    #[arg(long, value_name = "TEXT")]
    pub send: Option<String>,
    /// Repeat --send at this interval.
    #[arg(long, value_parser = parse_duration, requires = "send")]
    pub send_every: Option<Duration>,
    /// No TUI: status lines on stderr, a summary at the end.
    #[arg(long)]
    pub headless: bool,
    /// Stop after this long (e.g. 20s, 5m).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Write every event to FILE: JSON Lines for .jsonl, CSV for .csv.
    #[arg(long, value_name = "FILE")]
    pub export: Option<PathBuf>,
    /// Close codes that are retried with backoff even if the knowledge base says never
    /// (comma-separated, e.g. 1008,4000).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub retry_on: Vec<u16>,
    /// Close codes that are never retried (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub no_retry_on: Vec<u16>,
    /// Jitter strategy for backoff.
    #[arg(long, value_enum)]
    pub jitter: Option<JitterArg>,
    /// First backoff window (default 1s).
    #[arg(long, value_parser = parse_duration)]
    pub backoff_base: Option<Duration>,
    /// Largest backoff window (default 60s).
    #[arg(long, value_parser = parse_duration)]
    pub backoff_cap: Option<Duration>,
    /// Give up after this many retries (default unlimited).
    #[arg(long)]
    pub max_attempts: Option<u32>,
    /// Largest Retry-After honoured (default 300s).
    #[arg(long, value_parser = parse_duration)]
    pub retry_after_max: Option<Duration>,
    /// The retry counter resets only after a connection stayed open this long (default 10s).
    #[arg(long, value_parser = parse_duration)]
    pub stable_after: Option<Duration>,
    /// Delay range after 1012/1001, e.g. 5s-30s (default 5s-30s).
    #[arg(long, value_name = "MIN-MAX")]
    pub restart_delay: Option<String>,
    /// Seed for jitter randomness (reproducible runs).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Maximum redraws per second (TUI).
    #[arg(long)]
    pub fps: Option<u32>,
    /// Language of explanations (defaults from LANG).
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    /// Write tracing logs to this file (never to the screen).
    #[arg(long, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Headless: fail the run (exit 1) if EXPR holds at the end, e.g. 'open_ratio<0.99',
    /// 'closes{code=1006}>0', 'handshake_p99>500ms' (repeatable).
    #[arg(long = "fail-if", value_name = "EXPR")]
    pub fail_if: Vec<String>,
    /// Headless: turn off the default gate (exit 1 when no session became usable, or when a
    /// session ended, not retried, for a failure such as 1002, 1008, 1010, HTTP 4xx or TLS).
    #[arg(long)]
    pub no_default_gate: bool,
    /// Headless: keep serving --metrics after the run until one scrape has read the final
    /// values, at most this long (default 15s, Prometheus' default scrape interval; 0 turns it
    /// off).
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub metrics_linger: Option<Duration>,
    /// Headless: stop the run as soon as a --fail-if threshold fails.
    #[arg(long)]
    pub abort_on_fail: bool,
    /// Headless: write the end-of-run summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
    /// Proxy for every session: http://, socks5:// or socks5h:// URL (credentials allowed,
    /// always redacted). Without it, https_proxy/http_proxy/all_proxy/no_proxy apply as in
    /// curl; '' ignores them.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Ignore the proxy environment variables (same as --proxy '').
    #[arg(long, conflicts_with = "proxy")]
    pub no_proxy: bool,
    /// Source addresses to spread sessions over, round-robin (e.g. 127.0.0.2,127.0.0.3).
    #[arg(long, value_name = "IP[,IP...]")]
    pub local_addr: Option<String>,
    /// Run only the K-th of N shares of every target's sessions (e.g. 2/3).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Also redact the header or query parameter NAME (exact name, any case; repeatable).
    #[arg(long = "redact", value_name = "NAME")]
    pub redact: Vec<String>,
    /// Show header and query values that would be redacted (URL credentials stay hidden).
    #[arg(long)]
    pub show_secrets: bool,
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464; port 0 picks one).
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// Open the first session at TIME (RFC 3339 UTC, e.g. 2026-12-07T12:30:00Z, or +30s from
    /// now); --duration counts from it. Agents of a fleet given the same TIME start together.
    #[arg(long, value_name = "TIME", value_parser = parse_start_at_now)]
    pub start_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Speak a built-in protocol on every connection: graphql-ws (connection_init, pings, a
    /// subscription) or socket.io (Engine.IO v4 open, namespace connect, heartbeat). Applies to
    /// the URLs given here and to config targets without their own `protocol`.
    #[arg(long, value_name = "NAME")]
    pub protocol: Option<String>,
    /// Run the session script in FILE on every connection (a single target only; see the
    /// README's "Session scripts").
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// A session with no message from the server for this long is stale (default: never).
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub stale_after: Option<Duration>,
    /// What a stale session does: keep (default), reconnect (close with 1000) or
    /// reconnect:CODE; a close reconnects per the retry policy.
    #[arg(long, value_name = "keep|reconnect[:CODE]", value_parser = parse_stale_action)]
    pub stale_action: Option<StaleAction>,
    /// Keep each session's last COUNT messages and control frames, SIZE payload bytes in all
    /// (default 200,64KiB; 0 turns the message log off).
    #[arg(long, value_name = "COUNT,SIZE", value_parser = parse_message_log)]
    pub message_log: Option<(usize, usize)>,
    /// Payload bytes kept per message (default 4KiB): a longer one keeps its first bytes and
    /// its length.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub message_preview: Option<u64>,
    /// Write every message and control frame, payload as kept, to --export (payloads may hold
    /// personal data; JSON fields with secret names are redacted).
    #[arg(long)]
    pub record_messages: bool,
    /// h1 (HTTP/1.1 upgrade, the default), h2 (WebSockets over HTTP/2, RFC 8441: TLS with ALPN
    /// h2 on wss://, prior knowledge on ws://) or auto (h2 where a wss:// server allows it).
    #[arg(long, value_name = "h1|h2|auto")]
    pub transport: Option<crate::protocol::http2::TransportMode>,
    /// Sessions per HTTP/2 connection (default 100; the server's
    /// SETTINGS_MAX_CONCURRENT_STREAMS caps it).
    #[arg(long, value_name = "N")]
    pub streams_per_connection: Option<usize>,
}

fn parse_stale_action(s: &str) -> Result<StaleAction, String> {
    s.parse()
}

/// The message log and recording: the flags over the config keys `message_log`,
/// `message_preview` (`keys`) and `record_messages`; `exported`: an export file is set.
pub fn message_settings(
    args: &WatchArgs,
    keys: (Option<&str>, Option<&str>),
    record: Option<bool>,
    exported: bool,
) -> Result<crate::engine::settings::MessageSettings, String> {
    let mut m = crate::engine::settings::MessageSettings::default();
    let log = keys.0.map(parse_message_log).transpose()?;
    if let Some((count, bytes)) = args.message_log.or(log) {
        (m.log_count, m.log_bytes) = (count, bytes);
    }
    let preview = keys.1.map(parse_size).transpose()?;
    if let Some(p) = args.message_preview.or(preview) {
        m.preview = usize::try_from(p).map_err(|_| "--message-preview is too large")?;
    }
    m.record = args.record_messages || record.unwrap_or(false);
    if m.record && !exported {
        return Err("--record-messages needs --export FILE (where the messages go)".into());
    }
    Ok(m)
}

/// `--message-log COUNT,SIZE` (`200,64KiB`), or `0` to turn the log off.
pub fn parse_message_log(s: &str) -> Result<(usize, usize), String> {
    if s.trim() == "0" {
        return Ok((0, 0));
    }
    let bad = || format!("invalid message log '{s}' (try 200,64KiB, or 0 to turn it off)");
    let (count, size) = s.split_once(',').ok_or_else(bad)?;
    let count: usize = count.trim().parse().map_err(|_| bad())?;
    let size = usize::try_from(parse_size(size)?).map_err(|_| bad())?;
    Ok((count, size))
}

pub use crate::units::{parse_duration, parse_size, parse_start_at_now};
