//! Whole-screen tests: every view rendered from a fixture snapshot (events fed through the real
//! store) with a fixed clock on a `TestBackend`, compared line by line with the expected screen
//! (no color, as with NO_COLOR).
//! Each expected line is framed with `|` so trailing spaces are visible.

use std::sync::Arc;

use wsmon::engine::events::SessionState;
use wsmon::state::snapshot::Snapshot;
use wsmon::tui::app::App;
use wsmon::tui::fixtures;
use wsmon::tui::view::{ExplainTarget, Prompt, PromptKind, Tab};

fn app() -> App {
    App::new(fixtures::view_state())
}

fn snap20() -> Arc<Snapshot> {
    Arc::new(fixtures::snapshot(20))
}

/// Compare a rendered screen with the expected one. With `WSMON_SCREENS_DIR` set, the actual
/// screen is also written there (to review a change).
fn check(name: &str, actual: &[String], expected: &str) {
    let actual: Vec<String> = actual.iter().map(|l| format!("|{l}|")).collect();
    if let Some(dir) = std::env::var_os("WSMON_SCREENS_DIR") {
        let path = std::path::Path::new(&dir).join(format!("{name}.txt"));
        std::fs::write(&path, actual.join("\n")).expect("write screen");
    }
    let expected: Vec<&str> = expected.trim_matches('\n').lines().collect();
    assert_eq!(
        actual.join("\n"),
        expected.join("\n"),
        "screen {name} differs"
    );
}

#[test]
fn main_screen_100x30() {
    let snap = snap20();
    let mut app = app();
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("main_100x30", &screen, MAIN_100X30);
}

#[test]
fn a_failed_export_shows_a_red_badge_the_error_and_the_events_not_written() {
    let mut snap = fixtures::snapshot(20);
    snap.export_error = Some(
        "No space left on device (os error 28) writing /tmp/wsmon-demo.jsonl; \
         the file holds the first 1234 events, each whole; later events are not written"
            .into(),
    );
    snap.export_unwritten = 57;
    let snap = Arc::new(snap);
    let mut app = app();
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    let expected: Vec<&str> = MAIN_100X30.trim_matches('\n').lines().collect();
    let framed: Vec<String> = screen.iter().map(|l| format!("|{l}|")).collect();
    // Only the title bar and the rates line change; monitoring goes on below.
    for (i, (got, want)) in framed.iter().zip(&expected).enumerate() {
        if i != 0 && i != 3 {
            assert_eq!(got, want, "line {i}");
        }
    }
    assert_eq!(
        framed[0],
        "| wsmon [Sessions] Storm   demo                                             EXPORT FAILED  12:00:00Z |"
    );
    assert_eq!(
        framed[3],
        "| attempts/s 1.0 (total 52)  lockstep 1.00 IN STEP  export: 57 events unwritten: No space left on de…|"
    );
    // In colour, the badge is white on red.
    let mut view = fixtures::view_state();
    view.color = true;
    let mut app = App::new(view);
    let backend = ratatui::backend::TestBackend::new(100, 30);
    let mut terminal = ratatui::Terminal::new(backend).expect("test terminal");
    app.prepare(&snap, ratatui::layout::Rect::new(0, 0, 100, 30));
    terminal
        .draw(|f| wsmon::tui::ui::draw(f, &snap, &app.view))
        .expect("draws");
    let buf = terminal.backend().buffer();
    let x = framed[0].find("EXPORT FAILED").expect("badge") as u16 - 1;
    assert_eq!(buf[(x, 0)].bg, ratatui::style::Color::Red);
    assert_eq!(buf[(x, 0)].fg, ratatui::style::Color::White);
    assert_eq!(buf[(x, 3)].bg, ratatui::style::Color::Reset);
}

#[test]
fn main_screen_80x24_shows_1013_with_its_name() {
    let snap = snap20();
    let mut app = app();
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    check("main_80x24", &screen, MAIN_80X24);
    assert!(
        screen[2].contains("1013 Try Again Later"),
        "the header names 1013: {}",
        screen[2]
    );
}

