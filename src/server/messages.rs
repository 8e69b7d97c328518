//! The scenarios that misbehave at the message layer, after a clean upgrade: `/feed` (ticks,
//! then silence with the connection alive), `/rpc` (delayed answers by id, concurrently) and
//! `/auth` (4408 unless an auth message comes in time). They run on any byte stream, an
//! upgraded TCP socket or an HTTP/2 stream.
//!
//! Pings and close frames are answered by tungstenite itself on the next read or write, so
//! every loop below keeps reading, also while it sends nothing.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::Shared;
use super::closing::{SHUTDOWN_REASON, close_and_drain, shutting_down};
use super::scenario::AUTH_TIMEOUT_CODE;

/// Most `/rpc` answers waiting for their delay on one session; past it a request is answered
/// with an error at once (memory stays bounded whatever the client sends).
pub const MAX_PENDING_RPC: usize = 10_000;
/// The close reason of `/auth` when no auth message came in time.
pub const AUTH_TIMEOUT_REASON: &str = "auth timeout";

/// A message-layer scenario, with its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Talk {
    Feed {
        rate: f64,
        stall_after: Option<Duration>,
    },
    Rpc {
        min: Duration,
        max: Duration,
    },
    Auth {
        timeout: Duration,
    },
}

/// Run `talk` on an open WebSocket until the client goes or the server shuts down.
pub(crate) async fn run<S>(
    ws: WebSocketStream<S>,
    talk: Talk,
    shared: &Shared,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), WsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match talk {
        Talk::Feed { rate, stall_after } => feed(ws, rate, stall_after, shutdown).await,
        Talk::Rpc { min, max } => rpc(ws, min, max, shared, shutdown).await,
        Talk::Auth { timeout } => auth(ws, timeout, shutdown).await,
    }
}

/// `{"type":"tick","seq":N,"ts_ms":MS}`: `seq` counts from 1, `ts_ms` is the Unix time in
/// milliseconds when the tick was made.
pub fn tick_message(seq: u64, at: SystemTime) -> String {
    let ts_ms = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("{{\"type\":\"tick\",\"seq\":{seq},\"ts_ms\":{ts_ms}}}")
}

/// `/feed`: `rate` ticks a second on a fixed schedule (a late tick does not shift the next),
/// the first one period after the open (like a timer), the last at `stall_after` (so
/// `stall_after=5s` at `rate=1` sends five, at 1 s to 5 s, then nothing); client messages are
/// read and ignored.
async fn feed<S>(
    mut ws: WebSocketStream<S>,
    rate: f64,
    stall_after: Option<Duration>,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), WsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let start = Instant::now();
    let period = Duration::from_secs_f64(1.0 / rate);
    let stall_at = stall_after.map(|d| start + d);
    let mut next = start + period;
    let mut seq = 0u64;
    loop {
        let ticking = stall_at.is_none_or(|at| next <= at);
        let tick = async {
            if ticking {
                tokio::time::sleep_until(next).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            () = shutting_down(shutdown) => {
                return close_and_drain(ws, CloseCode::Away, SHUTDOWN_REASON).await;
            }
            () = tick => {
                seq += 1;
                next += period;
                ws.send(Message::Text(tick_message(seq, SystemTime::now()).into())).await?;
            }
            msg = ws.next() => match msg {
                None => return Ok(()),
                Some(Err(e)) => return Err(e),
                Some(Ok(_)) => {}
            }
        }
    }
}

/// The `/rpc` answer to one text message: `Ok` a result for a JSON object with an `id`
/// (`{"id":ID,"type":"result","echo":MESSAGE}`, the message as it came), `Err` the error
/// answer for anything else.
pub fn rpc_answer(text: &str) -> Result<String, String> {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Err(error_message(&format!("not JSON: {e}"))),
    };
    let Some(object) = value.as_object() else {
        return Err(error_message(
            "not a JSON object: send {\"id\":...} to get an answer",
        ));
    };
    let Some(id) = object.get("id") else {
        return Err(error_message(
            "no \"id\" field: send {\"id\":...} to get an answer",
        ));
    };
    Ok(format!(
        "{{\"id\":{id},\"type\":\"result\",\"echo\":{}}}",
        text.trim()
    ))
}

/// `{"type":"error","error":WHY}`.
pub fn error_message(why: &str) -> String {
    let why = serde_json::Value::String(why.to_string());
    format!("{{\"type\":\"error\",\"error\":{why}}}")
}

