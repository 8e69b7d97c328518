//! The `/metrics` endpoint: a small HTTP/1.1 server on a tokio listener. It answers
//! `GET /metrics` (and `HEAD`) with the exposition, anything else with 404 or 405, one request per
//! connection. A scrape needs no more than that, and `httparse` (already used for the upgrade)
//! parses the request head; hyper would add a server stack for one route.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::metrics::registry::CONTENT_TYPE;

/// Largest request head read.
const MAX_HEAD: usize = 8 * 1024;
/// A client has this long to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections served at once; more wait in the accept queue.
const MAX_CONNECTIONS: usize = 32;

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

/// Serve until the task is aborted. Accept errors (too many open files ...) are logged and
/// retried after a pause.
pub async fn serve(listener: TcpListener, render: Render) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        match listener.accept().await {
            Ok((stream, peer)) => {
                let render = render.clone();
                tokio::spawn(async move {
                    if let Err(e) = answer(stream, &render).await {
                        tracing::debug!("metrics: {peer}: {e}");
                    }
                    drop(permit);
                });
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
        let server = tokio::spawn(serve(listener, render));

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
        server.abort();
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
