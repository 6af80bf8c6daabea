//! The native client against the real sse-testserver over loopback.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use sse_client::{
    Backoff, Classify, Decision, ErrorKind, Event, EventSource, ReadyState, RetryPolicy,
};
use sse_testserver::{LogEntry, Server};

async fn server() -> Server {
    sse_testserver::spawn().await.expect("server starts")
}

/// Stores per-connection scripts for `token` and returns the URL that plays them.
async fn scripts(s: &Server, token: &str, scripts: serde_json::Value) -> String {
    let res = reqwest::Client::new()
        .post(format!("{}/script?token={token}", s.url()))
        .body(scripts.to_string())
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    format!("{}/s?token={token}", s.url())
}

async fn log(s: &Server, token: &str) -> Vec<LogEntry> {
    let body = reqwest::get(format!("{}/log?token={token}", s.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

/// Takes items until `n` events arrived (or the stream ended), within 10 s (of the test's clock:
/// a paused one runs faster).
async fn take_events(es: &mut EventSource, n: usize) -> (Vec<Event>, Vec<sse_client::Error>) {
    take_within(es, n, Duration::from_secs(10)).await
}

async fn take_within(
    es: &mut EventSource,
    n: usize,
    limit: Duration,
) -> (Vec<Event>, Vec<sse_client::Error>) {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let done = tokio::time::timeout(limit, async {
        while events.len() < n {
            match es.next().await {
                Some(Ok(e)) => events.push(e),
                Some(Err(e)) => errors.push(e),
                None => break,
            }
        }
    })
    .await;
    assert!(
        done.is_ok(),
        "timed out with {} events, errors {errors:?}",
        events.len()
    );
    (events, errors)
}

/// Every item until the stream ends, within 10 s.
async fn drain(es: &mut EventSource) -> (Vec<Event>, Vec<sse_client::Error>) {
    take_events(es, usize::MAX).await
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        reconnection_time_ms: 10,
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn spec_defaults_and_last_event_id_resume() {
    let s = server().await;
    let url = scripts(
        &s,
        "spec",
        json!([
            {"steps": [{"write": "retry: 20\nid: é1\nevent: greet\ndata: a\ndata: b\n\nid: 2\ndata: cut"}]},
            {"steps": [{"write": ": heartbeat\n\ndata: c\n\n"}]},
            {"status": 204}
        ]),
    )
    .await;
    let mut es = EventSource::builder(&url).connect().unwrap();
    assert_eq!(es.ready_state(), ReadyState::Connecting);
    let (events, errors) = drain(&mut es).await;
    let got: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.event_type.as_str(),
                e.data.as_str(),
                e.last_event_id.as_str(),
            )
        })
        .collect();
    // The partial event (and its id) is discarded at the end of the stream.
    assert_eq!(got, [("greet", "a\nb", "é1"), ("message", "c", "é1")]);
    let kinds: Vec<_> = errors
        .iter()
        .map(|e| (e.kind(), e.status(), e.will_retry()))
        .collect();
    assert_eq!(
        kinds,
        [
            (ErrorKind::Ended, None, true),
            (ErrorKind::Ended, None, true),
            (ErrorKind::Http, Some(204), false)
        ]
    );
    assert_eq!(
        errors[0].retry_in(),
        Some(Duration::from_millis(20)),
        "the server's retry: is used"
    );
    assert_eq!(es.ready_state(), ReadyState::Closed);
    let log = log(&s, "spec").await;
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|e| e.method == "GET"));
    assert!(log[0]
        .headers
        .contains(&("accept".into(), "text/event-stream".into())));
    // What a fetch in cache mode no-store puts on the wire, as the browser client does.
    assert!(log[0]
        .headers
        .contains(&("cache-control".into(), "no-cache".into())));
    assert!(log[0]
        .headers
        .contains(&("pragma".into(), "no-cache".into())));
    assert_eq!(log[0].last_event_id, None);
    // UTF-8 on the wire, committed id only.
    assert_eq!(log[1].last_event_id.as_deref(), Some("é1"));
    assert_eq!(log[2].last_event_id.as_deref(), Some("é1"));
}

