//! Every screen at 80x24 (and the help at 120x40), as an operator on a small terminal sees it:
//! whole screens rendered from the fixture snapshot on a `TestBackend` and compared line by
//! line. The rule they check: numbers, codes, paths and key names are never cut; prose and
//! labels shrink first (see `tui/layout.rs`).
//! Each expected line is framed with `|` so trailing spaces are visible.

use std::sync::Arc;

use wsmon::engine::events::SessionState;
use wsmon::state::snapshot::Snapshot;
use wsmon::tui::app::App;
use wsmon::tui::fixtures;
use wsmon::tui::fixtures::check_screen as check;
use wsmon::tui::view::{Confirm, OutcomeFilter, Prompt, PromptKind, Tab};

fn app() -> App {
    App::new(fixtures::view_state())
}

fn snap20() -> Arc<Snapshot> {
    Arc::new(fixtures::snapshot(20))
}

fn screen(app: &mut App, snap: &Snapshot) -> Vec<String> {
    fixtures::render(app, snap, 80, 24)
}

#[test]
fn sessions_80x24() {
    let mut app = app();
    check("sessions_80x24", &screen(&mut app, &snap20()), SESSIONS);
}

#[test]
fn storm_80x24() {
    let mut app = app();
    app.view.tab = Tab::Storm;
    check("storm_80x24", &screen(&mut app, &snap20()), STORM);
}

#[test]
fn events_80x24() {
    let mut app = app();
    app.view.tab = Tab::Log;
    check("events_80x24", &screen(&mut app, &snap20()), EVENTS);
}

#[test]
fn targets_80x24() {
    let mut app = app();
    app.view.tab = Tab::Targets;
    check("targets_80x24", &screen(&mut app, &snap20()), TARGETS);
}

/// A waiting session: the next attempt's countdown is whole (`in 18.0s`), never cut.
#[test]
fn detail_80x24() {
    let mut app = app();
    app.view.detail = Some(7);
    check("detail_80x24", &screen(&mut app, &snap20()), DETAIL);
}

#[test]
fn help_80x24() {
    let mut app = app();
    app.view.help = true;
    check("help_80x24", &screen(&mut app, &snap20()), HELP);
}

/// Wide enough: the help in two columns, every key at once.
#[test]
fn help_120x40_needs_no_scrolling() {
    let mut app = app();
    app.view.help = true;
    let s = fixtures::render(&mut app, &snap20(), 120, 40);
    assert!(!s.join("\n").contains(" lines "), "no scroll hint");
    check("help_120x40", &s, HELP_120X40);
}

/// Every filter (text, state, code) in the title bar, and the tab names still there.
#[test]
fn filters_80x24() {
    let mut app = app();
    app.view.filter = "try again later".to_string();
    app.view.state_filter = Some(SessionState::Waiting);
    app.view.outcome_filter = Some(OutcomeFilter::Code(1013));
    check("filters_80x24", &screen(&mut app, &snap20()), FILTERS);
}

/// Marks, PAUSED and FROZEN badges do not push the tab names off.
#[test]
fn badges_80x24() {
    let mut snap = fixtures::snapshot(20);
    snap.totals.paused_all = true;
    let snap = Arc::new(snap);
    let mut app = app();
    app.view.frozen = Some(snap.clone());
    app.view.marked.extend([3, 4, 5]);
    check("badges_80x24", &screen(&mut app, &snap), BADGES);
}

/// The demo's title keeps the server's address whole.
#[test]
fn demo_title_80x24() {
    let mut view = fixtures::view_state();
    view.title = "demo: scenario server on ws://127.0.0.1:41471".to_string();
    let mut app = App::new(view);
    let s = screen(&mut app, &snap20());
    check("demo_title_80x24", &s[..1], DEMO_TITLE);
}

/// `e`: the export's whole path (its extension included) in the status line.
#[test]
fn export_path_80x24() {
    let mut snap = fixtures::snapshot(20);
    snap.export_path = Some("/tmp/wsmon-demo-20250115T120000Z-10411.jsonl".to_string());
    snap.exported_events = 1234;
    let snap = Arc::new(snap);
    let mut app = app();
    app.on_notice(
        &wsmon::engine::events::Notice::ExportFlushed { events: 1234 },
        &snap,
    );
    let s = screen(&mut app, &snap);
    check("export_path_80x24", &s, EXPORT_PATH);
}

