//! Prometheus metrics (`--metrics ADDR`): one more sink of the runtime. The families and the
//! event counter are in [`registry`], the `/metrics` endpoint in [`http`]; the runtime feeds
//! every event to the counters and sets the gauges from the latest snapshot on each scrape.
//! Built on `prometheus-client` (the Prometheus project's Rust client).
//!
//! The families (exactly these names; labels are bounded, never a session id):
//!
//! | family | type | labels |
//! |---|---|---|
//! | `wsmon_sessions` | gauge | target, state |
//! | `wsmon_connection_attempts_total` | counter | target |
//! | `wsmon_opens_total` | counter | target |
//! | `wsmon_closes_total` | counter | target, code, initiator |
//! | `wsmon_handshake_failures_total` | counter | target, status (HTTP) |
//! | `wsmon_errors_total` | counter | target, kind |
//! | `wsmon_handshake_phase_seconds` | histogram | target, phase (dns, connect, tls, upgrade, proxy) |
//! | `wsmon_backoff_delay_seconds` | histogram | target |
//! | `wsmon_retries_due` | gauge | target, within (1s, 5s, 30s) |
//! | `wsmon_lockstep_index` | gauge | |
//! | `wsmon_lockstep_chance` | gauge | |
//! | `wsmon_lockstep_excess` | gauge | |
//! | `wsmon_export_events_total` | counter | |
//! | `wsmon_export_errors_total` | counter | |
//! | `wsmon_build_info` | gauge (= 1) | version |
//! | `wsmon_stale_sessions` | gauge | target |
//! | `wsmon_message_latency_seconds` | histogram | target |
//! | `wsmon_messages_total` | counter | target, direction (in, out) |
//!
//! `assets/grafana-dashboard.json` and `assets/prometheus.yml` are built on these names; a test
//! below keeps them in step.

pub mod connections;
pub mod http;
pub mod registry;

/// Kind of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyType {
    Counter,
    Gauge,
    Histogram,
}

/// A metric family: name (without `_total` suffixes added by encoders), type, label names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FamilySpec {
    pub name: &'static str,
    pub kind: FamilyType,
    pub labels: &'static [&'static str],
}

const fn family(
    name: &'static str,
    kind: FamilyType,
    labels: &'static [&'static str],
) -> FamilySpec {
    FamilySpec { name, kind, labels }
}

/// Every family wsmon exposes, as in the table above.
pub const FAMILIES: &[FamilySpec] = &[
    family("wsmon_sessions", FamilyType::Gauge, &["target", "state"]),
    family(
        "wsmon_connection_attempts_total",
        FamilyType::Counter,
        &["target"],
    ),
    family("wsmon_opens_total", FamilyType::Counter, &["target"]),
    family(
        "wsmon_closes_total",
        FamilyType::Counter,
        &["target", "code", "initiator"],
    ),
    family(
        "wsmon_handshake_failures_total",
        FamilyType::Counter,
        &["target", "status"],
    ),
    family(
        "wsmon_errors_total",
        FamilyType::Counter,
        &["target", "kind"],
    ),
    family(
        "wsmon_handshake_phase_seconds",
        FamilyType::Histogram,
        &["target", "phase"],
    ),
    family(
        "wsmon_backoff_delay_seconds",
        FamilyType::Histogram,
        &["target"],
    ),
    family(
        "wsmon_retries_due",
        FamilyType::Gauge,
        &["target", "within"],
    ),
    family("wsmon_lockstep_index", FamilyType::Gauge, &[]),
    family("wsmon_lockstep_chance", FamilyType::Gauge, &[]),
    family("wsmon_lockstep_excess", FamilyType::Gauge, &[]),
    family("wsmon_export_events_total", FamilyType::Counter, &[]),
    family("wsmon_export_errors_total", FamilyType::Counter, &[]),
    family("wsmon_build_info", FamilyType::Gauge, &["version"]),
    family("wsmon_stale_sessions", FamilyType::Gauge, &["target"]),
    family(
        "wsmon_message_latency_seconds",
        FamilyType::Histogram,
        &["target"],
    ),
    family(
        "wsmon_messages_total",
        FamilyType::Counter,
        &["target", "direction"],
    ),
];

