//! Whole-screen tests: every view rendered from a hand-built snapshot with a fixed clock on a
//! `TestBackend`, compared line by line with the expected screen (no color, as with NO_COLOR).
//! Each expected line is framed with `|` so trailing spaces are visible.

use std::sync::Arc;

use wsmon::engine::events::SessionState;
use wsmon::state::snapshot::Snapshot;
use wsmon::tui::app::App;
use wsmon::tui::fixtures;
use wsmon::tui::view::{ExplainTarget, Prompt, PromptKind, Tab};

fn app() -> App {
    App::new(fixtures::view_state())
}

fn snap20() -> Arc<Snapshot> {
    Arc::new(fixtures::snapshot(20))
}

/// Compare a rendered screen with the expected one. With `WSMON_SCREENS_DIR` set, the actual
/// screen is also written there (to review a change).
fn check(name: &str, actual: &[String], expected: &str) {
    let actual: Vec<String> = actual.iter().map(|l| format!("|{l}|")).collect();
    if let Some(dir) = std::env::var_os("WSMON_SCREENS_DIR") {
        let path = std::path::Path::new(&dir).join(format!("{name}.txt"));
        std::fs::write(&path, actual.join("\n")).expect("write screen");
    }
    let expected: Vec<&str> = expected.trim_matches('\n').lines().collect();
    assert_eq!(
        actual.join("\n"),
        expected.join("\n"),
        "screen {name} differs"
    );
}

#[test]
fn main_screen_100x30() {
    let snap = snap20();
    let mut app = app();
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("main_100x30", &screen, MAIN_100X30);
}

#[test]
fn main_screen_80x24_shows_1013_with_its_name() {
    let snap = snap20();
    let mut app = app();
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    check("main_80x24", &screen, MAIN_80X24);
    assert!(
        screen[2].contains("1013 Try Again Later"),
        "the header names 1013: {}",
        screen[2]
    );
}

#[test]
fn detail_view_with_backoff_timeline() {
    let snap = snap20();
    let mut app = app();
    app.view.detail = Some(7);
    // Scrolled to the end: the timeline table and the time axis.
    app.view.detail_scroll = u16::MAX;
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("detail_timeline_100x30", &screen, DETAIL_TIMELINE_100X30);
}

#[test]
fn detail_view_top_handshake_and_extensions() {
    let snap = snap20();
    let mut app = app();
    app.view.detail = Some(10);
    let screen = fixtures::render(&mut app, &snap, 100, 40);
    check("detail_top_100x40", &screen, DETAIL_TOP_100X40);
}

#[test]
fn storm_view() {
    let snap = snap20();
    let mut app = app();
    app.view.tab = Tab::Storm;
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("storm_100x30", &screen, STORM_100X30);
}

#[test]
fn explain_view() {
    let snap = snap20();
    let mut app = app();
    app.view.explain = Some(ExplainTarget::One(1013));
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("explain_100x30", &screen, EXPLAIN_100X30);
}

#[test]
fn compare_view() {
    let snap = snap20();
    let mut app = app();
    app.view.explain = Some(ExplainTarget::Compare(1010, 1013));
    let screen = fixtures::render(&mut app, &snap, 100, 30);
    check("compare_100x30", &screen, COMPARE_100X30);
}

#[test]
fn help_view() {
    let snap = snap20();
    let mut app = app();
    app.view.help = true;
    let screen = fixtures::render(&mut app, &snap, 100, 40);
    check("help_100x40", &screen, HELP_100X40);
}

#[test]
fn close_prompt_and_state_filter() {
    let snap = snap20();
    let mut app = app();
    app.view.state_filter = Some(SessionState::Waiting);
    app.view.prompt = Some(Prompt {
        kind: PromptKind::Close(6),
        input: "4000 maintenance".to_string(),
    });
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    check("prompt_filter_80x24", &screen, PROMPT_FILTER_80X24);
}

