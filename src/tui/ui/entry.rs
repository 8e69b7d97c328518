//! The entry view (`Enter` in the Messages view): one logged frame in full. JSON is
//! pretty-printed in its own key order and folds by level; binary is hex + ASCII, 16 bytes a
//! row; other text is escaped and wrapped; a close frame shows its code with the explanation
//! the detail view gives. Only the rows on screen are built for hex and for payloads too large
//! to pretty-print (those are shown raw, with a note), so a 16 MiB payload never stalls a frame.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::engine::events::{MessageRecord, Opcode};
use crate::protocol::frame::CloseBody;
use crate::state::messages::Entry;
use crate::state::snapshot::Snapshot;

use super::Theme;
use super::messages::{direction, size_words};
use crate::tui::format::safe;
use crate::tui::inspect::{Inspector, opcode_name};
use crate::tui::view::ViewState;

/// Payloads up to this size are pretty-printed as JSON; larger ones are shown raw.
pub const PRETTY_LIMIT: usize = 256 * 1024;

/// Bytes a hex row shows.
const HEX_ROW: usize = 16;

/// One JSON token: a byte range of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Open(u8),
    Close(u8),
    Comma,
    Colon,
    Scalar(usize, usize),
}

/// The tokens of a JSON text already checked valid.
fn tokens(src: &[u8]) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        match c {
            b'{' | b'[' => out.push(Tok::Open(c)),
            b'}' | b']' => out.push(Tok::Close(c)),
            b',' => out.push(Tok::Comma),
            b':' => out.push(Tok::Colon),
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'"' => {
                let start = i;
                i += 1;
                while i < src.len() && src[i] != b'"' {
                    i += if src[i] == b'\\' { 2 } else { 1 };
                }
                out.push(Tok::Scalar(start, (i + 1).min(src.len())));
            }
            _ => {
                let start = i;
                while i + 1 < src.len()
                    && !matches!(
                        src[i + 1],
                        b',' | b'}' | b']' | b':' | b' ' | b'\t' | b'\n' | b'\r'
                    )
                {
                    i += 1;
                }
                out.push(Tok::Scalar(start, i + 1));
            }
        }
        i += 1;
    }
    out
}

/// Is this an object or array that parses as JSON?
pub fn is_json(src: &[u8]) -> bool {
    let first = src.iter().find(|b| !b.is_ascii_whitespace());
    matches!(first, Some(b'{' | b'['))
        && serde_json::from_slice::<serde::de::IgnoredAny>(src).is_ok()
}