/// The header never cuts the export's path: the whole path, else its file name, else the count.
#[test]
fn export_path_in_the_header_is_never_cut() {
    let mut snap = fixtures::snapshot(20);
    snap.export_path = Some(
        "/var/tmp/a/long/directory/for/the/exports/wsmon-demo-20250115T120000Z-10411.jsonl"
            .to_string(),
    );
    snap.exported_events = 1234;
    let snap = Arc::new(snap);
    let mut app = app();
    let wide = fixtures::render(&mut app, &snap, 160, 30);
    assert!(
        wide[3].contains("export /var/tmp/a/long/directory/for/the/exports/wsmon-demo-20250115T120000Z-10411.jsonl (1234 events)"),
        "{}",
        wide[3]
    );
    let mid = fixtures::render(&mut app, &snap, 120, 30);
    assert!(
        mid[3].contains("export wsmon-demo-20250115T120000Z-10411.jsonl (1234 events)"),
        "{}",
        mid[3]
    );
    let narrow = screen(&mut app, &snap);
    assert!(narrow[3].contains("export 1234 events"), "{}", narrow[3]);
    for line in [&wide[3], &mid[3], &narrow[3]] {
        assert!(!line.contains('…'), "{line}");
    }
}

/// A question on several sessions: the whole question and both answers.
#[test]
fn confirm_80x24() {
    let mut app = app();
    app.view.confirm = Some(Confirm {
        question: "reconnect the 12 waiting sessions now? open sessions are not touched"
            .to_string(),
        commands: Vec::new(),
        done: String::new(),
    });
    check("confirm_80x24", &screen(&mut app, &snap20()), CONFIRM);
}

/// A prompt whose label is long: the label and what is typed both show.
#[test]
fn prompt_80x24() {
    let mut app = app();
    app.view.prompt = Some(Prompt {
        kind: PromptKind::CloseMarked(12),
        input: "4000 maintenance window".to_string(),
    });
    check("prompt_80x24", &screen(&mut app, &snap20()), PROMPT);
}

/// A long error in the status line (the time parser's): whole, over two lines.
#[test]
fn long_error_80x24() {
    let mut app = app();
    app.view.set_error(
        "invalid time 'x': use 14:03:12 (UTC), +2m30s (from the start), -10s (before the end) \
         or 2026-11-25T14:03:12Z",
    );
    check("long_error_80x24", &screen(&mut app, &snap20()), LONG_ERROR);
}

/// A 503 refusal: nothing was negotiated, the server never answered the offer.
#[test]
fn a_refused_upgrade_negotiated_no_extension() {
    let snap = snap20();
    let mut app = app();
    app.view.detail = Some(9);
    let text = fixtures::render(&mut app, &snap, 100, 200).join("\n");
    assert!(text.contains("HTTP/1.1 503"), "{text}");
    assert!(
        text.contains("permessage-deflate: not negotiated (no upgrade)"),
        "{text}"
    );
    assert!(!text.contains("declined by the server"), "{text}");
}

/// Paused sessions are counted apart from the ones waiting for a retry.
#[test]
fn paused_sessions_are_not_counted_as_waiting() {
    let mut snap = fixtures::snapshot(20);
    let mut paused = 0;
    for s in &mut snap.sessions {
        if s.state == SessionState::Waiting && paused < 2 {
            let mut v = (**s).clone();
            v.paused = true;
            *s = Arc::new(v);
            paused += 1;
        }
    }
    let mut app = app();
    let s = screen(&mut app, &snap);
    assert!(s[1].contains("waiting 5 paused 2"), "{}", s[1]);
}

