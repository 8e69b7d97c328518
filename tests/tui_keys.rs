//! Key handling: every default key maps to the right action in each mode, actions map to the
//! right commands, the config file's [keys] rebinds and rejects bad input, and the prompts
//! parse what the user types.

use std::collections::BTreeMap;
use std::sync::Arc;

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use wsmon::engine::events::Command;
use wsmon::runtime::Request;
use wsmon::state::snapshot::Snapshot;
use wsmon::tui::app::{App, Outcome};
use wsmon::tui::fixtures;
use wsmon::tui::keys::{Action, KeyMap, Mode, Selection, action_for, command_for};
use wsmon::tui::view::{Clock, Column, ExplainTarget, OutcomeFilter, PromptKind, Tab};

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ch(c: char) -> KeyEvent {
    let mods = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    KeyEvent::new(KeyCode::Char(c), mods)
}

#[test]
fn default_keys_on_the_sessions_screen() {
    let map = KeyMap::default();
    let cases = [
        (ch('q'), Action::Quit),
        (ch('?'), Action::Help),
        (ch('k'), Action::Up),
        (key(KeyCode::Up), Action::Up),
        (ch('j'), Action::Down),
        (key(KeyCode::Down), Action::Down),
        (key(KeyCode::PageUp), Action::PageUp),
        (key(KeyCode::PageDown), Action::PageDown),
        (key(KeyCode::Home), Action::Home),
        (key(KeyCode::End), Action::End),
        (key(KeyCode::Enter), Action::Open),
        (key(KeyCode::Tab), Action::NextTab),
        (ch('>'), Action::SortNext),
        (ch('<'), Action::SortPrev),
        (ch('i'), Action::SortReverse),
        (ch('/'), Action::Filter),
        (ch('t'), Action::StateFilter),
        (ch('o'), Action::CodeFilter),
        (ch('x'), Action::Explain),
        (ch('a'), Action::Add),
        (ch('c'), Action::Close),
        (ch('r'), Action::Reconnect),
        (ch('R'), Action::ReconnectAll),
        (ch('p'), Action::Pause),
        (ch('P'), Action::PauseAll),
        (ch('+'), Action::Grow),
        (ch('-'), Action::Shrink),
        (ch('f'), Action::Freeze),
        (ch('e'), Action::Export),
    ];
    for (k, want) in cases {
        assert_eq!(
            action_for(k, Mode::Sessions, &map),
            Some(want),
            "key {:?}",
            k.code
        );
    }
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    for mode in [
        Mode::Sessions,
        Mode::Detail,
        Mode::Storm,
        Mode::Explain,
        Mode::Help,
        Mode::Prompt,
    ] {
        assert_eq!(
            action_for(ctrl_c, mode, &map),
            Some(Action::Quit),
            "{mode:?}"
        );
    }
}

#[test]
fn keys_depend_on_the_mode() {
    let map = KeyMap::default();
    let esc = key(KeyCode::Esc);
    assert_eq!(action_for(esc, Mode::Detail, &map), Some(Action::Back));
    assert_eq!(action_for(esc, Mode::Storm, &map), Some(Action::Back));
    assert_eq!(action_for(esc, Mode::Explain, &map), Some(Action::Back));
    assert_eq!(action_for(esc, Mode::Help, &map), Some(Action::Back));
    assert_eq!(action_for(esc, Mode::Prompt, &map), Some(Action::Cancel));
    assert_eq!(
        action_for(ch('c'), Mode::Explain, &map),
        Some(Action::Compare)
    );
    assert_eq!(action_for(ch('c'), Mode::Detail, &map), Some(Action::Close));
    // Session actions need a session: not on the storm tab.
    assert_eq!(action_for(ch('r'), Mode::Storm, &map), None);
    assert_eq!(
        action_for(ch('P'), Mode::Storm, &map),
        Some(Action::PauseAll)
    );
    // Help only closes and scrolls: q, Esc and ? close it.
    assert_eq!(action_for(ch('f'), Mode::Help, &map), None);
    assert_eq!(action_for(ch('q'), Mode::Help, &map), Some(Action::Back));
    assert_eq!(action_for(ch('?'), Mode::Help, &map), Some(Action::Help));
    // In a prompt, letters are text, even q.
    assert_eq!(
        action_for(ch('q'), Mode::Prompt, &map),
        Some(Action::Input('q'))
    );
    assert_eq!(
        action_for(key(KeyCode::Enter), Mode::Prompt, &map),
        Some(Action::Submit)
    );
    assert_eq!(
        action_for(key(KeyCode::Backspace), Mode::Prompt, &map),
        Some(Action::Backspace)
    );
}

