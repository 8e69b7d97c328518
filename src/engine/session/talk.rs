//! The conversation of an open connection and its message health: what the session's script
//! or protocol ([`crate::engine::conversation`]) says and hears, and whether the server has
//! gone silent (stale). The open loop (`open.rs`) calls these at each data message, each
//! conversation deadline and the stale deadline; they return the close to start, if any.

use super::write::{Sent, send_within, stalled};
use super::*;
use crate::engine::conversation::{
    Action, ConnectionInfo, Conversation, ConversationFactory, Incoming, Outgoing,
};
use crate::engine::settings::StaleAction;

/// One connection's conversation (if its target has one), the actions it asked for and the
/// message health.
pub(super) struct Talk {
    conv: Option<Box<dyn Conversation>>,
    actions: Vec<Action>,
    health: Health,
    /// The conversation's answers to `next_deadline` and `listening` after its last call (they
    /// change only when it is called): the open loop asks at every wake-up without touching it.
    deadline: Option<Instant>,
    listening: bool,
}

impl Talk {
    pub(super) fn new(
        factory: Option<&dyn ConversationFactory>,
        conn: ConnectionInfo,
        stale_after: Option<Duration>,
        opened: Instant,
    ) -> Self {
        let mut talk = Talk {
            conv: factory.map(|f| f.start(conn)),
            actions: Vec::new(),
            health: Health::new(stale_after, opened),
            deadline: None,
            listening: false,
        };
        talk.called();
        talk
    }

    /// The conversation was called: note what it now waits for.
    fn called(&mut self) {
        (self.deadline, self.listening) = match &self.conv {
            Some(c) => (c.next_deadline(), c.listening()),
            None => (None, false),
        };
    }

    /// When the conversation wants its next wake-up.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// When the session goes stale, unless a message comes first.
    pub(super) fn stale_at(&self) -> Option<Instant> {
        self.health.stale_at()
    }

    /// Whether the conversation hears a data message now (it has one, still listening, and
    /// the connection is not closing).
    pub(super) fn hears(&self, open: bool) -> bool {
        open && self.listening && self.conv.is_some()
    }
}

impl Session {
    /// The conversation and health of attempt `attempt`'s connection, opened at `opened`.
    pub(super) fn talk(&self, attempt: u32, opened: Instant) -> Talk {
        Talk::new(
            self.spec.conversation.as_deref(),
            ConnectionInfo {
                session: self.spec.id,
                index: self.spec.index,
                attempt,
            },
            self.shared.settings.stale_after,
            opened,
        )
    }

    /// The connection opened: the conversation's first words.
    pub(super) async fn talk_start<S>(
        &mut self,
        ws: &mut WsStream<S>,
        talk: &mut Talk,
    ) -> Option<Input>
    where
        S: Socket,
    {
        // What went out before (the `--send` of the open) is logged first.
        self.frames_written(ws).await;
        let conv = talk.conv.as_mut()?;
        conv.start(Instant::now(), &mut talk.actions);
        talk.called();
        self.act(ws, talk).await
    }

    /// A data message from the server, the part that never waits: its arrival stamped for the
    /// session's message age and health. Returns the silence it ends (ms) when the session was
    /// stale. The open loop then calls [`Session::talk_message`] only when
    /// [`Talk::hears`] or a `fresh` is to be recorded: most messages of a feed need nothing more.
    pub(super) fn heard(&self, talk: &mut Talk) -> Option<u64> {
        let now = Instant::now();
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.counters
            .last_in_ms
            .store(wall, std::sync::atomic::Ordering::Relaxed);
        talk.health.on_message(now)
    }

    /// After [`Session::heard`]: `fresh` recorded (the silence a stale session ended), and the
    /// conversation hears the message (while the connection is not closing).
    pub(super) async fn talk_message<S>(
        &mut self,
        ws: &mut WsStream<S>,
        talk: &mut Talk,
        msg: &Message,
        open: bool,
        fresh: Option<u64>,
    ) -> Option<Input>
    where
        S: Socket,
    {
        if let Some(silent_ms) = fresh {
            self.emit(EventKind::Fresh { silent_ms }).await;
        }
        let now = talk.health.last_in;
        let hears = talk.hears(open);
        let conv = talk.conv.as_mut().filter(|_| hears)?;
        match msg {
            Message::Text(text) => conv.on_message(Incoming::Text(text), now, &mut talk.actions),
            Message::Binary(data) => {
                conv.on_message(Incoming::Binary(data), now, &mut talk.actions)
            }
            _ => return None,
        }
        talk.called();
        self.act(ws, talk).await
    }

