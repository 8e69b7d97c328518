//! One session in full: handshake, extensions parameter by parameter, the last close with its
//! explanation, and the backoff timeline as a table and as a drawing on a time axis.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::codes::layout;
use crate::engine::events::{HandshakeInfo, SessionId, SessionState};
use crate::protocol::extensions::Extension;
use crate::redact;
use crate::state::snapshot::{AttemptRecord, SessionView, Snapshot};

use super::{Theme, format};
use crate::tui::view::ViewState;

/// Text from a remote peer, safe to draw: control characters escaped (text that is already
/// escaped is left alone, so backslashes are not doubled).
pub fn safe(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(redact::escape_control(s))
    } else {
        Cow::Borrowed(s)
    }
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    snap: &Snapshot,
    view: &ViewState,
    id: SessionId,
    t: Theme,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let inner_width = area.width;
    let lines = match snap.index_of(id).and_then(|i| snap.sessions.get(i)) {
        Some(s) => lines(s, snap, view, inner_width, t),
        None => vec![Line::styled(
            format!("session s{id} no longer exists (it was removed)"),
            t.dim(),
        )],
    };
    let height = area.height.saturating_sub(1);
    let max_scroll = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(height);
    let scroll = view.detail_scroll.min(max_scroll);
    let mut block = Block::default()
        .borders(Borders::TOP)
        .title(format!(" Session s{id} (Esc: back, j/k: scroll) "))
        .title_style(t.heading());
    if let Some(hint) = super::scroll_hint(scroll, height, lines.len()) {
        block = block.title(Line::styled(hint, t.dim()).right_aligned());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

fn heading(text: impl Into<String>, t: Theme) -> Line<'static> {
    Line::styled(text.into(), t.heading())
}

/// `label value` lines, the value wrapped to `width` under itself.
fn push_kv(
    out: &mut Vec<Line<'static>>,
    label: &str,
    value: &str,
    style: Style,
    width: u16,
    t: Theme,
) {
    push_wrapped(out, format!("  {label:<12}"), value, style, width, t);
}

/// `prefix` then `value` wrapped to `width`, continuation lines aligned under the value.
fn push_wrapped(
    out: &mut Vec<Line<'static>>,
    prefix: String,
    value: &str,
    style: Style,
    width: u16,
    t: Theme,
) {
    let indent = prefix.chars().count();
    let room = usize::from(width).saturating_sub(indent).max(10);
    for (i, l) in format::wrap(value, room).into_iter().enumerate() {
        let lead = if i == 0 {
            Span::styled(prefix.clone(), t.label())
        } else {
            Span::raw(" ".repeat(indent))
        };
        out.push(Line::from(vec![lead, Span::styled(l, style)]));
    }
}

