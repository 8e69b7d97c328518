//! `--protocol NAME` and a target's `protocol = "NAME"` with its `[targets.protocol_options]`:
//! read, templates (`{env.NAME}`) expanded, and handed to the engine's built-in protocols
//! ([`crate::engine::protocols`]). An unset variable or a bad value names the config file's line.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use super::{Config, ConfigError, FileConfig, dur, invalid};
use crate::cli::WatchArgs;
use crate::engine::protocols::{Options, Protocol};
use crate::redact::escape_control;

/// `[targets.protocol_options]`: each protocol takes its own and refuses the others'.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileProtocolOptions {
    /// graphql-ws: the `connection_init` payload (a table, or a JSON text).
    init_payload: Option<Spanned<toml::Value>>,
    subscribe_query: Option<String>,
    subscribe_variables: Option<Spanned<toml::Value>>,
    /// Socket.IO.
    namespace: Option<String>,
    auth: Option<Spanned<toml::Value>>,
    /// Socket.IO: `[["name", data], ...]`.
    emit: Option<Spanned<Vec<toml::Value>>>,
    timeout: Option<String>,
    ping_interval: Option<String>,
}

/// Where a value came from, for errors: `config file F:LINE: targets[I].protocol_options.KEY`.
struct Place<'a> {
    file: &'a FileConfig,
    target: usize,
}

impl Place<'_> {
    fn err(&self, span: std::ops::Range<usize>, key: &str, problem: &str) -> ConfigError {
        let line = self.file.text[..span.start.min(self.file.text.len())]
            .matches('\n')
            .count()
            + 1;
        let path = self
            .file
            .path
            .as_deref()
            .map(|p| escape_control(&p.display().to_string()))
            .unwrap_or_default();
        invalid(format!(
            "config file {path}:{line}: targets[{}].protocol_options.{key}: {problem}",
            self.target
        ))
    }

    /// A JSON value from the file: a table or array as is, a string as JSON text; then every
    /// `{env.NAME}` in its strings replaced.
    fn json(&self, v: &Spanned<toml::Value>, key: &str) -> Result<Value, ConfigError> {
        let value = match v.get_ref() {
            toml::Value::String(text) => serde_json::from_str(text)
                .map_err(|e| self.err(v.span(), key, &format!("not JSON: {e}")))?,
            other => {
                serde_json::to_value(other).map_err(|e| self.err(v.span(), key, &e.to_string()))?
            }
        };
        expand(value, &|n| std::env::var(n).ok()).map_err(|e| self.err(v.span(), key, &e))
    }
}

/// Replace `{env.NAME}` in every string of `v` (keys stay as written).
fn expand(v: Value, env: &dyn Fn(&str) -> Option<String>) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => Value::String(expand_str(&s, env)?),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|x| expand(x, env))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, x)| Ok((k, expand(x, env)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other,
    })
}

/// `{env.NAME}` (the scripts' template) and `${NAME}` (as in the file's header values, `$$` a
/// literal `$`) are both the environment variable NAME.
fn expand_str(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    super::values::expand_env_or_template(s, env)
}

fn options(place: &Place<'_>, o: &FileProtocolOptions) -> Result<Options, ConfigError> {
    let json =
        |v: &Option<Spanned<toml::Value>>, key| v.as_ref().map(|v| place.json(v, key)).transpose();
    let mut emit = Vec::new();
    if let Some(list) = &o.emit {
        for item in list.get_ref() {
            let pair = Spanned::new(list.span(), item.clone());
            match place.json(&pair, "emit")? {
                Value::Array(a) if a.len() <= 2 && a.first().is_some_and(Value::is_string) => {
                    let name = a[0].as_str().unwrap_or_default().to_string();
                    emit.push((name, a.get(1).cloned().unwrap_or(Value::Null)));
                }
                _ => {
                    return Err(place.err(
                        list.span(),
                        "emit",
                        "each event must be [\"name\", data] or [\"name\"]",
                    ));
                }
            }
        }
    }
    let mut opts = Options {
        init_payload: json(&o.init_payload, "init_payload")?,
        subscribe_query: o.subscribe_query.clone(),
        subscribe_variables: json(&o.subscribe_variables, "subscribe_variables")?,
        namespace: o.namespace.clone(),
        auth: json(&o.auth, "auth")?,
        emit,
        ..Options::default()
    };
    if let Some(t) = dur("protocol_options.timeout", &o.timeout)? {
        if t.is_zero() {
            return Err(invalid("protocol_options.timeout must be more than 0"));
        }
        opts.timeout = t;
    }
    if let Some(p) = dur("protocol_options.ping_interval", &o.ping_interval)? {
        opts.ping_interval = (p > Duration::ZERO).then_some(p);
    }
    Ok(opts)
}

