//! `wsmon explain` run as a user would: the real binary, plain output (NO_COLOR, not a tty).

use std::io::Write;

use assert_cmd::Command;
use predicates::prelude::*;

/// The binary with a neutral, English environment and colors off.
fn wsmon() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wsmon"));
    cmd.env("NO_COLOR", "1")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("LANG", "C");
    cmd
}

fn stdout_of(args: &[&str]) -> String {
    let out = wsmon().arg("explain").args(args).assert().success();
    String::from_utf8(out.get_output().stdout.clone()).expect("utf-8 output")
}

fn assert_in_order(text: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        match text[from..].find(needle) {
            Some(at) => from += at + needle.len(),
            None => panic!("{needle:?} missing (or out of order) in:\n{text}"),
        }
    }
}

#[test]
fn explains_1013() {
    let text = stdout_of(&["1013"]);
    assert_in_order(
        &text,
        &[
            "1013 Try Again Later",
            "Category",
            "Temporary condition",
            "Sent by",
            "server",
            "On the wire",
            "yes",
            "Retry advice",
            "backoff",
            "Description",
            "overloaded",
            "When you see it",
            "Unlike 1012",
            "How to fix",
            "exponential backoff",
            "Retry advice: backoff",
        ],
    );
    assert!(!text.contains('\x1b'), "no color when not a terminal");
}

#[test]
fn compares_1010_and_1013_in_english() {
    let text = stdout_of(&["1010", "1013"]);
    assert_in_order(
        &text,
        &[
            "1010 Mandatory Extension vs 1013 Try Again Later",
            "client only",
            "server",
            "Description",
            "When you see it",
            "How to fix",
            "Key differences",
            "1010 is sent only by a client; 1013 is sent by the server",
            "1010: never",
            "1013: backoff",
            "When to use which",
            "1010 (Mandatory Extension)",
            "1013 (Try Again Later)",
        ],
    );
}

#[test]
fn compares_1010_and_1013_in_french() {
    let text = stdout_of(&["1010", "1013", "--lang", "fr"]);
    assert_in_order(
        &text,
        &[
            "1010 Extension obligatoire vs 1013 Réessayer plus tard",
            "Description",
            "Quand vous le voyez",
            "Comment résoudre",
            "Différences clés",
            "Quand utiliser lequel",
        ],
    );
    assert!(!text.contains("When you see it"), "{text}");
    assert!(!text.contains("Key differences"), "{text}");
}

#[test]
fn lang_defaults_from_the_locale() {
    let out = wsmon()
        .env("LANG", "fr_FR.UTF-8")
        .args(["explain", "1013"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("Comment résoudre"), "{text}");
    // LC_ALL wins over LANG, and --lang wins over both.
    wsmon()
        .env("LANG", "fr_FR.UTF-8")
        .env("LC_ALL", "en_US.UTF-8")
        .args(["explain", "1013"])
        .assert()
        .success()
        .stdout(predicate::str::contains("How to fix"));
    wsmon()
        .env("LANG", "fr_FR.UTF-8")
        .args(["explain", "--lang", "en", "1013"])
        .assert()
        .success()
        .stdout(predicate::str::contains("How to fix"));
}

#[test]
fn codes_inside_ranges_are_explained_by_their_range() {
    let text = stdout_of(&["2500"]);
    assert!(
        text.starts_with("2500 Reserved for future protocol use (1016-2999)"),
        "{text}"
    );
    assert!(text.contains("explained by its range 1016-2999"), "{text}");
    assert!(text.contains("Retry advice: never"), "{text}");

    let text = stdout_of(&["3500"]);
    assert!(
        text.starts_with("3500 Library or framework code (3000-3999)"),
        "{text}"
    );
    assert!(text.contains("Retry advice: backoff"), "{text}");

    let text = stdout_of(&["4001"]);
    assert!(text.starts_with("4001 Private use (4000-4999)"), "{text}");
}

#[test]
fn json_for_scripts() {
    let text = stdout_of(&["--json", "1013", "4001"]);
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let list = v.as_array().expect("an array");
    assert_eq!(list.len(), 2);
    let e = &list[0];
    assert_eq!(e["code"], 1013);
    assert_eq!(e["name"], "Try Again Later");
    assert_eq!(e["category"], "temporary");
    assert_eq!(e["sender"], "server");
    assert_eq!(e["on_wire"], true);
    assert_eq!(e["retry"], "backoff");
    assert_eq!(e["library_defined"], false);
    assert_eq!(e["app_defined"], false);
    assert_eq!(e["lang"], "en");
    for field in ["description", "when", "fix", "retry_why", "send_when"] {
        assert!(
            e[field].as_str().is_some_and(|s| s.len() > 20),
            "{field} missing in {e}"
        );
    }
    assert_eq!(list[1]["code"], 4001);
    assert_eq!(list[1]["range"]["start"], 4000);
    assert_eq!(list[1]["range"]["end"], 4999);

    let text = stdout_of(&["--json", "--lang", "fr", "1006"]);
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(v[0]["name"], "Fermeture anormale");
    assert_eq!(v[0]["on_wire"], false);
    assert_eq!(v[0]["lang"], "fr");
}

#[test]
fn all_lists_every_code_and_range() {
    let text = stdout_of(&["--all"]);
    for row in [
        "0-999",
        "1000",
        "1005",
        "1010",
        "1013",
        "1015",
        "1016-2999",
        "3000-3999",
        "3000",
        "3003",
        "3008",
        "4000-4999",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(&format!("{row} "))),
            "{row} missing:\n{text}"
        );
    }
    let line_1012 = text
        .lines()
        .find(|l| l.starts_with("1012 "))
        .expect("1012 row");
    assert!(line_1012.contains("Service Restart") && line_1012.contains("restart delay"));

    let json = stdout_of(&["--all", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    let list = v.as_array().expect("array");
    // 16 codes 1000-1015, 3 library codes, 5 ranges (5000-65535 included).
    assert_eq!(list.len(), 24);
    assert!(
        list.iter()
            .any(|e| e["range"]["start"] == 1016 && e["code"].is_null())
    );
}

fn config_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .suffix(".toml")
        .tempfile()
        .expect("temp file");
    f.write_all(text.as_bytes()).expect("write config");
    f
}

