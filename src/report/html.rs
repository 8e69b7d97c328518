//! The page: a pure function of a [`Report`]. Tables and explanations are HTML written here
//! (readable without the script); the charts are drawn by uPlot from a JSON block.
//!
//! Escaping: every string that came from the record (URLs, reasons, code names, file names,
//! warnings) goes through [`esc`]; the JSON block goes through [`script_safe`], so no byte of
//! the record can end the `<script>` element or start markup.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::data::{Report, Series, TopSession};
use crate::codes::explain::{Block, Explanation};
use crate::codes::{Lang, Registry};
use crate::engine::events::{Cause, SessionState};
use crate::state::snapshot::{AttemptOutcome as Outcome, AttemptRecord, TargetView};
use crate::thresholds::Verdict;

/// The vendored uPlot (see `assets/vendor/uplot/VERSION`).
pub const UPLOT_JS: &str = include_str!("../../assets/vendor/uplot/uPlot.iife.min.js");
pub const UPLOT_CSS: &str = include_str!("../../assets/vendor/uplot/uPlot.min.css");
pub const UPLOT_VERSION: &str = include_str!("../../assets/vendor/uplot/VERSION");
const PAGE_JS: &str = include_str!("page.js");
const PAGE_CSS: &str = include_str!("page.css");

/// No request leaves the page: no fetch, no image, font or frame from anywhere but the page.
pub const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/// HTML-escape text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// JSON that can sit inside `<script>`: `<`, `>` and `&` (only ever inside strings) as
/// `\u` escapes, and the two line separators JavaScript once treated as line ends.
pub fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Headings and labels of the page, per language.
struct Words {
    window: &'static str,
    targets: &'static str,
    sessions: &'static str,
    attempts: &'static str,
    opens: &'static str,
    events: &'static str,
    files: &'static str,
    verdicts: &'static str,
    warnings: &'static str,
    charts: &'static str,
    no_events: &'static str,
    per_target: &'static str,
    codes: &'static str,
    statuses: &'static str,
    sources: &'static str,
    top: &'static str,
    removed: &'static str,
    earlier: &'static str,
    cols_target: [&'static str; 10],
    cols_timeline: [&'static str; 8],
}

const EN: Words = Words {
    window: "Run window (UTC)",
    targets: "Targets",
    sessions: "Sessions",
    attempts: "Attempts",
    opens: "Opens",
    events: "Events",
    files: "Files",
    verdicts: "Verdicts",
    warnings: "Warnings while loading",
    charts: "Over time (UTC)",
    no_events: "No events in this window.",
    per_target: "Per target (at the end of the window)",
    codes: "Close codes seen",
    statuses: "HTTP statuses seen",
    sources: "Sources",
    top: "Sessions with the most attempts",
    removed: "removed before the end of the window",
    earlier: "earlier attempts not listed",
    cols_target: [
        "#",
        "target",
        "sessions",
        "open",
        "waiting",
        "attempts",
        "opens",
        "closes by code",
        "HTTP fail",
        "gave up",
    ],
    cols_timeline: [
        "attempt",
        "after",
        "window",
        "delay",
        "Retry-After",
        "scheduled",
        "started",
        "outcome",
    ],
};

const FR: Words = Words {
    window: "Fenêtre (UTC)",
    targets: "Cibles",
    sessions: "Sessions",
    attempts: "Tentatives",
    opens: "Ouvertures",
    events: "Événements",
    files: "Fichiers",
    verdicts: "Verdicts",
    warnings: "Avertissements au chargement",
    charts: "Au fil du temps (UTC)",
    no_events: "Aucun événement dans cette fenêtre.",
    per_target: "Par cible (à la fin de la fenêtre)",
    codes: "Codes de fermeture vus",
    statuses: "Statuts HTTP vus",
    sources: "Sources",
    top: "Sessions aux tentatives les plus nombreuses",
    removed: "retirée avant la fin de la fenêtre",
    earlier: "tentatives antérieures non listées",
    cols_target: [
        "#",
        "cible",
        "sessions",
        "ouvertes",
        "en attente",
        "tentatives",
        "ouvertures",
        "fermetures par code",
        "échecs HTTP",
        "abandons",
    ],
    cols_timeline: [
        "tentative",
        "après",
        "fenêtre",
        "délai",
        "Retry-After",
        "prévue",
        "partie",
        "issue",
    ],
};

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()
}

fn utc_time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| "-".into(), |t| t.format("%H:%M:%S%.3f").to_string())
}

