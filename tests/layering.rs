//! The shape of the code stays true: every `crate::` path in `src/` points down the layer table
//! (README "Design", GUIDE.md section 1). A module may name its own top-level module and any
//! module of a lower layer, never one of the same layer or above.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top-level modules, bottom to top. Modules on one line are one layer: they may not name each
/// other.
const LAYERS: &[&[&str]] = &[
    &["units", "redact", "limits"],
    &["codes", "protocol"],
    &["engine"],
    &["state", "export", "metrics"],
    &["runtime", "thresholds"],
    &[
        "tui", "headless", "replay", "explain", "report", "server", "signal",
    ],
    &["cli", "config"],
    &["app", "main", "lib"],
];

/// Pairs allowed although they are on the same layer, with the reason.
const SAME_LAYER_ALLOWED: &[(&str, &str, &str)] = &[
    // `config` merges the command line over the file: it reads the CLI's parsed flags.
    ("config", "cli", "config merges CLI flags over the file"),
    // Front ends share the stop-signal wait.
    ("headless", "signal", "stop signals"),
    ("tui", "signal", "stop signals"),
    ("server", "signal", "stop signals"),
    ("replay", "tui", "replay opens the TUI on a recorded log"),
    ("replay", "headless", "replay prints the headless summary"),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("file under src");
    let first = rel
        .components()
        .next()
        .expect("non-empty path")
        .as_os_str()
        .to_string_lossy()
        .to_string();
    first.trim_end_matches(".rs").to_string()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every top-level module named as `crate::NAME` in `text`, with its line number. Test-only
/// code (after a line `#[cfg(test)]` that opens a `mod tests`) is skipped: tests may reach up.
fn named_modules(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_tests = false;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]")
            && lines.get(i + 1).is_some_and(|n| {
                let n = n.trim();
                n.starts_with("mod ") && !n.ends_with(';')
            })
        {
            in_tests = true;
        }
        if in_tests || t.starts_with("//") {
            continue;
        }
        let mut rest = *line;
        while let Some(pos) = rest.find("crate::") {
            let after = &rest[pos + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push((i + 1, name));
            }
            rest = after;
        }
        // `use crate::{a, b::c}` names several modules.
        if let Some(pos) = line.find("crate::{") {
            let inner = &line[pos + "crate::{".len()..];
            for part in inner.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push((i + 1, name));
                }
            }
        }
    }
    out
}

#[test]
fn every_import_points_down_the_layer_table() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    let mut unknown = BTreeMap::new();
    for file in &files {
        // Test-only files (`#[cfg(test)] mod tests;`) may reach up.
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "tests.rs" || name == "test_support.rs" {
            continue;
        }
        let from = top_module(&src, file);
        let Some(from_layer) = layer_of(&from) else {
            unknown.insert(from.clone(), file.display().to_string());
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read source");
        for (line, to) in named_modules(&text) {
            if to == from {
                continue;
            }
            let Some(to_layer) = layer_of(&to) else {
                unknown.insert(to.clone(), format!("{}:{line}", file.display()));
                continue;
            };
            let allowed_same = SAME_LAYER_ALLOWED
                .iter()
                .any(|(a, b, _)| *a == from && *b == to);
            if to_layer > from_layer || (to_layer == from_layer && !allowed_same) {
                violations.push(format!(
                    "{}:{line}: `{from}` (layer {from_layer}) names `{to}` (layer {to_layer})",
                    file.strip_prefix(&src).unwrap_or(file).display()
                ));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "modules missing from the layer table (add them to LAYERS): {unknown:?}"
    );
    assert!(
        violations.is_empty(),
        "imports that point up or sideways:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_scanner_sees_grouped_and_inline_paths_and_skips_tests() {
    let text = "use crate::{engine::events::Event, state};\nlet x = crate::cli::parse();\n\
                // crate::tui in a comment\n#[cfg(test)]\nmod tests {\n use crate::app;\n}\n";
    let names: Vec<String> = named_modules(text).into_iter().map(|(_, n)| n).collect();
    assert!(names.contains(&"engine".to_string()), "{names:?}");
    assert!(names.contains(&"state".to_string()), "{names:?}");
    assert!(names.contains(&"cli".to_string()), "{names:?}");
    assert!(!names.contains(&"tui".to_string()), "{names:?}");
    assert!(!names.contains(&"app".to_string()), "{names:?}");
}
