//! The script parser: one step per line, checked whole before any connection. Every error
//! names its line and column (from 1, in characters of the line).

use std::time::Duration;

use regex::Regex;
use serde_json::Value;

use super::matcher::{Capture, CaptureRef, Matcher};
use super::template::{At, Scope, Template};
use super::{DEFAULT_CLOSE_CODE, DEFAULT_WITHIN, ParseError, Payload, Script, Step, StepKind};

/// The most steps a script may have.
pub const MAX_STEPS: usize = 1000;

/// Names a capture may not take (they are template variables already).
const RESERVED: [&str; 6] = ["session", "index", "attempt", "shard", "uuid", "now_ms"];

/// Parse and check a script. `env` looks up `{env.NAME}` (read once, here).
pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Script, ParseError> {
    let mut p = Parser {
        env,
        captured: Vec::new(),
        close_code: None,
        steps: Vec::new(),
    };
    for (i, line) in text.lines().enumerate() {
        let mut cur = Cur {
            line: i + 1,
            text: line,
            pos: 0,
        };
        if cur.at_end() {
            continue;
        }
        p.statement(&mut cur)?;
    }
    Ok(Script {
        close_code: p.close_code.map_or(DEFAULT_CLOSE_CODE, |(c, _)| c),
        steps: p.steps,
    })
}

struct Parser<'e> {
    env: &'e dyn Fn(&str) -> Option<String>,
    /// Names captured by the `expect`s so far.
    captured: Vec<String>,
    /// The code and its line.
    close_code: Option<(u16, usize)>,
    steps: Vec<Step>,
}

/// One line, read left to right (`pos` is a byte offset).
struct Cur<'a> {
    line: usize,
    text: &'a str,
    pos: usize,
}

impl<'a> Cur<'a> {
    fn col(&self, pos: usize) -> usize {
        self.text[..pos].chars().count() + 1
    }

    fn err(&self, pos: usize, what: impl Into<String>) -> ParseError {
        ParseError::new(self.line, self.col(pos), what)
    }

    fn at(&self, pos: usize) -> At {
        At {
            line: self.line,
            col: self.col(pos),
        }
    }

    fn skip_ws(&mut self) {
        let rest = &self.text[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// Nothing but a comment is left.
    fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos == self.text.len() || self.text[self.pos..].starts_with('#')
    }

    fn peek_char(&mut self) -> Option<char> {
        self.skip_ws();
        self.text[self.pos..].chars().next()
    }

    /// The next word (up to white space), with where it starts; `None` at the end or a comment.
    fn word(&mut self) -> Option<(usize, &'a str)> {
        if self.at_end() {
            return None;
        }
        let start = self.pos;
        let rest = &self.text[start..];
        let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
        self.pos += len;
        Some((start, &rest[..len]))
    }

    fn peek_word(&mut self) -> Option<&'a str> {
        let save = self.pos;
        let w = self.word().map(|(_, w)| w);
        self.pos = save;
        w
    }

    fn need_word(&mut self, what: &str) -> Result<(usize, &'a str), ParseError> {
        let end = self.text.len();
        self.word()
            .ok_or_else(|| self.err(end, format!("{what} is missing")))
    }

    /// The rest of the line up to a comment (a `#` after white space), trimmed.
    fn rest_text(&mut self) -> (usize, &'a str) {
        self.skip_ws();
        let start = self.pos;
        let rest = &self.text[start..];
        let bytes = rest.as_bytes();
        let cut = (1..bytes.len())
            .find(|&i| bytes[i] == b'#' && bytes[i - 1].is_ascii_whitespace())
            .unwrap_or(bytes.len());
        self.pos = self.text.len();
        (start, rest[..cut].trim_end())
    }

    fn end(&mut self) -> Result<(), ParseError> {
        match self.word() {
            None => Ok(()),
            Some((at, w)) => {
                Err(self.err(at, format!("unexpected '{w}' (a comment starts with #)")))
            }
        }
    }

