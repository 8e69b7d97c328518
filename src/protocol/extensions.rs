//! `Sec-WebSocket-Extensions` (RFC 6455 section 9.1): parsing, formatting, and checking what a
//! server accepted against what the client offered and required.
//!
//! Grammar (RFC 6455 section 9.1, list rules of RFC 9110 section 5.6.1):
//!
//! ```text
//! Sec-WebSocket-Extensions = 1#extension
//! extension       = extension-token *( ";" extension-param )
//! extension-param = token [ "=" (token | quoted-string) ]
//!     ; a quoted-string value, once unescaped, must itself be a token
//! ```
//!
//! As in RFC 9110 (and Python `websockets`), empty list elements (`a, , b`) are skipped and
//! optional whitespace is accepted around `,`, `;` and `=`. Everything else is an error.
//!
//! The permessage-deflate rules (RFC 7692 section 7.1) live in [`check_response`] (client side)
//! and [`server_select`] (server side).

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use super::deflate::DeflateParams;

/// The registered name of RFC 7692 compression.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// The default offer: permessage-deflate with `client_max_window_bits` and
/// `client_no_context_takeover` (a compressor without context takeover keeps no window between
/// messages: small at 10k sessions).
pub const DEFAULT_OFFER: &str =
    "permessage-deflate; client_max_window_bits; client_no_context_takeover";

const SERVER_NO_CONTEXT_TAKEOVER: &str = "server_no_context_takeover";
const CLIENT_NO_CONTEXT_TAKEOVER: &str = "client_no_context_takeover";
const SERVER_MAX_WINDOW_BITS: &str = "server_max_window_bits";
const CLIENT_MAX_WINDOW_BITS: &str = "client_max_window_bits";

/// One extension with its parameters, in the order given.
///
/// Serialized as `{"name": "permessage-deflate", "params": {"client_max_window_bits": "12",
/// "server_no_context_takeover": true}}`: a parameter without a value is `true`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Extension {
    pub name: String,
    pub params: Vec<Param>,
}

/// `name` or `name=value` (value unquoted).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    pub value: Option<String>,
}

impl Extension {
    /// An extension without parameters.
    pub fn new(name: impl Into<String>) -> Self {
        Extension {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// Builder: append a parameter (`None` = no value).
    pub fn with_param(mut self, name: impl Into<String>, value: Option<&str>) -> Self {
        self.params.push(Param {
            name: name.into(),
            value: value.map(str::to_string),
        });
        self
    }

    /// `None` if the parameter is absent, `Some(None)` if present without a value,
    /// `Some(Some(v))` with a value. The first occurrence wins.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.as_deref())
    }

    /// True for `permessage-deflate`.
    pub fn is_deflate(&self) -> bool {
        self.name == PERMESSAGE_DEFLATE
    }
}

impl fmt::Display for Extension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for p in &self.params {
            write!(f, "; {}", p.name)?;
            if let Some(v) = &p.value {
                if is_token(v) {
                    write!(f, "={v}")?;
                } else {
                    f.write_str("=\"")?;
                    for c in v.chars() {
                        if c == '"' || c == '\\' {
                            f.write_str("\\")?;
                        }
                        write!(f, "{c}")?;
                    }
                    f.write_str("\"")?;
                }
            }
        }
        Ok(())
    }
}

