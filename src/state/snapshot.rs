//! Read-only snapshots of the store, published at most ~10 times a second. The TUI and headless
//! mode read only these: rendering is a pure function of (snapshot, view state).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::engine::counters::CounterValues;
use crate::engine::events::{
    Cause, CloseInfo, DelayKind, ErrorKind, HandshakeInfo, Initiator, Jitter, SessionId,
    SessionState,
};

/// Everything the UI may show, at one instant.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Wall clock when the snapshot was built: the UI computes ages from this, never the clock.
    pub now: DateTime<Utc>,
    /// Increases with every published snapshot.
    pub generation: u64,
    pub targets: Vec<TargetView>,
    /// Every live session, ordered by id.
    pub sessions: Vec<Arc<SessionView>>,
    /// Counters per session, same order as `sessions`: `None` where nothing counted them (a
    /// replay: the export records events, not traffic), so the UI shows "-" and not zeros.
    pub counters: Vec<Option<CounterValues>>,
    pub totals: Totals,
    pub storm: StormView,
    /// Where `--export` writes, if anywhere.
    pub export_path: Option<String>,
    /// Events written to the export so far.
    pub exported_events: u64,
    /// The most recent events, oldest first (at most `EVENT_LOG_LEN`), for the event log.
    pub events: Arc<VecDeque<LogEntry>>,
    /// The export's first write error: no event after it reaches the file.
    pub export_error: Option<String>,
    /// Events not written to the export since that error (the failed one included).
    pub export_unwritten: u64,
    /// Every session's recent frames (a handle to the store's logs: lock briefly).
    pub messages: crate::state::messages::MessageLogs,
    /// How late events reached the store (live; zero in a replay).
    pub lag: crate::state::lag::StoreLag,
}

