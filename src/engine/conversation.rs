//! What a session says once it is open: the seam between the open loop
//! (`engine::session::open`), which owns the socket, and whatever drives the conversation (a
//! user's script, a built-in protocol such as graphql-ws or Socket.IO).
//!
//! A [`Conversation`] never touches the socket or the clock: the open loop hands it each data
//! message with the time it came, wakes it at the deadline it asks for, and carries out the
//! [`Action`]s it returns, in order. That keeps every conversation a plain state machine, tested
//! without a network and run unchanged over HTTP/1.1 or HTTP/2 streams.

use std::time::Duration;

use tokio::time::Instant;

use crate::engine::events::EventKind;

/// A data message from the server, as the frame layer delivered it (inflated, whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// A text message (valid UTF-8: the frame layer refuses anything else).
    Text(&'a str),
    Binary(&'a [u8]),
}

/// A message the conversation wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    Text(String),
    Binary(Vec<u8>),
}

/// What the open loop does for a conversation, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send a data message (counted in the session's messages out like any other).
    Send(Outgoing),
    /// Record an event for this session (`script`, `latency`, ...). `error` events of kind
    /// `script` come with a [`Action::Close`] after them.
    Emit(EventKind),
    /// Start the closing handshake as the client, with this code and reason; the session
    /// retries after it per the reconnect policy (a failed script step is `Cause::Error` of
    /// kind `script`, see `ErrorKind::Script`).
    Close { code: u16, reason: String },
    /// From now on the session is stale after this long without a message from the server
    /// (`None`: the user's `--stale-after`, or never). A protocol that learns its peer's
    /// heartbeat (Socket.IO's `pingInterval + pingTimeout`) sets it.
    StaleAfter(Option<Duration>),
}

/// Drives one connection's conversation. A new one is made for every connection (scripts run
/// from the top on every reconnect), by the session's [`ConversationFactory`].
pub trait Conversation: Send {
    /// The connection just opened (after the `open` event).
    fn start(&mut self, now: Instant, out: &mut Vec<Action>);
    /// A data message arrived at `now`.
    fn on_message(&mut self, msg: Incoming<'_>, now: Instant, out: &mut Vec<Action>);
    /// When the conversation next wants [`Conversation::on_deadline`] (an `expect` timing out,
    /// an `every` step due), or `None`.
    fn next_deadline(&self) -> Option<Instant>;
    /// `next_deadline` passed.
    fn on_deadline(&mut self, now: Instant, out: &mut Vec<Action>);
    /// Whether a data message can still matter to it (a finished script: no). The session
    /// asks after each call above and hands it no message while this is `false`: at one message
    /// a second on 10,000 sessions, not touching a finished conversation is measurable.
    fn listening(&self) -> bool {
        true
    }
}

/// What every new connection of a session needs to start its conversation: the session's
/// identity for templates (`{session}`, `{index}`, `{attempt}`, `{shard}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionInfo {
    pub session: crate::engine::events::SessionId,
    /// The session's index within its target (as in the `spawned` event).
    pub index: usize,
    /// The attempt this connection is (1 for the first).
    pub attempt: u32,
}

/// Makes a session's conversation for each of its connections. Shared by all the sessions of
/// a target (built once from the config, checked before any connection).
pub trait ConversationFactory: Send + Sync + std::fmt::Debug {
    fn start(&self, conn: ConnectionInfo) -> Box<dyn Conversation>;
}
