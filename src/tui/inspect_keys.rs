//! The message inspector's keys: opening the Messages view, moving in it (following the newest
//! until the operator moves), its filters and pause, the entry view's folding and scrolling,
//! and the search across sessions. Part of [`App`]'s input handling; no I/O. The logs are read
//! under their lock one session at a time (the search copies handles, then matches unlocked).

use ratatui::layout::Rect;

use crate::state::messages::MessageLog;
use crate::state::snapshot::Snapshot;

use super::app::App;
use super::inspect::{self, Inspector, SEARCH_LIMIT, SearchView};
use super::keys::{Action, Mode};
use super::ui;
use super::view::{Prompt, PromptKind};

impl App {
    /// `M` (the selected session's messages) and `S` (a search), from the screens that have
    /// them.
    pub(super) fn on_open_inspector(&mut self, action: Action, shown: &Snapshot) -> bool {
        match action {
            Action::Messages => match self.view.selected_session(shown).map(|s| s.id) {
                Some(id) => {
                    self.view.search = None;
                    self.view.inspect = Some(Inspector::new(id));
                }
                None => self.view.set_error("no session selected"),
            },
            Action::SearchMessages => {
                let last = self
                    .view
                    .search
                    .as_ref()
                    .map(|s| s.pattern.clone())
                    .unwrap_or_default();
                self.open_prompt(PromptKind::Search, last);
            }
            _ => return false,
        }
        true
    }

    /// Keys of the Messages view, the entry view and the search results.
    pub(super) fn on_inspect_action(&mut self, action: Action, shown: &Snapshot) -> bool {
        if self.on_open_inspector(action, shown) {
            return true;
        }
        let page = isize::try_from(self.inspect_page()).unwrap_or(1);
        match action {
            Action::Up => self.inspect_scroll(shown, -1),
            Action::Down => self.inspect_scroll(shown, 1),
            Action::PageUp => self.inspect_scroll(shown, -page),
            Action::PageDown => self.inspect_scroll(shown, page),
            Action::Home => self.inspect_home(shown),
            Action::End => self.inspect_end(shown),
            Action::Open => self.inspect_open(shown),
            Action::Filter => {
                let current = self
                    .view
                    .inspect
                    .as_ref()
                    .and_then(|i| i.filter.regex.as_ref())
                    .map(|r| r.as_str().to_string())
                    .unwrap_or_default();
                self.open_prompt(PromptKind::MessageFilter, current);
            }
            Action::MsgDirection | Action::MsgOpcode | Action::MsgControl => {
                if let Some(i) = &mut self.view.inspect {
                    match action {
                        Action::MsgDirection => i.filter.next_dir(),
                        Action::MsgOpcode => i.filter.next_opcode(),
                        _ => i.filter.control = !i.filter.control,
                    }
                    i.top = 0;
                }
            }
            Action::MsgPause => self.inspect_pause(shown),
            Action::Fold | Action::Unfold => self.inspect_fold(action, shown),
            _ => return false,
        }
        true
    }

    /// Rows a page moves in the inspector's panes.
    fn inspect_page(&self) -> usize {
        let body = ui::areas(self.screen).body;
        match self.view.mode() {
            Mode::Search => ui::search::rows(body),
            Mode::Entry => ui::entry::body_height(body),
            _ => ui::messages::rows(body),
        }
        .max(1)
    }

    /// Up/Down, pages and the wheel in the inspector's panes.
    pub(super) fn inspect_scroll(&mut self, shown: &Snapshot, delta: isize) {
        match self.view.mode() {
            Mode::Search => {
                if let Some(s) = &mut self.view.search {
                    let n = s.found.hits.len();
                    s.cursor = s
                        .cursor
                        .saturating_add_signed(delta)
                        .min(n.saturating_sub(1));
                }
            }
            Mode::Entry => {
                let total = match &self.view.inspect {
                    Some(i) => ui::entry::total_lines(shown, &self.view, i, self.screen.width),
                    None => 0,
                };
                let height = ui::entry::body_height(ui::areas(self.screen).body);
                let max = total.saturating_sub(height);
                if let Some(i) = &mut self.view.inspect {
                    let now = usize::from(i.entry_scroll);
                    let next = now.saturating_add_signed(delta).min(max);
                    i.entry_scroll = u16::try_from(next).unwrap_or(u16::MAX);
                }
            }
            _ => self.with_log(shown, |i, log| i.move_by(log, delta)),
        }
    }

    /// Run `f` on the inspector and its session's log (under the log's lock).
    fn with_log(&mut self, shown: &Snapshot, f: impl FnOnce(&mut Inspector, &MessageLog)) {
        let Some(i) = &mut self.view.inspect else {
            return;
        };
        let logs = shown.messages.lock();
        if let Some(log) = logs.sessions.get(&i.session) {
            f(i, log);
        }
    }

    fn inspect_home(&mut self, shown: &Snapshot) {
        match self.view.mode() {
            Mode::Search => {
                if let Some(s) = &mut self.view.search {
                    s.cursor = 0;
                }
            }
            Mode::Entry => {
                if let Some(i) = &mut self.view.inspect {
                    i.entry_scroll = 0;
                }
            }
            _ => self.with_log(shown, |i, log| i.first(log)),
        }
    }

    /// End / G: the last row; in the Messages view, follow the newest again.
    fn inspect_end(&mut self, shown: &Snapshot) {
        match self.view.mode() {
            Mode::Search => {
                if let Some(s) = &mut self.view.search {
                    s.cursor = s.found.hits.len().saturating_sub(1);
                }
            }
            Mode::Entry => self.inspect_scroll(shown, isize::MAX / 2),
            _ => {
                if let Some(i) = &mut self.view.inspect {
                    i.selected = None;
                }
            }
        }
    }

