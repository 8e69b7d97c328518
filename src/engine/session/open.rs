//! The open connection of a session: reading, pings, sends and operator commands while the
//! WebSocket is up, and how it ends (through the close tracker). Split from `session.rs`,
//! which owns the session's life between attempts.

use super::deadline::Deadline;
use super::write::{Sent, send_within, stalled};
use super::*;

impl Session {
    /// The open connection: read, ping, send, obey commands; the close tracker records how it
    /// ends. This future is what an idle open session holds, so its rare steps (closing, the
    /// record of the end) are boxed while they run instead of being reserved in it.
    pub(super) async fn run_open(
        &mut self,
        attempt: u32,
        transport: Transport,
        leftover: Vec<u8>,
        agreement: crate::protocol::extensions::Agreement,
    ) -> AttemptEnd {
        let shared = self.shared.clone();
        let settings = &shared.settings;
        let (mut ws, layer_state) =
            Box::pin(self.websocket(transport, leftover, agreement.deflate)).await;
        self.emit(EventKind::Open {
            attempt,
            link: self.link,
        })
        .await;
        let opened = Instant::now();
        let mut tracker = CloseTracker::new();
        // Set once a close frame was sent or received: the closing handshake must end by then.
        let mut close_deadline: Option<Instant> = None;
        // Our writes wait this long at most for a peer that does not read.
        let stall = settings.close_timeout;

        if let Some(reason) = agreement.missing_reason() {
            let step = tracker.on(Input::Ours(OurClose::missing_extension(&reason)));
            close_deadline = Box::pin(self.apply(&mut ws, step)).await;
        } else if let Some(text) = &settings.send {
            match send_within(&mut ws, Message::text(text.clone()), stall).await {
                Sent::Yes => SessionCounters::add(&self.counters.msgs_out, 1),
                Sent::No => {}
                Sent::Stalled => {
                    let step = tracker.on(stalled(stall));
                    Box::pin(self.apply(&mut ws, step)).await;
                    self.frames_written(&mut ws).await;
                    return Box::pin(self.end_connection(tracker, Some(opened.elapsed()))).await;
                }
            }
        }

        let (mut ping, mut resend) = self.timers(opened);
        let mut ping_seq: u64 = 0;
        let mut ping_sent: Option<(u64, Instant)> = None;
        let mut talk = self.talk(attempt, opened);
        // What the conversation's start asks for (a close), judged like any loop input.
        let mut pending = if tracker.is_closing() {
            None
        } else {
            Box::pin(self.talk_start(&mut ws, &mut talk)).await
        };

        let mut timer = Deadline::default();
        loop {
            let open = !tracker.is_closing();
            let (talk_due, stale_due) = match open {
                true => (talk.next_deadline(), talk.stale_at()),
                false => (None, None),
            };
            timer.aim(
                [close_deadline, talk_due, stale_due]
                    .into_iter()
                    .flatten()
                    .min(),
            );
            let input = if let Some(input) = pending.take() {
                input
            } else {
                tokio::select! {
                msg = ws.next() => match self.seen(&mut ws, msg).await {
                    Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => {
                        SessionCounters::add(&self.counters.msgs_in, 1);
                        let fresh = self.heard(&mut talk);
                        if fresh.is_none() && !talk.hears(open) {
                            continue;
                        }
                        match Box::pin(self.talk_message(&mut ws, &mut talk, &m, open, fresh)).await {
                            Some(input) => input,
                            None => continue,
                        }
                    }
                    Some(Ok(Message::Pong(p))) => {
                        self.on_pong(&p, &mut ping_sent);
                        continue;
                    }
                    Some(Ok(Message::Ping(_))) | Some(Ok(Message::Frame(_))) => continue,
                    // Prefer the raw frame our frame layer saw: tungstenite rewrites codes it
                    // does not allow (1014, and every invalid one) to 1002.
                    Some(Ok(Message::Close(frame))) => Input::Peer(close::peer_frame(
                        layer_state.peer_close().map(|r| (r.code, r.reason)),
                        frame.map(|f| (u16::from(f.code), f.reason.to_string())),
                    )),
                    Some(Err(e)) => match layer_state.get() {
                        Some(lc) => Input::LayerFailed { code: lc.code, reason: lc.reason },
                        None => close::from_ws_error(&e),
                    },
                    None => Input::Eof,
                },
                _ = tick(&mut ping), if open => {
                    match Box::pin(self.send_ping(&mut ws, &mut ping_seq, &mut ping_sent)).await {
                        Some(input) => input,
                        None => continue,
                    }
                }
                _ = tick(&mut resend), if open => {
                    match Box::pin(self.resend(&mut ws)).await {
                        Some(input) => input,
                        None => continue,
                    }
                }
                cmd = self.cmds.recv(), if open => match Box::pin(self.command(cmd)).await {
                    Some(ours) => Input::Ours(ours),
                    None => continue,
                },
                () = timer.fired(), if timer.armed() => {
                    match Box::pin(self.deadline_passed(&mut ws, &mut talk, close_deadline, open)).await {
                        Some(input) => input,
                        None => continue,
                    }
                }
                }
            };
            // A violation tungstenite found (too big, bad UTF-8, bad framing) is also an error.
            let violation = matches!(&input, Input::Ours(o) if o.why.fails())
                || input == Input::Peer(PeerFrame::OneByte);
            let step = tracker.on(input);
            if violation && let Some((_, reason)) = &step.send {
                let message = reason.clone();
                Box::pin(self.emit(EventKind::Error {
                    kind: ErrorKind::Protocol,
                    message,
                }))
                .await;
            }
            let stop = step.stop;
            close_deadline = close_deadline.or(Box::pin(self.apply(&mut ws, step)).await);
            if stop {
                break;
            }
        }
        self.frames_written(&mut ws).await;
        Box::pin(self.end_connection(tracker, Some(opened.elapsed()))).await
    }

