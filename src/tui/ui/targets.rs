//! The Targets tab: one row per target URL with its sessions by state, opens, closes by code,
//! HTTP failures, handshake time p50/p99, attempts/s and gave up. Sorts with the table's keys;
//! Enter shows that target's sessions.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::engine::events::SessionState;
use crate::state::snapshot::{Snapshot, TargetView};

use super::{Theme, format};
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

/// Columns of the targets table, in display order. Every column sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TargetColumn {
    #[default]
    Index,
    Url,
    Sessions,
    Open,
    Waiting,
    Opens,
    Closes,
    Http,
    P50,
    P99,
    Rate,
    GaveUp,
}

impl TargetColumn {
    pub const ALL: [TargetColumn; 12] = [
        TargetColumn::Index,
        TargetColumn::Url,
        TargetColumn::Sessions,
        TargetColumn::Open,
        TargetColumn::Waiting,
        TargetColumn::Opens,
        TargetColumn::Closes,
        TargetColumn::Http,
        TargetColumn::P50,
        TargetColumn::P99,
        TargetColumn::Rate,
        TargetColumn::GaveUp,
    ];

    pub fn title(self) -> &'static str {
        match self {
            TargetColumn::Index => "#",
            TargetColumn::Url => "TARGET",
            TargetColumn::Sessions => "SESS",
            TargetColumn::Open => "OPEN",
            TargetColumn::Waiting => "WAIT",
            TargetColumn::Opens => "OPENS",
            TargetColumn::Closes => "CLOSES BY CODE",
            TargetColumn::Http => "HTTP FAIL",
            TargetColumn::P50 => "HS p50",
            TargetColumn::P99 => "HS p99",
            TargetColumn::Rate => "ATT/S",
            TargetColumn::GaveUp => "GAVE UP",
        }
    }

    /// Width of the column (the URL takes what is left).
    fn width(self) -> usize {
        match self {
            TargetColumn::Index => 3,
            TargetColumn::Url => 0,
            TargetColumn::Closes => 20,
            TargetColumn::Http => 9,
            TargetColumn::P50 | TargetColumn::P99 | TargetColumn::GaveUp => 7,
            TargetColumn::Opens | TargetColumn::Rate => 6,
            _ => 5,
        }
    }

    fn position(self) -> usize {
        TargetColumn::ALL
            .iter()
            .position(|c| *c == self)
            .unwrap_or(0)
    }

    pub fn next(self) -> TargetColumn {
        TargetColumn::ALL[(self.position() + 1) % TargetColumn::ALL.len()]
    }

    pub fn prev(self) -> TargetColumn {
        let n = TargetColumn::ALL.len();
        TargetColumn::ALL[(self.position() + n - 1) % n]
    }
}

/// The Targets tab's own view state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TargetsState {
    pub sort: TargetColumn,
    pub descending: bool,
    /// Position of the selected row in [`order`].
    pub cursor: usize,
}

/// Rows in display order: indices into `snap.targets` (targets never seen are skipped).
pub fn order(snap: &Snapshot, st: &TargetsState) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..snap.targets.len())
        .filter(|&i| !snap.targets[i].url.is_empty())
        .collect();
    let key = |i: usize| -> u64 {
        let t = &snap.targets[i];
        let opt = |v: Option<u64>| v.map_or(0, |v| v.saturating_add(1));
        match st.sort {
            TargetColumn::Index | TargetColumn::Url => 0,
            TargetColumn::Sessions => t.sessions as u64,
            TargetColumn::Open => t.by_state[SessionState::Open.index()] as u64,
            TargetColumn::Waiting => t.by_state[SessionState::Waiting.index()] as u64,
            TargetColumn::Opens => t.opens,
            TargetColumn::Closes => t.closes_by_code.values().sum(),
            TargetColumn::Http => t.http_failures,
            TargetColumn::P50 => opt(t.handshake_p50_ms),
            TargetColumn::P99 => opt(t.handshake_p99_ms),
            TargetColumn::Rate => t.attempts_per_sec,
            TargetColumn::GaveUp => t.gave_up,
        }
    };
    if st.sort == TargetColumn::Url {
        rows.sort_by(|a, b| {
            snap.targets[*a]
                .url
                .cmp(&snap.targets[*b].url)
                .then(a.cmp(b))
        });
    } else {
        rows.sort_by_key(|&i| (key(i), i));
    }
    if st.descending {
        // Ties stay in index order.
        rows.sort_by(|a, b| match st.sort {
            TargetColumn::Url => snap.targets[*b]
                .url
                .cmp(&snap.targets[*a].url)
                .then(a.cmp(b)),
            TargetColumn::Index => b.cmp(a),
            _ => key(*b).cmp(&key(*a)).then(a.cmp(b)),
        });
    }
    rows
}

/// The selected target (index into `snap.targets`), if any.
pub fn selected(snap: &Snapshot, st: &TargetsState) -> Option<usize> {
    let rows = order(snap, st);
    rows.get(st.cursor.min(rows.len().saturating_sub(1)))
        .copied()
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

/// The columns that fit in `width` (the URL gets at least [`MIN_URL`]).
pub fn visible_columns(width: usize) -> Vec<TargetColumn> {
    let mut cols = TargetColumn::ALL.to_vec();
    let needs = |cols: &[TargetColumn]| cols.iter().map(|c| c.width() + 1).sum::<usize>() + 1;
    for drop in DROP_ORDER {
        if needs(&cols) + MIN_URL <= width {
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
        })
        .collect()
}

/// The room the other columns leave for the URL.
fn url_width(cols: &[TargetColumn], width: usize) -> usize {
    let fixed: usize = cols.iter().map(|c| c.width() + 1).sum();
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
            c.width()
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
    let cols = visible_columns(width);
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
    let labels = super::table::target_labels(snap);
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
