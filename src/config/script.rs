//! Session scripts from the config file (`script = """..."""` inline, or `script_file = "path"`,
//! per target) and `--script FILE` (a single target). Each is parsed and checked here, before
//! any connection; an error names the file, the line and the column (for an inline script, the
//! config file and the line inside it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{ConfigError, FileConfig, WatchArgs};
use crate::engine::EngineSettings;
use crate::engine::script::{self, ParseError, ScriptFactory};
use crate::redact::escape_control;

/// The largest script file read.
const MAX_SCRIPT_BYTES: u64 = 1024 * 1024;

fn shown(path: &Path) -> String {
    escape_control(&path.display().to_string())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A script file's text: a regular file of at most [`MAX_SCRIPT_BYTES`], UTF-8.
fn read_script(path: &Path) -> Result<String, ConfigError> {
    use std::io::Read as _;
    let fail = |what: String| ConfigError::Invalid(format!("script {}: {what}", shown(path)));
    let (file, meta) = crate::files::open_regular(path).map_err(|e| match e {
        crate::files::OpenError::Io(e) => fail(format!("cannot read it: {e}")),
        crate::files::OpenError::NotAFile(kind) => fail(format!("not a regular file ({kind})")),
    })?;
    if meta.len() > MAX_SCRIPT_BYTES {
        return Err(fail("over the 1 MiB limit".into()));
    }
    let mut text = String::new();
    file.take(MAX_SCRIPT_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| fail(format!("cannot read it as UTF-8 text: {e}")))?;
    Ok(text)
}

/// Parse the script in the file `path`.
fn from_file(path: &Path) -> Result<script::Script, ConfigError> {
    let text = read_script(path)?;
    script::parse(&text, &env).map_err(|e| {
        ConfigError::Invalid(format!("{}:{}:{}: {}", shown(path), e.line, e.col, e.what))
    })
}

/// Where an inline script's text starts in the config file: its first line and the column
/// of its first character on that line (1 when the string opens with a line break).
fn inline_start(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    let rest = &source[offset.min(source.len())..];
    let delim = if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
        3
    } else {
        1
    };
    let after = &rest[delim.min(rest.len())..];
    if delim == 3 && (after.starts_with('\n') || after.starts_with("\r\n")) {
        (line + 1, 1)
    } else {
        (line, col + delim)
    }
}

/// An inline script's error, placed in the config file.
fn inline_error(file: &FileConfig, span_start: usize, target: usize, e: ParseError) -> ConfigError {
    match &file.path {
        Some(path) => {
            let (line, col) = inline_start(&file.text, span_start);
            let col = if e.line == 1 { col + e.col - 1 } else { e.col };
            ConfigError::Invalid(format!(
                "{}:{}:{col}: {}",
                shown(path),
                line + e.line - 1,
                e.what
            ))
        }
        None => ConfigError::Invalid(format!(
            "targets[{target}].script:{}:{}: {}",
            e.line, e.col, e.what
        )),
    }
}

/// The config file's directory, for a relative `script_file`.
fn relative_to_config(file: &FileConfig, p: &Path) -> PathBuf {
    match file.path.as_ref().and_then(|path| path.parent()) {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p.to_path_buf(),
    }
}

/// Parse every target's script and give the target its [`ScriptFactory`].
pub(super) fn attach(
    engine: &mut EngineSettings,
    file: &FileConfig,
    args: &WatchArgs,
) -> Result<(), ConfigError> {
    let shard = if engine.shard.n() > 1 {
        engine.shard.to_string()
    } else {
        String::new()
    };
    let factory =
        |s: script::Script| -> Option<Arc<dyn crate::engine::conversation::ConversationFactory>> {
            Some(Arc::new(ScriptFactory {
                script: Arc::new(s),
                shard: shard.clone(),
            }))
        };
    if let Some(path) = &args.script {
        if engine.targets.len() != 1 {
            return Err(ConfigError::Invalid(format!(
                "--script runs one target's script, but there are {} targets (give each its \
                 own script or script_file in the config file)",
                engine.targets.len()
            )));
        }
        let s = from_file(path)?;
        engine.targets[0].conversation = factory(s);
        return Ok(());
    }
    for (i, t) in file.targets.iter().enumerate() {
        let s = match (&t.script, &t.script_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid(format!(
                    "targets[{i}]: give script or script_file, not both"
                )));
            }
            (Some(inline), None) => script::parse(inline.get_ref(), &env)
                .map_err(|e| inline_error(file, inline.span().start, i, e))?,
            (None, Some(p)) => from_file(&relative_to_config(file, p))?,
            (None, None) => continue,
        };
        engine.targets[i].conversation = factory(s);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::conversation::{Action, ConnectionInfo, Outgoing};

    /// What the target's script sends first, on session 3's first connection.
    fn first_send(cfg: &crate::config::Config) -> Option<String> {
        let f = cfg.targets[0].conversation.as_ref()?;
        let mut conv = f.start(ConnectionInfo {
            session: 3,
            index: 2,
            attempt: 1,
        });
        let mut out = Vec::new();
        conv.start(tokio::time::Instant::now(), &mut out);
        out.into_iter().find_map(|a| match a {
            Action::Send(Outgoing::Text(t)) => Some(t),
            _ => None,
        })
    }

    #[test]
    fn script_flag_gives_the_target_its_script_with_the_shard() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.wss");
        std::fs::write(&path, "send {session} {index} [{shard}]\n").expect("write");
        let mut args = WatchArgs {
            urls: vec!["ws://127.0.0.1:9/".into()],
            script: Some(path),
            ..Default::default()
        };
        let cfg = crate::config::Config::from_watch_args(&args).expect("valid");
        assert_eq!(first_send(&cfg).as_deref(), Some("s3 2 []"));
        args.shard = Some("2/3".into());
        let cfg = crate::config::Config::from_watch_args(&args).expect("valid");
        assert_eq!(first_send(&cfg).as_deref(), Some("s3 2 [2/3]"));
    }

    #[test]
    fn inline_scripts_start_after_their_quotes() {
        let src = "a = 1\nscript = \"\"\"\nsend x\n\"\"\"\nb = \"send y\"\n";
        let triple = src.find("\"\"\"").expect("triple");
        assert_eq!(inline_start(src, triple), (3, 1));
        let single = src.find("\"send y").expect("single");
        assert_eq!(inline_start(src, single), (5, 6));
        let same_line = "script = '''send z'''";
        assert_eq!(inline_start(same_line, 9), (1, 13));
    }
}
