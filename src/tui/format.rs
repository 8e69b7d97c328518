//! Small, pure text formatters shared by the views: durations, counts, bytes, extensions, and
//! [`safe`] for text that came from a peer or a file.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::engine::events::{Cause, DelayKind, SessionState};
use crate::protocol::extensions::Extension;
use crate::redact;
use crate::state::snapshot::{AttemptOutcome, SessionView};

/// Text from a remote peer or a file, safe to draw: control characters escaped (text that is
/// already escaped is left alone, so backslashes are not doubled).
pub fn safe(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(redact::escape_control(s))
    } else {
        Cow::Borrowed(s)
    }
}

/// How long the current connection has been open, in ms (Open and Closing only).
pub fn uptime_ms(s: &SessionView, now: DateTime<Utc>) -> Option<u64> {
    match s.state {
        SessionState::Open | SessionState::Closing => s
            .opened_at
            .map(|t| u64::try_from((now - t).num_milliseconds()).unwrap_or(0)),
        _ => None,
    }
}

/// Milliseconds until `t` (0 when past).
pub fn ms_until(t: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((t - now).num_milliseconds()).unwrap_or(0)
}

/// Milliseconds from `t` to `now` (0 when `t` is in the future).
pub fn ms_since(t: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    ms_until(now, t)
}

/// A duration in ms as a short human text: `850ms`, `12.3s`, `4m05s`, `2h03m`, `3d04h` (the
/// one formatter, [`crate::units::format_ms`], shared with the event log).
pub fn duration_ms(ms: u64) -> String {
    crate::units::format_ms(ms)
}

/// A duration in ms, rounded to whole units for tight columns: `850ms`, `12s`, `4m05s`.
pub fn duration_short(ms: u64) -> String {
    if (1000..60_000).contains(&ms) {
        format!("{}s", ms / 1000)
    } else {
        duration_ms(ms)
    }
}

/// The age of a message (or a silence): `0s`, `3s`, `1m12s`, `2h03m`.
pub fn msg_age(ms: u64) -> String {
    if ms < 60_000 {
        format!("{}s", ms / 1000)
    } else {
        duration_ms(ms)
    }
}

/// Round-trip time from microseconds: `850us`, `12.3ms`, `1.20s`.
pub fn rtt(us: u64) -> String {
    if us < 1000 {
        format!("{us}us")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1000.0)
    } else {
        format!("{:.2}s", us as f64 / 1_000_000.0)
    }
}

/// A count: `999`, `1.2k`, `34k`, `5.6M`, `7.8G`.
pub fn count(n: u64) -> String {
    scaled(n, 1000.0, &["", "k", "M", "G", "T"])
}

/// Bytes in binary units: `512B`, `1.2K`, `34K`, `5.6M`, `7.8G` (K = KiB).
pub fn bytes(n: u64) -> String {
    scaled(n, 1024.0, &["B", "K", "M", "G", "T"])
}

fn scaled(n: u64, base: f64, units: &[&str]) -> String {
    let mut v = n as f64;
    let mut unit = 0;
    while v >= base && unit + 1 < units.len() {
        v /= base;
        unit += 1;
    }
    if unit == 0 {
        format!("{n}{}", units[0])
    } else if v < 10.0 {
        format!("{v:.1}{}", units[unit])
    } else {
        format!("{:.0}{}", v.floor(), units[unit])
    }
}

/// One extension as a header value: `permessage-deflate; client_max_window_bits=15`.
pub fn extension(e: &Extension) -> String {
    let mut out = e.name.clone();
    for p in &e.params {
        out.push_str("; ");
        out.push_str(&p.name);
        if let Some(v) = &p.value {
            let _ = write!(out, "={v}");
        }
    }
    out
}

/// A list of extensions as one header value ("-" for none).
pub fn extensions(list: &[Extension]) -> String {
    if list.is_empty() {
        return "-".to_string();
    }
    list.iter().map(extension).collect::<Vec<_>>().join(", ")
}

/// The short name of an extension for the table: `deflate` for permessage-deflate.
pub fn ext_name(name: &str) -> &str {
    if name.eq_ignore_ascii_case("permessage-deflate") {
        "deflate"
    } else {
        name
    }
}

/// The HTTP version that carried the session: its last open connection's, else its last
/// answer's; HTTP/1.1 when an answer came without one (the default transport records none).
/// None before any answer.
pub fn proto(s: &SessionView) -> Option<crate::protocol::http2::Proto> {
    s.link
        .transport
        .or_else(|| s.last_handshake.as_ref().and_then(|h| h.link.transport))
        .or_else(|| {
            s.last_handshake
                .as_ref()
                .map(|_| crate::protocol::http2::Proto::H1)
        })
}

