//! Our own writes on an open connection: bounded in time, so a peer that does not read cannot
//! hold the session's loop.

use super::*;

/// How one of our own writes went.
pub(super) enum Sent {
    Yes,
    /// The connection failed; the read side reports how.
    No,
    /// The peer took nothing for the whole wait: it does not read.
    Stalled,
}

/// Send `msg`, waiting at most `limit` for a peer that does not read. Our own writes must not
/// hold the session's loop forever: while one waits, nothing is read and no command obeyed.
pub(super) async fn send_within<S>(ws: &mut WsStream<S>, msg: Message, limit: Duration) -> Sent
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match tokio::time::timeout(limit, ws.send(msg)).await {
        Ok(Ok(())) => Sent::Yes,
        Ok(Err(_)) => Sent::No,
        Err(_) => Sent::Stalled,
    }
}

/// The close for a peer that did not take one of our writes within `limit` (1008, as for the
/// peer that pings without reading: see `protocol::wire`).
pub(super) fn stalled(limit: Duration) -> Input {
    Input::Ours(OurClose::new(
        CloseWhy::PeerNotReading,
        1008,
        &format!(
            "the peer does not read: a write waited {} s",
            limit.as_secs_f64()
        ),
    ))
}
