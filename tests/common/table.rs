//! The scenario table (tests/scenarios/table.json, its format in tests/scenarios/README.md)
//! through sse-web's Rust `Stream` API: the table's options become builder calls, each stream
//! item an observation (`event`, `error` with the ready state when it is yielded, `comment`);
//! the Rust stream has no `open` item, so the table's `open` entries are dropped before
//! comparing. The JS `EventSource` (tests/js/table.js) and sse-web-native run the same table.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::time::Duration;

use futures_util::future::{select, Either};
use serde_json::{json, Value};
use sse_web::{Classify, Decision, EventSource, Failure, RetryPolicy};

use super::fetch::{fetch, Init};
use super::{sleep, SERVER};

const RUNNER: &str = "web-rust";

/// Runs every scenario of the table in realm `env`; panics with what diverged.
pub async fn run(env: &str) {
    let table: Vec<Value> = serde_json::from_str(super::TABLE).expect("tests/scenarios/table.json");
    let (mut ran, mut skipped, mut failed) = (0, Vec::new(), Vec::new());
    for sc in &table {
        let name = sc["name"].as_str().unwrap_or("?");
        let skip = &sc["skip"];
        let reason = skip[format!("{RUNNER}/{env}")]
            .as_str()
            .or_else(|| skip[RUNNER].as_str());
        if let Some(reason) = reason {
            skipped.push(format!("{name} ({reason})"));
            continue;
        }
        let failures = run_one(sc).await;
        ran += 1;
        if !failures.is_empty() {
            failed.push(format!("{name}: {}", failures.join("; ")));
        }
    }
    let line = format!(
        "scenario table: {RUNNER} ({env}) ran {ran} of {}; skipped: {}",
        table.len(),
        if skipped.is_empty() {
            "none".to_string()
        } else {
            skipped.join(", ")
        }
    );
    wasm_bindgen_test::console_log!("{line}");
    // scripts/test.sh collects every runner's line from the server.
    let mut init = Init::new("POST");
    init.body(line.as_bytes());
    let report = format!("{SERVER}/inline?token=scenario-table&script=%7B%22status%22%3A204%7D");
    let _ = fetch(&report, &init).await;
    if !failed.is_empty() || ran != table.len() - skipped.len() {
        panic!("{line}\n{} diverged:\n{}", failed.len(), failed.join("\n"));
    }
}

/// One `act` entry: after the `n`-th observation of kind `on` (and `wait` ms), `what`.
struct Act {
    on: String,
    n: u64,
    wait: i32,
    what: String,
}

/// What one scenario saw, shared with the callbacks that see it.
#[derive(Default)]
struct Seen {
    acts: Vec<Act>,
    trace: RefCell<Vec<Value>>,
    messages: RefCell<Vec<String>>,
    counts: RefCell<HashMap<String, u64>>,
    /// Unix ms when the runner called `close()`.
    closed_at: Cell<Option<f64>>,
    failures: RefCell<Vec<String>>,
    es: RefCell<Weak<EventSource>>,
}

impl Seen {
    fn fail(&self, what: String) {
        self.failures.borrow_mut().push(what);
    }

    /// Records an observation and does what `act` says after it.
    fn observe(self: &Rc<Self>, entry: Value) {
        let kind = entry[0].as_str().unwrap_or_default().to_string();
        self.trace.borrow_mut().push(entry);
        let n = {
            let mut counts = self.counts.borrow_mut();
            let n = counts.entry(kind.clone()).or_default();
            *n += 1;
            *n
        };
        for (i, a) in self.acts.iter().enumerate() {
            if a.on != kind || a.n != n {
                continue;
            }
            if a.wait > 0 {
                let (seen, wait) = (self.clone(), a.wait);
                wasm_bindgen_futures::spawn_local(async move {
                    sleep(wait).await;
                    seen.act(i);
                });
            } else {
                self.act(i);
            }
        }
    }

    fn act(&self, i: usize) {
        let Some(es) = self.es.borrow().upgrade() else {
            return;
        };
        match self.acts[i].what.as_str() {
            "close" => {
                self.closed_at.set(Some(js_sys::Date::now()));
                es.close();
            }
            "restart" => es.restart(),
            other => {
                self.fail(format!("act: unknown do {other:?}"));
                es.close();
            }
        }
    }
}

