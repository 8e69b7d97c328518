//! Lines of text from an [`Explanation`] or a [`Listing`], at a given width: the one layout
//! behind `wsmon explain` and the TUI's close-code pane. Lines carry tones, not colours or
//! escape codes; each front end paints the tones its own way.
//!
//! Lines never exceed the width (words longer than a line are cut) and never end with a space.

use super::RetryAdvice;
use super::explain::{Block, Explanation, Listing};
use super::words::words;
use super::wrap::{len, pad, wrap};

pub use super::wrap::{TABLE_WIDTH, WIDTH};

/// Width of the label column of the facts.
const LABEL: usize = 15;
/// Width of the label column and the narrowest code column of a side-by-side comparison.
const CMP_LABEL: usize = 14;
const CMP_COL: usize = 30;
const CMP_GAP: usize = 2;

/// How a piece of a line is meant to stand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Plain,
    /// The title of an explanation.
    Title,
    /// A section heading, the header of a table.
    Heading,
    /// A retry advice (front ends colour it by how safe a retry is).
    Retry(RetryAdvice),
}

/// One line: pieces of text, each with its tone.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Line {
    pub spans: Vec<(Tone, String)>,
}

impl Line {
    fn new(spans: Vec<(Tone, String)>) -> Line {
        let mut line = Line { spans };
        // No trailing spaces, no empty pieces at the end.
        while let Some((_, last)) = line.spans.last_mut() {
            let trimmed = last.trim_end().len();
            last.truncate(trimmed);
            if last.is_empty() {
                line.spans.pop();
            } else {
                break;
            }
        }
        line
    }

    fn plain(text: impl Into<String>) -> Line {
        Line::new(vec![(Tone::Plain, text.into())])
    }

    fn toned(tone: Tone, text: impl Into<String>) -> Line {
        Line::new(vec![(tone, text.into())])
    }

    /// The text without tones.
    pub fn text(&self) -> String {
        self.spans.iter().map(|(_, s)| s.as_str()).collect()
    }
}

/// The lines of an explanation, title first.
pub fn lines(ex: &Explanation, width: usize) -> Vec<Line> {
    let mut out = Vec::new();
    let framed = ex.intro.is_some() || !ex.side_by_side.is_empty();
    if len(&ex.title) <= width {
        out.push(Line::toned(Tone::Title, ex.title.as_str()));
    } else {
        let rest = if framed { "  " } else { "      " };
        for l in wrap(&ex.title, width, "", rest) {
            out.push(Line::toned(Tone::Title, l));
        }
    }
    if framed {
        out.push(Line::default());
    }
    out.extend(body(ex, width));
    out
}

/// The lines of an explanation under its title (for a pane that shows the title itself).
pub fn body(ex: &Explanation, width: usize) -> Vec<Line> {
    let w = words(ex.lang);
    let mut out = Vec::new();
    if let Some(intro) = &ex.intro {
        out.extend(wrap(intro, width, "", "").into_iter().map(Line::plain));
        out.push(Line::default());
    }
    side_by_side(&mut out, ex, width);
    for f in &ex.facts {
        fact(&mut out, width, &f.label, &f.value, f.retry);
    }
    for (i, src) in ex.sources.iter().enumerate() {
        let label = if i == 0 { w.defined_in } else { "" };
        fact(&mut out, width, label, src, None);
    }
    if let Some(note) = &ex.note {
        fact(&mut out, width, w.note, note, None);
    }
    for section in &ex.sections {
        out.push(Line::default());
        for l in wrap(&section.heading, width, "", "  ") {
            out.push(Line::toned(Tone::Heading, l));
        }
        let mut n = 0;
        let mut after_paragraph = false;
        for block in &section.blocks {
            match block {
                Block::Paragraph(text) => {
                    if after_paragraph {
                        out.push(Line::default());
                    }
                    out.extend(wrap(text, width, "  ", "  ").into_iter().map(Line::plain));
                    after_paragraph = true;
                }
                Block::Item { head, subs } => {
                    n += 1;
                    item(&mut out, width, n, head, subs);
                    after_paragraph = false;
                }
            }
        }
    }
    out
}

