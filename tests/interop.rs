//! Interop with real peers that other projects wrote (issue #3): Python `websockets` and Node
//! `ws`, each with permessage-deflate on (context takeover, reduced windows, no context takeover)
//! and off. Proves that deflated messages (whole and fragmented, with pings between fragments)
//! round-trip in both directions through wsmon's own frame layer, that wsmon sends 1010 when a
//! required extension is refused, that a real peer's 1013 is recorded and backed off, and that
//! a 1014 is recorded as sent.
//!
//! Each test starts its own peer process (about 0.1-0.3 s); the whole file takes a few seconds.
//!
//! The peer scripts live in `tests/peers/`; their runtimes live in `target/peers/`, installed by
//! `bash tests/peers/install.sh` (`.ci/run` calls it first). A missing peer FAILS the test with
//! that hint: these tests never skip silently.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{config, run_until, target};
use futures_util::{SinkExt, StreamExt};
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role as WsRole};
use url::Url;
use wsmon::engine::counters::{CounterValues, SessionCounters};
use wsmon::engine::events::{Jitter, Timings};
use wsmon::engine::session::ws_config;
use wsmon::protocol::deflate::DeflateParams;
use wsmon::protocol::extensions;
use wsmon::protocol::handshake::{self, RequestSpec, Transport, UpgradeOutcome};
use wsmon::protocol::wire::{Role, WireStream};

const INSTALL_HINT: &str = "run `bash tests/peers/install.sh` first (CI's .ci/run does it)";
/// How long a peer may take to start listening (Python imports are slow on a busy machine).
const START: Duration = Duration::from_secs(30);
/// Budget for one whole raw round-trip test.
const RAW_LIMIT: Duration = Duration::from_secs(40);
/// Budget for one echo.
const STEP: Duration = Duration::from_secs(10);
/// Budget for an engine run to reach its condition.
const ENGINE_LIMIT: Duration = Duration::from_secs(20);
const MAX_MESSAGE: usize = 16 * 1024 * 1024;

// ------------------------------------------------------------------------------------------
// Peers
// ------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runtime {
    Python,
    Node,
}

impl Runtime {
    fn name(self) -> &'static str {
        match self {
            Runtime::Python => "Python websockets",
            Runtime::Node => "Node ws",
        }
    }

    /// The command that runs this peer's script, or a failure naming what is missing.
    fn command(self) -> Command {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let peers = root.join("target").join("peers");
        match self {
            Runtime::Python => {
                let python = peers.join("venv").join("bin").join("python");
                assert!(
                    python.is_file(),
                    "the Python websockets peer is not installed ({} is missing): {INSTALL_HINT}",
                    python.display()
                );
                let mut c = Command::new(python);
                c.arg(root.join("tests/peers/ws_server.py"));
                c
            }
            Runtime::Node => {
                let ws: PathBuf = peers.join("node/node_modules/ws/package.json");
                assert!(
                    ws.is_file(),
                    "the Node ws peer is not installed ({} is missing): {INSTALL_HINT}",
                    ws.display()
                );
                let mut c = Command::new("node");
                c.arg(root.join("tests/peers/ws_server.js"));
                c
            }
        }
    }
}

/// A running peer server on 127.0.0.1. Killed on drop; it also exits by itself when its stdin
/// closes, so a test that dies never leaves it behind.
struct Peer {
    runtime: Runtime,
    port: u16,
    log: Arc<Mutex<String>>,
    child: Child,
    _stdin: Option<ChildStdin>,
    _stdout: BufReader<ChildStdout>,
    _stderr_task: JoinHandle<()>,
}

