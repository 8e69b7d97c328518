//! The built-in protocols against the real servers of those projects: the npm `graphql-ws`
//! server on `ws` and the npm `socket.io` server (`tests/peers/*.js`, installed by
//! `bash tests/peers/install.sh`), with short server timeouts. With the protocol, sessions stay
//! open through several of them; without it, the servers close them the way they do in
//! production (4408; the Socket.IO ping timeout).

mod common;

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Run, config, run_until, target};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::time::Instant;
use wsmon::cli::WatchArgs;
use wsmon::codes::Registry;
use wsmon::config::Config;
use wsmon::engine::TargetSpec;
use wsmon::engine::protocols::{Options, Protocol};

const INSTALL_HINT: &str = "run `bash tests/peers/install.sh` first";
const SESSIONS: usize = 20;
const LIMIT: Duration = Duration::from_secs(30);

/// A node peer server on 127.0.0.1 (port 0, printed as `PORT <n>`); killed on drop, and it
/// exits by itself when its stdin closes.
struct Peer {
    port: u16,
    log: Arc<Mutex<String>>,
    child: Child,
    _stdin: Option<ChildStdin>,
}

impl Peer {
    async fn start(script: &str, args: &[&str]) -> Peer {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let modules = root.join("target/peers/node/node_modules");
        for package in ["ws", "graphql-ws", "graphql", "socket.io"] {
            assert!(
                modules.join(package).join("package.json").is_file(),
                "npm {package} is not installed under {}: {INSTALL_HINT}",
                modules.display()
            );
        }
        let mut child = Command::new("node")
            .arg(root.join("tests/peers").join(script))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node {script}: {e}; {INSTALL_HINT}"));
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let mut stderr = child.stderr.take().expect("piped");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                sink.lock().expect("log lock").push_str(&text);
            }
        });
        let mut line = String::new();
        let _ = tokio::time::timeout(Duration::from_secs(15), stdout.read_line(&mut line)).await;
        let Some(port) = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
        else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let said = log.lock().expect("log lock").clone();
            panic!("node {script} printed {line:?}, not `PORT <n>`; stderr:\n{said}");
        };
        Peer {
            port,
            log,
            child,
            _stdin: stdin,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// Run `targets` for `secs` seconds (every session must exist), with the shutdown's 1001 after.
async fn run_for(targets: Vec<TargetSpec>, secs: u64) -> Run {
    let cfg = config(targets);
    let start = Instant::now();
    let until = Duration::from_secs(secs);
    run_until(cfg, LIMIT, move |_| start.elapsed() >= until).await
}

/// Closes other than wsmon's own 1001 at shutdown.
fn closes_before_shutdown(run: &Run) -> Vec<String> {
    run.of("closed")
        .iter()
        .filter(|c| c["close_why"] != "shutdown")
        .map(|c| c.to_string())
        .collect()
}

fn script_events(run: &Run, step: u64, phase: &str) -> usize {
    run.of("script")
        .iter()
        .filter(|e| e["step"] == step && e["phase"] == phase)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_ws_sessions_stay_open_subscribed_and_measured() {
    let peer = Peer::start("graphql_ws_server.js", &["--init-wait", "1000"]).await;
    let mut t = target(&peer.url("/graphql"), SESSIONS);
    let opts = Options {
        init_payload: Some(serde_json::json!({"token": "t"})),
        subscribe_query: Some("subscription { tick }".into()),
        ping_interval: Some(Duration::from_millis(300)),
        ..Options::default()
    };
    Protocol::GraphqlWs.prepare(&mut t, opts).expect("options");
    // Three of the server's 1 s init waits.
    let run = run_for(vec![t], 3).await;
    assert_eq!(closes_before_shutdown(&run), Vec::<String>::new());
    assert!(run.of("error").is_empty(), "{:?}", run.of("error"));
    assert_eq!(run.of("open").len(), SESSIONS, "one connection each");
    assert_eq!(script_events(&run, 1, "matched"), SESSIONS, "acknowledged");
    assert_eq!(script_events(&run, 2, "matched"), SESSIONS, "first next");
    for c in run.snapshot.counters.iter().flatten() {
        // A tick every 100 ms for about 2.9 s, plus the ack and the pongs.
        assert!(c.msgs_in >= 20, "next messages counted: {c:?}");
    }
    let pings: Vec<f64> = run
        .of("latency")
        .iter()
        .filter(|l| l["source"] == "ping")
        .filter_map(|l| l["latency_ms"].as_f64())
        .collect();
    assert!(pings.len() >= SESSIONS * 5, "{} pong samples", pings.len());
    assert!(
        pings.iter().all(|ms| *ms > 0.0 && *ms < 1000.0),
        "{pings:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_ws_without_the_protocol_is_closed_4408_and_explained() {
    let peer = Peer::start("graphql_ws_server.js", &["--init-wait", "500"]).await;
    // The subprotocol alone (without it the server closes 4406 first).
    let mut t = target(&peer.url("/graphql"), SESSIONS);
    t.subprotocols.push("graphql-transport-ws".into());
    let mut cfg = config(vec![t]);
    cfg.backoff.base = Duration::from_secs(30);
    let run = run_until(cfg, LIMIT, |s| {
        s.events.iter().filter(|e| e.event == "backoff").count() >= SESSIONS
    })
    .await;
    let closed = run.of("closed");
    assert_eq!(closed.len(), SESSIONS, "{closed:?}");
    for c in &closed {
        assert_eq!(c["code"], 4408, "{c}");
        assert_eq!(c["initiator"], "server", "{c}");
        assert_eq!(c["reason"], "Connection initialisation timeout", "{c}");
        let up = c["uptime_ms"].as_u64().expect("uptime");
        assert!((450..2000).contains(&up), "closed after {up} ms");
    }
    // `--protocol graphql-ws` loads the profile that explains it.
    let args = WatchArgs {
        urls: vec![peer.url("/graphql")],
        protocol: Some("graphql-ws".into()),
        ..Default::default()
    };
    let cfg = Config::from_watch_args(&args).expect("config");
    assert_eq!(cfg.profile.as_deref(), Some("graphql-ws"));
    assert_eq!(cfg.targets[0].subprotocols, ["graphql-transport-ws"]);
    let reg = Registry::build(cfg.profile.as_deref(), &Default::default()).expect("profile");
    assert_eq!(reg.name(4408), "Connection initialisation timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_sessions_answer_pings_and_stay_open() {
    let args = ["--ping-interval", "300", "--ping-timeout", "200"];
    let peer = Peer::start("socket_io_server.js", &args).await;
    let mut t = target(&peer.url(""), SESSIONS);
    let opts = Options {
        emit: vec![("hello".into(), serde_json::json!({"n": 1}))],
        ..Options::default()
    };
    Protocol::SocketIo.prepare(&mut t, opts).expect("options");
    assert_eq!(t.url.path(), "/socket.io/");
    // Six of the server's 500 ms ping deadlines.
    let run = run_for(vec![t], 3).await;
    assert_eq!(closes_before_shutdown(&run), Vec::<String>::new());
    assert!(run.of("error").is_empty(), "{:?}", run.of("error"));
    assert_eq!(run.of("open").len(), SESSIONS, "one connection each");
    assert_eq!(script_events(&run, 1, "matched"), SESSIONS, "open packet");
    assert_eq!(script_events(&run, 2, "matched"), SESSIONS, "namespace");
    // The heartbeat (a "2" every 300 ms) keeps them fresh under the 500 ms stale threshold.
    assert!(run.of("stale").is_empty(), "{:?}", run.of("stale"));
    for c in run.snapshot.counters.iter().flatten() {
        assert!(c.msgs_out >= 8, "pongs and the event sent: {c:?}");
    }
    let log = peer.log();
    let hellos = log.lines().filter(|l| *l == r#"event / hello {"n":1}"#);
    assert_eq!(hellos.count(), SESSIONS, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_without_the_protocol_is_dropped_on_ping_timeout() {
    let args = ["--ping-interval", "300", "--ping-timeout", "200"];
    let peer = Peer::start("socket_io_server.js", &args).await;
    let url = peer.url("/socket.io/?EIO=4&transport=websocket");
    let mut cfg = config(vec![target(&url, SESSIONS)]);
    cfg.backoff.base = Duration::from_secs(30);
    let run = run_until(cfg, LIMIT, |s| {
        s.events.iter().filter(|e| e.event == "backoff").count() >= SESSIONS
    })
    .await;
    let closed = run.of("closed");
    assert_eq!(closed.len(), SESSIONS, "{closed:?}");
    for c in &closed {
        // engine.io closes the socket with ws's close() and no code: an empty close frame.
        assert_eq!(c["code"], 1005, "{c}");
        assert_eq!(c["initiator"], "server", "{c}");
        let up = c["uptime_ms"].as_u64().expect("uptime");
        assert!((450..2000).contains(&up), "dropped after {up} ms");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_namespace_refused_or_authorized() {
    let peer = Peer::start("socket_io_server.js", &[]).await;
    let private = |token: &str| {
        let mut t = target(&peer.url(""), 1);
        let opts = Options {
            namespace: Some("/private".into()),
            auth: Some(serde_json::json!({ "token": token })),
            ..Options::default()
        };
        Protocol::SocketIo.prepare(&mut t, opts).expect("options");
        t
    };
    let mut cfg = config(vec![private("ok"), private("bad")]);
    cfg.backoff.base = Duration::from_secs(30);
    let run = run_until(cfg, LIMIT, |s| {
        s.events.iter().any(|e| e.event == "backoff")
            && s.events.iter().filter(|e| e.event == "script").count() >= 4
    })
    .await;
    let (ok, bad) = (run.sessions()[0], run.sessions()[1]);
    let matched = run.for_session(ok, "script");
    assert!(
        matched
            .iter()
            .any(|e| e["step"] == 2 && e["phase"] == "matched"),
        "{matched:?}"
    );
    let error = run.for_session(bad, "error");
    assert_eq!(error[0]["kind"], "script", "{error:?}");
    assert_eq!(
        error[0]["message"],
        r#"step 2: namespace /private refused the connection: {"message":"not authorized"}"#
    );
    let closed = run.for_session(bad, "closed");
    assert_eq!(closed[0]["code"], 1000);
    assert_eq!(closed[0]["initiator"], "client");
    assert_eq!(closed[0]["reason"], "namespace /private refused");
    assert_eq!(closed[0]["close_why"], "script");
}

fn wsmon() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("wsmon").expect("binary is built");
    c.env("NO_COLOR", "1");
    c
}

#[test]
fn bad_protocols_and_unset_variables_exit_2_naming_the_place() {
    let out = wsmon()
        .args([
            "watch",
            "--headless",
            "--protocol",
            "stomp",
            "ws://127.0.0.1:1/",
        ])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("unknown protocol \"stomp\" (known: graphql-ws, socket.io)"),
        "{err}"
    );

    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("w.toml");
    let text = "[[targets]]\nurl = \"ws://127.0.0.1:1/\"\nprotocol = \"graphql-ws\"\n\
                [targets.protocol_options]\ninit_payload = { token = \"{env.WSMON_TEST_UNSET_TOKEN}\" }\n";
    std::fs::write(&path, text).expect("write");
    let out = wsmon()
        .args(["watch", "--headless", "-c"])
        .arg(&path)
        .env_remove("WSMON_TEST_UNSET_TOKEN")
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let place = format!(
        "{}:5: targets[0].protocol_options.init_payload",
        path.display()
    );
    assert!(err.contains(&place), "{err}");
    assert!(
        err.contains("environment variable WSMON_TEST_UNSET_TOKEN is not set"),
        "{err}"
    );
}

#[test]
fn explain_with_a_graphql_ws_config_uses_its_profile() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("w.toml");
    let text = "[[targets]]\nurl = \"ws://127.0.0.1:1/\"\nprotocol = \"graphql-ws\"\n";
    std::fs::write(&path, text).expect("write");
    let out = wsmon()
        .args(["explain", "4408", "-c"])
        .arg(&path)
        .env("LANG", "C")
        .assert()
        .code(0);
    let said = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(said.contains("Connection initialisation timeout"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphql_ws_without_an_ack_fails_the_step_closes_1000_and_retries() {
    let peer = Peer::start("graphql_ws_server.js", &["--no-ack"]).await;
    let mut t = target(&peer.url("/graphql"), 1);
    let opts = Options {
        timeout: Duration::from_millis(300),
        ..Options::default()
    };
    Protocol::GraphqlWs.prepare(&mut t, opts).expect("options");
    let mut cfg = config(vec![t]);
    cfg.backoff.base = Duration::from_millis(50);
    let run = run_until(cfg, LIMIT, |s| {
        s.events.iter().filter(|e| e.event == "open").count() >= 2
    })
    .await;
    let timed_out: Vec<_> = run
        .of("script")
        .into_iter()
        .filter(|e| e["phase"] == "timed_out")
        .collect();
    assert_eq!(timed_out[0]["step"], 1, "{timed_out:?}");
    assert_eq!(timed_out[0]["what"], "expect connection_ack within 300ms");
    let error = run.of("error");
    assert_eq!(error[0]["kind"], "script", "{error:?}");
    assert_eq!(
        error[0]["message"],
        "step 1: expect connection_ack within 300ms timed out"
    );
    let closed = run.of("closed");
    assert_eq!(closed[0]["code"], 1000, "{closed:?}");
    assert_eq!(closed[0]["initiator"], "client");
    assert_eq!(closed[0]["reason"], "connection_ack timed out");
    let up = closed[0]["uptime_ms"].as_u64().expect("uptime");
    assert!((300..2000).contains(&up), "closed after {up} ms");
    let backoff = run.of("backoff");
    assert_eq!(backoff[0]["cause"]["kind"], "script", "{backoff:?}");
}

#[test]
fn protocol_options_from_a_config_file_are_checked() {
    let dir = tempfile::tempdir().expect("dir");
    let cases = [
        (
            "protocol = \"socket.io\"\n[targets.protocol_options]\nnamespace = \"/chat\"\n\
             emit = [[\"hello\", 1, 2]]\n",
            ":6: targets[0].protocol_options.emit: each event must be",
        ),
        (
            "protocol = \"graphql-ws\"\n[targets.protocol_options]\nnamespace = \"/chat\"\n",
            "targets[0]: protocol graphql-ws: option namespace is not one of this protocol's",
        ),
        (
            "protocol = \"graphql-ws\"\n[targets.protocol_options]\n\
             subscribe_variables = \"{not json\"\n",
            ":5: targets[0].protocol_options.subscribe_variables: not JSON",
        ),
        (
            "[targets.protocol_options]\ntimeout = \"1s\"\n",
            "targets[0]: protocol_options needs a protocol",
        ),
    ];
    for (i, (tail, expected)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("c{i}.toml"));
        let text = format!("[[targets]]\nurl = \"ws://127.0.0.1:1/\"\n{tail}");
        std::fs::write(&path, text).expect("write");
        let out = wsmon()
            .args(["watch", "--headless", "-c"])
            .arg(&path)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(err.contains(expected), "case {i}: {err}");
    }
    // A good one: the URL gets Socket.IO's endpoint.
    let path = dir.path().join("good.toml");
    let text = "[[targets]]\nurl = \"ws://127.0.0.1:1\"\nprotocol = \"socket.io\"\n\
                [targets.protocol_options]\nnamespace = \"/chat\"\nauth = '{\"token\": \"x\"}'\n\
                emit = [[\"hello\", {n = 1}], [\"bye\"]]\ntimeout = \"2s\"\n";
    std::fs::write(&path, text).expect("write");
    let args = WatchArgs {
        config: Some(path),
        ..Default::default()
    };
    let cfg = Config::from_watch_args(&args).expect("valid config");
    assert_eq!(
        cfg.targets[0].url.as_str(),
        "ws://127.0.0.1:1/socket.io/?EIO=4&transport=websocket"
    );
    assert_eq!(cfg.profile, None, "Socket.IO has no close-code profile");
}
