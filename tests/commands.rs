//! Operator commands reach the sessions: close with a code, reconnect now, pause and resume
//! retries, add and remove sessions. Real server on loopback, virtual clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{config, target};
use tokio::sync::watch;
use wsmon::codes::Registry;
use wsmon::engine::events::{Command, SessionState};
use wsmon::runtime::Request;
use wsmon::state::snapshot::Snapshot;

/// The runtime's command sender, taking engine commands.
struct Commands(tokio::sync::mpsc::Sender<Request>);

impl Commands {
    async fn send(&self, cmd: Command) -> Result<(), tokio::sync::mpsc::error::SendError<Request>> {
        self.0.send(cmd.into()).await
    }
}

async fn until(
    rx: &mut watch::Receiver<Arc<Snapshot>>,
    what: &str,
    f: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    let r = tokio::time::timeout(Duration::from_secs(600), async {
        loop {
            let s = rx.borrow_and_update().clone();
            if !s.sessions.is_empty() && f(&s) {
                return s;
            }
            rx.changed().await.expect("engine alive");
        }
    })
    .await;
    r.unwrap_or_else(|_| {
        panic!(
            "timed out waiting for: {what}; last: {:?}",
            rx.borrow().totals
        )
    })
}

#[tokio::test(start_paused = true)]
async fn close_pause_reconnect_add_and_remove() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![
        target(&server.url("/echo"), 2),
        target(&server.url("/overload?cap=0"), 1),
    ]);
    cfg.session.connect_timeout = Duration::from_secs(120);
    let registry = Arc::new(Registry::builtin().clone());
    let engine =
        wsmon::runtime::live(cfg.engine.clone(), registry, cfg.export.as_deref()).expect("runtime");
    let mut rx = engine.snapshots.clone();
    let cmd = Commands(engine.commands.clone());

    let s = until(&mut rx, "echo sessions open", |s| {
        s.totals.by_state[SessionState::Open.index()] == 2
    })
    .await;
    let first = s
        .sessions
        .iter()
        .find(|v| v.target == 0)
        .expect("echo session")
        .id;

    // c: close with a chosen code; the session ends and says why, without retrying.
    cmd.send(Command::Close {
        session: first,
        code: 4001,
        reason: "bye".into(),
    })
    .await
    .expect("send");
    let s = until(&mut rx, "closed by operator", |s| {
        s.sessions
            .iter()
            .any(|v| v.id == first && v.state == SessionState::Closed && v.ended_why.is_some())
    })
    .await;
    let v = &s.sessions[s.index_of(first).expect("still listed")];
    let c = v.last_close.as_ref().expect("close recorded");
    assert_eq!(
        (c.code, c.initiator.as_str(), c.reason.as_str()),
        (4001, "client", "bye")
    );
    assert!(
        v.ended_why
            .as_deref()
            .is_some_and(|w| w.contains("operator"))
    );

    // r on an ended session: it connects again at once.
    cmd.send(Command::ReconnectNow {
        session: Some(first),
    })
    .await
    .expect("send");
    until(&mut rx, "reconnected", |s| {
        s.sessions
            .iter()
            .any(|v| v.id == first && v.state == SessionState::Open && v.attempt == 2)
    })
    .await;

    // P: pause all; the overloaded session waits and makes no new attempt while paused.
    let over = s
        .sessions
        .iter()
        .find(|v| v.target == 1)
        .expect("overload session")
        .id;
    until(&mut rx, "overload waiting", |s| {
        s.sessions
            .iter()
            .any(|v| v.id == over && v.state == SessionState::Waiting)
    })
    .await;
    cmd.send(Command::SetPaused {
        session: None,
        paused: true,
    })
    .await
    .expect("send");
    let s = until(&mut rx, "paused", |s| s.totals.paused_all).await;
    let attempts = s.totals.attempts;
    tokio::time::sleep(Duration::from_secs(300)).await;
    let s = rx.borrow().clone();
    assert_eq!(s.totals.attempts, attempts, "no attempt while paused");
    assert_eq!(
        s.sessions[s.index_of(over).expect("listed")].state,
        SessionState::Waiting
    );
    cmd.send(Command::SetPaused {
        session: None,
        paused: false,
    })
    .await
    .expect("send");
    until(&mut rx, "resumed and retried", |s| {
        s.totals.attempts > attempts && !s.totals.paused_all
    })
    .await;

    // a: add sessions to a new URL; +/-: grow and shrink a target.
    cmd.send(Command::AddSessions {
        url: server.url("/nodeflate"),
        count: 3,
    })
    .await
    .expect("send");
    until(&mut rx, "3 added", |s| {
        s.targets.len() == 3 && s.targets[2].sessions == 3
    })
    .await;
    cmd.send(Command::Grow {
        target: 0,
        count: 2,
    })
    .await
    .expect("send");
    until(&mut rx, "grown", |s| s.targets[0].sessions == 4).await;
    cmd.send(Command::Shrink {
        target: 2,
        count: 2,
    })
    .await
    .expect("send");
    let s = until(&mut rx, "shrunk", |s| s.targets[2].sessions == 1).await;
    assert_eq!(s.sessions.iter().filter(|v| v.target == 2).count(), 1);
    cmd.send(Command::AddSessions {
        url: "http://not-websocket/".into(),
        count: 1,
    })
    .await
    .expect("send");

    let (last, _) = engine.shutdown().await;
    assert!(
        last.sessions.iter().all(|v| v.state != SessionState::Open),
        "shutdown closes every session"
    );
    server.shutdown().await;
}