#[test]
fn detail_view_with_backoff_timeline() {
    let snap = snap20();
    let mut app = app();
    app.view.detail = Some(7);
    // The first screen: the last close, the timeline table and the time axis.
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("detail_timeline_100x30", &screen, DETAIL_TIMELINE_100X30);
}

#[test]
fn detail_view_handshake_and_extensions() {
    let snap = snap20();
    let mut app = app();
    app.view.detail = Some(10);
    // Scrolled down to the handshake.
    app.view.detail_scroll = 22;
    let screen = fixtures::render(&mut app, &snap, 100, 40);
    check("detail_handshake_100x40", &screen, DETAIL_HANDSHAKE_100X40);
}

#[test]
fn storm_view() {
    let snap = snap20();
    let mut app = app();
    app.view.tab = Tab::Storm;
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("storm_100x30", &screen, STORM_100X30);
}

#[test]
fn explain_view() {
    let snap = snap20();
    let mut app = app();
    app.view.explain = Some(ExplainTarget::One(1013));
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("explain_100x30", &screen, EXPLAIN_100X30);
}

#[test]
fn compare_view() {
    let snap = snap20();
    let mut app = app();
    app.view.explain = Some(ExplainTarget::Compare(1010, 1013));
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("compare_100x30", &screen, COMPARE_100X30);
}

#[test]
fn help_view() {
    let snap = snap20();
    let mut app = app();
    app.view.help = true;
    let screen = fixtures::render(&mut app, &snap, 100, 40);
    check("help_100x40", &screen, HELP_100X40);
}

#[test]
fn close_prompt_and_state_filter() {
    let snap = snap20();
    let mut app = app();
    app.view.state_filter = Some(SessionState::Waiting);
    app.view.prompt = Some(Prompt {
        kind: PromptKind::Close(6),
        input: "4000 maintenance".to_string(),
    });
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    check("prompt_filter_80x24", &screen, PROMPT_FILTER_80X24);
}

#[test]
fn frozen_and_paused_badges() {
    let mut snap = fixtures::snapshot(20);
    snap.totals.paused_all = true;
    let snap = Arc::new(snap);
    let mut app = app();
    app.view.frozen = Some(snap.clone());
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(screen[0].contains(" FROZEN "), "{}", screen[0]);
    assert!(screen[0].contains(" PAUSED "), "{}", screen[0]);
    let mut app = self::app();
    let plain = fixtures::render(&mut app, &Arc::new(fixtures::snapshot(20)), 80, 24);
    assert!(!plain[0].contains("FROZEN") && !plain[0].contains("PAUSED"));
}

#[test]
fn ten_thousand_sessions_page_and_end() {
    let snap = Arc::new(fixtures::snapshot(10_000));
    let mut app = app();
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(screen[22].contains("row 1/10000"), "{}", screen[22]);
    app.view.select_position(&snap, usize::MAX);
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(screen[22].contains("row 10000/10000"), "{}", screen[22]);
    assert!(
        screen[21].starts_with("s10000 "),
        "last row visible: {}",
        screen[21]
    );
}

#[test]
fn frozen_badge_and_tabs_survive_a_long_title_on_a_narrow_screen() {
    let mut snap = fixtures::snapshot(20);
    snap.totals.paused_all = true;
    let snap = Arc::new(snap);
    let mut app = app();
    app.view.title = "demo: scenario server on ws://127.0.0.1:35127 and a long tail".to_string();
    app.view.frozen = Some(snap.clone());
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    let title = &screen[0];
    assert!(
        title.starts_with(" wsmon [Sessions] Storm   demo: scena"),
        "{title}"
    );
    assert!(
        title.contains("… a long tail  FROZEN   PAUSED  12:00:00Z"),
        "cut in the middle, not overlapped: {title}"
    );
}

