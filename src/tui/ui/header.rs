//! The title bar (name, tabs, FROZEN / PAUSED badges, clock) and the three summary lines
//! (sessions by state, closes by code, rates and export).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::engine::events::SessionState;
use crate::state::snapshot::{LockstepLevel, Snapshot};

use super::Theme;
use crate::tui::format;
use crate::tui::view::{Tab, ViewState};

/// The style of a lockstep verdict.
pub fn lockstep_style(level: LockstepLevel, t: Theme) -> Style {
    match level {
        LockstepLevel::InStep => t.warn(),
        LockstepLevel::Clustered => t.plain(),
        LockstepLevel::Spread => t.good(),
    }
}

/// The left part of the title bar: text pieces, with the tab each piece switches to. The tabs
/// come before the free-form title, so they stay in place and visible on narrow screens (the
/// title is cut instead).
fn title_pieces(view: &ViewState) -> Vec<(Option<Tab>, String)> {
    let mut out = vec![(None, " wsmon ".to_string())];
    for tab in Tab::ALL {
        let name = tab.name();
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
    let mut left: Vec<Span> = title_pieces(view)
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
    if snap.export_error.is_some() {
        right.push(Span::styled(" EXPORT FAILED ", t.alarm()));
        right.push(Span::styled(" ", bar));
    }
    // The active filters, so a short table is never mistaken for the whole picture.
    if view.filtered() {
        let f = view.filter_summary();
        let room = usize::from(area.width).saturating_sub(46).max(12);
        right.push(Span::styled(
            format!(" FILTER {} ", format::fit(&f, room)),
            t.badge(),
        ));
        right.push(Span::styled(" ", bar));
    }
    if !view.marked.is_empty() {
        right.push(Span::styled(
            format!(" {} MARKED ", view.marked.len()),
            t.badge(),
        ));
        right.push(Span::styled(" ", bar));
    }
    if view.frozen.is_some() {
        right.push(Span::styled(" FROZEN ", t.badge()));
        right.push(Span::styled(" ", bar));
    }
    if snap.totals.paused_all {
        right.push(Span::styled(" PAUSED ", t.badge()));
        right.push(Span::styled(" ", bar));
    }
    match &view.replay {
        // Replay: the recorded time at the cursor, where it is in the recording, the speed.
        Some(r) => {
            right.push(Span::styled(" REPLAY ", t.badge()));
            // The file name goes first when the tabs and the cursor need the room, then the
            // recording's length.
            let tabs: usize = title_pieces(view).iter().map(|p| p.1.chars().count()).sum();
            let used: usize = right.iter().map(Span::width).sum();
            let mut cursor = format!(" {} ", crate::tui::replay::cursor_text(r, snap));
            if tabs + used + cursor.chars().count() + 1 > usize::from(area.width) {
                cursor = format!(" {} ", crate::tui::replay::cursor_text_short(r, snap));
            }
            let room = usize::from(area.width)
                .saturating_sub(tabs + used + cursor.chars().count() + 2)
                .min(30);
            if room >= 9 {
                let file = format::fit_middle(&r.file, room - 2);
                right.push(Span::styled(format!(" {file} "), bar));
            }
            right.push(Span::styled(cursor, bar));
        }
        None => {
            let clock = match view.clock {
                crate::tui::view::Clock::Utc => format!("{}Z ", view.time_short(snap.now)),
                crate::tui::view::Clock::Local => {
                    format!("{}{} ", view.time_short(snap.now), view.local_offset)
                }
            };
            right.push(Span::styled(clock, bar));
        }
    }
    let right = Line::from(right);
    let width = u16::try_from(right.width()).unwrap_or(u16::MAX);
    let [l, r] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(width)]).areas(area);
    if !view.title.is_empty() {
        let used: usize = left.iter().map(Span::width).sum();
        // Two spaces before the title, one kept free before the right-hand part.
        let room = usize::from(l.width).saturating_sub(used + 3);
        if room >= 4 {
            // The end of the title (a port, the last URL) tells apart as much as its start.
            let title = format::fit_middle(&view.title, room).into_owned();
            left.push(Span::styled(format!("  {title}"), bar));
        }
    }
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
    if totals.waiting_for_slot > 0 {
        states.push(Span::styled("  waiting for a slot ", t.label()));
        states.push(Span::raw(totals.waiting_for_slot.to_string()));
    }

    let closes = closes_line(snap, view, usize::from(area.width), t);

    let storm = &snap.storm;
    let mut rates = vec![
        Span::styled(" attempts/s ", t.label()),
        Span::raw(format!("{:.1}", storm.attempts_per_sec)),
        Span::styled(" (total ", t.dim()),
        Span::styled(totals.attempts.to_string(), t.dim()),
        Span::styled(")", t.dim()),
        Span::styled("  lockstep ", t.label()),
    ];
    // Only the store's recent verdict: with too few recent attempts there is none, and an old
    // herd must not be reported as if it were happening now.
    match storm.verdict {
        Some(v) => rates.push(Span::styled(
            format!("{:.2} {}", v.share, v.level.as_str()),
            lockstep_style(v.level, t),
        )),
        None => rates.push(Span::styled("- (few retries)", t.dim())),
    }
    if totals.gave_up > 0 {
        rates.push(Span::styled("  gave up ", t.label()));
        rates.push(Span::styled(totals.gave_up.to_string(), t.error()));
    }
    if let Some(error) = &snap.export_error {
        // The record is broken: say so, with how much is missing, before anything else.
        let used: usize = rates.iter().map(Span::width).sum();
        let head = format!("  export: {} events unwritten: ", snap.export_unwritten);
        let room = usize::from(area.width).saturating_sub(used + head.chars().count());
        rates.push(Span::styled(head, t.error()));
        rates.push(Span::styled(
            format::fit(error, room).into_owned(),
            t.error(),
        ));
    } else if let Some(path) = &snap.export_path {
        let used: usize = rates.iter().map(Span::width).sum();
        let count = format!(" ({} events)", snap.exported_events);
        let label = "  export ";
        let room = usize::from(area.width).saturating_sub(used + label.len() + count.len());
        rates.push(Span::styled(label, t.label()));
        if room >= 12 {
            // The file name is at the end: cut the middle of the path, not the end.
            rates.push(Span::raw(format::fit_middle(path, room).into_owned()));
            rates.push(Span::raw(count));
        } else {
            rates.push(Span::raw(format!("{} events", snap.exported_events)));
        }
    }
    let lines = vec![Line::from(states), closes, Line::from(rates)];
    frame.render_widget(Paragraph::new(lines), area);
}