    fn duration(&mut self, what: &str) -> Result<(Duration, &'a str), ParseError> {
        let (at, w) = self.need_word(what)?;
        let d =
            crate::units::parse_duration(w).map_err(|e| self.err(at, format!("{what}: {e}")))?;
        if d.is_zero() {
            return Err(self.err(at, format!("{what} must be more than 0")));
        }
        Ok((d, w))
    }

    /// One JSON value: its source text and the value.
    fn json(&mut self) -> Result<(usize, &'a str, Value), ParseError> {
        self.skip_ws();
        let start = self.pos;
        let rest = &self.text[start..];
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v)) => {
                let len = stream.byte_offset();
                self.pos += len;
                Ok((start, &rest[..len], v))
            }
            Some(Err(e)) => {
                let at = start + rest.len().min(e.column().saturating_sub(1));
                let msg = e.to_string();
                let msg = msg.split(" at line ").next().unwrap_or(&msg);
                Err(self.err(at, format!("invalid JSON: {msg}")))
            }
            None => Err(self.err(start, "a JSON value is missing")),
        }
    }

    /// `/regex/` with optional flags (`i`, `m`, `s`, `x`); `\/` is a `/` in it.
    fn regex(&mut self) -> Result<(usize, &'a str, Regex), ParseError> {
        self.skip_ws();
        let start = self.pos;
        let body = &self.text[start + 1..];
        let mut end = None;
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '/' => {
                    end = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let end = end.ok_or_else(|| self.err(start, "the regex has no closing /"))?;
        let src = body[..end].replace("\\/", "/");
        let after = &body[end + 1..];
        let flags_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let flags = &after[..flags_len];
        if let Some(bad) = flags.chars().find(|c| !"imsx".contains(*c)) {
            let at = start + 1 + end + 1 + flags.find(bad).unwrap_or(0);
            return Err(self.err(at, format!("unknown regex flag '{bad}' (i, m, s or x)")));
        }
        let full = if flags.is_empty() {
            src
        } else {
            format!("(?{flags}){src}")
        };
        let re = regex::RegexBuilder::new(&full)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                let msg = e.to_string();
                let last = msg
                    .lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("");
                let last = last.trim().trim_start_matches("error: ");
                self.err(start + 1, format!("invalid regex: {last}"))
            })?;
        self.pos = start + 1 + end + 1 + flags_len;
        Ok((start, &self.text[start..self.pos], re))
    }
}