/// `R` reconnects only sessions waiting for a retry: open sessions keep their connection. `r`
/// on a waiting session runs its pending attempt at once and keeps the attempt number, so when
/// that attempt fails the session waits the next (doubled) window; the timeline keeps one row
/// per attempt, the manual one marked.
#[tokio::test(start_paused = true)]
async fn shift_r_leaves_open_sessions_alone_and_r_keeps_the_attempt_number() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![
        target(&server.url("/echo"), 3),
        target(&server.url("/overload?cap=0"), 2),
    ]);
    cfg.session.connect_timeout = Duration::from_secs(120);
    cfg.backoff.jitter = wsmon::engine::events::Jitter::None;
    let registry = Arc::new(Registry::builtin().clone());
    let engine =
        wsmon::runtime::live(cfg.engine.clone(), registry, cfg.export.as_deref()).expect("runtime");
    let mut rx = engine.snapshots.clone();
    let cmd = Commands(engine.commands.clone());

    // The overloaded sessions are turned away and wait, with growing windows.
    let s = until(
        &mut rx,
        "echo open, overload waiting after three attempts",
        |s| {
            s.totals.by_state[SessionState::Open.index()] == 3
                && s.sessions
                    .iter()
                    .filter(|v| v.target == 1)
                    .all(|v| v.state == SessionState::Waiting && v.attempt >= 3)
        },
    )
    .await;
    let open: Vec<_> = s
        .sessions
        .iter()
        .filter(|v| v.target == 0)
        .cloned()
        .collect();
    let before: u64 = s
        .sessions
        .iter()
        .filter(|v| v.target == 1)
        .map(|v| u64::from(v.attempt))
        .sum();

    // R: the waiting sessions try again at once; the open ones are not touched.
    cmd.send(Command::ReconnectNow { session: None })
        .await
        .expect("send");
    let s = until(&mut rx, "both waiting sessions tried again", |s| {
        s.sessions
            .iter()
            .filter(|v| v.target == 1)
            .map(|v| u64::from(v.attempt))
            .sum::<u64>()
            == before + 2
    })
    .await;
    for o in &open {
        let now = &s.sessions[s.index_of(o.id).expect("still listed")];
        assert_eq!(now.state, SessionState::Open, "s{} stays open", o.id);
        assert_eq!(now.attempt, 1, "s{} was not reconnected", o.id);
        assert_eq!(now.opened_at, o.opened_at, "s{}: same connection", o.id);
        assert!(now.last_close.is_none(), "s{} was not closed", o.id);
    }

    // r on one waiting session: its pending attempt runs now and keeps its number.
    let s = until(&mut rx, "waiting again", |s| {
        s.sessions
            .iter()
            .filter(|v| v.target == 1)
            .all(|v| v.state == SessionState::Waiting)
    })
    .await;
    let v = s
        .sessions
        .iter()
        .find(|v| v.target == 1)
        .expect("overload session");
    let (id, attempt) = (v.id, v.attempt);
    let pending = v.timeline.back().expect("a pending retry").clone();
    assert_eq!(pending.attempt, attempt + 1);
    assert!(pending.started_at.is_none());
    let window = pending.window_ms.expect("a backoff window");
    cmd.send(Command::ReconnectNow { session: Some(id) })
        .await
        .expect("send");
    let s = until(
        &mut rx,
        "the manual attempt failed and a new wait began",
        |s| {
            s.index_of(id).is_some_and(|i| {
                let v = &s.sessions[i];
                v.attempt == attempt + 1 && v.state == SessionState::Waiting
            })
        },
    )
    .await;
    let v = &s.sessions[s.index_of(id).expect("listed")];
    let numbers: Vec<u32> = v.timeline.iter().map(|r| r.attempt).collect();
    let mut unique = numbers.clone();
    unique.dedup();
    assert_eq!(numbers, unique, "one row per attempt: {numbers:?}");
    let manual = v
        .timeline
        .iter()
        .find(|r| r.attempt == attempt + 1)
        .expect("the manual attempt's row");
    assert!(manual.manual && manual.started_at.is_some(), "{manual:?}");
    assert_eq!(manual.window_ms, Some(window), "the row keeps its window");
    let next = v.timeline.back().expect("the next pending retry");
    assert_eq!(next.attempt, attempt + 2);
    assert!(!next.manual);
    assert_eq!(
        next.window_ms,
        Some((window * 2).min(60_000)),
        "a failure after r waits the next window, not the first"
    );
    engine.shutdown().await;
}
