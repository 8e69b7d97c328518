use super::*;

fn reg() -> &'static Registry {
    Registry::builtin()
}

#[test]
fn embedded_asset_loads_and_covers_every_code() {
    let reg = Registry::from_toml(ASSET).expect("asset parses");
    for code in 0..=MAX_CODE {
        assert!(reg.lookup(code).is_some(), "code {code} has no entry");
    }
    // Above 4999: invalid on the wire, but explained (a peer can send them).
    assert_eq!(
        reg.lookup(5000).expect("covered").range,
        Some((5000, u16::MAX))
    );
    assert!(reg.lookup(u16::MAX).is_some());
}

#[test]
fn every_defined_code_and_range_has_its_own_entry() {
    let reg = reg();
    for code in (1000..=1015).chain([3000, 3003, 3008]) {
        let e = reg.lookup(code).expect("registered");
        assert_eq!(e.range, None, "{code} should have its own entry");
        assert_eq!(e.code, Some(code));
    }
    let ranges: Vec<(u16, u16)> = reg.entries().filter_map(|e| e.range).collect();
    assert_eq!(
        ranges,
        vec![
            (0, 999),
            (1016, 2999),
            (3000, 3999),
            (4000, 4999),
            (5000, u16::MAX)
        ]
    );
}

#[test]
fn every_entry_has_every_field_in_both_languages() {
    for e in reg().entries() {
        for lang in [Lang::En, Lang::Fr] {
            let t = e.texts(lang);
            for (field, value) in t.fields() {
                assert!(
                    value.trim().len() >= 3,
                    "{} {}.{field} is empty",
                    e.code_label(),
                    lang.as_str()
                );
            }
            assert!(!e.data.sources.is_empty());
        }
        // The French text is a translation, not a copy.
        assert_ne!(
            e.texts(Lang::En).when,
            e.texts(Lang::Fr).when,
            "{}",
            e.code_label()
        );
        assert_ne!(
            e.texts(Lang::En).fix,
            e.texts(Lang::Fr).fix,
            "{}",
            e.code_label()
        );
    }
}

#[test]
fn local_only_codes_never_appear_on_the_wire() {
    for code in [1005, 1006, 1015] {
        let e = reg().lookup(code).expect("registered");
        assert!(!e.on_wire(), "{code} must never be on the wire");
        assert_eq!(e.sender(), Sender::Local, "{code}");
    }
    assert!(!reg().lookup(1004).expect("1004").on_wire());
    for code in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
    ] {
        assert!(reg().lookup(code).expect("registered").on_wire(), "{code}");
    }
}

#[test]
fn senders_match_rfc_6455_and_iana() {
    let sender = |c| reg().lookup(c).expect("registered").sender();
    assert_eq!(sender(1010), Sender::Client, "1010 is client-only");
    assert_eq!(sender(1012), Sender::Server);
    assert_eq!(sender(1013), Sender::Server);
    assert_eq!(sender(1014), Sender::Gateway);
    // Erratum 3227: either endpoint may send 1011.
    assert_eq!(sender(1011), Sender::Either);
    for c in [1000, 1001, 1002, 1003, 1007, 1008, 1009] {
        assert_eq!(sender(c), Sender::Either, "{c}");
    }
}

#[test]
fn retry_advice_matches_the_policy() {
    let r = |c| reg().retry_advice(c);
    for c in [1013, 1011, 1014, 1006, 1005, 3008] {
        assert_eq!(r(c), RetryAdvice::Backoff, "{c}");
    }
    for c in [1012, 1001] {
        assert_eq!(r(c), RetryAdvice::RestartDelay, "{c}");
    }
    for c in [
        1000, 1002, 1003, 1007, 1008, 1009, 1010, 1004, 1015, 3000, 3003,
    ] {
        assert_eq!(r(c), RetryAdvice::Never, "{c}");
    }
    // Reserved ranges: never. Library and private ranges: backoff.
    for c in [0, 500, 999, 1016, 2500, 2999] {
        assert_eq!(r(c), RetryAdvice::Never, "{c}");
    }
    for c in [3001, 3500, 3999, 4000, 4001, 4999] {
        assert_eq!(r(c), RetryAdvice::Backoff, "{c}");
    }
    // Above the valid range: invalid on the wire, like the reserved ranges.
    for c in [5000, 65535] {
        assert_eq!(r(c), RetryAdvice::Never, "{c}");
    }
}

