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
    let others: usize = widths.iter().enumerate().filter(|(i, _)| *i != 1).map(|(_, w)| w).sum();
    let room = width.saturating_sub(others + 2 * (widths.len() - 1)).max(12);
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
