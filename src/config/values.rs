//! The values a target is made of, parsed from flags or the file: headers (with `${ENV}`
//! expansion), subprotocols, URLs and extension offers.

use super::{ConfigError, invalid};
use crate::protocol::extensions::{self, Extension};
use crate::protocol::handshake;
use crate::redact::escape_control;
use url::Url;

/// Parse a `--header 'K: V'` value. Every quoted piece of it is escaped in errors.
pub fn parse_header_arg(s: &str) -> Result<(String, String), ConfigError> {
    let (k, v) = s.split_once(':').ok_or_else(|| {
        invalid(format!(
            "header '{}' must look like 'Name: value'",
            escape_control(s)
        ))
    })?;
    let k = k.trim();
    handshake::validate_header_name(k).map_err(|e| invalid(e.to_string()))?;
    // Only spaces and tabs around the value are trimmed: a CR or LF there is refused.
    let v = v.trim_matches([' ', '\t']);
    handshake::validate_header_value(k, v).map_err(|e| invalid(e.to_string()))?;
    const RESERVED: [&str; 6] = [
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
    ];
    if RESERVED.iter().any(|r| k.eq_ignore_ascii_case(r)) {
        return Err(invalid(format!(
            "header '{k}' is set by wsmon itself (use --offer for extensions)"
        )));
    }
    Ok((k.to_string(), v.to_string()))
}

/// Replace every `${NAME}` in a config file header value with the environment variable NAME
/// (so secrets need not live in the file). `$$` is a literal `$`; a variable that is unset,
/// or a `${` without its `}`, is an error naming it.
pub fn expand_env(value: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    expand(value, &lookup, false)
}

/// [`expand_env`], and also the scripts' template form `{env.NAME}`: for the strings of a
/// target's `protocol_options`, which users write either way.
pub fn expand_env_or_template(
    value: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    expand(value, &lookup, true)
}

fn expand(
    value: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    templates: bool,
) -> Result<String, String> {
    let var = |name: &str, shown: &dyn Fn(&str) -> String| -> Result<String, String> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "'{}' is not an environment variable name (letters, digits, _)",
                shown(&escape_control(name))
            ));
        }
        lookup(name).ok_or_else(|| format!("environment variable {name} is not set"))
    };
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    loop {
        let dollar = rest.find('$');
        let template = rest.find("{env.").filter(|_| templates);
        let pos = match (dollar, template) {
            (Some(d), Some(t)) => d.min(t),
            (Some(p), None) | (None, Some(p)) => p,
            (None, None) => break,
        };
        out.push_str(&rest[..pos]);
        if template == Some(pos) {
            let tail = &rest[pos + "{env.".len()..];
            let end = tail
                .find('}')
                .ok_or_else(|| "'{env.' without its closing '}'".to_string())?;
            out.push_str(&var(&tail[..end], &|n| format!("{{env.{n}}}"))?);
            rest = &tail[end + 1..];
            continue;
        }
        let after = &rest[pos + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let end = tail.find('}').ok_or_else(|| {
                format!(
                    "'${{' without a closing '}}' in '{}'",
                    escape_control(value)
                )
            })?;
            out.push_str(&var(&tail[..end], &|n| format!("${{{n}}}"))?);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// A header line from the config file: `${NAME}` expanded, then checked like `--header`.
pub(super) fn parse_file_header(
    s: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(String, String), ConfigError> {
    let expanded =
        expand_env(s, lookup).map_err(|e| invalid(format!("header in the config file: {e}")))?;
    parse_header_arg(&expanded)
}

/// Every subprotocol must be an RFC 6455 token.
pub(super) fn check_subprotocols(list: &[String]) -> Result<(), ConfigError> {
    for p in list {
        handshake::validate_subprotocol(p).map_err(|e| invalid(e.to_string()))?;
    }
    Ok(())
}

/// Parse and check a ws:// or wss:// URL (the one parser, in `protocol::url`).
pub fn parse_url(s: &str) -> Result<Url, ConfigError> {
    crate::protocol::url::parse_ws_url(s).map_err(|e| ConfigError::Invalid(e.0))
}

pub(super) fn parse_offers(list: &[String]) -> Result<Vec<Extension>, ConfigError> {
    let mut out = Vec::new();
    for o in list {
        let shown = escape_control(o);
        let exts =
            extensions::parse_header(o).map_err(|e| invalid(format!("offer '{shown}': {e}")))?;
        for e in &exts {
            extensions::check_offer(e)
                .map_err(|problems| invalid(format!("offer '{shown}': {}", problems.join("; "))))?;
        }
        out.extend(exts);
    }
    Ok(out)
}

pub(super) fn parse_headers(list: &[String]) -> Result<Vec<(String, String)>, ConfigError> {
    list.iter().map(|h| parse_header_arg(h)).collect()
}

pub(super) fn parse_file_headers(list: &[String]) -> Result<Vec<(String, String)>, ConfigError> {
    list.iter()
        .map(|h| parse_file_header(h, |n| std::env::var(n).ok()))
        .collect()
}
