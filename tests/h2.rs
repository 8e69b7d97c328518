//! WebSockets over HTTP/2 (RFC 8441, issue 24): interop with hypercorn, a real extended CONNECT
//! server (h2c prior knowledge and TLS with ALPN h2, permessage-deflate on and off), many
//! sessions sharing few connections, a refusal, and a server without extended CONNECT (a tiny
//! `h2` server): a clear record with `h2`, a fall back to HTTP/1.1 with `auto`.
//!
//! hypercorn lives in the peers' venv (`bash tests/peers/install.sh`); a missing peer FAILS the
//! test with that hint.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::{config, run_until, target};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role as WsRole;
use url::Url;
use wsmon::engine::counters::SessionCounters;
use wsmon::engine::events::{SessionState, Timings};
use wsmon::engine::h2pool::{Leased, Pool};
use wsmon::engine::session::ws_config;
use wsmon::protocol::extensions;
use wsmon::protocol::handshake::{RequestSpec, Route, Transport, UpgradeOutcome};
use wsmon::protocol::http2::{self, TransportMode};
use wsmon::protocol::wire::{Role, WireStream};

const INSTALL_HINT: &str = "run `bash tests/peers/install.sh` first (CI's .ci/run does it)";
const START: Duration = Duration::from_secs(30);
const LIMIT: Duration = Duration::from_secs(40);

/// A self-signed certificate for localhost: (certificate DER, key DER, certificate PEM, key PEM).
fn certificate() -> (Vec<u8>, Vec<u8>, String, String) {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("cert");
    let (cert, key) = (c.cert.der().to_vec(), c.signing_key.serialize_der());
    (
        cert.clone(),
        key.clone(),
        pem("CERTIFICATE", &cert),
        pem("PRIVATE KEY", &key),
    )
}

/// PEM armour (RFC 7468) around DER, for hypercorn's --certfile/--keyfile.
fn pem(label: &str, der: &[u8]) -> String {
    let b64 = data_encoding::BASE64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// hypercorn serving `tests/peers/h2_echo.py` on 127.0.0.1, killed when dropped.
struct Hypercorn {
    _child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Hypercorn {
    async fn start(tls: bool) -> Hypercorn {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let bin = root.join("target/peers/venv/bin/hypercorn");
        assert!(
            bin.is_file(),
            "hypercorn is not installed ({} is missing): {INSTALL_HINT}",
            bin.display()
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = Command::new(bin);
        cmd.current_dir(root.join("tests/peers")).args([
            "--bind",
            "127.0.0.1:0",
            "--log-level",
            "info",
        ]);
        if tls {
            let (_, _, cert, key) = certificate();
            let (c, k) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
            std::fs::write(&c, cert).expect("cert written");
            std::fs::write(&k, key).expect("key written");
            cmd.arg("--certfile").arg(&c).arg("--keyfile").arg(&k);
        }
        cmd.arg("h2_echo:app")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("hypercorn starts");
        let stderr = child.stderr.take().expect("stderr piped");
        let mut lines = BufReader::new(stderr).lines();
        let port = tokio::time::timeout(START, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("Running on ").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or_default();
                    let port = addr.rsplit(':').next().and_then(|p| p.parse().ok());
                    return port.expect("hypercorn prints its port");
                }
            }
            panic!("hypercorn ended before listening")
        })
        .await
        .expect("hypercorn listens in time");
        // Keep draining its log so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Hypercorn {
            _child: child,
            port,
            _dir: dir,
        }
    }

    fn url(&self, tls: bool, path: &str) -> String {
        match tls {
            true => format!("wss://localhost:{}{path}", self.port),
            false => format!("ws://127.0.0.1:{}{path}", self.port),
        }
    }
}

type Ws = WebSocketStream<WireStream<Transport>>;