/// A label/value row wrapped with a hanging indent; a retry value gets its tone.
fn fact(out: &mut Vec<Line>, width: usize, label: &str, value: &str, retry: Option<RetryAdvice>) {
    let indent = " ".repeat(LABEL);
    for line in wrap(value, width, &pad(label, LABEL), &indent) {
        match retry {
            Some(r) => {
                let split = line
                    .char_indices()
                    .nth(LABEL)
                    .map_or(line.len(), |(p, _)| p);
                let (head, tail) = line.split_at(split);
                out.push(Line::new(vec![
                    (Tone::Plain, head.to_string()),
                    (Tone::Retry(r), tail.to_string()),
                ]));
            }
            None => out.push(Line::plain(line)),
        }
    }
}

/// The side-by-side table of a comparison: a label column and one column per code.
fn side_by_side(out: &mut Vec<Line>, ex: &Explanation, width: usize) {
    let col = (width.saturating_sub(CMP_LABEL + CMP_GAP) / 2).max(CMP_COL);
    for row in &ex.side_by_side {
        let ca = wrap(&row.a, col, "", "");
        let cb = wrap(&row.b, col, "", "");
        let (ta, tb) = match row.retry {
            Some((ra, rb)) => (Tone::Retry(ra), Tone::Retry(rb)),
            None => (Tone::Plain, Tone::Plain),
        };
        for i in 0..ca.len().max(cb.len()) {
            let label = if i == 0 { row.label.as_str() } else { "" };
            let cell_a = ca.get(i).map(String::as_str).unwrap_or("");
            let cell_b = cb.get(i).map(String::as_str).unwrap_or("");
            out.push(Line::new(vec![
                (Tone::Plain, pad(label, CMP_LABEL)),
                (ta, cell_a.to_string()),
                (
                    Tone::Plain,
                    " ".repeat(col + CMP_GAP - len(cell_a).min(col + CMP_GAP)),
                ),
                (tb, cell_b.to_string()),
            ]));
        }
    }
}

/// A numbered item, with optional sub-lines, wrapped with hanging indents.
fn item(out: &mut Vec<Line>, width: usize, n: usize, head: &str, subs: &[String]) {
    let first = format!("  {n}. ");
    let rest = " ".repeat(first.len());
    out.extend(
        wrap(head, width, &first, &rest)
            .into_iter()
            .map(Line::plain),
    );
    let sub_rest = " ".repeat(rest.len() + 2);
    for sub in subs {
        out.extend(
            wrap(sub, width, &format!("{rest}- "), &sub_rest)
                .into_iter()
                .map(Line::plain),
        );
    }
}

/// The `--all` table: the name column wraps to what the others leave (at least 12 columns).
pub fn listing(list: &Listing, width: usize) -> Vec<Line> {
    let mut widths = list.headers.clone().map(|h| len(&h));
    for row in &list.rows {
        for (i, c) in row.cells.iter().enumerate() {
            widths[i] = widths[i].max(len(c));
        }
    }
    let others: usize = widths
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, w)| w)
        .sum();
    let room = width
        .saturating_sub(others + 2 * (widths.len() - 1))
        .max(12);
    widths[1] = widths[1].min(room);
    let mut out = Vec::new();
    let header = list
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| pad(h, widths[i]))
        .collect::<Vec<_>>()
        .join("  ");
    out.push(Line::toned(Tone::Heading, header));
    for row in &list.rows {
        for (n, name) in wrap(&row.cells[1], widths[1], "", "  ").iter().enumerate() {
            let mut spans = Vec::new();
            for (i, c) in row.cells.iter().enumerate() {
                let gap = if i > 0 { "  " } else { "" };
                let cell = match (i, n) {
                    (1, _) => name.as_str(),
                    (_, 0) => c.as_str(),
                    _ => "",
                };
                if i == 4 {
                    spans.push((Tone::Plain, gap.to_string()));
                    spans.push((Tone::Retry(row.retry), cell.to_string()));
                } else {
                    spans.push((Tone::Plain, format!("{gap}{}", pad(cell, widths[i]))));
                }
            }
            out.push(Line::new(spans));
        }
    }
    if !list.footnotes.is_empty() {
        out.push(Line::default());
    }
    for note in &list.footnotes {
        out.extend(wrap(note, width, "", "  ").into_iter().map(Line::plain));
    }
    out
}
