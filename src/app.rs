//! The top of `watch`, `demo` and `serve`: build the config, start the runtime, run the TUI or
//! headless mode, shut down cleanly. `main.rs` only parses the CLI and calls these.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use anyhow::Context;

use crate::cli::{DemoArgs, ServeArgs, WatchArgs};
use crate::codes::{Lang, Registry};
use crate::config::{self, Config};
use crate::engine::TargetSpec;
use crate::protocol::url::parse_ws_url;
use crate::runtime::{self, Runtime};

/// Exit status for bad usage or bad config.
pub const EXIT_USAGE: u8 = 2;

/// The environment variable that sets the log filter (`tracing` `EnvFilter` syntax).
pub const LOG_ENV: &str = "WSMON_LOG";

/// Where `tracing` output goes.
#[derive(Debug, Clone, Copy)]
enum LogTo<'a> {
    File(&'a Path),
    Stderr,
    /// Nowhere: the TUI owns the screen.
    Nowhere,
}

/// A log file that cannot be opened: bad usage (exit 2), said before anything starts.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct LogFileError(String);

fn log_file_problem(path: &Path, what: &str, e: &std::io::Error) -> String {
    format!(
        "cannot {what} log file {}: {e}",
        crate::redact::escape_control(&path.display().to_string())
    )
}

/// `--log-file`: the first failed write is said once on stderr; later lines are dropped.
struct LogFile {
    file: std::fs::File,
    path: PathBuf,
    failed: AtomicBool,
}

struct LogWriter(Arc<LogFile>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let log = &*self.0;
        if log.failed.load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        match (&log.file).write_all(buf) {
            Ok(()) => Ok(buf.len()),
            Err(e) => {
                if !log.failed.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "wsmon: {}; no more log lines are written",
                        log_file_problem(&log.path, "write", &e)
                    );
                }
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The one logging set-up: `WSMON_LOG` sets the filter, `default` applies without it.
fn init_logging(to: LogTo<'_>, default: &str) -> anyhow::Result<()> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new(default));
    let logger = tracing_subscriber::fmt().with_env_filter(filter);
    match to {
        LogTo::File(path) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| LogFileError(log_file_problem(path, "open", &e)))?;
            let sink = Arc::new(LogFile {
                file: f,
                path: path.to_path_buf(),
                failed: AtomicBool::new(false),
            });
            let _ = logger
                .with_ansi(false)
                .with_writer(move || LogWriter(sink.clone()))
                .try_init();
        }
        LogTo::Stderr => {
            let _ = logger
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_writer(std::io::stderr)
                .try_init();
        }
        LogTo::Nowhere => {}
    }
    Ok(())
}

/// Logs of `watch` and `demo`: to `--log-file`, else to stderr in headless mode, else nowhere
/// (never to the screen under the TUI).
fn watch_logging(file: Option<&PathBuf>, headless: bool) -> anyhow::Result<()> {
    let to = match file {
        Some(path) => LogTo::File(path),
        None if headless => LogTo::Stderr,
        None => LogTo::Nowhere,
    };
    init_logging(to, "warn")
}