    /// The loop's timer fired: the closing handshake ran out of time, or the conversation's
    /// step or the stale threshold is due. Nothing due (a deadline that moved later since the
    /// timer was set) is a turn of the loop that sets it again.
    async fn deadline_passed<S>(
        &mut self,
        ws: &mut WsStream<S>,
        talk: &mut super::talk::Talk,
        close_deadline: Option<Instant>,
        open: bool,
    ) -> Option<Input>
    where
        S: Socket,
    {
        let now = Instant::now();
        if close_deadline.is_some_and(|d| d <= now) {
            return Some(Input::Timeout);
        }
        if !open {
            return None;
        }
        if talk.next_deadline().is_some_and(|d| d <= now) {
            return self.talk_due(ws, talk).await;
        }
        if talk.stale_at().is_some_and(|d| d <= now) {
            return self.went_stale(talk).await;
        }
        None
    }

    /// The WebSocket over the upgraded byte stream: our frame layer (and its frame tap when
    /// messages are logged) under tungstenite, with the write queue bounded.
    async fn websocket(
        &mut self,
        transport: Transport,
        leftover: Vec<u8>,
        deflate: Option<crate::protocol::deflate::DeflateParams>,
    ) -> (
        WsStream<WireStream<Transport>>,
        crate::protocol::wire::LayerCloseHandle,
    ) {
        let settings = &self.shared.settings;
        let max = settings.max_message_size;
        let layer = WireStream::new(
            transport,
            Role::Client,
            deflate,
            leftover,
            max,
            self.counters.clone(),
        );
        let layer = self.tap_frames(layer);
        let layer_state = layer.layer_close();
        // Our own message must fit the bounded write queue whole.
        let largest_send = self.shared.settings.send.as_ref().map_or(0, String::len);
        let config = ws_config(max).max_write_buffer_size(WRITE_QUEUE.saturating_add(largest_send));
        let ws = WsStream::from_raw_socket(layer, WsRole::Client, Some(config));
        (ws, layer_state)
    }

    /// Our next ping (its payload numbers it, so its pong gives the round trip). Returns the
    /// close to start when the peer took nothing for the whole write wait.
    async fn send_ping<S>(
        &mut self,
        ws: &mut WsStream<S>,
        seq: &mut u64,
        sent: &mut Option<(u64, Instant)>,
    ) -> Option<Input>
    where
        S: Socket,
    {
        let stall = self.shared.settings.close_timeout;
        *seq += 1;
        // Stamp before the send: the round trip includes our own write.
        let sent_at = Instant::now();
        let ping = Message::Ping(seq.to_be_bytes().to_vec().into());
        let result = send_within(ws, ping, stall).await;
        self.frames_written(ws).await;
        match result {
            Sent::Yes => {
                *sent = Some((*seq, sent_at));
                None
            }
            Sent::No => None,
            Sent::Stalled => Some(stalled(stall)),
        }
    }

    /// `--send-every`: `--send` again.
    async fn resend<S>(&mut self, ws: &mut WsStream<S>) -> Option<Input>
    where
        S: Socket,
    {
        let stall = self.shared.settings.close_timeout;
        let text = self.shared.settings.send.clone()?;
        let sent = send_within(ws, Message::text(text), stall).await;
        self.frames_written(ws).await;
        match sent {
            Sent::Yes => {
                SessionCounters::add(&self.counters.msgs_out, 1);
                None
            }
            Sent::No => None,
            Sent::Stalled => Some(stalled(stall)),
        }
    }

