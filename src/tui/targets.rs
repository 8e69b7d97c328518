//! The Targets tab's view state: its columns, sort and cursor, and the order of its rows.
//! Drawing is in `ui/targets.rs`, which only reads this.

use crate::engine::events::SessionState;
use crate::state::snapshot::Snapshot;

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
    /// Open sessions that are stale.
    Stale,
    /// Message latency p50 / p99 over the target's last 512.
    LatP50,
    LatP99,
}

impl TargetColumn {
    pub const ALL: [TargetColumn; 15] = [
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
        TargetColumn::Stale,
        TargetColumn::LatP50,
        TargetColumn::LatP99,
    ];

    /// The message-health columns, shown while some target has a stale session or latencies.
    pub const HEALTH: [TargetColumn; 3] = [
        TargetColumn::Stale,
        TargetColumn::LatP50,
        TargetColumn::LatP99,
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
            TargetColumn::Stale => "STALE",
            TargetColumn::LatP50 => "LAT p50",
            TargetColumn::LatP99 => "LAT p99",
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
            TargetColumn::Stale => t.stale as u64,
            TargetColumn::LatP50 => opt(t.latency_p50_us),
            TargetColumn::LatP99 => opt(t.latency_p99_us),
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

impl TargetsState {
    /// Move the cursor by `delta` rows among `rows` rows (clamped).
    pub fn move_cursor(&mut self, rows: usize, delta: isize) {
        let last = rows.saturating_sub(1);
        self.cursor = self.cursor.min(last).saturating_add_signed(delta).min(last);
    }
}
