//! Templates in what a script sends: `{session}`, `{index}`, `{attempt}`, `{shard}`, `{uuid}`,
//! `{now_ms}`, `{env.NAME}` (read once, when the script is checked) and the names captured by
//! an earlier `expect`. `{{` is a literal `{`; any other `{` that does not start
//! `{name}` (a name: a letter or `_`, then letters, digits, `_`, `.`) is literal too, so JSON
//! braces need no escaping.

use super::ParseError;

/// A variable a template names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    Session,
    Index,
    Attempt,
    Shard,
    Uuid,
    NowMs,
    /// A captured value, by name.
    Capture(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Var(Var),
}

/// A text with variables, checked when the script is parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// What a template's variables stand for on one connection.
pub trait Vars {
    fn value(&mut self, var: &Var) -> String;
}

/// Where a template sits, for errors: its line and the column of its first character.
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub line: usize,
    pub col: usize,
}

/// What a template may name: the environment and the names captured before it.
pub struct Scope<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub captured: &'a [String],
}

/// `{name}` at `s[i..]`: the name and the length of the whole `{name}`.
fn var_at(s: &str, i: usize) -> Option<(&str, usize)> {
    let rest = s.get(i + 1..)?;
    let end = rest.find('}')?;
    let name = &rest[..end];
    let mut chars = name.chars();
    let first = chars.next()?;
    let ok = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    ok.then_some((name, end + 2))
}

impl Template {
    /// Parse `text` (which starts at `at`); `{{` is a literal `{`.
    pub fn parse(text: &str, at: At, scope: &Scope<'_>) -> Result<Template, ParseError> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        while let Some(off) = text[i..].find('{') {
            let pos = i + off;
            lit.push_str(&text[i..pos]);
            if text[pos + 1..].starts_with('{') {
                lit.push('{');
                i = pos + 2;
                continue;
            }
            let Some((name, len)) = var_at(text, pos) else {
                lit.push('{');
                i = pos + 1;
                continue;
            };
            let col = at.col + text[..pos].chars().count();
            let err = |what: String| ParseError::new(at.line, col, what);
            let piece = match name {
                "session" => Piece::Var(Var::Session),
                "index" => Piece::Var(Var::Index),
                "attempt" => Piece::Var(Var::Attempt),
                "shard" => Piece::Var(Var::Shard),
                "uuid" => Piece::Var(Var::Uuid),
                "now_ms" => Piece::Var(Var::NowMs),
                _ => match name.strip_prefix("env.") {
                    Some(env) => match (scope.env)(env) {
                        Some(v) => Piece::Lit(v),
                        None => return Err(err(format!("environment variable {env} is not set"))),
                    },
                    None if scope.captured.iter().any(|c| c == name) => {
                        Piece::Var(Var::Capture(name.to_string()))
                    }
                    None => {
                        return Err(err(format!(
                            "unknown template variable {{{name}}} (known: session, index, \
                             attempt, shard, uuid, now_ms, env.NAME and names captured by an \
                             earlier expect; write {{{{ for a literal {{)"
                        )));
                    }
                },
            };
            if let Piece::Lit(v) = piece {
                lit.push_str(&v);
            } else {
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                pieces.push(piece);
            }
            i = pos + len;
        }
        lit.push_str(&text[i..]);
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        Ok(Template { pieces })
    }

    /// The text with its variables filled in; with `json`, each value is escaped as the inside
    /// of a JSON string (the template sits in one).
    pub fn render(&self, vars: &mut dyn Vars, json: bool) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Var(v) => {
                    let value = vars.value(v);
                    if json {
                        let quoted = serde_json::Value::String(value).to_string();
                        out.push_str(&quoted[1..quoted.len() - 1]);
                    } else {
                        out.push_str(&value);
                    }
                }
            }
        }
        out
    }

    /// Whether the template has no variables (what it renders never changes).
    pub fn is_fixed(&self) -> bool {
        self.pieces.iter().all(|p| matches!(p, Piece::Lit(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Vars for Fixed {
        fn value(&mut self, var: &Var) -> String {
            match var {
                Var::Session => "s7".into(),
                Var::Capture(n) => format!("<{n}\"quoted\">"),
                _ => "x".into(),
            }
        }
    }

    fn scope_env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "t0k".to_string())
    }

    fn parse(text: &str) -> Result<Template, ParseError> {
        let captured = vec!["user".to_string()];
        let scope = Scope {
            env: &scope_env,
            captured: &captured,
        };
        Template::parse(text, At { line: 4, col: 6 }, &scope)
    }

    #[test]
    fn variables_env_captures_and_literal_braces() {
        let t = parse("hi {session} {env.TOKEN} {user} {{session}} {\"a\":1} {} {1}").expect("ok");
        assert_eq!(
            t.render(&mut Fixed, false),
            "hi s7 t0k <user\"quoted\"> {session}} {\"a\":1} {} {1}"
        );
        assert_eq!(
            t.render(&mut Fixed, true),
            "hi s7 t0k <user\\\"quoted\\\"> {session}} {\"a\":1} {} {1}"
        );
        assert!(!t.is_fixed());
        assert!(parse("{env.TOKEN} only").expect("ok").is_fixed());
    }

    #[test]
    fn unknown_and_unset_names_are_errors_at_their_column() {
        let e = parse("ab {nope}").expect_err("unknown");
        assert_eq!((e.line, e.col), (4, 9), "{e}");
        assert!(e.what.contains("unknown template variable {nope}"), "{e}");
        let e = parse("é{env.UNSET}").expect_err("unset");
        assert_eq!((e.line, e.col), (4, 7), "{e}");
        assert_eq!(e.what, "environment variable UNSET is not set");
    }
}
