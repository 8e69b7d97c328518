//! graphql-ws: the graphql-transport-ws protocol (enisdenjo/graphql-ws, PROTOCOL.md).
//!
//! ```text
//! open  -> {"type":"connection_init","payload":...}     step 1: expect connection_ack
//! {"type":"connection_ack"}                             matched; subscribe (step 2) if asked
//! {"type":"ping"}  -> {"type":"pong"}                   always, at any time
//! every ping_interval -> {"type":"ping"}; its pong      a `latency` sample (source ping)
//! {"type":"next","id":"1"}                              step 2 matched on the first; counted
//! {"type":"error"|"complete","id":"1"}                  step 3: the subscription ended
//! ```
//!
//! No `connection_ack` within the timeout: a `script` error and a close with 1000 "connection_ack
//! timed out" (the session retries per its policy). The server's own close codes (4400, 4401,
//! 4403, 4408, 4409, 4429, 4500 ...) are explained by the `graphql-ws` profile.

use serde_json::{Value, json};
use tokio::time::Instant;

use super::{Options, Protocol, ProtocolError, say, shown};
use crate::engine::conversation::{
    Action, ConnectionInfo, Conversation, ConversationFactory, Incoming, Outgoing,
};
use crate::engine::events::{ErrorKind, EventKind, LatencySource, ScriptEvent, ScriptPhase};

/// The subprotocol graphql-ws servers require (they close 4406 without it).
pub const SUBPROTOCOL: &str = "graphql-transport-ws";
/// The id of the one subscription wsmon starts.
pub const SUBSCRIPTION_ID: &str = "1";

/// A target's graphql-ws settings: one conversation per connection.
pub struct GraphqlWs {
    opts: Options,
    /// The `connection_init` message, built once.
    init: String,
    /// The `subscribe` message, built once.
    subscribe: Option<String>,
}

impl GraphqlWs {
    pub fn new(opts: Options) -> Result<Self, ProtocolError> {
        let p = Protocol::GraphqlWs;
        Options::refuse(p, "namespace", opts.namespace.is_some())?;
        Options::refuse(p, "auth", opts.auth.is_some())?;
        Options::refuse(p, "emit", !opts.emit.is_empty())?;
        Options::object(p, "init_payload", &opts.init_payload)?;
        Options::object(p, "subscribe_variables", &opts.subscribe_variables)?;
        if opts.subscribe_variables.is_some() && opts.subscribe_query.is_none() {
            return Err(ProtocolError::Option {
                protocol: p.name(),
                option: "subscribe_variables",
                problem: "needs subscribe_query".into(),
            });
        }
        let init = match &opts.init_payload {
            Some(payload) => json!({"type": "connection_init", "payload": payload}),
            None => json!({"type": "connection_init"}),
        };
        let subscribe = opts.subscribe_query.as_ref().map(|query| {
            let mut payload = json!({ "query": query });
            if let Some(v) = &opts.subscribe_variables {
                payload["variables"] = v.clone();
            }
            json!({"id": SUBSCRIPTION_ID, "type": "subscribe", "payload": payload}).to_string()
        });
        Ok(GraphqlWs {
            init: init.to_string(),
            subscribe,
            opts,
        })
    }
}

/// Never shows the `connection_init` payload (it usually carries a token).
impl std::fmt::Debug for GraphqlWs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphqlWs")
            .field(
                "init_payload",
                &self.opts.init_payload.as_ref().map(|_| "<redacted>"),
            )
            .field("subscribe", &self.subscribe.is_some())
            .field("timeout", &self.opts.timeout)
            .field("ping_interval", &self.opts.ping_interval)
            .finish()
    }
}

impl ConversationFactory for GraphqlWs {
    fn start(&self, _conn: ConnectionInfo) -> Box<dyn Conversation> {
        Box::new(Talk {
            init: self.init.clone(),
            subscribe: self.subscribe.clone(),
            timeout: self.opts.timeout,
            ping_interval: self.opts.ping_interval,
            phase: Phase::Init,
            ack_by: None,
            next_ping: None,
            ping_sent: None,
            nexts: 0,
            last: None,
        })
    }
}

/// Where the conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Not started yet.
    Init,
    /// `connection_init` sent, waiting for `connection_ack`.
    WaitAck,
    /// Acknowledged: pings, and the subscription if any.
    Ready,
    /// The ack timed out: the close is under way.
    Failed,
}

/// One connection's graphql-ws conversation.
pub struct Talk {
    init: String,
    subscribe: Option<String>,
    timeout: std::time::Duration,
    ping_interval: Option<std::time::Duration>,
    phase: Phase,
    ack_by: Option<Instant>,
    next_ping: Option<Instant>,
    /// Our `ping` waiting for its `pong`.
    ping_sent: Option<Instant>,
    /// `next` messages of our subscription so far.
    nexts: u64,
    /// The last message from the server (shown when a step times out).
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

impl Talk {
    /// `next` messages of the subscription so far.
    pub fn nexts(&self) -> u64 {
        self.nexts
    }

    fn ack_what(&self) -> String {
        format!("expect connection_ack within {}", say(self.timeout))
    }