#[tokio::test]
async fn http_errors_and_wrong_types_fail_for_good_by_default() {
    let s = server().await;
    for (script, kind, status) in [
        (json!({"status": 404}), ErrorKind::Http, Some(404)),
        (
            json!({"status": 503, "headers": [["Retry-After", "1"]]}),
            ErrorKind::Http,
            Some(503),
        ),
        (
            json!({"headers": [["Content-Type", "text/html"]]}),
            ErrorKind::ContentType,
            Some(200),
        ),
    ] {
        let token = format!("fatal{}", status.unwrap_or(0));
        let url = scripts(&s, &token, json!([script])).await;
        let mut es = EventSource::builder(&url).retry(fast()).connect().unwrap();
        let (events, errors) = drain(&mut es).await;
        assert!(events.is_empty());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            (errors[0].kind(), errors[0].status(), errors[0].will_retry()),
            (kind, status, false)
        );
        assert_eq!(log(&s, &token).await.len(), 1, "no retry");
    }
}

#[tokio::test]
async fn transient_preset_retries_503_after_retry_after() {
    let s = server().await;
    let url = scripts(
        &s,
        "transient",
        json!([
            {"status": 503, "headers": [["Retry-After", "0"]]},
            {"status": 429},
            {"steps": [{"write": "data: ok\n\n"}]},
            {"status": 204}
        ]),
    )
    .await;
    let mut policy = fast();
    policy.classify = Classify::Transient;
    let mut es = EventSource::builder(&url).retry(policy).connect().unwrap();
    let (events, errors) = drain(&mut es).await;
    assert_eq!(events.len(), 1);
    let statuses: Vec<_> = errors
        .iter()
        .map(|e| (e.status(), e.will_retry()))
        .collect();
    assert_eq!(
        statuses,
        [
            (Some(503), true),
            (Some(429), true),
            (None, true),
            (Some(204), false)
        ]
    );
}

