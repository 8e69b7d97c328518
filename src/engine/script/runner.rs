//! Runs a script on one connection: a [`Conversation`] (a plain state machine, driven by the
//! open loop with the times things happened).
//!
//! Steps run from the top: a `send` goes out at once, an `expect` waits (recording `script`
//! `started`, then `matched` with its captures or `timed_out`; a timeout records an `error` of
//! kind `script` and closes with the script's `close-code`), `every` and `on` stay active from
//! the step that reaches them to the end of the connection.
//!
//! Latency (`latency` events, source `rpc`): when an `expect` matches, the time since the
//! `send` it answers. That `send` is the latest one since the previous `expect` whose message
//! contains one of the values the `expect` just captured (a request id), or else simply the
//! latest `send` since the previous `expect`. An `expect` with no `send` before it (since the
//! previous one) records no latency; `every` and `on` never do.

use std::sync::Arc;

use rand::{Rng as _, SeedableRng as _};
use tokio::time::Instant;

use super::matcher::Heard;
use super::template::{Var, Vars};
use super::{Payload, Script, StepKind};
use crate::engine::conversation::{Action, ConnectionInfo, Conversation, Incoming, Outgoing};
use crate::engine::events::{ErrorKind, EventKind, LatencySource, ScriptEvent, ScriptPhase};

/// How much of the last message a `timed_out` event shows (characters).
pub const LAST_SHOWN: usize = 120;
/// How much of the last message is kept to show it (bytes).
const LAST_KEPT: usize = 1024;
/// How many sends since the last `expect` are remembered for latency.
const SENDS_KEPT: usize = 16;

/// The values of one connection's template variables.
struct Ctx {
    conn: ConnectionInfo,
    shard: String,
    captures: Vec<(String, String)>,
    rng: Option<rand::rngs::SmallRng>,
}

impl Vars for Ctx {
    fn value(&mut self, var: &Var) -> String {
        match var {
            Var::Session => format!("s{}", self.conn.session),
            Var::Index => self.conn.index.to_string(),
            Var::Attempt => self.conn.attempt.to_string(),
            Var::Shard => self.shard.clone(),
            Var::NowMs => chrono::Utc::now().timestamp_millis().to_string(),
            Var::Uuid => {
                let rng = self
                    .rng
                    .get_or_insert_with(rand::rngs::SmallRng::from_os_rng);
                uuid_v4(rng.random())
            }
            Var::Capture(name) => self
                .captures
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
        }
    }
}

