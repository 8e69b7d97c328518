//! `assets/prometheus-rules.yml` unit-tested with `promtool test rules` (input series written
//! for each alert, firing and quiet cases, in `tests/prometheus/rules_test.yml`), and the
//! example configs checked with `promtool check config`. `promtool` comes with the `prometheus`
//! package that `tests/peers/install.sh` installs; where it is absent each test says so and
//! skips.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `promtool` binary, or None (with the reason printed) when it is not installed.
fn promtool() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("promtool"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        println!(
            "SKIPPED: promtool is not installed (it comes with the prometheus package: run \
             `bash tests/peers/install.sh`)"
        );
    }
    found
}

/// Run promtool with `args` from `dir`: (success, stdout and stderr).
fn run(promtool: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(promtool)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn every_rule_fires_and_stays_quiet_as_its_tests_say() {
    let Some(promtool) = promtool() else { return };
    let (ok, text) = run(
        &promtool,
        &root().join("tests/prometheus"),
        &["test", "rules", "rules_test.yml"],
    );
    assert!(ok, "promtool test rules failed:\n{text}");
    assert!(text.contains("SUCCESS"), "{text}");
}

#[test]
fn every_alert_of_the_rules_file_has_a_test() {
    let rules = std::fs::read_to_string(root().join("assets/prometheus-rules.yml")).expect("rules");
    let tests =
        std::fs::read_to_string(root().join("tests/prometheus/rules_test.yml")).expect("tests");
    let alerts: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
        .collect();
    assert_eq!(alerts.len(), 6, "{alerts:?}");
    for a in alerts {
        let cases = tests.matches(&format!("alertname: {a}\n")).count();
        assert!(cases >= 2, "{a}: a firing and a quiet case, found {cases}");
    }
}

#[test]
fn the_rules_file_is_valid() {
    let Some(promtool) = promtool() else { return };
    let (ok, text) = run(
        &promtool,
        &root().join("assets"),
        &["check", "rules", "prometheus-rules.yml"],
    );
    assert!(ok, "{text}");
}

/// `assets/prometheus.yml` (fixed addresses, with the rules) passes `promtool check config`.
/// The Kubernetes one needs a Prometheus built with Kubernetes service discovery: where
/// promtool lacks it (Debian's build), it may fail for that reason and no other.
#[test]
fn the_example_configs_pass_promtool_check_config() {
    let Some(promtool) = promtool() else { return };
    let assets = root().join("assets");
    let (ok, text) = run(&promtool, &assets, &["check", "config", "prometheus.yml"]);
    assert!(ok, "assets/prometheus.yml:\n{text}");
    assert!(text.contains("SUCCESS: 1 rule files found"), "{text}");
    let (ok, text) = run(
        &promtool,
        &assets,
        &["check", "config", "prometheus-k8s.yml"],
    );
    if !ok {
        assert!(
            text.contains("field kubernetes_sd_configs not found"),
            "assets/prometheus-k8s.yml fails for another reason than a build without \
             Kubernetes service discovery:\n{text}"
        );
        println!("prometheus-k8s.yml: this promtool has no Kubernetes service discovery");
    }
}
