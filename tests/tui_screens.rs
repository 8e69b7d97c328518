//! Whole-screen tests: every view rendered from a fixture snapshot (events fed through the real
//! store) with a fixed clock on a `TestBackend`, compared line by line with the expected screen
//! (no color, as with NO_COLOR).
//! Each expected line is framed with `|` so trailing spaces are visible.

use std::sync::Arc;

use wsmon::engine::events::{Jitter, SessionState};
use wsmon::state::snapshot::Snapshot;
use wsmon::state::storm::StormTracker;
use wsmon::tui::app::App;
use wsmon::tui::fixtures;
use wsmon::tui::fixtures::check_screen as check;
use wsmon::tui::view::{ExplainTarget, OutcomeFilter, Prompt, PromptKind, Tab};

fn app() -> App {
    App::new(fixtures::view_state())
}

fn snap20() -> Arc<Snapshot> {
    Arc::new(fixtures::snapshot(20))
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
        "| wsmon [Sessions] Storm  Events  Targets   demo                            EXPORT FAILED  12:00:00Z |"
    );
    assert_eq!(
        framed[3],
        "| attempts/s 1.0 (total 52)  lockstep - (few retries)  export: 57 events unwritten: No space left on…|"
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
    app.view.detail_scroll = 31;
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
        title.starts_with(" wsmon [Sessions] Storm  Events  Targets   …"),
        "{title}"
    );
    // The title loses its leading words, whole words only; the badges stay whole.
    assert!(
        title.contains("…tail") && title.ends_with(" FROZEN   PAUSED  12:00:00Z "),
        "cut by words, not overlapped: {title}"
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
    // Different hosts: a target alone on its host and port is named by them; targets that
    // share one keep host, port and path.
    let mut snap = (*snap).clone();
    snap.targets[0].url = "wss://a-very-long-host-name.example.com:8443/stream/v2?token=x".into();
    snap.targets[1].url = "ws://b.example/overload".into();
    snap.targets[2].url = "ws://127.0.0.1:9001/flaky".into();
    snap.targets[3].url = "ws://127.0.0.1:9001/strict".into();
    let snap = Arc::new(snap);
    let mut app = self::app();
    let screen = fixtures::render(&mut app, &snap, 200, 30);
    assert!(screen[10].starts_with("s6  b.example "), "{}", screen[10]);
    assert!(
        screen[5].starts_with("s1  a-very-long-host-name.example.com:8443 "),
        "{}",
        screen[5]
    );
    assert!(
        screen[13].starts_with("s9  127.0.0.1:9001/flaky "),
        "{}",
        screen[13]
    );
    assert!(
        screen[14].starts_with("s10 127.0.0.1:9001/strict "),
        "{}",
        screen[14]
    );
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
    snap.storm.verdict = None;
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
        screen[13].starts_with("s9  /flaky       next in 25s   -      2    HTTP 503 "),
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

/// A two-minute steady overload of 100 sessions up to the fixture's `now`: every attempt is
/// turned away with 1013 5 ms after it starts and retried after a window of 1 s doubling to
/// 8 s, with full jitter or none.
fn overload_storm(jitter: Jitter) -> Arc<Snapshot> {
    use rand::{Rng, SeedableRng};
    let mut snap = fixtures::snapshot(20);
    let now = snap.now;
    let start = now - chrono::TimeDelta::seconds(120);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
    let mut st = StormTracker::new();
    let mut closes = 0u64;
    let mut events: Vec<i64> = Vec::new();
    for i in 0..100i64 {
        let mut t = i * 3 / 10;
        let mut retry = 0u32;
        while t < 120_000 {
            events.push(t);
            retry += 1;
            let window = (1000i64 << (retry - 1).min(3)).min(8000);
            let delay = match jitter {
                Jitter::None => window,
                _ => rng.random_range(0..=window),
            };
            t += 5 + delay;
        }
    }
    events.sort_unstable();
    let mut next_tick = 0;
    for t in events {
        while next_tick * 1000 <= t {
            st.tick(start + chrono::TimeDelta::seconds(next_tick), 0, 95, 5);
            next_tick += 1;
        }
        st.record_attempt(start + chrono::TimeDelta::milliseconds(t));
        st.record_close(start + chrono::TimeDelta::milliseconds(t + 5), 1013);
        closes += 1;
    }
    st.record_jitter(jitter);
    snap.storm = st.view(now, std::iter::empty());
    snap.totals.closes_by_code.insert(1013, closes);
    snap.totals.attempts = closes;
    Arc::new(snap)
}

#[test]
fn storm_view_of_an_unjittered_overload_says_in_step_and_why() {
    let snap = overload_storm(Jitter::None);
    let mut app = app();
    app.view.tab = Tab::Storm;
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check(
        "storm_jitter_none_100x30",
        &screen,
        STORM_JITTER_NONE_100X30,
    );
    assert!(screen[3].contains("IN STEP"), "{}", screen[3]);
}

#[test]
fn storm_view_of_a_jittered_overload_is_not_in_step() {
    let snap = overload_storm(Jitter::Full);
    let mut app = app();
    app.view.tab = Tab::Storm;
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check(
        "storm_jitter_full_100x30",
        &screen,
        STORM_JITTER_FULL_100X30,
    );
    let text = screen.join("\n");
    assert!(
        !text.contains("IN STEP") && !text.contains("--jitter"),
        "{text}"
    );
}

/// At 200 columns a short history is stretched over the whole chart, and both axes are
/// labelled (values on the left, wall-clock times on the bottom border).
#[test]
fn storm_charts_use_the_width_and_label_both_axes() {
    let mut snap = fixtures::snapshot(20);
    let keep = snap.storm.seconds.len() - 17;
    snap.storm.seconds.drain(..keep);
    let snap = Arc::new(snap);
    let mut app = app();
    app.view.tab = Tab::Storm;
    let screen = fixtures::render(&mut app, &snap, 200, 50);
    let chart: Vec<&String> = screen.iter().filter(|l| l.starts_with("│ 6┤")).collect();
    assert!(!chart.is_empty(), "{}", screen.join("\n"));
    for row in &chart {
        let left: String = row.chars().take(156).collect();
        assert!(!left.ends_with("  "), "filled to the right edge: {row}");
    }
    let bottom = screen
        .iter()
        .find(|l| l.starts_with("└") && l.contains("UTC"))
        .expect("a time axis");
    assert!(
        bottom.contains("11:59:43") && bottom.contains("11:59:59"),
        "{bottom}"
    );
}

#[test]
fn marked_rows_and_the_bulk_confirmation() {
    let snap = snap20();
    let mut app = app();
    fixtures::render(&mut app, &snap, 80, 24);
    app.view.marked.extend([6, 7, 8, 16]);
    let k = |c: char| {
        crossterm::event::Event::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Char(c),
            crossterm::event::KeyModifiers::NONE,
        ))
    };
    app.on_event(&k('r'), &snap);
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    check("marks_confirm_80x24", &screen, MARKS_CONFIRM_80X24);
}

