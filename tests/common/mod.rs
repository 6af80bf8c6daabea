//! Tests shared by the page, dedicated-worker and Node suites: each runs them in its realm,
//! against the real sse-testserver (its URL is baked in at build time: browsers have no env).

use std::cell::Cell;
use std::rc::Rc;

use futures_util::future::{select, Either};
use futures_util::StreamExt;
use js_sys::Promise;
use sse_web::{Decision, ErrorKind, EventSource, RetryPolicy, Source};
use sse_web_core::parser::{Frame, Parser};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

mod fetch;
use fetch::{fetch, Init};
pub mod table;

/// The one scenario table every client runs (tests/scenarios/README.md says how).
pub const TABLE: &str = include_str!("../scenarios/table.json");

// One module for both: a page of the wasm-bindgen runner that loads a seventh module can stall
// (its request never answered, seen in Chromium and Firefox).
#[wasm_bindgen(module = "/src/js/event_source.js")]
extern "C" {
    #[wasm_bindgen(js_name = defineEventSource)]
    fn define_event_source(open: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = defineParserStream)]
    fn define_parser_stream(class: &JsValue) -> JsValue;
}

#[wasm_bindgen(module = "/tests/js/scenarios.js")]
extern "C" {
    #[wasm_bindgen(catch)]
    fn run(name: &str, class: &JsValue, server: &str) -> Result<Promise, JsValue>;
}

#[wasm_bindgen(module = "/tests/js/table.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = runTable)]
    fn run_table(
        class: &JsValue,
        server: &str,
        table: &str,
        env: &str,
        probe: &JsValue,
    ) -> Result<Promise, JsValue>;
    /// The browser engine of this realm (`chromium`, `firefox`, `webkit`), none outside one.
    pub fn engine() -> Option<String>;
}

/// The JS `EventSource` class over this build's engine, as the npm package assembles it.
fn event_source_class() -> JsValue {
    let open = Closure::<dyn Fn(JsValue, String, js_sys::Array, JsValue) -> JsValue>::new(
        |hooks: JsValue, url: String, options, init| match Source::new(
            hooks.unchecked_into(),
            &url,
            options,
            init,
        ) {
            Ok(source) => {
                source.start();
                JsValue::from(source)
            }
            Err(e) => wasm_bindgen::throw_val(e),
        },
    );
    let class = define_event_source(open.as_ref());
    // The class calls it for every source it makes, for the life of the page.
    open.forget();
    class
}

/// Runs a scenario of `tests/js/scenarios.js`; its failure fails the test with its message.
async fn scenario(name: &str) {
    let promise =
        run(name, &event_source_class(), SERVER).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    settle(name, promise).await;
}

/// Runs a scenario of `tests/js/scenarios.js`'s `streamScenarios`, given the
/// `EventSourceParserStream` over this build's engine, as the package makes it.
async fn stream_scenario(name: &str) {
    let class = define_parser_stream(&event_source_class());
    let promise = run(name, &class, SERVER).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    settle(name, promise).await;
}

/// The scenario table through the JS `EventSource` in realm `env`.
pub async fn scenario_table_js(env: &str) {
    // Where performance.memory is missing (a Worker), the wasm memory is what can be measured.
    let probe = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&probe, &"wasmMemory".into(), &wasm_bindgen::memory());
    let promise = run_table(&event_source_class(), SERVER, TABLE, env, &probe)
        .unwrap_or_else(|e| panic!("scenario table: {e:?}"));
    settle("scenario table", promise).await;
}

/// Awaits a scenario's promise; its rejection fails the test with its message.
async fn settle(name: &str, promise: Promise) {
    if let Err(e) = JsFuture::from(promise).await {
        let message = js_sys::Reflect::get(&e, &"message".into())
            .ok()
            .and_then(|m| m.as_string());
        panic!("{name}: {}", message.unwrap_or_else(|| format!("{e:?}")));
    }
}

pub async fn state_is_the_engines() {
    scenario("state_is_the_engines").await;
}
pub async fn bad_options_throw_at_construction() {
    scenario("bad_options_throw_at_construction").await;
}
pub async fn user_code_failures_are_request_errors() {
    scenario("user_code_failures_are_request_errors").await;
}
pub async fn close_inside_classify() {
    scenario("close_inside_classify").await;
}
pub async fn platform_surface() {
    scenario("platform_surface").await;
}

pub async fn transport_failure_keeps_its_cause() {
    scenario("transport_failure_keeps_its_cause").await;
}

pub async fn batch_keeps_types_and_ids() {
    scenario("batch_keeps_types_and_ids").await;
}

pub async fn fetch_override_makes_every_request() {
    scenario("fetch_override_makes_every_request").await;
}

