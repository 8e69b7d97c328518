//! HTTP statuses as answers to a WebSocket upgrade (`wsmon explain --http STATUS`).
//!
//! `101 Switching Protocols` is the success answer. A server that does not accept the upgrade
//! answers with another status, which the client handles as HTTP says (RFC 6455 section 4.1:
//! authenticate after a 401, maybe follow a 3xx redirect; wsmon follows none). The retry advice
//! here is the one the reconnect policy applies.

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
const STATUSES: [Status; 15] = [
    Status {
        code: 101,
        en: [
            "Switching Protocols",
            "The success answer: the server accepted the upgrade and the connection now speaks \
             WebSocket (RFC 6455 section 4.1).",
            "Nothing: this is how every WebSocket connection starts.",
        ],
        fr: [
            "Changement de protocole",
            "La réponse de succès : le serveur a accepté la demande Upgrade et la connexion \
             parle désormais WebSocket (RFC 6455, section 4.1).",
            "Rien : toute connexion WebSocket commence ainsi.",
        ],
    },
    Status {
        code: 200,
        en: [
            "OK",
            "Over HTTP/2 (--transport h2, RFC 8441 section 5): the success answer to the \
             extended CONNECT; the stream now carries the WebSocket. Over HTTP/1.1 the server \
             answered the upgrade as a plain HTTP request (a web page or an API at this path) \
             instead of switching with 101.",
            "Over HTTP/2, nothing. Over HTTP/1.1, check the URL's path, and that nothing \
             between wsmon and the server removes the Upgrade and Connection headers.",
        ],
        fr: [
            "OK",
            "En HTTP/2 (--transport h2, RFC 8441, section 5) : la réponse de succès au CONNECT \
             étendu ; le flux porte désormais le WebSocket. En HTTP/1.1, le serveur a répondu \
             comme à une requête HTTP ordinaire (une page web ou une API à ce chemin) au lieu \
             de passer à WebSocket avec 101.",
            "En HTTP/2, rien. En HTTP/1.1, vérifiez le chemin de l'URL, et que rien entre \
             wsmon et le serveur ne supprime les en-têtes Upgrade et Connection.",
        ],
    },
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
            "Le serveur a refusé la demande Upgrade elle-même : Sec-WebSocket-Key ou \
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
             token, a cookie, basic authentication. The WWW-Authenticate header of the answer \
             names the scheme the server expects (RFC 9110 section 11.6.1).",
            "Read the answer's WWW-Authenticate header, then send valid credentials (wsmon: \
             --header 'Authorization: ...') and check their expiry.",
        ],
        fr: [
            "Non authentifié",
            "La demande Upgrade exige des identifiants que la requête ne portait pas, ou \
             portait expirés : jeton, cookie, authentification basique. L'en-tête \
             WWW-Authenticate de la réponse nomme le schéma attendu par le serveur (RFC 9110, \
             section 11.6.1).",
            "Lisez l'en-tête WWW-Authenticate de la réponse, puis envoyez des identifiants \
             valides (wsmon : --header 'Authorization: ...') et vérifiez leur date \
             d'expiration.",
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
            "Le point d'accès n'accepte pas de GET avec demande Upgrade : c'est souvent une route \
             HTTP ordinaire (une API REST) au chemin utilisé.",
            "Dirigez le client vers la route WebSocket.",
        ],
    },
    Status {
        code: 407,
        en: [
            "Proxy Authentication Required",
            "An HTTP proxy between wsmon and the server wants credentials before it opens the \
             tunnel; its Proxy-Authenticate header names the scheme.",
            "Give the proxy's credentials in the proxy URL (wsmon: --proxy \
             http://user:password@host:port; they are always redacted), or check the proxy \
             taken from https_proxy/http_proxy/all_proxy.",
        ],
        fr: [
            "Authentification proxy requise",
            "Un proxy HTTP entre wsmon et le serveur exige des identifiants avant d'ouvrir le \
             tunnel ; son en-tête Proxy-Authenticate nomme le schéma attendu.",
            "Donnez les identifiants du proxy dans son URL (wsmon : --proxy \
             http://utilisateur:mot-de-passe@hôte:port ; ils sont toujours masqués), ou \
             vérifiez le proxy pris dans https_proxy/http_proxy/all_proxy.",
        ],
    },
    Status {
        code: 408,
        en: [
            "Request Timeout",
            "The server or a proxy gave up waiting for the complete upgrade request: a slow \
             or stalled client, or a proxy that buffers. RFC 9110 section 15.5.9 lets the \
             client repeat the request on a new connection.",
            "If it keeps happening, check the network path and the proxy's timeouts.",
        ],
        fr: [
            "Délai de requête dépassé",
            "Le serveur ou un proxy a cessé d'attendre la demande Upgrade complète : client \
             lent ou bloqué, ou proxy qui met en tampon. La RFC 9110 (section 15.5.9) permet \
             au client de répéter la requête sur une nouvelle connexion.",
            "Si cela se répète, vérifiez le chemin réseau et les délais du proxy.",
        ],
    },
    Status {
        code: 426,
        en: [
            "Upgrade Required",
            "The server wants another protocol version: with WebSocket it answers a \
             Sec-WebSocket-Version it does not support and lists the ones it does (RFC 6455 \
             section 4.4).",
            "Read the Sec-WebSocket-Version header of the answer; wsmon uses version 13.",
        ],
        fr: [
            "Mise à niveau requise",
            "Le serveur attend une autre version du protocole : en WebSocket, il répond ainsi \
             à une Sec-WebSocket-Version qu'il ne gère pas et liste celles qu'il accepte \
             (RFC 6455, section 4.4).",
            "Lisez l'en-tête Sec-WebSocket-Version de la réponse ; wsmon utilise la version 13.",
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
            "L'application a échoué en traitant la demande Upgrade : exception dans le code du \
             handshake ou dans la vérification d'authentification.",
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
            "Erreur de passerelle",
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
             serveur WebSocket à la demande Upgrade.",
            "Vérifiez la charge du serveur amont et les délais amont du proxy.",
        ],
    },
];