impl Peer {
    async fn start(runtime: Runtime, args: &[&str]) -> Peer {
        let mut cmd = runtime.command();
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start the {} peer: {e}; {INSTALL_HINT}",
                runtime.name()
            )
        });
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr_task = tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .expect("peer log lock")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });

        let mut line = String::new();
        let read = tokio::time::timeout(START, stdout.read_line(&mut line)).await;
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse::<u16>().ok());
        let Some(port) = port else {
            let why = match read {
                Err(_) => format!("did not print its port within {START:?}"),
                Ok(Err(e)) => format!("stdout failed: {e}"),
                Ok(Ok(0)) => format!("exited before listening ({:?})", child.wait().await),
                Ok(Ok(_)) => format!("printed {line:?} instead of `PORT <n>`"),
            };
            let _ = child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(2), stderr_task).await;
            let said = log.lock().expect("peer log lock").clone();
            panic!(
                "the {} peer {why}; its stderr:\n{said}\n{INSTALL_HINT}",
                runtime.name()
            );
        };
        Peer {
            runtime,
            port,
            log,
            child,
            _stdin: stdin,
            _stdout: stdout,
            _stderr_task: stderr_task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self) -> String {
        self.log.lock().expect("peer log lock").clone()
    }

    /// The `/log` lines "<text|binary> <len> <sha256>", as (kind, len).
    fn logged_messages(&self) -> Vec<(String, usize)> {
        self.log()
            .lines()
            .filter_map(|l| {
                let mut it = l.split(' ');
                let kind = it.next()?;
                let len = it.next()?.parse().ok()?;
                (kind == "text" || kind == "binary").then(|| (kind.to_string(), len))
            })
            .collect()
    }

    /// Wait (bounded) until the peer's stderr has a line equal to `line`.
    async fn wait_for_line(&self, line: &str) {
        for _ in 0..250 {
            if self.log().lines().any(|l| l.trim_end() == line) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "the {} peer never logged {line:?}; its stderr:\n{}",
            self.runtime.name(),
            self.log()
        );
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

// ------------------------------------------------------------------------------------------
// Raw layer: handshake + WireStream + tokio-tungstenite against the peer's /log echo
// ------------------------------------------------------------------------------------------

/// The negotiation variants run against each peer.
#[derive(Debug, Clone, Copy)]
enum Case {
    /// `permessage-deflate` with no parameters: both sides keep their window across messages.
    ContextTakeover,
    /// Both windows reduced to 10 bits (1 KiB) by the client's offer; the peer caps its own too.
    ReducedWindow,
    /// The peer resets its compressor per message (`server_no_context_takeover`), and so do we.
    NoContextTakeover,
    /// The peer forces the smallest client window, 8 bits (256 bytes), on an offer without value.
    PeerForcesClientWindow8,
    /// The peer runs without compression: the offer is refused and frames pass through plain.
    Off,
}

impl Case {
    fn peer_args(self) -> &'static [&'static str] {
        match self {
            Case::ContextTakeover => &["--compression", "on"],
            Case::ReducedWindow => &["--compression", "on", "--server-max-window-bits", "10"],
            Case::NoContextTakeover => &["--compression", "on", "--no-context-takeover"],
            Case::PeerForcesClientWindow8 => {
                &["--compression", "on", "--client-max-window-bits", "8"]
            }
            Case::Off => &["--compression", "off"],
        }
    }

    fn offer(self) -> &'static str {
        match self {
            Case::ContextTakeover | Case::Off => "permessage-deflate",
            Case::ReducedWindow => {
                "permessage-deflate; client_max_window_bits=10; server_max_window_bits=10"
            }
            Case::NoContextTakeover => "permessage-deflate; client_no_context_takeover",
            Case::PeerForcesClientWindow8 => "permessage-deflate; client_max_window_bits",
        }
    }

    /// The accepted parameters (sorted, `name` or `name=value`) and what they mean; `None`
    /// when no extension may be accepted.
    fn expected(self) -> Option<(Vec<&'static str>, DeflateParams)> {
        let d = DeflateParams::default();
        match self {
            Case::ContextTakeover => Some((vec![], d)),
            Case::ReducedWindow => Some((
                vec!["client_max_window_bits=10", "server_max_window_bits=10"],
                DeflateParams {
                    client_max_window_bits: 10,
                    server_max_window_bits: 10,
                    ..d
                },
            )),
            Case::NoContextTakeover => Some((
                vec!["client_no_context_takeover", "server_no_context_takeover"],
                DeflateParams {
                    client_no_context_takeover: true,
                    server_no_context_takeover: true,
                    ..d
                },
            )),
            Case::PeerForcesClientWindow8 => Some((
                vec!["client_max_window_bits=8"],
                DeflateParams {
                    client_max_window_bits: 8,
                    ..d
                },
            )),
            Case::Off => None,
        }
    }
}

