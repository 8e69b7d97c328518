//! The Messages view (`M`): one session's logged frames, one row each, newest last, following
//! the newest until the operator moves. Only the rows on screen are built; the log is read
//! under its lock for the time it takes to format them.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::engine::events::{Direction, MessageRecord, Opcode};
use crate::protocol::frame::CloseBody;
use crate::state::messages::{Entry, MessageLog};
use crate::state::snapshot::Snapshot;

use super::Theme;
use crate::tui::format;
use crate::tui::inspect::{Inspector, opcode_name};
use crate::tui::view::ViewState;

/// Lines of notes (what was dropped or cut, filters, pause) above the headings: two when
/// narrow, so that "312 earlier messages not kept" is never cut.
fn note_lines(width: u16) -> u16 {
    if width < 100 { 2 } else { 1 }
}

/// Rows of entries on screen in `body` (less the border, the notes and the headings).
pub fn rows(body: Rect) -> usize {
    usize::from(body.height.saturating_sub(2 + note_lines(body.width)))
}

/// The notes packed into `n` lines of `width`: each note whole, in order, or left out.
fn pack_notes(notes: Vec<(String, bool)>, width: usize, n: usize, t: Theme) -> Vec<Line<'static>> {
    let mut lines: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0;
    for (text, loud) in notes {
        let style = if loud { t.warn() } else { t.label() };
        let sep = |used: usize| if used == 0 { 1 } else { 3 };
        let mut len = text.chars().count();
        if used > 0 && used + sep(used) + len > width {
            if lines.len() == n {
                continue;
            }
            lines.push(Vec::new());
            used = 0;
        }
        // A note longer than a whole line is cut, not left out.
        let text = format::fit(&text, width.saturating_sub(1)).into_owned();
        len = len.min(width.saturating_sub(1));
        if let Some(cur) = lines.last_mut() {
            cur.push(Span::raw(if used == 0 { " " } else { " · " }));
            cur.push(Span::styled(text, style));
        }
        used += sep(used) + len;
    }
    while lines.len() < n {
        lines.push(Vec::new());
    }
    lines.into_iter().map(Line::from).collect()
}

/// Bytes in words, for notes: `512 B`, `4 KiB`, `1.2 MiB`.
pub fn size_words(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 || v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// `← in` / `→ out`.
pub fn direction(d: Direction) -> &'static str {
    match d {
        Direction::In => "← in",
        Direction::Out => "→ out",
    }
}

/// A one-line preview of a payload, escaped, at most `width` characters: text as text, binary
/// as hex, a close frame as its code, name and reason.
pub fn preview(r: &MessageRecord, view: &ViewState, width: usize) -> String {
    // Enough bytes for the width: escaping only makes text longer.
    let head = &r.payload[..r.payload.len().min(width.saturating_mul(4) + 4)];
    let text = match r.opcode {
        Opcode::Binary => head
            .iter()
            .take(width / 3 + 1)
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
        Opcode::Close => {
            let c = CloseBody::decode(&r.payload);
            match c.code {
                Some(code) => {
                    let mut s = format!("{code} {}", view.registry.name_in(code, view.lang));
                    if !c.reason.is_empty() {
                        s.push_str(&format!(
                            " \"{}\"",
                            crate::redact::escape_control(&c.reason)
                        ));
                    }
                    s
                }
                None => "no code (1005 No Status Received)".to_string(),
            }
        }
        _ => crate::redact::escape_bytes(head),
    };
    format::fit(&text, width).into_owned()
}

/// Below this width the WIRE column is left out (SIZE still marks compression), so the
/// payload preview keeps some room.
const WIRE_MIN_WIDTH: usize = 100;

/// The column headings.
fn heading(view: &ViewState, snap: &Snapshot, width: usize) -> String {
    format!(
        "  {:>6} {:<tw$} {:>7} {:<5} {:<6} {}{:>7}  PAYLOAD",
        "SEQ",
        format!("TIME ({})", view.zone()),
        "Δ",
        "DIR",
        "OP",
        if width >= WIRE_MIN_WIDTH {
            "  WIRE "
        } else {
            ""
        },
        "SIZE",
        tw = view.time(snap.now).chars().count(),
    )
}

/// One row: seq, time, Δ since the previous entry kept, direction, opcode, sizes (`z` when
/// compressed), preview.
pub fn row(e: &Entry, prev: Option<&Entry>, view: &ViewState, width: usize) -> String {
    let r = &e.record;
    let delta = prev.map_or_else(
        || "-".to_string(),
        |p| {
            let ms = (e.ts - p.ts).num_milliseconds();
            format!("+{}", format::duration_ms(u64::try_from(ms).unwrap_or(0)))
        },
    );
    let size = if r.rsv1 {
        format!("{} z", format::bytes(r.size))
    } else {
        format::bytes(r.size)
    };
    let wire = if width + 2 >= WIRE_MIN_WIDTH {
        format!("{:>6} ", format::bytes(r.wire_size))
    } else {
        String::new()
    };
    let head = format!(
        "{:>6} {} {:>7} {:<5} {:<6} {wire}{:>7}  ",
        e.seq,
        view.time(e.ts),
        format::fit(&delta, 7),
        direction(r.dir),
        opcode_name(r.opcode),
        size,
    );
    let room = width.saturating_sub(head.chars().count());
    format!("{head}{}", preview(r, view, room))
}

