//! The storm tab: attempts/s, closes/s by code and open sessions over time, each chart with a
//! value axis and a wall-clock time axis, over the whole width; a histogram of every outcome the
//! header counts (close codes, HTTP statuses, errors); the lockstep verdict against chance with
//! what to do about it; the retry forecast.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, RenderDirection, Sparkline};

use crate::engine::events::Jitter;
use crate::state::snapshot::{LockstepLevel, LockstepVerdict, SecondSample, Snapshot};
use crate::state::storm::{LOCKSTEP_MIN_SAMPLE, LOCKSTEP_RECENT_SECONDS};

use super::Theme;
use super::header::lockstep_style;
use crate::tui::view::ViewState;

/// Close codes charted as their own series (the rest are summed).
const CHART_CODES: usize = 2;

pub fn draw(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let right_w = (area.width / 2).min(44);
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
    style: Style,
}

/// The series of the storm view over `samples`: attempts/s, closes/s of the most frequent codes
/// (and the rest), and open sessions.
fn series(samples: &[&SecondSample], view: &ViewState, t: Theme) -> Vec<Series> {
    let mut out = vec![Series {
        title: "attempts/s".to_string(),
        title_short: "attempts/s".to_string(),
        values: samples.iter().map(|s| s.attempts).collect(),
        style: t.series(0),
    }];
    // The codes charted are the most frequent in the charted window.
    let mut in_window: std::collections::BTreeMap<u16, u64> = std::collections::BTreeMap::new();
    for s in samples {
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
    // Open sessions that went silent (`--stale-after`): charted once some were.
    if samples.iter().any(|s| s.stale > 0) {
        out.push(Series {
            title: "stale sessions (open, no message)".to_string(),
            title_short: "stale".to_string(),
            values: samples.iter().map(|s| s.stale).collect(),
            style: t.warn(),
        });
    }
    out
}

/// One value per cell of a chart `cols` cells wide, oldest first: a long history shows its
/// newest `cols` seconds; a short one is stretched over the whole width (each second takes
/// `cols / n` cells, give or take one).
pub fn stretch(values: &[u64], cols: usize) -> Vec<u64> {
    let n = values.len();
    if n == 0 || cols == 0 {
        return Vec::new();
    }
    if n >= cols {
        return values[n - cols..].to_vec();
    }
    (0..cols).map(|c| values[c * n / cols]).collect()
}

/// The wall-clock label of a chart's time axis at unix second `sec`.
fn time_label(view: &ViewState, sec: i64) -> String {
    chrono::DateTime::from_timestamp(sec, 0).map_or_else(String::new, |t| view.time_short(t))
}

fn series_panel(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    let seconds = &snap.storm.seconds;
    // The value labels take the width of the largest peak, plus a space.
    let peak_all = seconds
        .iter()
        .map(|s| s.attempts.max(s.open).max(s.closes.values().sum()))
        .max()
        .unwrap_or(0);
    let label_w = peak_all.to_string().len() + 1;
    let cols = usize::from(area.width.saturating_sub(2)).saturating_sub(label_w);
    let n = seconds.len().min(cols);
    let samples: Vec<&SecondSample> = seconds.iter().skip(seconds.len() - n).collect();
    let all = series(&samples, view, t);
    let areas = Layout::vertical(all.iter().map(|_| Constraint::Fill(1))).split(area);
    let first = samples.first().map(|s| s.second);
    let last = samples.last().map(|s| s.second);
    for (s, a) in all.iter().zip(areas.iter()) {
        let now = s.values.last().copied().unwrap_or(0);
        let peak = s.values.iter().copied().max().unwrap_or(0);
        let stats = format!("now {now} peak {peak} ");
        // On a narrow panel the code's name goes, so that the numbers stay.
        let room = usize::from(a.width.saturating_sub(3));
        let title = if s.title.chars().count() + 2 + stats.len() <= room {
            s.title.as_str()
        } else {
            s.title_short.as_str()
        };
        let mut block = Block::default()
            .borders(Borders::ALL)
            .title(Line::from(vec![
                Span::styled(format!(" {title} "), t.heading()),
                Span::styled(stats, t.dim()),
            ]));
        // The time axis on the bottom border: oldest, middle and newest second shown.
        if let (Some(first), Some(last)) = (first, last) {
            let pad = " ".repeat(label_w);
            block = block
                .title_bottom(Line::styled(
                    format!("{pad}{} ", time_label(view, first)),
                    t.dim(),
                ))
                .title_bottom(Line::styled(format!(" {} ", view.zone()), t.dim()).centered())
                .title_bottom(
                    Line::styled(format!(" {}", time_label(view, last)), t.dim()).right_aligned(),
                );
        }
        let inner = block.inner(*a);
        frame.render_widget(block, *a);
        if inner.height == 0 || inner.width == 0 {
            continue;
        }
        let [axis, chart] = Layout::horizontal([
            Constraint::Length(u16::try_from(label_w).unwrap_or(1)),
            Constraint::Fill(1),
        ])
        .areas(inner);
        // The value axis: the peak at the top, 0 at the bottom, half way when there is room.
        let h = usize::from(axis.height);
        let mut labels = vec![String::new(); h];
        labels[0] = peak.max(1).to_string();
        if h >= 2 {
            labels[h - 1] = "0".to_string();
        }
        if h >= 5 && peak >= 2 {
            let mid = h / 2;
            let value = peak * (h - 1 - mid) as u64 / (h - 1) as u64;
            labels[mid] = value.to_string();
        }
        let w = label_w - 1;
        let lines: Vec<Line> = labels
            .into_iter()
            .map(|l| Line::styled(format!("{l:>w$}┤"), t.dim()))
            .collect();
        frame.render_widget(Paragraph::new(lines), axis);
        // Newest at the right edge: feed the newest first and draw right to left.
        let cells = usize::from(chart.width);
        let newest_first: Vec<u64> = stretch(&s.values, cells).into_iter().rev().collect();
        let spark = Sparkline::default()
            .data(&newest_first)
            .max(peak.max(1))
            .direction(RenderDirection::RightToLeft)
            .style(s.style);
        frame.render_widget(spark, chart);
    }
}

fn jitter_name(j: Jitter) -> &'static str {
    match j {
        Jitter::Full => "full",
        Jitter::Equal => "equal",
        Jitter::Decorrelated => "decorrelated",
        Jitter::None => "none",
    }
}