/// ~64 KiB of JSON that looks like an API answer: very compressible.
fn json_document() -> String {
    let states = ["open", "closed", "backoff", "handshaking"];
    let mut items = Vec::new();
    loop {
        for _ in 0..50 {
            let i = items.len();
            items.push(json!({
                "id": i,
                "name": format!("session-{i:05}"),
                "state": states[i % states.len()],
                "url": format!("wss://example.test/feed/{}", i % 17),
                "tags": ["interop", "deflate", "websocket"],
                "score": (i * 37) % 1000,
            }));
        }
        let s = Value::Array(items.clone()).to_string();
        if s.len() >= 64 * 1024 {
            return s;
        }
    }
}

/// ~100 KiB of text: a 5 KiB block of words repeated, so that matches span farther than a
/// reduced window and the whole is larger than the 32 KiB maximum window.
fn repeated_text(rng: &mut SmallRng) -> String {
    const WORDS: [&str; 12] = [
        "close",
        "code",
        "frame",
        "deflate",
        "window",
        "retry",
        "jitter",
        "server",
        "client",
        "überlast",
        "🙂",
        "1013",
    ];
    let mut block = String::new();
    while block.len() < 5 * 1024 {
        block.push_str(WORDS[rng.random_range(0..WORDS.len())]);
        block.push(if rng.random_range(0..8) == 0 {
            '\n'
        } else {
            ' '
        });
    }
    block.repeat(20)
}

fn describe(m: &Message) -> String {
    let kind = if m.is_text() {
        "text"
    } else if m.is_binary() {
        "binary"
    } else {
        "control"
    };
    format!("{kind} message of {} bytes", m.len())
}

fn assert_same(sent: &Message, got: &Message, what: &str, peer: &Peer) {
    if sent == got {
        return;
    }
    let (a, b) = (sent.clone().into_data(), got.clone().into_data());
    let first_diff = a.iter().zip(b.iter()).position(|(x, y)| x != y);
    panic!(
        "{}: echo of {what} differs: sent {}, got {} (first differing byte: {first_diff:?}); peer stderr:\n{}",
        peer.runtime.name(),
        describe(sent),
        describe(got),
        peer.log()
    );
}

/// The socket wsmon's session task uses: tungstenite framing over the deflate layer.
type Ws = WebSocketStream<WireStream<Transport>>;

