//! Whole-screen tests of the message inspector: the Messages view (following, scrolled,
//! filtered, paused), the entry view (JSON unfolded and folded, hex, a close frame, a cut
//! payload, hostile text), and the search across sessions, at 80x24 and 120x40, from fixture
//! logs pushed through the real message log (`tui::msg_fixtures`). No color, as with NO_COLOR.
//! Each expected line is framed with `|` so trailing spaces are visible.

use std::sync::Arc;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use wsmon::engine::events::{Direction, MessageRecord, Opcode};
use wsmon::state::snapshot::Snapshot;
use wsmon::tui::app::App;
use wsmon::tui::fixtures::check_screen as check;
use wsmon::tui::keys::Mode;
use wsmon::tui::{fixtures, msg_fixtures};

fn snap() -> Arc<Snapshot> {
    Arc::new(msg_fixtures::with_messages(fixtures::snapshot(20)))
}

fn key(app: &mut App, snap: &Arc<Snapshot>, code: KeyCode) {
    let mods = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    app.on_event(&Event::Key(KeyEvent::new(code, mods)), snap);
}

fn keys(app: &mut App, snap: &Arc<Snapshot>, text: &str) {
    for c in text.chars() {
        key(app, snap, KeyCode::Char(c));
    }
}

fn times(app: &mut App, snap: &Arc<Snapshot>, code: KeyCode, n: usize) {
    for _ in 0..n {
        key(app, snap, code);
    }
}

/// The app with session 1's Messages view open (s1 is the first row of the table).
fn messages(snap: &Arc<Snapshot>, w: u16, h: u16) -> App {
    let mut app = App::new(fixtures::view_state());
    fixtures::render(&mut app, snap, w, h);
    key(&mut app, snap, KeyCode::Char('M'));
    assert_eq!(app.view.mode(), Mode::Messages);
    app
}

#[test]
fn the_messages_view_follows_the_newest_80x24() {
    let snap = snap();
    let mut app = messages(&snap, 80, 24);
    check(
        "messages_80x24",
        &fixtures::render(&mut app, &snap, 80, 24),
        MESSAGES_80X24,
    );
}

#[test]
fn the_messages_view_120x40() {
    let snap = snap();
    let mut app = messages(&snap, 120, 40);
    check(
        "messages_120x40",
        &fixtures::render(&mut app, &snap, 120, 40),
        MESSAGES_120X40,
    );
}

#[test]
fn moving_up_stops_following_and_end_follows_again() {
    let snap = snap();
    let mut app = messages(&snap, 80, 24);
    times(&mut app, &snap, KeyCode::Up, 16);
    check(
        "messages_scrolled_80x24",
        &fixtures::render(&mut app, &snap, 80, 24),
        SCROLLED_80X24,
    );
    // New messages arrive: the view stays where the operator is.
    let before = fixtures::render(&mut app, &snap, 80, 24);
    push_ticks(&snap, 3);
    let after = fixtures::render(&mut app, &snap, 80, 24);
    assert_eq!(before[8..22], after[8..22], "the rows stay put");
    key(&mut app, &snap, KeyCode::End);
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(screen[4].contains("following the newest"), "{}", screen[4]);
    assert!(
        screen[21].contains("     69 "),
        "the newest last: {}",
        screen[21]
    );
}

fn push_ticks(snap: &Snapshot, n: u64) {
    for k in 0..n {
        let payload = msg_fixtures::tick(100 + k);
        snap.messages.push(
            1,
            snap.now + chrono::Duration::milliseconds(k as i64 * 10),
            Arc::new(MessageRecord {
                dir: Direction::In,
                opcode: Opcode::Text,
                wire_size: payload.len() as u64,
                size: payload.len() as u64,
                rsv1: false,
                payload,
            }),
        );
    }
}

#[test]
fn p_pauses_the_view_and_says_how_many_arrived_since() {
    let snap = snap();
    let mut app = messages(&snap, 80, 24);
    let before = fixtures::render(&mut app, &snap, 80, 24);
    key(&mut app, &snap, KeyCode::Char('p'));
    push_ticks(&snap, 3);
    let paused = fixtures::render(&mut app, &snap, 80, 24);
    assert_eq!(
        paused[5],
        " PAUSED: 3 arrived since (p: resume) · 29 earlier messages not kept             "
    );
    assert_eq!(before[8..22], paused[8..22], "the same rows");
    key(&mut app, &snap, KeyCode::Char('p'));
    let live = fixtures::render(&mut app, &snap, 80, 24);
    assert!(live[21].contains("     69 "), "caught up: {}", live[21]);
}

