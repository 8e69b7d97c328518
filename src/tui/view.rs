//! View state: what the user is looking at (tab, selection by session id, scroll, sort, filters,
//! frozen snapshot, prompt input, status message). The filtered and sorted order of sessions is
//! cached here and recomputed only when the snapshot, the sort or a filter changes.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Offset as _, Utc};

use crate::codes::{Lang, Registry};
use crate::engine::events::{Command, ErrorKind, SessionId, SessionState};
use crate::state::snapshot::{AttemptOutcome, SessionView, Snapshot};

use super::keys::{KeyMap, Mode, Selection};
use super::ui::format;

/// The tabs, in the order Tab cycles through them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tab {
    #[default]
    Sessions,
    Storm,
    /// The live event log.
    Log,
    /// One row per target URL.
    Targets,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Sessions, Tab::Storm, Tab::Log, Tab::Targets];

    pub fn name(self) -> &'static str {
        match self {
            Tab::Sessions => "Sessions",
            Tab::Storm => "Storm",
            Tab::Log => "Events",
            Tab::Targets => "Targets",
        }
    }

    pub fn next(self) -> Tab {
        match self {
            Tab::Sessions => Tab::Storm,
            Tab::Storm => Tab::Log,
            Tab::Log => Tab::Targets,
            Tab::Targets => Tab::Sessions,
        }
    }
}

/// What the LAST CLOSE column shows for a session, as a filter value: a close code, an HTTP
/// status of a refused upgrade, or the kind of an error without a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutcomeFilter {
    Code(u16),
    Status(u16),
    Error(ErrorKind),
}

impl OutcomeFilter {
    /// As the LAST CLOSE column and the header show it: `1013`, `HTTP 503`, `error dns`.
    pub fn label(self) -> String {
        match self {
            OutcomeFilter::Code(c) => format!("close {c}"),
            OutcomeFilter::Status(s) => format!("HTTP {s}"),
            OutcomeFilter::Error(k) => format!("error {}", k.as_str()),
        }
    }
}

/// What ended the session's last attempt, as the LAST CLOSE column shows it (looking past the
/// pending attempt of a waiting session).
pub fn last_outcome(s: &SessionView) -> Option<OutcomeFilter> {
    match s.timeline.iter().rev().find_map(|r| r.outcome) {
        Some(AttemptOutcome::Status { status }) => return Some(OutcomeFilter::Status(status)),
        Some(AttemptOutcome::Error { kind }) => return Some(OutcomeFilter::Error(kind)),
        _ => {}
    }
    s.last_close.as_ref().map(|c| OutcomeFilter::Code(c.code))
}

/// How wall-clock times are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    #[default]
    Utc,
    /// The local time zone (its offset is read once at start-up: rendering never asks).
    Local,
}

/// An action on more than one session, waiting for the operator's yes.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    /// The question, with the count ("reconnect 12 waiting sessions now?").
    pub question: String,
    /// What is sent on yes.
    pub commands: Vec<Command>,
    /// The status line after sending.
    pub done: String,
}

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
}

impl Column {
    pub const ALL: [Column; 11] = [
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
    ];

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

/// What the explain view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplainTarget {
    One(u16),
    Compare(u16, u16),
    /// An HTTP status that answered an upgrade.
    Http(u16),
}

/// What a prompt is asking for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// `/`: text filter.
    Filter,
    /// `a`: URL and count.
    Add,
    /// `c`: close code and reason for this session.
    Close(SessionId),
    /// `x` without a close code: code(s) to explain.
    Explain,
    /// `c` in the explain view: the second code.
    Compare(u16),
    /// `c` with marked sessions: close code and reason for all of them.
    CloseMarked(usize),
    /// Replay `n`: the code of the next close to go to.
    NextClose,
    /// Replay `:`: a time to go to.
    GotoTime,
}

