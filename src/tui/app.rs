//! Input handling: key and mouse events change the view state and produce commands. No I/O here:
//! the loop in `mod.rs` sends the commands and draws.

use std::sync::Arc;

use crossterm::event::{Event, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use crate::engine::events::Notice;
use crate::runtime::Request;
use crate::state::snapshot::Snapshot;

use super::keys::{self, Action, Mode};
use super::replay;
use super::targets;
use super::ui;
use super::view::{
    Clock, ExplainTarget, Prompt, PromptKind, Tab, ViewState, next_outcome_filter,
    next_state_filter,
};

/// Rows moved by one wheel notch.
const WHEEL_ROWS: isize = 3;

/// What the loop should do after an event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// The screen changed and needs a redraw.
    pub redraw: bool,
    /// Requests to send to the runtime (engine commands, or the time cursor's), in order.
    pub commands: Vec<Request>,
    /// The user asked to quit (`Command::Shutdown` is in `commands`).
    pub quit: bool,
}

impl Outcome {
    fn redraw() -> Outcome {
        Outcome {
            redraw: true,
            ..Outcome::default()
        }
    }
}

/// The view state plus what input handling needs to remember.
#[derive(Debug)]
pub struct App {
    pub view: ViewState,
    /// The screen size at the last draw (for page sizes and mouse hit tests).
    pub screen: Rect,
}

impl App {
    pub fn new(view: ViewState) -> App {
        App {
            view,
            screen: Rect::default(),
        }
    }

    /// Rows of the table on screen (the page size).
    pub fn page_rows(&self) -> usize {
        let body = ui::areas(self.screen).body;
        usize::from(ui::table::rows_area(body).height).max(1)
    }

    /// Sync the cached order with what is shown and keep the cursor in view. Call before drawing.
    pub fn prepare(&mut self, shown: &Snapshot, screen: Rect) {
        self.screen = screen;
        self.view.sync(shown);
        let rows = usize::from(ui::table::rows_area(ui::areas(screen).body).height);
        self.view.offset = ui::table::window(
            self.view.offset,
            self.view.cursor,
            rows,
            self.view.order().len(),
        );
        self.prepare_inspect(shown, screen);
    }

    /// A new snapshot arrived.
    pub fn on_snapshot(&mut self, latest: &Snapshot) -> Outcome {
        // Replay: the driver stops by itself at the end of the recording.
        if let Some(r) = self.view.replay.as_mut() {
            r.at = latest.now;
            if latest.now >= r.end {
                r.playing = false;
            }
        }
        Outcome {
            redraw: self.view.frozen.is_none(),
            ..Outcome::default()
        }
    }

    /// A notice from the engine arrived: show it in the status line. The export writer's
    /// answer to `e` ("export flushed (N events written)") gets the file's path added.
    pub fn on_notice(&mut self, notice: &Notice, latest: &Snapshot) -> Outcome {
        let text = notice.to_string();
        let text = super::format::safe(&text).into_owned();
        if notice.is_error() {
            self.view.set_error(text);
        } else if let (Notice::ExportFlushed { .. }, Some(path)) = (notice, &latest.export_path) {
            self.view.set_status(format!("{text}: {path}"));
        } else {
            self.view.set_status(text);
        }
        Outcome::redraw()
    }

    /// Handle one terminal event. `latest` is the newest snapshot (commands act on live data
    /// even while the display is frozen).
    pub fn on_event(&mut self, ev: &Event, latest: &Arc<Snapshot>) -> Outcome {
        let shown = self.view.shown(latest).clone();
        self.view.sync(&shown);
        match ev {
            Event::Key(k) if k.kind == KeyEventKind::Press => {
                match keys::action_for(*k, self.view.mode(), &self.view.keys) {
                    Some(a) => self.on_action(a, &shown, latest),
                    None => Outcome::default(),
                }
            }
            Event::Mouse(m) => self.on_mouse(m, &shown),
            Event::Resize(..) => Outcome::redraw(),
            _ => Outcome::default(),
        }
    }

