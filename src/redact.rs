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
//! Some secrets have a shape whatever their name: a JWT (`eyJ...`, three dot-separated base64url
//! parts) and the bearer token Kubernetes carries in `Sec-WebSocket-Protocol`
//! (`base64url.bearer.authorization.k8s.io.<token>`) are redacted in every value shown
//! ([`scrub_shapes`]). Query parameters are split at `&` and `;`, in the query and in a
//! `#fragment`.
//!
//! Servers echo requests (error pages, close reasons): the values wsmon itself sent as secrets
//! ([`Secrets`]) are replaced wherever they appear in recorded bytes.
//!
//! The process-wide rules are set once at start ([`install`]); the free functions use them.

use std::borrow::Cow;
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

    /// The header value as it may be shown: redacted whole under a secret name, else with
    /// secret shapes (a JWT, a Kubernetes bearer subprotocol) redacted.
    pub fn header_value<'a>(&self, name: &str, value: &'a str) -> Cow<'a, str> {
        if self.is_secret_header(name) {
            Cow::Borrowed(REDACTED)
        } else {
            self.shapes(value)
        }
    }

    /// [`scrub_shapes`], unless secrets are shown.
    pub fn shapes<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.show_secrets {
            Cow::Borrowed(text)
        } else {
            scrub_shapes(text)
        }
    }

    /// `a=1&token=x;b=2` with the values of secret names (and JWT-shaped values) replaced by
    /// `%3Credacted%3E`; every other byte kept as written.
    fn redact_pairs<'a>(&self, pairs: &'a str) -> Cow<'a, str> {
        if self.show_secrets {
            return Cow::Borrowed(pairs);
        }
        let mut out = String::with_capacity(pairs.len());
        let mut changed = false;
        let mut at = 0;
        for piece in pairs.split(['&', ';']) {
            if at > 0 {
                // The separator that ended the previous piece, as written.
                out.push_str(&pairs[at - 1..at]);
            }
            at += piece.len() + 1;
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            if !value.is_empty() && self.is_secret_param(&percent_decode(name)) {
                out.push_str(name);
                out.push_str("=%3Credacted%3E");
                changed = true;
            } else {
                let shown = scrub_shapes(piece);
                changed |= matches!(shown, Cow::Owned(_));
                out.push_str(&shown);
            }
        }
        if changed {
            Cow::Owned(out)
        } else {
            Cow::Borrowed(pairs)
        }
    }

    /// The secret values a request carries (see [`Secrets`]): URL credentials (and the Basic
    /// token made of them), secret query values, secret header values, bearer subprotocols.
    /// With `--show-secrets`, the URL credentials only.
    pub fn secrets_of(
        &self,
        url: &url::Url,
        headers: &[(String, String)],
        subprotocols: &[String],
    ) -> Secrets {
        let mut found = Vec::new();
        let user = url.username();
        let pass = url.password().unwrap_or("");
        if !user.is_empty() || !pass.is_empty() {
            let (u, p) = (percent_decode(user), percent_decode(pass));
            found.extend([user.to_string(), pass.to_string()]);
            found.push(data_encoding::BASE64.encode(format!("{u}:{p}").as_bytes()));
            found.extend([u, p]);
        }
        if !self.show_secrets {
            for part in [url.query(), url.fragment()].into_iter().flatten() {
                for piece in part.split(['&', ';']) {
                    if let Some((name, value)) = piece.split_once('=')
                        && self.is_secret_param(&percent_decode(name))
                    {
                        found.push(value.to_string());
                        found.push(percent_decode(value));
                    }
                }
            }
            for (name, value) in headers {
                if self.is_secret_header(name) {
                    found.push(value.clone());
                    // `Bearer x`, `Basic x`: the credential alone; `a=b; c=d`: each value.
                    if let Some((_, credential)) = value.split_once(' ') {
                        found.push(credential.trim().to_string());
                    }
                    for cookie in value.split(';') {
                        if let Some((_, v)) = cookie.split_once('=') {
                            found.push(v.trim().to_string());
                        }
                    }
                }
            }
            for p in subprotocols {
                if let Some(at) = p.find(K8S_BEARER) {
                    found.push(p[at + K8S_BEARER.len()..].to_string());
                }
            }
        }
        Secrets::new(found, self.show_secrets)
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
                if let Some(Cow::Owned(q)) = u.query().map(|q| self.redact_pairs(q)) {
                    u.set_query(Some(&q));
                }
                if let Some(Cow::Owned(f)) = u.fragment().map(|f| self.redact_pairs(f)) {
                    u.set_fragment(Some(&f));
                }
                let s = self.shapes(u.as_str()).into_owned();
                if had_userinfo {
                    // A visible marker after the scheme: the user sees credentials existed.
                    if let Some(pos) = s.find("://") {
                        return format!("{}{}@{}", &s[..pos + 3], REDACTED, &s[pos + 3..]);
                    }
                }
                s
            }
            Err(_) => {
                let raw = self.shapes(raw);
                match (raw.find("://"), raw.rfind('@')) {
                    (Some(p), Some(at)) if at > p => {
                        format!("{}{}@{}", &raw[..p + 3], REDACTED, &raw[at + 1..])
                    }
                    _ => raw.into_owned(),
                }
            }
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
pub fn header_value<'a>(name: &str, value: &'a str) -> Cow<'a, str> {
    policy().header_value(name, value)
}

