//! The parser against the rules of WHATWG HTML §9.2.5–9.2.6: one vector per rule, each checked in
//! every chunking against the plain reference reading.

#![cfg(not(target_arch = "wasm32"))]

mod reference;

use proptest::prelude::*;
use reference::{reference, Owned};
use sse_web_core::parser::{Frame, ParseError, Parser};

fn ev(event_type: &str, data: &str, id: &str) -> Owned {
    Owned::Event {
        event_type: event_type.into(),
        data: data.into(),
        last_event_id: id.into(),
    }
}

/// Parses `chunks` in order (one stream) and returns its frames.
fn parse_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<Owned> {
    let mut p = Parser::new();
    let mut out = Vec::new();
    for c in chunks {
        p.feed(c, |f| out.push(Owned::from_frame(f)))
            .expect("within limits");
    }
    out
}

fn parse(input: &[u8]) -> Vec<Owned> {
    parse_chunks([input])
}

/// Every single split point, 1-byte chunks, and the whole input agree with the reference.
fn check_all_chunkings(input: &[u8]) {
    let expected = reference(input);
    assert_eq!(
        parse(input),
        expected,
        "whole input {:?}",
        String::from_utf8_lossy(input)
    );
    for i in 0..=input.len() {
        let (a, b) = input.split_at(i);
        assert_eq!(
            parse_chunks([a, b]),
            expected,
            "split at {i} of {:?}",
            String::from_utf8_lossy(input)
        );
    }
    assert_eq!(parse_chunks(input.chunks(1)), expected, "1-byte chunks");
}

