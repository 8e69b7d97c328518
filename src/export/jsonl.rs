//! One event as one flat JSON object: the envelope (`ts`, `session`, `url`, `event`) plus the
//! kind's own fields. Shared by the JSONL and the CSV writer, and read back by `replay`.

use chrono::SecondsFormat;
use serde_json::{Map, Value, json};

use crate::engine::events::{
    Cause, Event, EventKind, HandshakeInfo, Link, MessageRecord, Opcode, Timings,
};
use crate::protocol::extensions::Extension;
use crate::redact;

/// RFC 3339 UTC with milliseconds and `Z`, e.g. "2026-11-25T19:20:17.123Z".
pub fn format_ts(ts: &chrono::DateTime<chrono::Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The flat JSON object for `ev`. `url` is the session's URL as shown, already redacted: the
/// callers redact it once per session (at its `spawned` event), not once per event.
/// `code_name` names close codes (the knowledge base). Secret header values are redacted again,
/// whatever the producer did.
pub fn to_json_line(ev: &Event, url: &str, code_name: &dyn Fn(u16) -> String) -> Value {
    let mut m = Map::new();
    m.insert("ts".into(), Value::String(format_ts(&ev.ts)));
    m.insert("session".into(), Value::from(ev.session));
    m.insert("url".into(), Value::String(url.to_string()));
    m.insert("event".into(), Value::String(ev.kind.name().to_string()));
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    match &ev.kind {
        EventKind::Spawned { target, index, .. } => {
            put("target", Value::from(*target));
            put("index", Value::from(*index));
        }
        EventKind::Connecting {
            attempt,
            slot_wait_ms,
            link,
        } => {
            put("attempt", Value::from(*attempt));
            put("slot_wait_ms", Value::from(*slot_wait_ms));
            link_fields(link, &mut put);
        }
        EventKind::Handshaking { attempt } => put("attempt", Value::from(*attempt)),
        EventKind::Open { attempt, link } => {
            put("attempt", Value::from(*attempt));
            link_fields(link, &mut put);
        }
        EventKind::Handshake(h) => handshake_fields(h, &mut put),
        EventKind::Closing { code, initiator } => {
            put("code", Value::from(*code));
            put("code_name", Value::String(code_name(*code)));
            put("initiator", Value::String(initiator.as_str().into()));
            // As in `closed`: 1005 (a close frame without a code) never travels.
            put(
                "code_on_wire",
                Value::Bool(crate::codes::valid_on_wire(*code)),
            );
        }
        EventKind::Closed(c) => {
            put("code", Value::from(c.code));
            put("code_name", Value::String(code_name(c.code)));
            put("reason", Value::String(c.reason.clone()));
            put("initiator", Value::String(c.initiator.as_str().into()));
            put("code_on_wire", Value::Bool(c.code_on_wire()));
            put("clean", Value::Bool(c.clean));
            put("uptime_ms", opt(c.uptime_ms));
            if let Some(peer) = c.peer_code {
                put("peer_code", Value::from(peer));
            }
            if let Some(why) = c.why {
                put("close_why", Value::String(why.as_str().into()));
            }
        }
        EventKind::Error { kind, message } => {
            put("kind", Value::String(kind.as_str().into()));
            put("message", Value::String(message.clone()));
        }
        EventKind::Backoff(b) => {
            put("attempt", Value::from(b.attempt));
            put("cause", cause_value(&b.cause, code_name));
            put("kind", enum_value(&b.kind));
            put("window_ms", Value::from(b.window_ms));
            put("delay_ms", Value::from(b.delay_ms));
            put("retry_after_ms", opt(b.retry_after_ms));
            put("jitter", enum_value(&b.jitter));
            put(
                "next_attempt_at",
                Value::String(format_ts(&b.next_attempt_at)),
            );
        }
        EventKind::GaveUp { attempts, cause } => {
            put("attempts", Value::from(*attempts));
            put("cause", cause_value(cause, code_name));
        }
        EventKind::Ended { cause, why } => {
            put(
                "cause",
                cause
                    .as_ref()
                    .map_or(Value::Null, |c| cause_value(c, code_name)),
            );
            put("why", Value::String(why.clone()));
        }
        EventKind::Paused { paused } => put("paused", Value::Bool(*paused)),
        EventKind::Removed => {}
        EventKind::Script(sc) => {
            put("step", Value::from(sc.step));
            if sc.steps > 0 {
                put("steps", Value::from(sc.steps));
            }
            put("phase", Value::String(sc.phase.as_str().into()));
            put("what", Value::String(sc.what.clone()));
            if let Some(last) = &sc.last {
                put("last", Value::String(last.clone()));
            }
            if !sc.captured.is_empty() {
                put("captured", headers_object(&sc.captured));
            }
        }
        EventKind::Stale { silent_ms } | EventKind::Fresh { silent_ms } => {
            put("silent_ms", Value::from(*silent_ms))
        }
        EventKind::Latency { us, source, step } => {
            // Milliseconds with microsecond precision.
            put("latency_ms", json!(*us as f64 / 1000.0));
            put("source", Value::String(source.as_str().into()));
            put("step", Value::from(*step));
        }
        EventKind::Message(r) => {
            put("direction", enum_value(&r.dir));
            put("opcode", enum_value(&r.opcode));
            put("wire_size", Value::from(r.wire_size));
            put("size", Value::from(r.size));
            put("rsv1", Value::Bool(r.rsv1));
            message_payload(r, &mut put);
        }
    }
    Value::Object(m)
}

/// A `message` event's payload as kept: `text` (UTF-8 with no control character but tab,
/// JSON fields with secret names redacted) or else `base64` (binary messages, invalid UTF-8,
/// text holding escape sequences or line breaks: every string in the export stays printable,
/// and the bytes are kept exactly); `cut` when only the first bytes were kept; a close
/// frame's `code` and `reason`.
fn message_payload(r: &MessageRecord, put: &mut impl FnMut(&str, Value)) {
    if r.opcode == Opcode::Close {
        let (code, reason) = r.close_parts();
        if let Some(code) = code {
            put("code", Value::from(code));
        }
        if !reason.is_empty() {
            put("reason", Value::String(redact::escape_control(&reason)));
        }
    } else {
        let text = std::str::from_utf8(&r.payload)
            .ok()
            .filter(|_| r.opcode != Opcode::Binary)
            .map(redact::json_secrets);
        match text {
            Some(t) if !t.chars().any(|c| c.is_control() && c != '\t') => {
                put("text", Value::String(t.into_owned()))
            }
            Some(t) => put(
                "base64",
                Value::String(data_encoding::BASE64.encode(t.as_bytes())),
            ),
            None => put(
                "base64",
                Value::String(data_encoding::BASE64.encode(&r.payload)),
            ),
        }
    }
    if r.is_cut() {
        put("cut", Value::Bool(true));
    }
}

fn handshake_fields(h: &HandshakeInfo, put: &mut impl FnMut(&str, Value)) {
    put("status", Value::from(h.status));
    put("status_line", Value::String(h.status_line.clone()));
    put("request_headers", headers_object(&h.request_headers));
    put("response_headers", headers_object(&h.response_headers));
    if let Some(body) = &h.body {
        put("body", Value::String(body.clone()));
    }
    put("offered", extensions(&h.offered));
    put("accepted", extensions(&h.accepted));
    put("required", extensions(&h.required));
    if !h.missing.is_empty() {
        put("missing", json!(h.missing));
    }
    if !h.unexpected.is_empty() {
        put("unexpected", json!(h.unexpected));
    }
    if let Some(p) = &h.subprotocol {
        put("subprotocol", Value::String(p.clone()));
    }
    put("timings_ms", timings(&h.timings_ms));
    if let Some(ms) = h.retry_after_ms {
        put("retry_after_ms", Value::from(ms));
    }
    if let Some(raw) = &h.retry_after_invalid {
        put("retry_after_invalid", Value::String(raw.clone()));
    }
    put("bytes_received", Value::from(h.bytes_received));
    if let Some(why) = &h.invalid {
        put("invalid", Value::String(why.clone()));
    }
    if let Some(name) = &h.bad_header {
        put("bad_header", Value::String(name.clone()));
    }
    link_fields(&h.link, put);
}

/// `"transport":"h2","connection":"c3","stream":5`: what is known of the attempt's link.
fn link_fields(link: &Link, put: &mut impl FnMut(&str, Value)) {
    if let Some(t) = link.transport {
        put("transport", Value::String(t.as_str().into()));
    }
    if let Some(c) = link.connection_name() {
        put("connection", Value::String(c));
    }
    if let Some(s) = link.stream {
        put("stream", Value::from(s));
    }
}

/// Headers as an object; a repeated header (names compared case-insensitively) merges as
/// "a, b" under the first spelling seen. Secret values are redacted.
fn headers_object(headers: &[(String, String)]) -> Value {
    let mut merged: Vec<(&str, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        let value = redact::header_value(name, value);
        match merged
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some((_, v)) => {
                v.push_str(", ");
                v.push_str(&value);
            }
            None => merged.push((name, value.to_string())),
        }
    }
    Value::Object(
        merged
            .into_iter()
            .map(|(n, v)| (n.to_string(), Value::String(v)))
            .collect(),
    )
}

