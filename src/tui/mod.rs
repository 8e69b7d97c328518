//! The terminal UI: one `tokio::select!` loop over terminal input, snapshot changes and a frame
//! deadline. Rendering (`ui::draw`) is a pure function of (snapshot, view state); keys become
//! actions (`keys`), and actions that change sessions become `Command`s for the supervisor.
//!
//! The loop is generic over the ratatui backend and the input stream, so tests drive it on a
//! `TestBackend` with scripted events.

mod actions;
pub mod app;
mod bindings;
pub mod columns;
#[cfg(any(test, feature = "test-support"))]
pub mod fixtures;
pub mod format;
#[cfg(any(test, feature = "test-support"))]
pub mod h2_fixtures;
pub mod inspect;
mod inspect_keys;
pub mod keys;
#[cfg(any(test, feature = "test-support"))]
pub mod msg_fixtures;
pub mod order;
pub mod prompt;
pub mod replay;
pub mod targets;
pub mod ui;
pub mod view;

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, EventStream};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;

use crate::codes::{Lang, Registry};
use crate::engine::events::{Command, Notice};
use crate::runtime::Request;
use crate::state::snapshot::Snapshot;

use app::App;
use keys::KeyMap;
use view::ViewState;

/// How the TUI looks and which keys it uses.
#[derive(Debug, Clone)]
pub struct TuiOptions {
    /// Maximum redraws per second (`--fps`, default 10).
    pub fps: u32,
    /// Language of explanations.
    pub lang: Lang,
    /// The config file's `[keys]`: action name -> key(s).
    pub keys: BTreeMap<String, String>,
    /// Use colors (false when `NO_COLOR` is set).
    pub color: bool,
    /// Shown in the title bar ("demo", a config file name ...).
    pub title: String,
    /// The close-code registry (with the config's application codes); the built-in one by
    /// default.
    pub registry: Arc<Registry>,
    /// Start with wall-clock times in local time rather than UTC (`z` switches; `WSMON_TIME=local`).
    pub local_time: bool,
}

impl Default for TuiOptions {
    fn default() -> Self {
        TuiOptions {
            fps: 10,
            lang: Lang::default(),
            keys: BTreeMap::new(),
            color: color_from_env(),
            title: String::new(),
            registry: builtin_registry(),
            local_time: local_time_from_env(),
        }
    }
}

/// The built-in close-code registry, shared: every call returns the same `Arc`.
pub fn builtin_registry() -> Arc<Registry> {
    static BUILTIN: OnceLock<Arc<Registry>> = OnceLock::new();
    BUILTIN
        .get_or_init(|| Arc::new(Registry::builtin().clone()))
        .clone()
}

/// Colors unless `NO_COLOR` is set to a non-empty value (<https://no-color.org>).
pub fn color_from_env() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Local time instead of UTC when `WSMON_TIME=local`.
pub fn local_time_from_env() -> bool {
    std::env::var("WSMON_TIME").is_ok_and(|v| v.eq_ignore_ascii_case("local"))
}

/// Upper bound on `--fps`.
pub const MAX_FPS: u32 = 60;
/// How long a status message stays.
pub const STATUS_TTL: Duration = Duration::from_secs(5);
/// How long quitting waits for the supervisor to accept `Shutdown`.
pub const SHUTDOWN_SEND_TIMEOUT: Duration = Duration::from_secs(2);

/// Counters about a finished loop (for tests and diagnostics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopStats {
    /// Frames drawn.
    pub frames: u64,
    /// Snapshots received.
    pub snapshots: u64,
    /// Commands sent.
    pub commands: u64,
    /// Engine notices shown.
    pub notices: u64,
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The user quit; `Shutdown` was sent.
    Quit,
    /// The snapshot channel closed (the store stopped).
    StoreClosed,
    /// The input stream ended; `Shutdown` was sent.
    InputClosed,
}

/// Build the view state from options (validates the key bindings).
pub fn view_state(opts: &TuiOptions) -> anyhow::Result<ViewState> {
    let keys = KeyMap::from_config(&opts.keys).map_err(anyhow::Error::msg)?;
    let mut view = ViewState::new(
        keys,
        opts.lang,
        opts.color,
        opts.title.clone(),
        opts.registry.clone(),
    );
    // Read once here: rendering never asks the system for the time or the zone.
    view.local_offset = *chrono::Local::now().offset();
    if opts.local_time {
        view.clock = view::Clock::Local;
    }
    Ok(view)
}

/// Why the real terminal could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScreenError {
    /// Standard input or output is not a terminal (a pipe, a file, `</dev/null`).
    #[error("no terminal: use --headless")]
    NoTerminal,
    #[error("cannot set up the terminal: {0}")]
    Setup(#[from] io::Error),
}

