//! The message inspector's state and its pure logic: which of a session's logged frames the
//! Messages view shows (direction, opcode and payload filters, pause), and the search across
//! every session's log. No drawing here (`ui::messages`, `ui::entry`, `ui::search` draw).
//!
//! The logs live behind the store's lock (`state::messages`): everything here reads them a
//! session at a time and keeps positions (sequence numbers), never copies of the log.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use regex::bytes::{Regex, RegexBuilder};

use crate::engine::events::{Direction, MessageRecord, Opcode, SessionId};
use crate::state::messages::{Entry, MessageLog, MessageLogs};

/// Largest compiled regex (typed at a prompt: a huge repetition must not eat the memory).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Search results kept (newest first); the others are counted.
pub const SEARCH_LIMIT: usize = 1000;

/// Compile a regex typed by the operator, with a clear error.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let text = e.to_string();
            // The regex crate's message spans lines (the pattern, a caret, the error).
            let last = text.lines().last().unwrap_or("invalid").trim().to_string();
            format!("bad regex: {}", crate::redact::escape_control(&last))
        })
}

/// Which frames the Messages view shows.
#[derive(Debug, Clone, Default)]
pub struct MsgFilter {
    /// Only this direction (`d` cycles: both, in, out).
    pub dir: Option<Direction>,
    /// Only this opcode (`o` cycles: any, text, binary, close).
    pub opcode: Option<Opcode>,
    /// Ping and pong shown (`c` toggles; hidden by default).
    pub control: bool,
    /// Only payloads this matches (`/`).
    pub regex: Option<Regex>,
}

impl MsgFilter {
    pub fn matches(&self, r: &MessageRecord) -> bool {
        if self.dir.is_some_and(|d| d != r.dir) {
            return false;
        }
        match self.opcode {
            Some(op) if op != r.opcode => return false,
            None if !self.control && matches!(r.opcode, Opcode::Ping | Opcode::Pong) => {
                return false;
            }
            _ => {}
        }
        self.regex.as_ref().is_none_or(|re| re.is_match(&r.payload))
    }

    /// "in only, text, /error/", or "" when every data frame is shown (ping/pong hidden is the
    /// default and said elsewhere).
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        match self.dir {
            Some(Direction::In) => parts.push("in only".to_string()),
            Some(Direction::Out) => parts.push("out only".to_string()),
            None => {}
        }
        if let Some(op) = self.opcode {
            parts.push(opcode_name(op).to_string());
        }
        if let Some(re) = &self.regex {
            parts.push(format!("/{}/", crate::tui::format::safe(re.as_str())));
        }
        parts.join(", ")
    }

    /// `d`: both ways, in only, out only.
    pub fn next_dir(&mut self) {
        self.dir = match self.dir {
            None => Some(Direction::In),
            Some(Direction::In) => Some(Direction::Out),
            Some(Direction::Out) => None,
        };
    }

    /// `o`: any opcode, text, binary, close.
    pub fn next_opcode(&mut self) {
        self.opcode = match self.opcode {
            None => Some(Opcode::Text),
            Some(Opcode::Text) => Some(Opcode::Binary),
            Some(Opcode::Binary) => Some(Opcode::Close),
            Some(_) => None,
        };
    }
}

pub fn opcode_name(op: Opcode) -> &'static str {
    match op {
        Opcode::Text => "text",
        Opcode::Binary => "binary",
        Opcode::Ping => "ping",
        Opcode::Pong => "pong",
        Opcode::Close => "close",
    }
}

/// The Messages view of one session.
#[derive(Debug, Clone)]
pub struct Inspector {
    pub session: SessionId,
    /// The selected entry's sequence number; `None`: following the newest (End/G).
    pub selected: Option<u64>,
    /// The sequence number of the first row on screen (kept by `App::prepare`): rows stay put
    /// when older entries are dropped or newer ones arrive.
    pub top: u64,
    pub filter: MsgFilter,
    /// `p`: frames logged when paused; the view shows nothing newer until `p` again.
    pub paused_at: Option<u64>,
    /// The entry open (Enter), by sequence number.
    pub entry: Option<u64>,
    pub entry_scroll: u16,
    /// JSON levels unfolded in the entry view; `None`: all.
    pub fold: Option<usize>,
}

impl Inspector {
    pub fn new(session: SessionId) -> Inspector {
        Inspector {
            session,
            selected: None,
            top: 0,
            filter: MsgFilter::default(),
            paused_at: None,
            entry: None,
            entry_scroll: 0,
            fold: None,
        }
    }

    /// Open at one entry (a search hit): not following.
    pub fn at(session: SessionId, seq: u64) -> Inspector {
        Inspector {
            selected: Some(seq),
            ..Inspector::new(session)
        }
    }

