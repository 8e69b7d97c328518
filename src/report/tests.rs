use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::data;
use super::html::{self, esc, script_safe, source_href};
use super::{Window, write};
use crate::codes::Lang;
use crate::engine::events::{
    BackoffInfo, Cause, CloseInfo, DelayKind, Event, EventKind, HandshakeInfo, Initiator, Jitter,
};
use crate::export::Format;
use crate::runtime::replay::load::{Recording, RunMeta};
use crate::runtime::replay::merge::{Merged, merge};

fn t0() -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_795_634_400, 0).expect("valid time")
}

fn at(ms: i64) -> DateTime<Utc> {
    t0() + TimeDelta::milliseconds(ms)
}

fn ev(ms: i64, session: u64, kind: EventKind) -> Event {
    Event {
        ts: at(ms),
        session,
        kind,
    }
}

fn hs(status: u16) -> EventKind {
    EventKind::Handshake(Arc::new(HandshakeInfo {
        status,
        ..HandshakeInfo::default()
    }))
}

fn closed(code: u16, reason: &str) -> EventKind {
    EventKind::Closed(CloseInfo {
        code,
        reason: reason.into(),
        initiator: Initiator::Server,
        clean: true,
        uptime_ms: Some(10),
        peer_code: None,
        why: None,
    })
}

/// Session `s` connects at `ms`, opens, is closed with `code` 30 ms later and backs off 1 s.
fn cycle(out: &mut Vec<Event>, ms: i64, s: u64, attempt: u32, code: u16, reason: &str) {
    out.push(ev(
        ms,
        s,
        EventKind::Connecting {
            attempt,
            slot_wait_ms: 0,
            link: Default::default(),
        },
    ));
    out.push(ev(ms + 4, s, hs(101)));
    out.push(ev(
        ms + 5,
        s,
        EventKind::Open {
            attempt,
            link: Default::default(),
        },
    ));
    out.push(ev(ms + 30, s, closed(code, reason)));
    out.push(ev(
        ms + 31,
        s,
        EventKind::Backoff(BackoffInfo {
            attempt,
            cause: Cause::Close { code },
            kind: DelayKind::Backoff,
            window_ms: 2000,
            delay_ms: 1000,
            retry_after_ms: None,
            jitter: Jitter::Full,
            next_attempt_at: at(ms + 1031),
        }),
    ));
}

/// Two sessions over four seconds: s1 closed with 1013 every second, s2 refused with 503 once
/// then closed with a hostile reason.
fn recording() -> Recording {
    let mut events = Vec::new();
    for s in 1..=2 {
        events.push(ev(
            0,
            s,
            EventKind::Spawned {
                target: 0,
                index: s as usize - 1,
                url: "ws://127.0.0.1:9/overload".into(),
            },
        ));
    }
    for k in 0..4 {
        cycle(
            &mut events,
            1 + 1000 * k,
            1,
            k as u32 + 1,
            1013,
            "overloaded",
        );
    }
    events.push(ev(
        10,
        2,
        EventKind::Connecting {
            attempt: 1,
            slot_wait_ms: 0,
            link: Default::default(),
        },
    ));
    events.push(ev(20, 2, hs(503)));
    cycle(&mut events, 2100, 2, 2, 4000, "<script>alert(1)</script>");
    events.sort_by_key(|e| e.ts);
    Recording {
        path: PathBuf::from("test.jsonl"),
        format: Format::Jsonl,
        events,
        code_names: HashMap::new(),
        warnings: Vec::new(),
    }
}

/// One recording as the report takes it (a merge of one file).
fn merged(rec: &Recording) -> Merged {
    let copy = Recording {
        path: rec.path.clone(),
        format: rec.format,
        events: rec.events.clone(),
        code_names: rec.code_names.clone(),
        warnings: rec.warnings.clone(),
    };
    merge(vec![(copy, RunMeta::default())])
}

fn build(rec: &Recording, window: Window) -> data::Report {
    let m = merged(rec);
    data::build(&m, window, &[], Lang::En, vec!["test.jsonl".into()], vec![])
}

#[test]
fn header_and_series_count_what_happened_each_second() {
    let r = build(&recording(), Window::default());
    let h = &r.header;
    assert_eq!((h.sessions, h.attempts, h.opens), (2, 6, 5));
    assert_eq!(h.targets, vec!["ws://127.0.0.1:9/overload".to_string()]);
    assert_eq!(h.span, Some((at(0), at(3032))));
    let s = &r.series;
    assert_eq!((s.t0, s.step, s.len), (t0().timestamp(), 1, 4));
    assert_eq!(s.attempts, vec![2.0, 1.0, 2.0, 1.0]);
    assert_eq!(s.closes[&1013], vec![1.0, 1.0, 1.0, 1.0]);
    assert_eq!(s.closes[&4000], vec![0.0, 0.0, 1.0, 0.0]);
    assert_eq!(s.statuses[&503], vec![1.0, 0.0, 0.0, 0.0]);
    // Retries due: each backoff's next attempt, by the second it falls in.
    assert_eq!(s.retries_due, vec![0.0, 1.0, 1.0, 2.0]);
    assert_eq!(s.hs_p50[0], Some(4.0));
    assert_eq!(r.closes.len(), 2);
    assert_eq!(r.statuses, vec![(101, 5), (503, 1)]);
    // The busiest sessions: s1 (4 attempts) before s2 (2), with their timelines.
    assert_eq!(r.top.len(), 2);
    assert_eq!((r.top[0].id, r.top[0].attempts), (1, 4));
    // Four attempts, and the retry scheduled at the end that never started.
    assert_eq!(r.top[0].timeline.len(), 5);
    assert_eq!(r.top[0].timeline[4].started_at, None);
}