/// Demo-like targets on one host and port: the TARGET column shows the path and query, which is
/// what tells them apart.
#[test]
fn target_column_shows_the_distinguishing_path() {
    let mut snap = fixtures::snapshot(20);
    let urls = [
        "ws://127.0.0.1:35127/echo",
        "ws://127.0.0.1:35127/overload?cap=5",
        "ws://127.0.0.1:35127/close/1012",
        "ws://127.0.0.1:35127/reject/503",
    ];
    for (t, u) in snap.targets.iter_mut().zip(urls) {
        t.url = u.to_string();
    }
    let snap = Arc::new(snap);
    let mut app = app();
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(screen[5].starts_with("s1  /echo "), "{}", screen[5]);
    assert!(
        screen[10].starts_with("s6  /overload?cap=5 "),
        "{}",
        screen[10]
    );
    assert!(screen[13].starts_with("s9  /close/1012 "), "{}", screen[13]);
    // Different hosts: host and path, cut in the middle when too long.
    let mut snap = (*snap).clone();
    snap.targets[0].url = "wss://a-very-long-host-name.example.com:8443/stream/v2?token=x".into();
    snap.targets[1].url = "ws://b.example/overload".into();
    let snap = Arc::new(snap);
    let mut app = self::app();
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    assert!(
        screen[10].starts_with("s6  b.example/overload "),
        "{}",
        screen[10]
    );
    let first = &screen[5];
    assert!(
        first.starts_with("s1  a-very-long") && first.contains('…'),
        "{first}"
    );
    assert!(first.contains("token=x "), "the end stays: {first}");
}

/// The closes line names the most frequent codes and counts the rest instead of running off.
#[test]
fn closes_line_shows_top_codes_and_how_many_more() {
    let mut snap = fixtures::snapshot(20);
    for (code, n) in [
        (1001, 7),
        (1002, 6),
        (1008, 5),
        (1011, 4),
        (1012, 3),
        (4000, 2),
    ] {
        snap.totals.closes_by_code.insert(code, n);
    }
    let snap = Arc::new(snap);
    for width in [80u16, 120, 200] {
        let mut app = app();
        let screen = fixtures::render(&mut app, &snap, width, 24);
        let line = screen[2].trim_end();
        assert!(
            line.starts_with(" closes 1013 Try Again Later 36 | 1001 Going Away 7"),
            "{line}"
        );
        assert!(line.chars().count() <= usize::from(width), "{line}");
        let shown = line.matches(" | ").count() + 1;
        if let Some(more) = line.split("| +").nth(1) {
            let n: usize = more
                .trim_end_matches(" more")
                .parse()
                .expect("a count of the rest");
            // 10 kinds in all: 9 close codes and HTTP 503.
            assert_eq!(shown - 1 + n, 10, "{line}");
        } else {
            assert_eq!(shown, 10, "everything fits at {width}: {line}");
        }
    }
}

/// With no recent attempts the store has no lockstep index: neither the header nor the storm
/// view may call retries "in step" from the herds of older seconds.
#[test]
fn stale_lockstep_is_not_reported_as_current() {
    let mut snap = fixtures::snapshot(20);
    assert!(
        snap.storm
            .seconds
            .iter()
            .any(|s| s.lockstep.is_some_and(|l| l > 0.5))
    );
    snap.storm.lockstep = None;
    snap.storm.attempts_per_sec = 0.0;
    let snap = Arc::new(snap);
    let mut app = app();
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    assert!(
        screen[3].contains("lockstep - (few retries)"),
        "{}",
        screen[3]
    );
    assert!(!screen.join("\n").contains("IN STEP"));
    app.view.tab = Tab::Storm;
    let screen = fixtures::render(&mut app, &snap, 100, 30).join("\n");
    assert!(
        !screen.contains("IN STEP") && !screen.contains("in step"),
        "{screen}"
    );
    assert!(screen.contains("too few recent attempts"), "{screen}");
}

/// On a narrow storm view the series keep their numbers (the code's name goes first).
#[test]
fn narrow_storm_view_keeps_now_and_peak() {
    let snap = snap20();
    let mut app = app();
    app.view.tab = Tab::Storm;
    let screen = fixtures::render(&mut app, &snap, 80, 24).join("\n");
    assert!(screen.contains(" closes/s 1013 now 0 peak 6 "), "{screen}");
    let screen = fixtures::render(&mut app, &snap, 100, 30).join("\n");
    assert!(
        screen.contains(" closes/s 1013 Try Again Later now 0 peak 6 "),
        "{screen}"
    );
}

