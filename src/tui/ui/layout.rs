//! Fitting text into the width there is. The rule, everywhere on the screen: numbers, codes,
//! paths and key names are never cut; prose and labels shrink first, in this order:
//!
//! 1. the free-form title (`demo: scenario server on ws://…`): its leading words go first, its
//!    last word (an address, a URL) stays whole or goes whole;
//! 2. details a badge repeats from elsewhere (the filter's summary, which the status line
//!    always shows), and optional pieces (the replay file name);
//! 3. the program's name in the title bar, then the spaces between badges;
//! 4. prose inside a line (explanations, hints, the names of close codes next to their
//!    numbers, help texts): wrapped onto the next line where the pane scrolls or a second line
//!    is free (the status line takes the footer's row), else cut with `…`;
//! 5. whole optional pieces (footer keys, chart labels) are left out rather than cut.
//!
//! A piece that is never cut is placed whole or not at all ([`wrap_pieces`]).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::tui::format;

/// The width of `text` in cells (one per character: the screen has no wide characters).
pub fn width(text: &str) -> usize {
    text.chars().count()
}

/// A free-form title in `room` cells: whole if it fits, else its last words, whole words only
/// (the last word, an address, is what tells two runs apart); `None` if not even the last word
/// fits.
pub fn title_tail(title: &str, room: usize) -> Option<String> {
    if width(title) <= room {
        return Some(title.to_string());
    }
    let words: Vec<&str> = title.split(' ').collect();
    for skip in 1..words.len() {
        // A tail does not start with a little word ("…on ws://…" reads as "…ws://…").
        if words[skip].chars().count() <= 2 && skip + 1 < words.len() {
            continue;
        }
        let tail = format!("…{}", words[skip..].join(" "));
        if width(&tail) <= room {
            return Some(tail);
        }
    }
    None
}

/// A run of styled texts that moves as one piece (a key and its label).
pub type Piece = Vec<(String, Style)>;

/// Pieces laid out on lines of `width` cells: a piece is never cut; one that does not fit on
/// the current line starts the next, indented by `indent` cells, without its leading spaces.
/// A piece wider than a whole line is cut with `…` (prose only reaches that point).
pub fn wrap_pieces(units: Vec<Piece>, width: usize, indent: usize) -> Vec<Line<'static>> {
    let mut lines: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0usize;
    for unit in units {
        let w: usize = unit.iter().map(|(t, _)| self::width(t)).sum();
        let fresh = lines.last().is_some_and(Vec::is_empty);
        if used + w > width && !fresh && used > indent {
            lines.push(vec![Span::raw(" ".repeat(indent))]);
            used = indent;
        }
        for (i, (text, style)) in unit.into_iter().enumerate() {
            // A continuation line starts without the unit's leading spaces.
            let text = if i == 0 && used == indent && lines.len() > 1 {
                text.trim_start().to_string()
            } else {
                text
            };
            let text = format::fit(&text, width.saturating_sub(used)).into_owned();
            used += self::width(&text);
            if let Some(line) = lines.last_mut() {
                line.push(Span::styled(text, style));
            }
        }
    }
    lines.into_iter().map(Line::from).collect()
}

/// Prose wrapped at spaces onto at most `max_lines` lines of `width` cells, the last line cut
/// with `…` if it is still too long.
pub fn wrap_prose(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines = format::wrap(text, width);
    if lines.len() > max_lines {
        let rest = lines.split_off(max_lines.saturating_sub(1));
        let last = format::fit(&rest.join(" "), width).into_owned();
        lines.push(last);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_keeps_its_last_word_whole_or_goes() {
        let t = "demo: scenario server on ws://127.0.0.1:41471";
        assert_eq!(title_tail(t, 60).as_deref(), Some(t));
        assert_eq!(
            title_tail(t, 31).as_deref(),
            Some("…server on ws://127.0.0.1:41471")
        );
        assert_eq!(title_tail(t, 27).as_deref(), Some("…ws://127.0.0.1:41471"));
        assert_eq!(title_tail(t, 21).as_deref(), Some("…ws://127.0.0.1:41471"));
        assert_eq!(title_tail(t, 20), None);
    }

    #[test]
    fn pieces_wrap_whole() {
        let p = |s: &str| (s.to_string(), Style::new());
        assert_eq!(wrap_pieces(vec![vec![p("a")]], 5, 0).len(), 1);
        let lines = wrap_pieces(
            vec![
                vec![p("state "), p("waiting")],
                vec![p("  attempt 6")],
                vec![p("  next in 18.0s")],
            ],
            28,
            4,
        );
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, vec!["state waiting  attempt 6", "    next in 18.0s"]);
    }

    #[test]
    fn prose_wraps_then_is_cut() {
        assert_eq!(wrap_prose("aaa bbb ccc", 7, 2), vec!["aaa bbb", "ccc"]);
        assert_eq!(
            wrap_prose("aaa bbb ccc ddd eee", 7, 2),
            vec!["aaa bbb", "ccc dd…"]
        );
    }
}
