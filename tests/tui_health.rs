//! Message health on screen (issue 20 items 3-5): stale sessions shown `open, stale 45s` and
//! counted in the header, the MSG AGE and LAT columns (chosen with `C`), the Targets view's
//! STALE and latency columns, the Storm view's stale series and the detail's health lines.
//! Whole screens from the fixture snapshot with message health, at 80 columns (nothing cut
//! mid-word) and wider. Each expected line is framed with `|`.

use wsmon::state::snapshot::Snapshot;
use wsmon::tui::app::App;
use wsmon::tui::fixtures;
use wsmon::tui::fixtures::check_screen as check;
use wsmon::tui::view::{Column, Tab};

fn snap() -> Snapshot {
    fixtures::health_snapshot(20)
}

/// The sessions table with MSG AGE and LAT turned on (as `C` and Space do).
fn with_health_columns() -> App {
    let mut app = App::new(fixtures::view_state());
    app.view
        .hidden
        .retain(|c| !matches!(c, Column::MsgAge | Column::Lat));
    app.view.pinned = vec![Column::MsgAge, Column::Lat];
    app
}

#[test]
fn sessions_with_msg_age_and_latency_80x24() {
    let mut app = with_health_columns();
    let s = fixtures::render(&mut app, &snap(), 80, 24);
    check("health_sessions_80x24", &s, SESSIONS_80);
}

#[test]
fn sessions_with_msg_age_and_latency_120x24() {
    let mut app = with_health_columns();
    let s = fixtures::render(&mut app, &snap(), 120, 24);
    check("health_sessions_120x24", &s, SESSIONS_120);
}

#[test]
fn targets_with_stale_and_latency_80x24() {
    let mut app = App::new(fixtures::view_state());
    app.view.tab = Tab::Targets;
    let s = fixtures::render(&mut app, &snap(), 80, 24);
    check("health_targets_80x24", &s, TARGETS_80);
}

#[test]
fn targets_with_stale_and_latency_160x24() {
    let mut app = App::new(fixtures::view_state());
    app.view.tab = Tab::Targets;
    let s = fixtures::render(&mut app, &snap(), 160, 24);
    check("health_targets_160x24", &s, TARGETS_160);
}

#[test]
fn storm_charts_stale_sessions_80x24() {
    let mut app = App::new(fixtures::view_state());
    app.view.tab = Tab::Storm;
    let s = fixtures::render(&mut app, &snap(), 80, 24);
    check("health_storm_80x24", &s, STORM_80);
}

/// A stale echo session's detail: its last message, since when it is stale, its latencies.
#[test]
fn detail_of_a_stale_session_80x24() {
    let mut app = App::new(fixtures::view_state());
    app.view.detail = Some(1);
    app.view.detail_scroll = 0;
    let s = fixtures::render(&mut app, &snap(), 80, 90);
    let traffic = s
        .iter()
        .position(|l| l.starts_with("Traffic"))
        .expect("a Traffic section");
    // The Traffic section at the top of the detail (its heading is on screen row 5).
    app.view.detail_scroll = u16::try_from(traffic - 5).expect("small");
    let s = fixtures::render(&mut app, &snap(), 80, 24);
    check("health_detail_80x24", &s, DETAIL_80);
}

/// `/stale` keeps the stale sessions (their STATE cell says so), and only them.
#[test]
fn the_text_filter_finds_stale_sessions() {
    let mut app = App::new(fixtures::view_state());
    app.view.filter = "stale".to_string();
    let s = fixtures::render(&mut app, &snap(), 80, 24);
    let rows: Vec<&String> = s.iter().filter(|l| l.starts_with("s")).collect();
    assert_eq!(rows.len(), 3, "{s:#?}");
    assert!(
        rows.iter().all(|l| l.contains("open, stale 45s")),
        "{rows:#?}"
    );
}