    fn scroll(&mut self, shown: &Snapshot, delta: isize) {
        let field = match self.view.mode() {
            Mode::Sessions => {
                self.view.move_cursor(shown, delta);
                return;
            }
            Mode::Detail => &mut self.view.detail_scroll,
            Mode::Explain => &mut self.view.explain_scroll,
            Mode::Help => &mut self.view.help_scroll,
            Mode::Targets => {
                let n = targets::order(shown, &self.view.targets).len();
                self.view.targets.move_cursor(n, delta);
                return;
            }
            Mode::Log => {
                // Up goes back in time: the offset counts lines from the newest.
                let d = i32::try_from(-delta).unwrap_or(0);
                let max = ui::log::max_scroll(shown, &self.view, self.screen);
                self.view.log_scroll =
                    u16::try_from((i32::from(self.view.log_scroll) + d).clamp(0, i32::from(max)))
                        .unwrap_or(0);
                return;
            }
            Mode::Columns => {
                let n = crate::tui::view::Column::ALL.len();
                if let Some(c) = &mut self.view.chooser {
                    *c = c.saturating_add_signed(delta).min(n - 1);
                }
                return;
            }
            Mode::Messages | Mode::Entry | Mode::Search => {
                self.inspect_scroll(shown, delta);
                return;
            }
            Mode::Storm | Mode::Prompt | Mode::Confirm => return,
        };
        let d = i32::try_from(delta).unwrap_or(0);
        *field = u16::try_from((i32::from(*field) + d).max(0)).unwrap_or(u16::MAX);
        let (detail, explain, help) = ui::max_scroll(shown, &self.view, self.screen);
        let v = &mut self.view;
        v.detail_scroll = v.detail_scroll.min(detail);
        v.explain_scroll = v.explain_scroll.min(explain);
        v.help_scroll = v.help_scroll.min(help);
    }

    fn on_mouse(&mut self, m: &MouseEvent, shown: &Snapshot) -> Outcome {
        let title = ui::areas(self.screen).title;
        if m.kind == MouseEventKind::Down(MouseButton::Left)
            && m.row == title.y
            && title.height > 0
            && self.view.prompt.is_none()
        {
            return match ui::header::tab_at(
                shown,
                &self.view,
                title.width,
                m.column.saturating_sub(title.x),
            ) {
                Some(tab) => {
                    self.view.tab = tab;
                    self.view.explain = None;
                    self.view.help = false;
                    Outcome::redraw()
                }
                None => Outcome::default(),
            };
        }
        match m.kind {
            MouseEventKind::ScrollDown => self.scroll(shown, WHEEL_ROWS),
            MouseEventKind::ScrollUp => self.scroll(shown, -WHEEL_ROWS),
            MouseEventKind::Down(MouseButton::Left) if self.view.mode() == Mode::Sessions => {
                let body = ui::areas(self.screen).body;
                match ui::table::hit(body, m.column, m.row, shown, &self.view) {
                    Some(ui::table::Hit::Header(col)) => {
                        if self.view.sort == col {
                            self.view.descending = !self.view.descending;
                        } else {
                            self.view.sort = col;
                            self.view.descending = false;
                        }
                    }
                    Some(ui::table::Hit::Row(pos)) => self.view.select_position(shown, pos),
                    None => return Outcome::default(),
                }
            }
            _ => return Outcome::default(),
        }
        Outcome::redraw()
    }

    pub(super) fn open_prompt(&mut self, kind: PromptKind, input: String) {
        self.view.prompt = Some(Prompt { kind, input });
    }

    /// One action: the time cursor's keys in replay, then the keys of the mode on screen
    /// (prompt, confirmation, column chooser, Targets tab), then moving, the view's own keys,
    /// and last the keys that send commands.
    fn on_action(&mut self, action: Action, shown: &Snapshot, latest: &Arc<Snapshot>) -> Outcome {
        let mut out = Outcome::redraw();
        if self.view.replay.is_some() && self.on_replay_action(action, shown, &mut out.commands) {
            return out;
        }
        let handled = match self.view.mode() {
            Mode::Prompt => self.on_prompt_action(action, shown, &mut out),
            Mode::Confirm => self.on_confirm_action(action, &mut out),
            Mode::Columns => self.on_columns_action(action, shown),
            Mode::Targets => self.on_targets_action(action, shown),
            Mode::Messages | Mode::Entry | Mode::Search => self.on_inspect_action(action, shown),
            _ => false,
        };
        if handled
            || self.on_move_action(action, shown)
            || self.on_view_action(action, shown, latest)
        {
            return out;
        }
        if !self.on_session_action(action, latest, &mut out) {
            // Nothing this action does here (a replay key outside replay, a prompt key with no
            // prompt): no redraw.
            return Outcome::default();
        }
        out
    }

    /// Replay: keys that would send something are refused; the time cursor keys go to the
    /// replay driver. Returns false for the other keys.
    fn on_replay_action(
        &mut self,
        action: Action,
        shown: &Snapshot,
        commands: &mut Vec<Request>,
    ) -> bool {
        if replay::sends_commands(action) {
            self.view.set_error(replay::REFUSED);
            return true;
        }
        let Some(reply) = self
            .view
            .replay
            .as_mut()
            .and_then(|r| replay::on_action(r, action, shown, commands))
        else {
            return false;
        };
        match reply {
            replay::Reply::Done => {}
            replay::Reply::Said(text) => self.view.set_status(text),
            replay::Reply::Failed(text) => self.view.set_error(text),
            replay::Reply::Ask(kind) => self.open_prompt(kind, String::new()),
        }
        true
    }

