//! `Options::validate`: what Fetch normalises is normalised, and a bad option is refused when the
//! source is built (never retried as a network error later).

use sse_web_core::options::{check_header, Backoff, Options, RetryPolicy};

fn opts() -> Options {
    Options::new("https://example.com/s")
}

/// Validates `opts()` changed by `f`: the refusal's (name, js_name), or the normalised options.
fn validate(f: impl FnOnce(&mut Options)) -> Result<Options, (&'static str, String)> {
    let mut o = opts();
    f(&mut o);
    match o.validate() {
        Ok(()) => Ok(o),
        Err(e) => Err((e.name, e.js_name())),
    }
}

#[test]
fn the_defaults_and_the_resilient_preset_pass_unchanged() {
    assert_eq!(validate(|_| {}), Ok(opts()));
    let resilient = validate(|o| o.retry = RetryPolicy::resilient()).unwrap();
    assert_eq!(resilient.retry, RetryPolicy::resilient());
}

#[test]
fn methods_are_normalised_as_fetch_does() {
    for (given, sent) in [
        ("get", "GET"),
        ("Post", "POST"),
        ("delete", "DELETE"),
        ("options", "OPTIONS"),
        // Fetch upper-cases only its six methods: any other is sent as written.
        ("patch", "patch"),
        ("QUERY", "QUERY"),
    ] {
        let o = validate(|o| o.method = given.into()).unwrap();
        assert_eq!(o.method, sent, "{given}");
    }
    for bad in ["CONNECT", "trace", "Track", "bad method", "", "GET\n"] {
        assert_eq!(
            validate(|o| o.method = bad.into()),
            Err(("method", "method".into())),
            "{bad:?}"
        );
    }
}

#[test]
fn header_values_are_trimmed_and_bad_headers_refused() {
    let o = validate(|o| {
        o.headers = vec![
            ("Authorization".into(), "Bearer t\n".into()),
            ("X-A".into(), " \tv \r\n".into()),
            ("X-Empty".into(), "".into()),
        ]
    })
    .unwrap();
    let values: Vec<&str> = o.headers.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(values, ["Bearer t", "v", ""]);
    for (name, value) in [
        ("X-A", "a\nb"),
        ("X-A", "a\rb"),
        ("X-A", "a\0b"),
        ("X Y", "1"),
        ("X:Y", "1"),
        ("", "1"),
        ("Last-Event-ID", "1"),
        ("last-event-id", "1"),
    ] {
        assert_eq!(
            validate(|o| o.headers = vec![(name.into(), value.into())]),
            Err(("headers", "headers".into())),
            "{name:?}: {value:?}"
        );
    }
    // The same rule the per-attempt headers go through.
    assert_eq!(check_header("X-A", " v "), Ok("v"));
    assert!(check_header("Last-Event-Id", "1").is_err());
}

#[test]
fn numbers_and_names_out_of_range_are_refused() {
    type Edit = fn(&mut Options);
    let cases: &[(Edit, (&str, &str))] = &[
        (
            |o| o.last_event_id = "a\nb".into(),
            ("last_event_id", "lastEventId"),
        ),
        (
            |o| o.last_event_id = "a\r".into(),
            ("last_event_id", "lastEventId"),
        ),
        (
            |o| o.last_event_id = "\0".into(),
            ("last_event_id", "lastEventId"),
        ),
        (
            |o| o.last_event_id = "x".repeat(4097),
            ("last_event_id", "lastEventId"),
        ),
        (
            |o| o.last_event_id_query = Some(String::new()),
            ("last_event_id_query", "lastEventIdQuery"),
        ),
        (|o| o.max_event_size = 0, ("max_event_size", "maxEventSize")),
        (
            |o| o.inactivity_timeout_ms = Some(0),
            ("inactivity_timeout", "inactivityTimeout"),
        ),
        (
            |o| o.retry.max_attempts = Some(0),
            ("retry.max_attempts", "retry.maxAttempts"),
        ),
    ];
    for (edit, expected) in cases {
        assert_eq!(validate(edit), Err((expected.0, expected.1.into())));
    }
    for factor in [f64::NAN, f64::INFINITY, 0.5, 0.0, -2.0] {
        let backoff = Backoff {
            factor,
            ..Backoff::default()
        };
        assert_eq!(
            validate(|o| o.retry.backoff = Some(backoff)),
            Err(("retry.backoff.factor", "retry.backoff.factor".into())),
            "{factor}"
        );
    }
    // The smallest values that make sense pass.
    let o = validate(|o| {
        o.last_event_id = "é 1".into();
        o.last_event_id_query = Some("lastEventId".into());
        o.max_event_size = 1;
        o.inactivity_timeout_ms = Some(1);
        o.retry.max_attempts = Some(1);
        o.retry.backoff = Some(Backoff {
            factor: 1.0,
            ..Backoff::default()
        });
    });
    assert!(o.is_ok(), "{o:?}");
}

#[test]
fn the_refusal_says_which_option_and_why() {
    let mut o = opts();
    o.max_event_size = 0;
    let e = o.validate().unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid option max_event_size: must be at least 1"
    );
    assert_eq!(e.js_name(), "maxEventSize");
    let mut o = opts();
    o.retry.max_attempts = Some(0);
    assert_eq!(o.validate().unwrap_err().js_name(), "retry.maxAttempts");
}