/// What precedes a Kubernetes bearer token carried as a subprotocol.
const K8S_BEARER: &str = "bearer.authorization.k8s.io.";

/// A base64url byte (JWT parts, Kubernetes tokens).
fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The length of the run of base64url bytes at the start of `b`.
fn b64url_run(b: &[u8]) -> usize {
    b.iter().position(|&c| !is_b64url(c)).unwrap_or(b.len())
}

/// The length of a JWT starting at `b` (`eyJ` + 7 or more base64url, `.`, a non-empty part,
/// `.`, an optional signature), or 0.
fn jwt_len(b: &[u8]) -> usize {
    if !b.starts_with(b"eyJ") {
        return 0;
    }
    let head = b64url_run(b);
    if head < 10 || b.get(head) != Some(&b'.') {
        return 0;
    }
    let body = b64url_run(&b[head + 1..]);
    let dot = head + 1 + body;
    if body < 2 || b.get(dot) != Some(&b'.') {
        return 0;
    }
    dot + 1 + b64url_run(&b[dot + 1..])
}

/// Secret shapes in any text: JWTs and Kubernetes bearer tokens (after
/// `base64url.bearer.authorization.k8s.io.`) become [`REDACTED`].
pub fn scrub_shapes(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !is_b64url(b[i - 1]);
        let span = if b[i..].starts_with(K8S_BEARER.as_bytes()) {
            let start = i + K8S_BEARER.len();
            let run = b[start..]
                .iter()
                .position(|&c| !(is_b64url(c) || c == b'='))
                .unwrap_or(b.len() - start);
            (run > 0).then_some((start, start + run))
        } else if boundary && b[i] == b'e' {
            let n = jwt_len(&b[i..]);
            (n > 0).then_some((i, i + n))
        } else {
            None
        };
        match span {
            Some((from, to)) => {
                out.push_str(&text[copied..from]);
                out.push_str(REDACTED);
                copied = to;
                i = to;
            }
            None => i += 1,
        }
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// `%41b+c` -> `Ab c` (form decoding, lossy).
fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Secret values wsmon sent, to be replaced wherever a peer echoes them (an error page that
/// prints the request, a close reason, a header). Values shorter than [`MIN_SECRET_LEN`] are
/// left out: they would blank out ordinary words; they stay redacted where they are named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// Longest first, so a value that contains another is replaced whole.
    values: Vec<String>,
    show_secrets: bool,
}

/// The shortest secret value looked for in recorded text.
pub const MIN_SECRET_LEN: usize = 4;

impl Secrets {
    fn new(mut values: Vec<String>, show_secrets: bool) -> Self {
        values.retain(|v| v.len() >= MIN_SECRET_LEN && v != REDACTED);
        values.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        values.dedup();
        Secrets {
            values,
            show_secrets,
        }
    }

    /// The secret values of a request under the rules in force ([`Redactor::secrets_of`]).
    pub fn of_request(
        url: &url::Url,
        headers: &[(String, String)],
        subprotocols: &[String],
    ) -> Self {
        policy().secrets_of(url, headers, subprotocols)
    }

    /// `text` with every known secret value, and every secret shape, replaced by [`REDACTED`].
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = Cow::Owned(out.replace(v.as_str(), REDACTED));
            }
        }
        if self.show_secrets {
            return out;
        }
        match scrub_shapes(&out) {
            Cow::Owned(s) => Cow::Owned(s),
            Cow::Borrowed(_) => out,
        }
    }
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