/// One session's stream through the pool, with the frame layer and tungstenite on top, as the
/// session task builds them. Returns the socket, its counters and whether deflate is on.
async fn open(
    pool: &Pool,
    url: &str,
    offer: Option<&str>,
) -> (Ws, Arc<SessionCounters>, bool, u32, u32) {
    let url = Url::parse(url).expect("url");
    let spec = RequestSpec {
        offers: offer
            .map(|o| extensions::parse_header(o).expect("offer"))
            .unwrap_or_default(),
        ..RequestSpec::default()
    };
    let mut timings = Timings::default();
    let leased = pool
        .lease((0, None), &url, Route::default(), &spec, &mut timings)
        .await
        .unwrap_or_else(|e| panic!("lease: {}", e.message));
    let Leased::H2 { send, lease } = leased else {
        panic!("hypercorn must get HTTP/2")
    };
    let conn = lease.connection().id;
    let outcome = http2::open_stream(&send, lease, &url, &spec, timings)
        .await
        .unwrap_or_else(|e| panic!("extended CONNECT: {}", e.message));
    let UpgradeOutcome::Upgraded {
        transport,
        leftover,
        info,
        agreement,
    } = outcome
    else {
        panic!("hypercorn refused the extended CONNECT")
    };
    assert_eq!(info.status, 200);
    assert_eq!(info.status_line, "HTTP/2 200");
    assert!(leftover.is_empty());
    let names: Vec<&str> = info
        .request_headers
        .iter()
        .take(5)
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(
        names,
        [":method", ":protocol", ":scheme", ":path", ":authority"]
    );
    assert!(
        !info
            .request_headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("sec-websocket-key")),
        "no Sec-WebSocket-Key over HTTP/2: {:?}",
        info.request_headers
    );
    let stream = info.link.stream.expect("stream id recorded");
    let counters = Arc::new(SessionCounters::default());
    let deflate = agreement.deflate.is_some();
    let layer = WireStream::new(
        transport,
        Role::Client,
        agreement.deflate,
        leftover,
        16 << 20,
        counters.clone(),
    );
    let ws =
        WebSocketStream::from_raw_socket(layer, WsRole::Client, Some(ws_config(16 << 20))).await;
    (ws, counters, deflate, conn, stream)
}

async fn echo(ws: &mut Ws, m: Message) {
    if let Err(e) = ws.send(m.clone()).await {
        let e = e.to_string();
        panic!("send: {}", &e[..e.len().min(200)]);
    }
    loop {
        let got = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("echo in time")
            .expect("socket open")
            .expect("no error");
        match got {
            Message::Ping(_) | Message::Pong(_) => continue,
            got => {
                assert!(got == m, "byte-for-byte echo of {} bytes", m.len());
                return;
            }
        }
    }
}