/// Whether the TUI can run here: the screen is drawn on stdout and keys are read from stdin,
/// so both must be a terminal (`wsmon watch URL </dev/null` in a terminal is no terminal
/// either: the keys would not come from where the user typed the command).
pub fn has_terminal() -> bool {
    use std::io::IsTerminal as _;
    io::stdin().is_terminal() && io::stdout().is_terminal()
}

/// The real terminal, set up for the TUI (raw mode, alternate screen, mouse capture) and
/// restored when dropped. Opened before anything connects, so that a missing terminal stops
/// the run before the first session starts.
pub struct Screen {
    terminal: Terminal<CrosstermBackend<io::Stdout>>,
    // Dropped after the terminal: restores the modes last.
    _guard: TerminalGuard,
}

impl Screen {
    /// Take over the terminal; [`ScreenError::NoTerminal`] when stdin or stdout is not one.
    pub fn open() -> Result<Screen, ScreenError> {
        if !has_terminal() {
            return Err(ScreenError::NoTerminal);
        }
        let guard = TerminalGuard::enter()?;
        let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        terminal.clear()?;
        Ok(Screen {
            terminal,
            _guard: guard,
        })
    }

    /// The event loop on this terminal; the terminal is restored when it ends, on every path.
    async fn run(
        mut self,
        snapshots: watch::Receiver<Arc<Snapshot>>,
        commands: mpsc::Sender<Request>,
        notices: Option<mpsc::Receiver<Notice>>,
        view: ViewState,
        fps: u32,
    ) -> anyhow::Result<()> {
        let result = run_loop(
            &mut self.terminal,
            EventStream::new(),
            snapshots,
            commands,
            notices,
            view,
            fps,
        )
        .await;
        drop(self);
        result.map(|_| ())
    }
}

/// Run the TUI on `screen` until the user quits or the store stops. On quit,
/// `Command::Shutdown` is sent and this returns; the caller waits for the engine to close the
/// sessions and flush the export. The terminal is restored on every path, including a panic in
/// any task (a process-wide panic hook restores it and makes this loop exit with an error).
///
/// `notices` are the engine's messages about commands ("export flushed (N events written)",
/// "added target ... with 5 sessions", "cannot add: ..."); they are shown in the status line.
pub async fn run(
    screen: Screen,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    commands: mpsc::Sender<Request>,
    notices: Option<mpsc::Receiver<Notice>>,
    opts: TuiOptions,
) -> anyhow::Result<()> {
    let view = view_state(&opts)?;
    screen
        .run(snapshots, commands, notices, view, opts.fps)
        .await
}

/// The view state for a recording: the time cursor keys on, the recording in the header.
pub fn replay_view_state(
    opts: &TuiOptions,
    replay: replay::ReplayView,
) -> anyhow::Result<ViewState> {
    let mut view = view_state(opts)?;
    view.keys.set_replay(true);
    view.replay = Some(replay);
    Ok(view)
}

/// Run the TUI on a recorded log until the user quits. `snapshots` and `commands` are the
/// replay source's runtime: the time cursor keys send replay commands; operator actions are
/// refused by the key handling, and `Shutdown` on quit stops the replay source.
pub async fn run_replay(
    screen: Screen,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    commands: mpsc::Sender<Request>,
    view: ViewState,
    fps: u32,
) -> anyhow::Result<()> {
    screen.run(snapshots, commands, None, view, fps).await
}

