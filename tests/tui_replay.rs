//! The TUI on a recording: whole screens (`TestBackend`, no color) of the replay header and
//! cursor, a seek, the storm view over the whole recording with the cursor marker and the
//! targets view; the time cursor keys and the refused operator keys.
//! The recording is the screen fixtures' events (fed through the real store by the cursor).
//! Each expected line is framed with `|` so trailing spaces are visible.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::TimeDelta;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

use wsmon::runtime::Request;
use wsmon::runtime::replay::cursor::ReplayCursor;
use wsmon::runtime::replay::drive;
use wsmon::runtime::replay::load::Recording;
use wsmon::runtime::replay::{ReplayCmd, Speed};
use wsmon::state::snapshot::Snapshot;
use wsmon::tui::app::App;
use wsmon::tui::fixtures::check_screen as check;
use wsmon::tui::keys::{Action, KeyMap, Mode, action_for};
use wsmon::tui::replay::{REFUSED, ReplayView};
use wsmon::tui::view::Tab;
use wsmon::tui::{TuiOptions, fixtures};

/// A replay session: the cursor, the app, and what the keys sent.
struct Replay {
    cursor: ReplayCursor,
    app: App,
    /// Every replay command the keys returned, in order.
    sent: Vec<ReplayCmd>,
    speed: Speed,
    playing: bool,
    snap: Arc<Snapshot>,
}

fn recording() -> Recording {
    Recording {
        path: "/var/log/incident-42.jsonl".into(),
        format: wsmon::export::Format::Jsonl,
        events: fixtures::events(20),
        code_names: HashMap::new(),
        warnings: Vec::new(),
    }
}

impl Replay {
    fn new() -> Replay {
        let cursor = ReplayCursor::new(Arc::new(recording()));
        let view = ReplayView::new("incident-42.jsonl".to_string(), &cursor).expect("events");
        let opts = TuiOptions {
            color: false,
            ..TuiOptions::default()
        };
        let view = wsmon::tui::replay_view_state(&opts, view).expect("view");
        let mut cursor = cursor;
        let snap = cursor.snapshot();
        Replay {
            cursor,
            app: App::new(view),
            sent: Vec::new(),
            speed: Speed::X1,
            playing: false,
            snap,
        }
    }

    /// Press a key; the driver applies the replay commands it returned and the new snapshot
    /// is taken.
    fn key(&mut self, code: KeyCode, mods: KeyModifiers) -> wsmon::tui::app::Outcome {
        let out = self
            .app
            .on_event(&Event::Key(KeyEvent::new(code, mods)), &self.snap);
        for req in &out.commands {
            if let Request::Replay(cmd) = req {
                self.sent.push(*cmd);
                self.playing = drive::apply(&mut self.cursor, *cmd, self.playing, &mut self.speed);
            }
        }
        self.snap = self.cursor.snapshot();
        let snap = self.snap.clone();
        self.app.on_snapshot(&snap);
        out
    }

