//! The one parser of target URLs: the CLI, the config file, the TUI's `a` prompt and the
//! supervisor all call [`parse_ws_url`], so they accept and refuse the same things.

use url::Url;

/// Why a target URL cannot be used. The message names the URL with its secrets redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UrlError(pub String);

/// Parse and check a `ws://` or `wss://` URL (RFC 6455 section 3: a host, no fragment).
pub fn parse_ws_url(s: &str) -> Result<Url, UrlError> {
    // The URL is user input (a file, a prompt): escaped before it is quoted.
    let shown = || crate::redact::escape_control(&crate::redact::url(s));
    let url = Url::parse(s.trim()).map_err(|e| {
        UrlError(format!(
            "'{}' is not a valid URL: {e} (expected ws://host[:port]/path or wss://...)",
            shown()
        ))
    })?;
    match url.scheme() {
        "ws" | "wss" => {}
        other => {
            return Err(UrlError(format!(
                "'{}': scheme '{other}' is not supported; use ws:// or wss://",
                shown()
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError(format!("'{}' has no host", shown())));
    }
    if url.fragment().is_some() {
        return Err(UrlError(format!(
            "'{}': WebSocket URLs must not have a #fragment (RFC 6455 section 3)",
            shown()
        )));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ws_and_wss_with_a_host() {
        assert!(parse_ws_url("ws://127.0.0.1:9001/echo").is_ok());
        assert!(parse_ws_url(" wss://example.test/x?y=1 ").is_ok());
    }

    #[test]
    fn refuses_other_schemes_fragments_and_garbage_and_redacts() {
        let e = parse_ws_url("http://h/").expect_err("http");
        assert!(e.0.contains("scheme 'http'"), "{e}");
        assert!(parse_ws_url("ws://h/#frag").is_err());
        assert!(parse_ws_url("not a url").is_err());
        let e = parse_ws_url("ftp://user:hunter2@h/").expect_err("ftp");
        assert!(!e.0.contains("hunter2"), "{e}");
        // The fragment is quoted in the error: its secrets are not (issue 19 section 5).
        let e = parse_ws_url("ws://h/feed#token=FRAGSECRET;x=1").expect_err("fragment");
        assert!(
            e.0.contains("#fragment") && !e.0.contains("FRAGSECRET"),
            "{e}"
        );
    }

    #[test]
    fn errors_quote_urls_with_control_characters_escaped() {
        for bad in [
            "ws://h/\u{1b}]0;x\u{7}#frag",
            "\u{1b}[31mnot a url",
            "http://h/\u{1b}[2J",
            "ws://\u{0}\u{1b}",
        ] {
            let e = parse_ws_url(bad).expect_err(bad);
            assert!(!e.0.chars().any(char::is_control), "{bad:?}: {e}");
        }
    }
}
