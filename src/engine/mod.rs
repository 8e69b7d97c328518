//! The session engine: one task per session, a supervisor, and the pure backoff policy.

pub mod backoff;
pub mod counters;
pub mod events;
