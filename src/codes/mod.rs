//! Close-code knowledge: the typed registry behind `wsmon explain`, the TUI's close-code pane
//! and the reconnect policy.
//!
//! The knowledge base lives in `assets/close-codes.toml` and is embedded in the binary. It has
//! one entry per registered code (RFC 6455 section 7.4.1 and the IANA "WebSocket Close Code
//! Number Registry") and one per range (RFC 6455 section 7.4.2), every text in English and
//! French. A code inside a range but without its own entry is explained by its range.
//! Applications can name their own private-use codes (4000-4999) in the config's `[codes]`
//! table; those names win over the range entry.

pub mod explain;
pub mod http;
mod wrap;

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

    /// The advice in the reader's language: the identifier in English, French words in
    /// French ("jamais", "délai croissant").
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (_, Lang::En) => self.as_str(),
            (RetryAdvice::Never, Lang::Fr) => "jamais",
            (RetryAdvice::Backoff, Lang::Fr) => "délai croissant",
            (RetryAdvice::RestartDelay, Lang::Fr) => "délai de redémarrage",
            (RetryAdvice::Immediate, Lang::Fr) => "immédiate",
        }
    }

    /// A word or two for table columns.
    pub fn short(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (_, Lang::En) => self.as_str(),
            (RetryAdvice::Never, Lang::Fr) => "jamais",
            (RetryAdvice::Backoff, Lang::Fr) => "croissante",
            (RetryAdvice::RestartDelay, Lang::Fr) => "différée",
            (RetryAdvice::Immediate, Lang::Fr) => "immédiate",
        }
    }

    /// What the advice means, in a few words.
    pub fn summary(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (RetryAdvice::Never, Lang::En) => "do not reconnect until the cause is fixed",
            (RetryAdvice::Never, Lang::Fr) => {
                "ne pas se reconnecter avant d'avoir corrigé la cause"
            }
            (RetryAdvice::Backoff, Lang::En) => "reconnect with exponential backoff and jitter",
            (RetryAdvice::Backoff, Lang::Fr) => {
                "se reconnecter après un délai qui double à chaque tentative, tiré au hasard"
            }
            (RetryAdvice::RestartDelay, Lang::En) => {
                "wait a random restart delay (5-30 s by default), then reconnect"
            }
            (RetryAdvice::RestartDelay, Lang::Fr) => {
                "attendre un délai de redémarrage aléatoire (5 à 30 s par défaut), puis se reconnecter"
            }
            (RetryAdvice::Immediate, Lang::En) => "reconnect at once",
            (RetryAdvice::Immediate, Lang::Fr) => "se reconnecter tout de suite",
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

    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Category::Normal, Lang::En) => "Normal closure",
            (Category::Normal, Lang::Fr) => "Fermeture normale",
            (Category::Lifecycle, Lang::En) => "Shutdown or restart",
            (Category::Lifecycle, Lang::Fr) => "Arrêt ou redémarrage",
            (Category::Protocol, Lang::En) => "Protocol error",
            (Category::Protocol, Lang::Fr) => "Erreur de protocole",
            (Category::Negotiation, Lang::En) => "Failed negotiation",
            (Category::Negotiation, Lang::Fr) => "Négociation échouée",
            (Category::Data, Lang::En) => "Rejected data",
            (Category::Data, Lang::Fr) => "Données refusées",
            (Category::Policy, Lang::En) => "Policy",
            (Category::Policy, Lang::Fr) => "Règles du serveur",
            (Category::ServerError, Lang::En) => "Server error",
            (Category::ServerError, Lang::Fr) => "Erreur serveur",
            (Category::Temporary, Lang::En) => "Temporary condition",
            (Category::Temporary, Lang::Fr) => "Condition temporaire",
            (Category::Local, Lang::En) => "Local status (never sent)",
            (Category::Local, Lang::Fr) => "Statut local (jamais envoyé)",
            (Category::Reserved, Lang::En) => "Reserved",
            (Category::Reserved, Lang::Fr) => "Réservé",
            (Category::Library, Lang::En) => "Library or framework (IANA)",
            (Category::Library, Lang::Fr) => "Bibliothèque ou framework (IANA)",
            (Category::Application, Lang::En) => "Application (private use)",
            (Category::Application, Lang::Fr) => "Application (usage privé)",
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

    /// Full wording, for `explain CODE`.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Sender::Either, Lang::En) => "either endpoint (client or server)",
            (Sender::Either, Lang::Fr) => "l'une ou l'autre extrémité (client ou serveur)",
            (Sender::Client, Lang::En) => "client only",
            (Sender::Client, Lang::Fr) => "le client uniquement",
            (Sender::Server, Lang::En) => "server",
            (Sender::Server, Lang::Fr) => "le serveur",
            (Sender::Gateway, Lang::En) => "a server acting as gateway or proxy",
            (Sender::Gateway, Lang::Fr) => "un serveur agissant comme passerelle ou proxy",
            (Sender::Local, Lang::En) => "nobody: your own WebSocket library reports it",
            (Sender::Local, Lang::Fr) => "personne : votre propre bibliothèque WebSocket l'indique",
            (Sender::Nobody, Lang::En) => "nobody (reserved value)",
            (Sender::Nobody, Lang::Fr) => "personne (valeur réservée)",
        }
    }

    /// A few words, for tables.
    pub fn short(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Sender::Either, Lang::En) => "either",
            (Sender::Either, Lang::Fr) => "les deux",
            (Sender::Client, Lang::En) => "client only",
            (Sender::Client, Lang::Fr) => "client seul",
            (Sender::Server, Lang::En) => "server",
            (Sender::Server, Lang::Fr) => "serveur",
            (Sender::Gateway, Lang::En) => "gateway/proxy",
            (Sender::Gateway, Lang::Fr) => "passerelle",
            (Sender::Local, Lang::En) => "local only",
            (Sender::Local, Lang::Fr) => "local",
            (Sender::Nobody, Lang::En) => "nobody",
            (Sender::Nobody, Lang::Fr) => "personne",
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

    fn load_profile(&mut self, name: &str) -> Result<(), CodesError> {
        let (key, text) = PROFILES
            .iter()
            .find(|(k, _)| *k == name.trim())
            .ok_or_else(|| CodesError::UnknownProfile(escape_control(name)))?;
        let file: RawProfile =
            toml::from_str(text).map_err(|e| CodesError::Profile(key, e.to_string()))?;
        for raw in file.entry {
            let code = raw.code;
            if !(APP_RANGE.0..=APP_RANGE.1).contains(&code) {
                return Err(CodesError::Profile(
                    key,
                    format!("code {code} is not 4000-4999"),
                ));
            }
            if raw.sources.is_empty() {
                return Err(CodesError::Profile(
                    key,
                    format!("code {code} has no source"),
                ));
            }
            let (title, title_fr) = (&file.profile.title, &file.profile.title_fr);
            let texts = |t: RawProfileTexts, lang: Lang| Texts {
                name: t.name,
                description: t.description,
                when: match lang {
                    Lang::En => format!("A {title} server closed the connection with this code."),
                    Lang::Fr => {
                        format!("Un serveur de {title_fr} a fermé la connexion avec ce code.")
                    }
                },
                fix: match lang {
                    Lang::En => format!("Read the {title} documentation for this code."),
                    Lang::Fr => format!("Lisez la documentation de {title_fr} pour ce code."),
                },
                retry_why: t.retry_why,
                send_when: match lang {
                    Lang::En => format!("Defined by {title}: only its servers send it."),
                    Lang::Fr => format!("Défini par {title_fr} : seuls ses serveurs l'envoient."),
                },
            };
            let data = EntryData {
                category: Category::Application,
                sender: Sender::Server,
                on_wire: true,
                retry: raw.retry,
                library_defined: false,
                sources: raw.sources,
                en: texts(raw.en, Lang::En),
                fr: texts(raw.fr, Lang::Fr),
            };
            self.codes.insert(code, data);
        }
        self.profile = Some(key);
        Ok(())
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
            validate_app_code(*code, entry)?;
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

/// Parse an application close code (a `[codes]` key): 4000-4999.
pub fn parse_app_code(input: &str) -> Result<u16, CodesError> {
    let shown = escape_control(input);
    parse_code(input)
        .ok()
        .filter(|c| (APP_RANGE.0..=APP_RANGE.1).contains(c))
        .ok_or_else(|| {
            CodesError::AppCode(format!(
                "\"{shown}\" is not an application close code: application codes are {}-{}",
                APP_RANGE.0, APP_RANGE.1
            ))
        })
}

/// Validate application codes already read from a config (the `[codes]` table as keys and
/// entries): the one check behind `watch` and `explain -c`.
pub fn app_codes_from_table<'a>(
    table: impl IntoIterator<Item = (&'a String, &'a AppCode)>,
) -> Result<BTreeMap<u16, AppCode>, CodesError> {
    let mut out = BTreeMap::new();
    for (key, entry) in table {
        let code = parse_app_code(key)?;
        validate_app_code(code, entry)?;
        out.insert(code, entry.clone());
    }
    Ok(out)
}

