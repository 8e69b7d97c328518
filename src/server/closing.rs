//! Ending WebSocket sessions on the server: the shutdown signal every session listens to, and
//! the close handshake it ends with. Used by the echo scenarios and the message-layer ones.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Utf8Bytes;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// How long we wait for the client's close frame after sending ours.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(3);
/// The reason sent with 1001 when the server shuts down.
pub const SHUTDOWN_REASON: &str = "server shutting down";

/// Resolves once the server is shutting down (or its handle is gone).
pub(crate) async fn shutting_down(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|down| *down).await;
}

/// Send a close frame, then read until the client's reply (or a timeout) and drop the socket.
pub(crate) async fn close_and_drain<S>(
    mut ws: WebSocketStream<S>,
    code: CloseCode,
    reason: &str,
) -> Result<(), tokio_tungstenite::tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(reason),
    };
    ws.close(Some(frame)).await?;
    let drain = async { while let Some(Ok(_)) = ws.next().await {} };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, drain).await;
    Ok(())
}