/// `wsmon serve`: logs to stderr (`info` unless `WSMON_LOG` says otherwise). An address that
/// cannot be listened on (in use, not local, not resolved) is bad usage: exit 2.
pub async fn run_serve(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging(LogTo::Stderr, "info")?;
    let settings = crate::server::h2::H2Settings {
        connect_protocol: !args.h2_no_connect_protocol,
    };
    let options = crate::server::ServeOptions {
        h2: args.h2.then(|| (args.h2_bind.clone(), settings)),
    };
    let handle = match crate::server::start_with(&args.bind, &options).await {
        Ok(h) => h,
        Err(e) => {
            let bind = match &options.h2 {
                Some((h2, _)) => format!("{} or {h2}", args.bind),
                None => args.bind.clone(),
            };
            eprintln!(
                "wsmon: cannot listen on {}: {e}",
                crate::redact::escape_control(&bind)
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    crate::server::run(handle).await
}

/// The TUI needs a terminal; checked first, before anything starts or connects (the screen
/// itself is opened just before the runtime). Without one: exit 2 with a hint.
fn terminal_precheck(headless: bool) -> Option<ExitCode> {
    if headless || crate::tui::has_terminal() {
        return None;
    }
    eprintln!("wsmon: {}", crate::tui::ScreenError::NoTerminal);
    Some(ExitCode::from(EXIT_USAGE))
}

/// Where the TUI writes its log when `--export` is not given, so that `e` always has a file and
/// no event is lost.
fn default_export_path(prefix: &str) -> PathBuf {
    let ts = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    std::env::temp_dir().join(format!("{prefix}-{ts}-{}.jsonl", std::process::id()))
}

/// `wsmon watch`.
pub async fn run_watch(args: &WatchArgs) -> anyhow::Result<ExitCode> {
    if args.print_config {
        print!("{}", config::DEFAULT_CONFIG_TOML);
        return Ok(ExitCode::SUCCESS);
    }
    // Before anything quotes a URL or a header: the redaction rules for this run.
    crate::redact::install(crate::redact::Redactor {
        extra: args.redact.clone(),
        show_secrets: args.show_secrets,
    });
    let mut cfg = match Config::from_watch_args(args) {
        Ok(c) => c,
        Err(e) => {
            // Config errors quote the file and the flags: nothing in them reaches the terminal raw.
            eprintln!(
                "wsmon: {}",
                crate::redact::escape_control_lines(&e.to_string())
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    if cfg.targets.is_empty() {
        eprintln!(
            "wsmon: no URL to watch: give one or more ws:// or wss:// URLs, or targets in --config"
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    if let Some(code) = terminal_precheck(cfg.headless) {
        return Ok(code);
    }
    if cfg.session.insecure {
        eprintln!("wsmon: WARNING: --insecure: TLS certificates are NOT verified");
    }
    let registry = match Registry::build(cfg.profile.as_deref(), &cfg.app_codes) {
        Ok(r) => Arc::new(r),
        Err(e) => {
            eprintln!(
                "wsmon: {}",
                crate::redact::escape_control_lines(&e.to_string())
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    if let Some(code) = fd_precheck(cfg.total_sessions(), 1) {
        return Ok(code);
    }
    if let Err(e) = watch_logging(cfg.log_file.as_ref(), cfg.headless) {
        if let Some(bad) = e.downcast_ref::<LogFileError>() {
            eprintln!("wsmon: {bad}");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
        return Err(e);
    }
    if !cfg.headless && cfg.export.is_none() {
        cfg.export = Some(default_export_path("wsmon"));
    }
    let title = cfg
        .targets
        .iter()
        .map(|t| crate::redact::url(t.url.as_str()))
        .collect::<Vec<_>>()
        .join(" ");
    run_engine(cfg, registry, title, args.start_at).await
}

/// The proxies the targets go through, credentials redacted: `via proxy http://proxy:3128`
/// (several: comma-separated). `None` when every target goes direct.
fn proxy_note(cfg: &Config) -> Option<String> {
    let urls = cfg.engine.targets.iter().map(|t| &t.url);
    let (via, _, _) = crate::headless::proxies_used(&cfg.engine.proxy, urls);
    (!via.is_empty()).then(|| format!("via proxy {}", via.join(", ")))
}

/// Raise the open-files limit to the hard limit and check that `sessions` sessions (each
/// holding `per_session` descriptors) fit; if not, say so and how to raise it: exit status 2.
fn fd_precheck(sessions: usize, per_session: u64) -> Option<ExitCode> {
    use crate::limits;
    let limit = limits::raise_nofile()?;
    let open = limits::open_fds();
    if let Err(short) = limits::check_sessions(sessions as u64, per_session, limit, open) {
        eprintln!("wsmon: {short}");
        return Some(ExitCode::from(EXIT_USAGE));
    }
    #[cfg(feature = "fault-injection")]
    limits::test_leave_fds(limit);
    None
}

/// `--start-at`: the monotonic instant of the first session (`None` without the flag). A time
/// that has passed starts at once, with a warning; a future one is said on stderr.
fn start_instant(start_at: Option<chrono::DateTime<chrono::Utc>>) -> Option<tokio::time::Instant> {
    let at = start_at?;
    let shown = crate::export::jsonl::format_ts(&at);
    let ahead = at - chrono::Utc::now();
    let secs = ahead.num_milliseconds().abs() as f64 / 1000.0;
    match ahead.to_std() {
        Ok(wait) => {
            eprintln!("wsmon: starting at {shown} (in {secs:.1} s)");
            Some(tokio::time::Instant::now() + wait)
        }
        Err(_) => {
            eprintln!(
                "wsmon: warning: --start-at {shown} is {secs:.1} s in the past: starting now"
            );
            Some(tokio::time::Instant::now())
        }
    }
}

async fn run_engine(
    cfg: Config,
    registry: Arc<Registry>,
    title: String,
    start_at: Option<chrono::DateTime<chrono::Utc>>,
) -> anyhow::Result<ExitCode> {
    let headless = cfg.headless;
    let duration = cfg.duration;
    let mut cfg = cfg;
    cfg.engine.start_at = start_at;
    let lang = Lang::resolve(cfg.lang.map(Lang::from));
    let fps = cfg.fps;
    let keys = cfg.keys.clone();
    let gate = crate::headless::Gate {
        no_default_gate: cfg.no_default_gate,
        metrics_linger: cfg
            .metrics_linger
            .unwrap_or(crate::headless::METRICS_LINGER),
        thresholds: cfg.fail_if.clone(),
        abort_on_fail: cfg.abort_on_fail,
        summary_json: cfg.summary_json.clone(),
        ..Default::default()
    };
    // Headless mode says at its start which proxy the sessions go through.
    let proxy_line = if headless {
        crate::headless::proxy_line(&cfg.engine.proxy, cfg.engine.targets.iter().map(|t| &t.url))
    } else {
        None
    };
    let mut title = title;
    // A proxy (from --proxy or the environment) is said in the title bar: its last words,
    // which stay whole when the title shrinks.
    if !headless && let Some(note) = proxy_note(&cfg) {
        title = format!("{title}  {note}");
    }
    let metrics = match &cfg.metrics {
        Some(addr) => match crate::metrics::http::bind(addr).await {
            Ok(listener) => {
                let at = crate::metrics::http::endpoint(listener.local_addr()?);
                if headless {
                    eprintln!("wsmon: metrics at {at}");
                } else {
                    title = format!("{title}  metrics {at}");
                }
                Some(listener)
            }
            Err(e) => {
                eprintln!("wsmon: {e}");
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        },
        None => None,
    };
    // The terminal first: without one, say so before any session connects.
    let screen = if headless {
        None
    } else {
        match crate::tui::Screen::open() {
            Ok(screen) => Some(screen),
            Err(e) => {
                eprintln!("wsmon: {e}");
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        }
    };
    // After the metrics endpoint is bound and the screen is open: the wait is the engine's.
    let starts = start_instant(start_at);
    let gate = crate::headless::Gate { starts, ..gate };
    let rt = match runtime::live_with_metrics(
        cfg.engine,
        registry.clone(),
        cfg.export.as_deref(),
        metrics,
        // Headless mode reads a snapshot a second (and a fresh one for its verdict); a screen
        // draws up to ten a second.
        if headless {
            crate::headless::SNAPSHOT_EVERY
        } else {
            crate::state::store::MIN_PUBLISH
        },
    ) {
        Ok(rt) => rt,
        // wsmon itself failed before any session could start (export file, TLS set-up).
        Err(e) => {
            drop(screen);
            eprintln!("wsmon: {e:#}");
            return Ok(ExitCode::from(crate::headless::EXIT_INTERNAL));
        }
    };
    let Some(screen) = screen else {
        if let Some(line) = proxy_line {
            eprintln!("wsmon: {line}");
        }
        return crate::headless::run_gated(rt, duration, registry, &gate).await;
    };
    let opts = crate::tui::TuiOptions {
        fps,
        lang,
        keys,
        color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        title,
        registry,
        local_time: crate::tui::local_time_from_env(),
    };
    run_tui(
        rt,
        screen,
        opts,
        duration.map(|d| starts.unwrap_or_else(Instant::now) + d),
    )
    .await
}

/// The TUI on a running runtime. `q` sends `Shutdown`; every session closes with 1001, the
/// export is flushed, and the terminal is restored before the export result is printed.
async fn run_tui(
    mut rt: Runtime,
    screen: crate::tui::Screen,
    opts: crate::tui::TuiOptions,
    until: Option<Instant>,
) -> anyhow::Result<ExitCode> {
    if let Some(until) = until {
        let commands = rt.commands.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(until).await;
            let _ = commands
                .send(crate::engine::events::Command::Shutdown.into())
                .await;
        });
    }
    // SIGTERM, SIGHUP and SIGINT do what `q` does: 1001 closes, the export flushed, the
    // terminal restored (the loop ends when the store stops).
    match crate::signal::terminal_stop() {
        Ok(stop) => {
            let commands = rt.commands.clone();
            tokio::spawn(async move {
                stop.await;
                let _ = commands
                    .send(crate::engine::events::Command::Shutdown.into())
                    .await;
            });
        }
        Err(e) => tracing::warn!("cannot watch for stop signals: {e}"),
    }
    let notices = rt.notices.take();
    let (snapshots, commands) = (rt.snapshots.clone(), rt.commands.clone());
    let ui = crate::tui::run(screen, snapshots, commands, notices, opts).await;
    let (last, export) = rt.shutdown().await;
    ui?;
    match (export, &last.export_path) {
        (Some(Ok(n)), Some(p)) => {
            eprintln!("wsmon: {n} events exported to {p}");
            Ok(ExitCode::SUCCESS)
        }
        (Some(Err(e)), _) => {
            eprintln!("wsmon: EXPORT FAILED: {e}");
            Ok(ExitCode::from(crate::headless::EXIT_INTERNAL))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// `wsmon demo`: the scenario server in-process, and a curated mix of sessions watching it.
pub async fn run_demo(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    if let Some(code) = terminal_precheck(args.headless) {
        return Ok(code);
    }
    watch_logging(None, args.headless)?;
    let server = crate::server::start("127.0.0.1:0")
        .await
        .context("cannot start the scenario server")?;
    let cfg = demo_config(&server, args)?;
    // The scenario server in this process holds the other end of every session.
    if let Some(code) = fd_precheck(cfg.total_sessions(), 2) {
        server.shutdown().await;
        return Ok(code);
    }
    let registry = Arc::new(Registry::builtin().clone());
    let title = format!("demo: scenario server on ws://{}", server.addr());
    let result = run_engine(cfg, registry, title, args.start_at).await;
    server.shutdown().await;
    result
}

/// The demo's targets: every feature shows within ten seconds.
pub fn demo_config(
    server: &crate::server::ServerHandle,
    args: &DemoArgs,
) -> anyhow::Result<Config> {
    let n = args.sessions.max(4);
    let quarter = (n / 4).max(1);
    let target = |path: &str, sessions: usize, require: &[&str]| -> anyhow::Result<TargetSpec> {
        let url = parse_ws_url(&server.url(path))?;
        Ok(TargetSpec {
            headers: vec![(
                "Authorization".to_string(),
                "Bearer demo-secret-token".to_string(),
            )],
            require: require.iter().map(|s| s.to_string()).collect(),
            ..TargetSpec::new(url, sessions)
        })
    };
    let mut cfg = Config {
        engine: crate::engine::EngineSettings {
            targets: vec![
                target("/echo", n, &[])?,
                target("/nodeflate", quarter, &["permessage-deflate"])?,
                target(&format!("/overload?cap={}", (n / 4).max(2)), n, &[])?,
                target("/flaky?p=0.5", quarter * 2, &[])?,
                target("/close/1012", quarter, &[])?,
                target("/reject/503", quarter, &[])?,
                target("/drop?after=3s", quarter, &[])?,
                target("/close/1008", 2, &[])?,
                target("/burst?n=50", 2, &[])?,
                // A feed that goes silent after 20 s with the connection up (stale), and an
                // RPC server answering after 20-80 ms (latency).
                target("/feed?rate=2&stall_after=20s", 2, &[])?,
                TargetSpec {
                    conversation: Some(demo_rpc_script()?),
                    ..target("/rpc?delay=20ms-80ms", 2, &[])?
                },
            ],
            ..Default::default()
        },
        headless: args.headless,
        duration: args.duration,
        fps: args.fps.clamp(1, 60),
        lang: args.lang,
        metrics: args.metrics.clone(),
        // The demo shows failures on purpose (1008, a missing required extension): it is no
        // CI gate.
        no_default_gate: true,
        ..Config::default()
    };
    // The id makes /rpc answer it (after its delay) instead of answering with an error.
    cfg.session.send = Some(
        r#"{"type":"tick","id":"demo","from":"wsmon demo","payload":"hello hello hello hello hello hello"}"#
            .into(),
    );
    cfg.session.send_every = Some(Duration::from_secs(1));
    cfg.session.shutdown_close_timeout = args.close_timeout;
    cfg.session.ping_interval = Some(Duration::from_secs(2));
    // The feed's silence shows as stale 5 s after its last tick (the burst's too, once done).
    cfg.session.stale_after = Some(Duration::from_secs(5));
    cfg.export = match &args.export {
        Some(p) => Some(p.clone()),
        None if !args.headless => Some(default_export_path("wsmon-demo")),
        None => None,
    };
    if let Some(p) = &cfg.export {
        crate::export::Format::from_path(p)?;
    }
    Ok(cfg)
}

/// The demo's RPC target asks three questions on every connection, each answered after the
/// server's delay: three request-to-response latencies per connection (the LAT column, the
/// Targets view's p50/p99). The ids keep the answers to the demo's own `--send` ("demo") out.
fn demo_rpc_script() -> anyhow::Result<Arc<dyn crate::engine::conversation::ConversationFactory>> {
    const SCRIPT: &str = r#"
send json {"id":"q1","op":"quote"}
expect json {"id":"q1","type":"result"} within 5s
send json {"id":"q2","op":"quote"}
expect json {"id":"q2","type":"result"} within 5s
send json {"id":"q3","op":"quote"}
expect json {"id":"q3","type":"result"} within 5s
"#;
    let script = crate::engine::script::parse::parse(SCRIPT, &|_| None)
        .map_err(|e| anyhow::anyhow!("the demo's script: {}:{}: {}", e.line, e.col, e.what))?;
    Ok(Arc::new(crate::engine::script::ScriptFactory {
        script: Arc::new(script),
        shard: String::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::settings::ProxyRule;

    /// A proxy from the environment is named (without its credentials); a target it skips
    /// (`no_proxy`) is not.
    #[test]
    fn the_proxy_from_the_environment_is_named_without_credentials() {
        let env = |k: &str| match k {
            "http_proxy" => Some("http://alice:s3cret@proxy.example:3128".to_string()),
            "no_proxy" => Some("direct.example".to_string()),
            _ => None,
        };
        let mut cfg = Config::default();
        cfg.engine.proxy = ProxyRule::from_env(&env);
        let target = |url: &str| {
            crate::engine::settings::TargetSpec::new(url::Url::parse(url).expect("url"), 1)
        };
        cfg.targets = vec![target("ws://direct.example/")];
        assert_eq!(proxy_note(&cfg), None);
        cfg.targets.push(target("ws://far.example/echo"));
        let note = proxy_note(&cfg).expect("a proxy");
        assert!(note.starts_with("via proxy http://"), "{note}");
        assert!(note.contains("proxy.example:3128"), "{note}");
        assert!(
            !note.contains("s3cret") && !note.contains("alice"),
            "{note}"
        );
    }
}
