//! One session in full: handshake, extensions parameter by parameter, the last close with its
//! explanation, and the backoff timeline as a table and as a drawing on a time axis.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::codes::explain;
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
    let block = Block::default()
        .borders(Borders::TOP)
        .title(format!(" Session s{id} (Esc: back, j/k: scroll) "))
        .title_style(t.heading());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = match snap.index_of(id).and_then(|i| snap.sessions.get(i)) {
        Some(s) => lines(s, snap, view, inner.width, t),
        None => vec![Line::styled(
            format!("session s{id} no longer exists (it was removed)"),
            t.dim(),
        )],
    };
    let max_scroll = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(inner.height);
    let scroll = view.detail_scroll.min(max_scroll);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}

fn heading<'a>(text: impl Into<Cow<'a, str>>, t: Theme) -> Line<'a> {
    Line::styled(text.into(), t.heading())
}

fn kv<'a>(key: &str, value: impl Into<Cow<'a, str>>, t: Theme) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("  {key:<12}"), t.label()),
        Span::raw(value.into()),
    ])
}

/// Every line of the detail of one session.
pub fn lines<'a>(
    s: &'a SessionView,
    snap: &Snapshot,
    view: &ViewState,
    width: u16,
    t: Theme,
) -> Vec<Line<'a>> {
    let mut out = Vec::new();
    let mut state = vec![
        Span::styled("  state       ", t.label()),
        Span::styled(s.state.as_str(), t.state(s.state)),
        Span::raw(format!(
            " for {}",
            format::duration_ms(format::ms_since(s.state_since, snap.now))
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
        state.push(Span::styled("  next attempt in ", t.label()));
        state.push(Span::raw(format::duration_ms(format::ms_until(
            at, snap.now,
        ))));
    }
    if s.paused {
        state.push(Span::styled("  retries paused", t.warn()));
    }
    out.push(kv("target", format!("#{} {}", s.target, &*s.url), t));
    out.push(Line::from(state));
    if let Some((kind, msg)) = &s.last_error {
        out.push(Line::from(vec![
            Span::styled("  last error  ", t.label()),
            Span::styled(format!("{}: {}", kind.as_str(), safe(msg)), t.error()),
        ]));
    }
    out.push(Line::raw(""));

    match &s.last_handshake {
        Some(h) => {
            handshake_lines(&mut out, h, t);
            out.push(Line::raw(""));
            extension_lines(&mut out, h, t);
        }
        None => {
            out.push(heading("Handshake", t));
            out.push(Line::styled("  no HTTP answer yet", t.dim()));
        }
    }
    out.push(Line::raw(""));
    close_lines(&mut out, s, view, t);
    out.push(Line::raw(""));
    timeline_lines(&mut out, s, snap, width, t);
    out
}

fn ms_f(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}ms"))
}

fn handshake_lines(out: &mut Vec<Line<'_>>, h: &HandshakeInfo, t: Theme) {
    let status_style = if h.status == 101 { t.good() } else { t.error() };
    out.push(Line::from(vec![
        Span::styled("Handshake  ", t.heading()),
        Span::styled(safe(&h.status_line).into_owned(), status_style),
    ]));
    let tm = &h.timings_ms;
    out.push(kv(
        "timings",
        format!(
            "dns {}  connect {}  tls {}  upgrade {}",
            ms_f(tm.dns),
            ms_f(tm.connect),
            ms_f(tm.tls),
            ms_f(tm.upgrade)
        ),
        t,
    ));
    if let Some(p) = &h.subprotocol {
        out.push(kv("subprotocol", safe(p).into_owned(), t));
    }
    if let Some(ms) = h.retry_after_ms {
        out.push(kv("Retry-After", format::duration_ms(ms), t));
    }
    if let Some(raw) = &h.retry_after_invalid {
        out.push(kv(
            "Retry-After",
            format!("unparsable value \"{}\" (ignored)", safe(raw)),
            t,
        ));
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
            out.push(Line::from(vec![
                Span::styled(format!("    {}: ", safe(name)), t.dim()),
                Span::raw(safe(redact::header_value(name, value)).into_owned()),
            ]));
        }
    }
    if let Some(body) = &h.body {
        out.push(kv("body", format!("\"{}\"", safe(body)), t));
    }
}

/// Parameters of an extension by name, if present in a list.
fn find<'e>(list: &'e [Extension], name: &str) -> Option<&'e Extension> {
    list.iter().find(|e| e.name.eq_ignore_ascii_case(name))
}

