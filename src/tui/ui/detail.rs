//! One session in full: handshake, extensions parameter by parameter, the last close with its
//! explanation, and the backoff timeline as a table and as a drawing on a time axis.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::engine::events::{SessionId, SessionState};
use crate::state::snapshot::{SessionView, Snapshot};

use super::rows::Rows;
use super::{Theme, backoff, handshake, layout};
use crate::tui::format::{self, safe};
use crate::tui::view::ViewState;

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

/// Every line of the detail of one session.
pub fn lines(
    s: &SessionView,
    snap: &Snapshot,
    view: &ViewState,
    width: u16,
    t: Theme,
) -> Vec<Line<'static>> {
    let mut out = Rows::new(width, t);
    // Whole pieces, wrapped under the value when the line is narrow: a time or a countdown is
    // never cut. "since" counts up from when the state began; "next in" counts down.
    let mut state: Vec<layout::Piece> = vec![
        vec![
            ("  state       ".to_string(), t.label()),
            (s.state.as_str().to_string(), t.state(s.state)),
        ],
        vec![(
            format!(
                " since {} ({})",
                view.time(s.state_since),
                format::duration_ms(format::ms_since(s.state_since, snap.now))
            ),
            t.plain(),
        )],
        vec![(format!("  attempt {}", s.attempt), t.plain())],
    ];
    if let Some(up) = format::uptime_ms(s, snap.now) {
        state.push(vec![(
            format!("  uptime {}", format::duration_ms(up)),
            t.plain(),
        )]);
    }
    if s.state == SessionState::Waiting
        && !s.paused
        && let Some(at) = s.next_attempt_at
    {
        state.push(vec![(
            format!(
                "  next in {} (attempt {})",
                format::duration_ms(format::ms_until(at, snap.now)),
                s.attempt.saturating_add(1)
            ),
            t.plain(),
        )]);
    }
    if s.paused {
        state.push(vec![("  retries paused".to_string(), t.warn())]);
    }
    out.kv("target", &format!("#{} {}", s.target, &*s.url), t.plain());
    for line in layout::wrap_pieces(state, usize::from(width), 14) {
        out.push(line);
    }
    if let Some((kind, msg)) = &s.last_error {
        out.kv(
            "last error",
            &format!("{}: {}", kind.as_str(), safe(msg)),
            t.error(),
        );
    }
    super::conn::connection_lines(&mut out, s, snap);
    out.push(Line::raw(""));
    super::script::script_lines(&mut out, s, snap, t);
    // What happened and what happens next first (the last close, the backoff timeline), then
    // the handshake and extensions, then the close code's full explanation.
    close_lines(&mut out, s, view, t);
    out.push(Line::raw(""));
    backoff::timeline_lines(&mut out, s, snap, view, t);
    out.push(Line::raw(""));
    recent_events(&mut out, s, snap, view, t);
    out.push(Line::raw(""));
    traffic_lines(&mut out, s, snap, t);
    health_lines(&mut out, s, snap, view, t);
    out.push(Line::raw(""));
    out.heading(format!(
        "Messages (the last {DETAIL_MESSAGES}, newest last; {}: all)",
        view.keys
            .first_key(crate::tui::keys::Action::Messages)
            .unwrap_or_default()
    ));
    for line in
        super::messages::recent_lines(snap, view, s.id, DETAIL_MESSAGES, usize::from(width), t)
    {
        out.push(line);
    }
    out.push(Line::raw(""));
    match &s.last_handshake {
        Some(h) => {
            handshake::handshake_lines(&mut out, h, t);
            out.push(Line::raw(""));
            handshake::extension_lines(&mut out, h, t);
        }
        None => {
            out.heading("Handshake");
            out.push(Line::styled("  no HTTP answer yet", t.dim()));
        }
    }
    if let Some(c) = &s.last_close {
        out.push(Line::raw(""));
        explanation_lines(&mut out.lines, c.code, view, t);
    }
    out.lines
}