const SESSIONS_80: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 (stale 3) closed 2 waiting 7      |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|ID▲ TARGET       STATE              LAST CLOSE                   MSG AGE LAT    |
|s1  /echo        open, stale 45s    -                            45s     28.8ms |
|s2  /echo        open               -                            0s      30.1ms |
|s3  /echo        open               -                            0s      31.4ms |
|s4  /echo        open, stale 45s    -                            45s     32.7ms |
|s5  /echo        connecting         -                            -       -      |
|s6  /overload    next in 28s        1013 srv Try Again Later     -       -      |
|s7  /overload    next in 28s        1013 srv Try Again Later     -       -      |
|s8  /overload    next in 28s        1013 srv Try Again Later     -       -      |
|s9  /flaky       next in 25s        HTTP 503                     -       -      |
|s10 /strict      closed             1010 cli Mandatory Extension -       -      |
|s11 /echo        open               -                            3s      41.8ms |
|s12 /echo        open               -                            4s      18.1ms |
|s13 /echo        open, stale 45s    -                            45s     19.4ms |
|s14 /echo        open               -                            4s      20.7ms |
|s15 /echo        open               -                            1m10s   22.0ms |
|s16 /overload    next in 28s        1013 srv Try Again Later     -       -      |
|s17 /overload    next in 28s        1013 srv Try Again Later     -       -      |
| row 1/20  sort ID asc                                                          |
| / filter  Tab tabs  Enter detail  ? help  q quit  Space mark  c close          |
"#;
const SESSIONS_120: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                                               12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 (stale 3) closed 2 waiting 7                                              |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1                     |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)                        |
|ID▲ TARGET       STATE              UPTIME ATT  LAST CLOSE                         EXT     RTT     RATIO MSG AGE LAT    |
|s1  /echo        open, stale 45s    1m00s  1    -                                  deflate 250us   2.81  45s     28.8ms |
|s2  /echo        open               1m07s  1    -                                  deflate 263us   2.81  0s      30.1ms |
|s3  /echo        open               1m15s  1    -                                  deflate 276us   2.81  0s      31.4ms |
|s4  /echo        open, stale 45s    1m23s  1    -                                  deflate 289us   2.81  45s     32.7ms |
|s5  /echo        connecting         -      1    -                                  -       -       -     -       -      |
|s6  /overload    next in 28s        -      6    1013 srv Try Again Later           deflate -       0.55  -       -      |
|s7  /overload    next in 28s        -      6    1013 srv Try Again Later           deflate -       0.55  -       -      |
|s8  /overload    next in 28s        -      6    1013 srv Try Again Later           deflate -       0.55  -       -      |
|s9  /flaky       next in 25s        -      2    HTTP 503                           -       -       -     -       -      |
|s10 /strict      closed             -      1    1010 cli Mandatory Extension       -       -       -     -       -      |
|s11 /echo        open               2m19s  1    -                                  deflate 380us   2.81  3s      41.8ms |
|s12 /echo        open               2m27s  1    -                                  deflate 393us   2.81  4s      18.1ms |
|s13 /echo        open, stale 45s    2m35s  1    -                                  deflate 406us   2.81  45s     19.4ms |
|s14 /echo        open               2m42s  1    -                                  deflate 419us   2.81  4s      20.7ms |
|s15 /echo        open               2m50s  1    -                                  deflate 432us   2.81  1m10s   22.0ms |
|s16 /overload    next in 28s        -      6    1013 srv Try Again Later           deflate -       0.55  -       -      |
|s17 /overload    next in 28s        -      6    1013 srv Try Again Later           deflate -       0.55  -       -      |
| row 1/20  sort ID asc  hidden MSGS, BYTES (C: columns)                                                                 |
| / filter  Tab tabs  Enter detail  ? help  q quit  Space mark  c close  r reconnect  p pause  x explain  C columns      |
"#;
const TARGETS_80: &str = r#"
| wsmon  Sessions  Storm  Events [Targets]  demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 (stale 3) closed 2 waiting 7      |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|┌ Targets 4 · sort # asc · Enter: its sessions ────────────────────────────────┐|
|│  #▲ TARGET          SESS CLOSES BY CODE       HTTP FAIL  HS p99  ATT/S STALE │|
|│   0 /echo             10 -                            0     3ms      1     3 │|
|│   1 /overload          6 1013×36                      0     3ms      0     0 │|
|│   2 /flaky             2 1006×1                       2     3ms      0     0 │|
|│   3 /strict            2 1010×2                       0     3ms      0     0 │|
|│                                                                              │|
|│                                                                              │|
|│                                                                              │|
|│                                                                              │|
|│                                                                              │|
|│                                                                              │|
|│                                                                              │|
|│                                                                              │|
|│                                                                              │|
|│                                                                              │|
|│                                                                              │|
|└──────────────────────────────────────────────────────────────────────────────┘|
| targets: 4  selected ws://127.0.0.1:9001/echo                                  |
| Esc back  Enter its sessions  > sort  i reverse  Tab sessions  ? help  q quit  |
"#;
const TARGETS_160: &str = r#"
| wsmon  Sessions  Storm  Events [Targets]  demo                                                                                                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 (stale 3) closed 2 waiting 7                                                                                      |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1                                                             |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)                                                                |
|┌ Targets 4 · sort # asc · Enter: its sessions ────────────────────────────────────────────────────────────────────────────────────────────────────────────────┐|
|│  #▲ TARGET                                       SESS  OPEN  WAIT  OPENS CLOSES BY CODE       HTTP FAIL  HS p50  HS p99  ATT/S GAVE UP STALE LAT p50 LAT p99 │|
|│   0 ws://127.0.0.1:9001/echo                       10     9     0      9 -                            0     3ms     3ms      1       0     3  30.0ms  41.8ms │|
|│   1 ws://127.0.0.1:9001/overload                    6     0     6     36 1013×36                      0     3ms     3ms      0       0     0       -       - │|
|│   2 ws://127.0.0.1:9001/flaky                       2     1     1      2 1006×1                       2     3ms     3ms      0       0     0       -       - │|
|│   3 ws://127.0.0.1:9001/strict                      2     0     0      2 1010×2                       0     3ms     3ms      0       0     0       -       - │|
|│                                                                                                                                                              │|
|│                                                                                                                                                              │|
|│                                                                                                                                                              │|
|│                                                                                                                                                              │|
|│                                                                                                                                                              │|
|│                                                                                                                                                              │|
|│                                                                                                                                                              │|
|│                                                                                                                                                              │|
|│                                                                                                                                                              │|
|│                                                                                                                                                              │|
|│                                                                                                                                                              │|
|└──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘|
| targets: 4  selected ws://127.0.0.1:9001/echo                                                                                                                  |
| Esc back  Enter its sessions  > sort  i reverse  Tab sessions  ? help  q quit                                                                                  |
"#;
const STORM_80: &str = r#"
| wsmon  Sessions [Storm] Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 (stale 3) closed 2 waiting 7      |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|┌ attempts/s now 1 peak 10 ────────────┐┌ closes, HTTP answers, errors ────────┐|
|│10┤█▄ ▄   ▄       ▄               ▄   ││1013 Try Again Later        36 ███████│|
|└   11:59:25 ──── UTC ──────── 11:59:59┘│1010 Mandatory Extension     2 █      │|
|┌ closes/s 1013 now 0 peak 6 ──────────┐│HTTP 503                     2 █      │|
|│ 6┤██ █   █       █               █   ││1006 Abnormal Closure        1 █      │|
|└   11:59:25 ──── UTC ──────── 11:59:59┘└──────────────────────────────────────┘|
|┌ closes/s 1010 now 0 peak 2 ──────────┐┌ lockstep (last 10 s) ────────────────┐|
|│ 2┤█                                  ││too few recent attempts to judge      │|
|└   11:59:25 ──── UTC ──────── 11:59:59┘│(needs 20 in the last 10 s)           │|
|┌ closes/s other codes now 0 peak 1 ───┐│                                      │|
|│ 1┤          █                        ││                                      │|
|└   11:59:25 ──── UTC ──────── 11:59:59┘│                                      │|
|┌ open sessions now 10 peak 10 ────────┐│                                      │|
|│10┤▇██████████▇███████████████████████││                                      │|
|└   11:59:25 ──── UTC ──────── 11:59:59┘└──────────────────────────────────────┘|
|┌ stale now 3 peak 3 ──────────────────┐┌ retries due ─────────────────────────┐|
|│ 3┤███████████████████████████████████││next 1s 0  5s 0  30s 7                │|
|└   11:59:25 ──── UTC ──────── 11:59:59┘└──────────────────────────────────────┘|
| storm: 171 s of history, 52 attempts so far                                    |
| Esc back  Tab events  P pause all  R reconnect waiting  f freeze  e export     |
"#;
const DETAIL_80: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 (stale 3) closed 2 waiting 7      |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
| Session s1 (Esc: back, j/k: scroll) ──────────────────────── lines 24-40 of 64 |
|Traffic (this session, all connections)                                         |
|  received    10 msgs, 610B on the wire, 1.8K payload                           |
|  sent        10 msgs, 670B on the wire, 1.8K payload                           |
|              2.81 payload bytes per wire byte (frame headers count; above 1:   |
|              compression saves); ping round trip 250us                         |
|  last msg    45s ago                                                           |
|  stale       since 11:59:18.000Z (42s); no message for 45s                     |
|  latency     last 28.8ms, p50 23.4ms, p99 28.8ms (5 samples)                   |
|                                                                                |
|Messages (the last 5, newest last; M: all)                                      |
|  no message logged yet                                                         |
|                                                                                |
|Handshake  HTTP/1.1 101 Switching Protocols                                     |
|  timings     dns -, connect 0.4ms, tls -, upgrade 1.8ms                        |
|  request headers                                                               |
|    Host: 127.0.0.1:9001                                                        |
|    Upgrade: websocket                                                          |
| session detail; times in UTC (z: switch)                                       |
| Esc back  j scroll  x explain  c close  r reconnect  p pause  z UTC/local      |
"#;
