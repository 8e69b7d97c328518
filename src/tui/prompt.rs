//! What the operator types at the TUI's prompts, parsed into commands or close codes. Pure
//! functions: the URL goes through the one URL parser (`protocol::url`) and close codes through
//! the one close-code parser (`codes::parse_code`), so the prompts refuse what the CLI refuses,
//! at once and with the same words.

use crate::codes;
use crate::engine::events::{Command, SessionId};
use crate::protocol::url::parse_ws_url;

/// Largest number of sessions one `a` may add.
pub const MAX_ADD: usize = 10_000;

/// Largest close reason, in bytes (RFC 6455 section 5.5: control frame payload <= 125).
pub use crate::protocol::MAX_CLOSE_REASON as MAX_REASON;

/// Parse the `a` prompt: `URL [COUNT]` (count defaults to 1).
pub fn parse_add(input: &str) -> Result<Command, String> {
    let mut parts = input.split_whitespace();
    let url = parts
        .next()
        .ok_or_else(|| "give a ws:// or wss:// URL, then a count".to_string())?;
    parse_ws_url(url).map_err(|e| e.to_string())?;
    let count = match parts.next() {
        None => 1,
        Some(n) => match n.parse::<usize>() {
            Ok(n @ 1..=MAX_ADD) => n,
            _ => return Err(format!("invalid count '{n}' (1..={MAX_ADD})")),
        },
    };
    if let Some(extra) = parts.next() {
        return Err(format!("unexpected '{extra}' after the count"));
    }
    Ok(Command::AddSessions {
        url: url.to_string(),
        count,
    })
}

/// Parse the `c` prompt: `[CODE] [REASON...]`; empty means 1000. Codes that must not be sent
/// (1004-1006, 1015, 0-999, 1016-2999, above 4999) are refused.
pub fn parse_close(input: &str, session: SessionId) -> Result<Command, String> {
    let input = input.trim();
    let (code_str, reason) = match input.split_once(char::is_whitespace) {
        Some((c, r)) => (c, r.trim()),
        None => (input, ""),
    };
    let code = if code_str.is_empty() {
        1000
    } else {
        codes::parse_code(code_str).map_err(|e| e.to_string())?
    };
    if !codes::valid_on_wire(code) {
        return Err(format!(
            "close code {code} cannot be sent: use 1000-1003, 1007-1014 or 3000-4999"
        ));
    }
    if reason.len() > MAX_REASON {
        return Err(format!(
            "close reason is {} bytes; at most {MAX_REASON} are allowed",
            reason.len()
        ));
    }
    Ok(Command::Close {
        session,
        code,
        reason: reason.to_string(),
    })
}

/// Parse the explain prompt: one close code, or two to compare (each 0-65535: a peer can send
/// any of them, so any can be explained).
pub fn parse_codes(input: &str) -> Result<(u16, Option<u16>), String> {
    let parse = |s: &str| codes::parse_code(s).map_err(|e| e.to_string());
    let parts: Vec<&str> = input.split_whitespace().collect();
    match parts.as_slice() {
        [a] => Ok((parse(a)?, None)),
        [a, b] => Ok((parse(a)?, Some(parse(b)?))),
        _ => Err("give one close code, or two to compare (0-65535)".to_string()),
    }
}

/// What a prompt is asking for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// `/`: text filter.
    Filter,
    /// `a`: URL and count.
    Add,
    /// `c`: close code and reason for this session.
    Close(SessionId),
    /// `x` without a close code: code(s) to explain.
    Explain,
    /// `c` in the explain view: the second code.
    Compare(u16),
    /// `c` with marked sessions: close code and reason for all of them.
    CloseMarked(usize),
    /// Replay `n`: the code of the next close to go to.
    NextClose,
    /// Replay `:`: a time to go to.
    GotoTime,
    /// `S`: a regex to search every session's messages for.
    Search,
    /// `/` in the Messages view: a regex over the payloads.
    MessageFilter,
}