/// Every line of the detail of one session.
pub fn lines(
    s: &SessionView,
    snap: &Snapshot,
    view: &ViewState,
    width: u16,
    t: Theme,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let mut state = vec![
        Span::styled("  state       ", t.label()),
        Span::styled(s.state.as_str(), t.state(s.state)),
        Span::raw(format!(
            " for {} (since {})",
            format::duration_ms(format::ms_since(s.state_since, snap.now)),
            view.time(s.state_since)
        )),
        Span::styled("  attempt ", t.label()),
        Span::raw(s.attempt.to_string()),
    ];
    if let Some(up) = format::uptime_ms(s, snap.now) {
        state.push(Span::styled("  uptime ", t.label()));
        state.push(Span::raw(format::duration_ms(up)));
    }
    if s.state == SessionState::Waiting
        && let Some(at) = s.next_attempt_at
    {
        state.push(Span::styled(
            format!("  attempt {} in ", s.attempt.saturating_add(1)),
            t.label(),
        ));
        state.push(Span::raw(format::duration_ms(format::ms_until(
            at, snap.now,
        ))));
    }
    if s.paused {
        state.push(Span::styled("  retries paused", t.warn()));
    }
    push_kv(
        &mut out,
        "target",
        &format!("#{} {}", s.target, &*s.url),
        t.plain(),
        width,
        t,
    );
    out.push(Line::from(state));
    if let Some((kind, msg)) = &s.last_error {
        push_kv(
            &mut out,
            "last error",
            &format!("{}: {}", kind.as_str(), safe(msg)),
            t.error(),
            width,
            t,
        );
    }
    out.push(Line::raw(""));
    // What happened and what happens next first (the last close, the backoff timeline), then
    // the handshake and extensions, then the close code's full explanation.
    close_lines(&mut out, s, view, width, t);
    out.push(Line::raw(""));
    timeline_lines(&mut out, s, snap, view, width, t);
    out.push(Line::raw(""));
    recent_events(&mut out, s, snap, view, width, t);
    out.push(Line::raw(""));
    traffic_lines(&mut out, s, snap, width, t);
    out.push(Line::raw(""));
    match &s.last_handshake {
        Some(h) => {
            handshake_lines(&mut out, h, width, t);
            out.push(Line::raw(""));
            extension_lines(&mut out, h, width, t);
        }
        None => {
            out.push(heading("Handshake", t));
            out.push(Line::styled("  no HTTP answer yet", t.dim()));
        }
    }
    if let Some(c) = &s.last_close {
        out.push(Line::raw(""));
        explanation_lines(&mut out, c.code, view, t);
    }
    out
}

fn ms_f(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}ms"))
}

fn handshake_lines(out: &mut Vec<Line<'static>>, h: &HandshakeInfo, width: u16, t: Theme) {
    let status_style = if h.status == 101 && h.invalid.is_none() {
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
    push_kv(out, "timings", &timings, t.plain(), width, t);
    if let Some(why) = &h.invalid {
        // A refused answer: what arrived of it, and why it was refused.
        push_kv(
            out,
            "received",
            &format!("{} of answer", format::bytes(h.bytes_received)),
            t.plain(),
            width,
            t,
        );
        push_kv(out, "refused", &safe(why), t.error(), width, t);
    }
    if let Some(name) = &h.bad_header {
        push_kv(out, "bad header", &safe(name), t.error(), width, t);
    }
    if let Some(p) = &h.subprotocol {
        push_kv(out, "subprotocol", &safe(p), t.plain(), width, t);
    }
    if let Some(ms) = h.retry_after_ms {
        push_kv(
            out,
            "Retry-After",
            &format::duration_ms(ms),
            t.plain(),
            width,
            t,
        );
    }
    if let Some(raw) = &h.retry_after_invalid {
        push_kv(
            out,
            "Retry-After",
            &format!("unparsable value \"{}\" (ignored)", safe(raw)),
            t.warn(),
            width,
            t,
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
            push_wrapped(
                out,
                format!("    {}: ", safe(name)),
                &safe(&redact::header_value(name, value)),
                t.plain(),
                width,
                t,
            );
        }
    }
    if let Some(body) = &h.body {
        push_kv(
            out,
            "body",
            &format!("\"{}\"", safe(body)),
            t.plain(),
            width,
            t,
        );
    }
}

/// Parameters of an extension by name, if present in a list.
fn find<'e>(list: &'e [Extension], name: &str) -> Option<&'e Extension> {
    list.iter().find(|e| e.name.eq_ignore_ascii_case(name))
}