/// An overload storm without jitter (the same herd as `tui_screens`' storm tests).
fn overload_storm() -> Arc<Snapshot> {
    use wsmon::state::storm::StormTracker;
    let mut snap = fixtures::snapshot(20);
    let now = snap.now;
    let start = now - chrono::TimeDelta::seconds(120);
    let mut st = StormTracker::new();
    let mut events: Vec<i64> = Vec::new();
    for i in 0..100i64 {
        let mut t = i * 3 / 10;
        let mut retry = 0u32;
        while t < 120_000 {
            events.push(t);
            retry += 1;
            t += 5 + (1000i64 << (retry - 1).min(3)).min(8000);
        }
    }
    events.sort_unstable();
    let mut next_tick = 0;
    let closes = events.len() as u64;
    for t in events {
        while next_tick * 1000 <= t {
            st.tick(start + chrono::TimeDelta::seconds(next_tick), 0, 95, 5);
            next_tick += 1;
        }
        st.record_attempt(start + chrono::TimeDelta::milliseconds(t));
        st.record_close(start + chrono::TimeDelta::milliseconds(t + 5), 1013);
    }
    st.record_jitter(wsmon::engine::events::Jitter::None);
    snap.storm = st.view(now, std::iter::empty());
    snap.totals.closes_by_code.insert(1013, closes);
    snap.totals.attempts = closes;
    Arc::new(snap)
}

/// The lockstep verdict and its advice, whole at 80x24 (sentences are not cut off).
#[test]
fn lockstep_80x24() {
    let mut app = app();
    app.view.tab = Tab::Storm;
    check(
        "lockstep_80x24",
        &screen(&mut app, &overload_storm()),
        LOCKSTEP,
    );
}

