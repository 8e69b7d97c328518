//! The session engine against the scenario server, one scenario each (issue: session engine).

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{config, run_until, target};
use wsmon::engine::events::SessionState;

const LIMIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_extension_refused_closes_with_1010_naming_it() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut t = target(&server.url("/nodeflate"), 1);
    t.require = vec!["permessage-deflate".into()];
    let run = run_until(config(vec![t]), LIMIT, |s| {
        s.totals.closes_by_code.contains_key(&1010)
    })
    .await;
    let hs = run.of("handshake");
    assert_eq!(hs[0]["status"], 101);
    assert_eq!(hs[0]["accepted"], serde_json::json!([]));
    assert_eq!(hs[0]["required"][0]["name"], "permessage-deflate");
    assert_eq!(hs[0]["offered"][0]["name"], "permessage-deflate");
    let closed = run.of("closed");
    assert_eq!(closed[0]["code"], 1010);
    assert_eq!(closed[0]["code_name"], "Mandatory Extension");
    assert_eq!(closed[0]["initiator"], "client");
    assert_eq!(closed[0]["reason"], "missing extension: permessage-deflate");
    // 1010 is not fixed by retrying.
    assert!(run.of("backoff").is_empty());
    assert_eq!(run.of("ended").len(), 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_lets_cap_sessions_in_and_closes_the_rest_with_1013() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let cfg = config(vec![target(&server.url("/overload?cap=2"), 5)]);
    let run = run_until(cfg, LIMIT, |s| {
        s.totals.by_state[SessionState::Open.index()] == 2
            && s.totals.closes_by_code.get(&1013).copied().unwrap_or(0) >= 3
    })
    .await;
    let closes: Vec<_> = run
        .of("closed")
        .into_iter()
        .filter(|c| c["code"] == 1013)
        .collect();
    assert!(closes.len() >= 3);
    for c in &closes {
        assert_eq!(c["initiator"], "server");
        assert_eq!(c["code_name"], "Try Again Later");
        assert!(c["reason"].as_str().is_some_and(|r| !r.is_empty()), "{c}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_close_code_is_recorded_as_the_server_sent_it() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let codes: [u16; 14] = [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4001,
    ];
    let targets = codes
        .iter()
        .map(|c| target(&server.url(&format!("/close/{c}")), 1))
        .collect();
    let run = run_until(config(targets), LIMIT, |s| {
        codes
            .iter()
            .all(|c| s.totals.closes_by_code.contains_key(c))
    })
    .await;
    for code in codes {
        let c = run
            .of("closed")
            .into_iter()
            .find(|c| c["code"] == code)
            .unwrap_or_else(|| panic!("no close {code}"));
        assert_eq!(c["initiator"], "server", "{c}");
        assert!(
            c["reason"]
                .as_str()
                .is_some_and(|r| r.contains(&code.to_string())),
            "{c}"
        );
        assert!(c["uptime_ms"].is_u64(), "{c}");
        assert_eq!(c["clean"], true, "{c}");
        assert!(
            c.get("peer_code").is_none(),
            "valid codes have no peer_code: {c}"
        );
    }
    server.shutdown().await;
}

/// A close frame without a status code (what a Socket.IO server sends when it drops a client
/// after its ping timeout): the code is 1005 because none travelled, but the server sent the
/// frame, so the record says `server` and `code_on_wire: false` (issue 19, section 4b).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_frame_without_code_is_1005_by_the_server_with_no_code_on_the_wire() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let (raw, seen) = close_frame_server(Vec::new()).await;
    let targets = vec![target(&server.url("/close/1005"), 1), target(&raw, 1)];
    let run = run_until(config(targets), LIMIT, |s| {
        s.totals.closes_by_code.get(&1005) == Some(&2)
    })
    .await;
    for session in run.sessions() {
        let c = run.for_session(session, "closed")[0];
        assert_eq!(c["code"], 1005, "{c}");
        assert_eq!(c["initiator"], "server", "{c}");
        assert_eq!(c["code_on_wire"], false, "{c}");
        assert_eq!(c["code_name"], "No Status Received", "{c}");
        assert!(c.get("close_why").is_none(), "wsmon did not close it: {c}");
        let closing = run.for_session(session, "closing");
        assert_eq!(closing[0]["initiator"], "server", "{closing:?}");
    }
    // The answer on the wire is an empty close frame too: no code either way.
    let answer = seen.lock().expect("lock")[0].clone();
    assert_eq!(client_close_code(&answer), None, "{answer:?}");
    assert!(
        answer.first().is_some_and(|b| b & 0x0f == 0x8),
        "{answer:?}"
    );
    server.shutdown().await;
}