#[test]
fn frozen_and_paused_badges() {
    let mut snap = fixtures::snapshot(20);
    snap.totals.paused_all = true;
    let snap = Arc::new(snap);
    let mut app = app();
    app.view.frozen = Some(snap.clone());
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(screen[0].contains(" FROZEN "), "{}", screen[0]);
    assert!(screen[0].contains(" PAUSED "), "{}", screen[0]);
    let mut app = self::app();
    let plain = fixtures::render(&mut app, &Arc::new(fixtures::snapshot(20)), 80, 24);
    assert!(!plain[0].contains("FROZEN") && !plain[0].contains("PAUSED"));
}

#[test]
fn ten_thousand_sessions_page_and_end() {
    let snap = Arc::new(fixtures::snapshot(10_000));
    let mut app = app();
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(screen[22].contains("row 1/10000"), "{}", screen[22]);
    app.view.select_position(&snap, usize::MAX);
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(screen[22].contains("row 10000/10000"), "{}", screen[22]);
    assert!(
        screen[21].starts_with("s10000 "),
        "last row visible: {}",
        screen[21]
    );
}

/// Every view at every small size, and a zero-size area: nothing panics.
#[test]
fn tiny_and_zero_sizes_do_not_panic() {
    let snap = snap20();
    let setups: [fn(&mut App); 6] = [
        |_| {},
        |a| a.view.detail = Some(7),
        |a| a.view.tab = Tab::Storm,
        |a| a.view.explain = Some(ExplainTarget::Compare(1010, 1013)),
        |a| a.view.help = true,
        |a| {
            a.view.prompt = Some(Prompt {
                kind: PromptKind::Add,
                input: "ws://127.0.0.1:1/x 3".to_string(),
            })
        },
    ];
    for setup in &setups {
        for w in 0..=30u16 {
            for h in 0..=10u16 {
                let mut app = app();
                setup(&mut app);
                let screen = fixtures::render(&mut app, &snap, w, h);
                assert_eq!(screen.len(), usize::from(h));
            }
        }
        let mut app = app();
        setup(&mut app);
        let screen = fixtures::render(&mut app, &snap, 20, 5);
        assert_eq!(screen.len(), 5);
    }
    // An empty snapshot (before the first store publish) renders too.
    let mut app = app();
    let screen = fixtures::render(&mut app, &Snapshot::default(), 80, 24);
    assert!(screen[5].contains("no sessions yet"), "{}", screen[5]);
}

const MAIN_100X30: &str = r#"
| wsmon | demo  [Sessions] Storm                                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 24 | 1010 Mandatory Extension 2 | 1006 Abnormal Closure 1 | HTTP 503 1 |
| attempts/s 3.0 (total 39)  lockstep 0.82 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
|ID▲ TARGET                  STATE         UPTIME ATT  LAST CLOSE               EXT     RTT     RATIO|
|s1  127.0.0.1:9001/echo     open          1m00s  1    -                        deflate 250us   2.81 |
|s2  127.0.0.1:9001/echo     open          1m07s  1    -                        deflate 263us   2.81 |
|s3  127.0.0.1:9001/echo     open          1m15s  1    -                        deflate 276us   2.81 |
|s4  127.0.0.1:9001/echo     open          1m23s  1    -                        deflate 289us   2.81 |
|s5  127.0.0.1:9001/echo     connecting    -      1    -                        -       -       -    |
|s6  127.0.0.1:9001/overload waiting 2s    -      3    1013 srv Try Again Later deflate -       0.55 |
|s7  127.0.0.1:9001/overload waiting 4s    -      4    1013 srv Try Again Later deflate -       0.55 |
|s8  127.0.0.1:9001/overload waiting 8s    -      5    1013 srv Try Again Later deflate -       0.55 |
|s9  127.0.0.1:9001/flaky    waiting 22s   -      1    HTTP 503                 -       -       -    |
|s10 127.0.0.1:9001/strict   closed        -      1    1010 cli Mandatory Exte~ -       -       -    |
|s11 127.0.0.1:9001/echo     open          2m19s  1    -                        deflate 380us   2.81 |
|s12 127.0.0.1:9001/echo     open          2m27s  1    -                        deflate 393us   2.81 |
|s13 127.0.0.1:9001/echo     open          2m35s  1    -                        deflate 406us   2.81 |
|s14 127.0.0.1:9001/echo     open          2m42s  1    -                        deflate 419us   2.81 |
|s15 127.0.0.1:9001/echo     open          2m50s  1    -                        deflate 432us   2.81 |
|s16 127.0.0.1:9001/overload waiting 3s    -      3    1013 srv Try Again Later deflate -       0.55 |
|s17 127.0.0.1:9001/overload waiting 5s    -      4    1013 srv Try Again Later deflate -       0.55 |
|s18 127.0.0.1:9001/overload waiting 9s    -      5    1013 srv Try Again Later deflate -       0.55 |
|s19 127.0.0.1:9001/flaky    open          44.5s  2    1006 loc Abnormal Closu~ deflate 2.0ms   0.95 |
|s20 127.0.0.1:9001/strict   closed        -      1    1010 cli Mandatory Exte~ -       -       -    |
|                                                                                                    |
|                                                                                                    |
|                                                                                                    |
| row 1/20  sort ID asc                                                                              |
| q quit  ? help  Enter detail  > sort  x explain  a add  c close  r reconnect  p pause  P pause all |
"#;