const SESSIONS: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                    EXT    |
|s1  /echo        open          1m00s  1    -                             deflate|
|s2  /echo        open          1m07s  1    -                             deflate|
|s3  /echo        open          1m15s  1    -                             deflate|
|s4  /echo        open          1m23s  1    -                             deflate|
|s5  /echo        connecting    -      1    -                             -      |
|s6  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s7  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s8  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s9  /flaky       next in 25s   -      2    HTTP 503                      -      |
|s10 /strict      closed        -      1    1010 cli Mandatory Extension  -      |
|s11 /echo        open          2m19s  1    -                             deflate|
|s12 /echo        open          2m27s  1    -                             deflate|
|s13 /echo        open          2m35s  1    -                             deflate|
|s14 /echo        open          2m42s  1    -                             deflate|
|s15 /echo        open          2m50s  1    -                             deflate|
|s16 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s17 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
| row 1/20  sort ID asc  hidden RTT, RATIO, MSGS, BYTES (C: columns)             |
| / filter  Tab tabs  Enter detail  ? help  q quit  Space mark  c close          |
"#;
const STORM: &str = r#"
| wsmon  Sessions [Storm] Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|┌ attempts/s now 1 peak 10 ────────────┐┌ closes, HTTP answers, errors ────────┐|
|│10┤█▁ ▁   ▁       ▁               ▁   ││1013 Try Again Later        36 ███████│|
|│ 0┤██ █   █   ▁   █              ▁█  ▁││1010 Mandatory Extension     2 █      │|
|└   11:59:25 ──── UTC ──────── 11:59:59┘│HTTP 503                     2 █      │|
|┌ closes/s 1013 now 0 peak 6 ──────────┐│1006 Abnormal Closure        1 █      │|
|│ 6┤██ █   █       █               █   │└──────────────────────────────────────┘|
|└   11:59:25 ──── UTC ──────── 11:59:59┘┌ lockstep (last 10 s) ────────────────┐|
|┌ closes/s 1010 now 0 peak 2 ──────────┐│too few recent attempts to judge      │|
|│ 2┤█                                  ││(needs 20 in the last 10 s)           │|
|│ 0┤█                                  ││                                      │|
|└   11:59:25 ──── UTC ──────── 11:59:59┘│                                      │|
|┌ closes/s other codes now 0 peak 1 ───┐│                                      │|
|│ 1┤          █                        ││                                      │|
|└   11:59:25 ──── UTC ──────── 11:59:59┘│                                      │|
|┌ open sessions now 10 peak 10 ────────┐└──────────────────────────────────────┘|
|│10┤▆██████████▆███████████████████████│┌ retries due ─────────────────────────┐|
|│ 0┤███████████████████████████████████││next 1s 0  5s 0  30s 7                │|
|└   11:59:25 ──── UTC ──────── 11:59:59┘└──────────────────────────────────────┘|
| storm: 171 s of history, 52 attempts so far                                    |
| Esc back  Tab events  P pause all  R reconnect waiting  f freeze  e export     |
"#;
const EVENTS: &str = r#"
| wsmon  Sessions  Storm [Events] Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
| Events (241 kept; newest last) ────────────────────────── following the newest |
|  TIME (UTC)    SESS   TARGET           EVENT       CODE       REASON / DETAIL  |
|  11:59:56.653Z s16    /overload        closing     1013       close frame by…  |
|  11:59:56.653Z s17    /overload        closed      1013       server overloa…  |
|  11:59:56.653Z s17    /overload        backoff     wait 32.0s backoff after …  |
|  11:59:56.654Z s16    /overload        closed      1013       server overloa…  |
|  11:59:56.654Z s16    /overload        backoff     wait 32.0s backoff after …  |
|  11:59:56.661Z s18    /overload        closing     1013       close frame by…  |
|  11:59:56.662Z s18    /overload        closed      1013       server overloa…  |
|  11:59:56.662Z s18    /overload        backoff     wait 32.0s backoff after …  |
|  11:59:56.664Z s7     /overload        closing     1013       close frame by…  |
|  11:59:56.665Z s6     /overload        closing     1013       close frame by…  |
|  11:59:56.665Z s7     /overload        closed      1013       server overloa…  |
|  11:59:56.665Z s7     /overload        backoff     wait 32.0s backoff after …  |
|  11:59:56.666Z s6     /overload        closed      1013       server overloa…  |
|  11:59:56.666Z s6     /overload        backoff     wait 32.0s backoff after …  |
|  11:59:59.600Z s5     /echo            spawned                ws://127.0.0.1…  |
|  11:59:59.600Z s5     /echo            connecting  attempt 1                   |
| events: 241 shown of 241 kept; times in UTC                                    |
| / filter  Tab tabs  Esc back  ? help  q quit  k scroll  End newest  t state    |
"#;
const TARGETS: &str = r#"
| wsmon  Sessions  Storm  Events [Targets]  demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|┌ Targets 4 · sort # asc · Enter: its sessions ────────────────────────────────┐|
|│  #▲ TARGET                SESS CLOSES BY CODE       HTTP FAIL  HS p99  ATT/S │|
|│   0 /echo                   10 -                            0     3ms      1 │|
|│   1 /overload                6 1013×36                      0     3ms      0 │|
|│   2 /flaky                   2 1006×1                       2     3ms      0 │|
|│   3 /strict                  2 1010×2                       0     3ms      0 │|
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
const DETAIL: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
| Session s7 (Esc: back, j/k: scroll) ──────────────────────── lines 1-17 of 127 |
|  target      #1 ws://127.0.0.1:9001/overload                                   |
|  state       waiting since 11:59:56.665Z (3.3s)  attempt 6                     |
|              next in 28.7s (attempt 7)                                         |
|                                                                                |
|Last close  1013 Try Again Later  by server at 11:59:56.665Z, clean,            |
|            after 108ms open                                                    |
|  reason      "server overloaded, try later"                                    |
|                                                                                |
|Backoff timeline (6 attempts, attempt 7 due; times UTC)                         |
|     #  cause       rule      window  delay  retry  outcome      uptime         |
|     1  -           -              -      -      -  close 1013    103ms         |
|        started 11:59:25.018Z  ended 11:59:25.125Z                              |
|     2  close 1013  backoff     1.0s   1.0s      -  close 1013    100ms  █      |
|        decided 11:59:25.125Z  started 11:59:26.125Z  ended 11:59:26.229Z       |
|     3  close 1013  backoff     2.0s   2.0s      -  close 1013    107ms  █      |
|        decided 11:59:26.229Z  started 11:59:28.229Z  ended 11:59:28.340Z       |
|     4  close 1013  backoff     4.0s   4.0s      -  close 1013    104ms  █      |
| session detail; times in UTC (z: switch)                                       |
| Esc back  j scroll  x explain  c close  r reconnect  p pause  z UTC/local      |
"#;
const HELP: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|┌ Help (Esc, q or ? closes) ───────────────────────────────────────────────────┐|
|│Keys (change them in the config file: [keys] name = "key")                    │|
|│  k/Up   move up / scroll up                                    up            │|
|│  j/Down move down / scroll down                                down          │|
|│  PgUp   one page up                                            page_up       │|
|│  PgDn   one page down                                          page_down     │|
|│  Home/g first row / top                                        home          │|
|│  End/G  last row / bottom                                      end           │|
|│  Enter  open detail / a target's sessions                      open          │|
|│  Esc    back; on the main screen: clear filters, then marks    back          │|
|│  Tab    next tab: Sessions, Storm, Events, Targets             next_tab      │|
|│  >      sort by the next column                                sort_next     │|
|│  <      sort by the previous column                            sort_prev     │|
|│  i      invert the sort order                                  sort_reverse  │|
|│  /      filter rows by text (empty clears)                     filter        │|
|│  t      filter by state (cycles through states present)        state_filter  │|
|│  o      filter by LAST CLOSE: code, status, error (cycles)     code_filter   │|
|└──────────────────────────────────────────────────────────── lines 1-16 of 42 ┘|
| help                                                                           |
| Esc close  j scroll                                                            |
"#;
const HELP_120X40: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                                                               12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                                                        |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | HTTP 503 2 | 1006 Abnormal Closure 1                     |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export /tmp/wsmon-demo.jsonl (1234 events)                        |
|┌ Help (Esc, q or ? closes) ───────────────────────────────────────────────────────────────────────────────────────────┐|
|│Keys (change them in the config file: [keys] name = "key")                                                            │|
|│  k/Up   move up / scroll up                up               c      in the explanation: compare with   compare        │|
|│  j/Down move down / scroll down            down                    another code                                      │|
|│  PgUp   one page up                        page_up          a      add sessions (URL and count)       add            │|
|│  PgDn   one page down                      page_down        c      close marked / selected (code,     close          │|
|│  Home/g first row / top                    home                    default 1000)                                     │|
|│  End/G  last row / bottom                  end              r      reconnect the marked / selected    reconnect      │|
|│  Enter  open detail / a target's sessions  open                    session now                                       │|
|│  Esc    back; on the main screen: clear    back             R      reconnect every waiting session    reconnect_all  │|
|│         filters, then marks                                        now (asks first)                                  │|
|│  Tab    next tab: Sessions, Storm, Events, next_tab         p      pause / resume retries of marked / pause          │|
|│         Targets                                                    selected                                          │|
|│  >      sort by the next column            sort_next        P      pause / resume all retries (asks   pause_all      │|
|│  <      sort by the previous column        sort_prev               first)                                            │|
|│  i      invert the sort order              sort_reverse     +      one more session of the selected   grow           │|
|│  /      filter rows by text (empty clears) filter                  target                                            │|
|│  t      filter by state (cycles through    state_filter     -      one session fewer of the selected  shrink         │|
|│         states present)                                            target                                            │|
|│  o      filter by LAST CLOSE: code,        code_filter      f      freeze / unfreeze the display      freeze         │|
|│         status, error (cycles)                                     (data keeps flowing)                              │|
|│  Space  mark / unmark (c, r, p use marks)  mark             e      write the log export now and show  export         │|
|│  m      mark every session shown (again:   mark_all                its path                                          │|
|│         unmark all)                                         M      the session's messages             messages       │|
|│  C      choose the table's columns         columns          S      search all sessions' messages      search         │|
|│  w      table: ages / wall-clock times     table_times      ?      show / hide this help (Esc and q   help           │|
|│  z      times in UTC / local time          clock                   close it too)                                     │|
|│  x      explain the close code (asks for   explain          q      quit (sessions close with 1001)    quit           │|
|│         one if none)                                                                                                 │|
|│  Ctrl-C quit (always)                                                                                                │|
|│  Mouse: click a row to select it, a column title to sort, wheel to scroll.                                           │|
|│  In a prompt: Enter accepts, Esc cancels, Backspace deletes.                                                         │|
|│  An action on several sessions asks first: y (or Enter) sends it, n (or Esc) does not.                               │|
|└──────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘|
| help                                                                                                                   |
| Esc close  j scroll                                                                                                    |
"#;
const FILTERS: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo               FILTER  12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                    EXT    |
|s6  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s7  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s8  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s16 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s17 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s18 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
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
| row 1/6  filter text "try again later", state waiting, close 1013  sort ID asc |
| / filter  Tab tabs  Enter detail  ? help  q quit  Space mark  c close          |
"#;
const BADGES: &str = r#"
| wsmon [Sessions] Storm  Events  Targets  3 MARKED   FROZEN   PAUSED  12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|ID▲  TARGET       STATE         UPTIME ATT  LAST CLOSE                   EXT    |
| s1  /echo        open          1m00s  1    -                            deflate|
| s2  /echo        open          1m07s  1    -                            deflate|
|*s3  /echo        open          1m15s  1    -                            deflate|
|*s4  /echo        open          1m23s  1    -                            deflate|
|*s5  /echo        connecting    -      1    -                            -      |
| s6  /overload    next in 28s   -      6    1013 srv Try Again Later     deflate|
| s7  /overload    next in 28s   -      6    1013 srv Try Again Later     deflate|
| s8  /overload    next in 28s   -      6    1013 srv Try Again Later     deflate|
| s9  /flaky       next in 25s   -      2    HTTP 503                     -      |
| s10 /strict      closed        -      1    1010 cli Mandatory Extension -      |
| s11 /echo        open          2m19s  1    -                            deflate|
| s12 /echo        open          2m27s  1    -                            deflate|
| s13 /echo        open          2m35s  1    -                            deflate|
| s14 /echo        open          2m42s  1    -                            deflate|
| s15 /echo        open          2m50s  1    -                            deflate|
| s16 /overload    next in 28s   -      6    1013 srv Try Again Later     deflate|
| s17 /overload    next in 28s   -      6    1013 srv Try Again Later     deflate|
| row 1/20  sort ID asc  marked 3  hidden RTT, RATIO, MSGS, BYTES (C: columns)   |
| / filter  Tab tabs  Enter detail  ? help  q quit  Space mark  c close          |
"#;
const DEMO_TITLE: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   …ws://127.0.0.1:41471      12:00:00Z |
"#;
const EXPORT_PATH: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                    EXT    |
|s1  /echo        open          1m00s  1    -                             deflate|
|s2  /echo        open          1m07s  1    -                             deflate|
|s3  /echo        open          1m15s  1    -                             deflate|
|s4  /echo        open          1m23s  1    -                             deflate|
|s5  /echo        connecting    -      1    -                             -      |
|s6  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s7  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s8  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s9  /flaky       next in 25s   -      2    HTTP 503                      -      |
|s10 /strict      closed        -      1    1010 cli Mandatory Extension  -      |
|s11 /echo        open          2m19s  1    -                             deflate|
|s12 /echo        open          2m27s  1    -                             deflate|
|s13 /echo        open          2m35s  1    -                             deflate|
|s14 /echo        open          2m42s  1    -                             deflate|
|s15 /echo        open          2m50s  1    -                             deflate|
|s16 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s17 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
| export flushed (1234 events written):                                          |
| /tmp/wsmon-demo-20250115T120000Z-10411.jsonl                                   |
"#;
const CONFIRM: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                    EXT    |
|s1  /echo        open          1m00s  1    -                             deflate|
|s2  /echo        open          1m07s  1    -                             deflate|
|s3  /echo        open          1m15s  1    -                             deflate|
|s4  /echo        open          1m23s  1    -                             deflate|
|s5  /echo        connecting    -      1    -                             -      |
|s6  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s7  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s8  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s9  /flaky       next in 25s   -      2    HTTP 503                      -      |
|s10 /strict      closed        -      1    1010 cli Mandatory Extension  -      |
|s11 /echo        open          2m19s  1    -                             deflate|
|s12 /echo        open          2m27s  1    -                             deflate|
|s13 /echo        open          2m35s  1    -                             deflate|
|s14 /echo        open          2m42s  1    -                             deflate|
|s15 /echo        open          2m50s  1    -                             deflate|
|s16 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s17 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
| reconnect the 12 waiting sessions now? open sessions are not touched  y yes    |
| n no                                                                           |
"#;
const PROMPT: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                    EXT    |
|s1  /echo        open          1m00s  1    -                             deflate|
|s2  /echo        open          1m07s  1    -                             deflate|
|s3  /echo        open          1m15s  1    -                             deflate|
|s4  /echo        open          1m23s  1    -                             deflate|
|s5  /echo        connecting    -      1    -                             -      |
|s6  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s7  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s8  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s9  /flaky       next in 25s   -      2    HTTP 503                      -      |
|s10 /strict      closed        -      1    1010 cli Mandatory Extension  -      |
|s11 /echo        open          2m19s  1    -                             deflate|
|s12 /echo        open          2m27s  1    -                             deflate|
|s13 /echo        open          2m35s  1    -                             deflate|
|s14 /echo        open          2m42s  1    -                             deflate|
|s15 /echo        open          2m50s  1    -                             deflate|
|s16 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s17 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
| close 12 marked sessions with code [reason] (default 1000):                    |
| 4000 maintenance window                                                        |
"#;
const LONG_ERROR: &str = r#"
| wsmon [Sessions] Storm  Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 36 | 1010 Mandatory Extension 2 | +2 more          |
| attempts/s 1.0 (total 52)  lockstep - (few retries)  export 1234 events        |
|ID▲ TARGET       STATE         UPTIME ATT  LAST CLOSE                    EXT    |
|s1  /echo        open          1m00s  1    -                             deflate|
|s2  /echo        open          1m07s  1    -                             deflate|
|s3  /echo        open          1m15s  1    -                             deflate|
|s4  /echo        open          1m23s  1    -                             deflate|
|s5  /echo        connecting    -      1    -                             -      |
|s6  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s7  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s8  /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s9  /flaky       next in 25s   -      2    HTTP 503                      -      |
|s10 /strict      closed        -      1    1010 cli Mandatory Extension  -      |
|s11 /echo        open          2m19s  1    -                             deflate|
|s12 /echo        open          2m27s  1    -                             deflate|
|s13 /echo        open          2m35s  1    -                             deflate|
|s14 /echo        open          2m42s  1    -                             deflate|
|s15 /echo        open          2m50s  1    -                             deflate|
|s16 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
|s17 /overload    next in 28s   -      6    1013 srv Try Again Later      deflate|
| invalid time 'x': use 14:03:12 (UTC), +2m30s (from the start), -10s (before the|
| end) or 2026-11-25T14:03:12Z                                                   |
"#;
const LOCKSTEP: &str = r#"
| wsmon  Sessions [Storm] Events  Targets   demo                       12:00:00Z |
| targets 4  sessions 20  connecting 1 open 10 closed 2 waiting 7                |
| closes 1013 Try Again Later 1800 | 1010 Mandatory Extension 2 | +2 more        |
| attempts/s 100.0 (total 1800)  lockstep 1.00 IN STEP  export 1234 events       |
|┌ attempts/s now 100 peak 100 ─────────┐┌ closes, HTTP answers, errors ────────┐|
|│100┤ █       █       █       █       █││1013 Try Again Later        1800 █████│|
|│   ┤ █       █       █       █       █││1010 Mandatory Extension       2 █    │|
|│   ┤ █       █       █       █       █││+2 more                               │|
|│  0┤ █       █       █       █       █│└──────────────────────────────────────┘|
|└    11:59:26 ─── UTC ──────── 11:59:59┘┌ lockstep (last 10 s) ────────────────┐|
|┌ closes/s 1013 now 100 peak 100 ──────┐│1.00 IN STEP                          │|
|│100┤ █       █       █       █       █││chance 0.17, 200 attempts             │|
|│   ┤ █       █       █       █       █││Retries are in step, a herd: 100% of  │|
|│   ┤ █       █       █       █       █││each second's attempts land in one 100│|
|│  0┤ █       █       █       █       █││ms slice; independent retries would   │|
|└    11:59:26 ─── UTC ──────── 11:59:59┘│put 17% there. Backoff has no jitter: │|
|┌ open sessions now 0 peak 0 ──────────┐│use --jitter full; reset backoff only │|
|│  1┤                                  ││after --stable-after.                 │|
|│   ┤                                  │└──────────────────────────────────────┘|
|│   ┤                                  │┌ retries due ─────────────────────────┐|
|│  0┤                                  ││next 1s 0  5s 0  30s 0                │|
|└    11:59:26 ─── UTC ──────── 11:59:59┘└──────────────────────────────────────┘|
| storm: 120 s of history, 1800 attempts so far                                  |
| Esc back  Tab events  P pause all  R reconnect waiting  f freeze  e export     |
"#;
