use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use super::reader::{self, Summary};
use super::*;
use crate::engine::events::{
    BackoffInfo, Cause, CloseInfo, DelayKind, ErrorKind, Event, EventKind, HandshakeInfo,
    Initiator, Jitter, Timings,
};
use crate::protocol::extensions::{Extension, Param};

const SECRET_URL: &str = "ws://alice:s3cret@127.0.0.1:9001/feed?token=tok123&room=7";

fn namer() -> CodeNamer {
    Arc::new(|code: u16| match code {
        1000 => "Normal Closure".to_string(),
        1008 => "Policy Violation".to_string(),
        1013 => "Try Again Later".to_string(),
        other => format!("code {other}"),
    })
}

fn t(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_795_634_417, 0).expect("valid timestamp")
        + TimeDelta::milliseconds(ms)
}

fn deflate(params: &[(&str, Option<&str>)]) -> Extension {
    Extension {
        name: "permessage-deflate".into(),
        params: params
            .iter()
            .map(|(n, v)| Param {
                name: n.to_string(),
                value: v.map(str::to_string),
            })
            .collect(),
    }
}

fn handshake() -> HandshakeInfo {
    let h = |n: &str, v: &str| (n.to_string(), v.to_string());
    HandshakeInfo {
        status: 503,
        status_line: "HTTP/1.1 503 Service Unavailable".into(),
        // Deliberately not redacted by the producer: the writer must do it.
        request_headers: vec![
            h("Host", "127.0.0.1:9001"),
            h("Authorization", "Bearer very-secret-token"),
            h("Cookie", "session=cookie-secret"),
        ],
        response_headers: vec![
            h("Retry-After", "7"),
            h("X-Dup", "a"),
            h("Set-Cookie", "sid=server-secret"),
            h("x-dup", "b"),
        ],
        body: Some("overloaded".into()),
        offered: vec![deflate(&[("client_max_window_bits", None)])],
        accepted: vec![deflate(&[("server_max_window_bits", Some("10"))])],
        required: vec![],
        retry_after_ms: Some(7000),
        timings_ms: Timings {
            dns: None,
            connect: Some(0.4),
            tls: None,
            upgrade: Some(1.5),
            proxy: None,
        },
        ..HandshakeInfo::default()
    }
}

/// One event of every kind, for session 1, plus an event of a session never spawned.
fn every_kind() -> Vec<Event> {
    let kinds = vec![
        EventKind::Spawned {
            target: 0,
            index: 0,
            url: SECRET_URL.into(),
        },
        EventKind::Connecting {
            attempt: 1,
            slot_wait_ms: 0,
            link: Default::default(),
        },
        EventKind::Handshaking { attempt: 1 },
        EventKind::Handshake(std::sync::Arc::new(handshake())),
        EventKind::Open {
            attempt: 1,
            link: Default::default(),
        },
        EventKind::Closing {
            code: 1013,
            initiator: Initiator::Server,
        },
        EventKind::Closed(CloseInfo {
            code: 1013,
            reason: "busy, \"really\" busy".into(),
            initiator: Initiator::Server,
            clean: true,
            uptime_ms: None,
            peer_code: None,
            why: None,
        }),
        EventKind::Error {
            kind: ErrorKind::Connect,
            message: "connection refused\nsecond line".into(),
        },
        EventKind::Backoff(BackoffInfo {
            attempt: 3,
            cause: Cause::Close { code: 1013 },
            kind: DelayKind::Backoff,
            window_ms: 4000,
            delay_ms: 2345,
            retry_after_ms: None,
            jitter: Jitter::Full,
            next_attempt_at: t(2345),
        }),
        EventKind::GaveUp {
            attempts: 5,
            cause: Cause::Status { status: 503 },
        },
        EventKind::Ended {
            cause: Some(Cause::Close { code: 1008 }),
            why: "1008 Policy Violation: the server refused this client; retrying will not help"
                .into(),
        },
        EventKind::Ended {
            cause: None,
            why: "stopped by the user".into(),
        },
        EventKind::Paused { paused: true },
        EventKind::Removed,
    ];
    let mut events: Vec<Event> = kinds
        .into_iter()
        .enumerate()
        .map(|(i, kind)| Event {
            ts: t(i as i64 * 10 + 123),
            session: 1,
            kind,
        })
        .collect();
    events.push(Event {
        ts: t(999),
        session: 42,
        kind: EventKind::Connecting {
            attempt: 1,
            slot_wait_ms: 0,
            link: Default::default(),
        },
    });
    events
}

