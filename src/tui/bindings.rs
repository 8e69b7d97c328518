//! What keys mean: the screens ([`Mode`]), the actions ([`Action`]) and the table of default
//! bindings (each action's `[keys]` name, default keys, help text and the screens where it is
//! active). `keys.rs` resolves the table against the config and turns key presses into actions.

/// What the screen shows, as far as keys are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The sessions table (main screen).
    Sessions,
    /// One session's detail (Enter on a row).
    Detail,
    /// The storm tab.
    Storm,
    /// The targets tab.
    Targets,
    /// The explanation of a close code, or a comparison of two.
    Explain,
    /// The key help overlay.
    Help,
    /// A one-line prompt is taking text input.
    Prompt,
    /// The live event log tab.
    Log,
    /// A bulk action waits for y / n.
    Confirm,
    /// The column chooser (`C`).
    Columns,
    /// One session's logged messages (`M`).
    Messages,
    /// One logged message in full (Enter in the Messages view).
    Entry,
    /// The search results across every session's messages (`S`).
    Search,
}

/// Something the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    /// Esc: close the overlay or view, back to the previous screen.
    Back,
    /// Tab: switch between the Sessions and Storm tabs.
    NextTab,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    /// Enter on a row: open the session detail.
    Open,
    SortNext,
    SortPrev,
    SortReverse,
    /// `/`: filter rows by text.
    Filter,
    /// Cycle the state filter.
    StateFilter,
    /// Cycle the outcome filter (close codes, HTTP statuses, error kinds).
    CodeFilter,
    /// Space: mark or unmark the selected session.
    Mark,
    /// Mark every session shown (under the current filter), or unmark them all.
    MarkAll,
    /// Open the column chooser.
    Columns,
    /// Switch wall-clock times between UTC and local time.
    Clock,
    /// Switch the table between ages and wall-clock times.
    TableTimes,
    /// In a confirmation: yes.
    Yes,
    /// In a confirmation: no.
    No,
    /// In the column chooser: show or hide the column under the cursor.
    Toggle,
    /// Explain the selected session's close code (or ask for a code).
    Explain,
    /// In the explain view: compare with a second code.
    Compare,
    /// Add sessions (asks for URL and count).
    Add,
    /// Close the selected session (asks for the code, default 1000).
    Close,
    /// Reconnect the selected session now.
    Reconnect,
    /// Reconnect every waiting session now.
    ReconnectAll,
    /// Pause or resume the selected session's retries.
    Pause,
    /// Pause or resume all retries.
    PauseAll,
    /// One more session of the selected target.
    Grow,
    /// One session fewer of the selected target.
    Shrink,
    /// Freeze the display while data keeps flowing.
    Freeze,
    /// Write the export now.
    Export,
    /// Prompt editing: a typed character.
    Input(char),
    /// Prompt editing: delete the last character.
    Backspace,
    /// Prompt editing: accept (Enter).
    Submit,
    /// Prompt editing: abandon (Esc).
    Cancel,
    /// Replay: play / pause.
    PlayPause,
    /// Replay: speed x1, x10, x100, as fast as possible.
    SpeedX1,
    SpeedX10,
    SpeedX100,
    SpeedMax,
    /// Replay: move the time cursor by 1 s, 10 s, 1 min.
    StepBack,
    StepForward,
    StepBack10,
    StepForward10,
    StepBackMinute,
    StepForwardMinute,
    /// Replay: the start / the end of the recording.
    TimeStart,
    TimeEnd,
    /// Replay: the next close with a code (asks for it).
    NextClose,
    /// Replay: the next close with the same code again.
    RepeatNextClose,
    /// Replay: the next burst of attempts.
    NextBurst,
    /// Replay: go to a typed time.
    GotoTime,
    /// Open the selected session's Messages view.
    Messages,
    /// Search the messages of every session (asks for a regex).
    SearchMessages,
    /// Messages view: cycle the direction filter (both, in, out).
    MsgDirection,
    /// Messages view: cycle the opcode filter (any, text, binary, close).
    MsgOpcode,
    /// Messages view: show or hide ping and pong.
    MsgControl,
    /// Messages view: pause or resume the view (messages keep being logged).
    MsgPause,
    /// Entry view: unfold one more JSON level.
    Unfold,
    /// Entry view: fold the deepest JSON level shown.
    Fold,
}

/// Where a binding is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every mode but the prompt and help.
    Screens,
    /// Every mode but the prompt (help included).
    Everywhere,
    Only(&'static [Mode]),
}

