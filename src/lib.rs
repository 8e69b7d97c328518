//! wsmon: run and watch many WebSocket client sessions at once.
//!
//! Data flows one way: session tasks send [`engine::events::SessionMsg`]s to the store task,
//! which keeps the state, forwards every event to its sinks (the export writer) and publishes
//! read-only [`state::snapshot::Snapshot`]s for the TUI and headless mode. The UI sends
//! [`engine::events::Command`]s back to the supervisor. [`runtime`] wires it all.
//!
//! Modules, bottom to top (imports point down only):
//!
//! ```text
//! units, redact, signal, limits, files  durations, sizes; secrets; signals; fd limits; files
//! codes, protocol                close-code knowledge; handshake, extensions, URL, frame layer
//! engine                         supervisor, session tasks, backoff; its own settings types
//! state, export, metrics         the store and snapshots; the export writer, reader; Prometheus
//! runtime, thresholds            wires a source (engine or recorded log) to the sinks; --fail-if
//! tui, headless, replay, explain, report, server  front ends, and the scenario server
//! cli, config                    clap and the TOML file, parsed into the lower layers' settings
//! app                            picks a front end (main.rs is the binary)
//! ```
//!
//! Modules on one line may not name each other, except `config` -> `cli` (it merges the flags
//! over the file) and `replay` -> `tui`, `headless` (replay opens the TUI, prints the summary).
//! `tests/layering.rs` parses every file and holds the same table: add a module to both.

pub mod app;
pub mod cli;
pub mod codes;
pub mod config;
pub mod engine;
pub mod explain;
pub mod export;
pub mod files;
pub mod headless;
pub mod limits;
pub mod metrics;
pub mod protocol;
pub mod redact;
pub mod replay;
pub mod report;
pub mod runtime;
pub mod server;
pub mod signal;
pub mod state;
pub mod thresholds;
pub mod tui;
pub mod units;
