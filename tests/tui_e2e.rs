//! End to end: the real `wsmon demo` binary in a real terminal (tmux), driven by keys as a user
//! would. It waits for 1013 closes to show, filters to a session closed with "Try Again Later",
//! opens its detail and finds the backoff timeline with doubling windows, then quits and checks
//! that the process exits cleanly and reports its export.
//!
//! tmux is installed by `tests/peers/install.sh` (which `.ci/run` runs first). If it is missing,
//! the test fails and says so. The tmux server runs on its own socket and is always killed.

use std::path::Path;
use std::thread::sleep;
use std::time::{Duration, Instant};

mod common;

use common::tmux::{POLL, Tmux};

/// The backoff windows of the timeline rows on screen (`close 1013  backoff  1.0s ...`).
fn backoff_windows(screen: &str) -> Vec<String> {
    screen
        .lines()
        .filter_map(|l| {
            let rest = l.split("close 1013").nth(1)?;
            let mut words = rest.split_whitespace();
            (words.next() == Some("backoff"))
                .then(|| words.next().map(str::to_string))
                .flatten()
        })
        .collect()
}

#[test]
fn demo_shows_1013_its_backoff_timeline_and_exits_with_the_export() {
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("events.jsonl");
    let export_arg = export.to_str().expect("temp path is UTF-8");
    let bin = Path::new(env!("CARGO_BIN_EXE_wsmon"));
    let tmux = Tmux::start(dir.path(), bin, &["demo", "--export", export_arg]);

    // The overloaded target turns sessions away with 1013 within a second or two.
    tmux.wait_for(
        "1013 Try Again Later in the header",
        Duration::from_secs(20),
        |s| s.contains("1013") && s.contains("Try Again Later"),
    );

    // Only sessions whose last close is "Try Again Later".
    tmux.keys(&["/"]);
    tmux.text("try again later");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the filter to apply", Duration::from_secs(5), |s| {
        s.contains("FILTER text \"try again later\"")
    });
    let first_row = screen
        .lines()
        .skip_while(|l| !l.starts_with("ID"))
        .nth(1)
        .unwrap_or_default()
        .to_string();
    assert!(
        first_row.contains("/overload?cap=") && first_row.contains("1013 srv Try Again Later"),
        "the first row is a session closed with 1013:\n{screen}"
    );
    let id = first_row
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string();

    // Its detail: the last close and the backoff timeline, windows doubling from 1 s.
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for(
        "the detail's backoff timeline with windows 1.0s and 2.0s",
        Duration::from_secs(15),
        |s| {
            let w = backoff_windows(s);
            w.iter().any(|w| w == "1.0s") && w.iter().any(|w| w == "2.0s")
        },
    );
    assert!(
        screen.contains(&format!("Session {id} ")),
        "detail of {id}:\n{screen}"
    );
    assert!(
        screen.contains("Last close  1013 Try Again Later  by server"),
        "{screen}"
    );
    assert!(screen.contains("Backoff timeline ("), "{screen}");
    assert!(
        screen.contains("Attempts on a time axis"),
        "the timeline is drawn on a time axis too:\n{screen}"
    );
    let windows = backoff_windows(&screen);
    assert_eq!(
        windows.first().map(String::as_str),
        Some("1.0s"),
        "the first retry's window is the base, 1 s: {windows:?}\n{screen}"
    );

    // Quit: sessions close, the export is flushed, the terminal is restored, and the export
    // is reported.
    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = tmux.exit_status() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "wsmon did not exit within 10 s of q:\n{}",
            tmux.screen()
        );
        sleep(POLL);
    };
    let screen = tmux.screen();
    assert_eq!(status, 0, "exit status:\n{screen}");
    let line = screen
        .lines()
        .find(|l| l.contains("events exported to"))
        .unwrap_or_else(|| panic!("no export line after quitting:\n{screen}"));
    assert!(line.contains(export_arg), "{line}");
    let reported: usize = line
        .trim_start_matches("wsmon: ")
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("an event count in {line:?}"));
    let written = std::fs::read_to_string(&export).expect("the export file exists");
    assert_eq!(
        written.lines().count(),
        reported,
        "the reported count is what was written"
    );
    assert!(
        written.contains("\"code\":1013"),
        "the export holds the 1013 closes"
    );
}

/// During the overload storm: `q` inside the help closes the help (wsmon keeps running), and
/// `R` says how many sessions are waiting, asks, and then reconnects only those: the export
/// shows manual retries and no open session closed by the operator.
#[test]
fn shift_r_during_a_storm_touches_only_waiting_sessions_and_q_in_help_does_not_quit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let export = dir.path().join("events.jsonl");
    let export_arg = export.to_str().expect("temp path is UTF-8");
    let bin = Path::new(env!("CARGO_BIN_EXE_wsmon"));
    let tmux = Tmux::start(dir.path(), bin, &["demo", "--export", export_arg]);
    tmux.wait_for(
        "sessions waiting after 1013",
        Duration::from_secs(20),
        |s| s.contains("1013") && s.contains("waiting "),
    );

    // q in the help closes the help, not wsmon.
    tmux.keys(&["?"]);
    tmux.wait_for("the help", Duration::from_secs(5), |s| s.contains("Help ("));
    tmux.keys(&["q"]);
    let screen = tmux.wait_for("the help to close", Duration::from_secs(5), |s| {
        !s.contains("Help (") && s.contains("row ")
    });
    assert_eq!(
        tmux.exit_status(),
        None,
        "q in the help quit wsmon:\n{screen}"
    );

    // R asks first, with the count of waiting sessions.
    tmux.keys(&["R"]);
    let screen = tmux.wait_for("the R confirmation", Duration::from_secs(5), |s| {
        s.contains("waiting session") && s.contains("now? open sessions are not touched")
    });
    let question = screen
        .lines()
        .find(|l| l.contains("now? open sessions are not touched"))
        .unwrap_or_default()
        .to_string();
    let count: usize = question
        .split_whitespace()
        .find_map(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("a count in {question:?}"));
    assert!(count > 0, "{question}");
    tmux.keys(&["y"]);
    tmux.wait_for("the reconnect to be sent", Duration::from_secs(5), |s| {
        s.contains("waiting session") && s.contains("reconnecting the")
    });
    sleep(Duration::from_secs(2));

    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux.exit_status().is_none() {
        assert!(
            Instant::now() < deadline,
            "wsmon did not exit within 10 s of q:\n{}",
            tmux.screen()
        );
        sleep(POLL);
    }
    let written = std::fs::read_to_string(&export).expect("the export file exists");
    let events: Vec<serde_json::Value> = written
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let manual = events
        .iter()
        .filter(|e| e["event"] == "backoff" && e["cause"]["type"] == "manual")
        .count();
    assert!(
        manual > 0 && manual <= count + 5,
        "R made {manual} manual retries for {count} waiting sessions"
    );
    let closed_by_r: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| {
            (e["event"] == "closed"
                && e["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("reconnect requested")))
                || (e["event"] == "closing" && e["initiator"] == "client" && e["code"] == 1000)
        })
        .collect();
    assert!(
        closed_by_r.is_empty(),
        "R closed open sessions: {closed_by_r:?}"
    );
}
