//! Key bindings: a key press in a mode becomes an [`Action`]; actions that change sessions become
//! [`Command`]s for the supervisor. Bindings come from a table of defaults that the config file's
//! `[keys]` section can override (`quit = "q"`, `freeze = "F"`, `up = "k up"`).

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::engine::events::{Command, SessionId};

pub use super::bindings::{Action, Mode};
use super::bindings::{REPLAY_SPECS, SPECS, Scope};

/// A key with its modifiers, as written in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    /// Only CONTROL and ALT matter; SHIFT is part of the character (`P`, `?`).
    pub modifiers: KeyModifiers,
}

impl Key {
    fn matches(&self, ev: &KeyEvent) -> bool {
        let mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match ev.code {
            // Some terminals report Shift+Tab as Tab with SHIFT.
            KeyCode::Tab if ev.modifiers.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            c => c,
        };
        code == self.code && mods == self.modifiers
    }

    /// Parse `q`, `F`, `?`, `ctrl-c`, `alt-x`, `enter`, `esc`, `tab`, `backtab`, `up`, `down`,
    /// `left`, `right`, `pageup`, `pagedown`, `home`, `end`, `space`, `backspace`, `delete`,
    /// `insert`, `f1`..`f12`.
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err("empty key".to_string());
        }
        loop {
            let lower = rest.to_ascii_lowercase();
            let prefix = ["ctrl-", "ctrl+", "c-", "alt-", "alt+", "a-", "m-"]
                .iter()
                .find(|p| lower.starts_with(**p) && rest.len() > p.len());
            match prefix {
                Some(p) => {
                    if p.starts_with('c') {
                        modifiers |= KeyModifiers::CONTROL;
                    } else {
                        modifiers |= KeyModifiers::ALT;
                    }
                    rest = &rest[p.len()..];
                }
                None => break,
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if modifiers.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" | "shift-tab" => KeyCode::BackTab,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "space" => KeyCode::Char(' '),
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                other => match other.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                    Some(n @ 1..=12) => KeyCode::F(n),
                    _ => {
                        return Err(format!(
                            "unknown key '{s}' (use a single character, ctrl-X, alt-X, enter, \
                             esc, tab, backtab, up, down, left, right, pageup, pagedown, home, \
                             end, space, backspace, delete, insert or f1..f12)"
                        ));
                    }
                },
            },
        };
        Ok(Key { code, modifiers })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Up => f.write_str("Up"),
            KeyCode::Down => f.write_str("Down"),
            KeyCode::Left => f.write_str("Left"),
            KeyCode::Right => f.write_str("Right"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Delete"),
            KeyCode::Insert => f.write_str("Insert"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// One resolved binding.
#[derive(Debug, Clone)]
struct Binding {
    name: &'static str,
    action: Action,
    keys: Vec<Key>,
    help: &'static str,
    scope: Scope,
    /// A time cursor key: only active (and in the help) in replay.
    replay: bool,
}

/// The active key bindings.
#[derive(Debug, Clone)]
pub struct KeyMap {
    bindings: Vec<Binding>,
    /// Replay mode: the time cursor keys are active.
    replay: bool,
}

impl Default for KeyMap {
    fn default() -> Self {
        let bindings = SPECS
            .iter()
            .map(|s| (s, false))
            .chain(REPLAY_SPECS.iter().map(|s| (s, true)))
            .map(|(s, replay)| Binding {
                name: s.name,
                action: s.action,
                keys: parse_keys(s.keys).unwrap_or_default(),
                help: s.help,
                scope: s.scope,
                replay,
            })
            .collect();
        KeyMap {
            bindings,
            replay: false,
        }
    }
}

fn parse_keys(list: &str) -> Result<Vec<Key>, String> {
    let keys: Vec<Key> = list
        .split_whitespace()
        .map(Key::parse)
        .collect::<Result<_, _>>()?;
    if keys.is_empty() {
        return Err("no key given".to_string());
    }
    Ok(keys)
}

impl KeyMap {
    /// The defaults with the config file's `[keys]` applied: `action = "key"` or several keys
    /// separated by spaces (`down = "j down"`). Unknown action names, unknown keys and a key bound
    /// to two actions that are active on the same screen are errors.
    pub fn from_config(keys: &BTreeMap<String, String>) -> Result<KeyMap, String> {
        let mut map = KeyMap::default();
        for (name, value) in keys {
            let Some(binding) = map.bindings.iter_mut().find(|b| b.name == name.as_str()) else {
                let names: Vec<&str> = SPECS.iter().chain(REPLAY_SPECS).map(|s| s.name).collect();
                return Err(format!(
                    "[keys]: unknown action '{name}' (known: {})",
                    names.join(", ")
                ));
            };
            binding.keys = parse_keys(value).map_err(|e| format!("[keys] {name}: {e}"))?;
        }
        for (i, a) in map.bindings.iter().enumerate() {
            for b in &map.bindings[i + 1..] {
                // Replay keys take precedence over the others (only in replay).
                if !a.scope.overlaps(b.scope) || a.replay != b.replay {
                    continue;
                }
                if let Some(k) = a.keys.iter().find(|k| b.keys.contains(k)) {
                    return Err(format!(
                        "[keys]: '{k}' is bound to both {} and {}",
                        a.name, b.name
                    ));
                }
            }
        }
        Ok(map)
    }

    /// The keys of an action, for the footer and help ("q", "k/Up").
    pub fn keys_of(&self, action: Action) -> String {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .map(|b| {
                b.keys
                    .iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default()
    }

    /// The first key of an action, as shown ("/" stays whole, unlike splitting `keys_of`).
    pub fn first_key(&self, action: Action) -> Option<String> {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first())
            .map(|k| k.to_string())
    }

    /// Turn the time cursor keys on (replay) or off.
    pub fn set_replay(&mut self, on: bool) {
        self.replay = on;
    }

    /// Are the time cursor keys on?
    pub fn is_replay(&self) -> bool {
        self.replay
    }

    /// Every configurable binding: (config name, keys as shown, help text). The time cursor
    /// keys are listed only in replay.
    pub fn help_rows(&self) -> Vec<(&'static str, String, &'static str)> {
        self.help_rows_in(true)
    }

    /// [`KeyMap::help_rows`], without the keys of the message inspector's own screens unless
    /// `inspecting` (the help was opened over them), as the time cursor keys outside replay.
    pub fn help_rows_in(&self, inspecting: bool) -> Vec<(&'static str, String, &'static str)> {
        self.bindings
            .iter()
            .filter(|b| self.replay || !b.replay)
            .filter(|b| inspecting || !b.scope.inspector_only())
            .map(|b| (b.name, self.keys_of(b.action), b.help))
            .collect()
    }
}

/// The action for a key press in a mode, if any. Ctrl-C always quits.
pub fn action_for(key: KeyEvent, mode: Mode, map: &KeyMap) -> Option<Action> {
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return Some(Action::Quit);
    }
    if mode == Mode::Confirm {
        return match key.code {
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => Some(Action::Yes),
            KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Action::No),
            _ => None,
        };
    }
    if mode == Mode::Columns {
        return match key.code {
            KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
            KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
            KeyCode::Char(' ') | KeyCode::Enter => Some(Action::Toggle),
            KeyCode::Esc | KeyCode::Char('C' | 'q') => Some(Action::Back),
            _ => None,
        };
    }
    if mode == Mode::Prompt {
        return match key.code {
            KeyCode::Esc => Some(Action::Cancel),
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                Some(Action::Input(c))
            }
            _ => None,
        };
    }
    let found = |replay: bool| {
        map.bindings
            .iter()
            .filter(|b| b.replay == replay && b.scope.contains(mode))
            .find(|b| b.keys.iter().any(|k| k.matches(&key)))
            .map(|b| b.action)
    };
    let action = if map.replay {
        found(true).or_else(|| found(false))
    } else {
        found(false)
    };
    // Inside the help, the quit key closes it (Ctrl-C above still quits).
    match (mode, action) {
        (Mode::Help, Some(Action::Quit)) => Some(Action::Back),
        _ => action,
    }
}