    fn on_ack(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.phase = Phase::Ready;
        self.ack_by = None;
        out.push(script(1, ScriptPhase::Matched, self.ack_what(), None));
        if let Some(sub) = &self.subscribe {
            out.push(send(sub));
            out.push(script(
                2,
                ScriptPhase::Started,
                format!("subscribe {SUBSCRIPTION_ID}: expect next"),
                None,
            ));
        }
        self.next_ping = self.ping_interval.map(|p| now + p);
    }

    /// A message of the subscription: `next`, `error` or `complete`.
    fn on_operation(&mut self, kind: &str, msg: &Value, out: &mut Vec<Action>) {
        if msg.get("id").and_then(Value::as_str) != Some(SUBSCRIPTION_ID) {
            return;
        }
        match kind {
            "next" => {
                self.nexts += 1;
                if self.nexts == 1 {
                    let what = format!("subscribe {SUBSCRIPTION_ID}: expect next");
                    out.push(script(2, ScriptPhase::Matched, what, None));
                }
            }
            "complete" => out.push(script(
                3,
                ScriptPhase::Matched,
                format!(
                    "subscription {SUBSCRIPTION_ID} complete after {} next",
                    self.nexts
                ),
                None,
            )),
            _ => {
                let payload = msg.get("payload").map(Value::to_string).unwrap_or_default();
                out.push(script(
                    3,
                    ScriptPhase::Matched,
                    format!(
                        "subscription {SUBSCRIPTION_ID} error after {} next",
                        self.nexts
                    ),
                    Some(shown(&payload)),
                ));
            }
        }
    }
}

impl Conversation for Talk {
    fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
        out.push(send(&self.init));
        self.phase = Phase::WaitAck;
        self.ack_by = Some(now + self.timeout);
        out.push(script(1, ScriptPhase::Started, self.ack_what(), None));
    }

