//! One exported line (a JSONL object, or a CSV row turned into one) back into an [`Event`].
//!
//! Fields are read by name in one pass, without building a `serde_json::Value` for the common
//! events; unknown fields are counted (a newer wsmon may add some) and skipped.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::engine::events::{
    BackoffInfo, Cause, CloseInfo, CloseWhy, DelayKind, Direction, ErrorKind, Event, EventKind,
    HandshakeInfo, Initiator, Jitter, LatencySource, Link, MessageRecord, Opcode, Proto,
    ScriptEvent, ScriptPhase, Timings,
};
use crate::protocol::extensions::{Extension, Param};

/// Why a line could not become an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Not JSON, or not the shape of a wsmon event (`ts`, `session`, `event`).
    Malformed(String),
    /// A well-formed event line whose `event` this version does not know.
    UnknownEvent(String),
}

/// At most this many characters of a file's text in a message.
const EXCERPT: usize = 120;

/// Text from a file (or an error quoting it) as a message may show it: control characters
/// escaped, and at most [`EXCERPT`] characters (a 200 MB line is not repeated on stderr).
pub fn excerpt(text: &str) -> String {
    let cut = match text.char_indices().nth(EXCERPT) {
        Some((i, _)) => &text[..i],
        None => text,
    };
    let mut out = crate::redact::escape_control(cut);
    if cut.len() < text.len() {
        out.push_str(&format!("... ({} bytes)", text.len()));
    }
    out
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::Malformed(m) => f.write_str(m),
            LineError::UnknownEvent(name) => write!(f, "unknown event \"{}\"", excerpt(name)),
        }
    }
}

/// A parsed line: the event, the name the log gave its close code (if any), and the first
/// unknown field with the number of unknown fields.
#[derive(Debug)]
pub struct Parsed {
    pub event: Event,
    pub code_name: Option<(u16, String)>,
    pub unknown_fields: usize,
    pub first_unknown: Option<String>,
    /// What a `spawned` event says of its run: `shard` (`2/4`) and `start_at`, as written.
    pub shard: Option<String>,
    pub start_at: Option<DateTime<Utc>>,
}

/// Logs written before `close_why` existed: wsmon closed with 1001 only when it was stopping,
/// so (1001, client) there is a shutdown close. Newer logs name the reason of every close wsmon
/// sent, so this reading is for old files only.
fn legacy_close_why(code: u16, initiator: Initiator) -> Option<CloseWhy> {
    (code == 1001 && initiator == Initiator::Client).then_some(CloseWhy::Shutdown)
}

/// Parse one JSONL line.
pub fn parse_json(text: &[u8]) -> Result<Parsed, LineError> {
    let raw: Raw =
        serde_json::from_slice(text).map_err(|e| LineError::Malformed(excerpt(&e.to_string())))?;
    raw.into_parsed()
}

/// Parse one line already turned into a JSON object (the CSV path).
pub fn parse_value(v: serde_json::Value) -> Result<Parsed, LineError> {
    let raw = Raw::deserialize(v).map_err(|e| LineError::Malformed(excerpt(&e.to_string())))?;
    raw.into_parsed()
}