#[test]
fn a_window_counts_only_its_events() {
    let rec = recording();
    let w = Window {
        from: Some(at(1000)),
        to: Some(at(1999)),
    };
    let r = build(&rec, w);
    assert_eq!(
        (r.header.sessions, r.header.attempts, r.header.events),
        (1, 1, 5)
    );
    assert_eq!(r.series.len, 1);
    // The attempt started inside the window, and the retry it scheduled (not started by the
    // window's end).
    let started: Vec<bool> = r.top[0]
        .timeline
        .iter()
        .map(|a| a.started_at.is_some())
        .collect();
    assert_eq!(started, vec![true, false]);
    assert_eq!(r.top[0].timeline[0].started_at, Some(at(1001)));
}

#[test]
fn an_empty_window_writes_a_page_that_says_so() {
    let rec = recording();
    let w = Window {
        from: Some(at(60_000)),
        to: None,
    };
    let r = build(&rec, w);
    assert_eq!(r.header.events, 0);
    let page = html::render(&r, "empty");
    assert!(page.contains("<p id=\"no-events\">No events in this window.</p>"));
    assert!(!page.contains("class=\"chart\""));
    assert!(page.ends_with("</body></html>\n"));
}

#[test]
fn a_hostile_close_reason_is_text_everywhere() {
    let r = build(&recording(), Window::default());
    let page = html::render(&r, "<b>title</b>");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<script>alert(1)"));
    assert!(page.contains("<title>&lt;b&gt;title&lt;/b&gt;</title>"));
    // Exactly our own three script elements.
    assert_eq!(page.matches("<script").count(), 3);
    assert_eq!(page.matches("</script>").count(), 3);
}

#[test]
fn escaping_helpers() {
    assert_eq!(esc("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
    assert_eq!(
        script_safe(r#"{"r":"</script><!--&"}"#),
        r#"{"r":"\u003c/script\u003e\u003c!--\u0026"}"#
    );
}

#[test]
fn the_page_forbids_network_access_and_links_sources() {
    let r = build(&recording(), Window::default());
    let page = html::render(&r, "t");
    assert!(page.contains(
        "content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\""
    ));
    assert!(page.contains("href=\"https://www.rfc-editor.org/rfc/rfc6455#section-4.1\""));
    assert!(page.contains("href=\"https://www.iana.org/assignments/websocket/websocket.xhtml\""));
    assert!(!page.contains(" src=\""), "nothing is loaded from anywhere");
}

#[test]
fn sources_link_to_where_they_can_be_read() {
    assert_eq!(
        source_href("RFC 6455 §7.4.1 (MUST NOT be set in a close frame)").as_deref(),
        Some("https://www.rfc-editor.org/rfc/rfc6455#section-7.4.1")
    );
    assert_eq!(
        source_href("RFC 7692 (permessage-deflate)").as_deref(),
        Some("https://www.rfc-editor.org/rfc/rfc7692")
    );
    assert_eq!(
        source_href("RFC 6455 errata ID 3227 (reported, never verified)").as_deref(),
        Some("https://www.rfc-editor.org/errata/eid3227")
    );
    assert!(source_href("IANA registry: WebSocket Close Code Number Registry").is_some());
    assert_eq!(source_href("hybi list"), None);
}

#[test]
fn the_french_page_has_french_headings_and_explanations() {
    let rec = recording();
    let r = data::build(
        &merged(&rec),
        Window::default(),
        &[],
        Lang::Fr,
        vec![],
        vec![],
    );
    let page = html::render(&r, "t");
    assert!(page.contains("<html lang=\"fr\">"));
    assert!(page.contains("Codes de fermeture vus"));
    assert!(page.contains("\"lang\":\"fr\""));
}

#[test]
fn verdicts_are_evaluated_on_the_final_snapshot() {
    let rec = recording();
    let ths = [
        crate::thresholds::parse("closes{code=1013}>3").expect("valid"),
        crate::thresholds::parse("closes{code=1013}>10").expect("valid"),
    ];
    let r = data::build(
        &merged(&rec),
        Window::default(),
        &ths,
        Lang::En,
        vec![],
        vec![],
    );
    use crate::thresholds::Verdict;
    let verdicts: Vec<Verdict> = r.verdicts.iter().map(|v| v.verdict).collect();
    assert_eq!(verdicts, vec![Verdict::Fail, Verdict::Pass]);
    let page = html::render(&r, "t");
    assert!(
        page.contains("<tr class=\"fail\"><td>FAIL</td><td><code>closes{code=1013}&gt;3</code>")
    );
}

#[test]
fn the_vendored_uplot_is_the_recorded_version_under_its_licence() {
    let version = html::UPLOT_VERSION
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("uplot "))
        .expect("VERSION starts with 'uplot X.Y.Z'");
    let header = format!("/*! https://github.com/leeoniya/uPlot (v{version}) */");
    assert!(
        html::UPLOT_JS.starts_with(&header),
        "uPlot.iife.min.js does not start with {header}"
    );
    let licence = include_str!("../../assets/vendor/uplot/LICENSE");
    assert!(licence.starts_with("The MIT License (MIT)"));
    assert!(licence.contains("Leon Sorokin"));
    assert!(html::UPLOT_CSS.contains(".uplot"));
}

#[test]
fn a_report_is_written_whole_or_not_at_all() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("r.html");
    write::atomic(&out, b"first").expect("written");
    write::atomic(&out, b"second").expect("replaced");
    assert_eq!(std::fs::read(&out).expect("read"), b"second");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        names,
        vec![std::ffi::OsString::from("r.html")],
        "no temp file left"
    );

    let missing = dir.path().join("nope").join("r.html");
    let err = write::atomic(&missing, b"x").expect_err("missing dir");
    assert!(err.to_string().contains("nope/r.html"), "{err}");
    assert!(!missing.exists());
    assert!(write::atomic(dir.path(), b"x").is_err(), "a directory");
}

