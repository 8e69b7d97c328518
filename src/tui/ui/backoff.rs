//! The session detail's backoff timeline: one row per attempt (cause, rule, window, delay,
//! outcome) and the attempts drawn on a time axis, so doubling gaps show.

use chrono::{DateTime, Utc};
use ratatui::text::{Line, Span};

use crate::engine::events::{Cause, SessionState};
use crate::state::snapshot::{AttemptRecord, SessionView, Snapshot};

use super::Theme;
use super::rows::Rows;
use crate::tui::format;
use crate::tui::view::ViewState;

fn opt_ms(v: Option<u64>) -> String {
    v.map_or_else(|| "-".to_string(), format::duration_ms)
}

pub fn timeline_lines(
    out: &mut Rows,
    s: &SessionView,
    snap: &Snapshot,
    view: &ViewState,
    t: Theme,
) {
    let n = s.timeline.len();
    // Attempts made (the pending one is not made yet), so the count agrees with "attempt N"
    // above and the ATT column.
    let made = s.timeline.iter().filter(|r| r.started_at.is_some()).count();
    let pending = n - made;
    let next = if pending > 0 {
        format!(", attempt {} due", s.attempt.saturating_add(1))
    } else {
        String::new()
    };
    let title = if s.timeline_dropped > 0 {
        format!(
            "Backoff timeline (last {made} attempts{next}; {} earlier not kept; times {})",
            s.timeline_dropped,
            view.zone()
        )
    } else {
        format!(
            "Backoff timeline ({made} attempt{}{next}; times {})",
            if made == 1 { "" } else { "s" },
            view.zone()
        )
    };
    out.heading(title);
    if n == 0 {
        out.push(Line::styled("  no attempt yet", t.dim()));
        return;
    }
    out.push(Line::styled(
        format!(
            "  {:>4}  {:<11} {:<9} {:>6} {:>6} {:>6}  {:<11} {:>7}",
            "#", "cause", "rule", "window", "delay", "retry", "outcome", "uptime"
        ),
        t.label(),
    ));
    let max_window = s.timeline.iter().filter_map(|r| r.window_ms).max();
    let bar_room = usize::from(out.width).saturating_sub(76).clamp(4, 32);
    for r in &s.timeline {
        let bar = match (r.window_ms, max_window) {
            (Some(w), Some(m)) if m > 0 => {
                let len = ((w as f64 / m as f64) * bar_room as f64).round() as usize;
                "█".repeat(len.max(1))
            }
            _ => String::new(),
        };
        let outcome = r
            .outcome
            .as_ref()
            .map_or_else(|| "pending".to_string(), format::outcome);
        let rule = if r.manual {
            "manual r"
        } else {
            r.kind.map_or("-", format::delay_kind)
        };
        out.push(Line::from(vec![
            Span::raw(format!(
                "  {:>4}  {:<11} {:<9} {:>6} {:>6} {:>6}  ",
                r.attempt,
                r.cause.as_ref().map_or_else(|| "-".to_string(), cause_cell),
                rule,
                opt_ms(r.window_ms),
                opt_ms(r.delay_ms),
                opt_ms(r.retry_after_ms),
            )),
            Span::raw(format!("{outcome:<11} {:>7}  ", opt_ms(r.uptime_ms))),
            Span::styled(bar, t.series(0)),
            // Waiting for a handshake slot (--max-connecting, --ramp), apart from the delay.
            Span::styled(
                match r.slot_wait_ms {
                    Some(w) if w > 0 => format!(" slot wait {}", opt_ms(Some(w))),
                    _ => String::new(),
                },
                t.dim(),
            ),
        ]));
        // When it happened, on the wall clock: the backoff decision, the start, the end.
        let mut when = Vec::new();
        if let Some(at) = r.scheduled_at {
            when.push(format!("decided {}", view.time(at)));
        }
        match (r.started_at, r.scheduled_at, r.delay_ms) {
            (Some(at), _, _) => when.push(format!("started {}", view.time(at))),
            (None, Some(at), Some(d)) => when.push(format!(
                "due {}",
                view.time(at + chrono::TimeDelta::milliseconds(i64::try_from(d).unwrap_or(0)))
            )),
            _ => {}
        }
        if let Some(at) = r.ended_at {
            when.push(format!("ended {}", view.time(at)));
        }
        // The connection cause in full (`connection goaway NO_ERROR`) where there is room.
        if let Some(c @ Cause::Connection { .. }) = r.cause {
            when.push(format::cause(&c));
        }
        if !when.is_empty() {
            out.push(Line::styled(
                format!("        {}", when.join("  ")),
                t.dim(),
            ));
        }
    }
    out.push(Line::raw(""));
    axis_lines(out, s, snap.now, t);
}

