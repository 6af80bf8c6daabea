//! What only the native client has, against the real sse-testserver over loopback: HTTP/2
//! sharing, the transport's errors behind ours, the http crate's limits, the waker, a
//! current-thread runtime. Every wire scenario both clients share is in the scenario table
//! (tests/table.rs, tests/scenarios/table.json).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use sse_testserver::{LogEntry, Server};
use sse_web_native::{ErrorKind, Event, EventSource, ReadyState, RetryPolicy};

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
async fn take_events(es: &mut EventSource, n: usize) -> (Vec<Event>, Vec<sse_web_native::Error>) {
    take_within(es, n, Duration::from_secs(10)).await
}

async fn take_within(
    es: &mut EventSource,
    n: usize,
    limit: Duration,
) -> (Vec<Event>, Vec<sse_web_native::Error>) {
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
async fn drain(es: &mut EventSource) -> (Vec<Event>, Vec<sse_web_native::Error>) {
    take_events(es, usize::MAX).await
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        reconnection_time_ms: 10,
        ..RetryPolicy::default()
    }
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
    assert_eq!(log.len(), 200, "each stream: one connection, one 204");
    assert!(
        log.iter().all(|e| e.version == "HTTP/2.0"),
        "every request over HTTP/2"
    );
    let peers: std::collections::HashSet<_> = log.iter().map(|e| e.peer.as_str()).collect();
    assert_eq!(
        peers.len(),
        1,
        "one TCP connection for all streams: {peers:?}"
    );
}

/// The redirects the scenario table does not have (it has 301, 308 and a cross-origin 307),
/// followed on every attempt with the Last-Event-ID.
#[tokio::test]
async fn redirects_302_and_303_are_followed() {
    let s = server().await;
    for code in [302, 303] {
        let target = format!("/counter?token=r{code}&total=3");
        let url = format!(
            "{}/redirect?code={code}&to={}",
            s.url(),
            target.replace('&', "%26").replace('?', "%3F")
        );
        let mut es = EventSource::builder(&url).retry(fast()).connect().unwrap();
        let (events, errors) = drain(&mut es).await;
        let data: Vec<_> = events.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, ["1", "2", "3"], "{code}");
        assert_eq!(errors.last().and_then(|e| e.status()), Some(204), "{code}");
        let log = log(&s, &format!("r{code}")).await;
        let ids: Vec<_> = log.iter().map(|e| e.last_event_id.as_deref()).collect();
        assert_eq!(ids, [None, Some("3")], "{code}");
    }
}

/// What only this client refuses at build time (the table has the options both refuse): a
/// header value with a control character the http crate cannot send, and a URL reqwest cannot
/// parse. A value with a trailing newline is trimmed as fetch trims it (not refused, not sent).
#[tokio::test]
async fn bad_options_fail_at_build_and_values_are_trimmed() {
    let at = "http://127.0.0.1:1/";
    let cases = [
        (
            EventSource::builder(at).header("X", "a\u{1}b"),
            "invalid option headers: ",
        ),
        (EventSource::builder("not a url"), "invalid URL: "),
    ];
    for (b, prefix) in cases {
        match b.connect() {
            Ok(_) => panic!("accepted; expected {prefix:?}"),
            Err(e) => assert!(e.to_string().starts_with(prefix), "{prefix}: {e}"),
        }
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
    assert_eq!(log.len(), 1);
    let sent: Vec<_> = log[0]
        .headers
        .iter()
        .filter(|(n, _)| n == "authorization")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(sent, ["Bearer token"]);
}

/// The transport's own error stays behind ours (`source`), and its root cause is in the message,
/// whether the connection could not be made or broke mid-body.
#[tokio::test]
async fn transport_errors_keep_their_cause() {
    let once = RetryPolicy {
        max_attempts: Some(1),
        ..fast()
    };
    let mut es = EventSource::builder("http://127.0.0.1:1/")
        .retry(once.clone())
        .connect()
        .unwrap();
    let (_, errors) = drain(&mut es).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].kind(), ErrorKind::Network);
    assert!(std::error::Error::source(&errors[0]).is_some());
    let text = errors[0].to_string();
    assert!(
        text.to_lowercase().contains("refused"),
        "the root cause is named: {text}"
    );

    let s = server().await;
    let url = scripts(
        &s,
        "cause",
        json!([{"steps": [{"write": "data: a\n\n"}], "end": "reset"}]),
    )
    .await;
    let mut es = EventSource::builder(&url).retry(once).connect().unwrap();
    let (events, errors) = drain(&mut es).await;
    assert_eq!(events.len(), 1);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].kind(), ErrorKind::Network);
    assert!(
        std::error::Error::source(&errors[0]).is_some(),
        "the body's error is kept: {}",
        errors[0]
    );
}