fn validate_app_code(code: u16, entry: &AppCode) -> Result<(), CodesError> {
    let (lo, hi) = APP_RANGE;
    if !(lo..=hi).contains(&code) {
        return Err(CodesError::AppCode(format!(
            "code {code} cannot be named: application codes are {lo}-{hi} (private use)"
        )));
    }
    if entry.name.trim().is_empty() {
        return Err(CodesError::AppCode(format!(
            "[codes.{code}] has an empty name"
        )));
    }
    Ok(())
}

/// Read the `[codes]` table of a wsmon config (every other key and table is ignored):
///
/// ```toml
/// [codes.4001]
/// name = "Session expired"
/// description = "The login token expired; log in again."
/// ```
///
/// Keys must be codes in 4000-4999; `name` is required, `description` optional.
pub fn app_codes_from_toml(text: &str) -> Result<BTreeMap<u16, AppCode>, CodesError> {
    let doc: toml::Table = toml::from_str(text).map_err(CodesError::ConfigToml)?;
    let mut out = BTreeMap::new();
    let Some(codes) = doc.get("codes") else {
        return Ok(out);
    };
    let table = codes.as_table().ok_or_else(|| {
        CodesError::AppCode("`codes` must be a table of [codes.4xxx] entries".into())
    })?;
    for (key, value) in table {
        let shown = escape_control(key);
        let code = parse_app_code(key)?;
        let fields = value.as_table().ok_or_else(|| {
            CodesError::AppCode(format!(
                "[codes.{shown}] must be a table with `name` and `description`"
            ))
        })?;
        let mut name = None;
        let mut description = String::new();
        for (field, v) in fields {
            let s = v.as_str().ok_or_else(|| {
                CodesError::AppCode(format!(
                    "[codes.{shown}] {} must be a string",
                    escape_control(field)
                ))
            })?;
            match field.as_str() {
                "name" => name = Some(s.to_string()),
                "description" => description = s.to_string(),
                other => {
                    return Err(CodesError::AppCode(format!(
                        "[codes.{shown}] has an unknown key `{}` (expected name, description)",
                        escape_control(other)
                    )));
                }
            }
        }
        let name =
            name.ok_or_else(|| CodesError::AppCode(format!("[codes.{shown}] is missing `name`")))?;
        let entry = AppCode { name, description };
        validate_app_code(code, &entry)?;
        out.insert(code, entry);
    }
    Ok(out)
}