/// The whole page.
pub fn render(r: &Report, title: &str) -> String {
    let w = words(r.lang);
    let mut o = String::with_capacity(UPLOT_JS.len() + 256 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"wsmon {}\">\n<title>{}</title>\n\
         <style>{UPLOT_CSS}\n{PAGE_CSS}</style></head>\n<body data-errors=\"0\">\n",
        r.lang.as_str(),
        env!("CARGO_PKG_VERSION"),
        esc(title)
    );
    let _ = writeln!(o, "<h1>{}</h1>", esc(title));
    header(&mut o, r, w);
    charts(&mut o, r, w);
    targets(&mut o, &r.targets, w);
    explained(&mut o, r, w);
    top_sessions(&mut o, r, w);
    o.push_str("<ul id=\"errors\"></ul>\n<script type=\"application/json\" id=\"report-data\">");
    o.push_str(&script_safe(&chart_data(r)));
    o.push_str("</script>\n<script>");
    o.push_str(UPLOT_JS);
    o.push_str("</script>\n<script>");
    o.push_str(PAGE_JS);
    o.push_str("</script>\n</body></html>\n");
    o
}

fn header(o: &mut String, r: &Report, w: &Words) {
    let h = &r.header;
    o.push_str("<section id=\"header\"><dl class=\"facts\">\n");
    let span = h.span.map_or_else(
        || "-".to_string(),
        |(a, b)| format!("{} → {}", utc(a), utc(b)),
    );
    let mut fact = |id: &str, label: &str, value: &str, data: Option<u64>| {
        let data = data
            .map(|n| format!(" data-value=\"{n}\""))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "<dt>{label}</dt><dd id=\"h-{id}\"{data}>{}</dd>",
            esc(value)
        );
    };
    fact("window", w.window, &span, None);
    let targets = h.targets.join(", ");
    fact("targets", w.targets, &targets, Some(h.targets.len() as u64));
    fact(
        "sessions",
        w.sessions,
        &h.sessions.to_string(),
        Some(h.sessions),
    );
    fact(
        "attempts",
        w.attempts,
        &h.attempts.to_string(),
        Some(h.attempts),
    );
    fact("opens", w.opens, &h.opens.to_string(), Some(h.opens));
    fact("events", w.events, &h.events.to_string(), Some(h.events));
    fact("files", w.files, &r.files.join(", "), None);
    o.push_str("</dl>\n");
    if !r.verdicts.is_empty() {
        let _ = writeln!(o, "<h2>{}</h2><table class=\"verdicts\">", w.verdicts);
        for v in &r.verdicts {
            let (class, word) = match v.verdict {
                Verdict::Pass => ("pass", "pass"),
                Verdict::Fail => ("fail", "FAIL"),
                Verdict::NoData => ("nodata", "no data"),
            };
            let _ = writeln!(
                o,
                "<tr class=\"{class}\"><td>{word}</td><td><code>{}</code></td><td>observed {}</td></tr>",
                esc(&v.expr),
                esc(&v.shown)
            );
        }
        o.push_str("</table>\n");
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(o, "<h2>{}</h2><ul class=\"warnings\">", w.warnings);
        for warning in &r.warnings {
            let _ = writeln!(o, "<li>{}</li>", esc(warning));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("</section>\n");
}

/// The chart containers; page.js fills them from the data block.
fn charts(o: &mut String, r: &Report, w: &Words) {
    let _ = writeln!(o, "<section id=\"charts\"><h2>{}</h2>", w.charts);
    if r.header.span.is_none() {
        let _ = writeln!(o, "<p id=\"no-events\">{}</p>", w.no_events);
    } else {
        for id in CHARTS {
            let _ = writeln!(
                o,
                "<div class=\"chart\" id=\"chart-{id}\" data-chart=\"{id}\"></div>"
            );
        }
    }
    o.push_str("</section>\n");
}

/// Chart ids, in page order (page.js knows each one).
pub const CHARTS: [&str; 6] = [
    "rates",
    "closes",
    "failures",
    "sessions",
    "handshake",
    "lockstep",
];

fn targets(o: &mut String, targets: &[TargetView], w: &Words) {
    let _ = writeln!(
        o,
        "<section id=\"targets\"><h2>{}</h2><table><tr>",
        w.per_target
    );
    for c in w.cols_target {
        let _ = write!(o, "<th>{c}</th>");
    }
    o.push_str("<th>HS p50</th><th>HS p99</th></tr>\n");
    for (i, t) in targets.iter().enumerate() {
        let mut closes: Vec<String> = t
            .closes_by_code
            .iter()
            .map(|(c, n)| format!("{c}×{n}"))
            .collect();
        if closes.is_empty() {
            closes.push("-".into());
        }
        let ms = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| format!("{v} ms"));
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"url\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            esc(&t.url),
            t.sessions,
            t.by_state[SessionState::Open.index()] + t.by_state[SessionState::Closing.index()],
            t.by_state[SessionState::Waiting.index()],
            t.attempts,
            t.opens,
            esc(&closes.join(" ")),
            t.http_failures,
            t.gave_up,
            ms(t.handshake_p50_ms),
            ms(t.handshake_p99_ms)
        );
    }
    o.push_str("</table></section>\n");
}

