//! The reconnect machine: a table of transitions, and properties over random input sequences
//! (deterministic: the jitter is seeded).

#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use sse_core::options::{Backoff, Classify, Options, RetryPolicy};
use sse_core::parser::Frame;
use sse_core::reconnect::{
    classify, is_event_stream, parse_retry_after, Action, Conn, Decision, Error, ErrorKind,
    Failure, Machine, ReadyState, Response,
};

const OK: Response<'static> = Response {
    status: 200,
    content_type: Some("text/event-stream"),
    retry_after_ms: None,
};

fn status(status: u16) -> Response<'static> {
    Response {
        status,
        content_type: Some("text/event-stream"),
        retry_after_ms: None,
    }
}

fn machine(options: Options) -> Machine {
    Machine::new(options, 42)
}

fn opts() -> Options {
    Options::new("https://example.com/s")
}

fn connect(m: &mut Machine) -> Conn {
    match m.start() {
        Action::Connect(c) => c,
        other => panic!("expected Connect, got {other:?}"),
    }
}

/// Feeds a response, sending a failure through `on_error` as a driver does.
fn respond(m: &mut Machine, c: Conn, r: &Response<'_>, now: u64) -> Action {
    match m.on_response(c, r, now) {
        Ok(a) => a,
        Err(f) => m.on_error(c, f, now),
    }
}

fn open(m: &mut Machine) -> Conn {
    let c = connect(m);
    assert_eq!(respond(m, c, &OK, 0), Action::Open);
    c
}

fn wait_of(a: Action) -> (u64, Error) {
    match a {
        Action::Wait { delay_ms, error } => (delay_ms, error),
        other => panic!("expected Wait, got {other:?}"),
    }
}

fn fail_of(a: Action) -> Error {
    match a {
        Action::Fail(e) => e,
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
            retry_after_ms: Some(1000),
        };
        let a = respond(&mut m, c, &r, 0);
        match expected {
            Ok(()) => {
                assert_eq!(a, Action::Open, "{code} {ct:?}");
                assert_eq!(m.ready_state(), ReadyState::Open);
            }
            Err(kind) => {
                let e = fail_of(a);
                assert_eq!(e.kind, kind, "{code} {ct:?}");
                assert_eq!(e.retry_in_ms, None);
                assert_eq!(m.ready_state(), ReadyState::Closed);
                // Nothing brings a closed machine back.
                assert_eq!(m.on_timer(), Action::None);
                assert_eq!(m.set_online(true), Action::None);
                assert_eq!(m.start(), Action::None);
            }
        }
    }
}

#[test]
fn network_error_end_and_timeout_reconnect_after_the_reconnection_time() {
    for (failure, kind) in [
        (Failure::network(), ErrorKind::Network),
        (Failure::ended(), ErrorKind::Ended),
        (Failure::timeout(), ErrorKind::Timeout),
    ] {
        let mut m = machine(opts());
        let c = open(&mut m);
        let (delay, e) = wait_of(m.on_error(c, failure, 10));
        assert_eq!((delay, e.kind, e.retry_in_ms), (3000, kind, Some(3000)));
        assert_eq!(m.ready_state(), ReadyState::Connecting);
        // A network error before the response, too.
        let Action::Connect(c2) = m.on_timer() else {
            panic!()
        };
        assert_ne!(c, c2);
        assert_eq!(wait_of(m.on_error(c2, Failure::network(), 20)).0, 3000);
    }
}

#[test]
fn retry_field_sets_the_reconnection_time() {
    let mut m = machine(opts());
    let c = open(&mut m);
    m.on_chunk(c, b"retry: 250\n", |_| {}).unwrap();
    assert_eq!(m.reconnection_time_ms(), 250);
    m.on_chunk(c, b"retry: x\n", |_| {}).unwrap();
    assert_eq!(m.reconnection_time_ms(), 250);
    assert_eq!(wait_of(m.on_error(c, Failure::ended(), 0)).0, 250);
    // retry: 0 reconnects at once by the spec, unless a floor is set.
    let mut o = opts();
    o.retry.min_delay_ms = 100;
    let mut m = machine(o);
    let c = open(&mut m);
    m.on_chunk(c, b"retry: 0\n", |_| {}).unwrap();
    assert_eq!(wait_of(m.on_error(c, Failure::ended(), 0)).0, 100);
}