/// The next data message. Pings and pongs on the way are counted in `pings` (tungstenite
/// answers pings by itself).
async fn next_data(ws: &mut Ws, peer: &Peer, what: &str, pings: &mut usize) -> Message {
    let name = peer.runtime.name();
    loop {
        match tokio::time::timeout(STEP, ws.next()).await {
            Err(_) => panic!(
                "{name}: no echo of {what} within {STEP:?}; peer stderr:\n{}",
                peer.log()
            ),
            Ok(None) => panic!(
                "{name}: connection ended waiting for {what}; peer stderr:\n{}",
                peer.log()
            ),
            Ok(Some(Err(e))) => {
                panic!(
                    "{name}: read error waiting for {what}: {e}; peer stderr:\n{}",
                    peer.log()
                )
            }
            Ok(Some(Ok(Message::Close(f)))) => {
                panic!(
                    "{name}: peer closed ({f:?}) instead of echoing {what}; peer stderr:\n{}",
                    peer.log()
                )
            }
            Ok(Some(Ok(m @ (Message::Text(_) | Message::Binary(_))))) => return m,
            Ok(Some(Ok(Message::Ping(_)))) => *pings += 1,
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Send `m`, wait for its echo, check it is identical. Returns the pings seen on the way.
async fn echo(ws: &mut Ws, peer: &Peer, m: &Message, what: &str) -> usize {
    ws.send(m.clone())
        .await
        .unwrap_or_else(|e| panic!("{}: sending {what}: {e}", peer.runtime.name()));
    let mut pings = 0;
    let got = next_data(ws, peer, what, &mut pings).await;
    assert_same(m, &got, what, peer);
    pings
}

/// Frame header size of a frame carrying `len` payload bytes (RFC 6455 section 5.2).
fn header_len(len: usize, masked: bool) -> u64 {
    let base = if len < 126 {
        2
    } else if len < 65536 {
        4
    } else {
        10
    };
    base + if masked { 4 } else { 0 }
}

/// Our upgrade with the case's offer, checked against what the case expects the peer to
/// accept, then the deflate layer and tungstenite on top, as the session task builds them.
async fn connect(peer: &Peer, path: &str, case: Case) -> (Ws, Arc<SessionCounters>, bool) {
    let name = peer.runtime.name();
    let url = Url::parse(&peer.url(path)).expect("peer URL parses");
    let spec = RequestSpec {
        offers: extensions::parse_header(case.offer()).expect("offer parses"),
        ..Default::default()
    };
    let mut timings = Timings::default();
    let transport = handshake::open_transport(&url, None, &mut timings)
        .await
        .unwrap_or_else(|e| panic!("{name}: connect failed: {}", e.message));
    let outcome = handshake::upgrade(transport, &url, &spec, timings)
        .await
        .unwrap_or_else(|e| panic!("{name}: upgrade failed: {}", e.message));
    let (transport, leftover, info, agreement) = match outcome {
        UpgradeOutcome::Upgraded {
            transport,
            leftover,
            info,
            agreement,
        } => (transport, leftover, info, agreement),
        UpgradeOutcome::BadExtensions { problems, info, .. } => panic!(
            "{name} {case:?}: extension answer refused: {problems:?}; response headers {:?}",
            info.response_headers
        ),
        UpgradeOutcome::Rejected { info } => {
            panic!("{name} {case:?}: upgrade rejected: {}", info.status_line)
        }
    };
    assert_eq!(info.status, 101);

    // The handshake accepted exactly the parameters expected.
    match case.expected() {
        None => {
            assert!(
                agreement.accepted.is_empty(),
                "{name} {case:?}: nothing may be accepted: {:?}",
                agreement.accepted
            );
            assert_eq!(agreement.deflate, None);
        }
        Some((params, deflate)) => {
            assert_eq!(
                agreement.accepted.len(),
                1,
                "{name} {case:?}: accepted {:?}",
                agreement.accepted
            );
            let ext = &agreement.accepted[0];
            assert_eq!(ext.name, "permessage-deflate");
            let mut got: Vec<String> = ext
                .params
                .iter()
                .map(|p| match &p.value {
                    Some(v) => format!("{}={v}", p.name),
                    None => p.name.clone(),
                })
                .collect();
            got.sort();
            assert_eq!(got, params, "{name} {case:?}: accepted parameters");
            assert_eq!(
                agreement.deflate,
                Some(deflate),
                "{name} {case:?}: parameters in force"
            );
        }
    }
    assert!(agreement.missing.is_empty());

    let counters = Arc::new(SessionCounters::default());
    let compressed = agreement.deflate.is_some();
    let layer = WireStream::new(
        transport,
        Role::Client,
        agreement.deflate,
        leftover,
        MAX_MESSAGE,
        counters.clone(),
    );
    let ws =
        WebSocketStream::from_raw_socket(layer, WsRole::Client, Some(ws_config(MAX_MESSAGE))).await;
    (ws, counters, compressed)
}

/// Close with 1000 "interop done", wait for the peer's answer, and close our side.
async fn close(mut ws: Ws, peer: &Peer) {
    let name = peer.runtime.name();
    let frame = CloseFrame {
        code: CloseCode::Normal,
        reason: "interop done".into(),
    };
    ws.close(Some(frame))
        .await
        .unwrap_or_else(|e| panic!("{name}: close: {e}"));
    for _ in 0..100 {
        match tokio::time::timeout(STEP, ws.next()).await {
            Ok(Some(Ok(_))) => {}
            Ok(None) | Ok(Some(Err(_))) => break,
            Err(_) => {
                panic!("{name}: the peer did not finish the closing handshake within {STEP:?}")
            }
        }
    }
    // Our side of the TCP connection closes here; the peers report the close after that.
    drop(ws);
}

async fn raw_round_trip(runtime: Runtime, case: Case) {
    let peer = Peer::start(runtime, case.peer_args()).await;
    let body = raw_round_trip_with(&peer, case);
    if tokio::time::timeout(RAW_LIMIT, body).await.is_err() {
        panic!(
            "{} {case:?}: did not finish within {RAW_LIMIT:?}; peer stderr:\n{}",
            runtime.name(),
            peer.log()
        );
    }
}

async fn raw_round_trip_with(peer: &Peer, case: Case) {
    let name = peer.runtime.name();
    let (mut ws, counters, compressed) = connect(peer, "/log", case).await;

    // Part 1: compressible messages.
    let mut rng = SmallRng::seed_from_u64(0x1013_1010);
    let json = Message::text(json_document());
    let text = Message::text(repeated_text(&mut rng));
    let singles: Vec<(&str, Message)> = vec![
        ("an empty text", Message::text("")),
        ("an empty binary", Message::binary(Vec::new())),
        ("a short text", Message::text("hello, peer")),
        ("64 KiB of JSON", json.clone()),
        ("100 KiB of repeated text", text.clone()),
    ];
    let mut sent: Vec<Message> = Vec::new();
    for (what, m) in &singles {
        echo(&mut ws, peer, m, what).await;
        sent.push(m.clone());
    }
    // 50 small, similar messages in a row (sent before reading any echo): with context
    // takeover, later ones refer back to earlier ones.
    let burst: Vec<Message> = (0..50)
        .map(|i| {
            Message::text(format!(
                r#"{{"seq":{i},"event":"tick","session":"session-{:05}","ok":true}}"#,
                i % 7
            ))
        })
        .collect();
    for m in &burst {
        ws.feed(m.clone())
            .await
            .unwrap_or_else(|e| panic!("{name}: sending the burst: {e}"));
    }
    ws.flush()
        .await
        .unwrap_or_else(|e| panic!("{name}: flushing the burst: {e}"));
    for (i, m) in burst.iter().enumerate() {
        let what = format!("burst message {i}");
        let got = next_data(&mut ws, peer, &what, &mut 0).await;
        assert_same(m, &got, &what, peer);
    }
    sent.extend(burst.iter().cloned());

    let payload: u64 = sent.iter().map(|m| m.len() as u64).sum();
    let c1 = counters.load();
    assert_eq!(
        c1.msgs_in, 0,
        "the session counts messages, not the layer (else they count twice)"
    );
    assert_eq!(
        c1.payload_out, payload,
        "{name} {case:?}: payload_out counts every byte sent: {c1:?}"
    );
    assert_eq!(
        c1.payload_in, payload,
        "{name} {case:?}: payload_in counts every byte echoed: {c1:?}"
    );
    if compressed {
        assert!(
            c1.wire_out < c1.payload_out,
            "{name} {case:?}: our messages must shrink on the wire: {c1:?}"
        );
        assert!(
            c1.wire_in < c1.payload_in,
            "{name} {case:?}: the peer's messages must shrink on the wire: {c1:?}"
        );
    } else {
        // Plain frames: the wire carries the payload plus exactly one header per message
        // (masked from us, unmasked from the peer).
        let out: u64 = sent
            .iter()
            .map(|m| header_len(m.len(), true) + m.len() as u64)
            .sum();
        let inn: u64 = sent
            .iter()
            .map(|m| header_len(m.len(), false) + m.len() as u64)
            .sum();
        assert_eq!(c1.wire_out, out, "{name}: uncompressed bytes out: {c1:?}");
        assert_eq!(c1.wire_in, inn, "{name}: uncompressed bytes in: {c1:?}");
    }
    report(peer, case, "compressible", &c1);

    // Part 2: 200 KiB of random bytes do not compress; they must still round-trip, and the
    // counters must not pretend they shrank.
    let mut random = vec![0u8; 200 * 1024];
    rng.fill_bytes(&mut random);
    let random = Message::binary(random);
    echo(&mut ws, peer, &random, "200 KiB of random binary").await;
    sent.push(random.clone());
    let c2 = counters.load();
    let (dp_out, dw_out) = (c2.payload_out - c1.payload_out, c2.wire_out - c1.wire_out);
    let (dp_in, dw_in) = (c2.payload_in - c1.payload_in, c2.wire_in - c1.wire_in);
    assert_eq!(dp_out, 200 * 1024);
    assert_eq!(dp_in, 200 * 1024);
    assert!(
        dw_out > dp_out && dw_in > dp_in,
        "{name} {case:?}: random data cannot shrink: {c1:?} -> {c2:?}"
    );

    // The peer decoded every message we sent to the right kind and length, in order.
    let expected: Vec<(String, usize)> = sent
        .iter()
        .map(|m| {
            (
                (if m.is_text() { "text" } else { "binary" }).to_string(),
                m.len(),
            )
        })
        .collect();
    let logged = peer.logged_messages();
    assert_eq!(logged, expected, "{name} {case:?}: what the peer received");

    // A clean close: the peer receives our code and reason.
    close(ws, peer).await;
    peer.wait_for_line("close 1000 interop done").await;

    // Part 3: the peer answers with fragmented messages (4 data frames, compressed as one
    // message, a ping between fragments; text cut inside UTF-8 characters by Node).
    let (mut ws, counters, _) = connect(peer, "/fragment", case).await;
    let fragmented = [
        ("a short text", Message::text("héllo, fragments 🙂")),
        ("64 KiB of JSON", json),
        ("100 KiB of repeated text", text),
        ("200 KiB of random binary", random),
    ];
    for (what, m) in &fragmented {
        let pings = echo(&mut ws, peer, m, &format!("{what} (fragmented)")).await;
        assert_eq!(
            pings, 3,
            "{name} {case:?}: the 3 pings between the fragments of {what} reach tungstenite"
        );
    }
    let payload: u64 = fragmented.iter().map(|(_, m)| m.len() as u64).sum();
    let c3 = counters.load();
    assert_eq!(
        c3.payload_in, payload,
        "{name} {case:?}: fragmented payload in: {c3:?}"
    );
    close(ws, peer).await;
}

/// Measured ratios go to the test output (`--nocapture`) for the report.
fn report(peer: &Peer, case: Case, part: &str, c: &CounterValues) {
    let ratio = |p: u64, w: u64| if w == 0 { 0.0 } else { p as f64 / w as f64 };
    eprintln!(
        "{} {case:?} {part}: out {} -> {} wire bytes ({:.2}x), in {} <- {} wire bytes ({:.2}x)",
        peer.runtime.name(),
        c.payload_out,
        c.wire_out,
        ratio(c.payload_out, c.wire_out),
        c.payload_in,
        c.wire_in,
        ratio(c.payload_in, c.wire_in),
    );
}

macro_rules! raw_tests {
    ($($name:ident: $runtime:expr, $case:expr;)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            raw_round_trip($runtime, $case).await;
        }
    )*};
}

raw_tests! {
    python_deflate_with_context_takeover_round_trips: Runtime::Python, Case::ContextTakeover;
    python_deflate_with_reduced_windows_round_trips: Runtime::Python, Case::ReducedWindow;
    python_deflate_without_context_takeover_round_trips: Runtime::Python, Case::NoContextTakeover;
    python_deflate_with_forced_8_bit_client_window_round_trips: Runtime::Python, Case::PeerForcesClientWindow8;
    python_without_compression_round_trips: Runtime::Python, Case::Off;
    node_deflate_with_context_takeover_round_trips: Runtime::Node, Case::ContextTakeover;
    node_deflate_with_reduced_windows_round_trips: Runtime::Node, Case::ReducedWindow;
    node_deflate_without_context_takeover_round_trips: Runtime::Node, Case::NoContextTakeover;
    node_deflate_with_forced_8_bit_client_window_round_trips: Runtime::Node, Case::PeerForcesClientWindow8;
    node_without_compression_round_trips: Runtime::Node, Case::Off;
}

// ------------------------------------------------------------------------------------------
// Engine end to end against the peers
// ------------------------------------------------------------------------------------------

/// A required extension the peer refuses: wsmon closes with 1010, and the peer receives it.
async fn required_extension_refused_sends_1010(runtime: Runtime) {
    let peer = Peer::start(runtime, &["--compression", "off"]).await;
    let mut t = target(&peer.url("/log"), 1);
    t.require = vec!["permessage-deflate".into()];
    let run = run_until(config(vec![t]), ENGINE_LIMIT, |s| {
        s.totals.closes_by_code.contains_key(&1010)
    })
    .await;
    let hs = &run.of("handshake")[0];
    assert_eq!(hs["status"], 101, "{hs}");
    assert_eq!(hs["offered"][0]["name"], "permessage-deflate", "{hs}");
    assert_eq!(hs["accepted"], json!([]), "{hs}");
    assert_eq!(hs["missing"], json!(["permessage-deflate"]), "{hs}");
    let closed = run.of("closed");
    assert_eq!(closed.len(), 1, "{closed:?}");
    assert_eq!(closed[0]["code"], 1010);
    assert_eq!(closed[0]["code_name"], "Mandatory Extension");
    assert_eq!(closed[0]["initiator"], "client");
    assert_eq!(closed[0]["reason"], "missing extension: permessage-deflate");
    assert_eq!(
        closed[0]["clean"], true,
        "the peer answered our close frame: {}",
        closed[0]
    );
    assert!(
        run.of("backoff").is_empty(),
        "1010 is not fixed by retrying"
    );
    assert_eq!(run.of("ended").len(), 1);
    // The 1010 really went over the wire.
    peer.wait_for_line("close 1010 missing extension: permessage-deflate")
        .await;
}

/// Compression on: the session opens, messages flow both ways, the counters show compression.
async fn deflate_session_opens_and_compresses(runtime: Runtime) {
    let peer = Peer::start(runtime, &["--compression", "on"]).await;
    let mut t = target(&peer.url("/log"), 1);
    t.require = vec!["permessage-deflate".into()];
    let text = "wsmon interop: the same words again and again. ".repeat(24);
    let mut cfg = config(vec![t]);
    cfg.session.send = Some(text.clone());
    cfg.session.send_every = Some(Duration::from_millis(20));
    let run = run_until(cfg, ENGINE_LIMIT, |s| {
        s.counters
            .first()
            .copied()
            .flatten()
            .is_some_and(|c| c.msgs_in >= 20)
    })
    .await;

    let hs = &run.of("handshake")[0];
    assert_eq!(hs["accepted"][0]["name"], "permessage-deflate", "{hs}");
    // The default offer asks for client_no_context_takeover; both peers confirm it.
    assert_eq!(
        hs["accepted"][0]["params"]["client_no_context_takeover"], true,
        "{hs}"
    );
    assert!(hs.get("missing").is_none(), "{hs}");
    assert_eq!(run.of("open").len(), 1);
    let c = run.snapshot.counters[0].expect("a live session has counters");
    assert!(c.msgs_in >= 20 && c.msgs_out >= 20, "{c:?}");
    assert!(
        c.payload_out > 2 * c.wire_out,
        "sent messages must shrink on the wire: {c:?}"
    );
    assert!(
        c.payload_in > 2 * c.wire_in,
        "received messages must shrink on the wire: {c:?}"
    );
    assert!(c.compression_ratio().is_some_and(|r| r > 2.0), "{c:?}");

    // The peer inflated our messages to the text we sent.
    let logged = peer.logged_messages();
    assert!(logged.len() >= 20, "peer received {logged:?}");
    assert!(
        logged.iter().all(|(k, n)| k == "text" && *n == text.len()),
        "peer received {logged:?}"
    );
    // Shutting down closes with 1001, and the peer sees it.
    let closed = run.of("closed");
    assert_eq!(
        closed.last().map(|c| c["code"].clone()),
        Some(json!(1001)),
        "{closed:?}"
    );
    peer.wait_for_line("close 1001 wsmon is shutting down")
        .await;
}

/// The peer closes with 1013 right after opening: recorded as the server's 1013, and retried
/// with a growing backoff.
async fn peer_1013_is_recorded_and_backed_off(runtime: Runtime) {
    let peer = Peer::start(runtime, &["--compression", "on"]).await;
    let mut cfg = config(vec![target(&peer.url("/close/1013"), 1)]);
    cfg.backoff.base = Duration::from_millis(50);
    cfg.backoff.cap = Duration::from_millis(200);
    cfg.backoff.jitter = Jitter::None;
    let run = run_until(cfg, ENGINE_LIMIT, |s| {
        s.totals.closes_by_code.get(&1013).copied().unwrap_or(0) >= 4
    })
    .await;

    let closed = run.of("closed");
    let overloaded: Vec<_> = closed.iter().filter(|c| c["code"] == 1013).collect();
    assert!(overloaded.len() >= 4, "{closed:?}");
    for c in &overloaded {
        assert_eq!(c["initiator"], "server", "{c}");
        assert_eq!(c["code_name"], "Try Again Later", "{c}");
        assert_eq!(c["reason"], "peer close 1013", "{c}");
        assert_eq!(c["clean"], true, "{c}");
    }
    let backoffs = run.of("backoff");
    assert!(backoffs.len() >= 3, "{backoffs:?}");
    let windows: Vec<u64> = backoffs[..3]
        .iter()
        .filter_map(|b| b["window_ms"].as_u64())
        .collect();
    assert_eq!(
        windows,
        [50, 100, 200],
        "windows double up to the cap: {backoffs:?}"
    );
    for b in &backoffs[..3] {
        assert_eq!(b["cause"]["type"], "close", "{b}");
        assert_eq!(b["cause"]["code"], 1013, "{b}");
        assert_eq!(b["delay_ms"], b["window_ms"], "no jitter: {b}");
    }
    let attempts: Vec<u64> = run
        .of("connecting")
        .iter()
        .filter_map(|e| e["attempt"].as_u64())
        .collect();
    assert!(
        attempts.len() >= 4 && attempts.windows(2).all(|w| w[1] == w[0] + 1),
        "{attempts:?}"
    );
}

macro_rules! engine_tests {
    ($($name:ident: $f:ident($runtime:expr);)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $f($runtime).await;
        }
    )*};
}

