//! The actions that act on sessions: what each sends to the supervisor, what it asks first
//! (actions on several sessions wait for a yes), and the prompts' answers. Part of [`App`]'s
//! input handling (`app.rs` dispatches here); no I/O.

use std::sync::Arc;

use crate::engine::events::{Command, SessionId, SessionState};
use crate::runtime::Request;
use crate::state::snapshot::Snapshot;

use super::app::{App, Outcome};
use super::keys::{self, Action};
use super::prompt;
use super::replay;
use super::view::{Confirm, ExplainTarget, Prompt, PromptKind};

impl App {
    /// The keys that act on sessions: quit, add, close, reconnect, pause, grow, shrink, export.
    /// Returns false for an action that does nothing here.
    pub(super) fn on_session_action(
        &mut self,
        action: Action,
        latest: &Arc<Snapshot>,
        out: &mut Outcome,
    ) -> bool {
        match action {
            Action::Quit => {
                out.quit = true;
                out.commands.push(Command::Shutdown.into());
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
            Action::Reconnect | Action::Pause if !self.view.live_marks(latest).is_empty() => {
                self.bulk(action, latest, out);
            }
            Action::ReconnectAll => self.reconnect_all(latest),
            Action::PauseAll => self.pause_all(latest),
            Action::Reconnect | Action::Pause | Action::Grow | Action::Shrink | Action::Export => {
                let sel = self.view.selection(latest);
                match keys::command_for(action, &sel) {
                    Some(cmd) => {
                        self.view.set_status(describe(&cmd, latest));
                        out.commands.push(cmd.into());
                    }
                    None => self.view.set_error("no session selected"),
                }
            }
            _ => return false,
        }
        true
    }

    /// `P`: ask before pausing (or, when all are paused, resuming) the retries of every
    /// session, as every action on several sessions asks.
    fn pause_all(&mut self, latest: &Snapshot) {
        let sel = self.view.selection(latest);
        let Some(cmd) = keys::command_for(Action::PauseAll, &sel) else {
            return;
        };
        let n = latest.sessions.len();
        let (question, done) = if sel.paused_all {
            (
                format!("resume the retries of all {n} session{}?", plural(n)),
                "resuming all retries".to_string(),
            )
        } else {
            (
                format!(
                    "pause the retries of all {n} session{}? open sessions stay open",
                    plural(n)
                ),
                "pausing all retries".to_string(),
            )
        };
        self.view.confirm = Some(Confirm {
            question,
            commands: vec![cmd],
            done,
        });
    }

    /// `R`: ask before reconnecting every waiting session.
    fn reconnect_all(&mut self, latest: &Snapshot) {
        let waiting = latest
            .sessions
            .iter()
            .filter(|s| s.state == SessionState::Waiting)
            .count();
        match waiting {
            0 => self
                .view
                .set_error("no session is waiting: nothing to reconnect"),
            n => {
                self.view.confirm = Some(Confirm {
                    question: format!(
                        "reconnect the {n} waiting session{} now? open sessions are not touched",
                        plural(n)
                    ),
                    commands: vec![Command::ReconnectNow { session: None }],
                    done: format!("reconnecting the {n} waiting session{} now", plural(n)),
                });
            }
        }
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

    pub(super) fn submit(&mut self, p: Prompt, out: &mut Outcome) {
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
            // Answered by `submit_inspect` (they need the snapshot's logs).
            PromptKind::Search | PromptKind::MessageFilter => {}
            PromptKind::NextClose | PromptKind::GotoTime => {
                match v
                    .replay
                    .as_mut()
                    .and_then(|r| replay::submit(r, p.kind, input, &mut out.commands))
                {
                    Some(Ok(text)) => v.set_status(text),
                    Some(Err(text)) => v.set_error(text),
                    None => {}
                }
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