#[test]
fn last_event_id_is_sent_after_dispatch_only_and_as_utf8() {
    let mut m = machine(opts());
    let c = open(&mut m);
    let mut seen = Vec::new();
    m.on_chunk(
        c,
        "id: é1\ndata: a\n\nid: 2\ndata: partial".as_bytes(),
        |f| {
            if let Frame::Event(e) = f {
                seen.push(e.last_event_id.to_string());
            }
        },
    )
    .unwrap();
    assert_eq!(seen, ["é1"]);
    wait_of(m.on_error(c, Failure::network(), 0));
    let Action::Connect(_) = m.on_timer() else {
        panic!()
    };
    let r = m.request();
    assert_eq!(
        r.headers,
        [("Accept", "text/event-stream"), ("Last-Event-ID", "é1")]
    );
    assert_eq!(r.url, "https://example.com/s");
    assert_eq!(m.last_event_id(), "é1");
}

#[test]
fn request_carries_method_headers_body_and_the_query_parameter() {
    let mut o = opts();
    o.url = "https://example.com/s?a=1#frag".into();
    o.method = "POST".into();
    o.headers = vec![
        ("Authorization".into(), "Bearer x".into()),
        ("accept".into(), "text/event-stream, */*".into()),
    ];
    o.body = Some(b"{}".to_vec());
    o.last_event_id = "a b&é".into();
    o.last_event_id_query = Some("lastEventId".into());
    let mut m = machine(o);
    connect(&mut m);
    let r = m.request();
    assert_eq!(r.method, "POST");
    assert_eq!(
        r.url,
        "https://example.com/s?a=1&lastEventId=a%20b%26%C3%A9#frag"
    );
    // The user's Accept replaces ours.
    assert_eq!(
        r.headers,
        [
            ("Authorization", "Bearer x"),
            ("accept", "text/event-stream, */*"),
            ("Last-Event-ID", "a b&é")
        ]
    );
    assert_eq!(r.body, Some(&b"{}"[..]));
    // No id yet: no header, no parameter.
    let mut o = opts();
    o.last_event_id_query = Some("lastEventId".into());
    let m = machine(o);
    assert_eq!(m.request().url, "https://example.com/s");
}

#[test]
fn transient_preset_retries_5xx_429_408_and_honours_retry_after() {
    let table: &[(u16, Option<u64>, Option<u64>)] = &[
        // (status, Retry-After ms, expected delay; None = fatal)
        (500, None, Some(1000)),
        (503, Some(7000), Some(7000)),
        (503, Some(10), Some(1000)),
        (429, Some(2000), Some(2000)),
        (408, None, Some(1000)),
        (404, None, None),
        (401, Some(5000), None),
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
            retry_after_ms: retry_after,
        };
        let a = respond(&mut m, c, &r, 0);
        match expected {
            Some(d) => {
                let (delay, e) = wait_of(a);
                assert_eq!(
                    (delay, e.kind, e.status),
                    (d, ErrorKind::Http, Some(code)),
                    "{code}"
                );
            }
            None => assert_eq!(fail_of(a).status, Some(code)),
        }
    }
    // The free functions the hooks start from.
    let f = Failure {
        kind: ErrorKind::Http,
        status: Some(502),
        retry_after_ms: None,
    };
    assert_eq!(classify(Classify::Spec, &f), Decision::Fatal);
    assert_eq!(
        classify(Classify::Transient, &f),
        Decision::Retry { at_least_ms: 0 }
    );
}

