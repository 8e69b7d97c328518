//! Reconnect policy and the backoff timeline against the scenario server (issue: reconnect
//! policy). Backoff timing runs under `tokio::time::pause`: the server is real and on loopback,
//! the clock is virtual, so minutes of backoff take milliseconds.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{config, run_until, target};
use serde_json::Value;
use wsmon::engine::events::{Jitter, SessionState};

/// Virtual time limit.
const LIMIT: Duration = Duration::from_secs(900);

fn by_session<'a>(events: &'a [&'a Value]) -> BTreeMap<u64, Vec<&'a Value>> {
    let mut m: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    for e in events {
        m.entry(e["session"].as_u64().expect("session id"))
            .or_default()
            .push(e);
    }
    m
}

fn ms(v: &Value, k: &str) -> u64 {
    v[k].as_u64()
        .unwrap_or_else(|| panic!("{k} missing in {v}"))
}

async fn overload_run(jitter: Jitter, retries: usize) -> common::Run {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![target(&server.url("/overload?cap=10"), 100)]);
    cfg.session.connect_timeout = Duration::from_secs(120);
    cfg.backoff.jitter = jitter;
    cfg.backoff.cap = Duration::from_secs(16);
    let run = run_until(cfg, LIMIT, |s| {
        s.totals.by_state[SessionState::Open.index()] == 10
            && s.sessions
                .iter()
                .filter(|v| v.timeline.len() > retries)
                .count()
                == 90
    })
    .await;
    server.shutdown().await;
    run
}

#[tokio::test(start_paused = true)]
async fn overload_1013_backs_off_doubling_windows_exactly_with_jitter_none() {
    let run = overload_run(Jitter::None, 6).await;
    let backoffs = run.of("backoff");
    let per = by_session(&backoffs);
    assert_eq!(
        per.len(),
        90,
        "exactly the 90 sessions closed with 1013 back off"
    );
    for (id, list) in &per {
        let windows: Vec<u64> = list.iter().map(|b| ms(b, "window_ms")).collect();
        assert_eq!(
            &windows[..6],
            &[1000, 2000, 4000, 8000, 16000, 16000],
            "session {id}"
        );
        for b in list {
            assert_eq!(
                ms(b, "delay_ms"),
                ms(b, "window_ms"),
                "jitter none: delay == window"
            );
            assert_eq!(b["jitter"], "none");
            assert_eq!(b["cause"]["type"], "close");
            assert_eq!(b["cause"]["code"], 1013);
            assert!(b["retry_after_ms"].is_null());
            assert!(b["next_attempt_at"].is_string());
        }
        let attempts: Vec<u64> = list.iter().map(|b| ms(b, "attempt")).collect();
        assert_eq!(&attempts[..6], &[1, 2, 3, 4, 5, 6], "session {id}");
    }
    // The 10 sessions that got in are never retried.
    let open: Vec<u64> = run
        .snapshot
        .sessions
        .iter()
        .filter(|s| {
            s.state == SessionState::Open
                || s.attempt == 1 && s.last_close.as_ref().is_some_and(|c| c.code == 1001)
        })
        .map(|s| s.id)
        .collect();
    for id in open {
        assert!(
            !per.contains_key(&id),
            "session {id} got in and must not back off"
        );
    }
    // The timeline in the store matches: attempt, cause, window, outcome.
    let s = run
        .snapshot
        .sessions
        .iter()
        .find(|s| per.contains_key(&s.id))
        .expect("a backing-off session");
    let t: Vec<_> = s.timeline.iter().collect();
    assert_eq!(t[0].attempt, 1);
    assert!(t[0].cause.is_none());
    assert_eq!(t[1].window_ms, Some(1000));
    assert_eq!(t[2].window_ms, Some(2000));
    assert!(matches!(
        t[1].outcome,
        Some(wsmon::state::snapshot::AttemptOutcome::Closed { code: 1013 })
    ));
}