    /// Editing a prompt: typed characters, Backspace, Esc, Enter.
    fn on_prompt_action(&mut self, action: Action, shown: &Snapshot, out: &mut Outcome) -> bool {
        match action {
            Action::Input(c) => {
                if let Some(p) = &mut self.view.prompt
                    && p.input.len() < 1024
                {
                    p.input.push(c);
                }
            }
            Action::Backspace => {
                if let Some(p) = &mut self.view.prompt {
                    p.input.pop();
                }
            }
            Action::Cancel => self.view.prompt = None,
            Action::Submit => {
                if let Some(p) = self.view.prompt.take()
                    && !self.submit_inspect(&p, shown)
                {
                    self.submit(p, out);
                }
            }
            _ => return false,
        }
        true
    }

    /// A question on several sessions: y sends, n cancels.
    fn on_confirm_action(&mut self, action: Action, out: &mut Outcome) -> bool {
        match action {
            Action::Yes => {
                if let Some(c) = self.view.confirm.take() {
                    self.view.set_status(c.done);
                    out.commands
                        .extend(c.commands.into_iter().map(Request::from));
                }
            }
            Action::No => {
                if self.view.confirm.take().is_some() {
                    self.view.set_status("cancelled: nothing sent");
                }
            }
            _ => return false,
        }
        true
    }

    /// The column chooser: Space shows or hides the column under the cursor.
    fn on_columns_action(&mut self, action: Action, shown: &Snapshot) -> bool {
        match action {
            Action::Toggle => {
                if let Some(i) = self.view.chooser {
                    let col = crate::tui::view::Column::ALL[i];
                    self.view.toggle_column(col, shown, self.screen.width);
                }
                true
            }
            _ => false,
        }
    }

    /// Moving the cursor or scrolling the pane on screen.
    fn on_move_action(&mut self, action: Action, shown: &Snapshot) -> bool {
        let page = isize::try_from(self.page_rows_for(shown)).unwrap_or(1);
        match action {
            Action::Up => self.scroll(shown, -1),
            Action::Down => self.scroll(shown, 1),
            Action::PageUp => self.scroll(shown, -page),
            Action::PageDown => self.scroll(shown, page),
            Action::Home => match self.view.mode() {
                Mode::Sessions => self.view.select_position(shown, 0),
                _ => self.scroll(shown, -65_535isize),
            },
            Action::End => match self.view.mode() {
                Mode::Sessions => self.view.select_position(shown, usize::MAX),
                _ => self.scroll(shown, 65_535isize),
            },
            _ => return false,
        }
        true
    }

    /// Esc: close the innermost overlay or view; on the main screen clear the filters, then
    /// the marks. Returns false when there is nothing to go back from.
    fn back(&mut self) -> bool {
        let v = &mut self.view;
        if v.chooser.is_some() {
            v.chooser = None;
        } else if v.help {
            v.help = false;
        } else if v.explain.is_some() {
            v.explain = None;
        } else if v.inspect.is_some() || v.search.is_some() {
            return self.inspect_back();
        } else if v.tab != Tab::Sessions {
            v.tab = Tab::Sessions;
        } else if v.detail.is_some() {
            v.detail = None;
        } else if v.filtered() {
            v.clear_filters();
            v.set_status("filters cleared");
        } else if !v.marked.is_empty() {
            let n = v.marked.len();
            v.marked.clear();
            v.set_status(format!("{n} marks cleared"));
        } else {
            return false;
        }
        true
    }