/// At 80 columns the extension parameter lines of the detail are whole.
#[test]
fn detail_fits_80_columns() {
    let snap = snap20();
    let mut app = app();
    app.view.detail = Some(10);
    let screen = fixtures::render(&mut app, &snap, 80, 80).join("\n");
    assert!(
        screen.contains(
            "    client_no_context_takeover  offered (set)  accepted -      not in the answer"
        ),
        "{screen}"
    );
}

/// A session waiting after a failed HTTP upgrade (its newest timeline entry is the pending next
/// attempt) still shows what ended the last attempt.
#[test]
fn waiting_session_shows_what_ended_its_last_attempt() {
    let snap = snap20();
    let s9 = &snap.sessions[8];
    assert!(
        s9.timeline.back().is_some_and(|r| r.outcome.is_none()),
        "pending at the back"
    );
    let mut app = app();
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    assert!(
        screen[13].starts_with("s9  /flaky       waiting 25s   -      2    HTTP 503 "),
        "{}",
        screen[13]
    );
}

/// Every view at every small size, and a zero-size area: nothing panics.
#[test]
fn tiny_and_zero_sizes_do_not_panic() {
    let snap = snap20();
    let setups: [fn(&mut App); 6] = [
        |_| {},
        |a| a.view.detail = Some(7),
        |a| a.view.tab = Tab::Storm,
        |a| a.view.explain = Some(ExplainTarget::Compare(1010, 1013)),
        |a| a.view.help = true,
        |a| {
            a.view.prompt = Some(Prompt {
                kind: PromptKind::Add,
                input: "ws://127.0.0.1:1/x 3".to_string(),
            })
        },
    ];
    for setup in &setups {
        for w in 0..=30u16 {
            for h in 0..=10u16 {
                let mut app = app();
                setup(&mut app);
                let screen = fixtures::render(&mut app, &snap, w, h);
                assert_eq!(screen.len(), usize::from(h));
            }
        }
        let mut app = app();
        setup(&mut app);
        let screen = fixtures::render(&mut app, &snap, 20, 5);
        assert_eq!(screen.len(), 5);
    }
    // An empty snapshot (before the first store publish) renders too.
    let mut app = app();
    let screen = fixtures::render(&mut app, &Snapshot::default(), 80, 24);
    assert!(screen[5].contains("no sessions yet"), "{}", screen[5]);
}

const MAIN_100X30: &str = r#"
| wsmon [Sessions] Storm   demo                                                            12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep 1.00 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                          EXT     RTT     RATIO|
|s1  /echo        open          1m00s  1    -                                   deflate 250us   2.81 |
|s2  /echo        open          1m07s  1    -                                   deflate 263us   2.81 |
|s3  /echo        open          1m15s  1    -                                   deflate 276us   2.81 |
|s4  /echo        open          1m23s  1    -                                   deflate 289us   2.81 |
|s5  /echo        connecting    -      1    -                                   -       -       -    |
|s6  /overload    waiting 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s7  /overload    waiting 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s8  /overload    waiting 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s9  /flaky       waiting 25s   -      2    HTTP 503                            -       -       -    |
|s10 /strict      closed        -      1    1010 cli Mandatory Extension        -       -       -    |
|s11 /echo        open          2m19s  1    -                                   deflate 380us   2.81 |
|s12 /echo        open          2m27s  1    -                                   deflate 393us   2.81 |
|s13 /echo        open          2m35s  1    -                                   deflate 406us   2.81 |
|s14 /echo        open          2m42s  1    -                                   deflate 419us   2.81 |
|s15 /echo        open          2m50s  1    -                                   deflate 432us   2.81 |
|s16 /overload    waiting 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s17 /overload    waiting 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s18 /overload    waiting 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s19 /flaky       open          23.9s  2    1006 loc Abnormal Closure           deflate 2.0ms   0.95 |
|s20 /strict      closed        -      1    1010 cli Mandatory Extension        -       -       -    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
| row 1/20  sort ID asc                                                                              |
| q quit  ? help  Enter detail  > sort  x explain  a add  c close  r reconnect  p pause  P pause all |
"#;