/// `{server}`, `{cross}`, `{token}` and `{unreachable}` filled in.
fn fill(text: &str, token: &str) -> String {
    let (base, port) = SERVER.rsplit_once(':').expect("the server URL has a port");
    let port: u32 = port.trim_end_matches('/').parse().expect("port");
    let cross = format!("{base}:{}", port + 1);
    text.replace("{server}", SERVER)
        .replace("{cross}", &cross)
        .replace("{token}", token)
        .replace("{unreachable}", "http://127.0.0.1:1/")
}

fn ms(v: &Value, name: &str) -> Result<u64, String> {
    v.as_f64()
        .filter(|n| *n >= 0.0)
        .map(|n| n as u64)
        .ok_or_else(|| format!("option {name}: not a number of ms: {v}"))
}

fn text<'a>(v: &'a Value, name: &str) -> Result<&'a str, String> {
    v.as_str()
        .ok_or_else(|| format!("option {name}: not a string: {v}"))
}

fn pairs(v: &Value, name: &str) -> Result<Vec<(String, String)>, String> {
    let bad = || format!("option {name}: not [name, value] pairs: {v}");
    v.as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|p| match (p[0].as_str(), p[1].as_str()) {
            (Some(k), Some(v)) => Ok((k.to_string(), v.to_string())),
            _ => Err(bad()),
        })
        .collect()
}

/// `retry` in the JS API's words as a `RetryPolicy`, built as the JS shell builds it.
fn retry_policy(r: &Value) -> Result<RetryPolicy, String> {
    let obj = r
        .as_object()
        .ok_or_else(|| format!("option retry: not an object: {r}"))?;
    let mut p = match obj.get("preset").and_then(Value::as_str) {
        Some("resilient") => RetryPolicy::resilient(),
        Some(other) => return Err(format!("option retry.preset: {other:?}")),
        None => RetryPolicy::default(),
    };
    for (k, v) in obj {
        match k.as_str() {
            "preset" => {}
            "reconnectionTime" => p.reconnection_time_ms = ms(v, k)?,
            "minDelay" => p.min_delay_ms = ms(v, k)?,
            "maxAttempts" => p.max_attempts = Some(ms(v, k)? as u32),
            "classify" => {
                p.classify = match text(v, k)? {
                    "transient" => Classify::Transient,
                    "spec" => Classify::Spec,
                    other => return Err(format!("option retry.classify: {other:?}")),
                }
            }
            "backoff" => match v {
                Value::Bool(false) => p.backoff = None,
                Value::Bool(true) => p.backoff = Some(p.backoff.unwrap_or_default()),
                Value::Object(b) => {
                    let mut backoff = p.backoff.unwrap_or_default();
                    for (k, v) in b {
                        match k.as_str() {
                            "factor" => {
                                backoff.factor = v
                                    .as_f64()
                                    .ok_or_else(|| format!("option retry.backoff.factor: {v}"))?
                            }
                            "maxDelay" => backoff.max_delay_ms = ms(v, k)?,
                            "jitter" => {
                                backoff.jitter = v
                                    .as_bool()
                                    .ok_or_else(|| format!("option retry.backoff.jitter: {v}"))?
                            }
                            "resetAfter" => backoff.reset_after_ms = ms(v, k)?,
                            other => {
                                return Err(format!("option retry.backoff.{other}: not mapped"))
                            }
                        }
                    }
                    p.backoff = Some(backoff);
                }
                _ => return Err(format!("option retry.backoff: {v}")),
            },
            other => return Err(format!("option retry.{other}: not mapped")),
        }
    }
    Ok(p)
}