    /// The view's own keys: overlays, tabs, marks, sorting, filters, clocks, freezing. They
    /// send nothing.
    fn on_view_action(&mut self, action: Action, shown: &Snapshot, latest: &Arc<Snapshot>) -> bool {
        let v = &mut self.view;
        match action {
            Action::Help => {
                v.help = !v.help;
                v.help_scroll = 0;
            }
            Action::Back => return self.back(),
            Action::NextTab => {
                v.tab = v.tab.next();
                v.log_scroll = 0;
            }
            Action::Mark => {
                if let Some(id) = v.selected {
                    if !v.marked.remove(&id) {
                        v.marked.insert(id);
                    }
                    v.move_cursor(shown, 1);
                }
            }
            Action::MarkAll => self.mark_all(shown),
            Action::Columns => v.chooser = Some(0),
            Action::Clock => {
                v.clock = match v.clock {
                    Clock::Utc => Clock::Local,
                    Clock::Local => Clock::Utc,
                };
                v.set_status(format!("times are now in {}", v.zone()));
            }
            Action::TableTimes => {
                v.table_times = !v.table_times;
                v.set_status(if v.table_times {
                    format!("table: when each state began ({})", v.zone())
                } else {
                    "table: ages".to_string()
                });
            }
            Action::Open => match v.selected {
                Some(id) => {
                    v.detail = Some(id);
                    v.detail_scroll = 0;
                }
                None => v.set_error("no session selected"),
            },
            Action::SortNext => {
                v.sort = v.sort.next();
                v.descending = false;
            }
            Action::SortPrev => {
                v.sort = v.sort.prev();
                v.descending = false;
            }
            Action::SortReverse => v.descending = !v.descending,
            Action::Filter => {
                let current = v.filter.clone();
                self.open_prompt(PromptKind::Filter, current);
            }
            Action::StateFilter => {
                v.state_filter = next_state_filter(v.state_filter, shown);
                v.cursor = 0;
            }
            Action::CodeFilter => {
                v.outcome_filter = next_outcome_filter(v.outcome_filter, shown);
                v.cursor = 0;
            }
            Action::Explain => self.explain(shown),
            Action::Messages | Action::SearchMessages => {
                return self.on_open_inspector(action, shown);
            }
            Action::Compare => {
                if let Some(ExplainTarget::One(a) | ExplainTarget::Compare(a, _)) = v.explain {
                    self.open_prompt(PromptKind::Compare(a), String::new());
                }
            }
            Action::Freeze => {
                if v.frozen.take().is_some() {
                    v.set_status("display live again");
                } else {
                    v.frozen = Some(latest.clone());
                    v.set_status("display frozen; data keeps flowing (f: live again)");
                }
            }
            _ => return false,
        }
        true
    }

    /// `m`: mark every session shown, or unmark them all when they all are.
    fn mark_all(&mut self, shown: &Snapshot) {
        let v = &mut self.view;
        let ids = v.shown_ids(shown);
        if !ids.is_empty() && ids.iter().all(|id| v.marked.contains(id)) {
            let n = v.marked.len();
            v.marked.clear();
            v.set_status(format!("{n} marks cleared"));
        } else {
            v.marked.extend(ids.iter().copied());
            v.set_status(format!(
                "{} sessions marked (c, r, p act on them; m again or Esc clears)",
                v.marked.len()
            ));
        }
    }

    /// `x`: explain what ended the selected session's last attempt (an HTTP status, else the
    /// last close); without one, or inside the explanation, ask for a code.
    fn explain(&mut self, shown: &Snapshot) {
        let target = match self.view.mode() {
            Mode::Explain => None,
            _ => self.view.selected_session(shown).and_then(|s| {
                let last = s.timeline.iter().rev().find_map(|r| r.outcome);
                match last {
                    Some(crate::state::snapshot::AttemptOutcome::Status { status }) => {
                        Some(ExplainTarget::Http(status))
                    }
                    _ => s.last_close.as_ref().map(|c| ExplainTarget::One(c.code)),
                }
            }),
        };
        match target {
            Some(target) => {
                self.view.explain = Some(target);
                self.view.explain_scroll = 0;
            }
            None => self.open_prompt(PromptKind::Explain, String::new()),
        }
    }

    /// Keys of the Targets tab: sort, move, Enter shows the target's sessions. Returns false
    /// for keys it leaves to the common handling.
    fn on_targets_action(&mut self, action: Action, shown: &Snapshot) -> bool {
        let t = &mut self.view.targets;
        match action {
            Action::SortNext => {
                t.sort = t.sort.next();
                t.descending = false;
            }
            Action::SortPrev => {
                t.sort = t.sort.prev();
                t.descending = false;
            }
            Action::SortReverse => t.descending = !t.descending,
            Action::Home => t.cursor = 0,
            Action::End => t.cursor = usize::MAX,
            Action::Open => match targets::selected(shown, &self.view.targets) {
                Some(target) => {
                    self.view.target_filter = Some(target);
                    self.view.tab = Tab::Sessions;
                    self.view.detail = None;
                    self.view.cursor = 0;
                    let url = shown.targets.get(target).map_or("", |v| v.url.as_str());
                    self.view.set_status(format!(
                        "sessions of target #{target} {url} (Esc: every target)"
                    ));
                }
                None => self.view.set_error("no target selected"),
            },
            _ => return false,
        }
        true
    }

    fn page_rows_for(&self, _shown: &Snapshot) -> usize {
        match self.view.mode() {
            Mode::Sessions => self.page_rows(),
            _ => usize::from(ui::areas(self.screen).body.height.saturating_sub(2)).max(1),
        }
    }
}