#[test]
fn actions_map_to_commands() {
    let sel = Selection {
        session: Some(7),
        target: Some(1),
        paused: false,
        paused_all: false,
    };
    assert_eq!(command_for(Action::Quit, &sel), Some(Command::Shutdown));
    assert_eq!(
        command_for(Action::Export, &sel),
        Some(Command::FlushExport)
    );
    assert_eq!(
        command_for(Action::Reconnect, &sel),
        Some(Command::ReconnectNow { session: Some(7) })
    );
    assert_eq!(
        command_for(Action::ReconnectAll, &sel),
        Some(Command::ReconnectNow { session: None })
    );
    assert_eq!(
        command_for(Action::Pause, &sel),
        Some(Command::SetPaused {
            session: Some(7),
            paused: true
        })
    );
    let paused = Selection {
        paused: true,
        paused_all: true,
        ..sel
    };
    assert_eq!(
        command_for(Action::Pause, &paused),
        Some(Command::SetPaused {
            session: Some(7),
            paused: false
        }),
        "p on a paused session resumes it"
    );
    assert_eq!(
        command_for(Action::PauseAll, &sel),
        Some(Command::SetPaused {
            session: None,
            paused: true
        })
    );
    assert_eq!(
        command_for(Action::PauseAll, &paused),
        Some(Command::SetPaused {
            session: None,
            paused: false
        })
    );
    assert_eq!(
        command_for(Action::Grow, &sel),
        Some(Command::Grow {
            target: 1,
            count: 1
        })
    );
    assert_eq!(
        command_for(Action::Shrink, &sel),
        Some(Command::Shrink {
            target: 1,
            count: 1
        })
    );
    // Without a selection, per-session actions send nothing; global ones still do.
    let none = Selection::default();
    assert_eq!(command_for(Action::Reconnect, &none), None);
    assert_eq!(command_for(Action::Grow, &none), None);
    assert_eq!(
        command_for(Action::ReconnectAll, &none),
        Some(Command::ReconnectNow { session: None })
    );
    // Navigation and prompts send nothing by themselves.
    for a in [
        Action::Down,
        Action::Add,
        Action::Close,
        Action::Freeze,
        Action::Help,
    ] {
        assert_eq!(command_for(a, &sel), None, "{a:?}");
    }
}

#[test]
fn config_rebinds_keys() {
    let mut keys = BTreeMap::new();
    keys.insert("freeze".to_string(), "F".to_string());
    keys.insert("quit".to_string(), "ctrl-q".to_string());
    keys.insert("down".to_string(), "n down".to_string());
    let map = KeyMap::from_config(&keys).expect("valid config");
    assert_eq!(
        action_for(ch('F'), Mode::Sessions, &map),
        Some(Action::Freeze)
    );
    assert_eq!(action_for(ch('f'), Mode::Sessions, &map), None);
    let ctrl_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL);
    assert_eq!(action_for(ctrl_q, Mode::Sessions, &map), Some(Action::Quit));
    assert_eq!(action_for(ch('q'), Mode::Sessions, &map), None);
    assert_eq!(
        action_for(ch('n'), Mode::Sessions, &map),
        Some(Action::Down)
    );
    assert_eq!(action_for(ch('j'), Mode::Sessions, &map), None);
    assert_eq!(map.keys_of(Action::Down), "n/Down");
    // The help shows the configured keys.
    let rows = map.help_rows();
    assert!(
        rows.iter()
            .any(|(name, keys, _)| *name == "freeze" && keys == "F")
    );
}

#[test]
fn config_errors_are_clear() {
    let bad = |name: &str, value: &str| {
        let mut keys = BTreeMap::new();
        keys.insert(name.to_string(), value.to_string());
        KeyMap::from_config(&keys).expect_err("must be rejected")
    };
    let e = bad("explode", "x");
    assert!(
        e.contains("unknown action 'explode'") && e.contains("quit"),
        "{e}"
    );
    let e = bad("quit", "hyper-q");
    assert!(
        e.contains("quit") && e.contains("unknown key 'hyper-q'"),
        "{e}"
    );
    let e = bad("quit", "   ");
    assert!(e.contains("quit"), "{e}");
    let e = bad("freeze", "p");
    assert!(
        e.contains("'p' is bound to both") && e.contains("pause") && e.contains("freeze"),
        "{e}"
    );
    // Same key in modes that never overlap is fine (compare is only in the explain view).
    let mut keys = BTreeMap::new();
    keys.insert("compare".to_string(), "a".to_string());
    assert!(KeyMap::from_config(&keys).is_ok());
}