#[test]
fn a_user_hook_decides_through_on_error_decided() {
    let mut m = machine(opts());
    let c = connect(&mut m);
    let f = m.on_response(c, &status(404), 0).unwrap_err();
    assert_eq!(m.classify(&f), Decision::Fatal);
    let (delay, _) = wait_of(m.on_error_decided(c, f, Decision::Retry { at_least_ms: 5000 }, 0));
    assert_eq!(delay, 5000);
    // And a hook may make a network error fatal.
    let Action::Connect(c) = m.on_timer() else {
        panic!()
    };
    assert_eq!(
        fail_of(m.on_error_decided(c, Failure::network(), Decision::Fatal, 0)).kind,
        ErrorKind::Network
    );
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
        let (d, e) = wait_of(m.on_error(c, Failure::network(), 0));
        delays.push((d, e.attempt));
        let Action::Connect(next) = m.on_timer() else {
            panic!()
        };
        c = next;
    }
    assert_eq!(
        delays,
        [(100, 1), (200, 2), (400, 3), (800, 4), (1000, 5), (1000, 6)]
    );
    // Open, but not for long: still growing.
    assert_eq!(respond(&mut m, c, &OK, 10_000), Action::Open);
    assert_eq!(wait_of(m.on_error(c, Failure::ended(), 10_100)).0, 1000);
    // Open for the healthy period: back to the start.
    let Action::Connect(c) = m.on_timer() else {
        panic!()
    };
    assert_eq!(respond(&mut m, c, &OK, 20_000), Action::Open);
    let (d, e) = wait_of(m.on_error(c, Failure::ended(), 25_000));
    assert_eq!((d, e.attempt), (100, 1));
}

#[test]
fn full_jitter_stays_within_floor_and_cap() {
    let mut o = opts();
    o.retry = RetryPolicy::resilient();
    let mut m = machine(o);
    let mut c = connect(&mut m);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let (d, _) = wait_of(m.on_error(c, Failure::network(), 0));
        assert!((100..=30_000).contains(&d), "{d}");
        seen.insert(d);
        let Action::Connect(next) = m.on_timer() else {
            panic!()
        };
        c = next;
    }
    assert!(
        seen.len() > 100,
        "jitter spreads the delays: {} distinct",
        seen.len()
    );
}

#[test]
fn max_attempts_gives_up() {
    let mut o = opts();
    o.retry.max_attempts = Some(3);
    let mut m = machine(o);
    let c = connect(&mut m);
    let (_, e) = wait_of(m.on_error(c, Failure::network(), 0));
    assert_eq!(e.attempt, 1);
    let Action::Connect(c) = m.on_timer() else {
        panic!()
    };
    wait_of(m.on_error(c, Failure::network(), 0));
    let Action::Connect(c) = m.on_timer() else {
        panic!()
    };
    let e = fail_of(m.on_error(c, Failure::network(), 0));
    assert!(e.gave_up);
    assert_eq!((e.attempt, e.kind), (3, ErrorKind::Network));
    assert_eq!(e.message(), "gave up: too many failed attempts in a row");
    assert_eq!(m.ready_state(), ReadyState::Closed);
}

#[test]
fn event_too_large_fails_for_good() {
    let mut o = opts();
    o.max_event_size = 16;
    let mut m = machine(o);
    let c = open(&mut m);
    let f = m
        .on_chunk(c, b"data: 0123456789abcdefghij", |_| {})
        .unwrap_err();
    assert_eq!(f.kind, ErrorKind::TooLarge);
    assert_eq!(fail_of(m.on_error(c, f, 0)).kind, ErrorKind::TooLarge);
}

#[test]
fn close_and_abort() {
    let mut m = machine(opts());
    let c = open(&mut m);
    m.close();
    assert_eq!(m.ready_state(), ReadyState::Closed);
    // Late news of the dropped connection changes nothing.
    assert_eq!(m.on_error(c, Failure::network(), 0), Action::None);
    assert_eq!(
        m.on_chunk(c, b"data: a\n\n", |_| panic!("dispatch after close")),
        Ok(())
    );
    assert_eq!(m.abort(), Action::None);

    let mut m = machine(opts());
    connect(&mut m);
    assert_eq!(fail_of(m.abort()).kind, ErrorKind::Aborted);
    // An already-aborted signal: abort before start.
    let mut m = machine(opts());
    assert_eq!(fail_of(m.abort()).kind, ErrorKind::Aborted);
    assert_eq!(m.start(), Action::None);
}