/// A string that borrows from the input when it can.
struct Str<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON object as its (name, value) pairs in file order: headers keep the order they were
/// exported in.
struct Pairs<T>(Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Pairs<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Pairs<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    out.push((k, v));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A parameter value: its string, or `true` for a parameter without a value.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum ParamValue {
    Value(String),
    Flag(IgnoredAny),
}

#[derive(serde::Deserialize)]
struct RawExtension {
    name: String,
    #[serde(default)]
    params: Option<Pairs<ParamValue>>,
}

fn extensions(raw: Option<Vec<RawExtension>>) -> Vec<Extension> {
    raw.unwrap_or_default()
        .into_iter()
        .map(|e| Extension {
            name: e.name,
            params: e
                .params
                .map(|p| p.0)
                .unwrap_or_default()
                .into_iter()
                .map(|(name, v)| Param {
                    name,
                    value: match v {
                        ParamValue::Flag(_) => None,
                        ParamValue::Value(s) => Some(s),
                    },
                })
                .collect(),
        })
        .collect()
}

/// Every field any event may carry. `Option<Option<T>>` tells "absent" from `null`.
#[derive(Default)]
struct Raw<'a> {
    ts: Option<Str<'a>>,
    session: Option<u64>,
    url: Option<String>,
    event: Option<Str<'a>>,
    target: Option<usize>,
    index: Option<usize>,
    attempt: Option<u32>,
    slot_wait_ms: Option<u64>,
    code: Option<u16>,
    code_name: Option<String>,
    reason: Option<String>,
    initiator: Option<Initiator>,
    clean: Option<bool>,
    uptime_ms: Option<Option<u64>>,
    peer_code: Option<u16>,
    code_on_wire: Option<bool>,
    close_why: Option<CloseWhy>,
    kind: Option<Str<'a>>,
    message: Option<String>,
    cause: Option<Option<Cause>>,
    window_ms: Option<u64>,
    delay_ms: Option<u64>,
    retry_after_ms: Option<Option<u64>>,
    jitter: Option<Jitter>,
    next_attempt_at: Option<Str<'a>>,
    attempts: Option<u32>,
    why: Option<String>,
    paused: Option<bool>,
    status: Option<u16>,
    status_line: Option<String>,
    request_headers: Option<Pairs<String>>,
    response_headers: Option<Pairs<String>>,
    body: Option<String>,
    offered: Option<Vec<RawExtension>>,
    accepted: Option<Vec<RawExtension>>,
    required: Option<Vec<RawExtension>>,
    missing: Option<Vec<String>>,
    unexpected: Option<Vec<String>>,
    subprotocol: Option<String>,
    timings_ms: Option<Timings>,
    retry_after_invalid: Option<String>,
    bytes_received: Option<u64>,
    invalid: Option<String>,
    bad_header: Option<String>,
    shard: Option<String>,
    start_at: Option<Str<'a>>,
    step: Option<u32>,
    steps: Option<u32>,
    phase: Option<ScriptPhase>,
    what: Option<String>,
    last: Option<String>,
    captured: Option<Pairs<String>>,
    silent_ms: Option<u64>,
    latency_ms: Option<f64>,
    source: Option<LatencySource>,
    direction: Option<Direction>,
    opcode: Option<Opcode>,
    wire_size: Option<u64>,
    size: Option<u64>,
    rsv1: Option<bool>,
    text: Option<String>,
    base64: Option<Str<'a>>,
    cut: Option<bool>,
    transport: Option<Proto>,
    connection: Option<String>,
    stream: Option<u32>,
    unknown_fields: usize,
    first_unknown: Option<String>,
}

