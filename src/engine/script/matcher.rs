//! What an `expect` or an `on` waits for: a regex over text messages, or JSON fields (a
//! subset match: every field of the pattern must be in the message with the same value, nested
//! objects compared the same way; a key starting with `/` is a JSON pointer into the message).
//! A binary message, or a text that is not JSON for a JSON pattern, simply does not match.

use regex::Regex;
use serde_json::Value;

use crate::engine::conversation::Incoming;

/// A message pattern.
#[derive(Debug, Clone)]
pub enum Matcher {
    Regex(Regex),
    Json(Value),
}

/// Where a captured value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureRef {
    /// A regex group, by number.
    Group(usize),
    /// A regex group, by name.
    Named(String),
    /// A JSON pointer into the message (`/payload/id`).
    Pointer(String),
}

/// One `capture NAME=REF`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    pub name: String,
    pub from: CaptureRef,
}

/// A message, parsed as JSON at most once whatever the number of patterns asking.
pub struct Heard<'a> {
    msg: Incoming<'a>,
    json: Option<Option<Value>>,
}

impl<'a> Heard<'a> {
    pub fn new(msg: Incoming<'a>) -> Self {
        Heard { msg, json: None }
    }

    fn text(&self) -> Option<&'a str> {
        match self.msg {
            Incoming::Text(t) => Some(t),
            Incoming::Binary(_) => None,
        }
    }

    fn json(&mut self) -> Option<&Value> {
        let text = self.text();
        self.json
            .get_or_insert_with(|| text.and_then(|t| serde_json::from_str(t).ok()))
            .as_ref()
    }
}

/// Whether `pattern` is a subset of `value`.
fn subset(pattern: &Value, value: &Value) -> bool {
    match (pattern, value) {
        (Value::Object(p), Value::Object(_)) => p.iter().all(|(k, pv)| {
            let field = if k.starts_with('/') {
                value.pointer(k)
            } else {
                value.get(k)
            };
            field.is_some_and(|f| subset(pv, f))
        }),
        _ => pattern == value,
    }
}

/// A captured JSON value as text: a string as itself, anything else as JSON.
fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Matcher {
    /// Whether the message matches (captures are not taken).
    pub fn matches(&self, heard: &mut Heard<'_>) -> bool {
        match self {
            Matcher::Regex(re) => heard.text().is_some_and(|t| re.is_match(t)),
            Matcher::Json(p) => heard.json().is_some_and(|v| subset(p, v)),
        }
    }

    /// The captured values when the message matches (a group that did not take part, or a
    /// pointer to nothing, captures an empty text).
    pub fn capture(&self, heard: &mut Heard<'_>, wanted: &[Capture]) -> Option<Vec<String>> {
        match self {
            Matcher::Regex(re) => {
                let caps = re.captures(heard.text()?)?;
                Some(
                    wanted
                        .iter()
                        .map(|c| {
                            let m = match &c.from {
                                CaptureRef::Group(i) => caps.get(*i),
                                CaptureRef::Named(n) => caps.name(n),
                                CaptureRef::Pointer(_) => None,
                            };
                            m.map(|m| m.as_str().to_string()).unwrap_or_default()
                        })
                        .collect(),
                )
            }
            Matcher::Json(p) => {
                let v = heard.json().filter(|v| subset(p, v))?;
                Some(
                    wanted
                        .iter()
                        .map(|c| match &c.from {
                            CaptureRef::Pointer(ptr) => {
                                v.pointer(ptr).map(json_text).unwrap_or_default()
                            }
                            _ => String::new(),
                        })
                        .collect(),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> Matcher {
        Matcher::Json(serde_json::from_str(s).expect("pattern"))
    }

    fn hits(m: &Matcher, msg: Incoming<'_>) -> bool {
        m.matches(&mut Heard::new(msg))
    }

    #[test]
    fn json_patterns_are_subsets_with_pointers() {
        let m = json(r#"{"type":"auth_ok","/payload/user/id":7,"meta":{"v":1}}"#);
        assert!(hits(
            &m,
            Incoming::Text(
                r#"{"type":"auth_ok","payload":{"user":{"id":7}},"meta":{"v":1,"x":2},"z":0}"#
            )
        ));
        assert!(!hits(
            &m,
            Incoming::Text(r#"{"type":"auth_ok","payload":{"user":{"id":8}},"meta":{"v":1}}"#)
        ));
        assert!(!hits(&m, Incoming::Text("not json {")));
        assert!(!hits(&m, Incoming::Binary(b"{\"type\":\"auth_ok\"}")));
        assert!(!hits(&m, Incoming::Text("[1,2]")));
    }

    #[test]
    fn captures_from_groups_names_and_pointers() {
        let re = Matcher::Regex(Regex::new(r"^welcome (\w+)(?: (?<role>\w+))?$").expect("re"));
        let want = [
            Capture {
                name: "user".into(),
                from: CaptureRef::Group(1),
            },
            Capture {
                name: "role".into(),
                from: CaptureRef::Named("role".into()),
            },
        ];
        let got = re.capture(&mut Heard::new(Incoming::Text("welcome ada")), &want);
        assert_eq!(got, Some(vec!["ada".to_string(), String::new()]));
        assert_eq!(
            re.capture(&mut Heard::new(Incoming::Binary(b"welcome ada")), &want),
            None
        );
        let j = json(r#"{"type":"ok"}"#);
        let want = [Capture {
            name: "id".into(),
            from: CaptureRef::Pointer("/payload/id".into()),
        }];
        let got = j.capture(
            &mut Heard::new(Incoming::Text(r#"{"type":"ok","payload":{"id":42}}"#)),
            &want,
        );
        assert_eq!(got, Some(vec!["42".to_string()]));
    }
}
