//! One accepted TCP connection: read the upgrade request, answer it as the scenario says, then
//! run the WebSocket side (echo, burst, timed close or drop) until the client goes or the server
//! shuts down.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

pub use super::closing::{CLOSE_TIMEOUT, SHUTDOWN_REASON};
pub(crate) use super::closing::{close_and_drain, shutting_down};
use super::http::{self, ReadError, Request};
use super::messages::{self, Talk};
use super::scenario::{self, RouteError, Scenario};
use super::{OverloadSlot, Shared};
use crate::protocol::extensions::{self, DeflateParams};
use crate::protocol::frame::{self, FrameHead, MAX_HEAD, OP_CLOSE};
use crate::protocol::wire::WireStream;

/// How long a client may take to send its request head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// tungstenite's read buffer per connection: small, the demo hosts thousands of sessions.
pub const READ_BUFFER: usize = 4 * 1024;
/// Largest message we accept, after inflating.
pub const MAX_MESSAGE: usize = 16 << 20;

pub(crate) fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

/// Serve one connection to the end. Errors are logged, never propagated: one bad client must
/// not disturb the others.
pub(crate) async fn handle(
    mut sock: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = sock.set_nodelay(true);
    let read = tokio::select! {
        r = tokio::time::timeout(HEADER_TIMEOUT, http::read_request(&mut sock)) => r,
        () = shutting_down(&mut shutdown) => return,
    };
    let (req, leftover) = match read {
        Err(_elapsed) => {
            tracing::debug!(%peer, "request head timed out");
            let body = format!(
                "request head not received within {}s\n",
                HEADER_TIMEOUT.as_secs()
            );
            let _ = http::respond_and_close(&mut sock, &http::text_response(408, &[], &body)).await;
            return;
        }
        Ok(Err(ReadError::Closed)) => return,
        Ok(Err(ReadError::Io(e))) => {
            tracing::debug!(%peer, error = %e, "read error before the request head");
            return;
        }
        Ok(Err(e @ ReadError::TooLarge)) => {
            tracing::debug!(%peer, "request head too large");
            let _ = http::respond_and_close(
                &mut sock,
                &http::text_response(431, &[], &format!("{e}\n")),
            )
            .await;
            return;
        }
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "bad request head");
            let _ = http::respond_and_close(
                &mut sock,
                &http::text_response(400, &[], &format!("{e}\n")),
            )
            .await;
            return;
        }
        Ok(Ok(r)) => r,
    };
    tracing::debug!(%peer, target = %crate::redact::escape_control(&req.target), "request");
    if let Err(e) = serve(&mut sock, req, leftover, &shared, &mut shutdown).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// A plain HTTP answer that ends the connection, given instead of an upgrade.
#[derive(Debug, PartialEq)]
pub(crate) struct PlainAnswer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: String,
}

impl PlainAnswer {
    pub(crate) fn new(status: u16, body: String) -> Self {
        PlainAnswer {
            status,
            headers: Vec::new(),
            body,
        }
    }

    fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }
}

/// Send `a` and end the connection.
async fn answer(sock: &mut TcpStream, a: &PlainAnswer) -> std::io::Result<()> {
    let headers: Vec<(&str, &str)> = a.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    http::respond_and_close(sock, &http::text_response(a.status, &headers, &a.body)).await
}

async fn serve(
    sock: &mut TcpStream,
    req: Request,
    leftover: Vec<u8>,
    shared: &Shared,
    shutdown: &mut watch::Receiver<bool>,
) -> std::io::Result<()> {
    let (scenario, accept) = match admit(&req) {
        Ok(admitted) => admitted,
        Err(a) => return answer(sock, &a).await,
    };
    if scenario == Scenario::Stall {
        return stall(sock, shutdown).await;
    }
    let (ext_header, deflate) = match negotiate(&req, &scenario) {
        Ok(agreed) => agreed,
        Err(a) => return answer(sock, &a).await,
    };
    // Decide the fate of the session before answering, so a capacity slot is held from the start.
    let (fate, slot) = decide_fate(&scenario, shared);

    let head = http::switching_protocols(&accept, ext_header.as_deref());
    sock.write_all(head.as_bytes()).await?;
    let result = run_upgraded(sock, leftover, fate, deflate, shared, shutdown).await;
    drop(slot);
    result
}