impl<'de> Deserialize<'de> for Raw<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Raw<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut r = Raw::default();
                while let Some(key) = map.next_key::<Str<'de>>()? {
                    match key.0.as_ref() {
                        "ts" => r.ts = Some(map.next_value()?),
                        "session" => r.session = Some(map.next_value()?),
                        "url" => r.url = Some(map.next_value()?),
                        "event" => r.event = Some(map.next_value()?),
                        "target" => r.target = Some(map.next_value()?),
                        "index" => r.index = Some(map.next_value()?),
                        "attempt" => r.attempt = Some(map.next_value()?),
                        "slot_wait_ms" => r.slot_wait_ms = Some(map.next_value()?),
                        "code" => r.code = Some(map.next_value()?),
                        "code_name" => r.code_name = Some(map.next_value()?),
                        "reason" => r.reason = Some(map.next_value()?),
                        "initiator" => r.initiator = Some(map.next_value()?),
                        "clean" => r.clean = Some(map.next_value()?),
                        "uptime_ms" => r.uptime_ms = Some(map.next_value()?),
                        "peer_code" => r.peer_code = Some(map.next_value()?),
                        "code_on_wire" => r.code_on_wire = Some(map.next_value()?),
                        "close_why" => r.close_why = Some(map.next_value()?),
                        "kind" => r.kind = Some(map.next_value()?),
                        "message" => r.message = Some(map.next_value()?),
                        "cause" => r.cause = Some(map.next_value()?),
                        "window_ms" => r.window_ms = Some(map.next_value()?),
                        "delay_ms" => r.delay_ms = Some(map.next_value()?),
                        "retry_after_ms" => r.retry_after_ms = Some(map.next_value()?),
                        "jitter" => r.jitter = Some(map.next_value()?),
                        "next_attempt_at" => r.next_attempt_at = Some(map.next_value()?),
                        "attempts" => r.attempts = Some(map.next_value()?),
                        "why" => r.why = Some(map.next_value()?),
                        "paused" => r.paused = Some(map.next_value()?),
                        "status" => r.status = Some(map.next_value()?),
                        "status_line" => r.status_line = Some(map.next_value()?),
                        "request_headers" => r.request_headers = Some(map.next_value()?),
                        "response_headers" => r.response_headers = Some(map.next_value()?),
                        "body" => r.body = Some(map.next_value()?),
                        "offered" => r.offered = Some(map.next_value()?),
                        "accepted" => r.accepted = Some(map.next_value()?),
                        "required" => r.required = Some(map.next_value()?),
                        "missing" => r.missing = Some(map.next_value()?),
                        "unexpected" => r.unexpected = Some(map.next_value()?),
                        "subprotocol" => r.subprotocol = Some(map.next_value()?),
                        "timings_ms" => r.timings_ms = Some(map.next_value()?),
                        "retry_after_invalid" => r.retry_after_invalid = Some(map.next_value()?),
                        "bytes_received" => r.bytes_received = Some(map.next_value()?),
                        "invalid" => r.invalid = Some(map.next_value()?),
                        "bad_header" => r.bad_header = Some(map.next_value()?),
                        "shard" => r.shard = Some(map.next_value()?),
                        "start_at" => r.start_at = Some(map.next_value()?),
                        "step" => r.step = Some(map.next_value()?),
                        "steps" => r.steps = Some(map.next_value()?),
                        "phase" => r.phase = Some(map.next_value()?),
                        "what" => r.what = Some(map.next_value()?),
                        "last" => r.last = Some(map.next_value()?),
                        "captured" => r.captured = Some(map.next_value()?),
                        "silent_ms" => r.silent_ms = Some(map.next_value()?),
                        "latency_ms" => r.latency_ms = Some(map.next_value()?),
                        "source" => r.source = Some(map.next_value()?),
                        "direction" => r.direction = Some(map.next_value()?),
                        "opcode" => r.opcode = Some(map.next_value()?),
                        "wire_size" => r.wire_size = Some(map.next_value()?),
                        "size" => r.size = Some(map.next_value()?),
                        "rsv1" => r.rsv1 = Some(map.next_value()?),
                        "text" => r.text = Some(map.next_value()?),
                        "base64" => r.base64 = Some(map.next_value()?),
                        "cut" => r.cut = Some(map.next_value()?),
                        "transport" => r.transport = Some(map.next_value()?),
                        "connection" => r.connection = Some(map.next_value()?),
                        "stream" => r.stream = Some(map.next_value()?),
                        other => {
                            r.unknown_fields += 1;
                            if r.first_unknown.is_none() {
                                r.first_unknown = Some(other.to_string());
                            }
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(r)
            }
        }
        d.deserialize_map(V)
    }
}

/// Parse "2026-11-25T19:20:17.123Z" (any RFC 3339 time).
pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn missing(field: &str, event: &str) -> LineError {
    LineError::Malformed(format!("\"{}\" event without \"{field}\"", excerpt(event)))
}

fn enum_from<T: serde::de::DeserializeOwned>(s: &str, field: &str) -> Result<T, LineError> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| LineError::Malformed(format!("invalid \"{field}\": \"{}\"", excerpt(s))))
}

