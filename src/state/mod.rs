//! The store: the single owner of session state.

pub mod export_fault;
pub mod lag;
pub mod messages;
pub mod snapshot;
pub mod store;
pub mod storm;