    fn on_message(&mut self, msg: Incoming<'_>, now: Instant, out: &mut Vec<Action>) {
        let Incoming::Text(text) = msg else {
            self.last = Some(format!("<binary, {} bytes>", msg_len(msg)));
            return;
        };
        self.last = Some(shown(text));
        // Not JSON, or without a type: not a message of this protocol; it matches nothing.
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return;
        };
        let Some(kind) = v.get("type").and_then(Value::as_str) else {
            return;
        };
        match (kind, self.phase) {
            ("ping", _) => out.push(send(r#"{"type":"pong"}"#)),
            ("pong", _) => {
                if let Some(sent) = self.ping_sent.take() {
                    out.push(Action::Emit(EventKind::Latency {
                        us: now.saturating_duration_since(sent).as_micros() as u64,
                        source: LatencySource::Ping,
                        step: 0,
                    }));
                }
            }
            ("connection_ack", Phase::WaitAck) => self.on_ack(now, out),
            ("next" | "error" | "complete", Phase::Ready) => self.on_operation(kind, &v, out),
            _ => {}
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        match self.phase {
            Phase::WaitAck => self.ack_by,
            Phase::Ready => self.next_ping,
            Phase::Init | Phase::Failed => None,
        }
    }

    fn on_deadline(&mut self, now: Instant, out: &mut Vec<Action>) {
        match self.phase {
            Phase::WaitAck if self.ack_by.is_some_and(|t| t <= now) => {
                self.phase = Phase::Failed;
                let what = self.ack_what();
                out.push(script(
                    1,
                    ScriptPhase::TimedOut,
                    what.clone(),
                    self.last.clone(),
                ));
                out.push(Action::Emit(EventKind::Error {
                    kind: ErrorKind::Script,
                    message: format!("step 1: {what} timed out"),
                }));
                out.push(Action::Close {
                    code: 1000,
                    reason: "connection_ack timed out".into(),
                });
            }
            Phase::Ready if self.next_ping.is_some_and(|t| t <= now) => {
                out.push(send(r#"{"type":"ping"}"#));
                self.ping_sent = Some(now);
                self.next_ping = self.ping_interval.map(|p| now + p);
            }
            _ => {}
        }
    }
}

fn msg_len(msg: Incoming<'_>) -> usize {
    match msg {
        Incoming::Text(t) => t.len(),
        Incoming::Binary(b) => b.len(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::protocols::test_support::{conn, sent};

    fn scripts(out: &[Action]) -> Vec<(u32, ScriptPhase, String)> {
        out.iter()
            .filter_map(|a| match a {
                Action::Emit(EventKind::Script(s)) => Some((s.step, s.phase, s.what.clone())),
                _ => None,
            })
            .collect()
    }

    fn subscribing() -> Options {
        Options {
            init_payload: Some(json!({"token": "t0k"})),
            subscribe_query: Some("subscription { tick }".into()),
            subscribe_variables: Some(json!({"n": 1})),
            ping_interval: Some(Duration::from_secs(15)),
            ..Options::default()
        }
    }

    #[test]
    fn init_ack_subscribe_next_and_pings() {
        let f = GraphqlWs::new(subscribing()).expect("options");
        let mut c = f.start(conn());
        let t0 = Instant::now();
        let mut out = Vec::new();
        c.start(t0, &mut out);
        assert_eq!(
            sent(&out),
            [r#"{"payload":{"token":"t0k"},"type":"connection_init"}"#]
        );
        assert_eq!(
            scripts(&out),
            [(
                1,
                ScriptPhase::Started,
                "expect connection_ack within 10s".into()
            )]
        );
        assert_eq!(c.next_deadline(), Some(t0 + Duration::from_secs(10)));

        out.clear();
        c.on_message(Incoming::Text(r#"{"type":"ping"}"#), t0, &mut out);
        assert_eq!(sent(&out), [r#"{"type":"pong"}"#], "pings are answered");
        out.clear();
        let t1 = t0 + Duration::from_millis(5);
        c.on_message(Incoming::Text(r#"{"type":"connection_ack"}"#), t1, &mut out);
        let sub: Value = serde_json::from_str(&sent(&out)[0]).expect("json");
        assert_eq!(
            sub,
            json!({"id":"1","type":"subscribe",
                   "payload":{"query":"subscription { tick }","variables":{"n":1}}})
        );
        assert_eq!(scripts(&out)[0].1, ScriptPhase::Matched);
        assert_eq!(scripts(&out)[1].0, 2);
        assert_eq!(c.next_deadline(), Some(t1 + Duration::from_secs(15)));

        out.clear();
        let next = r#"{"id":"1","type":"next","payload":{"data":{"tick":1}}}"#;
        c.on_message(Incoming::Text(next), t1, &mut out);
        c.on_message(Incoming::Text(next), t1, &mut out);
        c.on_message(Incoming::Text(r#"{"id":"9","type":"next"}"#), t1, &mut out);
        assert_eq!(
            scripts(&out),
            [(2, ScriptPhase::Matched, "subscribe 1: expect next".into())],
            "only the first next of our subscription is an event"
        );

        out.clear();
        let t2 = t1 + Duration::from_secs(15);
        c.on_deadline(t2, &mut out);
        assert_eq!(sent(&out), [r#"{"type":"ping"}"#]);
        out.clear();
        c.on_message(
            Incoming::Text(r#"{"type":"pong"}"#),
            t2 + Duration::from_millis(3),
            &mut out,
        );
        assert!(matches!(
            out[..],
            [Action::Emit(EventKind::Latency {
                us: 3000,
                source: LatencySource::Ping,
                step: 0
            })]
        ));

        out.clear();
        let err = r#"{"id":"1","type":"error","payload":[{"message":"boom"}]}"#;
        c.on_message(Incoming::Text(err), t2, &mut out);
        assert_eq!(
            scripts(&out),
            [(
                3,
                ScriptPhase::Matched,
                "subscription 1 error after 2 next".into()
            )]
        );
    }

    #[test]
    fn a_missing_ack_fails_the_step_and_closes_1000() {
        let f = GraphqlWs::new(Options::default()).expect("options");
        let mut c = f.start(conn());
        let t0 = Instant::now();
        let mut out = Vec::new();
        c.start(t0, &mut out);
        assert_eq!(sent(&out), [r#"{"type":"connection_init"}"#]);
        c.on_message(Incoming::Text("not json\u{7}"), t0, &mut out);
        c.on_message(Incoming::Text(r#"{"type":"next","id":"1"}"#), t0, &mut out);
        c.on_message(Incoming::Binary(&[1, 2]), t0, &mut out);
        out.clear();
        c.on_deadline(t0 + Duration::from_secs(10), &mut out);
        let timed_out = out.iter().find_map(|a| match a {
            Action::Emit(EventKind::Script(s)) => Some(s.clone()),
            _ => None,
        });
        let timed_out = timed_out.expect("a script event");
        assert_eq!(timed_out.phase, ScriptPhase::TimedOut);
        assert_eq!(timed_out.last.as_deref(), Some("<binary, 2 bytes>"));
        assert!(out.iter().any(|a| matches!(
            a,
            Action::Emit(EventKind::Error { kind: ErrorKind::Script, message })
                if message == "step 1: expect connection_ack within 10s timed out"
        )));
        assert_eq!(
            out.last(),
            Some(&Action::Close {
                code: 1000,
                reason: "connection_ack timed out".into()
            })
        );
        assert_eq!(c.next_deadline(), None);
    }

    #[test]
    fn debug_never_shows_the_init_payload() {
        let f = GraphqlWs::new(subscribing()).expect("options");
        let shown = format!("{f:?}");
        assert!(!shown.contains("t0k"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    #[test]
    fn bad_options_are_refused() {
        let e = GraphqlWs::new(Options {
            subscribe_variables: Some(json!({})),
            ..Options::default()
        })
        .expect_err("variables without a query");
        assert!(e.to_string().contains("needs subscribe_query"), "{e}");
        let e = GraphqlWs::new(Options {
            init_payload: Some(json!([1])),
            ..Options::default()
        })
        .expect_err("payload must be an object");
        assert!(e.to_string().contains("init_payload must be"), "{e}");
    }
}
