//! Proxies, tested against real proxy servers started here on 127.0.0.1: `tinyproxy` for HTTP
//! CONNECT and `microsocks` for SOCKS5 (both Debian packages, installed by
//! `bash tests/peers/install.sh`). A missing server FAILS the test with that hint. The SOCKS5
//! address forms (`socks5://` resolves here, `socks5h://` sends the name) are checked against a
//! small in-test responder that records what it was sent. The last tests run the real binary
//! (`watch --headless --proxy ...`, and the proxy environment variables) and read its export.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;
use wsmon::engine::events::Timings;
use wsmon::protocol::handshake::{RequestSpec, Transport, UpgradeOutcome, upgrade};
use wsmon::protocol::proxy::{self, ProxyError, ProxyUrl};

mod common;

use common::proxies::{free_port, microsocks, tinyproxy};

/// Upgrade to `ws://addr/nodeflate` over `stream` and check that a text message echoes.
async fn upgrade_and_echo(stream: TcpStream, addr: SocketAddr) {
    let url = url::Url::parse(&format!("ws://{addr}/nodeflate")).expect("url");
    let outcome = upgrade(
        Transport::Plain(stream),
        &url,
        &RequestSpec::default(),
        Timings::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("upgrade through the tunnel failed: {}", e.message));
    let UpgradeOutcome::Upgraded {
        transport,
        leftover,
        info,
        ..
    } = outcome
    else {
        panic!("the upgrade through the tunnel was not a 101");
    };
    assert_eq!(info.status, 101);
    let mut ws =
        WebSocketStream::from_partially_read(transport, leftover, Role::Client, None).await;
    ws.send(Message::text("through the proxy"))
        .await
        .expect("send");
    let echoed = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .expect("echo within 5 s")
        .expect("a message")
        .expect("not an error");
    assert_eq!(echoed, Message::text("through the proxy"));
}

fn proxy_url(s: &str) -> ProxyUrl {
    ProxyUrl::parse(s).expect("valid proxy URL")
}

#[tokio::test]
async fn http_connect_through_tinyproxy_then_websocket_upgrade() {
    let server = wsmon::server::start("127.0.0.1:0")
        .await
        .expect("scenario server");
    let addr = server.addr();
    let peer = tinyproxy(addr.port(), None).await;
    let proxy = proxy_url(&format!("http://127.0.0.1:{}", peer.port));
    let tunnel = proxy::connect(&proxy, "127.0.0.1", addr.port())
        .await
        .expect("CONNECT through tinyproxy");
    assert!(tunnel.timing.connect.is_some_and(|ms| ms >= 0.0));
    assert!(tunnel.timing.tunnel > 0.0, "{:?}", tunnel.timing);
    upgrade_and_echo(tunnel.stream, addr).await;
}

#[tokio::test]
async fn http_connect_with_credentials_and_refusals() {
    let server = wsmon::server::start("127.0.0.1:0")
        .await
        .expect("scenario server");
    let addr = server.addr();
    let peer = tinyproxy(addr.port(), Some(("alice", "s3cr3t"))).await;

    let good = proxy_url(&format!("http://alice:s3cr3t@127.0.0.1:{}", peer.port));
    let tunnel = proxy::connect(&good, "127.0.0.1", addr.port())
        .await
        .expect("CONNECT with credentials");
    upgrade_and_echo(tunnel.stream, addr).await;

    // No credentials: 407, recorded as a proxy refusal that retrying will not fix.
    let anonymous = proxy_url(&format!("http://127.0.0.1:{}", peer.port));
    let e = proxy::connect(&anonymous, "127.0.0.1", addr.port())
        .await
        .expect_err("CONNECT without credentials");
    assert!(
        matches!(e, ProxyError::HttpRefused { status: 407, .. }),
        "{e}"
    );
    assert!(!e.retryable());
    assert!(e.to_string().contains("HTTP 407"), "{e}");

    // Wrong password: tinyproxy 1.11 answers 401 (not 407); still not worth retrying, and the
    // message never shows the credentials.
    let wrong = proxy_url(&format!("http://alice:hunter2@127.0.0.1:{}", peer.port));
    let e = proxy::connect(&wrong, "127.0.0.1", addr.port())
        .await
        .expect_err("wrong password");
    assert_eq!(e.status(), Some(401), "{e}");
    assert!(!e.retryable());
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("alice"),
        "{shown}"
    );

    // A port outside ConnectPort: 403.
    let other = free_port();
    let e = proxy::connect(&good, "127.0.0.1", other)
        .await
        .expect_err("CONNECT to a port that is not allowed");
    assert_eq!(e.status(), Some(403), "{e}");
    assert!(e.to_string().contains("HTTP 403"), "{e}");
}

