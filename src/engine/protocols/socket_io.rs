//! Socket.IO (protocol 5) over Engine.IO v4, WebSocket transport only (socket.io-protocol and
//! engine.io-protocol, `v4` and `v5` documents).
//!
//! ```text
//! 0{"sid":..,"pingInterval":25000,"pingTimeout":20000,..}   step 1: the open packet; the
//!                                                        session is stale after interval+timeout
//! -> 40 | 40/ns, [auth JSON]                             step 2: expect the namespace's 40{...}
//! 40{"sid":..} | 40/ns,{"sid":..}                        matched; emit 42["name",data] ...
//! 44{"message":..}                                       connect refused: error, close 1000
//! 2 -> 3                                                 Engine.IO heartbeat, always answered
//! ```
//!
//! Socket.IO has no close codes of its own: a server that misses our pong for `pingTimeout`
//! drops us with a close frame without a code (1005), and an Engine.IO "1" (close) packet comes
//! before it when the server closes on purpose.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use super::{Options, Protocol, ProtocolError, say, shown};
use crate::engine::conversation::{
    Action, ConnectionInfo, Conversation, ConversationFactory, Incoming, Outgoing,
};
use crate::engine::events::{ErrorKind, EventKind, ScriptEvent, ScriptPhase};

/// Give a URL Socket.IO's Engine.IO endpoint: `/socket.io/` when it has no path, and
/// `EIO=4&transport=websocket` added to its query unless it names them already.
pub fn socket_io_url(url: &mut Url) {
    if matches!(url.path(), "" | "/") {
        url.set_path("/socket.io/");
    }
    let has = |k: &str| url.query_pairs().any(|(name, _)| name == k);
    let (eio, transport) = (has("EIO"), has("transport"));
    let mut q = url.query_pairs_mut();
    if !eio {
        q.append_pair("EIO", "4");
    }
    if !transport {
        q.append_pair("transport", "websocket");
    }
}

/// A target's Socket.IO settings: one conversation per connection.
pub struct SocketIo {
    timeout: Duration,
    namespace: String,
    /// `40` or `40/ns,`, with the auth payload.
    connect: String,
    /// `42["name",data]` for each configured event, namespaced.
    emits: Vec<String>,
}

impl SocketIo {
    pub fn new(opts: Options) -> Result<Self, ProtocolError> {
        let p = Protocol::SocketIo;
        Options::refuse(p, "init_payload", opts.init_payload.is_some())?;
        Options::refuse(p, "subscribe_query", opts.subscribe_query.is_some())?;
        Options::refuse(p, "subscribe_variables", opts.subscribe_variables.is_some())?;
        Options::object(p, "auth", &opts.auth)?;
        let namespace = opts.namespace.clone().unwrap_or_else(|| "/".into());
        if !namespace.starts_with('/') || namespace.contains(',') || namespace.contains('?') {
            return Err(ProtocolError::Option {
                protocol: p.name(),
                option: "namespace",
                problem: "must start with / and hold no , or ?".into(),
            });
        }
        let prefix = |kind: char| match namespace.as_str() {
            "/" => format!("4{kind}"),
            ns => format!("4{kind}{ns},"),
        };
        let mut connect = prefix('0');
        if let Some(auth) = &opts.auth {
            connect.push_str(&auth.to_string());
        }
        let mut emits = Vec::new();
        for (name, data) in &opts.emit {
            // `["name"]` when there is no data.
            let mut event = vec![Value::from(name.as_str())];
            if !data.is_null() {
                event.push(data.clone());
            }
            let event = Value::Array(event);
            emits.push(format!("{}{event}", prefix('2')));
        }
        Ok(SocketIo {
            timeout: opts.timeout,
            namespace,
            connect,
            emits,
        })
    }
}