/// The event loop, generic over the backend and the input stream. `notices` (if any) are shown
/// in the status line as they arrive; the loop stops reading them when their sender is gone.
pub async fn run_loop<B, S>(
    terminal: &mut Terminal<B>,
    mut input: S,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    commands: mpsc::Sender<Request>,
    mut notices: Option<mpsc::Receiver<Notice>>,
    view: ViewState,
    fps: u32,
) -> anyhow::Result<(Exit, LoopStats)>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = io::Result<Event>> + Unpin,
{
    let frame_interval = Duration::from_secs(1) / fps.clamp(1, MAX_FPS);
    let mut app = App::new(view);
    let mut stats = LoopStats::default();
    let mut latest: Arc<Snapshot> = snapshots.borrow_and_update().clone();
    let mut dirty = true;
    let mut next_frame = Instant::now();
    let mut status_until: Option<Instant> = None;
    let mut status_seen = None;

    loop {
        let now = Instant::now();
        // A new status message starts its time to live; an expired one is cleared.
        if app.view.status != status_seen {
            status_seen.clone_from(&app.view.status);
            status_until = status_seen.as_ref().map(|_| now + STATUS_TTL);
        }
        if status_until.is_some_and(|t| now >= t) {
            app.view.status = None;
            status_seen = None;
            status_until = None;
            dirty = true;
        }
        if dirty && now >= next_frame {
            #[cfg(feature = "fault-injection")]
            if stats.frames == 5 && std::env::var_os("WSMON_TEST_PANIC_UI").is_some() {
                panic!("fault-injection: the UI panics on purpose (WSMON_TEST_PANIC_UI)");
            }
            let shown = app.view.shown(&latest).clone();
            let size = terminal.size()?;
            app.prepare(&shown, size.into());
            terminal.draw(|f| ui::draw(f, &shown, &app.view))?;
            stats.frames += 1;
            dirty = false;
            next_frame = now + frame_interval;
        }
        let wake = match (dirty, status_until) {
            (true, Some(s)) => Some(next_frame.min(s)),
            (true, None) => Some(next_frame),
            (false, s) => s,
        };
        let watching_panics = TUI_ACTIVE.load(Ordering::SeqCst);

        tokio::select! {
            biased;
            () = PANIC_NOTIFY.notified(), if watching_panics => {
                if PANICKED.load(Ordering::SeqCst) {
                    let _ = commands.try_send(Command::Shutdown.into());
                    anyhow::bail!("a task panicked (message above); the terminal was restored");
                }
            }
            ev = input.next() => {
                let ev = match ev {
                    None => {
                        shutdown(&commands).await?;
                        return Ok((Exit::InputClosed, stats));
                    }
                    Some(Err(e)) => {
                        let _ = commands.try_send(Command::Shutdown.into());
                        return Err(e).context("reading terminal input");
                    }
                    Some(Ok(ev)) => ev,
                };
                let out = app.on_event(&ev, &latest);
                dirty |= out.redraw;
                if out.quit {
                    shutdown(&commands).await?;
                    stats.commands += 1;
                    return Ok((Exit::Quit, stats));
                }
                for cmd in out.commands {
                    match commands.try_send(cmd) {
                        Ok(()) => stats.commands += 1,
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            app.view.set_error("the engine is busy: command not sent, try again");
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => {
                            app.view.set_error("the engine has stopped: command not sent");
                        }
                    }
                }
            }
            changed = snapshots.changed() => {
                if changed.is_err() {
                    return Ok((Exit::StoreClosed, stats));
                }
                latest = snapshots.borrow_and_update().clone();
                stats.snapshots += 1;
                dirty |= app.on_snapshot(&latest).redraw;
            }
            notice = recv_opt(&mut notices), if notices.is_some() => match notice {
                Some(notice) => {
                    stats.notices += 1;
                    dirty |= app.on_notice(&notice, &latest).redraw;
                }
                None => notices = None,
            },
            () = sleep_until_opt(wake), if wake.is_some() => {}
        }
    }
}

async fn recv_opt(rx: &mut Option<mpsc::Receiver<Notice>>) -> Option<Notice> {
    match rx {
        Some(rx) => rx.recv().await,
        None => None,
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// Send `Shutdown`, waiting a bounded time if the queue is full. A closed channel is fine: the
/// engine is already gone.
async fn shutdown(commands: &mpsc::Sender<Request>) -> anyhow::Result<()> {
    let stop = commands.send(Command::Shutdown.into());
    match tokio::time::timeout(SHUTDOWN_SEND_TIMEOUT, stop).await {
        Ok(_) => Ok(()),
        Err(_) => anyhow::bail!(
            "the engine did not accept the shutdown within {}s",
            SHUTDOWN_SEND_TIMEOUT.as_secs()
        ),
    }
}

/// The TUI owns the real terminal (raw mode, alternate screen, mouse capture).
static TUI_ACTIVE: AtomicBool = AtomicBool::new(false);
/// A panic happened while the TUI owned the terminal.
static PANICKED: AtomicBool = AtomicBool::new(false);
static PANIC_NOTIFY: Notify = Notify::const_new();
static HOOK: Once = Once::new();

/// Put the terminal back: raw mode off, mouse capture off, main screen, cursor shown.
fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = crossterm::execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Install (once) a panic hook that restores the terminal before the panic message is printed,
/// and wakes the TUI loop so it exits. Panics in any thread or task go through it, except a
/// session task's: the supervisor records it as that session's `internal` error and the TUI
/// goes on (its message would only garble the screen).
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if crate::engine::session::in_session_task() && TUI_ACTIVE.load(Ordering::SeqCst) {
                return;
            }
            if TUI_ACTIVE.swap(false, Ordering::SeqCst) {
                restore_terminal();
                PANICKED.store(true, Ordering::SeqCst);
                PANIC_NOTIFY.notify_one();
            }
            previous(info);
        }));
    });
}

/// Owns the terminal modes; restores them when dropped (errors returned with `?` included).
pub struct TerminalGuard {
    _private: (),
}

impl TerminalGuard {
    pub fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode()?;
        TUI_ACTIVE.store(true, Ordering::SeqCst);
        let guard = TerminalGuard { _private: () };
        crossterm::execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if TUI_ACTIVE.swap(false, Ordering::SeqCst) {
            restore_terminal();
        }
    }
}
