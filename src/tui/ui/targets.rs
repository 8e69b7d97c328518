//! The Targets tab: one row per target URL with its sessions by state, opens, closes by code,
//! HTTP failures, handshake time p50/p99, attempts/s and gave up. Sorts with the table's keys;
//! Enter shows that target's sessions.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::engine::events::SessionState;
use crate::state::snapshot::{Snapshot, TargetView};

use super::Theme;
use crate::tui::format;
use crate::tui::targets::{TargetColumn, order};
use crate::tui::view::ViewState;

/// Close codes shown per row, most frequent first.
const TOP_CODES: usize = 3;
/// The URL column is at least this wide: on narrow screens columns go, in [`DROP_ORDER`].
const MIN_URL: usize = 24;
/// The columns left out first when the screen is narrow.
const DROP_ORDER: [TargetColumn; 5] = [
    TargetColumn::P50,
    TargetColumn::Opens,
    TargetColumn::GaveUp,
    TargetColumn::Waiting,
    TargetColumn::Open,
];

/// Width of a column (the URL takes what is left).
fn col_width(c: TargetColumn) -> usize {
    match c {
        TargetColumn::Index => 3,
        TargetColumn::Url => 0,
        TargetColumn::Closes => 20,
        TargetColumn::Http => 9,
        TargetColumn::P50 | TargetColumn::P99 | TargetColumn::GaveUp => 7,
        TargetColumn::LatP50 | TargetColumn::LatP99 => 7,
        TargetColumn::Opens | TargetColumn::Rate => 6,
        _ => 5,
    }
}

/// A latency in µs, as the LAT column shows it.
fn lat(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_string(), format::rtt)
}

/// Whether `cols` leave the URL less than [`MIN_URL`] in `width`.
fn needs_room(cols: &[TargetColumn], width: usize) -> bool {
    cols.iter().map(|c| col_width(*c) + 1).sum::<usize>() + 1 + MIN_URL > width
}

fn ms(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v}ms"))
}

/// The top close codes of a target: `1013×40 1006×3 +2`.
fn closes_text(t: &TargetView) -> String {
    let mut codes: Vec<(u16, u64)> = t.closes_by_code.iter().map(|(c, n)| (*c, *n)).collect();
    if codes.is_empty() {
        return "-".to_string();
    }
    codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut parts: Vec<String> = codes
        .iter()
        .take(TOP_CODES)
        .map(|(c, n)| format!("{c}×{n}"))
        .collect();
    if codes.len() > TOP_CODES {
        parts.push(format!("+{}", codes.len() - TOP_CODES));
    }
    parts.join(" ")
}

/// Whether any target has message health to show (a stale session, a latency).
fn has_health(snap: &Snapshot) -> bool {
    snap.targets
        .iter()
        .any(|t| t.stale > 0 || t.latency_p50_us.is_some())
}

/// The columns that fit in `width` (the URL gets at least [`MIN_URL`]); the message-health
/// columns only with `health`, and they go first when the room is short.
pub fn visible_columns(width: usize, health: bool) -> Vec<TargetColumn> {
    let mut cols = TargetColumn::ALL.to_vec();
    if !health {
        cols.retain(|c| !TargetColumn::HEALTH.contains(c));
    }
    // LAT p50 goes first, LAT p99 last; STALE stays.
    let drops = [TargetColumn::LatP50]
        .into_iter()
        .chain(DROP_ORDER)
        .chain([TargetColumn::LatP99]);
    for drop in drops {
        if !needs_room(&cols, width) {
            break;
        }
        cols.retain(|c| *c != drop);
    }
    cols
}

/// The cells of a row, for `cols`.
fn cells(cols: &[TargetColumn], i: usize, t: &TargetView, url: &str) -> Vec<String> {
    cols.iter()
        .map(|c| match c {
            TargetColumn::Index => i.to_string(),
            TargetColumn::Url => url.to_string(),
            TargetColumn::Sessions => t.sessions.to_string(),
            TargetColumn::Open => t.by_state[SessionState::Open.index()].to_string(),
            TargetColumn::Waiting => t.by_state[SessionState::Waiting.index()].to_string(),
            TargetColumn::Opens => t.opens.to_string(),
            TargetColumn::Closes => closes_text(t),
            TargetColumn::Http => t.http_failures.to_string(),
            TargetColumn::P50 => ms(t.handshake_p50_ms),
            TargetColumn::P99 => ms(t.handshake_p99_ms),
            TargetColumn::Rate => t.attempts_per_sec.to_string(),
            TargetColumn::GaveUp => t.gave_up.to_string(),
            TargetColumn::Stale => t.stale.to_string(),
            TargetColumn::LatP50 => lat(t.latency_p50_us),
            TargetColumn::LatP99 => lat(t.latency_p99_us),
        })
        .collect()
}

/// The room the other columns leave for the URL.
fn url_width(cols: &[TargetColumn], width: usize) -> usize {
    let fixed: usize = cols.iter().map(|c| col_width(*c) + 1).sum();
    width.saturating_sub(fixed + 1).max(8)
}

/// One line of cells: the URL column takes the room the others leave.
fn row_text(cols: &[TargetColumn], cells: &[String], width: usize) -> String {
    let url_w = url_width(cols, width);
    let mut out = String::from(" ");
    for (c, text) in cols.iter().zip(cells) {
        let w = if *c == TargetColumn::Url {
            url_w
        } else {
            col_width(*c)
        };
        let text = format::fit_middle(text, w).into_owned();
        match c {
            TargetColumn::Url | TargetColumn::Closes => out.push_str(&format!("{text:<w$} ")),
            _ => out.push_str(&format!("{text:>w$} ")),
        }
    }
    out
}

pub fn draw(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let st = &view.targets;
    let rows = order(snap, st);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(vec![
            Span::styled(" Targets ", t.heading()),
            Span::styled(
                format!(
                    "{} · sort {} {} · Enter: its sessions ",
                    rows.len(),
                    st.sort.title(),
                    if st.descending { "desc" } else { "asc" }
                ),
                t.dim(),
            ),
        ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let cols = visible_columns(width, has_health(snap));
    let titles: Vec<String> = cols
        .iter()
        .map(|c| {
            let mark = match (*c == st.sort, st.descending) {
                (true, false) => "▲",
                (true, true) => "▼",
                _ => "",
            };
            format!("{}{mark}", c.title())
        })
        .collect();
    let mut lines = vec![Line::styled(row_text(&cols, &titles, width), t.heading())];
    let visible = usize::from(inner.height.saturating_sub(1));
    let cursor = st.cursor.min(rows.len().saturating_sub(1));
    let first = cursor.saturating_sub(visible.saturating_sub(1));
    // Whole URLs when they all fit, else every row shows the table's TARGET label (the part
    // that tells targets apart), rather than URLs cut in the middle or a column that mixes
    // the two. The status line shows the selected target's whole URL.
    let labels = crate::tui::columns::target_labels(snap);
    let url_w = url_width(&cols, width);
    let use_labels = rows
        .iter()
        .any(|&i| snap.targets[i].url.chars().count() > url_w);
    for (pos, &i) in rows.iter().enumerate().skip(first).take(visible) {
        let target = &snap.targets[i];
        let url = match labels.get(i) {
            Some(label) if use_labels => label.as_str(),
            _ => target.url.as_str(),
        };
        let text = row_text(&cols, &cells(&cols, i, target, url), width);
        let style = if pos == cursor {
            t.selected()
        } else {
            t.plain()
        };
        lines.push(Line::styled(text, style));
    }
    if rows.is_empty() {
        lines.push(Line::styled(" no targets yet", t.dim()));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
