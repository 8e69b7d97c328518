//! Secrets never reach the screen or an export: credentials in URLs, and the values of headers
//! and query parameters whose names look secret, are replaced by [`REDACTED`].
//!
//! A name looks secret when it is `Cookie`, `Set-Cookie`, `Authorization` or
//! `Proxy-Authorization`, when it is named with `--redact`, or when one of its segments matches
//! a secret word. Names are split into segments at `-`, `_`, `.` and case changes
//! (`X-Api-Key` -> x, api, key; `sessionId` -> session, id; `APIKey` -> api, key). The short
//! words `key`, `auth`, `sig`, `pass` and `pwd` must be a whole segment (so `monkey`, `author`,
//! `design` and `passage` stay visible); so must `apikey` and `authorization`. The longer words `token`, `secret`, `password`,
//! `passwd`, `session`, `signature`, `credential` and `jwt` may be any part of a segment
//! (`accesstoken`, `clientsecret`, `sessionid`). `Sec-WebSocket-Key` and `Sec-WebSocket-Accept`
//! are protocol nonces, not secrets. `--show-secrets` turns all of it off except URL userinfo
//! (`user:password@`), which is always replaced.
//!
//! The process-wide rules are set once at start ([`install`]); the free functions use them.

use std::sync::OnceLock;

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Header names that are always secret (compared case-insensitively).
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// Words that make a name secret when they are a whole segment.
const SEGMENT_WORDS: [&str; 7] = [
    "key",
    "auth",
    "sig",
    "apikey",
    "authorization",
    "pass",
    "pwd",
];

/// Words that make a name secret when a segment contains them.
const CONTAINED_WORDS: [&str; 8] = [
    "token",
    "secret",
    "password",
    "passwd",
    "session",
    "signature",
    "credential",
    "jwt",
];

/// Header names that match a word but are protocol values, not secrets.
const NOT_SECRET_HEADERS: [&str; 2] = ["sec-websocket-key", "sec-websocket-accept"];

/// Which names are secret. `Default` is the built-in rule set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    /// More names to redact (`--redact NAME`), compared whole and case-insensitively.
    pub extra: Vec<String>,
    /// `--show-secrets`: redact nothing but URL userinfo.
    pub show_secrets: bool,
}

/// The name split at `-`, `_`, `.`, other punctuation and case changes, lowercased.
fn segments(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // "apiKey": lower -> Upper; "APIKey": the K starts "Key" after the acronym.
            if prev.is_lowercase() || prev.is_numeric() || (prev.is_uppercase() && next_lower) {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a header or query parameter name looks secret by the built-in word rules.
pub fn is_secret_name(name: &str) -> bool {
    // Every handshake asks this of each header it records: ASCII names (all HTTP header names)
    // are split without allocating.
    if let Some(secret) = ascii_any_segment(name.as_bytes(), is_secret_segment) {
        return secret;
    }
    segments(name).iter().any(|seg| is_secret_segment(seg))
}

fn is_secret_segment(seg: &str) -> bool {
    SEGMENT_WORDS.contains(&seg) || CONTAINED_WORDS.iter().any(|w| seg.contains(w))
}

/// [`segments`] for an ASCII name of at most 64 bytes, without allocating: whether `f` holds
/// for any segment. `None` when the name is not such a name.
fn ascii_any_segment(name: &[u8], f: impl Fn(&str) -> bool) -> Option<bool> {
    const MAX: usize = 64;
    if name.len() > MAX || !name.is_ascii() {
        return None;
    }
    let mut buf = [0u8; MAX];
    let mut len = 0;
    let seg = |buf: &[u8]| std::str::from_utf8(buf).is_ok_and(&f);
    for (i, &c) in name.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if len > 0 && seg(&buf[..len]) {
                return Some(true);
            }
            len = 0;
            continue;
        }
        if c.is_ascii_uppercase() && len > 0 {
            let prev = name[i - 1];
            let next_lower = name.get(i + 1).is_some_and(u8::is_ascii_lowercase);
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                if seg(&buf[..len]) {
                    return Some(true);
                }
                len = 0;
            }
        }
        buf[len] = c.to_ascii_lowercase();
        len += 1;
    }
    Some(len > 0 && seg(&buf[..len]))
}

impl Redactor {
    /// A query parameter (or any named value) whose value must not be shown.
    pub fn is_secret_param(&self, name: &str) -> bool {
        !self.show_secrets
            && (is_secret_name(name) || self.extra.iter().any(|e| e.eq_ignore_ascii_case(name)))
    }