impl Serialize for Extension {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Params<'a>(&'a [Param]);
        impl Serialize for Params<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for p in self.0 {
                    match &p.value {
                        Some(v) => map.serialize_entry(&p.name, v)?,
                        None => map.serialize_entry(&p.name, &true)?,
                    }
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("params", &Params(&self.params))?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Extension {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// A parameter value in the object form: a string, or `true` for "no value".
        struct ParamValue(Option<String>);
        impl<'de> Deserialize<'de> for ParamValue {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = ParamValue;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a string or true")
                    }
                    fn visit_bool<E: de::Error>(self, b: bool) -> Result<ParamValue, E> {
                        if b {
                            Ok(ParamValue(None))
                        } else {
                            Err(E::invalid_value(de::Unexpected::Bool(false), &self))
                        }
                    }
                    fn visit_str<E: de::Error>(self, s: &str) -> Result<ParamValue, E> {
                        Ok(ParamValue(Some(s.to_string())))
                    }
                    fn visit_u64<E: de::Error>(self, n: u64) -> Result<ParamValue, E> {
                        Ok(ParamValue(Some(n.to_string())))
                    }
                }
                d.deserialize_any(V)
            }
        }

        struct Params(Vec<Param>);
        impl<'de> Deserialize<'de> for Params {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Params;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("an object of extension parameters")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Params, A::Error> {
                        let mut out = Vec::new();
                        while let Some((name, ParamValue(value))) =
                            m.next_entry::<String, ParamValue>()?
                        {
                            out.push(Param { name, value });
                        }
                        Ok(Params(out))
                    }
                }
                d.deserialize_map(V)
            }
        }

        struct ExtVisitor;
        impl<'de> Visitor<'de> for ExtVisitor {
            type Value = Extension;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an extension object {\"name\": ..., \"params\": {...}}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Extension, A::Error> {
                let mut name: Option<String> = None;
                let mut params: Option<Vec<Param>> = None;
                while let Some(key) = m.next_key::<String>()? {
                    match key.as_str() {
                        "name" => {
                            if name.is_some() {
                                return Err(de::Error::duplicate_field("name"));
                            }
                            name = Some(m.next_value()?);
                        }
                        "params" => {
                            if params.is_some() {
                                return Err(de::Error::duplicate_field("params"));
                            }
                            params = Some(m.next_value::<Params>()?.0);
                        }
                        _ => {
                            m.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(Extension {
                    name: name.ok_or_else(|| de::Error::missing_field("name"))?,
                    params: params.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_map(ExtVisitor)
    }
}

/// A `Sec-WebSocket-Extensions` value that does not follow the grammar. Positions are byte
/// offsets into the header value; found characters are escaped for display.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtensionError {
    #[error("empty extension list")]
    Empty,
    #[error("expected {expected} at byte {pos}, found {found}")]
    Expected {
        expected: &'static str,
        pos: usize,
        found: String,
    },
    #[error("unterminated quoted string starting at byte {pos}")]
    UnterminatedQuote { pos: usize },
    #[error("invalid character {found} in quoted string at byte {pos}")]
    BadQuotedChar { pos: usize, found: String },
    #[error("quoted value at byte {pos} is not a token: \"{value}\"")]
    QuotedNotToken { pos: usize, value: String },
}

/// RFC 9110 `tchar`.
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 `token`: one or more `tchar`.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Description of what is at the current position, escaped for display.
    fn found(&self) -> String {
        match self.s[self.pos..].chars().next() {
            None => "end of header".to_string(),
            Some(c) => format!("'{}'", crate::redact::escape_control(&c.to_string())),
        }
    }

    fn expected(&self, expected: &'static str) -> ExtensionError {
        ExtensionError::Expected {
            expected,
            pos: self.pos,
            found: self.found(),
        }
    }

    fn token(&mut self, what: &'static str) -> Result<String, ExtensionError> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.expected(what));
        }
        Ok(self.s[start..self.pos].to_string())
    }

    /// A token or a quoted-string whose unescaped content is a token.
    fn value(&mut self) -> Result<String, ExtensionError> {
        if self.peek() != Some(b'"') {
            return self.token("parameter value");
        }
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(ExtensionError::UnterminatedQuote { pos: start });
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    self.pos += 1;
                    match self.peek() {
                        None => return Err(ExtensionError::UnterminatedQuote { pos: start }),
                        Some(c) if c == b'\t' || c >= 0x20 && c != 0x7f => {
                            out.push(c);
                            self.pos += 1;
                        }
                        Some(_) => {
                            return Err(ExtensionError::BadQuotedChar {
                                pos: self.pos,
                                found: self.found(),
                            });
                        }
                    }
                }
                c if c == b'\t' || c >= 0x20 && c != 0x7f => {
                    out.push(c);
                    self.pos += 1;
                }
                _ => {
                    return Err(ExtensionError::BadQuotedChar {
                        pos: self.pos,
                        found: self.found(),
                    });
                }
            }
        }
        let value = String::from_utf8_lossy(&out).into_owned();
        if !is_token(&value) {
            return Err(ExtensionError::QuotedNotToken {
                pos: start,
                value: crate::redact::escape_control(&value),
            });
        }
        Ok(value)
    }
}