/// An HTTP error has the response's headers beside its body (the body itself is a table row,
/// `an_http_error_carries_its_body`); an error without a response has neither.
#[tokio::test]
async fn an_http_error_has_the_response_headers() {
    let s = server().await;
    let url = scripts(
        &s,
        "error-headers",
        json!([{"status": 401, "headers": [["WWW-Authenticate", "Bearer"]], "steps": [{"write": "{\"error\":\"expired\"}"}]}]),
    )
    .await;
    let mut es = EventSource::builder(&url).connect().unwrap();
    let (_, errors) = drain(&mut es).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!((e.kind(), e.status()), (ErrorKind::Http, Some(401)));
    assert_eq!(e.body(), Some("{\"error\":\"expired\"}"));
    let auth = e.headers().and_then(|h| h.get("www-authenticate"));
    assert_eq!(auth.map(|v| v.as_bytes()), Some(&b"Bearer"[..]));

    let mut es = EventSource::builder("http://127.0.0.1:1/")
        .retry(RetryPolicy {
            max_attempts: Some(1),
            ..fast()
        })
        .connect()
        .unwrap();
    let (_, errors) = drain(&mut es).await;
    assert!(errors[0].headers().is_none() && errors[0].body().is_none());
}

/// `restart()` does nothing before the stream is first polled (it starts as usual) and after it
/// closed (no request, the stream stays ended).
#[tokio::test]
async fn restart_is_a_no_op_before_the_start_and_once_closed() {
    let s = server().await;
    let url = scripts(
        &s,
        "noop",
        json!([{"steps": [{"write": "data: a\n\n"}], "end": "hang"}]),
    )
    .await;
    let mut es = EventSource::builder(&url).retry(fast()).connect().unwrap();
    es.restart();
    assert_eq!(es.ready_state(), ReadyState::Connecting);
    let (events, errors) = take_events(&mut es, 1).await;
    assert_eq!((events.len(), errors.len()), (1, 0), "{errors:?}");
    es.close();
    es.restart();
    assert_eq!(es.ready_state(), ReadyState::Closed);
    assert!(es.next().await.is_none());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(es.next().await.is_none());
    assert_eq!(log(&s, "noop").await.len(), 1, "no request after close()");
}

/// The next message, within 5 s.
async fn recv<T>(rx: &mut tokio::sync::mpsc::UnboundedReceiver<T>) -> T {
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
    got.expect("the reader was woken").expect("an item")
}

/// `restart()` and `close()` from another task wake the task parked on the stream: the new
/// attempt starts (a stream parked on the dropped connection would wait forever), and the
/// stream ends.
#[tokio::test]
async fn restart_and_close_wake_the_task_that_polls() {
    let s = server().await;
    let url = scripts(
        &s,
        "wake",
        json!([
            {"steps": [{"write": "id: 1\ndata: a\n\n"}], "end": "hang"},
            {"steps": [{"write": "data: b\n\n"}], "end": "hang"}
        ]),
    )
    .await;
    let es = Arc::new(std::sync::Mutex::new(
        EventSource::builder(&url).connect().unwrap(),
    ));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn({
        let es = es.clone();
        async move {
            loop {
                let item =
                    futures_util::future::poll_fn(|cx| es.lock().unwrap().poll_next_unpin(cx))
                        .await;
                let end = item.is_none();
                tx.send(item.map(|i| i.map(|e| e.data))).unwrap();
                if end {
                    break;
                }
            }
        }
    });
    assert_eq!(
        recv(&mut rx).await.map(Result::unwrap).as_deref(),
        Some("a")
    );
    // The reader is parked on the hanging first connection.
    tokio::time::sleep(Duration::from_millis(50)).await;
    es.lock().unwrap().restart();
    assert_eq!(
        recv(&mut rx).await.map(Result::unwrap).as_deref(),
        Some("b")
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    es.lock().unwrap().close();
    assert!(recv(&mut rx).await.is_none());
    reader.await.unwrap();
    let log = log(&s, "wake").await;
    let ids: Vec<_> = log.iter().map(|e| e.last_event_id.as_deref()).collect();
    assert_eq!(ids, [None, Some("1")], "restart resumes with the ID");
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

#[test]
fn a_redirect_mode_and_a_client_of_ones_own_cannot_both_be_set() {
    let both = EventSource::builder("http://127.0.0.1:1/")
        .client(reqwest::Client::new())
        .redirect(sse_web_native::Redirect::Error)
        .connect();
    let e = both.err().expect("refused at construction");
    assert!(e.to_string().starts_with("invalid option redirect"), "{e}");
}
