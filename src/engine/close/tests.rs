use std::io;

use tokio_tungstenite::tungstenite::error::CapacityError;

use super::*;

const UP: Duration = Duration::from_millis(1500);

fn peer(code: u16, reason: &str) -> Input {
    Input::Peer(PeerFrame::Code {
        code,
        reason: reason.into(),
    })
}

fn run(inputs: Vec<Input>) -> (Vec<Step>, CloseOutcome) {
    let mut t = CloseTracker::new();
    let steps = inputs.into_iter().map(|i| t.on(i)).collect();
    (steps, t.finish(Some(UP)))
}

fn info(code: u16, reason: &str, initiator: Initiator, clean: bool) -> CloseInfo {
    CloseInfo {
        code,
        reason: reason.into(),
        initiator,
        clean,
        uptime_ms: Some(1500),
        peer_code: None,
        why: None,
    }
}

/// A close wsmon sent first, for this reason.
fn ours(why: CloseWhy, code: u16, reason: &str, clean: bool) -> CloseInfo {
    CloseInfo {
        why: Some(why),
        ..info(code, reason, Initiator::Client, clean)
    }
}

fn sent(code: Option<u16>, reason: &str, by: SentBy) -> Option<SentClose> {
    Some(SentClose {
        code,
        reason: reason.into(),
        by,
    })
}

fn closing(code: u16, initiator: Initiator) -> Step {
    Step {
        closing: Some((code, initiator)),
        ..Step::default()
    }
}

#[test]
fn server_close_with_a_valid_code_is_clean_and_echoed() {
    let (steps, out) = run(vec![peer(1013, "busy"), Input::Eof]);
    assert_eq!(
        steps[0],
        closing(1013, Initiator::Server),
        "no send, keep reading"
    );
    assert!(steps[1].stop);
    assert_eq!(out.info, info(1013, "busy", Initiator::Server, true));
    assert_eq!(out.sent, sent(Some(1013), "busy", SentBy::Stack));
    assert_eq!(
        out.received,
        Some(PeerFrame::Code {
            code: 1013,
            reason: "busy".into()
        })
    );
    assert_eq!(out.ours, None);
}

#[test]
fn every_valid_code_is_recorded_as_sent_by_the_server() {
    for code in [
        1000, 1001, 1002, 1003, 1007, 1008, 1011, 1012, 1014, 3000, 4999,
    ] {
        let (_, out) = run(vec![peer(code, "x"), Input::Eof]);
        assert_eq!(out.info, info(code, "x", Initiator::Server, true), "{code}");
    }
}

#[test]
fn tungstenite_answers_1014_with_1002_although_1014_is_valid() {
    let (_, out) = run(vec![peer(1014, "gateway"), Input::Eof]);
    assert_eq!(out.info.code, 1014);
    assert_eq!(out.info.peer_code, None);
    assert_eq!(
        out.sent,
        sent(Some(1002), STACK_PROTOCOL_REASON, SentBy::Stack)
    );
}

#[test]
fn server_close_without_a_code_is_1005_by_the_server_with_no_code_on_the_wire() {
    // A Socket.IO server dropping a client after its ping timeout sends exactly this.
    let (steps, out) = run(vec![Input::Peer(PeerFrame::NoCode), Input::Eof]);
    assert_eq!(steps[0], closing(1005, Initiator::Server));
    assert_eq!(out.info, info(1005, "", Initiator::Server, true));
    assert!(
        !out.info.code_on_wire(),
        "1005: the frame came, its code did not"
    );
    assert_eq!(
        out.sent,
        sent(None, "", SentBy::Stack),
        "an empty close back"
    );
}

#[test]
fn server_close_with_an_invalid_code_is_a_1002_failure_by_the_client() {
    for code in [
        0,
        1,
        999,
        1004,
        1005,
        1006,
        1015,
        1016,
        2000,
        2999,
        5000,
        u16::MAX,
    ] {
        let (steps, out) = run(vec![peer(code, "bye"), Input::Eof]);
        assert_eq!(
            steps[0],
            Step {
                send: None,
                closing: Some((1002, Initiator::Client)),
                stop: true,
            },
            "{code}: tungstenite queued the 1002; the session flushes it and drops"
        );
        assert_eq!(
            out.info,
            CloseInfo {
                peer_code: Some(code),
                ..ours(
                    CloseWhy::ProtocolError,
                    1002,
                    &format!("peer sent invalid close code {code}: bye"),
                    false
                )
            },
            "{code}"
        );
        assert_eq!(
            out.sent,
            sent(Some(1002), STACK_PROTOCOL_REASON, SentBy::Stack)
        );
    }
    let (_, out) = run(vec![peer(1005, "")]);
    assert_eq!(out.info.reason, "peer sent invalid close code 1005");
}

