//! Input handling: key and mouse events change the view state and produce commands. No I/O here:
//! the loop in `mod.rs` sends the commands and draws.

use std::sync::Arc;

use crossterm::event::{Event, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use crate::engine::events::{Command, Notice, SessionId, SessionState};
use crate::runtime::Request;
use crate::state::snapshot::Snapshot;

use super::keys::{self, Action, Mode};
use super::prompt;
use super::replay;
use super::ui;
use super::view::{
    Clock, Confirm, ExplainTarget, Prompt, PromptKind, Tab, ViewState, next_outcome_filter,
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
        let text = ui::detail::safe(&text).into_owned();
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
                let n = ui::targets::order(shown, &self.view.targets).len();
                let t = &mut self.view.targets;
                t.cursor = t
                    .cursor
                    .min(n.saturating_sub(1))
                    .saturating_add_signed(delta)
                    .min(n.saturating_sub(1));
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
            return match ui::header::tab_at(&self.view, m.column.saturating_sub(title.x)) {
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

    fn open_prompt(&mut self, kind: PromptKind, input: String) {
        self.view.prompt = Some(Prompt { kind, input });
    }

    fn on_action(&mut self, action: Action, shown: &Snapshot, latest: &Arc<Snapshot>) -> Outcome {
        let mut out = Outcome::redraw();
        let page = isize::try_from(self.page_rows_for(shown)).unwrap_or(1);
        if self.view.replay.is_some() {
            // A recording: nothing reconnects or sends.
            if replay::sends_commands(action) {
                self.view.set_error(replay::REFUSED);
                return out;
            }
            if replay::on_action(&mut self.view, action, shown, &mut out.commands) {
                return out;
            }
        }
        if self.view.mode() == Mode::Targets && self.on_targets_action(action, shown) {
            return out;
        }
        match action {
            Action::Quit => {
                out.quit = true;
                out.commands.push(Command::Shutdown.into());
            }
            Action::Help => {
                self.view.help = !self.view.help;
                self.view.help_scroll = 0;
            }
            Action::Back => {
                if self.view.chooser.is_some() {
                    self.view.chooser = None;
                } else if self.view.help {
                    self.view.help = false;
                } else if self.view.explain.is_some() {
                    self.view.explain = None;
                } else if self.view.tab != Tab::Sessions {
                    self.view.tab = Tab::Sessions;
                } else if self.view.detail.is_some() {
                    self.view.detail = None;
                } else if self.view.filtered() {
                    self.view.clear_filters();
                    self.view.set_status("filters cleared");
                } else if !self.view.marked.is_empty() {
                    let n = self.view.marked.len();
                    self.view.marked.clear();
                    self.view.set_status(format!("{n} marks cleared"));
                } else {
                    return Outcome::default();
                }
            }
            Action::NextTab => {
                self.view.tab = self.view.tab.next();
                self.view.log_scroll = 0;
            }
            Action::Mark => {
                if let Some(id) = self.view.selected {
                    if !self.view.marked.remove(&id) {
                        self.view.marked.insert(id);
                    }
                    self.view.move_cursor(shown, 1);
                }
            }
            Action::MarkAll => {
                let ids = self.view.shown_ids(shown);
                if !ids.is_empty() && ids.iter().all(|id| self.view.marked.contains(id)) {
                    let n = self.view.marked.len();
                    self.view.marked.clear();
                    self.view.set_status(format!("{n} marks cleared"));
                } else {
                    self.view.marked.extend(ids.iter().copied());
                    self.view.set_status(format!(
                        "{} sessions marked (c, r, p act on them; m again or Esc clears)",
                        self.view.marked.len()
                    ));
                }
            }
            Action::Columns => self.view.chooser = Some(0),
            Action::Toggle => {
                if let Some(i) = self.view.chooser {
                    let col = crate::tui::view::Column::ALL[i];
                    ui::table::toggle_column(&mut self.view, col, shown, self.screen.width);
                }
            }
            Action::Clock => {
                self.view.clock = match self.view.clock {
                    Clock::Utc => Clock::Local,
                    Clock::Local => Clock::Utc,
                };
                self.view
                    .set_status(format!("times are now in {}", self.view.zone()));
            }
            Action::TableTimes => {
                self.view.table_times = !self.view.table_times;
                self.view.set_status(if self.view.table_times {
                    format!("table: when each state began ({})", self.view.zone())
                } else {
                    "table: ages".to_string()
                });
            }
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
            Action::Open => match self.view.selected {
                Some(id) => {
                    self.view.detail = Some(id);
                    self.view.detail_scroll = 0;
                }
                None => self.view.set_error("no session selected"),
            },
            Action::SortNext => {
                self.view.sort = self.view.sort.next();
                self.view.descending = false;
            }
            Action::SortPrev => {
                self.view.sort = self.view.sort.prev();
                self.view.descending = false;
            }
            Action::SortReverse => self.view.descending = !self.view.descending,
            Action::Filter => {
                let current = self.view.filter.clone();
                self.open_prompt(PromptKind::Filter, current);
            }
            Action::StateFilter => {
                self.view.state_filter = next_state_filter(self.view.state_filter, shown);
                self.view.cursor = 0;
            }
            Action::CodeFilter => {
                self.view.outcome_filter = next_outcome_filter(self.view.outcome_filter, shown);
                self.view.cursor = 0;
            }
            Action::Explain => {
                let target = match self.view.mode() {
                    Mode::Explain => None,
                    _ => self.view.selected_session(shown).and_then(|s| {
                        // The last outcome decides: an HTTP status, else the last close.
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
            Action::Compare => {
                let first = match self.view.explain {
                    Some(ExplainTarget::One(a) | ExplainTarget::Compare(a, _)) => a,
                    Some(ExplainTarget::Http(_)) | None => return out,
                };
                self.open_prompt(PromptKind::Compare(first), String::new());
            }
            Action::Add => self.open_prompt(PromptKind::Add, String::new()),
            Action::Close => {
                let marked = self.view.live_marks(latest);
                match (marked.len(), self.view.selection(latest).session) {
                    (0, Some(id)) => self.open_prompt(PromptKind::Close(id), String::new()),
                    (0, None) => self.view.set_error("no session selected"),
                    (1, _) => self.open_prompt(PromptKind::Close(marked[0]), String::new()),
                    (n, _) => self.open_prompt(PromptKind::CloseMarked(n), String::new()),
                }
            }
            Action::Freeze => {
                if self.view.frozen.take().is_some() {
                    self.view.set_status("display live again");
                } else {
                    self.view.frozen = Some(latest.clone());
                    self.view
                        .set_status("display frozen; data keeps flowing (f: live again)");
                }
            }
            Action::Reconnect | Action::Pause if !self.view.live_marks(latest).is_empty() => {
                self.bulk(action, latest, &mut out);
            }
            Action::ReconnectAll => {
                let waiting: Vec<_> = latest
                    .sessions
                    .iter()
                    .filter(|s| s.state == SessionState::Waiting)
                    .map(|s| s.id)
                    .collect();
                match waiting.len() {
                    0 => self
                        .view
                        .set_error("no session is waiting: nothing to reconnect"),
                    n => {
                        self.view.confirm = Some(Confirm {
                            question: format!(
                                "reconnect the {n} waiting session{} now? open sessions are \
                                 not touched",
                                plural(n)
                            ),
                            commands: vec![Command::ReconnectNow { session: None }],
                            done: format!("reconnecting the {n} waiting session{} now", plural(n)),
                        });
                    }
                }
            }
            Action::Reconnect
            | Action::Pause
            | Action::PauseAll
            | Action::Grow
            | Action::Shrink
            | Action::Export => {
                let sel = self.view.selection(latest);
                match keys::command_for(action, &sel) {
                    Some(cmd) => {
                        self.view.set_status(describe(&cmd, latest));
                        out.commands.push(cmd.into());
                    }
                    None => self.view.set_error("no session selected"),
                }
            }
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
                if let Some(p) = self.view.prompt.take() {
                    self.submit(p, &mut out);
                }
            }
            // Time cursor keys outside replay (not bound there).
            Action::PlayPause
            | Action::SpeedX1
            | Action::SpeedX10
            | Action::SpeedX100
            | Action::SpeedMax
            | Action::StepBack
            | Action::StepForward
            | Action::StepBack10
            | Action::StepForward10
            | Action::StepBackMinute
            | Action::StepForwardMinute
            | Action::TimeStart
            | Action::TimeEnd
            | Action::NextClose
            | Action::RepeatNextClose
            | Action::NextBurst
            | Action::GotoTime => {}
        }
        out
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
            Action::Open => match ui::targets::selected(shown, &self.view.targets) {
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

    /// `r` or `p` on the marked sessions: one asks nothing, more ask for a yes with the count.
    fn bulk(&mut self, action: Action, latest: &Snapshot, out: &mut Outcome) {
        let ids = self.view.live_marks(latest);
        let paused = |id| {
            latest
                .index_of(id)
                .and_then(|i| latest.sessions.get(i))
                .is_some_and(|s| s.paused)
        };
        let (verb, commands): (&str, Vec<Command>) = match action {
            Action::Reconnect => (
                "reconnect",
                ids.iter()
                    .map(|&id| Command::ReconnectNow { session: Some(id) })
                    .collect(),
            ),
            _ => {
                // Pause them all unless every one is paused already: then resume them.
                let pause = !ids.iter().all(|&id| paused(id));
                (
                    if pause {
                        "pause the retries of"
                    } else {
                        "resume the retries of"
                    },
                    ids.iter()
                        .map(|&id| Command::SetPaused {
                            session: Some(id),
                            paused: pause,
                        })
                        .collect(),
                )
            }
        };
        let n = ids.len();
        let done = format!("sent: {verb} {n} marked session{}", plural(n));
        if n == 1 {
            self.view.set_status(done);
            out.commands.extend(commands.into_iter().map(Request::from));
        } else {
            self.view.confirm = Some(Confirm {
                question: format!("{verb} {n} marked sessions now?"),
                commands: vec![Command::Many(commands)],
                done,
            });
        }
    }

    fn page_rows_for(&self, _shown: &Snapshot) -> usize {
        match self.view.mode() {
            Mode::Sessions => self.page_rows(),
            _ => usize::from(ui::areas(self.screen).body.height.saturating_sub(2)).max(1),
        }
    }

    fn submit(&mut self, p: Prompt, out: &mut Outcome) {
        let v = &mut self.view;
        let input = p.input.trim();
        match p.kind {
            PromptKind::Filter => {
                if input.is_empty() {
                    v.target_filter = None;
                }
                v.filter = input.to_string();
                v.cursor = 0;
            }
            PromptKind::Add => match prompt::parse_add(input) {
                Ok(cmd) => {
                    if let Command::AddSessions { url, count } = &cmd {
                        v.set_status(format!(
                            "adding {count} session{} to {}",
                            if *count == 1 { "" } else { "s" },
                            crate::redact::url(url)
                        ));
                    }
                    out.commands.push(cmd.into());
                }
                Err(e) => v.set_error(e),
            },
            PromptKind::CloseMarked(_) => match prompt::parse_close(input, 0) {
                Ok(Command::Close { code, reason, .. }) => {
                    let ids: Vec<SessionId> = v.marked.iter().copied().collect();
                    let n = ids.len();
                    v.confirm = Some(Confirm {
                        question: format!("close {n} marked sessions with {code}?"),
                        commands: vec![Command::Many(
                            ids.into_iter()
                                .map(|session| Command::Close {
                                    session,
                                    code,
                                    reason: reason.clone(),
                                })
                                .collect(),
                        )],
                        done: format!("closing {n} marked sessions with {code}"),
                    });
                }
                Ok(_) => {}
                Err(e) => v.set_error(e),
            },
            PromptKind::Close(id) => match prompt::parse_close(input, id) {
                Ok(cmd) => {
                    if let Command::Close { code, .. } = &cmd {
                        v.set_status(format!("closing s{id} with {code}"));
                    }
                    out.commands.push(cmd.into());
                }
                Err(e) => v.set_error(e),
            },
            PromptKind::Explain => match prompt::parse_codes(input) {
                Ok((a, None)) => v.explain = Some(ExplainTarget::One(a)),
                Ok((a, Some(b))) => v.explain = Some(ExplainTarget::Compare(a, b)),
                Err(e) => v.set_error(e),
            },
            PromptKind::Compare(a) => match prompt::parse_codes(input) {
                Ok((b, None)) => v.explain = Some(ExplainTarget::Compare(a, b)),
                Ok(_) => v.set_error("give one code to compare with"),
                Err(e) => v.set_error(e),
            },
            PromptKind::NextClose | PromptKind::GotoTime => {
                replay::submit(v, p.kind, input, &mut out.commands)
            }
        }
        v.explain_scroll = 0;
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A status line for a command just sent.
fn describe(cmd: &Command, snap: &Snapshot) -> String {
    let target = |t: usize| {
        snap.targets
            .get(t)
            .map_or_else(|| format!("target #{t}"), |v| format!("#{t} {}", v.url))
    };
    match cmd {
        Command::ReconnectNow { session: Some(id) } => format!("reconnecting s{id} now"),
        Command::ReconnectNow { session: None } => "reconnecting every waiting session now".into(),
        Command::SetPaused {
            session: Some(id),
            paused,
        } => format!(
            "{} retries of s{id}",
            if *paused { "pausing" } else { "resuming" }
        ),
        Command::SetPaused {
            session: None,
            paused,
        } => format!(
            "{} all retries",
            if *paused { "pausing" } else { "resuming" }
        ),
        Command::Grow { target: t, count } => format!("adding {count} session to {}", target(*t)),
        Command::Shrink { target: t, count } => {
            format!("removing {count} session from {}", target(*t))
        }
        Command::FlushExport => match &snap.export_path {
            Some(p) => format!("flushing the export to {p} ..."),
            None => "no export file: start wsmon with --export FILE".into(),
        },
        Command::AddSessions { url, count } => format!("adding {count} sessions to {url}"),
        Command::Close { session, code, .. } => format!("closing s{session} with {code}"),
        Command::Shutdown => "shutting down".into(),
        Command::Many(cmds) => format!("{} commands", cmds.len()),
    }
}
