//! Explanations as data: what `wsmon explain` and the TUI's close-code pane say about a code,
//! a comparison of two, an HTTP status or the whole table, as typed values in one language.
//!
//! Nothing here draws or prints: [`super::layout`] lays an [`Explanation`] out in lines at a
//! width, and each front end paints those lines in its own way (ANSI for the command, ratatui
//! styles for the TUI).

use super::words::{
    category_phrase, colon, localise_source, semicolon, sender_phrase, wire_phrase, wire_value,
    words, yes_no,
};
use super::{CodesError, Entry, Lang, Registry, RetryAdvice};

/// A label and its value, in the facts under a title ("Retry advice   backoff").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub label: String,
    pub value: String,
    /// Set when the value is a retry advice (front ends colour it).
    pub retry: Option<RetryAdvice>,
}

/// One row of a side-by-side comparison: a label and the two codes' values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideRow {
    pub label: String,
    pub a: String,
    pub b: String,
    /// Set when the values are retry advice.
    pub retry: Option<(RetryAdvice, RetryAdvice)>,
}

/// A piece of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A paragraph (two in a row are set apart by a blank line).
    Paragraph(String),
    /// A numbered item, with sub-points.
    Item { head: String, subs: Vec<String> },
}

/// A heading and what comes under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub heading: String,
    pub blocks: Vec<Block>,
}

/// Everything said about one code, two codes or an HTTP status, in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub lang: Lang,
    /// "1013 Try Again Later", "1010 Mandatory Extension vs 1013 Try Again Later".
    pub title: String,
    /// A paragraph right under the title (two codes of one range: why nothing differs).
    pub intro: Option<String>,
    /// The side-by-side table of a comparison.
    pub side_by_side: Vec<SideRow>,
    /// Category, sender, wire, retry advice.
    pub facts: Vec<Fact>,
    /// What the claims rest on, in the reader's language.
    pub sources: Vec<String>,
    /// A note after the sources (codes whose meaning a library sets).
    pub note: Option<String>,
    pub sections: Vec<Section>,
}

impl Explanation {
    fn new(lang: Lang, title: String) -> Explanation {
        Explanation {
            lang,
            title,
            intro: None,
            side_by_side: Vec::new(),
            facts: Vec::new(),
            sources: Vec::new(),
            note: None,
            sections: Vec::new(),
        }
    }

    fn section(&mut self, heading: impl Into<String>, blocks: Vec<Block>) {
        self.sections.push(Section {
            heading: heading.into(),
            blocks,
        });
    }
}

/// The first sentence of a text (up to a '.', '!' or '?' followed by a space and a capital).
pub fn first_sentence(text: &str) -> &str {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, (pos, c)) in chars.iter().enumerate() {
        if matches!(c, '.' | '!' | '?')
            && chars.get(i + 1).is_some_and(|(_, n)| *n == ' ')
            && chars.get(i + 2).is_some_and(|(_, n)| n.is_uppercase())
        {
            return &text[..pos + c.len_utf8()];
        }
    }
    text
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn para(text: impl Into<String>) -> Block {
    Block::Paragraph(text.into())
}

/// The category, sender, wire and retry rows of an entry: the facts under every title.
fn facts(entry: &Entry<'_>, lang: Lang) -> Vec<Fact> {
    let w = words(lang);
    let fact = |label: &str, value: &str| Fact {
        label: label.to_string(),
        value: value.to_string(),
        retry: None,
    };
    let advice = entry.retry_advice();
    vec![
        fact(w.category, entry.category().label(lang)),
        fact(w.sent_by, entry.sender().label(lang)),
        fact(w.on_wire, wire_value(entry, lang)),
        Fact {
            retry: Some(advice),
            ..fact(w.retry, advice.label(lang))
        },
    ]
}

/// `2500 has no entry of its own; ...`-style context for codes explained by their range.
fn range_note(entry: &Entry<'_>, lang: Lang) -> Option<String> {
    let (lo, hi) = entry.range?;
    let code = entry.code?;
    if entry.app_defined() {
        return None;
    }
    Some(format!("{code} {} {lo}-{hi}.", words(lang).in_range))
}

