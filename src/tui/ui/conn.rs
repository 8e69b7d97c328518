//! The session detail's transport lines: for an HTTP/2 session its connection and stream, the
//! connection's state as the snapshot knows it (sessions open on it now, or lost with a GOAWAY,
//! a reset ...) and the other sessions whose last connection it is. A pure function of the
//! snapshot: the connection's sessions are those with the same target and `link.connection`.

use ratatui::text::{Line, Span};

use crate::engine::events::{Cause, SessionState};
use crate::protocol::http2::{self, LossReason, Proto};
use crate::state::snapshot::{SessionView, Snapshot};

use super::rows::Rows;

/// Width of the `  label       ` prefix of a detail row.
const LABEL: usize = 14;
/// Lines the list of the other sessions may take.
const PEER_LINES: usize = 2;

/// The transport lines of `s`: nothing for a session of the default HTTP/1.1 transport (it
/// records no link), one line for HTTP/1.1 chosen by `--transport auto`, the connection's
/// lines over HTTP/2.
pub fn connection_lines(out: &mut Rows, s: &SessionView, snap: &Snapshot) {
    let t = out.t;
    match (s.link.transport, s.link.connection) {
        (Some(Proto::H1), _) => out.kv("link", "HTTP/1.1 (a TCP connection of its own)", t.plain()),
        (Some(Proto::H2), Some(conn)) => {
            let mut link = format!("connection c{conn}");
            if let Some(stream) = s.link.stream {
                link.push_str(&format!(", stream {stream}"));
            }
            link.push_str(", HTTP/2");
            out.kv("link", &link, t.plain());
            if let Some(Cause::Connection {
                reason: LossReason::RstStream,
                h2_error,
            }) = s.link_lost
            {
                let code =
                    h2_error.map_or_else(String::new, |c| format!(" {}", http2::error_name(c)));
                out.kv(
                    "stream",
                    &format!("reset by the server (RST_STREAM{code}); the connection lived on"),
                    t.warn(),
                );
            }
            let peers: Vec<&SessionView> = snap
                .sessions
                .iter()
                .filter(|p| p.target == s.target && p.link.connection == Some(conn))
                .map(|p| &**p)
                .collect();
            let (text, lost) = state_text(s, &peers, snap, conn);
            out.kv(
                &format!("c{conn}"),
                &text,
                if lost { t.error() } else { t.plain() },
            );
            peer_lines(out, s, &peers, conn);
        }
        _ => {}
    }
}

/// What the snapshot knows of connection `conn`: lost (the cause a session on it recorded, this
/// session's first) and how many sessions went with it, or how many are open on it now.
fn state_text(
    s: &SessionView,
    peers: &[&SessionView],
    snap: &Snapshot,
    conn: u32,
) -> (String, bool) {
    let open = peers
        .iter()
        .filter(|p| matches!(p.state, SessionState::Open | SessionState::Closing))
        .count();
    let connection_cause = |p: &SessionView| match p.link_lost {
        Some(Cause::Connection { reason, h2_error }) if reason != LossReason::RstStream => {
            Some((reason, h2_error))
        }
        _ => None,
    };
    let lost = connection_cause(s).or_else(|| peers.iter().find_map(|p| connection_cause(p)));
    if let Some((reason, h2_error)) = lost {
        let went = snap
            .totals
            .lost_connections
            .get(&conn)
            .copied()
            .unwrap_or(0);
        let what = if went == 1 { "session" } else { "sessions" };
        let text = format!(
            "lost ({}), {went} {what} lost with it",
            http2::loss_label(reason, h2_error)
        );
        return (text, true);
    }
    let text = match open {
        0 => "no session on it now".to_string(),
        1 => "open, 1 session on it now".to_string(),
        n => format!("open, {n} sessions on it now"),
    };
    (text, false)
}

/// The other sessions whose last connection is this one, by id, on at most [`PEER_LINES`]
/// lines: `s3 s9 s12 … (+37)`.
fn peer_lines(out: &mut Rows, s: &SessionView, peers: &[&SessionView], conn: u32) {
    let t = out.t;
    let ids: Vec<String> = peers
        .iter()
        .filter(|p| p.id != s.id)
        .map(|p| format!("s{}", p.id))
        .collect();
    let room = usize::from(out.width).saturating_sub(LABEL).max(10);
    let mut lines: Vec<String> = vec![String::new()];
    let mut shown = 0;
    while let Some(id) = ids.get(shown) {
        let left = ids.len() - shown - 1;
        // On the last line, keep room for ` … (+N)` unless this is the last id.
        let reserve = if lines.len() == PEER_LINES && left > 0 {
            format!(" … (+{left})").chars().count()
        } else {
            0
        };
        let count = lines.len();
        let Some(line) = lines.last_mut() else { break };
        let sep = usize::from(!line.is_empty());
        if line.len() + sep + id.len() + reserve <= room {
            if sep == 1 {
                line.push(' ');
            }
            line.push_str(id);
            shown += 1;
        } else if count < PEER_LINES && !line.is_empty() {
            lines.push(String::new());
        } else {
            break;
        }
    }
    if ids.is_empty() {
        lines = vec!["none".to_string()];
    } else if shown < ids.len()
        && let Some(l) = lines.last_mut()
    {
        let more = format!("… (+{})", ids.len() - shown);
        if !l.is_empty() {
            l.push(' ');
        }
        l.push_str(&more);
    }
    let label = format!("  {:<12}", format!("also on c{conn}"));
    for (i, l) in lines.into_iter().enumerate() {
        let lead = if i == 0 {
            Span::styled(label.clone(), t.label())
        } else {
            Span::raw(" ".repeat(LABEL))
        };
        let style = if ids.is_empty() { t.dim() } else { t.plain() };
        out.push(Line::from(vec![lead, Span::styled(l, style)]));
    }
}
