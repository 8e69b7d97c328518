//! A real Prometheus scrapes two headless wsmon agents (`--metrics 127.0.0.1:0`) watching the
//! scenario server; once the agents' traffic has stopped changing, sums across the agents taken
//! through Prometheus' query API must equal what the agents' own exports hold.
//! Needs the `prometheus` binary (`bash tests/peers/install.sh`).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::prometheus::{Prometheus, scrape_config};
use serde_json::Value;

/// Headless agents, killed when the test ends however it ends.
struct Agents(Vec<Child>);

impl Drop for Agents {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Start one agent; returns the `host:port` of its metrics endpoint, read from its stderr (the
/// rest of stderr is drained by a thread so the agent never blocks on it).
fn start_agent(agents: &mut Agents, urls: &[String], export: &Path) -> String {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("wsmon"))
        .args(["watch", "--headless", "--duration", "300s", "-n", "3"])
        .args([
            "--max-attempts",
            "2",
            "--backoff-base",
            "200ms",
            "--backoff-cap",
            "1s",
        ])
        .args(["--metrics", "127.0.0.1:0", "--export"])
        .arg(export)
        .args(urls)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wsmon");
    let stderr = child.stderr.take().expect("piped stderr");
    agents.0.push(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.strip_prefix("wsmon: metrics at http://") {
                let _ = tx.send(at.trim_end_matches("/metrics").to_string());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the agent prints its metrics address on stderr")
}

/// What one export holds so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Counts {
    events: u64,
    attempts: u64,
    opens: u64,
    closes_1013: u64,
    closes_1008: u64,
    gave_up: u64,
}

fn read_export(path: &Path) -> Counts {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut c = Counts::default();
    // Only complete lines: the writer may be in the middle of one.
    for line in text.split_inclusive('\n').filter(|l| l.ends_with('\n')) {
        let v: Value = serde_json::from_str(line).expect("export line is JSON");
        c.events += 1;
        match (v["event"].as_str(), v["code"].as_u64()) {
            (Some("connecting"), _) => c.attempts += 1,
            (Some("open"), _) => c.opens += 1,
            (Some("closed"), Some(1013)) => c.closes_1013 += 1,
            (Some("closed"), Some(1008)) => c.closes_1008 += 1,
            (Some("gave_up"), _) => c.gave_up += 1,
            _ => {}
        }
    }
    c
}

fn total(paths: &[PathBuf]) -> Counts {
    paths
        .iter()
        .map(|p| read_export(p))
        .fold(Counts::default(), |a, b| Counts {
            events: a.events + b.events,
            attempts: a.attempts + b.attempts,
            opens: a.opens + b.opens,
            closes_1013: a.closes_1013 + b.closes_1013,
            closes_1008: a.closes_1008 + b.closes_1008,
            gave_up: a.gave_up + b.gave_up,
        })
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_sums_across_two_agents_match_their_exports() {
    if which("prometheus").is_none() {
        panic!("the prometheus server is not installed: run `bash tests/peers/install.sh`");
    }
    let server = wsmon::server::start("127.0.0.1:0")
        .await
        .expect("scenario server");
    // /overload?cap=2 is shared by both agents: 2 of 6 sessions stay open, the others close with
    // 1013, retry twice and give up. /close/1008 is never retried. Then nothing changes.
    let urls = [server.url("/overload?cap=2"), server.url("/close/1008")];
    let dir = tempfile::tempdir().expect("temp dir");
    let exports: Vec<PathBuf> = (1..=2)
        .map(|i| dir.path().join(format!("agent{i}.jsonl")))
        .collect();
    let mut agents = Agents(Vec::new());
    let targets: Vec<String> = exports
        .iter()
        .map(|e| start_agent(&mut agents, &urls, e))
        .collect();
    let prom = Prometheus::start(&scrape_config("wsmon", &targets)).await;

    // Quiescent: the exports (flushed every second) have not changed for 3 s.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = total(&exports);
    let mut stable_since = Instant::now();
    while stable_since.elapsed() < Duration::from_secs(3) || last.gave_up == 0 {
        assert!(
            Instant::now() < deadline,
            "the agents never settled: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = total(&exports);
        if now != last {
            last = now;
            stable_since = Instant::now();
        }
    }
    let settled = unix_now();

    // Two scrapes of each agent, and a scrape of each that started after the counts settled
    // (scrape_interval 1s: the sample after `settled + 1` was taken after it).
    let limit = Duration::from_secs(30);
    let up = r#"up{job="wsmon"}"#;
    prom.wait_for(&format!("count({up} == 1)"), limit, |v| v == 2.0)
        .await;
    prom.wait_for(&format!("min(count_over_time({up}[5m]))"), limit, |v| {
        v >= 2.0
    })
    .await;
    prom.wait_for(&format!("min(timestamp({up}))"), limit, |t| {
        t > settled + 1.0
    })
    .await;

    let queries = [
        (r#"sum(wsmon_closes_total{code="1013"})"#, last.closes_1013),
        (r#"sum(wsmon_closes_total{code="1008"})"#, last.closes_1008),
        ("sum(wsmon_connection_attempts_total)", last.attempts),
        ("sum(wsmon_opens_total)", last.opens),
        (r#"sum(wsmon_sessions{state="gave_up"})"#, last.gave_up),
        ("sum(wsmon_export_events_total)", last.events),
    ];
    let mut report = String::new();
    for (q, want) in queries {
        let got = prom.scalar(q).await;
        report.push_str(&format!("{q} = {got:?} (exports: {want})\n"));
        assert_eq!(got, Some(want as f64), "{q}\n{report}");
    }
    // Each agent's own share, by instance, adds up too.
    let by_instance = prom
        .query(r#"sum by (instance) (wsmon_closes_total{code="1013"})"#)
        .await;
    assert_eq!(
        by_instance.as_array().map(Vec::len),
        Some(2),
        "{by_instance}"
    );
    report.push_str(&format!(
        "sum by (instance) (wsmon_closes_total{{code=\"1013\"}}) = {by_instance}\n"
    ));
    assert_eq!(
        total(&exports),
        last,
        "the exports changed while Prometheus was queried"
    );
    assert!(
        last.closes_1013 > 0 && last.closes_1008 == 6 && last.gave_up == 4,
        "{last:?}"
    );

    // The exposition as served, for the record.
    let (status, body) = get(&targets[0], "/metrics").await;
    assert_eq!(status, 200);
    let excerpt: Vec<&str> = body
        .lines()
        .filter(|l| !l.contains("_bucket{"))
        .take(80)
        .collect();
    println!(
        "--- /metrics of agent 1 (buckets left out)\n{}",
        excerpt.join("\n")
    );
    println!("--- PromQL through Prometheus' query API\n{report}");
    drop(agents);
    drop(prom);
    server.shutdown().await;
}

fn which(cmd: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(cmd))
            .find(|p| p.is_file())
    })
}

/// GET `path` from `host:port` with HTTP/1.0: status and body.
async fn get(addr: &str, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).await.expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, body.to_string())
}

#[test]
fn an_address_that_cannot_be_bound_is_a_usage_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = Command::new(assert_cmd::cargo::cargo_bin("wsmon"))
        .args([
            "watch",
            "--headless",
            "--duration",
            "1s",
            "--metrics",
            &addr,
        ])
        .arg("ws://127.0.0.1:9/")
        .output()
        .expect("run wsmon");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("--metrics {addr}: ")), "{err}");
}

