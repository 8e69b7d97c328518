//! Message logs for the inspector's screen tests (only with the `test-support` feature): a
//! session's transcript with JSON, ping/pong, binary, a compressed frame, hostile escape
//! sequences, a payload cut to the preview cap and a close frame, pushed through the real
//! log (`state::messages`) so drops and cuts are the log's own. Fixed clock, like `fixtures`.

use std::sync::Arc;

use chrono::Duration;

use crate::engine::events::{Direction, MessageRecord, Opcode};
use crate::state::messages::{LogCaps, MessageLogs};
use crate::state::snapshot::Snapshot;

/// The caps of the fixture logs: 40 entries, 64 KiB, 4 KiB a payload.
pub const CAPS: LogCaps = LogCaps {
    count: 40,
    bytes: 64 * 1024,
    preview: 4 * 1024,
};

fn rec(dir: Direction, opcode: Opcode, payload: Vec<u8>) -> Arc<MessageRecord> {
    Arc::new(MessageRecord {
        dir,
        opcode,
        wire_size: payload.len() as u64 + 2,
        size: payload.len() as u64,
        rsv1: false,
        payload,
    })
}

/// A JSON tick as a feed would send it.
pub fn tick(n: u64) -> Vec<u8> {
    format!(
        r#"{{"type":"tick","seq":{n},"data":{{"symbol":"ABC","price":{}.{:02},"book":{{"bid":[101,102],"ask":[103]}}}}}}"#,
        100 + n % 7,
        (n * 13) % 100
    )
    .into_bytes()
}

/// The transcript of session 1: 50 ticks (the first ones dropped by the count cap), then one
/// of each kind of frame.
pub fn fill_session_one(logs: &MessageLogs, now: chrono::DateTime<chrono::Utc>) {
    let mut at = now - Duration::seconds(40);
    let mut push = |ms: i64, r: Arc<MessageRecord>| {
        at += Duration::milliseconds(ms);
        logs.push(1, at, r);
    };
    push(
        0,
        rec(
            Direction::Out,
            Opcode::Text,
            br#"{"op":"subscribe","channel":"ticks"}"#.to_vec(),
        ),
    );
    for n in 1..=50 {
        push(500, rec(Direction::In, Opcode::Text, tick(n)));
        if n % 10 == 0 {
            push(3, rec(Direction::Out, Opcode::Ping, b"wsmon".to_vec()));
            push(2, rec(Direction::In, Opcode::Pong, b"wsmon".to_vec()));
        }
    }
    let mut compressed = (*rec(Direction::In, Opcode::Text, tick(51))).clone();
    compressed.rsv1 = true;
    compressed.wire_size = 61;
    push(250, Arc::new(compressed));
    push(
        120,
        rec(
            Direction::In,
            Opcode::Binary,
            (0u8..40).map(|b| b.wrapping_mul(7)).collect(),
        ),
    );
    push(
        80,
        rec(
            Direction::In,
            Opcode::Text,
            "alert \u{1b}[31mRED\u{1b}[0m \u{9b}2J bell\u{7}"
                .as_bytes()
                .to_vec(),
        ),
    );
    let mut big = br#"{"type":"snapshot","rows":["#.to_vec();
    while big.len() < 1_258_291 {
        big.extend_from_slice(br#"{"id":12345,"v":"abcdefgh"},"#);
    }
    push(40, rec(Direction::In, Opcode::Text, big));
    push(
        900,
        rec(
            Direction::In,
            Opcode::Close,
            [&1013u16.to_be_bytes()[..], b"try again later"].concat(),
        ),
    );
}

/// `snap` with message logs: session 1's transcript and, for the search, an error message in
/// sessions 2 and 5.
pub fn with_messages(mut snap: Snapshot) -> Snapshot {
    let logs = MessageLogs::new(CAPS);
    let now = snap.now;
    fill_session_one(&logs, now);
    for (s, secs) in [(2u64, 20i64), (5, 10)] {
        logs.push(
            s,
            now - Duration::seconds(secs),
            rec(
                Direction::In,
                Opcode::Text,
                format!(r#"{{"type":"error","code":"E{s}","msg":"rate limited"}}"#).into_bytes(),
            ),
        );
        logs.push(
            s,
            now - Duration::seconds(secs - 1),
            rec(Direction::In, Opcode::Text, tick(s)),
        );
    }
    snap.messages = logs;
    snap
}