/// (input, expected frames): one per rule.
fn vectors() -> Vec<(&'static [u8], Vec<Owned>)> {
    use Owned::*;
    vec![
        // Basic event; `event` empty means `message`.
        (b"data: a\n\n", vec![ev("message", "a", "")]),
        (b"event:\ndata: a\n\n", vec![ev("message", "a", "")]),
        (b"event: add\ndata: a\n\n", vec![ev("add", "a", "")]),
        // The event type is reset after dispatch.
        (
            b"event: add\ndata: a\n\ndata: b\n\n",
            vec![ev("add", "a", ""), ev("message", "b", "")],
        ),
        // Line ends: LF, CRLF, CR, mixed.
        (b"data: a\r\n\r\n", vec![ev("message", "a", "")]),
        (
            b"data: a\r\rdata: b\r\r",
            vec![ev("message", "a", ""), ev("message", "b", "")],
        ),
        (
            b"data: a\r\ndata: b\rdata: c\n\n",
            vec![ev("message", "a\nb\nc", "")],
        ),
        // A bare `data` line (no colon) is a field with an empty value: it still appends LF.
        (b"data\n\n", vec![ev("message", "", "")]),
        (b"data\ndata\n\n", vec![ev("message", "\n", "")]),
        (b"data: a\ndata\n\n", vec![ev("message", "a\n", "")]),
        // Exactly one leading space is stripped; none without it.
        (b"data:  a\n\n", vec![ev("message", " a", "")]),
        (b"data:a\n\n", vec![ev("message", "a", "")]),
        // The first colon splits; later colons belong to the value.
        (b"data: a:b: c\n\n", vec![ev("message", "a:b: c", "")]),
        // Multi-line data: lines joined with LF, the final LF removed.
        (b"data: a\ndata: b\n\n", vec![ev("message", "a\nb", "")]),
        // Comments (heartbeats) are reported, never dispatched as events.
        (b": ping\n\n", vec![Comment("ping".into())]),
        (
            b":\ndata: a\n:x\n\n",
            vec![
                Comment("".into()),
                Comment("x".into()),
                ev("message", "a", ""),
            ],
        ),
        // Unknown fields and field names are ignored, case-sensitively.
        (
            b"foo: bar\nData: x\ndata: a\n\n",
            vec![ev("message", "a", "")],
        ),
        // A block without data is not dispatched, and its type does not leak into the next event.
        (b"event: x\n\ndata: a\n\n", vec![ev("message", "a", "")]),
        // ... but its id becomes the last event id.
        (
            b"id: 7\n\ndata: a\n\n",
            vec![Id("7".into()), ev("message", "a", "7")],
        ),
        // The id is committed at dispatch, and persists across events.
        (
            b"data: a\nid: 1\n\ndata: b\n\n",
            vec![ev("message", "a", "1"), ev("message", "b", "1")],
        ),
        // An empty id resets the last event id.
        (
            b"id: 1\ndata: a\n\nid\ndata: b\n\n",
            vec![ev("message", "a", "1"), ev("message", "b", "")],
        ),
        // An id containing U+0000 is ignored.
        (
            b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",
            vec![ev("message", "a", "1"), ev("message", "b", "1")],
        ),
        // An id parsed in an event cut off by the end of the stream is never committed.
        (
            b"id: 1\ndata: a\n\nid: 2\ndata: b\n",
            vec![ev("message", "a", "1")],
        ),
        // The last id field wins.
        (b"id: 1\nid: 2\ndata: a\n\n", vec![ev("message", "a", "2")]),
        // retry: ASCII digits only; anything else ignored; huge values saturate.
        (b"retry: 1500\n", vec![Retry(1500)]),
        (
            b"retry: 15x\nretry: -1\nretry: 1.5\nretry:\nretry:  5\n",
            vec![],
        ),
        (
            b"retry: 99999999999999999999999999\n",
            vec![Retry(u64::MAX)],
        ),
        (b"retry:007\n", vec![Retry(7)]),
        // Exactly one leading BOM is stripped; a second belongs to the first field name.
        (b"\xEF\xBB\xBFdata: a\n\n", vec![ev("message", "a", "")]),
        (
            b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n",
            vec![ev("message", "b", "")],
        ),
        // A BOM after the first line is content.
        (b"\n\xEF\xBB\xBFdata: a\n\n", vec![]),
        // UTF-8: multi-byte code points; invalid bytes become U+FFFD (maximal subparts).
        (
            b"data: caf\xC3\xA9 \xF0\x9F\x98\x80\n\n",
            vec![ev("message", "café 😀", "")],
        ),
        (
            b"data: a\xFFb\xE2\x82c\n\n",
            vec![ev("message", "a\u{FFFD}b\u{FFFD}c", "")],
        ),
        (b"data: \xE2\x82\n\n", vec![ev("message", "\u{FFFD}", "")]),
        (
            b"id: \xC3\xA9\xE2\x82\xAC\ndata: a\n\n",
            vec![ev("message", "a", "é€")],
        ),
        // End of stream discards the incomplete event and an unterminated line.
        (b"data: a\n", vec![]),
        (b"data: a\n\ndata: b", vec![ev("message", "a", "")]),
        // NUL in data is data.
        (b"data: a\x00b\n\n", vec![ev("message", "a\x00b", "")]),
    ]
}

#[test]
fn each_rule_in_every_chunking() {
    for (input, expected) in vectors() {
        assert_eq!(
            reference(input),
            expected,
            "reference on {:?}",
            String::from_utf8_lossy(input)
        );
        check_all_chunkings(input);
    }
}

#[test]
fn cr_at_end_of_chunk_ends_the_line_now() {
    let mut p = Parser::new();
    let mut out = Vec::new();
    p.feed(b"data: a\r\r", |f| out.push(Owned::from_frame(f)))
        .unwrap();
    // Dispatched before any further byte arrives.
    assert_eq!(out, vec![ev("message", "a", "")]);
    // The LF that follows belongs to the CR before it: not a second line end.
    p.feed(b"\ndata: b\r", |f| out.push(Owned::from_frame(f)))
        .unwrap();
    p.feed(b"\n\n", |f| out.push(Owned::from_frame(f))).unwrap();
    assert_eq!(out, vec![ev("message", "a", ""), ev("message", "b", "")]);
}

#[test]
fn empty_chunks_change_nothing() {
    let input: &[u8] = b"data: a\r";
    let chunks: Vec<&[u8]> = vec![input, b"", b"", b"\n", b"", b"\n"];
    assert_eq!(parse_chunks(chunks), vec![ev("message", "a", "")]);
}