impl Parser<'_> {
    fn scope(&self) -> Scope<'_> {
        Scope {
            env: self.env,
            captured: &self.captured,
        }
    }

    fn statement(&mut self, cur: &mut Cur<'_>) -> Result<(), ParseError> {
        let (start, word) = cur.need_word("a step")?;
        let kind = match word {
            "close-code" => return self.close_code(cur),
            "send" => StepKind::Send(self.payload(cur)?),
            "expect" => self.expect(cur)?,
            "every" => {
                let (period, _) = cur.duration("the period of every")?;
                let (at, w) = cur.need_word("send after every DUR")?;
                if w != "send" {
                    return Err(cur.err(at, format!("expected send after every DUR, not '{w}'")));
                }
                StepKind::Every {
                    period,
                    payload: self.payload(cur)?,
                }
            }
            "on" => {
                let (matcher, _) = self.matcher(cur)?;
                let (at, w) = cur.need_word("reply")?;
                if w != "reply" {
                    return Err(cur.err(at, format!("expected reply after the pattern, not '{w}'")));
                }
                StepKind::On {
                    matcher,
                    reply: self.payload(cur)?,
                }
            }
            other => {
                return Err(cur.err(
                    start,
                    format!("unknown step '{other}' (send, expect, every, on or close-code)"),
                ));
            }
        };
        cur.end()?;
        if self.steps.len() == MAX_STEPS {
            return Err(cur.err(start, format!("a script has at most {MAX_STEPS} steps")));
        }
        let what = match &kind {
            StepKind::Expect { .. } => self.expect_what(cur, start),
            _ => {
                let mut c = Cur {
                    line: cur.line,
                    text: cur.text,
                    pos: start,
                };
                c.rest_text().1.to_string()
            }
        };
        self.steps.push(Step {
            line: cur.line,
            what,
            kind,
        });
        Ok(())
    }

    fn close_code(&mut self, cur: &mut Cur<'_>) -> Result<(), ParseError> {
        let (at, w) = cur.need_word("the code")?;
        let code: u16 = w
            .parse()
            .ok()
            .filter(|c| matches!(c, 1000..=1003 | 1007..=1014 | 3000..=4999))
            .ok_or_else(|| {
                cur.err(
                    at,
                    format!("close-code '{w}' is not a code a client may send (1000-1003, 1007-1014, 3000-4999)"),
                )
            })?;
        if let Some((_, line)) = self.close_code {
            return Err(cur.err(0, format!("close-code given twice (first on line {line})")));
        }
        self.close_code = Some((code, cur.line));
        cur.end()
    }

    /// `json VALUE`, `hex HEX`, `base64 B64`, `text TEXT` or a text.
    fn payload(&mut self, cur: &mut Cur<'_>) -> Result<Payload, ParseError> {
        match cur.peek_word() {
            Some("json") => {
                cur.word();
                let (at, src, _) = cur.json().map_err(|mut e| {
                    e.what.push_str(" (templates go inside JSON strings)");
                    e
                })?;
                Ok(Payload::Json(Template::parse(
                    src,
                    cur.at(at),
                    &self.scope(),
                )?))
            }
            Some(kind @ ("hex" | "base64")) => {
                cur.word();
                let (at, w) = cur.need_word(&format!("the {kind} data"))?;
                let codec = if kind == "hex" {
                    &data_encoding::HEXLOWER_PERMISSIVE
                } else {
                    &data_encoding::BASE64
                };
                let bytes = codec
                    .decode(w.as_bytes())
                    .map_err(|e| cur.err(at, format!("invalid {kind}: {e}")))?;
                Ok(Payload::Binary(bytes))
            }
            other => {
                if other == Some("text") {
                    cur.word();
                }
                let (at, text) = cur.rest_text();
                if text.is_empty() {
                    return Err(cur.err(at, "the message to send is missing"));
                }
                Ok(Payload::Text(Template::parse(
                    text,
                    cur.at(at),
                    &self.scope(),
                )?))
            }
        }
    }

    /// `/regex/` or `json VALUE`, and the pattern as shown.
    fn matcher(&mut self, cur: &mut Cur<'_>) -> Result<(Matcher, String), ParseError> {
        match cur.peek_char() {
            Some('/') => {
                let (_, src, re) = cur.regex()?;
                Ok((Matcher::Regex(re), src.to_string()))
            }
            _ if cur.peek_word() == Some("json") => {
                cur.word();
                let (_, src, v) = cur.json()?;
                Ok((Matcher::Json(v), src.to_string()))
            }
            _ => {
                let at = cur.pos;
                Err(cur.err(at, "expected a pattern: /regex/ or json {...}"))
            }
        }
    }

    fn expect(&mut self, cur: &mut Cur<'_>) -> Result<StepKind, ParseError> {
        let (matcher, _) = self.matcher(cur)?;
        let mut within = DEFAULT_WITHIN;
        let mut captures = Vec::new();
        while let Some((at, w)) = cur.word() {
            match w {
                "within" => within = cur.duration("within")?.0,
                "capture" => {
                    while let Some((at, c)) = cur.word() {
                        captures.push(capture(cur, at, c, &matcher)?);
                        if matches!(cur.peek_word(), Some("within") | None) {
                            break;
                        }
                    }
                }
                other => {
                    return Err(cur.err(
                        at,
                        format!(
                            "unexpected '{other}' (within DUR, capture NAME=REF or a # comment)"
                        ),
                    ));
                }
            }
        }
        for c in &captures {
            if !self.captured.contains(&c.name) {
                self.captured.push(c.name.clone());
            }
        }
        Ok(StepKind::Expect {
            matcher,
            within,
            captures,
        })
    }

    /// `expect PATTERN within DUR`, as shown (the pattern as written, without `json`).
    fn expect_what(&self, cur: &Cur<'_>, start: usize) -> String {
        let mut c = Cur {
            line: cur.line,
            text: cur.text,
            pos: start,
        };
        c.word();
        let pattern = match c.peek_char() {
            Some('/') => c.regex().map(|(_, s, _)| s.to_string()),
            _ => {
                c.word();
                c.json().map(|(_, s, _)| s.to_string())
            }
        }
        .unwrap_or_default();
        let mut within = None;
        while let Some((_, w)) = c.word() {
            if w == "within" {
                within = c.word().map(|(_, d)| d.to_string());
            }
        }
        let within = within.unwrap_or_else(|| format!("{}s", DEFAULT_WITHIN.as_secs()));
        format!("expect {pattern} within {within}")
    }
}