#[tokio::test]
async fn post_headers_and_body_are_sent_on_every_attempt() {
    let s = server().await;
    let url = scripts(
        &s,
        "post",
        json!([{"steps": [{"write": "id: 1\ndata: x\n\n"}]}, {"status": 204}]),
    )
    .await;
    let counter = Arc::new(AtomicU32::new(0));
    let c = counter.clone();
    let mut es = EventSource::builder(&url)
        .method("POST")
        .header("Content-Type", "application/json")
        .headers_with(move || {
            let n = c.fetch_add(1, Ordering::SeqCst);
            async move { vec![("Authorization".to_string(), format!("Bearer token-{n}"))] }
        })
        .body(r#"{"q":"é"}"#)
        .retry(fast())
        .connect()
        .unwrap();
    let (events, _) = drain(&mut es).await;
    assert_eq!(events.len(), 1);
    let log = log(&s, "post").await;
    assert_eq!(log.len(), 2);
    for (i, entry) in log.iter().enumerate() {
        assert_eq!(entry.method, "POST");
        assert_eq!(entry.body, r#"{"q":"é"}"#);
        assert!(entry
            .headers
            .contains(&("content-type".into(), "application/json".into())));
        assert!(
            entry
                .headers
                .contains(&("authorization".into(), format!("Bearer token-{i}"))),
            "{entry:?}"
        );
    }
    assert_eq!(log[1].last_event_id.as_deref(), Some("1"));
}

#[tokio::test]
async fn initial_last_event_id_and_query_parameter() {
    let s = server().await;
    let url = format!("{}/counter?token=q&total=5", s.url());
    let mut es = EventSource::builder(&url)
        .last_event_id("3")
        .last_event_id_query("lastEventId")
        .retry(fast())
        .connect()
        .unwrap();
    let (events, _) = drain(&mut es).await;
    let ids: Vec<_> = events.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(ids, ["4", "5"]);
    let log = log(&s, "q").await;
    assert!(log[0].uri.ends_with("&lastEventId=3"), "{}", log[0].uri);
    assert!(log[1].uri.ends_with("&lastEventId=5"), "{}", log[1].uri);
}

#[tokio::test(start_paused = true)]
async fn backoff_timings_follow_the_policy() {
    let s = server().await;
    let url = scripts(&s, "backoff", json!([{"status": 500}, {"status": 500}, {"status": 500}, {"status": 500}, {"status": 404}])).await;
    let policy = RetryPolicy {
        reconnection_time_ms: 100,
        backoff: Some(Backoff {
            factor: 2.0,
            max_delay_ms: 300,
            jitter: false,
            reset_after_ms: 5000,
        }),
        min_delay_ms: 0,
        max_attempts: None,
        classify: Classify::Transient,
    };
    let mut es = EventSource::builder(&url).retry(policy).connect().unwrap();
    let mut gaps = Vec::new();
    let mut last = tokio::time::Instant::now();
    while let Some(item) = es.next().await {
        let e = item.unwrap_err();
        let now = tokio::time::Instant::now();
        gaps.push((
            e.retry_in().map(|d| d.as_millis()),
            (now - last).as_millis(),
        ));
        last = now;
    }
    // (announced wait, virtual time since the previous error): the wait really happened.
    assert_eq!(
        gaps,
        [
            (Some(100), 0),
            (Some(200), 100),
            (Some(300), 200),
            (Some(300), 300),
            (None, 300)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn full_jitter_spreads_waits_within_the_cap() {
    let s = server().await;
    let url = scripts(&s, "jitter", json!([{"status": 500}])).await;
    let policy = RetryPolicy {
        reconnection_time_ms: 1000,
        backoff: Some(Backoff::default()),
        min_delay_ms: 50,
        max_attempts: Some(30),
        classify: Classify::Transient,
    };
    let mut es = EventSource::builder(&url)
        .retry(policy)
        .seed(7)
        .connect()
        .unwrap();
    // 30 waits of up to 30 s pass in virtual time.
    let (_, errors) = take_within(&mut es, usize::MAX, Duration::from_secs(3600)).await;
    assert_eq!(errors.len(), 30);
    assert!(errors.last().is_some_and(|e| e.details().gave_up));
    let waits: Vec<u128> = errors
        .iter()
        .filter_map(|e| e.retry_in())
        .map(|d| d.as_millis())
        .collect();
    assert!(waits.iter().all(|w| (50..=30_000).contains(w)), "{waits:?}");
    let distinct: std::collections::HashSet<_> = waits.iter().collect();
    assert!(distinct.len() > 20, "jitter spreads: {waits:?}");
}

#[tokio::test]
async fn inactivity_timeout_reconnects() {
    let s = server().await;
    let url = scripts(
        &s,
        "idle",
        json!([
            {"steps": [{"write": "data: a\n\n"}], "end": "hang"},
            {"steps": [{"write": "data: b\n\n"}, {"sleep": 50}, {"write": ": keepalive\n"}, {"sleep": 50}, {"write": "data: c\n\n"}]},
            {"status": 204}
        ]),
    )
    .await;
    let mut es = EventSource::builder(&url)
        .inactivity_timeout(Duration::from_millis(300))
        .retry(fast())
        .connect()
        .unwrap();
    let (events, errors) = drain(&mut es).await;
    let data: Vec<_> = events.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(data, ["a", "b", "c"]);
    assert_eq!(errors[0].kind(), ErrorKind::Timeout);
    assert!(errors[0].will_retry());
}

#[tokio::test]
async fn gzip_and_brotli_streams() {
    let s = server().await;
    for encoding in ["gzip", "br"] {
        let url = format!(
            "{}/counter?token=z{encoding}&total=20&encoding={encoding}",
            s.url()
        );
        let mut es = EventSource::builder(&url).retry(fast()).connect().unwrap();
        let (events, _) = drain(&mut es).await;
        assert_eq!(events.len(), 20, "{encoding}");
    }
}

#[tokio::test]
async fn redirects_are_followed() {
    let s = server().await;
    for code in [301, 302, 303, 307, 308] {
        let target = format!("/counter?token=r{code}&total=3");
        let url = format!(
            "{}/redirect?code={code}&to={}",
            s.url(),
            target.replace('&', "%26").replace('?', "%3F")
        );
        let mut es = EventSource::builder(&url).retry(fast()).connect().unwrap();
        let (events, _) = drain(&mut es).await;
        assert_eq!(events.len(), 3, "{code}");
    }
}

#[tokio::test]
async fn faults_reset_garbage_invalid_utf8_and_endless_lines() {
    let s = server().await;
    let url = scripts(
        &s,
        "faults",
        json!([
            {"steps": [{"write": "id: 1\ndata: whole\n\nid: 2\ndata: half"}], "end": "reset"},
            {"steps": [{"hex": "64617461 3a20 ff fe 0a 0a"}, {"write": "\u{0}\u{1}garbage\n\ndata: after\n\n"}]},
            {"steps": [{"write": "data: "}, {"repeat": {"text": "x", "times": 70000}}], "end": "hang"}
        ]),
    )
    .await;
    let mut es = EventSource::builder(&url)
        .max_event_size(64 * 1024)
        .retry(fast())
        .connect()
        .unwrap();
    let (events, errors) = drain(&mut es).await;
    let data: Vec<_> = events.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(data, ["whole", "\u{FFFD}\u{FFFD}", "after"]);
    let kinds: Vec<_> = errors.iter().map(|e| (e.kind(), e.will_retry())).collect();
    assert_eq!(
        kinds,
        [
            (ErrorKind::Network, true),
            (ErrorKind::Ended, true),
            (ErrorKind::TooLarge, false)
        ]
    );
    assert!(
        std::error::Error::source(&errors[0]).is_some(),
        "the transport error is kept"
    );
    let log = log(&s, "faults").await;
    assert_eq!(
        log[1].last_event_id.as_deref(),
        Some("1"),
        "the cut event's id is not committed"
    );
}

#[tokio::test]
async fn connection_refused_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut policy = fast();
    policy.max_attempts = Some(2);
    let mut es = EventSource::builder(&format!("http://127.0.0.1:{port}/"))
        .retry(policy)
        .connect()
        .unwrap();
    let (_, errors) = drain(&mut es).await;
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().all(|e| e.kind() == ErrorKind::Network));
    assert!(errors[1].details().gave_up);
    let text = errors[1].to_string();
    assert!(text.starts_with("the connection failed: "), "{text}");
    assert!(
        text.ends_with("; gave up after 2 failed attempts in a row"),
        "{text}"
    );
    assert!(
        text.to_lowercase().contains("refused"),
        "the root cause is named: {text}"
    );
}

#[tokio::test]
async fn a_user_hook_classifies() {
    let s = server().await;
    let url = scripts(&s, "hook", json!([{"status": 418}, {"status": 204}])).await;
    let mut es = EventSource::builder(&url)
        .retry(fast())
        .classify(|f, default| {
            if f.status == Some(418) {
                Decision::Retry { at_least_ms: 0 }
            } else {
                default
            }
        })
        .connect()
        .unwrap();
    let (_, errors) = drain(&mut es).await;
    let statuses: Vec<_> = errors
        .iter()
        .map(|e| (e.status(), e.will_retry()))
        .collect();
    assert_eq!(statuses, [(Some(418), true), (Some(204), false)]);
}

#[tokio::test]
async fn close_ends_the_stream_and_drops_the_connection() {
    let s = server().await;
    let url = scripts(
        &s,
        "close",
        json!([{"steps": [{"write": "data: a\n\n"}], "end": "hang"}]),
    )
    .await;
    let mut es = EventSource::builder(&url).connect().unwrap();
    let (events, _) = take_events(&mut es, 1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(es.ready_state(), ReadyState::Open);
    es.close();
    assert_eq!(es.ready_state(), ReadyState::Closed);
    assert!(es.next().await.is_none());
}

#[tokio::test]
async fn hundred_streams_share_one_http2_connection() {
    let s = server().await;
    let cert = reqwest::Certificate::from_pem(s.certificate_pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(cert)
        .build()
        .unwrap();
    let streams = (0..100).map(|i| {
        let url = format!("{}/counter?token=h2&total=20&interval=5&i={i}", s.tls_url());
        let mut es = EventSource::builder(&url)
            .client(client.clone())
            .retry(fast())
            .connect()
            .unwrap();
        async move { drain(&mut es).await.0.len() }
    });
    let counts = futures_util::future::join_all(streams).await;
    assert!(counts.iter().all(|&n| n == 20), "{counts:?}");
    let log = log(&s, "h2").await;
    let first: Vec<_> = log
        .iter()
        .filter(|e| !e.uri.contains("lastEventId"))
        .collect();
    assert_eq!(log.len(), 200, "each stream: one connection, one 204");
    assert!(first.iter().all(|e| e.version == "HTTP/2.0"));
    let peers: std::collections::HashSet<_> = log.iter().map(|e| e.peer.as_str()).collect();
    assert_eq!(
        peers.len(),
        1,
        "one TCP connection for all streams: {peers:?}"
    );
}

#[tokio::test]
async fn soak_a_thousand_random_disconnects_lose_and_repeat_nothing() {
    let s = server().await;
    let total = 10_000;
    let url = format!(
        "{}/counter?token=soak&total={total}&drops=1000&seed=42",
        s.url()
    );
    let mut es = EventSource::builder(&url).retry(fast()).connect().unwrap();
    let mut next = 1u64;
    let mut disconnects = 0;
    let done = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(item) = es.next().await {
            match item {
                Ok(e) => {
                    assert_eq!(
                        e.data,
                        next.to_string(),
                        "event out of order, lost or repeated"
                    );
                    assert_eq!(e.last_event_id, e.data);
                    next += 1;
                }
                Err(e) if e.kind() == ErrorKind::Network => disconnects += 1,
                Err(e) => assert!(
                    e.kind() == ErrorKind::Ended || e.status() == Some(204),
                    "{e}"
                ),
            }
        }
    })
    .await;
    assert!(done.is_ok(), "soak timed out at event {next}");
    assert_eq!(next, total + 1, "every event delivered");
    assert_eq!(disconnects, 1000);
}

/// The request on the wire for each case of the table the browser client runs too
/// (`WIRE` in tests/js/scenarios.js): both clients put the same request there.
#[tokio::test]
async fn wire_parity_with_the_browser_client() {
    let js = include_str!("../../../tests/js/scenarios.js");
    let table = js
        .split("// wire:begin")
        .nth(1)
        .and_then(|rest| rest.split("// wire:end").next())
        .and_then(|t| t.trim().strip_prefix("export const WIRE = "))
        .map(|t| t.trim_end().trim_end_matches(';'))
        .expect("the WIRE table");
    let table: serde_json::Value = serde_json::from_str(table).expect("WIRE is JSON");
    let s = server().await;
    for (i, case) in table.as_array().expect("an array").iter().enumerate() {
        let (name, o, expect) = (&case["name"], &case["options"], &case["expect"]);
        let token = format!("wire{i}");
        let url = format!(
            "{}/inline?token={token}&script=%7B%22status%22%3A204%7D",
            s.url()
        );
        let mut b = EventSource::builder(&url);
        if let Some(m) = o["method"].as_str() {
            b = b.method(m);
        }
        for h in o["headers"].as_array().into_iter().flatten() {
            b = b.header(h[0].as_str().unwrap(), h[1].as_str().unwrap());
        }
        if let Some(id) = o["lastEventId"].as_str() {
            b = b.last_event_id(id);
        }
        if let Some(body) = o["body"].as_str() {
            b = b.body(body);
        }
        let mut es = b.connect().unwrap();
        drain(&mut es).await;
        let log = log(&s, &token).await;
        assert_eq!(log.len(), 1, "{name}");
        let r = &log[0];
        assert_eq!(r.method, expect["method"].as_str().unwrap(), "{name}");
        for h in expect["headers"].as_array().unwrap() {
            let (n, v) = (h[0].as_str().unwrap(), h[1].as_str().unwrap());
            let got: Vec<_> = r
                .headers
                .iter()
                .filter(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
                .collect();
            assert_eq!(got, [v], "{name}: {n}");
        }
        for n in expect["absent"].as_array().unwrap() {
            assert!(
                !r.headers.iter().any(|(k, _)| k == n.as_str().unwrap()),
                "{name}: {n}"
            );
        }
        assert_eq!(r.body, expect["body"].as_str().unwrap(), "{name}");
    }
}

/// Bad options are a `BuildError` naming the option, before any request; a header value is
/// trimmed as fetch trims it (not dropped).
#[tokio::test]
async fn bad_options_fail_at_build_and_values_are_trimmed() {
    let bad = |b: sse_client::Builder| b.connect().err().map(|e| e.to_string());
    let at = "http://127.0.0.1:1/";
    let cases = [
        (EventSource::builder(at).method("GE T"), "method"),
        (EventSource::builder(at).header("X Y", "v"), "headers"),
        (EventSource::builder(at).header("A", "a\nb"), "headers"),
        (
            EventSource::builder(at).header("Last-Event-ID", "1"),
            "headers",
        ),
        (
            EventSource::builder(at).last_event_id("1\r\nAuthorization: x"),
            "last_event_id",
        ),
        (EventSource::builder(at).max_event_size(0), "max_event_size"),
        (EventSource::builder(at).header("X", "a\u{1}b"), "headers"),
        (EventSource::builder("not a url"), "URL"),
    ];
    for (b, name) in cases {
        let e = bad(b).unwrap_or_else(|| panic!("{name} accepted"));
        assert!(e.contains(name), "{name}: {e}");
    }
    let s = server().await;
    let url = format!(
        "{}/inline?token=trim&script=%7B%22status%22%3A204%7D",
        s.url()
    );
    let mut es = EventSource::builder(&url)
        .header("Authorization", "Bearer token\n")
        .connect()
        .unwrap();
    drain(&mut es).await;
    let log = log(&s, "trim").await;
    assert!(log[0]
        .headers
        .contains(&("authorization".into(), "Bearer token".into())));
}

/// Per-attempt headers that are invalid fail the attempt as the user's own error (kind
/// `request`, closed by default, the reason in the message), without a request.
#[tokio::test]
async fn invalid_per_attempt_headers_are_a_request_error() {
    let s = server().await;
    let url = format!("{}/counter?token=perattempt&total=3", s.url());
    let mut es = EventSource::builder(&url)
        .headers_with(|| async { vec![("Authorization".into(), "a\nb".into())] })
        .retry(RetryPolicy::resilient())
        .connect()
        .unwrap();
    let (events, errors) = drain(&mut es).await;
    assert!(events.is_empty());
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].kind(), errors[0].will_retry()),
        (ErrorKind::Request, false)
    );
    let text = errors[0].to_string();
    assert!(
        text.starts_with("the request could not be made: "),
        "{text}"
    );
    assert!(text.contains("CR, LF or NUL"), "{text}");
    assert_eq!(es.ready_state(), ReadyState::Closed);
    assert!(log(&s, "perattempt").await.is_empty());
}

/// The server on a runtime of its own thread, so that only the client runs on the test's runtime
/// (the server's own work, compressing the body, cannot stall the test's thread).
fn server_on_own_thread() -> Server {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            tx.send(server().await).unwrap();
            std::future::pending::<()>().await
        });
    });
    rx.recv().unwrap()
}