/// One entry of the closes line: a close code, an HTTP status or an error kind.
struct CloseItem {
    count: u64,
    /// Ties: codes, then statuses, then errors, each in order.
    order: (u8, u16),
    label: String,
    style: Style,
    /// What follows the label: the name (for codes) and the count.
    rest: String,
}

/// The closes line: every close code, HTTP status and error seen, most frequent first, as many
/// as fit in `width`, then `+N more` for the rest.
fn closes_line<'a>(snap: &Snapshot, view: &ViewState, width: usize, t: Theme) -> Line<'a> {
    let totals = &snap.totals;
    let head = Span::styled(" closes ", t.label());
    let mut items: Vec<CloseItem> = Vec::new();
    for (code, n) in &totals.closes_by_code {
        let name = view.registry.name_in(*code, view.lang);
        items.push(CloseItem {
            count: *n,
            order: (0, *code),
            label: code.to_string(),
            style: t.code(*code),
            rest: format!(" {name} {n}"),
        });
    }
    for (status, n) in totals.statuses.iter().filter(|(s, _)| **s != 101) {
        items.push(CloseItem {
            count: *n,
            order: (1, *status),
            label: format!("HTTP {status}"),
            style: t.error(),
            rest: format!(" {n}"),
        });
    }
    for (i, (kind, n)) in totals.errors.iter().enumerate() {
        items.push(CloseItem {
            count: *n,
            order: (2, u16::try_from(i).unwrap_or(u16::MAX)),
            label: format!("error {}", kind.as_str()),
            style: t.error(),
            rest: format!(" {n}"),
        });
    }
    if items.is_empty() {
        return Line::from(vec![head, Span::styled("none", t.dim())]);
    }
    items.sort_by(|a, b| b.count.cmp(&a.count).then(a.order.cmp(&b.order)));
    let total = items.len();
    let sep = " | ";
    let mut spans = vec![head];
    let mut used = spans[0].width();
    for (shown, item) in items.into_iter().enumerate() {
        let w = item.label.chars().count() + item.rest.chars().count();
        let lead = if shown == 0 { 0 } else { sep.len() };
        let left_after = total - shown - 1;
        // Room for "| +N more" unless this is the last item.
        let reserve = if left_after == 0 {
            0
        } else {
            sep.len() + format!("+{left_after} more").len()
        };
        if used + lead + w + reserve > width && shown > 0 {
            spans.push(Span::styled(sep, t.dim()));
            spans.push(Span::styled(format!("+{} more", total - shown), t.dim()));
            return Line::from(spans);
        }
        if shown > 0 {
            spans.push(Span::styled(sep, t.dim()));
        }
        spans.push(Span::styled(item.label, item.style));
        spans.push(Span::raw(item.rest));
        used += lead + w;
    }
    Line::from(spans)
}
