//! Property tests of the parsers that read peer bytes: the handshake answer, the extension
//! header, the close payload and the frame layer. Random and grammar-shaped input, random
//! splits; bounded case counts so the set runs in seconds in a debug build. Each target prints
//! how many inputs it ran and how they ended (`cargo test --lib prop_ -- --nocapture`);
//! `WSMON_PROP_SCALE=N` multiplies the case counts for a longer hunt.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use crate::protocol::ws::WsStream;
use futures_util::StreamExt;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::Message;

use super::deflate::{Compressor, DeflateParams};
use super::extensions::{self, Extension};
use super::frame::{self, CloseBody, close_payload, close_reason, write_head};
use super::handshake::{self, RequestSpec, Timings};
use super::test_support::CountingBytes;
use super::wire::{Role, WireStream};

/// Run `test` on `cases` inputs from `strategy`; prints and returns the number of executions
/// (shrinking included) and fails with the minimal failing input.
fn run<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<&'static str, TestCaseError>,
) -> Outcomes {
    let count = AtomicU64::new(0);
    let seen = Mutex::new(Outcomes::new());
    // WSMON_PROP_SCALE=N runs N times as many cases (a longer hunt than CI's).
    let scale: u32 = std::env::var("WSMON_PROP_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let mut runner = TestRunner::new(Config {
        cases: cases.saturating_mul(scale.max(1)),
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&strategy, |v| {
        count.fetch_add(1, Ordering::Relaxed);
        let outcome = test(v)?;
        if let Ok(mut m) = seen.lock() {
            *m.entry(outcome).or_default() += 1;
        }
        Ok(())
    });
    let n = count.load(Ordering::Relaxed);
    let seen = seen.into_inner().unwrap_or_default();
    eprintln!("proptest {name}: {n} executions, outcomes {seen:?}");
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    seen
}

/// How many inputs ended in each way.
type Outcomes = BTreeMap<&'static str, u64>;

/// The generator reached every one of these outcomes (so the property was not vacuous).
fn assert_reached(seen: &Outcomes, wanted: &[&str]) {
    for w in wanted {
        assert!(
            seen.get(w).is_some_and(|&n| n > 0),
            "never reached {w}: {seen:?}"
        );
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

/// A string over a small alphabet that the grammar cares about, plus troublemakers.
fn grammar_string(alphabet: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(alphabet), 0..max).prop_map(|v| v.concat())
}

// --- Handshake answer -------------------------------------------------------------------

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A response head built from pieces: a status line, header lines with names and values from
/// small alphabets (controls, escapes, obs-text included), one of several line ends.
fn answer_head() -> impl Strategy<Value = Vec<u8>> {
    let status = proptest::sample::select(
        &[
            "valid",
            "valid",
            "valid",
            "HTTP/1.1 101 Switching Protocols",
            "HTTP/1.1 101",
            "HTTP/1.0 503 Busy",
            "HTTP/1.1 429 Slow down",
            "HTTP/2 101 x",
            "HTTP/1.1 1011",
            "garbage",
            "",
            "\u{1b}[2J",
        ][..],
    );
    let name = proptest::sample::select(
        &[
            "Upgrade",
            "Connection",
            "Sec-WebSocket-Accept",
            "Sec-WebSocket-Extensions",
            "Sec-WebSocket-Protocol",
            "Retry-After",
            "Content-Length",
            "X-Evil",
            "Bad Name",
            "",
            "X\u{1b}",
        ][..],
    );
    let value = grammar_string(
        &[
            "websocket",
            "Upgrade",
            ACCEPT,
            "permessage-deflate",
            "; server_max_window_bits=",
            "10",
            "99",
            "\"",
            ",",
            " ",
            "\t",
            "\u{1b}]0;x\u{7}",
            "\u{0}",
            "\u{7f}",
            "é",
            "\u{9b}31m",
            "\u{85}",
            "x-foo",
            "chat",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "\r",
            "\n",
        ],
        8,
    );
    let eol = proptest::sample::select(&["\r\n", "\n", "\r"][..]);
    (
        status,
        proptest::collection::vec((name, value, eol.clone()), 0..8),
        eol,
        bytes(16),
    )
        .prop_map(|(status, headers, end, tail)| {
            let status = match status {
                // A valid upgrade answer's first lines, then the random headers.
                "valid" => format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}"
                ),
                s => s.to_string(),
            };
            let mut out = format!("{status}\r\n").into_bytes();
            for (n, v, e) in headers {
                out.extend_from_slice(format!("{n}: {v}{e}").as_bytes());
            }
            out.extend_from_slice(end.as_bytes());
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&tail);
            out
        })
}