/// `[{"name": "permessage-deflate", "params": {"client_max_window_bits": true, "server_max_window_bits": "10"}}]`:
/// the shape of `Extension`'s own serialization (a parameter without a value is `true`).
fn extensions(exts: &[Extension]) -> Value {
    serde_json::to_value(exts).unwrap_or(Value::Null)
}

fn timings(t: &Timings) -> Value {
    let mut v = json!({ "dns": t.dns, "connect": t.connect, "tls": t.tls, "upgrade": t.upgrade });
    // Only through a proxy: the CONNECT or SOCKS5 exchange.
    if let (Some(p), Some(m)) = (t.proxy, v.as_object_mut()) {
        m.insert("proxy".into(), Value::from(p));
    }
    v
}

/// `{"type":"close","code":1013,"name":"Try Again Later"}`, `{"type":"status","status":503}`,
/// `{"type":"error","kind":"dns"}`, `{"type":"manual"}`.
pub fn cause_value(cause: &Cause, code_name: &dyn Fn(u16) -> String) -> Value {
    match *cause {
        Cause::Close { code } => json!({"type": "close", "code": code, "name": code_name(code)}),
        Cause::Status { status } => json!({"type": "status", "status": status}),
        Cause::Error { kind } => json!({"type": "error", "kind": kind.as_str()}),
        Cause::Manual => json!({"type": "manual"}),
        Cause::Shutdown => json!({"type": "shutdown"}),
        Cause::Connection { reason, h2_error } => {
            let mut v = json!({"type": "connection", "reason": reason.as_str()});
            if let (Some(code), Some(m)) = (h2_error, v.as_object_mut()) {
                m.insert(
                    "h2_error".into(),
                    Value::String(crate::protocol::http2::error_name(code)),
                );
            }
            v
        }
    }
}

fn opt(v: Option<u64>) -> Value {
    v.map_or(Value::Null, Value::from)
}

/// A unit enum through its serde name ("backoff", "full" ...).
fn enum_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}
