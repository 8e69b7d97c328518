//! The help overlay: every key, as configured, with its config name.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::{Theme, centered};
use crate::tui::view::ViewState;

/// Every line of the help.
pub fn lines<'a>(view: &ViewState, t: Theme) -> Vec<Line<'a>> {
    let mut out = vec![Line::styled(
        "Keys (change them in the config file: [keys] name = \"key\")",
        t.dim(),
    )];
    let rows = view.keys.help_rows();
    let kw = rows
        .iter()
        .map(|r| r.1.chars().count())
        .max()
        .unwrap_or(0)
        .max(10)
        + 2;
    let hw = rows.iter().map(|r| r.2.len()).max().unwrap_or(0) + 2;
    for (name, keys, help) in rows {
        out.push(Line::from(vec![
            Span::styled(format!("  {keys:<kw$}"), t.key()),
            Span::raw(format!("{help:<hw$}")),
            Span::styled(name, t.dim()),
        ]));
    }
    out.push(Line::from(vec![
        Span::styled(format!("  {:<kw$}", "Ctrl-C"), t.key()),
        Span::raw("quit (always)"),
    ]));
    out.push(Line::styled(
        "  Mouse: click a row to select it, a column title to sort, wheel to scroll.",
        t.dim(),
    ));
    out.push(Line::styled(
        "  In a prompt: Enter accepts, Esc cancels, Backspace deletes.",
        t.dim(),
    ));
    out.push(Line::styled(
        "  An action on several sessions asks first: y (or Enter) sends it, n (or Esc) does not.",
        t.dim(),
    ));
    out
}

pub fn draw(frame: &mut Frame, area: Rect, view: &ViewState, t: Theme) {
    let pane = centered(area, 86, area.height);
    if pane.width == 0 || pane.height == 0 {
        return;
    }
    let lines = lines(view, t);
    let height = pane.height.saturating_sub(2);
    let max_scroll = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(height);
    let scroll = view.help_scroll.min(max_scroll);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(" Help (Esc, q or ? closes) ")
        .title_style(t.heading());
    if let Some(hint) = super::scroll_hint(scroll, height, lines.len()) {
        block = block.title_bottom(Line::styled(hint, t.dim()).right_aligned());
    }
    let inner = block.inner(pane);
    frame.render_widget(Clear, pane);
    frame.render_widget(block, pane);
    frame.render_widget(Paragraph::new(lines).scroll((scroll, 0)), inner);
}
