//! `wsmon replay --messages [--session ID] [--grep REGEX] FILE...`: the recorded messages
//! (`watch --record-messages`), one line each, oldest first: time, session, direction, opcode,
//! sizes, the payload as kept (escaped; JSON fields with secret names redacted), a cut note.

use std::fmt::Write as _;

use regex::Regex;

use crate::engine::events::{Direction, EventKind, MessageRecord, Opcode};
use crate::export::jsonl::format_ts;
use crate::redact::{escape_control, json_secrets};
use crate::runtime::replay::merge::Merged;

/// Which messages to print.
#[derive(Debug, Default)]
pub struct Filter {
    /// `--session ID`: `17`, `s17`, or `2/4:s17` for one shard's session of merged files.
    pub session: Option<String>,
    /// `--grep REGEX` over the payload as shown.
    pub grep: Option<Regex>,
}

/// What the listing found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Listing {
    pub text: String,
    /// Messages printed.
    pub shown: usize,
    /// `message` events in the recording (inside the window), printed or not.
    pub recorded: usize,
    /// `--session` named a session of the recording.
    pub session_found: bool,
}

/// The lines of the messages at times `in_window` accepts that pass `filter`.
pub fn list(
    merged: &Merged,
    in_window: &dyn Fn(chrono::DateTime<chrono::Utc>) -> bool,
    filter: &Filter,
) -> Listing {
    let want = filter.session.as_deref().map(session_label);
    let mut out = Listing::default();
    for ev in &merged.rec.events {
        let label = merged.label(ev.session);
        let session_ok = want.as_deref().is_none_or(|w| label_matches(&label, w));
        out.session_found |= want.is_some() && session_ok;
        let EventKind::Message(r) = &ev.kind else {
            continue;
        };
        if !in_window(ev.ts) {
            continue;
        }
        out.recorded += 1;
        if !session_ok {
            continue;
        }
        let payload = shown_payload(r);
        if filter.grep.as_ref().is_some_and(|g| !g.is_match(&payload)) {
            continue;
        }
        out.shown += 1;
        let _ = writeln!(
            out.text,
            "{} {label} {} {} {}{}{}",
            format_ts(&ev.ts),
            match r.dir {
                Direction::In => "in ",
                Direction::Out => "out",
            },
            opcode_name(r.opcode),
            sizes(r),
            if payload.is_empty() { "" } else { "  " },
            payload
        );
        if r.is_cut() {
            let _ = writeln!(
                out.text,
                "    (payload {}, first {} kept)",
                bytes(r.size),
                bytes(r.payload.len() as u64)
            );
        }
    }
    out
}

/// `17` and `s17` name session 17; `2/4:s17` one shard's session 17.
fn session_label(id: &str) -> String {
    let id = id.trim();
    match id.parse::<u64>() {
        Ok(n) => format!("s{n}"),
        Err(_) => id.to_string(),
    }
}

/// `s17` matches `s17` and every shard's `k/n:s17`; `2/4:s17` only itself.
fn label_matches(label: &str, want: &str) -> bool {
    label == want || (!want.contains(':') && label.rsplit(':').next() == Some(want))
}

fn opcode_name(op: Opcode) -> &'static str {
    match op {
        Opcode::Text => "text  ",
        Opcode::Binary => "binary",
        Opcode::Ping => "ping  ",
        Opcode::Pong => "pong  ",
        Opcode::Close => "close ",
    }
}

/// `200 B`, or `1.2 KiB (wire 310 B, rsv1)` for a compressed message.
fn sizes(r: &MessageRecord) -> String {
    let mut s = bytes(r.size);
    if r.rsv1 || r.wire_size != r.size {
        let _ = write!(
            s,
            " (wire {}{})",
            bytes(r.wire_size),
            if r.rsv1 { ", rsv1" } else { "" }
        );
    }
    s
}

fn bytes(n: u64) -> String {
    match n {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
    }
}

/// The payload as a line may show it: text escaped (control characters, escape sequences and
/// line breaks made visible) with secret JSON fields redacted; binary (or invalid UTF-8) as
/// hex; a close frame as its code and reason.
pub fn shown_payload(r: &MessageRecord) -> String {
    if r.opcode == Opcode::Close {
        let (code, reason) = r.close_parts();
        return match code {
            Some(c) if reason.is_empty() => format!("{c}"),
            Some(c) => format!("{c} \"{}\"", escape_control(&reason)),
            None => "(no code)".into(),
        };
    }
    match std::str::from_utf8(&r.payload) {
        Ok(text) if r.opcode != Opcode::Binary => escape_control(&json_secrets(text)),
        _ => {
            let mut hex = String::with_capacity(4 + 2 * r.payload.len());
            hex.push_str("hex:");
            for b in &r.payload {
                let _ = write!(hex, "{b:02x}");
            }
            hex
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(opcode: Opcode, payload: &[u8], size: u64) -> MessageRecord {
        MessageRecord {
            dir: Direction::In,
            opcode,
            wire_size: size,
            size,
            rsv1: false,
            payload: payload.to_vec(),
        }
    }

    #[test]
    fn payloads_are_escaped_redacted_or_hex() {
        let t = rec(
            Opcode::Text,
            b"{\"token\":\"abc\",\"m\":\"\x1b[2J\\n\"}",
            30,
        );
        assert_eq!(
            shown_payload(&t),
            r#"{"token":"<redacted>","m":"\u{1b}[2J\\n"}"#
        );
        let b = rec(Opcode::Binary, &[0, 255, 16], 3);
        assert_eq!(shown_payload(&b), "hex:00ff10");
        let bad = rec(Opcode::Text, &[b'a', 0xc3], 2);
        assert_eq!(shown_payload(&bad), "hex:61c3");
        let c = rec(Opcode::Close, b"\x03\xe8bye\x07", 6);
        assert_eq!(shown_payload(&c), "1000 \"bye\\u{7}\"");
    }

    #[test]
    fn sessions_match_by_number_or_label() {
        assert!(label_matches("s17", &session_label("17")));
        assert!(label_matches("2/4:s17", &session_label("s17")));
        assert!(label_matches("2/4:s17", &session_label("2/4:s17")));
        assert!(!label_matches("1/4:s17", &session_label("2/4:s17")));
        assert!(!label_matches("s171", &session_label("17")));
    }
}
