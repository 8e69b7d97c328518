//! The search results (`S`): the matching messages of every session's log, newest first, with
//! session, target, time, direction, opcode and a preview. Only the rows on screen are built.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::state::snapshot::Snapshot;

use super::Theme;
use super::messages::{direction, preview};
use crate::tui::format;
use crate::tui::inspect::{SearchView, opcode_name};
use crate::tui::view::ViewState;

/// Rows of hits on screen in `body` (the pane less its border, the summary and the headings).
pub fn rows(body: Rect) -> usize {
    usize::from(body.height.saturating_sub(3))
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    snap: &Snapshot,
    view: &ViewState,
    s: &SearchView,
    t: Theme,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let f = &s.found;
    let block = Block::default()
        .borders(Borders::TOP)
        .title(format!(
            " Search /{}/ in every session (Enter: go to, Esc: back) ",
            format::safe(&s.pattern)
        ))
        .title_style(t.heading());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let mut summary = format!(
        " {} match{} in {} entr{} of {} session{}",
        f.total,
        if f.total == 1 { "" } else { "es" },
        f.entries,
        if f.entries == 1 { "y" } else { "ies" },
        f.sessions,
        if f.sessions == 1 { "" } else { "s" }
    );
    if f.total > f.hits.len() {
        summary.push_str(&format!("; the newest {} listed", f.hits.len()));
    }
    let mut lines = vec![Line::styled(summary, t.label())];
    let time_w = view.time(snap.now).chars().count();
    lines.push(Line::styled(
        format::fit(
            &format!(
                "  {:<6} {:<14} {:<time_w$} {:<5} {:<6} PAYLOAD",
                "SESS",
                "TARGET",
                format!("TIME ({})", view.zone()),
                "DIR",
                "OP",
            ),
            width,
        )
        .into_owned(),
        t.heading(),
    ));
    if f.hits.is_empty() {
        lines.push(Line::styled("  no message matches", t.dim()));
    }
    let labels = crate::tui::columns::target_labels(snap);
    let n = rows(area);
    let start = super::table::window(s.offset, s.cursor, n, f.hits.len());
    for (pos, h) in f.hits.iter().enumerate().skip(start).take(n) {
        let target = snap
            .index_of(h.session)
            .and_then(|i| snap.sessions.get(i))
            .and_then(|v| labels.get(v.target))
            .map_or("-", String::as_str);
        let head = format!(
            "{:<6} {:<14} {} {:<5} {:<6} ",
            format!("s{}", h.session),
            format::fit_middle(target, 14),
            view.time(h.ts),
            direction(h.record.dir),
            opcode_name(h.record.opcode),
        );
        let room = width.saturating_sub(head.chars().count() + 2);
        let text = format!("{head}{}", preview(&h.record, view, room));
        let selected = pos == s.cursor;
        let line = Line::from(vec![
            Span::styled(if selected { "▶ " } else { "  " }, t.key()),
            Span::raw(text),
        ]);
        lines.push(if selected {
            line.style(t.selected())
        } else {
            line
        });
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
