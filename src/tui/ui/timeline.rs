//! Replay's storm charts: the whole recording, one column per time slice, with the time cursor
//! marked by a vertical line.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Sparkline};

use crate::state::snapshot::Snapshot;
use crate::tui::replay::{RecordedSecond, ReplayView};
use crate::tui::view::ViewState;

use super::Theme;

/// Close codes charted as their own series (the rest are summed).
const CHART_CODES: usize = 2;
/// The cursor marker.
pub const MARKER: &str = "│";

/// Seconds of the recording, from its first to its last (at least 1).
fn span(r: &ReplayView) -> i64 {
    (r.end.timestamp() - r.start.timestamp() + 1).max(1)
}

/// The seconds (offsets from the start) that column `c` of `cols` covers: a slice of the
/// recording, or one second spread over several columns when the recording is short.
fn column_range(c: usize, cols: usize, span: i64) -> (i64, i64) {
    let cols = i64::try_from(cols.max(1)).unwrap_or(1);
    let c = i64::try_from(c).unwrap_or(0);
    let s0 = c * span / cols;
    let s1 = ((c + 1) * span / cols).max(s0 + 1);
    (s0, s1)
}

/// The column of the cursor at `snap.now`: the first column showing its second.
pub fn cursor_column(r: &ReplayView, snap: &Snapshot, cols: usize) -> usize {
    let span = span(r);
    let off = (snap.now.timestamp() - r.start.timestamp()).clamp(0, span - 1);
    (0..cols.max(1))
        .find(|&c| {
            let (s0, s1) = column_range(c, cols, span);
            off >= s0 && off < s1
        })
        .unwrap_or(0)
}

/// The busiest second of each column, by `value`.
fn sliced(r: &ReplayView, cols: usize, value: impl Fn(&RecordedSecond) -> u64) -> Vec<u64> {
    let span = span(r);
    let start = r.start.timestamp();
    let mut dense = vec![0u64; usize::try_from(span).unwrap_or(0)];
    for s in r.seconds.iter() {
        if let Some(v) = usize::try_from(s.second - start)
            .ok()
            .and_then(|i| dense.get_mut(i))
        {
            *v = value(s);
        }
    }
    (0..cols.max(1))
        .map(|c| {
            let (s0, s1) = column_range(c, cols, span);
            let (a, b) = (
                usize::try_from(s0).unwrap_or(0),
                usize::try_from(s1).unwrap_or(0).min(dense.len()),
            );
            dense
                .get(a..b)
                .and_then(|w| w.iter().max().copied())
                .unwrap_or(0)
        })
        .collect()
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    snap: &Snapshot,
    view: &ViewState,
    r: &ReplayView,
    t: Theme,
) {
    if area.width < 3 || area.height == 0 {
        return;
    }
    let used = usize::from(area.width - 2);
    let mut totals: std::collections::BTreeMap<u16, u64> = std::collections::BTreeMap::new();
    for s in r.seconds.iter() {
        for (c, n) in &s.closes {
            *totals.entry(*c).or_default() += n;
        }
    }
    let mut codes: Vec<(u16, u64)> = totals.into_iter().collect();
    codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: Vec<u16> = codes.iter().take(CHART_CODES).map(|c| c.0).collect();
    let mut series: Vec<(String, Vec<u64>, Style)> = vec![(
        "attempts/s".to_string(),
        sliced(r, used, |s| s.attempts),
        t.series(0),
    )];
    for (i, code) in top.iter().enumerate() {
        let name = view.registry.name_in(*code, view.lang);
        series.push((
            format!("closes/s {code} {name}"),
            sliced(r, used, |s| {
                s.closes.iter().find(|c| c.0 == *code).map_or(0, |c| c.1)
            }),
            t.series(i + 1),
        ));
    }
    if codes.len() > CHART_CODES || top.is_empty() {
        let title = if top.is_empty() {
            "closes/s"
        } else {
            "closes/s other codes"
        };
        series.push((
            title.to_string(),
            sliced(r, used, |s| {
                s.closes
                    .iter()
                    .filter(|c| !top.contains(&c.0))
                    .map(|c| c.1)
                    .sum()
            }),
            t.series(CHART_CODES + 1),
        ));
    }
    let col = cursor_column(r, snap, used);
    let length = crate::tui::replay::offset_text(r.end - r.start);
    let areas = Layout::vertical(series.iter().map(|_| Constraint::Fill(1))).split(area);
    for ((title, values, style), a) in series.iter().zip(areas.iter()) {
        let peak = values.iter().copied().max().unwrap_or(0);
        let at = values.get(col).copied().unwrap_or(0);
        let stats = format!("cursor {at} peak {peak} ");
        // On a narrow panel the code's name goes first, so that the numbers stay.
        let room = usize::from(a.width.saturating_sub(2));
        let title = if title.chars().count() + 2 + stats.len() <= room {
            title.clone()
        } else {
            title.split(' ').take(2).collect::<Vec<_>>().join(" ")
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::from(vec![
                Span::styled(format!(" {title} "), t.heading()),
                Span::styled(stats, t.dim()),
            ]))
            .title_bottom(
                Line::styled(
                    format!(
                        " whole recording ({length}), {MARKER} cursor {} ",
                        snap.now.format("%H:%M:%S")
                    ),
                    t.dim(),
                )
                .right_aligned(),
            );
        let inner = block.inner(*a);
        frame.render_widget(block, *a);
        frame.render_widget(
            Sparkline::default()
                .data(values)
                .max(peak.max(1))
                .style(*style),
            inner,
        );
        // The cursor: a vertical line through the chart.
        let x = inner.x + u16::try_from(col).unwrap_or(0);
        if x < inner.right() {
            for y in inner.top()..inner.bottom() {
                if let Some(cell) = frame.buffer_mut().cell_mut(Position { x, y }) {
                    cell.set_symbol(MARKER).set_style(t.warn());
                }
            }
        }
    }
}
