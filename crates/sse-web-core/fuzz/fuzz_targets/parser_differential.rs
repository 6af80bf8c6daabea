//! Differential fuzzing: the incremental parser, in a chunking the input chooses, must give
//! exactly the frames of the plain line-by-line reference (the one the tests use).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_web_core::parser::{Frame, Parser};

#[path = "../../tests/reference/mod.rs"]
mod reference;

fuzz_target!(|input: &[u8]| {
    // The first two bytes pick the chunk sizes; the rest is the stream.
    let (sizes, stream) = input.split_at(input.len().min(2));
    let a = usize::from(sizes.first().copied().unwrap_or(0)) + 1;
    let b = usize::from(sizes.get(1).copied().unwrap_or(0)) + 1;
    let expected = reference::reference(stream);
    let mut parser = Parser::new();
    let mut got = Vec::new();
    let mut rest = stream;
    let mut turn = false;
    // The id before each event: `id_changed` must say whether the event's differs.
    let mut id_before = String::new();
    while !rest.is_empty() {
        let n = if turn { b } else { a }.min(rest.len());
        turn = !turn;
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        parser
            .feed(chunk, |f| {
                match f {
                    Frame::Event(e) => {
                        assert_eq!(e.id_changed, e.last_event_id != id_before);
                        id_before = e.last_event_id.into();
                    }
                    Frame::Id(id) => id_before = id.into(),
                    _ => {}
                }
                got.push(reference::Owned::from_frame(f))
            })
            .expect("no limit is reached by fuzz inputs");
    }
    assert_eq!(got, expected);
});
