//! The detail view's "Script" block (issue 20.5): the step, what it waits for and how long,
//! the captured values with secret ones redacted. Whole screens on a `TestBackend`.

use std::sync::Arc;

use chrono::Duration;
use wsmon::engine::events::ScriptPhase;
use wsmon::state::snapshot::{ScriptProgress, Snapshot};
use wsmon::tui::app::App;
use wsmon::tui::fixtures;
use wsmon::tui::fixtures::check_screen as check;

/// The fixture's session 7 with its script at `phase` of step 3, reached 1.2 s ago.
fn with_script(phase: ScriptPhase, last: Option<&str>) -> Arc<Snapshot> {
    let mut snap = fixtures::snapshot(20);
    let i = snap.index_of(7).expect("session 7");
    let mut s = (*snap.sessions[i]).clone();
    s.script = Some(ScriptProgress {
        step: 3,
        steps: 5,
        phase,
        what: r#"expect {"type":"auth_ok"} within 5s"#.into(),
        since: snap.now - Duration::milliseconds(1200),
        captured: vec![
            ("user".into(), "ada".into()),
            ("token".into(), "<redacted>".into()),
        ],
        last: last.map(str::to_string),
    });
    snap.sessions[i] = Arc::new(s);
    Arc::new(snap)
}

#[test]
fn the_detail_shows_the_step_it_waits_for_and_the_captured_values() {
    let snap = with_script(ScriptPhase::Started, None);
    let mut app = App::new(fixtures::view_state());
    app.view.detail = Some(7);
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("detail_script_100x30", &screen, DETAIL_SCRIPT_100X30);
}

#[test]
fn a_timed_out_step_shows_the_last_message() {
    let snap = with_script(
        ScriptPhase::TimedOut,
        Some(r#"{"type":"error","password":"<redacted>"}\u{1b}"#),
    );
    let mut app = App::new(fixtures::view_state());
    app.view.detail = Some(7);
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    let text = screen.join("\n");
    assert!(text.contains("              timed out 1.2s ago"), "{text}");
    assert!(
        text.contains(r#"  last msg    {"type":"error","password":"<redacted>"}\u{1b}"#),
        "{text}"
    );
}

const DETAIL_SCRIPT_100X30: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)    |
| Session s7 (Esc: back, j/k: scroll) ──────────────────────────────────────────── lines 1-23 of 126 |
|  target      #1 ws://127.0.0.1:9001/overload                                                       |
|  state       waiting since 11:59:56.665Z (3.3s)  attempt 6  next in 28.7s (attempt 7)              |
|                                                                                                    |
|Script                                                                                              |
|  step 3/5    expect {"type":"auth_ok"} within 5s                                                   |
|              waiting 1.2s                                                                          |
|  captured    user=ada, token=<redacted>                                                            |
|                                                                                                    |
|Last close  1013 Try Again Later  by server at 11:59:56.665Z, clean, after 108ms open               |
|  reason      "server overloaded, try later"                                                        |
|                                                                                                    |
|Backoff timeline (6 attempts, attempt 7 due; times UTC)                                             |
|     #  cause       rule      window  delay  retry  outcome      uptime                             |
|     1  -           -              -      -      -  close 1013    103ms                             |
|        started 11:59:25.018Z  ended 11:59:25.125Z                                                  |
|     2  close 1013  backoff     1.0s   1.0s      -  close 1013    100ms  █                          |
|        decided 11:59:25.125Z  started 11:59:26.125Z  ended 11:59:26.229Z                           |
|     3  close 1013  backoff     2.0s   2.0s      -  close 1013    107ms  ██                         |
|        decided 11:59:26.229Z  started 11:59:28.229Z  ended 11:59:28.340Z                           |
|     4  close 1013  backoff     4.0s   4.0s      -  close 1013    104ms  ███                        |
|        decided 11:59:28.340Z  started 11:59:32.340Z  ended 11:59:32.448Z                           |
|     5  close 1013  backoff     8.0s   8.0s      -  close 1013    101ms  ██████                     |
|        decided 11:59:32.448Z  started 11:59:40.448Z  ended 11:59:40.553Z                           |
| session detail; times in UTC (z: switch)                                                           |
| Esc back  j scroll  x explain  c close  r reconnect  p pause  z UTC/local  f freeze  ? help        |
"#;