#[test]
fn stale_connections_are_ignored() {
    let mut m = machine(opts());
    let old = open(&mut m);
    wait_of(m.on_error(old, Failure::network(), 0));
    let Action::Connect(new) = m.on_timer() else {
        panic!()
    };
    // The aborted old fetch reports late: ignored, the new attempt stands.
    assert_eq!(m.on_error(old, Failure::network(), 0), Action::None);
    assert_eq!(m.on_response(old, &OK, 0), Ok(Action::None));
    assert_eq!(respond(&mut m, new, &OK, 0), Action::Open);
    // A second timer firing (stale) starts nothing.
    assert_eq!(m.on_timer(), Action::None);
}

#[test]
fn pause_when_hidden_never_duplicates_a_connection() {
    let mut o = opts();
    o.pause_when_hidden = true;
    let mut m = machine(o);
    let c = open(&mut m);
    assert_eq!(m.set_hidden(true), Action::Pause);
    assert_eq!(m.ready_state(), ReadyState::Connecting);
    assert_eq!(m.set_hidden(true), Action::None);
    assert_eq!(m.on_chunk(c, b"data: a\n\n", |_| panic!("paused")), Ok(()));
    let Action::Connect(c2) = m.set_hidden(false) else {
        panic!()
    };
    // Shown twice: still one connection.
    assert_eq!(m.set_hidden(false), Action::None);
    assert_eq!(respond(&mut m, c2, &OK, 0), Action::Open);
    // Without the option, visibility changes nothing.
    let mut m = machine(opts());
    open(&mut m);
    assert_eq!(m.set_hidden(true), Action::None);
    // Hidden before start: starts paused.
    let mut o = opts();
    o.pause_when_hidden = true;
    let mut m = machine(o);
    m.set_hidden(true);
    assert_eq!(m.start(), Action::Pause);
    assert!(matches!(m.set_hidden(false), Action::Connect(_)));
}