/// What a lockstep verdict means and what to do, in plain words (`None` when spread).
pub fn lockstep_advice(v: &LockstepVerdict, jitter: Option<Jitter>) -> Option<String> {
    let pct = |x: f64| x * 100.0;
    let seen = format!(
        "{:.0}% of each second's attempts land in one 100 ms slice; independent retries would \
         put {:.0}% there.",
        pct(v.share),
        pct(v.chance)
    );
    match v.level {
        LockstepLevel::Spread => None,
        LockstepLevel::Clustered => Some(format!("Retries cluster: {seen}")),
        LockstepLevel::InStep => Some(match jitter {
            Some(Jitter::None) => format!(
                "Retries are in step, a herd: {seen} Backoff has no jitter: use --jitter full; \
                 reset backoff only after --stable-after."
            ),
            Some(j) => format!(
                "Retries are in step although jitter is on ({}): {seen} Something else ends \
                 sessions together: the server closing them in batches, a shared restart or \
                 network drop, or all of them starting at once. See which closes/s chart \
                 peaks with the attempts.",
                jitter_name(j)
            ),
            None => format!(
                "Retries are in step: {seen} They follow closes that come together (a server \
                 closing in batches, a shared restart)."
            ),
        }),
    }
}

/// One outcome of the histogram: a close code, an HTTP status or an error kind.
struct Bar {
    label: String,
    name: String,
    count: u64,
    style: Style,
}