#[test]
fn config_names_application_codes() {
    let cfg = config_file(
        "[[targets]]\nurl = \"ws://127.0.0.1:9/\"\n\n[codes.4001]\nname = \"Session expired\"\n\
         description = \"The login token expired; log in again.\"\n",
    );
    let path = cfg.path().to_str().expect("utf-8 path");
    let text = stdout_of(&["-c", path, "4001"]);
    assert!(text.starts_with("4001 Session expired\n"), "{text}");
    assert!(
        text.contains("The login token expired; log in again."),
        "{text}"
    );
    assert!(text.contains("Range 4000-4999 (Private use)"), "{text}");
    // Other private codes still fall back to the range.
    let text = stdout_of(&["--config", path, "4002"]);
    assert!(text.starts_with("4002 Private use (4000-4999)"), "{text}");
    // And the app code shows up in --all and --json.
    let all = stdout_of(&["-c", path, "--all"]);
    assert!(all.contains("Session expired +"), "{all}");
    let json = stdout_of(&["-c", path, "--json", "4001"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
    assert_eq!(v[0]["name"], "Session expired");
    assert_eq!(v[0]["app_defined"], true);
}

#[test]
fn invalid_config_entries_exit_2() {
    for (text, expect) in [
        ("[codes.1008]\nname = \"x\"\n", "4000-4999"),
        ("[codes.5001]\nname = \"x\"\n", "4000-4999"),
        (
            "[codes.4001]\ndescription = \"no name\"\n",
            "missing `name`",
        ),
        ("[codes.4001\n", "not valid TOML"),
    ] {
        let cfg = config_file(text);
        let out = wsmon()
            .args(["explain", "-c"])
            .arg(cfg.path())
            .arg("4001")
            .assert()
            .code(2)
            .stdout("");
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(err.contains(expect), "{text:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
    wsmon()
        .args(["explain", "-c", "/nonexistent/wsmon.toml", "4001"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read config"));
}

#[test]
fn bad_codes_exit_2_naming_the_range() {
    for bad in ["99999", "abc", "-1", "", "65536"] {
        let out = wsmon().args(["explain", bad]).assert().code(2).stdout("");
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(err.contains("0-65535"), "{bad:?}: {err}");
        assert!(err.contains(&format!("\"{bad}\"")), "{bad:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
    // A bad code next to a good one still fails.
    wsmon()
        .args(["explain", "1000", "abc"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("0-65535"));
    // Nothing to explain.
    wsmon()
        .arg("explain")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("0-65535"));
}

#[test]
fn flags_may_follow_the_codes() {
    wsmon()
        .args(["explain", "1013", "--lang", "fr"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Comment résoudre"));
    wsmon()
        .args(["explain", "-1", "--lang", "fr"])
        .assert()
        .code(2);
}

#[test]
fn the_policy_advice_per_code_is_the_knowledge_base_advice() {
    use wsmon::codes::{Registry, RetryAdvice};
    use wsmon::engine::backoff::{Advice, default_advice};
    let reg = Registry::builtin();
    for code in 0..=u16::MAX {
        let kb: Advice = reg.retry_advice(code).into();
        assert_eq!(default_advice(code), kb, "{code}");
    }
    // TLS: one rule, the 1015 entry's.
    assert_eq!(reg.retry_advice(1015), RetryAdvice::Never);
}

#[test]
fn explain_http_and_profiles_from_the_command_line() {
    let text = stdout_of(&["--http", "503"]);
    assert!(text.starts_with("HTTP 503  Service Unavailable"), "{text}");
    assert!(text.contains("Retry-After"), "{text}");
    let text = stdout_of(&["4004", "--profile", "discord"]);
    assert!(text.starts_with("4004 Authentication failed"), "{text}");
    assert!(text.contains("discord-api-docs"), "{text}");
    let text = stdout_of(&["6000"]);
    assert!(text.contains("Invalid (above 4999)"), "{text}");
}

#[test]
fn the_config_profile_key_loads_a_profile_and_bad_names_exit_2() {
    let f = config_file("profile = \"graphql-ws\"\n");
    let path = f.path().to_str().expect("utf-8 path");
    let text = stdout_of(&["-c", path, "4401"]);
    assert!(text.starts_with("4401 Unauthorized"), "{text}");
    assert!(text.contains("shouldRetryConnectOrThrow"), "{text}");
    wsmon()
        .args(["explain", "4004", "--profile", "slack"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown profile"));
}

/// The output with its wrapping collapsed, so phrases split across lines still match.
fn flat(args: &[&str]) -> String {
    stdout_of(args)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn json_of(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&stdout_of(&all)).expect("valid JSON")
}

#[test]
fn reserved_1004_is_not_said_to_be_banned() {
    // RFC 6455 only says "Reserved" for 1004: no explicit MUST NOT, unlike 1005/1006/1015.
    let text = stdout_of(&["1004"]);
    let wire = text
        .lines()
        .find(|l| l.starts_with("On the wire"))
        .expect("wire row");
    assert!(!wire.contains("must not"), "{wire}");
    assert!(wire.contains("reserved"), "{wire}");
    let cmp = flat(&["1004", "1006"]);
    assert!(!cmp.contains("1004 must not appear"), "{cmp}");
    assert!(!cmp.contains("must not be sent by anyone"), "{cmp}");
    assert!(cmp.contains("1004 is reserved"), "{cmp}");
}

#[test]
fn library_codes_keep_their_registered_names_and_name_saltyrtc() {
    for (code, registered, salty) in [
        ("3000", "Unauthorized", "Path Full"),
        ("3003", "Forbidden", "Handover of the signalling channel"),
        ("3008", "Timeout", "Timeout"),
    ] {
        let text = flat(&[code]);
        assert!(text.starts_with(&format!("{code} {registered}")), "{text}");
        assert!(!text.contains("we found no implementation"), "{text}");
        assert!(text.contains("SaltyRTC"), "{code}: {text}");
        assert!(text.contains(salty), "{code}: {text}");
        assert!(
            text.contains("github.com/saltyrtc/saltyrtc-meta"),
            "{code}: {text}"
        );
    }
    // 3003 is a normal event in SaltyRTC: the retry advice names when to retry.
    let v = json_of(&["3003"]);
    let why = v[0]["retry_why"].as_str().expect("retry_why");
    assert!(why.contains("--retry-on 3003"), "{why}");
    assert!(why.contains("handover"), "{why}");
}

#[test]
fn tls_1015_names_who_reports_it() {
    let text = flat(&["1015"]);
    assert!(!text.contains("Libraries report 1015"), "{text}");
    assert!(text.contains("Node"), "{text}");
    assert!(text.contains("python-websockets"), "{text}");
}

#[test]
fn invalid_ranges_agree_and_name_the_valid_codes() {
    for code in ["0", "2500", "5000", "65535"] {
        let v = json_of(&[code]);
        assert_eq!(v[0]["retry"], "never", "{code}");
        let fix = v[0]["fix"].as_str().expect("fix");
        assert!(fix.contains("1000-1003, 1007-1014"), "{code}: {fix}");
        assert!(fix.contains("3000-4999"), "{code}: {fix}");
        assert!(!fix.contains("1000-1015"), "{code}: {fix}");
        let sources = v[0]["source"].as_str().expect("sources");
        assert!(sources.contains("§7.4.2"), "{code}: {sources}");
        assert!(!sources.contains("§7.4.1"), "{code}: {sources}");
    }
}

#[test]
fn internal_error_1011_cites_the_erratum_as_it_stands() {
    let text = flat(&["1011"]);
    assert!(!text.contains("lets either side send it"), "{text}");
    if text.contains("3227") {
        assert!(text.contains("not verified"), "{text}");
    }
    assert!(text.contains("IANA"), "{text}");
}

#[test]
fn try_again_later_1013_describes_full_jitter_windows() {
    let text = flat(&["1013"]);
    assert!(!text.contains("start at 1 second"), "{text}");
    assert!(text.contains("windows of 1 s, 2 s, 4 s"), "{text}");
    assert!(text.contains("each delay drawn in its window"), "{text}");
    assert!(text.contains("§7.2.3"), "{text}");
    assert!(text.contains("0-5 s"), "{text}");
    let fr = flat(&["1013", "--lang", "fr"]);
    assert!(fr.contains("fenêtres de 1 s, 2 s, 4 s"), "{fr}");
}

#[test]
fn graphql_ws_profile_matches_its_source() {
    let one = |code: &str| flat(&["--profile", "graphql-ws", code]);
    let t = one("4499");
    assert!(t.contains("Sent by client only"), "{t}");
    assert!(t.contains("terminate()"), "{t}");
    let t = one("4500");
    assert!(t.starts_with("4500 Internal server error"), "{t}");
    let t = one("4406");
    assert!(t.contains("src/common.ts"), "{t}");
    assert!(!t.contains("PROTOCOL.md"), "{t}");
    for code in ["4004", "4005", "4504"] {
        let t = one(code);
        assert!(!t.contains("Private use"), "{code}: {t}");
        assert!(t.contains("Sent by client only"), "{code}: {t}");
    }
    for code in [
        "4400", "4401", "4403", "4406", "4408", "4409", "4429", "4499", "4500",
    ] {
        let t = one(code);
        assert!(!t.contains("documentation for this code"), "{code}: {t}");
        assert!(
            !t.contains("closed the connection with this code."),
            "{code}: {t}"
        );
    }
}

#[test]
fn discord_profile_has_real_texts_and_says_what_it_covers() {
    for code in ["4000", "4004", "4014"] {
        let t = flat(&["--profile", "discord", code]);
        assert!(!t.contains("documentation for this code"), "{code}: {t}");
        assert!(
            !t.contains("closed the connection with this code."),
            "{code}: {t}"
        );
        assert!(
            t.contains("developers/topics/opcodes-and-status-codes"),
            "{code}: {t}"
        );
        assert!(t.contains("main gateway only"), "{code}: {t}");
    }
}

#[test]
fn http_statuses_say_what_rfc_6455_and_9110_say() {
    let t = flat(&["--http", "101"]);
    assert!(t.contains("success"), "{t}");
    assert!(!t.contains("did not accept"), "{t}");
    let v = json_of(&["--http", "408"]);
    assert_eq!(v[0]["retry"], "backoff");
    assert!(v[0]["sources"].to_string().contains("§15.5.9"), "{}", v[0]);
    let t = flat(&["--http", "503"]);
    assert!(!t.contains("fails the handshake"), "{t}");
    for status in ["301", "302", "307", "308"] {
        let t = flat(&["--http", status]);
        assert!(t.contains("Location"), "{status}: {t}");
        assert!(t.contains("does not follow redirects"), "{status}: {t}");
    }
    let t = flat(&["--http", "407"]);
    assert!(t.contains("--proxy"), "{t}");
    let t = flat(&["--http", "401"]);
    assert!(t.contains("WWW-Authenticate"), "{t}");
}

#[test]
fn english_output_has_no_raw_identifiers() {
    let text = stdout_of(&["1012"]);
    assert!(!text.contains("restart_delay"), "{text}");
    let all = stdout_of(&["--all"]);
    assert!(!all.contains("restart_delay"), "{all}");
    // Scripts keep the identifier.
    assert_eq!(json_of(&["1012"])[0]["retry"], "restart_delay");
}

#[test]
fn help_states_the_accepted_range() {
    let out = wsmon().args(["explain", "--help"]).assert().success();
    let help = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(!help.contains("(0-4999)"), "{help}");
    assert!(help.contains("0-65535"), "{help}");
}

#[test]
fn no_status_1005_says_the_peer_sent_the_close_frame() {
    let text = flat(&["1005"]);
    assert!(text.contains("who sent the close frame"), "{text}");
    assert!(text.contains("usually the server"), "{text}");
    // The number is reported locally, but a side did close: not "nobody".
    assert!(!text.contains("nobody"), "{text}");
    assert!(text.contains("no side sends this number"), "{text}");
}
