//! The `/metrics` endpoint: a small HTTP/1.1 server on a tokio listener. It answers
//! `GET /metrics` (and `HEAD`) with the exposition, anything else with 404 or 405, one request per
//! connection. A scrape needs no more than that, and `httparse` (already used for the upgrade)
//! parses the request head; hyper would add a server stack for one route. At most
//! `MAX_CONNECTIONS` connections are held: a newcomer pushes the oldest out, so silent or
//! reconnecting clients cannot keep a scrape from its answer.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

use crate::metrics::registry::CONTENT_TYPE;

/// Largest request head read.
const MAX_HEAD: usize = 8 * 1024;
/// A client has this long to send its request head ...
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// ... and this long in all, its answer written.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections held at once. A newcomer is always accepted; past this many, the oldest
/// connection is dropped. A scrape sends its request at once and is answered in a millisecond,
/// so clients that connect and stay silent (or reconnect in a loop) can no longer keep every
/// slot and starve Prometheus, as a fixed set of slots held until a timeout did.
const MAX_CONNECTIONS: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("--metrics {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// Bind `addr` (`IP:PORT`, or `HOST:PORT`; port 0 picks a free port).
pub async fn bind(addr: &str) -> Result<TcpListener, MetricsError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| MetricsError::Bind {
            addr: addr.to_string(),
            source,
        })
}

/// What the endpoint renders on each scrape.
pub type Render = Arc<dyn Fn() -> String + Send + Sync>;

/// A running `/metrics` endpoint ([`spawn`]): stop it, or let it answer one more scrape first.
#[derive(Debug)]
pub struct Endpoint {
    task: JoinHandle<()>,
    /// Expositions rendered so far (GET and HEAD of `/metrics`).
    scrapes: Arc<AtomicU64>,
}

/// Serve `/metrics` on `listener` in a task of its own.
pub fn spawn(listener: TcpListener, render: Render) -> Endpoint {
    let scrapes = Arc::new(AtomicU64::new(0));
    let counted = scrapes.clone();
    let render: Render = Arc::new(move || {
        let text = render();
        counted.fetch_add(1, Ordering::SeqCst);
        text
    });
    Endpoint {
        task: tokio::spawn(serve(listener, render)),
        scrapes,
    }
}

impl Endpoint {
    /// Scrapes answered so far.
    pub fn scrapes(&self) -> u64 {
        self.scrapes.load(Ordering::SeqCst)
    }