/// Where a source can be read: RFC sections, errata, the IANA registry, GitHub files.
pub fn source_href(s: &str) -> Option<String> {
    if let Some(rest) = s.split("RFC ").nth(1) {
        let num: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !num.is_empty() {
            if let Some(id) = s.split("errata ID ").nth(1) {
                let id: String = id.chars().take_while(char::is_ascii_digit).collect();
                return Some(format!("https://www.rfc-editor.org/errata/eid{id}"));
            }
            let after = &rest[num.len()..];
            let section = after.trim_start().strip_prefix('§').map(|sec| {
                sec.chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect::<String>()
                    .trim_end_matches('.')
                    .to_string()
            });
            return Some(match section.filter(|s| !s.is_empty()) {
                Some(sec) => format!("https://www.rfc-editor.org/rfc/rfc{num}#section-{sec}"),
                None => format!("https://www.rfc-editor.org/rfc/rfc{num}"),
            });
        }
    }
    if s.contains("IANA") {
        return Some("https://www.iana.org/assignments/websocket/websocket.xhtml".into());
    }
    s.find("github.com/").map(|i| {
        let path: String = s[i..].chars().take_while(|c| !c.is_whitespace()).collect();
        format!("https://{path}")
    })
}

fn explanation(o: &mut String, ex: &Explanation, w: &Words) {
    if let Some(intro) = &ex.intro {
        let _ = writeln!(o, "<p>{}</p>", esc(intro));
    }
    o.push_str("<dl class=\"facts\">");
    for f in &ex.facts {
        let _ = write!(o, "<dt>{}</dt><dd>{}</dd>", esc(&f.label), esc(&f.value));
    }
    o.push_str("</dl>\n");
    for s in &ex.sections {
        let _ = writeln!(o, "<h4>{}</h4>", esc(&s.heading));
        for b in &s.blocks {
            match b {
                Block::Paragraph(p) => {
                    let _ = writeln!(o, "<p>{}</p>", esc(p));
                }
                Block::Item { head, subs } => {
                    let _ = write!(o, "<p>{}</p><ul>", esc(head));
                    for sub in subs {
                        let _ = write!(o, "<li>{}</li>", esc(sub));
                    }
                    o.push_str("</ul>\n");
                }
            }
        }
    }
    let _ = write!(o, "<h4>{}</h4><ul class=\"sources\">", w.sources);
    for s in &ex.sources {
        match source_href(s) {
            Some(href) => {
                let _ = write!(
                    o,
                    "<li><a href=\"{}\" rel=\"noreferrer noopener\" target=\"_blank\">{}</a></li>",
                    esc(&href),
                    esc(s)
                );
            }
            None => {
                let _ = write!(o, "<li>{}</li>", esc(s));
            }
        }
    }
    o.push_str("</ul>\n");
    if let Some(note) = &ex.note {
        let _ = writeln!(o, "<p class=\"note\">{}</p>", esc(note));
    }
}