impl PromptKind {
    pub fn label(self) -> String {
        match self {
            PromptKind::Filter => "filter: ".to_string(),
            PromptKind::Add => "add sessions (URL COUNT): ".to_string(),
            PromptKind::Close(id) => format!("close s{id} with code [reason] (default 1000): "),
            PromptKind::Explain => "explain code (or two to compare): ".to_string(),
            PromptKind::Compare(a) => format!("compare {a} with code: "),
            PromptKind::CloseMarked(n) => {
                format!("close {n} marked sessions with code [reason] (default 1000): ")
            }
            PromptKind::NextClose => "next close with code: ".to_string(),
            PromptKind::GotoTime => "go to time (14:03:12, +2m30s, -10s): ".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub kind: StatusKind,
    /// Counts messages, so the same text shown twice is still a new message (with its own
    /// time to live).
    pub serial: u64,
}

/// What determines the cached order.
#[derive(Debug, Clone, PartialEq)]
struct OrderKey {
    generation: u64,
    sessions: usize,
    sort: Column,
    descending: bool,
    filter: String,
    state: Option<SessionState>,
    code: Option<OutcomeFilter>,
    target: Option<usize>,
}

/// Everything about the display that is not data.
#[derive(Debug, Clone)]
pub struct ViewState {
    pub tab: Tab,
    /// The session whose detail is open (Sessions tab).
    pub detail: Option<SessionId>,
    pub explain: Option<ExplainTarget>,
    pub help: bool,
    pub prompt: Option<Prompt>,
    /// The selected session, by id (stable across re-sorts).
    pub selected: Option<SessionId>,
    /// The user chose the selection (moved, clicked). Until then the selection is simply the
    /// first row: sessions appear in any order at start-up, and the cursor must not follow
    /// whichever happened to be listed first.
    pub user_selected: bool,
    /// Position of the selection in `order`.
    pub cursor: usize,
    /// First visible row of the table.
    pub offset: usize,
    pub detail_scroll: u16,
    pub explain_scroll: u16,
    pub help_scroll: u16,
    pub sort: Column,
    pub descending: bool,
    pub filter: String,
    pub state_filter: Option<SessionState>,
    /// `o`: what the LAST CLOSE column shows (close code, HTTP status or error kind).
    pub outcome_filter: Option<OutcomeFilter>,
    /// Sessions marked with Space: `c`, `r` and `p` act on them when there are any.
    pub marked: BTreeSet<SessionId>,
    /// A bulk action waiting for y / n.
    pub confirm: Option<Confirm>,
    /// UTC or local time for wall-clock times.
    pub clock: Clock,
    /// The local offset, read once at start-up.
    pub local_offset: FixedOffset,
    /// The table shows when each state began (wall clock) instead of ages.
    pub table_times: bool,
    /// Columns the operator asked for (`C`): shown before the others when room is short.
    pub pinned: Vec<Column>,
    /// Columns the operator turned off.
    pub hidden: Vec<Column>,
    /// The column chooser is open, with its cursor.
    pub chooser: Option<usize>,
    /// The event log's scroll position from the newest line (0 = follow the newest).
    pub log_scroll: u16,
    /// The snapshot shown while the display is frozen.
    pub frozen: Option<Arc<Snapshot>>,
    pub status: Option<Status>,
    pub keys: KeyMap,
    pub lang: Lang,
    pub color: bool,
    pub title: String,
    /// Shared with the rest of the process (the config's application codes included).
    pub registry: Arc<Registry>,
    /// Only the sessions of this target (Enter on the Targets tab).
    pub target_filter: Option<usize>,
    /// The Targets tab: sort, cursor.
    pub targets: super::ui::targets::TargetsState,
    /// Replaying a recorded log: the recording and the time cursor's state.
    pub replay: Option<super::replay::ReplayView>,
    /// Indices into the shown snapshot's `sessions`, filtered and sorted.
    order: Vec<usize>,
    order_key: Option<OrderKey>,
}

impl ViewState {
    pub fn new(
        keys: KeyMap,
        lang: Lang,
        color: bool,
        title: String,
        registry: Arc<Registry>,
    ) -> ViewState {
        ViewState {
            tab: Tab::Sessions,
            detail: None,
            explain: None,
            help: false,
            prompt: None,
            selected: None,
            user_selected: false,
            cursor: 0,
            offset: 0,
            detail_scroll: 0,
            explain_scroll: 0,
            help_scroll: 0,
            sort: Column::Id,
            descending: false,
            filter: String::new(),
            state_filter: None,
            outcome_filter: None,
            marked: BTreeSet::new(),
            confirm: None,
            clock: Clock::Utc,
            local_offset: Utc.fix(),
            table_times: false,
            pinned: Vec::new(),
            hidden: Vec::new(),
            chooser: None,
            log_scroll: 0,
            frozen: None,
            status: None,
            keys,
            lang,
            color,
            title,
            registry,
            target_filter: None,
            targets: super::ui::targets::TargetsState::default(),
            replay: None,
            order: Vec::new(),
            order_key: None,
        }
    }

    /// The mode that decides what keys mean.
    pub fn mode(&self) -> Mode {
        if self.prompt.is_some() {
            Mode::Prompt
        } else if self.confirm.is_some() {
            Mode::Confirm
        } else if self.chooser.is_some() {
            Mode::Columns
        } else if self.help {
            Mode::Help
        } else if self.explain.is_some() {
            Mode::Explain
        } else if self.tab == Tab::Storm {
            Mode::Storm
        } else if self.tab == Tab::Log {
            Mode::Log
        } else if self.tab == Tab::Targets {
            Mode::Targets
        } else if self.detail.is_some() {
            Mode::Detail
        } else {
            Mode::Sessions
        }
    }

    /// The snapshot to draw: the frozen one, or the latest.
    pub fn shown<'a>(&'a self, latest: &'a Arc<Snapshot>) -> &'a Arc<Snapshot> {
        self.frozen.as_ref().unwrap_or(latest)
    }

    /// Filtered and sorted indices into the shown snapshot (valid after [`ViewState::sync`]).
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// Bring the cached order up to date with `snap` (only recomputed when the snapshot, sort or
    /// filters changed) and keep the selection on the same session id.
    pub fn sync(&mut self, snap: &Snapshot) {
        let key = OrderKey {
            generation: snap.generation,
            sessions: snap.sessions.len(),
            sort: self.sort,
            descending: self.descending,
            filter: self.filter.clone(),
            state: self.state_filter,
            code: self.outcome_filter,
            target: self.target_filter,
        };
        if self.order_key.as_ref() == Some(&key) {
            return;
        }
        self.order = compute_order(snap, &key, &self.registry);
        self.order_key = Some(key);
        self.reselect(snap);
    }

    /// Put the cursor back on the selected id; if that session is gone, stay at the same position.
    /// Before the user chose a row, the selection stays on the first row.
    fn reselect(&mut self, snap: &Snapshot) {
        let found = self.selected.filter(|_| self.user_selected).and_then(|id| {
            self.order
                .iter()
                .position(|&i| snap.sessions.get(i).is_some_and(|s| s.id == id))
        });
        match found {
            Some(pos) => self.cursor = pos,
            None => {
                self.cursor = self.cursor.min(self.order.len().saturating_sub(1));
                self.selected = self
                    .order
                    .get(self.cursor)
                    .and_then(|&i| snap.sessions.get(i))
                    .map(|s| s.id);
            }
        }
    }

    /// Move the cursor by `delta` rows (clamped) and select that row.
    pub fn move_cursor(&mut self, snap: &Snapshot, delta: isize) {
        if self.order.is_empty() {
            self.cursor = 0;
            self.selected = None;
            return;
        }
        let last = self.order.len() - 1;
        let pos = self.cursor.saturating_add_signed(delta).min(last);
        self.select_position(snap, pos);
    }

    /// Select the row at `pos` (clamped): the user's choice, kept across updates.
    pub fn select_position(&mut self, snap: &Snapshot, pos: usize) {
        if self.order.is_empty() {
            return;
        }
        self.user_selected = true;
        self.cursor = pos.min(self.order.len() - 1);
        self.selected = self
            .order
            .get(self.cursor)
            .and_then(|&i| snap.sessions.get(i))
            .map(|s| s.id);
    }

    /// The selected session in `snap`.
    pub fn selected_session<'a>(&self, snap: &'a Snapshot) -> Option<&'a Arc<SessionView>> {
        let id = match self.tab {
            Tab::Sessions => self.detail.or(self.selected),
            Tab::Storm | Tab::Log | Tab::Targets => self.selected,
        }?;
        snap.index_of(id).and_then(|i| snap.sessions.get(i))
    }