#[test]
fn finish_discards_the_partial_event_and_keeps_the_committed_id() {
    let mut p = Parser::new();
    let mut out = Vec::new();
    p.feed(b"id: 1\ndata: a\n\nid: 2\ndata: part", |f| {
        out.push(Owned::from_frame(f))
    })
    .unwrap();
    p.finish();
    assert_eq!(p.last_event_id(), "1");
    // The next stream may start with its own BOM; events without id carry the kept id.
    p.feed(b"\xEF\xBB\xBFdata: b\n\n", |f| {
        out.push(Owned::from_frame(f))
    })
    .unwrap();
    assert_eq!(out, vec![ev("message", "a", "1"), ev("message", "b", "1")]);
}

#[test]
fn initial_last_event_id() {
    let mut p = Parser::new();
    p.set_last_event_id("42");
    let events = p.events(b"data: a\n\n").unwrap();
    assert_eq!(events[0].last_event_id, "42");
}

#[test]
fn owned_api_matches_frames() {
    let mut p = Parser::new();
    let events = p
        .events(b"event: e\nid: 3\ndata: x\ndata: y\n\n: c\nretry: 5\ndata: z\n\n")
        .unwrap();
    let types: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.event_type.as_str(),
                e.data.as_str(),
                e.last_event_id.as_str(),
            )
        })
        .collect();
    assert_eq!(types, vec![("e", "x\ny", "3"), ("message", "z", "3")]);
}

#[test]
fn event_too_large_is_an_error_with_bounded_memory() {
    // A line that never ends, in small chunks: refused once past the limit.
    let mut p = Parser::new().with_max_event_size(1024);
    let chunk = [b'a'; 100];
    let mut result = Ok(());
    let mut fed = 0;
    while result.is_ok() && fed < 1_000_000 {
        result = p.feed(&chunk, |_| {});
        fed += chunk.len();
    }
    assert_eq!(result, Err(ParseError::EventTooLarge { limit: 1024 }));
    assert!(fed <= 1024 + 100, "refused only after {fed} bytes");
    // Poisoned until finish(); then a new stream parses.
    assert!(p.feed(b"data: a\n\n", |_| {}).is_err());
    p.finish();
    assert_eq!(p.events(b"data: a\n\n").unwrap().len(), 1);

    // Many data lines that each fit, but not together.
    let mut p = Parser::new().with_max_event_size(1024);
    let line = format!("data: {}\n", "b".repeat(100));
    let mut result = Ok(());
    for _ in 0..20 {
        result = result.and(p.feed(line.as_bytes(), |_| {}));
    }
    assert_eq!(result, Err(ParseError::EventTooLarge { limit: 1024 }));

    // An event exactly at the limit passes.
    let mut p = Parser::new().with_max_event_size(10);
    assert_eq!(
        p.events(b"data: 0123456789\n\n").unwrap()[0].data,
        "0123456789"
    );
    let mut p = Parser::new().with_max_event_size(10);
    assert!(p.events(b"data: 0123456789X\n\n").is_err());
}

#[test]
fn long_line_in_small_chunks_is_linear() {
    // 2 MiB in 1 KiB chunks and then 1-byte chunks: a parser that rescans its buffer per chunk
    // would do ~2^31 (1 KiB) or ~2^41 (1 byte) byte visits here and not finish.
    let mut input = b"data: ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 2 << 20));
    input.extend_from_slice(b"\n\n");
    for size in [1024, 1] {
        let mut p = Parser::new();
        let mut n = 0;
        for c in input.chunks(size) {
            p.feed(c, |f| {
                if let sse_web_core::parser::Frame::Event(e) = f {
                    assert_eq!(e.data.len(), 2 << 20);
                    n += 1;
                }
            })
            .unwrap();
        }
        assert_eq!(n, 1);
    }
}

