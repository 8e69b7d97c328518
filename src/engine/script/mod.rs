//! Session scripts: what a session says and waits for on every connection, in a small
//! line-based language (one step per line, `#` comments):
//!
//! ```text
//! close-code 4000                                  # code when a step fails (default 1000)
//! send hello {session}                             # a text message, templates expanded
//! send json {"type":"auth","token":"{env.TOKEN}"}  # JSON: checked at start, templates in strings
//! send hex 0a0b0c                                  # binary (also: send base64 AAEC)
//! expect /^welcome (\w+)$/ within 5s capture user=1
//! expect json {"type":"auth_ok"} within 5s capture id=/payload/id
//! every 30s send json {"type":"ping"}              # from here on, first after 30s
//! on /^ping$/ reply pong                           # from here on, on every match
//! ```
//!
//! [`parse`] checks everything at start (syntax, regexes, JSON, template names, `{env.X}`);
//! [`ScriptFactory`] makes a [`runner::Runner`] (an [`crate::engine::conversation::Conversation`])
//! for every connection, which runs the steps from the top.

pub mod matcher;
pub mod parse;
pub mod runner;
pub mod template;

use std::sync::Arc;
use std::time::Duration;

use crate::engine::conversation::{ConnectionInfo, Conversation, ConversationFactory};
pub use parse::parse;

/// A script that does not parse, at its line and column (from 1, in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{col}: {what}")]
pub struct ParseError {
    pub line: usize,
    pub col: usize,
    pub what: String,
}

impl ParseError {
    pub fn new(line: usize, col: usize, what: impl Into<String>) -> Self {
        ParseError {
            line,
            col,
            what: what.into(),
        }
    }
}

/// The default `close-code`.
pub const DEFAULT_CLOSE_CODE: u16 = 1000;
/// The default `within` of an `expect`.
pub const DEFAULT_WITHIN: Duration = Duration::from_secs(10);

/// A message to send.
#[derive(Debug, Clone)]
pub enum Payload {
    Text(template::Template),
    /// JSON text (checked at parse time) whose templates sit inside strings.
    Json(template::Template),
    Binary(Vec<u8>),
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepKind {
    Send(Payload),
    Expect {
        matcher: matcher::Matcher,
        within: Duration,
        captures: Vec<matcher::Capture>,
    },
    Every {
        period: Duration,
        payload: Payload,
    },
    On {
        matcher: matcher::Matcher,
        reply: Payload,
    },
}

/// One step, with its line in the script and how it is shown (`expect {"type":"ok"} within 5s`).
#[derive(Debug, Clone)]
pub struct Step {
    pub line: usize,
    pub what: String,
    pub kind: StepKind,
}

/// A checked script.
#[derive(Debug, Clone)]
pub struct Script {
    pub close_code: u16,
    pub steps: Vec<Step>,
}

/// Starts a script on every connection of a target's sessions.
#[derive(Debug, Clone)]
pub struct ScriptFactory {
    pub script: Arc<Script>,
    /// This agent's shard as `k/n` (`{shard}`), empty when not sharded.
    pub shard: String,
}

impl ConversationFactory for ScriptFactory {
    fn start(&self, conn: ConnectionInfo) -> Box<dyn Conversation> {
        Box::new(runner::Runner::new(
            self.script.clone(),
            conn,
            self.shard.clone(),
        ))
    }
}
