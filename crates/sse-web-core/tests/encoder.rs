//! The encoder writes what the parser reads back, for every event; what the wire cannot carry is
//! refused.

#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use sse_web_core::encoder::{write_comment, write_event, write_id, write_retry, EncodeError};
use sse_web_core::parser::{Event, Frame, Parser};

fn frames(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    Parser::new()
        .feed(bytes, |f| {
            out.push(match f {
                Frame::Event(e) => format!("event {}|{}|{}", e.event_type, e.data, e.last_event_id),
                Frame::Retry(ms) => format!("retry {ms}"),
                Frame::Id(id) => format!("id {id}"),
                Frame::Comment(c) => format!("comment {c}"),
            })
        })
        .unwrap();
    out
}

#[test]
fn writes_each_field() {
    let mut out = Vec::new();
    write_comment(&mut out, "hello\nworld");
    write_retry(&mut out, 0);
    write_retry(&mut out, u64::MAX);
    write_event(&mut out, Some("message"), None, "").unwrap();
    write_event(&mut out, None, Some(""), " spaced ").unwrap();
    write_id(&mut out, "9").unwrap();
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        ": hello\n: world\nretry: 0\nretry: 18446744073709551615\ndata: \n\nid: \ndata:  spaced \n\nid: 9\n\n"
    );
    assert_eq!(
        frames(&out),
        [
            "comment hello",
            "comment world",
            "retry 0",
            "retry 18446744073709551615",
            "event message||",
            "event message| spaced |",
            "id 9"
        ]
    );
}

#[test]
fn refuses_what_the_wire_cannot_carry() {
    let mut out = Vec::new();
    for bad in ["a\nb", "a\rb", "a\0b"] {
        assert_eq!(
            write_event(&mut out, Some(bad), None, "x"),
            Err(EncodeError::InvalidEventType)
        );
        assert_eq!(
            write_event(&mut out, None, Some(bad), "x"),
            Err(EncodeError::InvalidId)
        );
        assert_eq!(write_id(&mut out, bad), Err(EncodeError::InvalidId));
    }
    assert!(out.is_empty(), "nothing is written on error");
}

#[test]
fn cr_and_crlf_in_data_come_back_as_lf() {
    let mut out = Vec::new();
    write_event(&mut out, None, None, "a\r\nb\rc\n").unwrap();
    assert_eq!(frames(&out), ["event message|a\nb\nc\n|"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn every_event_roundtrips(
        events in proptest::collection::vec(
            (
                "[^\r\n\0]{0,12}",
                proptest::option::of("[^\r\n\0]{0,12}"),
                // Data of any text with LF line ends (CR is normalised, tested above).
                "[^\r]{0,40}",
            ),
            1..8,
        ),
        chunk in 1usize..64,
    ) {
        let mut bytes = Vec::new();
        let mut expected = Vec::new();
        let mut last_id = String::new();
        for (event_type, id, data) in &events {
            write_event(&mut bytes, Some(event_type), id.as_deref(), data).unwrap();
            if let Some(id) = id {
                last_id = id.clone();
            }
            expected.push(Event {
                event_type: if event_type.is_empty() { "message".into() } else { event_type.clone() },
                data: data.clone(),
                last_event_id: last_id.clone(),
            });
        }
        let mut parser = Parser::new();
        let mut got = Vec::new();
        for c in bytes.chunks(chunk) {
            got.extend(parser.events(c).unwrap());
        }
        prop_assert_eq!(got, expected);
    }
}
