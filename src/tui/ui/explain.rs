//! The explain view: the knowledge-base text for one close code, or two side by side, exactly
//! as `wsmon explain` prints it (plain text, at most 76 columns), in a bordered pane.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::codes::explain;

use super::{Theme, centered};
use crate::tui::view::{ExplainTarget, ViewState};

/// Width of the pane: 76 columns of text, a space each side, and the borders.
pub const PANE_WIDTH: u16 = 80;

/// The text shown for a target.
pub fn text(view: &ViewState, target: ExplainTarget) -> String {
    match target {
        ExplainTarget::One(code) => explain::render_one(&view.registry, code, view.lang, false),
        ExplainTarget::Compare(a, b) => {
            explain::render_compare(&view.registry, a, b, view.lang, false)
        }
        ExplainTarget::Http(status) => {
            crate::codes::http::render_status(status, view.lang, false, explain::WIDTH)
        }
    }
}

pub fn draw(frame: &mut Frame, area: Rect, view: &ViewState, target: ExplainTarget, t: Theme) {
    let pane = centered(area, PANE_WIDTH, area.height);
    if pane.width == 0 || pane.height == 0 {
        return;
    }
    let title = match target {
        ExplainTarget::One(code) => format!(
            " {code} {} (c: compare, Esc: back) ",
            view.registry.name_in(code, view.lang)
        ),
        ExplainTarget::Compare(a, b) => format!(" {a} vs {b} (Esc: back) "),
        ExplainTarget::Http(status) => format!(" HTTP {status} (Esc: back) "),
    };
    let text = text(view, target);
    let lines: Vec<Line> = text.lines().map(|l| Line::raw(l.to_string())).collect();
    let height = pane.height.saturating_sub(2);
    let max_scroll = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(height);
    let scroll = view.explain_scroll.min(max_scroll);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .title_style(t.heading());
    if let Some(hint) = super::scroll_hint(scroll, height, lines.len()) {
        block = block.title_bottom(Line::styled(hint, t.dim()).right_aligned());
    }
    let inner = block.inner(pane);
    let inner = Rect {
        x: inner.x.saturating_add(1).min(inner.right()),
        width: inner.width.saturating_sub(2),
        ..inner
    };
    frame.render_widget(Clear, pane);
    frame.render_widget(block, pane);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}