    /// Enter: open the selected message; in the search results, go to the hit's session's
    /// Messages view at that message.
    fn inspect_open(&mut self, shown: &Snapshot) {
        if self.view.mode() == Mode::Search {
            let Some(hit) = self
                .view
                .search
                .as_ref()
                .and_then(|s| s.found.hits.get(s.cursor))
                .cloned()
            else {
                self.view.set_error("no message selected");
                return;
            };
            let kept = shown
                .messages
                .lock()
                .sessions
                .get(&hit.session)
                .is_some_and(|l| l.entries().iter().any(|e| e.seq == hit.seq));
            self.view.inspect = Some(Inspector::at(hit.session, hit.seq));
            if kept {
                self.view.set_status(format!(
                    "s{} message #{} (Esc: back to the results)",
                    hit.session, hit.seq
                ));
            } else {
                self.view.set_error(format!(
                    "s{} message #{} is no longer kept: showing the nearest newer one",
                    hit.session, hit.seq
                ));
            }
            return;
        }
        let mut seq = None;
        self.with_log(shown, |i, log| seq = i.selected_seq(log));
        match (seq, &mut self.view.inspect) {
            (Some(seq), Some(i)) => {
                i.entry = Some(seq);
                i.entry_scroll = 0;
                i.fold = None;
            }
            _ => self.view.set_error("no message to open"),
        }
    }

    /// `p`: the view stops at what was logged so far; `p` again catches up.
    fn inspect_pause(&mut self, shown: &Snapshot) {
        let mut logged = 0;
        self.with_log(shown, |_, log| logged = log.logged());
        let Some(i) = &mut self.view.inspect else {
            return;
        };
        if i.paused_at.take().is_some() {
            self.view.set_status("messages view live again");
        } else {
            // Stay on what is on screen: following would jump when resumed.
            i.paused_at = Some(logged);
            self.view
                .set_status("messages view paused; logging goes on (p: resume)");
        }
    }

    /// `-`/Left folds the deepest JSON level shown, `+`/Right unfolds one more.
    fn inspect_fold(&mut self, action: Action, shown: &Snapshot) {
        let Some(i) = &self.view.inspect else {
            return;
        };
        let Some(seq) = i.entry else {
            return;
        };
        let depth = shown
            .messages
            .lock()
            .sessions
            .get(&i.session)
            .and_then(|l| l.entries().iter().find(|e| e.seq == seq).cloned())
            .filter(|e| {
                e.record.payload.len() <= ui::entry::PRETTY_LIMIT
                    && ui::entry::is_json(&e.record.payload)
            })
            .map(|e| ui::entry::json_depth(&e.record.payload));
        let Some(depth) = depth else {
            self.view.set_error("only JSON folds");
            return;
        };
        let Some(i) = &mut self.view.inspect else {
            return;
        };
        i.fold = match (action, i.fold) {
            (Action::Fold, None) => Some(depth.saturating_sub(1)),
            (Action::Fold, Some(f)) => Some(f.saturating_sub(1)),
            (_, Some(f)) if f + 1 < depth => Some(f + 1),
            _ => None,
        };
        i.entry_scroll = 0;
        let text = match i.fold {
            None => "every level unfolded".to_string(),
            Some(0) => "folded to the top".to_string(),
            Some(f) => format!("{f} of {depth} levels unfolded"),
        };
        self.view.set_status(text);
    }

    /// The answer to the search or the payload filter prompt. Returns false for other prompts.
    pub(super) fn submit_inspect(&mut self, p: &Prompt, shown: &Snapshot) -> bool {
        let input = p.input.trim();
        match p.kind {
            PromptKind::MessageFilter => {
                let regex = if input.is_empty() {
                    None
                } else {
                    match inspect::compile(input) {
                        Ok(re) => Some(re),
                        Err(e) => {
                            self.view.set_error(e);
                            return true;
                        }
                    }
                };
                if let Some(i) = &mut self.view.inspect {
                    i.filter.regex = regex;
                    i.top = 0;
                }
            }
            PromptKind::Search => {
                if input.is_empty() {
                    self.view.set_error("give a regex to search for");
                    return true;
                }
                match inspect::compile(input) {
                    Ok(re) => {
                        let found = inspect::search(&shown.messages, &re, SEARCH_LIMIT);
                        self.view.inspect = None;
                        self.view.search = Some(SearchView {
                            pattern: input.to_string(),
                            found,
                            cursor: 0,
                            offset: 0,
                        });
                    }
                    Err(e) => self.view.set_error(e),
                }
            }
            _ => return false,
        }
        true
    }

    /// Keep the selected message and search hit in view. Called before drawing.
    pub(super) fn prepare_inspect(&mut self, shown: &Snapshot, screen: Rect) {
        let body = ui::areas(screen).body;
        if let Some(s) = &mut self.view.search {
            s.offset = ui::table::window(
                s.offset,
                s.cursor,
                ui::search::rows(body),
                s.found.hits.len(),
            );
        }
        let rows = ui::messages::rows(body);
        self.with_log(shown, |i, log| {
            if i.selected.is_none() {
                return;
            }
            let list = i.shown(log);
            let start = ui::messages::start(i, log, &list, rows);
            if let Some(e) = list.get(start).and_then(|&p| log.entries().get(p)) {
                i.top = e.seq;
            }
        });
    }

    /// Esc in the inspector: the entry, then the Messages view, then the search results.
    pub(super) fn inspect_back(&mut self) -> bool {
        let v = &mut self.view;
        if let Some(i) = &mut v.inspect {
            if i.entry.take().is_none() {
                v.inspect = None;
            }
        } else if v.search.take().is_none() {
            return false;
        }
        true
    }
}