    /// A header whose value must not be shown.
    pub fn is_secret_header(&self, name: &str) -> bool {
        if self.show_secrets
            || NOT_SECRET_HEADERS
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h))
        {
            return false;
        }
        SECRET_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) || self.is_secret_param(name)
    }

    /// The header value as it may be shown.
    pub fn header_value<'a>(&self, name: &str, value: &'a str) -> &'a str {
        if self.is_secret_header(name) {
            REDACTED
        } else {
            value
        }
    }

    /// A URL with any `user:password@` replaced by `<redacted>@` and the values of secret query
    /// parameters replaced. Strings that do not parse as URLs get their userinfo cut.
    pub fn url(&self, raw: &str) -> String {
        match url::Url::parse(raw) {
            Ok(mut u) => {
                let had_userinfo = !u.username().is_empty() || u.password().is_some();
                if had_userinfo {
                    let _ = u.set_username("");
                    let _ = u.set_password(None);
                }
                let secret_query = u.query_pairs().any(|(k, _)| self.is_secret_param(&k));
                if secret_query {
                    let pairs: Vec<(String, String)> = u
                        .query_pairs()
                        .map(|(k, v)| {
                            let v = if self.is_secret_param(&k) {
                                REDACTED.to_string()
                            } else {
                                v.into_owned()
                            };
                            (k.into_owned(), v)
                        })
                        .collect();
                    u.query_pairs_mut().clear().extend_pairs(pairs);
                }
                let s = u.to_string();
                if had_userinfo {
                    // A visible marker after the scheme: the user sees credentials existed.
                    if let Some(pos) = s.find("://") {
                        return format!("{}{}@{}", &s[..pos + 3], REDACTED, &s[pos + 3..]);
                    }
                }
                s
            }
            Err(_) => match (raw.find("://"), raw.rfind('@')) {
                (Some(p), Some(at)) if at > p => {
                    format!("{}{}@{}", &raw[..p + 3], REDACTED, &raw[at + 1..])
                }
                _ => raw.to_string(),
            },
        }
    }
}

static POLICY: OnceLock<Redactor> = OnceLock::new();

/// Set the process-wide rules (`--redact`, `--show-secrets`). Only the first call counts;
/// returns false if rules were already in force.
pub fn install(rules: Redactor) -> bool {
    POLICY.set(rules).is_ok()
}

/// The rules in force: those installed, or the built-in ones.
pub fn policy() -> &'static Redactor {
    POLICY.get_or_init(Redactor::default)
}

/// Headers whose values are secrets, under the rules in force.
pub fn is_secret_header(name: &str) -> bool {
    policy().is_secret_header(name)
}

/// The header value as it may be shown, under the rules in force.
pub fn header_value<'a>(name: &str, value: &'a str) -> &'a str {
    policy().header_value(name, value)
}

/// The URL as it may be shown, under the rules in force (see [`Redactor::url`]).
pub fn url(raw: &str) -> String {
    policy().url(raw)
}

