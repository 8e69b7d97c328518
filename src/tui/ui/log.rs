//! The live event log: the latest events (time, session, target, event, code or status,
//! reason), newest last, narrowed by the same filters as the table, with the selected
//! session's lines marked.

use std::collections::HashSet;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::engine::events::SessionId;
use crate::state::snapshot::{LogEntry, Snapshot};

use super::Theme;
use crate::tui::format;
use crate::tui::view::ViewState;

/// The entries shown: every event when no filter is on; else the events of the sessions the
/// table shows. Oldest first.
pub fn entries<'a>(snap: &'a Snapshot, view: &ViewState) -> Vec<&'a LogEntry> {
    if !view.filtered() {
        return snap.events.iter().collect();
    }
    let ids: HashSet<SessionId> = view.shown_ids(snap).into_iter().collect();
    snap.events
        .iter()
        .filter(|e| ids.contains(&e.session))
        .collect()
}

/// Rows of entries on screen in `body`.
fn rows(body: Rect) -> usize {
    usize::from(body.height.saturating_sub(2))
}

/// The largest useful scroll offset (lines back from the newest).
pub fn max_scroll(snap: &Snapshot, view: &ViewState, screen: Rect) -> u16 {
    let body = super::areas(screen).body;
    u16::try_from(entries(snap, view).len().saturating_sub(rows(body))).unwrap_or(u16::MAX)
}

/// One line of the log (without the selection mark), for the log and the detail view.
pub fn line<'a>(e: &LogEntry, label: &str, view: &ViewState, t: Theme, width: u16) -> Line<'a> {
    let head = format!(
        "{} {:<6} {:<16} {:<11} {:<10} ",
        view.time(e.ts),
        format!("s{}", e.session),
        format::fit_middle(label, 16),
        e.event,
        format::fit(&e.what, 10),
    );
    let room = usize::from(width).saturating_sub(head.chars().count() + 2);
    let style = match e.event {
        "closed" => e.code.map_or(t.plain(), |c| t.code(c)),
        "error" | "gave_up" => t.error(),
        "handshake" => t.error(),
        "open" => t.good(),
        _ => t.plain(),
    };
    Line::from(vec![
        Span::raw(head),
        Span::styled(
            format::fit(&format::safe(&e.detail), room).into_owned(),
            style,
        ),
    ])
}

pub fn draw(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let all = entries(snap, view);
    let n = rows(area);
    let end = all.len().saturating_sub(usize::from(view.log_scroll));
    let start = end.saturating_sub(n);
    let filter = view.filter_summary();
    let title = if filter.is_empty() {
        format!(" Events ({} kept; newest last) ", snap.events.len())
    } else {
        format!(" Events of the sessions shown ({filter}) ")
    };
    let mut block = Block::default()
        .borders(Borders::TOP)
        .title(title)
        .title_style(t.heading());
    let position = if view.log_scroll == 0 {
        " following the newest ".to_string()
    } else {
        format!(" {} lines back (G: newest) ", view.log_scroll)
    };
    block = block.title(Line::styled(position, t.dim()).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let labels = crate::tui::columns::target_labels(snap);
    let selected = view.selected;
    let mut lines = vec![Line::styled(
        format!(
            "  {:<width$} {:<6} {:<16} {:<11} {:<10} {}",
            format!("TIME ({})", view.zone()),
            "SESS",
            "TARGET",
            "EVENT",
            "CODE",
            "REASON / DETAIL",
            width = view.time(snap.now).len()
        ),
        t.heading(),
    )];
    if all.is_empty() {
        lines.push(Line::styled("  no event yet", t.dim()));
    }
    for e in &all[start..end] {
        let label = labels.get(e.target).map_or("", String::as_str);
        let mut l = line(e, label, view, t, inner.width.saturating_sub(2));
        let mine = Some(e.session) == selected;
        l.spans.insert(
            0,
            if mine {
                Span::styled("▶ ", t.key())
            } else {
                Span::raw("  ")
            },
        );
        lines.push(l);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