/// What was dropped or cut, the filters and the pause, for the notes line.
pub fn notes(log: &MessageLog, insp: &Inspector, preview_cap: usize) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    if let Some(p) = insp.paused_at {
        let since = log.logged().saturating_sub(p);
        out.push((format!("PAUSED: {since} arrived since (p: resume)"), true));
    }
    if log.dropped() > 0 {
        out.push((
            format!(
                "{} earlier message{} not kept",
                log.dropped(),
                if log.dropped() == 1 { "" } else { "s" }
            ),
            false,
        ));
    }
    if log.cut() > 0 {
        out.push((
            format!(
                "{} payload{} cut to the first {}",
                log.cut(),
                if log.cut() == 1 { "" } else { "s" },
                size_words(preview_cap as u64)
            ),
            false,
        ));
    }
    let f = insp.filter.summary();
    if !f.is_empty() {
        out.push((format!("filter: {f}"), false));
    }
    if insp.filter.opcode.is_none() && !insp.filter.control {
        out.push(("ping/pong hidden (c)".to_string(), false));
    }
    out
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    snap: &Snapshot,
    view: &ViewState,
    insp: &Inspector,
    t: Theme,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let s = snap
        .index_of(insp.session)
        .and_then(|i| snap.sessions.get(i));
    let labels = crate::tui::columns::target_labels(snap);
    let target = s.map_or_else(String::new, |s| {
        format!(
            " #{} {}",
            s.target,
            labels.get(s.target).map_or("", String::as_str)
        )
    });
    let logs = snap.messages.lock();
    let preview_cap = logs.caps.preview;
    let log = logs.sessions.get(&insp.session);
    let shown = log.map(|l| insp.shown(l)).unwrap_or_default();
    let cursor = log.and_then(|l| insp.cursor(l, &shown));
    let n = rows(area);
    let position = match (insp.selected, cursor) {
        (None, _) => " following the newest ".to_string(),
        (Some(_), Some(c)) => format!(" row {}/{} (G: newest) ", c + 1, shown.len()),
        (Some(_), None) => " (G: newest) ".to_string(),
    };
    // The titles share one line: drop the key hint (the footer has it), then the position,
    // rather than let them overlap mid-word at 80 columns.
    let width = usize::from(area.width);
    let fits = |a: &str, b: &str| a.chars().count() + b.chars().count() + 2 <= width;
    let mut title = format!(
        " Messages of s{}{target} (Enter: open, Esc: back) ",
        insp.session
    );
    if !fits(&title, &position) {
        title = format!(" Messages of s{}{target} ", insp.session);
    }
    let mut block = Block::default()
        .borders(Borders::TOP)
        .title(title.clone())
        .title_style(t.heading());
    if fits(&title, &position) {
        block = block.title(Line::styled(position, t.dim()).right_aligned());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    let mut lines = Vec::with_capacity(n + 2);
    let Some(log) = log else {
        let why = if logs.caps.is_off() {
            "  the message log is off (--message-log 0)"
        } else {
            "  no message logged for this session yet"
        };
        lines.push(Line::raw(""));
        lines.push(Line::styled(why, t.dim()));
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    };
    let mut all = notes(log, insp, preview_cap);
    all.push((
        format!("{} kept of {} logged", log.entries().len(), log.logged()),
        false,
    ));
    lines.extend(pack_notes(
        all,
        width,
        usize::from(note_lines(area.width)),
        t,
    ));
    lines.push(Line::styled(
        format::fit(&heading(view, snap, width), width).into_owned(),
        t.heading(),
    ));
    if shown.is_empty() {
        lines.push(Line::styled("  no message matches the filters", t.dim()));
    }
    let cur = cursor.unwrap_or(0);
    let start = start(insp, log, &shown, n);
    let entries = log.entries();
    for (pos, &i) in shown.iter().enumerate().skip(start).take(n) {
        let Some(e) = entries.get(i) else { continue };
        let prev = i.checked_sub(1).and_then(|p| entries.get(p));
        let text = row(e, prev, view, width.saturating_sub(2));
        let style = match e.record.opcode {
            Opcode::Close => t.warn(),
            Opcode::Ping | Opcode::Pong => t.dim(),
            _ => t.plain(),
        };
        let selected = insp.selected.is_some() && pos == cur;
        let mark = if selected { "▶ " } else { "  " };
        let line = Line::from(vec![Span::styled(mark, t.key()), Span::styled(text, style)]);
        lines.push(if selected {
            line.style(t.selected())
        } else {
            line
        });
    }
    drop(logs);
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The first row on screen among `shown` (positions into the log), for `rows` rows: the
/// newest rows when following, else from the top row kept, moved just enough to show the
/// selection.
pub fn start(insp: &Inspector, log: &MessageLog, shown: &[usize], rows: usize) -> usize {
    if insp.selected.is_none() {
        return shown.len().saturating_sub(rows);
    }
    let entries = log.entries();
    let top = shown.partition_point(|&i| entries.get(i).is_some_and(|e| e.seq < insp.top));
    let cur = insp.cursor(log, shown).unwrap_or(0);
    super::table::window(top, cur, rows, shown.len())
}

/// The last `n` entries of a session, for the Messages pane of the detail view.
pub fn recent_lines(
    snap: &Snapshot,
    view: &ViewState,
    session: crate::engine::events::SessionId,
    n: usize,
    width: usize,
    t: Theme,
) -> Vec<Line<'static>> {
    let logs = snap.messages.lock();
    let mut out = Vec::new();
    let Some(log) = logs.sessions.get(&session) else {
        out.push(Line::styled(
            if logs.caps.is_off() {
                "  the message log is off (--message-log 0)"
            } else {
                "  no message logged yet"
            },
            t.dim(),
        ));
        return out;
    };
    let entries = log.entries();
    let start = entries.len().saturating_sub(n);
    for i in start..entries.len() {
        let prev = i.checked_sub(1).and_then(|p| entries.get(p));
        if let Some(e) = entries.get(i) {
            out.push(Line::raw(format!(
                "  {}",
                row(e, prev, view, width.saturating_sub(2))
            )));
        }
    }
    out
}
