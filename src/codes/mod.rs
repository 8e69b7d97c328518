//! Close-code knowledge: the typed registry behind `wsmon explain`, the TUI's close-code pane
//! and the reconnect policy.
//!
//! The knowledge base lives in `assets/close-codes.toml` and is embedded in the binary. It has
//! one entry per registered code (RFC 6455 section 7.4.1 and the IANA "WebSocket Close Code
//! Number Registry") and one per range (RFC 6455 section 7.4.2), every text in English and
//! French. A code inside a range but without its own entry is explained by its range.
//! Applications can name their own private-use codes (4000-4999) in the config's `[codes]`
//! table; those names win over the range entry.
//!
//! ```text
//! mod.rs     the registry: codes and ranges from the asset, lookups, the wire rule, parsers
//! words      fixed words per language: headings, labels, category/sender/advice names
//! explain    typed explanations (one code, two compared, a range, the --all listing)
//! http       HTTP statuses as answers to an upgrade, and their explanations
//! layout     explanations laid out in toned lines at a width (no colours, no terminal)
//! json       explanations as JSON records for scripts
//! profile    well-known protocols' codes (assets/profiles/)
//! app        a config's [codes] table and profile key
//! wrap       word wrapping
//! ```
//!
//! Nothing here prints or knows the terminal: the `explain` command and the TUI paint the
//! laid-out lines.

mod app;
pub mod explain;
pub mod http;
pub mod json;
pub mod layout;
mod profile;
mod words;
mod wrap;

pub use app::{
    app_codes_from_table, app_codes_from_toml, check_profile, parse_app_code, profile_from_toml,
};

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::redact::escape_control;

/// The embedded knowledge base.
pub const ASSET: &str = include_str!("../../assets/close-codes.toml");

/// The largest close code a peer can meaningfully send (RFC 6455 section 7.4.2).
pub const MAX_CODE: u16 = 4999;

/// The largest value a close frame's two-byte code can hold; 5000 and above are invalid on the
/// wire, but a peer can still send them and wsmon records them.
pub const MAX_WIRE: u16 = u16::MAX;

/// First and last code applications may name in their config (private use).
pub const APP_RANGE: (u16, u16) = (4000, 4999);

/// Language of explanations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    /// The language of the user's locale: the first non-empty of `LC_ALL`, `LC_MESSAGES`,
    /// `LANG` (POSIX precedence); `fr` or `fr_*` gives French, anything else English.
    pub fn from_env() -> Lang {
        let var = |name: &str| std::env::var(name).ok();
        Lang::from_locale(
            var("LC_ALL").as_deref(),
            var("LC_MESSAGES").as_deref(),
            var("LANG").as_deref(),
        )
    }

    /// [`Lang::from_env`] without the environment, for tests.
    pub fn from_locale(
        lc_all: Option<&str>,
        lc_messages: Option<&str>,
        lang: Option<&str>,
    ) -> Lang {
        let chosen = [lc_all, lc_messages, lang]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|v| !v.is_empty());
        match chosen {
            Some(v) => {
                let lower = v.to_ascii_lowercase();
                let base = lower.split(['_', '.', '@', '-']).next().unwrap_or("");
                if base == "fr" { Lang::Fr } else { Lang::En }
            }
            None => Lang::En,
        }
    }

    /// The chosen language if given (`--lang`, config), else the locale.
    pub fn resolve(chosen: Option<Lang>) -> Lang {
        chosen.unwrap_or_else(Lang::from_env)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }
}

/// What a client should do after a close with this code. The reconnect policy reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryAdvice {
    /// Do not reconnect: a retry sends the same thing and gets the same answer.
    Never,
    /// Reconnect with exponential backoff and jitter.
    Backoff,
    /// The peer is restarting or going away: wait a random restart delay (5-30 s), then reconnect.
    RestartDelay,
    /// Reconnect at once.
    Immediate,
}

impl RetryAdvice {
    pub const ALL: [RetryAdvice; 4] = [
        RetryAdvice::Never,
        RetryAdvice::Backoff,
        RetryAdvice::RestartDelay,
        RetryAdvice::Immediate,
    ];