/// Run the WebSocket side of an accepted upgrade on any byte stream (an upgraded TCP socket,
/// an HTTP/2 stream): `leftover` are bytes read past the request head.
pub(crate) async fn run_upgraded<S>(
    mut sock: S,
    leftover: Vec<u8>,
    fate: Fate,
    deflate: Option<DeflateParams>,
    shared: &Shared,
    shutdown: &mut watch::Receiver<bool>,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let plan = match fate {
        Fate::DropNow => {
            sock.flush().await?;
            return sock.shutdown().await;
        }
        Fate::CloseNow(code, reason) => {
            return raw_close(&mut sock, leftover, code, &reason, shutdown).await;
        }
        Fate::Serve(plan) => plan,
    };
    // The layer counts traffic and enforces the size limit even without deflate.
    let stream = WireStream::new(
        sock,
        Role::Server,
        deflate,
        leftover,
        MAX_MESSAGE,
        shared.counters.clone(),
    );
    let layer_close = stream.layer_close();
    let ws = WebSocketStream::from_raw_socket(stream, Role::Server, Some(ws_config())).await;
    let result = match plan.talk {
        Some(talk) => messages::run(ws, talk, shared, shutdown).await,
        None => run_session(ws, plan, shutdown).await,
    };
    if let Some(close) = layer_close.get() {
        tracing::debug!(code = close.code, reason = %crate::redact::escape_control(&close.reason),
            "permessage-deflate layer closed the session");
    }
    result.map_err(std::io::Error::other)
}

/// The scenario a request asks for and its `Sec-WebSocket-Accept`, when it is a valid upgrade
/// to a WebSocket scenario; otherwise the plain HTTP answer it gets (405, 404, the help page,
/// `/reject/N`, or the upgrade's refusal).
fn admit(req: &Request) -> Result<(Scenario, String), PlainAnswer> {
    if req.method != "GET" {
        let body = format!(
            "method {} not allowed: scenarios are GET requests\n",
            crate::redact::escape_control(&req.method)
        );
        return Err(PlainAnswer::new(405, body).with_header("Allow", "GET"));
    }
    let scenario = route_request(&req.target, req.wants_websocket())?;
    if scenario.is_h2_only() {
        let body = "this path is a fault of HTTP/2 connections: open it on the HTTP/2 \
                    listener (wsmon serve --h2)\n";
        return Err(PlainAnswer::new(404, body.to_string()));
    }
    match http::check_upgrade(req) {
        Ok(accept) => Ok((scenario, accept)),
        Err(refusal) => {
            let a = PlainAnswer::new(refusal.status, format!("{}\n", refusal.message));
            Err(if refusal.status == 426 {
                a.with_header("Sec-WebSocket-Version", "13")
            } else {
                a
            })
        }
    }
}

/// The scenario at `target`, or the plain answer the request gets instead: 404 and 400 with
/// an explanation, the help page on `/` (404 for a WebSocket there), `/reject/N`. Shared by
/// HTTP/1.1 and HTTP/2.
pub(crate) fn route_request(target: &str, websocket: bool) -> Result<Scenario, PlainAnswer> {
    let scenario = match scenario::route(target) {
        Ok(s) => s,
        Err(RouteError::NotFound(path)) => {
            let body = format!("no scenario at {path}\n\n{}", super::path_list());
            return Err(PlainAnswer::new(404, body));
        }
        Err(RouteError::BadRequest(why)) => {
            return Err(PlainAnswer::new(400, format!("{why}\n")));
        }
    };
    match &scenario {
        Scenario::Index if websocket => {
            let body = format!(
                "no scenario at /: pick one of these paths\n\n{}",
                super::path_list()
            );
            Err(PlainAnswer::new(404, body))
        }
        Scenario::Index => Err(PlainAnswer::new(200, super::help_text())),
        Scenario::Reject {
            status,
            retry_after,
        } => {
            let body = format!(
                "upgrade rejected by scenario /reject/{status}: {}\n",
                http::status_line(*status)
            );
            let a = PlainAnswer::new(*status, body);
            Err(match retry_after.as_deref() {
                Some(v) => a.with_header("Retry-After", v),
                None => a,
            })
        }
        _ => Ok(scenario),
    }
}

