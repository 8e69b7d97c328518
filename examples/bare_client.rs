//! The floor of the side-by-side benchmark (benches/side_by_side.sh): tokio-tungstenite used
//! directly, no monitoring, no deflate (tungstenite has none). Same tungstenite buffer settings
//! as wsmon's sessions, one runtime worker like wsmon.
//!
//!   bare_client open URL N SECONDS    open N sessions, hold them, exit after SECONDS
//!   bare_client storm URL N SECONDS   N sessions reconnecting with full-jitter backoff
//!                                     (base 1 s, cap 60 s, reset after 10 s open)
//!   bare_client ping URL N SECONDS    open N sessions and ping each every 15 s, on a 1 s grid
//!                                     at a random slot (wsmon's default schedule), reading
//!                                     the pongs
//!
//! Prints one JSON line of results on stdout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

const BASE: Duration = Duration::from_secs(1);
const CAP: Duration = Duration::from_secs(60);
const STABLE: Duration = Duration::from_secs(10);
/// wsmon's default ping interval.
const PING_EVERY: Duration = Duration::from_secs(15);

#[derive(Default)]
struct Stats {
    opened: u64,
    failed: u64,
    attempts: u64,
    first_connect: Option<Instant>,
    last_open: Option<Instant>,
    handshakes_ms: Vec<f64>,
    scheduled: u64,
    on_time: u64,
    lags_ms: Vec<f64>,
    pongs: u64,
    rtt_ms_sum: f64,
}

fn pct(xs: &mut [f64], p: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let i = ((p / 100.0) * xs.len() as f64) as usize;
    Some(xs[i.min(xs.len() - 1)])
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

/// TCP and the upgrade, counted in `stats`.
async fn open(url: &str, stats: &Mutex<Stats>) -> Option<Ws> {
    let start = Instant::now();
    {
        let mut s = stats.lock().expect("stats");
        s.attempts += 1;
        s.first_connect.get_or_insert(start);
    }
    let host = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:80")
        .to_string();
    let Ok(tcp) = TcpStream::connect(host).await else {
        stats.lock().expect("stats").failed += 1;
        return None;
    };
    let config = wsmon::engine::session::ws_config(16 * 1024 * 1024);
    let Ok((ws, _)) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config)).await
    else {
        stats.lock().expect("stats").failed += 1;
        return None;
    };
    let opened = Instant::now();
    let mut s = stats.lock().expect("stats");
    s.opened += 1;
    s.last_open = Some(opened);
    s.handshakes_ms
        .push((opened - start).as_secs_f64() * 1000.0);
    Some(ws)
}

/// One connection: TCP, upgrade, then read until it ends. Returns how long it was open.
async fn connect_once(url: &str, stats: &Mutex<Stats>) -> Option<Duration> {
    let mut ws = open(url, stats).await?;
    let opened = Instant::now();
    while let Some(Ok(_)) = ws.next().await {}
    Some(opened.elapsed())
}

/// One connection that pings every `PING_EVERY` at a random whole second of the interval
/// (counted from `epoch`) and reads the pongs, until it ends.
async fn ping_session(url: String, epoch: Instant, stats: Arc<Mutex<Stats>>) {
    let Some(mut ws) = open(&url, &stats).await else {
        return;
    };
    let mut rng = SmallRng::from_os_rng();
    let mut first = epoch + Duration::from_secs(rng.random_range(0..PING_EVERY.as_secs()));
    while first <= Instant::now() {
        first += PING_EVERY;
    }
    let mut ping = tokio::time::interval_at(first, PING_EVERY);
    let mut seq: u64 = 0;
    let mut sent_at = Instant::now();
    loop {
        tokio::select! {
            _ = ping.tick() => {
                seq += 1;
                sent_at = Instant::now();
                let payload = seq.to_be_bytes().to_vec();
                if ws.send(Message::Ping(payload.into())).await.is_err() {
                    return;
                }
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Pong(_))) => {
                    let rtt = sent_at.elapsed().as_secs_f64() * 1000.0;
                    let mut s = stats.lock().expect("stats");
                    s.pongs += 1;
                    s.rtt_ms_sum += rtt;
                }
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

async fn storm_session(url: String, deadline: Instant, stats: Arc<Mutex<Stats>>) {
    let mut retry: u32 = 0;
    let mut rng = SmallRng::from_os_rng();
    loop {
        let uptime = connect_once(&url, &stats).await;
        retry = match uptime {
            Some(u) if u >= STABLE => 1,
            _ => retry.saturating_add(1),
        };
        let window = BASE
            .checked_mul(1u32 << (retry - 1).min(16))
            .unwrap_or(CAP)
            .min(CAP);
        let delay = window.mul_f64(rng.random_range(0.0..1.0));
        let due = Instant::now() + delay;
        if due >= deadline {
            return;
        }
        stats.lock().expect("stats").scheduled += 1;
        tokio::time::sleep_until(due).await;
        let mut s = stats.lock().expect("stats");
        s.on_time += 1;
        s.lags_ms.push(due.elapsed().as_secs_f64() * 1000.0);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 5 {
        eprintln!("usage: bare_client open|storm|ping URL N SECONDS");
        std::process::exit(2);
    }
    let (mode, url) = (args[1].clone(), args[2].clone());
    let n: u64 = args[3].parse().expect("N");
    let secs: u64 = args[4].parse().expect("SECONDS");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let stats = Arc::new(Mutex::new(Stats::default()));
        let epoch = Instant::now();
        let deadline = epoch + Duration::from_secs(secs);
        for _ in 0..n {
            let (url, stats) = (url.clone(), stats.clone());
            match mode.as_str() {
                "open" => {
                    tokio::spawn(async move {
                        connect_once(&url, &stats).await;
                    });
                }
                "ping" => {
                    tokio::spawn(ping_session(url, epoch, stats));
                }
                _ => {
                    tokio::spawn(storm_session(url, deadline, stats));
                }
            }
        }
        tokio::time::sleep_until(deadline).await;
        let mut s = stats.lock().expect("stats");
        let line = if mode == "ping" {
            let rtt = (s.pongs > 0).then(|| s.rtt_ms_sum / s.pongs as f64);
            serde_json::json!({"client": "bare", "mode": mode, "n": n, "opened": s.opened,
                "failed": s.failed, "pongs": s.pongs, "rtt_mean_ms": rtt})
        } else if mode == "open" {
            let open_ms = match (s.first_connect, s.last_open) {
                (Some(a), Some(b)) => Some((b - a).as_millis()),
                _ => None,
            };
            let (p50, p99) = (
                pct(&mut s.handshakes_ms, 50.0),
                pct(&mut s.handshakes_ms, 99.0),
            );
            serde_json::json!({"client": "bare", "mode": mode, "n": n, "opened": s.opened,
                "failed": s.failed, "open_ms": open_ms, "hs_p50": p50, "hs_p99": p99})
        } else {
            let (p50, p99) = (pct(&mut s.lags_ms, 50.0), pct(&mut s.lags_ms, 99.0));
            serde_json::json!({"client": "bare", "mode": mode, "n": n, "attempts": s.attempts,
                "ideal": n + s.scheduled, "on_time": n + s.on_time,
                "lag_p50": p50, "lag_p99": p99})
        };
        println!("{line}");
        std::process::exit(0);
    });
}
