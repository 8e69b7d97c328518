//! `wsmon replay`, the front end over a recorded log: its summary, the state at a moment
//! (`--at`), slices (`--from/--to --export`), and the TUI with a time cursor. The reader, the
//! cursor and the driver are a runtime source: [`crate::runtime::replay`].

pub mod command;
pub mod gate;
pub mod messages;

pub use command::{Options, run};
