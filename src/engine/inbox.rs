//! A session's command inbox: what the supervisor tells one session.
//!
//! Commands are rare operator actions, but there is one inbox per session, and an open session
//! looks at it every time it wakes (for a ping, a message). A bounded tokio channel reserves a
//! block of 32 slots and cache-padded counters (about 1.4 KiB) for each; a queue behind a mutex
//! and one [`AtomicWaker`] (about 100 bytes, and no lock to wait) does the same job: commands
//! arrive in order, none is lost, and the session learns when the supervisor is gone.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use futures_util::task::AtomicWaker;

/// What the supervisor tells one session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionCmd {
    /// Close with this code; the session is not retried.
    Close {
        code: u16,
        reason: String,
    },
    /// Skip the wait and reconnect now (also restarts an ended session).
    ReconnectNow,
    /// `R`: reconnect now only if waiting for a retry; an open, connecting or ended session
    /// ignores it.
    ReconnectIfWaiting,
    SetPaused(bool),
    /// wsmon is stopping: close with 1001.
    Shutdown,
    /// The session is being removed: close with 1000 and end.
    Remove,
}

struct Shared {
    queue: Mutex<VecDeque<SessionCmd>>,
    /// The session's task, when it waits (one receiver: one waker).
    waker: AtomicWaker,
    /// The sender is gone: once the queue is empty, `recv` answers `None`.
    closed: AtomicBool,
    /// The queue holds a command (changed only under its lock): an open session polls its
    /// inbox on every message, and almost always finds it empty without taking the lock.
    queued: AtomicBool,
}

/// A new inbox: the supervisor keeps the sender, the session the receiving end.
pub fn inbox() -> (InboxSender, Inbox) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(VecDeque::new()),
        waker: AtomicWaker::new(),
        closed: AtomicBool::new(false),
        queued: AtomicBool::new(false),
    });
    (InboxSender(shared.clone()), Inbox(shared))
}

/// The supervisor's end.
pub struct InboxSender(Arc<Shared>);

impl InboxSender {
    /// Queue `cmd` for the session. `false` when the session has ended (its inbox is gone).
    pub fn send(&self, cmd: SessionCmd) -> bool {
        if Arc::strong_count(&self.0) < 2 {
            return false;
        }
        let mut queue = self
            .0
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        queue.push_back(cmd);
        self.0.queued.store(true, Ordering::Release);
        drop(queue);
        self.0.waker.wake();
        true
    }
}

impl Drop for InboxSender {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
        self.0.waker.wake();
    }
}

/// The session's end.
pub struct Inbox(Arc<Shared>);

impl Inbox {
    /// The next command, in the order sent; `None` once the sender is gone and every command
    /// was taken. Cancel-safe: a command is only taken when this returns it.
    pub async fn recv(&mut self) -> Option<SessionCmd> {
        std::future::poll_fn(|cx| {
            // Registered before looking, so a command sent in between still wakes the task.
            self.0.waker.register(cx.waker());
            // Read before the queue: once the sender is gone, everything it sent is queued.
            let closed = self.0.closed.load(Ordering::Acquire);
            if !closed && !self.0.queued.load(Ordering::Acquire) {
                return Poll::Pending;
            }
            let mut queue = self
                .0
                .queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let next = queue.pop_front();
            self.0.queued.store(!queue.is_empty(), Ordering::Release);
            drop(queue);
            match next {
                Some(cmd) => Poll::Ready(Some(cmd)),
                None if closed => Poll::Ready(None),
                None => Poll::Pending,
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn commands_arrive_in_order_then_none_once_the_sender_is_gone() {
        let (tx, mut rx) = inbox();
        assert!(tx.send(SessionCmd::SetPaused(true)));
        assert!(tx.send(SessionCmd::ReconnectNow));
        drop(tx);
        assert_eq!(rx.recv().await, Some(SessionCmd::SetPaused(true)));
        assert_eq!(rx.recv().await, Some(SessionCmd::ReconnectNow));
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn a_waiting_session_wakes_for_a_command() {
        let (tx, mut rx) = inbox();
        let waiter = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        assert!(tx.send(SessionCmd::Shutdown));
        let got = waiter.await.expect("the waiting task");
        assert_eq!(got, Some(SessionCmd::Shutdown));
    }

    #[tokio::test]
    async fn a_cancelled_wait_loses_no_command() {
        let (tx, mut rx) = inbox();
        // A select that drops the recv future (another branch won) leaves the command queued.
        tokio::select! {
            biased;
            () = std::future::ready(()) => {}
            _ = rx.recv() => panic!("nothing was sent yet"),
        }
        assert!(tx.send(SessionCmd::Remove));
        assert_eq!(rx.recv().await, Some(SessionCmd::Remove));
    }

    #[test]
    fn sending_to_an_ended_session_says_so() {
        let (tx, rx) = inbox();
        drop(rx);
        assert!(!tx.send(SessionCmd::ReconnectNow));
    }
}