    /// What command-making actions need about the selection.
    pub fn selection(&self, snap: &Snapshot) -> Selection {
        let s = self.selected_session(snap);
        Selection {
            session: s.map(|s| s.id),
            target: s.map(|s| s.target),
            paused: s.is_some_and(|s| s.paused),
            paused_all: snap.totals.paused_all,
        }
    }

    pub fn set_status(&mut self, text: impl Into<String>) {
        self.set_message(text.into(), StatusKind::Info);
    }

    pub fn set_error(&mut self, text: impl Into<String>) {
        self.set_message(text.into(), StatusKind::Error);
    }

    fn set_message(&mut self, text: String, kind: StatusKind) {
        let serial = self.status.as_ref().map_or(0, |s| s.serial) + 1;
        self.status = Some(Status { text, kind, serial });
    }

    /// A short description of the active filters, for the table title ("" when none).
    pub fn filter_summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.filter.is_empty() {
            parts.push(format!("text \"{}\"", self.filter));
        }
        if let Some(s) = self.state_filter {
            parts.push(format!("state {}", s.as_str()));
        }
        if let Some(c) = self.outcome_filter {
            parts.push(c.label());
        }
        if let Some(t) = self.target_filter {
            parts.push(format!("target #{t}"));
        }
        parts.join(", ")
    }

    /// Whether any filter is on.
    pub fn filtered(&self) -> bool {
        !self.filter.is_empty()
            || self.state_filter.is_some()
            || self.outcome_filter.is_some()
            || self.target_filter.is_some()
    }

    /// Turn every filter off.
    pub fn clear_filters(&mut self) {
        self.filter.clear();
        self.state_filter = None;
        self.outcome_filter = None;
        self.target_filter = None;
        self.cursor = 0;
    }

    /// Ids of the sessions shown (filtered and sorted), valid after [`ViewState::sync`].
    pub fn shown_ids(&self, snap: &Snapshot) -> Vec<SessionId> {
        self.order
            .iter()
            .filter_map(|&i| snap.sessions.get(i).map(|s| s.id))
            .collect()
    }

    /// Marked sessions that still exist in `snap`.
    pub fn live_marks(&self, snap: &Snapshot) -> Vec<SessionId> {
        self.marked
            .iter()
            .copied()
            .filter(|id| snap.index_of(*id).is_some())
            .collect()
    }

    /// A wall-clock time as `12:00:05.250Z` (UTC) or `13:00:05.250+01:00` (local).
    pub fn time(&self, t: DateTime<Utc>) -> String {
        match self.clock {
            Clock::Utc => t.format("%H:%M:%S%.3fZ").to_string(),
            Clock::Local => t
                .with_timezone(&self.local_offset)
                .format("%H:%M:%S%.3f%:z")
                .to_string(),
        }
    }

    /// A wall-clock time to the second, for tight columns: `12:00:05` (zone in the headings).
    pub fn time_short(&self, t: DateTime<Utc>) -> String {
        match self.clock {
            Clock::Utc => t.format("%H:%M:%S").to_string(),
            Clock::Local => t
                .with_timezone(&self.local_offset)
                .format("%H:%M:%S")
                .to_string(),
        }
    }

    /// The zone of [`ViewState::time_short`]: `UTC` or `local +01:00`.
    pub fn zone(&self) -> String {
        match self.clock {
            Clock::Utc => "UTC".to_string(),
            Clock::Local => format!("local {}", self.local_offset),
        }
    }
}

