//! The open loop's conversation seam and message health, against the scenario server: what a
//! conversation sends goes on the wire, what the server says reaches it, its deadlines fire,
//! its close ends the attempt as a `script` failure that is retried; a silent server makes the
//! session stale, a message makes it fresh, `--stale-action reconnect` closes and retries.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{config, run_until, target};
use tokio::time::Instant;
use wsmon::engine::conversation::{
    Action, ConnectionInfo, Conversation, ConversationFactory, Incoming, Outgoing,
};
use wsmon::engine::events::{ErrorKind, EventKind, LatencySource};
use wsmon::engine::settings::StaleAction;
use wsmon::state::snapshot::Snapshot;

const LIMIT: Duration = Duration::from_secs(20);

/// Sends `hello` at start and `again` `later` after it; records the echo's latency; when
/// `expect_within` passes with no echo, fails like a script step.
#[derive(Debug, Clone, Copy)]
struct Hello {
    /// What to send first ("hello" is what it waits for).
    say: &'static str,
    later: Option<Duration>,
    expect_within: Duration,
}

struct HelloTalk {
    plan: Hello,
    sent: Option<Instant>,
    again_at: Option<Instant>,
    done: bool,
}

impl ConversationFactory for Hello {
    fn start(&self, _conn: ConnectionInfo) -> Box<dyn Conversation> {
        Box::new(HelloTalk {
            plan: *self,
            sent: None,
            again_at: None,
            done: false,
        })
    }
}

impl Conversation for HelloTalk {
    fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
        out.push(Action::Send(Outgoing::Text(self.plan.say.into())));
        self.sent = Some(now);
        self.again_at = self.plan.later.map(|d| now + d);
    }
    fn on_message(&mut self, msg: Incoming<'_>, now: Instant, out: &mut Vec<Action>) {
        if let (Incoming::Text("hello"), Some(sent), false) = (msg, self.sent, self.done) {
            self.done = true;
            out.push(Action::Emit(EventKind::Latency {
                us: now.duration_since(sent).as_micros() as u64,
                source: LatencySource::Rpc,
                step: 1,
            }));
        }
    }
    fn next_deadline(&self) -> Option<Instant> {
        match (self.done, self.sent) {
            (false, Some(sent)) => Some(sent + self.plan.expect_within),
            _ => self.again_at,
        }
    }
    fn on_deadline(&mut self, now: Instant, out: &mut Vec<Action>) {
        if !self.done {
            self.done = true;
            out.push(Action::Emit(EventKind::Error {
                kind: ErrorKind::Script,
                message: "step 1: expect hello timed out".into(),
            }));
            out.push(Action::Close {
                code: 4001,
                reason: "expect timed out".into(),
            });
        } else if self.again_at.is_some_and(|t| t <= now) {
            self.again_at = None;
            out.push(Action::Send(Outgoing::Text("again".into())));
        }
    }
}

fn seen(s: &Snapshot, event: &str) -> bool {
    s.events.iter().any(|e| e.event == event)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_talks_and_measures_the_answer() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut t = target(&server.url("/echo"), 2);
    t.conversation = Some(Arc::new(Hello {
        say: "hello",
        later: None,
        expect_within: Duration::from_secs(5),
    }));
    let run = run_until(config(vec![t]), LIMIT, |s| {
        s.counters
            .iter()
            .flatten()
            .filter(|c| c.msgs_in >= 1 && c.msgs_out >= 1)
            .count()
            == 2
    })
    .await;
    let latencies = run.of("latency");
    assert_eq!(latencies.len(), 2, "{latencies:?}");
    for l in latencies {
        assert_eq!(l["source"], "rpc");
        let ms = l["latency_ms"].as_f64().expect("latency_ms");
        assert!(ms > 0.0 && ms < 5000.0, "{ms}");
    }
    assert!(run.of("error").is_empty(), "{:?}", run.of("error"));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_that_times_out_closes_with_its_code_and_is_retried() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    // The echo of "nope" is not the "hello" it waits for.
    let mut t = target(&server.url("/echo"), 1);
    t.conversation = Some(Arc::new(Hello {
        say: "nope",
        later: None,
        expect_within: Duration::from_millis(200),
    }));
    let mut cfg = config(vec![t]);
    cfg.backoff.base = Duration::from_millis(50);
    let run = run_until(cfg, LIMIT, |s| seen(s, "backoff")).await;
    let error = run.of("error");
    assert!(
        error.iter().any(|e| e["kind"] == "script"),
        "a script error is recorded: {error:?}"
    );
    let closed = run.of("closed");
    assert_eq!(closed[0]["code"], 4001, "{closed:?}");
    assert_eq!(closed[0]["initiator"], "client");
    assert_eq!(closed[0]["reason"], "expect timed out");
    assert_eq!(closed[0]["close_why"], "script");
    let backoff = run.of("backoff");
    assert_eq!(backoff[0]["cause"]["type"], "error", "{backoff:?}");
    assert_eq!(backoff[0]["cause"]["kind"], "script", "{backoff:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_makes_the_session_stale_and_a_message_fresh() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut t = target(&server.url("/echo"), 1);
    // "hello" is echoed at once; "again" 600 ms later ends the silence.
    t.conversation = Some(Arc::new(Hello {
        say: "hello",
        later: Some(Duration::from_millis(600)),
        expect_within: Duration::from_secs(5),
    }));
    let mut cfg = config(vec![t]);
    cfg.session.stale_after = Some(Duration::from_millis(250));
    let run = run_until(cfg, LIMIT, |s| seen(s, "fresh")).await;
    let stale = run.of("stale");
    let fresh = run.of("fresh");
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert_eq!(fresh.len(), 1, "{fresh:?}");
    let silent = stale[0]["silent_ms"].as_u64().expect("silent_ms");
    assert!((250..600).contains(&silent), "stale after {silent} ms");
    let silent = fresh[0]["silent_ms"].as_u64().expect("silent_ms");
    assert!((500..5000).contains(&silent), "fresh after {silent} ms");
    assert!(run.of("closed").iter().all(|c| c["code"] == 1001));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_action_reconnect_closes_and_retries() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let t = target(&server.url("/echo"), 1);
    let mut cfg = config(vec![t]);
    cfg.session.stale_after = Some(Duration::from_millis(200));
    cfg.session.stale_action = StaleAction::Reconnect { code: 4000 };
    cfg.backoff.base = Duration::from_millis(50);
    let run = run_until(cfg, LIMIT, |s| seen(s, "backoff")).await;
    let closed = run.of("closed");
    assert_eq!(closed[0]["code"], 4000, "{closed:?}");
    assert_eq!(closed[0]["initiator"], "client");
    assert_eq!(closed[0]["close_why"], "stale");
    let reason = closed[0]["reason"].as_str().expect("reason");
    assert!(reason.starts_with("stale: no message for "), "{reason}");
    let backoff = run.of("backoff");
    assert_eq!(backoff[0]["cause"]["kind"], "stale", "{backoff:?}");
    server.shutdown().await;
}
