//! Wire protocol pieces: the HTTP/1.1 upgrade, extension negotiation, permessage-deflate.

pub mod deflate;
pub mod extensions;
pub mod handshake;
pub mod proxy;
pub mod url;

/// A close frame's reason is at most 123 bytes of UTF-8 (RFC 6455 section 5.5: 125 bytes of
/// control-frame payload minus the 2-byte code).
pub const MAX_CLOSE_REASON: usize = 123;

/// `s` cut to at most [`MAX_CLOSE_REASON`] bytes, on a character boundary.
pub fn close_reason(s: &str) -> &str {
    let mut end = s.len().min(MAX_CLOSE_REASON);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    #[test]
    fn close_reasons_are_cut_on_a_character_boundary() {
        assert_eq!(super::close_reason("bye"), "bye");
        let long = "é".repeat(100); // 200 bytes
        let cut = super::close_reason(&long);
        assert_eq!(cut.len(), 122);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