/// Issue 19 section 1: Prometheus missed the end of a headless run (none of the final 1001
/// closes). `/metrics` now stays up after the run until one scrape has read the final values
/// (`--metrics-linger`, default 15 s), and no longer than that scrape.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_reads_the_end_of_a_headless_run() {
    if which("prometheus").is_none() {
        panic!("the prometheus server is not installed: run `bash tests/peers/install.sh`");
    }
    let server = wsmon::server::start("127.0.0.1:0")
        .await
        .expect("scenario server");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let target = format!("127.0.0.1:{port}");
    // Prometheus first (scraping every second), so it is ready when the agent starts.
    let prom = Prometheus::start(&scrape_config("wsmon", std::slice::from_ref(&target))).await;
    let started = Instant::now();
    let agent = Command::new(assert_cmd::cargo::cargo_bin("wsmon"))
        .args(["watch", "--headless", "--duration", "3s", "-n", "3"])
        .args(["--metrics", &target])
        .arg(server.url("/echo"))
        .stdin(Stdio::null())
        .output()
        .expect("run wsmon");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&agent.stderr);
    assert_eq!(agent.status.code(), Some(0), "{stderr}");
    let closes = prom
        .wait_for(
            "sum(wsmon_closes_total{code=\"1001\",initiator=\"client\"})",
            Duration::from_secs(10),
            |v| v >= 3.0,
        )
        .await;
    assert_eq!(closes, 3.0, "the three closes of the end of the run");
    let closed = prom.scalar("sum(wsmon_sessions{state=\"closed\"})").await;
    assert_eq!(closed, Some(3.0), "the final state of every session");
    assert!(
        stderr.contains("serving /metrics until its next scrape reads the final values"),
        "{stderr}"
    );
    assert!(!stderr.contains("was not scraped"), "{stderr}");
    // 3 s, the 1001 closes, and at most about one scrape interval more.
    assert!(took < Duration::from_secs(9), "the run took {took:?}");
    server.shutdown().await;
}