/// The cause column (11 wide): a connection cause short (`h2 goaway`), its full label goes
/// on the line under the row.
fn cause_cell(c: &Cause) -> String {
    use crate::protocol::http2::LossReason;
    match c {
        Cause::Connection { reason, .. } => match reason {
            LossReason::Goaway => "h2 goaway",
            LossReason::Reset => "h2 reset",
            LossReason::Eof => "h2 eof",
            LossReason::PingTimeout => "h2 ping",
            LossReason::Protocol => "h2 protocol",
            LossReason::RstStream => "h2 rst",
        }
        .to_string(),
        c => format::cause(c),
    }
}

/// Column of time `at` on an axis from `t0` spanning `span_ms` over `cols` columns.
fn column(at: DateTime<Utc>, t0: DateTime<Utc>, span_ms: u64, cols: usize) -> usize {
    let offset = u64::try_from((at - t0).num_milliseconds()).unwrap_or(0);
    if span_ms == 0 || cols <= 1 {
        return 0;
    }
    ((offset as f64 / span_ms as f64) * (cols - 1) as f64).round() as usize
}

/// The attempts drawn on a time axis: attempt numbers above markers, so doubling gaps show.
fn axis_lines(out: &mut Rows, s: &SessionView, now: DateTime<Utc>, t: Theme) {
    let starts: Vec<(&AttemptRecord, DateTime<Utc>)> = s
        .timeline
        .iter()
        .filter_map(|r| r.started_at.map(|at| (r, at)))
        .collect();
    let Some(&(_, t0)) = starts.first() else {
        return;
    };
    let next = s
        .next_attempt_at
        .filter(|_| s.state == SessionState::Waiting);
    let end = next.map_or(now, |n| n.max(now));
    let span_ms = u64::try_from((end - t0).num_milliseconds()).unwrap_or(0);
    let cols = usize::from(out.width).saturating_sub(4).min(100);
    if cols < 10 {
        return;
    }
    out.heading(format!(
        "Attempts on a time axis (0 .. {})",
        format::duration_ms(span_ms)
    ));
    let mut labels = vec![' '; cols];
    let mut marks = vec![' '; cols];
    let first = column(t0, t0, span_ms, cols);
    let last_start = starts.last().map_or(t0, |(_, at)| *at);
    let last = column(last_start, t0, span_ms, cols);
    for m in marks.iter_mut().take(last + 1).skip(first) {
        *m = '─';
    }
    let now_col = column(now, t0, span_ms, cols);
    if let Some(n) = next {
        let c = column(n, t0, span_ms, cols);
        for m in marks.iter_mut().take(c).skip(last + 1) {
            *m = '┄';
        }
        if let Some(m) = marks.get_mut(c) {
            *m = '○';
        }
    }
    for (_, at) in &starts {
        if let Some(m) = marks.get_mut(column(*at, t0, span_ms, cols)) {
            *m = '●';
        }
    }
    // Attempt numbers above their markers, newest first: where early attempts crowd together,
    // a number is left out rather than written over another one.
    for (r, at) in starts.iter().rev() {
        let c = column(*at, t0, span_ms, cols);
        let label: Vec<char> = r.attempt.to_string().chars().collect();
        let free = |k: usize| labels.get(k).is_none_or(|l| *l == ' ');
        let clear = (c.saturating_sub(1)..=c + label.len()).all(free);
        if clear && c + label.len() <= cols {
            labels[c..c + label.len()].copy_from_slice(&label);
        }
    }
    if let Some(m) = marks.get_mut(now_col)
        && matches!(*m, ' ' | '─' | '┄')
    {
        *m = '|';
    }
    let mut scale = vec![' '; cols];
    let ticks = [
        (0usize, "0s".to_string()),
        (cols / 2, format::duration_ms(span_ms / 2)),
        (cols.saturating_sub(1), format::duration_ms(span_ms)),
    ];
    for (i, (pos, text)) in ticks.iter().enumerate() {
        let len = text.chars().count();
        let start = match i {
            0 => *pos,
            1 => pos.saturating_sub(len / 2),
            _ => (pos + 1).saturating_sub(len),
        };
        for (k, ch) in text.chars().enumerate() {
            if let Some(cell) = scale.get_mut(start + k) {
                *cell = ch;
            }
        }
    }
    let indent = "  ";
    out.push(Line::raw(format!(
        "{indent}{}",
        labels.iter().collect::<String>().trim_end()
    )));
    out.push(Line::styled(
        format!("{indent}{}", marks.iter().collect::<String>().trim_end()),
        t.series(0),
    ));
    out.push(Line::styled(
        format!("{indent}{}", scale.iter().collect::<String>().trim_end()),
        t.dim(),
    ));
    out.push(Line::styled(
        format!("{indent}● attempt   | now   ○ next attempt"),
        t.dim(),
    ));
}
