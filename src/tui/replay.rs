//! The TUI's side of `wsmon replay`: what the screen knows about the recording (file, span,
//! play state, per-second totals for the storm charts) and the commands its keys send to the
//! replay driver that owns the time cursor. Nothing here reaches the engine: in replay mode the
//! keys that would send engine commands are refused.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::mpsc;

use crate::state::snapshot::Snapshot;

use super::keys::Action;
use super::prompt::PromptKind;

/// What a refused operator action says.
pub const REFUSED: &str = "replay: nothing is sent";

/// Playback speed, as the keys choose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlaySpeed {
    #[default]
    X1,
    X10,
    X100,
    /// As fast as possible.
    Max,
}

impl PlaySpeed {
    pub fn label(self) -> &'static str {
        match self {
            PlaySpeed::X1 => "x1",
            PlaySpeed::X10 => "x10",
            PlaySpeed::X100 => "x100",
            PlaySpeed::Max => "max",
        }
    }
}

/// A request to the replay driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayCmd {
    Play,
    Pause,
    Speed(PlaySpeed),
    /// Move by a signed duration.
    Step(TimeDelta),
    /// Go to a moment (clamped to the recording).
    Seek(DateTime<Utc>),
    /// The next close with this code after the cursor.
    NextClose(u16),
    /// The next burst of attempts after the cursor.
    NextBurst,
}

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
    /// What the user asked for: the driver stops by itself at the end.
    pub playing: bool,
    pub speed: PlaySpeed,
    /// The code of the last "next close" search (`N` repeats it).
    pub last_code: Option<u16>,
    /// The cursor's time in the latest snapshot.
    pub at: DateTime<Utc>,
    commands: mpsc::UnboundedSender<ReplayCmd>,
    parse_time: TimeParser,
}

/// Resolves a typed time (`14:03:12`, `+2m30s`, `-10s`) against the recording's start and end;
/// the replay module supplies its own (`replay::time::parse_time`).
pub type TimeParser = fn(&str, DateTime<Utc>, DateTime<Utc>) -> Result<DateTime<Utc>, String>;

impl ReplayView {
    pub fn new(
        file: String,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        seconds: Arc<Vec<RecordedSecond>>,
        commands: mpsc::UnboundedSender<ReplayCmd>,
        parse_time: TimeParser,
    ) -> ReplayView {
        ReplayView {
            file,
            start,
            end,
            seconds,
            playing: false,
            speed: PlaySpeed::X1,
            last_code: None,
            at: start,
            commands,
            parse_time,
        }
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

    /// Ask for the next close with `code`, or say there is none after `at`.
    fn next_close(&mut self, code: u16, at: DateTime<Utc>) -> Result<String, String> {
        self.last_code = Some(code);
        if !self.has_close_after(code, at) {
            return Err(format!("no {code} close after {}", at.format("%H:%M:%SZ")));
        }
        self.send(ReplayCmd::NextClose(code))
            .map(|()| format!("next close {code} (N: the one after)"))
    }

    fn send(&self, cmd: ReplayCmd) -> Result<(), String> {
        self.commands
            .send(cmd)
            .map_err(|_| "replay: the time cursor has stopped".to_string())
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

/// What a time cursor key asks of the screen.
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

/// Handle a replay action (time cursor keys). `None` if `action` is not one.
pub fn on_action(r: &mut ReplayView, action: Action, shown: &Snapshot) -> Option<Reply> {
    let cmd = match action {
        Action::PlayPause => {
            if r.running(shown) {
                r.playing = false;
                ReplayCmd::Pause
            } else {
                if shown.now >= r.end && r.send(ReplayCmd::Seek(r.start)).is_err() {
                    return Some(Reply::Failed(
                        "replay: the time cursor has stopped".to_string(),
                    ));
                }
                r.playing = true;
                ReplayCmd::Play
            }
        }
        Action::SpeedX1 => set_speed(r, PlaySpeed::X1),
        Action::SpeedX10 => set_speed(r, PlaySpeed::X10),
        Action::SpeedX100 => set_speed(r, PlaySpeed::X100),
        Action::SpeedMax => set_speed(r, PlaySpeed::Max),
        Action::StepBack => ReplayCmd::Step(TimeDelta::seconds(-1)),
        Action::StepForward => ReplayCmd::Step(TimeDelta::seconds(1)),
        Action::StepBack10 => ReplayCmd::Step(TimeDelta::seconds(-10)),
        Action::StepForward10 => ReplayCmd::Step(TimeDelta::seconds(10)),
        Action::StepBackMinute => ReplayCmd::Step(TimeDelta::minutes(-1)),
        Action::StepForwardMinute => ReplayCmd::Step(TimeDelta::minutes(1)),
        Action::TimeStart => ReplayCmd::Seek(r.start),
        Action::TimeEnd => ReplayCmd::Seek(r.end),
        Action::NextBurst => ReplayCmd::NextBurst,
        Action::NextClose => return Some(Reply::Ask(PromptKind::NextClose)),
        Action::RepeatNextClose => {
            return Some(match r.last_code {
                Some(code) => match r.next_close(code, shown.now) {
                    Ok(msg) => Reply::Said(msg),
                    Err(e) => Reply::Failed(e),
                },
                None => Reply::Ask(PromptKind::NextClose),
            });
        }
        Action::GotoTime => return Some(Reply::Ask(PromptKind::GotoTime)),
        _ => return None,
    };
    Some(match r.send(cmd) {
        Ok(()) => Reply::Done,
        Err(e) => Reply::Failed(e),
    })
}

fn set_speed(r: &mut ReplayView, speed: PlaySpeed) -> ReplayCmd {
    r.speed = speed;
    ReplayCmd::Speed(speed)
}

/// Submit a replay prompt: the code of the next close, or a time (`14:03:12`, `+2m30s`,
/// `-10s`). `parse_time` resolves a time against the recording's span. The status or error
/// line to show; `None` for a prompt that is not replay's.
pub fn submit(r: &mut ReplayView, kind: PromptKind, input: &str) -> Option<Result<String, String>> {
    Some(match kind {
        PromptKind::NextClose => match input.parse::<u16>() {
            Ok(code) => {
                let at = r.at;
                r.next_close(code, at)
            }
            Err(_) => Err(format!("not a close code: '{input}'")),
        },
        PromptKind::GotoTime => (r.parse_time)(input, r.start, r.end).and_then(|t| {
            r.send(ReplayCmd::Seek(t))
                .map(|()| format!("going to {input}"))
        }),
        _ => return None,
    })
}