/// What must hold for any answer head: no panic, nothing unescaped in what is recorded or
/// said, the byte count right, a refusal always recorded with its reason.
fn check_answer(head: &[u8]) -> Result<&'static str, TestCaseError> {
    let spec = RequestSpec {
        offers: extensions::parse_header("permessage-deflate; client_max_window_bits")
            .map_err(|e| TestCaseError::fail(e.to_string()))?,
        subprotocols: vec!["chat".into()],
        ..Default::default()
    };
    let parsed = handshake::parse_head(head);
    prop_assert!(
        !has_control(&parsed.status_line),
        "{:?}",
        parsed.status_line
    );
    for (k, v) in &parsed.headers {
        prop_assert!(extensions::is_token(k), "{k:?}");
        prop_assert!(
            !v.bytes().any(|b| b != b'\t' && (b < 0x20 || b == 0x7f)),
            "{v:?}"
        );
    }
    if let Some(m) = &parsed.malformed {
        prop_assert!(!has_control(m), "{m:?}");
    }
    match handshake::judge_answer(head, KEY, &spec, &[], Timings::default()) {
        Ok(v) => {
            let (label, info) = match v {
                handshake::Verdict::Upgraded { info, .. } => ("upgraded", info),
                handshake::Verdict::BadExtensions { info, problems } => {
                    for p in problems {
                        prop_assert!(!has_control(&p), "{p:?}");
                    }
                    ("bad extensions", info)
                }
                handshake::Verdict::Rejected { info } => ("rejected", info),
            };
            prop_assert!(info.invalid.is_none());
            prop_assert_eq!(info.bytes_received, head.len() as u64);
            for (_, v) in &info.response_headers {
                prop_assert!(!has_control(v), "recorded raw: {v:?}");
            }
            Ok(label)
        }
        Err(e) => {
            prop_assert!(!has_control(&e.message), "{:?}", e.message);
            let info = e
                .info
                .ok_or_else(|| TestCaseError::fail("a refused answer is recorded"))?;
            prop_assert_eq!(info.invalid.as_deref(), Some(e.message.as_str()));
            prop_assert_eq!(info.bytes_received, head.len() as u64);
            prop_assert!(!has_control(&info.status_line));
            for (_, v) in &info.response_headers {
                prop_assert!(!has_control(v), "recorded raw: {v:?}");
            }
            if let Some(b) = &info.bad_header {
                prop_assert!(!has_control(b), "{b:?}");
                return Ok("refused, bad header named");
            }
            Ok(if info.status == 0 {
                "refused, no status line"
            } else {
                "refused"
            })
        }
    }
}

#[test]
fn prop_handshake_answer_random_bytes() {
    run("handshake answer (random bytes)", 2000, bytes(400), |b| {
        check_answer(&b)
    });
}

/// Reading a head in random splits gives the same head as reading it whole, or the same
/// reason for not having one; the head then judges like the whole input.
#[test]
fn prop_handshake_answer_random_splits() {
    let rt = runtime();
    let seen = run(
        "handshake answer (read in random splits)",
        1000,
        (
            prop_oneof![answer_head(), bytes(300)],
            proptest::collection::vec(0usize..32, 0..40),
        ),
        |(data, sizes)| {
            let mut io = Scripted {
                chunks: split(&data, &sizes),
            };
            let mut buf = Vec::new();
            let got = rt.block_on(handshake::read_head(&mut io, &mut buf));
            let whole = data
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|p| p + 4);
            match (got, whole) {
                (Ok(n), Some(w)) => {
                    prop_assert_eq!(n, w);
                    prop_assert_eq!(&buf[..n], &data[..n]);
                    check_answer(&buf[..n])?;
                    Ok("head")
                }
                (Err(handshake::HeadCut::Closed), None) => {
                    prop_assert_eq!(&buf, &data);
                    Ok("cut: closed")
                }
                (Err(handshake::HeadCut::NoAnswer), None) => {
                    prop_assert!(data.is_empty());
                    Ok("cut: no answer")
                }
                (got, whole) => Err(TestCaseError::fail(format!(
                    "read {got:?}, whole input has a head ending at {whole:?}"
                ))),
            }
        },
    );
    assert_reached(&seen, &["head", "cut: closed"]);
}

#[test]
fn prop_handshake_answer_shaped() {
    let seen = run("handshake answer (shaped)", 2000, answer_head(), |b| {
        check_answer(&b)
    });
    assert_reached(
        &seen,
        &[
            "upgraded",
            "bad extensions",
            "rejected",
            "refused",
            "refused, bad header named",
        ],
    );
}

// --- Extension header -------------------------------------------------------------------