#[tokio::test]
async fn socks5_through_microsocks_without_and_with_credentials() {
    let server = wsmon::server::start("127.0.0.1:0")
        .await
        .expect("scenario server");
    let addr = server.addr();

    let open = microsocks(None).await;
    let proxy = proxy_url(&format!("socks5://127.0.0.1:{}", open.port));
    let tunnel = proxy::connect(&proxy, "127.0.0.1", addr.port())
        .await
        .expect("SOCKS5 without credentials");
    upgrade_and_echo(tunnel.stream, addr).await;

    // A closed target port: the proxy's reply code, here "connection refused".
    let closed = free_port();
    let e = proxy::connect(&proxy, "127.0.0.1", closed)
        .await
        .expect_err("closed port");
    assert!(matches!(e, ProxyError::SocksRefused { code: 5, .. }), "{e}");
    assert!(e.to_string().contains("connection refused"), "{e}");

    let guarded = microsocks(Some(("bob", "pa55"))).await;
    let proxy = proxy_url(&format!("socks5h://bob:pa55@127.0.0.1:{}", guarded.port));
    let tunnel = proxy::connect(&proxy, "127.0.0.1", addr.port())
        .await
        .expect("SOCKS5 with credentials");
    upgrade_and_echo(tunnel.stream, addr).await;

    let wrong = proxy_url(&format!("socks5://bob:nope@127.0.0.1:{}", guarded.port));
    let e = proxy::connect(&wrong, "127.0.0.1", addr.port())
        .await
        .expect_err("wrong password");
    assert!(matches!(e, ProxyError::SocksAuth { .. }), "{e}");
    assert!(!format!("{e} {e:?}").contains("nope"), "{e}");
    let none = proxy_url(&format!("socks5://127.0.0.1:{}", guarded.port));
    let e = proxy::connect(&none, "127.0.0.1", addr.port())
        .await
        .expect_err("no credentials");
    assert!(e.to_string().contains("requires credentials"), "{e}");
}

/// A one-shot SOCKS5 responder (no auth) that answers "succeeded" and returns the CONNECT
/// request's address bytes (ATYP onwards).
async fn recording_socks5() -> (u16, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let task = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.expect("accept");
        let mut hello = [0u8; 3];
        s.read_exact(&mut hello).await.expect("greeting");
        assert_eq!(hello, [5, 1, 0], "no-auth greeting");
        s.write_all(&[5, 0]).await.expect("method");
        let mut head = [0u8; 4];
        s.read_exact(&mut head).await.expect("request head");
        assert_eq!(&head[..3], &[5, 1, 0], "CONNECT");
        let len = match head[3] {
            1 => 4,
            4 => 16,
            3 => {
                let mut l = [0u8; 1];
                s.read_exact(&mut l).await.expect("name length");
                usize::from(l[0])
            }
            t => panic!("address type {t}"),
        };
        let mut rest = vec![0u8; len + 2];
        s.read_exact(&mut rest).await.expect("address");
        s.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 80])
            .await
            .expect("reply");
        let mut out = vec![head[3]];
        out.extend_from_slice(&rest);
        out
    });
    (port, task)
}

#[tokio::test]
async fn socks5_resolves_locally_and_socks5h_sends_the_name() {
    let (port, task) = recording_socks5().await;
    let p = proxy_url(&format!("socks5h://127.0.0.1:{port}"));
    proxy::connect(&p, "localhost", 9001)
        .await
        .expect("socks5h tunnel");
    let sent = task.await.expect("responder");
    assert_eq!(
        sent,
        [&[3u8][..], b"localhost", &9001u16.to_be_bytes()].concat()
    );

    let (port, task) = recording_socks5().await;
    let p = proxy_url(&format!("socks5://127.0.0.1:{port}"));
    proxy::connect(&p, "localhost", 9001)
        .await
        .expect("socks5 tunnel");
    let sent = task.await.expect("responder");
    assert!(
        sent[0] == 1 || sent[0] == 4,
        "an address, not a name: {sent:?}"
    );
    assert_eq!(&sent[sent.len() - 2..], &9001u16.to_be_bytes());
}

// ----- the real binary through the proxies -----

/// Run `wsmon watch --headless` with `args` and `env`, export to JSONL, and return (exit code,
/// stdout + stderr, exported events). Runs on a blocking thread so the in-process server serves.
async fn watch(
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
) -> (i32, String, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("events.jsonl");
    let export_arg = export.to_string_lossy().into_owned();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = assert_cmd::Command::cargo_bin("wsmon").expect("binary is built");
        for v in wsmon::engine::settings::PROXY_ENV_VARS {
            cmd.env_remove(v);
        }
        cmd.envs(env)
            .args([
                "watch",
                "--headless",
                "--duration",
                "2s",
                "--export",
                &export_arg,
            ])
            .args(args)
            .output()
            .expect("wsmon runs")
    })
    .await
    .expect("join");
    let events = wsmon::export::reader::read_jsonl(&export).expect("export is valid JSONL");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text, events)
}