    /// Keep serving until one scrape renders after this call (so it reads the values as they
    /// are now: the end of a run), or `max` passes; then stop. True when a scrape came.
    pub async fn linger(self, max: Duration) -> bool {
        let before = self.scrapes();
        let deadline = tokio::time::Instant::now() + max;
        let mut scraped = false;
        while tokio::time::Instant::now() < deadline {
            if self.scrapes() > before {
                scraped = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Let the scrape's answer leave before the task goes.
        if scraped {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.stop();
        scraped
    }

    /// Stop serving now.
    pub fn stop(self) {
        self.task.abort();
    }
}

/// Serve until the task is aborted. Accept errors (too many open files ...) are logged and
/// retried after a pause.
pub async fn serve(listener: TcpListener, render: Render) {
    let mut held: VecDeque<(u64, AbortHandle)> = VecDeque::new();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let mut next_id = 0u64;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            Some(id) = done_rx.recv() => {
                held.retain(|(h, _)| *h != id);
                continue;
            }
        };
        match accepted {
            Ok((stream, peer)) => {
                while let Ok(id) = done_rx.try_recv() {
                    held.retain(|(h, _)| *h != id);
                }
                while held.len() >= MAX_CONNECTIONS {
                    if let Some((_, oldest)) = held.pop_front() {
                        oldest.abort();
                    }
                }
                let render = render.clone();
                let id = next_id;
                next_id += 1;
                let done = done_tx.clone();
                let task = tokio::spawn(async move {
                    let answered =
                        tokio::time::timeout(CONNECTION_TIMEOUT, answer(stream, &render)).await;
                    match answered {
                        Ok(Err(e)) => tracing::debug!("metrics: {peer}: {e}"),
                        Err(_) => tracing::debug!("metrics: {peer}: too slow, dropped"),
                        Ok(Ok(())) => {}
                    }
                    let _ = done.send(id);
                });
                held.push_back((id, task.abort_handle()));
                // Let the connection just accepted read its request before the next accept
                // (a burst of connections could otherwise push it out at once).
                tokio::task::yield_now().await;
            }
            Err(e) => {
                tracing::warn!("metrics: accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// The address a listener is bound to, shown as `http://ADDR/metrics`.
pub fn endpoint(addr: SocketAddr) -> String {
    format!("http://{addr}/metrics")
}

/// Read one request head and answer it.
async fn answer(mut stream: TcpStream, render: &Render) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let head = tokio::time::timeout(READ_TIMEOUT, async {
        let mut chunk = [0u8; 1024];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                return Ok::<_, std::io::Error>(Some(end + 4));
            }
            if buf.len() >= MAX_HEAD {
                return Ok(None);
            }
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .unwrap_or(Ok(None))?;
    let Some(end) = head else {
        return respond(&mut stream, 400, "text/plain", "bad request\n", true).await;
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    if !matches!(req.parse(&buf[..end]), Ok(httparse::Status::Complete(_))) {
        return respond(&mut stream, 400, "text/plain", "bad request\n", true).await;
    }
    let method = req.method.unwrap_or("");
    let path = req.path.unwrap_or("");
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    if path != "/metrics" {
        return respond(
            &mut stream,
            404,
            "text/plain",
            "not found: wsmon serves /metrics\n",
            true,
        )
        .await;
    }
    match method {
        "GET" => respond(&mut stream, 200, CONTENT_TYPE, &render(), true).await,
        "HEAD" => respond(&mut stream, 200, CONTENT_TYPE, &render(), false).await,
        _ => respond(&mut stream, 405, "text/plain", "use GET\n", true).await,
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &str,
    with_body: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n",
        body.len()
    );
    if status == 405 {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    if with_body {
        out.push_str(body);
    }
    stream.write_all(out.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(request.as_bytes()).await.expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).await.expect("read");
        out
    }

    #[tokio::test]
    async fn answers_get_metrics_and_refuses_the_rest() {
        let listener = bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let render: Render = Arc::new(|| "x_total 1\n# EOF\n".to_string());
        let server = spawn(listener, render);

        let ok = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(
            ok.contains(&format!("Content-Type: {CONTENT_TYPE}\r\n")),
            "{ok}"
        );
        assert!(ok.contains("Content-Length: 16\r\n"), "{ok}");
        assert!(ok.ends_with("\r\n\r\nx_total 1\n# EOF\n"), "{ok}");

        let head = get(addr, "HEAD /metrics HTTP/1.1\r\n\r\n").await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.ends_with("\r\n\r\n"));

        let missing = get(addr, "GET / HTTP/1.1\r\n\r\n").await;
        assert!(
            missing.starts_with("HTTP/1.1 404 Not Found\r\n"),
            "{missing}"
        );
        let post = get(addr, "POST /metrics HTTP/1.1\r\n\r\n").await;
        assert!(post.starts_with("HTTP/1.1 405 "), "{post}");
        assert!(post.contains("Allow: GET, HEAD\r\n"), "{post}");
        let junk = get(addr, "\x01\x02 nonsense\r\n\r\n").await;
        assert!(junk.starts_with("HTTP/1.1 400 "), "{junk}");
        assert_eq!(server.scrapes(), 2, "GET and HEAD of /metrics rendered");
        server.stop();
    }

    /// Issue 19 section 5: with 500 slow clients reconnecting to `--metrics`, 15 of 20
    /// Prometheus scrapes failed. Here 500 clients connect, send nothing and reconnect as soon
    /// as they are dropped (bounded: 200 reconnects each, and stopped after the scrapes), while
    /// 20 scrapes each get 2 s: every one is answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn scrapes_are_answered_while_slow_clients_reconnect() {
        use std::sync::atomic::AtomicBool;
        let listener = bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = spawn(listener, Arc::new(|| "x_total 1\n# EOF\n".to_string()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut slow = Vec::new();
        for _ in 0..500 {
            let stop = stop.clone();
            slow.push(tokio::spawn(async move {
                let mut reconnects = 0u32;
                while !stop.load(Ordering::Relaxed) && reconnects < 200 {
                    reconnects += 1;
                    let Ok(mut s) = TcpStream::connect(addr).await else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    };
                    // Send nothing; hold on until the server lets go.
                    let mut b = [0u8; 16];
                    let _ = tokio::time::timeout(Duration::from_secs(10), s.read(&mut b)).await;
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut answered = 0;
        for _ in 0..20 {
            let scrape = tokio::time::timeout(
                Duration::from_secs(2),
                get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            )
            .await;
            if scrape.is_ok_and(|r| r.starts_with("HTTP/1.1 200 OK\r\n")) {
                answered += 1;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stop.store(true, Ordering::Relaxed);
        for t in slow {
            t.abort();
        }
        assert_eq!(answered, 20, "scrapes answered under load");
        assert!(server.scrapes() >= 20);
        server.stop();
    }

    #[tokio::test]
    async fn linger_waits_for_one_scrape_and_no_longer() {
        let listener = bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = spawn(listener, Arc::new(|| "x_total 1\n# EOF\n".to_string()));
        let scraper = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            get(addr, "GET /metrics HTTP/1.1\r\n\r\n").await
        });
        let started = std::time::Instant::now();
        assert!(
            server.linger(Duration::from_secs(10)).await,
            "a scrape came"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        let answer = scraper.await.expect("scraper");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        // Nobody scrapes: it stops after the bound.
        let listener = bind("127.0.0.1:0").await.expect("bind");
        let server = spawn(listener, Arc::new(String::new));
        let started = std::time::Instant::now();
        assert!(!server.linger(Duration::from_millis(300)).await);
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_busy_port_is_a_bind_error_naming_the_address() {
        let first = bind("127.0.0.1:0").await.expect("bind");
        let addr = first.local_addr().expect("addr").to_string();
        let e = bind(&addr).await.expect_err("port in use");
        assert!(
            e.to_string().starts_with(&format!("--metrics {addr}: ")),
            "{e}"
        );
    }
}