    /// Whether an entry passes the filters and the pause.
    pub fn shows(&self, e: &Entry) -> bool {
        self.paused_at.is_none_or(|p| e.seq <= p) && self.filter.matches(&e.record)
    }

    /// Positions (in `log.entries()`) of the entries shown, oldest first. Positions only: the
    /// log is not copied.
    pub fn shown(&self, log: &MessageLog) -> Vec<usize> {
        log.entries()
            .iter()
            .enumerate()
            .filter(|(_, e)| self.shows(e))
            .map(|(i, _)| i)
            .collect()
    }

    /// Where the selection is among `shown` (the newest when following or when the selected
    /// entry is no longer shown but older ones are).
    pub fn cursor(&self, log: &MessageLog, shown: &[usize]) -> Option<usize> {
        let last = shown.len().checked_sub(1)?;
        let Some(seq) = self.selected else {
            return Some(last);
        };
        let entries = log.entries();
        // The first shown entry at or after the selected one (it may have been dropped).
        let pos = shown.partition_point(|&i| entries.get(i).is_some_and(|e| e.seq < seq));
        Some(pos.min(last))
    }

    /// Move the selection by `delta` shown entries; following stops.
    pub fn move_by(&mut self, log: &MessageLog, delta: isize) {
        let shown = self.shown(log);
        let Some(cur) = self.cursor(log, &shown) else {
            return;
        };
        let pos = cur
            .saturating_add_signed(delta)
            .min(shown.len().saturating_sub(1));
        self.selected = shown
            .get(pos)
            .and_then(|&i| log.entries().get(i))
            .map(|e| e.seq);
    }

    /// The first shown entry (Home).
    pub fn first(&mut self, log: &MessageLog) {
        let shown = self.shown(log);
        self.selected = shown
            .first()
            .and_then(|&i| log.entries().get(i))
            .map(|e| e.seq);
    }

    /// The selected entry's sequence number (the newest shown when following).
    pub fn selected_seq(&self, log: &MessageLog) -> Option<u64> {
        let shown = self.shown(log);
        let pos = self.cursor(log, &shown)?;
        shown
            .get(pos)
            .and_then(|&i| log.entries().get(i))
            .map(|e| e.seq)
    }
}

/// One search hit.
#[derive(Debug, Clone)]
pub struct Hit {
    pub session: SessionId,
    pub seq: u64,
    pub ts: DateTime<Utc>,
    pub record: Arc<MessageRecord>,
}

/// What a search found.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The newest hits first, at most [`SEARCH_LIMIT`].
    pub hits: Vec<Hit>,
    /// Every matching entry (more than `hits` when over the limit).
    pub total: usize,
    /// Sessions whose logs were searched.
    pub sessions: usize,
    /// Entries searched.
    pub entries: usize,
}

/// The search view (`S`).
#[derive(Debug, Clone)]
pub struct SearchView {
    pub pattern: String,
    pub found: Found,
    pub cursor: usize,
    pub offset: usize,
}

