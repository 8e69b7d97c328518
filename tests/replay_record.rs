//! The flight recorder's key check: record a real run against the scenario server with
//! `--export`, keep the live snapshots taken during the recording, replay the export, and find
//! the same state at the same recorded moments.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use common::{config, target};
use wsmon::codes::Registry;
use wsmon::engine::events::SessionState;
use wsmon::runtime::replay::{ReplayCursor, load};
use wsmon::state::snapshot::{AttemptRecord, Snapshot};

/// Times are exported with millisecond precision.
fn ms(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(|t| t.timestamp_millis())
}

fn timeline(records: &std::collections::VecDeque<AttemptRecord>) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            format!(
                "{} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                r.attempt,
                r.cause,
                r.kind,
                r.window_ms,
                r.delay_ms,
                r.retry_after_ms,
                ms(r.scheduled_at),
                ms(r.started_at),
                r.outcome,
                r.uptime_ms
            )
        })
        .collect()
}

/// One session as compared: id, state, attempt, next attempt (ms), timeline.
type SessionRow = (u64, SessionState, u32, Option<i64>, Vec<String>);
/// One storm second as compared: second, attempts, closes by code.
type SecondRow = (i64, u64, Vec<(u16, u64)>);

/// What must match between a live snapshot and the replayed one.
fn sessions(s: &Snapshot) -> Vec<SessionRow> {
    s.sessions
        .iter()
        .map(|v| {
            (
                v.id,
                v.state,
                v.attempt,
                ms(v.next_attempt_at),
                timeline(&v.timeline),
            )
        })
        .collect()
}

fn storm(s: &Snapshot, from_second: i64) -> Vec<SecondRow> {
    s.storm
        .seconds
        .iter()
        .filter(|x| x.second >= from_second)
        .map(|x| {
            (
                x.second,
                x.attempts,
                x.closes.iter().map(|(c, n)| (*c, *n)).collect(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_state_matches_the_live_snapshots_of_a_recorded_storm() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut nodeflate = target(&server.url("/nodeflate"), 1);
    nodeflate.require = vec!["permessage-deflate".into()];
    let mut cfg = config(vec![
        target(&server.url("/overload?cap=2"), 6),
        nodeflate,
        target(&server.url("/reject/503?retry_after=2"), 2),
        target(&server.url("/drop"), 2),
    ]);
    cfg.backoff.base = Duration::from_millis(300);
    cfg.backoff.cap = Duration::from_secs(2);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("recording.jsonl");
    cfg.export = Some(path.clone());
    cfg.headless = true;
    let total = cfg.total_sessions();
    let engine = wsmon::runtime::live(
        cfg.engine.clone(),
        Arc::new(Registry::builtin().clone()),
        cfg.export.as_deref(),
    )
    .expect("runtime");

    // Every snapshot the live store publishes during the recording.
    let mut live: Vec<Arc<Snapshot>> = Vec::new();
    let mut rx = engine.snapshots.clone();
    let _ = tokio::time::timeout(Duration::from_secs(8), async {
        while rx.changed().await.is_ok() {
            live.push(rx.borrow_and_update().clone());
        }
    })
    .await;
    let (_, export) = engine.shutdown().await;
    export.expect("export configured").expect("export written");
    server.shutdown().await;

    let rec = Arc::new(load(&path).expect("the recording loads"));
    let first_second = rec.start().expect("events").timestamp();
    let mut cursor = ReplayCursor::new(rec.clone());
    // A live snapshot has every event created before its `now`, except those still in the
    // channel: compare only at moments with no event in the 50 ms before (and none within the
    // millisecond after, which the export's millisecond times could move before `now`).
    let quiet = |now: DateTime<Utc>| {
        let lo = rec.count_until(now - TimeDelta::milliseconds(50));
        let hi = rec.count_until(now + TimeDelta::milliseconds(1));
        lo == hi
    };
    let mut compared = 0;
    let mut waiting_1013 = 0;
    for snap in live.iter().filter(|s| s.sessions.len() == total) {
        if !quiet(snap.now) || snap.now > rec.end().expect("events") {
            continue;
        }
        cursor.seek(snap.now);
        let replayed = cursor.snapshot();
        assert_eq!(replayed.now, snap.now);
        assert_eq!(
            replayed.totals.by_state, snap.totals.by_state,
            "at {}",
            snap.now
        );
        assert_eq!(
            replayed.totals.closes_by_code, snap.totals.closes_by_code,
            "at {}",
            snap.now
        );
        assert_eq!(replayed.totals.statuses, snap.totals.statuses);
        assert_eq!(replayed.totals.attempts, snap.totals.attempts);
        assert_eq!(sessions(&replayed), sessions(snap), "at {}", snap.now);
        assert_eq!(
            storm(&replayed, first_second),
            storm(snap, first_second),
            "storm seconds at {}",
            snap.now
        );
        waiting_1013 += snap
            .sessions
            .iter()
            .filter(|s| {
                s.state == SessionState::Waiting
                    && s.last_close.as_ref().is_some_and(|c| c.code == 1013)
                    && s.timeline.len() >= 2
            })
            .count();
        compared += 1;
    }
    eprintln!("compared {compared} of {} live snapshots", live.len());
    assert!(
        compared >= 3,
        "only {compared} quiet moments among {} live snapshots",
        live.len()
    );
    assert!(
        waiting_1013 > 0,
        "no 1013 session was waiting at a compared moment"
    );
    // The run saw what the scenario promises.
    cursor.seek(rec.end().expect("events"));
    let end = cursor.snapshot();
    for code in [1013, 1010, 1006] {
        assert!(
            end.totals.closes_by_code.contains_key(&code),
            "no {code} in {:?}",
            end.totals.closes_by_code
        );
    }
    assert!(end.totals.statuses.contains_key(&503));
}