// ---- keys through the app: view changes and commands ----

fn snap() -> Arc<Snapshot> {
    Arc::new(fixtures::snapshot(20))
}

fn press(app: &mut App, snap: &Arc<Snapshot>, k: KeyEvent) -> Outcome {
    app.on_event(&Event::Key(k), snap)
}

fn typed(app: &mut App, snap: &Arc<Snapshot>, text: &str) {
    for c in text.chars() {
        press(app, snap, ch(c));
    }
}

fn ready(snap: &Arc<Snapshot>) -> App {
    let mut app = App::new(fixtures::view_state());
    fixtures::render(&mut app, snap, 100, 30);
    app
}

#[test]
fn navigation_selects_by_id_and_pages() {
    let snap = snap();
    let mut app = ready(&snap);
    assert_eq!(app.view.selected, Some(1));
    press(&mut app, &snap, ch('j'));
    press(&mut app, &snap, key(KeyCode::Down));
    assert_eq!(app.view.selected, Some(3));
    press(&mut app, &snap, key(KeyCode::End));
    assert_eq!(app.view.selected, Some(20));
    press(&mut app, &snap, key(KeyCode::Home));
    assert_eq!(app.view.selected, Some(1));
    // A page is the number of table rows on a 100x30 screen (30 - 6 - 1 header = 23).
    press(&mut app, &snap, key(KeyCode::PageDown));
    assert_eq!(app.view.selected, Some(20), "clamped at the last row");
    // Sorting keeps the selected session selected.
    press(&mut app, &snap, key(KeyCode::Home));
    press(&mut app, &snap, ch('j'));
    press(&mut app, &snap, ch('j'));
    let before = app.view.selected;
    press(&mut app, &snap, ch('>'));
    assert_eq!(app.view.sort, Column::Target);
    app.view.sync(&snap);
    assert_eq!(app.view.selected, before);
    // Release events are ignored (only presses act).
    let mut release = ch('j');
    release.kind = KeyEventKind::Release;
    let out = press(&mut app, &snap, release);
    assert!(!out.redraw && out.commands.is_empty());
}

/// `P` pauses every session: like every action on several sessions, it asks first; `n` sends
/// nothing, `y` sends it.
#[test]
fn pause_all_asks_first() {
    let snap = snap();
    let mut app = ready(&snap);
    let out = press(&mut app, &snap, ch('P'));
    assert!(
        out.commands.is_empty(),
        "sent without asking: {:?}",
        out.commands
    );
    let question = app.view.confirm.as_ref().map(|c| c.question.clone());
    assert!(
        question
            .as_deref()
            .is_some_and(|q| q.starts_with("pause the retries of all 20 sessions?")),
        "{question:?}"
    );
    let out = press(&mut app, &snap, ch('n'));
    assert!(out.commands.is_empty() && app.view.confirm.is_none());
    press(&mut app, &snap, ch('P'));
    let out = press(&mut app, &snap, ch('y'));
    assert_eq!(
        out.commands,
        vec![Command::SetPaused {
            session: None,
            paused: true
        }]
    );
    // All paused: P offers to resume them.
    let mut paused = (*snap).clone();
    paused.totals.paused_all = true;
    let paused = Arc::new(paused);
    press(&mut app, &paused, ch('P'));
    let question = app.view.confirm.as_ref().map(|c| c.question.clone());
    assert_eq!(
        question.as_deref(),
        Some("resume the retries of all 20 sessions?")
    );
}

#[test]
fn session_keys_send_commands_for_the_selected_session() {
    let snap = snap();
    let mut app = ready(&snap);
    press(&mut app, &snap, ch('j')); // s2, target 0
    let out = press(&mut app, &snap, ch('r'));
    assert_eq!(
        out.commands,
        vec![Command::ReconnectNow { session: Some(2) }]
    );
    assert!(
        app.view
            .status
            .as_ref()
            .is_some_and(|s| s.text.contains("s2"))
    );
    let out = press(&mut app, &snap, ch('p'));
    assert_eq!(
        out.commands,
        vec![Command::SetPaused {
            session: Some(2),
            paused: true
        }]
    );
    // P acts on every session: it asks first (see pause_all_asks_first).
    press(&mut app, &snap, ch('P'));
    let out = press(&mut app, &snap, ch('y'));
    assert_eq!(
        out.commands,
        vec![Command::SetPaused {
            session: None,
            paused: true
        }]
    );
    let out = press(&mut app, &snap, ch('+'));
    assert_eq!(
        out.commands,
        vec![Command::Grow {
            target: 0,
            count: 1
        }]
    );
    let out = press(&mut app, &snap, ch('-'));
    assert_eq!(
        out.commands,
        vec![Command::Shrink {
            target: 0,
            count: 1
        }]
    );
    let out = press(&mut app, &snap, ch('e'));
    assert_eq!(out.commands, vec![Command::FlushExport]);
    let out = press(&mut app, &snap, ch('q'));
    assert!(out.quit);
    assert_eq!(out.commands, vec![Command::Shutdown]);
}

