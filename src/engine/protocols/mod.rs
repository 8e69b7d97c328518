//! Built-in protocols (`--protocol NAME`, config `protocol = "NAME"`): conversations the user
//! does not have to write, as plain state machines behind the [`Conversation`] seam.
//!
//! ```text
//! graphql_ws   graphql-transport-ws (enisdenjo/graphql-ws PROTOCOL.md): connection_init,
//!              connection_ack, ping/pong both ways, one optional subscription
//! socket_io    Socket.IO 5 over Engine.IO v4, WebSocket transport only: open packet, namespace
//!              connect, "2" -> "3", events to emit
//! ```
//!
//! A protocol also shapes its target ([`Protocol::prepare`]): graphql-ws offers its subprotocol,
//! Socket.IO gets its `/socket.io/` path and query.
//!
//! [`Conversation`]: crate::engine::conversation::Conversation

pub mod graphql_ws;
pub mod socket_io;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::engine::conversation::ConversationFactory;
use crate::engine::settings::TargetSpec;
use crate::redact::escape_control;

/// The protocols wsmon speaks itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    GraphqlWs,
    SocketIo,
}

/// Every protocol's name, as `--protocol` takes it.
pub const KNOWN: [&str; 2] = ["graphql-ws", "socket.io"];

/// What went wrong building a protocol from its name and options.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("unknown protocol \"{0}\" (known: graphql-ws, socket.io)")]
    Unknown(String),
    #[error("protocol {protocol}: option {option} {problem}")]
    Option {
        protocol: &'static str,
        option: &'static str,
        problem: String,
    },
}

impl std::str::FromStr for Protocol {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "graphql-ws" | "graphql-transport-ws" => Ok(Protocol::GraphqlWs),
            "socket.io" | "socketio" | "socket-io" => Ok(Protocol::SocketIo),
            other => Err(ProtocolError::Unknown(escape_control(other))),
        }
    }
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::GraphqlWs => "graphql-ws",
            Protocol::SocketIo => "socket.io",
        }
    }

    /// The close-code profile (`assets/profiles/`) that explains this protocol's codes, if it
    /// has application codes of its own (Socket.IO has none: it drops a client with a close
    /// frame without a code).
    pub fn profile(self) -> Option<&'static str> {
        match self {
            Protocol::GraphqlWs => Some("graphql-ws"),
            Protocol::SocketIo => None,
        }
    }

    /// Shape `target` for this protocol (subprotocol, URL) and give it the conversation.
    pub fn prepare(self, target: &mut TargetSpec, opts: Options) -> Result<(), ProtocolError> {
        let factory: Arc<dyn ConversationFactory> = match self {
            Protocol::GraphqlWs => {
                if !target
                    .subprotocols
                    .iter()
                    .any(|p| p == graphql_ws::SUBPROTOCOL)
                {
                    target
                        .subprotocols
                        .push(graphql_ws::SUBPROTOCOL.to_string());
                }
                Arc::new(graphql_ws::GraphqlWs::new(opts)?)
            }
            Protocol::SocketIo => {
                socket_io::socket_io_url(&mut target.url);
                Arc::new(socket_io::SocketIo::new(opts)?)
            }
        };
        target.conversation = Some(factory);
        Ok(())
    }
}

/// A protocol's options (config `[targets.protocol_options]`), templates already expanded.
/// Each protocol uses its own and refuses the others'. No `Debug`: the payloads carry tokens.
#[derive(Clone, PartialEq)]
pub struct Options {
    /// graphql-ws `connection_init` payload; Socket.IO: not used (see `auth`).
    pub init_payload: Option<Value>,
    /// graphql-ws: start one subscription with this query after `connection_ack`.
    pub subscribe_query: Option<String>,
    /// graphql-ws: the subscription's variables (a JSON object).
    pub subscribe_variables: Option<Value>,
    /// Socket.IO namespace to connect (`/` by default).
    pub namespace: Option<String>,
    /// Socket.IO: the namespace connect's auth payload (a JSON object).
    pub auth: Option<Value>,
    /// Socket.IO: events emitted once the namespace is connected, `42["name",data]`.
    pub emit: Vec<(String, Value)>,
    /// How long each step waits (connection_ack; the open packet, the namespace connect).
    pub timeout: Duration,
    /// graphql-ws: our own `ping` period (its `pong` gives the latency); `None`: no pings.
    pub ping_interval: Option<Duration>,
}

/// What a step waits for by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// graphql-ws: our `ping` period by default.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(15);

impl Default for Options {
    fn default() -> Self {
        Options {
            init_payload: None,
            subscribe_query: None,
            subscribe_variables: None,
            namespace: None,
            auth: None,
            emit: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            ping_interval: Some(DEFAULT_PING_INTERVAL),
        }
    }
}

