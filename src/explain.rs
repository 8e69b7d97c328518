//! `wsmon explain`: one close code, a comparison of two, the whole table, HTTP statuses, or
//! JSON, printed on stdout. The texts come from [`crate::codes`] as typed explanations laid
//! out in lines; this front end paints them (ANSI on a terminal, unless `NO_COLOR`), picks the
//! width from the terminal, and turns bad input into one line on stderr and exit status 2.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::codes::layout::{self, Line, Tone, WIDTH};
use crate::codes::{
    CodesError, Lang, Registry, RetryAdvice, app_codes_from_toml, explain, http, json, parse_code,
};

const BOLD: &str = "\x1b[1m";
const TITLE: &str = "\x1b[1;36m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const GREEN: &str = "\x1b[32m";
const RESET: &str = "\x1b[0m";

fn retry_style(r: RetryAdvice) -> &'static str {
    match r {
        RetryAdvice::Never => RED,
        RetryAdvice::Backoff | RetryAdvice::RestartDelay => YELLOW,
        RetryAdvice::Immediate => GREEN,
    }
}

/// Lines as text, one per line, with ANSI styles when `color`.
fn paint(lines: &[Line], color: bool) -> String {
    let mut s = String::new();
    for line in lines {
        for (tone, text) in &line.spans {
            let style = match tone {
                Tone::Plain => None,
                Tone::Title => Some(TITLE),
                Tone::Heading => Some(BOLD),
                Tone::Retry(r) => Some(retry_style(*r)),
            };
            match style {
                Some(style) if color && !text.is_empty() => {
                    s.push_str(style);
                    s.push_str(text);
                    s.push_str(RESET);
                }
                _ => s.push_str(text),
            }
        }
        s.push('\n');
    }
    s
}

/// One code, as `wsmon explain CODE` prints it.
pub fn render_one(reg: &Registry, code: u16, lang: Lang, color: bool, width: usize) -> String {
    match explain::one(reg, code, lang) {
        Ok(ex) => paint(&layout::lines(&ex, width), color),
        Err(e) => format!("{e}\n"),
    }
}

/// Two codes compared, as `wsmon explain A B` prints it.
pub fn render_compare(
    reg: &Registry,
    a: u16,
    b: u16,
    lang: Lang,
    color: bool,
    width: usize,
) -> String {
    match explain::compare(reg, a, b, lang) {
        Ok(ex) => paint(&layout::lines(&ex, width), color),
        Err(e) => format!("{e}\n"),
    }
}

/// Every range and code as a table (`--all`).
pub fn render_all(reg: &Registry, lang: Lang, color: bool, width: usize) -> String {
    paint(&layout::listing(&explain::listing(reg, lang), width), color)
}

