//! permessage-deflate (RFC 7692) as a frame-level stream layer under tokio-tungstenite.

/// The permessage-deflate parameters in force on one connection (RFC 7692 section 7.1), as
/// negotiated by [`super::extensions::check_response`] or [`super::extensions::server_select`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// Base-2 log of the server's LZ77 window, 8..=15 (15 when not negotiated).
    pub server_max_window_bits: u8,
    /// Base-2 log of the client's LZ77 window, 8..=15 (15 when not negotiated).
    pub client_max_window_bits: u8,
}

impl Default for DeflateParams {
    /// No parameters: context takeover on both sides, 32 KiB windows.
    fn default() -> Self {
        DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}
