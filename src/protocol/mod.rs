//! Wire protocol pieces: the HTTP/1.1 upgrade, extension negotiation, permessage-deflate.

pub mod deflate;
pub mod extensions;
pub mod handshake;