    /// A pong: when it answers our outstanding ping, its round trip is the session's RTT.
    fn on_pong(&self, payload: &[u8], ping_sent: &mut Option<(u64, Instant)>) {
        if let (Some((seq, at)), Ok(bytes)) = (*ping_sent, <[u8; 8]>::try_from(payload))
            && u64::from_be_bytes(bytes) == seq
        {
            let rtt = at.elapsed().as_micros().max(1) as u64;
            self.counters
                .rtt_us
                .store(rtt, std::sync::atomic::Ordering::Relaxed);
            *ping_sent = None;
        }
    }

    /// The ping and resend timers, only for what is turned on (each holds an allocated timer
    /// entry).
    fn timers(
        &mut self,
        opened: Instant,
    ) -> (Option<tokio::time::Interval>, Option<tokio::time::Interval>) {
        let settings = &self.shared.settings;
        let ping = settings.ping_interval.map(|every| {
            let (first, every) = ping_schedule(self.shared.epoch, opened, every, &mut self.rng);
            let mut ping = tokio::time::interval_at(first, every);
            // Skip keeps a late session on its grid slot.
            ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            ping
        });
        let resend = settings.send_every.map(|every| {
            let mut resend = tokio::time::interval_at(opened + every, every);
            resend.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            resend
        });
        (ping, resend)
    }

    /// Carry out a tracker step: send its close frame (and flush, when the connection is being
    /// dropped), emit its `closing` event. Returns the deadline of the closing handshake it
    /// starts, if it starts one.
    pub(super) async fn apply<S>(&mut self, ws: &mut WsStream<S>, step: Step) -> Option<Instant>
    where
        S: Socket,
    {
        match step.send {
            Some((code, reason)) => {
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.into(),
                };
                if step.stop {
                    let _ = tokio::time::timeout(FAIL_FLUSH, ws.close(Some(frame))).await;
                } else {
                    let _ = ws.send(Message::Close(Some(frame))).await;
                }
            }
            // Something queued an answer (tungstenite's reply to an invalid close code).
            None if step.stop && step.closing.is_some() => {
                let _ = tokio::time::timeout(FAIL_FLUSH, ws.flush()).await;
            }
            None => {}
        }
        if let Some((code, initiator)) = step.closing {
            self.frames_written(ws).await;
            self.emit(EventKind::Closing { code, initiator }).await;
            if !step.stop {
                let s = &self.shared.settings;
                let wait = if self.stopping {
                    s.shutdown_close_timeout
                } else {
                    s.close_timeout
                };
                return Some(Instant::now() + wait);
            }
        }
        None
    }

    /// The one place a `closed` event is built: the tracker's record of the connection.
    pub(super) async fn end_connection(
        &mut self,
        tracker: CloseTracker,
        uptime: Option<Duration>,
    ) -> AttemptEnd {
        // The frames written last were logged by the caller, which has the socket.
        self.frames = None;
        let outcome = tracker.finish(uptime);
        tracing::debug!(
            session = self.spec.id,
            sent = ?outcome.sent,
            received = ?outcome.received,
            "connection ended"
        );
        let code = outcome.info.code;
        self.emit(EventKind::Closed(outcome.info)).await;
        match outcome.ours {
            Some(o) if o.why == CloseWhy::Shutdown => AttemptEnd::Stopped(Stop::Shutdown),
            Some(o) if o.why == CloseWhy::Removal => AttemptEnd::Stopped(Stop::Remove),
            Some(o) if o.why == CloseWhy::Reconnect => AttemptEnd::ReconnectNow,
            // A failed script step and a stale conversation retry per the policy for their
            // error kind (the close code is the script's or the user's own, often 1000).
            Some(o) if o.why == CloseWhy::Script => AttemptEnd::failed(Cause::Error {
                kind: ErrorKind::Script,
            }),
            Some(o) if o.why == CloseWhy::Stale => AttemptEnd::failed(Cause::Error {
                kind: ErrorKind::Stale,
            }),
            Some(o) if o.why == CloseWhy::Operator => AttemptEnd::ClosedByOperator {
                code: o.code,
                cause: Cause::Close { code },
            },
            _ => AttemptEnd::Closed { code, uptime },
        }
    }
}