/// Close codes and HTTP statuses seen, each with its explanation (the `wsmon explain` data).
fn explained(o: &mut String, r: &Report, w: &Words) {
    let _ = writeln!(o, "<section id=\"codes\"><h2>{}</h2>", w.codes);
    for (code, n, name) in &r.closes {
        // The registry's name in the page's language when it knows the code; else the log's.
        let ex = crate::codes::explain::one(Registry::builtin(), *code, r.lang);
        let title = ex
            .as_ref()
            .map_or_else(|_| format!("{code} {name}"), |ex| ex.title.clone());
        let _ = writeln!(
            o,
            "<details class=\"code\" id=\"code-{code}\"><summary>{} \
             <span class=\"count\">× {n}</span></summary>",
            esc(&title)
        );
        match ex {
            Ok(ex) => explanation(o, &ex, w),
            Err(e) => {
                let _ = writeln!(o, "<p>{}</p>", esc(&e.to_string()));
            }
        }
        o.push_str("</details>\n");
    }
    let _ = writeln!(
        o,
        "</section>\n<section id=\"statuses\"><h2>{}</h2>",
        w.statuses
    );
    for (status, n) in &r.statuses {
        let ex = crate::codes::http::explain(*status, r.lang);
        let _ = writeln!(
            o,
            "<details class=\"status\" id=\"status-{status}\"><summary><b>HTTP</b> {} \
             <span class=\"count\">× {n}</span></summary>",
            esc(&ex.title)
        );
        explanation(o, &ex, w);
        o.push_str("</details>\n");
    }
    o.push_str("</section>\n");
}

fn cause_text(c: &Cause) -> String {
    match *c {
        Cause::Close { code } => format!("close {code}"),
        Cause::Status { status } => format!("HTTP {status}"),
        Cause::Error { kind } => format!("{} error", kind.as_str()),
        Cause::Manual => "manual".into(),
        Cause::Shutdown => "shutdown".into(),
        Cause::Connection { reason, h2_error } => {
            crate::protocol::http2::loss_label(reason, h2_error)
        }
    }
}

fn outcome_text(o: &Option<Outcome>) -> String {
    match o {
        None => "-".into(),
        Some(Outcome::Opened) => "open".into(),
        Some(Outcome::Closed { code }) => format!("closed {code}"),
        Some(Outcome::Status { status }) => format!("HTTP {status}"),
        Some(Outcome::Error { kind }) => format!("{} error", kind.as_str()),
    }
}

fn ms(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{:.1} s", v as f64 / 1000.0))
}

fn timeline_row(o: &mut String, rec: &AttemptRecord) {
    let _ = writeln!(
        o,
        "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        rec.attempt,
        if rec.manual { " (manual)" } else { "" },
        rec.cause.as_ref().map_or_else(|| "-".into(), cause_text),
        ms(rec.window_ms),
        ms(rec.delay_ms),
        ms(rec.retry_after_ms),
        utc_time(rec.scheduled_at),
        utc_time(rec.started_at),
        outcome_text(&rec.outcome)
    );
}

