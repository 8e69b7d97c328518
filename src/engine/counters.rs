//! High-rate facts (messages, bytes, RTT) as atomic counters: the session task and its stream
//! layers add to them, the store reads them when it builds a snapshot. No event per message.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::protocol::wire::ByteCounter;

/// Engine-wide gauges, read by the store when it builds a snapshot.
#[derive(Debug, Default)]
pub struct EngineGauges {
    /// Sessions held back by `--max-connecting` or `--ramp` before their next attempt.
    pub waiting_for_slot: AtomicU64,
}

#[derive(Debug, Default)]
pub struct SessionCounters {
    pub msgs_in: AtomicU64,
    pub msgs_out: AtomicU64,
    /// Bytes read from / written to the socket after the upgrade (frame headers included).
    pub wire_in: AtomicU64,
    pub wire_out: AtomicU64,
    /// Application payload of data messages, after inflating / before deflating.
    pub payload_in: AtomicU64,
    pub payload_out: AtomicU64,
    /// Last ping round-trip time in microseconds; 0 = none yet.
    pub rtt_us: AtomicU64,
    /// When the server's last data message came, wall clock in unix ms; 0 = none yet.
    pub last_in_ms: AtomicU64,
}

impl SessionCounters {
    /// Add `n`. Each session's counters have one writer, the session's task (its stream
    /// layers run in it), so a plain load and store does: no locked read-modify-write on every
    /// frame (readers see either value, as with `fetch_add`).
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.store(
            counter.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }

    pub fn load(&self) -> CounterValues {
        let rtt = self.rtt_us.load(Ordering::Relaxed);
        let last_in = self.last_in_ms.load(Ordering::Relaxed);
        CounterValues {
            msgs_in: self.msgs_in.load(Ordering::Relaxed),
            msgs_out: self.msgs_out.load(Ordering::Relaxed),
            wire_in: self.wire_in.load(Ordering::Relaxed),
            wire_out: self.wire_out.load(Ordering::Relaxed),
            payload_in: self.payload_in.load(Ordering::Relaxed),
            payload_out: self.payload_out.load(Ordering::Relaxed),
            rtt_us: (rtt != 0).then_some(rtt),
            last_in_ms: (last_in != 0).then_some(last_in),
        }
    }
}

/// The frame layer adds its byte counts here.
impl ByteCounter for SessionCounters {
    fn add_wire_in(&self, n: u64) {
        SessionCounters::add(&self.wire_in, n);
    }
    fn add_wire_out(&self, n: u64) {
        SessionCounters::add(&self.wire_out, n);
    }
    fn add_payload_in(&self, n: u64) {
        SessionCounters::add(&self.payload_in, n);
    }
    fn add_payload_out(&self, n: u64) {
        SessionCounters::add(&self.payload_out, n);
    }
}

/// A copy of the counters at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterValues {
    pub msgs_in: u64,
    pub msgs_out: u64,
    pub wire_in: u64,
    pub wire_out: u64,
    pub payload_in: u64,
    pub payload_out: u64,
    pub rtt_us: Option<u64>,
    /// When the server's last data message came (unix ms).
    #[serde(default)]
    pub last_in_ms: Option<u64>,
}

impl CounterValues {
    /// How long ago the server's last data message came, at `now` (None before any).
    pub fn msg_age_ms(&self, now: chrono::DateTime<chrono::Utc>) -> Option<u64> {
        let last = i64::try_from(self.last_in_ms?).ok()?;
        Some(u64::try_from(now.timestamp_millis().saturating_sub(last)).unwrap_or(0))
    }

    /// Payload bytes per wire byte, both directions together: 1.0 without compression,
    /// above 1 when deflate saves bytes. `None` before any data.
    pub fn compression_ratio(&self) -> Option<f64> {
        let wire = self.wire_in + self.wire_out;
        let payload = self.payload_in + self.payload_out;
        (wire > 0 && payload > 0).then(|| payload as f64 / wire as f64)
    }
}
