//! The flight recorder: an exported log is a second source of events for the same store.
//!
//! - [`load`]: `.jsonl` / `.csv` exports back into events in time order, warning once per kind
//!   of damage and refusing files that are not wsmon exports.
//! - [`line`]: one exported line back into an [`Event`](crate::engine::events::Event).
//! - [`cursor`]: [`ReplayCursor`], the store at any recorded moment (checkpoints, seek, step,
//!   play, next close, next burst, snapshot with the recorded clock).
//! - [`time`]: `14:03:12`, `+2m30s`, `-10s` against a recording.
//! - [`drive`]: the TUI on a recording: the cursor follows the time keys, snapshots flow out.
//! - [`command`]: `wsmon replay` without a screen (summary, `--at`, `--from/--to`, `--export`).

pub mod command;
pub mod cursor;
pub mod drive;
pub mod line;
pub mod load;
pub mod time;

pub use command::{Options, run};
pub use cursor::{ReplayCursor, SecondTotals, Speed};
pub use load::{LoadError, Recording, Warning, WarningKind, load};

#[cfg(test)]
mod tests;
