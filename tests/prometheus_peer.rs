//! The Prometheus test peer itself: a real `prometheus` (installed by `tests/peers/install.sh`)
//! scrapes a tiny static exposition served here, and its HTTP query API returns the values.

mod common;

use std::time::Duration;

use common::prometheus::{Prometheus, scrape_config};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const EXPOSITION: &str = "# HELP wsmon_test_closes_total Test counter.\n\
# TYPE wsmon_test_closes_total counter\n\
wsmon_test_closes_total{target=\"ws://a/\",code=\"1013\"} 7\n\
wsmon_test_closes_total{target=\"ws://b/\",code=\"1013\"} 5\n";

/// Serve `/metrics` with [`EXPOSITION`] on 127.0.0.1 until the test ends.
async fn static_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{EXPOSITION}",
                    EXPOSITION.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_a_static_endpoint_and_answers_queries() {
    let target = static_endpoint().await;
    let prom = Prometheus::start(&scrape_config("static", std::slice::from_ref(&target))).await;
    let limit = Duration::from_secs(30);
    let up = prom
        .wait_for(&format!("up{{instance=\"{target}\"}}"), limit, |v| v == 1.0)
        .await;
    assert_eq!(up, 1.0);
    let sum = prom
        .wait_for("sum(wsmon_test_closes_total{code=\"1013\"})", limit, |v| {
            v > 0.0
        })
        .await;
    assert_eq!(sum, 12.0);
    let by_target = prom.query("wsmon_test_closes_total").await;
    assert_eq!(by_target.as_array().map(Vec::len), Some(2), "{by_target}");
    let port = prom.port;
    drop(prom);
    // Nothing is left listening once the helper is dropped.
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "prometheus still listens on {port}"
    );
}