fn write_all(path: &Path, events: &[Event]) -> u64 {
    let mut w = ExportWriter::create(path, namer()).expect("create export");
    for ev in events {
        w.write(ev).expect("write event");
    }
    w.flush().expect("flush");
    w.count()
}

fn assert_no_secrets(text: &str) {
    for secret in [
        "s3cret",
        "alice",
        "tok123",
        "very-secret-token",
        "cookie-secret",
        "server-secret",
    ] {
        assert!(!text.contains(secret), "secret {secret:?} leaked:\n{text}");
    }
}

fn is_millis_utc(ts: &str) -> bool {
    // 2026-11-25T19:20:17.123Z
    let b = ts.as_bytes();
    b.len() == 24
        && b[10] == b'T'
        && b[19] == b'.'
        && b[20..23].iter().all(u8::is_ascii_digit)
        && b[23] == b'Z'
        && DateTime::parse_from_rfc3339(ts).is_ok()
}

#[test]
fn format_from_path() {
    assert_eq!(
        Format::from_path(Path::new("a.jsonl")).ok(),
        Some(Format::Jsonl)
    );
    assert_eq!(
        Format::from_path(Path::new("a.JSON")).ok(),
        Some(Format::Jsonl)
    );
    assert_eq!(
        Format::from_path(Path::new("dir/a.csv")).ok(),
        Some(Format::Csv)
    );
    let err = Format::from_path(Path::new("run.txt")).expect_err("unknown extension");
    let msg = err.to_string();
    assert!(
        msg.contains(".jsonl") && msg.contains(".csv") && msg.contains("run.txt"),
        "{msg}"
    );
    assert!(Format::from_path(Path::new("noext")).is_err());
}

#[test]
fn jsonl_round_trip_of_every_kind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.jsonl");
    let events = every_kind();
    assert_eq!(write_all(&path, &events), events.len() as u64);

    let text = std::fs::read_to_string(&path).expect("read export");
    assert!(text.ends_with('\n'));
    assert_eq!(text.lines().count(), events.len(), "one line per event");
    assert_no_secrets(&text);

    let values = reader::read_jsonl(&path).expect("read back");
    assert_eq!(values.len(), events.len());
    let names: Vec<&str> = values.iter().filter_map(|v| v["event"].as_str()).collect();
    assert_eq!(
        names,
        [
            "spawned",
            "connecting",
            "handshaking",
            "handshake",
            "open",
            "closing",
            "closed",
            "error",
            "backoff",
            "gave_up",
            "ended",
            "ended",
            "paused",
            "removed",
            "connecting"
        ]
    );
    for v in &values[..14] {
        let ts = v["ts"].as_str().expect("ts is a string");
        assert!(is_millis_utc(ts), "{ts}");
        assert_eq!(v["session"], json!(1));
        assert_eq!(
            v["url"],
            json!("ws://<redacted>@127.0.0.1:9001/feed?token=%3Credacted%3E&room=7")
        );
    }
    assert_eq!(values[0]["ts"], json!("2026-11-25T19:20:17.123Z"));
    assert_eq!(values[1]["attempt"], json!(1));

    let hs = &values[3];
    assert_eq!(hs["status"], json!(503));
    assert_eq!(hs["request_headers"]["Authorization"], json!("<redacted>"));
    assert_eq!(hs["request_headers"]["Cookie"], json!("<redacted>"));
    assert_eq!(hs["request_headers"]["Host"], json!("127.0.0.1:9001"));
    assert_eq!(hs["response_headers"]["Set-Cookie"], json!("<redacted>"));
    assert_eq!(
        hs["response_headers"]["X-Dup"],
        json!("a, b"),
        "duplicates merge"
    );
    assert_eq!(
        hs["offered"],
        json!([{"name": "permessage-deflate", "params": {"client_max_window_bits": true}}])
    );
    assert_eq!(
        hs["accepted"][0]["params"]["server_max_window_bits"],
        json!("10")
    );
    assert_eq!(hs["required"], json!([]));
    assert_eq!(
        hs["timings_ms"],
        json!({"dns": null, "connect": 0.4, "tls": null, "upgrade": 1.5})
    );
    assert_eq!(hs["retry_after_ms"], json!(7000));

    assert_eq!(values[5]["code_name"], json!("Try Again Later"));
    assert_eq!(values[5]["initiator"], json!("server"));
    let closed = &values[6];
    assert_eq!(closed["code"], json!(1013));
    assert_eq!(closed["code_name"], json!("Try Again Later"));
    assert_eq!(closed["reason"], json!("busy, \"really\" busy"));
    assert_eq!(closed["clean"], json!(true));
    assert_eq!(closed["uptime_ms"], Value::Null);
    assert_eq!(values[7]["kind"], json!("connect"));

    let backoff = &values[8];
    assert_eq!(
        backoff["cause"],
        json!({"type": "close", "code": 1013, "name": "Try Again Later"})
    );
    assert_eq!(backoff["attempt"], json!(3));
    assert_eq!(backoff["kind"], json!("backoff"));
    assert_eq!(backoff["window_ms"], json!(4000));
    assert_eq!(backoff["delay_ms"], json!(2345));
    assert_eq!(backoff["retry_after_ms"], Value::Null);
    assert_eq!(backoff["jitter"], json!("full"));
    assert_eq!(
        backoff["next_attempt_at"],
        json!("2026-11-25T19:20:19.345Z")
    );

    assert_eq!(values[9]["attempts"], json!(5));
    assert_eq!(values[9]["cause"], json!({"type": "status", "status": 503}));
    assert_eq!(
        values[10]["cause"],
        json!({"type": "close", "code": 1008, "name": "Policy Violation"})
    );
    assert!(
        values[10]["why"]
            .as_str()
            .is_some_and(|w| w.starts_with("1008 Policy"))
    );
    assert_eq!(values[11]["cause"], Value::Null);
    assert_eq!(values[12]["paused"], json!(true));
    // A session the writer never saw spawned has an empty URL rather than someone else's.
    assert_eq!(values[14]["session"], json!(42));
    assert_eq!(values[14]["url"], json!(""));
}