/// The newest entries of every session's log whose payload `re` matches, newest first, at
/// most `limit`. The store's lock is taken once per session, only to copy that session's
/// entries (handles to the records, not payloads); matching runs outside the lock, so the
/// store never waits for a whole search.
pub fn search(logs: &MessageLogs, re: &Regex, limit: usize) -> Found {
    let mut ids: Vec<SessionId> = logs.lock().sessions.keys().copied().collect();
    ids.sort_unstable();
    let mut found = Found {
        sessions: ids.len(),
        ..Found::default()
    };
    // A min-heap of the newest `limit` hits: (time, session, seq) orders them.
    let mut heap: BinaryHeap<Reverse<(DateTime<Utc>, SessionId, u64)>> = BinaryHeap::new();
    let mut kept: std::collections::HashMap<(SessionId, u64), Arc<MessageRecord>> =
        std::collections::HashMap::new();
    let mut copy: Vec<Entry> = Vec::new();
    for id in ids {
        copy.clear();
        {
            let guard = logs.lock();
            let Some(log) = guard.sessions.get(&id) else {
                continue;
            };
            copy.extend(log.entries().iter().cloned());
        }
        found.entries += copy.len();
        for e in &copy {
            if !re.is_match(&e.record.payload) {
                continue;
            }
            found.total += 1;
            let key = (e.ts, id, e.seq);
            if heap.len() < limit {
                heap.push(Reverse(key));
                kept.insert((id, e.seq), e.record.clone());
            } else if heap.peek().is_some_and(|Reverse(min)| key > *min) {
                if let Some(Reverse((_, s, q))) = heap.pop() {
                    kept.remove(&(s, q));
                }
                heap.push(Reverse(key));
                kept.insert((id, e.seq), e.record.clone());
            }
        }
    }
    let mut keys: Vec<_> = heap.into_iter().map(|Reverse(k)| k).collect();
    keys.sort_unstable_by(|a, b| b.cmp(a));
    found.hits = keys
        .into_iter()
        .filter_map(|(ts, session, seq)| {
            kept.remove(&(session, seq)).map(|record| Hit {
                session,
                seq,
                ts,
                record,
            })
        })
        .collect();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::messages::LogCaps;

    fn rec(dir: Direction, opcode: Opcode, payload: &str) -> Arc<MessageRecord> {
        Arc::new(MessageRecord {
            dir,
            opcode,
            wire_size: payload.len() as u64,
            size: payload.len() as u64,
            rsv1: false,
            payload: payload.as_bytes().to_vec(),
        })
    }

    fn ts(ms: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_800_000_000_000 + ms).expect("ts")
    }

    fn log() -> MessageLog {
        let caps = LogCaps::default();
        let mut log = MessageLog::default();
        log.push(&caps, ts(0), rec(Direction::Out, Opcode::Text, "hello"));
        log.push(&caps, ts(1), rec(Direction::In, Opcode::Ping, ""));
        log.push(
            &caps,
            ts(2),
            rec(Direction::In, Opcode::Text, "{\"error\":1}"),
        );
        log.push(&caps, ts(3), rec(Direction::In, Opcode::Binary, "\x01\x02"));
        log
    }

    fn seqs(i: &Inspector, log: &MessageLog) -> Vec<u64> {
        i.shown(log).iter().map(|&p| log.entries()[p].seq).collect()
    }

    #[test]
    fn ping_and_pong_are_hidden_until_asked_for() {
        let log = log();
        let mut i = Inspector::new(1);
        assert_eq!(seqs(&i, &log), [1, 3, 4]);
        i.filter.control = true;
        assert_eq!(seqs(&i, &log), [1, 2, 3, 4]);
    }

    #[test]
    fn direction_opcode_and_regex_narrow_the_rows() {
        let log = log();
        let mut i = Inspector::new(1);
        i.filter.next_dir();
        assert_eq!(seqs(&i, &log), [3, 4], "in only");
        i.filter.next_opcode();
        assert_eq!(seqs(&i, &log), [3], "in, text");
        i.filter = MsgFilter::default();
        i.filter.regex = compile("err").ok();
        assert_eq!(seqs(&i, &log), [3]);
        assert_eq!(i.filter.summary(), "/err/");
    }

    #[test]
    fn a_paused_view_shows_nothing_newer() {
        let caps = LogCaps::default();
        let mut log = log();
        let mut i = Inspector::new(1);
        i.paused_at = Some(log.logged());
        log.push(&caps, ts(9), rec(Direction::In, Opcode::Text, "late"));
        assert_eq!(seqs(&i, &log), [1, 3, 4]);
        i.paused_at = None;
        assert_eq!(seqs(&i, &log), [1, 3, 4, 5]);
    }

    #[test]
    fn moving_stops_following_and_clamps() {
        let log = log();
        let mut i = Inspector::new(1);
        assert_eq!(i.selected_seq(&log), Some(4), "follows the newest");
        i.move_by(&log, -1);
        assert_eq!(i.selected, Some(3));
        i.move_by(&log, -10);
        assert_eq!(i.selected, Some(1));
        i.move_by(&log, 10);
        assert_eq!(i.selected, Some(4));
    }

    #[test]
    fn a_bad_regex_is_a_clear_error() {
        let e = compile("(unclosed").expect_err("refused");
        assert!(e.starts_with("bad regex: "), "{e}");
        assert!(!e.contains('\n'));
    }

    #[test]
    fn search_lists_the_newest_hits_first_and_counts_the_rest() {
        let logs = MessageLogs::new(LogCaps::default());
        for s in 1..=3u64 {
            for k in 0..4i64 {
                let body = if k % 2 == 0 { "match me" } else { "other" };
                logs.push(
                    s,
                    ts(k * 10 + s as i64),
                    rec(Direction::In, Opcode::Text, body),
                );
            }
        }
        let re = compile("match").expect("regex");
        let found = search(&logs, &re, 4);
        assert_eq!(found.total, 6);
        assert_eq!(found.sessions, 3);
        assert_eq!(found.entries, 12);
        let got: Vec<(u64, u64)> = found.hits.iter().map(|h| (h.session, h.seq)).collect();
        assert_eq!(got, [(3, 3), (2, 3), (1, 3), (3, 1)]);
    }
}