impl Snapshot {
    /// Index of a session in `sessions` (sessions are ordered by id).
    pub fn index_of(&self, id: SessionId) -> Option<usize> {
        self.sessions.binary_search_by_key(&id, |s| s.id).ok()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TargetView {
    /// URL with credentials redacted.
    pub url: String,
    /// Live sessions of this target.
    pub sessions: usize,
    /// Live sessions by state, indexed by `SessionState::index()` (counted in `snapshot`).
    pub by_state: [usize; 7],
    /// Connection attempts started.
    pub attempts: u64,
    /// Connections that opened.
    pub opens: u64,
    /// Closes by code.
    pub closes_by_code: BTreeMap<u16, u64>,
    /// Upgrades answered with an HTTP status other than 101.
    pub http_failures: u64,
    /// Sessions that gave up (`--max-attempts`).
    pub gave_up: u64,
    /// Handshake time (attempt start to the HTTP answer) over the last
    /// [`TARGET_HANDSHAKE_SAMPLES`] handshakes, median and 99th percentile, in ms.
    pub handshake_p50_ms: Option<u64>,
    pub handshake_p99_ms: Option<u64>,
    /// Attempts started in the last completed second.
    pub attempts_per_sec: u64,
    /// Script steps that timed out, by step number.
    pub script_failures: BTreeMap<u32, u64>,
    /// Live sessions open but stale (no message for the stale threshold; counted in
    /// `snapshot`, also in `by_state`'s open).
    pub stale: usize,
    /// Message latency (a script's request to its response, a protocol's ping to its pong)
    /// over the target's last [`TARGET_LATENCY_SAMPLES`], median and 99th percentile, in µs.
    pub latency_p50_us: Option<u64>,
    pub latency_p99_us: Option<u64>,
    /// Data messages received and sent by the target's sessions, removed ones included (0
    /// where nothing counts them: a replay).
    pub msgs_in: u64,
    pub msgs_out: u64,
}

/// Message latencies kept per target for its percentiles (and the `msg_latency_*` thresholds).
pub const TARGET_LATENCY_SAMPLES: usize = 512;
/// Message latencies kept per session for its p50/p99.
pub const SESSION_LATENCY_SAMPLES: usize = 64;

/// Nearest-rank percentile `p` (0-100) of `sorted` (ascending, not empty).
pub fn nearest_rank(sorted: &[u64], p: u8) -> u64 {
    let rank = (sorted.len() * usize::from(p)).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// One session's message latencies: the last one, and p50/p99 over its recent samples
/// (at most [`SESSION_LATENCY_SAMPLES`]), in µs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionLatency {
    #[serde(skip)]
    samples: VecDeque<u64>,
    pub last_us: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    /// Samples seen on this session (all connections).
    pub count: u64,
}

impl SessionLatency {
    pub fn record(&mut self, us: u64) {
        if self.samples.len() >= SESSION_LATENCY_SAMPLES {
            self.samples.pop_front();
        }
        self.samples.push_back(us);
        self.last_us = us;
        self.count += 1;
        let mut v: Vec<u64> = self.samples.iter().copied().collect();
        v.sort_unstable();
        self.p50_us = nearest_rank(&v, 50);
        self.p99_us = nearest_rank(&v, 99);
    }
}

/// Handshake times kept per target for its percentiles.
pub const TARGET_HANDSHAKE_SAMPLES: usize = 512;

/// One session as the UI sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionView {
    pub id: SessionId,
    pub target: usize,
    pub url: Arc<str>,
    pub state: SessionState,
    pub state_since: DateTime<Utc>,
    /// When the current connection opened (state Open/Closing).
    pub opened_at: Option<DateTime<Utc>>,
    /// Current attempt number (1 for the first connection).
    pub attempt: u32,
    /// Retries paused for this session.
    pub paused: bool,
    pub last_handshake: Option<Arc<HandshakeInfo>>,
    pub last_close: Option<CloseInfo>,
    pub last_error: Option<(ErrorKind, String)>,
    /// When the next attempt is due (state Waiting).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why the session will not be retried (state Closed / GaveUp).
    pub ended_why: Option<String>,
    /// The most recent attempts, oldest first (at most `TIMELINE_LEN`).
    pub timeline: VecDeque<AttemptRecord>,
    /// Attempts dropped from the front of `timeline`.
    pub timeline_dropped: u32,
    /// When the open connection went stale (no message from the server for the stale
    /// threshold); cleared by the next message and by any state but open.
    pub stale_since: Option<DateTime<Utc>>,
    /// The silence when it went stale, ms: the server's last message came at
    /// `stale_since - stale_silent_ms`.
    pub stale_silent_ms: u64,
    /// Message latencies (None until the first: most sessions never have one).
    pub latency: Option<Box<SessionLatency>>,
    /// The script's progress on the current (or last) connection, when it has a script.
    pub script: Option<ScriptProgress>,
    /// Over HTTP/2: the transport, connection and stream of the last open connection.
    pub link: crate::engine::events::Link,
    /// Over HTTP/2: the connection cause (GOAWAY, reset, RST_STREAM ...) that ended the
    /// attempt on `link`; None while it is open or when something else ended it.
    pub link_lost: Option<Cause>,
}

/// Where a session's script is: its last `script` event, and what it captured so far on this
/// connection (secret values already `<redacted>`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScriptProgress {
    pub step: u32,
    /// Steps in the script; 0 when not known (a built-in protocol).
    pub steps: u32,
    pub phase: crate::engine::events::ScriptPhase,
    /// What the step does or waits for (`expect {"type":"auth_ok"} within 5s`).
    pub what: String,
    /// When the step reached this phase.
    pub since: DateTime<Utc>,
    /// Values captured on this connection, in order.
    pub captured: Vec<(String, String)>,
    /// On `timed_out`: the last message that came.
    pub last: Option<String>,
}

impl SessionView {
    /// How long the server has been silent, at `now`, when the session is stale.
    pub fn stale_for_ms(&self, now: DateTime<Utc>) -> Option<u64> {
        let since = self.stale_since?;
        let more = u64::try_from((now - since).num_milliseconds()).unwrap_or(0);
        Some(self.stale_silent_ms.saturating_add(more))
    }
}