    /// Stable identifier, as in the knowledge base and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            RetryAdvice::Never => "never",
            RetryAdvice::Backoff => "backoff",
            RetryAdvice::RestartDelay => "restart_delay",
            RetryAdvice::Immediate => "immediate",
        }
    }
}

impl std::fmt::Display for RetryAdvice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of closure a code describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The purpose of the connection was fulfilled.
    Normal,
    /// An endpoint is shutting down, restarting or leaving.
    Lifecycle,
    /// The peer broke the WebSocket protocol.
    Protocol,
    /// The handshake did not agree on something an endpoint requires (1010).
    Negotiation,
    /// A message was refused for its type, content or size.
    Data,
    /// A message or the connection broke the endpoint's rules.
    Policy,
    /// Something failed inside the server or behind it.
    ServerError,
    /// A temporary condition: overload, throttling.
    Temporary,
    /// A status the local library reports; never sent in a close frame.
    Local,
    /// Reserved or unassigned by the protocol.
    Reserved,
    /// Registered at IANA by a library or framework (3000-3999).
    Library,
    /// Private use by applications (4000-4999).
    Application,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Normal => "normal",
            Category::Lifecycle => "lifecycle",
            Category::Protocol => "protocol",
            Category::Negotiation => "negotiation",
            Category::Data => "data",
            Category::Policy => "policy",
            Category::ServerError => "server_error",
            Category::Temporary => "temporary",
            Category::Local => "local",
            Category::Reserved => "reserved",
            Category::Library => "library",
            Category::Application => "application",
        }
    }
}

/// Who may put a code in a close frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    /// Client or server.
    Either,
    /// Only a client (1010: a server fails the handshake instead).
    Client,
    /// Only a server.
    Server,
    /// A server acting as a gateway or proxy.
    Gateway,
    /// Nobody: the local library reports it when no code was received.
    Local,
    /// Nobody: the value is reserved or unassigned.
    Nobody,
}

impl Sender {
    pub fn as_str(self) -> &'static str {
        match self {
            Sender::Either => "either",
            Sender::Client => "client",
            Sender::Server => "server",
            Sender::Gateway => "gateway",
            Sender::Local => "local",
            Sender::Nobody => "nobody",
        }
    }
}

/// The texts of one entry in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    /// Short name ("Try Again Later").
    pub name: String,
    /// One-line meaning.
    pub description: String,
    /// When you see it: the circumstances that produce it.
    pub when: String,
    /// How to fix it.
    pub fix: String,
    /// Why the retry advice is what it is.
    pub retry_why: String,
    /// When an endpoint should send it (for "When to use which").
    pub send_when: String,
}

impl Texts {
    fn fields(&self) -> [(&'static str, &str); 6] {
        [
            ("name", &self.name),
            ("description", &self.description),
            ("when", &self.when),
            ("fix", &self.fix),
            ("retry_why", &self.retry_why),
            ("send_when", &self.send_when),
        ]
    }
}

/// One entry of the knowledge base (a code or a range), both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryData {
    pub category: Category,
    pub sender: Sender,
    /// Whether the code may appear in a close frame on the wire.
    pub on_wire: bool,
    pub retry: RetryAdvice,
    /// Widely used, but defined by libraries and frameworks rather than RFC 6455.
    pub library_defined: bool,
    /// What each claim rests on: RFC sections, registry entries, hybi messages, libraries.
    pub sources: Vec<String>,
    pub en: Texts,
    pub fr: Texts,
}

impl EntryData {
    pub fn texts(&self, lang: Lang) -> &Texts {
        match lang {
            Lang::En => &self.en,
            Lang::Fr => &self.fr,
        }
    }
}