engine_tests! {
    python_refusing_a_required_extension_gets_1010: required_extension_refused_sends_1010(Runtime::Python);
    node_refusing_a_required_extension_gets_1010: required_extension_refused_sends_1010(Runtime::Node);
    python_engine_session_compresses_both_ways: deflate_session_opens_and_compresses(Runtime::Python);
    node_engine_session_compresses_both_ways: deflate_session_opens_and_compresses(Runtime::Node);
    python_1013_is_recorded_and_backed_off: peer_1013_is_recorded_and_backed_off(Runtime::Python);
    node_1013_is_recorded_and_backed_off: peer_1013_is_recorded_and_backed_off(Runtime::Node);
}

/// 1014 (Bad Gateway) is a valid code that tungstenite 0.30 does not know: it rewrites it to
/// 1002 "Protocol violation". wsmon must record what the peer really sent.
async fn peer_1014_is_recorded_as_sent(runtime: Runtime) {
    let peer = Peer::start(runtime, &["--compression", "on"]).await;
    let cfg = config(vec![target(&peer.url("/close/1014"), 1)]);
    let run = run_until(cfg, ENGINE_LIMIT, |s| {
        s.totals
            .closes_by_code
            .keys()
            .any(|c| *c == 1014 || *c == 1002)
    })
    .await;
    let c = &run.of("closed")[0];
    assert_eq!(c["code"], 1014, "{c}");
    assert_eq!(c["code_name"], "Bad Gateway", "{c}");
    assert_eq!(c["initiator"], "server", "{c}");
    assert_eq!(c["reason"], "peer close 1014", "{c}");
}