fn extension_lines(out: &mut Vec<Line<'static>>, h: &HandshakeInfo, width: u16, t: Theme) {
    out.push(heading("Extensions", t));
    for (label, list) in [
        ("offered", &h.offered),
        ("accepted", &h.accepted),
        ("required", &h.required),
    ] {
        push_kv(out, label, &format::extensions(list), t.plain(), width, t);
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
        let verdict = match (offered.is_some(), accepted.is_some()) {
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
        push_kv(out, "missing", &text, t.error(), width, t);
    }
    if !h.unexpected.is_empty() {
        let text = format!(
            "{} (not offered or not valid: the connection fails)",
            safe(&h.unexpected.join(", "))
        );
        push_kv(out, "unexpected", &text, t.error(), width, t);
    }
}

fn close_lines(
    out: &mut Vec<Line<'static>>,
    s: &SessionView,
    view: &ViewState,
    width: u16,
    t: Theme,
) {
    let Some(c) = &s.last_close else {
        out.push(heading("Last close", t));
        out.push(Line::styled("  none yet", t.dim()));
        if let Some(why) = &s.ended_why {
            push_kv(out, "not retried", &safe(why), t.warn(), width, t);
        }
        return;
    };
    let mut how = format!("by {}", c.initiator.as_str());
    // Who sent (or dropped) it is known; the code itself did not travel.
    if !c.code_on_wire() {
        how.push_str(match c.code {
            1005 => " (close frame without a code)",
            1006 => " (no close frame)",
            _ => " (not on the wire)",
        });
    }
    if let Some(at) = s
        .timeline
        .iter()
        .rev()
        .find(|r| {
            matches!(
                r.outcome,
                Some(crate::state::snapshot::AttemptOutcome::Closed { .. })
            )
        })
        .and_then(|r| r.ended_at)
    {
        how.push_str(&format!(" at {}", view.time(at)));
    }
    how.push_str(if c.clean { ", clean" } else { ", not clean" });
    if let Some(up) = c.uptime_ms {
        how.push_str(&format!(", after {} open", format::duration_ms(up)));
    }
    out.push(Line::from(vec![
        Span::styled("Last close  ", t.heading()),
        Span::styled(c.code.to_string(), t.code(c.code).add_modifier_bold()),
        Span::raw(format!(" {}  ", view.registry.name_in(c.code, view.lang))),
        Span::styled(how, t.dim()),
    ]));
    if !c.reason.is_empty() {
        push_kv(
            out,
            "reason",
            &format!("\"{}\"", safe(&c.reason)),
            t.plain(),
            width,
            t,
        );
    }
    if let Some(why) = &s.ended_why {
        push_kv(out, "not retried", &safe(why), t.warn(), width, t);
    }
}

/// Messages and bytes each way (on the wire and as payload), what compression saves, the ping
/// round trip.
fn traffic_lines(
    out: &mut Vec<Line<'static>>,
    s: &SessionView,
    snap: &Snapshot,
    width: u16,
    t: Theme,
) {
    let Some(c) = snap
        .index_of(s.id)
        .and_then(|i| snap.counters.get(i).copied().flatten())
    else {
        // A replayed session: the export records events, not traffic.
        out.push(heading("Traffic", t));
        out.push(Line::from(Span::styled(
            "  not recorded (an export holds events, not message or byte counts)",
            t.dim(),
        )));
        return;
    };
    out.push(heading("Traffic (this session, all connections)", t));
    let way = |msgs: u64, wire: u64, payload: u64| {
        format!(
            "{} msg{}, {} on the wire, {} payload",
            format::count(msgs),
            if msgs == 1 { "" } else { "s" },
            format::bytes(wire),
            format::bytes(payload)
        )
    };
    push_kv(
        out,
        "received",
        &way(c.msgs_in, c.wire_in, c.payload_in),
        t.plain(),
        width,
        t,
    );
    push_kv(
        out,
        "sent",
        &way(c.msgs_out, c.wire_out, c.payload_out),
        t.plain(),
        width,
        t,
    );
    let mut extra = Vec::new();
    if let Some(r) = c.compression_ratio() {
        extra.push(format!(
            "{r:.2} payload bytes per wire byte (frame headers count; above 1: compression saves)"
        ));
    }
    if let Some(us) = c.rtt_us {
        extra.push(format!("ping round trip {}", format::rtt(us)));
    }
    if !extra.is_empty() {
        push_kv(out, "", &extra.join("; "), t.dim(), width, t);
    }
}

/// The full explanation of the last close code, at the end of the detail: its title as the
/// heading, then the body, indented.
fn explanation_lines(out: &mut Vec<Line<'static>>, code: u16, view: &ViewState, t: Theme) {
    let Ok(ex) = crate::codes::explain::one(&view.registry, code, view.lang) else {
        return;
    };
    out.push(heading(format!("About {}", ex.title), t));
    for mut line in super::explain::styled(&layout::body(&ex, layout::WIDTH), t) {
        if !line.spans.is_empty() {
            line.spans.insert(0, Span::raw("  "));
        }
        out.push(line);
    }
}

/// Extension so code colors can be made bold without importing Modifier everywhere.
trait BoldExt {
    fn add_modifier_bold(self) -> Self;
}

impl BoldExt for ratatui::style::Style {
    fn add_modifier_bold(self) -> Self {
        self.add_modifier(ratatui::style::Modifier::BOLD)
    }
}

fn opt_ms(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_string(), format::duration_ms)
}