/// `/rpc`: every request waits for its own delay (answers are sent when due, in due order, so a
/// slow answer never holds a later one); errors are answered at once.
async fn rpc<S>(
    mut ws: WebSocketStream<S>,
    min: Duration,
    max: Duration,
    shared: &Shared,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), WsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // (due, arrival order, answer); `Reverse` makes the heap pop the earliest first.
    let mut due: BinaryHeap<Reverse<(Instant, u64, String)>> = BinaryHeap::new();
    let mut arrivals = 0u64;
    loop {
        let next_due = due.peek().map(|Reverse((at, _, _))| *at);
        let wake = async {
            match next_due {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = shutting_down(shutdown) => {
                return close_and_drain(ws, CloseCode::Away, SHUTDOWN_REASON).await;
            }
            () = wake => {
                if let Some(Reverse((_, _, answer))) = due.pop() {
                    ws.send(Message::Text(answer.into())).await?;
                }
            }
            msg = ws.next() => {
                let answer = match msg {
                    None => return Ok(()),
                    Some(Err(e)) => return Err(e),
                    Some(Ok(Message::Text(t))) => rpc_answer(t.as_str()),
                    Some(Ok(Message::Binary(_))) => {
                        Err(error_message("binary message: send a JSON text message with an id"))
                    }
                    Some(Ok(_)) => continue,
                };
                match answer {
                    Ok(_) if due.len() >= MAX_PENDING_RPC => {
                        let why = format!("too many pending requests (at most {MAX_PENDING_RPC})");
                        ws.send(Message::Text(error_message(&why).into())).await?;
                    }
                    Ok(result) => {
                        let delay = if max > min {
                            shared.rng().random_range(min..=max)
                        } else {
                            min
                        };
                        arrivals += 1;
                        due.push(Reverse((Instant::now() + delay, arrivals, result)));
                    }
                    Err(error) => ws.send(Message::Text(error.into())).await?,
                }
            }
        }
    }
}

/// Whether a text message is an auth message: a JSON object with `"type":"auth"`.
pub fn is_auth_message(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(|t| t == "auth"))
        .unwrap_or(false)
}

/// `/auth`: until an auth message arrives, other messages are answered with an error; when
/// none came within `timeout`, close with 4408 "auth timeout". After it: `{"type":"auth_ok"}`,
/// then echo.
async fn auth<S>(
    mut ws: WebSocketStream<S>,
    timeout: Duration,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), WsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut authed = false;
    loop {
        tokio::select! {
            () = shutting_down(shutdown) => {
                return close_and_drain(ws, CloseCode::Away, SHUTDOWN_REASON).await;
            }
            () = &mut deadline, if !authed => {
                let code = CloseCode::from(AUTH_TIMEOUT_CODE);
                return close_and_drain(ws, code, AUTH_TIMEOUT_REASON).await;
            }
            msg = ws.next() => match msg {
                None => return Ok(()),
                Some(Err(e)) => return Err(e),
                Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) if authed => {
                    ws.send(m).await?;
                }
                Some(Ok(Message::Text(t))) if is_auth_message(t.as_str()) => {
                    authed = true;
                    ws.send(Message::Text("{\"type\":\"auth_ok\"}".into())).await?;
                }
                Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                    let why = "not authenticated: send {\"type\":\"auth\"} first";
                    ws.send(Message::Text(error_message(why).into())).await?;
                }
                Some(Ok(_)) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_json_with_seq_and_unix_ms() {
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let m = tick_message(7, at);
        assert_eq!(m, r#"{"type":"tick","seq":7,"ts_ms":1700000000123}"#);
        let v: serde_json::Value = serde_json::from_str(&m).expect("valid JSON");
        assert_eq!(v["seq"], 7);
    }

    #[test]
    fn rpc_answers_carry_the_id_and_the_message() {
        let a = rpc_answer(r#"{"id":42,"op":"get"}"#).expect("an answer");
        assert_eq!(
            a,
            r#"{"id":42,"type":"result","echo":{"id":42,"op":"get"}}"#
        );
        let a = rpc_answer(r#" {"id":"a-1"} "#).expect("a string id");
        let v: serde_json::Value = serde_json::from_str(&a).expect("valid JSON");
        assert_eq!(v["id"], "a-1");
        assert_eq!(v["echo"]["id"], "a-1");
        let e = rpc_answer("hello").expect_err("not JSON");
        let v: serde_json::Value = serde_json::from_str(&e).expect("valid JSON");
        assert_eq!(v["type"], "error");
        assert!(
            v["error"].as_str().expect("text").starts_with("not JSON"),
            "{e}"
        );
        let e = rpc_answer(r#"{"op":"get"}"#).expect_err("no id");
        assert!(e.contains("no \\\"id\\\" field"), "{e}");
        let e = rpc_answer("[1,2]").expect_err("not an object");
        assert!(e.contains("not a JSON object"), "{e}");
    }

    #[test]
    fn auth_messages() {
        assert!(is_auth_message(r#"{"type":"auth","token":"x"}"#));
        assert!(is_auth_message(r#"{"type":"auth"}"#));
        assert!(!is_auth_message(r#"{"type":"hello"}"#));
        assert!(!is_auth_message("auth"));
        assert!(!is_auth_message(r#"["auth"]"#));
    }
}