/// The negotiated extensions of the session's last successful handshake, short ("-" if none).
pub fn ext_short(s: &SessionView) -> Cow<'_, str> {
    let Some(h) = s.last_handshake.as_ref().filter(|h| h.is_upgrade()) else {
        return Cow::Borrowed("-");
    };
    match h.accepted.as_slice() {
        [] => Cow::Borrowed("-"),
        [one] => Cow::Borrowed(ext_name(&one.name)),
        many => Cow::Owned(
            many.iter()
                .map(|e| ext_name(&e.name))
                .collect::<Vec<_>>()
                .join(","),
        ),
    }
}

/// A cause in a few words: `close 1013`, `HTTP 503`, `error connect`, `manual`.
pub fn cause(c: &Cause) -> String {
    match c {
        Cause::Close { code } => format!("close {code}"),
        Cause::Status { status } => format!("HTTP {status}"),
        Cause::Error { kind } => format!("error {}", kind.as_str()),
        Cause::Manual => "manual".to_string(),
        Cause::Shutdown => "shutdown".to_string(),
        Cause::Connection { reason, h2_error } => {
            crate::protocol::http2::loss_label(*reason, *h2_error)
        }
    }
}

/// An outcome in a few words: `open`, `close 1013`, `HTTP 503`, `error dns`.
pub fn outcome(o: &AttemptOutcome) -> String {
    match o {
        AttemptOutcome::Opened => "open".to_string(),
        AttemptOutcome::Closed { code } => format!("close {code}"),
        AttemptOutcome::Status { status } => format!("HTTP {status}"),
        AttemptOutcome::Error { kind } => format!("error {}", kind.as_str()),
    }
}

/// A delay rule in a few words.
pub fn delay_kind(k: DelayKind) -> &'static str {
    match k {
        DelayKind::Backoff => "backoff",
        DelayKind::RestartDelay => "restart",
        DelayKind::Immediate => "immediate",
    }
}

/// `text` cut to `width` characters, with `…` marking the cut.
pub fn fit(text: &str, width: usize) -> Cow<'_, str> {
    if text.chars().count() <= width {
        return Cow::Borrowed(text);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    Cow::Owned(out)
}

/// Greedy word wrap to `width` characters; words longer than a line are cut. Never empty.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut len = 0;
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let need = if len == 0 { word.len() } else { word.len() + 1 };
            if len + need <= width {
                if len > 0 {
                    line.push(' ');
                }
                line.extend(word.iter());
                len += need;
                break;
            }
            if len > 0 {
                lines.push(std::mem::take(&mut line));
                len = 0;
                continue;
            }
            let tail = word.split_off(width.min(word.len()));
            lines.push(word.iter().collect());
            word = tail;
            if word.is_empty() {
                break;
            }
        }
    }
    if len > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// A host and path for the table: the URL without its scheme.
pub fn short_url(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

/// `text` cut in the middle to `width` characters, with `…` marking the cut: the start and the
/// end stay (the end of a path, a query or a file name is often what tells two apart).
pub fn fit_middle(text: &str, width: usize) -> Cow<'_, str> {
    let len = text.chars().count();
    if len <= width {
        return Cow::Borrowed(text);
    }
    if width <= 1 {
        return Cow::Owned("…".chars().take(width).collect());
    }
    let tail = (width - 1) / 2;
    let head = width - 1 - tail;
    let mut out: String = text.chars().take(head).collect();
    out.push('…');
    out.extend(text.chars().skip(len - tail));
    Cow::Owned(out)
}

/// (scheme, host and port, path and query) of a URL; the path is `/` when empty. Credentials
/// (already redacted) are left out: they do not tell targets apart.
fn url_parts(url: &str) -> (&str, &str, &str) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let path = path.split('#').next().unwrap_or_default();
    (scheme, authority, if path.is_empty() { "/" } else { path })
}