#[test]
fn close_and_add_go_through_prompts() {
    let snap = snap();
    let mut app = ready(&snap);
    press(&mut app, &snap, ch('j'));
    press(&mut app, &snap, ch('c'));
    assert_eq!(
        app.view.prompt.as_ref().map(|p| p.kind),
        Some(PromptKind::Close(2))
    );
    assert_eq!(app.view.mode(), Mode::Prompt);
    // Enter with nothing typed closes with 1000.
    let out = press(&mut app, &snap, key(KeyCode::Enter));
    assert_eq!(
        out.commands,
        vec![Command::Close {
            session: 2,
            code: 1000,
            reason: String::new()
        }]
    );
    assert!(app.view.prompt.is_none());

    press(&mut app, &snap, ch('c'));
    typed(&mut app, &snap, "4001 bye");
    let out = press(&mut app, &snap, key(KeyCode::Enter));
    assert_eq!(
        out.commands,
        vec![Command::Close {
            session: 2,
            code: 4001,
            reason: "bye".to_string()
        }]
    );

    // A code that cannot be sent: an error, nothing sent.
    press(&mut app, &snap, ch('c'));
    typed(&mut app, &snap, "1006");
    let out = press(&mut app, &snap, key(KeyCode::Enter));
    assert!(out.commands.is_empty());
    assert!(
        app.view
            .status
            .as_ref()
            .is_some_and(|s| s.text.contains("cannot be sent"))
    );

    press(&mut app, &snap, ch('a'));
    typed(&mut app, &snap, "ws://127.0.0.1:9001/echo 5x");
    press(&mut app, &snap, key(KeyCode::Backspace));
    let out = press(&mut app, &snap, key(KeyCode::Enter));
    assert_eq!(
        out.commands,
        vec![Command::AddSessions {
            url: "ws://127.0.0.1:9001/echo".to_string(),
            count: 5
        }]
    );

    // Esc abandons a prompt without sending.
    press(&mut app, &snap, ch('a'));
    typed(&mut app, &snap, "ws://x/ 3");
    let out = press(&mut app, &snap, key(KeyCode::Esc));
    assert!(out.commands.is_empty() && app.view.prompt.is_none());
}

#[test]
fn explain_and_compare() {
    let snap = snap();
    let mut app = ready(&snap);
    // s6 closed with 1013.
    for _ in 0..5 {
        press(&mut app, &snap, ch('j'));
    }
    assert_eq!(app.view.selected, Some(6));
    press(&mut app, &snap, ch('x'));
    assert_eq!(app.view.explain, Some(ExplainTarget::One(1013)));
    assert_eq!(app.view.mode(), Mode::Explain);
    press(&mut app, &snap, ch('c'));
    typed(&mut app, &snap, "1010");
    press(&mut app, &snap, key(KeyCode::Enter));
    assert_eq!(app.view.explain, Some(ExplainTarget::Compare(1013, 1010)));
    press(&mut app, &snap, key(KeyCode::Esc));
    assert_eq!(app.view.explain, None);
    // s1 never closed: x asks for a code.
    press(&mut app, &snap, key(KeyCode::Home));
    press(&mut app, &snap, ch('x'));
    assert_eq!(
        app.view.prompt.as_ref().map(|p| p.kind),
        Some(PromptKind::Explain)
    );
    typed(&mut app, &snap, "1010 1013");
    press(&mut app, &snap, key(KeyCode::Enter));
    assert_eq!(app.view.explain, Some(ExplainTarget::Compare(1010, 1013)));
    press(&mut app, &snap, ch('x'));
    typed(&mut app, &snap, "99999");
    press(&mut app, &snap, key(KeyCode::Enter));
    assert!(
        app.view
            .status
            .as_ref()
            .is_some_and(|s| s.text.contains("0-65535"))
    );
}