/// An application's name for one of its private-use codes (config `[codes.4001]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct AppCode {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
pub enum CodesError {
    #[error("invalid close code \"{input}\": a close code is a whole number in the range 0-{max}", input = escape_control(.0), max = MAX_WIRE)]
    InvalidCode(String),
    #[error("close-code knowledge base is not valid TOML: {0}")]
    AssetToml(#[source] toml::de::Error),
    #[error("close-code knowledge base: {0}")]
    Asset(String),
    #[error("config is not valid TOML: {0}")]
    ConfigToml(#[source] toml::de::Error),
    #[error("config [codes]: {0}")]
    AppCode(String),
    #[error("invalid HTTP status \"{0}\": a status is a number in the range 100-599")]
    InvalidStatus(String),
    #[error("unknown profile \"{0}\" (known: discord, graphql-ws)")]
    UnknownProfile(String),
    #[error("profile {0}: {1}")]
    Profile(&'static str, String),
}

/// One code or range as the registry knows it; `'a` borrows the registry.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The code this entry speaks of: a registered code, an application code, or the code
    /// that was looked up inside a range. `None` for a range listed by [`Registry::entries`].
    pub code: Option<u16>,
    /// The range whose texts are used, when the code has no entry of its own.
    pub range: Option<(u16, u16)>,
    /// The knowledge-base texts (the range's texts for codes inside a range).
    pub data: &'a EntryData,
    /// The application's name and description, for a code named in the config.
    pub app: Option<&'a AppCode>,
}

impl<'a> Entry<'a> {
    /// Display name: the registered name, the application's name, or the range's name with
    /// the range ("Private use (4000-4999)"). Control characters are escaped.
    pub fn name(&self, lang: Lang) -> String {
        if let Some(app) = self.app {
            return escape_control(app.name.trim());
        }
        let base = &self.data.texts(lang).name;
        match self.range {
            Some((lo, hi)) => format!("{base} ({lo}-{hi})"),
            None => base.clone(),
        }
    }

    /// The knowledge-base name alone (no range, no application name).
    pub fn kb_name(&self, lang: Lang) -> &'a str {
        &self.data.texts(lang).name
    }

    pub fn texts(&self, lang: Lang) -> &'a Texts {
        self.data.texts(lang)
    }

    pub fn category(&self) -> Category {
        if self.app.is_some() {
            Category::Application
        } else {
            self.data.category
        }
    }

    pub fn sender(&self) -> Sender {
        self.data.sender
    }

    pub fn on_wire(&self) -> bool {
        self.data.on_wire
    }

    /// The application's description if it gave one, else the knowledge base's.
    pub fn description(&self, lang: Lang) -> String {
        match self.app {
            Some(app) if !app.description.trim().is_empty() => {
                escape_control(app.description.trim())
            }
            _ => self.data.texts(lang).description.clone(),
        }
    }

    pub fn when(&self, lang: Lang) -> &'a str {
        &self.data.texts(lang).when
    }

    pub fn fix(&self, lang: Lang) -> &'a str {
        &self.data.texts(lang).fix
    }

    pub fn retry_why(&self, lang: Lang) -> &'a str {
        &self.data.texts(lang).retry_why
    }

    pub fn send_when(&self, lang: Lang) -> &'a str {
        &self.data.texts(lang).send_when
    }

    pub fn retry_advice(&self) -> RetryAdvice {
        self.data.retry
    }

    pub fn library_defined(&self) -> bool {
        self.data.library_defined
    }

    pub fn app_defined(&self) -> bool {
        self.app.is_some()
    }

    /// "1013", "4001", or "1016-2999" for a listed range.
    pub fn code_label(&self) -> String {
        match (self.code, self.range) {
            (Some(c), _) => c.to_string(),
            (None, Some((lo, hi))) => format!("{lo}-{hi}"),
            (None, None) => String::new(),
        }
    }
}

/// The close-code registry: knowledge-base codes and ranges, plus application codes.
#[derive(Debug, Clone)]
pub struct Registry {
    codes: BTreeMap<u16, EntryData>,
    /// Sorted, non-overlapping.
    ranges: Vec<((u16, u16), EntryData)>,
    app: BTreeMap<u16, AppCode>,
    /// The profile whose codes were loaded, if any.
    profile: Option<&'static str>,
}

/// Well-known protocols whose close codes ship with wsmon (`--profile NAME`).
pub const PROFILES: [(&str, &str); 2] = [
    (
        "discord",
        include_str!("../../assets/profiles/discord.toml"),
    ),
    (
        "graphql-ws",
        include_str!("../../assets/profiles/graphql-ws.toml"),
    ),
];

