//! Which sessions the table lists, in which order: the filters (text, state, LAST CLOSE,
//! target) and the sort. Pure functions of the snapshot; the view caches the result.

use std::collections::BTreeSet;

use crate::codes::Registry;
use crate::engine::events::{ErrorKind, SessionState};
use crate::state::snapshot::{AttemptOutcome, SessionView, Snapshot};

use super::columns::Column;
use super::format;

/// What the LAST CLOSE column shows for a session, as a filter value: a close code, an HTTP
/// status of a refused upgrade, or the kind of an error without a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutcomeFilter {
    Code(u16),
    Status(u16),
    Error(ErrorKind),
}

impl OutcomeFilter {
    /// As the LAST CLOSE column and the header show it: `1013`, `HTTP 503`, `error dns`.
    pub fn label(self) -> String {
        match self {
            OutcomeFilter::Code(c) => format!("close {c}"),
            OutcomeFilter::Status(s) => format!("HTTP {s}"),
            OutcomeFilter::Error(k) => format!("error {}", k.as_str()),
        }
    }
}

/// What ended the session's last attempt, as the LAST CLOSE column shows it (looking past the
/// pending attempt of a waiting session).
pub fn last_outcome(s: &SessionView) -> Option<OutcomeFilter> {
    match s.timeline.iter().rev().find_map(|r| r.outcome) {
        Some(AttemptOutcome::Status { status }) => return Some(OutcomeFilter::Status(status)),
        Some(AttemptOutcome::Error { kind }) => return Some(OutcomeFilter::Error(kind)),
        _ => {}
    }
    s.last_close.as_ref().map(|c| OutcomeFilter::Code(c.code))
}

/// What determines the cached order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    pub generation: u64,
    pub sessions: usize,
    pub sort: Column,
    pub descending: bool,
    pub filter: String,
    pub state: Option<SessionState>,
    pub code: Option<OutcomeFilter>,
    pub target: Option<usize>,
}

/// Next value of the state filter: all, then each state some session is in, then all again.
pub fn next_state_filter(current: Option<SessionState>, snap: &Snapshot) -> Option<SessionState> {
    let present = |s: &SessionState| snap.sessions.iter().any(|v| v.state == *s);
    let after = current.map_or(0, |c| c.index() + 1);
    SessionState::ALL
        .iter()
        .skip(after)
        .find(|s| present(s))
        .copied()
}

/// Next value of the outcome filter: all, then every close code, HTTP status and error kind
/// that the LAST CLOSE column shows for some session, then all again.
pub fn next_outcome_filter(
    current: Option<OutcomeFilter>,
    snap: &Snapshot,
) -> Option<OutcomeFilter> {
    let present: BTreeSet<OutcomeFilter> = snap
        .sessions
        .iter()
        .filter_map(|s| last_outcome(s))
        .collect();
    match current {
        None => present.iter().next().copied(),
        Some(c) => present
            .range((std::ops::Bound::Excluded(c), std::ops::Bound::Unbounded))
            .next()
            .copied(),
    }
}