/// Next value of the state filter: all, then each state some session is in, then all again.
pub fn next_state_filter(current: Option<SessionState>, snap: &Snapshot) -> Option<SessionState> {
    let present = |s: &SessionState| snap.sessions.iter().any(|v| v.state == *s);
    let after = current.map_or(0, |c| c.index() + 1);
    SessionState::ALL
        .iter()
        .skip(after)
        .find(|s| present(s))
        .copied()
}

/// Next value of the outcome filter: all, then every close code, HTTP status and error kind
/// that the LAST CLOSE column shows for some session, then all again.
pub fn next_outcome_filter(
    current: Option<OutcomeFilter>,
    snap: &Snapshot,
) -> Option<OutcomeFilter> {
    let present: BTreeSet<OutcomeFilter> = snap
        .sessions
        .iter()
        .filter_map(|s| last_outcome(s))
        .collect();
    match current {
        None => present.iter().next().copied(),
        Some(c) => present
            .range((std::ops::Bound::Excluded(c), std::ops::Bound::Unbounded))
            .next()
            .copied(),
    }
}

fn compute_order(snap: &Snapshot, key: &OrderKey, reg: &Registry) -> Vec<usize> {
    let needle = key.filter.to_lowercase();
    // The "HTTP 503" / "error connect" labels that match, decided once per label seen rather
    // than once per session.
    let outcomes = MatchingOutcomes {
        statuses: snap
            .totals
            .statuses
            .keys()
            .filter(|st| !needle.is_empty() && format!("http {st}").contains(&needle))
            .copied()
            .collect(),
        errors: snap
            .totals
            .errors
            .keys()
            .filter(|k| !needle.is_empty() && format!("error {}", k.as_str()).contains(&needle))
            .copied()
            .collect(),
    };
    // Close-code names, lower-cased once per code rather than once per session.
    let mut names: std::collections::HashMap<u16, String> = std::collections::HashMap::new();
    if !needle.is_empty() {
        for s in &snap.sessions {
            if let Some(c) = &s.last_close {
                names
                    .entry(c.code)
                    .or_insert_with(|| reg.name(c.code).to_lowercase());
            }
        }
    }
    let mut order: Vec<usize> = snap
        .sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| key.state.is_none_or(|st| s.state == st))
        .filter(|(_, s)| key.target.is_none_or(|t| s.target == t))
        .filter(|(_, s)| key.code.is_none_or(|c| last_outcome(s) == Some(c)))
        .filter(|(_, s)| needle.is_empty() || matches_text(s, &needle, &names, &outcomes))
        .map(|(i, _)| i)
        .collect();
    if key.sort == Column::Id && !key.descending {
        return order; // sessions are already ordered by id
    }
    if key.sort == Column::Ext {
        if key.descending {
            order.sort_by_cached_key(|&i| {
                let ext = format::ext_short(&snap.sessions[i]).into_owned();
                (std::cmp::Reverse(ext), snap.sessions[i].id)
            });
        } else {
            order.sort_by_cached_key(|&i| {
                let ext = format::ext_short(&snap.sessions[i]).into_owned();
                (ext, snap.sessions[i].id)
            });
        }
        return order;
    }
    // One numeric key per session (computed once), then an unstable sort on (key, id), which
    // is unique: much cheaper than comparing fields inside the sort.
    let mut keyed: Vec<(u64, u64, usize)> = order
        .iter()
        .map(|&i| (sort_key(snap, i, key.sort), snap.sessions[i].id, i))
        .collect();
    if key.descending {
        keyed.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    } else {
        keyed.sort_unstable();
    }
    keyed.into_iter().map(|(_, _, i)| i).collect()
}