#[test]
fn active_filters_show_in_the_header() {
    let snap = snap20();
    let mut app = app();
    app.view.state_filter = Some(SessionState::Waiting);
    app.view.outcome_filter = Some(OutcomeFilter::Code(1013));
    app.view.filter = "overload".to_string();
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("filters_header_100x30", &screen, FILTERS_HEADER_100X30);
    // Nothing matches: the hint says how to clear.
    app.view.filter = "no such thing".to_string();
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    assert!(screen[5].contains("Esc clears them"), "{}", screen[5]);
}

#[test]
fn event_log_tab() {
    let snap = snap20();
    let mut app = app();
    app.view.tab = Tab::Log;
    app.view.selected = Some(7);
    app.view.user_selected = true;
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("events_100x30", &screen, EVENTS_100X30);
}

#[test]
fn detail_lists_the_sessions_own_recent_events_with_times() {
    let snap = snap20();
    let mut app = app();
    app.view.detail = Some(7);
    app.view.detail_scroll = 24;
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("detail_events_100x30", &screen, DETAIL_EVENTS_100X30);
}

const MAIN_100X30: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)    |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                          EXT     RTT     RATIO|
|s1  /echo        open          1m00s  1    -                                   deflate 250us   2.81 |
|s2  /echo        open          1m07s  1    -                                   deflate 263us   2.81 |
|s3  /echo        open          1m15s  1    -                                   deflate 276us   2.81 |
|s4  /echo        open          1m23s  1    -                                   deflate 289us   2.81 |
|s5  /echo        connecting    -      1    -                                   -       -       -    |
|s6  /overload    next in 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s7  /overload    next in 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s8  /overload    next in 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s9  /flaky       next in 25s   -      2    HTTP 503                            -       -       -    |
|s10 /strict      closed        -      1    1010 cli Mandatory Extension        -       -       -    |
|s11 /echo        open          2m19s  1    -                                   deflate 380us   2.81 |
|s12 /echo        open          2m27s  1    -                                   deflate 393us   2.81 |
|s13 /echo        open          2m35s  1    -                                   deflate 406us   2.81 |
|s14 /echo        open          2m42s  1    -                                   deflate 419us   2.81 |
|s15 /echo        open          2m50s  1    -                                   deflate 432us   2.81 |
|s16 /overload    next in 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s17 /overload    next in 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s18 /overload    next in 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s19 /flaky       open          23.9s  2    1006 loc Abnormal Closure           deflate 2.0ms   0.95 |
|s20 /strict      closed        -      1    1010 cli Mandatory Extension        -       -       -    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
| row 1/20  sort ID asc  hidden MSGS, BYTES (C: columns)                                             |
| / filter  Tab tabs  Enter detail  ? help  q quit  Space mark  c close  r reconnect  p pause        |
"#;

