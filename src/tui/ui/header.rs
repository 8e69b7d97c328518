//! The title bar (name, tabs, FROZEN / PAUSED badges, clock) and the three summary lines
//! (sessions by state, closes by code, rates and export).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::engine::events::SessionState;
use crate::state::snapshot::{LockstepLevel, Snapshot};

use super::{Theme, layout};
use crate::tui::format;
use crate::tui::view::{Tab, ViewState};

/// The style of a lockstep verdict.
pub fn lockstep_style(level: LockstepLevel, t: Theme) -> Style {
    match level {
        LockstepLevel::InStep => t.warn(),
        LockstepLevel::Clustered => t.plain(),
        LockstepLevel::Spread => t.good(),
    }
}

/// The left part of the title bar: text pieces, with the tab each piece switches to. The tabs
/// come before the free-form title, so they stay in place and visible on narrow screens (the
/// title is cut instead). `name`: the program's name first.
fn title_pieces(view: &ViewState, name: bool) -> Vec<(Option<Tab>, String)> {
    let mut out = Vec::new();
    if name {
        out.push((None, " wsmon ".to_string()));
    } else {
        out.push((None, " ".to_string()));
    }
    for tab in Tab::ALL {
        let name = tab.name();
        let text = if view.tab == tab {
            format!("[{name}]")
        } else {
            format!(" {name} ")
        };
        out.push((Some(tab), text));
    }
    out
}

/// How the title bar fits its width (see `layout.rs` for the order things shrink in).
struct TitlePlan {
    /// The program's name before the tabs.
    name: bool,
    /// The badges and the clock (or the replay cursor), right-aligned.
    right: Vec<Span<'static>>,
    /// The free-form title, as it fits.
    title: Option<String>,
}

/// A badge: its full text and a shorter one for narrow screens.
struct Badge {
    long: String,
    short: String,
    style: Style,
}

fn title_plan(snap: &Snapshot, view: &ViewState, width: usize, t: Theme) -> TitlePlan {
    let bar = t.title_bar();
    let mut badges = Vec::new();
    if snap.export_error.is_some() {
        let b = " EXPORT FAILED ".to_string();
        badges.push(Badge {
            long: b.clone(),
            short: b,
            style: t.alarm(),
        });
    }
    // The active filters, so a short table is never mistaken for the whole picture; the
    // status line below the table spells them out.
    if view.filtered() {
        badges.push(Badge {
            long: format!(" FILTER {} ", view.filter_summary()),
            short: " FILTER ".to_string(),
            style: t.badge(),
        });
    }
    if !view.marked.is_empty() {
        let b = format!(" {} MARKED ", view.marked.len());
        badges.push(Badge {
            long: b.clone(),
            short: b,
            style: t.badge(),
        });
    }
    if view.frozen.is_some() {
        let b = " FROZEN ".to_string();
        badges.push(Badge {
            long: b.clone(),
            short: b,
            style: t.badge(),
        });
    }
    if snap.totals.paused_all {
        let b = " PAUSED ".to_string();
        badges.push(Badge {
            long: b.clone(),
            short: b,
            style: t.badge(),
        });
    }
    let tabs = |name: bool| -> usize {
        title_pieces(view, name)
            .iter()
            .map(|p| layout::width(&p.1))
            .sum()
    };
    // The clock, or in replay the badge, the cursor and (if room) the file name.
    let mut tail: Vec<Span<'static>> = Vec::new();
    match &view.replay {
        Some(r) => {
            tail.push(Span::styled(" REPLAY ", t.badge()));
            let long = format!(" {} ", crate::tui::replay::cursor_text(r, snap));
            let short = format!(" {} ", crate::tui::replay::cursor_text_short(r, snap));
            let badges_w: usize = badges.iter().map(|b| layout::width(&b.short) + 1).sum();
            let fixed = tabs(true) + badges_w + 8;
            let cursor = if fixed + layout::width(&long) + 1 > width {
                short
            } else {
                long
            };
            // The file name goes first when the tabs and the cursor need the room.
            let room = width.saturating_sub(tabs(true) + badges_w + 8 + layout::width(&cursor) + 2);
            // A file name is never cut: whole, or left out.
            if layout::width(&r.file) + 2 <= room {
                tail.push(Span::styled(format!(" {} ", format::safe(&r.file)), bar));
            }
            tail.push(Span::styled(cursor, bar));
        }
        None => {
            let clock = match view.clock {
                crate::tui::view::Clock::Utc => format!("{}Z ", view.time_short(snap.now)),
                crate::tui::view::Clock::Local => {
                    format!("{}{} ", view.time_short(snap.now), view.local_offset)
                }
            };
            tail.push(Span::styled(clock, bar));
        }
    }
    let tail_w: usize = tail.iter().map(Span::width).sum();
    // Shrink in order: the filter's summary, the program's name, the spaces between badges.
    let badge_w = |long: bool, seps: bool| -> usize {
        badges
            .iter()
            .map(|b| layout::width(if long { &b.long } else { &b.short }) + usize::from(seps))
            .sum()
    };
    let (long, name, seps) = [
        (true, true, true),
        (false, true, true),
        (false, false, true),
    ]
    .into_iter()
    .find(|&(long, name, seps)| tabs(name) + badge_w(long, seps) + tail_w <= width)
    .unwrap_or((false, false, false));
    let mut right = Vec::new();
    for b in &badges {
        let text = if long {
            b.long.clone()
        } else {
            b.short.clone()
        };
        right.push(Span::styled(text, b.style));
        if seps {
            right.push(Span::styled(" ", bar));
        }
    }
    right.extend(tail);
    let used = tabs(name) + right.iter().map(Span::width).sum::<usize>();
    // Two spaces before the title, one kept free before the right-hand part.
    let title = (!view.title.is_empty())
        .then(|| layout::title_tail(&view.title, width.saturating_sub(used + 3)))
        .flatten()
        .filter(|t| layout::width(t) >= 4);
    TitlePlan { name, right, title }
}

