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

/// The recording cut into `columns` slices of whole seconds: (seconds per column, columns used).
pub fn slices(r: &ReplayView, columns: usize) -> (i64, usize) {
    let span = (r.end.timestamp() - r.start.timestamp() + 1).max(1);
    let cols = i64::try_from(columns.max(1)).unwrap_or(1);
    let per = (span + cols - 1) / cols;
    let used = usize::try_from((span + per - 1) / per).unwrap_or(1);
    (per, used)
}

/// The column of the cursor at `snap.now`.
pub fn cursor_column(r: &ReplayView, snap: &Snapshot, per: i64, used: usize) -> usize {
    let off = (snap.now.timestamp() - r.start.timestamp()).max(0) / per.max(1);
    usize::try_from(off)
        .unwrap_or(0)
        .min(used.saturating_sub(1))
}

/// The busiest second of each slice, by `value`.
fn sliced(
    r: &ReplayView,
    per: i64,
    used: usize,
    value: impl Fn(&RecordedSecond) -> u64,
) -> Vec<u64> {
    let mut out = vec![0u64; used];
    let start = r.start.timestamp();
    for s in r.seconds.iter() {
        let col = usize::try_from((s.second - start).max(0) / per).unwrap_or(0);
        if let Some(v) = out.get_mut(col) {
            *v = (*v).max(value(s));
        }
    }
    out
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
    let (per, used) = slices(r, usize::from(area.width - 2));
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
        sliced(r, per, used, |s| s.attempts),
        t.series(0),
    )];
    for (i, code) in top.iter().enumerate() {
        let name = view.registry.name_in(*code, view.lang);
        series.push((
            format!("closes/s {code} {name}"),
            sliced(r, per, used, |s| {
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
            sliced(r, per, used, |s| {
                s.closes
                    .iter()
                    .filter(|c| !top.contains(&c.0))
                    .map(|c| c.1)
                    .sum()
            }),
            t.series(CHART_CODES + 1),
        ));
    }
    let col = cursor_column(r, snap, per, used);
    let areas = Layout::vertical(series.iter().map(|_| Constraint::Fill(1))).split(area);
    for ((title, values, style), a) in series.iter().zip(areas.iter()) {
        let peak = values.iter().copied().max().unwrap_or(0);
        let at = values.get(col).copied().unwrap_or(0);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::from(vec![
                Span::styled(format!(" {title} "), t.heading()),
                Span::styled(format!("cursor {at} peak {peak} "), t.dim()),
            ]))
            .title_bottom(
                Line::styled(
                    format!(
                        " whole recording, {per}s per column, {MARKER} = {} ",
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
