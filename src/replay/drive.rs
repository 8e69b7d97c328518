//! The replay driver: owns the [`ReplayCursor`], follows the TUI's time cursor commands and
//! publishes the store's snapshot at the cursor on a watch channel, as the live store task does
//! (at most 10 a second while playing).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::cursor::{ReplayCursor, Speed};
use crate::state::snapshot::Snapshot;
use crate::tui::replay::{PlaySpeed, RecordedSecond, ReplayCmd};

/// Snapshot interval while playing.
pub const PLAY_TICK: Duration = Duration::from_millis(100);

fn speed(s: PlaySpeed) -> Speed {
    match s {
        PlaySpeed::X1 => Speed::X1,
        PlaySpeed::X10 => Speed::X10,
        PlaySpeed::X100 => Speed::X100,
        PlaySpeed::Max => Speed::Max,
    }
}

/// The cursor's per-second totals, as the TUI's storm charts take them.
pub fn recorded_seconds(cursor: &ReplayCursor) -> Vec<RecordedSecond> {
    cursor
        .seconds()
        .iter()
        .map(|s| RecordedSecond {
            second: s.second,
            attempts: u64::from(s.attempts),
            closes: s.closes.iter().map(|(c, n)| (*c, u64::from(*n))).collect(),
        })
        .collect()
}

/// Apply one command to the cursor. Returns whether playback runs afterwards.
pub fn apply(
    cursor: &mut ReplayCursor,
    cmd: ReplayCmd,
    playing: bool,
    speed_now: &mut PlaySpeed,
) -> bool {
    match cmd {
        ReplayCmd::Play => return true,
        ReplayCmd::Pause => return false,
        ReplayCmd::Speed(s) => *speed_now = s,
        ReplayCmd::Step(d) => cursor.step(d),
        ReplayCmd::Seek(t) => cursor.seek(t),
        ReplayCmd::NextClose(code) => {
            cursor.next_close(code);
        }
        ReplayCmd::NextBurst => {
            cursor.next_burst();
        }
    }
    playing
}

/// Run until the TUI is gone (the command sender dropped or no snapshot receiver left).
pub async fn drive(
    mut cursor: ReplayCursor,
    mut commands: mpsc::UnboundedReceiver<ReplayCmd>,
    snapshots: watch::Sender<Arc<Snapshot>>,
) {
    let mut playing = false;
    let mut speed_now = PlaySpeed::X1;
    let mut last = Instant::now();
    let mut tick = tokio::time::interval(PLAY_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            cmd = commands.recv() => {
                let Some(cmd) = cmd else { return };
                let was = playing;
                playing = apply(&mut cursor, cmd, playing, &mut speed_now);
                if playing && !was {
                    last = Instant::now();
                }
            }
            _ = tick.tick(), if playing => {
                let now = Instant::now();
                if cursor.play_tick(speed(speed_now), now - last) {
                    playing = false;
                }
                last = now;
            }
        }
        if snapshots.send(cursor.snapshot()).is_err() {
            return;
        }
    }
}