const MAIN_80X24: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                    EXT    |
|s1  /echo        open          1m00s  1    -                             deflate|
|s2  /echo        open          1m07s  1    -                             deflate|
|s3  /echo        open          1m15s  1    -                             deflate|
|s4  /echo        open          1m23s  1    -                             deflate|
|s5  /echo        connecting    -      1    -                             -      |
|s6  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s7  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s8  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s9  /flaky       next in 25s   -      2    HTTP 503                      -      |
|s10 /strict      closed        -      1    1010 cli Mandatory Extension  -      |
|s11 /echo        open          2m19s  1    -                             deflate|
|s12 /echo        open          2m27s  1    -                             deflate|
|s13 /echo        open          2m35s  1    -                             deflate|
|s14 /echo        open          2m42s  1    -                             deflate|
|s15 /echo        open          2m50s  1    -                             deflate|
|s16 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s17 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
| row 1/20  sort ID asc  hidden RTT, RATIO, MSGS, BYTES (C: columns)             |
| / filter  Tab tabs  Enter detail  ? help  q quit  Space mark  c close          |
"#;

const DETAIL_TIMELINE_100X30: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)    |
| Session s7 (Esc: back, j/k: scroll) ──────────────────────────────────────────── lines 1-23 of 121 |
|  target      #1 ws://127.0.0.1:9001/overload                                                       |
|  state       waiting since 11:59:56.665Z (3.3s)  attempt 6  next in 28.7s (attempt 7)              |
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
|     6  close 1013  backoff    16.0s  16.0s      -  close 1013    108ms  ████████████               |
|        decided 11:59:40.553Z  started 11:59:56.553Z  ended 11:59:56.665Z                           |
|     7  close 1013  backoff    32.0s  32.0s      -  pending           -  ████████████████████████   |
|        decided 11:59:56.665Z  due 12:00:28.665Z                                                    |
|                                                                                                    |
| session detail; times in UTC (z: switch)                                                           |
| Esc back  j scroll  x explain  c close  r reconnect  p pause  z UTC/local  f freeze  ? help        |
"#;

const DETAIL_HANDSHAKE_100X40: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)    |
| Session s10 (Esc: back, j/k: scroll) ─────────────────────────────────────────── lines 32-64 of 89 |
|Messages (the last 5, newest last; M: all)                                                          |
|  no message logged yet                                                                             |
|                                                                                                    |
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
| session detail; times in UTC (z: switch)                                                           |
| Esc back  j scroll  x explain  c close  r reconnect  p pause  z UTC/local  f freeze  ? help        |
"#;

