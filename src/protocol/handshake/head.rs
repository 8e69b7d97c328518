//! The answer's head: read from the socket up to the blank line, then parsed (or, when it is
//! not valid HTTP, salvaged line by line for what can be recorded).

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::protocol::extensions;
use crate::redact;

/// Largest response head we accept (status line + headers).
const MAX_HEAD: usize = 16 * 1024;

/// How many bytes of an unparsable answer are quoted in the error.
const QUOTE_BYTES: usize = 48;

/// A response head: the status line and the header lines that parsed. When the head as a
/// whole is not valid HTTP, `bad_header` names the first header line that was not, and
/// `malformed` says what was wrong.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Head {
    /// 0 when no status line could be read.
    pub status: u16,
    /// Control characters escaped; empty when there was no status line.
    pub status_line: String,
    pub headers: Vec<(String, String)>,
    pub bad_header: Option<String>,
    pub malformed: Option<String>,
}

/// A header value byte that HTTP allows (RFC 9110 section 5.5: VCHAR, obs-text, SP, HTAB).
fn is_value_byte(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// Parse a response head (`head` ends at the blank line, or is what arrived when it never
/// did). Never fails: a head httparse refuses is read line by line for what can be kept.
pub(crate) fn parse_head(head: &[u8]) -> Head {
    let mut raw_headers = [httparse::EMPTY_HEADER; 96];
    let mut resp = httparse::Response::new(&mut raw_headers);
    let problem = match resp.parse(head) {
        Ok(httparse::Status::Complete(_)) => {
            let status = resp.code.unwrap_or(0);
            let reason = redact::escape_control(resp.reason.unwrap_or(""));
            let version = resp.version.unwrap_or(1);
            return Head {
                status,
                status_line: format!("HTTP/1.{version} {status} {reason}")
                    .trim_end()
                    .to_string(),
                headers: resp
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect(),
                bad_header: None,
                malformed: None,
            };
        }
        Ok(httparse::Status::Partial) => "incomplete HTTP answer to the upgrade".to_string(),
        Err(e) => format!("malformed HTTP answer to the upgrade ({e})"),
    };
    salvage(head, problem)
}

/// Read what can be read of a head that is not valid HTTP: the status line if there is one,
/// the well-formed header lines, and the name of the first bad one.
pub(super) fn salvage(head: &[u8], problem: String) -> Head {
    let mut out = Head::default();
    // Only complete lines: the last one may have been cut.
    let complete = head.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let mut lines = head[..complete]
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    let status = parse_status_line(first);
    match status {
        Some(code) => {
            out.status = code;
            out.status_line = redact::escape_bytes(&first[..first.len().min(200)]);
            for line in lines {
                if line.is_empty() {
                    break;
                }
                let good = line.iter().position(|&b| b == b':').and_then(|colon| {
                    let name = std::str::from_utf8(&line[..colon]).ok()?;
                    let value = line[colon + 1..].trim_ascii();
                    (extensions::is_token(name) && value.iter().copied().all(is_value_byte)).then(
                        || {
                            (
                                name.to_string(),
                                String::from_utf8_lossy(value).into_owned(),
                            )
                        },
                    )
                });
                match good {
                    Some(h) => out.headers.push(h),
                    None if out.bad_header.is_none() => {
                        let name = match line.iter().position(|&b| b == b':') {
                            Some(colon) => &line[..colon],
                            None => line,
                        };
                        out.bad_header = Some(redact::escape_bytes(&name[..name.len().min(80)]));
                    }
                    None => {}
                }
            }
            out.malformed = Some(match &out.bad_header {
                Some(name) => format!("{problem}: header '{name}' is not valid"),
                None => problem,
            });
        }
        None => {
            let shown = &head[..head.len().min(QUOTE_BYTES)];
            out.malformed = Some(format!(
                "{problem}: the answer does not start with an HTTP status line; it starts with \"{}\"{}",
                redact::escape_bytes(shown),
                if head.len() > QUOTE_BYTES { "..." } else { "" }
            ));
        }
    }
    out
}

/// The status code of an `HTTP/1.x NNN reason` line.
fn parse_status_line(line: &[u8]) -> Option<u16> {
    let rest = line.strip_prefix(b"HTTP/1.")?;
    let (&minor, rest) = rest.split_first()?;
    if !minor.is_ascii_digit() {
        return None;
    }
    let rest = rest.strip_prefix(b" ")?;
    let code = rest.get(..3)?;
    if !code.iter().all(u8::is_ascii_digit) || rest.get(3).is_some_and(|&b| b != b' ') {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

/// Why a response head could not be read whole.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeadCut {
    #[error("the upgrade answer's headers are larger than {} KiB", MAX_HEAD / 1024)]
    TooLarge,
    #[error("the server closed the connection without answering the upgrade")]
    NoAnswer,
    #[error("the server closed the connection in the middle of the upgrade answer")]
    Closed,
    #[error("{0}")]
    Io(io::Error),
}

/// Read into `buf` until it holds a whole response head; returns the head's length (bytes
/// after it belong to the body or the frames). On failure `buf` holds what arrived.
pub(crate) async fn read_head<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut Vec<u8>,
) -> Result<usize, HeadCut> {
    loop {
        if let Some(pos) = find_head_end(buf) {
            return Ok(pos);
        }
        if buf.len() >= MAX_HEAD {
            return Err(HeadCut::TooLarge);
        }
        // Read into the buffer's spare room: no array on the future's stack, which every
        // session's task would carry for its whole life.
        buf.reserve(2048);
        let n = io.read_buf(buf).await.map_err(HeadCut::Io)?;
        if n == 0 {
            return Err(if buf.is_empty() {
                HeadCut::NoAnswer
            } else {
                HeadCut::Closed
            });
        }
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines() {
        assert_eq!(parse_status_line(b"HTTP/1.1 101 Switching"), Some(101));
        assert_eq!(parse_status_line(b"HTTP/1.0 503"), Some(503));
        assert_eq!(parse_status_line(b"HTTP/1.1 1011 x"), None);
        assert_eq!(parse_status_line(b"HTTP/2 200"), None);
        assert_eq!(parse_status_line(b"SSH-2.0"), None);
        assert_eq!(parse_status_line(b""), None);
    }

    #[test]
    fn head_end() {
        assert_eq!(find_head_end(b"HTTP/1.1 101 OK\r\n\r\nxyz"), Some(19));
        assert_eq!(find_head_end(b"HTTP/1.1 101 OK\r\n"), None);
    }
}