const EXT_ALPHABET: &[&str] = &[
    "permessage-deflate",
    "x",
    "a",
    "_",
    "-",
    "=",
    ";",
    ",",
    " ",
    "\t",
    "\"",
    "\\",
    "15",
    "server_max_window_bits",
    "client_max_window_bits",
    "client_no_context_takeover",
    "\u{1b}",
    "\r",
    "\u{0}",
    "é",
    "\u{7f}",
    "(",
];

/// Parsing never panics, errors are printable, and whatever parses survives a round trip
/// through `format_header`; `check_response` never panics on it either.
fn check_extension_header(s: &str) -> Result<&'static str, TestCaseError> {
    match extensions::parse_header(s) {
        Err(e) => {
            prop_assert!(!has_control(&e.to_string()), "{e}");
            Ok("error")
        }
        Ok(exts) => {
            prop_assert!(!exts.is_empty());
            let again = extensions::parse_header(&extensions::format_header(&exts))
                .map_err(|e| TestCaseError::fail(format!("round trip of {s:?}: {e}")))?;
            prop_assert_eq!(&again, &exts);
            let offer: Vec<Extension> =
                extensions::parse_header("permessage-deflate; client_max_window_bits")
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
            match extensions::check_response(&offer, &[], &exts) {
                Err(problems) => {
                    prop_assert!(!problems.is_empty());
                    Ok("parsed, refused as an answer")
                }
                Ok(_) => Ok("parsed, valid answer"),
            }
        }
    }
}

#[test]
fn prop_extension_header_grammar() {
    let seen = run(
        "extension header (grammar alphabet)",
        3000,
        grammar_string(EXT_ALPHABET, 24),
        |s| check_extension_header(&s),
    );
    assert_reached(
        &seen,
        &[
            "error",
            "parsed, refused as an answer",
            "parsed, valid answer",
        ],
    );
}

#[test]
fn prop_extension_header_any_string() {
    run(
        "extension header (any string)",
        1500,
        any::<String>(),
        |s| check_extension_header(&s),
    );
}

// --- Close payload ----------------------------------------------------------------------

#[test]
fn prop_close_payload_decode() {
    run("close payload (decode)", 3000, bytes(130), |b| {
        let c = CloseBody::decode(&b);
        if b.len() >= 2 {
            prop_assert_eq!(c.code, Some(u16::from_be_bytes([b[0], b[1]])));
            prop_assert_eq!(c.reason, String::from_utf8_lossy(&b[2..]).into_owned());
            Ok("code")
        } else {
            prop_assert_eq!(c.code, None);
            prop_assert!(c.reason.is_empty());
            Ok("no code")
        }
    });
}

#[test]
fn prop_close_payload_round_trip() {
    let seen = run(
        "close payload (round trip)",
        2000,
        (any::<u16>(), ".{0,200}"),
        |(code, reason): (u16, String)| {
            let p = close_payload(Some(code), &reason);
            prop_assert!(p.len() <= 125);
            let c = CloseBody::decode(&p);
            prop_assert_eq!(c.code, Some(code));
            prop_assert_eq!(c.reason.as_str(), close_reason(&reason));
            prop_assert!(
                CloseBody::decode(&close_payload(None, &reason))
                    .code
                    .is_none()
            );
            Ok(if reason.len() > frame::MAX_CLOSE_REASON {
                "reason cut"
            } else {
                "reason whole"
            })
        },
    );
    assert_reached(&seen, &["reason cut", "reason whole"]);
}

// --- Frame layer ------------------------------------------------------------------------

/// A socket that hands out `chunks` one read at a time, then end of file; writes vanish.
struct Scripted {
    chunks: VecDeque<Vec<u8>>,
}