const STORM_100X30: &str = r#"
| wsmon  Sessions [Storm] Events  Targets   demo                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)    |
|┌ attempts/s now 1 peak 10 ────────────────────────────┐┌ closes, HTTP answers, errors ────────────┐|
|│10┤                █                                  ││1013 Try Again Later        36 ███████████│|
|│  ┤                █▆ ▆   ▆       ▆               ▆   ││1010 Mandatory Extension     2 █          │|
|│ 0┤                ██ █   █   ▂   █              ▂█  ▂││HTTP 503                     2 █          │|
|└   11:59:09 ──────────── UTC ──────────────── 11:59:59┘│1006 Abnormal Closure        1 █          │|
|┌ closes/s 1013 Try Again Later now 0 peak 6 ──────────┐└──────────────────────────────────────────┘|
|│ 6┤                ██ █   █       █               █   │┌ lockstep (last 10 s) ────────────────────┐|
|│  ┤                ██ █   █       █               █   ││too few recent attempts to judge (needs 20│|
|│ 0┤                ██ █   █       █               █   ││in the last 10 s)                         │|
|└   11:59:09 ──────────── UTC ──────────────── 11:59:59┘│                                          │|
|┌ closes/s 1010 Mandatory Extension now 0 peak 2 ──────┐│                                          │|
|│ 2┤                █                                  ││                                          │|
|│ 0┤                █                                  ││                                          │|
|└   11:59:09 ──────────── UTC ──────────────── 11:59:59┘│                                          │|
|┌ closes/s other codes now 0 peak 1 ───────────────────┐│                                          │|
|│ 1┤                          █                        ││                                          │|
|│  ┤                          █                        ││                                          │|
|│ 0┤                          █                        ││                                          │|
|└   11:59:09 ──────────── UTC ──────────────── 11:59:59┘│                                          │|
|┌ open sessions now 10 peak 10 ────────────────────────┐│                                          │|
|│10┤▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅▅██████████▅███████████████████████│└──────────────────────────────────────────┘|
|│  ┤███████████████████████████████████████████████████│┌ retries due ─────────────────────────────┐|
|│ 0┤███████████████████████████████████████████████████││next 1s 0  5s 0  30s 7                    │|
|└   11:59:09 ──────────── UTC ──────────────── 11:59:59┘└──────────────────────────────────────────┘|
| storm: 171 s of history, 52 attempts so far                                                        |
| Esc back  Tab events  P pause all  R reconnect waiting  f freeze  e export  ? help  q quit         |
"#;

const EXPLAIN_100X30: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)    |
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
|          └──────────────────────────────────────────────────────────── lines 1-22 of 43 ┘          |
| close code explanation                                                                             |
| Esc back  c compare  x other code  j scroll  q quit                                                |
"#;

const COMPARE_100X30: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)    |
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
|          └──────────────────────────────────────────────────────────── lines 1-22 of 83 ┘          |
| close code explanation                                                                             |
| Esc back  c compare  x other code  j scroll  q quit                                                |
"#;

const HELP_100X40: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)    |
|┌ Help (Esc, q or ? closes) ───────────────────────────────────────────────────────────────────────┐|
|│Keys (change them in the config file: [keys] name = "key")                                        │|
|│  k/Up   move up / scroll up                                                        up            │|
|│  j/Down move down / scroll down                                                    down          │|
|│  PgUp   one page up                                                                page_up       │|
|│  PgDn   one page down                                                              page_down     │|
|│  Home/g first row / top                                                            home          │|
|│  End/G  last row / bottom                                                          end           │|
|│  Enter  open detail / a target's sessions                                          open          │|
|│  Esc    back; on the main screen: clear filters, then marks                        back          │|
|│  Tab    next tab: Sessions, Storm, Events, Targets                                 next_tab      │|
|│  >      sort by the next column                                                    sort_next     │|
|│  <      sort by the previous column                                                sort_prev     │|
|│  i      invert the sort order                                                      sort_reverse  │|
|│  /      filter rows by text (empty clears)                                         filter        │|
|│  t      filter by state (cycles through states present)                            state_filter  │|
|│  o      filter by LAST CLOSE: code, status, error (cycles)                         code_filter   │|
|│  Space  mark / unmark (c, r, p use marks)                                          mark          │|
|│  m      mark every session shown (again: unmark all)                               mark_all      │|
|│  C      choose the table's columns                                                 columns       │|
|│  w      table: ages / wall-clock times                                             table_times   │|
|│  z      times in UTC / local time                                                  clock         │|
|│  x      explain the close code (asks for one if none)                              explain       │|
|│  c      in the explanation: compare with another code                              compare       │|
|│  a      add sessions (URL and count)                                               add           │|
|│  c      close marked / selected (code, default 1000)                               close         │|
|│  r      reconnect the marked / selected session now                                reconnect     │|
|│  R      reconnect every waiting session now (asks first)                           reconnect_all │|
|│  p      pause / resume retries of marked / selected                                pause         │|
|│  P      pause / resume all retries (asks first)                                    pause_all     │|
|│  +      one more session of the selected target                                    grow          │|
|│  -      one session fewer of the selected target                                   shrink        │|
|│  f      freeze / unfreeze the display (data keeps flowing)                         freeze        │|
|└──────────────────────────────────────────────────────────────────────────────── lines 1-32 of 41 ┘|
| help                                                                                               |
| Esc close  j scroll                                                                                |
"#;