/// The sources of an entry, in the reader's language (citations keep their document titles).
pub fn sources(entry: &Entry<'_>, lang: Lang) -> Vec<String> {
    if entry.app_defined() {
        return vec![words(lang).app_source.to_string()];
    }
    entry
        .data
        .sources
        .iter()
        .map(|s| localise_source(s, lang))
        .collect()
}

/// The description, with the range's own description as context for application codes.
pub fn description_paragraphs(entry: &Entry<'_>, lang: Lang) -> Vec<String> {
    let mut paras = Vec::new();
    if entry.app_defined() {
        if entry.app.is_some_and(|a| !a.description.trim().is_empty()) {
            paras.push(entry.description(lang));
        }
        if let Some((lo, hi)) = entry.range {
            paras.push(format!(
                "{} {lo}-{hi} ({}){} {}",
                words(lang).range_context,
                entry.kb_name(lang),
                colon(lang),
                entry.data.texts(lang).description
            ));
        }
    } else {
        paras.push(entry.description(lang));
        if let Some(note) = range_note(entry, lang) {
            paras.push(note);
        }
    }
    paras
}

/// Explain one code: its facts and sources, then Description, When you see it, How to fix and
/// Retry advice.
pub fn one(reg: &Registry, code: u16, lang: Lang) -> Result<Explanation, CodesError> {
    let entry = reg
        .lookup(code)
        .ok_or_else(|| CodesError::InvalidCode(code.to_string()))?;
    let w = words(lang);
    let mut ex = Explanation::new(lang, format!("{} {}", entry.code_label(), entry.name(lang)));
    ex.facts = facts(&entry, lang);
    ex.sources = sources(&entry, lang);
    if entry.library_defined() && entry.range.is_none() {
        ex.note = Some(w.library_note.to_string());
    }
    let description = description_paragraphs(&entry, lang)
        .into_iter()
        .map(para)
        .collect();
    ex.section(w.description, description);
    ex.section(w.when, vec![para(entry.when(lang))]);
    ex.section(w.fix, vec![para(entry.fix(lang))]);
    let advice = entry.retry_advice();
    ex.section(
        format!("{}{} {}", w.retry_heading, colon(lang), advice.label(lang)),
        vec![para(format!(
            "{}. {}",
            capitalise(advice.summary(lang)),
            entry.retry_why(lang)
        ))],
    );
    Ok(ex)
}

/// Two codes side by side, then both explanations, the key differences derived from the data
/// (sender, circumstances, retry advice, wire, category) and when to use which. Two codes that
/// only their range explains are said to be indistinguishable, and the range is explained.
pub fn compare(reg: &Registry, a: u16, b: u16, lang: Lang) -> Result<Explanation, CodesError> {
    let (Some(ea), Some(eb)) = (reg.lookup(a), reg.lookup(b)) else {
        let bad = if reg.lookup(a).is_none() { a } else { b };
        return Err(CodesError::InvalidCode(bad.to_string()));
    };
    if std::ptr::eq(ea.data, eb.data) && !ea.app_defined() && !eb.app_defined() {
        return Ok(same_range(&ea, &eb, lang));
    }
    let w = words(lang);
    let (la, lb) = (ea.code_label(), eb.code_label());
    let mut ex = Explanation::new(
        lang,
        format!("{la} {} {} {lb} {}", ea.name(lang), w.vs, eb.name(lang)),
    );
    let row = |label: &str, a: &str, b: &str| SideRow {
        label: label.to_string(),
        a: a.to_string(),
        b: b.to_string(),
        retry: None,
    };
    let (ra, rb) = (ea.retry_advice(), eb.retry_advice());
    ex.side_by_side = vec![
        row("", &la, &lb),
        row(w.name, &ea.name(lang), &eb.name(lang)),
        row(
            w.category,
            ea.category().label(lang),
            eb.category().label(lang),
        ),
        row(w.sent_by, ea.sender().short(lang), eb.sender().short(lang)),
        row(w.on_wire, yes_no(&ea, lang), yes_no(&eb, lang)),
        SideRow {
            retry: Some((ra, rb)),
            ..row(w.retry, ra.label(lang), rb.label(lang))
        },
    ];
    for (heading, texts) in [
        (
            w.description,
            [
                description_paragraphs(&ea, lang).join(" "),
                description_paragraphs(&eb, lang).join(" "),
            ],
        ),
        (
            w.when,
            [ea.when(lang).to_string(), eb.when(lang).to_string()],
        ),
        (w.fix, [ea.fix(lang).to_string(), eb.fix(lang).to_string()]),
    ] {
        ex.section(heading, pair(lang, (&la, &texts[0]), (&lb, &texts[1])));
    }
    ex.section(w.key_differences, differences(&ea, &eb, lang));
    ex.section(
        w.which,
        pair(
            lang,
            (
                &format!("{la} ({})", short_name(&ea, lang)),
                ea.send_when(lang),
            ),
            (
                &format!("{lb} ({})", short_name(&eb, lang)),
                eb.send_when(lang),
            ),
        ),
    );
    Ok(ex)
}

