//! The explain view: what the knowledge base says about one close code, two side by side, or an
//! HTTP status, laid out as `wsmon explain` lays it out (at most 76 columns) and drawn with the
//! theme's styles in a bordered pane. The detail view draws a code's explanation with
//! [`styled`] too.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::codes::layout::{self, Tone, WIDTH};
use crate::codes::{RetryAdvice, explain, http};

use super::{Theme, centered};
use crate::tui::view::{ExplainTarget, ViewState};

/// Width of the pane: 76 columns of text, a space each side, and the borders.
pub const PANE_WIDTH: u16 = 80;

/// Layout lines in the theme's styles.
pub fn styled(lines: &[layout::Line], t: Theme) -> Vec<Line<'static>> {
    lines
        .iter()
        .map(|line| {
            Line::from(
                line.spans
                    .iter()
                    .map(|(tone, text)| Span::styled(text.clone(), style(*tone, t)))
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

fn style(tone: Tone, t: Theme) -> Style {
    match tone {
        Tone::Plain => t.plain(),
        Tone::Title => t.heading(),
        Tone::Heading => Style::new().add_modifier(Modifier::BOLD),
        Tone::Retry(RetryAdvice::Never) => t.error(),
        Tone::Retry(RetryAdvice::Backoff | RetryAdvice::RestartDelay) => t.warn(),
        Tone::Retry(RetryAdvice::Immediate) => t.good(),
    }
}

/// The laid-out lines for a target (an invalid code gives the error as its one line).
fn laid_out(view: &ViewState, target: ExplainTarget) -> Vec<layout::Line> {
    let ex = match target {
        ExplainTarget::One(code) => explain::one(&view.registry, code, view.lang),
        ExplainTarget::Compare(a, b) => explain::compare(&view.registry, a, b, view.lang),
        ExplainTarget::Http(status) => Ok(http::explain(status, view.lang)),
    };
    match ex {
        Ok(ex) => layout::lines(&ex, WIDTH),
        Err(e) => vec![layout::Line {
            spans: vec![(Tone::Plain, e.to_string())],
        }],
    }
}

/// The text shown for a target, without styles (one line per line).
pub fn text(view: &ViewState, target: ExplainTarget) -> String {
    laid_out(view, target)
        .iter()
        .map(|l| l.text() + "\n")
        .collect()
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
    let lines = styled(&laid_out(view, target), t);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{AppCode, Registry};
    use std::collections::BTreeMap;
    use std::sync::Arc;

    #[test]
    fn tones_become_theme_styles() {
        let view = crate::tui::fixtures::view_state();
        let t = Theme { color: true };
        let lines = styled(&laid_out(&view, ExplainTarget::One(1010)), t);
        assert_eq!(lines[0].spans[0].style, t.heading(), "title");
        let retry = lines
            .iter()
            .find(|l| {
                l.spans
                    .first()
                    .is_some_and(|s| s.content.starts_with("Retry"))
            })
            .expect("retry row");
        assert_eq!(retry.spans[1].content, "never");
        assert_eq!(retry.spans[1].style, t.error());
    }

    #[test]
    fn long_titles_wrap_in_the_pane_and_statuses_are_explained() {
        let mut view = crate::tui::fixtures::view_state();
        let mut app = BTreeMap::new();
        app.insert(
            4001,
            AppCode {
                name: "A very long application name that cannot fit on one line of the \
                       explanation pane at all"
                    .into(),
                description: String::new(),
            },
        );
        view.registry = Arc::new(Registry::with_app_codes(&app).expect("app code"));
        let text = text(&view, ExplainTarget::One(4001));
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
        assert!(text.starts_with("4001 A very long"), "{text}");
        let http = super::text(&view, ExplainTarget::Http(503));
        assert!(http.starts_with("HTTP 503  Service Unavailable"), "{http}");
    }
}