#[test]
fn views_tabs_filters_and_freeze() {
    let snap = snap();
    let mut app = ready(&snap);
    press(&mut app, &snap, key(KeyCode::Enter));
    assert_eq!(app.view.detail, Some(1));
    assert_eq!(app.view.mode(), Mode::Detail);
    press(&mut app, &snap, key(KeyCode::Tab));
    assert_eq!(app.view.tab, Tab::Storm);
    press(&mut app, &snap, key(KeyCode::Esc));
    assert_eq!(app.view.tab, Tab::Sessions);
    press(&mut app, &snap, key(KeyCode::Esc));
    assert_eq!(app.view.detail, None);
    press(&mut app, &snap, ch('?'));
    assert_eq!(app.view.mode(), Mode::Help);
    press(&mut app, &snap, ch('?'));
    assert_eq!(app.view.mode(), Mode::Sessions);

    // Text filter.
    press(&mut app, &snap, ch('/'));
    typed(&mut app, &snap, "strict");
    press(&mut app, &snap, key(KeyCode::Enter));
    app.view.sync(&snap);
    let ids: Vec<u64> = app
        .view
        .order()
        .iter()
        .map(|&i| snap.sessions[i].id)
        .collect();
    assert_eq!(ids, vec![10, 20]);
    // Filtering by a close code's name works too.
    press(&mut app, &snap, ch('/'));
    for _ in 0..6 {
        press(&mut app, &snap, key(KeyCode::Backspace));
    }
    typed(&mut app, &snap, "try again");
    press(&mut app, &snap, key(KeyCode::Enter));
    app.view.sync(&snap);
    assert_eq!(app.view.order().len(), 6);
    press(&mut app, &snap, ch('/'));
    for _ in 0..9 {
        press(&mut app, &snap, key(KeyCode::Backspace));
    }
    press(&mut app, &snap, key(KeyCode::Enter));
    app.view.sync(&snap);
    assert_eq!(app.view.order().len(), 20);

    // State filter cycles through the states present: connecting, open, closed, waiting.
    press(&mut app, &snap, ch('t'));
    app.view.sync(&snap);
    assert_eq!(app.view.order().len(), 1);
    for _ in 0..4 {
        press(&mut app, &snap, ch('t'));
    }
    assert_eq!(app.view.state_filter, None, "cycled back to all states");
    // The outcome filter cycles through what LAST CLOSE shows: 1006 first.
    press(&mut app, &snap, ch('o'));
    assert_eq!(app.view.outcome_filter, Some(OutcomeFilter::Code(1006)));
    app.view.sync(&snap);
    assert_eq!(app.view.order().len(), 1);

    // Freeze keeps the current snapshot on screen.
    press(&mut app, &snap, ch('f'));
    assert!(
        app.view
            .frozen
            .as_ref()
            .is_some_and(|f| Arc::ptr_eq(f, &snap))
    );
    press(&mut app, &snap, ch('f'));
    assert!(app.view.frozen.is_none());
}

#[test]
fn mouse_click_selects_and_sorts_wheel_scrolls() {
    let snap = snap();
    let mut app = ready(&snap);
    let click = |col: u16, row: u16| {
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: col,
            row,
            modifiers: KeyModifiers::NONE,
        })
    };
    // Rows start at y = 5 (title, 3 summary lines, table header).
    app.on_event(&click(2, 9), &snap);
    assert_eq!(app.view.selected, Some(5));
    // Click the STATE title: sort by state; again: descending.
    app.on_event(&click(30, 4), &snap);
    assert_eq!(app.view.sort, Column::State);
    assert!(!app.view.descending);
    app.on_event(&click(30, 4), &snap);
    assert!(app.view.descending);
    app.view.sort = Column::Id;
    app.view.descending = false;
    app.view.sync(&snap);
    let wheel = Event::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 10,
        row: 10,
        modifiers: KeyModifiers::NONE,
    });
    app.on_event(&wheel, &snap);
    assert_eq!(app.view.selected, Some(8));
    // Clicking "Storm" in the title bar switches tabs; "Sessions" switches back.
    let title = fixtures::render(&mut app, &snap, 100, 30)[0].clone();
    let storm = u16::try_from(title.find("Storm").expect("tab shown")).expect("fits");
    app.on_event(&click(storm + 1, 0), &snap);
    assert_eq!(app.view.tab, Tab::Storm);
    let sessions = u16::try_from(title.find("Sessions").expect("tab shown")).expect("fits");
    app.on_event(&click(sessions + 1, 0), &snap);
    assert_eq!(app.view.tab, Tab::Sessions);
}