/// The numbered key differences of two codes.
fn differences(ea: &Entry<'_>, eb: &Entry<'_>, lang: Lang) -> Vec<Block> {
    let w = words(lang);
    let (la, lb) = (ea.code_label(), eb.code_label());
    let (c, sc) = (colon(lang), semicolon(lang));
    let item = |head: String, subs: Vec<String>| Block::Item { head, subs };
    let mut out = Vec::new();
    out.push(item(
        if ea.sender() == eb.sender() {
            format!(
                "{}{c} {}{sc} {} {}.",
                w.sender_diff,
                w.no_difference,
                w.each,
                sender_phrase(ea.sender(), lang)
            )
        } else {
            format!(
                "{}{c} {la} {}{sc} {lb} {}.",
                w.sender_diff,
                sender_phrase(ea.sender(), lang),
                sender_phrase(eb.sender(), lang)
            )
        },
        Vec::new(),
    ));
    out.push(item(
        format!("{}{c}", w.when_diff),
        circumstances(ea, eb, lang).to_vec(),
    ));
    let (ra, rb) = (ea.retry_advice(), eb.retry_advice());
    out.push(if ra == rb {
        item(
            format!(
                "{}{c} {}{sc} {}{c} {} — {}.",
                w.retry_diff,
                w.no_difference,
                w.both,
                ra.label(lang),
                ra.summary(lang)
            ),
            Vec::new(),
        )
    } else {
        let sub = |l: &str, r: RetryAdvice, e: &Entry<'_>| {
            format!(
                "{l}{c} {} — {}. {}",
                r.label(lang),
                r.summary(lang),
                first_sentence(e.retry_why(lang))
            )
        };
        item(
            format!("{}{c}", w.retry_diff),
            vec![sub(&la, ra, ea), sub(&lb, rb, eb)],
        )
    });
    let wire = if ea.on_wire() && eb.on_wire() {
        format!("{}{c} {}.", w.wire_diff, w.both_wire)
    } else if wire_phrase(ea, lang) == wire_phrase(eb, lang) {
        format!(
            "{}{c} {}{sc} {} {}.",
            w.wire_diff,
            w.no_difference,
            w.each,
            wire_phrase(ea, lang)
        )
    } else {
        format!(
            "{}{c} {la} {}{sc} {lb} {}.",
            w.wire_diff,
            wire_phrase(ea, lang),
            wire_phrase(eb, lang)
        )
    };
    out.push(item(wire, Vec::new()));
    if ea.category() != eb.category() {
        out.push(item(
            format!(
                "{}{c} {la} {}{sc} {lb} {}.",
                w.category_diff,
                category_phrase(ea.category(), lang),
                category_phrase(eb.category(), lang)
            ),
            Vec::new(),
        ));
    }
    out
}

/// The name without the range in brackets, for labels that already name the code.
fn short_name(e: &Entry<'_>, lang: Lang) -> String {
    if e.app_defined() {
        e.name(lang)
    } else {
        e.kb_name(lang).to_string()
    }
}