/// When wsmon stops, the record says why it closed (`close_why: shutdown`), and the store counts
/// shutdown closes from that, not from the code: an operator's 1001 is not a shutdown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_are_counted_from_the_trackers_reason() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let run = run_until(config(vec![target(&server.url("/echo"), 2)]), LIMIT, |s| {
        s.totals.by_state[SessionState::Open.index()] == 2
    })
    .await;
    let closed = run.of("closed");
    assert_eq!(closed.len(), 2, "{closed:?}");
    for c in &closed {
        assert_eq!(c["code"], 1001, "{c}");
        assert_eq!(c["initiator"], "client", "{c}");
        assert_eq!(c["close_why"], "shutdown", "{c}");
        assert_eq!(c["code_on_wire"], true, "{c}");
    }
    assert_eq!(run.snapshot.totals.shutdown_closes, 2);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_upgrade_records_status_body_and_retry_after() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let run = run_until(
        config(vec![target(&server.url("/reject/503"), 1)]),
        LIMIT,
        |s| s.totals.statuses.contains_key(&503) && s.totals.max_backoff_attempt >= 1,
    )
    .await;
    let hs = &run.of("handshake")[0];
    assert_eq!(hs["status"], 503);
    assert_eq!(hs["retry_after_ms"], 3000);
    assert!(
        hs["response_headers"]["Retry-After"].is_string()
            || hs["response_headers"]["retry-after"].is_string(),
        "{hs}"
    );
    let b = &run.of("backoff")[0];
    assert!(b["delay_ms"].as_u64().expect("delay") >= 3000, "{b}");
    assert_eq!(b["retry_after_ms"], 3000);
    assert_eq!(b["cause"]["type"], "status");
    assert_eq!(b["cause"]["status"], 503);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connection_is_1006_by_the_server() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let run = run_until(config(vec![target(&server.url("/drop"), 1)]), LIMIT, |s| {
        s.totals.closes_by_code.contains_key(&1006)
    })
    .await;
    let c = &run.of("closed")[0];
    assert_eq!(c["code"], 1006);
    // The server ended the TCP connection without a close frame: it is the side that closed.
    assert_eq!(c["initiator"], "server");
    assert_eq!(c["code_on_wire"], false);
    assert_eq!(c["clean"], false);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_upgrade_hits_the_connect_timeout() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![target(&server.url("/stall"), 1)]);
    cfg.session.connect_timeout = Duration::from_millis(300);
    let run = run_until(cfg, LIMIT, |s| {
        s.totals
            .errors
            .contains_key(&wsmon::engine::events::ErrorKind::Timeout)
    })
    .await;
    let e = &run.of("error")[0];
    assert_eq!(e["kind"], "timeout");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("did not answer the upgrade")),
        "{e}"
    );
    assert!(
        !run.of("handshaking").is_empty(),
        "the upgrade request was sent"
    );
    assert!(
        run.of("handshake").is_empty(),
        "no answer means no handshake record"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn burst_is_inflated_and_the_compression_ratio_is_counted() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let cfg = config(vec![target(&server.url("/burst?n=40"), 1)]);
    let run = run_until(cfg, LIMIT, |s| {
        s.counters
            .first()
            .copied()
            .flatten()
            .is_some_and(|c| c.msgs_in >= 40)
    })
    .await;
    let hs = &run.of("handshake")[0];
    assert_eq!(hs["accepted"][0]["name"], "permessage-deflate", "{hs}");
    let c = run.snapshot.counters[0].expect("a live session has counters");
    assert!(c.msgs_in >= 40);
    assert!(
        c.payload_in > 2 * c.wire_in,
        "compressible data must shrink on the wire: {c:?}"
    );
    assert!(c.compression_ratio().expect("ratio") > 2.0);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_round_trips_compressed_messages_and_measures_rtt() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![target(&server.url("/echo"), 3)]);
    cfg.session.send = Some("hello hello hello hello hello hello hello hello".into());
    cfg.session.send_every = Some(Duration::from_millis(50));
    cfg.session.ping_interval = Some(Duration::from_millis(100));
    let run = run_until(cfg, LIMIT, |s| {
        s.counters.len() == 3
            && s.counters
                .iter()
                .all(|c| c.is_some_and(|c| c.msgs_in >= 5 && c.rtt_us.is_some()))
    })
    .await;
    for c in run.snapshot.counters.iter().flatten() {
        assert!(c.msgs_out >= 5 && c.msgs_in >= 5, "{c:?}");
        assert!(c.payload_out > c.wire_out - 6 * c.msgs_out, "{c:?}");
    }
    // Shutdown closes open sessions with 1001 from the client.
    let closes = run.of("closed");
    assert_eq!(closes.len(), 3);
    for c in closes {
        assert_eq!(c["code"], 1001);
        assert_eq!(c["initiator"], "client");
        assert_eq!(c["clean"], true);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_is_a_connect_error_not_a_crash() {
    // Bind then drop a listener: the port is closed.
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    let run = run_until(
        config(vec![target(&format!("ws://127.0.0.1:{port}/"), 1)]),
        LIMIT,
        |s| {
            s.totals
                .errors
                .contains_key(&wsmon::engine::events::ErrorKind::Connect)
        },
    )
    .await;
    assert_eq!(run.of("error")[0]["kind"], "connect");
    assert_eq!(run.of("backoff")[0]["cause"]["type"], "error");
}

/// A hostile server: answers every upgrade with `answer(key)` as raw bytes, then keeps the
/// socket open a moment (so the client can send its close frame) and drops it.
async fn hostile(answer: fn(&str) -> String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Some(key) = common::read_upgrade_key(&mut sock).await else {
                    return;
                };
                let _ = sock.write_all(answer(&key).as_bytes()).await;
                let mut buf = [0u8; 64];
                let _ = tokio::time::timeout(Duration::from_millis(500), sock.read(&mut buf)).await;
            });
        }
    });
    format!("ws://{addr}/")
}

