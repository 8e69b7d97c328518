//! HTTP statuses as answers to a WebSocket upgrade (`wsmon explain --http STATUS`).
//!
//! A server that does not accept the upgrade answers with an HTTP status instead of
//! `101 Switching Protocols` (RFC 6455 section 4.1: any other status means the handshake
//! failed). The retry advice here is the one the reconnect policy applies.

use serde::Serialize;

use super::explain::{Block, Explanation, Fact, Section};
use super::{CodesError, Lang, RetryAdvice};

/// One status: what it means as an answer to an upgrade, and what wsmon does.
struct Status {
    code: u16,
    en: [&'static str; 3],
    fr: [&'static str; 3],
}

/// [name, meaning in an upgrade, what to check]
const STATUSES: [Status; 12] = [
    Status {
        code: 400,
        en: [
            "Bad Request",
            "The server refused the upgrade request itself: a missing or malformed \
             Sec-WebSocket-Key or Sec-WebSocket-Version, an Upgrade or Connection header a \
             proxy removed, or a request it cannot parse.",
            "Compare the request headers with RFC 6455 section 4.1 and look for a proxy that \
             strips Upgrade and Connection.",
        ],
        fr: [
            "Requête incorrecte",
            "Le serveur a refusé la demande d'upgrade elle-même : Sec-WebSocket-Key ou \
             Sec-WebSocket-Version absent ou mal formé, en-têtes Upgrade ou Connection \
             supprimés par un proxy, ou requête illisible.",
            "Comparez les en-têtes envoyés à la section 4.1 de la RFC 6455 et cherchez un \
             proxy qui supprime Upgrade et Connection.",
        ],
    },
    Status {
        code: 401,
        en: [
            "Unauthorized",
            "The upgrade needs credentials the request did not carry, or carried expired: a \
             token, a cookie, basic authentication.",
            "Send valid credentials (wsmon: --header 'Authorization: ...') and check their \
             expiry.",
        ],
        fr: [
            "Non authentifié",
            "L'upgrade exige des identifiants que la requête ne portait pas, ou portait \
             expirés : jeton, cookie, authentification basique.",
            "Envoyez des identifiants valides (wsmon : --header 'Authorization: ...') et \
             vérifiez leur date d'expiration.",
        ],
    },
    Status {
        code: 403,
        en: [
            "Forbidden",
            "The server knows the request and refuses it: an Origin not on its allow list, \
             an address or account that is blocked, missing rights.",
            "Check the Origin the client sends, the allow lists and the account's rights.",
        ],
        fr: [
            "Interdit",
            "Le serveur comprend la requête et la refuse : Origin absente de sa liste \
             autorisée, adresse ou compte bloqué, droits insuffisants.",
            "Vérifiez l'Origin envoyée par le client, les listes autorisées et les droits du \
             compte.",
        ],
    },
    Status {
        code: 404,
        en: [
            "Not Found",
            "There is no WebSocket endpoint at this path on this host: a wrong path, a \
             missing prefix behind a reverse proxy, or a route that was removed.",
            "Check the URL's path and the proxy's routing.",
        ],
        fr: [
            "Introuvable",
            "Il n'y a pas de point d'accès WebSocket à ce chemin sur cet hôte : chemin \
             erroné, préfixe manquant derrière un proxy inverse, ou route supprimée.",
            "Vérifiez le chemin de l'URL et le routage du proxy.",
        ],
    },
    Status {
        code: 405,
        en: [
            "Method Not Allowed",
            "The endpoint does not take a GET with an upgrade: often a plain HTTP route \
             (a REST API) at the path the client used.",
            "Point the client at the WebSocket route.",
        ],
        fr: [
            "Méthode non autorisée",
            "Le point d'accès n'accepte pas de GET avec upgrade : c'est souvent une route \
             HTTP ordinaire (une API REST) au chemin utilisé.",
            "Dirigez le client vers la route WebSocket.",
        ],
    },
    Status {
        code: 408,
        en: [
            "Request Timeout",
            "The server or a proxy gave up waiting for the complete upgrade request: a slow \
             or stalled client, or a proxy that buffers.",
            "Check the network path and the proxy's timeouts. wsmon treats every 4xx as a \
             problem with the request and does not retry it; use --retry-on for codes only.",
        ],
        fr: [
            "Délai de requête dépassé",
            "Le serveur ou un proxy a cessé d'attendre la requête d'upgrade complète : client \
             lent ou bloqué, ou proxy qui met en tampon.",
            "Vérifiez le chemin réseau et les délais du proxy. wsmon traite tout 4xx comme \
             un problème de requête et ne réessaie pas.",
        ],
    },
    Status {
        code: 426,
        en: [
            "Upgrade Required",
            "The server wants another protocol version: with WebSocket it answers a \
             Sec-WebSocket-Version it does not support and lists the ones it does (RFC 6455 \
             section 4.4).",
            "Read the Sec-WebSocket-Version header of the answer; wsmon speaks version 13.",
        ],
        fr: [
            "Mise à niveau requise",
            "Le serveur attend une autre version du protocole : en WebSocket, il répond ainsi \
             à une Sec-WebSocket-Version qu'il ne gère pas et liste celles qu'il accepte \
             (RFC 6455, section 4.4).",
            "Lisez l'en-tête Sec-WebSocket-Version de la réponse ; wsmon parle la version 13.",
        ],
    },
    Status {
        code: 429,
        en: [
            "Too Many Requests",
            "The server or a gateway limits the rate of new connections from this client or \
             address. A Retry-After header may say how long to wait.",
            "Open fewer sessions at once, or ask for a higher limit.",
        ],
        fr: [
            "Trop de requêtes",
            "Le serveur ou une passerelle limite le rythme des nouvelles connexions de ce \
             client ou de cette adresse. Un en-tête Retry-After peut indiquer combien de \
             temps attendre.",
            "Ouvrez moins de sessions à la fois, ou demandez une limite plus \
             haute.",
        ],
    },
    Status {
        code: 500,
        en: [
            "Internal Server Error",
            "The application failed while handling the upgrade: an exception in the \
             handshake handler or the authentication hook.",
            "Read the server's logs at the time of the attempt.",
        ],
        fr: [
            "Erreur interne du serveur",
            "L'application a échoué en traitant l'upgrade : exception dans le code de la \
             poignée de main ou dans la vérification d'authentification.",
            "Lisez les journaux du serveur au moment de la tentative.",
        ],
    },
    Status {
        code: 502,
        en: [
            "Bad Gateway",
            "A proxy or load balancer in front of the WebSocket server got no valid answer \
             from it: the backend is down, restarting, or does not speak WebSocket.",
            "Check the backend's health and the proxy's upstream configuration.",
        ],
        fr: [
            "Mauvaise passerelle",
            "Un proxy ou un répartiteur de charge devant le serveur WebSocket n'en a pas \
             obtenu de réponse valide : serveur amont arrêté, en redémarrage, ou qui ne parle \
             pas WebSocket.",
            "Vérifiez l'état du serveur amont et la configuration amont du proxy.",
        ],
    },
    Status {
        code: 503,
        en: [
            "Service Unavailable",
            "The server is overloaded or in maintenance and refuses new connections for now. \
             A Retry-After header may say when to come back.",
            "Wait, or add capacity. If it lasts, check the server's connection limits.",
        ],
        fr: [
            "Service indisponible",
            "Le serveur est surchargé ou en maintenance et refuse les nouvelles connexions \
             pour l'instant. Un en-tête Retry-After peut indiquer quand revenir.",
            "Patientez, ou ajoutez de la capacité. Si cela dure, vérifiez les limites de \
             connexions du serveur.",
        ],
    },
    Status {
        code: 504,
        en: [
            "Gateway Timeout",
            "A proxy or load balancer waited too long for the WebSocket server to answer the \
             upgrade.",
            "Check the backend's load and the proxy's upstream timeouts.",
        ],
        fr: [
            "Délai de passerelle dépassé",
            "Un proxy ou un répartiteur de charge a attendu trop longtemps la réponse du \
             serveur WebSocket à l'upgrade.",
            "Vérifiez la charge du serveur amont et les délais amont du proxy.",
        ],
    },
];

/// What the reconnect policy does after an upgrade answered with `status`: 429 and 5xx are
/// worth retrying with backoff (honouring Retry-After); any other status is not.
pub fn retry_advice(status: u16) -> RetryAdvice {
    match status {
        429 | 500..=599 => RetryAdvice::Backoff,
        _ => RetryAdvice::Never,
    }
}

/// Parse an HTTP status typed by a user: 100-599.
pub fn parse_status(input: &str) -> Result<u16, CodesError> {
    match input.trim().parse::<u16>() {
        Ok(s) if (100..=599).contains(&s) => Ok(s),
        _ => Err(CodesError::InvalidStatus(crate::redact::escape_control(
            input,
        ))),
    }
}

fn texts(status: u16, lang: Lang) -> [String; 3] {
    if let Some(s) = STATUSES.iter().find(|s| s.code == status) {
        let t = match lang {
            Lang::En => s.en,
            Lang::Fr => s.fr,
        };
        return t.map(str::to_string);
    }
    let class = status / 100;
    match lang {
        Lang::En => [
            format!("HTTP {class}xx"),
            "Any answer other than 101 means the server did not accept the upgrade (RFC 6455 \
             section 4.1)."
                .to_string(),
            "Read the answer's body and headers, and the server's logs.".to_string(),
        ],
        Lang::Fr => [
            format!("HTTP {class}xx"),
            "Toute réponse autre que 101 signifie que le serveur n'a pas accepté l'upgrade \
             (RFC 6455, section 4.1)."
                .to_string(),
            "Lisez le corps et les en-têtes de la réponse, et les journaux du serveur.".to_string(),
        ],
    }
}

/// What wsmon does after this status, in words.
fn what_wsmon_does(status: u16, lang: Lang) -> &'static str {
    match (retry_advice(status), status, lang) {
        (RetryAdvice::Backoff, 429 | 503, Lang::En) => {
            "wsmon reconnects with exponential backoff and jitter. A Retry-After header \
             (seconds or an HTTP date, RFC 9110 section 10.2.3) is a floor for the delay, up \
             to --retry-after-max (300 s by default)."
        }
        (RetryAdvice::Backoff, 429 | 503, Lang::Fr) => {
            "wsmon se reconnecte avec un délai exponentiel tiré au hasard. Un en-tête \
             Retry-After (secondes ou date HTTP, RFC 9110, section 10.2.3) fixe un délai \
             minimal, borné par --retry-after-max (300 s par défaut)."
        }
        (RetryAdvice::Backoff, _, Lang::En) => {
            "wsmon reconnects with exponential backoff and jitter: server trouble often \
             passes. A Retry-After header, if present, is a floor for the delay."
        }
        (RetryAdvice::Backoff, _, Lang::Fr) => {
            "wsmon se reconnecte avec un délai exponentiel tiré au hasard : un problème de \
             serveur passe souvent. Un en-tête Retry-After, s'il est présent, fixe un délai \
             minimal."
        }
        (_, _, Lang::En) => {
            "wsmon does not reconnect: the same request gets the same answer. Fix the cause, \
             then start again."
        }
        (_, _, Lang::Fr) => {
            "wsmon ne se reconnecte pas : la même requête obtient la même réponse. Corrigez la \
             cause, puis relancez."
        }
    }
}

/// Explain one status as an answer to an upgrade.
pub fn explain(status: u16, lang: Lang) -> Explanation {
    let [name, meaning, check] = texts(status, lang);
    let advice = retry_advice(status);
    let (h_meaning, h_check, h_wsmon, l_retry) = match lang {
        Lang::En => (
            "As an answer to an upgrade",
            "What to check",
            "What wsmon does",
            "Retry advice",
        ),
        Lang::Fr => (
            "En réponse à un upgrade",
            "Que vérifier",
            "Ce que fait wsmon",
            "Reconnexion",
        ),
    };
    let sections = [
        (h_meaning, meaning),
        (h_check, check),
        (h_wsmon, what_wsmon_does(status, lang).to_string()),
    ]
    .into_iter()
    .map(|(heading, text)| Section {
        heading: heading.to_string(),
        blocks: vec![Block::Paragraph(text)],
    })
    .collect();
    Explanation {
        lang,
        title: format!("HTTP {status}  {name}"),
        intro: None,
        side_by_side: Vec::new(),
        facts: vec![Fact {
            label: l_retry.to_string(),
            value: advice.label(lang).to_string(),
            retry: Some(advice),
        }],
        sources: sources(lang).iter().map(|s| s.to_string()).collect(),
        note: None,
        sections,
    }
}

fn sources(lang: Lang) -> [&'static str; 3] {
    match lang {
        Lang::En => [
            "RFC 6455 §4.1 (any status other than 101 fails the handshake)",
            "RFC 9110 §15 (status codes), §10.2.3 (Retry-After), RFC 6585 §4 (429)",
            "wsmon engine/backoff.rs (status_advice)",
        ],
        Lang::Fr => [
            "RFC 6455 §4.1 (tout statut autre que 101 fait échouer la poignée de main)",
            "RFC 9110 §15 (codes de statut), §10.2.3 (Retry-After), RFC 6585 §4 (429)",
            "wsmon engine/backoff.rs (status_advice)",
        ],
    }
}

/// One status as JSON.
#[derive(Debug, Serialize)]
pub struct JsonStatus {
    pub status: u16,
    pub name: String,
    pub retry: RetryAdvice,
    pub lang: &'static str,
    pub meaning: String,
    pub check: String,
    pub wsmon: String,
    pub sources: Vec<String>,
}

impl JsonStatus {
    pub fn new(status: u16, lang: Lang) -> JsonStatus {
        let [name, meaning, check] = texts(status, lang);
        JsonStatus {
            status,
            name,
            retry: retry_advice(status),
            lang: lang.as_str(),
            meaning,
            check,
            wsmon: what_wsmon_does(status, lang).to_string(),
            sources: sources(lang).iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// The statuses this module explains by name.
pub fn known() -> impl Iterator<Item = u16> {
    STATUSES.iter().map(|s| s.code)
}