pub fn compute_order(snap: &Snapshot, key: &OrderKey, reg: &Registry) -> Vec<usize> {
    let needle = key.filter.to_lowercase();
    // The "HTTP 503" / "error connect" labels that match, decided once per label seen rather
    // than once per session.
    let outcomes = MatchingOutcomes {
        statuses: snap
            .totals
            .statuses
            .keys()
            .filter(|st| !needle.is_empty() && format!("http {st}").contains(&needle))
            .copied()
            .collect(),
        errors: snap
            .totals
            .errors
            .keys()
            .filter(|k| !needle.is_empty() && format!("error {}", k.as_str()).contains(&needle))
            .copied()
            .collect(),
    };
    // Close-code names, lower-cased once per code rather than once per session.
    let mut names: std::collections::HashMap<u16, String> = std::collections::HashMap::new();
    if !needle.is_empty() {
        for s in &snap.sessions {
            if let Some(c) = &s.last_close {
                names
                    .entry(c.code)
                    .or_insert_with(|| reg.name(c.code).to_lowercase());
            }
        }
    }
    let mut order: Vec<usize> = snap
        .sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| key.state.is_none_or(|st| s.state == st))
        .filter(|(_, s)| key.target.is_none_or(|t| s.target == t))
        .filter(|(_, s)| key.code.is_none_or(|c| last_outcome(s) == Some(c)))
        .filter(|(_, s)| needle.is_empty() || matches_text(s, &needle, &names, &outcomes))
        .map(|(i, _)| i)
        .collect();
    if key.sort == Column::Id && !key.descending {
        return order; // sessions are already ordered by id
    }
    if key.sort == Column::Ext {
        if key.descending {
            order.sort_by_cached_key(|&i| {
                let ext = format::ext_short(&snap.sessions[i]).into_owned();
                (std::cmp::Reverse(ext), snap.sessions[i].id)
            });
        } else {
            order.sort_by_cached_key(|&i| {
                let ext = format::ext_short(&snap.sessions[i]).into_owned();
                (ext, snap.sessions[i].id)
            });
        }
        return order;
    }
    // One numeric key per session (computed once), then an unstable sort on (key, id), which
    // is unique: much cheaper than comparing fields inside the sort.
    let mut keyed: Vec<(u64, u64, usize)> = order
        .iter()
        .map(|&i| (sort_key(snap, i, key.sort), snap.sessions[i].id, i))
        .collect();
    if key.descending {
        keyed.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    } else {
        keyed.sort_unstable();
    }
    keyed.into_iter().map(|(_, _, i)| i).collect()
}

/// A number that orders sessions by a column (`None` values first).
fn sort_key(snap: &Snapshot, i: usize, col: Column) -> u64 {
    let s = &snap.sessions[i];
    let c = snap.counters.get(i).copied().flatten().unwrap_or_default();
    let some = |v: Option<u64>| v.map_or(0, |v| v.saturating_add(1));
    match col {
        Column::Id => s.id,
        Column::Target => s.target as u64,
        Column::State => s.state.index() as u64,
        Column::Uptime => some(format::uptime_ms(s, snap.now)),
        Column::Attempt => u64::from(s.attempt),
        Column::Close => some(s.last_close.as_ref().map(|c| u64::from(c.code))),
        // Ext is sorted as text by the caller.
        Column::Ext => 0,
        Column::Rtt => some(c.rtt_us),
        Column::Msgs => c.msgs_in.saturating_add(c.msgs_out),
        Column::Bytes => c.wire_in.saturating_add(c.wire_out),
        Column::Ratio => some(c.compression_ratio().map(|r| (r.max(0.0) * 1e6) as u64)),
        // Oldest message first when descending: the silent ones.
        Column::MsgAge => some(c.msg_age_ms(snap.now)),
        Column::Lat => some(s.latency.as_ref().map(|l| l.last_us)),
        Column::Conn => some(s.link.connection.map(u64::from)),
        Column::Proto => some(format::proto(s).map(|p| p as u64)),
    }
}

/// The HTTP statuses and error kinds whose LAST CLOSE label matches the text filter.
struct MatchingOutcomes {
    statuses: std::collections::BTreeSet<u16>,
    errors: std::collections::BTreeSet<crate::engine::events::ErrorKind>,
}

/// `hay` contains the lower-cased `needle`, ignoring ASCII case (no allocation).
fn contains_ci(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return true;
    }
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    h.len() >= n.len()
        && h.windows(n.len())
            .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