/// The `Sec-WebSocket-Extensions` answer and the deflate parameters the scenario agrees to.
/// Every offer line is parsed; a malformed offer is the client's bug, answered with 400.
pub(crate) fn negotiate(
    req: &Request,
    scenario: &Scenario,
) -> Result<(Option<String>, Option<DeflateParams>), PlainAnswer> {
    let mut offers = Vec::new();
    for value in req.header_values("sec-websocket-extensions") {
        if value.trim().is_empty() {
            continue;
        }
        match extensions::parse_header(value) {
            Ok(mut exts) => offers.append(&mut exts),
            Err(e) => {
                let body = format!("malformed Sec-WebSocket-Extensions header: {e}\n");
                return Err(PlainAnswer::new(400, body));
            }
        }
    }
    let selected = if scenario.negotiates_deflate() {
        extensions::server_select(&offers)
    } else {
        None
    };
    Ok(match selected {
        Some((mut response, mut params)) => {
            if scenario.forces_server_no_context_takeover() && !params.server_no_context_takeover {
                response = response.with_param("server_no_context_takeover", None);
                params.server_no_context_takeover = true;
            }
            (Some(response.to_string()), Some(params))
        }
        None => (None, None),
    })
}

/// What happens after the 101, and the `/overload` slot the session holds while it runs.
pub(crate) fn decide_fate<'a>(
    scenario: &Scenario,
    shared: &'a Shared,
) -> (Fate, Option<OverloadSlot<'a>>) {
    let mut slot = None;
    let fate = match scenario {
        Scenario::Overload { cap } => match shared.try_overload_slot(*cap) {
            Ok(guard) => {
                slot = Some(guard);
                Fate::Serve(Plan::ECHO)
            }
            Err(active) => {
                Fate::CloseNow(Some(1013), format!("overloaded: {active}/{cap} sessions"))
            }
        },
        Scenario::Flaky { p, after } => {
            let fails = shared.rng().random::<f64>() < *p;
            let reason = format!("flaky: try again later (p={p})");
            match (fails, after) {
                (false, _) => Fate::Serve(Plan::ECHO),
                (true, None) => Fate::CloseNow(Some(1013), reason),
                (true, Some(d)) => Fate::Serve(Plan {
                    end: Some((*d, End::Close(CloseCode::Again, reason))),
                    ..Plan::ECHO
                }),
            }
        }
        Scenario::Close { code, reason } => Fate::CloseNow(*code, reason.clone()),
        Scenario::Drop { after: None } => Fate::DropNow,
        Scenario::Drop { after: Some(d) } => Fate::Serve(Plan {
            end: Some((*d, End::Drop)),
            ..Plan::ECHO
        }),
        Scenario::Burst { n } => Fate::Serve(Plan {
            burst: *n,
            ..Plan::ECHO
        }),
        Scenario::Feed { rate, stall_after } => Fate::talk(Talk::Feed {
            rate: *rate,
            stall_after: *stall_after,
        }),
        Scenario::Rpc { min, max } => Fate::talk(Talk::Rpc {
            min: *min,
            max: *max,
        }),
        Scenario::Auth { timeout } => Fate::talk(Talk::Auth { timeout: *timeout }),
        // The connection-level faults echo on their stream (the HTTP/2 connection does the
        // rest); HTTP/1.1 refuses them in `admit`.
        Scenario::Echo
        | Scenario::NoDeflate
        | Scenario::H2Goaway { .. }
        | Scenario::H2Reset { .. } => Fate::Serve(Plan::ECHO),
        // Answered before the upgrade (admit, stall).
        Scenario::Index | Scenario::Reject { .. } | Scenario::Stall => Fate::DropNow,
    };
    (fate, slot)
}