fn close_lines(out: &mut Rows, s: &SessionView, view: &ViewState, t: Theme) {
    let Some(c) = &s.last_close else {
        out.heading("Last close");
        out.push(Line::styled("  none yet", t.dim()));
        if let Some(why) = &s.ended_why {
            out.kv("not retried", &safe(why), t.warn());
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
    // Whole pieces wrap under the code, so no time or duration is cut at 80 columns.
    let mut pieces: Vec<layout::Piece> = vec![
        vec![
            ("Last close  ".to_string(), t.heading()),
            (c.code.to_string(), t.code(c.code).add_modifier_bold()),
            (
                format!(" {}  ", view.registry.name_in(c.code, view.lang)),
                ratatui::style::Style::default(),
            ),
        ],
        vec![(format!("{how},"), t.dim())],
        vec![(
            if c.clean { " clean" } else { " not clean" }.to_string(),
            t.dim(),
        )],
    ];
    if let Some(up) = c.uptime_ms {
        if let Some((text, _)) = pieces.last_mut().and_then(|p| p.last_mut()) {
            text.push(',');
        }
        pieces.push(vec![(
            format!(" after {} open", format::duration_ms(up)),
            t.dim(),
        )]);
    }
    for line in layout::wrap_pieces(pieces, usize::from(out.width), 12) {
        out.push(line);
    }
    if !c.reason.is_empty() {
        out.kv("reason", &format!("\"{}\"", safe(&c.reason)), t.plain());
    }
    if let Some(why) = &s.ended_why {
        out.kv("not retried", &safe(why), t.warn());
    }
}

/// Messages and bytes each way (on the wire and as payload), what compression saves, the ping
/// round trip.
fn traffic_lines(out: &mut Rows, s: &SessionView, snap: &Snapshot, t: Theme) {
    let Some(c) = snap
        .index_of(s.id)
        .and_then(|i| snap.counters.get(i).copied().flatten())
    else {
        // A replayed session: the export records events, not traffic.
        out.heading("Traffic");
        out.push(Line::from(Span::styled(
            "  not recorded (an export holds events, not message or byte counts)",
            t.dim(),
        )));
        return;
    };
    out.heading("Traffic (this session, all connections)");
    let way = |msgs: u64, wire: u64, payload: u64| {
        format!(
            "{} msg{}, {} on the wire, {} payload",
            format::count(msgs),
            if msgs == 1 { "" } else { "s" },
            format::bytes(wire),
            format::bytes(payload)
        )
    };
    out.kv(
        "received",
        &way(c.msgs_in, c.wire_in, c.payload_in),
        t.plain(),
    );
    out.kv(
        "sent",
        &way(c.msgs_out, c.wire_out, c.payload_out),
        t.plain(),
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
        out.kv("", &extra.join("; "), t.dim());
    }
}

/// Message health under the traffic: the server's last message, since when the session is
/// stale, the message latency (last, p50, p99). Nothing when none is known.
fn health_lines(out: &mut Rows, s: &SessionView, snap: &Snapshot, view: &ViewState, t: Theme) {
    let age = snap
        .index_of(s.id)
        .and_then(|i| snap.counters.get(i).copied().flatten())
        .and_then(|c| c.msg_age_ms(snap.now));
    if let Some(ms) = age {
        out.kv(
            "last msg",
            &format!("{} ago", format::msg_age(ms)),
            t.plain(),
        );
    }
    if let (Some(since), Some(ms)) = (s.stale_since, s.stale_for_ms(snap.now)) {
        let text = format!(
            "since {} ({}); no message for {}",
            view.time(since),
            format::msg_age(format::ms_since(since, snap.now)),
            format::msg_age(ms)
        );
        out.kv("stale", &text, t.warn());
    }
    if let Some(l) = &s.latency {
        let kept = crate::state::snapshot::SESSION_LATENCY_SAMPLES as u64;
        let over = if l.count > kept {
            format!("the last {kept} of {}", l.count)
        } else {
            format!("{} sample{}", l.count, if l.count == 1 { "" } else { "s" })
        };
        let text = format!(
            "last {}, p50 {}, p99 {} ({over})",
            format::rtt(l.last_us),
            format::rtt(l.p50_us),
            format::rtt(l.p99_us),
        );
        out.kv("latency", &text, t.plain());
    }
}

/// The full explanation of the last close code, at the end of the detail.
pub(super) fn explanation_lines(
    out: &mut Vec<Line<'static>>,
    code: u16,
    view: &ViewState,
    t: Theme,
) {
    use crate::codes::layout as text;
    let Ok(ex) = crate::codes::explain::one(&view.registry, code, view.lang) else {
        return;
    };
    out.push(heading(format!("About {}", ex.title), t));
    for mut line in super::explain::styled(&text::body(&ex, text::WIDTH), t) {
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

/// How many logged messages of the session the detail lists.
const DETAIL_MESSAGES: usize = 5;

/// How many events of the session the detail lists.
const RECENT_EVENTS: usize = 12;

/// The session's own latest events from the event log.
fn recent_events(out: &mut Rows, s: &SessionView, snap: &Snapshot, view: &ViewState, t: Theme) {
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
    let label = crate::tui::columns::target_labels(snap)
        .get(s.target)
        .cloned()
        .unwrap_or_default();
    for e in mine.iter().skip(mine.len().saturating_sub(RECENT_EVENTS)) {
        let mut l = super::log::line(e, &label, view, t, out.width.saturating_sub(2));
        l.spans.insert(0, Span::raw("  "));
        out.push(l);
    }
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
                link: Default::default(),
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
                link: Default::default(),
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
                link: Default::default(),
            },
            EventKind::Open {
                attempt: 1,
                link: Default::default(),
            },
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
}
