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
    assert!(line_1012.contains("Service Restart") && line_1012.contains("restart_delay"));

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