/// A fast stream of chunks without events (a gzip body of comments, decompressed into many
/// chunks that are all ready at once) does not monopolise a current-thread runtime: the client
/// yields now and then, so a 10 ms ticker on the same thread keeps ticking.
#[tokio::test(flavor = "current_thread")]
async fn a_flood_of_comments_does_not_stall_the_runtime() {
    const LINES: usize = 2_000_000;
    let s = server_on_own_thread();
    let url = scripts(
        &s,
        "flood",
        json!([
            {"encoding": "gzip", "steps": [
                {"repeat": {"text": ": x\n", "times": LINES}},
                {"write": "data: done\n\n"}
            ], "end": "close"},
            {"status": 204}
        ]),
    )
    .await;
    // The worst gap between ticks, in microseconds, and the number of ticks.
    let worst = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let ticks = Arc::new(AtomicU32::new(0));
    let ticker = tokio::spawn({
        let (worst, ticks) = (worst.clone(), ticks.clone());
        async move {
            let mut last = std::time::Instant::now();
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                let now = std::time::Instant::now();
                let gap = u64::try_from((now - last).as_micros()).unwrap_or(u64::MAX);
                worst.fetch_max(gap, Ordering::Relaxed);
                ticks.fetch_add(1, Ordering::Relaxed);
                last = now;
            }
        }
    });
    // Let the ticker start before the flood.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = std::time::Instant::now();
    let mut es = EventSource::builder(&url).retry(fast()).connect().unwrap();
    let (events, errors) = drain(&mut es).await;
    let elapsed = started.elapsed();
    ticker.abort();
    let data: Vec<_> = events.iter().map(|e| e.data.as_str()).collect();
    assert_eq!(data, ["done"]);
    let kinds: Vec<_> = errors.iter().map(|e| e.kind()).collect();
    assert_eq!(kinds, [ErrorKind::Ended, ErrorKind::Http]);
    let worst = Duration::from_micros(worst.load(Ordering::Relaxed));
    let ticks = ticks.load(Ordering::Relaxed);
    eprintln!("{LINES} comment lines in {elapsed:?}: {ticks} ticks, the worst gap {worst:?}");
    assert!(
        worst < Duration::from_millis(100),
        "the runtime stalled for {worst:?} ({ticks} ticks in {elapsed:?})"
    );
}