const MAIN_80X24: &str = r#"
| wsmon [Sessions] Storm   demo                                        12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep 1.00 IN STEP  export 1234 events           |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                    EXT    |
|s1  /echo        open          1m00s  1    -                             deflate|
|s2  /echo        open          1m07s  1    -                             deflate|
|s3  /echo        open          1m15s  1    -                             deflate|
|s4  /echo        open          1m23s  1    -                             deflate|
|s5  /echo        connecting    -      1    -                             -      |
|s6  /overload    waiting 28s   -      6    1013 srv Try Again Later      deflate|
|s7  /overload    waiting 28s   -      6    1013 srv Try Again Later      deflate|
|s8  /overload    waiting 28s   -      6    1013 srv Try Again Later      deflate|
|s9  /flaky       waiting 25s   -      2    HTTP 503                      -      |
|s10 /strict      closed        -      1    1010 cli Mandatory Extension  -      |
|s11 /echo        open          2m19s  1    -                             deflate|
|s12 /echo        open          2m27s  1    -                             deflate|
|s13 /echo        open          2m35s  1    -                             deflate|
|s14 /echo        open          2m42s  1    -                             deflate|
|s15 /echo        open          2m50s  1    -                             deflate|
|s16 /overload    waiting 28s   -      6    1013 srv Try Again Later      deflate|
|s17 /overload    waiting 28s   -      6    1013 srv Try Again Later      deflate|
| row 1/20  sort ID asc                                                          |
| q quit  ? help  Enter detail  > sort  x explain  a add  c close  r reconnect   |
"#;

const DETAIL_TIMELINE_100X30: &str = r#"
| wsmon [Sessions] Storm   demo                                                            12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep 1.00 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
| Session s7 (Esc: back, j/k: scroll) ───────────────────────────────────────────── lines 1-23 of 94 |
|  target      #1 ws://127.0.0.1:9001/overload                                                       |
|  state       waiting for 3.3s  attempt 6  next attempt in 28.6s                                    |
|                                                                                                    |
|Last close  1013 Try Again Later  by server, clean, after 108ms open                                |
|  reason      "server overloaded, try later"                                                        |
|                                                                                                    |
|Backoff timeline (7 attempts)                                                                       |
|     #  cause       rule      window  delay  retry  outcome      uptime                             |
|     1  -           -              -      -      -  close 1013    103ms                             |
|     2  close 1013  backoff     1.0s   1.0s      -  close 1013    100ms  █                          |
|     3  close 1013  backoff     2.0s   2.0s      -  close 1013    107ms  ██                         |
|     4  close 1013  backoff     4.0s   4.0s      -  close 1013    104ms  ███                        |
|     5  close 1013  backoff     8.0s   8.0s      -  close 1013    101ms  ██████                     |
|     6  close 1013  backoff    16.0s  16.0s      -  close 1013    108ms  ████████████               |
|     7  close 1013  backoff    32.0s  32.0s      -  pending           -  ████████████████████████   |
|                                                                                                    |
|Attempts on a time axis (0 .. 1m03s)                                                                |
|  1 2  3     4           5                       6                                                  |
|  ●─●──●─────●───────────●───────────────────────●┄┄┄┄|┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄○  |
|  0s                                            31.8s                                        1m03s  |
|  ● attempt   | now   ○ next attempt                                                                |
|                                                                                                    |
|Traffic (this session, all connections)                                                             |
| session detail                                                                                     |
| Esc back  j scroll  x explain  c close  r reconnect  p pause  f freeze  ? help  q quit             |
"#;

