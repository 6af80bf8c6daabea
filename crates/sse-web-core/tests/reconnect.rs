//! The reconnect machine: a table of transitions, and properties over random input sequences
//! (deterministic: the jitter is seeded, and time is virtual: every input carries its `now_ms`).

#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use sse_web_core::http::{is_event_stream, parse_retry_after};
use sse_web_core::options::{Backoff, Classify, Options, RetryPolicy};
use sse_web_core::parser::Frame;
use sse_web_core::reconnect::{
    classify, Action, Conn, Credentials, Decision, Error, ErrorKind, Failure, Machine, ReadyState,
    Response, ERROR_BODY_LIMIT, ERROR_BODY_WAIT_MS,
};

const OK: Response<'static> = Response {
    status: 200,
    content_type: Some("text/event-stream"),
    retry_after: None,
    unix_now_ms: 0,
};

fn status(status: u16) -> Response<'static> {
    Response::new(status, Some("text/event-stream"))
}

fn machine(options: Options) -> Machine {
    Machine::new(options, 42)
}

fn opts() -> Options {
    Options::new("https://example.com/s")
}

/// The helpers take any classifier: a machine's type names its classifier.
trait Classifier: FnMut(&Failure, Decision) -> Decision {}
impl<C: FnMut(&Failure, Decision) -> Decision> Classifier for C {}

fn connect<C: Classifier>(m: &mut Machine<C>) -> Conn {
    match m.start(0) {
        Action::Connect(c) => c,
        other => panic!("expected Connect, got {other:?}"),
    }
}

fn open<C: Classifier>(m: &mut Machine<C>) -> Conn {
    let c = connect(m);
    assert_eq!(m.on_response(c, &OK, 0), Action::Open);
    c
}

/// The driver's timer goes off when the machine asked: the wait is over.
fn fire<C: Classifier>(m: &mut Machine<C>) -> Conn {
    let at = m.poll_timeout().expect("a timer is set");
    match m.handle_timeout(at) {
        Action::Connect(c) => c,
        other => panic!("expected Connect at {at}, got {other:?}"),
    }
}

/// The response to attempt `c`; an HTTP error's body is read (empty here) and ends at once.
fn answered<C: Classifier>(m: &mut Machine<C>, c: Conn, r: &Response<'_>, now: u64) -> Action {
    match m.on_response(c, r, now) {
        Action::Drain => m.on_error(c, Failure::ended(), now),
        a => a,
    }
}

fn wait_of(a: Action) -> Error {
    match a {
        Action::Wait(e) => {
            assert!(e.retry_in_ms.is_some(), "a Wait says when: {e:?}");
            e
        }
        other => panic!("expected Wait, got {other:?}"),
    }
}

fn delay_of(a: Action) -> u64 {
    wait_of(a).retry_in_ms.unwrap()
}

fn fail_of(a: Action) -> Error {
    match a {
        Action::Fail(e) => {
            assert_eq!(e.retry_in_ms, None);
            e
        }
        other => panic!("expected Fail, got {other:?}"),
    }
}

#[test]
fn spec_defaults_open_on_200_event_stream_only() {
    // (status, content type, expected: open, or the kind of the fatal error)
    let table: &[(u16, Option<&str>, Result<(), ErrorKind>)] = &[
        (200, Some("text/event-stream"), Ok(())),
        (200, Some("Text/Event-Stream; charset=utf-8"), Ok(())),
        (200, Some(" text/event-stream ;x=y"), Ok(())),
        (200, Some("text/plain"), Err(ErrorKind::ContentType)),
        (200, Some("text/event-streamx"), Err(ErrorKind::ContentType)),
        (200, None, Err(ErrorKind::ContentType)),
        (204, Some("text/event-stream"), Err(ErrorKind::Http)),
        (201, Some("text/event-stream"), Err(ErrorKind::Http)),
        (301, Some("text/event-stream"), Err(ErrorKind::Http)),
        (401, Some("text/event-stream"), Err(ErrorKind::Http)),
        (404, Some("text/event-stream"), Err(ErrorKind::Http)),
        (429, Some("text/event-stream"), Err(ErrorKind::Http)),
        (500, Some("text/event-stream"), Err(ErrorKind::Http)),
        (503, Some("text/event-stream"), Err(ErrorKind::Http)),
    ];
    for &(code, ct, expected) in table {
        let mut m = machine(opts());
        let c = connect(&mut m);
        assert_eq!(m.ready_state(), ReadyState::Connecting);
        let r = Response {
            status: code,
            content_type: ct,
            retry_after: Some("1"),
            unix_now_ms: 0,
        };
        let a = answered(&mut m, c, &r, 0);
        match expected {
            Ok(()) => {
                assert_eq!(a, Action::Open, "{code} {ct:?}");
                assert_eq!(m.ready_state(), ReadyState::Open);
            }
            Err(kind) => {
                let e = fail_of(a);
                assert_eq!(e.kind, kind, "{code} {ct:?}");
                assert_eq!(m.ready_state(), ReadyState::Closed);
                // Nothing brings a closed machine back.
                assert_eq!(m.poll_timeout(), None);
                assert_eq!(m.handle_timeout(u64::MAX), Action::None);
                assert_eq!(m.set_online(true, 0), Action::None);
                assert_eq!(m.start(0), Action::None);
            }
        }
    }
}

#[test]
fn network_error_end_and_timeout_reconnect_after_the_reconnection_time() {
    for (failure, kind) in [
        (Failure::network(), ErrorKind::Network),
        (Failure::ended(), ErrorKind::Ended),
        (Failure::of(ErrorKind::Timeout), ErrorKind::Timeout),
    ] {
        let mut m = machine(opts());
        let c = open(&mut m);
        let e = wait_of(m.on_error(c, failure, 10));
        assert_eq!((e.kind, e.retry_in_ms), (kind, Some(3000)));
        assert_eq!(m.ready_state(), ReadyState::Connecting);
        assert_eq!(m.poll_timeout(), Some(3010));
        // The timer is not due a millisecond early.
        assert_eq!(m.handle_timeout(3009), Action::None);
        let Action::Connect(c2) = m.handle_timeout(3010) else {
            panic!()
        };
        assert_ne!(c, c2);
        // A network error before the response, too.
        assert_eq!(delay_of(m.on_error(c2, Failure::network(), 3020)), 3000);
    }
}

#[test]
fn retry_field_sets_the_reconnection_time() {
    let mut m = machine(opts());
    let c = open(&mut m);
    assert_eq!(m.on_chunk(c, b"retry: 250\n", 0, |_| {}), Action::None);
    assert_eq!(m.reconnection_time_ms(), 250);
    m.on_chunk(c, b"retry: x\n", 0, |_| {});
    assert_eq!(m.reconnection_time_ms(), 250);
    assert_eq!(delay_of(m.on_error(c, Failure::ended(), 0)), 250);
    // retry: 0 reconnects at once by the spec, unless a floor is set.
    let mut o = opts();
    o.retry.min_delay_ms = 100;
    let mut m = machine(o);
    let c = open(&mut m);
    m.on_chunk(c, b"retry: 0\n", 0, |_| {});
    assert_eq!(delay_of(m.on_error(c, Failure::ended(), 0)), 100);
}

#[test]
fn last_event_id_is_sent_after_dispatch_only_and_as_utf8() {
    let mut m = machine(opts());
    let c = open(&mut m);
    let mut seen = Vec::new();
    let chunk = "id: é1\ndata: a\n\nid: 2\ndata: partial".as_bytes();
    m.on_chunk(c, chunk, 0, |f| {
        if let Frame::Event(e) = f {
            seen.push(e.last_event_id.to_string());
        }
    });
    assert_eq!(seen, ["é1"]);
    wait_of(m.on_error(c, Failure::network(), 0));
    let c = fire(&mut m);
    let r = m.request(c, &[], 3000).unwrap();
    assert_eq!(
        r.headers,
        [("Accept", "text/event-stream"), ("Last-Event-ID", "é1")]
    );
    assert_eq!(r.url, "https://example.com/s");
    assert_eq!(m.last_event_id(), "é1");
}

