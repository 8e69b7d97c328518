//! Message health through the live engine and the store (issue 20 items 2, 3, 6), against the
//! scenario server's `/echo`, which says nothing unless spoken to: after the echo of `--send`
//! every session goes stale; the snapshot counts them apart from the healthy open ones (totals,
//! target, storm series), keeps the server's last message time, and the Prometheus gauges
//! follow.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use common::{config, run_until, target};
use wsmon::engine::events::SessionState;
use wsmon::state::snapshot::Snapshot;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_echo_sessions_are_stale_with_their_last_message_age() {
    let server = wsmon::server::start("127.0.0.1:0").await.expect("server");
    let mut cfg = config(vec![target(&server.url("/echo"), 3)]);
    cfg.session.send = Some("hi".to_string());
    cfg.session.stale_after = Some(Duration::from_millis(300));
    let seen: Mutex<Option<Snapshot>> = Mutex::new(None);
    let run = run_until(cfg, Duration::from_secs(20), |s| {
        let all = s.totals.stale == 3;
        if all {
            *seen.lock().expect("lock") = Some(s.clone());
        }
        all
    })
    .await;
    let snap = seen
        .lock()
        .expect("lock")
        .take()
        .expect("all three went stale");
    assert_eq!(
        snap.totals.by_state[SessionState::Open.index()],
        3,
        "still open"
    );
    assert_eq!(snap.targets[0].stale, 3);
    for (s, c) in snap.sessions.iter().zip(&snap.counters) {
        let since = s.stale_since.expect("stale since");
        assert!(since <= snap.now);
        assert!(s.stale_for_ms(snap.now).is_some_and(|ms| ms >= 300));
        let c = c.expect("live counters");
        assert_eq!((c.msgs_in, c.msgs_out), (1, 1), "the echo of `hi`");
        let age = c.msg_age_ms(snap.now).expect("the echo came");
        assert!((250..20_000).contains(&age), "last message {age} ms ago");
    }
    let g = wsmon::runtime::metrics_sink::gauges(&snap);
    assert_eq!(
        (
            g.targets[0].stale,
            g.targets[0].msgs_in,
            g.targets[0].msgs_out
        ),
        (3, 3, 3)
    );
    assert_eq!(run.of("stale").len(), 3);
    // wsmon's own 1001 at the end ends the stale spells: the final snapshot has none.
    assert_eq!(run.snapshot.totals.stale, 0);
    server.shutdown().await;
}
