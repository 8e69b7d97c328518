//! The fixed words of explanations, per language: headings, labels, the names of categories,
//! senders and retry advice, and the phrases the comparison builds its sentences from. The
//! texts of each code live in `assets/close-codes.toml`; these are the words around them.

use super::{Category, Entry, Lang, RetryAdvice, Sender};

impl RetryAdvice {
    /// The advice in the reader's language, in words ("restart delay", "délai croissant");
    /// [`RetryAdvice::as_str`] is the identifier scripts read.
    pub fn label(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (RetryAdvice::RestartDelay, Lang::En) => "restart delay",
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
            (RetryAdvice::RestartDelay, Lang::En) => "restart delay",
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

impl Category {
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
            (Category::Temporary, Lang::Fr) => "Indisponibilité passagère",
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

impl Sender {
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
            (Sender::Local, Lang::En) => {
                "no side sends this number: your WebSocket library reports it"
            }
            (Sender::Local, Lang::Fr) => {
                "aucun côté n'envoie ce numéro : votre bibliothèque WebSocket l'indique"
            }
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
            (Sender::Client, Lang::Fr) => "client uniquement",
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

/// Fixed words of the output, per language.
pub struct Words {
    pub category: &'static str,
    pub sent_by: &'static str,
    pub on_wire: &'static str,
    pub retry: &'static str,
    pub defined_in: &'static str,
    pub note: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub when: &'static str,
    pub fix: &'static str,
    pub retry_heading: &'static str,
    pub key_differences: &'static str,
    pub which: &'static str,
    pub vs: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub library_note: &'static str,
    pub app_source: &'static str,
    pub in_range: &'static str,
    pub range_context: &'static str,
    pub code_col: &'static str,
    pub wire_col: &'static str,
    pub sender_diff: &'static str,
    pub when_diff: &'static str,
    pub retry_diff: &'static str,
    pub wire_diff: &'static str,
    pub category_diff: &'static str,
    pub no_difference: &'static str,
    pub each: &'static str,
    pub both: &'static str,
    pub both_wire: &'static str,
    pub footnote_library: &'static str,
    pub footnote_app: &'static str,
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

pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::Fr => &FR,
    }
}

/// "may appear in a close frame", "never appears in a close frame: ..." and the like.
pub fn wire_value(entry: &Entry<'_>, lang: Lang) -> &'static str {
    match (entry.on_wire(), entry.sender(), lang) {
        (true, _, Lang::En) => "yes",
        (true, _, Lang::Fr) => "oui",
        (false, Sender::Local, Lang::En) => "never: reported locally, not sent in a close frame",
        (false, Sender::Local, Lang::Fr) => {
            "jamais : indiqué localement, jamais envoyé dans une trame de fermeture"
        }
        (false, _, Lang::En) => "no: reserved or undefined; receivers treat it as invalid",
        (false, _, Lang::Fr) => {
            "non : réservé ou non défini ; les récepteurs le traitent comme invalide"
        }
    }
}

pub fn wire_phrase(entry: &Entry<'_>, lang: Lang) -> &'static str {
    match (entry.on_wire(), entry.sender(), lang) {
        (true, _, Lang::En) => "may appear in a close frame",
        (true, _, Lang::Fr) => "peut figurer dans une trame de fermeture",
        (false, Sender::Local, Lang::En) => {
            "never appears in a close frame: it is reported locally"
        }
        (false, Sender::Local, Lang::Fr) => {
            "ne figure jamais dans une trame de fermeture : il est indiqué localement"
        }
        (false, _, Lang::En) => {
            "is reserved or undefined: receivers treat it as invalid in a close frame"
        }
        (false, _, Lang::Fr) => {
            "est réservé ou non défini : les récepteurs le traitent comme invalide dans une trame de fermeture"
        }
    }
}

pub fn sender_phrase(sender: Sender, lang: Lang) -> &'static str {
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
        (Sender::Nobody, Lang::En) => "has no defined sender (a reserved value)",
        (Sender::Nobody, Lang::Fr) => "n'a pas d'émetteur défini (valeur réservée)",
    }
}

/// Citations are written in English in the knowledge base; French output translates their
/// common words and keeps titles and identifiers.
pub fn localise_source(s: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return s.to_string();
    }
    const FR_WORDS: &[(&str, &str)] = &[
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
            "RFC 6455 errata ID 3227 (reported, not verified: \"an endpoint\")",
            "errata 3227 de la RFC 6455 (signalé, non vérifié : « an endpoint »)",
        ),
        ("(\"a server\")", "(« a server »)"),
        (
            "(SaltyRTC close codes:",
            "(codes de fermeture de SaltyRTC :",
        ),
        (
            "ws (Node) and python-websockets sources (1006 reported; 1015 defined, never reported)",
            "code source de ws (Node) et de python-websockets (1006 indiqué ; 1015 défini, \
             jamais indiqué)",
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
    for (en, fr) in FR_WORDS.iter().copied() {
        out = out.replace(en, fr);
    }
    out
}

/// ":" in English, " :" in French (French typography spaces it).
pub fn colon(lang: Lang) -> &'static str {
    match lang {
        Lang::En => ":",
        Lang::Fr => " :",
    }
}

/// ";" in English, " ;" in French.
pub fn semicolon(lang: Lang) -> &'static str {
    match lang {
        Lang::En => ";",
        Lang::Fr => " ;",
    }
}

pub fn category_phrase(c: Category, lang: Lang) -> String {
    let label = c.label(lang);
    match lang {
        Lang::En => format!("is in \"{label}\""),
        Lang::Fr => format!("est dans « {label} »"),
    }
}

pub fn yes_no(entry: &Entry<'_>, lang: Lang) -> &'static str {
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