pub async fn abort_signal() {
    scenario("abort_signal").await;
}
pub async fn redirect_origin_is_the_final_url() {
    scenario("redirect_origin_is_the_final_url").await;
}
pub async fn from_readable_stream() {
    scenario("from_readable_stream").await;
}
pub async fn batch_fast_path() {
    scenario("batch_fast_path").await;
}
pub async fn eventsource_compatibility() {
    scenario("eventsource_compatibility").await;
}
pub async fn async_iteration_yields_every_event() {
    scenario("async_iteration_yields_every_event").await;
}
pub async fn async_iteration_alone_dispatches_no_dom_event() {
    scenario("async_iteration_alone_dispatches_no_dom_event").await;
}
pub async fn async_iteration_break_closes() {
    scenario("async_iteration_break_closes").await;
}
pub async fn async_iteration_ends_or_throws() {
    scenario("async_iteration_ends_or_throws").await;
}
pub async fn the_response_is_told() {
    scenario("the_response_is_told").await;
}
pub async fn parser_stream_bytes_or_strings_to_events() {
    stream_scenario("parser_stream_bytes_or_strings_to_events").await;
}
pub async fn parser_stream_errors() {
    stream_scenario("parser_stream_errors").await;
}
#[allow(dead_code)] // page only
pub async fn pause_when_hidden() {
    scenario("pause_when_hidden").await;
}
#[allow(dead_code)] // page only
pub async fn online_reconnects_at_once() {
    scenario("online_reconnects_at_once").await;
}
#[allow(dead_code)] // page only
pub async fn back_forward_cache_lets_go_and_resumes() {
    scenario("back_forward_cache_lets_go_and_resumes").await;
}
/// The scenario server: `SSE_TESTSERVER` at build time, else the port `npm test` uses.
pub const SERVER: &str = match option_env!("SSE_TESTSERVER") {
    Some(url) => url,
    None => "http://127.0.0.1:8787",
};

/// A token no other test uses, so the server's state and log are this test's alone.
pub fn token(name: &str) -> String {
    format!("{name}-{}", js_sys::Math::random().to_bits())
}

fn encode(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

/// A URL that plays `script` (JSON of one connection).
pub fn inline(token: &str, script: &str) -> String {
    format!("{SERVER}/inline?token={token}&script={}", encode(script))
}

/// The body arrives chunk by chunk as the server writes it, and parses into events, with a
/// multi-byte code point and a CRLF split across chunks.
pub async fn streams_the_body_chunk_by_chunk() {
    let t = token("chunks");
    let script = r#"{"steps":[{"write":"data: first\n\n"},{"sleep":150},{"hex":"646174613a2063616684c3"},{"sleep":150},{"hex":"a90d"},{"sleep":150},{"write":"\n\r\n"}],"end":"close"}"#;
    let response = fetch(&inline(&t, script), &Init::new("GET"))
        .await
        .expect("fetch");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.header("content-type").as_deref(),
        Some("text/event-stream")
    );
    let mut body = response.body().expect("body");
    let mut chunks = Vec::new();
    while let Some(chunk) = body.chunk().await.expect("read") {
        chunks.push(chunk);
    }
    // Delivered as written, not buffered to the end.
    assert_eq!(
        chunks.first().map(Vec::as_slice),
        Some(&b"data: first\n\n"[..])
    );
    assert!(chunks.len() >= 3, "only {} chunks", chunks.len());
    let mut parser = Parser::new();
    let mut data = Vec::new();
    for c in &chunks {
        parser
            .feed(c, |f| {
                if let Frame::Event(e) = f {
                    data.push(e.data.to_string());
                }
            })
            .expect("parse");
    }
    assert_eq!(data, ["first", "caf\u{FFFD}é"]);
}

/// Method, headers (a non-ASCII Last-Event-ID as UTF-8, but in WebKit) and body reach the server.
pub async fn sends_method_headers_and_body() {
    let t = token("echo");
    let mut init = Init::new("POST");
    init.header("X-Test", "yes")
        .header("Last-Event-ID", "é-1")
        .body(b"{\"q\":1}");
    let response = fetch(&format!("{SERVER}/echo?token={t}&end=close"), &init)
        .await
        .expect("fetch");
    let mut body = response.body().expect("body");
    let mut parser = Parser::new();
    let mut events = Vec::new();
    while let Some(chunk) = body.chunk().await.expect("read") {
        events.extend(parser.events(&chunk).expect("parse"));
    }
    let get = |name: &str| {
        events
            .iter()
            .find(|e| e.event_type == name)
            .map(|e| e.data.clone())
    };
    assert_eq!(get("method").as_deref(), Some("POST"));
    assert_eq!(get("body").as_deref(), Some("{\"q\":1}"));
    // WebKit sends each byte of a byte-string value as UTF-8 of its own, and fetch there takes
    // no other form (a code unit over 0xFF throws): what reaches the server is this.
    let sent = match engine().as_deref() {
        Some("webkit") => "Ã©-1",
        _ => "é-1",
    };
    assert_eq!(get("last-event-id").as_deref(), Some(sent));
    assert!(get("headers").is_some_and(|h| h.contains("[\"x-test\",\"yes\"]")));
}