#[test]
fn close_on_end_closes_on_a_clean_end_and_still_resumes_a_broken_connection() {
    let mut o = opts();
    o.retry.close_on_end = true;
    let mut m = machine(o);
    let c = open(&mut m);
    m.on_chunk(c, b"id: 1\ndata: a\n\n", 0, |_| {});
    // A broken connection resumes from its last ID.
    assert_eq!(
        wait_of(m.on_error(c, Failure::network(), 0)).kind,
        ErrorKind::Network
    );
    let c = fire(&mut m);
    let r = m.request(c, &[], 3000).unwrap();
    assert!(r.headers.contains(&("Last-Event-ID", "1")));
    assert_eq!(m.on_response(c, &OK, 3000), Action::Open);
    // The response ends: the answer is complete, closed for good.
    let e = fail_of(m.on_error(c, Failure::ended(), 3000));
    assert_eq!((e.kind, e.will_retry()), (ErrorKind::Ended, false));
    assert_eq!(m.ready_state(), ReadyState::Closed);
    assert_eq!(m.poll_timeout(), None);
}

/// A `close_on_end` machine whose open stream held an event and then `tail`, and what the
/// driver's report of a clean end of the body gives.
fn ends_after(tail: &[u8]) -> (Machine, Action) {
    let mut o = opts();
    o.retry.close_on_end = true;
    let mut m = machine(o);
    let c = open(&mut m);
    let mut chunk = b"id: 1\ndata: a\n\n".to_vec();
    chunk.extend_from_slice(tail);
    m.on_chunk(c, &chunk, 0, |_| {});
    let ended = m.on_error(c, Failure::ended(), 0);
    (m, ended)
}

#[test]
fn an_end_inside_an_event_is_a_cut_that_close_on_end_still_resumes() {
    // WebKit reports a chunked response cut by a dropped connection as a clean end: whatever the
    // driver reports, a body that stops inside an event (a line not ended, or fields read since
    // the last blank line) was cut.
    for tail in [
        &b"id: 2\ndata: ha"[..],
        b"id: 2\ndata: half\n",
        b"id: 2\n",
        b"event: x\n",
        b"da",
        b"\xef\xbb",
    ] {
        let (mut m, ended) = ends_after(tail);
        let e = wait_of(ended);
        assert_eq!(e.kind, ErrorKind::Network, "{tail:?}");
        let c = fire(&mut m);
        let r = m.request(c, &[], 3000).unwrap();
        assert!(r.headers.contains(&("Last-Event-ID", "1")), "{tail:?}");
    }
    // Between events it is the clean end it says, whatever complete lines came after the last
    // event (a comment, a retry, an unknown field, an empty body).
    for tail in [&b""[..], b": bye\n", b"retry: 5\n", b"foo: 1\n", b"\r"] {
        let e = fail_of(ends_after(tail).1);
        assert_eq!(e.kind, ErrorKind::Ended, "{tail:?}");
    }
    // A cut is decided once: the next attempt's parser starts clean, so its end is clean.
    let mut m = machine(opts());
    let c = open(&mut m);
    m.on_chunk(c, b"data: ha", 0, |_| {});
    assert_eq!(
        wait_of(m.on_error(c, Failure::ended(), 0)).kind,
        ErrorKind::Network
    );
    let c = fire(&mut m);
    assert_eq!(m.on_response(c, &OK, 3000), Action::Open);
    assert_eq!(
        wait_of(m.on_error(c, Failure::ended(), 3000)).kind,
        ErrorKind::Ended
    );
}

#[test]
fn an_id_longer_than_what_is_sent_back_fails_the_reconnect_as_too_large() {
    for (len, sent) in [(4096, true), (4097, false)] {
        for query in [None, Some("last")] {
            let mut o = opts();
            o.last_event_id_query = query.map(String::from);
            let mut m = machine(o);
            let c = open(&mut m);
            let id = "x".repeat(len);
            let chunk = format!("id: {id}\ndata: a\n\n");
            m.on_chunk(c, chunk.as_bytes(), 0, |_| {});
            // The event keeps it: only what goes back on the wire is capped.
            assert_eq!(m.last_event_id(), id);
            wait_of(m.on_error(c, Failure::ended(), 0));
            let c = fire(&mut m);
            match m.request(c, &[], 3000) {
                Ok(r) if sent => {
                    let on_wire =
                        r.headers.contains(&("Last-Event-ID", id.as_str())) || r.url.ends_with(&id);
                    assert!(on_wire, "{len} bytes, query {query:?}");
                }
                Err(a) if !sent => {
                    let e = fail_of(a);
                    assert_eq!(e.kind, ErrorKind::TooLarge);
                    assert_eq!(m.ready_state(), ReadyState::Closed);
                }
                other => panic!("{len} bytes, query {query:?}: {:?}", other.map(|r| r.url)),
            }
        }
    }
}

#[test]
fn request_carries_method_headers_body_credentials_and_the_query_parameter() {
    let mut o = opts();
    o.url = "https://example.com/s?a=1#frag".into();
    o.method = "POST".into();
    o.headers = vec![
        ("Authorization".into(), "Bearer x".into()),
        ("accept".into(), "text/event-stream, */*".into()),
    ];
    o.body = Some(b"{}".to_vec());
    o.with_credentials = true;
    o.last_event_id = "a b&é".into();
    o.last_event_id_query = Some("lastEventId".into());
    let mut m = machine(o);
    let c = connect(&mut m);
    let r = m.request(c, &[], 0).unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.url,
        "https://example.com/s?a=1&lastEventId=a%20b%26%C3%A9#frag"
    );
    // The user's Accept replaces ours (in its place).
    assert_eq!(
        r.headers,
        [
            ("accept", "text/event-stream, */*"),
            ("Authorization", "Bearer x"),
            ("Last-Event-ID", "a b&é")
        ]
    );
    assert_eq!(r.body, Some(&b"{}"[..]));
    assert_eq!(r.credentials, Credentials::Include);
    // No id yet: no header, no parameter.
    let mut o = opts();
    o.last_event_id_query = Some("lastEventId".into());
    let mut m = machine(o);
    let c = connect(&mut m);
    let r = m.request(c, &[], 0).unwrap();
    assert_eq!(r.url, "https://example.com/s");
    assert_eq!(r.headers, [("Accept", "text/event-stream")]);
    assert_eq!(r.credentials, Credentials::SameOrigin);
}