/// (data, id_changed) of each event of `chunks`, parsed from `start` as the last event ID.
fn id_changes<'a>(start: &str, chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<(String, bool)> {
    let mut p = Parser::new();
    p.set_last_event_id(start);
    let mut out = Vec::new();
    for c in chunks {
        p.feed(c, |f| {
            if let Frame::Event(e) = f {
                out.push((e.data.to_string(), e.id_changed));
            }
        })
        .unwrap();
    }
    out
}

#[test]
fn id_changed_marks_the_events_that_change_the_last_event_id() {
    let input: &[u8] = b"id: 1\ndata: a\n\n\
        data: b\n\n\
        id: 1\ndata: c\n\n\
        id: 2\ndata: d\n\n\
        id: 9\nid: 2\ndata: e\n\n\
        id\ndata: f\n\n\
        data: g\n\n";
    let expected = [
        ("a", true),
        // No id: the last one persists.
        ("b", false),
        // The same id again.
        ("c", false),
        ("d", true),
        // Only the last id of the block counts.
        ("e", false),
        // `id` with no value empties it: a change.
        ("f", true),
        ("g", false),
    ]
    .map(|(d, c)| (d.to_string(), c));
    // Every chunking: the one-line fast path and the carried lines alike.
    assert_eq!(id_changes("", [input]), expected);
    assert_eq!(id_changes("", input.chunks(1)), expected);
    for i in 0..=input.len() {
        let (a, b) = input.split_at(i);
        assert_eq!(id_changes("", [a, b]), expected, "split at {i}");
    }
}

#[test]
fn id_changed_counts_id_frames_the_starting_id_and_dropped_events() {
    // An `Id` frame already committed the id: the event after it with the same id changes nothing.
    assert_eq!(
        id_changes("", [&b"id: 5\n\nid: 5\ndata: a\n\n"[..]]),
        [("a".to_string(), false)]
    );
    // Nor does the starting id (the `last_event_id` option) repeated.
    assert_eq!(
        id_changes("5", [&b"id: 5\ndata: a\n\ndata: b\n\n"[..]]),
        [("a".to_string(), false), ("b".to_string(), false)]
    );
    assert_eq!(
        id_changes("5", [&b"id: 6\ndata: a\n\n"[..]]),
        [("a".to_string(), true)]
    );
    // The id of an event cut off by the end of the stream is never committed.
    let mut p = Parser::new();
    p.feed(b"id: 1\ndata: a\n\nid: 2\ndata: cut", |_| {})
        .unwrap();
    p.finish();
    let mut changed = Vec::new();
    p.feed(b"data: b\n\nid: 1\ndata: c\n\n", |f| {
        if let Frame::Event(e) = f {
            changed.push((e.last_event_id.to_string(), e.id_changed));
        }
    })
    .unwrap();
    assert_eq!(
        changed,
        [("1".to_string(), false), ("1".to_string(), false)]
    );
}

