//! Times typed by an operator for a recording: `14:03:12` (UTC, on the recording's date),
//! `+2m30s` (after the first event), `-10s` (before the last event), or a full RFC 3339 time.

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error(
        "invalid time '{0}': use 14:03:12 (UTC), +2m30s (from the start), -10s (before the end) or 2026-11-25T14:03:12Z"
    )]
    Invalid(String),
    #[error("{0}")]
    Duration(String),
}

/// Resolve `spec` against a recording that runs from `start` to `end`.
pub fn parse_time(
    spec: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<DateTime<Utc>, TimeError> {
    let s = spec.trim();
    let offset = |rest: &str| -> Result<TimeDelta, TimeError> {
        let d = crate::units::parse_duration(rest).map_err(TimeError::Duration)?;
        TimeDelta::from_std(d).map_err(|_| TimeError::Invalid(spec.to_string()))
    };
    if let Some(rest) = s.strip_prefix('+') {
        return Ok(start + offset(rest)?);
    }
    if let Some(rest) = s.strip_prefix('-') {
        return Ok(end - offset(rest)?);
    }
    if let Some(t) = super::line::parse_ts(s) {
        return Ok(t);
    }
    let time = ["%H:%M:%S%.f", "%H:%M"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(s, f).ok())
        .ok_or_else(|| TimeError::Invalid(spec.to_string()))?;
    // On the recording's date; a recording that crosses midnight takes the day that puts the
    // time inside it.
    let mut day = start.date_naive();
    let mut t = day.and_time(time).and_utc();
    while t < start && day < end.date_naive() {
        match day.succ_opt() {
            Some(next) => day = next,
            None => break,
        }
        t = day.and_time(time).and_utc();
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        super::super::line::parse_ts(s).expect("test time")
    }

    #[test]
    fn clock_offsets_and_full_times() {
        let (a, b) = (at("2026-11-25T14:00:00.500Z"), at("2026-11-25T14:10:00Z"));
        assert_eq!(parse_time("14:03:12", a, b), Ok(at("2026-11-25T14:03:12Z")));
        assert_eq!(
            parse_time("14:03:12.250", a, b),
            Ok(at("2026-11-25T14:03:12.250Z"))
        );
        assert_eq!(
            parse_time("+2m30s", a, b),
            Ok(at("2026-11-25T14:02:30.500Z"))
        );
        assert_eq!(parse_time("-10s", a, b), Ok(at("2026-11-25T14:09:50Z")));
        assert_eq!(
            parse_time("2026-11-25T14:05:00Z", a, b),
            Ok(at("2026-11-25T14:05:00Z"))
        );
        assert!(parse_time("yesterday", a, b).is_err());
        assert!(parse_time("+soon", a, b).is_err());
    }

    #[test]
    fn a_clock_time_after_midnight_lands_on_the_next_day() {
        let (a, b) = (at("2026-11-25T23:59:00Z"), at("2026-11-26T00:02:00Z"));
        assert_eq!(parse_time("00:01", a, b), Ok(at("2026-11-26T00:01:00Z")));
        assert_eq!(parse_time("23:59:30", a, b), Ok(at("2026-11-25T23:59:30Z")));
    }
}