#[test]
fn g_and_shift_g_jump_to_the_top_and_the_bottom() {
    let map = KeyMap::default();
    for mode in [Mode::Sessions, Mode::Detail, Mode::Explain, Mode::Help] {
        assert_eq!(
            action_for(ch('g'), mode, &map),
            Some(Action::Home),
            "{mode:?}"
        );
        assert_eq!(
            action_for(ch('G'), mode, &map),
            Some(Action::End),
            "{mode:?}"
        );
    }
    // In a prompt they are text.
    assert_eq!(
        action_for(ch('g'), Mode::Prompt, &map),
        Some(Action::Input('g'))
    );
}

#[test]
fn engine_notices_are_told_apart_into_news_and_errors() {
    use wsmon::engine::events::Notice;
    let url = "ws://127.0.0.1:9001/echo".to_string();
    for news in [
        Notice::ExportFlushed { events: 1234 },
        Notice::TargetAdded {
            url: url.clone(),
            count: 5,
        },
        Notice::SessionsAdded { url, count: 3 },
    ] {
        assert!(!news.is_error(), "{news}");
    }
    for error in [
        Notice::AddFailed {
            error: "invalid URL 'x'".into(),
        },
        Notice::NoExport,
        Notice::ExportFailed {
            error: "export /tmp/x.jsonl: No space left on device (os error 28)".into(),
        },
    ] {
        assert!(error.is_error(), "{error}");
    }
}

#[test]
fn explain_on_a_session_refused_with_an_http_status_explains_the_status() {
    let snap = snap();
    let mut app = ready(&snap);
    // The first session whose last attempt was answered with an HTTP status.
    let (pos, status) = snap
        .sessions
        .iter()
        .enumerate()
        .find_map(
            |(i, s)| match s.timeline.iter().rev().find_map(|r| r.outcome) {
                Some(wsmon::state::snapshot::AttemptOutcome::Status { status }) => {
                    Some((i, status))
                }
                _ => None,
            },
        )
        .expect("the fixtures have a session refused with a status");
    for _ in 0..pos {
        press(&mut app, &snap, ch('j'));
    }
    assert_eq!(app.view.selected, Some(snap.sessions[pos].id));
    press(&mut app, &snap, ch('x'));
    assert_eq!(app.view.explain, Some(ExplainTarget::Http(status)));
    let text = wsmon::tui::ui::explain::text(&app.view, ExplainTarget::Http(status));
    assert!(text.starts_with(&format!("HTTP {status}")), "{text}");
    // Comparing works on close codes only: the footer does not offer it for a status.
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    let footer = screen.last().expect("footer line");
    assert!(!footer.contains("compare"), "{footer}");
    assert!(footer.contains("back"), "{footer}");
    // A close code's explanation still offers it.
    app.view.explain = Some(ExplainTarget::One(1013));
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    let footer = screen.last().expect("footer line");
    assert!(footer.contains("c compare"), "{footer}");
}

fn status(app: &App) -> String {
    app.view
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default()
}