    /// The conversation's deadline passed.
    pub(super) async fn talk_due<S>(
        &mut self,
        ws: &mut WsStream<S>,
        talk: &mut Talk,
    ) -> Option<Input>
    where
        S: Socket,
    {
        let conv = talk.conv.as_mut()?;
        conv.on_deadline(Instant::now(), &mut talk.actions);
        talk.called();
        self.act(ws, talk).await
    }

    /// No message for the stale threshold: record it; with `--stale-action reconnect`, close.
    pub(super) async fn went_stale(&mut self, talk: &mut Talk) -> Option<Input> {
        let silent_ms = talk.health.went_stale();
        self.emit(EventKind::Stale { silent_ms }).await;
        match self.shared.settings.stale_action {
            StaleAction::Keep => None,
            StaleAction::Reconnect { code } => Some(Input::Ours(OurClose::new(
                CloseWhy::Stale,
                code,
                &format!(
                    "stale: no message for {}",
                    crate::units::format_ms(silent_ms)
                ),
            ))),
        }
    }

    /// An operator's (or wsmon's) command while open: the close it starts, if any.
    pub(super) async fn command(&mut self, cmd: Option<SessionCmd>) -> Option<OurClose> {
        Some(match cmd {
            None | Some(SessionCmd::Shutdown) => {
                self.stopping = true;
                OurClose::shutdown()
            }
            Some(SessionCmd::Remove) => OurClose::removal(),
            Some(SessionCmd::Close { code, reason }) => OurClose::operator(code, &reason),
            Some(SessionCmd::ReconnectNow) => OurClose::reconnect(),
            // `R` never closes an open connection.
            Some(SessionCmd::ReconnectIfWaiting) => return None,
            Some(SessionCmd::SetPaused(p)) => {
                self.set_paused(p).await;
                return None;
            }
        })
    }

    /// Carry out a conversation's actions, in order. Returns the close to start when one asks
    /// for it (or our write stalled); the actions after it are dropped.
    async fn act<S>(&mut self, ws: &mut WsStream<S>, talk: &mut Talk) -> Option<Input>
    where
        S: Socket,
    {
        if talk.actions.is_empty() {
            // Nothing said, nothing written (a feed's message after its script is done).
            return None;
        }
        let stall = self.shared.settings.close_timeout;
        let mut close = None;
        for action in talk.actions.drain(..) {
            if close.is_some() {
                continue;
            }
            match action {
                Action::Send(out) => {
                    let msg = match out {
                        Outgoing::Text(t) => Message::text(t),
                        Outgoing::Binary(b) => Message::binary(b),
                    };
                    match send_within(ws, msg, stall).await {
                        Sent::Yes => SessionCounters::add(&self.counters.msgs_out, 1),
                        Sent::No => {}
                        Sent::Stalled => close = Some(stalled(stall)),
                    }
                }
                Action::Emit(kind) => self.emit(kind).await,
                Action::Close { code, reason } => {
                    close = Some(Input::Ours(OurClose::new(CloseWhy::Script, code, &reason)));
                }
                Action::StaleAfter(after) => talk
                    .health
                    .set_after(after.or(self.shared.settings.stale_after)),
            }
        }
        self.frames_written(ws).await;
        close
    }
}

/// Message health of one connection: when the server last sent a data message, and whether
/// the conversation is stale (no message for the stale threshold; pings do not count).
struct Health {
    after: Option<Duration>,
    last_in: Instant,
    stale: bool,
}

impl Health {
    fn new(after: Option<Duration>, opened: Instant) -> Self {
        Health {
            after,
            last_in: opened,
            stale: false,
        }
    }

    /// When the session goes stale, unless a message comes first; `None` once stale or off.
    fn stale_at(&self) -> Option<Instant> {
        match (self.after, self.stale) {
            (Some(after), false) => Some(self.last_in + after),
            _ => None,
        }
    }

    /// The stale threshold passed: returns the silence so far, in ms.
    fn went_stale(&mut self) -> u64 {
        self.stale = true;
        self.last_in.elapsed().as_millis() as u64
    }

    /// A data message came: the silence it ends, in ms, when the session was stale.
    fn on_message(&mut self, now: Instant) -> Option<u64> {
        let silent = now.saturating_duration_since(self.last_in);
        self.last_in = now;
        std::mem::take(&mut self.stale).then_some(silent.as_millis() as u64)
    }

    /// A new threshold (a protocol learned its peer's heartbeat). A stale session stays
    /// stale until the next message (which records `fresh`).
    fn set_after(&mut self, after: Option<Duration>) {
        self.after = after;
    }
}