engine_tests! {
    python_1014_is_recorded_as_sent: peer_1014_is_recorded_as_sent(Runtime::Python);
    node_1014_is_recorded_as_sent: peer_1014_is_recorded_as_sent(Runtime::Node);
}

/// Issue 19 section 4b: Node `ws`'s `close()` without a code (what Socket.IO's engine.io calls
/// when it drops a client after its ping timeout) sends an empty close frame. wsmon records 1005,
/// sent by the server, with the code not on the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_close_without_a_code_is_1005_by_the_server() {
    let peer = Peer::start(Runtime::Node, &["--compression", "on"]).await;
    let cfg = config(vec![target(&peer.url("/close/none"), 1)]);
    let run = run_until(cfg, ENGINE_LIMIT, |s| {
        s.totals.closes_by_code.contains_key(&1005)
    })
    .await;
    let c = &run.of("closed")[0];
    assert_eq!(c["code"], 1005, "{c}");
    assert_eq!(c["initiator"], "server", "{c}");
    assert_eq!(c["code_on_wire"], false, "{c}");
    assert_eq!(c["clean"], true, "{c}");
    let closing = run.of("closing")[0];
    assert_eq!(closing["initiator"], "server", "{closing}");
    assert_eq!(closing["code_on_wire"], false, "{closing}");
}