const MAIN_80X24: &str = r#"
| wsmon | demo  [Sessions] Storm                                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 24 | 1010 Mandatory Extension 2 | 1006 Abnormal Clo|
| attempts/s 3.0 (total 39)  lockstep 0.82 IN STEP  export /tmp/wsmon-demo.jsonl |
|ID▲ TARGET            STATE         UPTIME ATT  LAST CLOSE               EXT    |
|s1  127.0.0.1:9001/e~ open          1m00s  1    -                        deflate|
|s2  127.0.0.1:9001/e~ open          1m07s  1    -                        deflate|
|s3  127.0.0.1:9001/e~ open          1m15s  1    -                        deflate|
|s4  127.0.0.1:9001/e~ open          1m23s  1    -                        deflate|
|s5  127.0.0.1:9001/e~ connecting    -      1    -                        -      |
|s6  127.0.0.1:9001/o~ waiting 2s    -      3    1013 srv Try Again Later deflate|
|s7  127.0.0.1:9001/o~ waiting 4s    -      4    1013 srv Try Again Later deflate|
|s8  127.0.0.1:9001/o~ waiting 8s    -      5    1013 srv Try Again Later deflate|
|s9  127.0.0.1:9001/f~ waiting 22s   -      1    HTTP 503                 -      |
|s10 127.0.0.1:9001/s~ closed        -      1    1010 cli Mandatory Exte~ -      |
|s11 127.0.0.1:9001/e~ open          2m19s  1    -                        deflate|
|s12 127.0.0.1:9001/e~ open          2m27s  1    -                        deflate|
|s13 127.0.0.1:9001/e~ open          2m35s  1    -                        deflate|
|s14 127.0.0.1:9001/e~ open          2m42s  1    -                        deflate|
|s15 127.0.0.1:9001/e~ open          2m50s  1    -                        deflate|
|s16 127.0.0.1:9001/o~ waiting 3s    -      3    1013 srv Try Again Later deflate|
|s17 127.0.0.1:9001/o~ waiting 5s    -      4    1013 srv Try Again Later deflate|
| row 1/20  sort ID asc                                                          |
| q quit  ? help  Enter detail  > sort  x explain  a add  c close  r reconnect   |
"#;