#[test]
fn csv_round_trip_with_quoting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.csv");
    let events = every_kind();
    assert_eq!(write_all(&path, &events), events.len() as u64);

    let text = std::fs::read_to_string(&path).expect("read export");
    assert_no_secrets(&text);

    let mut rdr = ::csv::Reader::from_path(&path).expect("open csv");
    let headers: Vec<String> = rdr
        .headers()
        .expect("header row")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(headers, csv::COLUMNS);
    let rows: Vec<::csv::StringRecord> = rdr
        .records()
        .collect::<Result<_, _>>()
        .expect("every row parses");
    assert_eq!(rows.len(), events.len(), "one row per event");
    let col = |row: &::csv::StringRecord, name: &str| -> String {
        let i = csv::COLUMNS
            .iter()
            .position(|c| *c == name)
            .expect("known column");
        row.get(i).expect("cell").to_string()
    };
    for row in &rows {
        assert_eq!(row.len(), csv::COLUMNS.len());
        assert!(is_millis_utc(&col(row, "ts")), "{row:?}");
    }
    assert_eq!(col(&rows[0], "event"), "spawned");
    assert!(col(&rows[0], "url").starts_with("ws://<redacted>@127.0.0.1:9001/feed"));
    assert_eq!(col(&rows[1], "attempt"), "1");

    let closed = &rows[6];
    assert_eq!(col(closed, "code"), "1013");
    assert_eq!(col(closed, "code_name"), "Try Again Later");
    assert_eq!(col(closed, "reason"), "busy, \"really\" busy");
    assert_eq!(col(closed, "initiator"), "server");
    assert_eq!(col(closed, "clean"), "true");
    assert_eq!(col(closed, "uptime_ms"), "");
    assert_eq!(col(closed, "detail"), "", "nothing left over");

    assert_eq!(col(&rows[7], "kind"), "connect");
    assert_eq!(col(&rows[7], "message"), "connection refused\nsecond line");

    let backoff = &rows[8];
    assert_eq!(col(backoff, "window_ms"), "4000");
    assert_eq!(col(backoff, "delay_ms"), "2345");
    assert_eq!(col(backoff, "retry_after_ms"), "");
    assert_eq!(col(backoff, "jitter"), "full");
    assert_eq!(col(backoff, "next_attempt_at"), "2026-11-25T19:20:19.345Z");
    let detail: Value = serde_json::from_str(&col(backoff, "detail")).expect("detail is JSON");
    assert_eq!(detail["cause"]["name"], json!("Try Again Later"));

    let hs = &rows[3];
    assert_eq!(col(hs, "status"), "503");
    assert_eq!(col(hs, "retry_after_ms"), "7000");
    let detail: Value = serde_json::from_str(&col(hs, "detail")).expect("detail is JSON");
    assert_eq!(detail["response_headers"]["X-Dup"], json!("a, b"));
    assert_eq!(
        detail["request_headers"]["Authorization"],
        json!("<redacted>")
    );
    assert_eq!(
        detail["status_line"],
        json!("HTTP/1.1 503 Service Unavailable")
    );
}

