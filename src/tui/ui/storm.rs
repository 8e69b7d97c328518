//! The storm tab: attempts/s, closes/s by code and open sessions over time; a close-code
//! histogram with names; the lockstep index with a plain warning; the retry forecast.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, RenderDirection, Sparkline, Wrap};

use crate::state::snapshot::{SecondSample, Snapshot};
use crate::state::storm::{LOCKSTEP_MIN_ATTEMPTS, LOCKSTEP_RECENT_SECONDS};

use super::Theme;
use super::header::{LOCKSTEP_HIGH, LOCKSTEP_MID, lockstep_word};
use crate::tui::view::ViewState;

/// At most this many seconds are charted.
pub const CHART_SECONDS: usize = 120;
/// Close codes charted as their own series (the rest are summed).
const CHART_CODES: usize = 2;

pub fn draw(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let right_w = (area.width / 2).min(42);
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(right_w)]).areas(area);
    match &view.replay {
        // Replay: the whole recording, with the cursor marked.
        Some(r) => super::timeline::draw(frame, left, snap, view, r, t),
        None => series_panel(frame, left, snap, view, t),
    }
    side_panel(frame, right, snap, view, t);
}

/// One charted series: a title and one value per second, oldest first.
struct Series {
    title: String,
    /// The title for narrow panels.
    title_short: String,
    values: Vec<u64>,
    style: ratatui::style::Style,
}

/// The series of the storm view: attempts/s, closes/s of the most frequent codes (and the rest),
/// and open sessions.
fn series(snap: &Snapshot, view: &ViewState, points: usize, t: Theme) -> Vec<Series> {
    let seconds = &snap.storm.seconds;
    let keep = points.min(CHART_SECONDS);
    let samples: Vec<&SecondSample> = seconds
        .iter()
        .skip(seconds.len().saturating_sub(keep))
        .collect();
    let mut out = vec![Series {
        title: "attempts/s".to_string(),
        title_short: "attempts/s".to_string(),
        values: samples.iter().map(|s| s.attempts).collect(),
        style: t.series(0),
    }];
    // The codes charted are the most frequent in the charted window.
    let mut in_window: std::collections::BTreeMap<u16, u64> = std::collections::BTreeMap::new();
    for s in &samples {
        for (c, n) in &s.closes {
            *in_window.entry(*c).or_default() += n;
        }
    }
    let mut codes: Vec<(u16, u64)> = in_window.into_iter().filter(|(_, n)| *n > 0).collect();
    codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: Vec<u16> = codes.iter().take(CHART_CODES).map(|c| c.0).collect();
    for (i, code) in top.iter().enumerate() {
        out.push(Series {
            title: format!(
                "closes/s {code} {}",
                view.registry.name_in(*code, view.lang)
            ),
            title_short: format!("closes/s {code}"),
            values: samples
                .iter()
                .map(|s| s.closes.get(code).copied().unwrap_or(0))
                .collect(),
            style: t.series(i + 1),
        });
    }
    if codes.len() > CHART_CODES {
        out.push(Series {
            title: "closes/s other codes".to_string(),
            title_short: "closes/s other".to_string(),
            values: samples
                .iter()
                .map(|s| {
                    s.closes
                        .iter()
                        .filter(|(c, _)| !top.contains(c))
                        .map(|(_, n)| *n)
                        .sum()
                })
                .collect(),
            style: t.series(CHART_CODES + 1),
        });
    } else if top.is_empty() {
        out.push(Series {
            title: "closes/s".to_string(),
            title_short: "closes/s".to_string(),
            values: samples.iter().map(|s| s.closes.values().sum()).collect(),
            style: t.series(1),
        });
    }
    out.push(Series {
        title: "open sessions".to_string(),
        title_short: "open".to_string(),
        values: samples.iter().map(|s| s.open).collect(),
        style: t.good(),
    });
    out
}

fn series_panel(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    let all = series(snap, view, usize::from(area.width.saturating_sub(2)), t);
    let areas = Layout::vertical(all.iter().map(|_| Constraint::Fill(1))).split(area);
    for (s, a) in all.iter().zip(areas.iter()) {
        // Newest at the right edge: feed the newest first and draw right to left.
        let newest_first: Vec<u64> = s.values.iter().rev().copied().collect();
        let now = newest_first.first().copied().unwrap_or(0);
        let peak = newest_first.iter().copied().max().unwrap_or(0);
        let stats = format!("now {now} peak {peak} ");
        // On a narrow panel the code's name goes, so that the numbers stay.
        let room = usize::from(a.width.saturating_sub(3));
        let title = if s.title.chars().count() + 2 + stats.len() <= room {
            s.title.as_str()
        } else {
            s.title_short.as_str()
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Line::from(vec![
                Span::styled(format!(" {title} "), t.heading()),
                Span::styled(stats, t.dim()),
            ]))
            .title_bottom(
                Line::styled(
                    format!(" last {}s, newest right ", newest_first.len()),
                    t.dim(),
                )
                .right_aligned(),
            );
        let inner = block.inner(*a);
        frame.render_widget(block, *a);
        let spark = Sparkline::default()
            .data(&newest_first)
            .max(peak.max(1))
            .direction(RenderDirection::RightToLeft)
            .style(s.style);
        frame.render_widget(spark, inner);
    }
}