/// Bytes that exercise the grammar: field names, separators, line ends, BOMs, UTF-8 pieces.
fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"data".to_vec()),
        Just(b"data: ".to_vec()),
        Just(b"event".to_vec()),
        Just(b"id".to_vec()),
        Just(b"retry".to_vec()),
        Just(b":".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\xC3\xA9".to_vec()),
        Just(b"\xF0\x9F\x98".to_vec()),
        Just(b"\x80".to_vec()),
        Just(b"\x00".to_vec()),
        Just(b"12".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..4),
        "[a-z0-9 ]{0,6}".prop_map(|s| s.into_bytes()),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_streams_match_the_reference_in_random_chunkings(
        input in sse_bytes(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let expected = reference(&input);
        prop_assert_eq!(parse_chunks(cut(&input, &cuts)), expected.clone());
        prop_assert_eq!(parse_chunks(input.chunks(1)), expected);
    }

    /// `id_changed` is true exactly when the event's id differs from the one before it: the
    /// previous event's or `Id` frame's (the reference reports an `Id` frame only on a change).
    #[test]
    fn id_changed_agrees_with_the_ids_in_random_chunkings(
        input in sse_bytes(),
        size in 1..8usize,
    ) {
        let mut p = Parser::new();
        let mut before = String::new();
        let mut wrong = Vec::new();
        for c in input.chunks(size) {
            p.feed(c, |f| match f {
                Frame::Event(e) => {
                    if e.id_changed != (e.last_event_id != before) {
                        wrong.push((e.last_event_id.to_string(), before.clone(), e.id_changed));
                    }
                    before = e.last_event_id.to_string();
                }
                Frame::Id(id) => before = id.to_string(),
                _ => {}
            })
            .unwrap();
        }
        prop_assert!(wrong.is_empty(), "(id, the one before, id_changed): {:?}", wrong);
    }

    #[test]
    fn every_split_point_of_random_streams(input in sse_bytes()) {
        let expected = reference(&input);
        for i in 0..=input.len() {
            let (a, b) = input.split_at(i);
            prop_assert_eq!(parse_chunks([a, b]), expected.clone());
        }
    }
}

/// Parses `chunks` with `limit` until the first error: the frames before it and the outcome.
fn parse_limited<'a>(
    limit: usize,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Owned>, Result<(), ParseError>) {
    let mut p = Parser::new().with_max_event_size(limit);
    let mut out = Vec::new();
    for c in chunks {
        if let Err(e) = p.feed(c, |f| out.push(Owned::from_frame(f))) {
            return (out, Err(e));
        }
    }
    (out, Ok(()))
}

/// The limit as documented at `with_max_event_size`, read off the whole decoded input: at each
/// complete line, the event's data so far (as dispatched) plus what the line counts (its value
/// for `data`, `event`, `id`, `retry` and comments, all of it otherwise). Returns the frames of the
/// lines before the first one that fails, and whether one does. Only complete lines are checked:
/// give it input that ends with a line end.
fn limited_reference(limit: usize, input: &[u8]) -> (Vec<Owned>, bool) {
    let decoded = String::from_utf8_lossy(input);
    let text = decoded.strip_prefix('\u{FEFF}').unwrap_or(&decoded);
    // Each line with where the next one starts, in bytes of `text`.
    let mut lines = Vec::new();
    let bytes = text.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b'\r' || bytes[i] == b'\n' {
            let next = if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
                i + 2
            } else {
                i + 1
            };
            lines.push((&text[start..i], next));
            start = next;
            i = next;
        } else {
            i += 1;
        }
    }
    // The data lines so far (each value and LF, as in the reference).
    let mut data = String::new();
    let mut line_start = 0;
    for (line, next) in lines {
        if line.is_empty() {
            data.clear();
        } else {
            let (name, value) = match line.find(':') {
                Some(i) => {
                    let v = &line[i + 1..];
                    (&line[..i], v.strip_prefix(' ').unwrap_or(v))
                }
                None => (line, ""),
            };
            let has_data = !data.is_empty();
            let dispatched = data.len().saturating_sub(1);
            let counted = match name {
                "data" => dispatched + usize::from(has_data) + value.len(),
                "" | "event" | "id" | "retry" => dispatched + value.len(),
                _ => dispatched + line.len(),
            };
            if counted > limit {
                // The frames of every line before this one.
                let mut before = "\u{FEFF}".to_string();
                before.push_str(&text[..line_start]);
                return (reference(before.as_bytes()), true);
            }
            if name == "data" {
                data.push_str(value);
                data.push('\n');
            }
        }
        line_start = next;
    }
    (reference(input), false)
}

/// The outcome of `input` with `limit` is the one of the whole input in one chunk, in 1-byte
/// chunks and split at every point and every pair of points; returns it.
fn same_outcome_in_every_chunking(
    limit: usize,
    input: &[u8],
) -> (Vec<Owned>, Result<(), ParseError>) {
    let whole = parse_limited(limit, [input]);
    let show = || String::from_utf8_lossy(input).into_owned();
    assert_eq!(
        parse_limited(limit, input.chunks(1)),
        whole,
        "1-byte chunks, limit {limit}: {:?}",
        show()
    );
    for i in 0..=input.len() {
        for j in i..=input.len() {
            let chunks = [&input[..i], &input[i..j], &input[j..]];
            assert_eq!(
                parse_limited(limit, chunks),
                whole,
                "split at {i} and {j}, limit {limit}: {:?}",
                show()
            );
        }
    }
    whole
}