/// The same outcomes as the header's closes line: close codes, HTTP statuses (not 101) and
/// error kinds, most frequent first.
fn outcomes(snap: &Snapshot, view: &ViewState, t: Theme) -> Vec<Bar> {
    let totals = &snap.totals;
    let mut bars: Vec<(u8, Bar)> = Vec::new();
    for (code, n) in &totals.closes_by_code {
        bars.push((
            0,
            Bar {
                label: code.to_string(),
                name: view.registry.name_in(*code, view.lang).to_string(),
                count: *n,
                style: t.code(*code),
            },
        ));
    }
    for (status, n) in totals.refused_statuses() {
        bars.push((
            1,
            Bar {
                label: "HTTP".to_string(),
                name: status.to_string(),
                count: n,
                style: t.error(),
            },
        ));
    }
    for (kind, n) in &totals.errors {
        bars.push((
            2,
            Bar {
                label: "error".to_string(),
                name: kind.as_str().to_string(),
                count: *n,
                style: t.error(),
            },
        ));
    }
    bars.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(&b.0)));
    bars.into_iter().map(|(_, b)| b).collect()
}

/// Over HTTP/2, the connections whose loss took most sessions down with them, largest first:
/// "140 sessions lost with connection c3" (at most two).
fn lost_connections(snap: &Snapshot) -> Vec<String> {
    let mut lost: Vec<(u32, u64)> = snap
        .totals
        .lost_connections
        .iter()
        .map(|(c, n)| (*c, *n))
        .collect();
    lost.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    lost.into_iter()
        .take(2)
        .map(|(c, n)| {
            let what = if n == 1 { "session" } else { "sessions" };
            format!("{n} {what} lost with connection c{c}")
        })
        .collect()
}

/// The lockstep verdict and what to do, wrapped to `width`.
fn lockstep_lines(snap: &Snapshot, width: usize, t: Theme) -> Vec<Line<'static>> {
    let mut paras: Vec<(String, Style)> = lost_connections(snap)
        .into_iter()
        .map(|l| (l, t.error()))
        .collect();
    match &snap.storm.verdict {
        Some(v) => {
            let verdict = format!("{:.2} {}", v.share, v.level.as_str());
            let chance = format!("chance {:.2}, {} attempts", v.chance, v.attempts);
            // The verdict and its numbers on one line if they fit, else on two.
            if verdict.len() + 2 + chance.len() <= width {
                paras.push((format!("{verdict}  {chance}"), lockstep_style(v.level, t)));
            } else {
                paras.push((verdict, lockstep_style(v.level, t)));
                paras.push((chance, t.dim()));
            }
            match lockstep_advice(v, snap.storm.jitter) {
                Some(a) => paras.push((a, lockstep_style(v.level, t))),
                None => paras.push((
                    "Retries are no more bunched than independent ones would be.".to_string(),
                    t.dim(),
                )),
            }
        }
        None => paras.push((
            format!(
                "too few recent attempts to judge (needs {LOCKSTEP_MIN_SAMPLE} in the last \
                 {LOCKSTEP_RECENT_SECONDS} s)"
            ),
            t.dim(),
        )),
    }
    paras
        .into_iter()
        .flat_map(|(text, style)| {
            let lines = if text.chars().count() <= width {
                vec![text]
            } else {
                crate::tui::format::wrap(&text, width.max(1))
            };
            lines.into_iter().map(move |l| Line::styled(l, style))
        })
        .collect()
}