const PROMPT_FILTER_80X24: &str = r#"
| wsmon [Sessions] Storm  Events  Targets        FILTER state waiting  12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                    EXT    |
|s6  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s7  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s8  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s9  /flaky       next in 25s   -      2    HTTP 503                      -      |
|s16 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s17 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s18 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
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

const STORM_JITTER_NONE_100X30: &str = r#"
| wsmon  Sessions [Storm] Events  Targets   demo                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 1800 | 1010 Mandatory Extension 2 | HTTP 503 2 | +1 more               |
| attempts/s 100.0 (total 1800)  lockstep 1.00 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)   |
|┌ attempts/s now 100 peak 100 ─────────────────────────┐┌ closes, HTTP answers, errors ────────────┐|
|│100┤ █       █       █       █       █       █       █││1013 Try Again Later        1800 █████████│|
|│   ┤ █       █       █       █       █       █       █││1010 Mandatory Extension       2 █        │|
|│   ┤ █       █       █       █       █       █       █││HTTP 503                       2 █        │|
|│ 40┤ █       █       █       █       █       █       █││1006 Abnormal Closure          1 █        │|
|│   ┤ █       █       █       █       █       █       █│└──────────────────────────────────────────┘|
|│  0┤ █       █       █       █       █       █       █│┌ lockstep (last 10 s) ────────────────────┐|
|└    11:59:10 ─────────── UTC ──────────────── 11:59:59┘│1.00 IN STEP  chance 0.17, 200 attempts   │|
|┌ closes/s 1013 Try Again Later now 100 peak 100 ──────┐│Retries are in step, a herd: 100% of each │|
|│100┤ █       █       █       █       █       █       █││second's attempts land in one 100 ms      │|
|│   ┤ █       █       █       █       █       █       █││slice; independent retries would put 17%  │|
|│   ┤ █       █       █       █       █       █       █││there. Backoff has no jitter: use --jitter│|
|│ 40┤ █       █       █       █       █       █       █││full; reset backoff only after            │|
|│   ┤ █       █       █       █       █       █       █││--stable-after.                           │|
|│  0┤ █       █       █       █       █       █       █││                                          │|
|└    11:59:10 ─────────── UTC ──────────────── 11:59:59┘│                                          │|
|┌ open sessions now 0 peak 0 ──────────────────────────┐│                                          │|
|│  1┤                                                  ││                                          │|
|│   ┤                                                  ││                                          │|
|│   ┤                                                  ││                                          │|
|│   ┤                                                  │└──────────────────────────────────────────┘|
|│   ┤                                                  │┌ retries due ─────────────────────────────┐|
|│  0┤                                                  ││next 1s 0  5s 0  30s 0                    │|
|└    11:59:10 ─────────── UTC ──────────────── 11:59:59┘└──────────────────────────────────────────┘|
| storm: 120 s of history, 1800 attempts so far                                                      |
| Esc back  Tab events  P pause all  R reconnect waiting  f freeze  e export  ? help  q quit         |
"#;

