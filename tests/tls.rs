//! wss://: a local TLS front (self-signed certificate) before the scenario server.
//! Certificate verification is on by default (the session fails with 1015, detected locally);
//! `--insecure` turns it off and the session opens.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{config, run_until, target};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// Accept TLS on 127.0.0.1:0 and pipe each connection to `backend`.
async fn tls_front(backend: std::net::SocketAddr) -> std::net::SocketAddr {
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
    let der = rustls::pki_types::CertificateDer::from(cert.cert.der().to_vec());
    let key =
        rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).expect("key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(server));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_verifies_certificates_and_insecure_turns_it_off() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let front = tls_front(server.addr()).await;
    let url = format!("wss://localhost:{}/echo", front.port());

    // Verification on: a self-signed certificate is refused, reported as 1015 (by the client).
    let run = run_until(
        config(vec![target(&url, 1)]),
        Duration::from_secs(20),
        |s| s.totals.closes_by_code.contains_key(&1015),
    )
    .await;
    let e = &run.of("error")[0];
    assert_eq!(e["kind"], "tls");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("certificate")),
        "{e}"
    );
    // wsmon refused the certificate: it ended the attempt; 1015 never travels.
    assert_eq!(run.of("closed")[0]["initiator"], "client");
    assert_eq!(run.of("closed")[0]["code_on_wire"], false);

    // --insecure: the session opens over TLS, deflate included, and records the TLS timing.
    let mut cfg = config(vec![target(&url, 1)]);
    cfg.session.insecure = true;
    cfg.session.send = Some("over tls over tls over tls".into());
    let run = run_until(cfg, Duration::from_secs(20), |s| {
        s.counters
            .first()
            .copied()
            .flatten()
            .is_some_and(|c| c.msgs_in >= 1)
    })
    .await;
    let hs = &run.of("handshake")[0];
    assert_eq!(hs["status"], 101);
    assert!(
        hs["timings_ms"]["tls"].as_f64().is_some_and(|t| t > 0.0),
        "{hs}"
    );
    assert_eq!(hs["accepted"][0]["name"], "permessage-deflate");
    assert_eq!(run.of("closed")[0]["code"], 1001);
    server.shutdown().await;
}

/// A TLS handshake cut off by the server (it accepts TCP, then hangs up) is a network problem a
/// retry can fix: recorded as an I/O error, not as 1015, and the session backs off and retries.
/// A refused certificate (above) is 1015 and the knowledge base's "never" stops the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_tls_handshake_is_retried_not_1015() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            drop(sock);
        }
    });
    let url = format!("wss://localhost:{port}/echo");
    let run = run_until(
        config(vec![target(&url, 1)]),
        Duration::from_secs(20),
        |s| s.sessions.iter().any(|v| v.attempt >= 2),
    )
    .await;
    let e = &run.of("error")[0];
    assert_eq!(e["kind"], "io", "{e}");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("TLS handshake") && m.contains("interrupted")),
        "{e}"
    );
    assert!(
        run.of("closed").iter().all(|c| c["code"] != 1015),
        "an interrupted handshake is not a 1015"
    );
}

/// wss:// through an HTTP proxy: CONNECT to the target's name first, then TLS over the tunnel
/// (the certificate is checked against the target, not the proxy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_through_an_http_proxy_tunnels_first_then_runs_tls() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let front = tls_front(server.addr()).await;
    let peer = common::proxies::tinyproxy(front.port(), None).await;
    let url = format!("wss://localhost:{}/echo", front.port());
    let proxy = wsmon::protocol::proxy::ProxyUrl::parse(&format!("http://127.0.0.1:{}", peer.port))
        .expect("proxy URL");
    let mut cfg = config(vec![target(&url, 1)]);
    cfg.session.insecure = true;
    cfg.proxy = wsmon::engine::settings::ProxyRule::fixed(proxy, &|_| None);
    let run = run_until(cfg, Duration::from_secs(20), |s| s.totals.opens >= 1).await;
    let hs = &run.of("handshake")[0];
    assert_eq!(hs["status"], 101, "{hs}");
    let t = &hs["timings_ms"];
    assert!(t["proxy"].as_f64().is_some_and(|ms| ms > 0.0), "{hs}");
    assert!(t["tls"].as_f64().is_some_and(|ms| ms > 0.0), "{hs}");
    assert!(
        t["dns"].is_null(),
        "no DNS for the target: the proxy resolves it: {hs}"
    );
    server.shutdown().await;
}
