//! Pure rendering: `draw(frame, snapshot, view)` reads the snapshot (which carries its own `now`)
//! and the view state, and nothing else: no clock, no I/O. Only the visible table rows are built.

pub mod backoff;
pub mod conn;
pub mod detail;
pub mod entry;
pub mod explain;
pub mod footer;
pub mod handshake;
pub mod header;
pub mod help;
pub mod layout;
pub mod log;
pub mod messages;
pub mod rows;
pub mod script;
pub mod search;
pub mod storm;
pub mod table;
pub mod targets;
pub mod timeline;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};

use crate::engine::events::SessionState;
use crate::state::snapshot::Snapshot;

use super::view::{Tab, ViewState};

/// Styles, with or without color (`NO_COLOR`). Without color, emphasis uses bold and reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn plain(self) -> Style {
        Style::new()
    }

    pub fn title_bar(self) -> Style {
        if self.color {
            Style::new().fg(Color::Black).bg(Color::Cyan)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn tab_active(self) -> Style {
        self.title_bar()
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    pub fn badge(self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }

    /// A badge that says something is broken (EXPORT FAILED): white on red.
    pub fn alarm(self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    pub fn heading(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn label(self) -> Style {
        self.fg(Color::Gray)
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn good(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn state(self, s: SessionState) -> Style {
        match s {
            SessionState::Open => self.fg(Color::Green),
            SessionState::Connecting | SessionState::Handshaking => self.fg(Color::Cyan),
            SessionState::Closing => self.fg(Color::Magenta),
            SessionState::Waiting => self.fg(Color::Yellow),
            SessionState::Closed => self.dim(),
            SessionState::GaveUp => self.fg(Color::Red),
        }
    }

    /// Close codes by what they mean for the operator: fine, retry later, broken.
    pub fn code(self, code: u16) -> Style {
        match code {
            1000 => self.fg(Color::Green),
            1001 | 1012 | 1013 => self.fg(Color::Yellow),
            _ => self.fg(Color::Red),
        }
    }

    /// A chart series color by index.
    pub fn series(self, i: usize) -> Style {
        const COLORS: [Color; 5] = [
            Color::Yellow,
            Color::Red,
            Color::Magenta,
            Color::Blue,
            Color::Green,
        ];
        self.fg(COLORS[i % COLORS.len()])
    }
}

/// The screen's regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    /// One line: name, tabs, badges, clock.
    pub title: Rect,
    /// Three lines: sessions by state, closes by code, rates and export.
    pub summary: Rect,
    /// The table, the detail, or the storm view.
    pub body: Rect,
    /// One line: status message, prompt, or table position.
    pub status: Rect,
    /// One line: the main keys.
    pub footer: Rect,
}

/// Split the screen. Works for any size, including zero.
pub fn areas(area: Rect) -> Areas {
    let [title, summary, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    Areas {
        title,
        summary,
        body,
        status,
        footer,
    }
}

/// Draw the whole screen.
pub fn draw(frame: &mut Frame, snap: &Snapshot, view: &ViewState) {
    let area = frame.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    let theme = Theme { color: view.color };
    let a = areas(area);
    header::draw_title(frame, a.title, snap, view, theme);
    header::draw_summary(frame, a.summary, snap, view, theme);
    if let Some(insp) = &view.inspect {
        match insp.entry {
            Some(seq) => entry::draw(frame, a.body, snap, view, insp, seq, theme),
            None => messages::draw(frame, a.body, snap, view, insp, theme),
        }
    } else if let Some(s) = &view.search {
        search::draw(frame, a.body, snap, view, s, theme);
    } else {
        draw_tab(frame, a.body, snap, view, theme);
    }
    if a.footer.height > 0 && footer::needs_two_lines(view, a.status.width) {
        let both = Rect {
            height: a.status.height + a.footer.height,
            ..a.status
        };
        footer::draw_status(frame, both, snap, view, theme);
    } else {
        footer::draw_status(frame, a.status, snap, view, theme);
        footer::draw_footer(frame, a.footer, view, theme);
    }
    if let Some(target) = view.explain {
        explain::draw(frame, a.body, view, target, theme);
    }
    if view.help {
        help::draw(frame, a.body, view, theme);
    }
    if let Some(cursor) = view.chooser {
        table::draw_chooser(frame, a.body, snap, view, cursor, theme);
    }
}

/// The body of the tab on screen.
fn draw_tab(frame: &mut Frame, body: Rect, snap: &Snapshot, view: &ViewState, theme: Theme) {
    match view.tab {
        Tab::Sessions => match view.detail {
            Some(id) => detail::draw(frame, body, snap, view, id, theme),
            None => table::draw(frame, body, snap, view, theme),
        },
        Tab::Storm => storm::draw(frame, body, snap, view, theme),
        Tab::Log => log::draw(frame, body, snap, view, theme),
        Tab::Targets => targets::draw(frame, body, snap, view, theme),
    }
}

/// The largest useful scroll offset of the detail, explain or help pane on a `screen`, so that
/// scrolling past the end does not leave the offset where Up seems to do nothing.
pub fn max_scroll(snap: &Snapshot, view: &ViewState, screen: Rect) -> (u16, u16, u16) {
    let t = Theme { color: view.color };
    let body = areas(screen).body;
    let over = |lines: usize, height: u16| {
        u16::try_from(lines)
            .unwrap_or(u16::MAX)
            .saturating_sub(height)
    };
    let detail = view
        .detail
        .and_then(|id| snap.index_of(id))
        .and_then(|i| snap.sessions.get(i))
        .map_or(0, |s| {
            over(
                detail::lines(s, snap, view, body.width, t).len(),
                body.height.saturating_sub(1),
            )
        });
    let explain = view.explain.map_or(0, |target| {
        over(
            explain::text(view, target).lines().count(),
            body.height.saturating_sub(2),
        )
    });
    let help_width = help::pane(body, view).width.saturating_sub(2);
    let help = over(
        help::lines(view, help_width, t).len(),
        body.height.saturating_sub(2),
    );
    (detail, explain, help)
}

/// "lines 21-44 of 60" when `total` lines do not fit in `shown`, for a pane title.
pub fn scroll_hint(first: u16, shown: u16, total: usize) -> Option<String> {
    let total = u16::try_from(total).unwrap_or(u16::MAX);
    (total > shown && shown > 0).then(|| {
        format!(
            " lines {}-{} of {total} ",
            first + 1,
            first.saturating_add(shown).min(total)
        )
    })
}

/// A rectangle of at most `width` x `height`, centered in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