fn accept(key: &str) -> String {
    tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_accepting_an_unoffered_extension_fails_the_connection_with_1002() {
    let url = hostile(|key| {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: x-webkit-deflate-frame\r\n\r\n",
            accept(key)
        )
    })
    .await;
    let run = run_until(config(vec![target(&url, 1)]), LIMIT, |s| {
        s.totals.closes_by_code.contains_key(&1002)
    })
    .await;
    let e = &run.of("error")[0];
    assert_eq!(e["kind"], "extension");
    assert!(
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("x-webkit-deflate-frame") && m.contains("not offered")),
        "{e}"
    );
    let hs = &run.of("handshake")[0];
    assert_eq!(hs["accepted"][0]["name"], "x-webkit-deflate-frame");
    assert!(
        hs["unexpected"][0]
            .as_str()
            .is_some_and(|u| u.contains("not offered")),
        "{hs}"
    );
    let c = &run.of("closed")[0];
    assert_eq!(c["code"], 1002);
    assert_eq!(c["initiator"], "client");
    // A protocol error is not fixed by retrying.
    assert!(run.of("backoff").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_accept_key_and_garbage_answers_are_handshake_errors() {
    let wrong_key = hostile(|_| {
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"
            .to_string()
    })
    .await;
    let garbage = hostile(|_| "SSH-2.0-OpenSSH_9.6\r\n\x1b[31m\x00\x01\r\n\r\n".to_string()).await;
    let cfg = config(vec![target(&wrong_key, 1), target(&garbage, 1)]);
    let run = run_until(cfg, LIMIT, |s| {
        s.totals
            .errors
            .get(&wsmon::engine::events::ErrorKind::Handshake)
            .copied()
            .unwrap_or(0)
            >= 2
    })
    .await;
    let msgs: Vec<String> = run
        .of("error")
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(
        msgs.iter().any(|m| m.contains("Sec-WebSocket-Accept")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("malformed HTTP")),
        "{msgs:?}"
    );
    for m in &msgs {
        assert!(
            !m.contains('\x1b') && !m.contains('\0'),
            "no raw control characters: {m:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_limit_after_inflating_closes_with_1009() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![target(&server.url("/burst?n=3"), 1)]);
    cfg.session.max_message_size = 200;
    let run = run_until(cfg, LIMIT, |s| s.totals.closes_by_code.contains_key(&1009)).await;
    let c = &run.of("closed")[0];
    assert_eq!(c["code"], 1009);
    assert_eq!(c["initiator"], "client");
    assert!(
        c["reason"].as_str().is_some_and(|r| r.contains("200")),
        "{c}"
    );
    assert!(run.of("backoff").is_empty(), "1009 is not retried");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_failure_is_1015_ended_by_the_client() {
    // wss:// to a plain-text server: the TLS handshake fails.
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let url = server.url("/echo").replace("ws://", "wss://");
    let run = run_until(config(vec![target(&url, 1)]), LIMIT, |s| {
        s.totals.closes_by_code.contains_key(&1015)
    })
    .await;
    assert_eq!(run.of("error")[0]["kind"], "tls");
    let c = &run.of("closed")[0];
    assert_eq!(c["code"], 1015);
    // wsmon gave up on an answer that is not TLS: the client ended it; 1015 never travels.
    assert_eq!(c["initiator"], "client");
    assert_eq!(c["code_on_wire"], false);
    assert_eq!(c["code_name"], "TLS Handshake Failure");
    server.shutdown().await;
}

/// A server that completes the upgrade, sends `payload` as the body of one close frame, then
/// keeps what the client sends back (until the client closes TCP or a second passes) and drops
/// the connection. Returns its URL and the client bytes of every connection.
async fn close_frame_server(payload: Vec<u8>) -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let payload = payload.clone();
            let record = record.clone();
            tokio::spawn(async move {
                let Some(key) = common::read_upgrade_key(&mut sock).await else {
                    return;
                };
                let mut out = format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                     Connection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                    accept(&key)
                )
                .into_bytes();
                out.push(0x88);
                out.push(u8::try_from(payload.len()).expect("a control frame payload"));
                out.extend_from_slice(&payload);
                if sock.write_all(&out).await.is_err() {
                    return;
                }
                let mut got = Vec::new();
                let _ =
                    tokio::time::timeout(Duration::from_secs(1), sock.read_to_end(&mut got)).await;
                record.lock().expect("lock").push(got);
            });
        }
    });
    (format!("ws://{addr}/"), seen)
}