#[test]
fn a_one_byte_close_payload_is_a_1002_failure() {
    let (steps, out) = run(vec![Input::Peer(PeerFrame::OneByte)]);
    let reason = "peer sent a close frame with a 1-byte payload";
    assert_eq!(
        steps[0],
        Step {
            send: Some((1002, reason.into())),
            closing: Some((1002, Initiator::Client)),
            stop: true,
        }
    );
    assert_eq!(out.info, ours(CloseWhy::ProtocolError, 1002, reason, false));
    assert_eq!(out.sent, sent(Some(1002), reason, SentBy::Session));
}

#[test]
fn our_close_answered_is_clean() {
    let (steps, out) = run(vec![
        Input::Ours(OurClose::operator(4001, "enough")),
        peer(4001, "enough"),
        Input::Eof,
    ]);
    assert_eq!(
        steps[0],
        Step {
            send: Some((4001, "enough".into())),
            closing: Some((4001, Initiator::Client)),
            stop: false,
        }
    );
    assert_eq!(
        steps[1],
        Step::default(),
        "the answer: keep reading to the end"
    );
    assert_eq!(out.info, ours(CloseWhy::Operator, 4001, "enough", true));
    assert!(out.info.code_on_wire());
    assert_eq!(out.sent, sent(Some(4001), "enough", SentBy::Session));
    assert_eq!(out.ours, Some(OurClose::operator(4001, "enough")));
}

#[test]
fn our_close_never_answered_times_out_unclean() {
    let (steps, out) = run(vec![Input::Ours(OurClose::shutdown()), Input::Timeout]);
    assert!(steps[1].stop);
    assert_eq!(
        out.info,
        ours(CloseWhy::Shutdown, 1001, "wsmon is shutting down", false)
    );
    assert!(
        out.info.is_shutdown(),
        "the store counts it from the record"
    );
    assert_eq!(out.received, None);
    assert_eq!(out.ours.map(|o| o.why), Some(CloseWhy::Shutdown));
}

#[test]
fn our_close_answered_by_a_dropped_connection_is_unclean() {
    let (_, out) = run(vec![
        Input::Ours(OurClose::removal()),
        Input::Lost("connection reset without a close frame".into()),
    ]);
    assert_eq!(
        out.info,
        ours(
            CloseWhy::Removal,
            1000,
            "session removed by the operator",
            false
        )
    );
}

#[test]
fn a_reset_after_both_close_frames_is_still_clean() {
    let (_, out) = run(vec![
        Input::Ours(OurClose::reconnect()),
        peer(1000, ""),
        Input::Lost("connection lost: reset".into()),
    ]);
    assert_eq!(
        out.info,
        ours(
            CloseWhy::Reconnect,
            1000,
            "reconnect requested by the operator",
            true
        )
    );
}

#[test]
fn the_peer_closing_without_finishing_the_handshake_times_out() {
    let (_, out) = run(vec![peer(1001, "restart"), Input::Timeout]);
    assert_eq!(out.info, info(1001, "restart", Initiator::Server, false));
}

#[test]
fn an_invalid_code_in_the_answer_to_our_close_is_kept() {
    let (_, out) = run(vec![
        Input::Ours(OurClose::shutdown()),
        peer(1006, ""),
        Input::Eof,
    ]);
    assert_eq!(out.info.code, 1001);
    assert_eq!(out.info.initiator, Initiator::Client);
    assert_eq!(out.info.peer_code, Some(1006));
}

#[test]
fn eof_without_a_close_frame_is_1006_by_the_server() {
    let (steps, out) = run(vec![Input::Eof]);
    assert!(steps[0].stop);
    assert_eq!(steps[0].closing, None);
    assert_eq!(
        out.info,
        info(
            1006,
            "connection dropped without a close frame",
            Initiator::Server,
            false
        )
    );
    assert!(!out.info.code_on_wire());
    assert_eq!(out.sent, None);
}