impl Scope {
    pub fn contains(self, mode: Mode) -> bool {
        match self {
            Scope::Screens => !matches!(
                mode,
                Mode::Prompt | Mode::Help | Mode::Confirm | Mode::Columns
            ),
            Scope::Everywhere => !matches!(mode, Mode::Prompt | Mode::Confirm | Mode::Columns),
            Scope::Only(modes) => modes.contains(&mode),
        }
    }

    /// Active only in the message inspector's screens (Messages, entry, search results).
    pub fn inspector_only(self) -> bool {
        match self {
            Scope::Only(modes) => modes
                .iter()
                .all(|m| matches!(m, Mode::Messages | Mode::Entry | Mode::Search)),
            _ => false,
        }
    }

    pub fn overlaps(self, other: Scope) -> bool {
        [
            Mode::Sessions,
            Mode::Detail,
            Mode::Storm,
            Mode::Targets,
            Mode::Explain,
            Mode::Help,
            Mode::Prompt,
            Mode::Log,
            Mode::Confirm,
            Mode::Columns,
            Mode::Messages,
            Mode::Entry,
            Mode::Search,
        ]
        .iter()
        .any(|m| self.contains(*m) && other.contains(*m))
    }
}

const SCROLLABLE: &[Mode] = &[
    Mode::Sessions,
    Mode::Detail,
    Mode::Explain,
    Mode::Help,
    Mode::Log,
    Mode::Targets,
    Mode::Messages,
    Mode::Entry,
    Mode::Search,
];
const SESSION_SCREENS: &[Mode] = &[Mode::Sessions, Mode::Detail];
/// Esc: back from a view; on the main screen it clears the filters (then the marks).
const BACKABLE: &[Mode] = &[
    Mode::Sessions,
    Mode::Detail,
    Mode::Storm,
    Mode::Explain,
    Mode::Help,
    Mode::Log,
    Mode::Targets,
    Mode::Messages,
    Mode::Entry,
    Mode::Search,
];
/// Screens whose rows the filters narrow: the table and the event log.
const FILTERED: &[Mode] = &[Mode::Sessions, Mode::Log];
/// The tables that sort (sessions, targets).
const SORTABLE: &[Mode] = &[Mode::Sessions, Mode::Targets];

/// One configurable action: its config name, default keys, help text and scope.
pub struct Spec {
    pub name: &'static str,
    pub action: Action,
    pub keys: &'static str,
    pub help: &'static str,
    pub scope: Scope,
}