/// Aborting rejects the pending read instead of leaving it hanging.
pub async fn abort_rejects_the_pending_read() {
    let t = token("abort");
    let init = Init::new("GET");
    let script = r#"{"steps":[{"write":": open\n\n"}],"end":"hang"}"#;
    let response = fetch(&inline(&t, script), &init).await.expect("fetch");
    let mut body = response.body().expect("body");
    assert!(body.chunk().await.expect("first chunk").is_some());
    init.abort();
    assert!(
        body.chunk().await.is_err(),
        "a read after abort must reject"
    );
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(f: &js_sys::Function, ms: i32) -> JsValue;
}

async fn sleep(ms: i32) {
    let p = Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    });
    let _ = JsFuture::from(p).await;
}

/// The stream's next item, failing the test after `ms`.
async fn next_within(
    es: &mut EventSource,
    ms: i32,
) -> Option<Result<sse_web::Event, sse_web::Error>> {
    match select(es.next(), Box::pin(sleep(ms))).await {
        Either::Left((item, _)) => item,
        Either::Right(_) => panic!("nothing from the stream within {ms} ms"),
    }
}

/// The number of requests the server logged for `token`.
async fn requests(token: &str) -> u32 {
    let response = fetch(&format!("{SERVER}/log?token={token}"), &Init::new("GET"))
        .await
        .expect("log");
    let mut body = response.body().expect("body");
    let mut text = Vec::new();
    while let Some(chunk) = body.chunk().await.expect("read") {
        text.extend(chunk);
    }
    let log = js_sys::JSON::parse(&String::from_utf8_lossy(&text)).expect("log JSON");
    js_sys::Array::from(&log).length()
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        reconnection_time_ms: 10,
        ..RetryPolicy::default()
    }
}

