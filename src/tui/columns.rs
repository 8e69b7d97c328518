//! The sessions table's columns and which of them get room at a width: view state the table
//! drawing (`ui/table.rs`) only reads. The operator's choices live in the view state
//! (`ViewState::toggle_column`) and arrive here as [`ColumnPrefs`].

use crate::state::snapshot::Snapshot;

use super::format;

/// Columns of the sessions table, in display order. Every column sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Column {
    #[default]
    Id,
    Target,
    State,
    Uptime,
    Attempt,
    Close,
    Ext,
    Rtt,
    Msgs,
    Bytes,
    Ratio,
    /// How long ago the server's last data message came.
    MsgAge,
    /// The last message latency (a script's request to its response, a protocol's ping).
    Lat,
    /// Over HTTP/2: the session's connection (`c3`); `-` over HTTP/1.1.
    Conn,
    /// The HTTP version that carried the WebSocket (`h1`, `h2`).
    Proto,
}

impl Column {
    pub const ALL: [Column; 15] = [
        Column::Id,
        Column::Target,
        Column::State,
        Column::Uptime,
        Column::Attempt,
        Column::Close,
        Column::Ext,
        Column::Rtt,
        Column::Msgs,
        Column::Bytes,
        Column::Ratio,
        Column::MsgAge,
        Column::Lat,
        Column::Conn,
        Column::Proto,
    ];

    /// Columns off until the operator turns them on (`C`).
    pub const OFF_BY_DEFAULT: [Column; 4] =
        [Column::MsgAge, Column::Lat, Column::Conn, Column::Proto];

    pub fn title(self) -> &'static str {
        match self {
            Column::Id => "ID",
            Column::Target => "TARGET",
            Column::State => "STATE",
            Column::Uptime => "UPTIME",
            Column::Attempt => "ATT",
            Column::Close => "LAST CLOSE",
            Column::Ext => "EXT",
            Column::Rtt => "RTT",
            Column::Msgs => "MSGS IN/OUT",
            Column::Bytes => "BYTES IN/OUT",
            Column::Ratio => "RATIO",
            Column::MsgAge => "MSG AGE",
            Column::Lat => "LAT",
            Column::Conn => "CONN",
            Column::Proto => "PROTO",
        }
    }

    fn position(self) -> usize {
        Column::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    pub fn next(self) -> Column {
        Column::ALL[(self.position() + 1) % Column::ALL.len()]
    }

    pub fn prev(self) -> Column {
        let n = Column::ALL.len();
        Column::ALL[(self.position() + n - 1) % n]
    }
}

/// What decides the table's columns besides the width and the data.
#[derive(Debug, Clone, Copy)]
pub struct ColumnPrefs<'a> {
    /// Columns the operator asked for (`C`): they get room before the others.
    pub pinned: &'a [Column],
    /// Columns the operator turned off.
    pub hidden: &'a [Column],
    /// Some session is marked: the ID column holds the mark too.
    pub marks: bool,
    /// The table shows wall-clock times instead of ages.
    pub times: bool,
}

/// Which columns to keep when the screen is narrow, most important first.
const PRIORITY: [Column; 15] = [
    Column::Id,
    Column::State,
    Column::Close,
    Column::Target,
    Column::Uptime,
    Column::Attempt,
    Column::Ext,
    Column::Rtt,
    Column::Ratio,
    Column::Msgs,
    Column::Bytes,
    Column::MsgAge,
    Column::Lat,
    Column::Conn,
    Column::Proto,
];

/// The STATE column's width while a session is stale (`open, stale 1m12s`).
const STATE_STALE: u16 = 18;
/// Spaces between two columns.
pub const SPACING: u16 = 1;
const TARGET_MAX: u16 = 40;
/// The LAST CLOSE column grows up to this width so that long names stay whole.
const CLOSE_MAX: u16 = 36;