impl SessionView {
    /// A session that was just created: connecting, no attempt yet, nothing recorded.
    pub fn new(id: SessionId, target: usize, url: Arc<str>, since: DateTime<Utc>) -> Self {
        SessionView {
            id,
            target,
            url,
            state: SessionState::Connecting,
            state_since: since,
            opened_at: None,
            attempt: 0,
            paused: false,
            last_handshake: None,
            last_close: None,
            last_error: None,
            next_attempt_at: None,
            ended_why: None,
            timeline: VecDeque::new(),
            timeline_dropped: 0,
            script: None,
            stale_since: None,
            stale_silent_ms: 0,
            latency: None,
            link: Default::default(),
            link_lost: None,
        }
    }
}

pub const TIMELINE_LEN: usize = 256;

/// One connection attempt in a session's backoff timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttemptRecord {
    /// 1 for the first connection.
    pub attempt: u32,
    /// What ended the previous attempt (None for the first).
    pub cause: Option<Cause>,
    pub kind: Option<DelayKind>,
    pub window_ms: Option<u64>,
    pub delay_ms: Option<u64>,
    pub retry_after_ms: Option<u64>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    /// Time spent waiting for a handshake slot (`--max-connecting`, `--ramp`) before starting.
    pub slot_wait_ms: Option<u64>,
    pub outcome: Option<AttemptOutcome>,
    /// How long this attempt's connection stayed open.
    pub uptime_ms: Option<u64>,
    /// When the attempt ended (closed, refused, failed).
    pub ended_at: Option<DateTime<Utc>>,
    /// The operator asked for this attempt (`r`) instead of waiting out the delay.
    pub manual: bool,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// Opened and still open.
    Opened,
    Closed {
        code: u16,
    },
    Status {
        status: u16,
    },
    Error {
        kind: ErrorKind,
    },
}

/// Aggregates over all sessions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Live sessions per state, indexed by `SessionState::index()`.
    pub by_state: [usize; 7],
    /// Every close seen, by code.
    pub closes_by_code: BTreeMap<u16, u64>,
    /// Every HTTP answer to an upgrade, by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Every failed attempt without a code, by kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Negotiated extension sets (as formatted header values) and how many handshakes got each;
    /// "" for none.
    pub negotiated: BTreeMap<String, u64>,
    pub attempts: u64,
    /// Connections that opened (101 and a valid upgrade).
    pub opens: u64,
    /// Every close seen, by code, then by initiator in [`INITIATORS`] order.
    pub closes_by_initiator: BTreeMap<u16, [u64; 3]>,
    /// Most attempts started in one completed second, over the whole run.
    pub peak_attempts_per_sec: u64,
    /// Highest (smoothed) lockstep index seen over the whole run.
    pub peak_lockstep: Option<f64>,
    /// Highest lockstep excess (the verdict's share minus what chance gives) over the run.
    pub peak_lockstep_excess: Option<f64>,
    /// Sessions that ended without a retry (not at wsmon's own shutdown), by the cause that
    /// ended them, in the order first seen.
    pub ended: Vec<(Cause, u64)>,
    pub gave_up: u64,
    /// Largest retry number scheduled by any session.
    pub max_backoff_attempt: u32,
    pub paused_all: bool,
    /// Distinct error messages by kind and how often each was seen (at most
    /// `ERROR_MESSAGES_MAX` messages; later new ones count in `other_error_messages`).
    pub error_messages: BTreeMap<(ErrorKind, String), u64>,
    pub other_error_messages: u64,
    /// Closes with 1001 sent by wsmon itself: its own shutdown (or an operator's `c` 1001).
    pub shutdown_closes: u64,
    /// Sessions held back by `--max-connecting` or `--ramp` right now.
    pub waiting_for_slot: u64,
    /// Live sessions open but stale right now (counted in `snapshot`).
    pub stale: usize,
    /// Message latency p50, p90, p95, p99 (µs) over every target's recent samples.
    pub msg_latency_us: Option<[u64; 4]>,
    /// Messages received per second, over the last [`MSGS_IN_WINDOW`] completed seconds
    /// (None where nothing counts messages: a replay).
    pub msgs_in_per_s: Option<f64>,
    /// HTTP/2 connections lost under their sessions (GOAWAY, reset, PING timeout), each once.
    pub connections_lost: u64,
    /// Which connections (`c3` is 3) were lost, and how many sessions each took down.
    pub lost_connections: BTreeMap<u32, u64>,
    /// The `200` answers in `statuses` that opened a session over HTTP/2 (an upgrade, not a
    /// refusal).
    pub h2_opened: u64,
}