#[test]
fn lines_are_whole_even_when_larger_than_the_buffer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.jsonl");
    let mut hs = handshake();
    hs.body = Some("x".repeat(200 * 1024));
    let mut w = ExportWriter::create(&path, namer()).expect("create export");
    let spawned = Event {
        ts: t(0),
        session: 7,
        kind: EventKind::Spawned {
            target: 0,
            index: 0,
            url: "ws://127.0.0.1:1/".into(),
        },
    };
    for i in 0..50 {
        let kind = if i % 10 == 0 {
            EventKind::Handshake(std::sync::Arc::new(hs.clone()))
        } else {
            EventKind::Connecting {
                attempt: i,
                slot_wait_ms: 0,
                link: Default::default(),
            }
        };
        w.write(&spawned).expect("write");
        w.write(&Event {
            ts: t(i64::from(i)),
            session: 7,
            kind,
        })
        .expect("write");
        // Whatever reached the file so far ends at a line boundary.
        let on_disk = std::fs::read(&path).expect("read");
        assert!(on_disk.is_empty() || on_disk.ends_with(b"\n"));
    }
    drop(w);
    let values = reader::read_jsonl(&path).expect("read back after drop");
    assert_eq!(values.len(), 100, "dropping the writer flushes everything");
}

#[test]
fn malformed_jsonl_names_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.jsonl");
    std::fs::write(
        &path,
        "{\"ts\":\"2026-11-25T19:20:17.123Z\",\"session\":1,\"url\":\"\",\"event\":\"open\"}\n\n{not json\n",
    )
    .expect("write");
    let err = reader::read_jsonl(&path).expect_err("line 3 is broken");
    assert!(
        matches!(err, ExportError::Malformed { line: 3, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("bad.jsonl:3: invalid JSON"),
        "{err}"
    );

    std::fs::write(&path, "{\"event\":\"open\"}\n[1,2]\n").expect("write");
    let err = reader::read_jsonl(&path).expect_err("line 2 is not an event");
    assert!(
        matches!(err, ExportError::Malformed { line: 2, .. }),
        "{err:?}"
    );

    let missing = dir.path().join("missing.jsonl");
    assert!(matches!(
        reader::read_jsonl(&missing),
        Err(ExportError::Io { .. })
    ));
}

#[test]
fn summary_of_a_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("run.jsonl");
    let mut events = every_kind();
    // A second session that closes with 1013 twice and backs off further.
    for (i, kind) in [
        EventKind::Spawned {
            target: 0,
            index: 0,
            url: "ws://127.0.0.1:9001/overload".into(),
        },
        EventKind::Connecting {
            attempt: 1,
            slot_wait_ms: 0,
            link: Default::default(),
        },
        EventKind::Closed(CloseInfo {
            code: 1013,
            reason: String::new(),
            initiator: Initiator::Server,
            clean: true,
            uptime_ms: Some(3),
            peer_code: None,
            why: None,
        }),
        EventKind::Backoff(BackoffInfo {
            attempt: 6,
            cause: Cause::Close { code: 1013 },
            kind: DelayKind::Backoff,
            window_ms: 32000,
            delay_ms: 31200,
            retry_after_ms: None,
            jitter: Jitter::Full,
            next_attempt_at: t(40_000),
        }),
    ]
    .into_iter()
    .enumerate()
    {
        events.push(Event {
            ts: t(2000 + i as i64),
            session: 2,
            kind,
        });
    }
    write_all(&path, &events);
    let values = reader::read_jsonl(&path).expect("read back");
    let s: Summary = reader::summarize(&values);
    assert_eq!(s.events, events.len() as u64);
    assert_eq!(s.sessions, 3);
    assert_eq!(s.attempts, 3);
    assert_eq!(s.by_event.get("closed"), Some(&2));
    assert_eq!(
        s.closes.get(&1013),
        Some(&(2, "Try Again Later".to_string()))
    );
    assert_eq!(s.statuses.get(&503), Some(&1));
    assert_eq!(s.errors.get("connect"), Some(&1));
    assert_eq!(s.max_backoff_attempt, Some(6));
    assert_eq!(s.max_delay_ms, Some(31200));
    assert_eq!(s.gave_up, 1);
    assert_eq!(s.urls.len(), 2);

    let text = s.to_string();
    assert!(text.contains("Sessions: 3"), "{text}");
    assert!(text.contains("1013 Try Again Later"), "{text}");
    assert!(
        text.contains("Largest backoff attempt: 6 (longest delay 31.2 s)"),
        "{text}"
    );
    assert!(text.contains("Gave up: 1"), "{text}");
    assert!(
        text.contains("1008 Policy Violation: the server refused"),
        "{text}"
    );
    assert_no_secrets(&text);

    // Strings from the file are escaped before they are printed.
    let hostile = vec![json!({"event": "ended", "session": 1, "why": "bye\u{1b}[2J"})];
    let text = reader::summarize(&hostile).to_string();
    assert!(
        !text.contains('\u{1b}') && text.contains("bye\\u{1b}[2J"),
        "{text}"
    );
}