/// What the command-making actions need to know about the selection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Selection {
    pub session: Option<SessionId>,
    pub target: Option<usize>,
    /// The selected session's retries are paused.
    pub paused: bool,
    /// All retries are paused.
    pub paused_all: bool,
}

/// The command an action sends right away, if it sends one. `Add` and `Close` first ask for
/// input (see [`super::prompt`]); navigation and view actions send nothing.
pub fn command_for(action: Action, sel: &Selection) -> Option<Command> {
    match action {
        Action::Quit => Some(Command::Shutdown),
        Action::Export => Some(Command::FlushExport),
        Action::ReconnectAll => Some(Command::ReconnectNow { session: None }),
        Action::PauseAll => Some(Command::SetPaused {
            session: None,
            paused: !sel.paused_all,
        }),
        Action::Reconnect => sel
            .session
            .map(|id| Command::ReconnectNow { session: Some(id) }),
        Action::Pause => sel.session.map(|id| Command::SetPaused {
            session: Some(id),
            paused: !sel.paused,
        }),
        Action::Grow => sel.target.map(|target| Command::Grow { target, count: 1 }),
        Action::Shrink => sel
            .target
            .map(|target| Command::Shrink { target, count: 1 }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ch(c: char) -> KeyEvent {
        let mods = if c.is_ascii_uppercase() {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        KeyEvent::new(KeyCode::Char(c), mods)
    }

    #[test]
    fn default_map_has_no_conflicts() {
        assert!(KeyMap::from_config(&BTreeMap::new()).is_ok());
        for spec in SPECS.iter().chain(REPLAY_SPECS) {
            assert!(parse_keys(spec.keys).is_ok(), "{}", spec.name);
        }
    }

    #[test]
    fn shift_is_part_of_the_character() {
        let map = KeyMap::default();
        assert_eq!(
            action_for(ch('P'), Mode::Sessions, &map),
            Some(Action::PauseAll)
        );
        assert_eq!(
            action_for(ch('p'), Mode::Sessions, &map),
            Some(Action::Pause)
        );
        let question = KeyEvent::new(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(action_for(question, Mode::Storm, &map), Some(Action::Help));
    }

    #[test]
    fn same_key_differs_by_mode() {
        let map = KeyMap::default();
        assert_eq!(
            action_for(ch('c'), Mode::Sessions, &map),
            Some(Action::Close)
        );
        assert_eq!(
            action_for(ch('c'), Mode::Explain, &map),
            Some(Action::Compare)
        );
        assert_eq!(action_for(ch('c'), Mode::Storm, &map), None);
        assert_eq!(
            action_for(press(KeyCode::Esc), Mode::Sessions, &map),
            Some(Action::Back),
            "Esc on the main screen clears the filters"
        );
        assert_eq!(action_for(ch('q'), Mode::Help, &map), Some(Action::Back));
    }

    #[test]
    fn parse_keys_forms() {
        assert_eq!(
            Key::parse("ctrl-x"),
            Ok(Key {
                code: KeyCode::Char('x'),
                modifiers: KeyModifiers::CONTROL
            })
        );
        assert_eq!(Key::parse("F5").map(|k| k.code), Ok(KeyCode::F(5)));
        assert_eq!(Key::parse("F").map(|k| k.code), Ok(KeyCode::Char('F')));
        assert_eq!(Key::parse("-").map(|k| k.code), Ok(KeyCode::Char('-')));
        assert_eq!(Key::parse("PgDn").map(|k| k.code), Ok(KeyCode::PageDown));
        assert!(Key::parse("hyper-q").is_err());
        assert!(Key::parse("").is_err());
        assert!(Key::parse("f13").is_err());
    }
}