/// A number that orders sessions by a column (`None` values first).
fn sort_key(snap: &Snapshot, i: usize, col: Column) -> u64 {
    let s = &snap.sessions[i];
    let c = snap.counters.get(i).copied().flatten().unwrap_or_default();
    let some = |v: Option<u64>| v.map_or(0, |v| v.saturating_add(1));
    match col {
        Column::Id => s.id,
        Column::Target => s.target as u64,
        Column::State => s.state.index() as u64,
        Column::Uptime => some(format::uptime_ms(s, snap.now)),
        Column::Attempt => u64::from(s.attempt),
        Column::Close => some(s.last_close.as_ref().map(|c| u64::from(c.code))),
        // Ext is sorted as text by the caller.
        Column::Ext => 0,
        Column::Rtt => some(c.rtt_us),
        Column::Msgs => c.msgs_in.saturating_add(c.msgs_out),
        Column::Bytes => c.wire_in.saturating_add(c.wire_out),
        Column::Ratio => some(c.compression_ratio().map(|r| (r.max(0.0) * 1e6) as u64)),
    }
}

/// The HTTP statuses and error kinds whose LAST CLOSE label matches the text filter.
struct MatchingOutcomes {
    statuses: std::collections::BTreeSet<u16>,
    errors: std::collections::BTreeSet<crate::engine::events::ErrorKind>,
}