#[test]
fn filters_direction_opcode_ping_pong_and_regex_80x24() {
    let snap = snap();
    let mut app = messages(&snap, 80, 24);
    // Ping and pong show with c; d: in only; o: text only; /: a regex over the payload.
    keys(&mut app, &snap, "cd");
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(screen.iter().any(|l| l.contains(" pong ")), "pongs shown");
    assert!(
        !screen.iter().any(|l| l.contains(" ping ")),
        "pings are out"
    );
    keys(&mut app, &snap, "o/");
    keys(&mut app, &snap, "seq\":(4[4-9]|5)");
    key(&mut app, &snap, KeyCode::Enter);
    check(
        "messages_filtered_80x24",
        &fixtures::render(&mut app, &snap, 80, 24),
        FILTERED_80X24,
    );
    // A bad regex is refused with a clear message; the filter stays.
    key(&mut app, &snap, KeyCode::Char('/'));
    key(&mut app, &snap, KeyCode::Backspace);
    keys(&mut app, &snap, "(");
    key(&mut app, &snap, KeyCode::Enter);
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(screen[22].starts_with(" bad regex: "), "{}", screen[22]);
    assert!(
        screen[6].contains("filter: in only, text, /seq"),
        "{}",
        screen[6]
    );
}

#[test]
fn the_entry_view_pretty_prints_json_and_folds_it_80x24() {
    let snap = snap();
    let mut app = messages(&snap, 80, 24);
    // #62 is the compressed tick: 4 rows up from the close frame.
    times(&mut app, &snap, KeyCode::Up, 4);
    key(&mut app, &snap, KeyCode::Enter);
    assert_eq!(app.view.mode(), Mode::Entry);
    check(
        "entry_json_80x24",
        &fixtures::render(&mut app, &snap, 80, 24),
        ENTRY_JSON_80X24,
    );
    times(&mut app, &snap, KeyCode::Char('-'), 2);
    check(
        "entry_json_folded_80x24",
        &fixtures::render(&mut app, &snap, 80, 24),
        ENTRY_JSON_FOLDED_80X24,
    );
    times(&mut app, &snap, KeyCode::Char('+'), 2);
    let unfolded = fixtures::render(&mut app, &snap, 80, 24);
    assert_eq!(
        unfolded[4..22],
        ENTRY_JSON_80X24
            .trim_matches('\n')
            .lines()
            .map(|l| l.trim_matches('|').to_string())
            .collect::<Vec<_>>()[4..22]
    );
}

#[test]
fn the_entry_view_shows_binary_as_hex_120x40() {
    let snap = snap();
    let mut app = messages(&snap, 120, 40);
    times(&mut app, &snap, KeyCode::Up, 3);
    key(&mut app, &snap, KeyCode::Enter);
    check(
        "entry_hex_120x40",
        &fixtures::render(&mut app, &snap, 120, 40),
        ENTRY_HEX_120X40,
    );
}

#[test]
fn a_close_frame_shows_its_code_with_the_detail_views_explanation_80x24() {
    let snap = snap();
    let mut app = messages(&snap, 80, 24);
    key(&mut app, &snap, KeyCode::Enter);
    check(
        "entry_close_80x24",
        &fixtures::render(&mut app, &snap, 80, 24),
        ENTRY_CLOSE_80X24,
    );
}

#[test]
fn a_cut_payload_says_so_and_hostile_text_is_escaped() {
    let snap = snap();
    let mut app = messages(&snap, 80, 24);
    key(&mut app, &snap, KeyCode::Up);
    key(&mut app, &snap, KeyCode::Enter);
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    assert!(
        screen[6].starts_with("payload 1.2 MiB, first 4 KiB kept · JSON cut short: shown as text"),
        "{}",
        screen[6]
    );
    key(&mut app, &snap, KeyCode::Esc);
    key(&mut app, &snap, KeyCode::Up);
    key(&mut app, &snap, KeyCode::Enter);
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    check("entry_hostile_80x24", &screen, ENTRY_HOSTILE_80X24);
    for line in &screen {
        assert!(!line.chars().any(char::is_control), "raw control: {line:?}");
    }
}

