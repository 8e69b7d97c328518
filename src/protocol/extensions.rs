//! `Sec-WebSocket-Extensions` (RFC 6455 section 9.1): parsing, formatting, and checking what a
//! server accepted against what the client offered and required.

use serde::{Deserialize, Serialize};

/// One extension with its parameters, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Extension {
    pub name: String,
    pub params: Vec<Param>,
}

/// `name` or `name=value` (value unquoted).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    pub value: Option<String>,
}
