//! The event loop driven on a `TestBackend` with scripted input and snapshots, on tokio's paused
//! clock: quitting sends Shutdown, a closed store ends the loop, redraws are bounded by --fps and
//! happen only on change, freeze keeps the screen while data flows, status messages expire.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::{mpsc, watch};
use wsmon::engine::events::{Command, Notice};
use wsmon::runtime::Request;
use wsmon::state::snapshot::Snapshot;
use wsmon::tui::{Exit, LoopStats, fixtures, run_loop};

type Input = mpsc::UnboundedSender<io::Result<Event>>;

fn key(c: char) -> io::Result<Event> {
    Ok(Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

struct Harness {
    terminal: Terminal<TestBackend>,
    snaps: watch::Sender<Arc<Snapshot>>,
    commands: mpsc::Receiver<Request>,
    input: Input,
    /// The engine's side of the notices channel.
    notices: mpsc::Sender<Notice>,
    parts: Option<Parts>,
}

struct Parts {
    input: mpsc::UnboundedReceiver<io::Result<Event>>,
    snaps: watch::Receiver<Arc<Snapshot>>,
    commands: mpsc::Sender<Request>,
    notices: mpsc::Receiver<Notice>,
}

fn harness(first: Snapshot, command_capacity: usize) -> Harness {
    let (snap_tx, snap_rx) = watch::channel(Arc::new(first));
    let (cmd_tx, cmd_rx) = mpsc::channel(command_capacity);
    let (in_tx, in_rx) = mpsc::unbounded_channel();
    let (notice_tx, notice_rx) = mpsc::channel(8);
    let Ok(terminal) = Terminal::new(TestBackend::new(100, 30));
    Harness {
        terminal,
        snaps: snap_tx,
        commands: cmd_rx,
        input: in_tx,
        notices: notice_tx,
        parts: Some(Parts {
            input: in_rx,
            snaps: snap_rx,
            commands: cmd_tx,
            notices: notice_rx,
        }),
    }
}

impl Harness {
    /// Run the loop at `fps` while `script` drives it; returns how the loop ended.
    async fn run<F>(&mut self, fps: u32, script: F) -> anyhow::Result<(Exit, LoopStats)>
    where
        F: std::future::Future<Output = ()>,
    {
        let Parts {
            mut input,
            snaps,
            commands,
            notices,
        } = self.parts.take().expect("run once");
        let stream = futures_util::stream::poll_fn(move |cx| input.poll_recv(cx));
        let view = fixtures::view_state();
        let (result, ()) = tokio::join!(
            run_loop(
                &mut self.terminal,
                stream,
                snaps,
                commands,
                Some(notices),
                view,
                fps
            ),
            script
        );
        result
    }

    /// The style of the first letter of the status line (second row from the bottom).
    fn status_style(&self) -> ratatui::style::Style {
        let buf = self.terminal.backend().buffer();
        buf[(1, buf.area.height - 2)].style()
    }

    fn screen(&self) -> String {
        fixtures::buffer_lines(self.terminal.backend().buffer()).join("\n")
    }

    fn sent(&mut self) -> Vec<Command> {
        let mut out = Vec::new();
        while let Ok(c) = self.commands.try_recv() {
            match c {
                Request::Engine(c) => out.push(c),
                Request::Replay(c) => panic!("a replay command in a live run: {c:?}"),
            }
        }
        out
    }
}

/// A snapshot visibly different from the 20-session fixture: 3 sessions, later generation.
fn small(generation: u64) -> Snapshot {
    let mut s = fixtures::snapshot(3);
    s.generation = generation;
    s
}

async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

#[tokio::test(start_paused = true)]
async fn q_sends_shutdown_and_returns() {
    let mut h = harness(fixtures::snapshot(20), 8);
    let input = h.input.clone();
    let (exit, stats) = h
        .run(10, async move {
            sleep_ms(50).await;
            input.send(key('q')).expect("loop alive");
        })
        .await
        .expect("loop ok");
    assert_eq!(exit, Exit::Quit);
    assert_eq!(h.sent(), vec![Command::Shutdown]);
    assert_eq!(stats.frames, 1, "one frame, nothing changed");
    assert!(h.screen().contains("sessions 20"), "{}", h.screen());
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_quits_even_in_a_prompt() {
    let mut h = harness(fixtures::snapshot(20), 8);
    let input = h.input.clone();
    let (exit, _) = h
        .run(10, async move {
            input.send(key('/')).expect("alive");
            input.send(key('q')).expect("alive"); // text in the prompt, not quit
            sleep_ms(200).await;
            input
                .send(Ok(Event::Key(KeyEvent::new(
                    KeyCode::Char('c'),
                    KeyModifiers::CONTROL,
                ))))
                .expect("alive");
        })
        .await
        .expect("loop ok");
    assert_eq!(exit, Exit::Quit);
    assert_eq!(h.sent(), vec![Command::Shutdown]);
    assert!(h.screen().contains("filter: q"), "{}", h.screen());
}

#[tokio::test(start_paused = true)]
async fn closed_store_ends_the_loop_cleanly() {
    let mut h = harness(fixtures::snapshot(20), 8);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    // Replace the harness's sender so the script can drop it.
    let snaps = std::mem::replace(
        &mut h.snaps,
        watch::channel(Arc::new(Snapshot::default())).0,
    );
    let (exit, _) = h
        .run(10, async move {
            sleep_ms(100).await;
            drop(snaps);
            let _ = tx.send(());
        })
        .await
        .expect("loop ok");
    assert!(rx.await.is_ok());
    assert_eq!(exit, Exit::StoreClosed);
    assert!(h.sent().is_empty(), "no shutdown needed: the store is gone");
}

#[tokio::test(start_paused = true)]
async fn closed_input_sends_shutdown() {
    let mut h = harness(fixtures::snapshot(20), 8);
    let input = std::mem::replace(&mut h.input, mpsc::unbounded_channel().0);
    let (exit, _) = h
        .run(10, async move {
            sleep_ms(100).await;
            drop(input);
        })
        .await
        .expect("loop ok");
    assert_eq!(exit, Exit::InputClosed);
    assert_eq!(h.sent(), vec![Command::Shutdown]);
}

#[tokio::test(start_paused = true)]
async fn redraws_are_bounded_by_fps_and_only_on_change() {
    let mut h = harness(fixtures::snapshot(20), 8);
    let input = h.input.clone();
    let snaps = h.snaps.clone();
    let (_, stats) = h
        .run(10, async move {
            // 2 s of snapshots every 10 ms: 200 changes.
            for g in 0..200u64 {
                snaps.send_replace(Arc::new(small(100 + g)));
                sleep_ms(10).await;
            }
            // 10 s with no change at all.
            sleep_ms(10_000).await;
            input.send(key('q')).expect("alive");
        })
        .await
        .expect("loop ok");
    assert!(
        stats.snapshots >= 100,
        "snapshots seen: {}",
        stats.snapshots
    );
    // At most 10 frames per second over ~2 s of changes, plus the first frame and one trailing
    // frame for the last change; nothing during the idle 10 s.
    assert!(stats.frames <= 23, "frames: {}", stats.frames);
    assert!(stats.frames >= 15, "frames: {}", stats.frames);
    assert!(h.screen().contains("sessions 3"), "last data shown");
}

#[tokio::test(start_paused = true)]
async fn freeze_keeps_the_screen_while_data_flows() {
    let mut h = harness(fixtures::snapshot(20), 8);
    let input = h.input.clone();
    let snaps = h.snaps.clone();
    h.run(10, async move {
        input.send(key('f')).expect("alive");
        sleep_ms(200).await;
        snaps.send_replace(Arc::new(small(43)));
        sleep_ms(200).await;
        input.send(key('q')).expect("alive");
    })
    .await
    .expect("loop ok");
    let screen = h.screen();
    assert!(screen.contains(" FROZEN "), "{screen}");
    assert!(screen.contains("sessions 20"), "old data kept: {screen}");

    // Unfreezing shows the newest data.
    let mut h = harness(fixtures::snapshot(20), 8);
    let input = h.input.clone();
    let snaps = h.snaps.clone();
    h.run(10, async move {
        input.send(key('f')).expect("alive");
        sleep_ms(200).await;
        snaps.send_replace(Arc::new(small(43)));
        sleep_ms(200).await;
        input.send(key('f')).expect("alive");
        sleep_ms(200).await;
        input.send(key('q')).expect("alive");
    })
    .await
    .expect("loop ok");
    let screen = h.screen();
    assert!(!screen.contains("FROZEN"), "{screen}");
    assert!(screen.contains("sessions 3"), "{screen}");
}

#[tokio::test(start_paused = true)]
async fn status_messages_expire() {
    for (wait, visible) in [(1_000, true), (6_000, false)] {
        let mut h = harness(fixtures::snapshot(20), 8);
        let input = h.input.clone();
        h.run(10, async move {
            input.send(key('r')).expect("alive");
            sleep_ms(wait).await;
            input.send(key('q')).expect("alive");
        })
        .await
        .expect("loop ok");
        assert_eq!(
            h.screen().contains("reconnecting s1 now"),
            visible,
            "after {wait} ms: {}",
            h.screen()
        );
        assert_eq!(
            h.sent(),
            vec![
                Command::ReconnectNow { session: Some(1) },
                Command::Shutdown
            ]
        );
    }
}

#[tokio::test(start_paused = true)]
async fn export_flush_shows_the_writers_answer_with_the_path() {
    let mut h = harness(fixtures::snapshot(20), 8);
    let input = h.input.clone();
    let notices = h.notices.clone();
    h.run(10, async move {
        input.send(key('e')).expect("alive");
        sleep_ms(100).await;
        // What the supervisor sends once the writer has flushed.
        notices
            .send(Notice::ExportFlushed { events: 2000 })
            .await
            .expect("loop reads notices");
        sleep_ms(300).await;
        input.send(key('q')).expect("alive");
    })
    .await
    .expect("loop ok");
    assert!(
        h.screen()
            .contains("export flushed (2000 events written): /tmp/wsmon-demo.jsonl"),
        "{}",
        h.screen()
    );
    assert_eq!(h.sent(), vec![Command::FlushExport, Command::Shutdown]);
}

#[tokio::test(start_paused = true)]
async fn export_flush_waits_for_the_writer_not_the_next_snapshot() {
    let mut h = harness(fixtures::snapshot(20), 8);
    let input = h.input.clone();
    let snaps = h.snaps.clone();
    h.run(10, async move {
        input.send(key('e')).expect("alive");
        sleep_ms(100).await;
        // New snapshots keep coming, but the writer has not answered yet.
        for g in 0..3 {
            let mut next = fixtures::snapshot(20);
            next.generation = 43 + g;
            snaps.send_replace(Arc::new(next));
            sleep_ms(200).await;
        }
        input.send(key('q')).expect("alive");
    })
    .await
    .expect("loop ok");
    let screen = h.screen();
    assert!(!screen.contains("export flushed"), "{screen}");
    assert!(
        screen.contains("flushing the export to /tmp/wsmon-demo.jsonl"),
        "{screen}"
    );
}

/// Run a harness where the engine sends `notice`, then quit after `wait_ms`; the screen and the
/// status line's style (no colors in the fixture view: errors are bold).
async fn after_notice(notice: Notice, wait_ms: u64) -> (String, ratatui::style::Style) {
    let mut h = harness(fixtures::snapshot(20), 8);
    let input = h.input.clone();
    let notices = h.notices.clone();
    h.run(10, async move {
        notices.send(notice).await.expect("loop reads notices");
        sleep_ms(wait_ms).await;
        input.send(key('q')).expect("alive");
    })
    .await
    .expect("loop ok");
    (h.screen(), h.status_style())
}

#[tokio::test(start_paused = true)]
async fn engine_notices_show_in_the_status_line_and_errors_stand_out() {
    let added = || Notice::TargetAdded {
        url: "ws://127.0.0.1:9001/new".into(),
        count: 5,
    };
    let (screen, info) = after_notice(added(), 300).await;
    assert!(
        screen.contains(" added target ws://127.0.0.1:9001/new with 5 sessions"),
        "{screen}"
    );
    let (screen, _) = after_notice(added(), 6_000).await;
    assert!(!screen.contains("added target"), "expired: {screen}");
    let (screen, error) = after_notice(
        Notice::AddFailed {
            error: "invalid URL 'ftp://x': use ws:// or wss://".into(),
        },
        300,
    )
    .await;
    assert!(screen.contains(" cannot add: invalid URL"), "{screen}");
    assert_ne!(error, info, "an error looks different from news");
    // Control characters from the outside world are escaped, not sent to the terminal.
    let (screen, _) = after_notice(
        Notice::TargetAdded {
            url: "ws://h/\x1b[2J".into(),
            count: 1,
        },
        300,
    )
    .await;
    assert!(!screen.contains('\x1b'), "{screen}");
}

#[tokio::test(start_paused = true)]
async fn the_same_notice_twice_gets_a_fresh_time_to_live() {
    let mut h = harness(fixtures::snapshot(20), 8);
    let input = h.input.clone();
    let notices = h.notices.clone();
    h.run(10, async move {
        let flushed = || Notice::ExportFlushed { events: 10 };
        notices.send(flushed()).await.expect("alive");
        sleep_ms(4_000).await;
        notices.send(flushed()).await.expect("alive");
        // 7 s after the first, 3 s after the second: still shown.
        sleep_ms(3_000).await;
        input.send(key('q')).expect("alive");
    })
    .await
    .expect("loop ok");
    assert!(
        h.screen().contains("export flushed (10 events written)"),
        "{}",
        h.screen()
    );
}

#[tokio::test(start_paused = true)]
async fn a_closed_notice_channel_does_not_stop_the_loop() {
    let mut h = harness(fixtures::snapshot(20), 8);
    let input = h.input.clone();
    let notices = std::mem::replace(&mut h.notices, mpsc::channel(1).0);
    let snaps = h.snaps.clone();
    let (exit, stats) = h
        .run(10, async move {
            drop(notices);
            sleep_ms(200).await;
            snaps.send_replace(Arc::new(small(50)));
            sleep_ms(200).await;
            input.send(key('q')).expect("alive");
        })
        .await
        .expect("loop ok");
    assert_eq!(exit, Exit::Quit);
    assert_eq!(stats.notices, 0);
    assert!(h.screen().contains("sessions 3"), "{}", h.screen());
}

#[tokio::test(start_paused = true)]
async fn a_full_command_queue_is_reported_not_blocking() {
    let mut h = harness(fixtures::snapshot(20), 1);
    let input = h.input.clone();
    let result = h
        .run(10, async move {
            input.send(key('r')).expect("alive"); // fills the queue (nobody reads it)
            input.send(key('R')).expect("alive"); // asks first (how many are waiting)
            input.send(key('y')).expect("alive"); // yes: the queue is full, reported
            sleep_ms(300).await;
            input.send(key('q')).expect("alive"); // Shutdown cannot be queued either
        })
        .await;
    let err = result.expect_err("shutdown could not be delivered");
    assert!(
        err.to_string().contains("did not accept the shutdown"),
        "{err}"
    );
    assert_eq!(h.sent(), vec![Command::ReconnectNow { session: Some(1) }]);
    assert!(h.screen().contains("engine is busy"), "{}", h.screen());
}