/// The scenario's source: its options as builder calls, its `$` constructs built with them.
fn connect(
    url: &str,
    options: &Value,
    seen: &Rc<Seen>,
) -> Result<Result<EventSource, sse_web::BuildError>, String> {
    let mut b = EventSource::builder(url);
    let empty = serde_json::Map::new();
    for (k, v) in options.as_object().unwrap_or(&empty) {
        b = match k.as_str() {
            "method" => b.method(text(v, k)?),
            "headers" => pairs(v, k)?
                .iter()
                .fold(b, |b, (name, value)| b.header(name, value)),
            "body" => b.body(text(v, k)?),
            "lastEventId" => b.last_event_id(text(v, k)?),
            "lastEventIdQuery" => match v {
                Value::Bool(true) => b.last_event_id_query("lastEventId"),
                Value::Bool(false) => b,
                _ => b.last_event_id_query(text(v, k)?),
            },
            "inactivityTimeout" => b.inactivity_timeout(Duration::from_millis(ms(v, k)?)),
            "maxEventSize" => b.max_event_size(ms(v, k)? as usize),
            "withCredentials" => b.with_credentials(v.as_bool().unwrap_or(false)),
            "retry" => b.retry(retry_policy(v)?),
            "$headersPerAttempt" => {
                let made = pairs(v, k)?;
                let attempt = Rc::new(Cell::new(0u32));
                b.headers_with(move || {
                    let n = attempt.get();
                    attempt.set(n + 1);
                    let n = n.to_string();
                    let headers: Vec<(String, String)> = made
                        .iter()
                        .map(|(k, v)| (k.clone(), v.replace("{n}", &n)))
                        .collect();
                    async move { headers }
                })
            }
            "$retryStatuses" => {
                let statuses: Vec<u16> = v
                    .as_array()
                    .ok_or_else(|| format!("option {k}: {v}"))?
                    .iter()
                    .filter_map(|s| s.as_u64().map(|s| s as u16))
                    .collect();
                b.classify(move |failure: &Failure, default: Decision| {
                    if failure.status.is_some_and(|s| statuses.contains(&s)) {
                        Decision::Retry {
                            at_least_ms: failure.retry_after_ms.unwrap_or(0),
                        }
                    } else {
                        default
                    }
                })
            }
            "$comments" if v.as_bool() == Some(true) => {
                let seen = seen.clone();
                b.on_comment(move |text| seen.observe(json!(["comment", text])))
            }
            "$comments" => b,
            other => return Err(format!("option {other}: not mapped by the {RUNNER} runner")),
        };
    }
    Ok(b.connect())
}