/// A random (version 4) UUID from 128 random bits.
fn uuid_v4(bits: u128) -> String {
    let b = (bits & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let h = format!("{b:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// An `expect` waiting: since when and until when.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    since: Instant,
    deadline: Instant,
}

/// One connection's run of a script.
pub struct Runner {
    script: Arc<Script>,
    ctx: Ctx,
    /// The next step to run.
    pc: usize,
    waiting: Option<Waiting>,
    /// The sends since the last `expect` matched: when, and the text (for correlation).
    sends: Vec<(Instant, String)>,
    /// Active `every` steps: the step and when it next sends.
    every: Vec<(usize, Instant)>,
    /// Active `on` steps.
    on: Vec<usize>,
    /// The start of the last message that came, and its full length.
    last: Option<(String, usize)>,
    /// A step failed: the connection is closing.
    failed: bool,
}

impl Runner {
    pub fn new(script: Arc<Script>, conn: ConnectionInfo, shard: String) -> Self {
        Runner {
            script,
            ctx: Ctx {
                conn,
                shard,
                captures: Vec::new(),
                rng: None,
            },
            pc: 0,
            waiting: None,
            sends: Vec::new(),
            every: Vec::new(),
            on: Vec::new(),
            last: None,
            failed: false,
        }
    }

    fn render(&mut self, payload: &Payload) -> Outgoing {
        match payload {
            Payload::Text(t) => Outgoing::Text(t.render(&mut self.ctx, false)),
            Payload::Json(t) => Outgoing::Text(t.render(&mut self.ctx, true)),
            Payload::Binary(b) => Outgoing::Binary(b.clone()),
        }
    }

    fn event(&self, step: usize, phase: ScriptPhase) -> ScriptEvent {
        ScriptEvent {
            step: step as u32 + 1,
            steps: self.script.steps.len() as u32,
            phase,
            what: crate::redact::json_secrets(&self.script.steps[step].what).into_owned(),
            last: None,
            captured: Vec::new(),
        }
    }

    /// Run steps from `pc` until one waits or the script ends.
    fn run(&mut self, now: Instant, out: &mut Vec<Action>) {
        let script = self.script.clone();
        while self.waiting.is_none() && !self.failed {
            let Some(step) = script.steps.get(self.pc) else {
                return;
            };
            match &step.kind {
                StepKind::Send(p) => {
                    let msg = self.render(p);
                    if self.sends.len() == SENDS_KEPT {
                        self.sends.remove(0);
                    }
                    let text = match &msg {
                        Outgoing::Text(t) => t.clone(),
                        Outgoing::Binary(_) => String::new(),
                    };
                    self.sends.push((now, text));
                    out.push(Action::Send(msg));
                }
                StepKind::Expect { within, .. } => {
                    out.push(Action::Emit(EventKind::Script(Arc::new(
                        self.event(self.pc, ScriptPhase::Started),
                    ))));
                    self.waiting = Some(Waiting {
                        since: now,
                        deadline: now + *within,
                    });
                    return;
                }
                StepKind::Every { period, .. } => self.every.push((self.pc, now + *period)),
                StepKind::On { .. } => self.on.push(self.pc),
            }
            self.pc += 1;
        }
    }

    /// The waiting `expect` heard a message it matches: record it, measure the latency, go on.
    fn matched(&mut self, values: Vec<String>, now: Instant, out: &mut Vec<Action>) {
        let script = self.script.clone();
        let step = &script.steps[self.pc];
        let StepKind::Expect { captures, .. } = &step.kind else {
            return;
        };
        let mut ev = self.event(self.pc, ScriptPhase::Matched);
        let policy = crate::redact::policy();
        for (c, v) in captures.iter().zip(&values) {
            let shown = if policy.is_secret_header(&c.name) {
                crate::redact::REDACTED.to_string()
            } else {
                cut(&crate::redact::escape_control(v), LAST_SHOWN)
            };
            ev.captured.push((c.name.clone(), shown));
        }
        out.push(Action::Emit(EventKind::Script(Arc::new(ev))));
        let sent = self
            .sends
            .iter()
            .rev()
            .find(|(_, text)| {
                values
                    .iter()
                    .any(|v| !v.is_empty() && text.contains(v.as_str()))
            })
            .or(self.sends.last())
            .map(|(t, _)| *t);
        if let Some(sent) = sent {
            out.push(Action::Emit(EventKind::Latency {
                us: now.saturating_duration_since(sent).as_micros() as u64,
                source: LatencySource::Rpc,
                step: self.pc as u32 + 1,
            }));
        }
        self.sends.clear();
        for (c, v) in captures.iter().zip(values) {
            self.ctx.captures.retain(|(n, _)| n != &c.name);
            self.ctx.captures.push((c.name.clone(), v));
        }
        self.waiting = None;
        self.pc += 1;
        self.run(now, out);
    }

    /// The last message, as shown: JSON secrets redacted, control characters escaped, cut.
    fn last_shown(&self) -> Option<String> {
        let (text, len) = self.last.as_ref()?;
        let shown = crate::redact::scrub_shapes(&crate::redact::json_secrets(text)).into_owned();
        let mut shown = cut(&crate::redact::escape_control(&shown), LAST_SHOWN);
        if *len > text.len() && !shown.ends_with("...") {
            shown.push_str("...");
        }
        Some(shown)
    }
}

/// `s` cut to `max` characters, with `...` when cut.
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &s[..at]),
        None => s.to_string(),
    }
}

/// Keep the start of a message in `last`, to show it later (at most [`LAST_KEPT`] bytes, on a
/// char boundary), reusing its buffer.
fn keep(last: &mut Option<(String, usize)>, msg: Incoming<'_>) {
    let (buf, len) = last.get_or_insert_with(|| (String::new(), 0));
    buf.clear();
    match msg {
        Incoming::Text(t) => {
            let mut end = t.len().min(LAST_KEPT);
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            buf.push_str(&t[..end]);
            *len = t.len();
        }
        Incoming::Binary(b) => {
            use std::fmt::Write as _;
            let _ = write!(buf, "<binary, {} bytes>", b.len());
            *len = 0;
        }
    }
}

impl Conversation for Runner {
    fn start(&mut self, now: Instant, out: &mut Vec<Action>) {
        self.run(now, out);
    }