const STORM_JITTER_FULL_100X30: &str = r#"
| wsmon  Sessions [Storm] Events  Targets   demo                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 3336 | 1010 Mandatory Extension 2 | HTTP 503 2 | +1 more               |
| attempts/s 33.0 (total 3336)  lockstep 0.24 not in step  export /tmp/wsmon-demo.jsonl (1234 events)|
|┌ attempts/s now 33 peak 34 ───────────────────────────┐┌ closes, HTTP answers, errors ────────────┐|
|│ 34┤           ▅▂    ▆ ▃    ▅ █   ▆█  ▆              ▆││1013 Try Again Later        3336 █████████│|
|│   ┤ ▄█▃ ▃▄ ▁▄▄██▆   █▁█▇ ▃ █▁█   ██▃▄█▁▁▆ ▇▄ █▇  ▁▆██││1010 Mandatory Extension       2 █        │|
|│   ┤▇███▅██▂███████▇▅████▄█████ █ ████████▅██▄██▇ ████││HTTP 503                       2 █        │|
|│ 13┤███████████████████████████▆█▂███████████████▆████││1006 Abnormal Closure          1 █        │|
|│   ┤██████████████████████████████████████████████████│└──────────────────────────────────────────┘|
|│  0┤██████████████████████████████████████████████████│┌ lockstep (last 10 s) ────────────────────┐|
|└    11:59:10 ─────────── UTC ──────────────── 11:59:59┘│0.24 not in step                          │|
|┌ closes/s 1013 Try Again Later now 33 peak 34 ────────┐│chance 0.24, 254 attempts                 │|
|│ 34┤           ▅▂    ▆ ▃    ▃ █   ▆█  ▆             ▂▆││Retries are no more bunched than          │|
|│   ┤ ▄█▃ ▃▄ ▃▄▄██▄▁  █▁█▇ ▃ █▃█   ██▃▄█▁▁▆ ▇▃ █▇  ▁▄██││independent ones would be.                │|
|│   ┤▇███▅██▁███████▇▅████▄█████ █ ████████▅██▅██▇ ████││                                          │|
|│ 13┤███████████████████████████▆█▂███████████████▆████││                                          │|
|│   ┤██████████████████████████████████████████████████││                                          │|
|│  0┤██████████████████████████████████████████████████││                                          │|
|└    11:59:10 ─────────── UTC ──────────────── 11:59:59┘│                                          │|
|┌ open sessions now 0 peak 0 ──────────────────────────┐│                                          │|
|│  1┤                                                  ││                                          │|
|│   ┤                                                  ││                                          │|
|│   ┤                                                  ││                                          │|
|│   ┤                                                  │└──────────────────────────────────────────┘|
|│   ┤                                                  │┌ retries due ─────────────────────────────┐|
|│  0┤                                                  ││next 1s 0  5s 0  30s 0                    │|
|└    11:59:10 ─────────── UTC ──────────────── 11:59:59┘└──────────────────────────────────────────┘|
| storm: 120 s of history, 3336 attempts so far                                                      |
| Esc back  Tab events  P pause all  R reconnect waiting  f freeze  e export  ? help  q quit         |
"#;

const MARKS_CONFIRM_80X24: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo             4 MARKED  12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|ID▲  TARGET       STATE         UPTIME ATT  LAST CLOSE                   EXT    |
| s1  /echo        open          1m00s  1    -                            deflate|
| s2  /echo        open          1m07s  1    -                            deflate|
| s3  /echo        open          1m15s  1    -                            deflate|
| s4  /echo        open          1m23s  1    -                            deflate|
| s5  /echo        connecting    -      1    -                            -      |
|*s6  /overload    next in 28s   -      6    1013 srv Try Again Later     deflate|
|*s7  /overload    next in 28s   -      6    1013 srv Try Again Later     deflate|
|*s8  /overload    next in 28s   -      6    1013 srv Try Again Later     deflate|
| s9  /flaky       next in 25s   -      2    HTTP 503                     -      |
| s10 /strict      closed        -      1    1010 cli Mandatory Extension -      |
| s11 /echo        open          2m19s  1    -                            deflate|
| s12 /echo        open          2m27s  1    -                            deflate|
| s13 /echo        open          2m35s  1    -                            deflate|
| s14 /echo        open          2m42s  1    -                            deflate|
| s15 /echo        open          2m50s  1    -                            deflate|
|*s16 /overload    next in 28s   -      6    1013 srv Try Again Later     deflate|
| s17 /overload    next in 28s   -      6    1013 srv Try Again Later     deflate|
| reconnect 4 marked sessions now?  y yes  n no                                  |
| y yes, send it  n no                                                           |
"#;

const FILTERS_HEADER_100X30: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                   FILTER  12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)    |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                          EXT     RTT     RATIO|
|s6  /overload    next in 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s7  /overload    next in 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s8  /overload    next in 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s16 /overload    next in 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s17 /overload    next in 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|s18 /overload    next in 28s   -      6    1013 srv Try Again Later            deflate -       0.55 |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
| row 1/6  filter text "overload", state waiting, close 1013  sort ID asc                            |
| / filter  Tab tabs  Enter detail  ? help  q quit  Space mark  c close  r reconnect  p pause        |
"#;