/// At most `height` lines, ending at the end of a sentence: prose that does not fit loses its
/// last sentences, never half of one.
fn whole_sentences(mut lines: Vec<Line<'static>>, height: usize) -> Vec<Line<'static>> {
    if lines.len() <= height {
        return lines;
    }
    lines.truncate(height);
    while let Some(last) = lines.last() {
        let text = last.to_string();
        if text.trim_end().ends_with('.') || lines.len() == 1 {
            break;
        }
        // Cut the line after its last full stop, if it has one.
        if let Some(i) = text.rfind(". ") {
            let style = last.style;
            let kept = text[..=i].to_string();
            lines.pop();
            lines.push(Line::styled(kept, style));
            break;
        }
        lines.pop();
    }
    lines
}

fn side_panel(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    let bars = outcomes(snap, view, t);
    // The lockstep text gets the room it needs first (the histogram repeats the header's
    // closes line, and says "+N more" when short).
    let lock_lines = lockstep_lines(snap, usize::from(area.width.saturating_sub(2)), t);
    let lock_need = u16::try_from(lock_lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let room_for_bars = area.height.saturating_sub(3 + 2 + lock_need).max(1);
    let rows = u16::try_from(bars.len().clamp(1, 10))
        .unwrap_or(10)
        .min(room_for_bars);
    let [hist, lock, fc] = Layout::vertical([
        Constraint::Length(rows + 2),
        Constraint::Fill(1),
        Constraint::Length(3),
    ])
    .areas(area);

    // Histogram of every outcome, as the header counts them.
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" closes, HTTP answers, errors ")
        .title_style(t.heading());
    let inner = block.inner(hist);
    frame.render_widget(block, hist);
    let max = bars.first().map_or(0, |b| b.count);
    let w = usize::from(inner.width);
    let count_w = max.to_string().len();
    let label_w = bars.iter().map(|b| b.label.len()).max().unwrap_or(4).max(4);
    let show = usize::from(inner.height);
    let mut lines: Vec<Line> = Vec::new();
    if bars.is_empty() {
        lines.push(Line::styled("no closes yet", t.dim()));
    }
    let more = bars.len().saturating_sub(show);
    for (i, b) in bars.iter().enumerate() {
        if more > 0 && i + 1 == show {
            lines.push(Line::styled(format!("+{} more", bars.len() - i), t.dim()));
            break;
        }
        let name_w = w.saturating_sub(label_w + 1 + count_w + 1 + 6).min(22);
        let name = crate::tui::format::fit(&b.name, name_w).into_owned();
        let bar_room = w.saturating_sub(label_w + 1 + name_w + 1 + count_w + 1);
        let bar_len = if max == 0 {
            0
        } else {
            ((b.count as f64 / max as f64) * bar_room as f64).ceil() as usize
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<label_w$} ", b.label), b.style),
            Span::raw(format!("{name:<name_w$} {:>count_w$} ", b.count)),
            Span::styled("█".repeat(bar_len.min(bar_room)), b.style),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), inner);

    // Lockstep verdict and what to do.
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" lockstep (last 10 s) ")
        .title_style(t.heading());
    let inner = block.inner(lock);
    frame.render_widget(block, lock);
    frame.render_widget(
        Paragraph::new(whole_sentences(lock_lines, usize::from(inner.height))),
        inner,
    );

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connections_that_took_most_sessions_down_are_named() {
        let mut snap = Snapshot::default();
        assert!(lost_connections(&snap).is_empty());
        snap.totals
            .lost_connections
            .extend([(1, 3), (3, 140), (2, 1)]);
        assert_eq!(
            lost_connections(&snap),
            [
                "140 sessions lost with connection c3",
                "3 sessions lost with connection c1"
            ]
        );
    }

    #[test]
    fn short_history_is_stretched_over_the_width() {
        let v: Vec<u64> = (1..=3).collect();
        assert_eq!(stretch(&v, 7), vec![1, 1, 1, 2, 2, 3, 3]);
        assert_eq!(stretch(&v, 3), vec![1, 2, 3]);
        assert_eq!(stretch(&v, 2), vec![2, 3], "the newest seconds");
        let long: Vec<u64> = (0..600).collect();
        assert_eq!(stretch(&long, 180).len(), 180);
        assert_eq!(stretch(&long, 180)[179], 599);
        assert_eq!(stretch(&(0..46).collect::<Vec<u64>>(), 69).len(), 69);
        assert!(stretch(&[], 80).is_empty());
    }
}