impl AsyncRead for Scripted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(mut c) = self.chunks.pop_front() {
            let n = c.len().min(buf.remaining());
            buf.put_slice(&c[..n]);
            if n < c.len() {
                self.chunks.push_front(c.split_off(n));
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Scripted {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// `data` cut at the given sizes (0 counts as 1); the rest in one piece.
fn split(data: &[u8], sizes: &[usize]) -> VecDeque<Vec<u8>> {
    let mut out = VecDeque::new();
    let mut rest = data;
    for &s in sizes {
        if rest.is_empty() {
            break;
        }
        let (a, b) = rest.split_at(s.max(1).min(rest.len()));
        out.push_back(a.to_vec());
        rest = b;
    }
    if !rest.is_empty() {
        out.push_back(rest.to_vec());
    }
    out
}

/// One frame as a peer might send it: any header bits, masked or not, and a payload that is
/// random, valid compressed data, or a close payload.
#[derive(Debug, Clone)]
struct RawFrame {
    fin: bool,
    rsv1: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: Payload,
}

#[derive(Debug, Clone)]
enum Payload {
    Random(Vec<u8>),
    Compressed(Vec<u8>),
    Close(u16, String),
    /// A length field larger than what follows.
    Lying(u64),
}

fn raw_frame() -> impl Strategy<Value = RawFrame> {
    let opcode = prop_oneof![
        4 => proptest::sample::select(&[0u8, 1, 2, 8, 9, 10][..]),
        1 => 0u8..16,
    ];
    let payload = prop_oneof![
        4 => bytes(200).prop_map(Payload::Random),
        3 => bytes(300).prop_map(Payload::Compressed),
        2 => (any::<u16>(), ".{0,130}").prop_map(|(c, r)| Payload::Close(c, r)),
        1 => any::<u64>().prop_map(Payload::Lying),
    ];
    (
        any::<bool>(),
        prop::bool::weighted(0.4),
        opcode,
        prop::option::weighted(0.1, any::<[u8; 4]>()),
        payload,
    )
        .prop_map(|(fin, rsv1, opcode, mask, payload)| RawFrame {
            fin,
            rsv1,
            opcode,
            mask,
            payload,
        })
}

fn encode_frames(frames: &[RawFrame]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut compressor = Compressor::new(15, false);
    for f in frames {
        let mut payload = match &f.payload {
            Payload::Random(b) => b.clone(),
            Payload::Compressed(b) => compressor.compress(b).unwrap_or_default(),
            Payload::Close(code, reason) => frame::close_payload(Some(*code), reason),
            Payload::Lying(len) => {
                let mut head = Vec::new();
                write_head(&mut head, f.fin, f.rsv1, f.opcode, f.mask, 0);
                // Patch a 64-bit length in.
                head[1] = (head[1] & 0x80) | 127;
                head.splice(2..2, len.to_be_bytes());
                out.extend_from_slice(&head);
                continue;
            }
        };
        if let Some(k) = f.mask {
            frame::apply_mask(&mut payload, k, 0);
        }
        write_head(&mut out, f.fin, f.rsv1, f.opcode, f.mask, payload.len());
        out.extend_from_slice(&payload);
    }
    out
}

/// Feed `data` (in `chunks`) to a client on the frame layer and read until the stream ends.
/// Must not panic, must end, and must end with a close or an error (the input always ends
/// with end of file); a close the layer sent itself has one of its three codes.
fn check_wire(
    rt: &tokio::runtime::Runtime,
    chunks: VecDeque<Vec<u8>>,
    deflate: bool,
) -> Result<&'static str, TestCaseError> {
    let params = deflate.then_some(DeflateParams {
        server_no_context_takeover: false,
        client_no_context_takeover: true,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    });
    rt.block_on(async move {
        let layer = WireStream::new(
            Scripted { chunks },
            Role::Client,
            params,
            Vec::new(),
            4096,
            Arc::new(CountingBytes::default()),
        );
        let handle = layer.layer_close();
        let mut ws = WsStream::from_raw_socket(layer, Role::Client, None);
        let mut end = None;
        let mut steps = 0;
        while let Some(item) = ws.next().await {
            steps += 1;
            prop_assert!(steps < 10_000, "the stream does not end");
            match item {
                Ok(Message::Close(_)) => end = end.or(Some("peer close frame")),
                Err(_) => end = end.or(Some("error")),
                Ok(Message::Text(t)) => prop_assert!(t.len() <= 4096),
                Ok(Message::Binary(b)) => prop_assert!(b.len() <= 4096),
                Ok(_) => {}
            }
        }
        let end = end.ok_or_else(|| TestCaseError::fail("ended without a close or an error"))?;
        if let Some(lc) = handle.get() {
            return Ok(match lc.code {
                1002 => "layer close 1002",
                1007 => "layer close 1007",
                1009 => "layer close 1009",
                _ => return Err(TestCaseError::fail(format!("layer closed with {lc}"))),
            });
        }
        Ok(end)
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn prop_wire_random_bytes_random_splits() {
    let rt = runtime();
    run(
        "frame layer (random bytes, random splits)",
        1500,
        (
            bytes(600),
            proptest::collection::vec(0usize..64, 0..24),
            any::<bool>(),
        ),
        |(data, sizes, deflate)| check_wire(&rt, split(&data, &sizes), deflate),
    );
}

#[test]
fn prop_wire_shaped_frames_random_splits() {
    let rt = runtime();
    let seen = run(
        "frame layer (shaped frames, random splits)",
        1500,
        (
            proptest::collection::vec(raw_frame(), 0..8),
            proptest::collection::vec(0usize..40, 0..32),
            any::<bool>(),
        ),
        |(frames, sizes, deflate)| check_wire(&rt, split(&encode_frames(&frames), &sizes), deflate),
    );
    assert_reached(
        &seen,
        &[
            "error",
            "peer close frame",
            "layer close 1002",
            "layer close 1007",
            "layer close 1009",
        ],
    );
}