/// `/stall`: never answer, hold the connection until the client goes or the server stops.
async fn stall(sock: &mut TcpStream, shutdown: &mut watch::Receiver<bool>) -> std::io::Result<()> {
    let mut scratch = [0u8; 512];
    loop {
        tokio::select! {
            () = shutting_down(shutdown) => return Ok(()),
            r = sock.read(&mut scratch) => match r {
                Ok(0) | Err(_) => return Ok(()),
                Ok(_) => {}
            }
        }
    }
}

pub(crate) enum Fate {
    /// Close TCP right after the 101.
    DropNow,
    /// Send this close frame right after the 101 (`None`: no code, i.e. 1005).
    CloseNow(Option<u16>, String),
    /// Run a WebSocket session.
    Serve(Plan),
}

impl Fate {
    fn talk(talk: Talk) -> Fate {
        Fate::Serve(Plan {
            talk: Some(talk),
            ..Plan::ECHO
        })
    }
}

/// What a served session does.
pub(crate) struct Plan {
    /// Messages to send first.
    burst: u32,
    /// What happens after a while, if anything.
    end: Option<(Duration, End)>,
    /// A message-layer scenario instead of the echo.
    talk: Option<Talk>,
}

impl Plan {
    const ECHO: Plan = Plan {
        burst: 0,
        end: None,
        talk: None,
    };
}

enum End {
    Close(CloseCode, String),
    Drop,
}

/// Echo until the client closes, the plan's end comes, or the server shuts down.
async fn run_session<S>(
    mut ws: WebSocketStream<S>,
    plan: Plan,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), tokio_tungstenite::tungstenite::Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (deadline, end) = match plan.end {
        Some((after, end)) => (Some(Instant::now() + after), Some(end)),
        None => (None, None),
    };
    let end_timer = async {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(end_timer);

    for seq in 0..plan.burst {
        let msg = Message::Text(burst_message(seq, plan.burst).into());
        tokio::select! {
            () = shutting_down(shutdown) => return close_and_drain(ws, CloseCode::Away, SHUTDOWN_REASON).await,
            r = ws.send(msg) => r?,
        }
    }

    loop {
        tokio::select! {
            () = shutting_down(shutdown) => {
                return close_and_drain(ws, CloseCode::Away, SHUTDOWN_REASON).await;
            }
            () = &mut end_timer => {
                return match end {
                    Some(End::Close(code, reason)) => close_and_drain(ws, code, &reason).await,
                    // Dropping the stream closes the socket without a close frame.
                    Some(End::Drop) | None => Ok(()),
                };
            }
            msg = ws.next() => match msg {
                None => return Ok(()),
                Some(Err(e)) => return Err(e),
                Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => ws.send(m).await?,
                // tungstenite queues the pong and the close reply itself; they go out on the
                // next read or write.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(_))) => {}
            }
        }
    }
}

/// Close with exactly this code, written by hand (tungstenite will not send 1014 or an empty
/// close frame on request), then wait for the client's close frame and close TCP.
async fn raw_close<S>(
    sock: &mut S,
    leftover: Vec<u8>,
    code: Option<u16>,
    reason: &str,
    shutdown: &mut watch::Receiver<bool>,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // Server frames are not masked; `code: None` is the empty close frame (1005).
    sock.write_all(&frame::close_frame(code, reason, None))
        .await?;
    sock.flush().await?;
    let wait_reply = async {
        let mut reader = (&leftover[..]).chain(&mut *sock);
        // The client may still send data frames before it sees our close: skip them.
        while let Ok(head) = read_frame_header(&mut reader).await {
            let len = head.len;
            let skipped =
                tokio::io::copy(&mut (&mut reader).take(len), &mut tokio::io::sink()).await;
            if head.opcode == OP_CLOSE || !matches!(skipped, Ok(n) if n == len) {
                break;
            }
        }
    };
    tokio::select! {
        _ = tokio::time::timeout(CLOSE_TIMEOUT, wait_reply) => {}
        () = shutting_down(shutdown) => {}
    }
    sock.shutdown().await
}

/// Read one client frame header (the mask key is consumed with it).
async fn read_frame_header<R: AsyncRead + Unpin>(r: &mut R) -> std::io::Result<FrameHead> {
    let mut head = Vec::with_capacity(MAX_HEAD);
    loop {
        if let Some(h) = FrameHead::parse(&head) {
            return Ok(h);
        }
        head.push(r.read_u8().await?);
    }
}