#[test]
fn library_defined_flags() {
    for c in [3000, 3003, 3008] {
        let e = reg().lookup(c).expect("registered");
        assert!(e.library_defined(), "{c}");
        assert_eq!(e.category(), Category::Library);
    }
    assert!(!reg().lookup(1013).expect("1013").library_defined());
    assert!(!reg().lookup(4001).expect("4001").library_defined());
}

#[test]
fn names() {
    let reg = reg();
    assert_eq!(reg.name(1013), "Try Again Later");
    assert_eq!(reg.name_in(1013, Lang::Fr), "Réessayer plus tard");
    assert_eq!(reg.name(4001), "Private use (4000-4999)");
    assert_eq!(
        reg.name(2500),
        "Reserved for future protocol use (1016-2999)"
    );
    assert_eq!(reg.name(3000), "Unauthorized");
    assert_eq!(reg.name(3500), "Library or framework code (3000-3999)");
    assert!(reg.name(6000).contains("4999"));
}

#[test]
fn codes_in_a_range_are_explained_by_it() {
    let e = reg().lookup(3500).expect("3500");
    assert_eq!(e.code, Some(3500));
    assert_eq!(e.range, Some((3000, 3999)));
    assert!(!e.app_defined());
}

#[test]
fn app_codes_win_over_the_range() {
    let app = app_codes_from_toml(
        "[server]\nbind = \"x\"\n[codes.4001]\nname = \"Session expired\"\n\
         description = \"The login token expired.\"\n[codes.4002]\nname = \"Kicked\"\n",
    )
    .expect("valid");
    assert_eq!(app.len(), 2);
    let reg = Registry::with_app_codes(&app).expect("valid");
    assert_eq!(reg.name(4001), "Session expired");
    assert_eq!(reg.name_in(4001, Lang::Fr), "Session expired");
    let e = reg.lookup(4001).expect("4001");
    assert!(e.app_defined());
    assert_eq!(e.category(), Category::Application);
    assert_eq!(e.description(Lang::En), "The login token expired.");
    assert_eq!(e.range, Some((4000, 4999)));
    // Without a description the range's text stays.
    let kicked = reg.lookup(4002).expect("4002");
    assert_eq!(
        kicked.description(Lang::En),
        reg.lookup(4003).expect("4003").description(Lang::En)
    );
    // Listed in order after their range.
    let labels: Vec<String> = reg.entries().map(|e| e.code_label()).collect();
    let pos = |l: &str| labels.iter().position(|x| x == l).expect("listed");
    assert!(pos("4000-4999") < pos("4001") && pos("4001") < pos("4002"));
    // The built-in registry is untouched.
    assert_eq!(Registry::builtin().name(4001), "Private use (4000-4999)");
}