const EVENTS_100X30: &str = r#"
| wsmon  Sessions  Storm [Events] Targets   demo                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)    |
| Events (241 kept; newest last) ────────────────────────────────────────────── following the newest |
|  TIME (UTC)    SESS   TARGET           EVENT       CODE       REASON / DETAIL                      |
|▶ 11:59:56.557Z s7     /overload        open        attempt 6                                       |
|  11:59:56.559Z s6     /overload        open        attempt 6                                       |
|  11:59:56.652Z s8     /overload        closing     1013       close frame by server                |
|  11:59:56.652Z s17    /overload        closing     1013       close frame by server                |
|  11:59:56.653Z s8     /overload        closed      1013       server overloaded, try later (by s…  |
|  11:59:56.653Z s8     /overload        backoff     wait 32.0s backoff after 1013, window 32.0s     |
|  11:59:56.653Z s16    /overload        closing     1013       close frame by server                |
|  11:59:56.653Z s17    /overload        closed      1013       server overloaded, try later (by s…  |
|  11:59:56.653Z s17    /overload        backoff     wait 32.0s backoff after 1013, window 32.0s     |
|  11:59:56.654Z s16    /overload        closed      1013       server overloaded, try later (by s…  |
|  11:59:56.654Z s16    /overload        backoff     wait 32.0s backoff after 1013, window 32.0s     |
|  11:59:56.661Z s18    /overload        closing     1013       close frame by server                |
|  11:59:56.662Z s18    /overload        closed      1013       server overloaded, try later (by s…  |
|  11:59:56.662Z s18    /overload        backoff     wait 32.0s backoff after 1013, window 32.0s     |
|▶ 11:59:56.664Z s7     /overload        closing     1013       close frame by server                |
|  11:59:56.665Z s6     /overload        closing     1013       close frame by server                |
|▶ 11:59:56.665Z s7     /overload        closed      1013       server overloaded, try later (by s…  |
|▶ 11:59:56.665Z s7     /overload        backoff     wait 32.0s backoff after 1013, window 32.0s     |
|  11:59:56.666Z s6     /overload        closed      1013       server overloaded, try later (by s…  |
|  11:59:56.666Z s6     /overload        backoff     wait 32.0s backoff after 1013, window 32.0s     |
|  11:59:59.600Z s5     /echo            spawned                ws://127.0.0.1:9001/echo             |
|  11:59:59.600Z s5     /echo            connecting  attempt 1                                       |
| events: 241 shown of 241 kept; times in UTC                                                        |
| / filter  Tab tabs  Esc back  ? help  q quit  k scroll  End newest  t state  o outcome             |
"#;

const DETAIL_EVENTS_100X30: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1 |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)    |
| Session s7 (Esc: back, j/k: scroll) ─────────────────────────────────────────── lines 25-47 of 121 |
|  1 2  3     4           5                       6                                                  |
|  ●─●──●─────●───────────●───────────────────────●┄┄┄┄|┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄○  |
|  0s                                            31.8s                                        1m03s  |
|  ● attempt   | now   ○ next attempt                                                                |
|                                                                                                    |
|Recent events (UTC, newest last)                                                                    |
|  11:59:32.448Z s7     /overload        closed      1013       server overloaded, try later (by s…  |
|  11:59:32.448Z s7     /overload        backoff     wait 8.0s  backoff after 1013, window 8.0s      |
|  11:59:40.448Z s7     /overload        connecting  attempt 5                                       |
|  11:59:40.452Z s7     /overload        open        attempt 5                                       |
|  11:59:40.552Z s7     /overload        closing     1013       close frame by server                |
|  11:59:40.553Z s7     /overload        closed      1013       server overloaded, try later (by s…  |
|  11:59:40.553Z s7     /overload        backoff     wait 16.0s backoff after 1013, window 16.0s     |
|  11:59:56.553Z s7     /overload        connecting  attempt 6                                       |
|  11:59:56.557Z s7     /overload        open        attempt 6                                       |
|  11:59:56.664Z s7     /overload        closing     1013       close frame by server                |
|  11:59:56.665Z s7     /overload        closed      1013       server overloaded, try later (by s…  |
|  11:59:56.665Z s7     /overload        backoff     wait 32.0s backoff after 1013, window 32.0s     |
|                                                                                                    |
|Traffic (this session, all connections)                                                             |
|  received    0 msgs, 4B on the wire, 0B payload                                                    |
|  sent        1 msg, 18B on the wire, 12B payload                                                   |
|              0.55 payload bytes per wire byte (frame headers count; above 1: compression saves)    |
| session detail; times in UTC (z: switch)                                                           |
| Esc back  j scroll  x explain  c close  r reconnect  p pause  z UTC/local  f freeze  ? help        |
"#;
