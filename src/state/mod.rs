//! The store: the single owner of session state.

pub mod snapshot;