#[test]
fn app_code_errors_are_clear() {
    let err = |t: &str| app_codes_from_toml(t).expect_err("must fail").to_string();
    assert!(err("[codes.1000]\nname = \"x\"\n").contains("4000-4999"));
    assert!(err("[codes.5000]\nname = \"x\"\n").contains("4000-4999"));
    assert!(err("[codes.abc]\nname = \"x\"\n").contains("not an application close code"));
    assert!(err("[codes.4001]\ndescription = \"x\"\n").contains("missing `name`"));
    assert!(err("[codes.4001]\nname = \"  \"\n").contains("empty name"));
    assert!(err("[codes.4001]\nname = 3\n").contains("must be a string"));
    assert!(err("[codes.4001]\nname = \"x\"\nnmae = \"y\"\n").contains("unknown key"));
    assert!(err("codes = 3\n").contains("table"));
    assert!(err("[codes.4001\n").contains("not valid TOML"));
    // No [codes] table: nothing named, no error.
    assert!(
        app_codes_from_toml("[server]\nx = 1\n")
            .expect("ok")
            .is_empty()
    );

    let mut bad = BTreeMap::new();
    bad.insert(
        3000,
        AppCode {
            name: "x".into(),
            description: String::new(),
        },
    );
    assert!(Registry::with_app_codes(&bad).is_err());
}

#[test]
fn app_names_are_escaped() {
    let app = app_codes_from_toml("[codes.4001]\nname = \"evil\\u001b[31m\"\n").expect("valid");
    let reg = Registry::with_app_codes(&app).expect("valid");
    assert!(!reg.name(4001).contains('\u{1b}'));
}

#[test]
fn parse_code_accepts_0_to_65535() {
    assert_eq!(parse_code("1013").expect("ok"), 1013);
    assert_eq!(parse_code("0").expect("ok"), 0);
    assert_eq!(parse_code("65535").expect("ok"), 65535);
    for bad in [
        "65536",
        "abc",
        "-1",
        "",
        " ",
        "+1000",
        "10.5",
        "99999999999999999999",
    ] {
        let e = parse_code(bad).expect_err(bad).to_string();
        assert!(e.contains("0-65535"), "{bad}: {e}");
    }
    assert!(parse_app_code("4001").is_ok());
    assert!(parse_app_code("5000").is_err());
}

#[test]
fn lang_from_locale() {
    assert_eq!(Lang::from_locale(None, None, Some("fr_FR.UTF-8")), Lang::Fr);
    assert_eq!(Lang::from_locale(None, None, Some("fr")), Lang::Fr);
    assert_eq!(Lang::from_locale(None, None, Some("fr_CA")), Lang::Fr);
    assert_eq!(Lang::from_locale(None, None, Some("en_US.UTF-8")), Lang::En);
    assert_eq!(Lang::from_locale(None, None, Some("C")), Lang::En);
    assert_eq!(Lang::from_locale(None, None, None), Lang::En);
    assert_eq!(Lang::from_locale(None, None, Some("fri_XX")), Lang::En);
    // LC_ALL wins over LANG; empty values are skipped.
    assert_eq!(
        Lang::from_locale(Some("en_GB"), None, Some("fr_FR")),
        Lang::En
    );
    assert_eq!(Lang::from_locale(Some(""), None, Some("fr_FR")), Lang::Fr);
    assert_eq!(
        Lang::from_locale(None, Some("fr_BE"), Some("en_US")),
        Lang::Fr
    );
    assert_eq!(Lang::resolve(Some(Lang::Fr)), Lang::Fr);
    assert_eq!(Lang::resolve(Some(Lang::En)), Lang::En);
}

#[test]
fn asset_validation_rejects_holes_and_empty_texts() {
    let one = |code: &str, name: &str| {
        format!(
            "[[entry]]\n{code}\ncategory = \"reserved\"\nsender = \"nobody\"\non_wire = false\n\
             retry = \"never\"\nsources = [\"x\"]\n[entry.en]\nname = \"{name}\"\ndescription = \"d\"\n\
             when = \"w\"\nfix = \"f\"\nretry_why = \"r\"\nsend_when = \"s\"\n[entry.fr]\n\
             name = \"n\"\ndescription = \"d\"\nwhen = \"w\"\nfix = \"f\"\nretry_why = \"r\"\n\
             send_when = \"s\"\n"
        )
    };
    let full = one("range = [0, 65535]", "All");
    assert!(Registry::from_toml(&full).is_ok());
    let hole = one("range = [0, 4000]", "Most");
    let e = Registry::from_toml(&hole).expect_err("hole").to_string();
    assert!(e.contains("4001"), "{e}");
    let empty = one("range = [0, 65535]", " ");
    let e = Registry::from_toml(&empty).expect_err("empty").to_string();
    assert!(e.contains("en.name"), "{e}");
    let overlap = format!("{}{}", full, one("range = [10, 20]", "Again"));
    assert!(Registry::from_toml(&overlap).is_err());
}

