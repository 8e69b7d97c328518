//! Word wrapping for explanations: the TUI shows them in a pane about 76 columns wide.

/// Width of explanation text, in characters.
pub const WIDTH: usize = 76;

/// Width of the `--all` table: a terminal of 80 columns.
pub const TABLE_WIDTH: usize = 80;

/// Wrap `text` to `width` characters, starting the first line with `first` and the others with
/// `rest` (both counted in the width). Words longer than a line are cut. No line ends with a
/// space; an empty text gives the bare prefix trimmed.
pub fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut line_len = first.chars().count();
    let mut empty = true;
    let rest_len = rest.chars().count();
    for word in units(text) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let need = if empty { word.len() } else { word.len() + 1 };
            if line_len + need <= width {
                if !empty {
                    line.push(' ');
                }
                line.extend(word.iter());
                line_len += need;
                empty = false;
                break;
            }
            if !empty {
                lines.push(std::mem::take(&mut line));
                line = rest.to_string();
                line_len = rest_len;
                empty = true;
                continue;
            }
            // A word longer than a whole line: cut it.
            let room = width.saturating_sub(line_len).max(1);
            let tail = word.split_off(room.min(word.len()));
            line.extend(word.iter());
            lines.push(std::mem::take(&mut line));
            line = rest.to_string();
            line_len = rest_len;
            word = tail;
            if word.is_empty() {
                break;
            }
        }
    }
    if !empty || lines.is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// The words of `text`, with French spaced punctuation kept on the same line as its word:
/// "«" sticks to the next word; ":", ";", "!", "?" and "»" stick to the previous one.
fn units(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open_quote = false;
    for word in text.split_whitespace() {
        let attaches_back = matches!(word.chars().next(), Some(':' | ';' | '!' | '?' | '»'))
            && word.chars().count() <= 2;
        match out.last_mut() {
            Some(last) if open_quote || attaches_back => {
                last.push(' ');
                last.push_str(word);
            }
            _ => out.push(word.to_string()),
        }
        open_quote = word == "«";
    }
    out
}

/// Number of characters (the texts have no wide characters; good enough for alignment).
pub fn len(s: &str) -> usize {
    s.chars().count()
}

/// `s` padded with spaces to `width` characters.
pub fn pad(s: &str, width: usize) -> String {
    let n = len(s);
    if n >= width {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(width - n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_width_with_indents() {
        let text = "one two three four five six seven eight nine ten";
        let lines = wrap(text, 16, "- ", "  ");
        assert_eq!(
            lines,
            vec![
                "- one two three",
                "  four five six",
                "  seven eight",
                "  nine ten"
            ]
        );
        assert!(lines.iter().all(|l| len(l) <= 16 && !l.ends_with(' ')));
    }

    #[test]
    fn cuts_words_longer_than_a_line() {
        let lines = wrap("abcdefghijkl xy", 5, "", "");
        assert_eq!(lines, vec!["abcde", "fghij", "kl xy"]);
    }

    #[test]
    fn empty_text_gives_the_trimmed_prefix() {
        assert_eq!(wrap("   ", 10, "  ", "  "), vec![String::new()]);
        assert_eq!(wrap("", 10, "x: ", ""), vec!["x:".to_string()]);
    }

    #[test]
    fn french_punctuation_never_starts_a_line() {
        let text = "aaaa bbbb « cccc » dddd : eeee ; ffff";
        for width in 8..=text.len() {
            for line in wrap(text, width, "", "") {
                assert!(!line.ends_with('«'), "{width}: {line:?}");
                for p in [":", ";", "»"] {
                    assert!(!line.starts_with(p), "{width}: {line:?}");
                }
            }
        }
        assert_eq!(
            wrap(text, 11, "", ""),
            vec!["aaaa bbbb", "« cccc »", "dddd :", "eeee ; ffff"]
        );
    }

    #[test]
    fn accented_text_counts_characters() {
        let lines = wrap("Différences clés énumérées ici", 12, "", "");
        assert!(lines.iter().all(|l| len(l) <= 12), "{lines:?}");
    }
}
