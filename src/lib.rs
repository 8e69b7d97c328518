//! wsmon: run and watch many WebSocket client sessions at once.
//!
//! Data flows one way: session tasks send [`engine::events::Event`]s to the store task, which
//! keeps the state, forwards every event to the export writer and publishes read-only
//! [`state::snapshot::Snapshot`]s for the TUI and headless mode. The UI sends
//! [`engine::events::Command`]s back to the supervisor.

pub mod app;
pub mod cli;
pub mod codes;
pub mod config;
pub mod engine;
pub mod export;
pub mod headless;
pub mod protocol;
pub mod redact;
pub mod replay;
pub mod server;
pub mod signal;
pub mod state;
pub mod tui;
pub mod units;