impl Registry {
    /// The built-in registry, plus a profile's codes and the application's names. A config's
    /// `[codes]` names win over the profile's for the same code.
    pub fn build(
        profile: Option<&str>,
        app: &BTreeMap<u16, AppCode>,
    ) -> Result<Registry, CodesError> {
        let mut reg = Registry::with_app_codes(app)?;
        if let Some(name) = profile {
            reg.load_profile(name)?;
        }
        Ok(reg)
    }

    /// The profile loaded into this registry.
    pub fn profile(&self) -> Option<&'static str> {
        self.profile
    }

    /// The embedded knowledge base, parsed once.
    pub fn builtin() -> &'static Registry {
        static BUILTIN: OnceLock<Registry> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            Registry::from_toml(ASSET)
                .expect("the embedded assets/close-codes.toml is valid (checked by unit tests)")
        })
    }

    /// The built-in registry plus application names for 4000-4999 codes.
    pub fn with_app_codes(app: &BTreeMap<u16, AppCode>) -> Result<Registry, CodesError> {
        for (code, entry) in app {
            app::validate_app_code(*code, entry)?;
        }
        let mut reg = Registry::builtin().clone();
        reg.app = app.clone();
        Ok(reg)
    }

    /// Parse and validate a knowledge base: every code 0-65535 must be covered by exactly one
    /// code entry or by a range, every text must be filled in both languages.
    pub fn from_toml(text: &str) -> Result<Registry, CodesError> {
        let file: RawFile = toml::from_str(text).map_err(CodesError::AssetToml)?;
        let mut codes = BTreeMap::new();
        let mut ranges = Vec::new();
        for raw in file.entry {
            let what = match (raw.code, raw.range) {
                (Some(c), None) => format!("code {c}"),
                (None, Some([lo, hi])) => format!("range {lo}-{hi}"),
                _ => {
                    return Err(CodesError::Asset(
                        "each entry needs exactly one of `code` or `range`".into(),
                    ));
                }
            };
            for (lang, texts) in [("en", &raw.en), ("fr", &raw.fr)] {
                for (field, value) in texts.fields() {
                    if value.trim().is_empty() {
                        return Err(CodesError::Asset(format!(
                            "{what}: {lang}.{field} is empty"
                        )));
                    }
                    if value.chars().any(char::is_control) {
                        return Err(CodesError::Asset(format!(
                            "{what}: {lang}.{field} contains a control character"
                        )));
                    }
                }
            }
            if raw.sources.is_empty() || raw.sources.iter().any(|s| s.trim().is_empty()) {
                return Err(CodesError::Asset(format!("{what}: sources are missing")));
            }
            let data = EntryData {
                category: raw.category,
                sender: raw.sender,
                on_wire: raw.on_wire,
                retry: raw.retry,
                library_defined: raw.library_defined,
                sources: raw.sources,
                en: raw.en,
                fr: raw.fr,
            };
            match (raw.code, raw.range) {
                (Some(c), None) => match codes.entry(c) {
                    std::collections::btree_map::Entry::Occupied(_) => {
                        return Err(CodesError::Asset(format!("{what}: listed twice")));
                    }
                    std::collections::btree_map::Entry::Vacant(slot) => {
                        slot.insert(data);
                    }
                },
                (None, Some([lo, hi])) => {
                    if lo > hi {
                        return Err(CodesError::Asset(format!("{what}: bad bounds")));
                    }
                    ranges.push(((lo, hi), data));
                }
                _ => {}
            }
        }
        ranges.sort_by_key(|((lo, _), _)| *lo);
        for pair in ranges.windows(2) {
            if pair[0].0.1 >= pair[1].0.0 {
                return Err(CodesError::Asset(format!(
                    "ranges {}-{} and {}-{} overlap",
                    pair[0].0.0, pair[0].0.1, pair[1].0.0, pair[1].0.1
                )));
            }
        }
        let reg = Registry {
            codes,
            ranges,
            app: BTreeMap::new(),
            profile: None,
        };
        if let Some(gap) = (0..=MAX_WIRE).find(|c| reg.lookup(*c).is_none()) {
            return Err(CodesError::Asset(format!(
                "code {gap} is neither listed nor inside a range"
            )));
        }
        Ok(reg)
    }

    /// A registered code, an application code, or the range around `code`. `None` only for a
    /// registry that does not cover every value (the embedded one does).
    pub fn lookup(&self, code: u16) -> Option<Entry<'_>> {
        let range = self.range_of(code);
        if let Some(app) = self.app.get(&code)
            && let Some((bounds, data)) = range
        {
            return Some(Entry {
                code: Some(code),
                range: Some(bounds),
                data,
                app: Some(app),
            });
        }
        if let Some(data) = self.codes.get(&code) {
            return Some(Entry {
                code: Some(code),
                range: None,
                data,
                app: None,
            });
        }
        range.map(|(bounds, data)| Entry {
            code: Some(code),
            range: Some(bounds),
            data,
            app: None,
        })
    }

    fn range_of(&self, code: u16) -> Option<((u16, u16), &EntryData)> {
        self.ranges
            .iter()
            .find(|((lo, hi), _)| (*lo..=*hi).contains(&code))
            .map(|(bounds, data)| (*bounds, data))
    }

    /// Short English name: "Try Again Later", "Private use (4000-4999)", an app's name.
    pub fn name(&self, code: u16) -> String {
        self.name_in(code, Lang::En)
    }

    /// [`Registry::name`] in a language.
    pub fn name_in(&self, code: u16, lang: Lang) -> String {
        match self.lookup(code) {
            Some(entry) => entry.name(lang),
            None => match lang {
                Lang::En => format!("Invalid close code (above {MAX_CODE})"),
                Lang::Fr => format!("Code de fermeture invalide (au-delà de {MAX_CODE})"),
            },
        }
    }

    /// The retry advice of the code or its range (the knowledge base covers 0-65535; a code it
    /// does not cover gets `Backoff`, which is harmless).
    pub fn retry_advice(&self, code: u16) -> RetryAdvice {
        self.lookup(code)
            .map(|e| e.retry_advice())
            .unwrap_or(RetryAdvice::Backoff)
    }

    /// Every range, registered code and application code, in numeric order (a range comes
    /// before the codes inside it).
    pub fn entries(&self) -> impl Iterator<Item = Entry<'_>> {
        let mut all: Vec<(u16, u8, Entry<'_>)> = Vec::new();
        for ((lo, hi), data) in &self.ranges {
            all.push((
                *lo,
                0,
                Entry {
                    code: None,
                    range: Some((*lo, *hi)),
                    data,
                    app: None,
                },
            ));
        }
        for (code, data) in &self.codes {
            if !self.app.contains_key(code) {
                all.push((
                    *code,
                    1,
                    Entry {
                        code: Some(*code),
                        range: None,
                        data,
                        app: None,
                    },
                ));
            }
        }
        for code in self.app.keys() {
            if let Some(entry) = self.lookup(*code) {
                all.push((*code, 1, entry));
            }
        }
        all.sort_by_key(|(start, order, _)| (*start, *order));
        all.into_iter().map(|(_, _, e)| e)
    }

    /// The application codes this registry was built with.
    pub fn app_codes(&self) -> &BTreeMap<u16, AppCode> {
        &self.app
    }
}

/// Whether `code` may appear in a close frame (RFC 6455 section 7.4, IANA registry): 1000-1003,
/// 1007-1014, 3000-4999. 1004 is reserved; 1005, 1006 and 1015 are local only; 0-999 and
/// 1016-2999 are not in use; codes end at 4999. The one owner of this rule: the close tracker
/// (what a peer may send) and the TUI's close prompt (what wsmon may send) both use it.
pub fn valid_on_wire(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Parse a close code typed by a user or read from a config: digits only, 0-65535 (what a
/// close frame can carry; codes above 4999 are invalid on the wire but can still be explained).
/// The one parser of close codes: `explain`, the TUI prompt and the config use it.
pub fn parse_code(input: &str) -> Result<u16, CodesError> {
    let t = input.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodesError::InvalidCode(input.to_string()));
    }
    t.parse::<u16>()
        .map_err(|_| CodesError::InvalidCode(input.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    entry: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    code: Option<u16>,
    range: Option<[u16; 2]>,
    category: Category,
    sender: Sender,
    on_wire: bool,
    retry: RetryAdvice,
    #[serde(default)]
    library_defined: bool,
    sources: Vec<String>,
    en: Texts,
    fr: Texts,
}

#[cfg(test)]
mod tests;