#[tokio::test(start_paused = true)]
async fn full_jitter_draws_each_delay_inside_its_window() {
    let run = overload_run(Jitter::Full, 5).await;
    let backoffs = run.of("backoff");
    let per = by_session(&backoffs);
    assert_eq!(per.len(), 90);
    let mut distinct = std::collections::BTreeSet::new();
    for list in per.values() {
        let windows: Vec<u64> = list.iter().map(|b| ms(b, "window_ms")).collect();
        assert_eq!(&windows[..5], &[1000, 2000, 4000, 8000, 16000]);
        for b in list {
            assert!(ms(b, "delay_ms") <= ms(b, "window_ms"), "{b}");
            distinct.insert(ms(b, "delay_ms"));
        }
    }
    assert!(
        distinct.len() > 100,
        "full jitter spreads delays: {} distinct values",
        distinct.len()
    );
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_a_floor_for_the_delay() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![target(&server.url("/reject/503"), 3)]);
    cfg.session.connect_timeout = Duration::from_secs(120);
    let run = run_until(cfg, LIMIT, |s| {
        s.sessions.iter().all(|v| v.timeline.len() > 4)
    })
    .await;
    let backoffs = run.of("backoff");
    assert!(backoffs.len() >= 12);
    for b in backoffs {
        assert!(ms(b, "delay_ms") >= 3000, "Retry-After: 3 honoured: {b}");
        assert_eq!(ms(b, "retry_after_ms"), 3000);
    }
    server.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn policy_violation_is_not_retried_and_says_why() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let cfg = config(vec![target(&server.url("/close/1008"), 2)]);
    let run = run_until(cfg, LIMIT, |s| {
        s.sessions.iter().all(|v| v.ended_why.is_some())
    })
    .await;
    assert!(run.of("backoff").is_empty());
    for s in run.snapshot.sessions.iter() {
        assert_eq!(s.state, SessionState::Closed);
        let why = s.ended_why.as_deref().expect("why");
        assert!(why.contains("1008"), "{why}");
    }
    let ended = run.of("ended");
    assert_eq!(ended.len(), 2);
    assert!(ended[0]["why"].as_str().is_some_and(|w| w.contains("1008")));
    server.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn service_restart_waits_inside_the_restart_range() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let cfg = config(vec![target(&server.url("/close/1012"), 5)]);
    let run = run_until(cfg, LIMIT, |s| {
        s.sessions.iter().all(|v| v.timeline.len() > 3)
    })
    .await;
    for b in run.of("backoff") {
        assert_eq!(b["kind"], "restart_delay", "{b}");
        let d = ms(b, "delay_ms");
        assert!((5000..=30000).contains(&d), "1012 delay {d} outside 5-30 s");
    }
    server.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn accept_then_close_keeps_growing_but_a_stable_session_resets() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut quick = target(&server.url("/flaky?p=1"), 1);
    quick.sessions = 1;
    let slow = target(&server.url("/flaky?p=1&after=15s"), 1);
    let mut cfg = config(vec![quick, slow]);
    cfg.backoff.jitter = Jitter::None;
    cfg.backoff.stable_after = Duration::from_secs(10);
    cfg.session.connect_timeout = Duration::from_secs(120);
    let run = run_until(cfg, LIMIT, |s| {
        s.sessions.iter().all(|v| v.timeline.len() > 5)
    })
    .await;
    let ids = run.sessions();
    let quick_w: Vec<u64> = run
        .for_session(ids[0], "backoff")
        .iter()
        .map(|b| ms(b, "window_ms"))
        .collect();
    let slow_w: Vec<u64> = run
        .for_session(ids[1], "backoff")
        .iter()
        .map(|b| ms(b, "window_ms"))
        .collect();
    assert_eq!(
        &quick_w[..5],
        &[1000, 2000, 4000, 8000, 16000],
        "closing at once must not reset"
    );
    assert!(
        slow_w.len() >= 5 && slow_w.iter().all(|w| *w == 1000),
        "stable for 15 s resets: {slow_w:?}"
    );
    server.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn max_attempts_gives_up() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![target(&server.url("/overload?cap=0"), 2)]);
    cfg.backoff.max_attempts = Some(3);
    let run = run_until(cfg, LIMIT, |s| s.totals.gave_up == 2).await;
    let gave_up = run.of("gave_up");
    assert_eq!(gave_up.len(), 2);
    assert_eq!(gave_up[0]["attempts"], 3);
    assert_eq!(gave_up[0]["cause"]["code"], 1013);
    assert!(
        run.snapshot
            .sessions
            .iter()
            .all(|s| s.state == SessionState::GaveUp)
    );
    assert_eq!(run.snapshot.totals.max_backoff_attempt, 3);
    server.shutdown().await;
}

/// Lockstep index of the retry seconds (the first second, the initial connect, is a herd by
/// construction and is left out). Real time: storm metrics are per wall-clock second.
async fn lockstep_of(jitter: Jitter) -> f64 {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![target(&server.url("/overload?cap=0"), 60)]);
    cfg.backoff.jitter = jitter;
    cfg.backoff.cap = Duration::from_secs(2);
    let run = run_until(cfg, Duration::from_secs(30), |s| s.storm.seconds.len() >= 7).await;
    server.shutdown().await;
    let seconds: Vec<_> = run
        .snapshot
        .storm
        .seconds
        .iter()
        .filter(|s| s.attempts >= 5)
        .skip(1)
        .collect();
    assert!(
        seconds.len() >= 3,
        "enough retry seconds: {:?}",
        run.snapshot.storm.seconds
    );
    let total: u64 = seconds.iter().map(|s| s.attempts).sum();
    seconds
        .iter()
        .map(|s| s.lockstep.unwrap_or(0.0) * s.attempts as f64)
        .sum::<f64>()
        / total as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockstep_index_shows_a_herd_without_jitter_and_a_spread_with_full_jitter() {
    let none = lockstep_of(Jitter::None).await;
    let full = lockstep_of(Jitter::Full).await;
    eprintln!("lockstep index: jitter none {none:.2}, jitter full {full:.2}");
    assert!(none >= 0.9, "no jitter: retries in step, got {none:.2}");
    assert!(full <= 0.6, "full jitter spreads retries, got {full:.2}");
}
