//! View state: what the user is looking at (tab, selection by session id, scroll, sort, filters,
//! frozen snapshot, prompt input, status message). The filtered and sorted order of sessions is
//! cached here and recomputed only when the snapshot, the sort or a filter changes.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Offset as _, Utc};

use crate::codes::{Lang, Registry};
use crate::engine::events::{Command, SessionId, SessionState};
use crate::state::snapshot::{SessionView, Snapshot};

use super::columns;
pub use super::columns::Column;
use super::keys::{KeyMap, Mode, Selection};
use super::order::{OrderKey, compute_order};
pub use super::order::{OutcomeFilter, last_outcome, next_outcome_filter, next_state_filter};
pub use super::prompt::{Prompt, PromptKind};

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

/// What the explain view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExplainTarget {
    One(u16),
    Compare(u16, u16),
    /// An HTTP status that answered an upgrade.
    Http(u16),
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
    pub targets: super::targets::TargetsState,
    /// Replaying a recorded log: the recording and the time cursor's state.
    pub replay: Option<super::replay::ReplayView>,
    /// The Messages view (and the entry open in it), over whatever else is shown.
    pub inspect: Option<super::inspect::Inspector>,
    /// The search results across sessions (`S`).
    pub search: Option<super::inspect::SearchView>,
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
            hidden: Column::OFF_BY_DEFAULT.to_vec(),
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
            targets: super::targets::TargetsState::default(),
            replay: None,
            inspect: None,
            search: None,
            order: Vec::new(),
            order_key: None,
        }
    }

    /// What the table's column layout needs from the view.
    pub fn column_prefs(&self) -> columns::ColumnPrefs<'_> {
        columns::ColumnPrefs {
            pinned: &self.pinned,
            hidden: &self.hidden,
            marks: !self.marked.is_empty(),
            times: self.table_times,
        }
    }

    /// The chooser's toggle: a shown column is turned off; a hidden one is turned on and pinned,
    /// so it gets room before the unpinned ones. ID and STATE always stay.
    pub fn toggle_column(&mut self, col: Column, snap: &Snapshot, width: u16) {
        if matches!(col, Column::Id | Column::State) {
            self.set_error(format!("{} always stays", col.title()));
            return;
        }
        let shown = columns::columns(width, snap, &self.column_prefs())
            .iter()
            .any(|(c, _)| *c == col);
        if shown {
            self.pinned.retain(|c| *c != col);
            self.hidden.push(col);
            self.set_status(format!("{} off", col.title()));
        } else {
            self.hidden.retain(|c| *c != col);
            self.pinned.retain(|c| *c != col);
            self.pinned.push(col);
            self.set_status(format!("{} on", col.title()));
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
        } else if let Some(i) = &self.inspect {
            if i.entry.is_some() {
                Mode::Entry
            } else {
                Mode::Messages
            }
        } else if self.search.is_some() {
            Mode::Search
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