/// Parse one `Sec-WebSocket-Extensions` header value. For several header lines, call this per
/// line and concatenate the results (RFC 9110 section 5.3: same as joining with commas).
pub fn parse_header(value: &str) -> Result<Vec<Extension>, ExtensionError> {
    let mut p = Parser { s: value, pos: 0 };
    let mut out = Vec::new();
    loop {
        p.skip_ows();
        match p.peek() {
            None => break,
            Some(b',') => {
                p.pos += 1;
                continue;
            }
            Some(_) => {}
        }
        let name = p.token("extension name")?;
        let mut ext = Extension::new(name);
        loop {
            p.skip_ows();
            match p.peek() {
                None => break,
                Some(b',') => {
                    p.pos += 1;
                    break;
                }
                Some(b';') => {
                    p.pos += 1;
                    p.skip_ows();
                    let name = p.token("parameter name")?;
                    p.skip_ows();
                    let value = if p.peek() == Some(b'=') {
                        p.pos += 1;
                        p.skip_ows();
                        Some(p.value()?)
                    } else {
                        None
                    };
                    ext.params.push(Param { name, value });
                }
                Some(_) => return Err(p.expected("',' or ';'")),
            }
        }
        out.push(ext);
    }
    if out.is_empty() {
        return Err(ExtensionError::Empty);
    }
    Ok(out)
}

/// Format extensions as one header value: `"a; x=1, b"`.
pub fn format_header(exts: &[Extension]) -> String {
    exts.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The outcome of a valid extension response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Agreement {
    /// What the server accepted, as it said it.
    pub accepted: Vec<Extension>,
    /// The permessage-deflate parameters in force, if it was accepted.
    pub deflate: Option<DeflateParams>,
    /// Required extension names the server did not accept: the engine closes with 1010 and
    /// reason `missing extension: <names joined by ", ">`.
    pub missing: Vec<String>,
}

impl Agreement {
    /// The 1010 close reason for `missing`, or `None` when nothing is missing. Kept within the
    /// 123-byte close reason limit.
    pub fn missing_reason(&self) -> Option<String> {
        if self.missing.is_empty() {
            return None;
        }
        let mut reason = format!("missing extension: {}", self.missing.join(", "));
        reason.truncate(super::close_reason(&reason).len());
        Some(reason)
    }
}

/// A permessage-deflate parameter set with its values checked (RFC 7692 section 7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct DeflateOffer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (only valid in an offer).
    client_max_window_bits: Option<Option<u8>>,
}

/// A window bits value: decimal 8..15 without leading zeros (RFC 7692 section 7.1.2).
fn window_bits(name: &str, value: Option<&str>) -> Result<Option<u8>, String> {
    let Some(v) = value else {
        return Ok(None);
    };
    let bits = if v.len() <= 2 && !v.starts_with('0') && v.bytes().all(|b| b.is_ascii_digit()) {
        v.parse::<u8>().ok()
    } else {
        None
    };
    match bits {
        Some(b) if (8..=15).contains(&b) => Ok(Some(b)),
        _ => Err(format!("{name}={v} is out of range 8..15")),
    }
}