/// What the reconnect policy does after an upgrade answered with `status`: 408 (RFC 9110
/// section 15.5.9: the client may repeat the request), 429 and 5xx are worth retrying with
/// backoff (honouring Retry-After); any other status is not.
pub fn retry_advice(status: u16) -> RetryAdvice {
    match status {
        408 | 429 | 500..=599 => RetryAdvice::Backoff,
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
    let (meaning, check) = match (class, lang) {
        (1, Lang::En) => (
            "An informational answer instead of 101 Switching Protocols: the server did not \
             switch to WebSocket.",
            "Read the answer's headers and the server's logs.",
        ),
        (1, Lang::Fr) => (
            "Une réponse informative au lieu de 101 Switching Protocols : le serveur n'est pas \
             passé à WebSocket.",
            "Lisez les en-têtes de la réponse et les journaux du serveur.",
        ),
        (2, Lang::En) => (
            "The server answered as to a plain HTTP request (a web page or an API at this \
             path) instead of switching to WebSocket with 101.",
            "Check the URL's path, and that nothing between wsmon and the server removes the \
             Upgrade and Connection headers.",
        ),
        (2, Lang::Fr) => (
            "Le serveur a répondu comme à une requête HTTP ordinaire (une page web ou une API \
             à ce chemin) au lieu de passer à WebSocket avec 101.",
            "Vérifiez le chemin de l'URL, et que rien entre wsmon et le serveur ne supprime \
             les en-têtes Upgrade et Connection.",
        ),
        (3, Lang::En) => (
            "A redirect: the Location header of the answer names where the endpoint moved. \
             RFC 6455 section 4.1 lets a client follow it; wsmon does not follow redirects.",
            "Read the answer's Location header and point wsmon at that URL.",
        ),
        (3, Lang::Fr) => (
            "Une redirection : l'en-tête Location de la réponse indique où se trouve le point \
             d'accès. La RFC 6455 (section 4.1) permet au client de la suivre ; wsmon ne suit \
             pas les redirections.",
            "Lisez l'en-tête Location de la réponse et donnez cette URL à wsmon.",
        ),
        (_, Lang::En) => (
            "The server did not accept the upgrade; the client handles the answer as HTTP \
             says (RFC 6455 section 4.1).",
            "Read the answer's body and headers, and the server's logs.",
        ),
        (_, Lang::Fr) => (
            "Le serveur n'a pas accepté la demande Upgrade ; le client traite la réponse comme \
             le veut HTTP (RFC 6455, section 4.1).",
            "Lisez le corps et les en-têtes de la réponse, et les journaux du serveur.",
        ),
    };
    [
        format!("HTTP {class}xx"),
        meaning.to_string(),
        check.to_string(),
    ]
}

/// What wsmon does after this status, in words.
fn what_wsmon_does(status: u16, lang: Lang) -> &'static str {
    match (retry_advice(status), status, lang) {
        (_, 101, Lang::En) => {
            "wsmon goes on with the WebSocket connection: there is nothing to retry."
        }
        (_, 101, Lang::Fr) => "wsmon poursuit la connexion WebSocket : il n'y a rien à retenter.",
        (_, 200, Lang::En) => {
            "Over HTTP/2, wsmon goes on with the WebSocket on the stream. Over HTTP/1.1 it does \
             not reconnect: the same request gets the same answer."
        }
        (_, 200, Lang::Fr) => {
            "En HTTP/2, wsmon poursuit le WebSocket sur le flux. En HTTP/1.1, il ne se \
             reconnecte pas : la même requête obtient la même réponse."
        }
        (_, 300..=399, Lang::En) => {
            "wsmon does not follow redirects and does not reconnect: the same request gets the \
             same redirect. Point it at the URL in Location."
        }
        (_, 300..=399, Lang::Fr) => {
            "wsmon ne suit pas les redirections et ne se reconnecte pas : la même requête \
             obtient la même redirection. Donnez-lui l'URL de l'en-tête Location."
        }
        (RetryAdvice::Backoff, 429 | 503, Lang::En) => {
            "wsmon reconnects with exponential backoff and jitter. A Retry-After header \
             (seconds or an HTTP date, RFC 9110 section 10.2.3) is a floor for the delay, up \
             to --retry-after-max (300 s by default)."
        }
        (RetryAdvice::Backoff, 429 | 503, Lang::Fr) => {
            "wsmon se reconnecte avec un délai exponentiel et une gigue. Un en-tête \
             Retry-After (secondes ou date HTTP, RFC 9110, section 10.2.3) fixe un délai \
             minimal, borné par --retry-after-max (300 s par défaut)."
        }
        (RetryAdvice::Backoff, _, Lang::En) => {
            "wsmon reconnects with exponential backoff and jitter: the trouble often \
             passes. A Retry-After header, if present, is a floor for the delay."
        }
        (RetryAdvice::Backoff, _, Lang::Fr) => {
            "wsmon se reconnecte avec un délai exponentiel et une gigue : un problème passager \
             se résout souvent. Un en-tête Retry-After, s'il est présent, fixe un délai \
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
            "En réponse à une demande Upgrade",
            "Que vérifier",
            "Ce que fait wsmon",
            "Reconnexion",
        ),
    };
    let over_h2 = over_http2(status, lang).map(|t| (h2_heading(lang), t.to_string()));
    let sections = [
        (h_meaning, meaning),
        (h_check, check),
        (h_wsmon, what_wsmon_does(status, lang).to_string()),
    ]
    .into_iter()
    .chain(over_h2)
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
        // 101 is the success answer: there is no retry to advise.
        facts: if status == 101 {
            Vec::new()
        } else {
            vec![Fact {
                label: l_retry.to_string(),
                value: advice.label(lang).to_string(),
                retry: Some(advice),
            }]
        },
        sources: sources(lang).iter().map(|s| s.to_string()).collect(),
        note: None,
        sections,
    }
}