/// One HTTP status (`--http`).
pub fn render_status(status: u16, lang: Lang, color: bool, width: usize) -> String {
    paint(&layout::lines(&http::explain(status, lang), width), color)
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
            profile = crate::codes::profile_from_toml(&text)
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
            .map(|s| http::parse_status(s))
            .collect::<Result<Vec<u16>, _>>()?;
        if req.json {
            let list: Vec<http::JsonStatus> = statuses
                .iter()
                .map(|s| http::JsonStatus::new(*s, lang))
                .collect();
            let mut s = serde_json::to_string_pretty(&list)
                .map_err(|e| Usage(format!("cannot encode JSON: {e}")))?;
            s.push('\n');
            return Ok(s);
        }
        return Ok(statuses
            .iter()
            .map(|s| render_status(*s, lang, color, width))
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
        let mut entries: Vec<json::JsonEntry> = if req.all {
            reg.entries()
                .map(|e| json::JsonEntry::new(&e, lang))
                .collect()
        } else {
            codes
                .iter()
                .filter_map(|c| reg.lookup(*c))
                .map(|e| json::JsonEntry::new(&e, lang))
                .collect()
        };
        if !req.all {
            json::mark_differences(&mut entries);
        }
        let mut s = serde_json::to_string_pretty(&entries)
            .map_err(|e| Usage(format!("cannot encode JSON: {e}")))?;
        s.push('\n');
        return Ok(s);
    }
    if req.all {
        return Ok(render_all(&reg, lang, color, width));
    }
    Ok(match codes.as_slice() {
        [one] => render_one(&reg, *one, lang, color, width),
        [a, b] if a == b => render_one(&reg, *a, lang, color, width),
        [a, b] => render_compare(&reg, *a, *b, lang, color, width),
        many => many
            .iter()
            .map(|c| render_one(&reg, *c, lang, color, width))
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
                line.chars().count() <= WIDTH,
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
                check_lines(&render_one(&reg, a, lang, false, WIDTH), &format!("{a}"));
                for &b in &codes {
                    check_lines(
                        &render_compare(&reg, a, b, lang, false, WIDTH),
                        &format!("{a} vs {b}"),
                    );
                }
            }
        }
    }

    #[test]
    fn one_code_has_all_sections_in_order() {
        let reg = Registry::builtin();
        let text = render_one(reg, 1013, Lang::En, false, WIDTH);
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
        let one = render_one(reg, 1013, Lang::Fr, false, WIDTH);
        for h in [
            "Description",
            "Quand vous le voyez",
            "Comment résoudre",
            "Réessayer plus tard",
        ] {
            assert!(one.contains(h), "{h} missing:\n{one}");
        }
        assert!(!one.contains("When you see it"));
        let cmp = render_compare(reg, 1010, 1013, Lang::Fr, false, WIDTH);
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
        let cmp = render_compare(reg, 1010, 1013, Lang::En, false, WIDTH);
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
        let cmp = render_compare(reg, 1006, 1000, Lang::En, false, WIDTH);
        assert!(cmp.contains("1006 never appears in a close frame"), "{cmp}");
        // Same sender and same advice are said to be the same.
        let cmp = render_compare(reg, 1011, 1014, Lang::En, false, WIDTH);
        assert!(cmp.contains("no difference; both: backoff"), "{cmp}");
    }

    #[test]
    fn color_only_when_asked() {
        let reg = Registry::builtin();
        assert!(render_one(reg, 1013, Lang::En, true, WIDTH).contains("\x1b[1m"));
        assert!(render_compare(reg, 1010, 1013, Lang::En, true, WIDTH).contains("\x1b[31m"));
        assert!(render_all(reg, Lang::En, true, 80).contains("\x1b["));
        assert!(!render_all(reg, Lang::En, false, 80).contains('\x1b'));
    }

    #[test]
    fn app_code_shows_its_name_with_range_context() {
        let reg = app_registry();
        let text = render_one(&reg, 4001, Lang::En, false, WIDTH);
        assert!(text.starts_with("4001 Session expired after"), "{text}");
        assert!(
            text.contains("The login token expired; log in again."),
            "{text}"
        );
        assert!(text.contains("Range 4000-4999 (Private use):"), "{text}");
    }

    #[test]
    fn first_sentence_stops_at_a_full_stop() {
        assert_eq!(explain::first_sentence("One two. Three."), "One two.");
        assert_eq!(explain::first_sentence("Use 1.5 s. Then"), "Use 1.5 s.");
        assert_eq!(explain::first_sentence("No stop"), "No stop");
        assert_eq!(explain::first_sentence("Dit « x ». Puis"), "Dit « x ».");
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
            let text = render_all(&reg, lang, false, 80);
            for line in text.lines() {
                assert!(line.chars().count() <= 80, "{lang:?}: {line:?}");
            }
            let req = ExplainRequest {
                all: true,
                lang: Some(lang),
                ..Default::default()
            };
            for width in [80, 120] {
                let text = build_output(&req, false, width).expect("all");
                assert!(text.lines().all(|l| l.chars().count() <= width));
            }
            let wide = render_one(&reg, 1013, lang, false, 120);
            assert!(wide.lines().any(|l| l.chars().count() > 80), "{wide}");
            assert!(wide.lines().all(|l| l.chars().count() <= 120));
        }
        assert!(!render_all(&reg, Lang::Fr, false, 80).contains("backoff"));
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
            "dans la réponse au handshake",
            "permessage-deflate",
            "Sec-WebSocket-Extensions",
            "Activez l'extension sur le serveur",
            "facultative côté client",
            "surchargé",
            "Contrairement à 1012, il ne s'agit pas d'un redémarrage",
            "fenêtres de 1 s, 2 s, 4 s",
            "ajoutez des instances",
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
        assert!(text.lines().all(|l| l.chars().count() <= 80));
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
        let cmp = render_compare(Registry::builtin(), 1010, 1013, Lang::En, false, WIDTH);
        assert!(!cmp.contains("\"Protocol error\""), "{cmp}");
    }

    #[test]
    fn http_statuses_explain_what_the_policy_does() {
        for status in http::known() {
            for lang in [Lang::En, Lang::Fr] {
                let text = render_status(status, lang, false, 80);
                assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
                // 101 is the success answer: no retry advice to give.
                let advice = http::retry_advice(status);
                assert_eq!(
                    text.contains(advice.label(lang)),
                    status != 101,
                    "{status}: {text}"
                );
            }
        }
        assert_eq!(http::retry_advice(503), RetryAdvice::Backoff);
        assert_eq!(http::retry_advice(401), RetryAdvice::Never);
    }
}