const DETAIL_HANDSHAKE_100X40: &str = r#"
| wsmon [Sessions] Storm   demo                                                            12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep 1.00 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
| Session s10 (Esc: back, j/k: scroll) ─────────────────────────────────────────── lines 23-55 of 77 |
|Handshake  HTTP/1.1 101 Switching Protocols                                                         |
|  timings     dns -, connect 0.4ms, tls -, upgrade 1.8ms                                            |
|  request headers                                                                                   |
|    Host: 127.0.0.1:9001                                                                            |
|    Upgrade: websocket                                                                              |
|    Connection: Upgrade                                                                             |
|    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==                                                     |
|    Sec-WebSocket-Version: 13                                                                       |
|    Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; client_no_context_takeover|
|    Authorization: <redacted>                                                                       |
|  response headers                                                                                  |
|    Upgrade: websocket                                                                              |
|    Connection: Upgrade                                                                             |
|    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=                                              |
|                                                                                                    |
|Extensions                                                                                          |
|  offered     permessage-deflate; client_max_window_bits; client_no_context_takeover                |
|  accepted    -                                                                                     |
|  required    permessage-deflate                                                                    |
|  permessage-deflate: required but not accepted                                                     |
|    client_max_window_bits      offered (set)  accepted -      not in the answer                    |
|    client_no_context_takeover  offered (set)  accepted -      not in the answer                    |
|  missing     permessage-deflate (required, not accepted: wsmon closes with 1010)                   |
|                                                                                                    |
|About 1010 Mandatory Extension                                                                      |
|  Category       Failed negotiation                                                                 |
|  Sent by        client only                                                                        |
|  On the wire    yes                                                                                |
|  Retry advice   never                                                                              |
|  Sources        RFC 6455 §7.4.1                                                                    |
|                 RFC 6455 §9.1 (extension negotiation)                                              |
|                 RFC 7692 (permessage-deflate)                                                      |
|                                                                                                    |
| session detail                                                                                     |
| Esc back  j scroll  x explain  c close  r reconnect  p pause  f freeze  ? help  q quit             |
"#;

const STORM_100X30: &str = r#"
| wsmon  Sessions [Storm]  demo                                                            12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep 1.00 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
|┌ attempts/s now 1 peak 10 ──────────────────────────────┐┌ close codes ───────────────────────────┐|
|│                     █                                  ││1013 Try Again Later        36 █████████│|
|│                     █▆ ▆   ▆       ▆               ▆   ││1010 Mandatory Extension     2 █        │|
|│                     ██ █   █   ▂   █              ▂█  ▂││1006 Abnormal Closure        1 █        │|
|└──────────────────────────────── last 56s, newest right ┘└────────────────────────────────────────┘|
|┌ closes/s 1013 Try Again Later now 0 peak 6 ────────────┐┌ lockstep ──────────────────────────────┐|
|│                     ██ █   █       █               █   ││1.00 IN STEP  (1.0 herd, ~0.1 even)     │|
|│                     ██ █   █       █               █   ││Retries are in step: 100% of each       │|
|│                     ██ █   █       █               █   ││second's attempts land in one 100 ms    │|
|└──────────────────────────────── last 56s, newest right ┘│slice, a herd. Use --jitter full; reset │|
|┌ closes/s 1010 Mandatory Extension now 0 peak 2 ────────┐│backoff only after --stable-after.      │|
|│                     █                                  ││                                        │|
|│                     █                                  ││                                        │|
|└──────────────────────────────── last 56s, newest right ┘│                                        │|
|┌ closes/s other codes now 0 peak 1 ─────────────────────┐│                                        │|
|│                               █                        ││                                        │|
|│                               █                        ││                                        │|
|│                               █                        ││                                        │|
|└──────────────────────────────── last 56s, newest right ┘│                                        │|
|┌ open sessions now 10 peak 10 ──────────────────────────┐│                                        │|
|│▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅██████████▅███████████████████████│└────────────────────────────────────────┘|
|│████████████████████████████████████████████████████████│┌ retries due ───────────────────────────┐|
|│████████████████████████████████████████████████████████││next 1s 0  5s 0  30s 7                  │|
|└──────────────────────────────── last 56s, newest right ┘└────────────────────────────────────────┘|
| storm: 171 s of history, 52 attempts so far                                                        |
| Esc back  Tab sessions  P pause all  R reconnect all  f freeze  e export  ? help  q quit           |
"#;

