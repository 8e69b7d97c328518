//! The session detail's handshake section (status line, timings, headers redacted, a refused
//! answer and why) and its extensions section, parameter by parameter.

use ratatui::text::{Line, Span};

use crate::engine::events::HandshakeInfo;
use crate::protocol::extensions::Extension;
use crate::redact;

use super::Theme;
use super::rows::Rows;
use crate::tui::format::{self, safe};

fn ms_f(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}ms"))
}

pub fn handshake_lines(out: &mut Rows, h: &HandshakeInfo, t: Theme) {
    let status_style = if h.is_upgrade() && h.invalid.is_none() {
        t.good()
    } else {
        t.error()
    };
    let status_line = if h.status_line.is_empty() {
        "no HTTP status line".to_string()
    } else {
        safe(&h.status_line).into_owned()
    };
    out.push(Line::from(vec![
        Span::styled("Handshake  ", t.heading()),
        Span::styled(status_line, status_style),
    ]));
    let tm = &h.timings_ms;
    let mut timings = format!(
        "dns {}, connect {}, tls {}, upgrade {}",
        ms_f(tm.dns),
        ms_f(tm.connect),
        ms_f(tm.tls),
        ms_f(tm.upgrade)
    );
    if tm.proxy.is_some() {
        timings.push_str(&format!(", proxy {}", ms_f(tm.proxy)));
    }
    out.kv("timings", &timings, t.plain());
    if let Some(why) = &h.invalid {
        // A refused answer: what arrived of it, and why it was refused.
        out.kv(
            "received",
            &format!("{} of answer", format::bytes(h.bytes_received)),
            t.plain(),
        );
        out.kv("refused", &safe(why), t.error());
    }
    if let Some(name) = &h.bad_header {
        out.kv("bad header", &safe(name), t.error());
    }
    if let Some(p) = &h.subprotocol {
        out.kv("subprotocol", &safe(p), t.plain());
    }
    if let Some(ms) = h.retry_after_ms {
        out.kv("Retry-After", &format::duration_ms(ms), t.plain());
    }
    if let Some(raw) = &h.retry_after_invalid {
        out.kv(
            "Retry-After",
            &format!("unparsable value \"{}\" (ignored)", safe(raw)),
            t.warn(),
        );
    }
    for (title, headers) in [
        ("request", &h.request_headers),
        ("response", &h.response_headers),
    ] {
        out.push(Line::styled(format!("  {title} headers"), t.label()));
        if headers.is_empty() {
            out.push(Line::styled("    (none)", t.dim()));
        }
        for (name, value) in headers {
            out.wrapped(
                format!("    {}: ", safe(name)),
                &safe(&redact::header_value(name, value)),
                t.plain(),
            );
        }
    }
    if let Some(body) = &h.body {
        out.kv("body", &format!("\"{}\"", safe(body)), t.plain());
    }
}

/// Parameters of an extension by name, if present in a list.
fn find<'e>(list: &'e [Extension], name: &str) -> Option<&'e Extension> {
    list.iter().find(|e| e.name.eq_ignore_ascii_case(name))
}

pub fn extension_lines(out: &mut Rows, h: &HandshakeInfo, t: Theme) {
    out.heading("Extensions");
    for (label, list) in [
        ("offered", &h.offered),
        ("accepted", &h.accepted),
        ("required", &h.required),
    ] {
        out.kv(label, &format::extensions(list), t.plain());
    }
    let mut names: Vec<&str> = Vec::new();
    for e in h.offered.iter().chain(&h.accepted).chain(&h.required) {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&e.name)) {
            names.push(&e.name);
        }
    }
    for name in names {
        let offered = find(&h.offered, name);
        let accepted = find(&h.accepted, name);
        let required = find(&h.required, name).is_some();
        // No 101: the server never answered the offer, it refused the upgrade.
        let upgraded = h.is_upgrade();
        let verdict = match (offered.is_some(), accepted.is_some()) {
            (true, false) if !upgraded => ("not negotiated (no upgrade)", t.dim()),
            (true, true) => ("accepted", t.good()),
            (true, false) if required => ("required but not accepted", t.error()),
            (true, false) => ("declined by the server", t.dim()),
            (false, true) => ("answered without an offer", t.error()),
            (false, false) => ("required, never offered", t.error()),
        };
        out.push(Line::from(vec![
            Span::raw(format!("  {}: ", safe(name))),
            Span::styled(verdict.0, verdict.1),
        ]));
        let mut params: Vec<&str> = Vec::new();
        for p in offered
            .iter()
            .chain(accepted.iter())
            .flat_map(|e| e.params.iter())
        {
            if !params.contains(&p.name.as_str()) {
                params.push(&p.name);
            }
        }
        let value_in = |e: Option<&Extension>, p: &str| -> Option<String> {
            e.and_then(|e| e.params.iter().find(|q| q.name == p))
                .map(|q| q.value.clone().unwrap_or_else(|| "(set)".to_string()))
        };
        // Columns as wide as their longest entry, so the lines fit 80 columns.
        let name_w = params.iter().map(|p| p.chars().count()).max().unwrap_or(0) + 2;
        let value_w = params
            .iter()
            .flat_map(|p| [value_in(offered, p), value_in(accepted, p)])
            .map(|v| v.map_or(1, |v| v.chars().count()))
            .max()
            .unwrap_or(1);
        for p in params {
            let (o, a) = (value_in(offered, p), value_in(accepted, p));
            let note = match (&o, &a) {
                (Some(_), Some(_)) => ("agreed", t.good()),
                (Some(_), None) => ("not in the answer", t.dim()),
                (None, Some(_)) => ("added by the server", t.warn()),
                (None, None) => ("", t.dim()),
            };
            out.push(Line::from(vec![
                Span::raw(format!("    {:<name_w$}", safe(p))),
                Span::styled("offered ", t.label()),
                Span::raw(format!("{:<value_w$}", safe(o.as_deref().unwrap_or("-")))),
                Span::styled("  accepted ", t.label()),
                Span::raw(format!("{:<value_w$}  ", safe(a.as_deref().unwrap_or("-")))),
                Span::styled(note.0, note.1),
            ]));
        }
    }
    if !h.missing.is_empty() {
        let text = format!(
            "{} (required, not accepted: wsmon closes with 1010)",
            safe(&h.missing.join(", "))
        );
        out.kv("missing", &text, t.error());
    }
    if !h.unexpected.is_empty() {
        let text = format!(
            "{} (not offered or not valid: the connection fails)",
            safe(&h.unexpected.join(", "))
        );
        out.kv("unexpected", &text, t.error());
    }
}