const DETAIL_TIMELINE_100X30: &str = r#"
| wsmon | demo  [Sessions] Storm                                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 24 | 1010 Mandatory Extension 2 | 1006 Abnormal Closure 1 | HTTP 503 1 |
| attempts/s 3.0 (total 39)  lockstep 0.82 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
| Session s7 (Esc: back, j/k: scroll) ──────────────────────────────────────────── lines 51-73 of 73 |
|    backoff just because a connection opened: reset it only once the session                        |
|    has stayed up for a while (wsmon: --stable-after). If it persists, add                          |
|    server capacity, raise the connection limit, or open fewer sessions per                         |
|    client.                                                                                         |
|                                                                                                    |
|  Retry advice: backoff                                                                             |
|    Reconnect with exponential backoff and jitter. The condition is temporary,                      |
|    but retrying at once adds load to a server that is already overloaded.                          |
|    Exponential backoff with full jitter spreads clients out and does the                           |
|    least total work (AWS, "Exponential Backoff And Jitter").                                       |
|                                                                                                    |
|Backoff timeline (4 attempts)                                                                       |
|     #  cause       rule      window  delay  retry  outcome      uptime                             |
|     1  -           -              -      -      -  close 1013    103ms                             |
|     2  close 1013  backoff     1.0s  900ms      -  close 1013    110ms  ██████                     |
|     3  close 1013  backoff     2.0s   1.9s      -  close 1013    117ms  ████████████               |
|     4  close 1013  backoff     4.0s   2.0s      -  close 1013    124ms  ████████████████████████   |
|                                                                                                    |
|Attempts on a time axis (0 .. 10.0s)                                                                |
|  1         2                  3                   4                                                |
|  ●─────────●──────────────────●───────────────────●┄┄┄┄|┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄┄○  |
|  0s                                            5.0s                                         10.0s  |
|  ● attempt   | now   ○ next attempt                                                                |
| session detail                                                                                     |
| Esc back  j scroll  x explain  c close  r reconnect  p pause  f freeze  ? help  q quit             |
"#;

const DETAIL_TOP_100X40: &str = r#"
| wsmon | demo  [Sessions] Storm                                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 24 | 1010 Mandatory Extension 2 | 1006 Abnormal Closure 1 | HTTP 503 1 |
| attempts/s 3.0 (total 39)  lockstep 0.82 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
| Session s10 (Esc: back, j/k: scroll) ──────────────────────────────────────────── lines 1-33 of 69 |
|  target      #3 ws://127.0.0.1:9001/strict                                                         |
|  state       closed for 1m41s  attempt 1                                                           |
|                                                                                                    |
|Handshake  HTTP/1.1 101 Switching Protocols                                                         |
|  timings     dns -, connect 0.4ms, tls -, upgrade 1.8ms                                            |
|  request headers                                                                                   |
|    Host: 127.0.0.1:9001                                                                            |
|    Upgrade: websocket                                                                              |
|    Connection: Upgrade                                                                             |
|    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==                                                     |
|    Sec-WebSocket-Version: 13                                                                       |
|    Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; client_no_context_takeover|
|    Authorization: <redacted>                                                                       |
|  response headers                                                                                  |
|    Upgrade: websocket                                                                              |
|    Connection: Upgrade                                                                             |
|    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=                                              |
|                                                                                                    |
|Extensions                                                                                          |
|  offered     permessage-deflate; client_max_window_bits; client_no_context_takeover                |
|  accepted    -                                                                                     |
|  required    permessage-deflate                                                                    |
|  permessage-deflate: required but not accepted                                                     |
|    client_max_window_bits      offered (set)   accepted -       not in the answer                  |
|    client_no_context_takeover  offered (set)   accepted -       not in the answer                  |
|  missing     permessage-deflate (required, not accepted: wsmon closes with 1010)                   |
|                                                                                                    |
|Last close  1010 Mandatory Extension  by client, clean, after 2ms open                              |
|  reason      "permessage-deflate"                                                                  |
|  not retried closed with 1010 Mandatory Extension: a retry does not fix a missing required         |
|              extension                                                                             |
|  Category       Protocol error                                                                     |
|  Sent by        client only                                                                        |
| session detail                                                                                     |
| Esc back  j scroll  x explain  c close  r reconnect  p pause  f freeze  ? help  q quit             |
"#;