const EXPLAIN_100X30: &str = r#"
| wsmon [Sessions] Storm   demo                                                            12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep 1.00 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
|ID▲ TARGET┌ 1013 Try Again Later (c: compare, Esc: back) ────────────────────────────────┐     RATIO|
|s1  /echo │ 1013 Try Again Later                                                         │us   2.81 |
|s2  /echo │ Category       Temporary condition                                           │us   2.81 |
|s3  /echo │ Sent by        server                                                        │us   2.81 |
|s4  /echo │ On the wire    yes                                                           │us   2.81 |
|s5  /echo │ Retry advice   backoff                                                       │     -    |
|s6  /overl│ Sources        IANA registry: WebSocket Close Code Number Registry           │     0.55 |
|s7  /overl│                hybi list, msg09670 (IANA's reference, shared with 1012:      │     0.55 |
|s8  /overl│                other IP, or user action)                                     │     0.55 |
|s9  /flaky│                Spring Framework CloseStatus.SERVICE_OVERLOAD javadoc         │     -    |
|s10 /stric│                                                                              │     -    |
|s11 /echo │ Description                                                                  │us   2.81 |
|s12 /echo │   The server is terminating the connection due to a temporary condition,     │us   2.81 |
|s13 /echo │   such as being overloaded. The client should reconnect after a back-off     │us   2.81 |
|s14 /echo │   period.                                                                    │us   2.81 |
|s15 /echo │                                                                              │us   2.81 |
|s16 /overl│ When you see it                                                              │     0.55 |
|s17 /overl│   The server is temporarily overloaded or throttling connections: too many   │     0.55 |
|s18 /overl│   connections, a per-client or per-tenant quota, a full queue. Unlike 1012,  │     0.55 |
|s19 /flaky│   this does not indicate a restart: the server is running but cannot serve   │ms   0.95 |
|s20 /stric│   more clients right now. A server that accepts the upgrade and closes at    │     -    |
|          │   once with 1013 is turning clients away at the door.                        │          |
|          │                                                                              │          |
|          └──────────────────────────────────────────────────────────── lines 1-22 of 40 ┘          |
| close code explanation                                                                             |
| Esc back  c compare  x other code  j scroll  q quit                                                |
"#;

const COMPARE_100X30: &str = r#"
| wsmon [Sessions] Storm   demo                                                            12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep 1.00 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
|ID▲ TARGET┌ 1010 vs 1013 (Esc: back) ────────────────────────────────────────────────────┐     RATIO|
|s1  /echo │ 1010 Mandatory Extension vs 1013 Try Again Later                             │us   2.81 |
|s2  /echo │                                                                              │us   2.81 |
|s3  /echo │               1010                            1013                           │us   2.81 |
|s4  /echo │ Name          Mandatory Extension             Try Again Later                │us   2.81 |
|s5  /echo │ Category      Failed negotiation              Temporary condition            │     -    |
|s6  /overl│ Sent by       client only                     server                         │     0.55 |
|s7  /overl│ On the wire   yes                             yes                            │     0.55 |
|s8  /overl│ Retry advice  never                           backoff                        │     0.55 |
|s9  /flaky│                                                                              │     -    |
|s10 /stric│ Description                                                                  │     -    |
|s11 /echo │   1010: The client is ending the connection because the server did not       │us   2.81 |
|s12 /echo │   negotiate one or more extensions the client expected in the handshake      │us   2.81 |
|s13 /echo │   response.                                                                  │us   2.81 |
|s14 /echo │                                                                              │us   2.81 |
|s15 /echo │   1013: The server is terminating the connection due to a temporary          │us   2.81 |
|s16 /overl│   condition, such as being overloaded. The client should reconnect after a   │     0.55 |
|s17 /overl│   back-off period.                                                           │     0.55 |
|s18 /overl│                                                                              │     0.55 |
|s19 /flaky│ When you see it                                                              │ms   0.95 |
|s20 /stric│   1010: The client offered one or more extensions it cannot work without     │     -    |
|          │   (for example permessage-deflate) in Sec-WebSocket-Extensions, and the      │          |
|          │   server's 101 response did not include them, often because compression is   │          |
|          └──────────────────────────────────────────────────────────── lines 1-22 of 80 ┘          |
| close code explanation                                                                             |
| Esc back  c compare  x other code  j scroll  q quit                                                |
"#;