#[test]
fn peer_code_is_exported_only_when_the_peer_sent_an_invalid_code() {
    let closed = |peer_code: Option<u16>| Event {
        ts: t(0),
        session: 1,
        kind: EventKind::Closed(CloseInfo {
            code: 1002,
            reason: "peer sent invalid close code 1005".into(),
            initiator: Initiator::Client,
            clean: false,
            uptime_ms: Some(4),
            peer_code,
            why: None,
        }),
    };
    let name = |c: u16| format!("code {c}");
    let with = jsonl::to_json_line(&closed(Some(1005)), "ws://h/", &name);
    assert_eq!(with["peer_code"], json!(1005));
    assert_eq!(with["code"], json!(1002));
    let detail_at = csv::COLUMNS.len() - 1;
    assert_eq!(csv::row(&with)[detail_at], r#"{"peer_code":1005}"#);

    let without = jsonl::to_json_line(&closed(None), "ws://h/", &name);
    assert!(without.get("peer_code").is_none(), "{without}");
    assert_eq!(csv::row(&without)[detail_at], "");

    // The serde form (used by replay fixtures) follows the same rule.
    let v = serde_json::to_value(closed(None)).expect("serialises");
    assert!(v["kind"].get("peer_code").is_none(), "{v}");
    let back: Event =
        serde_json::from_value(serde_json::to_value(closed(Some(1015))).expect("serialises"))
            .expect("reads back");
    assert_eq!(back, closed(Some(1015)));
}

#[test]
fn salvage_cuts_a_partial_last_line_and_counts_whole_events() {
    let dir = tempfile::tempdir().expect("temp dir");
    let jsonl = dir.path().join("cut.jsonl");
    std::fs::write(&jsonl, b"{\"a\":1}\n{\"a\":2}\n{\"a\":").expect("write");
    assert_eq!(salvage(&jsonl, Format::Jsonl).expect("salvage"), 2);
    assert_eq!(
        std::fs::read(&jsonl).expect("read"),
        b"{\"a\":1}\n{\"a\":2}\n"
    );
    let csv = dir.path().join("cut.csv");
    std::fs::write(&csv, b"ts,session\n1,2\n3").expect("write");
    assert_eq!(salvage(&csv, Format::Csv).expect("salvage"), 1);
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, b"{\"half").expect("write");
    assert_eq!(salvage(&empty, Format::Jsonl).expect("salvage"), 0);
    assert_eq!(std::fs::metadata(&empty).expect("meta").len(), 0);
}