/// Labels that tell targets apart in a narrow column: the path and query when every target
/// shares scheme, host and port (`/echo`, `/overload?cap=5`). When hosts or ports differ, the
/// host and port are kept whole as far as they differ (`:9001` when only ports differ, the
/// host when only hosts do, both otherwise), followed by the path only where several targets
/// share that host and port. The whole URL if even that is ambiguous. Same order as `urls`.
pub fn target_labels<S: AsRef<str>>(urls: &[S]) -> Vec<String> {
    let parts: Vec<(&str, &str, &str)> = urls.iter().map(|u| url_parts(u.as_ref())).collect();
    let shared = parts
        .first()
        .is_some_and(|(s0, a0, _)| parts.iter().all(|(s, a, _)| s == s0 && a == a0));
    if shared {
        return parts.iter().map(|(_, _, p)| (*p).to_string()).collect();
    }
    let split = |a: &str| -> (String, String) {
        // `[::1]:80`, `host:80`, `host`.
        match a.rfind(':') {
            Some(i) if !a[i..].contains(']') => (a[..i].to_string(), a[i..].to_string()),
            _ => (a.to_string(), String::new()),
        }
    };
    let hp: Vec<(String, String)> = parts.iter().map(|(_, a, _)| split(a)).collect();
    let same_host = hp.iter().all(|(h, _)| *h == hp[0].0);
    let same_port = hp.iter().all(|(_, p)| *p == hp[0].1);
    let labels: Vec<String> = parts
        .iter()
        .zip(&hp)
        .map(|((_, a, p), (host, port))| {
            let authority = match (same_host, same_port) {
                (true, _) => port.clone(),
                (false, true) => host.clone(),
                (false, false) => (*a).to_string(),
            };
            let alone = parts.iter().filter(|(_, b, _)| b == a).count() == 1;
            if alone {
                authority
            } else {
                format!("{authority}{p}")
            }
        })
        .collect();
    let unique = {
        let mut seen = std::collections::HashSet::new();
        labels.iter().all(|l| seen.insert(l.as_str()))
    };
    let distinct_urls = {
        let mut seen = std::collections::HashSet::new();
        urls.iter().all(|u| seen.insert(u.as_ref()))
    };
    if unique || !distinct_urls {
        labels
    } else {
        urls.iter().map(|u| u.as_ref().to_string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ms(850), "850ms");
        assert_eq!(duration_ms(12_345), "12.3s");
        assert_eq!(duration_ms(245_000), "4m05s");
        assert_eq!(duration_ms(7_380_000), "2h03m");
        assert_eq!(duration_ms(3 * 86_400_000 + 4 * 3_600_000), "3d04h");
        assert_eq!(duration_short(12_345), "12s");
        // One formatter: rounded to the tenth, as the event log writes it.
        assert_eq!(duration_ms(1756), "1.8s");
        assert_eq!(duration_ms(59_960), "1m00s");
    }

    #[test]
    fn counts_and_bytes() {
        assert_eq!(count(999), "999");
        assert_eq!(count(1234), "1.2k");
        assert_eq!(count(34_567), "34k");
        assert_eq!(bytes(512), "512B");
        assert_eq!(bytes(1536), "1.5K");
        assert_eq!(bytes(5 * 1024 * 1024), "5.0M");
        assert_eq!(rtt(850), "850us");
        assert_eq!(rtt(12_345), "12.3ms");
    }

    #[test]
    fn wrap_words_and_cuts() {
        assert_eq!(wrap("a bb ccc", 4), vec!["a bb", "ccc"]);
        assert_eq!(wrap("abcdefgh", 3), vec!["abc", "def", "gh"]);
        assert_eq!(wrap("", 5), vec![""]);
    }

    #[test]
    fn fit_middle_keeps_both_ends() {
        assert_eq!(fit_middle("/overload?cap=5", 20), "/overload?cap=5");
        assert_eq!(fit_middle("/overload?cap=5", 9), "/ove…ap=5");
        assert_eq!(fit_middle("abcdef", 2), "a…");
        assert_eq!(fit_middle("abcdef", 1), "…");
        assert_eq!(fit_middle("abcdef", 0), "");
        assert_eq!(
            fit_middle("/tmp/wsmon-demo-1234.jsonl", 14).chars().count(),
            14
        );
    }

    #[test]
    fn target_labels_show_what_tells_targets_apart() {
        let same = [
            "ws://127.0.0.1:35127/echo",
            "ws://127.0.0.1:35127/overload?cap=5",
            "ws://127.0.0.1:35127/close/1012",
            "ws://127.0.0.1:35127",
        ];
        assert_eq!(
            target_labels(&same),
            vec!["/echo", "/overload?cap=5", "/close/1012", "/"]
        );
        let creds = [
            "ws://127.0.0.1:9001/echo",
            "ws://<redacted>@127.0.0.1:9001/close/1013",
        ];
        assert_eq!(target_labels(&creds), vec!["/echo", "/close/1013"]);
        let hosts = ["ws://a.example:80/feed", "wss://b.example/feed?x=1"];
        assert_eq!(target_labels(&hosts), vec!["a.example:80", "b.example"]);
        // A session added to a second host: host and port stay, the path only where the
        // host and port are shared.
        let added = [
            "ws://127.0.0.1:35127/echo",
            "ws://127.0.0.1:35127/overload?cap=5",
            "ws://localhost:9001/echo",
        ];
        assert_eq!(
            target_labels(&added),
            vec![
                "127.0.0.1:35127/echo",
                "127.0.0.1:35127/overload?cap=5",
                "localhost:9001"
            ]
        );
        // Only the ports differ: the port tells them apart.
        let ports = [
            "ws://127.0.0.1:35127/echo",
            "ws://127.0.0.1:35127/close/1012",
            "ws://127.0.0.1:9001/echo",
        ];
        assert_eq!(
            target_labels(&ports),
            vec![":35127/echo", ":35127/close/1012", ":9001"]
        );
        // Same host and path under two schemes: only the whole URL tells them apart.
        let schemes = ["ws://h.example/x", "wss://h.example/x", "ws://g.example/x"];
        assert_eq!(target_labels(&schemes), schemes.to_vec());
        assert!(target_labels::<&str>(&[]).is_empty());
    }

    #[test]
    fn fit_marks_cuts() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(fit("abc", 0), "");
    }
}