#[test]
fn every_french_text_differs_from_its_english_text() {
    let reg = Registry::builtin();
    let mut regs = vec![reg.clone()];
    for (name, _) in PROFILES {
        regs.push(Registry::build(Some(name), &BTreeMap::new()).expect("profile loads"));
    }
    for r in &regs {
        for e in r.entries() {
            for ((field, en), (_, fr)) in e.data.en.fields().iter().zip(e.data.fr.fields().iter()) {
                assert_ne!(en, fr, "{} {field}: French equals English", e.code_label());
            }
        }
    }
    for advice in RetryAdvice::ALL {
        assert_ne!(advice.label(Lang::En), advice.label(Lang::Fr));
        assert_ne!(advice.short(Lang::En), advice.short(Lang::Fr));
        assert_ne!(advice.summary(Lang::En), advice.summary(Lang::Fr));
    }
}

#[test]
fn every_entry_cites_its_sources() {
    let reg = Registry::builtin();
    for e in reg.entries() {
        assert!(!e.data.sources.is_empty(), "{}", e.code_label());
    }
    let cites = |code: u16| reg.lookup(code).expect("covered").data.sources.join(" | ");
    assert!(cites(1000).contains("RFC 6455 §7.4.1"));
    assert!(cites(1006).contains("§7.2.3"));
    assert!(cites(1010).contains("RFC 7692"));
    assert!(cites(1011).contains("3227"));
    for (code, msg) in [(1012, "msg09670"), (1013, "msg09670"), (1014, "msg10748")] {
        assert!(cites(code).contains("IANA"), "{code}");
        assert!(cites(code).contains(msg), "{code}");
    }
    assert!(cites(1013).contains("Spring"));
}

#[test]
fn claims_checked_against_their_sources() {
    let reg = Registry::builtin();
    let en = |c: u16| reg.lookup(c).expect("covered").data.en.clone();
    // 1002/1014: wsmon records the raw code; tungstenite answers 1014 with 1002.
    for c in [1002, 1014] {
        let t = format!("{:?}", en(c));
        assert!(!t.contains("reports 1002 instead"), "{c}");
        assert!(!t.contains("may be a 1014"), "{c}");
    }
    assert!(en(1014).when.contains("wsmon records the raw 1014"));
    // 1004 is only "Reserved" in RFC 6455.
    assert!(!en(1004).description.contains("must not be sent"));
    // 1010 is a failed negotiation of one or more extensions.
    assert_eq!(
        reg.lookup(1010).expect("1010").category(),
        Category::Negotiation
    );
    assert!(en(1010).description.contains("one or more extensions"));
    // 1013: hybi advice, wsmon defaults, no maintenance window.
    let t13 = format!("{} {}", en(1013).fix, en(1013).retry_why);
    for needle in [
        "different IP",
        "user action",
        "--backoff-base 1s",
        "--backoff-cap 60s",
    ] {
        assert!(t13.contains(needle), "1013 lacks {needle}");
    }
    let circumstances = format!("{} {}", en(1013).description, en(1013).when);
    assert!(!circumstances.contains("maintenance"), "{circumstances}");
    // 1001 and 1012 agree: 1012 is the restart, 1001 any other leaving.
    assert!(!en(1001).send_when.contains("for a while"));
    // 3000/3003/3008: IANA lists a name and a contact only.
    for c in [3000, 3003, 3008] {
        assert!(!en(c).description.contains("Widely used"), "{c}");
        assert!(en(c).description.contains("contact"), "{c}");
    }
    assert!(!en(3001).when.contains("gives the meaning"));
    // 1015 tells retryable TLS failures from the others.
    let t15 = format!("{} {}", en(1015).when, en(1015).retry_why);
    assert!(t15.contains("reset") && t15.contains("expired"), "{t15}");
    // 5000-65535 are explained, not refused.
    assert!(reg.lookup(5000).is_some() && reg.lookup(65535).is_some());
    assert!(!reg.lookup(6000).expect("covered").on_wire());
}

