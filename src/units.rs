//! Durations and sizes as operators type them ("20s", "1m30s", "16MiB"): parsing lives here,
//! below every other layer, so the CLI, the config file and the TUI prompts agree; and the
//! one way durations are written ([`format_ms`]).

use std::time::Duration;

/// Parse "20s", "1m30s", "500ms", or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = t.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Ok(Duration::from_secs_f64(secs));
        }
        return Err(format!("invalid duration '{s}'"));
    }
    humantime::parse_duration(t)
        .map_err(|e| format!("invalid duration '{s}': {e} (try 20s, 5m, 500ms)"))
}

/// A duration in ms as operators read it: `850ms`, `12.3s` (rounded to the tenth), `4m05s`
/// (whole seconds),
/// `2h03m`, `3d04h`. The one formatter for durations on screen and in the event log, so the
/// same 1756 ms reads `1.8s` everywhere.
pub fn format_ms(ms: u64) -> String {
    // Tenths of a second, rounded half up: 59,960 ms is a minute, not "60.0s".
    let tenths = ms.saturating_add(50) / 100;
    if ms < 1000 {
        format!("{ms}ms")
    } else if tenths < 600 {
        format!("{}.{}s", tenths / 10, tenths % 10)
    } else {
        // Whole seconds from a minute on (the tenths rounded up to a minute above).
        let s = (ms / 1000).max(60);
        if s < 3600 {
            format!("{}m{:02}s", s / 60, s % 60)
        } else if s < 86_400 {
            format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
        } else {
            format!("{}d{:02}h", s / 86_400, (s % 86_400) / 3600)
        }
    }
}

/// Parse "16MiB", "64KiB", "1000", "2MB".
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid size '{s}' (try 16MiB, 64KiB, 1000)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1024,
        "m" | "mb" => 1_000_000,
        "mib" => 1024 * 1024,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1024 * 1024 * 1024,
        _ => return Err(format!("invalid size unit in '{s}' (use B, KiB, MiB, GiB)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("size '{s}' is too large"))
}

/// `--start-at`: an RFC 3339 time (`2026-12-07T12:30:00Z`; an offset is converted to UTC) or
/// `+DURATION` from `now` (`+30s`).
pub fn parse_start_at(
    s: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let t = s.trim();
    if let Some(rel) = t.strip_prefix('+') {
        let d = parse_duration(rel)?;
        return chrono::TimeDelta::from_std(d)
            .ok()
            .and_then(|d| now.checked_add_signed(d))
            .ok_or_else(|| format!("'{s}' is too far ahead"));
    }
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|at| at.with_timezone(&chrono::Utc))
        .map_err(|e| {
            format!(
                "invalid time '{}': {e} (use RFC 3339 UTC, e.g. 2026-12-07T12:30:00Z, or +30s from now)",
                s.escape_debug()
            )
        })
}

/// `--start-at` on the command line: resolved against the clock when the flag is read.
pub fn parse_start_at_now(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    parse_start_at(s, chrono::Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_times() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .expect("time");
        let at = |s| parse_start_at(s, now).map(|t| t.to_rfc3339());
        assert_eq!(at("+30s"), Ok("2026-12-07T12:00:30+00:00".into()));
        assert_eq!(at("+1m"), Ok("2026-12-07T12:01:00+00:00".into()));
        assert_eq!(
            at("2026-12-07T13:00:00+01:00"),
            Ok("2026-12-07T12:00:00+00:00".into())
        );
        assert_eq!(
            at(" 2026-12-07T12:30:00.500Z"),
            Ok("2026-12-07T12:30:00.500+00:00".into())
        );
        let bad = at("tomorrow").expect_err("not a time");
        assert!(bad.contains("invalid time 'tomorrow'"), "{bad}");
        assert!(bad.contains("+30s"), "{bad}");
        assert!(at("+soon").is_err());
        assert!(at("12:30").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16MiB"), Ok(16 * 1024 * 1024));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("12 parsecs").is_err());
    }
}