/// How deep the JSON nests (1 for a flat object).
pub fn json_depth(src: &[u8]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for t in tokens(src) {
        match t {
            Tok::Open(_) => {
                depth += 1;
                max = max.max(depth);
            }
            Tok::Close(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Pretty-printed JSON lines (indent level, text), containers deeper than `fold` levels shown
/// folded (`{…} 3 keys`); `None` unfolds everything.
pub fn json_lines(src: &[u8], fold: Option<usize>) -> Vec<(usize, String)> {
    let toks = tokens(src);
    let text = |a: usize, b: usize| String::from_utf8_lossy(&src[a..b]).into_owned();
    let mut lines = Vec::new();
    let (mut cur, mut indent, mut depth) = (String::new(), 0usize, 0usize);
    let mut k = 0;
    while k < toks.len() {
        match toks[k] {
            Tok::Open(c) => {
                let close = if c == b'{' { '}' } else { ']' };
                // The matching close and the item count.
                let (mut level, mut items, mut end) = (0usize, 0usize, toks.len() - 1);
                for (j, t) in toks.iter().enumerate().skip(k) {
                    match t {
                        Tok::Open(_) => level += 1,
                        Tok::Close(_) => {
                            level -= 1;
                            if level == 0 {
                                end = j;
                                break;
                            }
                        }
                        Tok::Comma if level == 1 => items += 1,
                        _ => {}
                    }
                }
                if end > k + 1 {
                    items += 1;
                }
                if end == k + 1 {
                    cur.push(char::from(c));
                    cur.push(close);
                    k = end;
                } else if fold.is_some_and(|f| depth >= f) {
                    let what = if c == b'{' { "key" } else { "item" };
                    cur.push_str(&format!(
                        "{}…{close} {items} {what}{}",
                        char::from(c),
                        if items == 1 { "" } else { "s" }
                    ));
                    k = end;
                } else {
                    cur.push(char::from(c));
                    lines.push((indent, std::mem::take(&mut cur)));
                    depth += 1;
                    indent = depth;
                }
            }
            Tok::Close(c) => {
                if !cur.is_empty() {
                    lines.push((indent, std::mem::take(&mut cur)));
                }
                depth = depth.saturating_sub(1);
                indent = depth;
                cur.push(char::from(c));
            }
            Tok::Comma => {
                cur.push(',');
                lines.push((indent, std::mem::take(&mut cur)));
                indent = depth;
            }
            Tok::Colon => cur.push_str(": "),
            Tok::Scalar(a, b) => cur.push_str(&text(a, b)),
        }
        k += 1;
    }
    if !cur.is_empty() {
        lines.push((indent, cur));
    }
    lines
}

/// `text` in pieces of at most `width` characters.
fn chunks(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars
        .chunks(width.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

/// One hex row: offset, 16 bytes in two groups, the printable ASCII.
fn hex_row(payload: &[u8], row: usize) -> String {
    let start = row * HEX_ROW;
    let bytes = &payload[start.min(payload.len())..(start + HEX_ROW).min(payload.len())];
    let mut hex = String::new();
    for i in 0..HEX_ROW {
        if i == 8 {
            hex.push(' ');
        }
        match bytes.get(i) {
            Some(b) => hex.push_str(&format!("{b:02x} ")),
            None => hex.push_str("   "),
        }
    }
    let ascii: String = bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect();
    format!("{start:08x}  {hex} |{ascii}|")
}

/// The body of an entry: the window `[scroll, scroll + height)` of its lines and how many
/// lines there are. Hex and raw text are built for the window only.
pub fn body(
    r: &MessageRecord,
    view: &ViewState,
    fold: Option<usize>,
    width: usize,
    scroll: usize,
    height: usize,
    t: Theme,
) -> (Vec<Line<'static>>, usize) {
    let p = &r.payload;
    let window = |all: Vec<Line<'static>>| {
        let n = all.len();
        (all.into_iter().skip(scroll).take(height).collect(), n)
    };
    let binary = r.opcode == Opcode::Binary
        || (matches!(r.opcode, Opcode::Ping | Opcode::Pong) && std::str::from_utf8(p).is_err());
    if binary {
        let total = p.len().div_ceil(HEX_ROW);
        let lines = (scroll..total.min(scroll + height))
            .map(|row| Line::raw(hex_row(p, row)))
            .collect();
        return (lines, total);
    }
    if r.opcode == Opcode::Close {
        let c = CloseBody::decode(p);
        let mut all = Vec::new();
        match c.code {
            Some(code) => {
                all.push(Line::from(vec![
                    Span::styled("code    ", t.label()),
                    Span::styled(code.to_string(), t.code(code)),
                    Span::raw(format!(" {}", view.registry.name_in(code, view.lang))),
                ]));
                if !c.reason.is_empty() {
                    all.push(Line::from(vec![
                        Span::styled("reason  ", t.label()),
                        Span::raw(format!("\"{}\"", safe(&c.reason))),
                    ]));
                }
                all.push(Line::raw(""));
                super::detail::explanation_lines(&mut all, code, view, t);
            }
            None => all.push(Line::styled(
                "no status code (the receiver reports 1005 No Status Received)",
                t.dim(),
            )),
        }
        return window(all);
    }
    if p.len() > PRETTY_LIMIT {
        // Raw, one slice of bytes a row: only the rows on screen are decoded and escaped.
        let w = width.max(1);
        let total = p.len().div_ceil(w);
        let lines = (scroll..total.min(scroll + height))
            .map(|row| {
                let slice = &p[row * w..((row + 1) * w).min(p.len())];
                Line::raw(
                    crate::tui::format::fit(&crate::redact::escape_bytes(slice), w).into_owned(),
                )
            })
            .collect();
        return (lines, total);
    }
    if is_json(p) {
        let all = json_lines(p, fold)
            .into_iter()
            .flat_map(|(indent, text)| {
                let pad = "  ".repeat(indent.min(width / 4));
                let room = width.saturating_sub(pad.len()).max(8);
                chunks(&safe(&text), room)
                    .into_iter()
                    .map(move |c| Line::raw(format!("{pad}{c}")))
                    .collect::<Vec<_>>()
            })
            .collect();
        return window(all);
    }
    let text = crate::redact::escape_bytes(p);
    window(chunks(&text, width).into_iter().map(Line::raw).collect())
}

/// The lines above the body: what the entry is, how it travelled, what was cut, how it shows.
fn header(e: &Entry, view: &ViewState, t: Theme) -> Vec<Line<'static>> {
    let r = &e.record;
    let mut first = format!(
        "#{}  {}  {}  {}  {} on the wire",
        e.seq,
        view.time(e.ts),
        direction(r.dir),
        opcode_name(r.opcode),
        size_words(r.wire_size)
    );
    if r.rsv1 {
        first.push_str(&format!(", {} inflated (compressed)", size_words(r.size)));
    }
    let mut out = vec![Line::styled(first, t.label())];
    let mut notes = Vec::new();
    if r.is_cut() {
        notes.push(format!(
            "payload {}, first {} kept",
            size_words(r.size),
            size_words(r.payload.len() as u64)
        ));
    }
    match r.opcode {
        Opcode::Text | Opcode::Ping | Opcode::Pong if r.payload.len() > PRETTY_LIMIT => {
            notes.push(format!(
                "over {}: shown raw, not pretty-printed",
                size_words(PRETTY_LIMIT as u64)
            ));
        }
        Opcode::Text if is_json(&r.payload) => {
            notes.push("JSON (+/-: unfold/fold a level)".to_string());
        }
        Opcode::Text if r.is_cut() && r.payload.first() == Some(&b'{') => {
            notes.push("JSON cut short: shown as text".to_string());
        }
        _ => {}
    }
    if !notes.is_empty() {
        out.push(Line::styled(notes.join(" · "), t.warn()));
    }
    out
}

/// Lines of the header and the body's line count, for scrolling.
pub fn total_lines(snap: &Snapshot, view: &ViewState, insp: &Inspector, width: u16) -> usize {
    let logs = snap.messages.lock();
    let Some(e) = insp.entry.and_then(|seq| find(&logs, insp, seq)) else {
        return 0;
    };
    let t = Theme { color: false };
    body(&e.record, view, insp.fold, usize::from(width), 0, 0, t).1
}

fn find(logs: &crate::state::messages::Logs, insp: &Inspector, seq: u64) -> Option<Entry> {
    let log = logs.sessions.get(&insp.session)?;
    let entries = log.entries();
    let i = entries.partition_point(|e| e.seq < seq);
    entries.get(i).filter(|e| e.seq == seq).cloned()
}

/// The body's height in `area` (the pane less its border and the header).
pub fn body_height(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(4))
}

pub fn draw(
    frame: &mut Frame,
    area: Rect,
    snap: &Snapshot,
    view: &ViewState,
    insp: &Inspector,
    seq: u64,
    t: Theme,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    // The entry is copied out (a handle to the record): the lock is held only to find it.
    let entry = find(&snap.messages.lock(), insp, seq);
    let mut block = Block::default()
        .borders(Borders::TOP)
        .title(format!(
            " Message #{seq} of s{} (Esc: back, j/k: scroll) ",
            insp.session
        ))
        .title_style(t.heading());
    let inner = block.inner(area);
    let Some(e) = entry else {
        frame.render_widget(block, area);
        frame.render_widget(
            Paragraph::new(Line::styled(
                format!(
                    " message #{seq} is no longer kept (the log keeps the latest messages only)"
                ),
                t.dim(),
            )),
            inner,
        );
        return;
    };
    let mut lines = header(&e, view, t);
    lines.push(Line::raw(""));
    let height = usize::from(inner.height).saturating_sub(lines.len());
    let (body, total) = body(
        &e.record,
        view,
        insp.fold,
        usize::from(inner.width),
        usize::from(insp.entry_scroll),
        height,
        t,
    );
    if let Some(hint) = super::scroll_hint(
        insp.entry_scroll,
        u16::try_from(height).unwrap_or(u16::MAX),
        total,
    ) {
        block = block.title(Line::styled(hint, t.dim()).right_aligned());
    }
    frame.render_widget(block, area);
    lines.extend(body);
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_its_key_order_and_folds_by_level() {
        let src = br#"{"z":1,"a":{"b":[1,2,{"c":null}],"e":{}},"s":"x,y"}"#;
        let all: Vec<String> = json_lines(src, None)
            .into_iter()
            .map(|(i, t)| format!("{}{t}", "  ".repeat(i)))
            .collect();
        assert_eq!(
            all,
            [
                "{",
                "  \"z\": 1,",
                "  \"a\": {",
                "    \"b\": [",
                "      1,",
                "      2,",
                "      {",
                "        \"c\": null",
                "      }",
                "    ],",
                "    \"e\": {}",
                "  },",
                "  \"s\": \"x,y\"",
                "}",
            ]
        );
        let one: Vec<String> = json_lines(src, Some(1))
            .into_iter()
            .map(|(i, t)| format!("{}{t}", "  ".repeat(i)))
            .collect();
        assert_eq!(
            one,
            [
                "{",
                "  \"z\": 1,",
                "  \"a\": {…} 2 keys,",
                "  \"s\": \"x,y\"",
                "}"
            ]
        );
        let root: Vec<String> = json_lines(src, Some(0)).into_iter().map(|l| l.1).collect();
        assert_eq!(root, ["{…} 3 keys"]);
        assert_eq!(json_depth(src), 4);
    }

    #[test]
    fn only_objects_and_arrays_that_parse_are_json() {
        assert!(is_json(b" [1, 2]"));
        assert!(!is_json(b"{\"a\":"), "cut short");
        assert!(!is_json(b"\"just a string\""));
        assert!(!is_json(b"hello"));
    }

    #[test]
    fn a_16_mib_json_is_shown_raw_and_only_the_rows_on_screen_are_built() {
        let mut payload = b"[".to_vec();
        while payload.len() < 16 * 1024 * 1024 {
            payload.extend_from_slice(b"{\"k\":\"\x1b[31m\"},");
        }
        payload.extend_from_slice(b"{}]");
        let r = MessageRecord {
            dir: crate::engine::events::Direction::In,
            opcode: Opcode::Text,
            wire_size: payload.len() as u64,
            size: payload.len() as u64,
            rsv1: false,
            payload,
        };
        let view = crate::tui::fixtures::view_state();
        let t = Theme { color: false };
        let (lines, total) = body(&r, &view, None, 80, 100_000, 20, t);
        assert_eq!(total, r.payload.len().div_ceil(80));
        assert_eq!(lines.len(), 20);
        let text: String = lines[0].spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(!text.chars().any(char::is_control), "escaped: {text}");
        assert!(text.contains("\\u{1b}"), "{text}");
    }

    #[test]
    fn hex_rows_show_offsets_and_printable_ascii() {
        let p: Vec<u8> = (0u8..20).chain(b"AZ".iter().copied()).collect();
        assert_eq!(
            hex_row(&p, 0),
            "00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|"
        );
        assert_eq!(
            hex_row(&p, 1),
            "00000010  10 11 12 13 41 5a                                 |....AZ|"
        );
    }
}