/// `NAME=REF`: a group number or name for a regex, a JSON pointer for JSON.
fn capture(cur: &Cur<'_>, at: usize, word: &str, m: &Matcher) -> Result<Capture, ParseError> {
    let (name, from) = word
        .split_once('=')
        .ok_or_else(|| cur.err(at, format!("capture '{word}' must look like NAME=REF")))?;
    let mut chars = name.chars();
    let ident = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident {
        return Err(cur.err(
            at,
            format!("capture name '{name}' must be letters, digits and _"),
        ));
    }
    if RESERVED.contains(&name) {
        return Err(cur.err(
            at,
            format!("capture name '{name}' is a template variable already"),
        ));
    }
    let ref_at = at + name.len() + 1;
    let from = match m {
        Matcher::Regex(re) => match from.parse::<usize>() {
            Ok(i) if i < re.captures_len() => CaptureRef::Group(i),
            Ok(i) => return Err(cur.err(ref_at, format!("the regex has no group {i}"))),
            Err(_) if re.capture_names().flatten().any(|n| n == from) => {
                CaptureRef::Named(from.to_string())
            }
            Err(_) => {
                return Err(cur.err(ref_at, format!("the regex has no group named '{from}'")));
            }
        },
        Matcher::Json(_) if from.starts_with('/') => CaptureRef::Pointer(from.to_string()),
        Matcher::Json(_) => {
            return Err(cur.err(
                ref_at,
                format!("'{from}' is not a JSON pointer (as in id=/payload/id)"),
            ));
        }
    };
    Ok(Capture {
        name: name.to_string(),
        from,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "s3cr3t".to_string())
    }

    fn err(text: &str) -> String {
        parse(text, &env).expect_err("must fail").to_string()
    }

    #[test]
    fn the_whole_syntax_parses() {
        let s = parse(
            "# a comment\n\nclose-code 4000   # code on failure\n\
             send hello {session} # trailing\n\
             send json {\"type\":\"auth\",\"token\":\"{env.TOKEN}\"}\n\
             send hex 0a0B0c\n  send base64 AAEC\n\
             expect /^welcome (\\w+)$/ within 5s capture user=1\n\
             expect json {\"type\":\"auth_ok\"} within 5s capture id=/payload/id\n\
             send text json says {user} and {id}\n\
             every 30s send json {\"type\":\"ping\"}\n\
             on /^ping$/ reply pong\n\
             on json {\"type\":\"ping\"} reply json {\"type\":\"pong\"}\n\
             expect /a\\/b/i\n",
            &env,
        )
        .expect("parses");
        assert_eq!(s.close_code, 4000);
        assert_eq!(s.steps.len(), 11);
        let lines: Vec<usize> = s.steps.iter().map(|s| s.line).collect();
        assert_eq!(lines, [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
        assert_eq!(s.steps[0].what, "send hello {session}");
        assert_eq!(s.steps[4].what, r"expect /^welcome (\w+)$/ within 5s");
        assert_eq!(s.steps[5].what, r#"expect {"type":"auth_ok"} within 5s"#);
        assert_eq!(s.steps[10].what, r"expect /a\/b/i within 10s");
        assert!(
            matches!(&s.steps[2].kind, StepKind::Send(Payload::Binary(b)) if b == &[10, 11, 12])
        );
        assert!(matches!(&s.steps[3].kind, StepKind::Send(Payload::Binary(b)) if b == &[0, 1, 2]));
        match &s.steps[5].kind {
            StepKind::Expect {
                within, captures, ..
            } => {
                assert_eq!(*within, Duration::from_secs(5));
                assert_eq!(captures[0].from, CaptureRef::Pointer("/payload/id".into()));
            }
            other => panic!("{other:?}"),
        }
        let empty = parse("", &env).expect("empty");
        assert_eq!((empty.close_code, empty.steps.len()), (1000, 0));
    }

    #[test]
    fn the_readme_scripts_parse() {
        let readme = include_str!("../../../README.md");
        let section = readme
            .split("### Session scripts")
            .nth(1)
            .and_then(|s| s.split("\n### ").next())
            .expect("README has the section");
        let blocks: Vec<&str> = section.split("```").skip(1).step_by(2).collect();
        assert_eq!(blocks.len(), 2, "{section}");
        let env = |_: &str| Some("x".to_string());
        let first = parse(blocks[0], &env).expect("the syntax block parses");
        assert_eq!((first.close_code, first.steps.len()), (4000, 9));
        let example = parse(blocks[1], &env).expect("the example parses");
        assert_eq!((example.close_code, example.steps.len()), (4401, 5));
    }

    #[test]
    fn every_error_names_its_line_and_column() {
        let cases: &[(&str, &str)] = &[
            ("wait 5s", "1:1: unknown step 'wait'"),
            ("send", "1:5: the message to send is missing"),
            (
                "\n  send json {\"a\":}",
                "2:18: invalid JSON: expected value",
            ),
            (
                "send json {\"n\": {index}}",
                "1:18: invalid JSON: key must be a string",
            ),
            ("send hex 0g", "1:10: invalid hex"),
            ("send base64 A", "1:13: invalid base64"),
            ("send hi {who}", "1:9: unknown template variable {who}"),
            (
                "send {env.NOPE}",
                "1:6: environment variable NOPE is not set",
            ),
            (
                "send {user}\nexpect /(x)/ capture user=1",
                "1:6: unknown template variable {user}",
            ),
            ("expect /(/", "1:9: invalid regex: unclosed group"),
            ("expect /abc", "1:8: the regex has no closing /"),
            ("expect /a/q", "1:11: unknown regex flag 'q'"),
            (
                "expect hello",
                "1:8: expected a pattern: /regex/ or json {...}",
            ),
            ("expect /a/ within soon", "1:19: within: "),
            ("expect /a/ within 0s", "1:19: within must be more than 0"),
            ("expect /a/ within", "1:18: within is missing"),
            ("expect /a/ capture x=1", "1:22: the regex has no group 1"),
            (
                "expect /(?<n>a)/ capture x=m",
                "1:28: the regex has no group named 'm'",
            ),
            (
                "expect json {} capture x=id",
                "1:26: 'id' is not a JSON pointer",
            ),
            (
                "expect /a/ capture x",
                "1:20: capture 'x' must look like NAME=REF",
            ),
            ("expect /(a)/ capture 1x=1", "1:22: capture name '1x'"),
            (
                "expect /(a)/ capture uuid=1",
                "1:22: capture name 'uuid' is a template variable",
            ),
            ("expect /a/ soon", "1:12: unexpected 'soon'"),
            (
                "every 1s reply x",
                "1:10: expected send after every DUR, not 'reply'",
            ),
            ("every send x", "1:7: the period of every: "),
            (
                "on /a/ send b",
                "1:8: expected reply after the pattern, not 'send'",
            ),
            (
                "close-code 1005",
                "1:12: close-code '1005' is not a code a client may send",
            ),
            (
                "close-code 4000\nclose-code 4001",
                "2:1: close-code given twice (first on line 1)",
            ),
            ("close-code 4000 x", "1:17: unexpected 'x'"),
            ("send json {\"a\":1} x", "1:19: unexpected 'x'"),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .map(|(text, want)| (text, want, err(text)))
            .filter(|(_, want, got)| !got.starts_with(*want))
            .map(|(text, want, got)| format!("{text:?}: got {got:?}, want {want:?}"))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }
}