/// Never shows the auth payload nor the events' data.
impl std::fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIo")
            .field("namespace", &self.namespace)
            .field("emits", &self.emits.len())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ConversationFactory for SocketIo {
    fn start(&self, _conn: ConnectionInfo) -> Box<dyn Conversation> {
        Box::new(Talk {
            timeout: self.timeout,
            namespace: self.namespace.clone(),
            connect: self.connect.clone(),
            emits: self.emits.clone(),
            phase: Phase::Init,
            due: None,
            last: None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Init,
    /// Waiting for Engine.IO's open packet (step 1).
    WaitOpen,
    /// `40` sent, waiting for the namespace's answer (step 2).
    WaitConnect,
    Ready,
    Failed,
}

/// One connection's Socket.IO conversation.
pub struct Talk {
    timeout: Duration,
    namespace: String,
    connect: String,
    emits: Vec<String>,
    phase: Phase,
    due: Option<Instant>,
    last: Option<String>,
}

fn script(step: u32, phase: ScriptPhase, what: String, last: Option<String>) -> Action {
    Action::Emit(EventKind::Script(std::sync::Arc::new(ScriptEvent {
        step,
        steps: 0,
        phase,
        what,
        last,
        captured: Vec::new(),
    })))
}

fn send(v: &str) -> Action {
    Action::Send(Outgoing::Text(v.to_string()))
}

/// A Socket.IO packet inside an Engine.IO message (`4...`): its type digit and the rest after
/// the namespace (`/ns,`), when the namespace is `ns`.
fn packet<'a>(text: &'a str, namespace: &str) -> Option<(char, &'a str)> {
    let rest = text.strip_prefix('4')?;
    let kind = rest.chars().next()?;
    let rest = &rest[kind.len_utf8()..];
    let rest = match namespace {
        "/" if rest.starts_with('/') => return None,
        "/" => rest,
        ns => rest.strip_prefix(ns)?.strip_prefix(',')?,
    };
    Some((kind, rest))
}

impl Talk {
    fn step_what(&self, step: u32) -> String {
        match step {
            1 => format!("expect open packet within {}", say(self.timeout)),
            _ => format!(
                "expect namespace {} connect within {}",
                self.namespace,
                say(self.timeout)
            ),
        }
    }

    /// Engine.IO's open packet: the heartbeat sets the stale threshold; connect the namespace.
    fn on_open(&mut self, json: &str, now: Instant, out: &mut Vec<Action>) {
        let Ok(open) = serde_json::from_str::<Value>(json) else {
            return;
        };
        let ms = |k: &str| open.get(k).and_then(Value::as_u64);
        out.push(script(1, ScriptPhase::Matched, self.step_what(1), None));
        if let (Some(interval), Some(timeout)) = (ms("pingInterval"), ms("pingTimeout")) {
            out.push(Action::StaleAfter(Some(Duration::from_millis(
                interval.saturating_add(timeout),
            ))));
        }
        out.push(send(&self.connect));
        self.phase = Phase::WaitConnect;
        self.due = Some(now + self.timeout);
        out.push(script(2, ScriptPhase::Started, self.step_what(2), None));
    }

    fn fail(&mut self, message: String, reason: &str, out: &mut Vec<Action>) {
        self.phase = Phase::Failed;
        self.due = None;
        out.push(Action::Emit(EventKind::Error {
            kind: ErrorKind::Script,
            message,
        }));
        out.push(Action::Close {
            code: 1000,
            reason: reason.into(),
        });
    }
}

impl Conversation for Talk {
    fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.phase = Phase::WaitOpen;
        self.due = Some(now + self.timeout);
        out.push(script(1, ScriptPhase::Started, self.step_what(1), None));
    }

    fn on_message(&mut self, msg: Incoming<'_>, now: Instant, out: &mut Vec<Action>) {
        let Incoming::Text(text) = msg else {
            // Binary attachments (`5` packets): not this client's business.
            return;
        };
        self.last = Some(shown(text));
        if text == "2" {
            out.push(send("3"));
            return;
        }
        match self.phase {
            Phase::WaitOpen => {
                if let Some(json) = text.strip_prefix('0') {
                    self.on_open(json, now, out);
                }
            }
            Phase::WaitConnect => match packet(text, &self.namespace) {
                Some(('0', _)) => {
                    self.phase = Phase::Ready;
                    self.due = None;
                    out.push(script(2, ScriptPhase::Matched, self.step_what(2), None));
                    out.extend(self.emits.iter().map(|e| send(e)));
                }
                Some(('4', why)) => {
                    let message = format!(
                        "step 2: namespace {} refused the connection: {}",
                        self.namespace,
                        shown(why)
                    );
                    let reason = format!("namespace {} refused", self.namespace);
                    self.fail(message, &reason, out);
                }
                _ => {}
            },
            Phase::Init | Phase::Ready | Phase::Failed => {}
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.due
    }

    fn on_deadline(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.due.is_none_or(|t| t > now) {
            return;
        }
        let (step, reason) = match self.phase {
            Phase::WaitOpen => (1, "open packet timed out"),
            Phase::WaitConnect => (2, "namespace connect timed out"),
            _ => return,
        };
        let what = self.step_what(step);
        out.push(script(
            step,
            ScriptPhase::TimedOut,
            what.clone(),
            self.last.clone(),
        ));
        self.fail(format!("step {step}: {what} timed out"), reason, out);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::engine::protocols::test_support::{conn, sent};

    #[test]
    fn urls_get_the_engine_io_endpoint() {
        let fix = |s: &str| {
            let mut u = Url::parse(s).expect("url");
            socket_io_url(&mut u);
            u.to_string()
        };
        assert_eq!(
            fix("ws://h:1"),
            "ws://h:1/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(
            fix("wss://h/?token=a"),
            "wss://h/socket.io/?token=a&EIO=4&transport=websocket"
        );
        assert_eq!(
            fix("ws://h/custom/?EIO=4&transport=websocket"),
            "ws://h/custom/?EIO=4&transport=websocket"
        );
        assert_eq!(fix("ws://h/io"), "ws://h/io?EIO=4&transport=websocket");
    }

    #[test]
    fn open_connect_heartbeat_and_emits() {
        let f = SocketIo::new(Options {
            namespace: Some("/chat".into()),
            auth: Some(json!({"token": "ok"})),
            emit: vec![
                ("hello".into(), json!({"n": 1})),
                ("bye".into(), json!(2)),
                ("ping".into(), Value::Null),
            ],
            ..Options::default()
        })
        .expect("options");
        let mut c = f.start(conn());
        let t0 = Instant::now();
        let mut out = Vec::new();
        c.start(t0, &mut out);
        assert!(sent(&out).is_empty(), "the server speaks first");
        assert_eq!(c.next_deadline(), Some(t0 + Duration::from_secs(10)));
        out.clear();
        let open = r#"0{"sid":"a","upgrades":[],"pingInterval":300,"pingTimeout":200}"#;
        c.on_message(Incoming::Text(open), t0, &mut out);
        assert!(out.contains(&Action::StaleAfter(Some(Duration::from_millis(500)))));
        assert_eq!(sent(&out), [r#"40/chat,{"token":"ok"}"#]);
        out.clear();
        c.on_message(Incoming::Text("2"), t0, &mut out);
        assert_eq!(sent(&out), ["3"]);
        out.clear();
        // Another namespace's answer is not ours.
        c.on_message(Incoming::Text(r#"40{"sid":"x"}"#), t0, &mut out);
        assert!(out.is_empty(), "{out:?}");
        c.on_message(Incoming::Text(r#"40/chat,{"sid":"b"}"#), t0, &mut out);
        assert_eq!(
            sent(&out),
            [
                r#"42/chat,["hello",{"n":1}]"#,
                r#"42/chat,["bye",2]"#,
                r#"42/chat,["ping"]"#
            ]
        );
        assert_eq!(c.next_deadline(), None);
    }

    #[test]
    fn a_refused_namespace_is_an_error_and_a_close() {
        let f = SocketIo::new(Options::default()).expect("options");
        let mut c = f.start(conn());
        let t0 = Instant::now();
        let mut out = Vec::new();
        c.start(t0, &mut out);
        c.on_message(Incoming::Text("0not json"), t0, &mut out);
        assert!(sent(&out).is_empty(), "a bad open packet matches nothing");
        c.on_message(Incoming::Text(r#"0{"sid":"a"}"#), t0, &mut out);
        assert_eq!(sent(&out), ["40"]);
        assert!(!out.iter().any(|a| matches!(a, Action::StaleAfter(_))));
        out.clear();
        c.on_message(
            Incoming::Text(r#"44{"message":"not authorized"}"#),
            t0,
            &mut out,
        );
        assert!(out.iter().any(|a| matches!(
            a,
            Action::Emit(EventKind::Error { kind: ErrorKind::Script, message })
                if message == r#"step 2: namespace / refused the connection: {"message":"not authorized"}"#
        )), "{out:?}");
        assert_eq!(
            out.last(),
            Some(&Action::Close {
                code: 1000,
                reason: "namespace / refused".into()
            })
        );
    }

    #[test]
    fn a_silent_server_times_the_open_packet_out() {
        let f = SocketIo::new(Options {
            timeout: Duration::from_secs(2),
            ..Options::default()
        })
        .expect("options");
        let mut c = f.start(conn());
        let t0 = Instant::now();
        let mut out = Vec::new();
        c.start(t0, &mut out);
        out.clear();
        c.on_deadline(t0 + Duration::from_secs(1), &mut out);
        assert!(out.is_empty(), "not due yet");
        c.on_deadline(t0 + Duration::from_secs(2), &mut out);
        assert!(out.iter().any(|a| matches!(
            a,
            Action::Emit(EventKind::Script(s))
                if s.phase == ScriptPhase::TimedOut && s.what == "expect open packet within 2s"
        )));
        assert_eq!(
            out.last(),
            Some(&Action::Close {
                code: 1000,
                reason: "open packet timed out".into()
            })
        );
    }

    #[test]
    fn bad_namespaces_are_refused() {
        for ns in ["chat", "/a,b"] {
            let e = SocketIo::new(Options {
                namespace: Some(ns.into()),
                ..Options::default()
            })
            .expect_err("bad namespace");
            assert!(e.to_string().contains("must start with /"), "{e}");
        }
    }
}