/// One `/burst` message: about 1 KiB of repetitive JSON, so permessage-deflate has work to do.
pub fn burst_message(seq: u32, of: u32) -> String {
    let mut s = format!("{{\"scenario\":\"burst\",\"seq\":{seq},\"of\":{of},\"readings\":[");
    let mut i = 0u32;
    while s.len() < 1000 {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            "{{\"sensor\":\"sensor-{i:02}\",\"status\":\"ok\",\"value\":{}}}",
            (seq + i) % 100
        ));
        i += 1;
    }
    s.push_str("]}");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_messages_are_json_of_about_a_kib() {
        let m = burst_message(3, 5);
        let v: serde_json::Value = serde_json::from_str(&m).expect("valid JSON");
        assert_eq!(v["seq"], 3);
        assert_eq!(v["of"], 5);
        assert!((1000..1100).contains(&m.len()), "{}", m.len());
    }

    fn request(method: &str, target: &str, headers: &[(&str, &str)]) -> Request {
        Request {
            method: method.into(),
            target: target.into(),
            version: 1,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn requests_that_get_no_upgrade_get_their_plain_answer() {
        let a = admit(&request("POST", "/echo", &[])).expect_err("not GET");
        assert_eq!((a.status, a.headers), (405, vec![("Allow", "GET".into())]));
        let a = admit(&request("GET", "/reject/503?retry_after=7", &[])).expect_err("rejected");
        assert_eq!(a.status, 503);
        assert_eq!(a.headers, [("Retry-After", "7".to_string())]);
        let a = admit(&request("GET", "/nowhere", &[])).expect_err("no scenario");
        assert!(a.body.starts_with("no scenario at /nowhere"), "{}", a.body);
        let a = admit(&request("GET", "/echo", &[])).expect_err("no upgrade headers");
        assert_eq!((a.status, a.headers.len()), (400, 0));
        // A wrong version: 426 names the version the server speaks.
        let upgrade = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "8"),
        ];
        let a = admit(&request("GET", "/echo", &upgrade)).expect_err("old version");
        assert_eq!(a.status, 426);
        assert_eq!(a.headers, [("Sec-WebSocket-Version", "13".to_string())]);
        let mut upgrade = upgrade.to_vec();
        upgrade[2].1 = "13";
        upgrade.push(("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="));
        let (scenario, accept) = admit(&request("GET", "/echo", &upgrade)).expect("upgrade");
        assert_eq!(scenario, Scenario::Echo);
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn a_malformed_extension_offer_is_answered_with_400() {
        let req = request(
            "GET",
            "/echo",
            &[("Sec-WebSocket-Extensions", "permessage-deflate; =x")],
        );
        let a = negotiate(&req, &Scenario::Echo).expect_err("malformed");
        assert_eq!(a.status, 400);
        assert!(a.body.starts_with("malformed Sec-WebSocket-Extensions"));
        let req = request(
            "GET",
            "/echo",
            &[("Sec-WebSocket-Extensions", "permessage-deflate")],
        );
        let (header, params) = negotiate(&req, &Scenario::Echo).expect("valid offer");
        assert_eq!(header.as_deref(), Some("permessage-deflate"));
        assert!(params.is_some());
        let (header, params) = negotiate(&req, &Scenario::NoDeflate).expect("valid offer");
        assert_eq!((header, params.is_none()), (None, true));
    }

    #[tokio::test]
    async fn frame_headers() {
        let bytes: &[u8] = &[0x88, 0x82, 1, 2, 3, 4, 0xaa, 0xbb];
        let mut r = bytes;
        let h = read_frame_header(&mut r).await.expect("header");
        assert_eq!((h.opcode, h.len, h.mask), (8, 2, Some([1, 2, 3, 4])));
        assert_eq!(
            r,
            [0xaa, 0xbb],
            "the mask key is consumed, the payload is not"
        );
        let bytes: &[u8] = &[0x81, 126, 0x01, 0x00];
        let mut r = bytes;
        let h = read_frame_header(&mut r).await.expect("header");
        assert_eq!((h.opcode, h.len), (1, 256));
    }
}