#[test]
fn search_lists_every_sessions_matches_newest_first_and_jumps_120x40() {
    let snap = snap();
    let mut app = App::new(fixtures::view_state());
    fixtures::render(&mut app, &snap, 120, 40);
    key(&mut app, &snap, KeyCode::Char('S'));
    keys(&mut app, &snap, "error|\"seq\":5[01],");
    key(&mut app, &snap, KeyCode::Enter);
    assert_eq!(app.view.mode(), Mode::Search);
    check(
        "search_120x40",
        &fixtures::render(&mut app, &snap, 120, 40),
        SEARCH_120X40,
    );
    times(&mut app, &snap, KeyCode::Down, 2);
    key(&mut app, &snap, KeyCode::Enter);
    assert_eq!(app.view.mode(), Mode::Messages);
    check(
        "search_jump_80x24",
        &fixtures::render(&mut app, &snap, 80, 24),
        SEARCH_JUMP_80X24,
    );
    key(&mut app, &snap, KeyCode::Esc);
    assert_eq!(app.view.mode(), Mode::Search, "Esc: back to the results");
    key(&mut app, &snap, KeyCode::Esc);
    assert_eq!(app.view.mode(), Mode::Sessions);
}

#[test]
fn the_detail_view_has_a_messages_pane() {
    let snap = snap();
    let mut app = App::new(fixtures::view_state());
    fixtures::render(&mut app, &snap, 120, 40);
    key(&mut app, &snap, KeyCode::Enter);
    let view = &app.view;
    let s = &snap.sessions[0];
    let t = wsmon::tui::ui::Theme { color: false };
    let lines: Vec<String> = wsmon::tui::ui::detail::lines(s, &snap, view, 118, t)
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect();
    let at = lines
        .iter()
        .position(|l| l == "Messages (the last 5, newest last; M: all)")
        .expect("the pane's heading");
    assert!(
        lines[at + 5].starts_with("      66 11:59:46.415Z  +900ms ← in  close"),
        "{}",
        lines[at + 5]
    );
    // M from the detail opens the whole log.
    key(&mut app, &snap, KeyCode::Char('M'));
    assert_eq!(app.view.mode(), Mode::Messages);
}