#[test]
fn profiles_load_with_sources_and_retry_columns() {
    let discord = Registry::build(Some("discord"), &BTreeMap::new()).expect("discord");
    assert_eq!(discord.profile(), Some("discord"));
    assert_eq!(discord.name(4004), "Authentication failed");
    // Discord's documented reconnect column.
    for (code, reconnect) in [
        (4000, true),
        (4001, true),
        (4002, true),
        (4003, true),
        (4004, false),
        (4005, true),
        (4007, true),
        (4008, true),
        (4009, true),
        (4010, false),
        (4011, false),
        (4012, false),
        (4013, false),
        (4014, false),
    ] {
        let advice = discord.retry_advice(code);
        assert_eq!(advice != RetryAdvice::Never, reconnect, "{code}");
        assert!(discord.lookup(code).expect("entry").data.sources[0].contains("discord-api-docs"));
    }
    // 4006 has no public entry: it stays in the private-use range.
    assert_eq!(discord.name(4006), "Private use (4000-4999)");
    let gql = Registry::build(Some("graphql-ws"), &BTreeMap::new()).expect("graphql-ws");
    // graphql-ws client: shouldRetryConnectOrThrow.
    for (code, retried) in [
        (4400, false),
        (4401, false),
        (4403, true),
        (4406, false),
        (4408, true),
        (4409, false),
        (4429, false),
        (4499, true),
    ] {
        assert_eq!(
            gql.retry_advice(code) != RetryAdvice::Never,
            retried,
            "{code}"
        );
    }
    assert!(Registry::build(Some("nope"), &BTreeMap::new()).is_err());
    // A config name wins over the profile's.
    let mut app = BTreeMap::new();
    app.insert(
        4004,
        AppCode {
            name: "Ours".into(),
            description: String::new(),
        },
    );
    let both = Registry::build(Some("discord"), &app).expect("both");
    assert_eq!(both.name(4004), "Ours");
}

#[test]
fn french_texts_use_french_words_for_the_retry_policy() {
    for e in Registry::builtin().entries() {
        for (field, text) in e.data.fr.fields() {
            let words: String = text
                .split_whitespace()
                .filter(|w| !w.starts_with("--"))
                .collect::<Vec<_>>()
                .join(" ")
                .replace("Exponential Backoff And Jitter", "");
            for english in ["backoff", "jitter", "IANA registry", "retry"] {
                assert!(
                    !words.to_lowercase().contains(&english.to_lowercase()),
                    "{} fr.{field} contains {english:?}",
                    e.code_label()
                );
            }
        }
    }
}

#[test]
fn no_text_has_a_hyphen_split_by_the_line_continuation() {
    for e in Registry::builtin().entries() {
        for texts in [&e.data.en, &e.data.fr] {
            for (field, text) in texts.fields() {
                let bad = text
                    .split(' ')
                    .any(|w| w.ends_with('-') && w.len() > 1 && w != "--" && !w.starts_with("--"));
                assert!(!bad, "{} {field}: {text}", e.code_label());
            }
        }
    }
}