fn extension_lines(out: &mut Vec<Line<'_>>, h: &HandshakeInfo, t: Theme) {
    out.push(heading("Extensions", t));
    out.push(kv("offered", format::extensions(&h.offered), t));
    out.push(kv("accepted", format::extensions(&h.accepted), t));
    out.push(kv("required", format::extensions(&h.required), t));
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
            Span::raw(format!("  {name}: ")),
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
        for p in params {
            let value_in = |e: Option<&Extension>| -> Option<String> {
                e.and_then(|e| e.params.iter().find(|q| q.name == p))
                    .map(|q| q.value.clone().unwrap_or_else(|| "(set)".to_string()))
            };
            let (o, a) = (value_in(offered), value_in(accepted));
            let note = match (&o, &a) {
                (Some(_), Some(_)) => ("agreed", t.good()),
                (Some(_), None) => ("not in the answer", t.dim()),
                (None, Some(_)) => ("added by the server", t.warn()),
                (None, None) => ("", t.dim()),
            };
            out.push(Line::from(vec![
                Span::raw(format!("    {p:<28}")),
                Span::styled("offered ", t.label()),
                Span::raw(format!("{:<7}", o.as_deref().unwrap_or("-"))),
                Span::styled(" accepted ", t.label()),
                Span::raw(format!("{:<7} ", a.as_deref().unwrap_or("-"))),
                Span::styled(note.0, note.1),
            ]));
        }
    }
    if !h.missing.is_empty() {
        out.push(Line::from(vec![
            Span::styled("  missing     ", t.label()),
            Span::styled(
                format!(
                    "{} (required, not accepted: wsmon closes with 1010)",
                    safe(&h.missing.join(", "))
                ),
                t.error(),
            ),
        ]));
    }
    if !h.unexpected.is_empty() {
        out.push(Line::from(vec![
            Span::styled("  unexpected  ", t.label()),
            Span::styled(
                format!(
                    "{} (not offered or not valid: the connection fails)",
                    safe(&h.unexpected.join(", "))
                ),
                t.error(),
            ),
        ]));
    }
}

fn close_lines(out: &mut Vec<Line<'_>>, s: &SessionView, view: &ViewState, t: Theme) {
    let Some(c) = &s.last_close else {
        out.push(heading("Last close", t));
        out.push(Line::styled("  none yet", t.dim()));
        if let Some(why) = &s.ended_why {
            out.push(kv("not retried", safe(why).into_owned(), t));
        }
        return;
    };
    let mut how = format!("by {}", c.initiator.as_str());
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
        out.push(kv("reason", format!("\"{}\"", safe(&c.reason)), t));
    }
    if let Some(why) = &s.ended_why {
        out.push(Line::from(vec![
            Span::styled("  not retried ", t.label()),
            Span::styled(safe(why).into_owned(), t.warn()),
        ]));
    }
    let text = explain::render_one(view.registry, c.code, view.lang, false);
    let code = c.code.to_string();
    // The first line repeats the code and name shown just above.
    let skip = usize::from(text.lines().next().is_some_and(|l| l.starts_with(&code)));
    for line in text.lines().skip(skip) {
        out.push(Line::raw(format!("  {line}")));
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

fn timeline_lines(out: &mut Vec<Line<'_>>, s: &SessionView, snap: &Snapshot, width: u16, t: Theme) {
    let n = s.timeline.len();
    let title = if s.timeline_dropped > 0 {
        format!(
            "Backoff timeline (last {n} attempts; {} earlier not kept)",
            s.timeline_dropped
        )
    } else {
        format!("Backoff timeline ({n} attempts)")
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
    let bar_room = usize::from(width).saturating_sub(72).clamp(4, 32);
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
        out.push(Line::from(vec![
            Span::raw(format!(
                "  {:>4}  {:<11} {:<9} {:>6} {:>6} {:>6}  ",
                r.attempt,
                r.cause
                    .as_ref()
                    .map_or_else(|| "-".to_string(), format::cause),
                r.kind.map_or("-", format::delay_kind),
                opt_ms(r.window_ms),
                opt_ms(r.delay_ms),
                opt_ms(r.retry_after_ms),
            )),
            Span::raw(format!("{outcome:<11} {:>7}  ", opt_ms(r.uptime_ms))),
            Span::styled(bar, t.series(0)),
        ]));
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
fn axis_lines(out: &mut Vec<Line<'_>>, s: &SessionView, now: DateTime<Utc>, width: u16, t: Theme) {
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
    for (r, at) in &starts {
        let c = column(*at, t0, span_ms, cols);
        if let Some(m) = marks.get_mut(c) {
            *m = '●';
        }
        let label = r.attempt.to_string();
        for (k, ch) in label.chars().enumerate() {
            if let Some(l) = labels.get_mut(c + k) {
                *l = ch;
            }
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