/// The next tick of a timer that is turned on; never, for one that is off.
async fn tick(timer: &mut Option<tokio::time::Interval>) {
    match timer {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// How long a close frame that fails the connection may take to leave.
const FAIL_FLUSH: Duration = Duration::from_secs(1);

/// Pings go out on a time grid shared by every session: the sessions whose pings fall in one
/// step share one wake-up of the runtime (and their pongs come back together). The step is the
/// coarsest of these that divides the interval at least ten times (1 s for the default 15 s:
/// 15 slots of about 670 pings for 10,000 sessions); else the finest, with the interval
/// rounded up to it.
const PING_GRIDS_MS: [u64; 4] = [1000, 500, 200, 100];

/// The grid step for pings every `every_ms`.
fn ping_grid(every_ms: u64) -> u64 {
    PING_GRIDS_MS
        .into_iter()
        .find(|g| every_ms.is_multiple_of(*g) && every_ms >= 10 * g)
        .unwrap_or(PING_GRIDS_MS[PING_GRIDS_MS.len() - 1])
}

/// The first ping and the period of a session opened at `opened`: a random slot of the grid
/// (started at `epoch`) within one interval, so 10,000 sessions opened together ping spread
/// evenly over the interval, and cheaply, hundreds per wake-up instead of one.
fn ping_schedule(
    epoch: Instant,
    opened: Instant,
    every: Duration,
    rng: &mut SmallRng,
) -> (Instant, Duration) {
    let every_ms = (every.as_millis() as u64).max(1);
    let grid = ping_grid(every_ms);
    if every_ms < 2 * grid {
        return (opened + every, every);
    }
    // The period rounded to the grid, so later pings stay on it.
    let period = every_ms.div_ceil(grid) * grid;
    let phase = rand::Rng::random_range(rng, 1..=period / grid) * grid;
    let since = (opened.saturating_duration_since(epoch).as_millis() as u64).div_ceil(grid) * grid;
    (
        epoch + Duration::from_millis(since + phase),
        Duration::from_millis(period),
    )
}

/// Bytes tungstenite may queue for a peer that does not read (pongs it owes, a close frame);
/// past it tungstenite keeps only the latest pong. Without a bound, a peer that floods pings
/// and never reads grew one session to 210 MB (issue 19). The frame layer closes such a peer
/// with 1008 long before ([`crate::protocol::wire::MAX_OWED_PONGS`]); this is the backstop.
pub const WRITE_QUEUE: usize = 256 * 1024;

/// Small buffers: 10,000 idle sessions must stay small (tungstenite preallocates its read buffer
/// and keeps it). Reads below it come from our frame layer's memory, not from the socket, so a
/// small one costs copies, not system calls. The write queue is bounded ([`WRITE_QUEUE`]).
pub fn ws_config(max_message: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(512)
        .write_buffer_size(0)
        .max_write_buffer_size(WRITE_QUEUE)
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::SeedableRng;

    use super::*;

    #[test]
    fn the_default_interval_pings_on_a_one_second_grid_spread_over_it() {
        let epoch = Instant::now();
        let opened = epoch + Duration::from_millis(2_345);
        let mut rng = SmallRng::seed_from_u64(7);
        let mut slots: BTreeMap<u64, u32> = BTreeMap::new();
        for _ in 0..10_000 {
            let (first, period) = ping_schedule(epoch, opened, Duration::from_secs(15), &mut rng);
            assert_eq!(period, Duration::from_secs(15), "the interval is kept");
            let at = (first - epoch).as_millis() as u64;
            assert_eq!(at % 1000, 0, "on the grid: {at}");
            assert!(
                at > 2_345 && at <= 3_000 + 15_000,
                "within one interval: {at}"
            );
            *slots.entry(at).or_default() += 1;
        }
        // 15 slots, none with more than twice its share.
        assert_eq!(slots.len(), 15, "{slots:?}");
        assert!(slots.values().all(|n| *n < 2 * 10_000 / 15), "{slots:?}");
    }

    #[test]
    fn other_intervals_keep_their_length() {
        let epoch = Instant::now();
        let mut rng = SmallRng::seed_from_u64(1);
        for (every_ms, grid) in [(5_000, 500), (2_000, 200), (1_500, 100), (30_000, 1000)] {
            assert_eq!(ping_grid(every_ms), grid, "{every_ms}");
            let every = Duration::from_millis(every_ms);
            let (first, period) = ping_schedule(epoch, epoch, every, &mut rng);
            assert_eq!(period, every, "{every_ms}");
            assert_eq!((first - epoch).as_millis() as u64 % grid, 0);
        }
        // Below two grid steps, the interval runs from the open, as asked.
        let every = Duration::from_millis(150);
        let opened = epoch + Duration::from_millis(7);
        assert_eq!(
            ping_schedule(epoch, opened, every, &mut rng),
            (opened + every, every)
        );
        // An interval that is not a whole number of steps is rounded up to the finest grid.
        let (_, period) = ping_schedule(epoch, epoch, Duration::from_millis(1_234), &mut rng);
        assert_eq!(period, Duration::from_millis(1_300));
    }
}
