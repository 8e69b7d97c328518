//! The TUI's side of `wsmon replay`: what the screen knows about the recording (file, span,
//! play state, per-second totals for the storm charts) and the [`ReplayCmd`]s its keys return
//! in `Outcome.commands`, for the replay source that owns the time cursor. Nothing here reaches
//! the engine: in replay mode the keys that would send engine commands are refused.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::runtime::Request;
use crate::runtime::replay::time::parse_time;
use crate::runtime::replay::{ReplayCmd, ReplayCursor, Speed};
use crate::state::snapshot::Snapshot;

use super::keys::Action;
use super::prompt::PromptKind;

/// What a refused operator action says.
pub const REFUSED: &str = "replay: nothing is sent";

/// One recorded second, for the storm charts over the whole recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedSecond {
    /// Unix second.
    pub second: i64,
    pub attempts: u64,
    /// Closes in this second by code, ascending.
    pub closes: Vec<(u16, u64)>,
}

/// The recording as the screen knows it.
#[derive(Debug, Clone)]
pub struct ReplayView {
    /// The file name shown in the header.
    pub file: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Seconds with activity, in order (the whole recording).
    pub seconds: Arc<Vec<RecordedSecond>>,
    /// The seconds where a burst of attempts starts (what `b` goes to), in order.
    pub bursts: Vec<i64>,
    /// What the user asked for: the driver stops by itself at the end.
    pub playing: bool,
    pub speed: Speed,
    /// The code of the last "next close" search (`N` repeats it).
    pub last_code: Option<u16>,
    /// The cursor's time in the latest snapshot.
    pub at: DateTime<Utc>,
}

impl ReplayView {
    /// The view of the recording under `cursor`; `None` for a recording without events.
    pub fn new(file: String, cursor: &ReplayCursor) -> Option<ReplayView> {
        let (start, end) = cursor.bounds()?;
        let seconds = cursor
            .seconds()
            .iter()
            .map(|s| RecordedSecond {
                second: s.second,
                attempts: u64::from(s.attempts),
                closes: s.closes.iter().map(|(c, n)| (*c, u64::from(*n))).collect(),
            })
            .collect();
        Some(ReplayView {
            file,
            start,
            end,
            seconds: Arc::new(seconds),
            bursts: cursor.burst_starts(),
            playing: false,
            speed: Speed::X1,
            last_code: None,
            at: start,
        })
    }

    /// Is playback running at the snapshot's time (the driver pauses at the end)?
    pub fn running(&self, snap: &Snapshot) -> bool {
        self.playing && snap.now < self.end
    }

    /// Is there a close with `code` in the cursor's second or later (from the per-second
    /// totals)?
    pub fn has_close_after(&self, code: u16, at: DateTime<Utc>) -> bool {
        let from = at.timestamp();
        self.seconds
            .iter()
            .filter(|s| s.second >= from)
            .any(|s| s.closes.iter().any(|c| c.0 == code))
    }

    /// Does a burst of attempts start in the cursor's second or later?
    pub fn has_burst_after(&self, at: DateTime<Utc>) -> bool {
        let from = at.timestamp();
        self.bursts.iter().any(|&s| s >= from)
    }

    /// The next close with `code`, or why there is none after `at`.
    fn next_close(&mut self, code: u16, at: DateTime<Utc>) -> Result<(ReplayCmd, String), String> {
        self.last_code = Some(code);
        if !self.has_close_after(code, at) {
            return Err(format!("no {code} close after {}", at.format("%H:%M:%SZ")));
        }
        Ok((
            ReplayCmd::NextClose(code),
            format!("next close {code} (N: the one after)"),
        ))
    }
}

/// `+2m30s` style offset of `t` from `start` (whole seconds).
pub fn offset_text(d: TimeDelta) -> String {
    let secs = d.num_seconds().max(0);
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m:02}m{s:02}s")
    } else {
        format!("{m}m{s:02}s")
    }
}

/// The header's cursor text: `14:03:12Z (+2m30s of 12m00s) x10 ▶`.
pub fn cursor_text(r: &ReplayView, snap: &Snapshot) -> String {
    let mark = if r.running(snap) { "▶" } else { "⏸" };
    format!(
        "{} (+{} of {}) {} {mark}",
        snap.now.format("%H:%M:%SZ"),
        offset_text(snap.now - r.start),
        offset_text(r.end - r.start),
        r.speed.label()
    )
}