/// Check the parameters of one permessage-deflate element. `response` = it came from a server
/// (then `client_max_window_bits` needs a value). Returns every problem found.
fn parse_deflate(ext: &Extension, response: bool) -> Result<DeflateOffer, Vec<String>> {
    let mut problems = Vec::new();
    let mut out = DeflateOffer::default();
    let mut seen: Vec<&str> = Vec::new();
    for p in &ext.params {
        if seen.contains(&p.name.as_str()) {
            problems.push(format!(
                "duplicate parameter '{}' in {PERMESSAGE_DEFLATE}",
                p.name
            ));
            continue;
        }
        seen.push(&p.name);
        let value = p.value.as_deref();
        match p.name.as_str() {
            SERVER_NO_CONTEXT_TAKEOVER | CLIENT_NO_CONTEXT_TAKEOVER => {
                if let Some(v) = value {
                    problems.push(format!("{}={v}: this parameter takes no value", p.name));
                } else if p.name == SERVER_NO_CONTEXT_TAKEOVER {
                    out.server_no_context_takeover = true;
                } else {
                    out.client_no_context_takeover = true;
                }
            }
            SERVER_MAX_WINDOW_BITS => match window_bits(&p.name, value) {
                Ok(Some(b)) => out.server_max_window_bits = Some(b),
                Ok(None) => problems.push(format!("{SERVER_MAX_WINDOW_BITS} needs a value 8..15")),
                Err(e) => problems.push(e),
            },
            CLIENT_MAX_WINDOW_BITS => match window_bits(&p.name, value) {
                Ok(None) if response => {
                    problems.push(format!(
                        "{CLIENT_MAX_WINDOW_BITS} in a response needs a value 8..15"
                    ));
                }
                Ok(b) => out.client_max_window_bits = Some(b),
                Err(e) => problems.push(e),
            },
            other => problems.push(format!("unknown {PERMESSAGE_DEFLATE} parameter '{other}'")),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// Check one valid permessage-deflate offer by the client. Use it to validate `--offer` flags.
pub fn check_offer(ext: &Extension) -> Result<(), Vec<String>> {
    if ext.is_deflate() {
        parse_deflate(ext, false).map(|_| ())
    } else {
        Ok(())
    }
}

/// Match a valid deflate response against one valid offer (RFC 7692 section 7.1): the
/// parameters in force, or what the response did that this offer does not allow.
fn match_deflate(offer: &DeflateOffer, resp: &DeflateOffer) -> Result<DeflateParams, Vec<String>> {
    let mut problems = Vec::new();
    // 7.1.1.1: a server accepting an offer with server_no_context_takeover MUST include it.
    if offer.server_no_context_takeover && !resp.server_no_context_takeover {
        problems.push(format!(
            "{SERVER_NO_CONTEXT_TAKEOVER} was offered but the server did not include it"
        ));
    }
    // 7.1.2.1: an offered server_max_window_bits is accepted by answering the same or smaller.
    if let Some(off) = offer.server_max_window_bits {
        match resp.server_max_window_bits {
            None => problems.push(format!(
                "{SERVER_MAX_WINDOW_BITS}={off} was offered but the server did not include it"
            )),
            Some(r) if r > off => problems.push(format!(
                "{SERVER_MAX_WINDOW_BITS}={r} is larger than the offered {off}"
            )),
            Some(_) => {}
        }
    }
    // 7.1.2.2: the server MUST NOT send client_max_window_bits if the offer lacks it.
    if offer.client_max_window_bits.is_none() && resp.client_max_window_bits.is_some() {
        problems.push(format!(
            "server sent {CLIENT_MAX_WINDOW_BITS} but the client did not offer it"
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // The client never uses a window larger than it offered, nor than the server allows. A
    // response value above the offered one is allowed (the server "may ignore" the hint).
    let offered_client_bits = offer.client_max_window_bits.flatten().unwrap_or(15);
    let resp_client_bits = resp.client_max_window_bits.flatten().unwrap_or(15);
    Ok(DeflateParams {
        server_no_context_takeover: resp.server_no_context_takeover,
        // An offered client_no_context_takeover is a promise by the client (7.1.1.2), whether
        // or not the server echoes it; keeping it is always safe for the peer.
        client_no_context_takeover: resp.client_no_context_takeover
            || offer.client_no_context_takeover,
        server_max_window_bits: resp.server_max_window_bits.unwrap_or(15),
        client_max_window_bits: offered_client_bits.min(resp_client_bits),
    })
}

/// Check a server's `Sec-WebSocket-Extensions` answer (`accepted`, all header lines parsed and
/// concatenated) against what the client `offered` and `required` (names).
///
/// `Err(problems)`: the answer breaks RFC 6455 section 9.1 or RFC 7692; the engine fails the
/// connection with 1002 and shows the problems, e.g.
/// `server accepted extension 'x-foo' that was not offered`,
/// `server_max_window_bits=7 is out of range 8..15`,
/// `duplicate parameter 'server_max_window_bits' in permessage-deflate`,
/// `permessage-deflate accepted twice`.
///
/// `Ok(agreement)`: with `agreement.missing` = required names that were not accepted (the
/// engine closes with 1010).
pub fn check_response(
    offered: &[Extension],
    required: &[String],
    accepted: &[Extension],
) -> Result<Agreement, Vec<String>> {
    let mut problems = Vec::new();
    let mut deflate = None;
    let mut seen: Vec<&str> = Vec::new();
    for ext in accepted {
        if seen.contains(&ext.name.as_str()) {
            problems.push(format!("{} accepted twice", ext.name));
            continue;
        }
        seen.push(&ext.name);
        let offers: Vec<&Extension> = offered.iter().filter(|o| o.name == ext.name).collect();
        if offers.is_empty() {
            problems.push(format!(
                "server accepted extension '{}' that was not offered",
                ext.name
            ));
            continue;
        }
        if ext.is_deflate() {
            match check_deflate_response(&offers, ext) {
                Ok(params) => deflate = Some(params),
                Err(mut p) => problems.append(&mut p),
            }
        } else {
            // An extension wsmon does not know: every parameter must have been offered.
            for p in &ext.params {
                if !offers.iter().any(|o| o.param(&p.name).is_some()) {
                    problems.push(format!(
                        "server returned parameter '{}' for extension '{}' that was not offered",
                        p.name, ext.name
                    ));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let missing = required
        .iter()
        .filter(|r| !accepted.iter().any(|a| &a.name == *r))
        .cloned()
        .collect();
    Ok(Agreement {
        accepted: accepted.to_vec(),
        deflate,
        missing,
    })
}

fn check_deflate_response(
    offers: &[&Extension],
    resp: &Extension,
) -> Result<DeflateParams, Vec<String>> {
    let r = parse_deflate(resp, true)?;
    // The server accepts one of the offers: the response must fit at least one of them.
    let mut first_problems = None;
    for offer in offers {
        // A client offer we could not even parse cannot have been accepted.
        let Ok(o) = parse_deflate(offer, false) else {
            continue;
        };
        match match_deflate(&o, &r) {
            Ok(params) => return Ok(params),
            Err(p) => {
                first_problems.get_or_insert(p);
            }
        }
    }
    let problems = first_problems.unwrap_or_else(|| {
        vec![format!(
            "server accepted {PERMESSAGE_DEFLATE} but no valid {PERMESSAGE_DEFLATE} offer was made"
        )]
    });
    if offers.len() > 1 {
        Err(problems
            .into_iter()
            .map(|p| format!("{p} (response fits none of the {} offers)", offers.len()))
            .collect())
    } else {
        Err(problems)
    }
}

/// Server side: pick the first acceptable permessage-deflate offer and build the response.
/// The answer echoes what the client asked for: `server_no_context_takeover` (required by
/// RFC 7692), `client_no_context_takeover`, `server_max_window_bits=N`, and
/// `client_max_window_bits=N` when the client gave a value. Invalid offers are skipped, as RFC
/// 7692 section 5 asks.
pub fn server_select(offers: &[Extension]) -> Option<(Extension, DeflateParams)> {
    offers.iter().filter(|o| o.is_deflate()).find_map(|offer| {
        let o = parse_deflate(offer, false).ok()?;
        let mut resp = Extension::new(PERMESSAGE_DEFLATE);
        if o.server_no_context_takeover {
            resp = resp.with_param(SERVER_NO_CONTEXT_TAKEOVER, None);
        }
        if o.client_no_context_takeover {
            resp = resp.with_param(CLIENT_NO_CONTEXT_TAKEOVER, None);
        }
        if let Some(b) = o.server_max_window_bits {
            resp = resp.with_param(SERVER_MAX_WINDOW_BITS, Some(&b.to_string()));
        }
        if let Some(Some(b)) = o.client_max_window_bits {
            resp = resp.with_param(CLIENT_MAX_WINDOW_BITS, Some(&b.to_string()));
        }
        let params = DeflateParams {
            server_no_context_takeover: o.server_no_context_takeover,
            client_no_context_takeover: o.client_no_context_takeover,
            server_max_window_bits: o.server_max_window_bits.unwrap_or(15),
            client_max_window_bits: o.client_max_window_bits.flatten().unwrap_or(15),
        };
        Some((resp, params))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Vec<Extension> {
        parse_header(s).expect("valid header")
    }

    fn deflate(params: &[(&str, Option<&str>)]) -> Extension {
        params
            .iter()
            .fold(Extension::new(PERMESSAGE_DEFLATE), |e, (n, v)| {
                e.with_param(*n, *v)
            })
    }

    #[test]
    fn parses_single_offer_with_flag() {
        let e = parse("permessage-deflate; client_max_window_bits");
        assert_eq!(
            e,
            vec![deflate(&[("client_max_window_bits", None)])],
            "{e:?}"
        );
        assert_eq!(e[0].param("client_max_window_bits"), Some(None));
        assert_eq!(e[0].param("server_max_window_bits"), None);
    }

    #[test]
    fn parses_quoted_values_and_whitespace() {
        let e = parse(" permessage-deflate ;\tserver_max_window_bits = \"10\" ; x=\"a\\b\"  ");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].param("server_max_window_bits"), Some(Some("10")));
        // quoted-pair: backslash escapes the next character.
        assert_eq!(e[0].param("x"), Some(Some("ab")));
    }

    #[test]
    fn parses_several_offers_and_headers() {
        let mut all = parse("permessage-deflate; client_max_window_bits=10, permessage-deflate");
        all.extend(parse("x-webkit-deflate-frame, ,foo;a=1;b"));
        let names: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "permessage-deflate",
                "permessage-deflate",
                "x-webkit-deflate-frame",
                "foo"
            ]
        );
        assert_eq!(all[0].param("client_max_window_bits"), Some(Some("10")));
        assert!(all[1].params.is_empty());
        assert_eq!(all[3].param("a"), Some(Some("1")));
        assert_eq!(all[3].param("b"), Some(None));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let cases = [
            ("", "empty extension list"),
            (" , ", "empty extension list"),
            ("; x", "expected extension name at byte 0, found ';'"),
            ("a;;b", "expected parameter name at byte 2, found ';'"),
            ("a; x=\"10", "unterminated quoted string starting at byte 5"),
            (
                "a; x=\"1 0\"",
                "quoted value at byte 5 is not a token: \"1 0\"",
            ),
            ("a; x=\"\"", "quoted value at byte 5 is not a token: \"\""),
            (
                "a; x=",
                "expected parameter value at byte 5, found end of header",
            ),
            ("a b", "expected ',' or ';' at byte 2, found 'b'"),
            ("a@b", "expected ',' or ';' at byte 1, found '@'"),
            ("a; x=1=2", "expected ',' or ';' at byte 6, found '='"),
            ("déflate", "expected ',' or ';' at byte 1, found 'é'"),
            (
                "a; x=\"\u{1b}\"",
                "invalid character '\\u{1b}' in quoted string at byte 6",
            ),
            ("a; x=\"\\", "unterminated quoted string starting at byte 5"),
        ];
        for (input, want) in cases {
            match parse_header(input) {
                Ok(v) => panic!("{input:?} parsed as {v:?}"),
                Err(e) => assert_eq!(e.to_string(), want, "input {input:?}"),
            }
        }
    }

    #[test]
    fn display_and_format_round_trip() {
        let exts = vec![
            deflate(&[("client_max_window_bits", Some("12"))]),
            Extension::new("foo").with_param("x", Some("a b")),
        ];
        assert_eq!(
            exts[0].to_string(),
            "permessage-deflate; client_max_window_bits=12"
        );
        let h = format_header(&exts);
        assert_eq!(
            h,
            "permessage-deflate; client_max_window_bits=12, foo; x=\"a b\""
        );
        // Display quotes a value that is not a token; it does not parse back (not a token).
        assert_eq!(parse(&format_header(&exts[..1])), exts[..1].to_vec());
    }

    #[test]
    fn serializes_params_as_object() {
        let e = deflate(&[
            ("client_max_window_bits", Some("12")),
            ("server_no_context_takeover", None),
        ]);
        let json = serde_json::to_string(&e).expect("serialize");
        assert_eq!(
            json,
            r#"{"name":"permessage-deflate","params":{"client_max_window_bits":"12","server_no_context_takeover":true}}"#
        );
        let back: Extension = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, e);
        let bad = serde_json::from_str::<Extension>(r#"{"name":"a","params":{"x":false}}"#);
        assert!(bad.is_err());
        let no_params: Extension = serde_json::from_str(r#"{"name":"a"}"#).expect("no params");
        assert_eq!(no_params, Extension::new("a"));
    }

    fn check(offer: &str, required: &[&str], resp: &str) -> Result<Agreement, Vec<String>> {
        let required: Vec<String> = required.iter().map(|s| s.to_string()).collect();
        let resp = if resp.is_empty() { vec![] } else { parse(resp) };
        check_response(&parse(offer), &required, &resp)
    }

    fn problems(offer: &str, resp: &str) -> Vec<String> {
        match check(offer, &[], resp) {
            Ok(a) => panic!("{resp:?} accepted: {a:?}"),
            Err(p) => p,
        }
    }

    #[test]
    fn accepted_deflate_gives_params() {
        let a = check(
            "permessage-deflate; client_max_window_bits; client_no_context_takeover",
            &["permessage-deflate"],
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12",
        )
        .expect("valid");
        assert!(a.missing.is_empty());
        assert_eq!(
            a.deflate,
            Some(DeflateParams {
                server_no_context_takeover: false,
                // offered by the client: it keeps its promise even if not echoed
                client_no_context_takeover: true,
                server_max_window_bits: 10,
                client_max_window_bits: 12,
            })
        );
        assert_eq!(a.missing_reason(), None);
    }

    #[test]
    fn client_bits_use_the_smaller_of_offer_and_response() {
        let a = check(
            "permessage-deflate; client_max_window_bits=9",
            &[],
            "permessage-deflate; client_max_window_bits=12",
        )
        .expect("a larger response value is allowed: the server may ignore the hint");
        assert_eq!(a.deflate.map(|d| d.client_max_window_bits), Some(9));
    }

    #[test]
    fn server_may_add_no_context_takeover_and_window_bits() {
        let a = check(
            "permessage-deflate",
            &[],
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9",
        )
        .expect("valid");
        let d = a.deflate.expect("deflate");
        assert!(d.server_no_context_takeover && d.client_no_context_takeover);
        assert_eq!(
            (d.server_max_window_bits, d.client_max_window_bits),
            (9, 15)
        );
    }

    #[test]
    fn no_response_means_missing_required() {
        let a = check("permessage-deflate", &["permessage-deflate"], "").expect("valid");
        assert_eq!(a.missing, vec!["permessage-deflate".to_string()]);
        assert_eq!(a.deflate, None);
        assert_eq!(
            a.missing_reason().as_deref(),
            Some("missing extension: permessage-deflate")
        );
    }

    #[test]
    fn unoffered_extension_is_rejected() {
        assert_eq!(
            problems("permessage-deflate", "x-foo"),
            vec!["server accepted extension 'x-foo' that was not offered"]
        );
    }

    #[test]
    fn unoffered_client_max_window_bits_is_rejected() {
        assert_eq!(
            problems(
                "permessage-deflate",
                "permessage-deflate; client_max_window_bits=10"
            ),
            vec!["server sent client_max_window_bits but the client did not offer it"]
        );
    }

    #[test]
    fn out_of_range_and_malformed_bits_are_rejected() {
        assert_eq!(
            problems(
                "permessage-deflate",
                "permessage-deflate; server_max_window_bits=7"
            ),
            vec!["server_max_window_bits=7 is out of range 8..15"]
        );
        assert_eq!(
            problems(
                "permessage-deflate",
                "permessage-deflate; server_max_window_bits=16"
            ),
            vec!["server_max_window_bits=16 is out of range 8..15"]
        );
        assert_eq!(
            problems(
                "permessage-deflate",
                "permessage-deflate; server_max_window_bits=010"
            ),
            vec!["server_max_window_bits=010 is out of range 8..15"]
        );
        assert_eq!(
            problems(
                "permessage-deflate",
                "permessage-deflate; server_max_window_bits"
            ),
            vec!["server_max_window_bits needs a value 8..15"]
        );
        assert_eq!(
            problems(
                "permessage-deflate; client_max_window_bits",
                "permessage-deflate; client_max_window_bits"
            ),
            vec!["client_max_window_bits in a response needs a value 8..15"]
        );
        assert_eq!(
            problems(
                "permessage-deflate",
                "permessage-deflate; server_no_context_takeover=1"
            ),
            vec!["server_no_context_takeover=1: this parameter takes no value"]
        );
    }

    #[test]
    fn duplicates_and_unknown_params_are_rejected() {
        assert_eq!(
            problems(
                "permessage-deflate",
                "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10"
            ),
            vec!["duplicate parameter 'server_max_window_bits' in permessage-deflate"]
        );
        assert_eq!(
            problems(
                "permessage-deflate",
                "permessage-deflate, permessage-deflate"
            ),
            vec!["permessage-deflate accepted twice"]
        );
        assert_eq!(
            problems("permessage-deflate", "permessage-deflate; mystery"),
            vec!["unknown permessage-deflate parameter 'mystery'"]
        );
        assert_eq!(
            problems("x-foo; a", "x-foo; b"),
            vec!["server returned parameter 'b' for extension 'x-foo' that was not offered"]
        );
    }

    #[test]
    fn response_must_honour_the_offer() {
        assert_eq!(
            problems(
                "permessage-deflate; server_no_context_takeover",
                "permessage-deflate"
            ),
            vec!["server_no_context_takeover was offered but the server did not include it"]
        );
        assert_eq!(
            problems(
                "permessage-deflate; server_max_window_bits=10",
                "permessage-deflate; server_max_window_bits=12"
            ),
            vec!["server_max_window_bits=12 is larger than the offered 10"]
        );
    }

    #[test]
    fn response_may_fit_any_of_several_offers() {
        let offers = "permessage-deflate; server_max_window_bits=10, permessage-deflate";
        let a = check(offers, &[], "permessage-deflate").expect("fits the second offer");
        assert_eq!(a.deflate.map(|d| d.server_max_window_bits), Some(15));
        let p = problems(
            "permessage-deflate; server_no_context_takeover, permessage-deflate",
            "permessage-deflate; client_max_window_bits=9",
        );
        assert_eq!(
            p,
            vec![
                "server_no_context_takeover was offered but the server did not include it (response fits none of the 2 offers)",
                "server sent client_max_window_bits but the client did not offer it (response fits none of the 2 offers)",
            ]
        );
    }

    #[test]
    fn check_offer_validates_user_offers() {
        assert!(check_offer(&parse("permessage-deflate; client_max_window_bits")[0]).is_ok());
        assert!(check_offer(&parse("x-anything; q=1")[0]).is_ok());
        assert_eq!(
            check_offer(&parse("permessage-deflate; client_max_window_bits=20")[0]),
            Err(vec![
                "client_max_window_bits=20 is out of range 8..15".to_string()
            ])
        );
    }

    #[test]
    fn server_select_echoes_the_first_valid_offer() {
        let offers = parse(
            "x-foo, permessage-deflate; server_max_window_bits=99, \
             permessage-deflate; client_max_window_bits=10; server_no_context_takeover; client_no_context_takeover, \
             permessage-deflate",
        );
        let (resp, params) = server_select(&offers).expect("one is valid");
        assert_eq!(
            resp.to_string(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=10"
        );
        assert_eq!(
            params,
            DeflateParams {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                server_max_window_bits: 15,
                client_max_window_bits: 10,
            }
        );
        // The response is valid for the client that made those offers.
        let a = check_response(&offers, &[], std::slice::from_ref(&resp)).expect("valid");
        assert_eq!(a.deflate, Some(params));

        let (resp, params) =
            server_select(&parse("permessage-deflate; client_max_window_bits")).expect("valid");
        assert_eq!(resp.to_string(), "permessage-deflate");
        assert_eq!(params.client_max_window_bits, 15);
        assert!(server_select(&parse("x-foo")).is_none());
    }
}