/// The family a series name belongs to (`wsmon_x_bucket` belongs to histogram `wsmon_x`).
pub fn family_of(series: &str) -> Option<&'static FamilySpec> {
    FAMILIES.iter().find(|f| {
        series == f.name
            || (f.kind == FamilyType::Histogram
                && ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| series.strip_suffix(s) == Some(f.name)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `wsmon_...` identifier in `text`.
    fn series_names(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find("wsmon_") {
            let tail = &rest[i..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            let before_ok = i == 0
                || !rest[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if before_ok {
                out.push(tail[..end].to_string());
            }
            rest = &tail[end..];
        }
        out
    }

    #[test]
    fn names_follow_prometheus_conventions() {
        for f in FAMILIES {
            assert!(f.name.starts_with("wsmon_"), "{}", f.name);
            assert_eq!(
                f.kind == FamilyType::Counter,
                f.name.ends_with("_total"),
                "{}: counters and only counters end in _total",
                f.name
            );
            assert!(
                !f.labels.contains(&"session"),
                "{}: unbounded label",
                f.name
            );
        }
        assert_eq!(
            family_of("wsmon_handshake_phase_seconds_bucket").map(|f| f.name),
            Some("wsmon_handshake_phase_seconds")
        );
        assert!(family_of("wsmon_sessions_bucket").is_none());
        assert!(family_of("wsmon_nope").is_none());
    }

    #[test]
    fn the_dashboard_uses_only_these_families_and_shows_each() {
        let text = include_str!("../../assets/grafana-dashboard.json");
        let dash: serde_json::Value = serde_json::from_str(text).expect("dashboard is JSON");
        let mut exprs = String::new();
        for panel in dash["panels"].as_array().expect("panels") {
            for t in panel["targets"].as_array().expect("targets") {
                exprs.push_str(t["expr"].as_str().expect("expr"));
                exprs.push('\n');
            }
        }
        let names = series_names(&exprs);
        for n in &names {
            assert!(family_of(n).is_some(), "dashboard uses unknown series {n}");
        }
        for f in FAMILIES {
            assert!(
                names.iter().any(|n| family_of(n) == Some(f)),
                "the dashboard has no panel for {}",
                f.name
            );
        }
        // Issue 19: the dashboard declared a `DS_PROMETHEUS` input that no panel used, while
        // every panel used `${datasource}`. Every `${NAME}` it uses is one of its template
        // variables (or an input), and every input it declares is used.
        let inputs: Vec<String> = dash["__inputs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let variables: Vec<String> = dash["templating"]["list"]
            .as_array()
            .expect("templating")
            .iter()
            .filter_map(|v| v["name"].as_str().map(String::from))
            .collect();
        let mut used = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            let tail = &rest[i + 2..];
            let end = tail.find('}').expect("closed ${");
            used.push(tail[..end].to_string());
            rest = &tail[end..];
        }
        assert!(used.iter().any(|u| u == "datasource"), "{used:?}");
        for u in &used {
            assert!(
                variables.contains(u) || inputs.contains(u),
                "the dashboard uses ${{{u}}}, which it does not declare"
            );
        }
        for i in &inputs {
            assert!(
                used.contains(i),
                "input {i} is declared but no panel uses it"
            );
        }
        for (file, text) in [
            (
                "prometheus.yml",
                include_str!("../../assets/prometheus.yml"),
            ),
            (
                "prometheus-k8s.yml",
                include_str!("../../assets/prometheus-k8s.yml"),
            ),
            // Rules only on metrics that exist.
            (
                "prometheus-rules.yml",
                include_str!("../../assets/prometheus-rules.yml"),
            ),
        ] {
            for n in series_names(text) {
                assert!(family_of(&n).is_some(), "{file} names unknown series {n}");
            }
        }
    }
}