const STORM_100X30: &str = r#"
| wsmon | demo   Sessions [Storm]                                                          12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 24 | 1010 Mandatory Extension 2 | 1006 Abnormal Closure 1 | HTTP 503 1 |
| attempts/s 3.0 (total 39)  lockstep 0.82 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
|┌ attempts/s now 3 peak 6 ───────────────────────────────┐┌ close codes ───────────────────────────┐|
|│██      ██      ██      ██      ██      ██      ██      ││1013 Try Again Later        █████████ 24│|
|│██      ██      ██      ██      ██      ██      ██      ││1010 Mandatory Extension    █ 2         │|
|│██ ▂█ ▂████ ▂█ ▂██▂█ ▂█ ██ ▂█ ▂████ ▂█ ▂██▂█ ▂█ ██ ▂█ ▂█││1006 Abnormal Closure       █ 1         │|
|│██▅██▅█████▅██▅█████▅██▅██▅██▅█████▅██▅█████▅██▅██▅██▅██│└────────────────────────────────────────┘|
|└──────────────────────────────── last 56s, newest right ┘┌ lockstep ──────────────────────────────┐|
|┌ closes/s 1013 Try Again Later now 1 peak 3 ────────────┐│0.82 IN STEP  (1.0 herd, ~0.1 even)     │|
|│██      ██      ██      ██      ██      ██      ██      ││Retries are in step: 82% of each        │|
|│██      ██      ██      ██      ██      ██      ██      ││second's attempts land in one 100 ms    │|
|│██ ▂ ▂ ▂██ ▂ ▂ ▂██ ▂ ▂ ▂██ ▂ ▂ ▂██ ▂ ▂ ▂██ ▂ ▂ ▂██ ▂ ▂ ▂││slice, a herd. Use --jitter full; reset │|
|│██ █ █ ███ █ █ ███ █ █ ███ █ █ ███ █ █ ███ █ █ ███ █ █ █││backoff only after --stable-after.      │|
|└──────────────────────────────── last 56s, newest right ┘│                                        │|
|┌ closes/s 1006 Abnormal Closure now 0 peak 2 ───────────┐│                                        │|
|│   █              █              █              █       ││                                        │|
|│   █              █              █              █       ││                                        │|
|│   █              █              █              █       ││                                        │|
|│   █              █              █              █       ││                                        │|
|└──────────────────────────────── last 56s, newest right ┘│                                        │|
|┌ open sessions now 14 peak 14 ──────────────────────────┐│                                        │|
|│█ ▁▃▅█ ▁▃▅█ ▁▃▅█ ▁▃▅█ ▁▃▅█ ▁▃▅█ ▁▃▅█ ▁▃▅█ ▁▃▅█ ▁▃▅█ ▁▃▅█││                                        │|
|│█▆████▆████▆████▆████▆████▆████▆████▆████▆████▆████▆████│└────────────────────────────────────────┘|
|│████████████████████████████████████████████████████████│┌ retries due ───────────────────────────┐|
|│████████████████████████████████████████████████████████││next 1s 1  5s 3  30s 6                  │|
|└──────────────────────────────── last 56s, newest right ┘└────────────────────────────────────────┘|
| storm: 120 s of history, 39 attempts so far                                                        |
| Esc back  Tab sessions  P pause all  R reconnect all  f freeze  e export  ? help  q quit           |
"#;