/// Every French text wsmon can show about codes and statuses, laid out as the reader sees it.
fn all_french_output() -> Vec<(String, String)> {
    use super::{explain, http, layout};
    let text = |lines: Vec<layout::Line>| {
        lines
            .iter()
            .map(layout::Line::text)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = Vec::new();
    let mut regs = vec![("builtin", reg().clone())];
    for name in ["discord", "graphql-ws"] {
        let r = Registry::build(Some(name), &BTreeMap::new()).expect("profile");
        regs.push((name, r));
    }
    for (name, r) in &regs {
        for e in r.entries() {
            let code = e.code.or(e.range.map(|(lo, _)| lo)).expect("code or range");
            let ex = explain::one(r, code, Lang::Fr).expect("explained");
            out.push((format!("{name} {code}"), text(layout::lines(&ex, 76))));
            let ex = explain::compare(r, code, 1013, Lang::Fr).expect("compared");
            out.push((
                format!("{name} {code} vs 1013"),
                text(layout::lines(&ex, 76)),
            ));
        }
        out.push((
            format!("{name} --all"),
            text(layout::listing(&explain::listing(r, Lang::Fr), 80)),
        ));
    }
    for status in http::known().chain([101, 102, 200, 301, 399, 418, 599]) {
        let ex = http::explain(status, Lang::Fr);
        out.push((format!("HTTP {status}"), text(layout::lines(&ex, 76))));
    }
    out
}

#[test]
fn french_reads_as_a_french_engineer_writes() {
    // Issue 19 section 4: each phrase on the left was replaced by the words on the right.
    let banned = [
        (
            "poignée de main",
            "handshake / établissement de la connexion",
        ),
        ("l'upgrade", "la demande Upgrade"),
        ("d'upgrade", "la demande Upgrade"),
        ("un upgrade", "une demande Upgrade"),
        ("part aléatoire complète", "gigue complète"),
        ("passez à l'échelle", "ajoutez des instances"),
        ("Condition temporaire", "Indisponibilité passagère"),
        ("Mauvaise passerelle", "Erreur de passerelle"),
        ("Message trop gros", "Message trop volumineux"),
        ("client seul", "client uniquement"),
        ("raison de fermeture", "motif de fermeture"),
        ("boucle serrée", "reconnexions en rafale"),
        ("heartbeat", "messages de maintien"),
        ("parle la version", "utilise la version"),
        ("’", "one apostrophe style: '"),
    ];
    let mut found = Vec::new();
    for (what, text) in all_french_output() {
        for (phrase, instead) in banned {
            if text.contains(phrase) {
                found.push(format!("{what}: \"{phrase}\" (write {instead})"));
            }
        }
    }
    found.dedup();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn layout_tones_the_retry_advice_and_body_leaves_out_the_title() {
    use super::layout::{self, Tone};
    let ex = explain::one(reg(), 1013, Lang::En).expect("1013");
    let lines = layout::lines(&ex, 76);
    assert_eq!(lines[0].text(), "1013 Try Again Later");
    assert_eq!(lines[0].spans[0].0, Tone::Title);
    let retry = lines
        .iter()
        .find(|l| l.text().starts_with("Retry advice   "))
        .expect("retry row");
    assert_eq!(
        retry.spans[1],
        (Tone::Retry(RetryAdvice::Backoff), "backoff".to_string())
    );
    let body = layout::body(&ex, 76);
    assert_eq!(body.len() + 1, lines.len());
    assert_eq!(body[0].text(), lines[1].text());
    // Every explanation fits narrow widths, without trailing spaces.
    for width in [40, 60, 76] {
        for e in reg().entries() {
            let code = e.code.or(e.range.map(|(lo, _)| lo)).expect("code or range");
            for lang in [Lang::En, Lang::Fr] {
                let ex = explain::one(reg(), code, lang).expect("explained");
                for l in layout::lines(&ex, width) {
                    let t = l.text();
                    assert!(t.chars().count() <= width, "{code} at {width}: {t:?}");
                    assert_eq!(t, t.trim_end(), "{code}: {t:?}");
                }
            }
        }
    }
}