/// `hay` contains the lower-cased `needle`, ignoring ASCII case (no allocation).
fn contains_ci(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    h.len() >= n.len()
        && h.windows(n.len())
            .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

/// Case-insensitive match of the lower-cased `needle` against what the row shows: the id
/// (`s42`), the URL, the state, the close code and its name, the negotiated extensions.
fn matches_text(
    s: &SessionView,
    needle: &str,
    names: &std::collections::HashMap<u16, String>,
    outcomes: &MatchingOutcomes,
) -> bool {
    if let Some(digits) = needle.strip_prefix('s')
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && contains_ci(&s.id.to_string(), digits)
    {
        return true;
    }
    if contains_ci(&s.url, needle) || s.state.as_str().contains(needle) {
        return true;
    }
    if let Some(c) = &s.last_close {
        let code = c.code.to_string();
        if code.contains(needle) || names.get(&c.code).is_some_and(|n| n.contains(needle)) {
            return true;
        }
    }
    // What the LAST CLOSE column shows when the last attempt ended without a close code.
    match s.timeline.iter().rev().find_map(|r| r.outcome) {
        Some(AttemptOutcome::Status { status }) if outcomes.statuses.contains(&status) => {
            return true;
        }
        Some(AttemptOutcome::Error { kind }) if outcomes.errors.contains(&kind) => return true,
        _ => {}
    }
    s.last_handshake
        .as_ref()
        .is_some_and(|h| h.accepted.iter().any(|e| contains_ci(&e.name, needle)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixtures;

    fn ids(view: &ViewState, snap: &Snapshot) -> Vec<u64> {
        view.order().iter().map(|&i| snap.sessions[i].id).collect()
    }

    #[test]
    fn every_column_sorts_both_ways_with_ties_by_id() {
        let snap = fixtures::snapshot(200);
        let mut view = fixtures::view_state();
        for col in Column::ALL {
            for descending in [false, true] {
                view.sort = col;
                view.descending = descending;
                view.sync(&snap);
                let order = view.order().to_vec();
                assert_eq!(order.len(), 200);
                for w in order.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    let (ka, kb) = if col == Column::Ext {
                        (
                            format::ext_short(&snap.sessions[a]).into_owned(),
                            format::ext_short(&snap.sessions[b]).into_owned(),
                        )
                    } else {
                        (
                            format!("{:020}", sort_key(&snap, a, col)),
                            format!("{:020}", sort_key(&snap, b, col)),
                        )
                    };
                    let ok = if descending { ka >= kb } else { ka <= kb };
                    assert!(ok, "{col:?} desc={descending}: {ka} then {kb}");
                    if ka == kb {
                        assert!(
                            snap.sessions[a].id < snap.sessions[b].id,
                            "{col:?}: ties by id"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn uptime_sort_puts_longest_first_when_descending() {
        let snap = fixtures::snapshot(20);
        let mut view = fixtures::view_state();
        view.sort = Column::Uptime;
        view.descending = true;
        view.sync(&snap);
        let first = &snap.sessions[view.order()[0]];
        let best = snap
            .sessions
            .iter()
            .filter_map(|s| format::uptime_ms(s, snap.now))
            .max();
        assert_eq!(format::uptime_ms(first, snap.now), best);
    }

    #[test]
    fn order_is_cached_until_something_changes() {
        let snap = fixtures::snapshot(50);
        let mut view = fixtures::view_state();
        view.sort = Column::Rtt;
        view.sync(&snap);
        let first = view.order().as_ptr();
        view.sync(&snap);
        assert_eq!(first, view.order().as_ptr(), "same generation: not rebuilt");
        let mut next = snap.clone();
        next.generation += 1;
        view.sync(&next);
        assert_eq!(view.order().len(), 50);
    }

    #[test]
    fn filters_combine_and_selection_follows_the_id() {
        let snap = fixtures::snapshot(40);
        let mut view = fixtures::view_state();
        view.sync(&snap);
        view.select_position(&snap, 16); // s17, waiting after 1013
        assert_eq!(view.selected, Some(17));
        view.state_filter = Some(SessionState::Waiting);
        view.outcome_filter = Some(OutcomeFilter::Code(1013));
        view.sync(&snap);
        let got = ids(&view, &snap);
        assert!(got.iter().all(|id| {
            let s = &snap.sessions[snap.index_of(*id).expect("listed")];
            s.state == SessionState::Waiting && s.last_close.as_ref().map(|c| c.code) == Some(1013)
        }));
        assert_eq!(view.selected, Some(17));
        assert_eq!(got[view.cursor], 17);
        view.filter = "s17".to_string();
        view.sync(&snap);
        assert_eq!(ids(&view, &snap), vec![17]);
        view.filter = "NO SUCH THING".to_string();
        view.sync(&snap);
        assert!(view.order().is_empty());
        assert_eq!(view.selected, None);
    }

    #[test]
    fn text_filter_matches_what_the_last_close_column_shows() {
        let snap = fixtures::snapshot(40);
        let mut view = fixtures::view_state();
        // A failed upgrade: the column shows "HTTP 503" (the pending retry is newer).
        for needle in ["503", "HTTP 503", "http"] {
            view.filter = needle.to_string();
            view.sync(&snap);
            assert_eq!(ids(&view, &snap), vec![9, 29], "{needle}");
        }
        view.filter = "try again".to_string();
        view.sync(&snap);
        assert_eq!(ids(&view, &snap).len(), 12);
    }

    #[test]
    fn start_up_selection_stays_on_the_first_row_until_the_user_moves() {
        let full = fixtures::snapshot(20);
        // Sessions announce themselves in any order: the first snapshot may list only s20.
        let mut partial = full.clone();
        partial.sessions = vec![full.sessions[19].clone()];
        partial.counters = vec![full.counters[19]];
        partial.generation = 1;
        let mut view = fixtures::view_state();
        view.sync(&partial);
        assert_eq!(view.selected, Some(20));
        view.sync(&full);
        assert_eq!(
            (view.cursor, view.selected),
            (0, Some(1)),
            "first row, not s20"
        );
        // Once the user picks a row, it follows that session through re-sorts.
        view.select_position(&full, 5);
        assert_eq!(view.selected, Some(6));
        view.descending = true;
        view.sync(&full);
        assert_eq!(view.selected, Some(6));
        assert_eq!(view.cursor, 14);
    }

    #[test]
    fn outcome_filter_cycles_through_what_last_close_shows() {
        let snap = fixtures::snapshot(20);
        let mut c = None;
        let mut seen = Vec::new();
        for _ in 0..6 {
            c = next_outcome_filter(c, &snap);
            seen.push(c);
        }
        assert_eq!(
            seen,
            vec![
                Some(OutcomeFilter::Code(1006)),
                Some(OutcomeFilter::Code(1010)),
                Some(OutcomeFilter::Code(1013)),
                Some(OutcomeFilter::Status(503)),
                None,
                Some(OutcomeFilter::Code(1006)),
            ]
        );
        // Each value keeps exactly the rows whose LAST CLOSE shows it.
        let mut view = fixtures::view_state();
        view.outcome_filter = Some(OutcomeFilter::Status(503));
        view.sync(&snap);
        assert_eq!(ids(&view, &snap), vec![9]);
    }

    #[test]
    fn state_filter_cycles_through_states_present() {
        let snap = fixtures::snapshot(20);
        let mut c = None;
        let mut seen = Vec::new();
        for _ in 0..5 {
            c = next_state_filter(c, &snap);
            seen.push(c);
        }
        // No session is handshaking, closing or gave up: those are skipped.
        assert_eq!(
            seen,
            vec![
                Some(SessionState::Connecting),
                Some(SessionState::Open),
                Some(SessionState::Closed),
                Some(SessionState::Waiting),
                None,
            ]
        );
    }
}
