//! The title bar (name, tabs, FROZEN / PAUSED badges, clock) and the three summary lines
//! (sessions by state, closes by code, rates and export).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::engine::events::SessionState;
use crate::state::snapshot::Snapshot;

use super::Theme;
use crate::tui::view::{Tab, ViewState};

/// Lockstep index at or above which retries are called "in step".
pub const LOCKSTEP_HIGH: f64 = 0.5;
/// Lockstep index at or above which retries are called "clustered".
pub const LOCKSTEP_MID: f64 = 0.3;

/// A word for a lockstep index.
pub fn lockstep_word(l: f64) -> &'static str {
    if l >= LOCKSTEP_HIGH {
        "IN STEP"
    } else if l >= LOCKSTEP_MID {
        "clustered"
    } else {
        "spread"
    }
}

/// The left part of the title bar: text pieces, with the tab each piece switches to.
fn title_pieces(view: &ViewState) -> Vec<(Option<Tab>, String)> {
    let mut out = vec![(None, " wsmon".to_string())];
    if !view.title.is_empty() {
        out.push((None, format!(" | {}", view.title)));
    }
    out.push((None, "  ".to_string()));
    for (tab, name) in [(Tab::Sessions, "Sessions"), (Tab::Storm, "Storm")] {
        let text = if view.tab == tab {
            format!("[{name}]")
        } else {
            format!(" {name} ")
        };
        out.push((Some(tab), text));
    }
    out
}

/// The tab under column `x` of the title bar, if any (for mouse clicks).
pub fn tab_at(view: &ViewState, x: u16) -> Option<Tab> {
    let mut left = 0usize;
    for (tab, text) in title_pieces(view) {
        let w = text.chars().count();
        if usize::from(x) >= left && usize::from(x) < left + w {
            return tab;
        }
        left += w;
    }
    None
}

pub fn draw_title(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    let bar = t.title_bar();
    let left: Vec<Span> = title_pieces(view)
        .into_iter()
        .map(|(tab, text)| {
            let style = if tab.is_some() && tab == Some(view.tab) {
                t.tab_active()
            } else {
                bar
            };
            Span::styled(text, style)
        })
        .collect();
    let mut right = Vec::new();
    if view.frozen.is_some() {
        right.push(Span::styled(" FROZEN ", t.badge()));
        right.push(Span::styled(" ", bar));
    }
    if snap.totals.paused_all {
        right.push(Span::styled(" PAUSED ", t.badge()));
        right.push(Span::styled(" ", bar));
    }
    right.push(Span::styled(
        format!("{} ", snap.now.format("%H:%M:%SZ")),
        bar,
    ));
    let right = Line::from(right);
    let width = u16::try_from(right.width()).unwrap_or(u16::MAX);
    let [l, r] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(width)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)).style(bar), l);
    frame.render_widget(Paragraph::new(right).style(bar), r);
}

pub fn draw_summary(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    let totals = &snap.totals;
    let mut states = vec![
        Span::styled(" targets ", t.label()),
        Span::raw(snap.targets.len().to_string()),
        Span::styled("  sessions ", t.label()),
        Span::raw(snap.sessions.len().to_string()),
        Span::raw(" "),
    ];
    for s in SessionState::ALL {
        let n = totals.by_state[s.index()];
        if n == 0 && !matches!(s, SessionState::Open | SessionState::Waiting) {
            continue;
        }
        states.push(Span::raw(" "));
        states.push(Span::styled(s.as_str(), t.state(s)));
        states.push(Span::raw(format!(" {n}")));
    }

    let mut closes = vec![Span::styled(" closes ", t.label())];
    let mut by_count: Vec<(u16, u64)> = totals
        .closes_by_code
        .iter()
        .map(|(c, n)| (*c, *n))
        .collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if by_count.is_empty() {
        closes.push(Span::styled("none", t.dim()));
    }
    for (i, (code, n)) in by_count.iter().enumerate() {
        if i > 0 {
            closes.push(Span::styled(" | ", t.dim()));
        }
        closes.push(Span::styled(code.to_string(), t.code(*code)));
        closes.push(Span::raw(format!(
            " {} {n}",
            view.registry.name_in(*code, view.lang)
        )));
    }
    for (status, n) in totals.statuses.iter().filter(|(s, _)| **s != 101) {
        closes.push(Span::styled(" | ", t.dim()));
        closes.push(Span::styled(format!("HTTP {status}"), t.error()));
        closes.push(Span::raw(format!(" {n}")));
    }
    for (kind, n) in &totals.errors {
        closes.push(Span::styled(" | ", t.dim()));
        closes.push(Span::styled(format!("error {}", kind.as_str()), t.error()));
        closes.push(Span::raw(format!(" {n}")));
    }

    let storm = &snap.storm;
    let mut rates = vec![
        Span::styled(" attempts/s ", t.label()),
        Span::raw(format!("{:.1}", storm.attempts_per_sec)),
        Span::styled(" (total ", t.dim()),
        Span::styled(totals.attempts.to_string(), t.dim()),
        Span::styled(")", t.dim()),
        Span::styled("  lockstep ", t.label()),
    ];
    match storm.lockstep {
        Some(l) => {
            let style = if l >= LOCKSTEP_HIGH {
                t.warn()
            } else {
                t.plain()
            };
            rates.push(Span::styled(format!("{l:.2} {}", lockstep_word(l)), style));
        }
        None => rates.push(Span::styled("-", t.dim())),
    }
    if totals.gave_up > 0 {
        rates.push(Span::styled("  gave up ", t.label()));
        rates.push(Span::styled(totals.gave_up.to_string(), t.error()));
    }
    if let Some(path) = &snap.export_path {
        rates.push(Span::styled("  export ", t.label()));
        rates.push(Span::raw(format!(
            "{path} ({} events)",
            snap.exported_events
        )));
    }
    let lines = vec![Line::from(states), Line::from(closes), Line::from(rates)];
    frame.render_widget(Paragraph::new(lines), area);
}