impl PromptKind {
    pub fn label(self) -> String {
        match self {
            PromptKind::Filter => "filter: ".to_string(),
            PromptKind::Add => "add sessions (URL COUNT): ".to_string(),
            PromptKind::Close(id) => format!("close s{id} with code [reason] (default 1000): "),
            PromptKind::Explain => "explain code (or two to compare): ".to_string(),
            PromptKind::Compare(a) => format!("compare {a} with code: "),
            PromptKind::CloseMarked(n) => {
                format!("close {n} marked sessions with code [reason] (default 1000): ")
            }
            PromptKind::NextClose => "next close with code: ".to_string(),
            PromptKind::GotoTime => "go to time (14:03:12, +2m30s, -10s): ".to_string(),
            PromptKind::Search => "search every session's messages (regex): ".to_string(),
            PromptKind::MessageFilter => "messages matching (regex, empty: all): ".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_accepts_a_ws_url_and_an_optional_count() {
        assert_eq!(
            parse_add("ws://127.0.0.1:9001/echo 25"),
            Ok(Command::AddSessions {
                url: "ws://127.0.0.1:9001/echo".to_string(),
                count: 25
            })
        );
        assert_eq!(
            parse_add("  wss://example.test/feed "),
            Ok(Command::AddSessions {
                url: "wss://example.test/feed".to_string(),
                count: 1
            })
        );
        assert!(parse_add(&format!("ws://h/x {MAX_ADD}")).is_ok());
    }

    #[test]
    fn add_refuses_what_the_url_parser_refuses_and_bad_counts() {
        for (input, needle) in [
            ("", "URL"),
            ("   ", "URL"),
            ("http://h/x 2", "use ws:// or wss://"),
            ("ws://h/x#frag", "#fragment"),
            ("ws://", "not a valid URL"),
            ("not a url", "not a valid URL"),
            ("ws://h/x 0", "invalid count"),
            ("ws://h/x 10001", "invalid count"),
            ("ws://h/x -1", "invalid count"),
            ("ws://h/x many", "invalid count"),
            ("ws://h/x 2 3", "unexpected '3'"),
        ] {
            let e = parse_add(input).expect_err(input);
            assert!(e.contains(needle), "{input}: {e}");
        }
        // The same message as the CLI's, secrets redacted.
        let e = parse_add("https://user:hunter2@h/x").expect_err("https");
        assert_eq!(
            Err(e.clone()),
            parse_ws_url("https://user:hunter2@h/x").map_err(|e| e.to_string())
        );
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn close_accepts_sendable_codes_and_a_reason() {
        assert_eq!(
            parse_close("", 3),
            Ok(Command::Close {
                session: 3,
                code: 1000,
                reason: String::new()
            })
        );
        assert_eq!(
            parse_close("  4000   going for maintenance ", 3),
            Ok(Command::Close {
                session: 3,
                code: 4000,
                reason: "going for maintenance".to_string()
            })
        );
        for code in [1000, 1003, 1007, 1014, 3000, 4999] {
            assert!(parse_close(&code.to_string(), 1).is_ok(), "{code}");
        }
        let reason = "x".repeat(MAX_REASON);
        assert!(parse_close(&format!("1000 {reason}"), 1).is_ok());
    }

    #[test]
    fn close_refuses_unsendable_codes_non_numbers_and_long_reasons() {
        for code in ["1005", "1006", "1015", "999", "0", "2000", "1004", "1016"] {
            let e = parse_close(code, 3).expect_err(code);
            assert!(e.contains("cannot be sent"), "{code}: {e}");
        }
        // Not a close code at all: the codes parser's own message.
        for input in ["abc", "65536", "+1000", "-1", "10.5", "99999999999"] {
            let e = parse_close(input, 3).expect_err(input);
            assert!(e.contains("0-65535"), "{input}: {e}");
        }
        for code in ["5000", "65535"] {
            let e = parse_close(code, 3).expect_err(code);
            assert!(e.contains("cannot be sent"), "{code}: {e}");
        }
        let long = format!("1000 {}", "x".repeat(MAX_REASON + 1));
        assert!(
            parse_close(&long, 3)
                .expect_err("too long")
                .contains("at most 123")
        );
    }

    #[test]
    fn codes_accepts_one_or_two_codes() {
        assert_eq!(parse_codes("1013"), Ok((1013, None)));
        assert_eq!(parse_codes(" 1010  1013 "), Ok((1010, Some(1013))));
        // Codes that are never sent can still be explained.
        assert_eq!(parse_codes("0 1006"), Ok((0, Some(1006))));
        assert_eq!(parse_codes("4999"), Ok((4999, None)));
        assert_eq!(parse_codes("5000"), Ok((5000, None)));
    }

    #[test]
    fn codes_refuses_other_counts_and_non_codes() {
        for input in ["", "  ", "1000 1001 1002"] {
            let e = parse_codes(input).expect_err(input);
            assert!(e.contains("one close code, or two"), "{input}: {e}");
        }
        for input in ["65536", "abc", "1000 x", "-5", "1e3"] {
            let e = parse_codes(input).expect_err(input);
            assert!(e.contains("0-65535"), "{input}: {e}");
        }
    }
}
