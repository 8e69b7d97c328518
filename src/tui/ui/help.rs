//! The help overlay: every key, as configured, with its config name. Key names and config
//! names are never cut (they are what `[keys]` needs); the help texts wrap under themselves.
//! When the screen is wide, the keys go in two columns.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::{Theme, centered, layout};
use crate::tui::format;
use crate::tui::view::ViewState;

/// The narrowest a help text may be before the second column is given up.
const MIN_HELP: usize = 30;
/// The widest the pane gets with one column.
const ONE_COLUMN: u16 = 100;

/// The help pane in the body `area`: the whole width when two columns fit, else at most
/// [`ONE_COLUMN`] wide, centered.
pub fn pane(area: Rect, view: &ViewState) -> Rect {
    let width = if two_columns(view, area.width.saturating_sub(2)) {
        area.width
    } else {
        ONE_COLUMN
    };
    centered(area, width, area.height)
}

/// (keys column, names column) widths.
fn widths(view: &ViewState) -> (usize, usize) {
    let rows = view
        .keys
        .help_rows_in(view.inspect.is_some() || view.search.is_some());
    let kw = rows
        .iter()
        .map(|r| layout::width(&r.1))
        .max()
        .unwrap_or(0)
        .max(6);
    let nw = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    (kw, nw)
}

/// The width one column of entries needs at least.
fn column_need(view: &ViewState) -> usize {
    let (kw, nw) = widths(view);
    2 + kw + 1 + MIN_HELP + 1 + nw + 1
}

fn two_columns(view: &ViewState, inner: u16) -> bool {
    usize::from(inner) > 2 * column_need(view)
}

/// One entry's lines in a column `cw` wide: keys, the help text wrapped, the config name on
/// the first line.
fn entry(
    (name, keys, help): (&str, &str, &str),
    (kw, nw): (usize, usize),
    cw: usize,
    t: Theme,
) -> Vec<Line<'static>> {
    // A cell kept free after the name, so it never touches the border.
    let hw = cw.saturating_sub(2 + kw + 1 + 1 + nw + 1).max(8);
    format::wrap(help, hw)
        .into_iter()
        .enumerate()
        .map(|(i, text)| {
            let (k, n) = if i == 0 { (keys, name) } else { ("", "") };
            Line::from(vec![
                Span::styled(format!("  {k:<kw$} "), t.key()),
                Span::raw(format!("{text:<hw$} ")),
                Span::styled(format!("{n:<nw$}"), t.dim()),
            ])
        })
        .collect()
}

/// Every line of the help in a pane `width` cells wide (inside its border).
pub fn lines(view: &ViewState, width: u16, t: Theme) -> Vec<Line<'static>> {
    let w = usize::from(width);
    let mut out: Vec<Line<'static>> = layout::wrap_prose(
        "Keys (change them in the config file: [keys] name = \"key\")",
        w,
        2,
    )
    .into_iter()
    .map(|l| Line::styled(l, t.dim()))
    .collect();
    let rows = view
        .keys
        .help_rows_in(view.inspect.is_some() || view.search.is_some());
    let ws = widths(view);
    let two = two_columns(view, width);
    let cw = if two { (w - 1) / 2 } else { w };
    let entries: Vec<Vec<Line<'static>>> = rows
        .iter()
        .map(|(name, keys, help)| entry((name, keys, help), ws, cw, t))
        .collect();
    if two {
        // Split where the left column holds half the lines.
        let total: usize = entries.iter().map(Vec::len).sum();
        let mut left_n = 0;
        let mut split = entries.len();
        for (i, e) in entries.iter().enumerate() {
            if left_n >= total.div_ceil(2) {
                split = i;
                break;
            }
            left_n += e.len();
        }
        let left: Vec<Line> = entries[..split].iter().flatten().cloned().collect();
        let right: Vec<Line> = entries[split..].iter().flatten().cloned().collect();
        for i in 0..left.len().max(right.len()) {
            let mut spans = match left.get(i) {
                Some(l) => l.spans.clone(),
                None => Vec::new(),
            };
            let used: usize = spans.iter().map(Span::width).sum();
            spans.push(Span::raw(" ".repeat(cw.saturating_sub(used) + 1)));
            if let Some(r) = right.get(i) {
                spans.extend(r.spans.iter().cloned());
            }
            out.push(Line::from(spans));
        }
    } else {
        out.extend(entries.into_iter().flatten());
    }
    out.push(Line::from(vec![
        Span::styled(format!("  {:<w$} ", "Ctrl-C", w = ws.0), t.key()),
        Span::raw("quit (always)"),
    ]));
    for note in [
        "Mouse: click a row to select it, a column title to sort, wheel to scroll.",
        "In a prompt: Enter accepts, Esc cancels, Backspace deletes.",
        "An action on several sessions asks first: y (or Enter) sends it, n (or Esc) does not.",
    ] {
        for l in format::wrap(note, w.saturating_sub(2)) {
            out.push(Line::styled(format!("  {l}"), t.dim()));
        }
    }
    out
}

pub fn draw(frame: &mut Frame, area: Rect, view: &ViewState, t: Theme) {
    let pane = pane(area, view);
    if pane.width == 0 || pane.height == 0 {
        return;
    }
    let lines = lines(view, pane.width.saturating_sub(2), t);
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