/// POST, a static header, a header function called before every attempt, a body sent again,
/// and the user's classification ending the stream on the second end.
pub async fn rust_post_headers_body_and_classify() {
    let t = token("rust-echo");
    let calls = Rc::new(Cell::new(0));
    let (c, ends) = (calls.clone(), Rc::new(Cell::new(0)));
    let mut es = EventSource::builder(&format!("{SERVER}/echo?token={t}&end=close"))
        .method("post")
        .header("X-Test", "yes")
        .headers_with(move || {
            c.set(c.get() + 1);
            let n = c.get();
            async move { vec![("Authorization".into(), format!("Bearer {n}"))] }
        })
        .body(r#"{"q":1}"#)
        .retry(quick())
        .classify(move |failure, default| {
            ends.set(ends.get() + 1);
            if failure.kind == ErrorKind::Ended && ends.get() >= 2 {
                Decision::Fatal
            } else {
                default
            }
        })
        .connect()
        .expect("connect");
    let (mut events, mut errors) = (Vec::new(), Vec::new());
    while let Some(item) = next_within(&mut es, 5_000).await {
        match item {
            Ok(e) => events.push((e.event_type, e.data)),
            Err(e) => errors.push(e),
        }
    }
    let of = |name: &str| -> Vec<String> {
        events
            .iter()
            .filter(|(t, _)| t == name)
            .map(|(_, d)| d.clone())
            .collect()
    };
    assert_eq!(of("method"), ["POST", "POST"]);
    assert_eq!(of("body"), [r#"{"q":1}"#, r#"{"q":1}"#]);
    let headers = of("headers");
    assert_eq!(headers.len(), 2);
    assert!(headers[0].contains(r#"["x-test","yes"]"#), "{}", headers[0]);
    assert!(
        headers[0].contains(r#"["authorization","Bearer 1"]"#),
        "{}",
        headers[0]
    );
    assert!(
        headers[1].contains(r#"["authorization","Bearer 2"]"#),
        "{}",
        headers[1]
    );
    assert_eq!(calls.get(), 2);
    let kinds: Vec<_> = errors.iter().map(|e| (e.kind(), e.will_retry())).collect();
    assert_eq!(kinds, [(ErrorKind::Ended, true), (ErrorKind::Ended, false)]);
}

/// Dropping the stream aborts the fetch and the reconnect timer: no request after it.
pub async fn rust_drop_aborts_everything() {
    let t = token("rust-drop");
    let url = inline(
        &t,
        r#"{"steps":[{"write":"retry: 0\ndata: x\n\n"}],"end":"close"}"#,
    );
    let mut es = EventSource::builder(&url).connect().expect("connect");
    let mut seen = 0;
    while seen < 3 {
        if let Some(Ok(_)) = next_within(&mut es, 5_000).await {
            seen += 1;
        }
    }
    drop(es);
    sleep(100).await;
    let before = requests(&t).await;
    assert!(before >= 3, "{before} requests");
    sleep(300).await;
    assert_eq!(requests(&t).await, before, "a request after the drop");
}

/// `sse_web::gloo`, `gloo-net`'s shape: a subscription per type gets its events as
/// `(type, MessageEvent)`; closing ends every subscription; a source that fails for good gives
/// `Err(ConnectionError)` and then the end.
pub async fn gloo_shaped_subscriptions() {
    use sse_web::gloo::{EventSource, EventSourceError, EventSourceSubscription, State};
    /// The subscription's next item, failing the test after 5 s.
    async fn next(
        s: &mut EventSourceSubscription,
    ) -> Option<Result<(String, String, String), EventSourceError>> {
        match select(s.next(), Box::pin(sleep(5_000))).await {
            Either::Left((item, _)) => item.map(|r| {
                r.map(|(t, m)| {
                    (
                        t,
                        m.data().as_string().expect("a string"),
                        m.last_event_id(),
                    )
                })
            }),
            Either::Right(_) => panic!("nothing from the subscription within 5 s"),
        }
    }
    let t = token("gloo");
    let script = r#"{"steps":[{"write":"event: note\ndata: a\nid: 1\n\ndata: b\n\nevent: note\ndata: c\n\n"}],"end":"hang"}"#;
    let mut es = EventSource::new(&inline(&t, script)).expect("new");
    let mut notes = es.subscribe("note").expect("subscribe");
    let mut messages = es.subscribe("message").expect("subscribe");
    let mut unused = es.subscribe("other").expect("subscribe");
    let item = |t: &str, d: &str| Some(Ok((t.to_string(), d.to_string(), "1".to_string())));
    assert_eq!(next(&mut notes).await, item("note", "a"));
    assert_eq!(next(&mut notes).await, item("note", "c"));
    assert_eq!(next(&mut messages).await, item("message", "b"));
    assert_eq!(es.state(), State::Open);
    es.close();
    assert_eq!(next(&mut notes).await, None, "closing ends a subscription");
    assert_eq!(next(&mut unused).await, None, "and one that got nothing");
    assert_eq!(requests(&t).await, 1);

    let mut failing =
        EventSource::new(&inline(&token("gloo-404"), r#"{"status":404}"#)).expect("new");
    let mut any = failing.subscribe("message").expect("subscribe");
    assert_eq!(
        next(&mut any).await,
        Some(Err(EventSourceError::ConnectionError))
    );
    assert_eq!(next(&mut any).await, None);
    assert_eq!(failing.state(), State::Closed);
}

/// Declares every shared test as a `#[wasm_bindgen_test]` of the including suite.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        $(
            #[wasm_bindgen_test::wasm_bindgen_test]
            async fn $name() {
                common::$name().await;
            }
        )*
    };
}

macro_rules! all_tests {
    ($env:literal) => {
        #[wasm_bindgen_test::wasm_bindgen_test]
        async fn scenario_table_js() {
            common::scenario_table_js($env).await;
        }
        #[wasm_bindgen_test::wasm_bindgen_test]
        async fn scenario_table_rust() {
            common::table::run($env).await;
        }
        suite!(
            streams_the_body_chunk_by_chunk,
            sends_method_headers_and_body,
            abort_rejects_the_pending_read,
            state_is_the_engines,
            bad_options_throw_at_construction,
            user_code_failures_are_request_errors,
            close_inside_classify,
            abort_signal,
            platform_surface,
            transport_failure_keeps_its_cause,
            batch_keeps_types_and_ids,
            fetch_override_makes_every_request,
            redirect_origin_is_the_final_url,
            from_readable_stream,
            batch_fast_path,
            eventsource_compatibility,
            async_iteration_yields_every_event,
            async_iteration_alone_dispatches_no_dom_event,
            async_iteration_break_closes,
            async_iteration_ends_or_throws,
            the_response_is_told,
            parser_stream_bytes_or_strings_to_events,
            parser_stream_errors,
            gloo_shaped_subscriptions,
            rust_post_headers_body_and_classify,
            rust_drop_aborts_everything,
        );
    };
}