/// Escape control characters (and the escape character itself) so a remote-supplied string is
/// safe to draw in a terminal or put in a CSV cell: `\n`, `\t`, `\x1b` ... become visible text.
pub fn escape_control(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// [`escape_control`] line by line: multi-line messages (a parser's excerpt with a caret
/// under it) keep their line breaks, and nothing else reaches the terminal raw.
pub fn escape_control_lines(s: &str) -> String {
    s.split('\n')
        .map(|l| escape_control(l.strip_suffix('\r').unwrap_or(l)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Raw bytes from a peer as text safe to show: lossily decoded, control characters escaped.
pub fn escape_bytes(b: &[u8]) -> String {
    escape_control(&String::from_utf8_lossy(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_are_redacted() {
        let r = url("wss://alice:s3cret@example.com:8443/feed?x=1");
        assert!(!r.contains("s3cret") && !r.contains("alice"), "{r}");
        assert!(
            r.starts_with("wss://<redacted>@example.com:8443/feed"),
            "{r}"
        );
    }

    #[test]
    fn token_query_is_redacted() {
        let r = url("ws://h/p?token=abc&room=1&api_key=zzz");
        assert!(!r.contains("abc") && !r.contains("zzz"), "{r}");
        assert!(r.contains("room=1"), "{r}");
    }

    #[test]
    fn plain_url_unchanged() {
        assert_eq!(url("ws://127.0.0.1:9001/echo"), "ws://127.0.0.1:9001/echo");
        // A query without secrets keeps its exact spelling (no re-encoding).
        assert_eq!(url("ws://h/p?a=b%20c&d"), "ws://h/p?a=b%20c&d");
    }

    #[test]
    fn secret_headers() {
        assert_eq!(header_value("authorization", "Bearer x"), REDACTED);
        assert_eq!(header_value("Set-Cookie", "a=b"), REDACTED);
        assert_eq!(header_value("Host", "h"), "h");
    }

    #[test]
    fn names_that_are_secret() {
        for name in [
            "token",
            "access_token",
            "id_token",
            "idToken",
            "refresh-token",
            "jwt",
            "session_id",
            "sessionId",
            "SESSION",
            "X-Api-Key",
            "apiKey",
            "APIKey",
            "apikey",
            "api_key",
            "key",
            "X-Amz-Signature",
            "sig",
            "X-Goog-Sig",
            "password",
            "passwd",
            "db.password",
            "client_secret",
            "clientSecret",
            "X-Auth-Token",
            "auth",
            "x-auth",
            "credentials",
            "AWSAccessKeyId",
            "X-Session",
            "authorization",
            "pass",
            "db_pwd",
        ] {
            assert!(is_secret_name(name), "{name} should be secret");
            assert!(Redactor::default().is_secret_header(name), "{name} header");
        }
    }

    #[test]
    fn ascii_names_split_as_the_general_rule_does() {
        for name in [
            "X-Api-Key",
            "sessionId",
            "APIKey",
            "AWSAccessKeyId",
            "db_pwd",
            "a1B",
            "9Key",
            "--x--",
            "",
            "Sec-WebSocket-Key",
            "HTTPServerURLToken",
            "abcDEFgh",
        ] {
            let slow = segments(name).iter().any(|seg| is_secret_segment(seg));
            assert_eq!(
                ascii_any_segment(name.as_bytes(), is_secret_segment),
                Some(slow),
                "{name}"
            );
            let all: Vec<String> = segments(name);
            let seen = std::cell::RefCell::new(Vec::new());
            ascii_any_segment(name.as_bytes(), |s| {
                seen.borrow_mut().push(s.to_string());
                false
            });
            assert_eq!(seen.into_inner(), all, "{name}");
        }
        assert_eq!(ascii_any_segment("clé".as_bytes(), is_secret_segment), None);
        assert_eq!(ascii_any_segment(&[b'a'; 65], is_secret_segment), None);
    }

    /// Random ASCII names: the allocation-free split sees exactly the general rule's segments.
    #[test]
    fn random_ascii_names_split_as_the_general_rule_does() {
        use proptest::prelude::*;
        let alphabet: Vec<char> = "aBkY9_.-Z".chars().collect();
        let names = proptest::collection::vec(proptest::sample::select(alphabet), 0..70)
            .prop_map(|v| v.into_iter().collect::<String>());
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        runner
            .run(&names, |name| {
                let seen = std::cell::RefCell::new(Vec::new());
                let fast = ascii_any_segment(name.as_bytes(), |s| {
                    seen.borrow_mut().push(s.to_string());
                    false
                });
                if name.len() > 64 {
                    prop_assert_eq!(fast, None);
                } else {
                    prop_assert_eq!(seen.into_inner(), segments(&name));
                }
                Ok(())
            })
            .expect("the two splits agree");
    }

    #[test]
    fn names_that_are_not_secret() {
        for name in [
            "design",
            "designId",
            "signal",
            "sigma",
            "monkey",
            "keyboard",
            "hockey_team",
            "author",
            "authority",
            "room",
            "id",
            "Host",
            "User-Agent",
            "Keep-Alive",
            "Accept",
            "Origin",
            "x-request-id",
            "passage",
            "compass",
            "authors",
        ] {
            assert!(!is_secret_name(name), "{name} should not be secret");
            assert!(!Redactor::default().is_secret_header(name), "{name} header");
        }
        // Protocol nonces contain "key" but are not credentials.
        assert!(!Redactor::default().is_secret_header("Sec-WebSocket-Key"));
        assert!(!Redactor::default().is_secret_header("sec-websocket-accept"));
    }

    #[test]
    fn issue_names_are_redacted_in_urls() {
        let r = url("ws://h/p?jwt=J&session_id=S&id_token=I&design=D&sig=G&room=1");
        for secret in ["=J", "=S", "=I", "=G"] {
            assert!(!r.contains(secret), "{secret} in {r}");
        }
        assert!(r.contains("design=D") && r.contains("room=1"), "{r}");
    }

    #[test]
    fn extra_names_and_show_secrets() {
        let r = Redactor {
            extra: vec!["Tenant".into()],
            show_secrets: false,
        };
        assert_eq!(r.header_value("tenant", "acme"), REDACTED);
        assert_eq!(r.header_value("tenant-id", "acme"), "acme");
        assert!(
            r.url("ws://h/?tenant=acme&x=1")
                .contains("tenant=%3Credacted%3E")
        );

        let open = Redactor {
            extra: vec!["tenant".into()],
            show_secrets: true,
        };
        assert_eq!(open.header_value("Authorization", "Bearer x"), "Bearer x");
        assert_eq!(open.header_value("tenant", "acme"), "acme");
        let u = open.url("ws://u:pw@h/?token=abc");
        assert!(u.contains("token=abc"), "{u}");
        assert!(
            !u.contains("pw") && u.contains(REDACTED),
            "userinfo stays hidden: {u}"
        );
    }

    #[test]
    fn segments_split_at_separators_and_case() {
        assert_eq!(segments("X-Api-Key"), ["x", "api", "key"]);
        assert_eq!(segments("sessionId"), ["session", "id"]);
        assert_eq!(segments("APIKey"), ["api", "key"]);
        assert_eq!(segments("db.pass_word"), ["db", "pass", "word"]);
        assert_eq!(segments("oauth2Token"), ["oauth2", "token"]);
    }

    #[test]
    fn control_characters_escaped() {
        assert_eq!(escape_control("a\nb\x1b[31m"), "a\\nb\\u{1b}[31m");
        assert_eq!(escape_bytes(b"\x07x\xff"), "\\u{7}x\u{fffd}");
        assert_eq!(escape_control_lines("a\x1b\r\n  ^\n"), "a\\u{1b}\n  ^\n");
    }
}
