//! Building the lines of a scrolling pane (the session detail): `label value` rows whose value
//! wraps under itself, at the pane's width. One helper instead of passing the width and the
//! theme to every row.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::Theme;
use crate::tui::format;

/// The lines built so far, and what every row needs to know.
#[derive(Debug)]
pub struct Rows {
    pub lines: Vec<Line<'static>>,
    /// The pane's width.
    pub width: u16,
    pub t: Theme,
}

impl Rows {
    pub fn new(width: u16, t: Theme) -> Rows {
        Rows {
            lines: Vec::new(),
            width,
            t,
        }
    }

    pub fn push(&mut self, line: Line<'static>) {
        self.lines.push(line);
    }

    /// A section heading.
    pub fn heading(&mut self, text: impl Into<String>) {
        self.lines.push(Line::styled(text.into(), self.t.heading()));
    }

    /// `label value`, the value wrapped under itself.
    pub fn kv(&mut self, label: &str, value: &str, style: Style) {
        self.wrapped(format!("  {label:<12}"), value, style);
    }

    /// `prefix` then `value` wrapped to the width, continuation lines aligned under the value.
    pub fn wrapped(&mut self, prefix: String, value: &str, style: Style) {
        let indent = prefix.chars().count();
        let room = usize::from(self.width).saturating_sub(indent).max(10);
        for (i, l) in format::wrap(value, room).into_iter().enumerate() {
            let lead = if i == 0 {
                Span::styled(prefix.clone(), self.t.label())
            } else {
                Span::raw(" ".repeat(indent))
            };
            self.lines
                .push(Line::from(vec![lead, Span::styled(l, style)]));
        }
    }
}