#[test]
fn space_marks_and_bulk_actions_ask_with_the_count() {
    let snap = snap();
    let mut app = ready(&snap);
    // Space marks the row and moves down; on a marked row it unmarks.
    press(&mut app, &snap, ch(' '));
    press(&mut app, &snap, ch(' '));
    assert_eq!(
        app.view.marked.iter().copied().collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(app.view.selected, Some(3));
    press(&mut app, &snap, ch('k'));
    press(&mut app, &snap, ch(' '));
    assert_eq!(app.view.marked.iter().copied().collect::<Vec<_>>(), vec![1]);
    // One marked session: r acts on it at once (not on the selected row).
    let out = press(&mut app, &snap, ch('r'));
    assert_eq!(
        out.commands,
        vec![Command::ReconnectNow { session: Some(1) }]
    );
    // m marks every session shown under the filter: the waiting ones.
    press(&mut app, &snap, key(KeyCode::Esc)); // clears the mark (no filter on)
    assert!(app.view.marked.is_empty());
    app.view.state_filter = Some(wsmon::engine::events::SessionState::Waiting);
    app.view.sync(&snap);
    press(&mut app, &snap, ch('m'));
    assert_eq!(app.view.marked.len(), 7, "{}", status(&app));
    // p on 7 sessions asks first, with the count; n sends nothing.
    let out = press(&mut app, &snap, ch('p'));
    assert!(out.commands.is_empty());
    assert_eq!(app.view.mode(), Mode::Confirm);
    let question = app.view.confirm.as_ref().map(|c| c.question.clone());
    assert_eq!(
        question.as_deref(),
        Some("pause the retries of 7 marked sessions now?")
    );
    let out = press(&mut app, &snap, ch('n'));
    assert!(out.commands.is_empty());
    assert_eq!(app.view.mode(), Mode::Sessions);
    // r on 7: y sends one command per marked session, in one batch.
    press(&mut app, &snap, ch('r'));
    let out = press(&mut app, &snap, ch('y'));
    let Some(Request::Engine(Command::Many(cmds))) = out.commands.first() else {
        panic!("a batch: {:?}", out.commands);
    };
    assert_eq!(cmds.len(), 7);
    assert!(cmds.contains(&Command::ReconnectNow { session: Some(17) }));
    assert!(
        status(&app).contains("7 marked sessions"),
        "{}",
        status(&app)
    );
    // c on 7: the prompt says how many, then a yes closes them all with the code.
    press(&mut app, &snap, ch('c'));
    assert_eq!(
        app.view.prompt.as_ref().map(|p| p.kind),
        Some(PromptKind::CloseMarked(7))
    );
    typed(&mut app, &snap, "4000 maintenance");
    let out = press(&mut app, &snap, key(KeyCode::Enter));
    assert!(out.commands.is_empty(), "asks first");
    assert_eq!(
        app.view.confirm.as_ref().map(|c| c.question.as_str()),
        Some("close 7 marked sessions with 4000?")
    );
    let out = press(&mut app, &snap, key(KeyCode::Enter));
    let Some(Request::Engine(Command::Many(cmds))) = out.commands.first() else {
        panic!("a batch: {:?}", out.commands);
    };
    assert_eq!(cmds.len(), 7);
    assert!(cmds.contains(&Command::Close {
        session: 6,
        code: 4000,
        reason: "maintenance".into()
    }));
    // m again unmarks every session.
    press(&mut app, &snap, ch('m'));
    assert!(app.view.marked.is_empty());
}

#[test]
fn shift_r_says_how_many_waiting_sessions_before_acting() {
    let snap = snap();
    let mut app = ready(&snap);
    let out = press(&mut app, &snap, ch('R'));
    assert!(out.commands.is_empty(), "nothing before the yes");
    let question = app.view.confirm.as_ref().map(|c| c.question.clone());
    assert_eq!(
        question.as_deref(),
        Some("reconnect the 7 waiting sessions now? open sessions are not touched")
    );
    // Esc says no.
    let out = press(&mut app, &snap, key(KeyCode::Esc));
    assert!(out.commands.is_empty());
    assert_eq!(status(&app), "cancelled: nothing sent");
    press(&mut app, &snap, ch('R'));
    let out = press(&mut app, &snap, ch('y'));
    assert_eq!(out.commands, vec![Command::ReconnectNow { session: None }]);
    // Nobody waiting: nothing to ask.
    let mut none = (*snap).clone();
    none.sessions
        .retain(|s| s.state != wsmon::engine::events::SessionState::Waiting);
    let none = Arc::new(none);
    let mut app = ready(&none);
    let out = press(&mut app, &none, ch('R'));
    assert!(out.commands.is_empty() && app.view.confirm.is_none());
    assert!(status(&app).contains("no session is waiting"));
}

#[test]
fn esc_clears_every_filter_then_the_marks() {
    let snap = snap();
    let mut app = ready(&snap);
    press(&mut app, &snap, ch(' '));
    press(&mut app, &snap, ch('t'));
    press(&mut app, &snap, ch('o'));
    app.view.filter = "s1".into();
    assert!(app.view.filtered());
    press(&mut app, &snap, key(KeyCode::Esc));
    assert!(!app.view.filtered(), "{}", app.view.filter_summary());
    assert_eq!(status(&app), "filters cleared");
    assert_eq!(app.view.marked.len(), 1, "marks stay while filters go");
    press(&mut app, &snap, key(KeyCode::Esc));
    assert!(app.view.marked.is_empty());
    // Nothing left to clear: Esc does nothing.
    let out = press(&mut app, &snap, key(KeyCode::Esc));
    assert!(!out.redraw && !out.quit);
}

#[test]
fn q_esc_and_question_mark_close_help_without_quitting() {
    let snap = snap();
    let mut app = ready(&snap);
    for close in [ch('q'), key(KeyCode::Esc), ch('?')] {
        press(&mut app, &snap, ch('?'));
        assert_eq!(app.view.mode(), Mode::Help);
        let out = press(&mut app, &snap, close);
        assert!(!out.quit, "{:?} must not quit", close.code);
        assert!(out.commands.is_empty());
        assert_eq!(app.view.mode(), Mode::Sessions, "{:?}", close.code);
    }
    // Ctrl-C still quits from the help.
    press(&mut app, &snap, ch('?'));
    let out = press(
        &mut app,
        &snap,
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
    );
    assert!(out.quit);
}

#[test]
fn column_chooser_brings_back_rtt_at_80_columns() {
    let snap = snap();
    let mut app = App::new(fixtures::view_state());
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(!screen[4].contains("RTT"), "{}", screen[4]);
    assert!(screen[22].contains("hidden RTT"), "{}", screen[22]);
    press(&mut app, &snap, ch('C'));
    assert_eq!(app.view.mode(), Mode::Columns);
    // Down to RTT (the 8th column) and Space: shown, pinned.
    for _ in 0..7 {
        press(&mut app, &snap, ch('j'));
    }
    press(&mut app, &snap, ch(' '));
    assert_eq!(app.view.pinned, vec![Column::Rtt]);
    press(&mut app, &snap, key(KeyCode::Esc));
    assert_eq!(app.view.mode(), Mode::Sessions);
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(screen[4].contains("RTT"), "{}", screen[4]);
    // Space on a shown column turns it off.
    press(&mut app, &snap, ch('C'));
    press(&mut app, &snap, ch('j')); // TARGET
    press(&mut app, &snap, ch(' '));
    press(&mut app, &snap, ch('q'));
    assert_eq!(
        app.view.hidden,
        vec![
            Column::MsgAge,
            Column::Lat,
            Column::Conn,
            Column::Proto,
            Column::Target
        ],
        "MSG AGE, LAT, CONN and PROTO are off until chosen"
    );
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(!screen[4].contains("TARGET"), "{}", screen[4]);
}

#[test]
fn z_switches_utc_and_local_and_w_switches_ages_and_times() {
    let snap = snap();
    let mut app = ready(&snap);
    app.view.local_offset = chrono::FixedOffset::east_opt(3600).expect("offset");
    assert_eq!(app.view.clock, Clock::Utc);
    press(&mut app, &snap, ch('z'));
    assert_eq!(app.view.clock, Clock::Local);
    assert_eq!(status(&app), "times are now in local +01:00");
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    assert!(screen[0].contains("13:00:00+01:00"), "{}", screen[0]);
    press(&mut app, &snap, ch('z'));
    assert_eq!(app.view.clock, Clock::Utc);
    press(&mut app, &snap, ch('w'));
    assert!(app.view.table_times);
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    assert!(screen[4].contains("SINCE"), "{}", screen[4]);
    assert!(
        screen[5].contains("11:59:00"),
        "s1 opened a minute ago: {}",
        screen[5]
    );
    press(&mut app, &snap, ch('w'));
    assert!(!app.view.table_times);
}

#[test]
fn tab_reaches_the_event_log_which_scrolls_and_filters() {
    let snap = snap();
    let mut app = ready(&snap);
    press(&mut app, &snap, key(KeyCode::Tab));
    press(&mut app, &snap, key(KeyCode::Tab));
    assert_eq!(app.view.tab, Tab::Log);
    assert_eq!(app.view.mode(), Mode::Log);
    fixtures::render(&mut app, &snap, 100, 30);
    press(&mut app, &snap, ch('k'));
    assert_eq!(app.view.log_scroll, 1, "up goes back in time");
    press(&mut app, &snap, ch('G'));
    assert_eq!(app.view.log_scroll, 0, "G: back to the newest");
    press(&mut app, &snap, ch('t'));
    assert!(app.view.state_filter.is_some(), "filters work on the log");
    press(&mut app, &snap, key(KeyCode::Esc));
    assert_eq!(app.view.tab, Tab::Sessions);
    press(&mut app, &snap, key(KeyCode::Tab));
    press(&mut app, &snap, key(KeyCode::Tab));
    press(&mut app, &snap, key(KeyCode::Tab));
    assert_eq!(app.view.tab, Tab::Targets);
    press(&mut app, &snap, key(KeyCode::Tab));
    assert_eq!(app.view.tab, Tab::Sessions, "Tab cycles the four tabs");
}
