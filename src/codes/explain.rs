//! `wsmon explain`: one code, a comparison of two, the whole table, or JSON.
//!
//! The renderers return plain strings with lines of at most [`WIDTH`] characters and no
//! trailing spaces, so the TUI can show them in its close-code pane as they are. With
//! `color`, headings and retry advice get ANSI styles (for terminals only).

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use serde::Serialize;

pub use super::wrap::WIDTH;
use super::wrap::{pad, wrap};
use super::{
    Category, CodesError, Entry, Lang, Registry, RetryAdvice, Sender, app_codes_from_toml,
    parse_code,
};

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
    defined_in: "Sources",
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
    library_note: "registered at IANA with a name and a contact only: the library that \
                   sends it sets its meaning, not RFC 6455",
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
    footnote_library: "* IANA lists a name and a contact only (meaning set by the sender's library)",
    footnote_app: "+ named by your application (wsmon config [codes])",
};

const FR: Words = Words {
    category: "Catégorie",
    sent_by: "Envoyé par",
    on_wire: "Sur le réseau",
    retry: "Reconnexion",
    defined_in: "Sources",
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
    library_note: "enregistré à l'IANA avec un nom et un contact seulement : c'est la \
                   bibliothèque de l'émetteur qui en fixe le sens, pas la RFC 6455",
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
    footnote_library: "* l'IANA n'indique qu'un nom et un contact (sens fixé par l'émetteur)",
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
fn row(
    out: &mut Vec<String>,
    width: usize,
    label: &str,
    value: &str,
    style: Option<&str>,
    color: bool,
) {
    let indent = " ".repeat(LABEL);
    let lines = wrap(value, width, &pad(label, LABEL), &indent);
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

fn paragraph(out: &mut Vec<String>, width: usize, text: &str) {
    out.extend(wrap(text, width, "  ", "  "));
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

/// The sources of an entry, in the reader's language (citations keep their document titles).
fn sources(entry: &Entry<'_>, lang: Lang) -> Vec<String> {
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

/// Citations are written in English in the knowledge base; French output translates their
/// common words and keeps titles and identifiers.
fn localise_source(s: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return s.to_string();
    }
    const FR_WORDS: [(&str, &str); 19] = [
        (
            "IANA registry: WebSocket Close Code Number Registry",
            "registre IANA des codes de fermeture WebSocket",
        ),
        ("(name and contact only)", "(nom et contact seulement)"),
        ("(invalid codes)", "(codes invalides)"),
        (
            "tungstenite 0.30 source (answers codes it does not know with 1002)",
            "code source de tungstenite 0.30 (répond par 1002 aux codes inconnus)",
        ),
        (
            "(\"Reserved\", no MUST NOT)",
            "(« Reserved », sans interdiction)",
        ),
        (
            "(MUST NOT be set in a close frame)",
            "(interdit dans une trame de fermeture)",
        ),
        (
            "(first reconnect delay random, 0-5 s, then backoff)",
            "(premier délai aléatoire de 0 à 5 s, puis croissant)",
        ),
        ("(extension negotiation)", "(négociation des extensions)"),
        (
            "errata ID 3227 (either endpoint may send 1011)",
            "errata 3227 (1011 envoyable par les deux extrémités)",
        ),
        ("hybi list,", "liste hybi,"),
        (
            "(IANA's reference: random 5-30 s delay)",
            "(référence de l'IANA : délai aléatoire de 5 à 30 s)",
        ),
        (
            "(IANA's reference, shared with 1012: other IP, or user action)",
            "(référence de l'IANA, commune avec 1012 : autre IP, ou action de l'utilisateur)",
        ),
        ("(IANA's reference)", "(référence de l'IANA)"),
        (
            "Spring Framework CloseStatus.SERVICE_OVERLOAD javadoc",
            "javadoc de CloseStatus.SERVICE_OVERLOAD (Spring Framework)",
        ),
        ("(raw 1014 recorded)", "(1014 brut enregistré)"),
        (
            "(codes above 4999 are not defined)",
            "(aucun code défini au-delà de 4999)",
        ),
        (
            "wsmon tests/engine.rs and tests/interop.rs",
            "tests de wsmon tests/engine.rs et tests/interop.rs",
        ),
        (
            ", documented reconnect column)",
            ", colonne « Reconnect » documentée)",
        ),
        (" and src/common.ts", " et src/common.ts"),
    ];
    let mut out = s.to_string();
    for (en, fr) in FR_WORDS {
        out = out.replace(en, fr);
    }
    out
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
    render_one_at(reg, code, lang, color, WIDTH)
}

/// [`render_one`] for a given line width.
pub fn render_one_at(reg: &Registry, code: u16, lang: Lang, color: bool, width: usize) -> String {
    let Some(entry) = reg.lookup(code) else {
        return format!("{}\n", CodesError::InvalidCode(code.to_string()));
    };
    let w = words(lang);
    let mut out = Vec::new();
    for line in wrap(&title(&entry, lang), width, "", "      ") {
        out.push(paint(&line, TITLE, color));
    }
    row(
        &mut out,
        width,
        w.category,
        entry.category().label(lang),
        None,
        color,
    );
    row(
        &mut out,
        width,
        w.sent_by,
        entry.sender().label(lang),
        None,
        color,
    );
    row(
        &mut out,
        width,
        w.on_wire,
        wire_value(&entry, lang),
        None,
        color,
    );
    let advice = entry.retry_advice();
    row(
        &mut out,
        width,
        w.retry,
        advice.label(lang),
        Some(retry_style(advice)),
        color,
    );
    let srcs = sources(&entry, lang);
    for (i, src) in srcs.iter().enumerate() {
        let label = if i == 0 { w.defined_in } else { "" };
        row(&mut out, width, label, src, None, color);
    }
    if entry.library_defined() && entry.range.is_none() {
        row(&mut out, width, w.note, w.library_note, None, color);
    }

    heading(&mut out, w.description, color);
    for (i, para) in description_paragraphs(&entry, lang).iter().enumerate() {
        if i > 0 {
            out.push(String::new());
        }
        paragraph(&mut out, width, para);
    }
    heading(&mut out, w.when, color);
    paragraph(&mut out, width, entry.when(lang));
    heading(&mut out, w.fix, color);
    paragraph(&mut out, width, entry.fix(lang));
    heading(
        &mut out,
        &format!("{}{} {}", w.retry_heading, colon(lang), advice.label(lang)),
        color,
    );
    paragraph(
        &mut out,
        width,
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
fn item(out: &mut Vec<String>, width: usize, n: usize, head: &str, subs: &[String]) {
    let first = format!("  {n}. ");
    let rest = " ".repeat(first.len());
    out.extend(wrap(head, width, &first, &rest));
    let sub_rest = " ".repeat(rest.len() + 2);
    for sub in subs {
        out.extend(wrap(sub, width, &format!("{rest}- "), &sub_rest));
    }
}

/// Two codes side by side, then both explanations, the key differences derived from the data
/// (sender, circumstances, retry advice, wire) and when to use which.
pub fn render_compare(reg: &Registry, a: u16, b: u16, lang: Lang, color: bool) -> String {
    render_compare_at(reg, a, b, lang, color, WIDTH)
}

/// [`render_compare`] for a given line width.
pub fn render_compare_at(
    reg: &Registry,
    a: u16,
    b: u16,
    lang: Lang,
    color: bool,
    width: usize,
) -> String {
    let (Some(ea), Some(eb)) = (reg.lookup(a), reg.lookup(b)) else {
        let bad = if reg.lookup(a).is_none() { a } else { b };
        return format!("{}\n", CodesError::InvalidCode(bad.to_string()));
    };
    if std::ptr::eq(ea.data, eb.data) && !ea.app_defined() && !eb.app_defined() {
        return render_same_range(&ea, &eb, lang, color, width);
    }
    let w = words(lang);
    let (la, lb) = (ea.code_label(), eb.code_label());
    let mut out = Vec::new();

    let head = format!("{la} {} {} {lb} {}", ea.name(lang), w.vs, eb.name(lang));
    for line in wrap(&head, width, "", "  ") {
        out.push(paint(&line, TITLE, color));
    }
    out.push(String::new());

    // Side-by-side facts.
    let col = (width.saturating_sub(CMP_LABEL + CMP_GAP) / 2).max(CMP_COL);
    let mut table_row = |label: &str, va: &str, vb: &str, sa: Option<&str>, sb: Option<&str>| {
        let ca = wrap(va, col, "", "");
        let cb = wrap(vb, col, "", "");
        for i in 0..ca.len().max(cb.len()) {
            let l = if i == 0 { label } else { "" };
            let cell_a = ca.get(i).map(String::as_str).unwrap_or("");
            let cell_b = cb.get(i).map(String::as_str).unwrap_or("");
            let pa = pad(cell_a, col + CMP_GAP);
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
        pair(&mut out, width, lang, (&la, &texts[0]), (&lb, &texts[1]));
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
        item(&mut out, width, next(), &head, &[]);
    } else {
        let head = format!(
            "{}{c} {la} {}{sc} {lb} {}.",
            w.sender_diff,
            sender_phrase(ea.sender(), lang),
            sender_phrase(eb.sender(), lang)
        );
        item(&mut out, width, next(), &head, &[]);
    }
    // Circumstances.
    item(
        &mut out,
        width,
        next(),
        &format!("{}{c}", w.when_diff),
        &circumstances(&ea, &eb, lang),
    );
    // Retry advice.
    if ra == rb {
        item(
            &mut out,
            width,
            next(),
            &format!(
                "{}{c} {}{sc} {}{c} {} — {}.",
                w.retry_diff,
                w.no_difference,
                w.both,
                ra.label(lang),
                ra.summary(lang)
            ),
            &[],
        );
    } else {
        item(
            &mut out,
            width,
            next(),
            &format!("{}{c}", w.retry_diff),
            &[
                format!(
                    "{la}{c} {} — {}. {}",
                    ra.label(lang),
                    ra.summary(lang),
                    first_sentence(ea.retry_why(lang))
                ),
                format!(
                    "{lb}{c} {} — {}. {}",
                    rb.label(lang),
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
    item(&mut out, width, next(), &wire_head, &[]);
    // Category, when it differs.
    if ea.category() != eb.category() {
        let head = format!(
            "{}{c} {la} {}{sc} {lb} {}.",
            w.category_diff,
            category_phrase(ea.category(), lang),
            category_phrase(eb.category(), lang)
        );
        item(&mut out, width, next(), &head, &[]);
    }

    heading(&mut out, w.which, color);
    pair(
        &mut out,
        width,
        lang,
        (
            &format!("{la} ({})", short_name(&ea, lang)),
            ea.send_when(lang),
        ),
        (
            &format!("{lb} ({})", short_name(&eb, lang)),
            eb.send_when(lang),
        ),
    );
    finish(out)
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
fn render_same_range(
    ea: &Entry<'_>,
    eb: &Entry<'_>,
    lang: Lang,
    color: bool,
    width: usize,
) -> String {
    let (la, lb) = (ea.code_label(), eb.code_label());
    let (lo, hi) = ea.range.unwrap_or((0, 0));
    let name = ea.kb_name(lang);
    let note = match lang {
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
    };
    let mut out = Vec::new();
    let head = format!("{la} {} {lb}  {name} ({lo}-{hi})", words(lang).vs);
    for line in wrap(&head, width, "", "  ") {
        out.push(paint(&line, TITLE, color));
    }
    out.push(String::new());
    out.extend(wrap(&note, width, "", ""));
    out.push(String::new());
    let mut s = finish(out);
    s.push_str(&render_one_at_range(ea, lang, color, width));
    s
}

/// The explanation of an entry's range, as `explain --all` lists it.
fn render_one_at_range(e: &Entry<'_>, lang: Lang, color: bool, width: usize) -> String {
    let w = words(lang);
    let mut out = Vec::new();
    let advice = e.retry_advice();
    row(
        &mut out,
        width,
        w.category,
        e.category().label(lang),
        None,
        color,
    );
    row(
        &mut out,
        width,
        w.sent_by,
        e.sender().label(lang),
        None,
        color,
    );
    row(&mut out, width, w.on_wire, wire_value(e, lang), None, color);
    row(
        &mut out,
        width,
        w.retry,
        advice.label(lang),
        Some(retry_style(advice)),
        color,
    );
    for (i, src) in sources(e, lang).iter().enumerate() {
        let label = if i == 0 { w.defined_in } else { "" };
        row(&mut out, width, label, src, None, color);
    }
    for (h, text) in [
        (w.description, e.texts(lang).description.as_str()),
        (w.when, e.when(lang)),
        (w.fix, e.fix(lang)),
    ] {
        heading(&mut out, h, color);
        paragraph(&mut out, width, text);
    }
    finish(out)
}

/// Two labelled paragraphs, or one when both texts are the same (two codes of one range).
fn pair(
    out: &mut Vec<String>,
    width: usize,
    lang: Lang,
    (la, ta): (&str, &str),
    (lb, tb): (&str, &str),
) {
    let c = colon(lang);
    if ta == tb {
        out.extend(wrap(&format!("{la}, {lb}{c} {ta}"), width, "  ", "  "));
    } else {
        out.extend(wrap(&format!("{la}{c} {ta}"), width, "  ", "  "));
        out.push(String::new());
        out.extend(wrap(&format!("{lb}{c} {tb}"), width, "  ", "  "));
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
    render_all_at(reg, lang, color, super::wrap::TABLE_WIDTH)
}

/// [`render_all`] for a given line width: the name column wraps to what is left.
pub fn render_all_at(reg: &Registry, lang: Lang, color: bool, width: usize) -> String {
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
                e.retry_advice().short(lang).to_string(),
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
    // The name column takes what the others leave, at least 12 characters.
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
    let header_line = headers
        .iter()
        .enumerate()
        .map(|(i, h)| pad(h, widths[i]))
        .collect::<Vec<_>>()
        .join("  ");
    out.push(paint(header_line.trim_end(), BOLD, color));
    for (cells, advice) in &rows {
        let names = wrap(&cells[1], widths[1], "", "  ");
        for (n, name) in names.iter().enumerate() {
            let mut line = String::new();
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let cell = match (i, n) {
                    (1, _) => name.as_str(),
                    (_, 0) => c.as_str(),
                    _ => "",
                };
                if i == 4 {
                    line.push_str(&paint(cell, retry_style(*advice), color));
                } else {
                    line.push_str(&pad(cell, widths[i]));
                }
            }
            out.push(line.trim_end().to_string());
        }
    }
    if any_library || any_app {
        out.push(String::new());
    }
    if any_library {
        out.extend(wrap(w.footnote_library, width, "", "  "));
    }
    if any_app {
        out.extend(wrap(w.footnote_app, width, "", "  "));
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
    /// The sources joined with "; " (kept for scripts written before `sources`).
    pub source: String,
    /// What each claim rests on.
    pub sources: Vec<String>,
    pub lang: &'static str,
    pub description: String,
    pub when: String,
    pub fix: String,
    pub retry_why: String,
    pub send_when: String,
    /// In a comparison: the fields whose values differ from the other codes'.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differs_in: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct JsonRange {
    pub start: u16,
    pub end: u16,
}

impl JsonEntry {
    pub fn new(e: &Entry<'_>, lang: Lang) -> JsonEntry {
        let sources = sources(e, lang);
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
            source: sources.join("; "),
            sources,
            lang: lang.as_str(),
            description: description_paragraphs(e, lang).join(" "),
            when: e.when(lang).to_string(),
            fix: e.fix(lang).to_string(),
            retry_why: e.retry_why(lang).to_string(),
            send_when: e.send_when(lang).to_string(),
            differs_in: Vec::new(),
        }
    }
}

/// Mark, on each entry of a comparison, the fields that are not the same for all of them.
fn mark_differences(entries: &mut [JsonEntry]) {
    if entries.len() < 2 {
        return;
    }
    let keys = |e: &JsonEntry| -> [(&'static str, String); 9] {
        [
            ("name", e.name.clone()),
            ("category", e.category.as_str().to_string()),
            ("sender", e.sender.as_str().to_string()),
            ("on_wire", e.on_wire.to_string()),
            ("retry", e.retry.as_str().to_string()),
            ("description", e.description.clone()),
            ("when", e.when.clone()),
            ("fix", e.fix.clone()),
            ("send_when", e.send_when.clone()),
        ]
    };
    let first = keys(&entries[0]);
    let mut differ: Vec<&'static str> = Vec::new();
    for (i, (field, value)) in first.iter().enumerate() {
        if entries.iter().any(|e| &keys(e)[i].1 != value) {
            differ.push(field);
        }
    }
    for e in entries {
        e.differs_in = differ.clone();
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

/// What `wsmon explain` was asked, as plain values (the CLI builds it from its arguments).
#[derive(Debug, Clone, Default)]
pub struct ExplainRequest {
    /// Close codes as typed.
    pub codes: Vec<String>,
    /// HTTP statuses as typed (`--http`).
    pub http: Vec<String>,
    /// `--lang`; the locale decides when absent.
    pub lang: Option<Lang>,
    pub all: bool,
    pub json: bool,
    /// A config file whose `[codes]` table (and `profile` key) names application codes.
    pub config: Option<std::path::PathBuf>,
    /// `--profile NAME`: a well-known protocol's codes.
    pub profile: Option<String>,
    /// Line width; `None` asks the terminal (at least 80 columns).
    pub width: Option<usize>,
}

fn load_registry(req: &ExplainRequest) -> Result<Cow<'static, Registry>, Usage> {
    let mut profile = req.profile.clone();
    let mut app = std::collections::BTreeMap::new();
    if let Some(path) = &req.config {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Usage(format!("cannot read config {}: {e}", path.display())))?;
        app = app_codes_from_toml(&text)
            .map_err(|e| Usage(format!("{}: {}", path.display(), one_line(&e.to_string()))))?;
        if profile.is_none() {
            profile = super::profile_from_toml(&text)
                .map_err(|e| Usage(format!("{}: {}", path.display(), one_line(&e.to_string()))))?;
        }
    }
    if profile.is_none() && app.is_empty() {
        return Ok(Cow::Borrowed(Registry::builtin()));
    }
    Ok(Cow::Owned(Registry::build(profile.as_deref(), &app)?))
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

/// A line between the explanations of several codes.
fn separator(width: usize) -> String {
    format!("{}\n", "─".repeat(width.min(WIDTH)))
}

fn build_output(req: &ExplainRequest, color: bool, width: usize) -> Result<String, Usage> {
    let lang = Lang::resolve(req.lang);
    if !req.http.is_empty() {
        if req.all || !req.codes.is_empty() {
            return Err(Usage(
                "give HTTP statuses with --http, or close codes, not both".into(),
            ));
        }
        let statuses = req
            .http
            .iter()
            .map(|s| super::http::parse_status(s))
            .collect::<Result<Vec<u16>, _>>()?;
        if req.json {
            let list: Vec<super::http::JsonStatus> = statuses
                .iter()
                .map(|s| super::http::JsonStatus::new(*s, lang))
                .collect();
            let mut s = serde_json::to_string_pretty(&list)
                .map_err(|e| Usage(format!("cannot encode JSON: {e}")))?;
            s.push('\n');
            return Ok(s);
        }
        return Ok(statuses
            .iter()
            .map(|s| super::http::render_status(*s, lang, color, width))
            .collect::<Vec<_>>()
            .join(&separator(width)));
    }
    if req.all && !req.codes.is_empty() {
        return Err(Usage(
            "give close codes or --all, not both (codes are 0-65535)".into(),
        ));
    }
    if !req.all && req.codes.is_empty() {
        return Err(Usage(
            "nothing to explain: give a close code (0-65535), two to compare, or --all".into(),
        ));
    }
    let codes = req
        .codes
        .iter()
        .map(|c| parse_code(c))
        .collect::<Result<Vec<u16>, _>>()?;
    let reg = load_registry(req)?;

    if req.json {
        let mut entries: Vec<JsonEntry> = if req.all {
            reg.entries().map(|e| JsonEntry::new(&e, lang)).collect()
        } else {
            codes
                .iter()
                .filter_map(|c| reg.lookup(*c))
                .map(|e| JsonEntry::new(&e, lang))
                .collect()
        };
        if !req.all {
            mark_differences(&mut entries);
        }
        let mut s = serde_json::to_string_pretty(&entries)
            .map_err(|e| Usage(format!("cannot encode JSON: {e}")))?;
        s.push('\n');
        return Ok(s);
    }
    if req.all {
        return Ok(render_all_at(&reg, lang, color, width));
    }
    Ok(match codes.as_slice() {
        [one] => render_one_at(&reg, *one, lang, color, width),
        [a, b] if a == b => render_one_at(&reg, *a, lang, color, width),
        [a, b] => render_compare_at(&reg, *a, *b, lang, color, width),
        many => many
            .iter()
            .map(|c| render_one_at(&reg, *c, lang, color, width))
            .collect::<Vec<_>>()
            .join(&separator(width)),
    })
}

/// Whether stdout gets ANSI colors: a terminal, and `NO_COLOR` unset or empty.
pub fn use_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The width to write at: `COLUMNS` if set, else the terminal's width when stdout is one;
/// never less than 80 columns (the text is written to fit 80 and widens with the terminal).
pub fn output_width() -> usize {
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok());
    let from_tty = || {
        std::io::stdout()
            .is_terminal()
            .then(|| crossterm::terminal::size().ok())
            .flatten()
            .map(|(cols, _)| usize::from(cols))
    };
    from_env.or_else(from_tty).unwrap_or(80).max(80)
}

/// `wsmon explain`. Bad input prints one line on stderr and exits with status 2.
pub fn run(req: &ExplainRequest) -> anyhow::Result<ExitCode> {
    let width = req.width.unwrap_or_else(output_width);
    match build_output(req, use_color(), width) {
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

    #[test]
    fn all_fits_80_columns_in_both_languages_and_follows_wider_terminals() {
        let reg = app_registry();
        for lang in [Lang::En, Lang::Fr] {
            let text = render_all(&reg, lang, false);
            for line in text.lines() {
                assert!(super::super::wrap::len(line) <= 80, "{lang:?}: {line:?}");
            }
            let req = ExplainRequest {
                all: true,
                lang: Some(lang),
                ..Default::default()
            };
            for width in [80, 120] {
                let text = build_output(&req, false, width).expect("all");
                assert!(text.lines().all(|l| super::super::wrap::len(l) <= width));
            }
            let wide = render_one_at(&reg, 1013, lang, false, 120);
            assert!(
                wide.lines().any(|l| super::super::wrap::len(l) > 80),
                "{wide}"
            );
            assert!(wide.lines().all(|l| super::super::wrap::len(l) <= 120));
        }
        assert!(!render_all(&reg, Lang::Fr, false).contains("backoff"));
    }

    #[test]
    fn french_seed_page_points_are_all_there() {
        let req = ExplainRequest {
            codes: vec!["1010".into(), "1013".into()],
            lang: Some(Lang::Fr),
            ..Default::default()
        };
        let text = build_output(&req, false, 80).expect("compare");
        // Collapse the wrapping so phrases split across lines still match.
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for point in [
            "Extension obligatoire",
            "Réessayer plus tard",
            "une ou plusieurs extensions",
            "dans la réponse à la poignée de main",
            "permessage-deflate",
            "Sec-WebSocket-Extensions",
            "Activez l'extension sur le serveur",
            "facultative côté client",
            "surchargé",
            "Contrairement à 1012, il ne s'agit pas d'un redémarrage",
            "commencer à 1 seconde, doubler à chaque tentative",
            "passez à l'échelle horizontalement",
            "réduisez le nombre de connexions simultanées",
            "capacité du serveur",
            "Différences clés",
            "Quand utiliser lequel",
            "Quand vous le voyez",
            "Comment résoudre",
        ] {
            assert!(flat.contains(point), "{point:?} missing from:\n{text}");
        }
        for english in ["backoff (", "never (", "IANA registry", "Protocol error"] {
            assert!(!flat.contains(english), "{english:?} left in:\n{text}");
        }
        assert!(text.lines().all(|l| super::super::wrap::len(l) <= 80));
    }

    #[test]
    fn comparisons_of_many_codes_and_json_keep_differences() {
        let req = |codes: &[&str], json: bool| ExplainRequest {
            codes: codes.iter().map(|c| c.to_string()).collect(),
            lang: Some(Lang::En),
            json,
            ..Default::default()
        };
        let three = build_output(&req(&["1000", "1001", "1013"], false), false, 80).expect("3");
        assert_eq!(
            three.matches("\n──").count() + usize::from(three.starts_with("──")),
            2
        );
        let json = build_output(&req(&["1010", "1013"], true), false, 80).expect("json");
        let v: serde_json::Value = serde_json::from_str(&json).expect("json");
        let differs = v[0]["differs_in"].as_array().expect("differences");
        for f in ["category", "sender", "retry"] {
            assert!(differs.iter().any(|d| d == f), "{f} in {differs:?}");
        }
        assert!(v[0]["sources"].as_array().is_some_and(|s| !s.is_empty()));
        // 1010 is not a protocol error.
        let cmp = render_compare(Registry::builtin(), 1010, 1013, Lang::En, false);
        assert!(!cmp.contains("\"Protocol error\""), "{cmp}");
    }

    #[test]
    fn http_statuses_explain_what_the_policy_does() {
        for status in super::super::http::known() {
            for lang in [Lang::En, Lang::Fr] {
                let text = super::super::http::render_status(status, lang, false, 80);
                assert!(
                    text.lines().all(|l| super::super::wrap::len(l) <= 80),
                    "{text}"
                );
                let advice = super::super::http::retry_advice(status);
                assert!(text.contains(advice.label(lang)), "{status}: {text}");
            }
        }
        assert_eq!(super::super::http::retry_advice(503), RetryAdvice::Backoff);
        assert_eq!(super::super::http::retry_advice(401), RetryAdvice::Never);
    }
}
