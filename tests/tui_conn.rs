//! Sessions over HTTP/2 on screen (issue 24 item 2): the CONN and PROTO columns (chosen with
//! `C`, off by default) and the detail of an HTTP/2 session: its connection and stream, the
//! connection's state (open with N sessions, or lost with a GOAWAY) and the other sessions on
//! it. Whole screens from the HTTP/2 fixture snapshot at 80x24 and 120x40; each expected line
//! is framed with `|`.

use wsmon::state::snapshot::Snapshot;
use wsmon::tui::app::App;
use wsmon::tui::fixtures::check_screen as check;
use wsmon::tui::view::Column;
use wsmon::tui::{fixtures, h2_fixtures};

fn snap() -> Snapshot {
    h2_fixtures::snapshot()
}

/// The sessions table with CONN and PROTO turned on (as `C` and Space do).
fn with_conn_columns() -> App {
    let mut app = App::new(fixtures::view_state());
    app.view
        .hidden
        .retain(|c| !matches!(c, Column::Conn | Column::Proto));
    app.view.pinned = vec![Column::Conn, Column::Proto];
    app
}

fn detail(id: u64) -> App {
    let mut app = App::new(fixtures::view_state());
    app.view.detail = Some(id);
    app
}

#[test]
fn sessions_with_conn_and_proto_80x24() {
    let s = fixtures::render(&mut with_conn_columns(), &snap(), 80, 24);
    check("conn_sessions_80x24", &s, SESSIONS_80);
}

#[test]
fn sessions_with_conn_and_proto_120x40() {
    let s = fixtures::render(&mut with_conn_columns(), &snap(), 120, 40);
    check("conn_sessions_120x40", &s, SESSIONS_120);
}

/// s12 on c2: its stream, 40 sessions open on c2, the others cut to two lines at 80 columns.
#[test]
fn detail_of_an_http2_session_80x24() {
    let s = fixtures::render(&mut detail(12), &snap(), 80, 24);
    check("conn_detail_80x24", &s, DETAIL_80);
}

/// At 120 columns every other session of c2 fits on the two lines.
#[test]
fn detail_of_an_http2_session_120x40() {
    let s = fixtures::render(&mut detail(12), &snap(), 120, 40);
    check("conn_detail_120x40", &s, DETAIL_120);
}

/// s6 lost with c1: the GOAWAY and how many sessions went down with the connection.
#[test]
fn detail_of_a_session_lost_with_its_connection_80x24() {
    let s = fixtures::render(&mut detail(6), &snap(), 80, 24);
    check("conn_detail_lost_80x24", &s, DETAIL_LOST_80);
}