/// The `profile` key of a wsmon config, if any (the one reader shared by `watch` and
/// `explain -c`).
pub fn profile_from_toml(text: &str) -> Result<Option<String>, CodesError> {
    let doc: toml::Table = toml::from_str(text).map_err(CodesError::ConfigToml)?;
    match doc.get("profile") {
        None => Ok(None),
        Some(v) => {
            let name = v
                .as_str()
                .ok_or_else(|| CodesError::UnknownProfile("(not a string)".into()))?;
            check_profile(name).map(Some)
        }
    }
}

/// A profile name, checked against the shipped profiles.
pub fn check_profile(name: &str) -> Result<String, CodesError> {
    PROFILES
        .iter()
        .find(|(k, _)| *k == name.trim())
        .map(|(k, _)| k.to_string())
        .ok_or_else(|| CodesError::UnknownProfile(escape_control(name)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    profile: RawProfileMeta,
    entry: Vec<RawProfileEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfileMeta {
    #[allow(dead_code)]
    name: String,
    title: String,
    /// The title in French ("la passerelle Discord").
    title_fr: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfileEntry {
    code: u16,
    retry: RetryAdvice,
    sources: Vec<String>,
    en: RawProfileTexts,
    fr: RawProfileTexts,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfileTexts {
    name: String,
    description: String,
    retry_why: String,
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