const HELP_100X40: &str = r#"
| wsmon [Sessions] Storm   demo                                                            12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep 1.00 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
|ID▲ TAR┌ Help (Esc or ? to close) ──────────────────────────────────────────────────────────┐  RATIO|
|s1  /ec│Keys (change them in the config file: [keys] name = "key")                          │  2.81 |
|s2  /ec│  k/Up        move up / scroll up                                 up                │  2.81 |
|s3  /ec│  j/Down      move down / scroll down                             down              │  2.81 |
|s4  /ec│  PgUp        one page up                                         page_up           │  2.81 |
|s5  /ec│  PgDn        one page down                                       page_down         │  -    |
|s6  /ov│  Home/g      first row / top                                     home              │  0.55 |
|s7  /ov│  End/G       last row / bottom                                   end               │  0.55 |
|s8  /ov│  Enter       open the selected session's detail                  open              │  0.55 |
|s9  /fl│  Esc         go back                                             back              │  -    |
|s10 /st│  Tab         switch Sessions / Storm tabs                        next_tab          │  -    |
|s11 /ec│  >           sort by the next column                             sort_next         │  2.81 |
|s12 /ec│  <           sort by the previous column                         sort_prev         │  2.81 |
|s13 /ec│  i           invert the sort order                               sort_reverse      │  2.81 |
|s14 /ec│  /           filter rows by text (empty clears)                  filter            │  2.81 |
|s15 /ec│  t           filter by state (cycles)                            state_filter      │  2.81 |
|s16 /ov│  o           filter by last close code (cycles)                  code_filter       │  0.55 |
|s17 /ov│  x           explain the close code (asks for one if none)       explain           │  0.55 |
|s18 /ov│  c           in the explanation: compare with another code       compare           │  0.55 |
|s19 /fl│  a           add sessions (URL and count)                        add               │  0.95 |
|s20 /st│  c           close the selected session (code, default 1000)     close             │  -    |
|       │  r           reconnect the selected session now                  reconnect         │       |
|       │  R           reconnect every waiting session now                 reconnect_all     │       |
|       │  p           pause / resume the selected session's retries       pause             │       |
|       │  P           pause / resume all retries                          pause_all         │       |
|       │  +           one more session of the selected target             grow              │       |
|       │  -           one session fewer of the selected target            shrink            │       |
|       │  f           freeze / unfreeze the display (data keeps flowing)  freeze            │       |
|       │  e           write the log export now and show its path          export            │       |
|       │  ?           show / hide this help                               help              │       |
|       │  q           quit (sessions close with 1001)                     quit              │       |
|       │  Ctrl-C      quit (always)                                                         │       |
|       │  Mouse: click a row to select it, a column title to sort, wheel to scroll.         │       |
|       └────────────────────────────────────────────────────────────────── lines 1-32 of 33 ┘       |
| help                                                                                               |
| Esc close  j scroll  q quit                                                                        |
"#;

const PROMPT_FILTER_80X24: &str = r#"
| wsmon [Sessions] Storm   demo                                        12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep 1.00 IN STEP  export 1234 events           |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                    EXT    |
|s6  /overload    waiting 28s   -      6    1013 srv Try Again Later      deflate|
|s7  /overload    waiting 28s   -      6    1013 srv Try Again Later      deflate|
|s8  /overload    waiting 28s   -      6    1013 srv Try Again Later      deflate|
|s9  /flaky       waiting 25s   -      2    HTTP 503                      -      |
|s16 /overload    waiting 28s   -      6    1013 srv Try Again Later      deflate|
|s17 /overload    waiting 28s   -      6    1013 srv Try Again Later      deflate|
|s18 /overload    waiting 28s   -      6    1013 srv Try Again Later      deflate|
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
| close s6 with code [reason] (default 1000): 4000 maintenance                   |
| Enter accept  Esc cancel                                                       |
"#;
