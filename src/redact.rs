//! Secrets never reach the screen or an export: credentials in URLs and the values of
//! `Authorization`, `Proxy-Authorization`, `Cookie` and `Set-Cookie` headers are replaced.

/// What a secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Headers whose values are secrets.
pub fn is_secret_header(name: &str) -> bool {
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// The header value as it may be shown.
pub fn header_value<'a>(name: &str, value: &'a str) -> &'a str {
    if is_secret_header(name) {
        REDACTED
    } else {
        value
    }
}

/// A URL with any `user:password@` replaced by `<redacted>@`, and secret-looking query
/// parameters (token, key, password, secret, auth, signature, access_token) masked.
/// Works on strings that do not parse as URLs too (they are returned with userinfo cut).
pub fn url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            let had_userinfo = !u.username().is_empty() || u.password().is_some();
            if had_userinfo {
                let _ = u.set_username("");
                let _ = u.set_password(None);
            }
            if u.query().is_some() {
                let pairs: Vec<(String, String)> = u
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if is_secret_param(&k) {
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
                // Re-insert a visible marker after the scheme so the user sees credentials existed.
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

fn is_secret_param(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    [
        "token",
        "key",
        "password",
        "passwd",
        "secret",
        "auth",
        "signature",
        "sig",
        "access_token",
        "apikey",
        "api_key",
    ]
    .iter()
    .any(|s| k == *s || k.ends_with(&format!("_{s}")))
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
    }

    #[test]
    fn secret_headers() {
        assert_eq!(header_value("authorization", "Bearer x"), REDACTED);
        assert_eq!(header_value("Set-Cookie", "a=b"), REDACTED);
        assert_eq!(header_value("Host", "h"), "h");
    }

    #[test]
    fn control_characters_escaped() {
        assert_eq!(escape_control("a\nb\x1b[31m"), "a\\nb\\u{1b}[31m");
    }
}