/// The index just past the JSON string that starts at `b[start]` (a `"`), or `None` when it
/// does not end.
fn json_string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The index just past the JSON value that starts at `b[start]`; the end of `b` when it is
/// cut (a string, object or array that does not end there).
fn json_value_end(b: &[u8], start: usize) -> usize {
    match b.get(start) {
        Some(b'"') => json_string_end(b, start).unwrap_or(b.len()),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = start;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = json_string_end(b, i).unwrap_or(b.len());
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            b.len()
        }
        _ => {
            let rest = &b[start..];
            start
                + rest
                    .iter()
                    .position(|c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace())
                    .unwrap_or(rest.len())
        }
    }
}

/// A JSON text (or the start of one, or any text holding `"name": value` pairs) with the value
/// of every field whose name is secret (the header rules in force: `{"token": "..."}`,
/// `{"password": ...}`, `--redact NAME`) replaced by `"<redacted>"`, nested values whole. The
/// rest of the text is kept as it was (no reordering); a value cut short is redacted to the
/// end. Used for what a script sent or heard before it reaches an event or a screen.
pub fn json_secrets(text: &str) -> Cow<'_, str> {
    let rules = policy();
    if rules.show_secrets || !text.contains('"') {
        return Cow::Borrowed(text);
    }
    let b = text.as_bytes();
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'"' {
            i += 1;
            continue;
        }
        let Some(end) = json_string_end(b, i) else {
            break;
        };
        let mut j = end;
        while b.get(j).is_some_and(|c| c.is_ascii_whitespace()) {
            j += 1;
        }
        if b.get(j) != Some(&b':') || !rules.is_secret_header(&text[i + 1..end - 1]) {
            i = end;
            continue;
        }
        j += 1;
        while b.get(j).is_some_and(|c| c.is_ascii_whitespace()) {
            j += 1;
        }
        let value_end = json_value_end(b, j);
        if value_end > j {
            out.push_str(&text[copied..j]);
            out.push('"');
            out.push_str(REDACTED);
            out.push('"');
            copied = value_end;
        }
        i = value_end.max(end);
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_secret_fields_are_redacted_in_place() {
        let r = Redactor::default();
        assert!(!r.show_secrets);
        let cases = [
            (
                r#"{"type":"auth","token":"abc","n":1}"#,
                r#"{"type":"auth","token":"<redacted>","n":1}"#,
            ),
            (
                r#"{"password" : 12, "user":"ada", "apiKey":{"a":[1,"}"]},"x":"token"}"#,
                r#"{"password" : "<redacted>", "user":"ada", "apiKey":"<redacted>","x":"token"}"#,
            ),
            (
                r#"{"s":"a \"token\":1","ok":true}"#,
                r#"{"s":"a \"token\":1","ok":true}"#,
            ),
            (
                r#"{"a":{"clientSecret":null}}"#,
                r#"{"a":{"clientSecret":"<redacted>"}}"#,
            ),
            (r#"{"jwt":"eyJhbGciOi"#, r#"{"jwt":"<redacted>""#),
            ("not json at all", "not json at all"),
            (
                r#"{"author":"x","monkey":2}"#,
                r#"{"author":"x","monkey":2}"#,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(json_secrets(text), want, "{text}");
        }
        assert!(matches!(json_secrets(r#"{"a":1}"#), Cow::Borrowed(_)));
    }

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

    const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlX2hlcmU";

    #[test]
    fn jwt_and_kubernetes_bearer_shapes_are_redacted_under_any_name() {
        assert_eq!(scrub_shapes(JWT), REDACTED);
        assert_eq!(
            scrub_shapes(&format!("token was {JWT}, sorry")),
            "token was <redacted>, sorry"
        );
        // Unsigned JWTs end with a dot.
        assert_eq!(
            scrub_shapes("x eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0. y"),
            "x <redacted> y"
        );
        assert_eq!(
            scrub_shapes(
                "base64url.bearer.authorization.k8s.io.ZXlKaGJHY2lPaUpT, base64.channel.k8s.io"
            ),
            "base64url.bearer.authorization.k8s.io.<redacted>, base64.channel.k8s.io"
        );
        // Not secret: words, versions, short dotted names, base64 inside a longer run.
        for plain in [
            "eyJ",
            "eyJhbGciOiJIUzI1NiJ9",
            "eyJhbGciOiJIUzI1NiJ9.x",
            "v1.2.3",
            "keyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2ln",
            "permessage-deflate; client_max_window_bits",
        ] {
            assert_eq!(scrub_shapes(plain), plain);
        }
        let r = Redactor::default();
        assert_eq!(r.header_value("X-Thing", JWT), REDACTED);
        assert_eq!(
            r.header_value(
                "Sec-WebSocket-Protocol",
                "base64url.bearer.authorization.k8s.io.dG9rZW4"
            ),
            "base64url.bearer.authorization.k8s.io.<redacted>"
        );
        let shown = r.url(&format!("ws://h/feed?q={JWT}&room=1"));
        assert!(
            !shown.contains("c2lnbmF0dXJl") && shown.contains("room=1"),
            "{shown}"
        );
        let open = Redactor {
            show_secrets: true,
            ..Redactor::default()
        };
        assert_eq!(open.header_value("X-Thing", JWT), JWT);
    }

    #[test]
    fn parameters_after_a_semicolon_and_in_a_fragment_are_redacted() {
        let r = url("ws://h/p?x=1;token=SEMISECRET&room=7");
        assert!(!r.contains("SEMISECRET"), "{r}");
        assert!(r.contains("x=1;token=%3Credacted%3E&room=7"), "{r}");
        let r = url("ws://h/p#access_token=FRAGSECRET&state=ok");
        assert!(!r.contains("FRAGSECRET"), "{r}");
        assert!(r.ends_with("#access_token=%3Credacted%3E&state=ok"), "{r}");
        // Encoded names are decoded before the check; other pairs keep their spelling.
        let r = url("ws://h/p?a=b%20c&api%5Fkey=K1234&d");
        assert_eq!(r, "ws://h/p?a=b%20c&api%5Fkey=%3Credacted%3E&d");
    }

    #[test]
    fn the_secrets_a_request_carries_are_scrubbed_from_recorded_text() {
        let u = url::Url::parse("ws://alice:pa%24%24word@h/feed?room=7;token=tok%2B123&sig=S1GN")
            .expect("url");
        let headers = vec![
            (
                "Authorization".to_string(),
                "Bearer BEARERTOKEN".to_string(),
            ),
            ("Cookie".to_string(), "a=COOKIE1; b=COOKIE2".to_string()),
            ("X-Trace".to_string(), "visible".to_string()),
        ];
        let protocols = vec!["base64url.bearer.authorization.k8s.io.K8STOKEN".to_string()];
        let secrets = Redactor::default().secrets_of(&u, &headers, &protocols);
        let basic = data_encoding::BASE64.encode(b"alice:pa$$word");
        let page = format!(
            "GET /feed?room=7;token=tok%2B123&sig=S1GN HTTP/1.1\r\nAuthorization: Bearer BEARERTOKEN\r\n\
             Cookie: a=COOKIE1; b=COOKIE2\r\nX: {basic} alice pa$$word tok+123 K8STOKEN visible {JWT}"
        );
        let clean = secrets.scrub(&page);
        for secret in [
            "tok%2B123",
            "tok+123",
            "S1GN",
            "BEARERTOKEN",
            "COOKIE1",
            "COOKIE2",
            &basic,
            "alice",
            "pa$$word",
            "K8STOKEN",
            "c2lnbmF0dXJl",
        ] {
            assert!(!clean.contains(secret), "{secret} in {clean}");
        }
        assert!(
            clean.contains("room=7") && clean.contains("visible"),
            "{clean}"
        );
        // Nothing to do: the text is borrowed, not copied.
        assert!(matches!(
            secrets.scrub("HTTP/1.1 403 Forbidden"),
            Cow::Borrowed(_)
        ));
        // Too short to look for in free text (it would blank out words); still redacted by name.
        let short = Redactor::default().secrets_of(
            &url::Url::parse("ws://h/?token=ab").expect("url"),
            &[],
            &[],
        );
        assert_eq!(short.scrub("ab cd"), "ab cd");
        // --show-secrets: only the URL credentials remain secret.
        let open = Redactor {
            show_secrets: true,
            ..Redactor::default()
        }
        .secrets_of(&u, &headers, &protocols);
        let shown = open.scrub(&page);
        assert!(
            shown.contains("BEARERTOKEN") && !shown.contains("pa$$word"),
            "{shown}"
        );
    }

    /// Any secret value of four or more characters, wherever it sits in any text, is gone after
    /// a scrub.
    #[test]
    fn a_known_secret_never_survives_a_scrub() {
        use proptest::prelude::*;
        let secret = "[A-Z0-9]{4,24}";
        let text = "[ -~]{0,60}";
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        runner
            .run(&(secret, text, text), |(secret, before, after)| {
                let u = url::Url::parse(&format!("ws://h/?token={secret}")).expect("url");
                let secrets = Redactor::default().secrets_of(&u, &[], &[]);
                let page = format!("{before}{secret}{after}{secret}");
                let clean = secrets.scrub(&page);
                prop_assert!(!clean.contains(&secret), "{} in {}", secret, clean);
                Ok(())
            })
            .expect("no secret survives");
    }

    #[test]
    fn control_characters_escaped() {
        assert_eq!(escape_control("a\nb\x1b[31m"), "a\\nb\\u{1b}[31m");
        assert_eq!(escape_bytes(b"\x07x\xff"), "\\u{7}x\u{fffd}");
        assert_eq!(escape_control_lines("a\x1b\r\n  ^\n"), "a\\u{1b}\n  ^\n");
    }
}

#[cfg(test)]
mod json_secrets_tests {
    use super::json_secrets;

    #[test]
    fn secret_fields_are_redacted_at_any_depth_and_others_kept() {
        let text =
            r#"{"type":"auth","token":"abc123","user":{"name":"ann","password":"p\"w"},"n":1}"#;
        assert_eq!(
            json_secrets(text),
            r#"{"type":"auth","token":"<redacted>","user":{"name":"ann","password":"<redacted>"},"n":1}"#
        );
        let nested = r#"{"api_key": {"a": [1, "}"]}, "authorization" : 42, "ok": true}"#;
        assert_eq!(
            json_secrets(nested),
            r#"{"api_key": "<redacted>", "authorization" : "<redacted>", "ok": true}"#
        );
    }

    #[test]
    fn cut_and_non_json_text() {
        assert_eq!(
            json_secrets(r#"{"x":1,"secret":"abcdef"#),
            r#"{"x":1,"secret":"<redacted>""#
        );
        let plain = "hello \"token\" world: not a field";
        assert!(matches!(json_secrets(plain), std::borrow::Cow::Borrowed(_)));
        // A string value that looks like a pair is a value, not a field.
        let inner = r#"{"note":"\"token\": 5"}"#;
        assert_eq!(json_secrets(inner), inner);
    }
}