fn handshakes(events: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    events
        .iter()
        .filter(|e| e["event"] == "handshake")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_through_tinyproxy_records_the_proxy_hop_with_credentials_redacted() {
    let server = wsmon::server::start("127.0.0.1:0")
        .await
        .expect("scenario server");
    let target = server.url("/echo");
    let plain = tinyproxy(server.addr().port(), None).await;
    let (code, text, events) = watch(
        vec![
            "-n".into(),
            "2".into(),
            "--proxy".into(),
            format!("http://127.0.0.1:{}", plain.port),
            target.clone(),
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{text}");
    let hs = handshakes(&events);
    assert_eq!(hs.len(), 2, "{events:?}");
    for h in &hs {
        assert_eq!(h["status"], 101, "{h}");
        assert!(
            h["timings_ms"]["proxy"].as_f64().is_some_and(|ms| ms > 0.0),
            "{h}"
        );
        assert!(h["timings_ms"]["connect"].as_f64().is_some(), "{h}");
    }

    let guarded = tinyproxy(server.addr().port(), Some(("alice", "s3cr3t"))).await;
    let (code, text, events) = watch(
        vec![
            "--proxy".into(),
            format!("http://alice:s3cr3t@127.0.0.1:{}", guarded.port),
            target.clone(),
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{text}");
    assert_eq!(
        events.iter().filter(|e| e["event"] == "open").count(),
        1,
        "{events:?}"
    );
    let exported = serde_json::to_string(&events).expect("json");
    for secret in ["s3cr3t", "alice"] {
        assert!(!exported.contains(secret), "export leaks {secret}");
        assert!(!text.contains(secret), "output leaks {secret}: {text}");
    }

    // No credentials: tinyproxy answers 407; recorded as error kind proxy with the status, and
    // not retried.
    let (code, text, events) = watch(
        vec![
            "-n".into(),
            "2".into(),
            "--proxy".into(),
            format!("http://127.0.0.1:{}", guarded.port),
            target,
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 1, "nothing opened: {text}");
    let errors: Vec<_> = events.iter().filter(|e| e["event"] == "error").collect();
    assert_eq!(
        errors.len(),
        2,
        "one attempt per session, no retry: {events:?}"
    );
    for e in &errors {
        assert_eq!(e["kind"], "proxy", "{e}");
        assert!(
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("HTTP 407")),
            "{e}"
        );
    }
    let ended: Vec<_> = events.iter().filter(|e| e["event"] == "ended").collect();
    assert_eq!(ended.len(), 2, "{events:?}");
    assert!(
        ended[0]["why"]
            .as_str()
            .is_some_and(|w| w.contains("HTTP 407")),
        "{}",
        ended[0]
    );
    assert!(
        text.contains("proxy x2"),
        "summary counts proxy errors: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_through_microsocks_and_the_environment() {
    let server = wsmon::server::start("127.0.0.1:0")
        .await
        .expect("scenario server");
    let target = server.url("/echo");
    let socks = microsocks(None).await;
    let (code, text, events) = watch(
        vec![
            "--proxy".into(),
            format!("socks5h://127.0.0.1:{}", socks.port),
            target.clone(),
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{text}");
    let hs = handshakes(&events);
    assert!(
        hs[0]["timings_ms"]["proxy"].as_f64().is_some(),
        "{:?}",
        hs[0]
    );

    // http_proxy from the environment (as curl reads it) ...
    let http = tinyproxy(server.addr().port(), None).await;
    let proxy_env = format!("http://127.0.0.1:{}", http.port);
    let (code, text, events) = watch(
        vec![target.clone()],
        vec![("http_proxy", proxy_env.clone())],
    )
    .await;
    assert_eq!(code, 0, "{text}");
    assert!(
        handshakes(&events)[0]["timings_ms"]["proxy"]
            .as_f64()
            .is_some(),
        "{events:?}"
    );
    // ... unless NO_PROXY names the host, or --no-proxy ignores the environment.
    let (code, text, events) = watch(
        vec![target.clone()],
        vec![
            ("http_proxy", proxy_env.clone()),
            ("NO_PROXY", "127.0.0.1".into()),
        ],
    )
    .await;
    assert_eq!(code, 0, "{text}");
    assert!(
        handshakes(&events)[0]["timings_ms"].get("proxy").is_none(),
        "{events:?}"
    );
    let (code, text, events) = watch(
        vec!["--no-proxy".into(), target],
        vec![("http_proxy", proxy_env)],
    )
    .await;
    assert_eq!(code, 0, "{text}");
    assert!(
        handshakes(&events)[0]["timings_ms"].get("proxy").is_none(),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_proxy_times_out_in_the_tunnel_phase_and_backs_off() {
    // Accepts TCP and never answers CONNECT.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let (code, text, events) = watch(
        vec![
            "--connect-timeout".into(),
            "500ms".into(),
            "--backoff-base".into(),
            "100ms".into(),
            "--proxy".into(),
            format!("http://127.0.0.1:{port}"),
            "ws://target.invalid/echo".into(),
        ],
        vec![],
    )
    .await;
    hold.abort();
    assert_eq!(code, 1, "{text}");
    let errors: Vec<_> = events.iter().filter(|e| e["event"] == "error").collect();
    assert!(errors.len() >= 2, "retried: {events:?}");
    assert_eq!(errors[0]["kind"], "timeout", "{}", errors[0]);
    assert!(
        errors[0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("the proxy tunnel did not finish")),
        "{}",
        errors[0]
    );
    assert!(events.iter().any(|e| e["event"] == "backoff"), "{events:?}");
}