fn top_sessions(o: &mut String, r: &Report, w: &Words) {
    let _ = writeln!(o, "<section id=\"sessions\"><h2>{}</h2>", w.top);
    for TopSession {
        label,
        attempts,
        view,
        timeline,
        hidden,
        ..
    } in &r.top
    {
        let (url, state) = view.as_ref().map_or_else(
            || (String::new(), w.removed.to_string()),
            |v| (v.url.to_string(), v.state.as_str().to_string()),
        );
        let _ = writeln!(
            o,
            "<h3 class=\"session\">{} <span class=\"url\">{}</span> · {attempts} {} · {}</h3>",
            esc(label),
            esc(&url),
            w.attempts.to_lowercase(),
            esc(&state)
        );
        if let Some(c) = view.as_ref().and_then(|v| v.last_close.as_ref()) {
            let _ = writeln!(
                o,
                "<p class=\"last-close\">close {} <q class=\"reason\">{}</q></p>",
                c.code,
                esc(&c.reason)
            );
        }
        if *hidden > 0 {
            let _ = writeln!(o, "<p class=\"dim\">{hidden} {}</p>", w.earlier);
        }
        o.push_str("<table class=\"timeline\"><tr>");
        for c in w.cols_timeline {
            let _ = write!(o, "<th>{c}</th>");
        }
        o.push_str("</tr>\n");
        for rec in timeline {
            timeline_row(o, rec);
        }
        o.push_str("</table>\n");
    }
    o.push_str("</section>\n");
}

/// Numbers as JSON without trailing `.0` (integers stay integers), `null` for none.
fn push_num(o: &mut String, v: Option<f64>) {
    match v {
        None => o.push_str("null"),
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => {
            let _ = write!(o, "{}", x as i64);
        }
        Some(x) if x.is_finite() => {
            let s = format!("{x:.4}");
            o.push_str(s.trim_end_matches('0'));
        }
        Some(_) => o.push_str("null"),
    }
}

fn push_arr(o: &mut String, key: &str, values: impl Iterator<Item = Option<f64>>) {
    let _ = write!(o, "\"{key}\":[");
    for (i, v) in values.enumerate() {
        if i > 0 {
            o.push(',');
        }
        push_num(o, v);
    }
    o.push(']');
}

fn push_map<K: std::fmt::Display>(
    o: &mut String,
    key: &str,
    map: &std::collections::BTreeMap<K, Vec<f64>>,
) {
    let _ = write!(o, "\"{key}\":[");
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        let name = serde_json::to_string(&k.to_string()).unwrap_or_else(|_| "\"?\"".into());
        let _ = write!(o, "{{\"key\":{name},");
        push_arr(o, "values", v.iter().map(|x| Some(*x)));
        o.push('}');
    }
    o.push(']');
}

/// The chart data as JSON (not yet script-safe).
pub fn chart_data(r: &Report) -> String {
    let s: &Series = &r.series;
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "{{\"lang\":\"{}\",\"t0\":{},\"step\":{},\"len\":{},",
        r.lang.as_str(),
        s.t0,
        s.step,
        s.len
    );
    let plain = |v: &Vec<f64>| v.iter().map(|x| Some(*x)).collect::<Vec<_>>();
    push_arr(&mut o, "attempts", plain(&s.attempts).into_iter());
    o.push(',');
    push_arr(&mut o, "opens", plain(&s.opens).into_iter());
    o.push(',');
    push_arr(&mut o, "due", plain(&s.retries_due).into_iter());
    for (key, v) in [
        ("open", &s.open),
        ("waiting", &s.waiting),
        ("p50", &s.hs_p50),
        ("p99", &s.hs_p99),
        ("lockstep", &s.lockstep),
        ("chance", &s.chance),
        ("chance_lo", &s.chance_lo),
        ("chance_hi", &s.chance_hi),
    ] {
        o.push(',');
        push_arr(&mut o, key, v.iter().copied());
    }
    o.push(',');
    push_map(&mut o, "closes", &s.closes);
    o.push(',');
    push_map(&mut o, "statuses", &s.statuses);
    o.push(',');
    push_map(&mut o, "errors", &s.errors);
    let names: std::collections::BTreeMap<String, &str> = r
        .closes
        .iter()
        .map(|(c, _, n)| (c.to_string(), n.as_str()))
        .collect();
    let names = serde_json::to_string(&names).unwrap_or_else(|_| "{}".into());
    let _ = write!(o, ",\"names\":{names}}}");
    o
}
