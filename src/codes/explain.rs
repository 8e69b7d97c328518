//! `wsmon explain`: one code, a comparison of two, the whole table, or JSON.
//!
//! The renderers return plain strings with lines of at most [`WIDTH`] characters and no
//! trailing spaces, so the TUI can show them in its close-code pane as they are. With
//! `color`, headings and retry advice get ANSI styles (for terminals only).

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use serde::Serialize;

use super::wrap::{WIDTH, pad, wrap};
use super::{
    Category, CodesError, Entry, Lang, Registry, RetryAdvice, Sender, app_codes_from_toml,
    parse_code,
};
use crate::cli::ExplainArgs;

const BOLD: &str = "\x1b[1m";
const TITLE: &str = "\x1b[1;36m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const GREEN: &str = "\x1b[32m";
const RESET: &str = "\x1b[0m";

/// Width of the label column in `explain CODE`.
const LABEL: usize = 15;
/// Width of the label column and of each code's column in the comparison table.
const CMP_LABEL: usize = 14;
const CMP_COL: usize = 30;
const CMP_GAP: usize = 2;

fn paint(s: &str, style: &str, color: bool) -> String {
    if color && !s.is_empty() {
        format!("{style}{s}{RESET}")
    } else {
        s.to_string()
    }
}

fn retry_style(r: RetryAdvice) -> &'static str {
    match r {
        RetryAdvice::Never => RED,
        RetryAdvice::Backoff | RetryAdvice::RestartDelay => YELLOW,
        RetryAdvice::Immediate => GREEN,
    }
}

/// Fixed words of the output, per language.
struct Words {
    category: &'static str,
    sent_by: &'static str,
    on_wire: &'static str,
    retry: &'static str,
    defined_in: &'static str,
    note: &'static str,
    name: &'static str,
    description: &'static str,
    when: &'static str,
    fix: &'static str,
    retry_heading: &'static str,
    key_differences: &'static str,
    which: &'static str,
    vs: &'static str,
    yes: &'static str,
    no: &'static str,
    library_note: &'static str,
    app_source: &'static str,
    in_range: &'static str,
    range_context: &'static str,
    code_col: &'static str,
    wire_col: &'static str,
    sender_diff: &'static str,
    when_diff: &'static str,
    retry_diff: &'static str,
    wire_diff: &'static str,
    category_diff: &'static str,
    no_difference: &'static str,
    each: &'static str,
    both: &'static str,
    both_wire: &'static str,
    footnote_library: &'static str,
    footnote_app: &'static str,
}

const EN: Words = Words {
    category: "Category",
    sent_by: "Sent by",
    on_wire: "On the wire",
    retry: "Retry advice",
    defined_in: "Defined in",
    note: "Note",
    name: "Name",
    description: "Description",
    when: "When you see it",
    fix: "How to fix",
    retry_heading: "Retry advice",
    key_differences: "Key differences",
    which: "When to use which",
    vs: "vs",
    yes: "yes",
    no: "no",
    library_note: "widely used, but library-defined: the library that sends it sets its \
                   meaning, not RFC 6455",
    app_source: "your application (wsmon config [codes])",
    in_range: "has no entry of its own; it is explained by its range",
    range_context: "Range",
    code_col: "CODE",
    wire_col: "WIRE",
    sender_diff: "Sender",
    when_diff: "When you see it",
    retry_diff: "Retry advice",
    wire_diff: "On the wire",
    category_diff: "Category",
    no_difference: "no difference",
    each: "each",
    both: "both",
    both_wire: "both may appear in a close frame",
    footnote_library: "* widely used, but library-defined (meaning set by the sender's library)",
    footnote_app: "+ named by your application (wsmon config [codes])",
};