fn h2_heading(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Over HTTP/2 (RFC 8441)",
        Lang::Fr => "En HTTP/2 (RFC 8441)",
    }
}

/// The RFC 8441 cases: the same status answering an extended CONNECT (`--transport h2`), and
/// the refusal that has no status at all. `None` for 101 and 200, which say it themselves.
fn over_http2(status: u16, lang: Lang) -> Option<&'static str> {
    let front = matches!(status, 400 | 405 | 501);
    Some(match (status, front, lang) {
        (101 | 200, _, _) => return None,
        (_, true, Lang::En) => {
            "The same status can answer the extended CONNECT (:method CONNECT, :protocol \
             websocket). This one often means a front (a proxy or load balancer that ends \
             HTTP/2) that does not know RFC 8441 and refuses the CONNECT or the :protocol \
             pseudo-header. A server whose SETTINGS do not enable extended CONNECT \
             (SETTINGS_ENABLE_CONNECT_PROTOCOL) gets no request at all: wsmon records its \
             SETTINGS as the answer (status 0, error 'handshake') and does not retry; \
             --transport auto falls back to HTTP/1.1."
        }
        (_, true, Lang::Fr) => {
            "Le même statut peut répondre au CONNECT étendu (:method CONNECT, :protocol \
             websocket). Celui-ci désigne souvent un frontal (proxy ou répartiteur qui termine \
             HTTP/2) qui ne connaît pas la RFC 8441 et refuse le CONNECT ou le pseudo-en-tête \
             :protocol. Un serveur dont les SETTINGS n'activent pas le CONNECT étendu \
             (SETTINGS_ENABLE_CONNECT_PROTOCOL) ne reçoit aucune requête : wsmon enregistre \
             ses SETTINGS comme réponse (statut 0, erreur « handshake ») et ne réessaie pas ; \
             --transport auto revient à HTTP/1.1."
        }
        (_, false, Lang::En) => {
            "The same status can answer the extended CONNECT (--transport h2, RFC 8441 \
             section 5) and means the same there; wsmon records it with the stream's \
             connection and stream id, and retries as above."
        }
        (_, false, Lang::Fr) => {
            "Le même statut peut répondre au CONNECT étendu (--transport h2, RFC 8441, \
             section 5) et y a le même sens ; wsmon l'enregistre avec la connexion et le \
             numéro de flux, et réessaie comme ci-dessus."
        }
    })
}

