//! End to end: the message inspector's keys in a real terminal (tmux) on `wsmon demo`: `M`
//! opens the selected session's Messages view, `d`/`c` change its filters (the notes line
//! says so), `/` with a bad regex is refused with a clear message, `S` searches every
//! session's log and lists the result, Esc goes back step by step, q quits cleanly. (What the
//! log holds depends on what the sessions exchange; this test checks the screens and keys.)
//!
//! tmux is installed by `tests/peers/install.sh`. If it is missing, the test fails and says so.

use std::path::Path;
use std::time::{Duration, Instant};

mod common;

use common::tmux::Tmux;

#[test]
fn m_opens_the_messages_view_and_s_searches_every_session() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = Path::new(env!("CARGO_BIN_EXE_wsmon"));
    let tmux = Tmux::start(dir.path(), bin, &["demo"]);
    tmux.wait_for("the sessions table", Duration::from_secs(20), |s| {
        s.contains("[Sessions]") && s.lines().any(|l| l.starts_with("s1 "))
    });

    tmux.keys(&["M"]);
    tmux.wait_for("the Messages view", Duration::from_secs(5), |s| {
        s.contains("Messages of s")
            && (s.contains("no message logged") || s.contains(" logged"))
            && s.contains("d dir")
    });
    tmux.keys(&["d"]);
    tmux.keys(&["c"]);
    // Both keys' effects (the screen after `d` alone already says "in only").
    let screen = tmux.wait_for("the filters", Duration::from_secs(5), |s| {
        s.contains("no message logged")
            || (s.contains("filter: in only") && !s.contains("ping/pong hidden"))
    });
    assert!(
        !screen.contains("ping/pong hidden"),
        "c shows them:\n{screen}"
    );
    tmux.keys(&["/"]);
    tmux.text("(unclosed");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the bad regex refused", Duration::from_secs(5), |s| {
        s.contains("bad regex: ")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the table again", Duration::from_secs(5), |s| {
        !s.contains("Messages of s") && s.contains("[Sessions]")
    });

    tmux.keys(&["S"]);
    tmux.text(".");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("the search results", Duration::from_secs(10), |s| {
        s.contains("Search /./ in every session") && s.contains(" session")
    });
    assert!(screen.contains("match"), "{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("the table after the search", Duration::from_secs(5), |s| {
        !s.contains("Search /") && s.contains("[Sessions]")
    });

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
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, 0, "{}", tmux.screen());
}