/// How many events of the session the detail lists.
const RECENT_EVENTS: usize = 12;

/// The session's own latest events from the event log.
fn recent_events(
    out: &mut Vec<Line<'static>>,
    s: &SessionView,
    snap: &Snapshot,
    view: &ViewState,
    width: u16,
    t: Theme,
) {
    let mine: Vec<_> = snap.events.iter().filter(|e| e.session == s.id).collect();
    out.push(heading(
        format!("Recent events ({}, newest last)", view.zone()),
        t,
    ));
    if mine.is_empty() {
        out.push(Line::styled(
            "  none in the event log (it keeps the latest events of all sessions)",
            t.dim(),
        ));
        return;
    }
    let label = super::table::target_labels(snap)
        .get(s.target)
        .cloned()
        .unwrap_or_default();
    for e in mine.iter().skip(mine.len().saturating_sub(RECENT_EVENTS)) {
        let mut l = super::log::line(e, &label, view, t, width.saturating_sub(2));
        l.spans.insert(0, Span::raw("  "));
        out.push(l);
    }
}

fn timeline_lines(
    out: &mut Vec<Line<'static>>,
    s: &SessionView,
    snap: &Snapshot,
    view: &ViewState,
    width: u16,
    t: Theme,
) {
    let n = s.timeline.len();
    // Attempts made (the pending one is not made yet), so the count agrees with "attempt N"
    // above and the ATT column.
    let made = s.timeline.iter().filter(|r| r.started_at.is_some()).count();
    let pending = n - made;
    let next = if pending > 0 {
        format!(", attempt {} due", s.attempt.saturating_add(1))
    } else {
        String::new()
    };
    let title = if s.timeline_dropped > 0 {
        format!(
            "Backoff timeline (last {made} attempts{next}; {} earlier not kept; times {})",
            s.timeline_dropped,
            view.zone()
        )
    } else {
        format!(
            "Backoff timeline ({made} attempt{}{next}; times {})",
            if made == 1 { "" } else { "s" },
            view.zone()
        )
    };
    out.push(heading(title, t));
    if n == 0 {
        out.push(Line::styled("  no attempt yet", t.dim()));
        return;
    }
    out.push(Line::styled(
        format!(
            "  {:>4}  {:<11} {:<9} {:>6} {:>6} {:>6}  {:<11} {:>7}",
            "#", "cause", "rule", "window", "delay", "retry", "outcome", "uptime"
        ),
        t.label(),
    ));
    let max_window = s.timeline.iter().filter_map(|r| r.window_ms).max();
    let bar_room = usize::from(width).saturating_sub(76).clamp(4, 32);
    for r in &s.timeline {
        let bar = match (r.window_ms, max_window) {
            (Some(w), Some(m)) if m > 0 => {
                let len = ((w as f64 / m as f64) * bar_room as f64).round() as usize;
                "█".repeat(len.max(1))
            }
            _ => String::new(),
        };
        let outcome = r
            .outcome
            .as_ref()
            .map_or_else(|| "pending".to_string(), format::outcome);
        let rule = if r.manual {
            "manual r"
        } else {
            r.kind.map_or("-", format::delay_kind)
        };
        out.push(Line::from(vec![
            Span::raw(format!(
                "  {:>4}  {:<11} {:<9} {:>6} {:>6} {:>6}  ",
                r.attempt,
                r.cause
                    .as_ref()
                    .map_or_else(|| "-".to_string(), format::cause),
                rule,
                opt_ms(r.window_ms),
                opt_ms(r.delay_ms),
                opt_ms(r.retry_after_ms),
            )),
            Span::raw(format!("{outcome:<11} {:>7}  ", opt_ms(r.uptime_ms))),
            Span::styled(bar, t.series(0)),
            // Waiting for a handshake slot (--max-connecting, --ramp), apart from the delay.
            Span::styled(
                match r.slot_wait_ms {
                    Some(w) if w > 0 => format!(" slot wait {}", opt_ms(Some(w))),
                    _ => String::new(),
                },
                t.dim(),
            ),
        ]));
        // When it happened, on the wall clock: the backoff decision, the start, the end.
        let mut when = Vec::new();
        if let Some(at) = r.scheduled_at {
            when.push(format!("decided {}", view.time(at)));
        }
        match (r.started_at, r.scheduled_at, r.delay_ms) {
            (Some(at), _, _) => when.push(format!("started {}", view.time(at))),
            (None, Some(at), Some(d)) => when.push(format!(
                "due {}",
                view.time(at + chrono::TimeDelta::milliseconds(i64::try_from(d).unwrap_or(0)))
            )),
            _ => {}
        }
        if let Some(at) = r.ended_at {
            when.push(format!("ended {}", view.time(at)));
        }
        if !when.is_empty() {
            out.push(Line::styled(
                format!("        {}", when.join("  ")),
                t.dim(),
            ));
        }
    }
    out.push(Line::raw(""));
    axis_lines(out, s, snap.now, width, t);
}