/// Text and binary, small and larger than the 64 KiB initial flow-control window, echoed
/// byte for byte; with deflate, compressible messages shrink on the wire.
async fn interop(tls: bool, offer: Option<&str>) {
    let peer = Hypercorn::start(tls).await;
    let pool = Pool::new(TransportMode::H2, 100, true, None).expect("pool");
    let url = peer.url(tls, "/echo");
    let body = async {
        let (mut ws, counters, deflate, conn, stream) = open(&pool, &url, offer).await;
        assert_eq!(deflate, offer.is_some(), "deflate negotiated iff offered");
        assert_eq!((conn, stream), (1, 1));
        // Larger than the 64 KiB initial windows, within the session's 256 KiB write queue.
        let big_text = "wsmon over HTTP/2 ".repeat(10_000); // 180 KB
        let big_binary: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        for m in [
            Message::text("hello over h2"),
            Message::binary(vec![0u8, 1, 2, 255]),
            Message::text(""),
            Message::text(big_text.clone()),
            Message::binary(big_binary),
        ] {
            echo(&mut ws, m).await;
        }
        // A second session shares the connection on the next stream.
        let (mut ws2, _, _, conn2, stream2) = open(&pool, &url, offer).await;
        assert_eq!((conn2, stream2), (1, 3));
        echo(&mut ws2, Message::text("second stream")).await;
        let c = counters.load();
        if deflate {
            assert!(c.wire_out < c.payload_out / 4, "deflate shrinks: {c:?}");
        } else {
            assert!(c.wire_out > c.payload_out, "frames cost bytes: {c:?}");
        }
        ws.close(None).await.expect("close");
        ws2.close(None).await.expect("close");
    };
    tokio::time::timeout(LIMIT, body).await.expect("in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_over_h2c_without_deflate() {
    interop(false, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_over_h2c_with_deflate() {
    interop(false, Some("permessage-deflate; client_max_window_bits")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_over_tls_without_deflate() {
    interop(true, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_over_tls_with_deflate() {
    interop(true, Some("permessage-deflate; client_no_context_takeover")).await;
}

/// The check: 1,000 sessions on 10 connections, through the whole engine; every export
/// line names its transport, connection and stream, and a connection's streams are distinct.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_sessions_share_ten_connections() {
    let peer = Hypercorn::start(false).await;
    let n = 1000;
    let mut cfg = config(vec![target(&peer.url(false, "/echo"), n)]);
    cfg.session.transport = TransportMode::H2;
    cfg.session.streams_per_connection = 100;
    let run = run_until(cfg, Duration::from_secs(90), |s| {
        s.totals.by_state[SessionState::Open.index()] == n
    })
    .await;
    let opens = run.of("open");
    assert_eq!(opens.len(), n);
    let mut per_conn: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for o in &opens {
        assert_eq!(o["transport"], "h2", "{o}");
        let c = o["connection"].as_str().expect("connection").to_string();
        let s = o["stream"].as_u64().expect("stream");
        assert!(per_conn.entry(c).or_default().insert(s), "stream reused");
    }
    let sizes: Vec<usize> = per_conn.values().map(BTreeSet::len).collect();
    assert_eq!(per_conn.len(), 10, "{sizes:?}");
    assert!(sizes.iter().all(|s| *s == 100), "{sizes:?}");
    // Connecting says the transport; the handshake says where it went, and its status.
    assert!(run.of("connecting").iter().all(|e| e["transport"] == "h2"));
    let hs = run.of("handshake");
    assert!(
        hs.iter()
            .all(|e| e["status"] == 200 && e["stream"].is_u64())
    );
    // Only the first session on each connection paid for TCP.
    let with_connect = hs
        .iter()
        .filter(|e| e["timings_ms"]["connect"].is_number())
        .count();
    assert_eq!(with_connect, 10);
}

/// A refusal (403 to the extended CONNECT) is recorded like an HTTP/1.1 answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_extended_connect_is_recorded_with_its_status() {
    let peer = Hypercorn::start(false).await;
    let mut cfg = config(vec![target(&peer.url(false, "/refuse"), 1)]);
    cfg.session.transport = TransportMode::H2;
    let run = run_until(cfg, LIMIT, |s| s.totals.statuses.contains_key(&403)).await;
    let hs = run.of("handshake");
    let h = hs.first().expect("a handshake");
    assert_eq!(h["status"], 403, "{h}");
    assert_eq!(h["status_line"], "HTTP/2 403");
    assert_eq!(h["transport"], "h2");
    assert_eq!(h["connection"], "c1");
    assert_eq!(h["request_headers"][":protocol"], "websocket");
    assert!(run.of("open").is_empty());
}

// ------------------------------------------------------------------------------------------
// A server without extended CONNECT: h2 with default settings (no enable_connect_protocol)
// ------------------------------------------------------------------------------------------

/// Serve HTTP/2 on `io` without extended CONNECT: every request gets 400.
async fn plain_h2<T>(io: T)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let Ok(mut conn) = h2::server::handshake(io).await else {
        return;
    };
    while let Some(Ok((_, mut respond))) = conn.accept().await {
        let resp = http::Response::builder()
            .status(400)
            .body(())
            .expect("response");
        let _ = respond.send_response(resp, true);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_against_a_server_without_extended_connect_is_a_clear_record() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(plain_h2(sock));
        }
    });
    let mut cfg = config(vec![target(&format!("ws://{addr}/echo"), 1)]);
    cfg.session.transport = TransportMode::H2;
    let run = run_until(cfg, LIMIT, |s| {
        s.totals
            .errors
            .contains_key(&wsmon::engine::events::ErrorKind::Handshake)
    })
    .await;
    let hs = run.of("handshake");
    let h = hs.first().expect("the refusal is recorded");
    let why = h["invalid"].as_str().expect("invalid says why");
    assert!(why.contains("SETTINGS_ENABLE_CONNECT_PROTOCOL"), "{why}");
    assert!(why.contains("RFC 8441"), "{why}");
    assert_eq!(h["status"], 0);
    assert!(h["timings_ms"]["connect"].is_number(), "{h}");
    let err = run.of("error");
    assert_eq!(err.first().expect("an error")["kind"], "handshake");
    assert!(run.of("open").is_empty());
}

/// `auto` over wss://: ALPN picks h2, the SETTINGS lack extended CONNECT, so the session
/// upgrades over HTTP/1.1 on a new connection (to the scenario server behind the TLS front).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_falls_back_to_h1_when_the_server_has_no_extended_connect() {
    let backend = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let backend = backend.addr();
    let (cert, key, _, _) = certificate();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(cert)],
            rustls::pki_types::PrivateKeyDer::try_from(key).expect("key"),
        )
        .expect("server config");
    server.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
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
                if tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice()) {
                    plain_h2(tls).await;
                } else if let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await {
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                }
            });
        }
    });
    let n = 3;
    let mut cfg = config(vec![target(
        &format!("wss://localhost:{}/echo", addr.port()),
        n,
    )]);
    cfg.session.transport = TransportMode::Auto;
    cfg.session.insecure = true;
    let run = run_until(cfg, LIMIT, |s| {
        s.totals.by_state[SessionState::Open.index()] == n
    })
    .await;
    let opens = run.of("open");
    assert_eq!(opens.len(), n);
    assert!(
        opens
            .iter()
            .all(|o| o["transport"] == "h1" && o["connection"].is_null()),
        "{opens:?}"
    );
    assert!(run.of("handshake").iter().all(|h| h["status"] == 101));
    assert!(run.of("error").is_empty(), "{:?}", run.of("error"));
}

