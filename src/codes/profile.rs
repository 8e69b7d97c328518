//! Well-known protocols' close codes (`--profile NAME`), loaded from `assets/profiles/`.

use serde::Deserialize;

use super::{
    APP_RANGE, Category, CodesError, EntryData, Lang, PROFILES, Registry, RetryAdvice, Sender,
    Texts,
};
use crate::redact::escape_control;

impl Registry {
    pub(super) fn load_profile(&mut self, name: &str) -> Result<(), CodesError> {
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
            let sender = raw.sender.unwrap_or(Sender::Server);
            if !matches!(sender, Sender::Server | Sender::Client | Sender::Either) {
                return Err(CodesError::Profile(
                    key,
                    format!("code {code}: sender must be server, client or either"),
                ));
            }
            let (title, title_fr) = (&file.profile.title, &file.profile.title_fr);
            let send_when = |lang: Lang| match (sender, lang) {
                (Sender::Client, Lang::En) => format!("Defined by {title}: its clients send it."),
                (Sender::Client, Lang::Fr) => {
                    format!("Défini par {title_fr} : ce sont ses clients qui l'envoient.")
                }
                (Sender::Either, Lang::En) => {
                    format!("Defined by {title}: its clients and servers send it.")
                }
                (Sender::Either, Lang::Fr) => {
                    format!("Défini par {title_fr} : ses clients comme ses serveurs l'envoient.")
                }
                (_, Lang::En) => format!("Defined by {title}: its servers send it."),
                (_, Lang::Fr) => {
                    format!("Défini par {title_fr} : ce sont ses serveurs qui l'envoient.")
                }
            };
            let texts = |t: RawProfileTexts, lang: Lang| Texts {
                name: t.name,
                description: t.description,
                when: t.when,
                fix: t.fix,
                retry_why: t.retry_why,
                send_when: send_when(lang),
            };
            let data = EntryData {
                category: Category::Application,
                sender,
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
    /// Who closes with it: server (the default), client or either.
    sender: Option<Sender>,
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
    when: String,
    fix: String,
    retry_why: String,
}