/// The tab under column `x` of the title bar, if any (for mouse clicks).
pub fn tab_at(snap: &Snapshot, view: &ViewState, width: u16, x: u16) -> Option<Tab> {
    let plan = title_plan(snap, view, usize::from(width), Theme { color: false });
    let mut left = 0usize;
    for (tab, text) in title_pieces(view, plan.name) {
        let w = text.chars().count();
        if usize::from(x) >= left && usize::from(x) < left + w {
            return tab;
        }
        left += w;
    }
    None
}

pub fn draw_title(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    let bar = t.title_bar();
    let plan = title_plan(snap, view, usize::from(area.width), t);
    let mut left: Vec<Span> = title_pieces(view, plan.name)
        .into_iter()
        .map(|(tab, text)| {
            let style = if tab.is_some() && tab == Some(view.tab) {
                t.tab_active()
            } else {
                bar
            };
            Span::styled(text, style)
        })
        .collect();
    if let Some(title) = plan.title {
        left.push(Span::styled(format!("  {title}"), bar));
    }
    let right = Line::from(plan.right);
    let width = u16::try_from(right.width()).unwrap_or(u16::MAX);
    let [l, r] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(width)]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(left)).style(bar), l);
    frame.render_widget(Paragraph::new(right).style(bar), r);
}

pub fn draw_summary(frame: &mut Frame, area: Rect, snap: &Snapshot, view: &ViewState, t: Theme) {
    let totals = &snap.totals;
    let mut states = vec![
        Span::styled(" targets ", t.label()),
        Span::raw(snap.targets.len().to_string()),
        Span::styled("  sessions ", t.label()),
        Span::raw(snap.sessions.len().to_string()),
        Span::raw(" "),
    ];
    // A paused session waits for the operator, not for a retry: counted apart.
    let paused = snap
        .sessions
        .iter()
        .filter(|s| s.paused && s.state == SessionState::Waiting)
        .count();
    for s in SessionState::ALL {
        let mut n = totals.by_state[s.index()];
        if s == SessionState::Waiting {
            n = n.saturating_sub(paused);
        }
        if n == 0 && !matches!(s, SessionState::Open | SessionState::Waiting) {
            continue;
        }
        states.push(Span::raw(" "));
        states.push(Span::styled(s.as_str(), t.state(s)));
        states.push(Span::raw(format!(" {n}")));
        // Stale sessions are open, counted apart: `open 9870 (stale 130)`.
        if s == SessionState::Open && totals.stale > 0 {
            states.push(Span::raw(" ("));
            states.push(Span::styled("stale", t.warn()));
            states.push(Span::raw(format!(" {})", totals.stale)));
        }
    }
    if paused > 0 {
        states.push(Span::raw(" "));
        states.push(Span::styled("paused", t.warn()));
        states.push(Span::raw(format!(" {paused}")));
    }
    if totals.waiting_for_slot > 0 {
        states.push(Span::styled("  waiting for a slot ", t.label()));
        states.push(Span::raw(totals.waiting_for_slot.to_string()));
    }

    let closes = closes_line(snap, view, usize::from(area.width), t);

    let storm = &snap.storm;
    let mut rates = vec![
        Span::styled(" attempts/s ", t.label()),
        Span::raw(format!("{:.1}", storm.attempts_per_sec)),
        Span::styled(" (total ", t.dim()),
        Span::styled(totals.attempts.to_string(), t.dim()),
        Span::styled(")", t.dim()),
        Span::styled("  lockstep ", t.label()),
    ];
    // Only the store's recent verdict: with too few recent attempts there is none, and an old
    // herd must not be reported as if it were happening now.
    match storm.verdict {
        Some(v) => rates.push(Span::styled(
            format!("{:.2} {}", v.share, v.level.as_str()),
            lockstep_style(v.level, t),
        )),
        None => rates.push(Span::styled("- (few retries)", t.dim())),
    }
    if totals.gave_up > 0 {
        rates.push(Span::styled("  gave up ", t.label()));
        rates.push(Span::styled(totals.gave_up.to_string(), t.error()));
    }
    if let Some(error) = &snap.export_error {
        // The record is broken: say so, with how much is missing, before anything else.
        let used: usize = rates.iter().map(Span::width).sum();
        let head = format!("  export: {} events unwritten: ", snap.export_unwritten);
        let room = usize::from(area.width).saturating_sub(used + head.chars().count());
        rates.push(Span::styled(head, t.error()));
        rates.push(Span::styled(
            format::fit(error, room).into_owned(),
            t.error(),
        ));
    } else if let Some(path) = &snap.export_path {
        let used: usize = rates.iter().map(Span::width).sum();
        let count = format!(" ({} events)", snap.exported_events);
        let label = "  export ";
        let room = usize::from(area.width).saturating_sub(used + label.len() + count.len());
        rates.push(Span::styled(label, t.label()));
        // A path is never cut: the whole path, else its file name, else only the count (`e`
        // shows the whole path in the status line).
        let name = std::path::Path::new(path)
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let shown = [path.as_str(), name.as_str()]
            .into_iter()
            .find(|p| !p.is_empty() && layout::width(p) <= room);
        if let Some(shown) = shown {
            rates.push(Span::raw(format::safe(shown).into_owned()));
            rates.push(Span::raw(count));
        } else {
            rates.push(Span::raw(format!("{} events", snap.exported_events)));
        }
    }
    let lines = vec![Line::from(states), closes, Line::from(rates)];
    frame.render_widget(Paragraph::new(lines), area);
}