// ------------------------------------------------------------------------------------------
// Connection-level faults, from a small RFC 8441 server built on the h2 crate
// ------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// GOAWAY (NO_ERROR) once the first connection holds its sessions.
    Goaway,
    /// The first connection's TCP connection is reset.
    Reset,
    /// The first stream is reset with CANCEL; the connection lives on.
    RstStream,
}

/// An extended CONNECT server: each stream gets 200 and is held open (what the client sends
/// is read and dropped). The first connection suffers `fault` once it holds `after` streams.
async fn faulty_server(fault: Fault, after: usize) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((sock, _)) = listener.accept().await {
            let faulty = std::mem::replace(&mut first, false);
            tokio::spawn(serve_connection(sock, faulty.then_some(fault), after));
        }
    });
    addr
}

async fn serve_connection(sock: tokio::net::TcpStream, fault: Option<Fault>, after: usize) {
    if fault == Some(Fault::Reset) {
        // Closing with SO_LINGER 0 sends a TCP RST.
        let _ = sock.set_zero_linger();
    }
    let Ok(mut conn) = h2::server::Builder::new()
        .enable_connect_protocol()
        .handshake::<_, bytes::Bytes>(sock)
        .await
    else {
        return;
    };
    let mut held = Vec::new();
    let strike = tokio::time::sleep(Duration::from_secs(3600));
    tokio::pin!(strike);
    let mut armed = fault.is_some();
    loop {
        tokio::select! {
            next = conn.accept() => {
                let Some(Ok((req, mut respond))) = next else { return };
                let resp = http::Response::builder().status(200).body(()).expect("response");
                let Ok(send) = respond.send_response(resp, false) else { continue };
                let mut body = req.into_body();
                tokio::spawn(async move {
                    while let Some(Ok(data)) = body.data().await {
                        let _ = body.flow_control().release_capacity(data.len());
                    }
                });
                held.push((send, respond));
                if armed && held.len() == after {
                    // Let the sessions settle as open, then strike.
                    strike.as_mut().reset(tokio::time::Instant::now() + Duration::from_millis(300));
                }
            }
            _ = &mut strike, if armed => {
                armed = false;
                match fault {
                    Some(Fault::Goaway) => conn.abrupt_shutdown(h2::Reason::NO_ERROR),
                    Some(Fault::Reset) => return,
                    Some(Fault::RstStream) => {
                        if let Some((send, _)) = held.first_mut() {
                            send.send_reset(h2::Reason::CANCEL);
                        }
                    }
                    None => {}
                }
            }
        }
    }
}

/// Run `n` sessions against a server with `fault`; wait until `done` holds.
async fn run_fault(
    fault: Fault,
    n: usize,
    done: impl Fn(&wsmon::state::snapshot::Snapshot) -> bool,
) -> common::Run {
    let addr = faulty_server(fault, n).await;
    let mut cfg = config(vec![target(&format!("ws://{addr}/feed"), n)]);
    cfg.session.transport = TransportMode::H2;
    cfg.backoff.base = Duration::from_millis(50);
    cfg.backoff.cap = Duration::from_millis(200);
    run_until(cfg, LIMIT, done).await
}