/// The code of the first (masked, client) close frame in `bytes`, or `None` without one.
fn client_close_code(bytes: &[u8]) -> Option<u16> {
    let mut at = 0;
    while at + 2 <= bytes.len() {
        let opcode = bytes[at] & 0x0f;
        let len = usize::from(bytes[at + 1] & 0x7f);
        let masked = bytes[at + 1] & 0x80 != 0;
        let (len, head) = match len {
            126 => (
                usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]])),
                4,
            ),
            n => (n, 2),
        };
        let key_at = at + head;
        let body = key_at + if masked { 4 } else { 0 };
        if opcode == 0x8 && len >= 2 && body + 2 <= bytes.len() {
            let k = if masked {
                [bytes[key_at], bytes[key_at + 1]]
            } else {
                [0, 0]
            };
            return Some(u16::from_be_bytes([
                bytes[body] ^ k[0],
                bytes[body + 1] ^ k[1],
            ]));
        }
        at = body + len;
    }
    None
}

/// RFC 6455 section 7.4: a close frame whose code may not be on the wire (0-999, 1004-1006,
/// 1015, 1016-2999, 5000+), or whose payload is a single byte (section 5.5.1), is a protocol
/// error. wsmon answers 1002 and records that it failed the connection: `closed` with 1002 from
/// the client, not clean, the raw code kept as `peer_code`, and 1002 is not retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_close_code_from_the_server_is_a_1002_failure_by_the_client() {
    let codes: [u16; 9] = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000];
    let mut servers = Vec::new();
    for code in codes {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(b"bye");
        servers.push((Some(code), close_frame_server(payload).await));
    }
    servers.push((None, close_frame_server(vec![0x03]).await));
    let targets = servers.iter().map(|(_, (url, _))| target(url, 1)).collect();
    let n = servers.len() as u64;
    let run = run_until(config(targets), LIMIT, |s| {
        s.totals.closes_by_code.values().sum::<u64>() >= n
    })
    .await;
    for (i, (code, (_, seen))) in servers.iter().enumerate() {
        let session = run.sessions()[i];
        let c = run.for_session(session, "closed")[0];
        assert_eq!(c["code"], 1002, "{c}");
        assert_eq!(c["initiator"], "client", "{c}");
        assert_eq!(c["clean"], false, "{c}");
        let reason = c["reason"].as_str().unwrap_or_default();
        match code {
            Some(code) => {
                assert_eq!(c["peer_code"], *code, "{c}");
                assert!(
                    reason.contains(&format!("invalid close code {code}")),
                    "{c}"
                );
            }
            None => {
                assert!(c.get("peer_code").is_none(), "{c}");
                assert!(reason.contains("1-byte"), "{c}");
            }
        }
        let closing = run.for_session(session, "closing");
        assert_eq!(closing.len(), 1, "{closing:?}");
        assert_eq!(closing[0]["code"], 1002, "{closing:?}");
        assert_eq!(closing[0]["initiator"], "client", "{closing:?}");
        // 1002 is not retried.
        assert!(run.for_session(session, "backoff").is_empty(), "{c}");
        let ended = run.for_session(session, "ended");
        assert_eq!(ended.len(), 1, "{c}");
        assert_eq!(ended[0]["cause"]["code"], 1002, "{ended:?}");
        // On the wire: one connection, answered with a 1002 close frame.
        let seen = seen.lock().expect("lock");
        assert_eq!(seen.len(), 1, "one connection, no retry");
        assert_eq!(client_close_code(&seen[0]), Some(1002), "{:?}", seen[0]);
    }
    assert_eq!(run.of("closed").len(), servers.len());
}

/// The knowledge base's 1014 text says what the engine records for `/close/1014`: the raw code
/// the peer sent, with the server as initiator (not a 1002 in its place).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_1014_text_matches_what_the_engine_records() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let run = run_until(
        config(vec![target(&server.url("/close/1014"), 1)]),
        LIMIT,
        |s| !s.totals.closes_by_code.is_empty(),
    )
    .await;
    let c = &run.of("closed")[0];
    let reg = wsmon::codes::Registry::builtin();
    let entry = reg.lookup(1014).expect("1014 entry");
    assert_eq!(c["code"], 1014, "{c}");
    assert_eq!(c["code_name"], entry.kb_name(wsmon::codes::Lang::En), "{c}");
    assert_eq!(c["initiator"], "server", "{c}");
    let when = entry.when(wsmon::codes::Lang::En);
    assert!(
        when.contains("wsmon records the raw 1014") && when.contains("server as initiator"),
        "{when}"
    );
    assert!(!when.contains("reports 1002 instead"), "{when}");
    server.shutdown().await;
}