fn base_width(col: Column, id_width: u16, times: bool) -> u16 {
    match col {
        Column::Id => id_width,
        Column::Target => 12,
        Column::State => 13,
        Column::Uptime if times => 8,
        Column::Uptime => 6,
        Column::Attempt => 4,
        Column::Close => 24,
        Column::Ext => 7,
        Column::Rtt => 7,
        Column::Msgs => 11,
        Column::Bytes => 12,
        Column::Ratio => 5,
        Column::MsgAge => 7,
        Column::Lat => 7,
        Column::Conn => 5,
        Column::Proto => 5,
    }
}

/// The TARGET labels of the snapshot's targets (see [`format::target_labels`]).
pub fn target_labels(snap: &Snapshot) -> Vec<String> {
    let urls: Vec<&str> = snap.targets.iter().map(|t| t.url.as_str()).collect();
    format::target_labels(&urls)
}

/// The order in which columns get room: ID and STATE, then the operator's pinned columns, then
/// the rest by [`PRIORITY`]; turned-off columns are left out.
fn priority(view: &ColumnPrefs) -> Vec<Column> {
    let mut out = vec![Column::Id, Column::State];
    for c in view.pinned.iter().chain(PRIORITY.iter()) {
        if !out.contains(c) && !view.hidden.contains(c) {
            out.push(*c);
        }
    }
    out
}

/// Columns left out at this width for want of room (not the ones turned off).
pub fn hidden_for_room(width: u16, snap: &Snapshot, view: &ColumnPrefs) -> Vec<Column> {
    let shown = columns(width, snap, view);
    priority(view)
        .into_iter()
        .filter(|c| !shown.iter().any(|(s, _)| s == c))
        .collect()
}

/// The columns shown at this width, in display order, with their widths. Spare room goes first
/// to TARGET (as far as its longest label needs), then to LAST CLOSE, then to TARGET again.
pub fn columns(width: u16, snap: &Snapshot, view: &ColumnPrefs) -> Vec<(Column, u16)> {
    let max_id = snap.sessions.last().map_or(0, |s| s.id);
    // Room for the mark before the id.
    let id_width = u16::try_from(format!("s{max_id}").len() + usize::from(view.marks))
        .unwrap_or(8)
        .max(3);
    // Room for `open, stale 1m12s` while a session is stale.
    let state_w = if snap.totals.stale > 0 {
        STATE_STALE
    } else {
        base_width(Column::State, id_width, view.times)
    };
    let width_of = |col: Column| match col {
        Column::State => state_w,
        c => base_width(c, id_width, view.times),
    };
    let mut chosen: Vec<Column> = Vec::new();
    let mut used: u16 = 0;
    for col in priority(view) {
        let w = width_of(col);
        let extra = if chosen.is_empty() { w } else { w + SPACING };
        if used + extra <= width {
            used += extra;
            chosen.push(col);
        }
    }
    let mut spare = width.saturating_sub(used);
    let label_need = target_labels(snap)
        .iter()
        .map(|l| u16::try_from(l.chars().count()).unwrap_or(u16::MAX))
        .max()
        .unwrap_or(0);
    let mut take = |want: u16| {
        let got = want.min(spare);
        spare -= got;
        got
    };
    let base_target = base_width(Column::Target, id_width, false);
    let base_close = base_width(Column::Close, id_width, false);
    let mut target_w = base_target;
    let mut close_w = base_close;
    if chosen.contains(&Column::Target) {
        target_w += take(label_need.min(TARGET_MAX).saturating_sub(base_target));
    }
    if chosen.contains(&Column::Close) {
        close_w += take(CLOSE_MAX - base_close);
    }
    if chosen.contains(&Column::Target) {
        target_w += take(TARGET_MAX.saturating_sub(target_w));
    }
    Column::ALL
        .iter()
        .filter(|c| chosen.contains(c))
        .map(|&c| {
            let w = match c {
                Column::Target => target_w,
                Column::Close => close_w,
                _ => width_of(c),
            };
            (c, w)
        })
        .collect()
}
