//! Each endpoint of the scenario server, checked with a plain HTTP client.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Client, StatusCode};
use sse_testserver::corpus::Corpus;
use sse_testserver::LogEntry;

async fn server() -> sse_testserver::Server {
    sse_testserver::spawn().await.expect("server starts")
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A plain GET (redirects not followed).
async fn get(url: impl reqwest::IntoUrl) -> reqwest::Response {
    client().get(url).send().await.expect("request")
}

/// A GET with one header.
async fn get_with(url: impl reqwest::IntoUrl, name: &str, value: &str) -> reqwest::Response {
    client()
        .get(url)
        .header(name, value)
        .send()
        .await
        .expect("request")
}

/// The body as the chunks the client saw (a read error ends it and is returned too).
async fn chunks(res: reqwest::Response) -> (Vec<Vec<u8>>, bool) {
    let mut stream = res.bytes_stream();
    let mut out = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(b) => out.push(b.to_vec()),
            Err(_) => return (out, true),
        }
    }
    (out, false)
}

fn inline(base: &str, token: &str, script: serde_json::Value) -> String {
    let script = script.to_string();
    let q: String = url_encode(&script);
    format!("{base}/inline?token={token}&script={q}")
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn log(base: &str, token: &str) -> Vec<LogEntry> {
    get(format!("{base}/log?token={token}"))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn inline_script_writes_each_step_as_a_chunk_then_ends() {
    let s = server().await;
    let url = inline(
        &s.url(),
        "inline",
        serde_json::json!({
            "status": 200,
            "headers": [["X-Extra", "1"]],
            "steps": [{"write": "data: a\r"}, {"sleep": 100}, {"hex": "0a64617461"}, {"sleep": 100}, {"write": ": b\n\n"}],
            "end": "close"
        }),
    );
    let res = get(url).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    assert_eq!(res.headers()["x-extra"], "1");
    let (chunks, broken) = chunks(res).await;
    assert!(!broken);
    assert_eq!(
        chunks,
        vec![
            b"data: a\r".to_vec(),
            b"\ndata".to_vec(),
            b": b\n\n".to_vec()
        ]
    );
}

#[tokio::test]
async fn scripted_status_type_reset_and_repeat() {
    let s = server().await;
    let res = get(inline(
        &s.url(),
        "st",
        serde_json::json!({"status": 503, "headers": [["Retry-After", "2"]]}),
    ))
    .await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "2");
    let res = get(inline(
        &s.url(),
        "ct",
        serde_json::json!({"headers": [["Content-Type", "text/plain"]]}),
    ))
    .await;
    assert_eq!(res.headers()["content-type"], "text/plain");
    let res = get(inline(
        &s.url(),
        "rs",
        serde_json::json!({"steps": [{"write": "data: par"}], "end": "reset"}),
    ))
    .await;
    let (chunks, broken) = chunks(res).await;
    assert_eq!(chunks.concat(), b"data: par");
    assert!(
        broken,
        "a reset must reach the client as an error, not a clean end"
    );
    let res = get(inline(
        &s.url(),
        "rp",
        serde_json::json!({"steps": [{"repeat": {"text": "x", "times": 100000}}]}),
    ))
    .await;
    assert_eq!(res.bytes().await.unwrap().len(), 100_000);
}

#[tokio::test]
async fn hang_keeps_the_stream_open() {
    let s = server().await;
    let res = get(inline(
        &s.url(),
        "hang",
        serde_json::json!({"steps": [{"write": ": hi\n"}], "end": "hang"}),
    ))
    .await;
    let mut body = res.bytes_stream();
    assert_eq!(body.next().await.unwrap().unwrap().as_ref(), b": hi\n");
    let more = tokio::time::timeout(Duration::from_millis(300), body.next()).await;
    assert!(more.is_err(), "a hanging stream must not end");
}

/// The log stamps a request's arrival, and the end of its response when the client goes away
/// from a hanging stream (what the scenario table's `ended` reads), not before.
#[tokio::test]
async fn the_log_stamps_arrival_and_the_end_of_the_response() {
    let s = server().await;
    let url = inline(
        &s.url(),
        "stamps",
        serde_json::json!({"steps": [{"write": ": hi\n"}], "end": "hang"}),
    );
    let mut body = get(url).await.bytes_stream();
    body.next().await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let open = log(&s.url(), "stamps").await;
    assert_eq!(open[0].ended, None, "still open");
    assert!(open[0].at > 1_600_000_000_000, "Unix ms: {}", open[0].at);
    let dropped = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    drop(body);
    let mut ended = None;
    for _ in 0..100 {
        ended = log(&s.url(), "stamps").await[0].ended;
        if ended.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ended = ended.expect("the end is stamped");
    assert!(
        ended >= dropped && ended - dropped < 200,
        "{ended} vs {dropped}"
    );
}

/// `trickle` writes each piece as a chunk of its own.
#[tokio::test]
async fn trickle_writes_tiny_chunks() {
    let s = server().await;
    let url = inline(
        &s.url(),
        "trickle",
        serde_json::json!({"steps": [{"trickle": {"text": "x", "times": 2000}}]}),
    );
    let (got, broken) = chunks(get(url).await).await;
    assert!(!broken);
    assert_eq!(got.concat(), vec![b'x'; 2000]);
    assert!(got.len() > 100, "{} chunks", got.len());
}

#[tokio::test]
async fn stored_scripts_play_per_connection_and_the_log_records_requests() {
    let s = server().await;
    let scripts = serde_json::json!([
        {"steps": [{"write": "data: first\n\n"}]},
        {"steps": [{"write": "data: second\n\n"}]}
    ]);
    let res = client()
        .post(format!("{}/script?token=per", s.url()))
        .body(scripts.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let url = format!("{}/s?token=per", s.url());
    let mut bodies = Vec::new();
    for id in ["", "é7", ""] {
        let mut req = client()
            .post(&url)
            .body("payload")
            .header("X-Attempt", "yes");
        if !id.is_empty() {
            req = req.header(
                "Last-Event-ID",
                reqwest::header::HeaderValue::from_bytes(id.as_bytes()).unwrap(),
            );
        }
        bodies.push(req.send().await.unwrap().text().await.unwrap());
    }
    // The last script repeats.
    assert_eq!(
        bodies,
        ["data: first\n\n", "data: second\n\n", "data: second\n\n"]
    );
    let log = log(&s.url(), "per").await;
    assert_eq!(
        log.len(),
        3,
        "the script upload and log reads are not logged: {log:?}"
    );
    assert!(log
        .iter()
        .all(|e| e.method == "POST" && e.body == "payload"));
    assert!(log
        .iter()
        .all(|e| e.headers.contains(&("x-attempt".into(), "yes".into()))));
    assert_eq!(log[1].last_event_id.as_deref(), Some("é7"));
    assert_eq!(log[0].last_event_id, None);
}

#[tokio::test]
async fn counter_resumes_after_last_event_id_and_ends_with_204() {
    let s = server().await;
    let body = get(format!("{}/counter?token=c&total=5", s.url()))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(body, "retry: 0\nid: 1\ndata: 1\n\nid: 2\ndata: 2\n\nid: 3\ndata: 3\n\nid: 4\ndata: 4\n\nid: 5\ndata: 5\n\n");
    let res = get_with(
        format!("{}/counter?token=c&total=5", s.url()),
        "Last-Event-ID",
        "3",
    )
    .await;
    assert_eq!(
        res.text().await.unwrap(),
        "retry: 0\nid: 4\ndata: 4\n\nid: 5\ndata: 5\n\n"
    );
    let res = get(format!("{}/counter?token=c&total=5&lastEventId=5", s.url())).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn counter_drops_connections_mid_stream() {
    let s = server().await;
    let url = format!("{}/counter?token=d&total=50&drops=3&seed=9", s.url());
    let full = get(format!("{}/counter?total=50", s.url()))
        .await
        .bytes()
        .await
        .unwrap();
    for _ in 0..3 {
        let (chunks, broken) = chunks(get(&url).await).await;
        let got = chunks.concat();
        // Cut 1 to 120 bytes into the events, after the retry line.
        assert!(broken, "a drop must reach the client as an error");
        assert!((10..=130).contains(&got.len()), "{} bytes", got.len());
        assert_eq!(got, full[..got.len()]);
    }
    // Drops used up: the whole stream now.
    let (chunks, was_broken) = chunks(get(&url).await).await;
    assert!(!was_broken);
    assert!(String::from_utf8(chunks.concat())
        .unwrap()
        .ends_with("id: 50\ndata: 50\n\n"));
}

#[tokio::test]
async fn echo_auth_and_redirects() {
    let s = server().await;
    let body = client()
        .put(format!("{}/echo?token=e&end=close", s.url()))
        .header("X-Custom", "v")
        .body("the body")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.starts_with("event: method\ndata: PUT\n\n"), "{body}");
    assert!(body.contains("[\"x-custom\",\"v\"]"));
    assert!(body.contains("event: body\ndata: the body\n\n"));

    let res = get(format!("{}/auth?token=a&end=close", s.url())).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = get_with(
        format!("{}/auth?token=a&end=close", s.url()),
        "Authorization",
        "Bearer t1",
    )
    .await;
    assert_eq!(
        res.text().await.unwrap(),
        "event: authorized\ndata: Bearer t1\n\n"
    );

    for code in [301u16, 302, 303, 307, 308] {
        let res = get(format!("{}/redirect?code={code}&to=/echo", s.url())).await;
        assert_eq!(res.status().as_u16(), code);
        assert_eq!(res.headers()["location"], "/echo");
    }
}

#[tokio::test]
async fn cors_everywhere_with_preflight() {
    let s = server().await;
    let res = client()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/echo", s.cross_origin_url()),
        )
        .header("Origin", "http://127.0.0.1:1")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "last-event-id, authorization, x-custom",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://127.0.0.1:1"
    );
    assert_eq!(
        res.headers()["access-control-allow-headers"],
        "last-event-id, authorization, x-custom"
    );
    assert!(res.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    let res = get(format!("{}/counter?total=1", s.url())).await;
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn a_script_can_answer_without_cors() {
    let s = server().await;
    let cors = |res: &reqwest::Response| {
        let mut names: Vec<_> = res
            .headers()
            .keys()
            .map(|n| n.as_str().to_string())
            .filter(|n| n.starts_with("access-control-"))
            .collect();
        names.sort();
        names
    };
    // Inline and stored, with or without an Origin: no CORS header at all, the stream as usual.
    let script = serde_json::json!({"cors": false, "steps": [{"write": "data: a\n\n"}]});
    let res = get_with(
        inline(&s.cross_origin_url(), "nocors", script.clone()),
        "Origin",
        "http://127.0.0.1:1",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(cors(&res), Vec::<String>::new());
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    assert_eq!(res.text().await.unwrap(), "data: a\n\n");
    client()
        .post(format!("{}/script?token=nocors", s.url()))
        .body(serde_json::json!([script]).to_string())
        .send()
        .await
        .unwrap();
    let res = get(format!("{}/s?token=nocors", s.url())).await;
    assert_eq!(cors(&res), Vec::<String>::new());
    assert_eq!(res.text().await.unwrap(), "data: a\n\n");
    // Logged as any other request.
    assert_eq!(log(&s.url(), "nocors").await.len(), 2);
    // Preflights are still answered; a script without the field keeps its CORS headers.
    let res = client()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/s?token=nocors", s.url()),
        )
        .header("Origin", "http://127.0.0.1:1")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://127.0.0.1:1"
    );
    let script = serde_json::json!({"steps": [{"write": "data: a\n\n"}]});
    let res = get(inline(&s.url(), "cors", script)).await;
    assert_eq!(
        cors(&res),
        [
            "access-control-allow-origin",
            "access-control-expose-headers"
        ]
    );
}

#[tokio::test]
async fn gzip_and_brotli_streams_decode() {
    let s = server().await;
    for encoding in ["gzip", "br"] {
        let raw = Client::builder()
            .gzip(false)
            .brotli(false)
            .build()
            .unwrap()
            .get(format!("{}/counter?total=3&encoding={encoding}", s.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(raw.headers()["content-encoding"], encoding);
        let decoding = Client::builder().gzip(true).brotli(true).build().unwrap();
        let text = decoding
            .get(format!("{}/counter?total=3&encoding={encoding}", s.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(text.ends_with("id: 3\ndata: 3\n\n"), "{encoding}: {text}");
    }
}

#[tokio::test]
async fn bench_streams_the_corpus_bytes() {
    let s = server().await;
    let body = get(format!("{}/bench?corpus=multiline&n=100", s.url()))
        .await
        .bytes()
        .await;
    assert_eq!(
        body.unwrap().as_ref(),
        Corpus::Multiline.generate(100).as_slice()
    );
    let res = get(format!("{}/bench?corpus=nope", s.url())).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn tls_listener_speaks_http2() {
    let s = server().await;
    let cert = reqwest::Certificate::from_pem(s.certificate_pem().as_bytes()).unwrap();
    let c = Client::builder()
        .add_root_certificate(cert)
        .build()
        .unwrap();
    let res = c
        .get(format!("{}/counter?total=2", s.tls_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.version(), reqwest::Version::HTTP_2);
    assert!(res.text().await.unwrap().ends_with("id: 2\ndata: 2\n\n"));
}

#[tokio::test]
async fn clock_stamps_each_event_with_the_server_time() {
    let s = server().await;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64;
    let body = get(format!("{}/clock?n=3&interval=20", s.url()))
        .await
        .text()
        .await
        .unwrap();
    let stamps: Vec<f64> = body
        .split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(|d| d.parse().unwrap())
        .collect();
    assert_eq!(stamps.len(), 3, "{body}");
    assert!(stamps[0] >= before - 1.0, "{stamps:?} vs {before}");
    assert!(stamps[2] - stamps[0] >= 40.0, "paced: {stamps:?}");
}

#[tokio::test]
async fn chat_needs_auth_resumes_and_is_cut_on_demand() {
    let s = server().await;
    let url = format!("{}/chat?token=chat&total=50&interval=5", s.url());
    let res = client()
        .post(&url)
        .body(r#"{"prompt":"x"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = client()
        .post(&url)
        .header("Authorization", "Bearer 1")
        .header("Last-Event-ID", "3")
        .body(r#"{"prompt":"tests"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut stream = res.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&first).into_owned();
    assert!(text.contains("id: 4\n"), "{text}");
    assert!(text.contains(r#""n":4"#), "{text}");
    get(format!("{}/cut?token=chat", s.url())).await;
    let mut rest = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        rest.extend_from_slice(&chunk);
    }
    let rest = String::from_utf8_lossy(&rest);
    assert!(!rest.contains("id: 50\n"), "cut before the end: {rest}");
}

#[tokio::test]
async fn lockstep_writes_each_event_once_the_one_before_is_acknowledged() {
    let s = server().await;
    let decoding = Client::builder().gzip(true).build().unwrap();
    let res = decoding
        .get(format!("{}/lockstep?token=ls&n=3&encoding=gzip", s.url()))
        .send()
        .await
        .unwrap();
    let mut body = res.bytes_stream();
    let mut text = String::new();
    for k in 1..=3 {
        let want = format!("id: {k}\ndata: {k}\n\n");
        while !text.ends_with(&want) {
            let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
                .await
                .expect("an event in time")
                .unwrap()
                .unwrap();
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        // Nothing more until the ack.
        assert!(
            tokio::time::timeout(Duration::from_millis(100), body.next())
                .await
                .is_err(),
            "event {} written before event {k} was acknowledged",
            k + 1
        );
        let ack = get(format!("{}/ack?token=ls&n={k}", s.url())).await;
        let since: u64 = ack.text().await.unwrap().parse().unwrap();
        assert!(since >= 100, "ms since event {k} was written: {since}");
    }
    assert_eq!(
        text,
        "id: 1\ndata: 1\n\nid: 2\ndata: 2\n\nid: 3\ndata: 3\n\n"
    );
}

#[tokio::test]
async fn certificate_names_the_tls_listener_and_its_spki_hash() {
    let s = server().await;
    let c: serde_json::Value = get(format!("{}/certificate", s.url()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["url"], s.tls_url());
    assert_eq!(c["pem"], s.certificate_pem());
    assert_eq!(c["spki"], s.certificate_spki());
    // SHA-256 in base64: 44 characters, one `=`.
    assert_eq!(s.certificate_spki().len(), 44);
    assert!(s.certificate_spki().ends_with('='));
}