const MESSAGES_80X24: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
| Messages of s1 #0 /echo (Enter: open, Esc: back) ──────── following the newest |
| 26 earlier messages not kept · 1 payload cut to the first 4 KiB                |
| ping/pong hidden (c) · 40 kept of 66 logged                                    |
|     SEQ TIME (UTC)          Δ DIR   OP        SIZE  PAYLOAD                    |
|      51 11:59:41.020Z  +500ms ← in  text      100B  {"type":"tick","seq":42,"d…|
|      52 11:59:41.520Z  +500ms ← in  text      100B  {"type":"tick","seq":43,"d…|
|      53 11:59:42.020Z  +500ms ← in  text      100B  {"type":"tick","seq":44,"d…|
|      54 11:59:42.520Z  +500ms ← in  text      100B  {"type":"tick","seq":45,"d…|
|      55 11:59:43.020Z  +500ms ← in  text      100B  {"type":"tick","seq":46,"d…|
|      56 11:59:43.520Z  +500ms ← in  text      100B  {"type":"tick","seq":47,"d…|
|      57 11:59:44.020Z  +500ms ← in  text      100B  {"type":"tick","seq":48,"d…|
|      58 11:59:44.520Z  +500ms ← in  text      100B  {"type":"tick","seq":49,"d…|
|      59 11:59:45.020Z  +500ms ← in  text      100B  {"type":"tick","seq":50,"d…|
|      62 11:59:45.275Z  +250ms ← in  text    100B z  {"type":"tick","seq":51,"d…|
|      63 11:59:45.395Z  +120ms ← in  binary     40B  00 07 0e 15 1c 23 2a 31 38…|
|      64 11:59:45.475Z   +80ms ← in  text       29B  alert \u{1b}[31mRED\u{1b}[…|
|      65 11:59:45.515Z   +40ms ← in  text      1.2M  {"type":"snapshot","rows":…|
|      66 11:59:46.415Z  +900ms ← in  close      17B  1013 Try Again Later "try …|
| messages; times in UTC (z: switch)                                             |
| Esc back  Enter open  / regex  d dir  o opcode  c ping/pong  p pause           |
"#;
const MESSAGES_120X40: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                                               12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                                        |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1                     |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)                        |
| Messages of s1 #0 /echo (Enter: open, Esc: back) ──────────────────────────────────────────────── following the newest |
| 26 earlier messages not kept · 1 payload cut to the first 4 KiB · ping/pong hidden (c) · 40 kept of 66 logged          |
|     SEQ TIME (UTC)          Δ DIR   OP       WIRE    SIZE  PAYLOAD                                                     |
|      30 11:59:32.510Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":25,"data":{"symbol":"ABC","price":104.…|
|      31 11:59:33.010Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":26,"data":{"symbol":"ABC","price":105.…|
|      32 11:59:33.510Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":27,"data":{"symbol":"ABC","price":106.…|
|      33 11:59:34.010Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":28,"data":{"symbol":"ABC","price":100.…|
|      34 11:59:34.510Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":29,"data":{"symbol":"ABC","price":101.…|
|      35 11:59:35.010Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":30,"data":{"symbol":"ABC","price":102.…|
|      38 11:59:35.515Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":31,"data":{"symbol":"ABC","price":103.…|
|      39 11:59:36.015Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":32,"data":{"symbol":"ABC","price":104.…|
|      40 11:59:36.515Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":33,"data":{"symbol":"ABC","price":105.…|
|      41 11:59:37.015Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":34,"data":{"symbol":"ABC","price":106.…|
|      42 11:59:37.515Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":35,"data":{"symbol":"ABC","price":100.…|
|      43 11:59:38.015Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":36,"data":{"symbol":"ABC","price":101.…|
|      44 11:59:38.515Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":37,"data":{"symbol":"ABC","price":102.…|
|      45 11:59:39.015Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":38,"data":{"symbol":"ABC","price":103.…|
|      46 11:59:39.515Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":39,"data":{"symbol":"ABC","price":104.…|
|      47 11:59:40.015Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":40,"data":{"symbol":"ABC","price":105.…|
|      50 11:59:40.520Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":41,"data":{"symbol":"ABC","price":106.…|
|      51 11:59:41.020Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":42,"data":{"symbol":"ABC","price":100.…|
|      52 11:59:41.520Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":43,"data":{"symbol":"ABC","price":101.…|
|      53 11:59:42.020Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":44,"data":{"symbol":"ABC","price":102.…|
|      54 11:59:42.520Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":45,"data":{"symbol":"ABC","price":103.…|
|      55 11:59:43.020Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":46,"data":{"symbol":"ABC","price":104.…|
|      56 11:59:43.520Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":47,"data":{"symbol":"ABC","price":105.…|
|      57 11:59:44.020Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":48,"data":{"symbol":"ABC","price":106.…|
|      58 11:59:44.520Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":49,"data":{"symbol":"ABC","price":100.…|
|      59 11:59:45.020Z  +500ms ← in  text     102B    100B  {"type":"tick","seq":50,"data":{"symbol":"ABC","price":101.…|
|      62 11:59:45.275Z  +250ms ← in  text      61B  100B z  {"type":"tick","seq":51,"data":{"symbol":"ABC","price":102.…|
|      63 11:59:45.395Z  +120ms ← in  binary    42B     40B  00 07 0e 15 1c 23 2a 31 38 3f 46 4d 54 5b 62 69 70 77 7e 85…|
|      64 11:59:45.475Z   +80ms ← in  text      31B     29B  alert \u{1b}[31mRED\u{1b}[0m \u{9b}2J bell\u{7}             |
|      65 11:59:45.515Z   +40ms ← in  text     1.2M    1.2M  {"type":"snapshot","rows":[{"id":12345,"v":"abcdefgh"},{"id…|
|      66 11:59:46.415Z  +900ms ← in  close     19B     17B  1013 Try Again Later "try again later"                      |
| messages; times in UTC (z: switch)                                                                                     |
| Esc back  Enter open  / regex  d dir  o opcode  c ping/pong  p pause  End follow  S search all  ? help  q quit         |
"#;
const SCROLLED_80X24: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
| Messages of s1 #0 /echo (Enter: open, Esc: back) ─────── row 18/34 (G: newest) |
| 26 earlier messages not kept · 1 payload cut to the first 4 KiB                |
| ping/pong hidden (c) · 40 kept of 66 logged                                    |
|     SEQ TIME (UTC)          Δ DIR   OP        SIZE  PAYLOAD                    |
|      31 11:59:33.010Z  +500ms ← in  text      100B  {"type":"tick","seq":26,"d…|
|      32 11:59:33.510Z  +500ms ← in  text      100B  {"type":"tick","seq":27,"d…|
|      33 11:59:34.010Z  +500ms ← in  text      100B  {"type":"tick","seq":28,"d…|
|      34 11:59:34.510Z  +500ms ← in  text      100B  {"type":"tick","seq":29,"d…|
|      35 11:59:35.010Z  +500ms ← in  text      100B  {"type":"tick","seq":30,"d…|
|      38 11:59:35.515Z  +500ms ← in  text      100B  {"type":"tick","seq":31,"d…|
|      39 11:59:36.015Z  +500ms ← in  text      100B  {"type":"tick","seq":32,"d…|
|      40 11:59:36.515Z  +500ms ← in  text      100B  {"type":"tick","seq":33,"d…|
|      41 11:59:37.015Z  +500ms ← in  text      100B  {"type":"tick","seq":34,"d…|
|      42 11:59:37.515Z  +500ms ← in  text      100B  {"type":"tick","seq":35,"d…|
|      43 11:59:38.015Z  +500ms ← in  text      100B  {"type":"tick","seq":36,"d…|
|      44 11:59:38.515Z  +500ms ← in  text      100B  {"type":"tick","seq":37,"d…|
|      45 11:59:39.015Z  +500ms ← in  text      100B  {"type":"tick","seq":38,"d…|
|▶     46 11:59:39.515Z  +500ms ← in  text      100B  {"type":"tick","seq":39,"d…|
| messages; times in UTC (z: switch)                                             |
| Esc back  Enter open  / regex  d dir  o opcode  c ping/pong  p pause           |
"#;
const FILTERED_80X24: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
| Messages of s1 #0 /echo (Enter: open, Esc: back) ──────── following the newest |
| 26 earlier messages not kept · 1 payload cut to the first 4 KiB                |
| filter: in only, text, /seq":(4[4-9]|5)/ · 40 kept of 66 logged                |
|     SEQ TIME (UTC)          Δ DIR   OP        SIZE  PAYLOAD                    |
|      53 11:59:42.020Z  +500ms ← in  text      100B  {"type":"tick","seq":44,"d…|
|      54 11:59:42.520Z  +500ms ← in  text      100B  {"type":"tick","seq":45,"d…|
|      55 11:59:43.020Z  +500ms ← in  text      100B  {"type":"tick","seq":46,"d…|
|      56 11:59:43.520Z  +500ms ← in  text      100B  {"type":"tick","seq":47,"d…|
|      57 11:59:44.020Z  +500ms ← in  text      100B  {"type":"tick","seq":48,"d…|
|      58 11:59:44.520Z  +500ms ← in  text      100B  {"type":"tick","seq":49,"d…|
|      59 11:59:45.020Z  +500ms ← in  text      100B  {"type":"tick","seq":50,"d…|
|      62 11:59:45.275Z  +250ms ← in  text    100B z  {"type":"tick","seq":51,"d…|
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
| messages; times in UTC (z: switch)                                             |
| Esc back  Enter open  / regex  d dir  o opcode  c ping/pong  p pause           |
"#;
const ENTRY_JSON_80X24: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
| Message #62 of s1 (Esc: back, j/k: scroll) ────────────────── lines 1-14 of 17 |
|#62  11:59:45.275Z  ← in  text  61 B on the wire, 100 B inflated (compressed)   |
|JSON (+/-: unfold/fold a level)                                                 |
|                                                                                |
|{                                                                               |
|  "type": "tick",                                                               |
|  "seq": 51,                                                                    |
|  "data": {                                                                     |
|    "symbol": "ABC",                                                            |
|    "price": 102.63,                                                            |
|    "book": {                                                                   |
|      "bid": [                                                                  |
|        101,                                                                    |
|        102                                                                     |
|      ],                                                                        |
|      "ask": [                                                                  |
|        103                                                                     |
|      ]                                                                         |
| messages; times in UTC (z: switch)                                             |
| Esc back  j scroll  + unfold  - fold  ? help  q quit                           |
"#;
const ENTRY_JSON_FOLDED_80X24: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
| Message #62 of s1 (Esc: back, j/k: scroll) ────────────────────────────────────|
|#62  11:59:45.275Z  ← in  text  61 B on the wire, 100 B inflated (compressed)   |
|JSON (+/-: unfold/fold a level)                                                 |
|                                                                                |
|{                                                                               |
|  "type": "tick",                                                               |
|  "seq": 51,                                                                    |
|  "data": {                                                                     |
|    "symbol": "ABC",                                                            |
|    "price": 102.63,                                                            |
|    "book": {…} 2 keys                                                          |
|  }                                                                             |
|}                                                                               |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
| 2 of 4 levels unfolded                                                         |
| Esc back  j scroll  + unfold  - fold  ? help  q quit                           |
"#;
const ENTRY_HEX_120X40: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                                               12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                                        |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1                     |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)                        |
| Message #63 of s1 (Esc: back, j/k: scroll) ────────────────────────────────────────────────────────────────────────────|
|#63  11:59:45.395Z  ← in  binary  42 B on the wire                                                                      |
|                                                                                                                        |
|00000000  00 07 0e 15 1c 23 2a 31  38 3f 46 4d 54 5b 62 69  |.....#*18?FMT[bi|                                          |
|00000010  70 77 7e 85 8c 93 9a a1  a8 af b6 bd c4 cb d2 d9  |pw~.............|                                          |
|00000020  e0 e7 ee f5 fc 03 0a 11                           |........|                                                  |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
| messages; times in UTC (z: switch)                                                                                     |
| Esc back  j scroll  + unfold  - fold  ? help  q quit                                                                   |
"#;
const ENTRY_CLOSE_80X24: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
| Message #66 of s1 (Esc: back, j/k: scroll) ────────────────── lines 1-15 of 46 |
|#66  11:59:46.415Z  ← in  close  19 B on the wire                               |
|                                                                                |
|code    1013 Try Again Later                                                    |
|reason  "try again later"                                                       |
|                                                                                |
|About 1013 Try Again Later                                                      |
|  Category       Temporary condition                                            |
|  Sent by        server                                                         |
|  On the wire    yes                                                            |
|  Retry advice   backoff                                                        |
|  Sources        IANA registry: WebSocket Close Code Number Registry            |
|                 hybi list, msg09670 (IANA's reference, shared with 1012:       |
|                 other IP, or user action)                                      |
|                 Spring Framework CloseStatus.SERVICE_OVERLOAD javadoc          |
|                                                                                |
|  Description                                                                   |
|    The server is terminating the connection due to a temporary condition,      |
| messages; times in UTC (z: switch)                                             |
| Esc back  j scroll  + unfold  - fold  ? help  q quit                           |
"#;
const ENTRY_HOSTILE_80X24: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
| Message #64 of s1 (Esc: back, j/k: scroll) ────────────────────────────────────|
|#64  11:59:45.475Z  ← in  text  31 B on the wire                                |
|                                                                                |
|alert \u{1b}[31mRED\u{1b}[0m \u{9b}2J bell\u{7}                                 |
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
|                                                                                |
|                                                                                |
|                                                                                |
|                                                                                |
| messages; times in UTC (z: switch)                                             |
| Esc back  j scroll  + unfold  - fold  ? help  q quit                           |
"#;
const SEARCH_120X40: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                                               12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                                        |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1                     |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)                        |
| Search /error|"seq":5[01],/ in every session (Enter: go to, Esc: back) ────────────────────────────────────────────────|
| 4 matches in 44 entries of 3 sessions                                                                                  |
|  SESS   TARGET         TIME (UTC)    DIR   OP     PAYLOAD                                                              |
|▶ s5     /echo          11:59:50.000Z ← in  text   {"type":"error","code":"E5","msg":"rate limited"}                    |
|  s1     /echo          11:59:45.275Z ← in  text   {"type":"tick","seq":51,"data":{"symbol":"ABC","price":102.63,"book"…|
|  s1     /echo          11:59:45.020Z ← in  text   {"type":"tick","seq":50,"data":{"symbol":"ABC","price":101.50,"book"…|
|  s2     /echo          11:59:40.000Z ← in  text   {"type":"error","code":"E2","msg":"rate limited"}                    |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
|                                                                                                                        |
| search results, newest first; times in UTC                                                                             |
| Esc back  Enter go to  S new search  j move  ? help  q quit                                                            |
"#;
const SEARCH_JUMP_80X24: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
| Messages of s1 #0 /echo (Enter: open, Esc: back) ─────── row 29/34 (G: newest) |
| 26 earlier messages not kept · 1 payload cut to the first 4 KiB                |
| ping/pong hidden (c) · 40 kept of 66 logged                                    |
|     SEQ TIME (UTC)          Δ DIR   OP        SIZE  PAYLOAD                    |
|      44 11:59:38.515Z  +500ms ← in  text      100B  {"type":"tick","seq":37,"d…|
|      45 11:59:39.015Z  +500ms ← in  text      100B  {"type":"tick","seq":38,"d…|
|      46 11:59:39.515Z  +500ms ← in  text      100B  {"type":"tick","seq":39,"d…|
|      47 11:59:40.015Z  +500ms ← in  text      100B  {"type":"tick","seq":40,"d…|
|      50 11:59:40.520Z  +500ms ← in  text      100B  {"type":"tick","seq":41,"d…|
|      51 11:59:41.020Z  +500ms ← in  text      100B  {"type":"tick","seq":42,"d…|
|      52 11:59:41.520Z  +500ms ← in  text      100B  {"type":"tick","seq":43,"d…|
|      53 11:59:42.020Z  +500ms ← in  text      100B  {"type":"tick","seq":44,"d…|
|      54 11:59:42.520Z  +500ms ← in  text      100B  {"type":"tick","seq":45,"d…|
|      55 11:59:43.020Z  +500ms ← in  text      100B  {"type":"tick","seq":46,"d…|
|      56 11:59:43.520Z  +500ms ← in  text      100B  {"type":"tick","seq":47,"d…|
|      57 11:59:44.020Z  +500ms ← in  text      100B  {"type":"tick","seq":48,"d…|
|      58 11:59:44.520Z  +500ms ← in  text      100B  {"type":"tick","seq":49,"d…|
|▶     59 11:59:45.020Z  +500ms ← in  text      100B  {"type":"tick","seq":50,"d…|
| s1 message #59 (Esc: back to the results)                                      |
| Esc back  Enter open  / regex  d dir  o opcode  c ping/pong  p pause           |
"#;

#[test]
fn the_help_lists_the_inspectors_own_keys_only_over_the_inspector() {
    let map = wsmon::tui::keys::KeyMap::default();
    let names = |inspecting| {
        map.help_rows_in(inspecting)
            .into_iter()
            .map(|r| r.0)
            .collect::<Vec<_>>()
    };
    let main = names(false);
    assert!(
        main.contains(&"messages") && main.contains(&"search"),
        "{main:?}"
    );
    assert!(!main.contains(&"msg_dir"), "{main:?}");
    let over = names(true);
    for name in [
        "msg_dir",
        "msg_opcode",
        "msg_pings",
        "msg_pause",
        "fold",
        "unfold",
    ] {
        assert!(over.contains(&name), "{name}: {over:?}");
    }
    // Opened over the Messages view, the help shows them.
    let snap = snap();
    let mut app = messages(&snap, 120, 40);
    key(&mut app, &snap, KeyCode::Char('?'));
    let screen = fixtures::render(&mut app, &snap, 120, 40).join("\n");
    assert!(screen.contains("msg_pings"), "{screen}");
}

/// A long target at 80 columns: the title drops its key hint (the footer has it) rather than
/// let the position overlap it mid-word ("... (Enter: o following the newest", seen on the
/// demo's `/feed?rate=2&stall_after=20s` target).
#[test]
fn a_long_target_never_cuts_the_title_mid_word_at_80_columns() {
    let mut s = msg_fixtures::with_messages(fixtures::snapshot(20));
    for t in &mut s.targets {
        t.url = "ws://127.0.0.1:32837/feed?rate=2&stall_after=20s".to_string();
    }
    let snap = Arc::new(s);
    let mut app = messages(&snap, 80, 24);
    let screen = fixtures::render(&mut app, &snap, 80, 24);
    let title = screen
        .iter()
        .find(|l| l.contains("Messages of s1"))
        .expect("the title line");
    assert_eq!(
        title.trim_end(),
        " Messages of s1 #0 /feed?rate=2&stall_after=20s ────────── following the newest",
        "{title}"
    );
}