/// The default bindings, in the order the help shows them.
pub const SPECS: &[Spec] = &[
    Spec {
        name: "up",
        action: Action::Up,
        keys: "k up",
        help: "move up / scroll up",
        scope: Scope::Only(SCROLLABLE),
    },
    Spec {
        name: "down",
        action: Action::Down,
        keys: "j down",
        help: "move down / scroll down",
        scope: Scope::Only(SCROLLABLE),
    },
    Spec {
        name: "page_up",
        action: Action::PageUp,
        keys: "pageup",
        help: "one page up",
        scope: Scope::Only(SCROLLABLE),
    },
    Spec {
        name: "page_down",
        action: Action::PageDown,
        keys: "pagedown",
        help: "one page down",
        scope: Scope::Only(SCROLLABLE),
    },
    Spec {
        name: "home",
        action: Action::Home,
        keys: "home g",
        help: "first row / top",
        scope: Scope::Only(SCROLLABLE),
    },
    Spec {
        name: "end",
        action: Action::End,
        keys: "end G",
        help: "last row / bottom",
        scope: Scope::Only(SCROLLABLE),
    },
    Spec {
        name: "open",
        action: Action::Open,
        keys: "enter",
        help: "open detail / a target's sessions",
        scope: Scope::Only(&[Mode::Sessions, Mode::Targets, Mode::Messages, Mode::Search]),
    },
    Spec {
        name: "back",
        action: Action::Back,
        keys: "esc",
        help: "back; on the main screen: clear filters, then marks",
        scope: Scope::Only(BACKABLE),
    },
    Spec {
        name: "next_tab",
        action: Action::NextTab,
        keys: "tab",
        help: "next tab: Sessions, Storm, Events, Targets",
        scope: Scope::Only(&[
            Mode::Sessions,
            Mode::Storm,
            Mode::Detail,
            Mode::Log,
            Mode::Targets,
        ]),
    },
    Spec {
        name: "sort_next",
        action: Action::SortNext,
        keys: ">",
        help: "sort by the next column",
        scope: Scope::Only(SORTABLE),
    },
    Spec {
        name: "sort_prev",
        action: Action::SortPrev,
        keys: "<",
        help: "sort by the previous column",
        scope: Scope::Only(SORTABLE),
    },
    Spec {
        name: "sort_reverse",
        action: Action::SortReverse,
        keys: "i",
        help: "invert the sort order",
        scope: Scope::Only(SORTABLE),
    },
    Spec {
        name: "filter",
        action: Action::Filter,
        keys: "/",
        help: "filter rows by text (empty clears)",
        scope: Scope::Only(&[Mode::Sessions, Mode::Log, Mode::Messages]),
    },
    Spec {
        name: "state_filter",
        action: Action::StateFilter,
        keys: "t",
        help: "filter by state (cycles through states present)",
        scope: Scope::Only(FILTERED),
    },
    Spec {
        name: "code_filter",
        action: Action::CodeFilter,
        keys: "o",
        help: "filter by LAST CLOSE: code, status, error (cycles)",
        scope: Scope::Only(FILTERED),
    },
    Spec {
        name: "mark",
        action: Action::Mark,
        keys: "space",
        help: "mark / unmark (c, r, p use marks)",
        scope: Scope::Only(&[Mode::Sessions]),
    },
    Spec {
        name: "mark_all",
        action: Action::MarkAll,
        keys: "m",
        help: "mark every session shown (again: unmark all)",
        scope: Scope::Only(&[Mode::Sessions]),
    },
    Spec {
        name: "columns",
        action: Action::Columns,
        keys: "C",
        help: "choose the table's columns",
        scope: Scope::Only(&[Mode::Sessions]),
    },
    Spec {
        name: "table_times",
        action: Action::TableTimes,
        keys: "w",
        help: "table: ages / wall-clock times",
        scope: Scope::Only(&[Mode::Sessions]),
    },
    Spec {
        name: "clock",
        action: Action::Clock,
        keys: "z",
        help: "times in UTC / local time",
        scope: Scope::Screens,
    },
    Spec {
        name: "explain",
        action: Action::Explain,
        keys: "x",
        help: "explain the close code (asks for one if none)",
        scope: Scope::Only(&[Mode::Sessions, Mode::Detail, Mode::Explain]),
    },
    Spec {
        name: "compare",
        action: Action::Compare,
        keys: "c",
        help: "in the explanation: compare with another code",
        scope: Scope::Only(&[Mode::Explain]),
    },
    Spec {
        name: "add",
        action: Action::Add,
        keys: "a",
        help: "add sessions (URL and count)",
        scope: Scope::Only(&[Mode::Sessions, Mode::Detail, Mode::Storm]),
    },
    Spec {
        name: "close",
        action: Action::Close,
        keys: "c",
        help: "close marked / selected (code, default 1000)",
        scope: Scope::Only(SESSION_SCREENS),
    },
    Spec {
        name: "reconnect",
        action: Action::Reconnect,
        keys: "r",
        help: "reconnect the marked / selected session now",
        scope: Scope::Only(SESSION_SCREENS),
    },
    Spec {
        name: "reconnect_all",
        action: Action::ReconnectAll,
        keys: "R",
        help: "reconnect every waiting session now (asks first)",
        scope: Scope::Screens,
    },
    Spec {
        name: "pause",
        action: Action::Pause,
        keys: "p",
        help: "pause / resume retries of marked / selected",
        scope: Scope::Only(SESSION_SCREENS),
    },
    Spec {
        name: "pause_all",
        action: Action::PauseAll,
        keys: "P",
        help: "pause / resume all retries (asks first)",
        scope: Scope::Screens,
    },
    Spec {
        name: "grow",
        action: Action::Grow,
        keys: "+",
        help: "one more session of the selected target",
        scope: Scope::Only(SESSION_SCREENS),
    },
    Spec {
        name: "shrink",
        action: Action::Shrink,
        keys: "-",
        help: "one session fewer of the selected target",
        scope: Scope::Only(SESSION_SCREENS),
    },
    Spec {
        name: "freeze",
        action: Action::Freeze,
        keys: "f",
        help: "freeze / unfreeze the display (data keeps flowing)",
        scope: Scope::Screens,
    },
    Spec {
        name: "export",
        action: Action::Export,
        keys: "e",
        help: "write the log export now and show its path",
        scope: Scope::Screens,
    },
    Spec {
        name: "messages",
        action: Action::Messages,
        keys: "M",
        help: "the session's messages",
        scope: Scope::Only(SESSION_SCREENS),
    },
    Spec {
        name: "search",
        action: Action::SearchMessages,
        keys: "S",
        help: "search all sessions' messages",
        scope: Scope::Only(&[
            Mode::Sessions,
            Mode::Detail,
            Mode::Storm,
            Mode::Log,
            Mode::Targets,
            Mode::Messages,
            Mode::Search,
        ]),
    },
    Spec {
        name: "msg_dir",
        action: Action::MsgDirection,
        keys: "d",
        help: "messages: both ways / in / out",
        scope: Scope::Only(&[Mode::Messages]),
    },
    Spec {
        name: "msg_opcode",
        action: Action::MsgOpcode,
        keys: "o",
        help: "messages: any / text / binary / close",
        scope: Scope::Only(&[Mode::Messages]),
    },
    Spec {
        name: "msg_pings",
        action: Action::MsgControl,
        keys: "c",
        help: "messages: ping and pong on / off",
        scope: Scope::Only(&[Mode::Messages]),
    },
    Spec {
        name: "msg_pause",
        action: Action::MsgPause,
        keys: "p",
        help: "messages: pause / resume the view",
        scope: Scope::Only(&[Mode::Messages]),
    },
    Spec {
        name: "unfold",
        action: Action::Unfold,
        keys: "+",
        help: "message: unfold a JSON level",
        scope: Scope::Only(&[Mode::Entry]),
    },
    Spec {
        name: "fold",
        action: Action::Fold,
        keys: "-",
        help: "message: fold a JSON level",
        scope: Scope::Only(&[Mode::Entry]),
    },
    Spec {
        name: "help",
        action: Action::Help,
        keys: "?",
        help: "show / hide this help (Esc and q close it too)",
        scope: Scope::Everywhere,
    },
    Spec {
        name: "quit",
        action: Action::Quit,
        keys: "q",
        help: "quit (sessions close with 1001)",
        scope: Scope::Everywhere,
    },
];