/// Two codes explained by the same range entry: nothing tells them apart, so say so once and
/// explain the range.
fn same_range(ea: &Entry<'_>, eb: &Entry<'_>, lang: Lang) -> Explanation {
    let w = words(lang);
    let (la, lb) = (ea.code_label(), eb.code_label());
    let (lo, hi) = ea.range.unwrap_or((0, 0));
    let name = ea.kb_name(lang);
    let mut ex = Explanation::new(lang, format!("{la} {} {lb} {name} ({lo}-{hi})", w.vs));
    ex.intro = Some(match lang {
        Lang::En => format!(
            "{la} and {lb} are both in the range {lo}-{hi} ({name}) and have no entry of their \
             own: nothing wsmon knows tells them apart. The sender gives each its meaning; \
             name them in the config's [codes] table (or load a --profile) to compare them."
        ),
        Lang::Fr => format!(
            "{la} et {lb} appartiennent tous deux à la plage {lo}-{hi} ({name}) et n'ont pas \
             d'entrée propre : rien de ce que sait wsmon ne les distingue. C'est l'émetteur qui \
             donne son sens à chacun ; nommez-les dans la table [codes] de la configuration \
             (ou chargez un --profile) pour les comparer."
        ),
    });
    ex.facts = facts(ea, lang);
    ex.sources = sources(ea, lang);
    for (heading, text) in [
        (w.description, ea.texts(lang).description.as_str()),
        (w.when, ea.when(lang)),
        (w.fix, ea.fix(lang)),
    ] {
        ex.section(heading, vec![para(text)]);
    }
    ex
}

/// Two labelled paragraphs, or one when both texts are the same (two codes of one range).
fn pair(lang: Lang, (la, ta): (&str, &str), (lb, tb): (&str, &str)) -> Vec<Block> {
    let c = colon(lang);
    if ta == tb {
        vec![para(format!("{la}, {lb}{c} {ta}"))]
    } else {
        vec![para(format!("{la}{c} {ta}")), para(format!("{lb}{c} {tb}"))]
    }
}

/// What tells the two apart: the first sentence of "when you see it", or of the descriptions
/// when both codes share their circumstances (application codes of the same range).
fn circumstances(ea: &Entry<'_>, eb: &Entry<'_>, lang: Lang) -> [String; 2] {
    let (la, lb) = (ea.code_label(), eb.code_label());
    let c = colon(lang);
    if ea.when(lang) != eb.when(lang) {
        return [
            format!("{la}{c} {}", first_sentence(ea.when(lang))),
            format!("{lb}{c} {}", first_sentence(eb.when(lang))),
        ];
    }
    let meaning = |e: &Entry<'_>| match e.app {
        Some(app) if app.description.trim().is_empty() => format!("{}.", e.name(lang)),
        _ => first_sentence(&e.description(lang)).to_string(),
    };
    [
        format!("{la}{c} {}", meaning(ea)),
        format!("{lb}{c} {}", meaning(eb)),
    ]
}

/// One row of the `--all` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingRow {
    /// Code (or range), name (with `*` or `+` marks), sender, wire, retry.
    pub cells: [String; 5],
    pub retry: RetryAdvice,
}

/// Every range and code as a table, with footnotes for the marks used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub lang: Lang,
    pub headers: [String; 5],
    pub rows: Vec<ListingRow>,
    pub footnotes: Vec<String>,
}

/// The whole registry as a table (`explain --all`).
pub fn listing(reg: &Registry, lang: Lang) -> Listing {
    let w = words(lang);
    let headers = match lang {
        Lang::En => [w.code_col, "NAME", "SENT BY", w.wire_col, "RETRY"],
        Lang::Fr => [w.code_col, "NOM", "ENVOYÉ PAR", w.wire_col, "RECONNEXION"],
    };
    let mut rows = Vec::new();
    let (mut any_library, mut any_app) = (false, false);
    for e in reg.entries() {
        let mut name = if e.code.is_none() {
            e.kb_name(lang).to_string()
        } else {
            e.name(lang)
        };
        if e.app_defined() {
            name.push_str(" +");
            any_app = true;
        } else if e.library_defined() && e.code.is_some() {
            name.push_str(" *");
            any_library = true;
        }
        rows.push(ListingRow {
            cells: [
                e.code_label(),
                name,
                e.sender().short(lang).to_string(),
                if e.on_wire() { w.yes } else { w.no }.to_string(),
                e.retry_advice().short(lang).to_string(),
            ],
            retry: e.retry_advice(),
        });
    }
    let mut footnotes = Vec::new();
    if any_library {
        footnotes.push(w.footnote_library.to_string());
    }
    if any_app {
        footnotes.push(w.footnote_app.to_string());
    }
    Listing {
        lang,
        headers: headers.map(str::to_string),
        rows,
        footnotes,
    }
}
