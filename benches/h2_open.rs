//! Opening N sessions over HTTP/2 (100 streams per connection) vs HTTP/1.1 (one TCP connection
//! each), side by side in one run, against hypercorn (one server, both transports): wsmon's CPU
//! time, the time until every session is open, and RSS per open session. Each transport runs in
//! its own child process, so one's memory does not count in the other's.
//!
//!   cargo bench --bench h2_open            quick check, N = 500
//!   WSMON_BENCH_FULL=1 cargo bench --bench h2_open      the N = 10,000
//!
//! Needs hypercorn in the peers' venv (`bash tests/peers/install.sh`). Not a timed test: read
//! the table.

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wsmon::codes::Registry;
use wsmon::engine::events::SessionState;
use wsmon::engine::{EngineSettings, TargetSpec};
use wsmon::protocol::http2::TransportMode;

/// CPU time (user + system) of this process so far.
fn cpu() -> Duration {
    // SAFETY: getrusage writes into the struct we own.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// One transport, in this (child) process: prints `RESULT mode n secs cpu_secs rss_kib_per_session conns`.
fn child(mode: TransportMode, port: u16, n: usize) {
    wsmon::limits::raise_nofile();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let url = format!("ws://127.0.0.1:{port}/echo");
        let mut target = TargetSpec::new(url::Url::parse(&url).expect("url"), n);
        target.offers.clear();
        let mut settings = EngineSettings {
            targets: vec![target],
            ..EngineSettings::default()
        };
        settings.session.ping_interval = None;
        settings.session.transport = mode;
        settings.session.streams_per_connection = 100;
        settings.session.max_connecting = 256;
        settings.session.connect_timeout = Duration::from_secs(60);
        let registry = Arc::new(Registry::builtin().clone());
        let rss0 = rss_kib();
        let cpu0 = cpu();
        let t0 = Instant::now();
        let engine = wsmon::runtime::live(settings, registry, None).expect("engine starts");
        let mut rx = engine.snapshots.clone();
        let limit = Duration::from_secs(300);
        let opened = tokio::time::timeout(limit, async {
            loop {
                let open = rx.borrow_and_update().totals.by_state[SessionState::Open.index()];
                if open == n {
                    return;
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        })
        .await
        .is_ok();
        let secs = t0.elapsed().as_secs_f64();
        let cpu_secs = (cpu() - cpu0).as_secs_f64();
        let per = (rss_kib().saturating_sub(rss0)) as f64 / n as f64;
        let (snap, _) = engine.shutdown().await;
        let open = snap.totals.opens;
        println!(
            "RESULT {} {n} {secs:.2} {cpu_secs:.2} {per:.1} {open} {}",
            mode.as_str(),
            if opened { "ok" } else { "timeout" }
        );
    });
}

fn main() {
    if let (Ok(mode), Ok(port), Ok(n)) = (
        std::env::var("WSMON_BENCH_MODE"),
        std::env::var("WSMON_BENCH_PORT"),
        std::env::var("WSMON_BENCH_N"),
    ) {
        let mode = mode.parse().expect("mode");
        child(
            mode,
            port.parse().expect("port"),
            n.parse().expect("session count"),
        );
        return;
    }
    let n: usize = if std::env::var_os("WSMON_BENCH_FULL").is_some() {
        10_000
    } else {
        500
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let hypercorn = root.join("target/peers/venv/bin/hypercorn");
    if !hypercorn.is_file() {
        eprintln!("hypercorn is missing: run `bash tests/peers/install.sh` first");
        std::process::exit(1);
    }
    wsmon::limits::raise_nofile();
    let mut server = Command::new(&hypercorn)
        .current_dir(root.join("tests/peers"))
        .args([
            "--bind",
            "127.0.0.1:0",
            "--backlog",
            "4096",
            "--log-level",
            "info",
            "h2_echo:app",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hypercorn starts");
    let stderr = server.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let port: u16 = loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("hypercorn ended before listening");
        };
        if let Some(rest) = line.split("Running on ").nth(1) {
            let addr = rest.split_whitespace().next().unwrap_or_default();
            break addr
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("port");
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let exe = std::env::current_exe().expect("bench binary");
    println!("opening {n} sessions against hypercorn (one process, h1 and h2 on one port)");
    println!(
        "{:<6} {:>7} {:>12} {:>10} {:>14} {:>8} {:>6}",
        "proto", "N", "all open s", "CPU s", "RSS KiB/sess", "opens", ""
    );
    for mode in ["h1", "h2"] {
        let out = Command::new(&exe)
            .env("WSMON_BENCH_MODE", mode)
            .env("WSMON_BENCH_PORT", port.to_string())
            .env("WSMON_BENCH_N", n.to_string())
            .output()
            .expect("child runs");
        let text = String::from_utf8_lossy(&out.stdout);
        match text.lines().find_map(|l| l.strip_prefix("RESULT ")) {
            Some(r) => {
                let f: Vec<&str> = r.split_whitespace().collect();
                println!(
                    "{:<6} {:>7} {:>12} {:>10} {:>14} {:>8} {:>6}",
                    f[0], f[1], f[2], f[3], f[4], f[5], f[6]
                );
            }
            None => println!(
                "{mode}: no result; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
    let _ = server.kill();
    let _ = server.wait();
}