fn sources(lang: Lang) -> [&'static str; 4] {
    match lang {
        Lang::En => [
            "RFC 6455 §4.1 (101 is success; the client handles any other status as HTTP says)",
            "RFC 9110 §15 (status codes), §15.5.9 (408), §10.2.3 (Retry-After), RFC 6585 §4 \
             (429)",
            "wsmon engine/backoff.rs (status_advice)",
            "RFC 8441 §3 (SETTINGS_ENABLE_CONNECT_PROTOCOL), §4-5 (the extended CONNECT; 200 \
             opens the stream)",
        ],
        Lang::Fr => [
            "RFC 6455 §4.1 (101 signale le succès ; le client traite tout autre statut selon \
             HTTP)",
            "RFC 9110 §15 (codes de statut), §15.5.9 (408), §10.2.3 (Retry-After), RFC 6585 \
             §4 (429)",
            "wsmon engine/backoff.rs (status_advice)",
            "RFC 8441 §3 (SETTINGS_ENABLE_CONNECT_PROTOCOL), §4-5 (le CONNECT étendu ; 200 \
             ouvre le flux)",
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
    /// The RFC 8441 case (`--transport h2`), when it differs from the HTTP/1.1 text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2: Option<String>,
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
            http2: over_http2(status, lang).map(str::to_string),
        }
    }
}

/// The statuses this module explains by name.
pub fn known() -> impl Iterator<Item = u16> {
    STATUSES.iter().map(|s| s.code)
}
