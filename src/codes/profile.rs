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