/// The time cursor's keys, active only in `wsmon replay` (shown in the help only there). They
/// take precedence over the other bindings: `g`/`G` go to the start/end of the recording, and
/// Home/End still move to the first/last row.
pub const REPLAY_SPECS: &[Spec] = &[
    Spec {
        name: "play_pause",
        action: Action::PlayPause,
        keys: "space",
        help: "replay: play / pause",
        scope: Scope::Screens,
    },
    Spec {
        name: "speed_x1",
        action: Action::SpeedX1,
        keys: "1",
        help: "replay: speed x1",
        scope: Scope::Screens,
    },
    Spec {
        name: "speed_x10",
        action: Action::SpeedX10,
        keys: "2",
        help: "replay: speed x10",
        scope: Scope::Screens,
    },
    Spec {
        name: "speed_x100",
        action: Action::SpeedX100,
        keys: "3",
        help: "replay: speed x100",
        scope: Scope::Screens,
    },
    Spec {
        name: "speed_max",
        action: Action::SpeedMax,
        keys: "4",
        help: "replay: as fast as possible",
        scope: Scope::Screens,
    },
    Spec {
        name: "step_back",
        action: Action::StepBack,
        keys: "left",
        help: "replay: 1 s back",
        scope: Scope::Screens,
    },
    Spec {
        name: "step_forward",
        action: Action::StepForward,
        keys: "right",
        help: "replay: 1 s forward",
        scope: Scope::Screens,
    },
    Spec {
        name: "step_back_10s",
        action: Action::StepBack10,
        keys: ",",
        help: "replay: 10 s back",
        scope: Scope::Screens,
    },
    Spec {
        name: "step_forward_10s",
        action: Action::StepForward10,
        keys: ".",
        help: "replay: 10 s forward",
        scope: Scope::Screens,
    },
    Spec {
        name: "step_back_1m",
        action: Action::StepBackMinute,
        keys: "ctrl-left [",
        help: "replay: 1 min back",
        scope: Scope::Screens,
    },
    Spec {
        name: "step_forward_1m",
        action: Action::StepForwardMinute,
        keys: "ctrl-right ]",
        help: "replay: 1 min forward",
        scope: Scope::Screens,
    },
    Spec {
        name: "time_start",
        action: Action::TimeStart,
        keys: "g",
        help: "replay: start of the recording (Home: first row)",
        scope: Scope::Screens,
    },
    Spec {
        name: "time_end",
        action: Action::TimeEnd,
        keys: "G",
        help: "replay: end of the recording (End: last row)",
        scope: Scope::Screens,
    },
    Spec {
        name: "next_close",
        action: Action::NextClose,
        keys: "n",
        help: "replay: the next close with a code (asks for it)",
        scope: Scope::Screens,
    },
    Spec {
        name: "next_close_again",
        action: Action::RepeatNextClose,
        keys: "N",
        help: "replay: the next close with the same code",
        scope: Scope::Screens,
    },
    Spec {
        name: "next_burst",
        action: Action::NextBurst,
        keys: "b",
        help: "replay: the next burst of attempts",
        scope: Scope::Screens,
    },
    Spec {
        name: "goto_time",
        action: Action::GotoTime,
        keys: ":",
        help: "replay: go to a time (14:03:12, +2m30s, -10s)",
        scope: Scope::Screens,
    },
];