impl Raw<'_> {
    /// The conversation events (issue 20): `script`, `stale`, `fresh`, `latency`.
    fn conversation(&mut self, name: &str) -> Result<EventKind, LineError> {
        Ok(match name {
            "script" => EventKind::Script(std::sync::Arc::new(ScriptEvent {
                step: self.step.ok_or_else(|| missing("step", name))?,
                steps: self.steps.unwrap_or(0),
                phase: self.phase.ok_or_else(|| missing("phase", name))?,
                what: self.what.take().unwrap_or_default(),
                last: self.last.take(),
                captured: self.captured.take().map(|p| p.0).unwrap_or_default(),
            })),
            "stale" => EventKind::Stale {
                silent_ms: self.silent_ms.ok_or_else(|| missing("silent_ms", name))?,
            },
            "fresh" => EventKind::Fresh {
                silent_ms: self.silent_ms.ok_or_else(|| missing("silent_ms", name))?,
            },
            "latency" => {
                let ms = self
                    .latency_ms
                    .filter(|ms| ms.is_finite() && *ms >= 0.0)
                    .ok_or_else(|| missing("latency_ms", name))?;
                EventKind::Latency {
                    us: (ms * 1000.0).round() as u64,
                    source: self.source.ok_or_else(|| missing("source", name))?,
                    step: self.step.unwrap_or(0),
                }
            }
            _ => return Err(LineError::UnknownEvent(name.to_string())),
        })
    }

    /// A `message` event (`--record-messages`): its payload from `text` or `base64`, a close
    /// frame's from `code` and `reason`.
    fn message(&mut self) -> Result<EventKind, LineError> {
        let name = "message";
        let opcode = self.opcode.ok_or_else(|| missing("opcode", name))?;
        let payload = match (opcode, self.text.take(), self.base64.take()) {
            (Opcode::Close, _, _) => crate::protocol::frame::close_payload(
                self.code,
                self.reason.as_deref().unwrap_or_default(),
            ),
            (_, Some(text), _) => text.into_bytes(),
            (_, None, Some(b)) => data_encoding::BASE64
                .decode(b.0.as_bytes())
                .map_err(|_| LineError::Malformed("invalid \"base64\" payload".into()))?,
            (_, None, None) => Vec::new(),
        };
        let len = payload.len() as u64;
        // `cut` says whether the payload is whole: a redacted secret may have changed its
        // length, so a whole one keeps its length as written (the wire size stays as sent).
        let size = match self.cut {
            Some(true) => self.size.unwrap_or(0).max(len + 1),
            _ => len,
        };
        Ok(EventKind::Message(std::sync::Arc::new(MessageRecord {
            dir: self.direction.ok_or_else(|| missing("direction", name))?,
            opcode,
            wire_size: self.wire_size.unwrap_or(size),
            size,
            rsv1: self.rsv1.unwrap_or(false),
            payload,
        })))
    }

    fn into_parsed(mut self) -> Result<Parsed, LineError> {
        let Some(event) = self.event.take() else {
            return Err(LineError::Malformed(
                "not a wsmon event (no \"event\" field)".into(),
            ));
        };
        let name = event.0.as_ref();
        let ts = self
            .ts
            .as_ref()
            .and_then(|s| parse_ts(&s.0))
            .ok_or_else(|| missing("ts", name))?;
        let session = self.session.ok_or_else(|| missing("session", name))?;
        let need = |v: Option<u32>, f: &str| v.ok_or_else(|| missing(f, name));
        let mut code_name = None;
        let link = Link {
            transport: self.transport,
            connection: match &self.connection {
                None => None,
                Some(c) => Some(
                    c.strip_prefix('c')
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| {
                            LineError::Malformed(format!(
                                "invalid \"connection\": \"{}\"",
                                excerpt(c)
                            ))
                        })?,
                ),
            },
            stream: self.stream,
        };
        let kind = match name {
            "spawned" => EventKind::Spawned {
                target: self.target.ok_or_else(|| missing("target", name))?,
                index: self.index.unwrap_or(0),
                url: self.url.unwrap_or_default(),
            },
            "connecting" => EventKind::Connecting {
                attempt: need(self.attempt, "attempt")?,
                // Logs from before --max-connecting have no slot wait.
                slot_wait_ms: self.slot_wait_ms.unwrap_or(0),
                link,
            },
            "handshaking" => EventKind::Handshaking {
                attempt: need(self.attempt, "attempt")?,
            },
            "open" => EventKind::Open {
                attempt: need(self.attempt, "attempt")?,
                link,
            },
            "handshake" => EventKind::Handshake(std::sync::Arc::new(HandshakeInfo {
                status: self.status.ok_or_else(|| missing("status", name))?,
                status_line: self.status_line.unwrap_or_default(),
                request_headers: self.request_headers.map(|p| p.0).unwrap_or_default(),
                response_headers: self.response_headers.map(|p| p.0).unwrap_or_default(),
                body: self.body,
                offered: extensions(self.offered),
                accepted: extensions(self.accepted),
                required: extensions(self.required),
                missing: self.missing.unwrap_or_default(),
                unexpected: self.unexpected.unwrap_or_default(),
                subprotocol: self.subprotocol,
                retry_after_ms: self.retry_after_ms.flatten(),
                retry_after_invalid: self.retry_after_invalid,
                timings_ms: self.timings_ms.unwrap_or_default(),
                bytes_received: self.bytes_received.unwrap_or_default(),
                invalid: self.invalid,
                bad_header: self.bad_header,
                link,
            })),
            "closing" => EventKind::Closing {
                code: self.code.ok_or_else(|| missing("code", name))?,
                initiator: self.initiator.ok_or_else(|| missing("initiator", name))?,
            },
            "closed" => {
                let code = self.code.ok_or_else(|| missing("code", name))?;
                code_name = self.code_name.map(|n| (code, n));
                let initiator = self.initiator.ok_or_else(|| missing("initiator", name))?;
                let info = CloseInfo {
                    code,
                    reason: self.reason.unwrap_or_default(),
                    initiator,
                    clean: self.clean.unwrap_or(false),
                    uptime_ms: self.uptime_ms.flatten(),
                    peer_code: self.peer_code,
                    why: self.close_why.or_else(|| legacy_close_why(code, initiator)),
                };
                // `code_on_wire` follows from the code (1005, 1006 and 1015 never travel).
                if self.code_on_wire.is_some_and(|w| w != info.code_on_wire()) {
                    return Err(LineError::Malformed(format!(
                        "close code {code} with code_on_wire {}",
                        !info.code_on_wire()
                    )));
                }
                EventKind::Closed(info)
            }
            "error" => EventKind::Error {
                kind: enum_from::<ErrorKind>(
                    &self.kind.ok_or_else(|| missing("kind", name))?.0,
                    "kind",
                )?,
                message: self.message.unwrap_or_default(),
            },
            "backoff" => {
                let next = self
                    .next_attempt_at
                    .as_ref()
                    .and_then(|s| parse_ts(&s.0))
                    .ok_or_else(|| missing("next_attempt_at", name))?;
                EventKind::Backoff(BackoffInfo {
                    attempt: need(self.attempt, "attempt")?,
                    cause: self.cause.flatten().ok_or_else(|| missing("cause", name))?,
                    kind: enum_from::<DelayKind>(
                        &self.kind.ok_or_else(|| missing("kind", name))?.0,
                        "kind",
                    )?,
                    window_ms: self.window_ms.ok_or_else(|| missing("window_ms", name))?,
                    delay_ms: self.delay_ms.ok_or_else(|| missing("delay_ms", name))?,
                    retry_after_ms: self.retry_after_ms.flatten(),
                    jitter: self.jitter.unwrap_or_default(),
                    next_attempt_at: next,
                })
            }
            "gave_up" => EventKind::GaveUp {
                attempts: need(self.attempts, "attempts")?,
                cause: self.cause.flatten().ok_or_else(|| missing("cause", name))?,
            },
            "ended" => EventKind::Ended {
                cause: self.cause.flatten(),
                why: self.why.unwrap_or_default(),
            },
            "paused" => EventKind::Paused {
                paused: self.paused.ok_or_else(|| missing("paused", name))?,
            },
            "removed" => EventKind::Removed,
            "script" | "stale" | "fresh" | "latency" => self.conversation(name)?,
            "message" => self.message()?,
            other => return Err(LineError::UnknownEvent(other.to_string())),
        };
        Ok(Parsed {
            event: Event { ts, session, kind },
            code_name,
            unknown_fields: self.unknown_fields,
            first_unknown: self.first_unknown,
            shard: self.shard,
            start_at: self.start_at.and_then(|s| parse_ts(&s.0)),
        })
    }
}