fn extra(headers: &[(&str, &str)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|&(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn request_headers_replace_by_name_and_the_per_attempt_ones_come_last() {
    let mut o = opts();
    o.headers = extra(&[("Authorization", "Bearer old"), ("X-A", "1")]);
    o.last_event_id = "7".into();
    let mut m = machine(o);
    let c = connect(&mut m);
    // Names compare case-insensitively; a per-attempt value is normalised as Fetch does.
    let per_attempt = extra(&[("authorization", " Bearer new\n"), ("X-B", "2")]);
    let r = m.request(c, &per_attempt, 0).unwrap();
    assert_eq!(
        r.headers,
        [
            ("Accept", "text/event-stream"),
            ("authorization", "Bearer new"),
            ("X-A", "1"),
            ("X-B", "2"),
            ("Last-Event-ID", "7"),
        ]
    );
    assert_eq!(
        r.cache_headers(),
        [("Cache-Control", "no-cache"), ("Pragma", "no-cache")]
    );
}

#[test]
fn cache_headers_are_only_those_the_user_did_not_set() {
    type Headers = &'static [(&'static str, &'static str)];
    // (the user's headers, the cache headers left to add)
    let cases: &[(Headers, Headers)] = &[
        (
            &[],
            &[("Cache-Control", "no-cache"), ("Pragma", "no-cache")],
        ),
        (&[("cache-control", "max-age=0")], &[("Pragma", "no-cache")]),
        (&[("PRAGMA", "x")], &[("Cache-Control", "no-cache")]),
        (&[("Pragma", "x"), ("Cache-Control", "y")], &[]),
    ];
    for &(user, expected) in cases {
        // Static and per-attempt headers count alike.
        for per_attempt in [false, true] {
            let mut o = opts();
            if !per_attempt {
                o.headers = extra(user);
            }
            let mut m = machine(o);
            let c = connect(&mut m);
            let more = if per_attempt { extra(user) } else { vec![] };
            let r = m.request(c, &more, 0).unwrap();
            assert_eq!(
                r.cache_headers(),
                expected,
                "{user:?} per attempt: {per_attempt}"
            );
        }
    }
}

#[test]
fn invalid_per_attempt_headers_fail_the_attempt_through_the_classifier() {
    for bad in [
        ("X Y", "1"),
        ("X-A", "a\nb"),
        ("X-A", "a\rb"),
        ("X-A", "a\0b"),
        ("last-event-id", "1"),
        ("", "1"),
    ] {
        let mut m = machine(opts());
        let c = connect(&mut m);
        let Err(a) = m.request(c, &extra(&[bad]), 0) else {
            panic!("{bad:?} accepted")
        };
        assert_eq!(fail_of(a).kind, ErrorKind::Request, "{bad:?}");
        assert_eq!(m.ready_state(), ReadyState::Closed);
    }
    // Kind `request` is fatal by default, but the classifier sees it like any other.
    let mut m = Machine::with_classifier(opts(), 1, |f: &Failure, d| match f.kind {
        ErrorKind::Request => Decision::Retry { at_least_ms: 0 },
        _ => d,
    });
    let c = connect(&mut m);
    let Err(a) = m.request(c, &extra(&[("X Y", "1")]), 0) else {
        panic!()
    };
    assert_eq!(wait_of(a).kind, ErrorKind::Request);
}

#[test]
fn request_of_a_stale_or_open_attempt_is_refused_without_effect() {
    let mut m = machine(opts());
    let old = connect(&mut m);
    wait_of(m.on_error(old, Failure::network(), 0));
    let new = fire(&mut m);
    assert_eq!(m.request(old, &[], 0), Err(Action::None));
    assert_eq!(m.request(Conn(99), &[], 0), Err(Action::None));
    // Stale news never fails the attempt under way, even with bad headers.
    assert_eq!(
        m.request(old, &extra(&[("X Y", "1")]), 0),
        Err(Action::None)
    );
    assert!(m.is_current(new));
    // Once open, the request was made: no second one.
    assert_eq!(m.on_response(new, &OK, 0), Action::Open);
    assert_eq!(m.request(new, &[], 0), Err(Action::None));
}

#[test]
fn transient_preset_retries_5xx_429_408_and_honours_retry_after() {
    // Sun, 06 Nov 1994 08:49:37 GMT is 784111777 s after the epoch: 7 s from `unix_now_ms`.
    const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    let table: &[(u16, Option<&str>, Option<u64>)] = &[
        // (status, Retry-After, expected delay; None = fatal)
        (500, None, Some(1000)),
        (503, Some("7"), Some(7000)),
        (503, Some(DATE), Some(7000)),
        (503, Some("0"), Some(1000)),
        (503, Some("soon"), Some(1000)),
        (429, Some("2"), Some(2000)),
        (408, None, Some(1000)),
        (404, None, None),
        (401, Some("5"), None),
        (204, None, None),
    ];
    for &(code, retry_after, expected) in table {
        let mut o = opts();
        o.retry.reconnection_time_ms = 1000;
        o.retry.classify = Classify::Transient;
        let mut m = machine(o);
        let c = connect(&mut m);
        let r = Response {
            status: code,
            content_type: Some("text/html"),
            retry_after,
            unix_now_ms: 784_111_770_000,
        };
        let a = answered(&mut m, c, &r, 0);
        match expected {
            Some(d) => {
                let e = wait_of(a);
                let got = (e.retry_in_ms, e.kind, e.status);
                assert_eq!(got, (Some(d), ErrorKind::Http, Some(code)), "{code}");
            }
            None => assert_eq!(fail_of(a).status, Some(code)),
        }
    }
    // The free function the classifier's default comes from.
    let f = Failure {
        kind: ErrorKind::Http,
        status: Some(502),
        retry_after_ms: None,
        body: None,
    };
    assert_eq!(classify(Classify::Spec, &f), Decision::Fatal);
    assert_eq!(
        classify(Classify::Transient, &f),
        Decision::Retry { at_least_ms: 0 }
    );
}

#[test]
fn the_classifier_given_at_construction_decides_with_the_default_in_hand() {
    let mut seen = Vec::new();
    let mut m = Machine::with_classifier(opts(), 1, |f: &Failure, default| {
        seen.push((f.kind, f.status, default));
        match (f.kind, f.status) {
            // A 401 the user refreshes a token for: retry, and not too soon.
            (ErrorKind::Http, Some(401)) => Decision::Retry { at_least_ms: 5000 },
            (ErrorKind::Network, _) => Decision::Fatal,
            _ => default,
        }
    });
    let c = connect(&mut m);
    let e = wait_of(answered(&mut m, c, &status(401), 0));
    assert_eq!((e.status, e.retry_in_ms), (Some(401), Some(5000)));
    let c = fire(&mut m);
    let e = fail_of(m.on_error(c, Failure::network(), 5000));
    assert_eq!((e.kind, e.gave_up), (ErrorKind::Network, false));
    assert_eq!(m.ready_state(), ReadyState::Closed);
    drop(m);
    assert_eq!(
        seen,
        [
            (ErrorKind::Http, Some(401), Decision::Fatal),
            (ErrorKind::Network, None, Decision::Retry { at_least_ms: 0 }),
        ]
    );
}

#[test]
fn an_http_error_carries_the_start_of_its_body_to_the_classifier_and_the_error() {
    let mut seen: Vec<(Option<u16>, Option<String>)> = Vec::new();
    let mut m = Machine::with_classifier(opts(), 1, |f: &Failure, default| {
        seen.push((f.status, f.body.map(str::to_string)));
        // Stop on the server's own word, whatever the status.
        if f.body.is_some_and(|b| b.contains("\"fatal\"")) {
            Decision::Fatal
        } else if f.status == Some(401) {
            Decision::Retry { at_least_ms: 0 }
        } else {
            default
        }
    });
    let c = connect(&mut m);
    // Read as a stream's body, without opening; the error waits for it.
    assert_eq!(m.on_response(c, &status(401), 0), Action::Drain);
    assert_eq!(m.ready_state(), ReadyState::Connecting);
    assert!(m.is_current(c));
    assert_eq!(
        m.on_chunk(c, b"{\"error\":", 1, |_| panic!("no frames")),
        Action::None
    );
    assert_eq!(m.error_body(), None, "not before it is read");
    assert_eq!(m.on_chunk(c, b"\"bad token\"}", 2, |_| {}), Action::None);
    let e = wait_of(m.on_error(c, Failure::ended(), 3));
    assert_eq!((e.kind, e.status), (ErrorKind::Http, Some(401)));
    assert_eq!(m.error_body(), Some("{\"error\":\"bad token\"}"));
    // The next attempt forgets it.
    let c = fire(&mut m);
    assert_eq!(m.error_body(), None);
    // A body that says stop: the classifier reads it.
    assert_eq!(m.on_response(c, &status(500), 0), Action::Drain);
    m.on_chunk(c, b"{\"fatal\":1}", 0, |_| {});
    let e = fail_of(m.on_error(c, Failure::network(), 0));
    assert_eq!(e.status, Some(500));
    drop(m);
    assert_eq!(
        seen,
        [
            (Some(401), Some("{\"error\":\"bad token\"}".to_string())),
            (Some(500), Some("{\"fatal\":1}".to_string())),
        ]
    );
}

#[test]
fn an_error_body_is_bounded_in_bytes_and_time_and_read_as_text() {
    let mut m = machine(opts());
    // Past the limit, the error fires at once with the first ERROR_BODY_LIMIT bytes.
    let c = connect(&mut m);
    assert_eq!(m.on_response(c, &status(404), 0), Action::Drain);
    let big = vec![b'x'; ERROR_BODY_LIMIT - 1];
    assert_eq!(m.on_chunk(c, &big, 0, |_| {}), Action::None);
    let e = fail_of(m.on_chunk(c, b"yz", 0, |_| {}));
    assert_eq!(e.status, Some(404));
    let body = m.error_body().unwrap();
    assert_eq!(body.len(), ERROR_BODY_LIMIT);
    assert!(body.ends_with("xy"));
    // A body that never ends: the error fires after ERROR_BODY_WAIT_MS, with what came.
    let mut o = opts();
    o.inactivity_timeout_ms = Some(60_000);
    let mut m = machine(o);
    let c = connect(&mut m);
    assert_eq!(m.on_response(c, &status(503), 100), Action::Drain);
    assert_eq!(m.poll_timeout(), Some(100 + ERROR_BODY_WAIT_MS));
    m.on_chunk(c, b"busy \xff", 200, |_| {});
    // A chunk does not push the deadline.
    assert_eq!(m.poll_timeout(), Some(100 + ERROR_BODY_WAIT_MS));
    assert_eq!(m.handle_timeout(100 + ERROR_BODY_WAIT_MS - 1), Action::None);
    let e = fail_of(m.handle_timeout(100 + ERROR_BODY_WAIT_MS));
    assert_eq!((e.kind, e.status), (ErrorKind::Http, Some(503)));
    // Invalid UTF-8 is replaced, as for events.
    assert_eq!(m.error_body(), Some("busy \u{fffd}"));
    // A shorter inactivity timeout still wins.
    let mut o = opts();
    o.inactivity_timeout_ms = Some(300);
    let mut m = machine(o);
    let c = connect(&mut m);
    assert_eq!(m.on_response(c, &status(503), 0), Action::Drain);
    assert_eq!(m.poll_timeout(), Some(300));
    // An empty body is an empty text; 204 and a wrong type are not drained.
    let mut m = machine(opts());
    let c = connect(&mut m);
    assert_eq!(m.on_response(c, &status(400), 0), Action::Drain);
    fail_of(m.on_error(c, Failure::ended(), 0));
    assert_eq!(m.error_body(), Some(""));
    let mut m = machine(opts());
    let c = connect(&mut m);
    fail_of(m.on_response(c, &status(204), 0));
    assert_eq!(m.error_body(), None);
    let mut m = machine(opts());
    let c = connect(&mut m);
    fail_of(m.on_response(c, &Response::new(200, Some("text/html")), 0));
    assert_eq!(m.error_body(), None);
    // close() while the body is read: nothing more.
    let mut m = machine(opts());
    let c = connect(&mut m);
    assert_eq!(m.on_response(c, &status(500), 0), Action::Drain);
    assert_eq!(m.close(), Action::Close);
    assert_eq!(m.on_chunk(c, b"late", 0, |_| {}), Action::None);
    assert_eq!(m.on_error(c, Failure::ended(), 0), Action::None);
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn start_from_resumes_after_the_given_id_once() {
    let mut o = opts();
    o.last_event_id = "from-options".into();
    let mut m = machine(o);
    let Action::Connect(c) = m.start_from("41", 0) else {
        panic!("connects")
    };
    assert_eq!(m.last_event_id(), "41");
    let r = m.request(c, &[], 0).unwrap();
    assert!(r.headers.contains(&("Last-Event-ID", "41")));
    // Once started, it changes nothing.
    assert_eq!(m.start_from("99", 0), Action::None);
    assert_eq!(m.last_event_id(), "41");
}

/// A storm spreads: with full jitter, the waits of machines dropped at once are uniform over
/// [floor, cap], not a tenth of them on the floor (benches/storm.rs measures 10,000).
#[test]
fn full_jitter_spreads_a_storm_evenly_above_the_floor() {
    let ok = Response::new(200, Some("text/event-stream"));
    let waits: Vec<u64> = (0..2000u64)
        .map(|seed| {
            let mut o = opts();
            o.retry = RetryPolicy::resilient();
            let mut m = Machine::new(o, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let c = connect(&mut m);
            assert_eq!(m.on_response(c, &ok, 0), Action::Open);
            delay_of(m.on_error(c, Failure::network(), 60_000))
        })
        .collect();
    let (floor, cap) = (100, 1000);
    assert!(waits.iter().all(|w| (floor..=cap).contains(w)));
    // Uniform: each 100 ms of the 900 holds about a ninth (222 of 2000); the floor's own 100 ms no
    // more than the others.
    for lo in (floor..cap).step_by(100) {
        let n = waits.iter().filter(|w| (lo..lo + 100).contains(*w)).count();
        assert!(
            (150..300).contains(&n),
            "{n} waits in [{lo}, {}) ms",
            lo + 100
        );
    }
}

#[test]
fn a_frozen_page_holds_no_connection_and_resumes_when_shown() {
    let mut m = machine(opts());
    let c = open(&mut m);
    m.on_chunk(c, b"id: 7\ndata: a\n\n", 0, |_| {});
    // pagehide (persisted): dropped, whatever the options; no error, no timer.
    assert_eq!(m.set_frozen(true, 10), Action::Pause);
    assert!(!m.is_current(c));
    assert_eq!(m.poll_timeout(), None);
    assert_eq!(m.ready_state(), ReadyState::Connecting);
    // Coming online while frozen does not reconnect.
    assert_eq!(m.set_online(false, 11), Action::None);
    assert_eq!(m.set_online(true, 12), Action::None);
    // pageshow: at once, with the last ID.
    let Action::Connect(c) = m.set_frozen(false, 20) else {
        panic!("reconnects when shown")
    };
    assert!(m
        .request(c, &[], 20)
        .unwrap()
        .headers
        .contains(&("Last-Event-ID", "7")));
    // A source made while frozen waits.
    let mut m = machine(opts());
    m.set_frozen(true, 0);
    assert_eq!(m.start(0), Action::Pause);
    assert!(matches!(m.set_frozen(false, 5), Action::Connect(_)));
}

#[test]
fn backoff_grows_caps_and_resets_after_a_healthy_period() {
    let mut o = opts();
    o.retry.reconnection_time_ms = 100;
    o.retry.backoff = Some(Backoff {
        factor: 2.0,
        max_delay_ms: 1000,
        jitter: false,
        reset_after_ms: 5000,
    });
    let mut m = machine(o);
    let mut c = connect(&mut m);
    let mut delays = Vec::new();
    for _ in 0..6 {
        let e = wait_of(m.on_error(c, Failure::network(), 0));
        delays.push((e.retry_in_ms.unwrap(), e.attempt));
        c = fire(&mut m);
    }
    assert_eq!(
        delays,
        [(100, 1), (200, 2), (400, 3), (800, 4), (1000, 5), (1000, 6)]
    );
    // Open, but not for long: still growing.
    assert_eq!(m.on_response(c, &OK, 10_000), Action::Open);
    assert_eq!(delay_of(m.on_error(c, Failure::ended(), 10_100)), 1000);
    // Open for the healthy period: back to the start.
    let c = fire(&mut m);
    assert_eq!(m.on_response(c, &OK, 20_000), Action::Open);
    let e = wait_of(m.on_error(c, Failure::ended(), 25_000));
    assert_eq!((e.retry_in_ms, e.attempt), (Some(100), 1));
}

#[test]
fn full_jitter_stays_within_floor_and_cap() {
    let mut o = opts();
    o.retry = RetryPolicy::resilient();
    let mut m = machine(o);
    let mut c = connect(&mut m);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let d = delay_of(m.on_error(c, Failure::network(), 0));
        assert!((100..=30_000).contains(&d), "{d}");
        seen.insert(d);
        c = fire(&mut m);
    }
    assert!(
        seen.len() > 100,
        "jitter spreads the delays: {} distinct",
        seen.len()
    );
}

/// The waits after `n` streams that each open, say `retry: 0`, and end at once.
fn waits_after_retry_0(policy: RetryPolicy, seed: u64, n: usize) -> Vec<u64> {
    let mut o = opts();
    o.retry = policy;
    let mut m = Machine::new(o, seed);
    let mut c = open(&mut m);
    let mut now = 0;
    let mut waits = Vec::new();
    for _ in 0..n {
        m.on_chunk(c, b"retry: 0\n", now, |_| {});
        assert_eq!(m.reconnection_time_ms(), 0);
        waits.push(delay_of(m.on_error(c, Failure::ended(), now)));
        now = m.poll_timeout().unwrap();
        c = fire(&mut m);
        assert_eq!(m.on_response(c, &OK, now), Action::Open);
    }
    waits
}

#[test]
fn a_server_retry_0_cannot_defeat_the_backoff() {
    // The backoff grows from the policy's initial delay, not from the server's 0.
    let no_jitter = RetryPolicy {
        backoff: Some(Backoff {
            jitter: false,
            ..Backoff::default()
        }),
        ..RetryPolicy::resilient()
    };
    assert_eq!(
        waits_after_retry_0(no_jitter, 1, 7),
        [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]
    );
    // With jitter, attempt n waits within [floor, min(1000 * 2^(n-1), 30 000)]; a backoff over
    // the server's 0 would keep every wait at the 100 ms floor.
    let mut longest = 0;
    for seed in 0..50 {
        let waits = waits_after_retry_0(RetryPolicy::resilient(), seed, 7);
        for (n, &w) in waits.iter().enumerate() {
            let cap = (1000u64 << n).min(30_000);
            assert!((100..=cap).contains(&w), "seed {seed}: wait {n} is {w}");
            longest = longest.max(w);
        }
    }
    assert!(longest > 10_000, "the caps grew: longest wait {longest}");
    // Without a backoff the server's word is the spec's: reconnect at once.
    assert_eq!(waits_after_retry_0(RetryPolicy::default(), 1, 3), [0, 0, 0]);
}

#[test]
fn huge_delays_saturate_instead_of_wrapping() {
    // The option itself.
    let mut o = opts();
    o.retry.reconnection_time_ms = u64::MAX;
    let mut m = machine(o);
    let c = open(&mut m);
    assert_eq!(delay_of(m.on_error(c, Failure::network(), 10)), u64::MAX);
    assert_eq!(m.poll_timeout(), Some(u64::MAX));
    assert_eq!(m.handle_timeout(u64::MAX - 1), Action::None);
    // A server's `retry:` past u64::MAX.
    let mut m = machine(opts());
    let c = open(&mut m);
    m.on_chunk(c, b"retry: 99999999999999999999\n", 5, |_| {});
    assert_eq!(m.reconnection_time_ms(), u64::MAX);
    assert_eq!(delay_of(m.on_error(c, Failure::ended(), 10)), u64::MAX);
    assert_eq!(m.poll_timeout(), Some(u64::MAX));
    // ... which a backoff caps.
    let mut o = opts();
    o.retry.backoff = Some(Backoff {
        jitter: false,
        ..Backoff::default()
    });
    let mut m = machine(o);
    let c = open(&mut m);
    m.on_chunk(c, b"retry: 99999999999999999999\n", 5, |_| {});
    assert_eq!(delay_of(m.on_error(c, Failure::ended(), 10)), 30_000);
    // A `Retry-After` in seconds past u64::MAX milliseconds, even over a backoff's cap.
    for backoff in [None, Some(Backoff::default())] {
        let mut o = opts();
        o.retry.classify = Classify::Transient;
        o.retry.backoff = backoff;
        let mut m = machine(o);
        let c = connect(&mut m);
        let r = Response {
            retry_after: Some("99999999999999999999"),
            ..status(503)
        };
        assert_eq!(delay_of(answered(&mut m, c, &r, 10)), u64::MAX);
        assert_eq!(m.poll_timeout(), Some(u64::MAX));
    }
}

#[test]
fn inactivity_timeout_covers_the_whole_attempt_and_rearms_on_every_byte() {
    let mut o = opts();
    o.inactivity_timeout_ms = Some(100);
    let mut m = machine(o.clone());
    // Armed at connect: it bounds the user's per-attempt functions and the fetch too.
    connect(&mut m);
    assert_eq!(m.poll_timeout(), Some(100));
    assert_eq!(m.handle_timeout(99), Action::None);
    let e = wait_of(m.handle_timeout(100));
    assert_eq!((e.kind, e.attempt), (ErrorKind::Timeout, 1));
    // While waiting, the timer is the end of the wait.
    assert_eq!(m.poll_timeout(), Some(3100));

    let mut m = machine(o.clone());
    let c = connect(&mut m);
    assert_eq!(m.on_response(c, &OK, 30), Action::Open);
    assert_eq!(m.poll_timeout(), Some(130));
    // Any byte re-arms it: a comment, half a line.
    m.on_chunk(c, b": ping\n", 80, |_| {});
    assert_eq!(m.poll_timeout(), Some(180));
    m.on_chunk(c, b"da", 150, |_| {});
    assert_eq!(m.poll_timeout(), Some(250));
    assert_eq!(m.handle_timeout(249), Action::None);
    assert_eq!(wait_of(m.handle_timeout(250)).kind, ErrorKind::Timeout);
    assert_eq!(m.poll_timeout(), Some(3250));
    // The next attempt is armed when it starts.
    let c = fire(&mut m);
    assert_eq!(m.poll_timeout(), Some(3350));
    // A response that fails the attempt for good leaves no timer; nor does close().
    fail_of(answered(&mut m, c, &status(404), 3300));
    assert_eq!(m.poll_timeout(), None);
    let mut m = machine(o);
    open(&mut m);
    assert_eq!(m.close(), Action::Close);
    assert_eq!(m.poll_timeout(), None);
    // Without the option, an open stream has no timer at all.
    let mut m = machine(opts());
    open(&mut m);
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn max_attempts_gives_up() {
    let mut o = opts();
    o.retry.max_attempts = Some(3);
    let mut m = machine(o);
    let c = connect(&mut m);
    assert_eq!(wait_of(m.on_error(c, Failure::network(), 0)).attempt, 1);
    let c = fire(&mut m);
    wait_of(m.on_error(c, Failure::network(), 0));
    let c = fire(&mut m);
    let e = fail_of(m.on_error(c, Failure::network(), 0));
    assert!(e.gave_up);
    assert_eq!((e.attempt, e.kind), (3, ErrorKind::Network));
    assert_eq!(
        e.to_string(),
        "the connection failed; gave up after 3 failed attempts in a row"
    );
    assert_eq!(m.ready_state(), ReadyState::Closed);
}

#[test]
fn error_messages_say_what_happened_and_what_comes_next() {
    let mut o = opts();
    o.retry.classify = Classify::Transient;
    let mut m = machine(o);
    let c = connect(&mut m);
    let e = wait_of(answered(&mut m, c, &status(503), 0));
    assert_eq!(
        e.to_string(),
        "the server answered HTTP 503; retrying in 3000 ms"
    );
    let c = fire(&mut m);
    let e = fail_of(m.on_response(c, &status(204), 0));
    assert_eq!(e.to_string(), "the server answered HTTP 204 No Content");
    // The platform's words go after what happened.
    let mut o = opts();
    o.retry.reconnection_time_ms = 10;
    let mut m = machine(o);
    let c = connect(&mut m);
    let e = wait_of(m.on_error(c, Failure::network(), 0));
    let mut s = String::new();
    e.write_message(Some("Connection refused"), &mut s);
    assert_eq!(
        s,
        "the connection failed: Connection refused; retrying in 10 ms"
    );
    // An empty cause adds nothing.
    s.clear();
    e.write_message(Some(""), &mut s);
    assert_eq!(s, e.to_string());
}

#[test]
fn a_cors_failure_closes_for_good_under_every_policy_unless_classified_otherwise() {
    assert_eq!(Failure::cors(), Failure::of(ErrorKind::Cors));
    assert_eq!(ErrorKind::Cors.as_str(), "cors");
    for policy in [Classify::Spec, Classify::Transient] {
        assert_eq!(classify(policy, &Failure::cors()), Decision::Fatal);
    }
    // Even with the preset that retries network errors (and without its backoff's cap mattering).
    let mut o = opts();
    o.retry = RetryPolicy::resilient();
    o.retry.reconnection_time_ms = 10;
    let mut m = machine(o);
    assert_eq!(
        m.classify(&Failure::network()),
        Decision::Retry { at_least_ms: 0 }
    );
    let c = connect(&mut m);
    let e = fail_of(m.on_error(c, Failure::cors(), 0));
    assert_eq!(
        (e.kind, e.status, e.attempt, e.retry_in_ms, e.gave_up),
        (ErrorKind::Cors, None, 1, None, false)
    );
    assert_eq!(m.ready_state(), ReadyState::Closed);
    assert_eq!(m.poll_timeout(), None);
    // The message says what the server must fix, and not the platform's empty words.
    let fixed = "the browser blocked the response (CORS): the server must send \
                 Access-Control-Allow-Origin for this origin";
    assert_eq!(e.to_string(), fixed);
    let mut s = String::new();
    e.write_message(Some("Failed to fetch"), &mut s);
    assert_eq!(s, fixed);
    // The user's classifier sees it with the default in hand, and may retry it.
    let mut seen = Vec::new();
    let mut o = opts();
    o.retry.reconnection_time_ms = 10;
    let mut m = Machine::with_classifier(o, 1, |f: &Failure, default| {
        seen.push((f.kind, default));
        Decision::Retry { at_least_ms: 0 }
    });
    let c = connect(&mut m);
    let e = wait_of(m.on_error(c, Failure::cors(), 0));
    assert_eq!((e.kind, e.retry_in_ms), (ErrorKind::Cors, Some(10)));
    let mut s = String::new();
    e.write_message(Some("Failed to fetch"), &mut s);
    assert_eq!(s, format!("{fixed}; retrying in 10 ms"));
    let c = fire(&mut m);
    assert_eq!(m.on_response(c, &OK, 10), Action::Open);
    drop(m);
    assert_eq!(seen, [(ErrorKind::Cors, Decision::Fatal)]);
}

#[test]
fn a_wrong_content_type_is_named_once() {
    let mut m = machine(opts());
    let c = connect(&mut m);
    let e = fail_of(m.on_response(c, &Response::new(200, Some("text/html")), 0));
    let mut s = String::new();
    e.write_message(Some("text/html"), &mut s);
    assert_eq!(s, "the response is text/html, not text/event-stream");
    s.clear();
    e.write_message(Some(""), &mut s);
    assert_eq!(s, "the response has no Content-Type, not text/event-stream");
    assert_eq!(e.to_string(), s);
}

#[test]
fn event_too_large_fails_for_good_unless_classified_otherwise() {
    let mut o = opts();
    o.max_event_size = 16;
    let mut m = machine(o.clone());
    let c = open(&mut m);
    let a = m.on_chunk(c, b"data: 0123456789abcdefghij", 0, |_| {});
    assert_eq!(fail_of(a).kind, ErrorKind::TooLarge);
    // Retried, the next stream parses from a clean parser.
    let mut m = Machine::with_classifier(o, 1, |_: &Failure, _| Decision::Retry { at_least_ms: 0 });
    let c = open(&mut m);
    let a = m.on_chunk(c, b"data: 0123456789abcdefghij", 0, |_| {});
    assert_eq!(wait_of(a).kind, ErrorKind::TooLarge);
    let c = fire(&mut m);
    assert_eq!(m.on_response(c, &OK, 3000), Action::Open);
    let mut data = Vec::new();
    m.on_chunk(c, b"data: ok\n\n", 3000, |f| {
        if let Frame::Event(e) = f {
            data.push(e.data.to_string());
        }
    });
    assert_eq!(data, ["ok"]);
}

#[test]
fn close_and_abort() {
    let mut m = machine(opts());
    let c = open(&mut m);
    assert_eq!(m.close(), Action::Close);
    assert_eq!(m.close(), Action::None);
    assert_eq!(m.ready_state(), ReadyState::Closed);
    // Late news of the dropped connection changes nothing.
    assert_eq!(m.on_error(c, Failure::network(), 0), Action::None);
    let a = m.on_chunk(c, b"data: a\n\n", 0, |_| panic!("dispatch after close"));
    assert_eq!(a, Action::None);
    assert_eq!(m.abort(), Action::None);

    let mut m = machine(opts());
    connect(&mut m);
    assert_eq!(fail_of(m.abort()).kind, ErrorKind::Aborted);
    // An already-aborted signal: abort before start.
    let mut m = machine(opts());
    assert_eq!(fail_of(m.abort()).kind, ErrorKind::Aborted);
    assert_eq!(m.start(0), Action::None);
    // close() before start, too.
    let mut m = machine(opts());
    assert_eq!(m.close(), Action::Close);
    assert_eq!(m.start(0), Action::None);
}

#[test]
fn stale_connections_are_ignored() {
    let mut m = machine(opts());
    let old = open(&mut m);
    wait_of(m.on_error(old, Failure::network(), 0));
    let new = fire(&mut m);
    // The aborted old fetch reports late: ignored, the new attempt stands.
    assert_eq!(m.on_error(old, Failure::network(), 0), Action::None);
    assert_eq!(m.on_response(old, &OK, 0), Action::None);
    assert_eq!(m.on_response(new, &OK, 0), Action::Open);
    assert_eq!(
        m.on_chunk(old, b"data: a\n\n", 0, |_| panic!("stale")),
        Action::None
    );
    // A timer firing late (nothing is due) starts nothing.
    assert_eq!(m.handle_timeout(u64::MAX), Action::None);
}

#[test]
fn restart_reconnects_at_once_without_counting_an_attempt() {
    let mut o = opts();
    o.retry.max_attempts = Some(3);
    let mut m = machine(o);
    // From Open: a new attempt at once, with the last event ID, and the old one is dropped.
    let c = open(&mut m);
    m.on_chunk(c, b"id: 7\ndata: a\n\n", 0, |_| {});
    let Action::Connect(c2) = m.restart(10) else {
        panic!()
    };
    assert!(!m.is_current(c) && m.is_current(c2));
    assert_eq!(m.ready_state(), ReadyState::Connecting);
    let r = m.request(c2, &[], 10).unwrap();
    assert_eq!(r.headers.last(), Some(&("Last-Event-ID", "7")));
    // From Connecting: the restart itself is not a failed attempt.
    let e = wait_of(m.on_error(c2, Failure::network(), 20));
    assert_eq!(e.attempt, 1);
    let c3 = fire(&mut m);
    let Action::Connect(c4) = m.restart(3030) else {
        panic!()
    };
    assert_ne!(c3, c4);
    assert_eq!(wait_of(m.on_error(c4, Failure::network(), 3040)).attempt, 2);
    // From Waiting: the rest of the wait is skipped, the count stands.
    let Action::Connect(c5) = m.restart(3050) else {
        panic!()
    };
    assert_eq!(m.poll_timeout(), None);
    let e = fail_of(m.on_error(c5, Failure::network(), 3060));
    assert_eq!((e.attempt, e.gave_up), (3, true));
    // Closed: nothing.
    assert_eq!(m.restart(4000), Action::None);
    // Not started: nothing (start() starts).
    let mut m = machine(opts());
    assert_eq!(m.restart(0), Action::None);
    let c = connect(&mut m);
    // Paused (offline or hidden): nothing; it connects when it may.
    assert_eq!(m.on_response(c, &OK, 0), Action::Open);
    wait_of(m.on_error(c, Failure::network(), 0));
    assert_eq!(m.set_online(false, 0), Action::Pause);
    assert_eq!(m.restart(0), Action::None);
    let mut o = opts();
    o.pause_when_hidden = true;
    let mut m = machine(o);
    open(&mut m);
    assert_eq!(m.set_hidden(true, 0), Action::Pause);
    assert_eq!(m.restart(0), Action::None);
    assert!(matches!(m.set_hidden(false, 0), Action::Connect(_)));
}

/// restart() of a healthy stream starts the failure count over, as a network error there would
/// (failures before and after it are not "in a row").
#[test]
fn restart_after_a_healthy_open_starts_the_count_over() {
    let mut o = opts();
    o.retry.max_attempts = Some(3);
    let mut m = machine(o);
    let c = connect(&mut m);
    wait_of(m.on_error(c, Failure::network(), 0));
    let c = fire(&mut m);
    wait_of(m.on_error(c, Failure::network(), 3000));
    // The third attempt opens (healthy: no backoff), then the user restarts it.
    let c = fire(&mut m);
    assert_eq!(m.on_response(c, &OK, 6000), Action::Open);
    let Action::Connect(c) = m.restart(7000) else {
        panic!()
    };
    // One failure after a healthy stream is the first in a row, not the third.
    let e = wait_of(m.on_error(c, Failure::network(), 7010));
    assert_eq!(e.attempt, 1);
}

#[test]
fn pause_when_hidden_never_duplicates_a_connection() {
    let mut o = opts();
    o.pause_when_hidden = true;
    let mut m = machine(o);
    let c = open(&mut m);
    assert_eq!(m.set_hidden(true, 0), Action::Pause);
    assert_eq!(m.ready_state(), ReadyState::Connecting);
    assert_eq!(m.poll_timeout(), None);
    assert_eq!(m.set_hidden(true, 0), Action::None);
    assert_eq!(
        m.on_chunk(c, b"data: a\n\n", 0, |_| panic!("paused")),
        Action::None
    );
    let Action::Connect(c2) = m.set_hidden(false, 0) else {
        panic!()
    };
    // Shown twice: still one connection.
    assert_eq!(m.set_hidden(false, 0), Action::None);
    assert_eq!(m.on_response(c2, &OK, 0), Action::Open);
    // Without the option, visibility changes nothing.
    let mut m = machine(opts());
    open(&mut m);
    assert_eq!(m.set_hidden(true, 0), Action::None);
    // Hidden before start: starts paused.
    let mut o = opts();
    o.pause_when_hidden = true;
    let mut m = machine(o);
    m.set_hidden(true, 0);
    assert_eq!(m.start(0), Action::Pause);
    assert!(matches!(m.set_hidden(false, 0), Action::Connect(_)));
}

#[test]
fn offline_pauses_the_wait_and_online_reconnects_at_once() {
    let mut m = machine(opts());
    let c = open(&mut m);
    wait_of(m.on_error(c, Failure::network(), 0));
    assert_eq!(m.set_online(false, 0), Action::Pause);
    assert_eq!(m.poll_timeout(), None);
    assert_eq!(m.handle_timeout(u64::MAX), Action::None);
    assert!(matches!(m.set_online(true, 0), Action::Connect(_)));
    // Online during a wait skips the rest of it.
    let mut m = machine(opts());
    let c = open(&mut m);
    wait_of(m.on_error(c, Failure::network(), 0));
    assert!(matches!(m.set_online(true, 10), Action::Connect(_)));
    // ... unless the option is off.
    let mut o = opts();
    o.reconnect_on_online = false;
    let mut m = machine(o);
    let c = open(&mut m);
    wait_of(m.on_error(c, Failure::network(), 0));
    assert_eq!(m.set_online(true, 10), Action::None);
    // A failure while offline pauses instead of waiting.
    let mut m = machine(opts());
    let c = open(&mut m);
    m.set_online(false, 0);
    assert_eq!(m.on_error(c, Failure::network(), 0), Action::Pause);
    assert!(matches!(m.set_online(true, 0), Action::Connect(_)));
}

#[test]
fn media_type_and_retry_after_parsing() {
    assert!(is_event_stream("text/event-stream"));
    assert!(is_event_stream("TEXT/EVENT-STREAM;charset=UTF-8"));
    assert!(!is_event_stream("text/event-stream-x"));
    assert!(!is_event_stream(""));
    assert_eq!(parse_retry_after("120", 0), Some(120_000));
    assert_eq!(parse_retry_after(" 5 ", 0), Some(5000));
    assert_eq!(parse_retry_after("-1", 0), None);
    assert_eq!(
        parse_retry_after("99999999999999999999999", 0),
        Some(u64::MAX)
    );
    // Sun, 06 Nov 1994 08:49:37 GMT is 784111777 s after the epoch.
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_770_000),
        Some(7000)
    );
    assert_eq!(
        parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_780_000),
        Some(0)
    );
    assert_eq!(
        parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", 0),
        Some(0)
    );
    assert_eq!(parse_retry_after("Sun, 06 Xyz 1994 08:49:37 GMT", 0), None);
    assert_eq!(parse_retry_after("soon", 0), None);
}

/// Inputs a driver may report, in any order; news of a connection it no longer holds included.
#[derive(Clone, Debug)]
enum Input {
    Start,
    /// `request` with one of [`EXTRA`].
    Request(usize),
    Response(u16, bool, Option<&'static str>),
    Chunk(&'static [u8]),
    Error(usize),
    /// The timer at the current time (maybe early).
    Timeout,
    /// The timer when it is due.
    Due,
    Online(bool),
    Hidden(bool),
    Restart,
    Close,
    Abort,
}

/// Per-attempt headers: the first three valid (one replaces `Accept`), the rest invalid.
const EXTRA: &[&[(&str, &str)]] = &[
    &[],
    &[("X-Token", " t ")],
    &[("accept", "*/*"), ("Pragma", "x")],
    &[("Bad Name", "v")],
    &[("X-A", "a\nb")],
    &[("Last-Event-ID", "1")],
];

const EMPTY_ID: &[u8] = b"id:\n\n";

fn input() -> impl Strategy<Value = Input> {
    let status = prop_oneof![
        Just(204u16),
        Just(401),
        Just(404),
        Just(429),
        Just(500),
        Just(503),
        Just(503),
    ];
    let retry_after = prop_oneof![
        Just(None),
        Just(Some("1")),
        Just(Some("120")),
        Just(Some("junk")),
        Just(Some("99999999999999999999")),
    ];
    // Weighted so that most runs open streams and live long before something closes them.
    let response = prop_oneof![
        6 => Just(Input::Response(200, true, None)),
        2 => (status, any::<bool>(), retry_after).prop_map(|(s, ok, ra)| Input::Response(s, ok, ra)),
        1 => Just(Input::Response(200, false, None)),
    ];
    prop_oneof![
        24 => Just(Input::Start),
        16 => prop_oneof![5 => 0..3usize, 1 => 3..EXTRA.len()].prop_map(Input::Request),
        32 => response,
        48 => prop_oneof![
            Just(&b"data: a\n\n"[..]),
            Just(&b": ping\n"[..]),
            Just(&b"retry: 0\n"[..]),
            Just(&b"retry: 250\n"[..]),
            Just(&b"retry: 99999999999999999999\n"[..]),
            Just(&b"id: 3\ndata: b\n\n"[..]),
            Just(&b"id: 4\n\n"[..]),
            Just(&b"id: 5\ndata: c"[..]),
            Just(&b"\n"[..]),
            Just(EMPTY_ID),
        ].prop_map(Input::Chunk),
        // Over the 32-byte limit.
        2 => Just(Input::Chunk(&b"data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"[..])),
        16 => prop_oneof![8 => 0..3usize, 1 => 3..5usize].prop_map(Input::Error),
        12 => Just(Input::Timeout),
        24 => Just(Input::Due),
        8 => any::<bool>().prop_map(Input::Online),
        8 => any::<bool>().prop_map(Input::Hidden),
        8 => Just(Input::Restart),
        1 => Just(Input::Close),
        1 => Just(Input::Abort),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_sequences_keep_the_invariants(
        steps in proptest::collection::vec((0..2000u64, input()), 1..100),
        seed in any::<u64>(),
        backoff in any::<bool>(),
        pause in any::<bool>(),
        inactivity in prop_oneof![Just(None), Just(Some(500u64))],
        max_attempts in prop_oneof![Just(None), Just(Some(4u32))],
    ) {
        const MIN: u64 = 50;
        const CAP: u64 = 20_000;
        const INITIAL: u64 = 1000;
        let mut o = opts();
        o.max_event_size = 32;
        o.pause_when_hidden = pause;
        o.inactivity_timeout_ms = inactivity;
        o.retry.reconnection_time_ms = INITIAL;
        o.retry.min_delay_ms = MIN;
        o.retry.max_attempts = max_attempts;
        o.retry.classify = Classify::Transient;
        if backoff {
            o.retry.backoff = Some(Backoff { max_delay_ms: CAP, ..Backoff::default() });
        }
        let mut m = Machine::new(o, seed);
        // The driver's view: the fetch it holds, every conn it was given, closed for good.
        let mut held: Option<Conn> = None;
        let mut all: Vec<Conn> = Vec::new();
        let mut closed = false;
        // The model: the reconnection time, when the inactivity timer was last armed, the ids.
        let mut reconnection_time = INITIAL;
        let mut armed_at = 0;
        let mut committed = false;
        let mut empty_id_fed = false;
        // An HTTP error's body being read: when it began, and the Retry-After its wait honours.
        let mut draining: Option<(u64, u64)> = None;
        let mut now = 0u64;
        for (dt, input) in steps {
            now = now.saturating_add(dt);
            // News is about the fetch the driver holds, or else the last one it dropped.
            let target = held.or(all.last().copied()).unwrap_or(Conn(0));
            let live = held.is_some();
            let connecting_before = live && m.ready_state() == ReadyState::Connecting && draining.is_none();
            let open_before = live && m.ready_state() == ReadyState::Open;
            // A `Retry-After` this input carries, or the drained error's (what may lengthen its
            // wait).
            let mut at_least = draining.map_or(0, |(_, a)| a);
            let action = match input {
                Input::Start => m.start(now),
                Input::Request(i) => {
                    let extra = extra(EXTRA[i]);
                    let id = m.last_event_id().to_string();
                    match m.request(target, &extra, now) {
                        Ok(r) => {
                            prop_assert!(connecting_before, "a request outside an attempt");
                            let mut names: Vec<String> =
                                r.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
                            prop_assert_eq!(names.first().map(String::as_str), Some("accept"));
                            prop_assert_eq!(
                                r.headers.last().copied() == Some(("Last-Event-ID", id.as_str())),
                                !id.is_empty()
                            );
                            names.sort();
                            names.dedup();
                            prop_assert_eq!(names.len(), r.headers.len(), "a name twice: {:?}", r.headers);
                            Action::None
                        }
                        Err(a) => {
                            if connecting_before {
                                // Refused only for bad headers: the attempt fails (fatal).
                                prop_assert!(i >= 3, "valid headers refused: {:?}", EXTRA[i]);
                                prop_assert!(matches!(a, Action::Fail(e) if e.kind == ErrorKind::Request), "{:?}", a);
                            }
                            a
                        }
                    }
                }
                Input::Response(s, ok, retry_after) => {
                    if s != 200 {
                        at_least = retry_after.and_then(|v| parse_retry_after(v, 0)).unwrap_or(0);
                    }
                    let ct = if ok { "text/event-stream" } else { "text/html" };
                    let r = Response { status: s, content_type: Some(ct), retry_after, unix_now_ms: 0 };
                    m.on_response(target, &r, now)
                }
                Input::Chunk(c) => {
                    empty_id_fed |= open_before && c == EMPTY_ID;
                    m.on_chunk(target, c, now, |f| {
                        if let Frame::Retry(ms) = f {
                            reconnection_time = ms;
                        }
                    })
                }
                Input::Error(k) => {
                    let kinds = [ErrorKind::Network, ErrorKind::Ended, ErrorKind::Timeout, ErrorKind::Request, ErrorKind::Cors];
                    m.on_error(target, Failure::of(kinds[k]), now)
                }
                Input::Timeout => {
                    let due = m.poll_timeout().is_some_and(|t| now >= t);
                    let a = m.handle_timeout(now);
                    if !due {
                        prop_assert_eq!(a, Action::None, "the timer fired early");
                    }
                    a
                }
                Input::Due => match m.poll_timeout() {
                    Some(t) => {
                        now = now.max(t);
                        let a = m.handle_timeout(now);
                        prop_assert_ne!(a, Action::None, "nothing happened at the deadline");
                        a
                    }
                    None => m.handle_timeout(now),
                },
                Input::Online(on) => m.set_online(on, now),
                Input::Hidden(h) => m.set_hidden(h, now),
                Input::Restart => m.restart(now),
                Input::Close => m.close(),
                Input::Abort => m.abort(),
            };
            let reported = matches!(input, Input::Request(_) | Input::Response(..) | Input::Chunk(_) | Input::Error(_));
            if reported && !live {
                prop_assert_eq!(action, Action::None, "news of a dropped fetch changed the machine");
            }
            if closed {
                prop_assert_eq!(action, Action::None, "an action after close or fail");
            }
            // Only a response to the attempt, or a chunk of its open stream, re-arms the timer.
            match (&input, action) {
                (Input::Response(..), Action::Open | Action::Drain) if connecting_before => armed_at = now,
                (Input::Chunk(_), Action::None) if open_before => armed_at = now,
                _ => {}
            }
            if !matches!(action, Action::None | Action::Drain) {
                draining = None;
            }
            match action {
                Action::None => {}
                Action::Drain => {
                    prop_assert!(live && connecting_before, "drain without a response");
                    prop_assert_eq!(m.ready_state(), ReadyState::Connecting);
                    prop_assert_eq!(m.error_body(), None);
                    draining = Some((now, at_least));
                }
                Action::Open => {
                    prop_assert!(live, "open without a fetch");
                    prop_assert_eq!(m.ready_state(), ReadyState::Open);
                }
                Action::Connect(c) => {
                    prop_assert!(!all.contains(&c), "conn {:?} reused", c);
                    // At most one attempt: every older one is dropped.
                    for old in &all {
                        prop_assert!(!m.is_current(*old), "{:?} still current next to {:?}", old, c);
                    }
                    prop_assert!(m.is_current(c));
                    all.push(c);
                    held = Some(c);
                    armed_at = now;
                }
                Action::Wait(e) => {
                    let delay = e.retry_in_ms.expect("a wait says when");
                    prop_assert!(e.attempt >= 1);
                    let floor = MIN.max(at_least);
                    let ceiling = if backoff {
                        // Attempt n's cap: the initial delay (or the server's longer `retry:`)
                        // doubled n - 1 times, within the policy's cap.
                        let base = reconnection_time.clamp(INITIAL, CAP);
                        let cap = (0..e.attempt - 1).fold(base, |c, _| c.saturating_mul(2).min(CAP));
                        cap.max(floor)
                    } else {
                        // The spec: exactly the reconnection time.
                        reconnection_time.max(floor)
                    };
                    if backoff {
                        prop_assert!((floor..=ceiling).contains(&delay), "wait {} outside [{}, {}]", delay, floor, ceiling);
                    } else {
                        prop_assert_eq!(delay, ceiling);
                    }
                    prop_assert_eq!(m.poll_timeout(), Some(now.saturating_add(delay)));
                    // Only an HTTP error has a body, and only a drained one.
                    prop_assert_eq!(m.error_body().is_some(), e.kind == ErrorKind::Http && e.status != Some(204));
                    held = None;
                }
                Action::Pause => {
                    prop_assert_eq!(m.ready_state(), ReadyState::Connecting);
                    prop_assert_eq!(m.poll_timeout(), None);
                    held = None;
                }
                Action::Fail(e) => {
                    prop_assert_eq!(e.retry_in_ms, None);
                    if e.gave_up {
                        prop_assert_eq!(Some(e.attempt), max_attempts);
                    }
                    held = None;
                    closed = true;
                }
                Action::Close => {
                    held = None;
                    closed = true;
                }
            }
            prop_assert_eq!(closed, m.ready_state() == ReadyState::Closed);
            if closed {
                prop_assert_eq!(m.poll_timeout(), None);
            }
            // The machine never drops the driver's fetch without saying so, nor has another.
            for c in &all {
                prop_assert_eq!(m.is_current(*c), held == Some(*c), "{:?} vs the driver's {:?}", c, held);
            }
            // While an attempt is under way, the timer is the inactivity deadline; while an error's
            // body is read, no later than the most that is waited for it.
            if held.is_some() {
                let idle = inactivity.map(|t| armed_at.saturating_add(t));
                let expected = match draining {
                    Some((since, _)) => {
                        let wait = since.saturating_add(ERROR_BODY_WAIT_MS);
                        Some(idle.map_or(wait, |i| i.min(wait)))
                    }
                    None => idle,
                };
                prop_assert_eq!(m.poll_timeout(), expected);
            }
            prop_assert_eq!(m.reconnection_time_ms(), reconnection_time);
            committed |= !m.last_event_id().is_empty();
            if committed && !empty_id_fed {
                prop_assert_ne!(m.last_event_id(), "", "the last event ID went back to empty");
            }
        }
    }
}