/// One entry of the closes line: a close code, an HTTP status or an error kind.
struct CloseItem {
    count: u64,
    /// Ties: codes, then statuses, then errors, each in order.
    order: (u8, u16),
    label: String,
    style: Style,
    /// What follows the label: the name (for codes) and the count.
    rest: String,
}

/// The closes line: every close code, HTTP status and error seen, most frequent first, as many
/// as fit in `width`, then `+N more` for the rest.
fn closes_line<'a>(snap: &Snapshot, view: &ViewState, width: usize, t: Theme) -> Line<'a> {
    let totals = &snap.totals;
    let head = Span::styled(" closes ", t.label());
    let mut items: Vec<CloseItem> = Vec::new();
    for (code, n) in &totals.closes_by_code {
        let name = view.registry.name_in(*code, view.lang);
        items.push(CloseItem {
            count: *n,
            order: (0, *code),
            label: code.to_string(),
            style: t.code(*code),
            rest: format!(" {name} {n}"),
        });
    }
    for (status, n) in totals.refused_statuses() {
        items.push(CloseItem {
            count: n,
            order: (1, status),
            label: format!("HTTP {status}"),
            style: t.error(),
            rest: format!(" {n}"),
        });
    }
    for (i, (kind, n)) in totals.errors.iter().enumerate() {
        items.push(CloseItem {
            count: *n,
            order: (2, u16::try_from(i).unwrap_or(u16::MAX)),
            label: format!("error {}", kind.as_str()),
            style: t.error(),
            rest: format!(" {n}"),
        });
    }
    if items.is_empty() {
        return Line::from(vec![head, Span::styled("none", t.dim())]);
    }
    items.sort_by(|a, b| b.count.cmp(&a.count).then(a.order.cmp(&b.order)));
    let total = items.len();
    let sep = " | ";
    let mut spans = vec![head];
    let mut used = spans[0].width();
    for (shown, item) in items.into_iter().enumerate() {
        let w = item.label.chars().count() + item.rest.chars().count();
        let lead = if shown == 0 { 0 } else { sep.len() };
        let left_after = total - shown - 1;
        // Room for "| +N more" unless this is the last item.
        let reserve = if left_after == 0 {
            0
        } else {
            sep.len() + format!("+{left_after} more").len()
        };
        if used + lead + w + reserve > width && shown > 0 {
            spans.push(Span::styled(sep, t.dim()));
            spans.push(Span::styled(format!("+{} more", total - shown), t.dim()));
            return Line::from(spans);
        }
        if shown > 0 {
            spans.push(Span::styled(sep, t.dim()));
        }
        spans.push(Span::styled(item.label, item.style));
        spans.push(Span::raw(item.rest));
        used += lead + w;
    }
    Line::from(spans)
}