/// Case-insensitive match of the lower-cased `needle` against what the row shows: the id
/// (`s42`), the URL, the state, the close code and its name, the negotiated extensions.
fn matches_text(
    s: &SessionView,
    needle: &str,
    names: &std::collections::HashMap<u16, String>,
    outcomes: &MatchingOutcomes,
) -> bool {
    if let Some(digits) = needle.strip_prefix('s')
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && contains_ci(&s.id.to_string(), digits)
    {
        return true;
    }
    // `c3`: the sessions whose last connection is c3 (exactly, not c31).
    if let Some(digits) = needle.strip_prefix('c')
        && !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && s.link.connection.is_some_and(|c| c.to_string() == digits)
    {
        return true;
    }
    if contains_ci(&s.url, needle) || s.state.as_str().contains(needle) {
        return true;
    }
    // The STATE cell says `open, stale 42s`: `/stale` finds the silent sessions.
    if s.stale_since.is_some() && "stale".contains(needle) {
        return true;
    }
    if let Some(c) = &s.last_close {
        let code = c.code.to_string();
        if code.contains(needle) || names.get(&c.code).is_some_and(|n| n.contains(needle)) {
            return true;
        }
    }
    // What the LAST CLOSE column shows when the last attempt ended without a close code.
    match s.timeline.iter().rev().find_map(|r| r.outcome) {
        Some(AttemptOutcome::Status { status }) if outcomes.statuses.contains(&status) => {
            return true;
        }
        Some(AttemptOutcome::Error { kind }) if outcomes.errors.contains(&kind) => return true,
        _ => {}
    }
    s.last_handshake
        .as_ref()
        .is_some_and(|h| h.accepted.iter().any(|e| contains_ci(&e.name, needle)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fixtures;
    use crate::tui::view::ViewState;

    fn ids(view: &ViewState, snap: &Snapshot) -> Vec<u64> {
        view.order().iter().map(|&i| snap.sessions[i].id).collect()
    }

    #[test]
    fn every_column_sorts_both_ways_with_ties_by_id() {
        let snap = fixtures::snapshot(200);
        let mut view = fixtures::view_state();
        for col in Column::ALL {
            for descending in [false, true] {
                view.sort = col;
                view.descending = descending;
                view.sync(&snap);
                let order = view.order().to_vec();
                assert_eq!(order.len(), 200);
                for w in order.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    let (ka, kb) = if col == Column::Ext {
                        (
                            format::ext_short(&snap.sessions[a]).into_owned(),
                            format::ext_short(&snap.sessions[b]).into_owned(),
                        )
                    } else {
                        (
                            format!("{:020}", sort_key(&snap, a, col)),
                            format!("{:020}", sort_key(&snap, b, col)),
                        )
                    };
                    let ok = if descending { ka >= kb } else { ka <= kb };
                    assert!(ok, "{col:?} desc={descending}: {ka} then {kb}");
                    if ka == kb {
                        assert!(
                            snap.sessions[a].id < snap.sessions[b].id,
                            "{col:?}: ties by id"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn uptime_sort_puts_longest_first_when_descending() {
        let snap = fixtures::snapshot(20);
        let mut view = fixtures::view_state();
        view.sort = Column::Uptime;
        view.descending = true;
        view.sync(&snap);
        let first = &snap.sessions[view.order()[0]];
        let best = snap
            .sessions
            .iter()
            .filter_map(|s| format::uptime_ms(s, snap.now))
            .max();
        assert_eq!(format::uptime_ms(first, snap.now), best);
    }

    #[test]
    fn order_is_cached_until_something_changes() {
        let snap = fixtures::snapshot(50);
        let mut view = fixtures::view_state();
        view.sort = Column::Rtt;
        view.sync(&snap);
        let first = view.order().as_ptr();
        view.sync(&snap);
        assert_eq!(first, view.order().as_ptr(), "same generation: not rebuilt");
        let mut next = snap.clone();
        next.generation += 1;
        view.sync(&next);
        assert_eq!(view.order().len(), 50);
    }

    #[test]
    fn filters_combine_and_selection_follows_the_id() {
        let snap = fixtures::snapshot(40);
        let mut view = fixtures::view_state();
        view.sync(&snap);
        view.select_position(&snap, 16); // s17, waiting after 1013
        assert_eq!(view.selected, Some(17));
        view.state_filter = Some(SessionState::Waiting);
        view.outcome_filter = Some(OutcomeFilter::Code(1013));
        view.sync(&snap);
        let got = ids(&view, &snap);
        assert!(got.iter().all(|id| {
            let s = &snap.sessions[snap.index_of(*id).expect("listed")];
            s.state == SessionState::Waiting && s.last_close.as_ref().map(|c| c.code) == Some(1013)
        }));
        assert_eq!(view.selected, Some(17));
        assert_eq!(got[view.cursor], 17);
        view.filter = "s17".to_string();
        view.sync(&snap);
        assert_eq!(ids(&view, &snap), vec![17]);
        view.filter = "NO SUCH THING".to_string();
        view.sync(&snap);
        assert!(view.order().is_empty());
        assert_eq!(view.selected, None);
    }

    #[test]
    fn text_filter_matches_what_the_last_close_column_shows() {
        let snap = fixtures::snapshot(40);
        let mut view = fixtures::view_state();
        // A failed upgrade: the column shows "HTTP 503" (the pending retry is newer).
        for needle in ["503", "HTTP 503", "http"] {
            view.filter = needle.to_string();
            view.sync(&snap);
            assert_eq!(ids(&view, &snap), vec![9, 29], "{needle}");
        }
        view.filter = "try again".to_string();
        view.sync(&snap);
        assert_eq!(ids(&view, &snap).len(), 12);
    }

    #[test]
    fn start_up_selection_stays_on_the_first_row_until_the_user_moves() {
        let full = fixtures::snapshot(20);
        // Sessions announce themselves in any order: the first snapshot may list only s20.
        let mut partial = full.clone();
        partial.sessions = vec![full.sessions[19].clone()];
        partial.counters = vec![full.counters[19]];
        partial.generation = 1;
        let mut view = fixtures::view_state();
        view.sync(&partial);
        assert_eq!(view.selected, Some(20));
        view.sync(&full);
        assert_eq!(
            (view.cursor, view.selected),
            (0, Some(1)),
            "first row, not s20"
        );
        // Once the user picks a row, it follows that session through re-sorts.
        view.select_position(&full, 5);
        assert_eq!(view.selected, Some(6));
        view.descending = true;
        view.sync(&full);
        assert_eq!(view.selected, Some(6));
        assert_eq!(view.cursor, 14);
    }

    #[test]
    fn outcome_filter_cycles_through_what_last_close_shows() {
        let snap = fixtures::snapshot(20);
        let mut c = None;
        let mut seen = Vec::new();
        for _ in 0..6 {
            c = next_outcome_filter(c, &snap);
            seen.push(c);
        }
        assert_eq!(
            seen,
            vec![
                Some(OutcomeFilter::Code(1006)),
                Some(OutcomeFilter::Code(1010)),
                Some(OutcomeFilter::Code(1013)),
                Some(OutcomeFilter::Status(503)),
                None,
                Some(OutcomeFilter::Code(1006)),
            ]
        );
        // Each value keeps exactly the rows whose LAST CLOSE shows it.
        let mut view = fixtures::view_state();
        view.outcome_filter = Some(OutcomeFilter::Status(503));
        view.sync(&snap);
        assert_eq!(ids(&view, &snap), vec![9]);
    }

    #[test]
    fn state_filter_cycles_through_states_present() {
        let snap = fixtures::snapshot(20);
        let mut c = None;
        let mut seen = Vec::new();
        for _ in 0..5 {
            c = next_state_filter(c, &snap);
            seen.push(c);
        }
        // No session is handshaking, closing or gave up: those are skipped.
        assert_eq!(
            seen,
            vec![
                Some(SessionState::Connecting),
                Some(SessionState::Open),
                Some(SessionState::Closed),
                Some(SessionState::Waiting),
                None,
            ]
        );
    }
}
