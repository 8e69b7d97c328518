//! The message log's memory (issue 21 item 5): N sessions, each sending a 200-byte message a
//! second to the scenario server's `/echo` (a separate `wsmon serve` process) and receiving
//! it back, for T; RSS per session with the log off (`--message-log 0`) and on (the
//! defaults: 200 messages, 64 KiB of payload per session), and the payload bytes the log
//! holds per session. Each mode runs in its own child process (this bench run again), so the
//! two RSS figures do not share an allocator's history. Not a timed test: it prints a table.
//!
//!   cargo bench --bench msglog             10,000 sessions for 5 minutes
//!   cargo bench --bench msglog -- --quick  500 sessions for 20 s
//!   cargo bench --bench msglog -- --sessions N --seconds T

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wsmon::codes::Registry;
use wsmon::engine::settings::MessageSettings;
use wsmon::engine::{EngineSettings, TargetSpec};
use wsmon::protocol::url::parse_ws_url;

fn arg(args: &[String], name: &str) -> Option<u64> {
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1)?.parse().ok()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        return child(&args[i + 1], &args);
    }
    let quick = args.iter().any(|a| a == "--quick");
    let n = arg(&args, "--sessions").unwrap_or(if quick { 500 } else { 10_000 });
    let secs = arg(&args, "--seconds").unwrap_or(if quick { 20 } else { 300 });
    wsmon::limits::raise_nofile();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut server = Command::new(env!("CARGO_BIN_EXE_wsmon"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("wsmon serve");
    std::thread::sleep(Duration::from_millis(800));
    println!("msglog bench: {n} sessions, one 200-byte message a second each way, {secs} s");
    println!("| log | RSS | RSS per session | payload held per session | entries per session |");
    println!("|---|---|---|---|---|---|");
    let mut per: Vec<f64> = Vec::new();
    for mode in ["off", "on"] {
        let out = Command::new(std::env::current_exe().expect("exe"))
            .args(["--child", mode, "--sessions", &n.to_string()])
            .args(["--seconds", &secs.to_string(), "--port", &port.to_string()])
            .output()
            .expect("child");
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().last().unwrap_or("");
        let f: Vec<f64> = line.split(' ').filter_map(|v| v.parse().ok()).collect();
        if f.len() < 4 {
            eprintln!(
                "child {mode} failed: {line} {}",
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        }
        let (rss, bytes, entries, open) = (f[0], f[1], f[2], f[3]);
        per.push(rss / n as f64);
        println!(
            "| {mode} | {:.0} MiB | {:.1} KiB | {:.1} KiB | {:.0} | ({open:.0} sessions received) | |",
            rss / 1024.0,
            rss / n as f64,
            bytes / n as f64 / 1024.0,
            entries / n as f64
        );
    }
    if let [off, on] = per[..] {
        println!(
            "the log costs {:.1} KiB of RSS per session (cap: 64 KiB of payload + bookkeeping)",
            on - off
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// One mode: run the engine and the store (what `watch --headless` runs) for the time asked,
/// then print `RSS_KiB payload_bytes entries open_sessions`.
fn child(mode: &str, args: &[String]) {
    wsmon::limits::raise_nofile();
    let n = arg(args, "--sessions").unwrap_or(500) as usize;
    let secs = arg(args, "--seconds").unwrap_or(20);
    let port = arg(args, "--port").expect("--port");
    let url = parse_ws_url(&format!("ws://127.0.0.1:{port}/echo")).expect("url");
    let mut settings = EngineSettings {
        targets: vec![TargetSpec::new(url, n)],
        seed: Some(7),
        ..Default::default()
    };
    settings.session.send = Some("x".repeat(200));
    settings.session.send_every = Some(Duration::from_secs(1));
    settings.session.ramp = Some(2000.0);
    if mode == "off" {
        settings.session.messages = MessageSettings {
            log_count: 0,
            ..MessageSettings::default()
        };
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let registry = Arc::new(Registry::builtin().clone());
        let run = wsmon::runtime::live(settings, registry, None).expect("live");
        let until = Instant::now() + Duration::from_secs(secs);
        tokio::time::sleep_until(until.into()).await;
        let snap = run.fresh_snapshot().await;
        let rss = rss_kib();
        let (bytes, entries) = {
            let logs = snap.messages.lock();
            logs.sessions.values().fold((0usize, 0usize), |(b, e), l| {
                (b + l.bytes(), e + l.entries().len())
            })
        };
        let open = snap
            .counters
            .iter()
            .flatten()
            .filter(|c| c.msgs_in > 0)
            .count();
        println!("{rss} {bytes} {entries} {open}");
        run.shutdown().await;
    });
}