#[test]
fn an_io_error_is_1006_saying_what_broke_by_the_server_only_for_a_reset() {
    let e = WsError::Io(io::Error::new(
        io::ErrorKind::ConnectionReset,
        "reset by peer",
    ));
    let (_, out) = run(vec![from_ws_error(&e)]);
    assert_eq!(
        out.info,
        info(
            1006,
            "connection lost: reset by peer",
            Initiator::Server,
            false
        )
    );
    // Any other I/O error may be ours or the path's: nobody known.
    let e = WsError::Io(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
    let (_, out) = run(vec![from_ws_error(&e)]);
    assert_eq!(
        out.info,
        info(1006, "connection lost: timed out", Initiator::Local, false)
    );
    // A drop after a local failure stays local: the first thing that happened decides.
    let (_, out) = run(vec![
        Input::Lost("connection lost: no route".into()),
        Input::Eof,
    ]);
    assert_eq!(out.info.initiator, Initiator::Local);
}

#[test]
fn frame_layer_failures_are_closes_by_the_client() {
    for (code, reason, why) in [
        (
            1009,
            "message too big: over 200 bytes after inflating",
            CloseWhy::TooBig,
        ),
        (1002, "RSV1 set on a control frame", CloseWhy::ProtocolError),
        (1007, "invalid deflate data", CloseWhy::BadData),
        (
            1008,
            "the peer does not read: 1024 pings unanswered",
            CloseWhy::PeerNotReading,
        ),
    ] {
        let (steps, out) = run(vec![Input::LayerFailed {
            code,
            reason: reason.into(),
        }]);
        assert_eq!(
            steps[0],
            Step {
                send: None,
                closing: Some((code, Initiator::Client)),
                stop: true,
            },
            "the layer sent the frame itself"
        );
        assert_eq!(out.info, ours(why, code, reason, false));
        assert_eq!(out.sent, sent(Some(code), reason, SentBy::Layer));
    }
}

#[test]
fn a_layer_failure_while_closing_keeps_the_first_close() {
    let (steps, out) = run(vec![
        Input::Ours(OurClose::shutdown()),
        Input::LayerFailed {
            code: 1009,
            reason: "too big".into(),
        },
    ]);
    assert_eq!(steps[1].closing, None);
    assert!(steps[1].stop);
    assert_eq!(out.info.code, 1001);
    assert!(!out.info.clean);
}

#[test]
fn violations_tungstenite_finds_fail_the_connection() {
    let cases = [
        (
            WsError::Capacity(CapacityError::MessageTooLong {
                size: 300,
                max_size: 200,
            }),
            1009,
            "message too big: Message too long: 300 > 200",
            CloseWhy::TooBig,
        ),
        (
            WsError::Utf8("invalid utf-8 sequence".into()),
            1007,
            "text message is not valid UTF-8",
            CloseWhy::BadData,
        ),
        (
            WsError::Protocol(ProtocolError::NonZeroReservedBits),
            1002,
            "protocol error: Reserved bits are non-zero",
            CloseWhy::ProtocolError,
        ),
    ];
    for (e, code, reason, why) in cases {
        let input = from_ws_error(&e);
        let (steps, out) = run(vec![input]);
        assert_eq!(
            steps[0],
            Step {
                send: Some((code, reason.into())),
                closing: Some((code, Initiator::Client)),
                stop: true,
            },
            "{e}"
        );
        assert_eq!(out.info, ours(why, code, reason, false));
    }
}

#[test]
fn read_errors_are_classified() {
    assert_eq!(
        from_ws_error(&WsError::Protocol(ProtocolError::InvalidCloseSequence)),
        Input::Peer(PeerFrame::OneByte)
    );
    assert_eq!(
        from_ws_error(&WsError::Protocol(
            ProtocolError::ResetWithoutClosingHandshake
        )),
        Input::Dropped("connection reset without a close frame".into())
    );
    assert_eq!(
        from_ws_error(&WsError::AttackAttempt),
        Input::Lost("connection ended: Attack attempt detected".into())
    );
}

#[test]
fn a_tls_failure_is_1015_by_the_side_that_decided_it_and_never_open() {
    for (message, by_peer, initiator) in [
        (
            "invalid peer certificate: UnknownIssuer",
            false,
            Initiator::Client,
        ),
        (
            "received fatal alert: HandshakeFailure",
            true,
            Initiator::Server,
        ),
    ] {
        let mut t = CloseTracker::new();
        let step = t.on(Input::TlsFailed {
            message: message.into(),
            by_peer,
        });
        assert_eq!(step, stop(), "nothing on the wire, no closing event");
        let out = t.finish(None);
        assert_eq!(
            out.info,
            CloseInfo {
                uptime_ms: None,
                ..info(1015, message, initiator, false)
            }
        );
        assert!(!out.info.code_on_wire());
        assert_eq!((out.sent, out.received), (None, None));
    }
}

#[test]
fn bad_extensions_fail_the_connection_before_it_opens() {
    let mut t = CloseTracker::new();
    let step = t.on(Input::Ours(OurClose::bad_extensions(
        "x-webkit-deflate-frame was not offered",
    )));
    assert!(step.stop && step.send.is_some());
    let out = t.finish(Some(Duration::ZERO));
    assert_eq!(out.info.code, 1002);
    assert_eq!(out.info.initiator, Initiator::Client);
    assert!(!out.info.clean);
    assert_eq!(out.info.uptime_ms, Some(0));
}

#[test]
fn a_missing_extension_starts_the_closing_handshake() {
    let (steps, out) = run(vec![
        Input::Ours(OurClose::missing_extension(
            "missing extension: permessage-deflate",
        )),
        peer(1010, ""),
        Input::Eof,
    ]);
    assert!(!steps[0].stop, "wait for the answer");
    assert_eq!(
        out.info,
        ours(
            CloseWhy::MissingExtension,
            1010,
            "missing extension: permessage-deflate",
            true
        )
    );
}

#[test]
fn the_operator_closes_the_session_kinds() {
    let cases = [
        (OurClose::shutdown(), CloseWhy::Shutdown, 1001),
        (OurClose::removal(), CloseWhy::Removal, 1000),
        (OurClose::reconnect(), CloseWhy::Reconnect, 1000),
        (OurClose::operator(3003, "no"), CloseWhy::Operator, 3003),
    ];
    for (close, why, code) in cases {
        assert_eq!((close.why, close.code), (why, code));
        assert!(!why.fails());
        let (_, out) = run(vec![Input::Ours(close.clone()), Input::Timeout]);
        assert_eq!(out.ours, Some(close));
        assert_eq!(out.info.code, code);
    }
}

#[test]
fn only_the_first_close_counts() {
    let (steps, out) = run(vec![
        peer(1000, "first"),
        peer(1001, "second"),
        Input::Ours(OurClose::shutdown()),
        Input::Eof,
    ]);
    assert_eq!(steps[1], Step::default());
    assert_eq!(
        steps[2],
        Step::default(),
        "nothing may follow a close frame"
    );
    assert_eq!(out.info, info(1000, "first", Initiator::Server, true));
    assert_eq!(out.ours, None);
}

#[test]
fn reasons_are_cut_and_escaped() {
    let long = format!("\x1b[31m{}", "é".repeat(100));
    let (_, out) = run(vec![peer(4000, &long), Input::Eof]);
    assert!(!out.info.reason.contains('\x1b'), "{}", out.info.reason);
    assert!(
        out.info.reason.starts_with("\\u{1b}[31m"),
        "{}",
        out.info.reason
    );
    let ours = OurClose::operator(4000, &"a".repeat(200));
    assert_eq!(ours.reason.len(), 123);
}

#[test]
fn the_raw_frame_wins_over_what_tungstenite_reports() {
    assert_eq!(
        peer_frame(
            Some((Some(1014), "raw".into())),
            Some((1002, "rewritten".into()))
        ),
        PeerFrame::Code {
            code: 1014,
            reason: "raw".into()
        }
    );
    assert_eq!(
        peer_frame(None, Some((1000, "bye".into()))),
        PeerFrame::Code {
            code: 1000,
            reason: "bye".into()
        }
    );
    assert_eq!(
        peer_frame(Some((None, String::new())), None),
        PeerFrame::NoCode
    );
    assert_eq!(peer_frame(None, None), PeerFrame::NoCode);
}

#[test]
fn codes_valid_on_the_wire_agree_with_tungstenite_but_for_1014() {
    for code in 0..=u16::MAX {
        let ours = valid_on_wire(code);
        let theirs = CloseCode::from(code).is_allowed();
        if code == 1014 {
            assert!(ours && !theirs);
        } else {
            assert_eq!(ours, theirs, "{code}");
        }
    }
}
