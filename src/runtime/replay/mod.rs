//! A recorded log as a [`Source`](super::Source): the second source of events for the same
//! store, beside the live engine.
//!
//! - [`load`]: `.jsonl` / `.csv` exports back into events in time order, warning once per kind
//!   of damage and refusing files that are not wsmon exports (or not regular files).
//! - [`merge`]: several exports of one fleet (`--shard K/N` agents) as one recording, session
//!   ids qualified by shard (`2/4:s17`), targets merged by URL.
//! - [`line`]: one exported line back into an [`Event`](crate::engine::events::Event).
//! - [`cursor`]: [`ReplayCursor`], the store at any recorded moment (checkpoints, seek, step,
//!   play, next close, next burst, snapshot with the recorded clock).
//! - [`time`]: `14:03:12`, `+2m30s`, `-10s` against a recording.
//! - [`drive`]: the driver task: the cursor follows [`ReplayCmd`]s, snapshots flow out.
//!
//! Why here, below the front ends: the reader, cursor and driver are an event source like the
//! engine, and the runtime wires sources to front ends. The `replay` command (summary, `--at`,
//! slices, opening the TUI) is a front end and stays in `crate::replay`; nothing here names
//! `tui` or `replay`.

pub mod cap;
pub mod cursor;
pub mod drive;
pub mod line;
pub mod load;
pub mod merge;
pub mod time;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::task::JoinHandle;

pub use cursor::{ReplayCursor, SecondTotals};
pub use load::{LoadError, Recording, Warning, WarningKind, load};

use super::{Request, RuntimeError, Source, SourceIo};

/// Playback speed (the keys choose it; the driver plays at it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Speed {
    #[default]
    X1,
    X10,
    X100,
    /// As fast as possible: a fixed number of events per tick.
    Max,
}

impl Speed {
    pub fn label(self) -> &'static str {
        match self {
            Speed::X1 => "x1",
            Speed::X10 => "x10",
            Speed::X100 => "x100",
            Speed::Max => "max",
        }
    }
}

/// A request to the replay driver (the time cursor keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayCmd {
    Play,
    Pause,
    Speed(Speed),
    /// Move by a signed duration.
    Step(TimeDelta),
    /// Go to a moment (clamped to the recording).
    Seek(DateTime<Utc>),
    /// The next close with this code after the cursor.
    NextClose(u16),
    /// The next burst of attempts after the cursor.
    NextBurst,
}

/// A recording as a source: the driver task owns the cursor and publishes the store's snapshot
/// at the cursor. It keeps its own store ([`Source::OWN_STORE`]): seeking back restores a
/// checkpoint (a clone of the store), and snapshots carry the recorded clock, neither of which
/// the live store task (wall clock, events only forward) does.
pub struct Replay {
    pub cursor: ReplayCursor,
}

impl Source for Replay {
    type Cmd = ReplayCmd;
    const OWN_STORE: bool = true;

    fn accept(req: Request) -> Option<ReplayCmd> {
        match req {
            Request::Replay(cmd) => Some(cmd),
            // Nothing reconnects or sends in a recording; `Shutdown` closes the command
            // channel (the router stops), which stops the driver.
            Request::Engine(_) => None,
        }
    }

    fn start(self, io: SourceIo<ReplayCmd>) -> Result<JoinHandle<()>, RuntimeError> {
        let mut cursor = self.cursor;
        let Some(snapshots) = io.snapshots else {
            // Only `runtime::start` starts sources, and it gives an `OWN_STORE` source its
            // snapshot sender: without one there is nobody to show the recording to.
            return Ok(tokio::spawn(async {}));
        };
        snapshots.send_replace(cursor.snapshot());
        Ok(tokio::spawn(drive::drive(cursor, io.commands, snapshots)))
    }
}

#[cfg(test)]
mod tests;