#[test]
fn a_long_window_is_drawn_in_wider_buckets_as_per_second_rates() {
    let mut rec = recording();
    // One more attempt 30,000 s later: 30,004 seconds in all, more than MAX_POINTS.
    rec.events.push(ev(
        30_003_000,
        1,
        EventKind::Connecting {
            attempt: 9,
            slot_wait_ms: 0,
            link: Default::default(),
        },
    ));
    let r = build(&rec, Window::default());
    let s = &r.series;
    assert_eq!((s.step, s.len), (2, 15_002));
    // Seconds 0 and 1 (3 attempts) share the first bucket: 1.5 a second.
    assert_eq!(s.attempts[0], 1.5);
    assert_eq!(s.attempts[15_001], 0.5);
    // Gauges are carried over the quiet gap.
    assert!(s.open[10_000].is_some());
}

#[test]
fn retries_in_step_are_drawn_against_the_chance_band() {
    let mut events = Vec::new();
    for s in 1..=40u64 {
        events.push(ev(
            0,
            s,
            EventKind::Spawned {
                target: 0,
                index: s as usize,
                url: "ws://127.0.0.1:9/".into(),
            },
        ));
        // Every session retries within the same 20 ms of second 2.
        let ms = 2000 + (s as i64 % 20);
        events.push(ev(
            ms,
            s,
            EventKind::Connecting {
                attempt: 2,
                slot_wait_ms: 0,
                link: Default::default(),
            },
        ));
    }
    events.push(ev(4000, 1, EventKind::Removed));
    events.sort_by_key(|e| e.ts);
    let rec = Recording {
        path: PathBuf::from("herd.jsonl"),
        format: Format::Jsonl,
        events,
        code_names: HashMap::new(),
        warnings: Vec::new(),
    };
    let r = build(&rec, Window::default());
    let s = &r.series;
    assert_eq!(s.lockstep[2], Some(1.0), "all 40 retries in one 100 ms");
    let (lo, c, hi) = (
        s.chance_lo[2].expect("band"),
        s.chance[2].expect("chance"),
        s.chance_hi[2].expect("band"),
    );
    assert!(lo <= c && c <= hi && hi < 0.5, "chance {lo} {c} {hi}");
    assert_eq!(s.lockstep[1], None, "no retries, no index");
}

#[test]
fn verdicts_leave_out_the_runs_own_shutdown_as_replay_does() {
    let mut rec = recording();
    // wsmon stopping: it closes the open session with 1001 itself.
    rec.events.push(ev(
        5000,
        2,
        EventKind::Closed(CloseInfo {
            code: 1001,
            reason: String::new(),
            initiator: Initiator::Client,
            clean: true,
            uptime_ms: Some(100),
            peer_code: None,
            why: None,
        }),
    ));
    let ths = [crate::thresholds::parse("closes{code=1001}>0").expect("valid")];
    let r = data::build(
        &merged(&rec),
        Window::default(),
        &ths,
        Lang::En,
        vec![],
        vec![],
    );
    assert_eq!(r.verdicts[0].verdict, crate::thresholds::Verdict::Pass);
    // The page still shows the close.
    assert_eq!(r.closes.iter().find(|c| c.0 == 1001).map(|c| c.1), Some(1));
}