const EXPLAIN_100X30: &str = r#"
| wsmon | demo  [Sessions] Storm                                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 24 | 1010 Mandatory Extension 2 | 1006 Abnormal Closure 1 | HTTP 503 1 |
| attempts/s 3.0 (total 39)  lockstep 0.82 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
|ID▲ TARGET┌ 1013 Try Again Later (c: compare, Esc: back) ────────────────────────────────┐     RATIO|
|s1  127.0.│ 1013 Try Again Later                                                         │us   2.81 |
|s2  127.0.│ Category       Temporary condition                                           │us   2.81 |
|s3  127.0.│ Sent by        server                                                        │us   2.81 |
|s4  127.0.│ On the wire    yes                                                           │us   2.81 |
|s5  127.0.│ Retry advice   backoff                                                       │     -    |
|s6  127.0.│ Defined in     IANA registry                                                 │     0.55 |
|s7  127.0.│                                                                              │     0.55 |
|s8  127.0.│ Description                                                                  │     0.55 |
|s9  127.0.│   The server is up but cannot serve this client right now, usually because   │     -    |
|s10 127.0.│   it is overloaded. The client should come back after a backoff period.      │     -    |
|s11 127.0.│                                                                              │us   2.81 |
|s12 127.0.│ When you see it                                                              │us   2.81 |
|s13 127.0.│   The server is shedding load or throttling: too many connections, a         │us   2.81 |
|s14 127.0.│   per-client or per-tenant quota, a full queue. Unlike 1012 it is not        │us   2.81 |
|s15 127.0.│   restarting; it is running but refuses more work. A server that accepts the │us   2.81 |
|s16 127.0.│   upgrade and closes at once with 1013 is turning clients away at the door.  │     0.55 |
|s17 127.0.│                                                                              │     0.55 |
|s18 127.0.│ How to fix                                                                   │     0.55 |
|s19 127.0.│   Reconnect with exponential backoff and jitter, and do not reset the        │ms   0.95 |
|s20 127.0.│   backoff just because a connection opened: reset it only once the session   │     -    |
|          │   has stayed up for a while (wsmon: --stable-after). If it persists, add     │          |
|          │   server capacity, raise the connection limit, or open fewer sessions per    │          |
|          └──────────────────────────────────────────────────────────── lines 1-22 of 29 ┘          |
| close code explanation                                                                             |
| Esc back  c compare  x other code  j scroll  q quit                                                |
"#;

const COMPARE_100X30: &str = r#"
| wsmon | demo  [Sessions] Storm                                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 24 | 1010 Mandatory Extension 2 | 1006 Abnormal Closure 1 | HTTP 503 1 |
| attempts/s 3.0 (total 39)  lockstep 0.82 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
|ID▲ TARGET┌ 1010 vs 1013 (Esc: back) ────────────────────────────────────────────────────┐     RATIO|
|s1  127.0.│ 1010 Mandatory Extension vs 1013 Try Again Later                             │us   2.81 |
|s2  127.0.│                                                                              │us   2.81 |
|s3  127.0.│               1010                            1013                           │us   2.81 |
|s4  127.0.│ Name          Mandatory Extension             Try Again Later                │us   2.81 |
|s5  127.0.│ Category      Protocol error                  Temporary condition            │     -    |
|s6  127.0.│ Sent by       client only                     server                         │     0.55 |
|s7  127.0.│ On the wire   yes                             yes                            │     0.55 |
|s8  127.0.│ Retry advice  never                           backoff                        │     0.55 |
|s9  127.0.│                                                                              │     -    |
|s10 127.0.│ Description                                                                  │     -    |
|s11 127.0.│   1010: The client is ending the connection because the server did not       │us   2.81 |
|s12 127.0.│   accept an extension the client requires.                                   │us   2.81 |
|s13 127.0.│                                                                              │us   2.81 |
|s14 127.0.│   1013: The server is up but cannot serve this client right now, usually     │us   2.81 |
|s15 127.0.│   because it is overloaded. The client should come back after a backoff      │us   2.81 |
|s16 127.0.│   period.                                                                    │     0.55 |
|s17 127.0.│                                                                              │     0.55 |
|s18 127.0.│ When you see it                                                              │     0.55 |
|s19 127.0.│   1010: The client offered an extension it cannot work without (for example  │ms   0.95 |
|s20 127.0.│   permessage-deflate) in Sec-WebSocket-Extensions, and the server's 101      │     -    |
|          │   response did not include it, often because compression is off on the       │          |
|          │   server or a proxy stripped the header. The close reason should list the    │          |
|          └──────────────────────────────────────────────────────────── lines 1-22 of 70 ┘          |
| close code explanation                                                                             |
| Esc back  c compare  x other code  j scroll  q quit                                                |
"#;

