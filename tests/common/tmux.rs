//! A real terminal for end-to-end TUI tests: a tmux server on a socket of its own, running the
//! real binary, read with `capture-pane` and driven with `send-keys`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

pub const SESSION: &str = "e2e";
pub const WIDTH: u16 = 120;
pub const HEIGHT: u16 = 40;
/// How often the screen is read while waiting.
pub const POLL: Duration = Duration::from_millis(100);
static STARTS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// A tmux server on a socket of its own (in a temporary directory, so nothing is left behind);
/// killed when dropped, whatever happened.
pub struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    /// Run `program` with `args` in a pane of `WIDTH` x `HEIGHT`.
    pub fn start(dir: &Path, program: &Path, args: &[&str]) -> Tmux {
        let program = program.to_str().expect("the binary path is UTF-8");
        let mut all = vec![program];
        all.extend_from_slice(args);
        Tmux::start_program(dir, &all)
    }

    /// Run `program_and_args` (program first: wsmon, or `env`/`sh` in front of it) in a pane
    /// of `WIDTH` x `HEIGHT`.
    pub fn start_program(dir: &Path, program_and_args: &[&str]) -> Tmux {
        match Command::new("tmux").arg("-V").output() {
            Ok(o) if o.status.success() => {}
            _ => panic!(
                "tmux is missing: the end-to-end TUI test needs it (run tests/peers/install.sh, \
                 or apt-get install tmux)"
            ),
        }
        let tmux = Tmux {
            // A socket of its own per start: a server being killed may still hold the last one.
            socket: dir.join(format!(
                "tmux-wsmon-e2e-{}-{}",
                std::process::id(),
                STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            )),
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
        cmd.extend_from_slice(&[
            "sh",
            "-c",
            r#""$0" "$@"; echo "[wsmon exit status $?]"; sleep 60"#,
        ]);
        cmd.extend_from_slice(program_and_args);
        let out = tmux.run(&cmd);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    pub fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", SESSION]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A tmux format of the pane, e.g. `#{alternate_on}` (1 while the alternate screen is on).
    pub fn format(&self, f: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", SESSION, f]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The pid of wsmon: the one child of the pane's shell.
    pub fn wsmon_pid(&self) -> String {
        let sh = self.format("#{pane_pid}");
        let children = std::fs::read_to_string(format!("/proc/{sh}/task/{sh}/children"))
            .expect("the shell's children");
        children
            .split_whitespace()
            .next()
            .expect("wsmon runs under the shell")
            .to_string()
    }

    /// Send keys (tmux key names: "Enter", "Escape", or literal text with `-l`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", SESSION];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?}");
        // Let the program read them as separate presses (an Esc followed at once by a letter
        // would read as Alt+letter).
        sleep(Duration::from_millis(150));
    }

    pub fn text(&self, text: &str) {
        self.keys(&["-l", text]);
    }

    /// `Some(exit status)` once wsmon has exited (sh then prints it).
    pub fn exit_status(&self) -> Option<i32> {
        exit_status_in(&self.screen())
    }

    /// Poll the screen until `done` holds; fail with the last screen after `limit`.
    pub fn wait_for(&self, what: &str, limit: Duration, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            if Instant::now() >= deadline {
                panic!("waited {limit:?} for {what}; the screen:\n{screen}");
            }
            // From the same capture: a fresh one may already show the exit `done` waited for.
            if let Some(status) = exit_status_in(&screen) {
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

/// The exit status sh printed on `screen`, once wsmon has exited.
fn exit_status_in(screen: &str) -> Option<i32> {
    screen
        .lines()
        .find_map(|l| l.trim().strip_prefix("[wsmon exit status "))
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|n| n.parse().ok())
}
