//! The detail's "Script" block: which step the session's script is at, what it waits for and
//! for how long, the values it captured on this connection (secret ones already redacted by
//! the engine) and, after a timeout, the last message that came.

use ratatui::text::Line;

use super::Theme;
use super::rows::Rows;
use crate::engine::events::ScriptPhase;
use crate::state::snapshot::{SessionView, Snapshot};
use crate::tui::format::{self, safe};

/// The block and a blank line after it; nothing for a session without a script.
pub fn script_lines(out: &mut Rows, s: &SessionView, snap: &Snapshot, t: Theme) {
    let Some(p) = &s.script else {
        return;
    };
    out.heading("Script");
    let spent = format::duration_ms(format::ms_since(p.since, snap.now));
    let (status, style) = match p.phase {
        ScriptPhase::Started => (format!("waiting {spent}"), t.warn()),
        ScriptPhase::Matched => (format!("matched {spent} ago"), t.good()),
        ScriptPhase::TimedOut => (format!("timed out {spent} ago"), t.error()),
    };
    // "step 3/5" says how far the script got; a built-in protocol's steps are not numbered.
    let step = match p.steps {
        0 => format!("step {}", p.step),
        n => format!("step {}/{n}", p.step),
    };
    out.kv(&step, &safe(&p.what), t.plain());
    out.kv("", &status, style);
    if !p.captured.is_empty() {
        let captured: Vec<String> = p
            .captured
            .iter()
            .map(|(k, v)| format!("{}={}", safe(k), safe(v)))
            .collect();
        out.kv("captured", &captured.join(", "), t.plain());
    }
    if let Some(last) = &p.last {
        out.kv("last msg", &safe(last), t.dim());
    }
    out.push(Line::raw(""));
}