/// The JS option name as the Rust one: `retry.maxAttempts` is `retry.max_attempts`.
fn snake(js: &str) -> String {
    let mut out = String::new();
    for c in js.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 600 {
        let mut end = 600;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}

/// An expected event's data: a string, or `{repeat, times}`.
fn expand(d: &Value) -> Value {
    match (d["repeat"].as_str(), d["times"].as_u64()) {
        (Some(text), Some(times)) => Value::String(text.repeat(times as usize)),
        _ => d.clone(),
    }
}

fn same_number(got: &Value, want: &Value) -> bool {
    match (got.as_f64(), want.as_f64()) {
        (Some(g), Some(w)) => g == w,
        _ => got == want,
    }
}

/// Whether observation `got` is what `want` (a table trace entry) says.
fn same(got: &Value, want: &Value) -> bool {
    let (Some(g), Some(w)) = (got.as_array(), want.as_array()) else {
        return false;
    };
    if g.len() != w.len() || g[0] != w[0] {
        return false;
    }
    w.iter().zip(g).enumerate().all(|(i, (w, g))| {
        if want[0] == "event" && i == 2 {
            return *g == expand(w);
        }
        if want[0] == "error" && i == 4 {
            if let Some([min, max]) = w.as_array().map(Vec::as_slice) {
                return g.as_f64().is_some_and(|n| {
                    min.as_f64().is_some_and(|m| n >= m) && max.as_f64().is_some_and(|m| n <= m)
                });
            }
        }
        same_number(g, w)
    })
}

/// A body's text, whole.
async fn read_text(url: &str, init: &Init) -> Result<(u16, String), String> {
    let response = fetch(url, init)
        .await
        .map_err(|e| format!("{url}: {e:?}"))?;
    let status = response.status();
    let mut body = response.body().map_err(|e| format!("{url}: {e:?}"))?;
    let mut bytes = Vec::new();
    while let Some(chunk) = body.chunk().await.map_err(|e| format!("{url}: {e:?}"))? {
        bytes.extend(chunk);
    }
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// The request log sse-testserver keeps for `token`.
async fn read_log(token: &str) -> Result<Vec<Value>, String> {
    let (_, text) = read_text(&format!("{SERVER}/log?token={token}"), &Init::new("GET")).await?;
    serde_json::from_str(&text).map_err(|e| format!("the log is not JSON: {e}"))
}

fn check_requests(log: &[Value], want: &Value, fail: &mut dyn FnMut(String)) {
    if let Some(n) = want.as_u64() {
        if log.len() as u64 != n {
            fail(format!("requests: expected {n}, got {}", log.len()));
        }
        return;
    }
    let want = want.as_array().cloned().unwrap_or_default();
    if log.len() != want.len() {
        let uris: Vec<&Value> = log.iter().map(|r| &r["uri"]).collect();
        fail(format!(
            "requests: expected {}, got {}: {}",
            want.len(),
            log.len(),
            show(&json!(uris))
        ));
    }
    for (i, (w, r)) in want.iter().zip(log).enumerate() {
        let at = format!("request {}", i + 1);
        if let Some(m) = w.get("method") {
            if r["method"] != *m {
                fail(format!("{at}: method {}, expected {m}", r["method"]));
            }
        }
        if let Some(b) = w.get("body") {
            if r["body"] != *b {
                fail(format!(
                    "{at}: body {}, expected {}",
                    show(&r["body"]),
                    show(b)
                ));
            }
        }
        if let Some(id) = w.get("lastEventId") {
            if r["last_event_id"] != *id {
                fail(format!(
                    "{at}: Last-Event-ID {}, expected {id}",
                    r["last_event_id"]
                ));
            }
        }
        let uri = r["uri"].as_str().unwrap_or_default();
        if let Some(p) = w["uriStartsWith"].as_str() {
            if !uri.starts_with(p) {
                fail(format!("{at}: URI {uri} does not start with {p}"));
            }
        }
        if let Some(p) = w["uriEndsWith"].as_str() {
            if !uri.ends_with(p) {
                fail(format!("{at}: URI {uri} does not end with {p}"));
            }
        }
        let headers = r["headers"].as_array().cloned().unwrap_or_default();
        let values = |name: &str| -> Vec<Value> {
            headers
                .iter()
                .filter(|h| h[0] == name)
                .map(|h| h[1].clone())
                .collect()
        };
        for h in w["headers"].as_array().into_iter().flatten() {
            let name = h[0].as_str().unwrap_or_default();
            let got = values(name);
            if got != [h[1].clone()] {
                fail(format!("{at}: {name} {}, expected [{}]", json!(got), h[1]));
            }
        }
        for name in w["absent"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !values(name).is_empty() {
                fail(format!("{at}: {name} was sent"));
            }
        }
    }
}

/// Runs one scenario; returns what diverged (empty when it passed).
async fn run_one(sc: &Value) -> Vec<String> {
    let name = sc["name"].as_str().unwrap_or("?");
    let token = format!("{name}-{}", js_sys::Math::random().to_bits());
    let expect = &sc["expect"];
    let timeout = sc["timeout"].as_u64().unwrap_or(10_000) as i32;
    let settle = sc["settle"].as_u64().unwrap_or(100) as i32;
    if let Some(scripts) = sc.get("server") {
        let mut init = Init::new("POST");
        init.body(scripts.to_string().as_bytes());
        match read_text(&format!("{SERVER}/script?token={token}"), &init).await {
            Ok((200..=299, _)) => {}
            Ok((status, text)) => return vec![format!("scripts not stored: {status} {text}")],
            Err(e) => return vec![format!("scripts not stored: {e}")],
        }
    }
    let url = fill(
        sc["url"].as_str().unwrap_or("{server}/s?token={token}"),
        &token,
    );
    let acts = sc["act"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| Act {
            on: a["on"].as_str().unwrap_or_default().to_string(),
            n: a["n"].as_u64().unwrap_or(0),
            wait: a["wait"].as_u64().unwrap_or(0) as i32,
            what: a["do"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    let seen = Rc::new(Seen {
        acts,
        ..Seen::default()
    });
    let invalid = expect["invalid"].as_str();
    let es = match connect(&url, &sc["options"], &seen) {
        Err(e) => return vec![e],
        Ok(Err(e)) => {
            match invalid {
                None => return vec![format!("connect() refused the options: {e}")],
                Some(js) => {
                    let rust = snake(js);
                    if !e.to_string().contains(&format!("option {rust}:")) {
                        seen.fail(format!("the BuildError does not name {rust}: {e}"));
                    }
                }
            }
            None
        }
        Ok(Ok(es)) => {
            let es = Rc::new(es);
            if let Some(js) = invalid {
                es.close();
                seen.fail(format!("connected, but {js} is invalid"));
            }
            *seen.es.borrow_mut() = Rc::downgrade(&es);
            Some(es)
        }
    };
    if let Some(es) = &es {
        let consume = async {
            loop {
                let item = std::future::poll_fn(|cx| es.poll_event(cx)).await;
                match item {
                    None => break,
                    Some(Ok(e)) => {
                        seen.observe(json!(["event", e.event_type, e.data, e.last_event_id]))
                    }
                    Some(Err(e)) => {
                        seen.messages.borrow_mut().push(e.to_string());
                        seen.observe(json!([
                            "error",
                            e.kind().as_str(),
                            e.status(),
                            e.will_retry(),
                            e.retry_in_ms,
                            es.ready_state() as u16
                        ]));
                    }
                }
            }
        };
        if let Either::Right(_) = select(Box::pin(consume), Box::pin(sleep(timeout))).await {
            es.close();
            let trace = Value::Array(seen.trace.borrow().clone());
            seen.fail(format!(
                "timed out after {timeout} ms waiting for the end; trace so far {}",
                show(&trace)
            ));
        }
    }
    sleep(settle).await;
    let mut failures = std::mem::take(&mut *seen.failures.borrow_mut());
    let mut fail = |what: String| failures.push(what);
    let trace = seen.trace.borrow().clone();
    if let Some(want) = expect["trace"].as_array() {
        let want: Vec<&Value> = want.iter().filter(|w| w[0] != "open").collect();
        if trace.len() != want.len() || !trace.iter().zip(&want).all(|(g, w)| same(g, w)) {
            let at = (0..trace.len())
                .find(|&i| want.get(i).is_none_or(|w| !same(&trace[i], w)))
                .unwrap_or(trace.len());
            let shown: Vec<Value> = want
                .iter()
                .map(|w| {
                    let mut w = (*w).clone();
                    if w[0] == "event" {
                        w[2] = expand(&w[2]);
                    }
                    w
                })
                .collect();
            fail(format!(
                "trace differs at entry {at}: got {}, expected {}",
                show(&json!(trace)),
                show(&json!(shown))
            ));
        }
    }
    if let Some(want) = expect["count"].as_object() {
        let mut counts: HashMap<String, u64> = HashMap::new();
        for t in &trace {
            let kind = t[0].as_str().unwrap_or_default();
            *counts.entry(kind.to_string()).or_default() += 1;
            if kind == "error" {
                *counts
                    .entry(format!("error:{}", t[1].as_str().unwrap_or_default()))
                    .or_default() += 1;
            }
        }
        for (k, n) in want {
            if k == "open" {
                continue; // no open item in the Rust stream
            }
            let got = counts.get(k).copied().unwrap_or(0);
            if Some(got) != n.as_u64() {
                fail(format!("count of {k}: {got}, expected {n}"));
            }
        }
    }
    if expect["inOrder"] == true {
        let events = trace.iter().filter(|t| t[0] == "event");
        for (i, t) in events.enumerate() {
            let n = (i + 1).to_string();
            if t[2] != n.as_str() || t[3] != t[2] {
                fail(format!(
                    "event {} is {}: lost, repeated or out of order",
                    i + 1,
                    show(t)
                ));
                break;
            }
        }
    }
    if let Some(pattern) = expect["message"].as_str() {
        let messages = seen.messages.borrow();
        let last = messages.last().map(String::as_str).unwrap_or_default();
        if !js_sys::RegExp::new(pattern, "").test(last) {
            fail(format!(
                "the last message {last:?} does not match {pattern}"
            ));
        }
    }
    let ended = expect["ended"].as_f64();
    if expect.get("requests").is_some() || expect.get("gaps").is_some() || ended.is_some() {
        let mut log = match read_log(&token).await {
            Ok(log) => log,
            Err(e) => {
                fail(e);
                Vec::new()
            }
        };
        if let Some(within) = ended {
            let end = js_sys::Date::now() + within + 500.0;
            while log.last().is_some_and(|r| r["ended"].is_null()) && js_sys::Date::now() < end {
                sleep(10).await;
                log = read_log(&token).await.unwrap_or(log);
            }
            let ended = log.last().and_then(|r| r["ended"].as_f64());
            match (seen.closed_at.get(), ended) {
                (None, _) => fail("ended: the scenario never called close()".into()),
                (Some(_), None) => fail(format!(
                    "the server saw the end never after close(), expected within {within} ms"
                )),
                (Some(at), Some(ended)) if ended - at > within => fail(format!(
                    "the server saw the end {} ms after close(), expected within {within} ms",
                    ended - at
                )),
                _ => {}
            }
        }
        if let Some(want) = expect.get("requests") {
            check_requests(&log, want, &mut fail);
        }
        for (i, g) in expect["gaps"].as_array().into_iter().flatten().enumerate() {
            let (min, max) = (g[0].as_f64().unwrap_or(0.0), g[1].as_f64().unwrap_or(0.0));
            let (Some(a), Some(b)) = (
                log.get(i).and_then(|r| r["at"].as_f64()),
                log.get(i + 1).and_then(|r| r["at"].as_f64()),
            ) else {
                fail(format!("gap {}: no request {}", i + 1, i + 2));
                continue;
            };
            let gap = b - a;
            if gap < min || gap > max {
                fail(format!("gap {}: {gap} ms, expected {min}..{max}", i + 1));
            }
        }
    }
    drop(es);
    failures
}
