//! The sessions table. Columns that do not fit are dropped by priority (htop style); only the
//! visible window of rows is built.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use crate::engine::events::SessionState;
use crate::state::snapshot::{AttemptOutcome, SessionView, Snapshot};

use super::Theme;
use crate::tui::columns::{Column, SPACING, columns, target_labels};
use crate::tui::format;
use crate::tui::view::ViewState;

/// The TARGET text of a session: its target's label, or its URL without the scheme.
fn target_label<'a>(s: &'a SessionView, labels: &'a [String]) -> &'a str {
    labels
        .get(s.target)
        .map_or_else(|| format::short_url(&s.url), String::as_str)
}

/// The first visible row so that the cursor is in view, starting from the previous offset.
pub fn window(offset: usize, cursor: usize, height: usize, len: usize) -> usize {
    if height == 0 || len == 0 {
        return 0;
    }
    let mut off = offset.min(len.saturating_sub(height));
    if cursor < off {
        off = cursor;
    } else if cursor >= off + height {
        off = cursor + 1 - height;
    }
    off
}

/// The area holding the table's data rows (below its header row).
pub fn rows_area(body: Rect) -> Rect {
    Rect {
        y: body.y.saturating_add(1).min(body.bottom()),
        height: body.height.saturating_sub(1),
        ..body
    }
}

/// What a mouse click on the table hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    /// A column header: sort by it.
    Header(Column),
    /// A data row, by position in the filtered order.
    Row(usize),
}

/// Hit-test a click at (x, y) on the table drawn in `body`.
pub fn hit(body: Rect, x: u16, y: u16, snap: &Snapshot, view: &ViewState) -> Option<Hit> {
    if x < body.x || x >= body.right() || y < body.y || y >= body.bottom() {
        return None;
    }
    if y == body.y {
        let mut left = body.x;
        for (col, w) in columns(body.width, snap, &view.column_prefs()) {
            if x >= left && x < left + w + SPACING {
                return Some(Hit::Header(col));
            }
            left += w + SPACING;
        }
        return None;
    }
    let rows = rows_area(body);
    let len = view.order().len();
    let off = window(view.offset, view.cursor, rows.height as usize, len);
    let pos = off + (y - rows.y) as usize;
    (pos < len).then_some(Hit::Row(pos))
}

pub fn draw(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let cols = columns(area.width, snap, &view.column_prefs());
    let header = Row::new(cols.iter().map(|(c, _)| {
        let mut title = match c {
            Column::Uptime if view.table_times => "SINCE".to_string(),
            c => c.title().to_string(),
        };
        if *c == view.sort {
            title.push(if view.descending { '▼' } else { '▲' });
        }
        Cell::from(title)
    }))
    .style(t.heading().add_modifier(Modifier::UNDERLINED));

    let order = view.order();
    let rows_area = rows_area(area);
    let height = rows_area.height as usize;
    let off = window(view.offset, view.cursor, height, order.len());
    let end = (off + height).min(order.len());
    let labels = target_labels(snap);
    let rows: Vec<Row> = order[off..end]
        .iter()
        .enumerate()
        .filter_map(|(k, &i)| {
            let s = snap.sessions.get(i)?;
            let row = build_row(s, i, snap, view, &cols, &labels, t);
            Some(if off + k == view.cursor {
                row.style(t.selected())
            } else {
                row
            })
        })
        .collect();
    let widths: Vec<Constraint> = cols.iter().map(|(_, w)| Constraint::Length(*w)).collect();
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(SPACING);
    frame.render_widget(table, area);

    if order.is_empty() && rows_area.height > 0 {
        let msg = if snap.sessions.is_empty() {
            "no sessions yet (a: add sessions)".to_string()
        } else {
            "no session matches the filters (in the title bar); Esc clears them".to_string()
        };
        frame.render_widget(Paragraph::new(Line::styled(msg, t.dim())), rows_area);
    }
}

/// The text of the STATE cell: the state; a waiting session shows the countdown to its next
/// attempt (`next in 17s`), a paused one `paused`.
pub fn state_text(s: &SessionView, snap: &Snapshot) -> String {
    match s.state {
        SessionState::Waiting if s.paused => "paused".to_string(),
        SessionState::Waiting => match s.next_attempt_at {
            Some(at) => format!(
                "next in {}",
                format::duration_short(format::ms_until(at, snap.now))
            ),
            None => "waiting".to_string(),
        },
        SessionState::Open => match s.stale_for_ms(snap.now) {
            Some(ms) => format!("open, stale {}", format::msg_age(ms)),
            None => "open".to_string(),
        },
        st => st.as_str().to_string(),
    }
}

/// The LAST CLOSE cell: code, initiator and name; or what ended the last attempt without a code
/// (an HTTP status or an error), looking past the pending attempt of a waiting session.
fn close_cell<'a>(s: &SessionView, view: &ViewState, width: u16, t: Theme) -> Line<'a> {
    match s.timeline.iter().rev().find_map(|r| r.outcome) {
        Some(AttemptOutcome::Status { status }) => {
            return Line::styled(format!("HTTP {status}"), t.error());
        }
        Some(AttemptOutcome::Error { kind }) => {
            return Line::styled(format!("error {}", kind.as_str()), t.error());
        }
        _ => {}
    }
    match &s.last_close {
        Some(c) => {
            let who = match c.initiator {
                crate::engine::events::Initiator::Server => "srv",
                crate::engine::events::Initiator::Client => "cli",
                crate::engine::events::Initiator::Local => "loc",
            };
            let code = c.code.to_string();
            let room = usize::from(width).saturating_sub(code.len() + who.len() + 2);
            let name = view.registry.name_in(c.code, view.lang);
            Line::from(vec![
                Span::styled(code, t.code(c.code)),
                Span::styled(format!(" {who} "), t.dim()),
                Span::raw(format::fit(&name, room).into_owned()),
            ])
        }
        None => Line::styled("-", t.dim()),
    }
}

