//! `Retry-After` on a refused upgrade (RFC 9110 section 10.2.3).

use std::time::{Duration, SystemTime};

/// Why a `Retry-After` value was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetryAfterError {
    #[error("empty Retry-After")]
    Empty,
    #[error("Retry-After '{0}' is neither a number of seconds nor an HTTP date")]
    Invalid(String),
}

/// Parse a `Retry-After` value (RFC 9110 section 10.2.3): `delay-seconds` (digits only) or an
/// HTTP date, relative to `now`. A date in the past gives zero. The value in an error is
/// escaped for display.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Result<Duration, RetryAfterError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(RetryAfterError::Empty);
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: only overflow can fail, and a huge delay is still a valid delay.
        let secs = v.parse::<u64>().unwrap_or(u64::MAX);
        return Ok(Duration::from_secs(secs));
    }
    match httpdate::parse_http_date(v) {
        Ok(at) => Ok(at.duration_since(now).unwrap_or(Duration::ZERO)),
        Err(_) => {
            let shown: String = v.chars().take(64).collect();
            Err(RetryAfterError::Invalid(crate::redact::escape_control(
                &shown,
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn parse_retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(parse_retry_after("120", now), Ok(secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Ok(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Ok(secs(120))
        );
        // Obsolete RFC 850 form is accepted too (RFC 9110 requires it).
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now),
            Ok(secs(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Ok(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Ok(Duration::from_secs(u64::MAX))
        );
        assert_eq!(parse_retry_after("", now), Err(RetryAfterError::Empty));
        for bad in ["soon", "-5", "1.5", "12s", "Wed, 32 Oct 2015 07:30:00 GMT"] {
            assert!(
                matches!(
                    parse_retry_after(bad, now),
                    Err(RetryAfterError::Invalid(_))
                ),
                "{bad}"
            );
        }
        let err = parse_retry_after("x\x1b[31m", now).expect_err("garbage");
        assert!(!err.to_string().contains('\x1b'), "{err}");
    }
}
