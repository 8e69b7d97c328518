//! Process limits: the open-files limit (one descriptor per session) and SIGXFSZ (a file-size
//! limit must turn into a write error on the export, not kill wsmon).

use std::fmt;

/// Descriptors kept free besides the sessions' own: stdin/stdout/stderr, the async runtime
/// (epoll, wakers, the signal pipe), the export file, the log file, the terminal, the demo's
/// listener, and name lookups in flight (each may open a socket and a few files).
pub const FD_HEADROOM: u64 = 64;

/// Caps a "no limit" hard limit: the kernel refuses an infinite soft limit for open files.
const NO_LIMIT_CAP: u64 = 1 << 20;

/// The open-files limit after [`raise_nofile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoFile {
    /// The soft limit in force (what `open` and `socket` are checked against).
    pub soft: u64,
    pub hard: u64,
}

/// Raise the soft `RLIMIT_NOFILE` to the hard limit (a process may do so without privileges)
/// and return the limits in force. `None` where there is no such limit to read.
// `rlim_t` is u64 on Linux and macOS but not everywhere: the casts are needed elsewhere.
#[allow(clippy::unnecessary_cast)]
pub fn raise_nofile() -> Option<NoFile> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own and passes.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
            return None;
        }
        let hard = lim.rlim_max;
        let want = if hard == libc::RLIM_INFINITY {
            NO_LIMIT_CAP as libc::rlim_t
        } else {
            hard
        };
        if lim.rlim_cur != libc::RLIM_INFINITY && lim.rlim_cur < want {
            let raised = libc::rlimit {
                rlim_cur: want,
                rlim_max: hard,
            };
            // SAFETY: setrlimit only reads the struct we pass. If it refuses (macOS caps the
            // soft limit at OPEN_MAX), the old limit stays and is what we report.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                lim.rlim_cur = want;
            }
        }
        let n = |v: libc::rlim_t| {
            if v == libc::RLIM_INFINITY {
                u64::MAX
            } else {
                v as u64
            }
        };
        Some(NoFile {
            soft: n(lim.rlim_cur),
            hard: n(hard),
        })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Descriptors this process has open now (Linux `/proc/self/fd`, else `/dev/fd`); 3 (the
/// standard streams) if neither can be read.
pub fn open_fds() -> u64 {
    for dir in ["/proc/self/fd", "/dev/fd"] {
        if let Ok(entries) = std::fs::read_dir(dir) {
            // The directory handle itself is one of the entries.
            return (entries.count() as u64).saturating_sub(1);
        }
    }
    3
}

/// Too many sessions for the open-files limit: what to tell the operator before starting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdShortage {
    pub sessions: u64,
    pub per_session: u64,
    pub needed: u64,
    pub limit: NoFile,
    pub open: u64,
}

impl fmt::Display for FdShortage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let NoFile { soft, hard } = self.limit;
        write!(
            f,
            "{} sessions need about {} file descriptors ({} per session, {} already open, {} kept \
             for the export, logs, terminal and runtime), but the open-files limit is {soft} \
             (hard limit {hard}). Raise it before starting wsmon: `ulimit -n {}` in the shell \
             (root can go past the hard limit), `LimitNOFILE={}` in a systemd unit, or a \
             `nofile` line in /etc/security/limits.conf; or ask for fewer sessions",
            self.sessions,
            self.needed,
            self.per_session,
            self.open,
            FD_HEADROOM,
            self.needed,
            self.needed,
        )
    }
}

/// Whether `sessions` sessions (each holding `per_session` descriptors) fit under `limit` with
/// `open` descriptors already in use and [`FD_HEADROOM`] to spare.
pub fn check_sessions(
    sessions: u64,
    per_session: u64,
    limit: NoFile,
    open: u64,
) -> Result<(), FdShortage> {
    let needed = sessions
        .saturating_mul(per_session)
        .saturating_add(open)
        .saturating_add(FD_HEADROOM);
    if needed <= limit.soft {
        return Ok(());
    }
    Err(FdShortage {
        sessions,
        per_session,
        needed,
        limit,
        open,
    })
}

/// Ignore SIGXFSZ: past a file-size limit (`ulimit -f`), a write then fails with EFBIG, which
/// the export reports, instead of the signal killing the process with the record cut short.
pub fn ignore_sigxfsz() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Test-only (feature `fault-injection`): `WSMON_TEST_LEAVE_FDS=K` opens descriptors after the
/// start-up check and holds them until only K are left under `limit`, so that a test can run
/// the process out of descriptors mid-run.
#[cfg(feature = "fault-injection")]
pub fn test_leave_fds(limit: NoFile) {
    static HELD: std::sync::Mutex<Vec<std::fs::File>> = std::sync::Mutex::new(Vec::new());
    let Some(leave) = std::env::var("WSMON_TEST_LEAVE_FDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return;
    };
    let hold = limit.soft.saturating_sub(open_fds()).saturating_sub(leave);
    if let Ok(mut held) = HELD.lock() {
        for _ in 0..hold {
            match std::fs::File::open("/dev/null") {
                Ok(f) => held.push(f),
                Err(_) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_fit_with_headroom_or_the_message_says_how_to_raise_the_limit() {
        let limit = NoFile {
            soft: 1024,
            hard: 4096,
        };
        assert!(check_sessions(900, 1, limit, 10).is_ok());
        let short = check_sessions(1000, 1, limit, 10).expect_err("1000 + 10 + 64 > 1024");
        assert_eq!(short.needed, 1000 + 10 + FD_HEADROOM);
        let text = short.to_string();
        for needle in [
            "1000 sessions",
            "limit is 1024",
            "hard limit 4096",
            "ulimit -n 1074",
            "LimitNOFILE=1074",
            "/etc/security/limits.conf",
        ] {
            assert!(text.contains(needle), "{needle:?} missing in: {text}");
        }
        assert!(
            check_sessions(500, 2, limit, 10).is_err(),
            "two per session"
        );
        assert!(
            check_sessions(u64::MAX, 2, limit, 10).is_err(),
            "no overflow"
        );
    }

    #[test]
    fn raising_the_limit_reaches_the_hard_limit_and_counts_open_descriptors() {
        let Some(l) = raise_nofile() else {
            return;
        };
        assert!(l.soft <= l.hard);
        assert!(l.soft == l.hard || l.hard == u64::MAX || cfg!(target_os = "macos"));
        assert!(open_fds() >= 3);
    }
}