/// The lockstep warning in plain words, if retries are in step.
pub fn lockstep_warning(l: Option<f64>) -> Option<String> {
    let l = l?;
    if l >= LOCKSTEP_HIGH {
        Some(format!(
            "Retries are in step: {:.0}% of each second's attempts land in one 100 ms \
             slice, a herd. Use --jitter full; reset backoff only after --stable-after.",
            l * 100.0
        ))
    } else if l >= LOCKSTEP_MID {
        Some(format!(
            "Retries cluster: {:.0}% of each second's attempts land in one 100 ms slice.",
            l * 100.0
        ))
    } else {
        None
    }
}

fn side_panel(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    let warning = lockstep_warning(snap.storm.lockstep);
    let n_codes = u16::try_from(snap.totals.closes_by_code.len().clamp(1, 10)).unwrap_or(10);
    let [hist, lock, fc] = Layout::vertical([
        Constraint::Length(n_codes + 2),
        Constraint::Fill(1),
        Constraint::Length(3),
    ])
    .areas(area);

    // Histogram of close codes with names.
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" close codes ")
        .title_style(t.heading());
    let inner = block.inner(hist);
    frame.render_widget(block, hist);
    let mut codes: Vec<(u16, u64)> = snap
        .totals
        .closes_by_code
        .iter()
        .map(|(c, n)| (*c, *n))
        .collect();
    codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let max = codes.first().map_or(0, |c| c.1);
    let w = usize::from(inner.width);
    // Counts right-aligned in one column, so they compare at a glance; bars after them.
    let count_w = max.to_string().len();
    let lines: Vec<Line> = if codes.is_empty() {
        vec![Line::styled("no closes yet", t.dim())]
    } else {
        codes
            .iter()
            .map(|(code, n)| {
                let name_w = w.saturating_sub(5 + count_w + 1 + 6).min(22);
                let name = view.registry.name_in(*code, view.lang);
                let name = super::format::fit(&name, name_w).into_owned();
                let bar_room = w.saturating_sub(5 + name_w + 1 + count_w + 1);
                let bar_len = if max == 0 {
                    0
                } else {
                    ((*n as f64 / max as f64) * bar_room as f64).ceil() as usize
                };
                Line::from(vec![
                    Span::styled(format!("{code} "), t.code(*code)),
                    Span::raw(format!("{name:<name_w$} {n:>count_w$} ")),
                    Span::styled("█".repeat(bar_len.min(bar_room)), t.code(*code)),
                ])
            })
            .collect()
    };
    frame.render_widget(Paragraph::new(lines), inner);

    // Lockstep index and warning.
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" lockstep ")
        .title_style(t.heading());
    let inner = block.inner(lock);
    frame.render_widget(block, lock);
    let mut lines = vec![match snap.storm.lockstep {
        Some(l) => Line::from(vec![
            Span::styled(
                format!("{l:.2} {}", lockstep_word(l)),
                if l >= LOCKSTEP_HIGH {
                    t.warn()
                } else {
                    t.plain()
                },
            ),
            Span::styled("  (1.0 herd, ~0.1 even)", t.dim()),
        ]),
        None => Line::styled(
            format!(
                "too few recent attempts to tell (needs {LOCKSTEP_MIN_ATTEMPTS} in one second, \
                 in the last {LOCKSTEP_RECENT_SECONDS} s)"
            ),
            t.dim(),
        ),
    }];
    if let Some(w) = warning {
        lines.push(Line::styled(w, t.warn()));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);

    // Forecast.
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" retries due ")
        .title_style(t.heading());
    let inner = block.inner(fc);
    frame.render_widget(block, fc);
    let f = snap.storm.forecast;
    let line = Line::from(vec![
        Span::styled("next 1s ", t.label()),
        Span::raw(f[0].to_string()),
        Span::styled("  5s ", t.label()),
        Span::raw(f[1].to_string()),
        Span::styled("  30s ", t.label()),
        Span::raw(f[2].to_string()),
    ]);
    frame.render_widget(Paragraph::new(line), inner);
}