/// The cursor on a narrow screen: `14:03:12Z +2m30s x10 ▶`.
pub fn cursor_text_short(r: &ReplayView, snap: &Snapshot) -> String {
    let mark = if r.running(snap) { "▶" } else { "⏸" };
    format!(
        "{} +{} {} {mark}",
        snap.now.format("%H:%M:%SZ"),
        offset_text(snap.now - r.start),
        r.speed.label()
    )
}

/// Does this action send something to the engine (refused in replay)?
pub fn sends_commands(action: Action) -> bool {
    matches!(
        action,
        Action::Close
            | Action::Reconnect
            | Action::ReconnectAll
            | Action::Pause
            | Action::PauseAll
            | Action::Add
            | Action::Grow
            | Action::Shrink
            | Action::Export
    )
}

/// What a time cursor key asks of the screen (what it asks of the replay source goes to the
/// commands).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Sent; nothing to say.
    Done,
    /// A status line.
    Said(String),
    /// An error line.
    Failed(String),
    /// Open a prompt.
    Ask(PromptKind),
}

/// Handle a replay action (time cursor keys); what it asks of the replay source goes to `out`.
/// `None` if `action` is not one.
pub fn on_action(
    r: &mut ReplayView,
    action: Action,
    shown: &Snapshot,
    out: &mut Vec<Request>,
) -> Option<Reply> {
    let cmd = match action {
        Action::PlayPause => {
            if r.running(shown) {
                r.playing = false;
                ReplayCmd::Pause
            } else {
                if shown.now >= r.end {
                    out.push(ReplayCmd::Seek(r.start).into());
                }
                r.playing = true;
                ReplayCmd::Play
            }
        }
        Action::SpeedX1 => set_speed(r, Speed::X1),
        Action::SpeedX10 => set_speed(r, Speed::X10),
        Action::SpeedX100 => set_speed(r, Speed::X100),
        Action::SpeedMax => set_speed(r, Speed::Max),
        Action::StepBack => ReplayCmd::Step(TimeDelta::seconds(-1)),
        Action::StepForward => ReplayCmd::Step(TimeDelta::seconds(1)),
        Action::StepBack10 => ReplayCmd::Step(TimeDelta::seconds(-10)),
        Action::StepForward10 => ReplayCmd::Step(TimeDelta::seconds(10)),
        Action::StepBackMinute => ReplayCmd::Step(TimeDelta::minutes(-1)),
        Action::StepForwardMinute => ReplayCmd::Step(TimeDelta::minutes(1)),
        Action::TimeStart => ReplayCmd::Seek(r.start),
        Action::TimeEnd => ReplayCmd::Seek(r.end),
        Action::NextBurst => {
            if !r.has_burst_after(shown.now) {
                let at = shown.now.format("%H:%M:%SZ");
                return Some(Reply::Said(format!("no burst of attempts after {at}")));
            }
            ReplayCmd::NextBurst
        }
        Action::NextClose => return Some(Reply::Ask(PromptKind::NextClose)),
        Action::RepeatNextClose => {
            return Some(match r.last_code {
                Some(code) => match r.next_close(code, shown.now) {
                    Ok((cmd, msg)) => {
                        out.push(cmd.into());
                        Reply::Said(msg)
                    }
                    Err(e) => Reply::Failed(e),
                },
                None => Reply::Ask(PromptKind::NextClose),
            });
        }
        Action::GotoTime => return Some(Reply::Ask(PromptKind::GotoTime)),
        _ => return None,
    };
    out.push(cmd.into());
    Some(Reply::Done)
}

fn set_speed(r: &mut ReplayView, speed: Speed) -> ReplayCmd {
    r.speed = speed;
    ReplayCmd::Speed(speed)
}

/// Submit a replay prompt: the code of the next close, or a time (`14:03:12`, `+2m30s`,
/// `-10s`, resolved against the recording's span). The command goes to `out`; the status or
/// error line to show comes back, `None` for a prompt that is not replay's.
pub fn submit(
    r: &mut ReplayView,
    kind: PromptKind,
    input: &str,
    out: &mut Vec<Request>,
) -> Option<Result<String, String>> {
    let shown = crate::redact::escape_control(input);
    let sent = match kind {
        PromptKind::NextClose => match input.parse::<u16>() {
            Ok(code) => {
                let at = r.at;
                r.next_close(code, at)
            }
            Err(_) => Err(format!("not a close code: '{shown}'")),
        },
        PromptKind::GotoTime => match parse_time(input, r.start, r.end) {
            Ok(t) => Ok((ReplayCmd::Seek(t), format!("going to {shown}"))),
            Err(e) => Err(crate::redact::escape_control(&e.to_string())),
        },
        _ => return None,
    };
    Some(sent.map(|(cmd, msg)| {
        out.push(cmd.into());
        msg
    }))
}