    fn on_message(&mut self, msg: Incoming<'_>, now: Instant, out: &mut Vec<Action>) {
        // Done (no `expect` waiting, no `on` step): nothing to match, nothing can time out, so
        // the message is not even kept as the last one (a feed costs nothing past its script).
        if !self.listening() {
            return;
        }
        keep(&mut self.last, msg);
        let script = self.script.clone();
        let mut heard = Heard::new(msg);
        for k in 0..self.on.len() {
            let i = self.on[k];
            if let StepKind::On { matcher, reply } = &script.steps[i].kind
                && matcher.matches(&mut heard)
            {
                let msg = self.render(reply);
                out.push(Action::Send(msg));
            }
        }
        if self.waiting.is_none() {
            return;
        }
        if let StepKind::Expect {
            matcher, captures, ..
        } = &script.steps[self.pc].kind
            && let Some(values) = matcher.capture(&mut heard, captures)
        {
            self.matched(values, now, out);
        }
    }

    fn listening(&self) -> bool {
        !(self.failed || (self.waiting.is_none() && self.on.is_empty()))
    }

    fn next_deadline(&self) -> Option<Instant> {
        if self.failed {
            return None;
        }
        let every = self.every.iter().map(|(_, t)| *t).min();
        match (self.waiting.map(|w| w.deadline), every) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn on_deadline(&mut self, now: Instant, out: &mut Vec<Action>) {
        if self.failed {
            return;
        }
        if let Some(w) = self.waiting.filter(|w| w.deadline <= now) {
            self.failed = true;
            let mut ev = self.event(self.pc, ScriptPhase::TimedOut);
            ev.last = self.last_shown();
            let step = ev.step;
            let message = format!(
                "step {step}: {} timed out; {}",
                ev.what,
                match &ev.last {
                    Some(l) => format!("last message: {l}"),
                    None => "no message came".to_string(),
                }
            );
            let within = match &self.script.steps[self.pc].kind {
                StepKind::Expect { within, .. } => *within,
                _ => now.duration_since(w.since),
            };
            let waited = crate::units::format_ms(within.as_millis() as u64);
            out.push(Action::Emit(EventKind::Script(Arc::new(ev))));
            out.push(Action::Emit(EventKind::Error {
                kind: ErrorKind::Script,
                message,
            }));
            out.push(Action::Close {
                code: self.script.close_code,
                reason: format!("script step {step} timed out after {waited}"),
            });
            return;
        }
        let script = self.script.clone();
        for k in 0..self.every.len() {
            let (i, at) = self.every[k];
            if at > now {
                continue;
            }
            if let StepKind::Every { period, payload } = &script.steps[i].kind {
                let msg = self.render(payload);
                out.push(Action::Send(msg));
                let next = at + *period;
                self.every[k].1 = if next <= now { now + *period } else { next };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "TOKEN").then(|| "s3cr3t".to_string())
    }

    fn runner(text: &str) -> Runner {
        let script = super::super::parse(text, &env).expect("script");
        Runner::new(
            Arc::new(script),
            ConnectionInfo {
                session: 7,
                index: 6,
                attempt: 2,
            },
            "2/3".into(),
        )
    }

    fn ms(t0: Instant, n: u64) -> Instant {
        t0 + Duration::from_millis(n)
    }

    fn sent(out: &[Action]) -> Vec<String> {
        out.iter()
            .filter_map(|a| match a {
                Action::Send(Outgoing::Text(t)) => Some(t.clone()),
                Action::Send(Outgoing::Binary(b)) => Some(format!("bin{b:?}")),
                _ => None,
            })
            .collect()
    }

    fn scripts(out: &[Action]) -> Vec<ScriptEvent> {
        out.iter()
            .filter_map(|a| match a {
                Action::Emit(EventKind::Script(e)) => Some((**e).clone()),
                _ => None,
            })
            .collect()
    }

    fn latencies(out: &[Action]) -> Vec<(u64, u32)> {
        out.iter()
            .filter_map(|a| match a {
                Action::Emit(EventKind::Latency { us, step, .. }) => Some((*us, *step)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn sends_expects_captures_and_latency_in_order() {
        let mut r = runner(
            "send hello {session} {index} {attempt} {shard}\n\
             send json {\"type\":\"auth\",\"token\":\"{env.TOKEN}\"}\n\
             expect /^welcome (\\w+) (\\S+)$/ within 5s capture user=1 token=2\n\
             send json {\"who\":\"{user}\",\"q\":\"a\\\"{token}\"}\n\
             send base64 AAEC\n",
        );
        let t0 = Instant::now();
        let mut out = Vec::new();
        r.start(t0, &mut out);
        assert_eq!(
            sent(&out),
            ["hello s7 6 2 2/3", r#"{"type":"auth","token":"s3cr3t"}"#]
        );
        let ev = scripts(&out);
        assert_eq!(ev.len(), 1);
        assert_eq!((ev[0].step, ev[0].phase), (3, ScriptPhase::Started));
        assert_eq!(ev[0].what, r"expect /^welcome (\w+) (\S+)$/ within 5s");
        assert_eq!(r.next_deadline(), Some(ms(t0, 5000)));

        // Not a match: binary, another text. Nothing happens.
        out.clear();
        r.on_message(Incoming::Binary(b"welcome x y"), ms(t0, 10), &mut out);
        r.on_message(Incoming::Text("welcome"), ms(t0, 20), &mut out);
        assert!(out.is_empty(), "{out:?}");

        r.on_message(Incoming::Text("welcome ada q\"t"), ms(t0, 42), &mut out);
        let ev = scripts(&out);
        assert_eq!(ev[0].phase, ScriptPhase::Matched);
        assert_eq!(
            ev[0].captured,
            [
                ("user".to_string(), "ada".to_string()),
                ("token".to_string(), "<redacted>".to_string())
            ]
        );
        assert_eq!(latencies(&out), [(42_000, 3)]);
        assert_eq!(
            sent(&out),
            [
                r#"{"who":"ada","q":"a\"q\"t"}"#.to_string(),
                "bin[0, 1, 2]".into()
            ]
        );
        assert_eq!(r.next_deadline(), None);
    }

    #[test]
    fn a_timeout_records_the_step_the_last_message_and_closes_with_the_code() {
        let mut r = runner(
            "close-code 4000\nsend ping\nexpect json {\"type\":\"auth_ok\"} within 2s\nsend never\n",
        );
        let t0 = Instant::now();
        let mut out = Vec::new();
        r.start(t0, &mut out);
        out.clear();
        let long = format!(
            "{{\"type\":\"nope\",\"password\":\"hunter2\",\"x\":\"\u{1b}[31m{}\"}}",
            "y".repeat(300)
        );
        r.on_message(Incoming::Text(&long), ms(t0, 100), &mut out);
        assert!(out.is_empty());
        // Not yet.
        r.on_deadline(ms(t0, 1999), &mut out);
        assert!(out.is_empty());
        r.on_deadline(ms(t0, 2000), &mut out);
        let ev = scripts(&out);
        assert_eq!((ev[0].step, ev[0].phase), (2, ScriptPhase::TimedOut));
        let last = ev[0].last.clone().expect("last");
        assert!(
            last.starts_with(r#"{"type":"nope","password":"<redacted>","x":"\u{1b}[31myyy"#),
            "{last}"
        );
        assert!(!last.contains("hunter2"));
        assert_eq!(last.chars().count(), LAST_SHOWN + 3, "{last}");
        match &out[1] {
            Action::Emit(EventKind::Error { kind, message }) => {
                assert_eq!(*kind, ErrorKind::Script);
                assert!(
                    message.starts_with(
                        r#"step 2: expect {"type":"auth_ok"} within 2s timed out; last message: {"type":"nope""#
                    ),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            out[2],
            Action::Close {
                code: 4000,
                reason: "script step 2 timed out after 2.0s".into()
            }
        );
        assert_eq!(out.len(), 3);
        // A failed run is over: no more deadlines, messages or sends.
        assert_eq!(r.next_deadline(), None);
        out.clear();
        r.on_message(Incoming::Text("x"), ms(t0, 2100), &mut out);
        assert!(out.is_empty());
    }

    /// The session stops handing messages to a script that can no longer use them (its last
    /// `expect` matched, no `on` step) and keeps handing them while an `on` step listens.
    #[test]
    fn a_finished_script_stops_listening_an_on_step_keeps_it() {
        let t0 = Instant::now();
        let mut out = Vec::new();
        let mut r = runner("expect json {\"type\":\"tick\"} within 5s\n");
        r.start(t0, &mut out);
        assert!(r.listening(), "waiting for its expect");
        r.on_message(Incoming::Text("{\"type\":\"tock\"}"), ms(t0, 10), &mut out);
        assert!(
            r.listening(),
            "still waiting after a message that does not match"
        );
        r.on_message(
            Incoming::Text("{\"type\":\"tick\",\"seq\":1}"),
            ms(t0, 20),
            &mut out,
        );
        assert!(!r.listening(), "done once its only expect matched");
        assert_eq!(r.next_deadline(), None);

        let mut r = runner("expect /^ready$/ within 5s\non /^ping$/ reply pong\n");
        r.start(t0, &mut out);
        r.on_message(Incoming::Text("ready"), ms(t0, 10), &mut out);
        assert!(r.listening(), "an on step answers every later message");
        out.clear();
        r.on_message(Incoming::Text("ping"), ms(t0, 20), &mut out);
        assert_eq!(sent(&out), ["pong"]);
    }

    #[test]
    fn no_message_at_all_says_so() {
        let mut r = runner("expect /x/ within 1s");
        let t0 = Instant::now();
        let mut out = Vec::new();
        r.start(t0, &mut out);
        r.on_deadline(ms(t0, 1000), &mut out);
        assert!(out.iter().any(|a| matches!(a,
            Action::Emit(EventKind::Error { message, .. })
                if message == "step 1: expect /x/ within 1s timed out; no message came")));
        assert!(matches!(out.last(), Some(Action::Close { code: 1000, .. })));
    }

    #[test]
    fn every_and_on_stay_active_from_where_they_are_reached() {
        let mut r = runner(
            "on /^ping (\\d+)$/ reply pong\n\
             expect /^ready$/\n\
             every 1s send json {\"type\":\"hb\",\"n\":\"{index}\"}\n\
             on json {\"type\":\"ping\"} reply json {\"type\":\"pong\"}\n",
        );
        let t0 = Instant::now();
        let mut out = Vec::new();
        r.start(t0, &mut out);
        out.clear();
        // The first `on` is active, the second not yet.
        r.on_message(Incoming::Text("ping 1"), ms(t0, 5), &mut out);
        r.on_message(Incoming::Text(r#"{"type":"ping"}"#), ms(t0, 6), &mut out);
        assert_eq!(sent(&out), ["pong"]);
        out.clear();
        r.on_message(Incoming::Text("ready"), ms(t0, 10), &mut out);
        // No send before the expect: no latency.
        assert!(latencies(&out).is_empty());
        assert_eq!(r.next_deadline(), Some(ms(t0, 1010)));
        out.clear();
        r.on_message(
            Incoming::Text(r#"{"type":"ping","x":1}"#),
            ms(t0, 20),
            &mut out,
        );
        assert_eq!(sent(&out), [r#"{"type":"pong"}"#]);
        out.clear();
        r.on_deadline(ms(t0, 1010), &mut out);
        assert_eq!(sent(&out), [r#"{"type":"hb","n":"6"}"#]);
        assert_eq!(r.next_deadline(), Some(ms(t0, 2010)));
        // A late wake-up sends once and does not burst.
        out.clear();
        r.on_deadline(ms(t0, 5500), &mut out);
        assert_eq!(sent(&out).len(), 1);
        assert_eq!(r.next_deadline(), Some(ms(t0, 6500)));
    }

    #[test]
    fn latency_is_correlated_by_a_captured_id() {
        let mut r = runner(
            "send json {\"id\":\"a1\"}\nsend json {\"id\":\"b2\"}\nsend json {\"id\":\"c3\"}\n\
             expect json {\"type\":\"result\"} capture id=/id\n\
             send again\nexpect /again/\n",
        );
        let t0 = Instant::now();
        let mut out = Vec::new();
        r.start(t0, &mut out);
        out.clear();
        r.on_message(
            Incoming::Text(r#"{"type":"result","id":"b2"}"#),
            ms(t0, 30),
            &mut out,
        );
        assert_eq!(latencies(&out), [(30_000, 4)]);
        out.clear();
        r.on_message(Incoming::Text("again"), ms(t0, 45), &mut out);
        // Measured from the `send again` (at 30 ms), by order.
        assert_eq!(latencies(&out), [(15_000, 6)]);
    }

    #[test]
    fn uuids_are_version_4() {
        let u = uuid_v4(u128::MAX);
        assert_eq!(u, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        let u = uuid_v4(0);
        assert_eq!(u, "00000000-0000-4000-8000-000000000000");
    }
}
