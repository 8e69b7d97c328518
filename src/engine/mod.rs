//! The session engine: one task per session, a supervisor, the pure backoff policy, and the
//! events they emit. The engine only emits: it sends [`events::SessionMsg`]s on a sender it is
//! given and takes [`events::Command`]s from a receiver it is given; `runtime` wires both ends.
//!
//! ```text
//! supervisor --spawns--> session tasks --SessionMsg (bounded)--> (the runtime's store)
//! (the front end) --Command (bounded)--> supervisor --SessionCmd--> session tasks
//! ```

pub mod backoff;
pub mod close;
pub mod conversation;
pub mod counters;
pub mod events;
pub mod h2pool;
pub mod inbox;
pub mod protocols;
pub mod script;
pub mod session;
pub mod settings;
pub mod shard;
pub mod slots;
pub mod supervisor;
#[cfg(any(test, feature = "test-support"))]
pub mod test_events;

pub use settings::{EngineSettings, SessionSettings, TargetSpec};
pub use supervisor::{StartError, start};