/// Issue 19 section 4b: who closed it and whether the code travelled, in both formats; read
/// back by replay; old exports without the new fields still load.
#[test]
fn who_closed_it_and_code_on_wire_round_trip_through_jsonl_and_csv() {
    use crate::engine::events::CloseWhy;
    let close = |session, code, initiator, why| Event {
        ts: t(i64::try_from(session).unwrap_or(0)),
        session,
        kind: EventKind::Closed(CloseInfo {
            code,
            reason: String::new(),
            initiator,
            clean: code != 1006,
            uptime_ms: Some(4),
            peer_code: None,
            why,
        }),
    };
    let events = [
        close(1, 1005, Initiator::Server, None),
        close(2, 1006, Initiator::Server, None),
        close(3, 1001, Initiator::Client, Some(CloseWhy::Shutdown)),
        close(4, 1008, Initiator::Client, Some(CloseWhy::PeerNotReading)),
    ];
    let line = jsonl::to_json_line(&events[0], "ws://h/", &|c| format!("code {c}"));
    assert_eq!(line["initiator"], json!("server"));
    assert_eq!(line["code_on_wire"], json!(false));
    assert!(line.get("close_why").is_none(), "{line}");
    let line = jsonl::to_json_line(&events[3], "ws://h/", &|c| format!("code {c}"));
    assert_eq!(line["code_on_wire"], json!(true));
    assert_eq!(line["close_why"], json!("peer_not_reading"));
    let row = csv::row(&line);
    let at = |name: &str| csv::COLUMNS.iter().position(|c| *c == name).unwrap_or(0);
    assert_eq!(row[at("code_on_wire")], "true");
    assert_eq!(row[at("detail")], r#"{"close_why":"peer_not_reading"}"#);

    let dir = tempfile::tempdir().expect("temp dir");
    for name in ["log.jsonl", "log.csv"] {
        let path = dir.path().join(name);
        let mut w = ExportWriter::create(&path, namer()).expect("create export");
        for ev in &events {
            w.write(ev).expect("write");
        }
        w.flush().expect("flush");
        let back = crate::runtime::replay::load(&path).expect("loads");
        assert_eq!(back.events, events, "{name}");
        assert!(back.warnings.is_empty(), "{name}: {:?}", back.warnings);
    }

    // An export from before these fields: it loads, and its (1001, client) closes were
    // shutdown closes (wsmon sent 1001 for nothing else then).
    let old = dir.path().join("old.jsonl");
    std::fs::write(
        &old,
        concat!(
            r#"{"ts":"2026-11-25T19:20:17.123Z","session":1,"url":"ws://h/","event":"closed","code":1001,"code_name":"Going Away","reason":"wsmon is shutting down","initiator":"client","clean":true,"uptime_ms":5}"#,
            "\n",
            r#"{"ts":"2026-11-25T19:20:17.124Z","session":2,"url":"ws://h/","event":"closed","code":1005,"code_name":"No Status Received","reason":"","initiator":"local","clean":true,"uptime_ms":5}"#,
            "\n"
        ),
    )
    .expect("write old log");
    let back = crate::runtime::replay::load(&old).expect("an old export loads");
    assert!(back.warnings.is_empty(), "{:?}", back.warnings);
    let infos: Vec<&CloseInfo> = back
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Closed(c) => Some(c),
            _ => None,
        })
        .collect();
    assert!(infos[0].is_shutdown());
    assert_eq!(infos[1].initiator, Initiator::Local, "kept as written");
    assert!(!infos[1].code_on_wire());

    // A line that contradicts itself (1005 on the wire) is refused.
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        concat!(
            r#"{"ts":"2026-11-25T19:20:17.123Z","session":1,"url":"ws://h/","event":"closed","code":1005,"initiator":"server","clean":true,"uptime_ms":5,"code_on_wire":true}"#,
            "\n"
        ),
    )
    .expect("write bad log");
    let loaded = crate::runtime::replay::load(&bad);
    assert!(
        loaded.map_or(true, |r| !r.warnings.is_empty()),
        "a contradiction is not silently accepted"
    );
}