/// Give the targets their protocols: a file target's own `protocol`, else `--protocol`; the
/// URLs on the command line get `--protocol` with the default options. Returns the close-code
/// profile the first protocol brings (used when no `--profile` was given).
pub(super) fn apply(
    cfg: &mut Config,
    file: &FileConfig,
    args: &WatchArgs,
) -> Result<Option<&'static str>, ConfigError> {
    let parse = |name: &str| name.parse::<Protocol>().map_err(|e| invalid(e.to_string()));
    let flag = args.protocol.as_deref().map(parse).transpose()?;
    let mut profile = None;
    for (i, t) in file.targets.iter().enumerate() {
        let protocol = match &t.protocol {
            Some(name) => Some(parse(name)?),
            None => flag,
        };
        let place = Place { file, target: i };
        let Some(protocol) = protocol else {
            if t.protocol_options.is_some() {
                return Err(invalid(format!(
                    "targets[{i}]: protocol_options needs a protocol (protocol = \"graphql-ws\" \
                     or \"socket.io\", or --protocol)"
                )));
            }
            continue;
        };
        let opts = match &t.protocol_options {
            Some(o) => options(&place, o)?,
            None => Options::default(),
        };
        protocol
            .prepare(&mut cfg.engine.targets[i], opts)
            .map_err(|e| invalid(format!("targets[{i}]: {e}")))?;
        profile = profile.or(protocol.profile());
    }
    if let Some(protocol) = flag {
        for t in cfg.engine.targets.iter_mut().skip(file.targets.len()) {
            protocol
                .prepare(t, Options::default())
                .map_err(|e| invalid(e.to_string()))?;
        }
        profile = profile.or(protocol.profile());
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_templates_expand_in_strings_only() {
        let env = |n: &str| (n == "TOKEN").then(|| "s3cret".to_string());
        let v = serde_json::json!({"auth": "Bearer {env.TOKEN}", "n": 1, "q": "{ x }"});
        let got = expand(v, &env).expect("expands");
        assert_eq!(
            got,
            serde_json::json!({"auth": "Bearer s3cret", "n": 1, "q": "{ x }"})
        );
        let e = expand(serde_json::json!(["{env.NOPE}"]), &env).expect_err("unset");
        assert_eq!(e, "environment variable NOPE is not set");
        let e = expand_str("{env.A-B}", &env).expect_err("bad name");
        assert!(e.contains("not an environment variable name"), "{e}");
        let e = expand_str("{env.TOKEN", &env).expect_err("unclosed");
        assert!(e.contains("without its closing"), "{e}");
    }

    #[test]
    fn dollar_brace_is_an_environment_variable_too() {
        let env = |n: &str| (n == "TOKEN").then(|| "s3cret".to_string());
        assert_eq!(
            expand_str("Bearer ${TOKEN} and {env.TOKEN}", &env).as_deref(),
            Ok("Bearer s3cret and s3cret")
        );
        assert_eq!(
            expand_str("costs $5 {not env} $x $${TOKEN}", &env).as_deref(),
            Ok("costs $5 {not env} $x ${TOKEN}")
        );
        // A value is not expanded again.
        let env2 = |n: &str| (n == "A").then(|| "{env.B} ${B}".to_string());
        assert_eq!(expand_str("${A}", &env2).as_deref(), Ok("{env.B} ${B}"));
        let e = expand_str("${NOPE}", &env).expect_err("unset");
        assert_eq!(e, "environment variable NOPE is not set");
        let e = expand_str("${TOKEN", &env).expect_err("unclosed");
        assert!(e.contains("'${' without a closing '}'"), "{e}");
        let e = expand_str("${A B}", &env).expect_err("bad name");
        assert!(e.contains("'${A B}' is not an environment"), "{e}");
    }
}
