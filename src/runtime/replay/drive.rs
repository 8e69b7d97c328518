//! The replay driver: owns the [`ReplayCursor`], follows the front end's [`ReplayCmd`]s and
//! publishes the store's snapshot at the cursor on a watch channel, as the live store task does
//! (at most 10 a second while playing).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::cursor::ReplayCursor;
use super::{ReplayCmd, Speed};
use crate::state::snapshot::Snapshot;

/// Snapshot interval while playing.
pub const PLAY_TICK: Duration = Duration::from_millis(100);

/// Apply one command to the cursor. Returns whether playback runs afterwards.
pub fn apply(cursor: &mut ReplayCursor, cmd: ReplayCmd, playing: bool, speed: &mut Speed) -> bool {
    match cmd {
        ReplayCmd::Play => return true,
        ReplayCmd::Pause => return false,
        ReplayCmd::Speed(s) => *speed = s,
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

/// Run until the front end is gone (the command channel closed, or no snapshot receiver left).
pub async fn drive(
    mut cursor: ReplayCursor,
    mut commands: mpsc::Receiver<ReplayCmd>,
    snapshots: watch::Sender<Arc<Snapshot>>,
) {
    let mut playing = false;
    let mut speed = Speed::X1;
    let mut last = Instant::now();
    let mut tick = tokio::time::interval(PLAY_TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            cmd = commands.recv() => {
                let Some(cmd) = cmd else { return };
                let was = playing;
                playing = apply(&mut cursor, cmd, playing, &mut speed);
                if playing && !was {
                    last = Instant::now();
                }
            }
            _ = tick.tick(), if playing => {
                let now = Instant::now();
                if cursor.play_tick(speed, now - last) {
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