impl Totals {
    /// The answers that refused the upgrade, by status: every status but 101, and the 200s
    /// that did not open a session over HTTP/2 (over HTTP/1.1 a 200 is a refusal).
    pub fn refused_statuses(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.statuses.iter().filter_map(|(s, n)| match *s {
            101 => None,
            200 => Some((200, n.saturating_sub(self.h2_opened))).filter(|(_, n)| *n > 0),
            s => Some((s, *n)),
        })
    }
}

/// Seconds `Totals::msgs_in_per_s` averages over.
pub const MSGS_IN_WINDOW: usize = 10;

/// Distinct error messages kept in [`Totals::error_messages`].
pub const ERROR_MESSAGES_MAX: usize = 64;
/// Events kept for the event log.
pub const EVENT_LOG_LEN: usize = 1000;

/// One line of the live event log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEntry {
    pub ts: DateTime<Utc>,
    pub session: SessionId,
    pub target: usize,
    /// The export's event name (`closed`, `backoff`, ...).
    pub event: &'static str,
    /// The code, status or kind in a few words (`1013`, `HTTP 503`, `dns`, `attempt 3`).
    pub what: String,
    /// The reason, message or delay.
    pub detail: String,
    /// For filtering like the table: the close code, if any.
    pub code: Option<u16>,
}

/// Order of the counts in [`Totals::closes_by_initiator`].
pub const INITIATORS: [Initiator; 3] = [Initiator::Server, Initiator::Client, Initiator::Local];

/// Reconnect-storm metrics over a rolling window at 1 s resolution.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StormView {
    /// Completed seconds, oldest first (at most `STORM_SECONDS`).
    pub seconds: VecDeque<SecondSample>,
    /// Attempts in the last completed second.
    pub attempts_per_sec: f64,
    /// Lockstep index of recent attempts: share of a second's attempts that fall in its busiest
    /// 100 ms slice (1.0 = herd, ~0.1 = even). `None` with too few attempts to tell.
    pub lockstep: Option<f64>,
    /// Retries already scheduled within the next 1, 5 and 30 s.
    pub forecast: [u64; 3],
    /// Whether recent retries are in step, judged against chance; `None` below
    /// `storm::LOCKSTEP_MIN_SAMPLE` recent attempts.
    pub verdict: Option<LockstepVerdict>,
    /// The jitter of the newest exponential backoff seen (None before any).
    pub jitter: Option<Jitter>,
}

/// The lockstep index of recent attempts compared with what independent retries, spread
/// uniformly over each second, would give for the same number of attempts per second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LockstepVerdict {
    /// Observed share of attempts in each second's busiest 100 ms (attempt-weighted).
    pub share: f64,
    /// The share expected by chance for the same attempts per second.
    pub chance: f64,
    /// Attempts judged (recent seconds).
    pub attempts: u64,
    pub level: LockstepLevel,
}

/// What the comparison with chance says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LockstepLevel {
    /// No more bunched than independent retries would be.
    Spread,
    /// Clearly more bunched than chance, but not a herd.
    Clustered,
    /// Retries come in herds.
    InStep,
}

impl LockstepLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LockstepLevel::Spread => "not in step",
            LockstepLevel::Clustered => "clustered",
            LockstepLevel::InStep => "IN STEP",
        }
    }
}

pub const STORM_SECONDS: usize = 600;

/// One second of storm metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SecondSample {
    /// Start of the second (unix seconds).
    pub second: i64,
    pub attempts: u64,
    /// Closes in this second, by code.
    pub closes: BTreeMap<u16, u64>,
    pub open: u64,
    pub waiting: u64,
    pub connecting: u64,
    pub lockstep: Option<f64>,
    /// Open sessions that were stale at the end of the second.
    pub stale: u64,
    /// Messages received in this second (None where nothing counts them: a replay).
    pub msgs_in: Option<u64>,
}