const HELP_100X40: &str = r#"
| wsmon | demo  [Sessions] Storm                                                           12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                    |
| closes 1013 Try Again Later 24 | 1010 Mandatory Extension 2 | 1006 Abnormal Closure 1 | HTTP 503 1 |
| attempts/s 3.0 (total 39)  lockstep 0.82 IN STEP  export /tmp/wsmon-demo.jsonl (1234 events)       |
|ID▲ TAR┌ Help (Esc or ? to close) ──────────────────────────────────────────────────────────┐  RATIO|
|s1  127│Keys (change them in the config file: [keys] name = "key")                          │  2.81 |
|s2  127│  k/Up        move up / scroll up                                 up                │  2.81 |
|s3  127│  j/Down      move down / scroll down                             down              │  2.81 |
|s4  127│  PgUp        one page up                                         page_up           │  2.81 |
|s5  127│  PgDn        one page down                                       page_down         │  -    |
|s6  127│  Home        first row / top                                     home              │  0.55 |
|s7  127│  End         last row / bottom                                   end               │  0.55 |
|s8  127│  Enter       open the selected session's detail                  open              │  0.55 |
|s9  127│  Esc         go back                                             back              │  -    |
|s10 127│  Tab         switch Sessions / Storm tabs                        next_tab          │  -    |
|s11 127│  >           sort by the next column                             sort_next         │  2.81 |
|s12 127│  <           sort by the previous column                         sort_prev         │  2.81 |
|s13 127│  i           invert the sort order                               sort_reverse      │  2.81 |
|s14 127│  /           filter rows by text (empty clears)                  filter            │  2.81 |
|s15 127│  t           filter by state (cycles)                            state_filter      │  2.81 |
|s16 127│  o           filter by last close code (cycles)                  code_filter       │  0.55 |
|s17 127│  x           explain the close code (asks for one if none)       explain           │  0.55 |
|s18 127│  c           in the explanation: compare with another code       compare           │  0.55 |
|s19 127│  a           add sessions (URL and count)                        add               │  0.95 |
|s20 127│  c           close the selected session (code, default 1000)     close             │  -    |
|       │  r           reconnect the selected session now                  reconnect         │       |
|       │  R           reconnect every waiting session now                 reconnect_all     │       |
|       │  p           pause / resume the selected session's retries       pause             │       |
|       │  P           pause / resume all retries                          pause_all         │       |
|       │  +           one more session of the selected target             grow              │       |
|       │  -           one session fewer of the selected target            shrink            │       |
|       │  f           freeze / unfreeze the display (data keeps flowing)  freeze            │       |
|       │  e           write the log export now and show its path          export            │       |
|       │  ?           show / hide this help                               help              │       |
|       │  q           quit (sessions close with 1001)                     quit              │       |
|       │  Ctrl-C      quit (always)                                                         │       |
|       │  Mouse: click a row to select it, a column title to sort, wheel to scroll.         │       |
|       └────────────────────────────────────────────────────────────────── lines 1-32 of 33 ┘       |
| help                                                                                               |
| Esc close  j scroll  q quit                                                                        |
"#;

const PROMPT_FILTER_80X24: &str = r#"
| wsmon | demo  [Sessions] Storm                                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 24 | 1010 Mandatory Extension 2 | 1006 Abnormal Clo|
| attempts/s 3.0 (total 39)  lockstep 0.82 IN STEP  export /tmp/wsmon-demo.jsonl |
|ID▲ TARGET            STATE         UPTIME ATT  LAST CLOSE               EXT    |
|s6  127.0.0.1:9001/o~ waiting 2s    -      3    1013 srv Try Again Later deflate|
|s7  127.0.0.1:9001/o~ waiting 4s    -      4    1013 srv Try Again Later deflate|
|s8  127.0.0.1:9001/o~ waiting 8s    -      5    1013 srv Try Again Later deflate|
|s9  127.0.0.1:9001/f~ waiting 22s   -      1    HTTP 503                 -      |
|s16 127.0.0.1:9001/o~ waiting 3s    -      3    1013 srv Try Again Later deflate|
|s17 127.0.0.1:9001/o~ waiting 5s    -      4    1013 srv Try Again Later deflate|
|s18 127.0.0.1:9001/o~ waiting 9s    -      5    1013 srv Try Again Later deflate|
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
| close s6 with code [reason] (default 1000): 4000 maintenance                   |
| Enter accept  Esc cancel                                                       |
"#;