    fn press(&mut self, c: char) -> wsmon::tui::app::Outcome {
        self.key(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn text(&mut self, s: &str) {
        for c in s.chars() {
            self.press(c);
        }
        self.key(KeyCode::Enter, KeyModifiers::NONE);
    }

    fn render(&mut self, w: u16, h: u16) -> Vec<String> {
        let snap = self.snap.clone();
        fixtures::render(&mut self.app, &snap, w, h)
    }
}

/// Replay at 80x24: the Storm tab's chart titles keep their values (the code's name goes
/// first), the lockstep text is whole.
#[test]
fn replay_storm_80x24() {
    let mut r = Replay::new();
    r.press(':');
    r.text("-10s");
    r.app.view.tab = Tab::Storm;
    let screen = r.render(80, 24);
    check("replay_storm_80x24", &screen, REPLAY_STORM_80X24);
}

/// Replay help at 80x24: every config name whole (`speed_x100`, `step_back_10s`).
#[test]
fn replay_help_80x24() {
    let mut r = Replay::new();
    r.press('?');
    let mut text = String::new();
    for scroll in 0..5 {
        r.app.view.help_scroll = scroll * 14;
        text.push_str(&r.render(80, 24).join("\n"));
    }
    for name in [
        "speed_x10 ",
        "speed_x100",
        "step_back ",
        "step_back_10s",
        "step_back_1m",
        "step_forward_10s",
        "next_close_again",
        "sort_reverse",
        "reconnect_all",
    ] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    r.app.view.help_scroll = 0;
    let screen = r.render(80, 24);
    check("replay_help_80x24", &screen, REPLAY_HELP_80X24);
}

#[test]
fn replay_header_and_cursor_after_a_seek() {
    let mut r = Replay::new();
    let (start, _) = r.cursor.bounds().expect("events");
    let first = r.render(120, 12);
    assert!(first[0].contains(" REPLAY "), "{}", first[0]);
    assert!(first[0].contains("incident-42.jsonl"), "{}", first[0]);
    assert!(first[0].contains("(+0m00s of "), "{}", first[0]);
    // `:` then a time: the cursor goes there and the header says so.
    r.press(':');
    r.text("+2m30s");
    assert_eq!(r.cursor.time(), start + TimeDelta::seconds(150));
    assert_eq!(r.snap.now, start + TimeDelta::seconds(150));
    let screen = r.render(120, 12);
    check("replay_seek_120x12", &screen, SEEK_120X12);
}

#[test]
fn arrows_step_and_g_goes_to_the_ends() {
    let mut r = Replay::new();
    let (start, end) = r.cursor.bounds().expect("events");
    r.key(KeyCode::Right, KeyModifiers::NONE);
    assert_eq!(r.cursor.time(), start + TimeDelta::seconds(1));
    r.press('.');
    assert_eq!(r.cursor.time(), start + TimeDelta::seconds(11));
    r.key(KeyCode::Left, KeyModifiers::NONE);
    assert_eq!(r.cursor.time(), start + TimeDelta::seconds(10));
    r.key(KeyCode::Right, KeyModifiers::CONTROL);
    assert_eq!(r.cursor.time(), start + TimeDelta::seconds(70));
    r.press(',');
    assert_eq!(r.cursor.time(), start + TimeDelta::seconds(60));
    r.press('G');
    assert_eq!(r.cursor.time(), end);
    r.press('g');
    assert_eq!(r.cursor.time(), start);
    // Home/End still move in the table.
    r.render(100, 30);
    r.key(KeyCode::End, KeyModifiers::NONE);
    assert_eq!(r.cursor.time(), start);
    assert_eq!(r.app.view.cursor, r.app.view.order().len() - 1);
}

#[test]
fn next_close_asks_for_the_code_and_n_repeats_it() {
    let mut r = Replay::new();
    r.press('n');
    assert_eq!(r.app.view.mode(), Mode::Prompt);
    r.text("1013");
    let closes = |r: &Replay| {
        r.snap
            .totals
            .closes_by_code
            .get(&1013)
            .copied()
            .unwrap_or(0)
    };
    let first = r.cursor.time();
    assert!(first > r.cursor.bounds().expect("events").0);
    assert_eq!(closes(&r), 1, "the cursor is at the first 1013");
    // The prompt remembers the code; N goes to the next one.
    r.press('N');
    assert!(r.cursor.time() >= first);
    assert!(closes(&r) >= 2, "{}", closes(&r));
    // No such close later: said so, the cursor stays.
    let here = r.cursor.time();
    r.press('n');
    r.text("4999");
    assert_eq!(r.cursor.time(), here);
    let status = r.app.view.status.clone().expect("an error");
    assert!(
        status.text.starts_with("no 4999 close after "),
        "{}",
        status.text
    );
    r.press('n');
    r.text("abc");
    let status = r.app.view.status.clone().expect("an error");
    assert!(status.text.contains("not a close code"), "{}", status.text);
}

#[test]
fn space_plays_speed_keys_and_operator_keys_are_refused() {
    let mut r = Replay::new();
    r.press(' ');
    assert!(r.playing, "the driver plays");
    r.press('3');
    assert_eq!(r.speed, Speed::X100);
    assert!(r.render(120, 10)[0].contains("x100 ▶"));
    r.press(' ');
    assert!(!r.playing);
    for c in ['r', 'R', 'p', 'P', 'c', 'a', '+', '-', 'e'] {
        r.app.view.status = None;
        let out = r.press(c);
        assert!(out.commands.is_empty(), "{c} sends nothing");
        assert_eq!(r.app.view.prompt, None, "{c} opens no prompt");
        let status = r.app.view.status.clone().expect("refused");
        assert_eq!(status.text, REFUSED, "{c}");
    }
    // Playing to the end stops there: Space then plays again from the start.
    r.press(' ');
    r.press('G');
    assert!(!r.app.view.replay.as_ref().expect("replay").playing);
    assert!(r.render(120, 10)[0].contains("x100 ⏸"));
    r.press(' ');
    assert!(r.playing);
    assert_eq!(r.cursor.time(), r.cursor.bounds().expect("events").0);
    // Quit still quits.
    assert!(r.press('q').quit);
}

#[test]
fn storm_view_charts_the_whole_recording_with_the_cursor() {
    let mut r = Replay::new();
    r.press(':');
    r.text("-15s");
    r.app.view.tab = Tab::Storm;
    let screen = r.render(120, 30);
    check("replay_storm_120x30", &screen, STORM_120X30);
    // The marker sits in the same column of every chart.
    let cols: Vec<usize> = screen[4..]
        .iter()
        .filter(|l| l.starts_with('│'))
        .filter_map(|l| l.chars().skip(1).take(76).position(|c| c == '│'))
        .collect();
    assert!(cols.len() > 10, "{screen:#?}");
    assert!(cols.iter().all(|c| *c == cols[0]), "{cols:?}");
}

#[test]
fn targets_view_sorts_and_enter_shows_the_targets_sessions() {
    let mut r = Replay::new();
    r.press('G');
    for _ in 0..3 {
        r.key(KeyCode::Tab, KeyModifiers::NONE);
    }
    assert_eq!(r.app.view.tab, Tab::Targets);
    let screen = r.render(120, 14);
    check("replay_targets_120x14", &screen, TARGETS_120X14);
    // Sort by sessions, most first.
    r.press('>');
    r.press('>');
    r.press('i');
    let screen = r.render(120, 14);
    assert!(screen[5].contains("SESS▼"), "{}", screen[5]);
    r.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(r.app.view.tab, Tab::Sessions);
    let target = r.app.view.target_filter.expect("a target filter");
    let snap = r.snap.clone();
    r.render(120, 30);
    let shown: Vec<usize> = r
        .app
        .view
        .order()
        .iter()
        .map(|&i| snap.sessions[i].target)
        .collect();
    assert!(!shown.is_empty());
    assert!(shown.iter().all(|t| *t == target));
    // An empty text filter shows every target again.
    r.press('/');
    r.key(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(r.app.view.target_filter, None);
}

#[test]
fn time_keys_are_bound_only_in_replay_and_listed_in_its_help() {
    let live = KeyMap::default();
    let mut replay = KeyMap::default();
    replay.set_replay(true);
    let key = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    let g = key(KeyCode::Char('g'));
    assert_eq!(action_for(g, Mode::Sessions, &live), Some(Action::Home));
    assert_eq!(
        action_for(g, Mode::Sessions, &replay),
        Some(Action::TimeStart)
    );
    let home = key(KeyCode::Home);
    assert_eq!(
        action_for(home, Mode::Sessions, &replay),
        Some(Action::Home)
    );
    let space = key(KeyCode::Char(' '));
    assert_eq!(action_for(space, Mode::Storm, &live), None);
    assert_eq!(
        action_for(space, Mode::Storm, &replay),
        Some(Action::PlayPause)
    );
    assert_eq!(
        action_for(space, Mode::Prompt, &replay),
        Some(Action::Input(' '))
    );
    let ctrl_left = KeyEvent::new(KeyCode::Left, KeyModifiers::CONTROL);
    assert_eq!(
        action_for(ctrl_left, Mode::Targets, &replay),
        Some(Action::StepBackMinute)
    );
    assert_eq!(
        action_for(key(KeyCode::Char(':')), Mode::Detail, &replay),
        Some(Action::GotoTime)
    );
    let names = |m: &KeyMap| m.help_rows().into_iter().map(|r| r.0).collect::<Vec<_>>();
    assert!(!names(&live).contains(&"play_pause"));
    assert!(names(&replay).contains(&"play_pause"));
    assert!(names(&replay).contains(&"goto_time"));
    // Bindable in [keys].
    let mut cfg = std::collections::BTreeMap::new();
    cfg.insert("play_pause".to_string(), "p".to_string());
    let mut map = KeyMap::from_config(&cfg).expect("valid");
    map.set_replay(true);
    assert_eq!(
        action_for(key(KeyCode::Char('p')), Mode::Sessions, &map),
        Some(Action::PlayPause)
    );
    cfg.insert("next_burst".to_string(), "p".to_string());
    assert!(
        KeyMap::from_config(&cfg).is_err(),
        "two time keys on one key"
    );
}

const SEEK_120X12: &str = r#"
| wsmon [Sessions] Storm  Events  Targets                    REPLAY  incident-42.jsonl  11:59:39Z (+2m30s of 2m50s) x1 ⏸ |
| targets 4  sessions 19  open 10 closed 2 waiting 7                                                                     |
| closes 1013 Try Again Later 24 | 1010 Mandatory Extension 2 | 1006 Abnormal Closure 1 | HTTP 503 1                     |
| attempts/s 0.0 (total 38)  lockstep - (few retries)                                                                    |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                     EXT     RTT     MSGS IN/OUT BYTES IN/OUT RATIO|
|s1  /echo        open          39.1s  1    -                              deflate -       -           -            -    |
|s2  /echo        open          47.0s  1    -                              deflate -       -           -            -    |
|s3  /echo        open          55.0s  1    -                              deflate -       -           -            -    |
|s4  /echo        open          1m02s  1    -                              deflate -       -           -            -    |
|s6  /overload    next in 1s    -      4    1013 srv Try Again Later       deflate -       -           -            -    |
| going to +2m30s                                                                                                        |
| Space play  Right ±1s  . ±10s  1 x1  4 max  : go to  n next close  b burst  / filter  Tab tabs  Enter detail  ? help   |
"#;
const STORM_120X30: &str = r#"
| wsmon  Sessions [Storm] Events  Targets                    REPLAY  incident-42.jsonl  11:59:44Z (+2m35s of 2m50s) x1 ⏸ |
| targets 4  sessions 19  open 10 closed 2 waiting 7                                                                     |
| closes 1013 Try Again Later 30 | 1010 Mandatory Extension 2 | 1006 Abnormal Closure 1 | HTTP 503 1                     |
| attempts/s 0.0 (total 44)  lockstep - (few retries)                                                                    |
|┌ attempts/s cursor 0 peak 10 ─────────────────────────────────────────────┐┌ closes, HTTP answers, errors ────────────┐|
|│                                                           █       │      ││1013 Try Again Later        30 ███████████│|
|│                                                           █▃ ▃  ▃ │    ▃ ││1010 Mandatory Extension     2 █          │|
|│                                                           ██ █  █ │    █ ││1006 Abnormal Closure        1 █          │|
|│▃  ▃  ▃   ▃  ▃                        ▃  ▃   ▃  ▃          ██ █ ▃█ │    █▃││HTTP 503                     1 █          │|
|└────────────────────────────── whole recording (2m50s), │ cursor 11:59:44 ┘└──────────────────────────────────────────┘|
|┌ closes/s 1013 Try Again Later cursor 0 peak 6 ───────────────────────────┐┌ lockstep (last 10 s) ────────────────────┐|
|│                                                           ██ █  █ │    █ ││too few recent attempts to judge (needs 20│|
|│                                                           ██ █  █ │    █ ││in the last 10 s)                         │|
|│                                                           ██ █  █ │    █ ││                                          │|
|│                                                           ██ █  █ │    █ ││                                          │|
|└────────────────────────────── whole recording (2m50s), │ cursor 11:59:44 ┘│                                          │|
|┌ closes/s 1010 Mandatory Extension cursor 0 peak 2 ───────────────────────┐│                                          │|
|│                                                           █       │      ││                                          │|
|│                                                           █       │      ││                                          │|
|│                                                           █       │      ││                                          │|
|│                                                           █       │      ││                                          │|
|└────────────────────────────── whole recording (2m50s), │ cursor 11:59:44 ┘│                                          │|
|┌ closes/s other codes cursor 0 peak 1 ────────────────────────────────────┐│                                          │|
|│                                                               █   │      ││                                          │|
|│                                                               █   │      │└──────────────────────────────────────────┘|
|│                                                               █   │      │┌ retries due ─────────────────────────────┐|
|│                                                               █   │      ││next 1s 0  5s 0  30s 7                    │|
|└────────────────────────────── whole recording (2m50s), │ cursor 11:59:44 ┘└──────────────────────────────────────────┘|
| going to -15s                                                                                                          |
| Space play  Right ±1s  . ±10s  1 x1  4 max  : go to  n next close  b burst  Esc back  Tab events  f freeze  ? help     |
"#;
const TARGETS_120X14: &str = "
| wsmon  Sessions  Storm  Events [Targets]                   REPLAY  incident-42.jsonl  11:59:59Z (+2m50s of 2m50s) x1 ⏸ |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                                        |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1                     |
| attempts/s 0.0 (total 52)  lockstep - (few retries)                                                                    |
|┌ Targets 4 · sort # asc · Enter: its sessions ────────────────────────────────────────────────────────────────────────┐|
|│  #▲ TARGET                     SESS  OPEN  WAIT  OPENS CLOSES BY CODE       HTTP FAIL  HS p50  HS p99  ATT/S GAVE UP │|
|│   0 /echo                        10     9     0      9 -                            0     3ms     3ms      0       0 │|
|│   1 /overload                     6     0     6     36 1013×36                      0     3ms     3ms      0       0 │|
|│   2 /flaky                        2     1     1      2 1006×1                       2     3ms     3ms      0       0 │|
|│   3 /strict                       2     0     0      2 1010×2                       0     3ms     3ms      0       0 │|
|│                                                                                                                      │|
|└──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘|
| targets: 4  selected ws://127.0.0.1:9001/echo                                                                          |
| Space play  Right ±1s  . ±10s  1 x1  4 max  : go to  n next close  b burst  Esc back  Enter its sessions  > sort       |
";

#[test]
fn per_target_totals_add_up_to_the_run_totals() {
    let snap = fixtures::snapshot(40);
    let t = &snap.totals;
    let sum = |f: &dyn Fn(&wsmon::state::snapshot::TargetView) -> u64| -> u64 {
        snap.targets.iter().map(f).sum()
    };
    assert_eq!(sum(&|v| v.opens), t.opens);
    assert_eq!(sum(&|v| v.attempts), t.attempts);
    assert_eq!(sum(&|v| v.gave_up), t.gave_up);
    let http: u64 = t
        .statuses
        .iter()
        .filter(|(s, _)| **s != 101)
        .map(|(_, n)| n)
        .sum();
    assert!(http > 0);
    assert_eq!(sum(&|v| v.http_failures), http);
    for (code, n) in &t.closes_by_code {
        assert_eq!(
            sum(&|v| v.closes_by_code.get(code).copied().unwrap_or(0)),
            *n,
            "{code}"
        );
    }
    for i in 0..7 {
        let n: usize = snap.targets.iter().map(|v| v.by_state[i]).sum();
        assert_eq!(n, t.by_state[i]);
    }
    assert_eq!(
        snap.targets.iter().map(|v| v.sessions).sum::<usize>(),
        snap.sessions.len()
    );
    // Every target that handshook has its percentiles, p50 <= p99.
    for v in &snap.targets {
        if let (Some(a), Some(b)) = (v.handshake_p50_ms, v.handshake_p99_ms) {
            assert!(a <= b, "{}", v.url);
        }
    }
    assert!(snap.targets.iter().any(|v| v.handshake_p99_ms.is_some()));
}

#[test]
fn live_targets_tab_from_the_sessions_tab() {
    let snap = Arc::new(fixtures::snapshot(20));
    let mut app = App::new(fixtures::view_state());
    let tab = Event::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    for _ in 0..3 {
        app.on_event(&tab, &snap);
    }
    assert_eq!(app.view.tab, Tab::Targets);
    let screen = fixtures::render(&mut app, &snap, 100, 14);
    assert!(screen[0].contains("[Targets]"), "{}", screen[0]);
    assert!(!screen[0].contains("REPLAY"));
    assert!(screen[5].contains("TARGET"), "{}", screen[5]);
    // One row per target (labelled by path when the URLs do not fit), and the selected
    // target's whole URL on the status line.
    for path in ["/echo", "/overload", "/flaky", "/strict"] {
        assert_eq!(
            screen[6..12].iter().filter(|l| l.contains(path)).count(),
            1,
            "{path}: {screen:#?}"
        );
    }
    assert!(
        screen[12].contains(&format!("selected {}", snap.targets[0].url)),
        "{screen:#?}"
    );
    // Live, the operator keys still work (R asks to confirm for several sessions).
    let out = app.on_event(
        &Event::Key(KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT)),
        &snap,
    );
    assert!(out.commands.len() == 1 || app.view.confirm.is_some());
    assert_ne!(
        app.view.status.as_ref().map(|s| s.text.as_str()),
        Some(wsmon::tui::replay::REFUSED)
    );
}

#[test]
fn narrow_replay_header_keeps_the_tabs_and_the_cursor() {
    let mut r = Replay::new();
    r.press('.');
    let screen = r.render(80, 24);
    assert!(
        screen[0].starts_with(" wsmon [Sessions] Storm  Events  Targets "),
        "{}",
        screen[0]
    );
    assert!(screen[0].contains(" REPLAY "), "{}", screen[0]);
    assert!(screen[0].contains(" +0m10s x1 ⏸"), "{}", screen[0]);
    let wide = r.render(120, 24);
    assert!(wide[0].contains("incident-42.jsonl"), "{}", wide[0]);
}

#[test]
fn replay_opens_the_tui_only_on_a_terminal_without_summary_flags() {
    use wsmon::replay::command::{ReplayMode as Run, mode};
    let plain = wsmon::replay::Options {
        file: "f.jsonl".into(),
        ..Default::default()
    };
    assert_eq!(mode(&plain, true), Run::Tui);
    assert_eq!(mode(&plain, false), Run::Summary);
    let summary = wsmon::replay::Options {
        summary: true,
        ..plain.clone()
    };
    assert_eq!(mode(&summary, true), Run::Summary);
    let at = wsmon::replay::Options {
        at: Some("+1s".into()),
        ..plain.clone()
    };
    assert_eq!(mode(&at, true), Run::At);
    let window = wsmon::replay::Options {
        from: Some("+1s".into()),
        ..plain
    };
    assert_eq!(mode(&window, true), Run::Summary);
}

#[test]
fn replayed_detail_says_traffic_was_not_recorded() {
    // An export holds events, not message or byte counts: the detail says so, no zeros.
    let mut r = Replay::new();
    r.press(':');
    r.text("+2m30s");
    r.key(KeyCode::Enter, KeyModifiers::NONE);
    let screen = r.render(100, 44);
    check("replay_detail_100x44", &screen, REPLAY_DETAIL_100X44);
}

const REPLAY_DETAIL_100X44: &str = r#"
| wsmon [Sessions] Storm  Events  Targets                   REPLAY  11:59:39Z (+2m30s of 2m50s) x1 ⏸ |
| targets 4  sessions 19  open 10 closed 2 waiting 7                                                 |
| closes 1013 Try Again Later 24 | 1010 Mandatory Extension 2 | 1006 Abnormal Closure 1 | HTTP 503 1 |
| attempts/s 0.0 (total 38)  lockstep - (few retries)                                                |
| Session s1 (Esc: back, j/k: scroll) ───────────────────────────────────────────── lines 1-37 of 54 |
|  target      #0 ws://127.0.0.1:9001/echo                                                           |
|  state       open since 11:59:00.000Z (39.1s)  attempt 1  uptime 39.1s                             |
|                                                                                                    |
|Last close                                                                                          |
|  none yet                                                                                          |
|                                                                                                    |
|Backoff timeline (1 attempt; times UTC)                                                             |
|     #  cause       rule      window  delay  retry  outcome      uptime                             |
|     1  -           -              -      -      -  open              -                             |
|        started 11:58:59.996Z                                                                       |
|                                                                                                    |
|Attempts on a time axis (0 .. 39.1s)                                                                |
|  1                                                                                                 |
|  ●                                                                                              |  |
|  0s                                            19.6s                                        39.1s  |
|  ● attempt   | now   ○ next attempt                                                                |
|                                                                                                    |
|Recent events (UTC, newest last)                                                                    |
|  11:58:59.996Z s1     /echo            spawned                ws://127.0.0.1:9001/echo             |
|  11:58:59.996Z s1     /echo            connecting  attempt 1                                       |
|  11:59:00.000Z s1     /echo            open        attempt 1                                       |
|                                                                                                    |
|Traffic                                                                                             |
|  not recorded (an export holds events, not message or byte counts)                                 |
|                                                                                                    |
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
| going to +2m30s                                                                                    |
| Space play  Right ±1s  . ±10s  1 x1  4 max  : go to  n next close  b burst  Esc back  j scroll     |
"#;

#[test]
fn b_says_so_when_no_burst_follows() {
    let mut r = Replay::new();
    let bursts = r.app.view.replay.as_ref().expect("replay").bursts.clone();
    assert_eq!(bursts.len(), 5, "the fixture's herds: {bursts:?}");
    // From the start, `b` goes to the end of the first burst.
    r.press('b');
    assert_eq!(r.sent.last(), Some(&ReplayCmd::NextBurst));
    assert_eq!(r.cursor.time().timestamp(), bursts[0] + 1);
    // At the end no burst follows: a status line says so, and nothing is sent.
    r.press('G');
    let sent = r.sent.len();
    r.app.view.status = None;
    let out = r.press('b');
    assert!(out.commands.is_empty(), "{:?}", out.commands);
    assert_eq!(r.sent.len(), sent);
    let status = r.app.view.status.clone().expect("a status line");
    let end = r.cursor.bounds().expect("events").1;
    assert_eq!(
        status.text,
        format!("no burst of attempts after {}", end.format("%H:%M:%SZ"))
    );
}

const REPLAY_STORM_80X24: &str = r#"
| wsmon  Sessions [Storm] Events  Targets          REPLAY  11:59:49Z +2m40s x1 ⏸ |
| targets 4  sessions 19  open 10 closed 2 waiting 7                             |
| closes 1013 Try Again Later 30 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 0.0 (total 44)  lockstep - (few retries)                            |
|┌ attempts/s cursor 0 peak 10 ─────────┐┌ closes, HTTP answers, errors ────────┐|
|│                              █    │  ││1013 Try Again Later        30 ███████│|
|│                              █▆ ▆ │ ▆││1010 Mandatory Extension     2 █      │|
|│▂▂ ▂ ▂ ▂           ▂ ▂ ▂▂     ██▂█ │ █││1006 Abnormal Closure        1 █      │|
|└ recording (2m50s), │ cursor 11:59:49 ┘│HTTP 503                     1 █      │|
|┌ closes/s 1013 cursor 0 peak 6 ───────┐└──────────────────────────────────────┘|
|│                              ██ █ │ █│┌ lockstep (last 10 s) ────────────────┐|
|│                              ██ █ │ █││too few recent attempts to judge      │|
|└ recording (2m50s), │ cursor 11:59:49 ┘│(needs 20 in the last 10 s)           │|
|┌ closes/s 1010 cursor 0 peak 2 ───────┐│                                      │|
|│                              █    │  ││                                      │|
|│                              █    │  ││                                      │|
|│                              █    │  ││                                      │|
|└ recording (2m50s), │ cursor 11:59:49 ┘│                                      │|
|┌ closes/s other codes cursor 0 peak 1 ┐└──────────────────────────────────────┘|
|│                                █  │  │┌ retries due ─────────────────────────┐|
|│                                █  │  ││next 1s 0  5s 0  30s 7                │|
|└ recording (2m50s), │ cursor 11:59:49 ┘└──────────────────────────────────────┘|
| going to -10s                                                                  |
| Space play  Right ±1s  . ±10s  1 x1  4 max  : go to  n next close  b burst     |
"#;
const REPLAY_HELP_80X24: &str = r#"
| wsmon [Sessions] Storm  Events  Targets          REPLAY  11:57:09Z +0m00s x1 ⏸ |
| targets 1  sessions 1  connecting 1 open 0 waiting 0                           |
| closes none                                                                    |
| attempts/s 0.0 (total 1)  lockstep - (few retries)                             |
|┌ Help (Esc, q or ? closes) ───────────────────────────────────────────────────┐|
|│Keys (change them in the config file: [keys] name = "key")                    │|
|│  k/Up         move up / scroll up                           up               │|
|│  j/Down       move down / scroll down                       down             │|
|│  PgUp         one page up                                   page_up          │|
|│  PgDn         one page down                                 page_down        │|
|│  Home/g       first row / top                               home             │|
|│  End/G        last row / bottom                             end              │|
|│  Enter        open detail / a target's sessions             open             │|
|│  Esc          back; on the main screen: clear filters, then back             │|
|│               marks                                                          │|
|│  Tab          next tab: Sessions, Storm, Events, Targets    next_tab         │|
|│  >            sort by the next column                       sort_next        │|
|│  <            sort by the previous column                   sort_prev        │|
|│  i            invert the sort order                         sort_reverse     │|
|│  /            filter rows by text (empty clears)            filter           │|
|│  t            filter by state (cycles through states        state_filter     │|
|└──────────────────────────────────────────────────────────── lines 1-16 of 67 ┘|
| help                                                                           |
| Space play  Right ±1s  . ±10s  1 x1  4 max  : go to  n next close  b burst     |
"#;
