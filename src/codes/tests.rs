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
    assert!(reg.lookup(5000).is_none());
    assert!(reg.lookup(u16::MAX).is_none());
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
        vec![(0, 999), (1016, 2999), (3000, 3999), (4000, 4999)]
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
            assert!(!e.data.source.trim().is_empty());
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
    // Above the valid range: harmless default.
    assert_eq!(r(5000), RetryAdvice::Backoff);
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
    assert!(err("[codes.abc]\nname = \"x\"\n").contains("not a close code"));
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
fn parse_code_accepts_only_0_to_4999() {
    assert_eq!(parse_code("1013").expect("ok"), 1013);
    assert_eq!(parse_code("0").expect("ok"), 0);
    assert_eq!(parse_code("4999").expect("ok"), 4999);
    for bad in [
        "5000",
        "99999",
        "abc",
        "-1",
        "",
        " ",
        "+1000",
        "10.5",
        "99999999999999999999",
    ] {
        let e = parse_code(bad).expect_err(bad).to_string();
        assert!(e.contains("0-4999"), "{bad}: {e}");
    }
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
             retry = \"never\"\nsource = \"x\"\n[entry.en]\nname = \"{name}\"\ndescription = \"d\"\n\
             when = \"w\"\nfix = \"f\"\nretry_why = \"r\"\nsend_when = \"s\"\n[entry.fr]\n\
             name = \"n\"\ndescription = \"d\"\nwhen = \"w\"\nfix = \"f\"\nretry_why = \"r\"\n\
             send_when = \"s\"\n"
        )
    };
    let full = one("range = [0, 4999]", "All");
    assert!(Registry::from_toml(&full).is_ok());
    let hole = one("range = [0, 4000]", "Most");
    let e = Registry::from_toml(&hole).expect_err("hole").to_string();
    assert!(e.contains("4001"), "{e}");
    let empty = one("range = [0, 4999]", " ");
    let e = Registry::from_toml(&empty).expect_err("empty").to_string();
    assert!(e.contains("en.name"), "{e}");
    let overlap = format!("{}{}", full, one("range = [10, 20]", "Again"));
    assert!(Registry::from_toml(&overlap).is_err());
}