fn build_row<'a>(
    s: &SessionView,
    index: usize,
    snap: &Snapshot,
    view: &ViewState,
    cols: &[(Column, u16)],
    labels: &[String],
    t: Theme,
) -> Row<'a> {
    // No counters: a replayed session (the export has no traffic counts): "-", not zeros.
    let c = snap.counters.get(index).copied().flatten();
    let dash = || Cell::from(Span::styled("-", t.dim()));
    let marked = view.marked.contains(&s.id);
    let cells = cols.iter().map(|(col, w)| match col {
        Column::Id if marked => Cell::from(Span::styled(format!("*s{}", s.id), t.warn())),
        Column::Id if !view.marked.is_empty() => Cell::from(format!(" s{}", s.id)),
        Column::Id => Cell::from(format!("s{}", s.id)),
        // Wall clock: when the current state began (the connection opened, the wait started).
        Column::Uptime if view.table_times => {
            Cell::from(view.time_short(s.opened_at.unwrap_or(s.state_since)))
        }
        Column::Target => {
            Cell::from(format::fit_middle(target_label(s, labels), *w as usize).into_owned())
        }
        Column::State if s.stale_since.is_some() => {
            Cell::from(Span::styled(state_text(s, snap), t.warn()))
        }
        Column::State => Cell::from(Span::styled(state_text(s, snap), t.state(s.state))),
        Column::Uptime => match format::uptime_ms(s, snap.now) {
            Some(ms) => Cell::from(format::duration_ms(ms)),
            None => dash(),
        },
        Column::Attempt => Cell::from(format::count(u64::from(s.attempt))),
        Column::Close => Cell::from(close_cell(s, view, *w, t)),
        Column::Ext => Cell::from(format::ext_short(s).into_owned()),
        Column::Rtt => match c.and_then(|c| c.rtt_us) {
            Some(us) => Cell::from(format::rtt(us)),
            None => dash(),
        },
        Column::Msgs => match c {
            Some(c) => Cell::from(format!(
                "{}/{}",
                format::count(c.msgs_in),
                format::count(c.msgs_out)
            )),
            None => dash(),
        },
        Column::Bytes => match c {
            Some(c) => Cell::from(format!(
                "{}/{}",
                format::bytes(c.wire_in),
                format::bytes(c.wire_out)
            )),
            None => dash(),
        },
        Column::Ratio => match c.and_then(|c| c.compression_ratio()) {
            Some(r) => Cell::from(format!("{r:.2}")),
            None => dash(),
        },
        Column::MsgAge => match c.and_then(|c| c.msg_age_ms(snap.now)) {
            Some(ms) => Cell::from(format::msg_age(ms)),
            None => dash(),
        },
        Column::Lat => match &s.latency {
            Some(l) => Cell::from(format::rtt(l.last_us)),
            None => dash(),
        },
        Column::Conn => match s.link.connection_name() {
            Some(c) => Cell::from(c),
            None => dash(),
        },
        Column::Proto => match format::proto(s) {
            Some(p) => Cell::from(p.as_str()),
            None => dash(),
        },
    });
    Row::new(cells)
}

/// The column chooser (`C`): every column with whether it is shown, left out for room, or
/// turned off; Space shows or hides the one under the cursor.
pub fn draw_chooser(
    frame: &mut Frame,
    body: Rect,
    snap: &Snapshot,
    view: &ViewState,
    cursor: usize,
    t: Theme,
) {
    let pane = super::centered(body, 48, u16::try_from(Column::ALL.len() + 2).unwrap_or(13));
    if pane.width == 0 || pane.height == 0 {
        return;
    }
    let shown = columns(body.width, snap, &view.column_prefs());
    let lines: Vec<Line> = Column::ALL
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let (mark, note) = if shown.iter().any(|(s, _)| s == c) {
                (
                    "[x]",
                    if view.pinned.contains(c) {
                        "shown, pinned"
                    } else {
                        "shown"
                    },
                )
            } else if view.hidden.contains(c) {
                ("[ ]", "off")
            } else {
                ("[ ]", "no room (Space: show it)")
            };
            let line = Line::from(vec![
                Span::raw(format!(" {mark} {:<13}", c.title())),
                Span::styled(note, t.dim()),
            ]);
            if i == cursor {
                line.style(t.selected())
            } else {
                line
            }
        })
        .collect();
    let block = ratatui::widgets::Block::default()
        .borders(ratatui::widgets::Borders::ALL)
        .title(" Columns (Space: show / hide, Esc: close) ")
        .title_style(t.heading());
    let inner = block.inner(pane);
    frame.render_widget(ratatui::widgets::Clear, pane);
    frame.render_widget(block, pane);
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_cursor_visible() {
        assert_eq!(window(0, 0, 10, 100), 0);
        assert_eq!(window(0, 15, 10, 100), 6);
        assert_eq!(window(50, 45, 10, 100), 45);
        assert_eq!(window(95, 99, 10, 100), 90);
        assert_eq!(window(3, 0, 0, 100), 0);
        assert_eq!(window(3, 0, 10, 0), 0);
    }
}
