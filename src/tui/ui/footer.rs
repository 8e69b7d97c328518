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
    let line = match &view.status {
        Some(s) => Line::styled(
            format!(" {}", s.text),
            match s.kind {
                StatusKind::Info => t.good(),
                StatusKind::Error => t.error(),
            },
        ),
        None => where_you_are(snap, view, t),
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn where_you_are<'a>(snap: &Snapshot, view: &ViewState, t: Theme) -> Line<'a> {
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
            let f = view.filter_summary();
            if !f.is_empty() {
                spans.push(Span::styled("  filter ", t.label()));
                spans.push(Span::styled(f, t.warn()));
            }
            Line::from(spans)
        }
        Mode::Detail => Line::styled(" session detail", t.label()),
        Mode::Storm => Line::from(vec![
            Span::styled(" storm: ", t.label()),
            Span::raw(format!(
                "{} s of history, {} attempts so far",
                snap.storm.seconds.len(),
                snap.totals.attempts
            )),
        ]),
        Mode::Targets => Line::styled(format!(" targets: {}", snap.targets.len()), t.label()),
        Mode::Explain => Line::styled(" close code explanation", t.label()),
        Mode::Help => Line::styled(" help", t.label()),
    }
}

/// The main keys of a mode, with short labels.
fn footer_items(mode: Mode) -> &'static [(Action, &'static str)] {
    match mode {
        Mode::Sessions => &[
            (Action::Quit, "quit"),
            (Action::Help, "help"),
            (Action::Open, "detail"),
            (Action::Filter, "filter"),
            (Action::SortNext, "sort"),
            (Action::Explain, "explain"),
            (Action::Add, "add"),
            (Action::Close, "close"),
            (Action::Reconnect, "reconnect"),
            (Action::Pause, "pause"),
            (Action::PauseAll, "pause all"),
            (Action::Freeze, "freeze"),
            (Action::Export, "export"),
            (Action::NextTab, "storm"),
        ],
        Mode::Detail => &[
            (Action::Back, "back"),
            (Action::Down, "scroll"),
            (Action::Explain, "explain"),
            (Action::Close, "close"),
            (Action::Reconnect, "reconnect"),
            (Action::Pause, "pause"),
            (Action::Freeze, "freeze"),
            (Action::Help, "help"),
            (Action::Quit, "quit"),
        ],
        Mode::Storm => &[
            (Action::Back, "back"),
            (Action::NextTab, "sessions"),
            (Action::PauseAll, "pause all"),
            (Action::ReconnectAll, "reconnect all"),
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
        Mode::Help => &[
            (Action::Back, "close"),
            (Action::Down, "scroll"),
            (Action::Quit, "quit"),
        ],
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
    let replay: &[(Action, &str)] = if view.replay.is_some() && mode != Mode::Prompt {
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
        let keys = view.keys.keys_of(*action);
        let key = keys.split('/').next().unwrap_or_default().to_string();
        if key.is_empty() {
            continue;
        }
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