const FR: Words = Words {
    category: "Catégorie",
    sent_by: "Envoyé par",
    on_wire: "Sur le réseau",
    retry: "Reconnexion",
    defined_in: "Défini dans",
    note: "Remarque",
    name: "Nom",
    description: "Description",
    when: "Quand vous le voyez",
    fix: "Comment résoudre",
    retry_heading: "Conseil de reconnexion",
    key_differences: "Différences clés",
    which: "Quand utiliser lequel",
    vs: "vs",
    yes: "oui",
    no: "non",
    library_note: "très répandu, mais défini par une bibliothèque : c'est celle de \
                   l'émetteur qui en fixe le sens, pas la RFC 6455",
    app_source: "votre application (configuration wsmon [codes])",
    in_range: "n'a pas d'entrée propre ; il est expliqué par sa plage",
    range_context: "Plage",
    code_col: "CODE",
    wire_col: "RÉSEAU",
    sender_diff: "Émetteur",
    when_diff: "Quand vous le voyez",
    retry_diff: "Reconnexion",
    wire_diff: "Sur le réseau",
    category_diff: "Catégorie",
    no_difference: "aucune différence",
    each: "chacun",
    both: "les deux",
    both_wire: "les deux peuvent figurer dans une trame de fermeture",
    footnote_library: "* très répandu, mais défini par une bibliothèque (celle de l'émetteur)",
    footnote_app: "+ nommé par votre application (configuration wsmon [codes])",
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

/// "may appear in a close frame", "never appears in a close frame: ..." and the like.
fn wire_value(entry: &Entry<'_>, lang: Lang) -> &'static str {
    match (entry.on_wire(), entry.sender(), lang) {
        (true, _, Lang::En) => "yes",
        (true, _, Lang::Fr) => "oui",
        (false, Sender::Local, Lang::En) => "never: reported locally, not sent in a close frame",
        (false, Sender::Local, Lang::Fr) => {
            "jamais : indiqué localement, jamais envoyé dans une trame de fermeture"
        }
        (false, _, Lang::En) => "no: must not be sent",
        (false, _, Lang::Fr) => "non : ne doit pas être envoyé",
    }
}

fn wire_phrase(entry: &Entry<'_>, lang: Lang) -> &'static str {
    match (entry.on_wire(), entry.sender(), lang) {
        (true, _, Lang::En) => "may appear in a close frame",
        (true, _, Lang::Fr) => "peut figurer dans une trame de fermeture",
        (false, Sender::Local, Lang::En) => {
            "never appears in a close frame: it is reported locally"
        }
        (false, Sender::Local, Lang::Fr) => {
            "ne figure jamais dans une trame de fermeture : il est indiqué localement"
        }
        (false, _, Lang::En) => "must not appear in a close frame",
        (false, _, Lang::Fr) => "ne doit pas figurer dans une trame de fermeture",
    }
}

fn sender_phrase(sender: Sender, lang: Lang) -> &'static str {
    match (sender, lang) {
        (Sender::Either, Lang::En) => "can be sent by either endpoint",
        (Sender::Either, Lang::Fr) => "peut être envoyé par l'une ou l'autre extrémité",
        (Sender::Client, Lang::En) => "is sent only by a client",
        (Sender::Client, Lang::Fr) => "n'est envoyé que par un client",
        (Sender::Server, Lang::En) => "is sent by the server",
        (Sender::Server, Lang::Fr) => "est envoyé par le serveur",
        (Sender::Gateway, Lang::En) => "is sent by a gateway or proxy",
        (Sender::Gateway, Lang::Fr) => "est envoyé par une passerelle ou un proxy",
        (Sender::Local, Lang::En) => "is never sent: your own library reports it",
        (Sender::Local, Lang::Fr) => "n'est jamais envoyé : votre propre bibliothèque l'indique",
        (Sender::Nobody, Lang::En) => "must not be sent by anyone",
        (Sender::Nobody, Lang::Fr) => "ne doit être envoyé par personne",
    }
}

/// The first sentence of a text (up to a '.', '!' or '?' followed by a space and a capital).
fn first_sentence(text: &str) -> &str {
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

/// A label/value row wrapped with a hanging indent; `style` paints the value.
fn row(out: &mut Vec<String>, label: &str, value: &str, style: Option<&str>, color: bool) {
    let indent = " ".repeat(LABEL);
    let lines = wrap(value, WIDTH, &pad(label, LABEL), &indent);
    for line in lines {
        match style {
            Some(st) if color => {
                let (head, tail) = split_at_char(&line, LABEL);
                out.push(format!("{head}{}", paint(tail, st, true)));
            }
            _ => out.push(line),
        }
    }
}

fn split_at_char(s: &str, n: usize) -> (&str, &str) {
    match s.char_indices().nth(n) {
        Some((pos, _)) => s.split_at(pos),
        None => (s, ""),
    }
}

fn heading(out: &mut Vec<String>, text: &str, color: bool) {
    out.push(String::new());
    out.push(paint(text, BOLD, color));
}

fn paragraph(out: &mut Vec<String>, text: &str) {
    out.extend(wrap(text, WIDTH, "  ", "  "));
}

/// `2500 (range 1016-2999)`-style context line for codes explained by their range.
fn range_note(entry: &Entry<'_>, lang: Lang) -> Option<String> {
    let (lo, hi) = entry.range?;
    let code = entry.code?;
    if entry.app_defined() {
        return None;
    }
    Some(format!("{code} {} {lo}-{hi}.", words(lang).in_range))
}

fn title(entry: &Entry<'_>, lang: Lang) -> String {
    format!("{}  {}", entry.code_label(), entry.name(lang))
}

fn source(entry: &Entry<'_>, lang: Lang) -> String {
    if entry.app_defined() {
        words(lang).app_source.to_string()
    } else {
        entry.data.source.clone()
    }
}

/// The description, with the range's own description as context for application codes.
fn description_paragraphs(entry: &Entry<'_>, lang: Lang) -> Vec<String> {
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

/// Explain one code: header facts, Description, When you see it, How to fix, Retry advice.
/// Codes above 4999 get a one-line explanation of the valid range.
pub fn render_one(reg: &Registry, code: u16, lang: Lang, color: bool) -> String {
    let Some(entry) = reg.lookup(code) else {
        return format!("{}\n", CodesError::InvalidCode(code.to_string()));
    };
    let w = words(lang);
    let mut out = Vec::new();
    for line in wrap(&title(&entry, lang), WIDTH, "", "      ") {
        out.push(paint(&line, TITLE, color));
    }
    row(
        &mut out,
        w.category,
        entry.category().label(lang),
        None,
        color,
    );
    row(&mut out, w.sent_by, entry.sender().label(lang), None, color);
    row(&mut out, w.on_wire, wire_value(&entry, lang), None, color);
    let advice = entry.retry_advice();
    row(
        &mut out,
        w.retry,
        advice.label(lang),
        Some(retry_style(advice)),
        color,
    );
    row(&mut out, w.defined_in, &source(&entry, lang), None, color);
    if entry.library_defined() && entry.range.is_none() {
        row(&mut out, w.note, w.library_note, None, color);
    }

    heading(&mut out, w.description, color);
    for (i, para) in description_paragraphs(&entry, lang).iter().enumerate() {
        if i > 0 {
            out.push(String::new());
        }
        paragraph(&mut out, para);
    }
    heading(&mut out, w.when, color);
    paragraph(&mut out, entry.when(lang));
    heading(&mut out, w.fix, color);
    paragraph(&mut out, entry.fix(lang));
    heading(
        &mut out,
        &format!("{}{} {}", w.retry_heading, colon(lang), advice.label(lang)),
        color,
    );
    paragraph(
        &mut out,
        &format!(
            "{}. {}",
            capitalise(advice.summary(lang)),
            entry.retry_why(lang)
        ),
    );
    finish(out)
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn finish(lines: Vec<String>) -> String {
    let mut s = String::new();
    for line in lines {
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

/// A numbered item, with optional sub-lines, wrapped with hanging indents.
fn item(out: &mut Vec<String>, n: usize, head: &str, subs: &[String]) {
    let first = format!("  {n}. ");
    let rest = " ".repeat(first.len());
    out.extend(wrap(head, WIDTH, &first, &rest));
    let sub_rest = " ".repeat(rest.len() + 2);
    for sub in subs {
        out.extend(wrap(sub, WIDTH, &format!("{rest}- "), &sub_rest));
    }
}

/// Two codes side by side, then both explanations, the key differences derived from the data
/// (sender, circumstances, retry advice, wire) and when to use which.
pub fn render_compare(reg: &Registry, a: u16, b: u16, lang: Lang, color: bool) -> String {
    let (Some(ea), Some(eb)) = (reg.lookup(a), reg.lookup(b)) else {
        let bad = if reg.lookup(a).is_none() { a } else { b };
        return format!("{}\n", CodesError::InvalidCode(bad.to_string()));
    };
    let w = words(lang);
    let (la, lb) = (ea.code_label(), eb.code_label());
    let mut out = Vec::new();

    let head = format!("{la} {} {} {lb} {}", ea.name(lang), w.vs, eb.name(lang));
    for line in wrap(&head, WIDTH, "", "  ") {
        out.push(paint(&line, TITLE, color));
    }
    out.push(String::new());

    // Side-by-side facts.
    let mut table_row = |label: &str, va: &str, vb: &str, sa: Option<&str>, sb: Option<&str>| {
        let ca = wrap(va, CMP_COL, "", "");
        let cb = wrap(vb, CMP_COL, "", "");
        for i in 0..ca.len().max(cb.len()) {
            let l = if i == 0 { label } else { "" };
            let cell_a = ca.get(i).map(String::as_str).unwrap_or("");
            let cell_b = cb.get(i).map(String::as_str).unwrap_or("");
            let pa = pad(cell_a, CMP_COL + CMP_GAP);
            let (pa, pb) = match (sa, sb, color) {
                (Some(sa), Some(sb), true) => (
                    format!("{}{}", paint(cell_a, sa, true), &pa[cell_a.len()..]),
                    paint(cell_b, sb, true),
                ),
                _ => (pa, cell_b.to_string()),
            };
            out.push(
                format!("{}{pa}{pb}", pad(l, CMP_LABEL))
                    .trim_end()
                    .to_string(),
            );
        }
    };
    table_row("", &la, &lb, None, None);
    table_row(w.name, &ea.name(lang), &eb.name(lang), None, None);
    table_row(
        w.category,
        ea.category().label(lang),
        eb.category().label(lang),
        None,
        None,
    );
    table_row(
        w.sent_by,
        ea.sender().short(lang),
        eb.sender().short(lang),
        None,
        None,
    );
    table_row(w.on_wire, yes_no(&ea, lang), yes_no(&eb, lang), None, None);
    let (ra, rb) = (ea.retry_advice(), eb.retry_advice());
    table_row(
        w.retry,
        ra.label(lang),
        rb.label(lang),
        Some(retry_style(ra)),
        Some(retry_style(rb)),
    );

    for (heading_text, texts) in [
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
        heading(&mut out, heading_text, color);
        pair(&mut out, lang, &la, &texts[0], &lb, &texts[1]);
    }

    heading(&mut out, w.key_differences, color);
    let (c, sc) = (colon(lang), semicolon(lang));
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    // Sender.
    if ea.sender() == eb.sender() {
        let head = format!(
            "{}{c} {}{sc} {} {}.",
            w.sender_diff,
            w.no_difference,
            w.each,
            sender_phrase(ea.sender(), lang)
        );
        item(&mut out, next(), &head, &[]);
    } else {
        let head = format!(
            "{}{c} {la} {}{sc} {lb} {}.",
            w.sender_diff,
            sender_phrase(ea.sender(), lang),
            sender_phrase(eb.sender(), lang)
        );
        item(&mut out, next(), &head, &[]);
    }
    // Circumstances.
    item(
        &mut out,
        next(),
        &format!("{}{c}", w.when_diff),
        &circumstances(&ea, &eb, lang),
    );
    // Retry advice.
    if ra == rb {
        item(
            &mut out,
            next(),
            &format!(
                "{}{c} {}{sc} {}{c} {} — {}.",
                w.retry_diff,
                w.no_difference,
                w.both,
                ra.as_str(),
                ra.summary(lang)
            ),
            &[],
        );
    } else {
        item(
            &mut out,
            next(),
            &format!("{}{c}", w.retry_diff),
            &[
                format!(
                    "{la}{c} {} — {}. {}",
                    ra.as_str(),
                    ra.summary(lang),
                    first_sentence(ea.retry_why(lang))
                ),
                format!(
                    "{lb}{c} {} — {}. {}",
                    rb.as_str(),
                    rb.summary(lang),
                    first_sentence(eb.retry_why(lang))
                ),
            ],
        );
    }
    // Wire.
    let wire_head = if ea.on_wire() && eb.on_wire() {
        format!("{}{c} {}.", w.wire_diff, w.both_wire)
    } else if wire_phrase(&ea, lang) == wire_phrase(&eb, lang) {
        format!(
            "{}{c} {}{sc} {} {}.",
            w.wire_diff,
            w.no_difference,
            w.each,
            wire_phrase(&ea, lang)
        )
    } else {
        format!(
            "{}{c} {la} {}{sc} {lb} {}.",
            w.wire_diff,
            wire_phrase(&ea, lang),
            wire_phrase(&eb, lang)
        )
    };
    item(&mut out, next(), &wire_head, &[]);
    // Category, when it differs.
    if ea.category() != eb.category() {
        let head = format!(
            "{}{c} {la} {}{sc} {lb} {}.",
            w.category_diff,
            category_phrase(ea.category(), lang),
            category_phrase(eb.category(), lang)
        );
        item(&mut out, next(), &head, &[]);
    }

    heading(&mut out, w.which, color);
    pair(
        &mut out,
        lang,
        &format!("{la} ({})", ea.name(lang)),
        ea.send_when(lang),
        &format!("{lb} ({})", eb.name(lang)),
        eb.send_when(lang),
    );
    finish(out)
}

/// Two labelled paragraphs, or one when both texts are the same (two codes of one range).
fn pair(out: &mut Vec<String>, lang: Lang, la: &str, ta: &str, lb: &str, tb: &str) {
    let c = colon(lang);
    if ta == tb {
        out.extend(wrap(&format!("{la}, {lb}{c} {ta}"), WIDTH, "  ", "  "));
    } else {
        out.extend(wrap(&format!("{la}{c} {ta}"), WIDTH, "  ", "  "));
        out.push(String::new());
        out.extend(wrap(&format!("{lb}{c} {tb}"), WIDTH, "  ", "  "));
    }
}

/// ":" in English, " :" in French (French typography spaces it).
fn colon(lang: Lang) -> &'static str {
    match lang {
        Lang::En => ":",
        Lang::Fr => " :",
    }
}

/// ";" in English, " ;" in French.
fn semicolon(lang: Lang) -> &'static str {
    match lang {
        Lang::En => ";",
        Lang::Fr => " ;",
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

fn category_phrase(c: Category, lang: Lang) -> String {
    let label = c.label(lang);
    match lang {
        Lang::En => format!("is in \"{label}\""),
        Lang::Fr => format!("est dans « {label} »"),
    }
}

fn yes_no(entry: &Entry<'_>, lang: Lang) -> &'static str {
    let w = words(lang);
    match (entry.on_wire(), entry.sender()) {
        (true, _) => w.yes,
        (false, Sender::Local) => match lang {
            Lang::En => "never (local only)",
            Lang::Fr => "jamais (local)",
        },
        (false, _) => w.no,
    }
}

/// Every range and code as a table (`--all`).
pub fn render_all(reg: &Registry, lang: Lang, color: bool) -> String {
    let w = words(lang);
    let headers = match lang {
        Lang::En => [w.code_col, "NAME", "SENT BY", w.wire_col, "RETRY"],
        Lang::Fr => [w.code_col, "NOM", "ENVOYÉ PAR", w.wire_col, "RECONNEXION"],
    };
    let mut rows: Vec<([String; 5], RetryAdvice)> = Vec::new();
    let mut any_library = false;
    let mut any_app = false;
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
        rows.push((
            [
                e.code_label(),
                name,
                e.sender().short(lang).to_string(),
                if e.on_wire() { w.yes } else { w.no }.to_string(),
                e.retry_advice().as_str().to_string(),
            ],
            e.retry_advice(),
        ));
    }
    let mut widths = headers.map(super::wrap::len);
    for (cells, _) in &rows {
        for (i, c) in cells.iter().enumerate() {
            widths[i] = widths[i].max(super::wrap::len(c));
        }
    }
    let mut out = Vec::new();
    let header_line = headers
        .iter()
        .enumerate()
        .map(|(i, h)| pad(h, widths[i]))
        .collect::<Vec<_>>()
        .join("  ");
    out.push(paint(header_line.trim_end(), BOLD, color));
    for (cells, advice) in &rows {
        let mut line = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            if i == 4 {
                line.push_str(&paint(c, retry_style(*advice), color));
            } else {
                line.push_str(&pad(c, widths[i]));
            }
        }
        out.push(line);
    }
    if any_library || any_app {
        out.push(String::new());
    }
    if any_library {
        out.push(w.footnote_library.to_string());
    }
    if any_app {
        out.push(w.footnote_app.to_string());
    }
    finish(out)
}

/// One entry as JSON, for scripts.
#[derive(Debug, Serialize)]
pub struct JsonEntry {
    /// The code; absent for a range listed by `--all`.
    pub code: Option<u16>,
    /// The range whose texts explain the code (or the listed range).
    pub range: Option<JsonRange>,
    pub name: String,
    pub category: Category,
    pub sender: Sender,
    pub on_wire: bool,
    pub retry: RetryAdvice,
    pub library_defined: bool,
    pub app_defined: bool,
    pub source: String,
    pub lang: &'static str,
    pub description: String,
    pub when: String,
    pub fix: String,
    pub retry_why: String,
    pub send_when: String,
}

#[derive(Debug, Serialize)]
pub struct JsonRange {
    pub start: u16,
    pub end: u16,
}

impl JsonEntry {
    pub fn new(e: &Entry<'_>, lang: Lang) -> JsonEntry {
        JsonEntry {
            code: e.code,
            range: e.range.map(|(start, end)| JsonRange { start, end }),
            name: if e.code.is_none() {
                e.kb_name(lang).to_string()
            } else {
                e.name(lang)
            },
            category: e.category(),
            sender: e.sender(),
            on_wire: e.on_wire(),
            retry: e.retry_advice(),
            library_defined: e.library_defined(),
            app_defined: e.app_defined(),
            source: source(e, lang),
            lang: lang.as_str(),
            description: description_paragraphs(e, lang).join(" "),
            when: e.when(lang).to_string(),
            fix: e.fix(lang).to_string(),
            retry_why: e.retry_why(lang).to_string(),
            send_when: e.send_when(lang).to_string(),
        }
    }
}

/// A usage problem: printed on one line, exit status 2.
#[derive(Debug)]
struct Usage(String);

impl From<CodesError> for Usage {
    fn from(e: CodesError) -> Self {
        Usage(e.to_string())
    }
}

fn load_registry(args: &ExplainArgs) -> Result<Cow<'static, Registry>, Usage> {
    let Some(path) = &args.config else {
        return Ok(Cow::Borrowed(Registry::builtin()));
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Usage(format!("cannot read config {}: {e}", path.display())))?;
    let app = app_codes_from_toml(&text)
        .map_err(|e| Usage(format!("{}: {}", path.display(), one_line(&e.to_string()))))?;
    Ok(Cow::Owned(Registry::with_app_codes(&app)?))
}

/// TOML errors span several lines (the source line with a caret under it); keep the message
/// to one line: drop the quoted source and the caret.
fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| {
            let gutter = l
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .trim_start();
            !l.is_empty() && !gutter.starts_with('|')
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn build_output(args: &ExplainArgs, color: bool) -> Result<String, Usage> {
    let lang = Lang::resolve(args.lang);
    if args.all && !args.codes.is_empty() {
        return Err(Usage(
            "give close codes or --all, not both (codes are 0-4999)".into(),
        ));
    }
    if !args.all && args.codes.is_empty() {
        return Err(Usage(
            "nothing to explain: give a close code (0-4999), two to compare, or --all".into(),
        ));
    }
    let codes = args
        .codes
        .iter()
        .map(|c| parse_code(c))
        .collect::<Result<Vec<u16>, _>>()?;
    let reg = load_registry(args)?;

    if args.json {
        let entries: Vec<JsonEntry> = if args.all {
            reg.entries().map(|e| JsonEntry::new(&e, lang)).collect()
        } else {
            codes
                .iter()
                .filter_map(|c| reg.lookup(*c))
                .map(|e| JsonEntry::new(&e, lang))
                .collect()
        };
        let mut s = serde_json::to_string_pretty(&entries)
            .map_err(|e| Usage(format!("cannot encode JSON: {e}")))?;
        s.push('\n');
        return Ok(s);
    }
    if args.all {
        return Ok(render_all(&reg, lang, color));
    }
    Ok(match codes.as_slice() {
        [one] => render_one(&reg, *one, lang, color),
        [a, b] if a == b => render_one(&reg, *a, lang, color),
        [a, b] => render_compare(&reg, *a, *b, lang, color),
        many => many
            .iter()
            .map(|c| render_one(&reg, *c, lang, color))
            .collect::<Vec<_>>()
            .join("\n"),
    })
}

/// Whether stdout gets ANSI colors: a terminal, and `NO_COLOR` unset or empty.
pub fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `wsmon explain`. Bad input prints one line on stderr and exits with status 2.
pub fn run(args: &ExplainArgs) -> anyhow::Result<ExitCode> {
    match build_output(args, use_color()) {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => Ok(ExitCode::SUCCESS),
                // `wsmon explain --all | head` is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
                Err(e) => Err(anyhow::Error::new(e).context("cannot write to stdout")),
            }
        }
        Err(Usage(msg)) => {
            eprintln!("wsmon explain: {msg}");
            Ok(ExitCode::from(2))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::AppCode;
    use std::collections::BTreeMap;

    fn check_lines(text: &str, what: &str) {
        for line in text.lines() {
            assert!(
                super::super::wrap::len(line) <= WIDTH,
                "{what}: line longer than {WIDTH}: {line:?}"
            );
            assert_eq!(line, line.trim_end(), "{what}: trailing space in {line:?}");
            assert!(!line.contains('\x1b'), "{what}: escape code without color");
        }
    }

    fn app_registry() -> Registry {
        let mut app = BTreeMap::new();
        app.insert(
            4001,
            AppCode {
                name: "Session expired after a very long period of inactivity on the account"
                    .into(),
                description: "The login token expired; log in again.".into(),
            },
        );
        Registry::with_app_codes(&app).expect("valid")
    }

    #[test]
    fn every_explanation_fits_the_pane() {
        let reg = app_registry();
        let mut codes: Vec<u16> = reg.entries().filter_map(|e| e.code).collect();
        codes.extend([0, 999, 1016, 2500, 2999, 3500, 4002, 4999]);
        for lang in [Lang::En, Lang::Fr] {
            for &a in &codes {
                check_lines(&render_one(&reg, a, lang, false), &format!("{a}"));
                for &b in &codes {
                    check_lines(
                        &render_compare(&reg, a, b, lang, false),
                        &format!("{a} vs {b}"),
                    );
                }
            }
        }
    }

    #[test]
    fn one_code_has_all_sections_in_order() {
        let reg = Registry::builtin();
        let text = render_one(reg, 1013, Lang::En, false);
        let pos = |needle: &str| {
            text.find(needle)
                .unwrap_or_else(|| panic!("{needle:?} missing from:\n{text}"))
        };
        assert!(text.starts_with("1013 Try Again Later\n"), "{text}");
        let order = [
            "Category       Temporary condition",
            "Sent by        server",
            "On the wire    yes",
            "Retry advice   backoff",
            "\nDescription\n",
            "\nWhen you see it\n",
            "\nHow to fix\n",
            "\nRetry advice: backoff\n",
        ];
        for pair in order.windows(2) {
            assert!(pos(pair[0]) < pos(pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn french_uses_french_headings_and_texts() {
        let reg = Registry::builtin();
        let one = render_one(reg, 1013, Lang::Fr, false);
        for h in [
            "Description",
            "Quand vous le voyez",
            "Comment résoudre",
            "Réessayer plus tard",
        ] {
            assert!(one.contains(h), "{h} missing:\n{one}");
        }
        assert!(!one.contains("When you see it"));
        let cmp = render_compare(reg, 1010, 1013, Lang::Fr, false);
        for h in [
            "Différences clés",
            "Quand utiliser lequel",
            "Extension obligatoire",
        ] {
            assert!(cmp.contains(h), "{h} missing:\n{cmp}");
        }
    }

    #[test]
    fn comparison_derives_differences_from_the_data() {
        let reg = Registry::builtin();
        let cmp = render_compare(reg, 1010, 1013, Lang::En, false);
        let diffs = &cmp[cmp.find("Key differences").expect("section")..];
        assert!(diffs.contains("1010 is sent only by a client"), "{diffs}");
        assert!(diffs.contains("1013 is sent by the server"), "{diffs}");
        assert!(diffs.contains("1010: never"), "{diffs}");
        assert!(diffs.contains("1013: backoff"), "{diffs}");
        assert!(
            diffs.contains("both may appear in a close frame"),
            "{diffs}"
        );
        // 1006 vs 1000: the wire differs.
        let cmp = render_compare(reg, 1006, 1000, Lang::En, false);
        assert!(cmp.contains("1006 never appears in a close frame"), "{cmp}");
        // Same sender and same advice are said to be the same.
        let cmp = render_compare(reg, 1011, 1014, Lang::En, false);
        assert!(cmp.contains("no difference; both: backoff"), "{cmp}");
    }

    #[test]
    fn color_only_when_asked() {
        let reg = Registry::builtin();
        assert!(render_one(reg, 1013, Lang::En, true).contains("\x1b[1m"));
        assert!(render_compare(reg, 1010, 1013, Lang::En, true).contains("\x1b[31m"));
        assert!(render_all(reg, Lang::En, true).contains("\x1b["));
        assert!(!render_all(reg, Lang::En, false).contains('\x1b'));
    }

    #[test]
    fn app_code_shows_its_name_with_range_context() {
        let reg = app_registry();
        let text = render_one(&reg, 4001, Lang::En, false);
        assert!(text.starts_with("4001 Session expired after"), "{text}");
        assert!(
            text.contains("The login token expired; log in again."),
            "{text}"
        );
        assert!(text.contains("Range 4000-4999 (Private use):"), "{text}");
    }

    #[test]
    fn first_sentence_stops_at_a_full_stop() {
        assert_eq!(first_sentence("One two. Three."), "One two.");
        assert_eq!(first_sentence("Use 1.5 s. Then"), "Use 1.5 s.");
        assert_eq!(first_sentence("No stop"), "No stop");
        assert_eq!(first_sentence("Dit « x ». Puis"), "Dit « x ».");
    }

    #[test]
    fn toml_errors_become_one_line() {
        let err = crate::codes::app_codes_from_toml("[codes.4001\n")
            .expect_err("bad toml")
            .to_string();
        let line = one_line(&err);
        assert!(!line.contains('\n') && !line.contains('^'), "{line}");
        assert!(line.contains("line 1"), "{line}");
    }
}
