//! A real Prometheus server for tests: started on a free 127.0.0.1 port with a temporary TSDB and
//! a given scrape config, queried through its HTTP API, killed on drop. Installed by
//! `bash tests/peers/install.sh` (Debian package `prometheus`); a missing binary fails the test.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Prometheus {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub use super::free_port;

/// A scrape config that scrapes `targets` (host:port) every second under job `job`.
pub fn scrape_config(job: &str, targets: &[String]) -> String {
    let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
    format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  \
         - job_name: {job}\n    static_configs:\n      - targets: [{}]\n",
        list.join(", ")
    )
}

impl Prometheus {
    /// Start Prometheus with `config` (prometheus.yml text) and wait until it is ready.
    pub async fn start(config: &str) -> Prometheus {
        let dir = tempfile::tempdir().expect("temp dir");
        let conf = dir.path().join("prometheus.yml");
        std::fs::write(&conf, config).expect("write prometheus.yml");
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", conf.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("prometheus.log")).expect("log file"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start prometheus: {e}; run `bash tests/peers/install.sh` first \
                     (CI's .ci/run does it)"
                )
            });
        let mut p = Prometheus { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = p.get("/-/ready").await {
                return p;
            }
            if let Ok(Some(status)) = p.child.try_wait() {
                panic!("prometheus exited with {status}:\n{}", p.log());
            }
            assert!(
                Instant::now() < deadline,
                "prometheus not ready within 30 s:\n{}",
                p.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Prometheus' own log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// GET `path` with HTTP/1.0 (so the body is never chunked): status and body.
    pub async fn get(&self, path: &str) -> std::io::Result<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).await?;
        s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
            .await?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await?;
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok((status, body.to_string()))
    }

    /// Run an instant query; returns `data.result` (a vector's samples).
    pub async fn query(&self, promql: &str) -> Value {
        let q: String = url::form_urlencoded::byte_serialize(promql.as_bytes()).collect();
        let (status, body) = self
            .get(&format!("/api/v1/query?query={q}"))
            .await
            .expect("query prometheus");
        let v: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("query answer is not JSON ({e}): {body}"));
        assert_eq!(status, 200, "{promql}: {body}");
        assert_eq!(v["status"], "success", "{promql}: {body}");
        v["data"]["result"].clone()
    }

    /// The single value of an instant query whose result has exactly one sample, or None.
    pub async fn scalar(&self, promql: &str) -> Option<f64> {
        let r = self.query(promql).await;
        let samples = r.as_array()?;
        if samples.len() != 1 {
            return None;
        }
        samples[0]["value"][1].as_str()?.parse().ok()
    }

    /// Poll `promql` until its single value satisfies `ok`, or fail after `limit`.
    pub async fn wait_for(&self, promql: &str, limit: Duration, ok: impl Fn(f64) -> bool) -> f64 {
        let deadline = Instant::now() + limit;
        loop {
            let v = self.scalar(promql).await;
            if let Some(v) = v.filter(|v| ok(*v)) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "{promql}: last value {v:?} after {limit:?}\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