#[test]
fn offline_pauses_the_wait_and_online_reconnects_at_once() {
    let mut m = machine(opts());
    let c = open(&mut m);
    wait_of(m.on_error(c, Failure::network(), 0));
    assert_eq!(m.set_online(false), Action::Pause);
    assert_eq!(m.on_timer(), Action::None);
    assert!(matches!(m.set_online(true), Action::Connect(_)));
    // Online during a wait skips the rest of it.
    let mut m = machine(opts());
    let c = open(&mut m);
    wait_of(m.on_error(c, Failure::network(), 0));
    assert!(matches!(m.set_online(true), Action::Connect(_)));
    // ... unless the option is off.
    let mut o = opts();
    o.reconnect_on_online = false;
    let mut m = machine(o);
    let c = open(&mut m);
    wait_of(m.on_error(c, Failure::network(), 0));
    assert_eq!(m.set_online(true), Action::None);
    // A failure while offline pauses instead of waiting.
    let mut m = machine(opts());
    let c = open(&mut m);
    m.set_online(false);
    assert_eq!(m.on_error(c, Failure::network(), 0), Action::Pause);
    assert!(matches!(m.set_online(true), Action::Connect(_)));
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

/// Inputs a driver may report, in any order, stale ones included.
#[derive(Clone, Debug)]
enum Input {
    Start,
    Response(u16, bool),
    Chunk(&'static [u8]),
    Error(u8),
    Timer,
    Close,
    Abort,
    Hidden(bool),
    Online(bool),
    /// Report on an older connection than the current one.
    Stale,
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        1 => Just(Input::Start),
        3 => (prop_oneof![Just(200u16), Just(204), Just(429), Just(500), Just(503), Just(404)], any::<bool>())
            .prop_map(|(s, ok)| Input::Response(s, ok)),
        3 => prop_oneof![
            Just(&b"data: a\n\n"[..]),
            Just(&b"retry: 0\n"[..]),
            Just(&b"retry: 99999999\n"[..]),
            Just(&b"id: 3\ndata: b\n\n"[..]),
            Just(&b"data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"[..]),
        ].prop_map(Input::Chunk),
        3 => (0u8..3).prop_map(Input::Error),
        3 => Just(Input::Timer),
        1 => Just(Input::Close),
        1 => Just(Input::Abort),
        1 => any::<bool>().prop_map(Input::Hidden),
        1 => any::<bool>().prop_map(Input::Online),
        1 => Just(Input::Stale),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn random_sequences_keep_the_invariants(
        inputs in proptest::collection::vec(input(), 1..60),
        seed in any::<u64>(),
        backoff in any::<bool>(),
        pause in any::<bool>(),
    ) {
        let mut o = opts();
        o.max_event_size = 32;
        o.pause_when_hidden = pause;
        o.retry.min_delay_ms = 50;
        o.retry.classify = Classify::Transient;
        if backoff {
            o.retry.backoff = Some(Backoff { max_delay_ms: 20_000, ..Backoff::default() });
        }
        let max = if backoff { 20_000 } else { 99_999_999 };
        let mut m = Machine::new(o, seed);
        // The driver's view: the connection it holds, whether a timer is set, closed for good.
        let mut conn: Option<Conn> = None;
        let mut all: Vec<Conn> = Vec::new();
        let mut timer = false;
        let mut closed = false;
        let mut now = 0;
        for input in inputs {
            now += 100;
            let current = conn.unwrap_or(Conn(0));
            let action = match input {
                Input::Start => m.start(),
                Input::Response(s, ok) => {
                    let r = Response { status: s, content_type: Some(if ok { "text/event-stream" } else { "text/html" }), retry_after_ms: None };
                    match m.on_response(current, &r, now) { Ok(a) => a, Err(f) => m.on_error(current, f, now) }
                }
                Input::Chunk(c) => match m.on_chunk(current, c, |_| {}) { Ok(()) => Action::None, Err(f) => m.on_error(current, f, now) },
                Input::Error(k) => {
                    let f = [Failure::network(), Failure::ended(), Failure::timeout()][usize::from(k)];
                    m.on_error(current, f, now)
                }
                Input::Timer => if timer { timer = false; m.on_timer() } else { m.on_timer() },
                Input::Close => { m.close(); conn = None; timer = false; closed = true; Action::None }
                Input::Abort => m.abort(),
                Input::Hidden(h) => m.set_hidden(h),
                Input::Online(on) => m.set_online(on),
                Input::Stale => {
                    let old = all.first().copied().filter(|c| Some(*c) != conn).unwrap_or(Conn(u64::MAX));
                    let a = m.on_error(old, Failure::network(), now);
                    prop_assert_eq!(a, Action::None, "stale news changed the machine");
                    a
                }
            };
            if closed {
                prop_assert!(matches!(action, Action::None), "{:?} after close or fail", action);
            }
            match action {
                Action::None => {}
                Action::Open => prop_assert!(conn.is_some(), "open without a connection"),
                Action::Connect(c) => {
                    // Only ever asked for when no connection is live: never two at once.
                    prop_assert!(conn.is_none(), "second connection while {:?} is live", conn);
                    prop_assert!(!all.contains(&c), "connection id reused");
                    conn = Some(c);
                    all.push(c);
                    timer = false;
                }
                Action::Wait { delay_ms, error } => {
                    prop_assert!((50..=max).contains(&delay_ms), "delay {} outside [50, {}]", delay_ms, max);
                    prop_assert_eq!(error.retry_in_ms, Some(delay_ms));
                    conn = None;
                    timer = true;
                }
                Action::Pause => { conn = None; timer = false; }
                Action::Fail(e) => {
                    prop_assert_eq!(e.retry_in_ms, None);
                    conn = None;
                    timer = false;
                    closed = true;
                }
            }
            prop_assert_eq!(closed, m.ready_state() == ReadyState::Closed);
        }
    }
}
