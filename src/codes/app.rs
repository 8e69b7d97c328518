//! Application close codes and the profile key, read from a wsmon config (`[codes]`,
//! `profile`): the one reader behind `watch` and `explain -c`.

use std::collections::BTreeMap;

use super::{APP_RANGE, AppCode, CodesError, PROFILES, parse_code};
use crate::redact::escape_control;

/// Parse an application close code (a `[codes]` key): 4000-4999.
pub fn parse_app_code(input: &str) -> Result<u16, CodesError> {
    let shown = escape_control(input);
    parse_code(input)
        .ok()
        .filter(|c| (APP_RANGE.0..=APP_RANGE.1).contains(c))
        .ok_or_else(|| {
            CodesError::AppCode(format!(
                "\"{shown}\" is not an application close code: application codes are {}-{}",
                APP_RANGE.0, APP_RANGE.1
            ))
        })
}

/// Validate application codes already read from a config (the `[codes]` table as keys and
/// entries): the one check behind `watch` and `explain -c`.
pub fn app_codes_from_table<'a>(
    table: impl IntoIterator<Item = (&'a String, &'a AppCode)>,
) -> Result<BTreeMap<u16, AppCode>, CodesError> {
    let mut out = BTreeMap::new();
    for (key, entry) in table {
        let code = parse_app_code(key)?;
        validate_app_code(code, entry)?;
        out.insert(code, entry.clone());
    }
    Ok(out)
}

pub(super) fn validate_app_code(code: u16, entry: &AppCode) -> Result<(), CodesError> {
    let (lo, hi) = APP_RANGE;
    if !(lo..=hi).contains(&code) {
        return Err(CodesError::AppCode(format!(
            "code {code} cannot be named: application codes are {lo}-{hi} (private use)"
        )));
    }
    if entry.name.trim().is_empty() {
        return Err(CodesError::AppCode(format!(
            "[codes.{code}] has an empty name"
        )));
    }
    Ok(())
}

/// Read the `[codes]` table of a wsmon config (every other key and table is ignored):
///
/// ```toml
/// [codes.4001]
/// name = "Session expired"
/// description = "The login token expired; log in again."
/// ```
///
/// Keys must be codes in 4000-4999; `name` is required, `description` optional.
pub fn app_codes_from_toml(text: &str) -> Result<BTreeMap<u16, AppCode>, CodesError> {
    let doc: toml::Table = toml::from_str(text).map_err(CodesError::ConfigToml)?;
    let mut out = BTreeMap::new();
    let Some(codes) = doc.get("codes") else {
        return Ok(out);
    };
    let table = codes.as_table().ok_or_else(|| {
        CodesError::AppCode("`codes` must be a table of [codes.4xxx] entries".into())
    })?;
    for (key, value) in table {
        let shown = escape_control(key);
        let code = parse_app_code(key)?;
        let fields = value.as_table().ok_or_else(|| {
            CodesError::AppCode(format!(
                "[codes.{shown}] must be a table with `name` and `description`"
            ))
        })?;
        let mut name = None;
        let mut description = String::new();
        for (field, v) in fields {
            let s = v.as_str().ok_or_else(|| {
                CodesError::AppCode(format!(
                    "[codes.{shown}] {} must be a string",
                    escape_control(field)
                ))
            })?;
            match field.as_str() {
                "name" => name = Some(s.to_string()),
                "description" => description = s.to_string(),
                other => {
                    return Err(CodesError::AppCode(format!(
                        "[codes.{shown}] has an unknown key `{}` (expected name, description)",
                        escape_control(other)
                    )));
                }
            }
        }
        let name =
            name.ok_or_else(|| CodesError::AppCode(format!("[codes.{shown}] is missing `name`")))?;
        let entry = AppCode { name, description };
        validate_app_code(code, &entry)?;
        out.insert(code, entry);
    }
    Ok(out)
}

/// The `profile` key of a wsmon config, if any (the one reader shared by `watch` and
/// `explain -c`); without one, the profile of the first target whose built-in `protocol` has
/// one (`protocol = "graphql-ws"`), as `watch` loads it.
pub fn profile_from_toml(text: &str) -> Result<Option<String>, CodesError> {
    let doc: toml::Table = toml::from_str(text).map_err(CodesError::ConfigToml)?;
    match doc.get("profile") {
        None => Ok(doc
            .get("targets")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("protocol").and_then(toml::Value::as_str))
            .find_map(|p| check_profile(p).ok())),
        Some(v) => {
            let name = v
                .as_str()
                .ok_or_else(|| CodesError::UnknownProfile("(not a string)".into()))?;
            check_profile(name).map(Some)
        }
    }
}

/// A profile name, checked against the shipped profiles.
pub fn check_profile(name: &str) -> Result<String, CodesError> {
    PROFILES
        .iter()
        .find(|(k, _)| *k == name.trim())
        .map(|(k, _)| k.to_string())
        .ok_or_else(|| CodesError::UnknownProfile(escape_control(name)))
}