#[test]
fn event_size_limit_is_the_same_in_every_chunking() {
    for limit in [0usize, 1, 5, 8, 13, 40] {
        // Events whose data is limit-6 ..= limit+1 bytes, in one line or several, after a BOM or
        // not, with LF or CRLF: all pass up to the limit and fail past it, in every chunking.
        for size in limit.saturating_sub(6)..=limit + 1 {
            let payload: String = (0..size).map(|i| (b'a' + (i % 26) as u8) as char).collect();
            let mut layouts = vec![vec![payload.as_str()]];
            if size >= 2 {
                layouts.push(vec![&payload[..1], &payload[2..]]);
            }
            if size >= 5 {
                layouts.push(vec![&payload[..2], &payload[3..3], &payload[4..]]);
            }
            for lines in layouts {
                let data = lines.join("\n");
                assert_eq!(data.len(), size);
                for (bom, eol) in [
                    ("", "\n"),
                    ("\u{FEFF}", "\n"),
                    ("", "\r\n"),
                    ("\u{FEFF}", "\r\n"),
                ] {
                    let mut input = format!("{bom}:{eol}");
                    for l in &lines {
                        input.push_str(&format!("data: {l}{eol}"));
                    }
                    input.push_str(eol);
                    // The next event parses: the limit is per event.
                    let next = &"z"[..limit.min(1)];
                    input.push_str(&format!("data: {next}{eol}{eol}"));
                    let (frames, result) = same_outcome_in_every_chunking(limit, input.as_bytes());
                    let comment = Owned::Comment(String::new());
                    if size <= limit {
                        assert_eq!(result, Ok(()), "limit {limit}: {input:?}");
                        let expected =
                            vec![comment, ev("message", &data, ""), ev("message", next, "")];
                        assert_eq!(frames, expected, "limit {limit}: {input:?}");
                    } else {
                        assert_eq!(result, Err(ParseError::EventTooLarge { limit }));
                        assert_eq!(frames, vec![comment], "limit {limit}: {input:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn event_size_limit_counts_every_field_the_same_in_every_chunking() {
    // Data so far plus the line being read: its value for known fields and comments (the name,
    // the colon, one space and a BOM never count), the whole line for other fields.
    let cases: &[(&str, usize, bool)] = &[
        ("data: abcd\nevent: efghij\n\n", 10, true),
        ("data: abcd\nevent: efghijk\n\n", 10, false),
        ("data: abcd\nid: efghij\n\n", 10, true),
        ("data: abcd\nid: efghijk\n\n", 10, false),
        ("data: abcd\n: efghij\n\n", 10, true),
        ("data: abcd\n: efghijk\n\n", 10, false),
        ("data: abcd\nretry: 123456\n\n", 10, true),
        ("data: abcd\nretry: 1234567\n\n", 10, false),
        ("data: abcd\nid: 1\x002345\n\n", 10, true),
        ("data: abcd\nid: 1\x0023456\n\n", 10, false),
        ("event:0123456789\n\n", 10, true),
        ("event:0123456789x\n\n", 10, false),
        ("\u{FEFF}:0123456789\n\n", 10, true),
        ("\u{FEFF}:0123456789x\n\n", 10, false),
        // Other fields: name, colon and value.
        ("data: abcd\nfoo:ba\n\n", 10, true),
        ("data: abcd\nfoo:bar\n\n", 10, false),
        ("\u{FEFF}foo: 01234\n\n", 10, true),
        ("\u{FEFF}foo: 012345\n\n", 10, false),
        ("0123456789\n\n", 10, true),
        ("0123456789x\n\n", 10, false),
        ("data 56789\n\n", 10, true),
        ("data 56789x\n\n", 10, false),
        // Data: the joined data lines, LF included; `data` alone is an empty line of data.
        ("data\ndata\ndata: 01234567\n\n", 10, true),
        ("data\ndata\ndata: 012345678\n\n", 10, false),
        ("data:0123456789\n\n", 10, true),
        ("data:0123456789x\n\n", 10, false),
        ("data:  123456789\n\n", 10, true),
        ("data:  123456789x\n\n", 10, false),
        // Invalid UTF-8 counts as decoded: U+FFFD is 3 bytes.
        ("data: 0123\u{FFFD}\u{FFFD}\n\n", 10, true),
        ("data: 01234\u{FFFD}\u{FFFD}\n\n", 10, false),
        // Limit 0: only empty data.
        ("data\n\n:\nevent\nid\n\n", 0, true),
        ("data\ndata\n\n", 0, false),
    ];
    for &(input, limit, passes) in cases {
        // The U+FFFD cases stand for raw invalid bytes.
        let input = input.replace('\u{FFFD}', "\u{1}").into_bytes();
        let input: Vec<u8> = input
            .into_iter()
            .map(|b| if b == 1 { 0xFF } else { b })
            .collect();
        let (frames, result) = same_outcome_in_every_chunking(limit, &input);
        let show = String::from_utf8_lossy(&input);
        assert_eq!(result.is_ok(), passes, "limit {limit}: {show:?}");
        assert_eq!(
            (frames, result.is_err()),
            limited_reference(limit, &input),
            "limit {limit}: {show:?}"
        );
    }
}

#[test]
fn a_line_that_never_ends_fails_within_the_limit() {
    // However it starts, a line without end is refused once its counted part passes the limit,
    // holding no more than the limit (and a field name), never the whole line.
    const LIMIT: usize = 1 << 20;
    for start in [
        &b""[..],
        b"data: ",
        b"data:",
        b"data",
        b": ",
        b"event: ",
        b"id:",
        b"retry: ",
        b"foo: ",
        b"\xEF\xBB\xBFdata: ",
        b"\xEF\xBB\xBF",
        b"data: 01234\n",
        b"data: 0\ndata: 1\n: x\n",
    ] {
        for size in [1, 7, 64 * 1024] {
            let mut p = Parser::new().with_max_event_size(LIMIT);
            let mut fed = 0;
            let mut result = start.chunks(size).try_for_each(|c| p.feed(c, |_| {}));
            fed += start.len();
            let chunk = vec![b'x'; size];
            while result.is_ok() && fed < 8 * LIMIT {
                result = p.feed(&chunk, |_| {});
                fed += size;
            }
            assert_eq!(result, Err(ParseError::EventTooLarge { limit: LIMIT }));
            assert!(
                fed <= start.len() + LIMIT + size,
                "{:?} in chunks of {size}: refused after {fed} bytes",
                String::from_utf8_lossy(start)
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random streams with small limits: in one chunk, in random chunkings and in 1-byte chunks
    /// alike, the outcome is the documented one.
    #[test]
    fn event_size_limit_matches_the_model_in_random_chunkings(
        body in sse_bytes(),
        limit in 0..40usize,
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        for input in [body.clone(), [&body[..], b"\n"].concat()] {
            let whole = parse_limited(limit, [&input[..]]);
            prop_assert_eq!(parse_limited(limit, cut(&input, &cuts)), whole.clone());
            prop_assert_eq!(parse_limited(limit, input.chunks(1)), whole.clone());
            if input.last() == Some(&b'\n') {
                let (frames, result) = whole;
                prop_assert_eq!((frames, result.is_err()), limited_reference(limit, &input));
            }
        }
    }
}

/// `input` cut at the points `cuts` pick (sorted; empty chunks allowed).
fn cut<'a>(input: &'a [u8], cuts: &[prop::sample::Index]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
    points.sort_unstable();
    let mut chunks = Vec::new();
    let mut last = 0;
    for p in points {
        chunks.push(&input[last..p]);
        last = p;
    }
    chunks.push(&input[last..]);
    chunks
}
