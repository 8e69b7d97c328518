//! The status line (message, prompt, or where you are) and the one-line key footer.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::state::snapshot::Snapshot;

use super::Theme;
use crate::tui::keys::{Action, Mode};
use crate::tui::view::{StatusKind, ViewState};

pub fn draw_status(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    if let Some(p) = &view.prompt {
        let label = p.kind.label();
        let line = Line::from(vec![
            Span::styled(format!(" {label}"), t.key()),
            Span::raw(p.input.clone()),
        ]);
        let x = area
            .x
            .saturating_add(u16::try_from(line.width()).unwrap_or(u16::MAX))
            .min(area.right().saturating_sub(1));
        frame.render_widget(Paragraph::new(line), area);
        frame.set_cursor_position(Position { x, y: area.y });
        return;
    }
    if let Some(c) = &view.confirm {
        let line = Line::from(vec![
            Span::styled(format!(" {} ", c.question), t.warn()),
            Span::styled("y", t.key()),
            Span::raw(" yes  "),
            Span::styled("n", t.key()),
            Span::raw(" no"),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let line = match &view.status {
        Some(s) => Line::styled(
            format!(" {}", s.text),
            match s.kind {
                StatusKind::Info => t.good(),
                StatusKind::Error => t.error(),
            },
        ),
        None => where_you_are(snap, view, t, area),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The whole screen, from the status line's area (it is the second row from the bottom).
fn area_screen(status: Rect) -> Rect {
    Rect {
        x: 0,
        y: 0,
        width: status.x + status.width,
        height: status.y + 2,
    }
}

fn where_you_are<'a>(snap: &Snapshot, view: &ViewState, t: Theme, area: Rect) -> Line<'a> {
    match view.mode() {
        Mode::Sessions | Mode::Prompt => {
            let len = view.order().len();
            let pos = if len == 0 { 0 } else { view.cursor + 1 };
            let mut spans = vec![
                Span::styled(" row ", t.label()),
                Span::raw(format!("{pos}/{len}")),
                Span::styled("  sort ", t.label()),
                Span::raw(format!(
                    "{} {}",
                    view.sort.title(),
                    if view.descending { "desc" } else { "asc" }
                )),
            ];
            // The filters are in the title bar.
            if !view.marked.is_empty() {
                spans.push(Span::styled("  marked ", t.label()));
                spans.push(Span::raw(view.marked.len().to_string()));
            }
            // Columns left out for want of room, and how to bring them back.
            let body = super::areas(area_screen(area)).body;
            let hidden =
                crate::tui::columns::hidden_for_room(body.width, snap, &view.column_prefs());
            if !hidden.is_empty() {
                let names: Vec<&str> = hidden
                    .iter()
                    .map(|c| c.title().split(' ').next().unwrap_or_default())
                    .collect();
                spans.push(Span::styled("  hidden ", t.label()));
                spans.push(Span::raw(names.join(", ")));
                spans.push(Span::styled(" (C: columns)", t.dim()));
            }
            Line::from(spans)
        }
        Mode::Log => Line::from(vec![
            Span::styled(" events: ", t.label()),
            Span::raw(format!(
                "{} shown of {} kept; times in {}",
                super::log::entries(snap, view).len(),
                snap.events.len(),
                view.zone()
            )),
        ]),
        Mode::Confirm => Line::styled(" confirm", t.label()),
        Mode::Columns => Line::styled(" choose the table's columns", t.label()),
        Mode::Detail => Line::styled(
            format!(" session detail; times in {} (z: switch)", view.zone()),
            t.label(),
        ),
        Mode::Storm => Line::from(vec![
            Span::styled(" storm: ", t.label()),
            Span::raw(format!(
                "{} s of history, {} attempts so far",
                snap.storm.seconds.len(),
                snap.totals.attempts
            )),
        ]),
        Mode::Targets => {
            let rows = crate::tui::targets::order(snap, &view.targets);
            let selected = rows
                .get(view.targets.cursor.min(rows.len().saturating_sub(1)))
                .map(|&i| snap.targets[i].url.as_str());
            let mut spans = vec![Span::styled(format!(" targets: {}", rows.len()), t.label())];
            if let Some(url) = selected {
                spans.push(Span::styled("  selected ", t.label()));
                spans.push(Span::raw(url.to_string()));
            }
            Line::from(spans)
        }
        Mode::Explain => Line::styled(" close code explanation", t.label()),
        Mode::Help => Line::styled(" help", t.label()),
    }
}

/// The main keys of a mode, with short labels.
fn footer_items(mode: Mode) -> &'static [(Action, &'static str)] {
    match mode {
        Mode::Sessions => &[
            (Action::Filter, "filter"),
            (Action::NextTab, "tabs"),
            (Action::Open, "detail"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
            (Action::Mark, "mark"),
            (Action::Close, "close"),
            (Action::Reconnect, "reconnect"),
            (Action::Pause, "pause"),
            (Action::Explain, "explain"),
            (Action::Columns, "columns"),
            (Action::SortNext, "sort"),
            (Action::TableTimes, "times"),
            (Action::Add, "add"),
            (Action::ReconnectAll, "reconnect waiting"),
            (Action::PauseAll, "pause all"),
            (Action::Freeze, "freeze"),
            (Action::Export, "export"),
        ],
        Mode::Log => &[
            (Action::Filter, "filter"),
            (Action::NextTab, "tabs"),
            (Action::Back, "back"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
            (Action::Up, "scroll"),
            (Action::End, "newest"),
            (Action::StateFilter, "state"),
            (Action::CodeFilter, "outcome"),
            (Action::Clock, "UTC/local"),
            (Action::Freeze, "freeze"),
        ],
        Mode::Confirm | Mode::Columns => &[],
        Mode::Detail => &[
            (Action::Back, "back"),
            (Action::Down, "scroll"),
            (Action::Explain, "explain"),
            (Action::Close, "close"),
            (Action::Reconnect, "reconnect"),
            (Action::Pause, "pause"),
            (Action::Clock, "UTC/local"),
            (Action::Freeze, "freeze"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Mode::Storm => &[
            (Action::Back, "back"),
            (Action::NextTab, "sessions"),
            (Action::PauseAll, "pause all"),
            (Action::ReconnectAll, "reconnect waiting"),
            (Action::Freeze, "freeze"),
            (Action::Export, "export"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Mode::Explain => &[
            (Action::Back, "back"),
            (Action::Compare, "compare"),
            (Action::Explain, "other code"),
            (Action::Down, "scroll"),
            (Action::Quit, "quit"),
        ],
        Mode::Targets => &[
            (Action::Back, "back"),
            (Action::Open, "its sessions"),
            (Action::SortNext, "sort"),
            (Action::SortReverse, "reverse"),
            (Action::NextTab, "sessions"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Mode::Help => &[(Action::Back, "close"), (Action::Down, "scroll")],
        Mode::Prompt => &[],
    }
}

/// The time cursor keys, first in the footer in replay.
const REPLAY_ITEMS: &[(Action, &str)] = &[
    (Action::PlayPause, "play"),
    (Action::StepForward, "±1s"),
    (Action::StepForward10, "±10s"),
    (Action::SpeedX1, "x1"),
    (Action::SpeedMax, "max"),
    (Action::GotoTime, "go to"),
    (Action::NextClose, "next close"),
    (Action::NextBurst, "burst"),
];

pub fn draw_footer(frame: &mut Frame, area: Rect, view: &ViewState, t: Theme) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let mode = view.mode();
    let mut spans = Vec::new();
    if mode == Mode::Prompt {
        spans.push(Span::styled(" Enter", t.key()));
        spans.push(Span::raw(" accept  "));
        spans.push(Span::styled("Esc", t.key()));
        spans.push(Span::raw(" cancel"));
    }
    if mode == Mode::Confirm {
        spans.push(Span::styled(" y", t.key()));
        spans.push(Span::raw(" yes, send it  "));
        spans.push(Span::styled("n", t.key()));
        spans.push(Span::raw(" no"));
    }
    if mode == Mode::Columns {
        spans.push(Span::styled(" j/k", t.key()));
        spans.push(Span::raw(" move  "));
        spans.push(Span::styled("Space", t.key()));
        spans.push(Span::raw(" show / hide  "));
        spans.push(Span::styled("Esc", t.key()));
        spans.push(Span::raw(" close"));
    }
    let replay: &[(Action, &str)] =
        if view.replay.is_some() && !matches!(mode, Mode::Prompt | Mode::Confirm | Mode::Columns) {
            REPLAY_ITEMS
        } else {
            &[]
        };
    let mut used: usize = spans.iter().map(Span::width).sum();
    // In replay the time cursor keys come first; the refused operator keys are left out.
    let items = replay.iter().chain(
        footer_items(mode)
            .iter()
            .filter(|(a, _)| view.replay.is_none() || !crate::tui::replay::sends_commands(*a)),
    );
    for (action, label) in items {
        let Some(key) = view.keys.first_key(*action) else {
            continue;
        };
        let key = Span::styled(format!(" {key}"), t.key());
        let label = Span::raw(format!(" {label} "));
        let w = key.width() + label.width();
        if used + w > usize::from(area.width) {
            break;
        }
        used += w;
        spans.push(key);
        spans.push(label);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
