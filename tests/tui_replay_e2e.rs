//! End to end: record a short run (`wsmon demo --headless --duration 4s --export f.jsonl`, the
//! scenario server in-process), open `wsmon replay f.jsonl` in a real terminal (tmux) and drive
//! the time cursor with keys as a user would: the header shows REPLAY, the file and the recorded
//! time, which moves with Space (play), Right (+1 s), G (the end) and `:+2s`; an operator key is
//! refused; q quits cleanly.
//!
//! tmux is installed by `tests/peers/install.sh`. If it is missing, the test fails and says so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

const SESSION: &str = "replay-e2e";
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;
/// How often the screen is read while waiting.
const POLL: Duration = Duration::from_millis(100);

/// A tmux server on a socket of its own (in a temporary directory, so nothing is left behind);
/// killed when dropped, whatever happened.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn start(dir: &Path, program: &Path, args: &[&str]) -> Tmux {
        match Command::new("tmux").arg("-V").output() {
            Ok(o) if o.status.success() => {}
            _ => panic!(
                "tmux is missing: the end-to-end TUI test needs it (run tests/peers/install.sh, \
                 or apt-get install tmux)"
            ),
        }
        let tmux = Tmux {
            socket: dir.join(format!("tmux-wsmon-replay-e2e-{}", std::process::id())),
        };
        let size = (WIDTH.to_string(), HEIGHT.to_string());
        let mut cmd: Vec<&str> = vec![
            "new-session",
            "-d",
            "-s",
            SESSION,
            "-x",
            &size.0,
            "-y",
            &size.1,
        ];
        // Through sh, which prints the exit status and then keeps the pane open, so that what
        // wsmon printed last stays readable (a pane left by remain-on-exit may lose it, and
        // tmux does not always know the status).
        let program = program.to_str().expect("the binary path is UTF-8");
        cmd.extend_from_slice(&[
            "sh",
            "-c",
            r#""$0" "$@"; echo "[wsmon exit status $?]"; sleep 60"#,
        ]);
        cmd.push(program);
        cmd.extend_from_slice(args);
        let out = tmux.run(&cmd);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", SESSION]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Send keys (tmux key names: "Enter", "Escape", or literal text with `-l`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?}");
        // Let the program read them as separate presses (an Esc followed at once by a letter
        // would read as Alt+letter).
        sleep(Duration::from_millis(150));
    }

    fn text(&self, text: &str) {
        self.keys(&["-l", text]);
    }

    /// `Some(exit status)` once wsmon has exited (sh then prints it).
    fn exit_status(&self) -> Option<i32> {
        self.screen()
            .lines()
            .find_map(|l| l.trim().strip_prefix("[wsmon exit status "))
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|n| n.parse().ok())
    }

    /// Poll the screen until `done` holds; fail with the last screen after `limit`.
    fn wait_for(&self, what: &str, limit: Duration, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if Instant::now() >= deadline {
                panic!("waited {limit:?} for {what}; the screen:\n{screen}");
            }
            if let Some(status) = self.exit_status() {
                panic!("wsmon exited (status {status}) while waiting for {what}:\n{screen}");
            }
            sleep(POLL);
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The header's cursor: `(+0m02s of 0m04s)` -> ("0m02s", "0m04s").
fn position(screen: &str) -> (String, String) {
    let first = screen.lines().next().unwrap_or_default();
    let at = first
        .find("(+")
        .unwrap_or_else(|| panic!("no cursor in the header: {first}"));
    let rest = &first[at + 2..];
    let close = rest.find(')').expect("closing parenthesis");
    let mut parts = rest[..close].split(" of ");
    (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default().to_string(),
    )
}

/// The recorded wall-clock time in the header (`14:03:12Z`).
fn clock(screen: &str) -> String {
    let first = screen.lines().next().unwrap_or_default();
    let at = first.find("(+").expect("cursor");
    first[..at]
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn replay_opens_the_tui_and_keys_move_the_time_cursor() {
    let bin = Path::new(env!("CARGO_BIN_EXE_wsmon"));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("f.jsonl");
    let file_arg = file.to_str().expect("UTF-8 path");
    let rec = Command::new(bin)
        .args([
            "demo",
            "--headless",
            "--duration",
            "4s",
            "--export",
            file_arg,
        ])
        .output()
        .expect("wsmon demo runs");
    assert!(
        rec.status.success(),
        "{}",
        String::from_utf8_lossy(&rec.stderr)
    );

    let tmux = Tmux::start(dir.path(), bin, &["replay", file_arg]);
    let screen = tmux.wait_for("the replay header", Duration::from_secs(20), |s| {
        s.lines()
            .next()
            .is_some_and(|l| l.contains("REPLAY") && l.contains("(+"))
    });
    let header = screen.lines().next().unwrap_or_default().to_string();
    assert!(header.contains("f.jsonl"), "the file name: {header}");
    let (at, length) = position(&screen);
    assert_eq!(at, "0m00s", "{header}");
    let t0 = clock(&screen);

    tmux.keys(&["Right"]);
    let screen = tmux.wait_for("+1 s", Duration::from_secs(5), |s| position(s).0 == "0m01s");
    assert_ne!(clock(&screen), t0, "the recorded time moved");

    tmux.keys(&["G"]);
    tmux.wait_for("the end", Duration::from_secs(5), |s| {
        position(s).0 == length
    });

    tmux.keys(&[":"]);
    tmux.text("+2s");
    tmux.keys(&["Enter"]);
    tmux.wait_for("+2 s", Duration::from_secs(5), |s| position(s).0 == "0m02s");

    tmux.keys(&["Space"]);
    tmux.wait_for("playing", Duration::from_secs(5), |s| {
        s.lines().next().is_some_and(|l| l.contains("▶"))
    });
    tmux.keys(&["Space"]);
    let screen = tmux.wait_for("paused", Duration::from_secs(5), |s| {
        s.lines().next().is_some_and(|l| l.contains("⏸"))
    });
    let (paused_at, _) = position(&screen);
    assert!(
        paused_at.as_str() >= "0m02s",
        "played on from +2s: {paused_at}"
    );

    tmux.keys(&["R"]);
    tmux.wait_for("the refusal", Duration::from_secs(5), |s| {
        s.contains("replay: nothing is sent")
    });

    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = tmux.exit_status() {
            assert_eq!(status, 0, "wsmon replay exits cleanly:\n{}", tmux.screen());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no exit after q:\n{}",
            tmux.screen()
        );
        sleep(POLL);
    }
}