fn backoff_causes(run: &common::Run) -> Vec<serde_json::Value> {
    run.of("backoff")
        .iter()
        .map(|b| b["cause"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goaway_is_every_session_s_cause_and_retries_share_a_new_connection() {
    let n = 4;
    let run = run_fault(Fault::Goaway, n, |s| s.totals.opens >= 2 * n as u64).await;
    let causes = backoff_causes(&run);
    assert_eq!(causes.len(), n, "{causes:?}");
    for c in &causes {
        assert_eq!(
            c,
            &serde_json::json!({"type": "connection", "reason": "goaway", "h2_error": "NO_ERROR"})
        );
    }
    let conns: BTreeSet<&str> = run
        .of("open")
        .iter()
        .filter_map(|o| o["connection"].as_str())
        .collect();
    assert_eq!(conns, BTreeSet::from(["c1", "c2"]), "retries share c2");
    // One connection lost, with its 4 sessions; the gate can fail on it.
    let t = &run.snapshot.totals;
    assert_eq!(t.connections_lost, 1);
    assert_eq!(t.lost_connections, BTreeMap::from([(1, n as u64)]));
    let gate = wsmon::thresholds::parse("connections_lost>0").expect("parses");
    assert_eq!(gate.observe(&run.snapshot), Some(1.0));
    // The detail of a session (the TUI, from the live run's final snapshot, after wsmon's
    // shutdown closed every session with 1001): its link is c2, the connection the retries
    // shared, not lost, and the others were on it too.
    let first = run.snapshot.sessions[0].id;
    let mut app = wsmon::tui::app::App::new(wsmon::tui::fixtures::view_state());
    app.view.detail = Some(first);
    let text = wsmon::tui::fixtures::render(&mut app, &run.snapshot, 100, 30).join("\n");
    for want in [
        "connection c2, stream ".to_string(),
        "c2          no session on it now".to_string(),
        "also on c2  s".to_string(),
    ] {
        assert!(text.contains(&want), "{want} missing:\n{text}");
    }
    assert!(!text.contains("lost ("), "c2 was not lost:\n{text}");
    // Replay reads every line back, and writes it again the same: the link fields and the
    // connection cause survive the round trip.
    let registry = wsmon::codes::Registry::builtin().clone();
    let name = |c: u16| registry.name(c).to_string();
    // (`spawned` lines carry the run's shard and start, written by the export writer.)
    for line in run.events.iter().filter(|l| l["event"] != "spawned") {
        let parsed = wsmon::runtime::replay::line::parse_value(line.clone())
            .unwrap_or_else(|e| panic!("replay reads {line}: {e}"));
        assert_eq!(parsed.unknown_fields, 0, "{line}");
        let url = line["url"].as_str().unwrap_or_default();
        let again = wsmon::export::jsonl::to_json_line(&parsed.event, url, &name);
        assert_eq!(&again, line);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_connection_is_recorded_for_each_of_its_sessions() {
    let n = 3;
    let run = run_fault(Fault::Reset, n, |s| s.totals.opens >= 2 * n as u64).await;
    let causes = backoff_causes(&run);
    assert_eq!(causes.len(), n, "{causes:?}");
    for c in &causes {
        assert_eq!(c["type"], "connection", "{c}");
        assert_eq!(c["reason"], "reset", "a TCP RST: {c}");
        assert!(
            c.get("h2_error").is_none(),
            "no HTTP/2 frame carried a code: {c}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rst_stream_records_its_code_and_touches_no_other_session() {
    let n = 3;
    let run = run_fault(Fault::RstStream, n, |s| s.totals.opens > n as u64).await;
    let causes = backoff_causes(&run);
    assert_eq!(
        causes,
        [serde_json::json!({"type": "connection", "reason": "rst_stream", "h2_error": "CANCEL"})]
    );
    // The retry found room on the same connection.
    let conns: BTreeSet<&str> = run
        .of("open")
        .iter()
        .filter_map(|o| o["connection"].as_str())
        .collect();
    assert_eq!(conns, BTreeSet::from(["c1"]));
}
