//! The status line (message, prompt, or where you are) and the one-line key footer.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::state::snapshot::Snapshot;

use super::{Theme, layout};
use crate::tui::format;
use crate::tui::keys::{Action, Mode};
use crate::tui::view::{StatusKind, ViewState};

/// The confirmation's question and keys as pieces: its words, then `y yes  n no`.
fn confirm_pieces(question: &str, t: Theme) -> Vec<layout::Piece> {
    let mut pieces: Vec<layout::Piece> = question
        .split(' ')
        .map(|w| vec![(format!(" {w}"), t.warn())])
        .collect();
    for (key, label) in [("y", " yes"), ("n", " no")] {
        pieces.push(vec![
            ("  ".to_string(), t.plain()),
            (key.to_string(), t.key()),
            (label.to_string(), t.plain()),
        ]);
    }
    pieces
}

/// Does the status line need the footer's row too (a message, a question or a prompt longer
/// than the width)? Then it takes it, and the footer is not drawn.
pub fn needs_two_lines(view: &ViewState, width: u16) -> bool {
    let w = usize::from(width);
    if let Some(p) = &view.prompt {
        return layout::width(&p.kind.label()) + layout::width(&p.input) + 2 > w;
    }
    if let Some(c) = &view.confirm {
        return layout::width(&c.question) + 14 > w;
    }
    view.status
        .as_ref()
        .is_some_and(|s| layout::width(&s.text) + 1 > w)
}

pub fn draw_status(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let w = usize::from(area.width);
    if let Some(p) = &view.prompt {
        let label = Span::styled(format!(" {}", p.kind.label()), t.key());
        // Too long for one line: the label above, what is typed below (its end in view).
        let (lines, x, y) = if area.height > 1 && label.width() + layout::width(&p.input) + 1 > w {
            let room = w.saturating_sub(2);
            let skip = layout::width(&p.input).saturating_sub(room);
            let input: String = p.input.chars().skip(skip).collect();
            let x = 1 + layout::width(&input);
            (
                vec![Line::from(label), Line::raw(format!(" {input}"))],
                x,
                area.y + 1,
            )
        } else {
            let line = Line::from(vec![label, Span::raw(p.input.clone())]);
            let x = line.width();
            (vec![line], x, area.y)
        };
        let x = area
            .x
            .saturating_add(u16::try_from(x).unwrap_or(u16::MAX))
            .min(area.right().saturating_sub(1));
        frame.render_widget(Paragraph::new(lines), area);
        frame.set_cursor_position(Position { x, y });
        return;
    }
    if let Some(c) = &view.confirm {
        let lines = layout::wrap_pieces(confirm_pieces(&c.question, t), w, 1);
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }
    let lines = match &view.status {
        Some(s) => {
            let style = match s.kind {
                StatusKind::Info => t.good(),
                StatusKind::Error => t.error(),
            };
            layout::wrap_prose(&s.text, w.saturating_sub(1), usize::from(area.height))
                .into_iter()
                .map(|l| Line::styled(format!(" {l}"), style))
                .collect()
        }
        None => vec![where_you_are(snap, view, t, area)],
    };
    frame.render_widget(Paragraph::new(lines), area);
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
            ];
            // The filters in full (the title bar may only have room for the word FILTER).
            let w = usize::from(area.width);
            if view.filtered() {
                let used: usize = spans.iter().map(Span::width).sum();
                let label = "  filter ";
                let room = w.saturating_sub(used + label.len());
                spans.push(Span::styled(label, t.label()));
                spans.push(Span::raw(
                    format::fit(&view.filter_summary(), room).into_owned(),
                ));
            }
            let mut optional = vec![vec![
                Span::styled("  sort ", t.label()),
                Span::raw(format!(
                    "{} {}",
                    view.sort.title(),
                    if view.descending { "desc" } else { "asc" }
                )),
            ]];
            if !view.marked.is_empty() {
                optional.push(vec![
                    Span::styled("  marked ", t.label()),
                    Span::raw(view.marked.len().to_string()),
                ]);
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
                optional.push(vec![
                    Span::styled("  hidden ", t.label()),
                    Span::raw(names.join(", ")),
                    Span::styled(" (C: columns)", t.dim()),
                ]);
            }
            // Each optional piece whole, or left out.
            for piece in optional {
                let used: usize = spans.iter().map(Span::width).sum();
                let need: usize = piece.iter().map(Span::width).sum();
                if used + need <= w {
                    spans.extend(piece);
                }
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
        Mode::Messages | Mode::Entry => Line::styled(
            format!(" messages; times in {} (z: switch)", view.zone()),
            t.label(),
        ),
        Mode::Search => Line::styled(
            format!(" search results, newest first; times in {}", view.zone()),
            t.label(),
        ),
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
            (Action::NextTab, "events"),
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
        Mode::Messages => &[
            (Action::Back, "back"),
            (Action::Open, "open"),
            (Action::Filter, "regex"),
            (Action::MsgDirection, "dir"),
            (Action::MsgOpcode, "opcode"),
            (Action::MsgControl, "ping/pong"),
            (Action::MsgPause, "pause"),
            (Action::End, "follow"),
            (Action::SearchMessages, "search all"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Mode::Entry => &[
            (Action::Back, "back"),
            (Action::Down, "scroll"),
            (Action::Unfold, "unfold"),
            (Action::Fold, "fold"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Mode::Search => &[
            (Action::Back, "back"),
            (Action::Open, "go to"),
            (Action::SearchMessages, "new search"),
            (Action::Down, "move"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
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
            .filter(|(a, _)| view.replay.is_none() || !crate::tui::replay::sends_commands(*a))
            // Only close codes can be compared: an HTTP status's explanation offers no `c`.
            .filter(|(a, _)| {
                *a != Action::Compare
                    || !matches!(view.explain, Some(crate::tui::view::ExplainTarget::Http(_)))
            }),
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