/// s49's stream was reset while c2 lived on: the detail says so, and c2 is still open.
#[test]
fn a_reset_stream_is_the_session_s_own_loss() {
    let text = fixtures::render(&mut detail(49), &snap(), 80, 24).join("\n");
    for want in [
        "connection c2, stream 81, HTTP/2",
        "reset by the server (RST_STREAM CANCEL); the connection lived on",
        "c2          open, 40 sessions on it now",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
}

/// s1 lost c1 and reopened on c3: the detail speaks of c3 (open), not of c1's loss; the HTTP/2
/// 200s that opened sessions are no refusal in the header.
#[test]
fn a_session_back_on_a_new_connection_shows_that_one() {
    let text = fixtures::render(&mut detail(1), &snap(), 80, 24).join("\n");
    for want in [
        "connection c3, stream 1, HTTP/2",
        "c3          open, 4 sessions on it now",
        "also on c3  s2 s3 s4",
    ] {
        assert!(text.contains(want), "{want} missing:\n{text}");
    }
    assert!(!text.contains("lost ("), "{text}");
    assert!(!text.contains("HTTP 200"), "{text}");
}

/// `/c3` keeps the sessions whose last connection is c3, and only them (not c31, not a URL).
#[test]
fn the_text_filter_finds_a_connection_s_sessions() {
    let mut app = with_conn_columns();
    app.view.filter = "c3".to_string();
    let s = fixtures::render(&mut app, &snap(), 80, 24);
    let ids: Vec<&str> = s
        .iter()
        .filter(|l| l.starts_with('s'))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(ids, ["s1", "s2", "s3", "s4"], "{s:#?}");
}

/// Sorting by CONN puts the HTTP/1.1 sessions (no connection) first, then c1, c2, c3; by
/// PROTO descending the HTTP/2 sessions first.
#[test]
fn the_table_sorts_by_conn_and_proto() {
    let snap = snap();
    let mut app = with_conn_columns();
    app.view.sort = Column::Conn;
    fixtures::render(&mut app, &snap, 80, 24);
    let conns: Vec<Option<u32>> = app
        .view
        .order()
        .iter()
        .map(|&i| snap.sessions[i].link.connection)
        .collect();
    let mut sorted = conns.clone();
    sorted.sort();
    assert_eq!(conns, sorted);
    assert_eq!(conns.first(), Some(&None));
    assert_eq!(conns.last(), Some(&Some(3)));
    app.view.sort = Column::Proto;
    app.view.descending = true;
    fixtures::render(&mut app, &snap, 80, 24);
    let first = snap.sessions[app.view.order()[0]].id;
    let last = snap.sessions[*app.view.order().last().expect("rows")].id;
    assert_eq!((first, last), (1, 52));
}

/// Off by default: the table without `C` has neither column.
#[test]
fn the_columns_are_off_by_default() {
    let mut app = App::new(fixtures::view_state());
    let s = fixtures::render(&mut app, &snap(), 200, 24);
    assert!(
        !s[4].contains("CONN") && !s[4].contains("PROTO"),
        "{}",
        s[4]
    );
}

const SESSIONS_80: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 2  sessions 52  open 47 waiting 5                                      |
| closes 1006 Abnormal Closure 9                                                 |
| attempts/s 0.0 (total 56)  lockstep - (few retries)                            |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                CONN  PROTO|
|s1  :8443        open          15.0s  2    1006 loc Abnormal Closure c3    h2   |
|s2  :8443        open          12.0s  2    1006 loc Abnormal Closure c3    h2   |
|s3  :8443        open          9.0s   2    1006 loc Abnormal Closure c3    h2   |
|s4  :8443        open          6.0s   2    1006 loc Abnormal Closure c3    h2   |
|s5  :8443        next in 15s   -      1    1006 loc Abnormal Closure c1    h2   |
|s6  :8443        next in 18s   -      1    1006 loc Abnormal Closure c1    h2   |
|s7  :8443        next in 21s   -      1    1006 loc Abnormal Closure c1    h2   |
|s8  :8443        next in 24s   -      1    1006 loc Abnormal Closure c1    h2   |
|s9  :8443        open          1m29s  1    -                         c2    h2   |
|s10 :8443        open          1m28s  1    -                         c2    h2   |
|s11 :8443        open          1m28s  1    -                         c2    h2   |
|s12 :8443        open          1m28s  1    -                         c2    h2   |
|s13 :8443        open          1m28s  1    -                         c2    h2   |
|s14 :8443        open          1m28s  1    -                         c2    h2   |
|s15 :8443        open          1m28s  1    -                         c2    h2   |
|s16 :8443        open          1m28s  1    -                         c2    h2   |
|s17 :8443        open          1m28s  1    -                         c2    h2   |
| row 1/52  sort ID asc  hidden EXT, RTT, RATIO, MSGS, BYTES (C: columns)        |
| / filter  Tab tabs  Enter detail  ? help  q quit  Space mark  c close          |
"#;
const SESSIONS_120: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                                               12:00:00Z |
| targets 2  sessions 52  open 47 waiting 5                                                                              |
| closes 1006 Abnormal Closure 9                                                                                         |
| attempts/s 0.0 (total 56)  lockstep - (few retries)                                                                    |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                      EXT     RTT     MSGS IN/OUT RATIO CONN  PROTO|
|s1  :8443        open          15.0s  2    1006 loc Abnormal Closure       -       -       0/0         -     c3    h2   |
|s2  :8443        open          12.0s  2    1006 loc Abnormal Closure       -       -       0/0         -     c3    h2   |
|s3  :8443        open          9.0s   2    1006 loc Abnormal Closure       -       -       0/0         -     c3    h2   |
|s4  :8443        open          6.0s   2    1006 loc Abnormal Closure       -       -       0/0         -     c3    h2   |
|s5  :8443        next in 15s   -      1    1006 loc Abnormal Closure       -       -       0/0         -     c1    h2   |
|s6  :8443        next in 18s   -      1    1006 loc Abnormal Closure       -       -       0/0         -     c1    h2   |
|s7  :8443        next in 21s   -      1    1006 loc Abnormal Closure       -       -       0/0         -     c1    h2   |
|s8  :8443        next in 24s   -      1    1006 loc Abnormal Closure       -       -       0/0         -     c1    h2   |
|s9  :8443        open          1m29s  1    -                               -       -       0/0         -     c2    h2   |
|s10 :8443        open          1m28s  1    -                               -       -       0/0         -     c2    h2   |
|s11 :8443        open          1m28s  1    -                               -       -       0/0         -     c2    h2   |
|s12 :8443        open          1m28s  1    -                               -       -       0/0         -     c2    h2   |
|s13 :8443        open          1m28s  1    -                               -       -       0/0         -     c2    h2   |
|s14 :8443        open          1m28s  1    -                               -       -       0/0         -     c2    h2   |
|s15 :8443        open          1m28s  1    -                               -       -       0/0         -     c2    h2   |
|s16 :8443        open          1m28s  1    -                               -       -       0/0         -     c2    h2   |
|s17 :8443        open          1m28s  1    -                               -       -       0/0         -     c2    h2   |
|s18 :8443        open          1m28s  1    -                               -       -       0/0         -     c2    h2   |
|s19 :8443        open          1m28s  1    -                               -       -       0/0         -     c2    h2   |
|s20 :8443        open          1m27s  1    -                               -       -       0/0         -     c2    h2   |
|s21 :8443        open          1m27s  1    -                               -       -       0/0         -     c2    h2   |
|s22 :8443        open          1m27s  1    -                               -       -       0/0         -     c2    h2   |
|s23 :8443        open          1m27s  1    -                               -       -       0/0         -     c2    h2   |
|s24 :8443        open          1m27s  1    -                               -       -       0/0         -     c2    h2   |
|s25 :8443        open          1m27s  1    -                               -       -       0/0         -     c2    h2   |
|s26 :8443        open          1m27s  1    -                               -       -       0/0         -     c2    h2   |
|s27 :8443        open          1m27s  1    -                               -       -       0/0         -     c2    h2   |
|s28 :8443        open          1m27s  1    -                               -       -       0/0         -     c2    h2   |
|s29 :8443        open          1m27s  1    -                               -       -       0/0         -     c2    h2   |
|s30 :8443        open          1m26s  1    -                               -       -       0/0         -     c2    h2   |
|s31 :8443        open          1m26s  1    -                               -       -       0/0         -     c2    h2   |
|s32 :8443        open          1m26s  1    -                               -       -       0/0         -     c2    h2   |
|s33 :8443        open          1m26s  1    -                               -       -       0/0         -     c2    h2   |
| row 1/52  sort ID asc  hidden BYTES (C: columns)                                                                       |
| / filter  Tab tabs  Enter detail  ? help  q quit  Space mark  c close  r reconnect  p pause  x explain  C columns      |
"#;
const DETAIL_80: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 2  sessions 52  open 47 waiting 5                                      |
| closes 1006 Abnormal Closure 9                                                 |
| attempts/s 0.0 (total 56)  lockstep - (few retries)                            |
| Session s12 (Esc: back, j/k: scroll) ──────────────────────── lines 1-17 of 44 |
|  target      #0 wss://127.0.0.1:8443/echo                                      |
|  state       open since 11:58:31.204Z (1m28s)  attempt 1  uptime 1m28s         |
|  link        connection c2, stream 7, HTTP/2                                   |
|  c2          open, 40 sessions on it now                                       |
|  also on c2  s9 s10 s11 s13 s14 s15 s16 s17 s18 s19 s20 s21 s22 s23 s24 s25 s26|
|              s27 s28 s29 s30 s31 s32 s33 s34 s35 s36 s37 s38 s39 s40 s41 … (+8)|
|                                                                                |
|Last close                                                                      |
|  none yet                                                                      |
|                                                                                |
|Backoff timeline (1 attempt; times UTC)                                         |
|     #  cause       rule      window  delay  retry  outcome      uptime         |
|     1  -           -              -      -      -  open              -         |
|        started 11:58:31.200Z                                                   |
|                                                                                |
|Attempts on a time axis (0 .. 1m28s)                                            |
|  1                                                                             |
| session detail; times in UTC (z: switch)                                       |
| Esc back  j scroll  x explain  c close  r reconnect  p pause  z UTC/local      |
"#;
const DETAIL_120: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                                               12:00:00Z |
| targets 2  sessions 52  open 47 waiting 5                                                                              |
| closes 1006 Abnormal Closure 9                                                                                         |
| attempts/s 0.0 (total 56)  lockstep - (few retries)                                                                    |
| Session s12 (Esc: back, j/k: scroll) ──────────────────────────────────────────────────────────────── lines 1-33 of 44 |
|  target      #0 wss://127.0.0.1:8443/echo                                                                              |
|  state       open since 11:58:31.204Z (1m28s)  attempt 1  uptime 1m28s                                                 |
|  link        connection c2, stream 7, HTTP/2                                                                           |
|  c2          open, 40 sessions on it now                                                                               |
|  also on c2  s9 s10 s11 s13 s14 s15 s16 s17 s18 s19 s20 s21 s22 s23 s24 s25 s26 s27 s28 s29 s30 s31 s32 s33 s34 s35 s36|
|              s37 s38 s39 s40 s41 s42 s43 s44 s45 s46 s47 s48 s49                                                       |
|                                                                                                                        |
|Last close                                                                                                              |
|  none yet                                                                                                              |
|                                                                                                                        |
|Backoff timeline (1 attempt; times UTC)                                                                                 |
|     #  cause       rule      window  delay  retry  outcome      uptime                                                 |
|     1  -           -              -      -      -  open              -                                                 |
|        started 11:58:31.200Z                                                                                           |
|                                                                                                                        |
|Attempts on a time axis (0 .. 1m28s)                                                                                    |
|  1                                                                                                                     |
|  ●                                                                                                  |                  |
|  0s                                              44.4s                                          1m28s                  |
|  ● attempt   | now   ○ next attempt                                                                                    |
|                                                                                                                        |
|Recent events (UTC, newest last)                                                                                        |
|  11:58:30.000Z s12    :8443            spawned                wss://127.0.0.1:8443/echo                                |
|  11:58:31.200Z s12    :8443            connecting  attempt 1                                                           |
|  11:58:31.204Z s12    :8443            open        attempt 1                                                           |
|                                                                                                                        |
|Traffic (this session, all connections)                                                                                 |
|  received    0 msgs, 0B on the wire, 0B payload                                                                        |
|  sent        0 msgs, 0B on the wire, 0B payload                                                                        |
|                                                                                                                        |
|Messages (the last 5, newest last; M: all)                                                                              |
|  no message logged yet                                                                                                 |
|                                                                                                                        |
| session detail; times in UTC (z: switch)                                                                               |
| Esc back  j scroll  x explain  c close  r reconnect  p pause  z UTC/local  f freeze  ? help  q quit                    |
"#;
const DETAIL_LOST_80: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 2  sessions 52  open 47 waiting 5                                      |
| closes 1006 Abnormal Closure 9                                                 |
| attempts/s 0.0 (total 56)  lockstep - (few retries)                            |
| Session s6 (Esc: back, j/k: scroll) ───────────────────────── lines 1-17 of 82 |
|  target      #0 wss://127.0.0.1:8443/echo                                      |
|  state       waiting since 11:59:40.000Z (20.0s)  attempt 1                    |
|              next in 18.0s (attempt 2)                                         |
|  link        connection c1, stream 11, HTTP/2                                  |
|  c1          lost (connection goaway NO_ERROR), 8 sessions lost with it        |
|  also on c1  s5 s7 s8                                                          |
|                                                                                |
|Last close  1006 Abnormal Closure  by local (no close frame) at 11:59:40.000Z,  |
|            not clean, after 1m09s open                                         |
|                                                                                |
|Backoff timeline (1 attempt, attempt 2 due; times UTC)                          |
|     #  cause       rule      window  delay  retry  outcome      uptime         |
|     1  -           -              -      -      -  close 1006    1m09s         |
|        started 11:58:30.600Z  ended 11:59:40.000Z                              |
|     2  h2 goaway   backoff    30.0s  38.0s      -  pending           -  ████   |
|        decided 11:59:40.000Z  due 12:00:18.000Z  connection goaway NO_ERROR    |
|                                                                                |
| session detail; times in UTC (z: switch)                                       |
| Esc back  j scroll  x explain  c close  r reconnect  p pause  z UTC/local      |
"#;