/// Column of time `at` on an axis from `t0` spanning `span_ms` over `cols` columns.
fn column(at: DateTime<Utc>, t0: DateTime<Utc>, span_ms: u64, cols: usize) -> usize {
    let offset = u64::try_from((at - t0).num_milliseconds()).unwrap_or(0);
    if span_ms == 0 || cols <= 1 {
        return 0;
    }
    ((offset as f64 / span_ms as f64) * (cols - 1) as f64).round() as usize
}

/// The attempts drawn on a time axis: attempt numbers above markers, so doubling gaps show.
fn axis_lines(
    out: &mut Vec<Line<'static>>,
    s: &SessionView,
    now: DateTime<Utc>,
    width: u16,
    t: Theme,
) {
    let starts: Vec<(&AttemptRecord, DateTime<Utc>)> = s
        .timeline
        .iter()
        .filter_map(|r| r.started_at.map(|at| (r, at)))
        .collect();
    let Some(&(_, t0)) = starts.first() else {
        return;
    };
    let next = s
        .next_attempt_at
        .filter(|_| s.state == SessionState::Waiting);
    let end = next.map_or(now, |n| n.max(now));
    let span_ms = u64::try_from((end - t0).num_milliseconds()).unwrap_or(0);
    let cols = usize::from(width).saturating_sub(4).min(100);
    if cols < 10 {
        return;
    }
    out.push(heading(
        format!(
            "Attempts on a time axis (0 .. {})",
            format::duration_ms(span_ms)
        ),
        t,
    ));
    let mut labels = vec![' '; cols];
    let mut marks = vec![' '; cols];
    let first = column(t0, t0, span_ms, cols);
    let last_start = starts.last().map_or(t0, |(_, at)| *at);
    let last = column(last_start, t0, span_ms, cols);
    for m in marks.iter_mut().take(last + 1).skip(first) {
        *m = '─';
    }
    let now_col = column(now, t0, span_ms, cols);
    if let Some(n) = next {
        let c = column(n, t0, span_ms, cols);
        for m in marks.iter_mut().take(c).skip(last + 1) {
            *m = '┄';
        }
        if let Some(m) = marks.get_mut(c) {
            *m = '○';
        }
    }
    for (_, at) in &starts {
        if let Some(m) = marks.get_mut(column(*at, t0, span_ms, cols)) {
            *m = '●';
        }
    }
    // Attempt numbers above their markers, newest first: where early attempts crowd together,
    // a number is left out rather than written over another one.
    for (r, at) in starts.iter().rev() {
        let c = column(*at, t0, span_ms, cols);
        let label: Vec<char> = r.attempt.to_string().chars().collect();
        let free = |k: usize| labels.get(k).is_none_or(|l| *l == ' ');
        let clear = (c.saturating_sub(1)..=c + label.len()).all(free);
        if clear && c + label.len() <= cols {
            labels[c..c + label.len()].copy_from_slice(&label);
        }
    }
    if let Some(m) = marks.get_mut(now_col)
        && matches!(*m, ' ' | '─' | '┄')
    {
        *m = '|';
    }
    let mut scale = vec![' '; cols];
    let ticks = [
        (0usize, "0s".to_string()),
        (cols / 2, format::duration_ms(span_ms / 2)),
        (cols.saturating_sub(1), format::duration_ms(span_ms)),
    ];
    for (i, (pos, text)) in ticks.iter().enumerate() {
        let len = text.chars().count();
        let start = match i {
            0 => *pos,
            1 => pos.saturating_sub(len / 2),
            _ => (pos + 1).saturating_sub(len),
        };
        for (k, ch) in text.chars().enumerate() {
            if let Some(cell) = scale.get_mut(start + k) {
                *cell = ch;
            }
        }
    }
    let indent = "  ";
    out.push(Line::raw(format!(
        "{indent}{}",
        labels.iter().collect::<String>().trim_end()
    )));
    out.push(Line::styled(
        format!("{indent}{}", marks.iter().collect::<String>().trim_end()),
        t.series(0),
    ));
    out.push(Line::styled(
        format!("{indent}{}", scale.iter().collect::<String>().trim_end()),
        t.dim(),
    ));
    out.push(Line::styled(
        format!("{indent}● attempt   | now   ○ next attempt"),
        t.dim(),
    ));
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    use crate::engine::counters::SessionCounters;
    use crate::engine::events::{ErrorKind, Event, EventKind, HandshakeInfo};
    use crate::state::store::Store;
    use crate::tui::app::App;
    use crate::tui::fixtures;

    /// A 101 refused for an escape sequence in a header: the detail shows the status line, the
    /// headers that parsed, the bytes received and the bad header, not "no HTTP answer yet".
    #[test]
    fn a_refused_answer_is_shown_with_what_arrived() {
        let now = fixtures::now();
        let mut store = Store::new(None, Arc::new(AtomicU64::new(0)));
        store.register(1, Arc::new(SessionCounters::default()));
        let message = "malformed HTTP answer to the upgrade (invalid header value): header 'X-Evil' is not valid";
        let info = HandshakeInfo {
            status: 101,
            status_line: "HTTP/1.1 101 Switching Protocols".into(),
            response_headers: vec![("Upgrade".into(), "websocket".into())],
            bytes_received: 1234,
            invalid: Some(message.into()),
            bad_header: Some("X-Evil".into()),
            ..HandshakeInfo::default()
        };
        for kind in [
            EventKind::Spawned {
                target: 0,
                index: 0,
                url: "ws://127.0.0.1:9001/evil".into(),
            },
            EventKind::Connecting {
                attempt: 1,
                slot_wait_ms: 0,
            },
            EventKind::Handshaking { attempt: 1 },
            EventKind::Handshake(Arc::new(info)),
            EventKind::Error {
                kind: ErrorKind::Handshake,
                message: message.into(),
            },
        ] {
            store.apply(&Event {
                ts: now,
                session: 1,
                kind,
            });
        }
        let snap = store.snapshot(now);
        assert!(
            snap.totals.statuses.is_empty(),
            "a refused answer is no status"
        );
        let mut app = App::new(fixtures::view_state());
        app.view.detail = Some(1);
        let text = (0..8)
            .map(|scroll| {
                app.view.detail_scroll = scroll * 10;
                fixtures::render(&mut app, &snap, 120, 40).join("\n")
            })
            .collect::<String>();
        assert!(!text.contains("no HTTP answer yet"), "{text}");
        for want in [
            "HTTP/1.1 101 Switching Protocols",
            "1.2K of answer",
            "bad header",
            "X-Evil",
            "Upgrade: websocket",
        ] {
            assert!(text.contains(want), "{want} missing:\n{text}");
        }
    }

    /// Issue 19 section 4b: a close frame without a code is 1005 sent by the server, and the
    /// detail says the code was not on the wire.
    #[test]
    fn a_close_without_a_code_is_shown_as_sent_by_the_server() {
        use crate::engine::events::{CloseInfo, Initiator};
        let now = fixtures::now();
        let mut store = Store::new(None, Arc::new(AtomicU64::new(0)));
        store.register(1, Arc::new(SessionCounters::default()));
        for kind in [
            EventKind::Spawned {
                target: 0,
                index: 0,
                url: "ws://127.0.0.1:9001/socket.io/".into(),
            },
            EventKind::Connecting {
                attempt: 1,
                slot_wait_ms: 0,
            },
            EventKind::Open { attempt: 1 },
            EventKind::Closing {
                code: 1005,
                initiator: Initiator::Server,
            },
            EventKind::Closed(CloseInfo {
                code: 1005,
                reason: String::new(),
                initiator: Initiator::Server,
                clean: true,
                uptime_ms: Some(20_000),
                peer_code: None,
                why: None,
            }),
        ] {
            store.apply(&Event {
                ts: now,
                session: 1,
                kind,
            });
        }
        let snap = store.snapshot(now);
        let mut app = App::new(fixtures::view_state());
        app.view.detail = Some(1);
        let text = fixtures::render(&mut app, &snap, 120, 40).join("\n");
        assert!(
            text.contains("by server (close frame without a code)"),
            "{text}"
        );
    }

    /// Through a proxy, the timings line shows the proxy hop.
    #[test]
    fn the_timings_line_shows_the_proxy_hop() {
        let now = fixtures::now();
        let mut store = Store::new(None, Arc::new(AtomicU64::new(0)));
        store.register(1, Arc::new(SessionCounters::default()));
        let info = HandshakeInfo {
            status: 101,
            status_line: "HTTP/1.1 101 Switching Protocols".into(),
            timings_ms: crate::engine::events::Timings {
                connect: Some(0.4),
                proxy: Some(3.25),
                upgrade: Some(1.5),
                ..Default::default()
            },
            ..HandshakeInfo::default()
        };
        for kind in [
            EventKind::Spawned {
                target: 0,
                index: 0,
                url: "ws://127.0.0.1:9001/echo".into(),
            },
            EventKind::Connecting {
                attempt: 1,
                slot_wait_ms: 0,
            },
            EventKind::Handshake(Arc::new(info)),
        ] {
            store.apply(&Event {
                ts: now,
                session: 1,
                kind,
            });
        }
        let snap = store.snapshot(now);
        let mut app = App::new(fixtures::view_state());
        app.view.detail = Some(1);
        let text = (0..8)
            .map(|scroll| {
                app.view.detail_scroll = scroll * 10;
                fixtures::render(&mut app, &snap, 120, 40).join("\n")
            })
            .collect::<String>();
        assert!(text.contains("upgrade 1.5ms, proxy 3.2"), "{text}");
    }
}
