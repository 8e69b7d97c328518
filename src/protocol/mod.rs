//! Wire protocol pieces: the HTTP/1.1 upgrade, extension negotiation, RFC 6455 frames, the
//! permessage-deflate codec and the frame layer under tokio-tungstenite.

pub mod deflate;
pub mod error;
pub mod extensions;
pub mod frame;
pub mod handshake;
#[cfg(test)]
mod prop_tests;
pub mod proxy;
pub mod tap;
#[cfg(test)]
pub(crate) mod test_support;
pub mod url;
pub mod wire;
pub mod ws;

pub use frame::{MAX_CLOSE_REASON, close_reason};
/// WebSockets over HTTP/2 (RFC 8441), beside the HTTP/1.1 upgrade it shares its records with.
pub use handshake::http2;