impl Options {
    fn refuse(protocol: Protocol, option: &'static str, set: bool) -> Result<(), ProtocolError> {
        if set {
            return Err(ProtocolError::Option {
                protocol: protocol.name(),
                option,
                problem: "is not one of this protocol's options".into(),
            });
        }
        Ok(())
    }

    fn object(
        protocol: Protocol,
        option: &'static str,
        v: &Option<Value>,
    ) -> Result<(), ProtocolError> {
        match v {
            Some(v) if !v.is_object() => Err(ProtocolError::Option {
                protocol: protocol.name(),
                option,
                problem: "must be a JSON object".into(),
            }),
            _ => Ok(()),
        }
    }
}

/// A message from the peer as shown in a record: control characters escaped, cut to
/// [`SHOWN`] characters.
pub(crate) fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN) {
        Some((at, _)) => format!("{}...", escape_control(&text[..at])),
        None => escape_control(text),
    }
}

/// The longest excerpt of a peer's message kept in a record.
pub(crate) const SHOWN: usize = 120;

/// "10s", "1.5s", "300ms": a timeout as a step's `what` says it.
pub(crate) fn say(d: Duration) -> String {
    let ms = d.as_millis();
    match (ms % 1000, ms % 100) {
        (0, _) => format!("{}s", ms / 1000),
        _ if ms < 1000 => format!("{ms}ms"),
        (_, 0) => format!("{}.{}s", ms / 1000, (ms % 1000) / 100),
        _ => format!("{ms}ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> TargetSpec {
        TargetSpec::new(url::Url::parse(url).expect("url"), 1)
    }

    #[test]
    fn names_parse_and_unknown_ones_list_the_known() {
        assert_eq!("graphql-ws".parse(), Ok(Protocol::GraphqlWs));
        assert_eq!("socket.io".parse(), Ok(Protocol::SocketIo));
        let e = "stomp\u{1b}".parse::<Protocol>().expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "unknown protocol \"stomp\\u{1b}\" (known: graphql-ws, socket.io)"
        );
    }

    #[test]
    fn graphql_ws_offers_its_subprotocol_once() {
        let mut t = target("ws://127.0.0.1:1/graphql");
        t.subprotocols.push("graphql-transport-ws".into());
        Protocol::GraphqlWs
            .prepare(&mut t, Options::default())
            .expect("prepare");
        assert_eq!(t.subprotocols, ["graphql-transport-ws"]);
        assert!(t.conversation.is_some());
        let mut t = target("ws://127.0.0.1:1/graphql");
        Protocol::GraphqlWs
            .prepare(&mut t, Options::default())
            .expect("prepare");
        assert_eq!(t.subprotocols, ["graphql-transport-ws"]);
    }

    #[test]
    fn options_of_the_other_protocol_are_refused() {
        let mut t = target("ws://127.0.0.1:1/");
        let opts = Options {
            namespace: Some("/chat".into()),
            ..Options::default()
        };
        let e = Protocol::GraphqlWs
            .prepare(&mut t, opts)
            .expect_err("namespace is Socket.IO's");
        assert_eq!(
            e.to_string(),
            "protocol graphql-ws: option namespace is not one of this protocol's options"
        );
        let opts = Options {
            auth: Some(Value::from("token")),
            ..Options::default()
        };
        let e = Protocol::SocketIo
            .prepare(&mut t, opts)
            .expect_err("auth must be an object");
        assert_eq!(
            e.to_string(),
            "protocol socket.io: option auth must be a JSON object"
        );
    }

    #[test]
    fn timeouts_are_said_as_written() {
        let ms = Duration::from_millis;
        assert_eq!(say(ms(10_000)), "10s");
        assert_eq!(say(ms(300)), "300ms");
        assert_eq!(say(ms(1500)), "1.5s");
        assert_eq!(say(ms(1234)), "1234ms");
    }

    #[test]
    fn shown_messages_are_escaped_and_cut() {
        assert_eq!(shown("a\nb"), "a\\nb");
        let long = "x".repeat(200);
        assert_eq!(shown(&long), format!("{}...", "x".repeat(SHOWN)));
    }
}

/// What the protocols' unit tests share: a connection and the texts a step sent.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::engine::conversation::{Action, ConnectionInfo, Outgoing};

    pub fn conn() -> ConnectionInfo {
        ConnectionInfo {
            session: 1,
            index: 0,
            attempt: 1,
        }
    }

    pub fn sent(out: &[Action]) -> Vec<String> {
        out.iter()
            .filter_map(|a| match a {
                Action::Send(Outgoing::Text(t)) => Some(t.clone()),
                _ => None,
            })
            .collect()
    }
}
