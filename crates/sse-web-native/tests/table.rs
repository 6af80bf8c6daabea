//! The scenario table (tests/scenarios/table.json, its format in tests/scenarios/README.md)
//! through sse-web-native, against an in-process sse-testserver. The browser client's runners play
//! the same table and compare the same observations.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde_json::{json, Value};
use sse_testserver::{LogEntry, Server};
use sse_web_native::{Backoff, Builder, Classify, Decision, EventSource, RetryPolicy};
use tokio::time::Instant;

const TABLE: &str = include_str!("../../../tests/scenarios/table.json");
const RUNNER: &str = "sse-web-native";
/// The port nothing listens on (`{unreachable}`).
const UNREACHABLE: &str = "http://127.0.0.1:1/";

#[tokio::test]
async fn scenario_table() {
    let table: Vec<Value> = serde_json::from_str(TABLE).expect("the table is JSON");
    let server = server_on_own_thread();
    let mut skipped = Vec::new();
    let mut failed = Vec::new();
    let mut ran = 0;
    for (i, sc) in table.iter().enumerate() {
        let name = sc["name"].as_str().unwrap_or("(unnamed)");
        if let Some(reason) = sc["skip"].get(RUNNER) {
            skipped.push(format!("{name} ({})", reason.as_str().unwrap_or("?")));
            continue;
        }
        let token = format!("{name}-{}-{i}", std::process::id());
        let started = std::time::Instant::now();
        let failures = run(&server, sc, &token).await;
        ran += 1;
        eprintln!(
            "{} {name} ({} ms)",
            if failures.is_empty() { "ok  " } else { "FAIL" },
            started.elapsed().as_millis()
        );
        if !failures.is_empty() {
            failed.push(format!("{name}: {}", failures.join("; ")));
        }
    }
    let skips = if skipped.is_empty() {
        "none".to_string()
    } else {
        skipped.join(", ")
    };
    let line = format!(
        "scenario table: {RUNNER} ran {ran} of {}; skipped: {skips}",
        table.len()
    );
    eprintln!("{line}");
    report(&line).await;
    assert!(
        failed.is_empty() && ran == table.len() - skipped.len(),
        "{line}\n{} diverged:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// Posts the summary line to the sse-testserver of `SSE_TESTSERVER`, where scripts/test.sh
/// collects every runner's.
async fn report(line: &str) {
    let Ok(base) = std::env::var("SSE_TESTSERVER") else {
        return;
    };
    let url = format!(
        "{}/inline?token=scenario-table&script=%7B%22status%22%3A204%7D",
        base.trim_end_matches('/')
    );
    let sent = reqwest::Client::new()
        .post(url)
        .body(line.to_string())
        .send()
        .await;
    if let Err(e) = sent {
        eprintln!("note: the summary line was not posted to {base}: {e}");
    }
}

/// Runs one scenario; returns what diverged (empty when it passed).
async fn run(s: &Server, sc: &Value, token: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let mut fail = |what: String| failures.push(what);
    for key in obj_keys(sc) {
        if !matches!(
            key,
            "name"
                | "about"
                | "url"
                | "server"
                | "options"
                | "act"
                | "timeout"
                | "settle"
                | "skip"
                | "expect"
        ) {
            fail(format!("unknown scenario key {key}"));
        }
    }
    let expect = &sc["expect"];
    for key in obj_keys(expect) {
        if !matches!(
            key,
            "trace" | "count" | "inOrder" | "invalid" | "message" | "requests" | "gaps" | "ended"
        ) {
            fail(format!("unknown expect key {key}"));
        }
    }
    if let Some(scripts) = sc.get("server") {
        let stored = reqwest::Client::new()
            .post(format!("{}/script?token={token}", s.url()))
            .body(scripts.to_string())
            .send()
            .await;
        let stored = stored
            .map_err(|e| e.to_string())
            .and_then(|r| r.error_for_status().map_err(|e| e.to_string()));
        if let Err(e) = stored {
            fail(format!("scripts not stored: {e}"));
            return failures;
        }
    }
    let url = sc["url"]
        .as_str()
        .unwrap_or("{server}/s?token={token}")
        .replace("{server}", &s.url())
        .replace("{cross}", &s.cross_origin_url())
        .replace("{token}", token)
        .replace("{unreachable}", UNREACHABLE);
    let trace = Arc::new(Mutex::new(Vec::<Value>::new()));
    let comments = Arc::new(tokio::sync::Notify::new());
    let builder = match builder(&url, &sc["options"], &trace, &comments) {
        Ok(b) => b,
        Err(e) => {
            fail(e);
            return failures;
        }
    };
    let mut messages = Vec::new();
    let mut closed_at = None;
    // The source lives to the end of the checks, so that only close() can let the server see
    // the end of its response (dropping it would too).
    let mut source = None;
    match (builder.connect(), expect["invalid"].as_str()) {
        (Err(e), None) => {
            fail(format!("the build failed: {e}"));
            return failures;
        }
        (Err(e), Some(name)) => {
            let name = snake_case(name);
            let e = e.to_string();
            if !e.contains(&format!("option {name}:")) {
                fail(format!("the BuildError does not name {name}: {e}"));
            }
        }
        (Ok(_), Some(name)) => fail(format!("built, but {name} is invalid")),
        (Ok(mut es), None) => {
            let timeout = Duration::from_millis(sc["timeout"].as_u64().unwrap_or(10_000));
            let acts = sc["act"].as_array().map_or(&[][..], Vec::as_slice);
            let drive = drive(&mut es, acts, &trace, &comments, &mut messages);
            match tokio::time::timeout(timeout, drive).await {
                Ok(Ok(at)) => closed_at = at,
                Ok(Err(e)) => fail(e),
                Err(_) => {
                    fail(format!(
                        "timed out after {} ms in readyState {}; trace so far {}",
                        timeout.as_millis(),
                        es.ready_state() as u16,
                        show(&Value::Array(trace.lock().unwrap().clone()))
                    ));
                    es.close();
                }
            }
            source = Some(es);
        }
    }
    let settle = sc["settle"].as_u64().unwrap_or(100);
    tokio::time::sleep(Duration::from_millis(settle)).await;
    let trace = trace.lock().unwrap().clone();

    if let Some(want) = expect.get("trace") {
        // The Rust stream has no `open` notification: its entries are dropped (and only those).
        let want: Vec<&Value> = want
            .as_array()
            .into_iter()
            .flatten()
            .filter(|w| w[0] != "open")
            .collect();
        let differs = (0..trace.len().max(want.len()))
            .find(|&i| !matches!((trace.get(i), want.get(i)), (Some(g), Some(w)) if same(g, w)));
        if let Some(i) = differs {
            let entry = |v: Option<&Value>| v.map_or("nothing".into(), show);
            fail(format!(
                "trace differs at entry {i}: got {}, expected {}; got {}, expected {}",
                entry(trace.get(i)),
                entry(want.get(i).copied()),
                show(&json!(trace)),
                show(&json!(want))
            ));
        }
    }
    if let Some(want) = expect.get("count").and_then(Value::as_object) {
        for (kind, n) in want {
            if kind == "open" {
                continue;
            }
            let got = trace
                .iter()
                .filter(|t| match kind.split_once(':') {
                    Some((k, sub)) => t[0] == k && t[1] == sub,
                    None => t[0] == kind.as_str(),
                })
                .count();
            if Some(got as u64) != n.as_u64() {
                fail(format!("count of {kind}: {got}, expected {n}"));
            }
        }
    }
    if expect["inOrder"] == true {
        let events = trace.iter().filter(|t| t[0] == "event");
        let bad = events
            .enumerate()
            .find(|(i, t)| t[2].as_str() != Some((i + 1).to_string().as_str()) || t[3] != t[2]);
        if let Some((i, t)) = bad {
            fail(format!(
                "event {} is {}: lost, repeated or out of order",
                i + 1,
                show(t)
            ));
        }
    }
    if let Some(pattern) = expect["message"].as_str() {
        // The README says the first error's message, but the table's pattern is about the error
        // that ends the stream ("gave up after 2 ..."), and tests/js/table.js reads the last one:
        // so does this runner.
        let re = regex::Regex::new(pattern).expect("the table's message is a regex");
        match messages.last() {
            Some(m) if re.is_match(m) => {}
            Some(m) => fail(format!("message {m:?} does not match {pattern}")),
            None => fail(format!("no error, expected a message matching {pattern}")),
        }
    }
    if expect.get("requests").is_some()
        || expect.get("gaps").is_some()
        || expect.get("ended").is_some()
    {
        let mut log = match read_log(s, token).await {
            Ok(log) => log,
            Err(e) => {
                fail(format!("the log: {e}"));
                return failures;
            }
        };
        if let Some(within) = expect["ended"].as_u64() {
            // The end may be seen a little after the close: wait for it, up to the bound and more.
            let until = Instant::now() + Duration::from_millis(within + 500);
            while log.last().is_some_and(|e| e.ended.is_none()) && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if let Ok(l) = read_log(s, token).await {
                    log = l;
                }
            }
            match (closed_at, log.last().and_then(|e| e.ended)) {
                (None, _) => fail("ended: the scenario never called close()".into()),
                (Some(_), None) => fail(format!(
                    "the server never saw the end of the last response (within {} ms)",
                    within + 500
                )),
                (Some(closed), Some(ended)) if ended > closed + within => fail(format!(
                    "the server saw the end {} ms after close(), expected within {within} ms",
                    ended - closed
                )),
                _ => {}
            }
        }
        if let Some(want) = expect.get("requests") {
            check_requests(&log, want, &mut fail);
        }
        for (i, gap) in expect["gaps"].as_array().into_iter().flatten().enumerate() {
            let (min, max) = (gap[0].as_u64().unwrap_or(0), gap[1].as_u64().unwrap_or(0));
            match (log.get(i), log.get(i + 1)) {
                (Some(a), Some(b)) => {
                    let got = b.at.saturating_sub(a.at);
                    if got < min || got > max {
                        fail(format!("gap {}: {got} ms, expected {min}..={max}", i + 1));
                    }
                }
                _ => fail(format!("gap {}: no request {}", i + 1, i + 2)),
            }
        }
    }
    drop(source);
    failures
}

/// Polls the source until it ends, recording every item and doing the scenario's acts;
/// returns the Unix ms at which it called `close()`, if it did.
async fn drive(
    es: &mut EventSource,
    acts: &[Value],
    trace: &Mutex<Vec<Value>>,
    comments: &tokio::sync::Notify,
    messages: &mut Vec<String>,
) -> Result<Option<u64>, String> {
    enum Woke {
        Item(Option<Result<sse_web_native::Event, sse_web_native::Error>>),
        Other,
    }
    let mut fired = vec![false; acts.len()];
    let mut due: Vec<(Instant, &str)> = Vec::new();
    let mut closed_at = None;
    loop {
        let next_act = due.iter().map(|d| d.0).min();
        let woke = tokio::select! {
            item = es.next() => Woke::Item(item),
            () = comments.notified() => Woke::Other,
            () = tokio::time::sleep_until(next_act.unwrap_or_else(Instant::now)), if next_act.is_some() => Woke::Other,
        };
        match woke {
            Woke::Item(None) => return Ok(closed_at),
            Woke::Item(Some(Ok(e))) => {
                trace
                    .lock()
                    .unwrap()
                    .push(json!(["event", e.event_type, e.data, e.last_event_id]))
            }
            Woke::Item(Some(Err(e))) => {
                // The readyState right when the error is yielded.
                let state = es.ready_state() as u16;
                trace.lock().unwrap().push(json!([
                    "error",
                    e.kind().as_str(),
                    e.status(),
                    e.will_retry(),
                    e.details().retry_in_ms,
                    state
                ]));
                messages.push(e.to_string());
            }
            Woke::Other => {}
        }
        let now = Instant::now();
        for (a, fired) in acts.iter().zip(&mut fired) {
            let (Some(on), Some(n)) = (a["on"].as_str(), a["n"].as_u64()) else {
                return Err(format!("an act without on and n: {a}"));
            };
            // A comment is seen inside poll_next, which may go on to yield the next event in the
            // same call: an act on a comment happens once that poll returns.
            if !matches!(on, "event" | "error" | "comment") {
                return Err(format!("an act on {on}: the Rust stream has none"));
            }
            let seen = trace.lock().unwrap().iter().filter(|t| t[0] == on).count();
            if !*fired && seen as u64 >= n {
                *fired = true;
                let wait = Duration::from_millis(a["wait"].as_u64().unwrap_or(0));
                due.push((now + wait, a["do"].as_str().unwrap_or("?")));
            }
        }
        let mut i = 0;
        while i < due.len() {
            if due[i].0 > Instant::now() {
                i += 1;
                continue;
            }
            match due.remove(i).1 {
                "close" => {
                    closed_at = Some(unix_ms());
                    es.close();
                }
                "restart" => es.restart(),
                other => return Err(format!("unknown act {other}")),
            }
        }
    }
}

/// The builder for the table's `options`, in the JS API's words, with its `$` test constructs.
fn builder(
    url: &str,
    options: &Value,
    trace: &Arc<Mutex<Vec<Value>>>,
    comments: &Arc<tokio::sync::Notify>,
) -> Result<Builder, String> {
    let mut b = EventSource::builder(url);
    let str_of = |k: &str, v: &Value| {
        v.as_str()
            .map(str::to_string)
            .ok_or(format!("option {k} is not a string: {v}"))
    };
    let num_of = |k: &str, v: &Value| v.as_u64().ok_or(format!("option {k} is not a number: {v}"));
    let pairs = |k: &str, v: &Value| -> Result<Vec<(String, String)>, String> {
        v.as_array()
            .ok_or(format!("option {k} is not a list: {v}"))?
            .iter()
            .map(|p| match (p[0].as_str(), p[1].as_str()) {
                (Some(n), Some(v)) => Ok((n.to_string(), v.to_string())),
                _ => Err(format!("option {k}: not a pair: {p}")),
            })
            .collect()
    };
    for (k, v) in options.as_object().into_iter().flatten() {
        let k = k.as_str();
        b = match k {
            "method" => b.method(&str_of(k, v)?),
            "headers" => pairs(k, v)?.iter().fold(b, |b, (n, v)| b.header(n, v)),
            "body" => b.body(str_of(k, v)?),
            "lastEventId" => b.last_event_id(&str_of(k, v)?),
            "lastEventIdQuery" => match v {
                Value::Bool(true) => b.last_event_id_query("lastEventId"),
                Value::Bool(false) => b,
                v => b.last_event_id_query(&str_of(k, v)?),
            },
            "inactivityTimeout" => b.inactivity_timeout(Duration::from_millis(num_of(k, v)?)),
            "maxEventSize" => b.max_event_size(num_of(k, v)? as usize),
            "retry" => b.retry(retry_policy(v)?),
            "$headersPerAttempt" => {
                let made = pairs(k, v)?;
                let n = Arc::new(AtomicU32::new(0));
                b.headers_with(move || {
                    let n = n.fetch_add(1, Ordering::SeqCst).to_string();
                    let headers = made
                        .iter()
                        .map(|(k, v)| (k.clone(), v.replace("{n}", &n)))
                        .collect();
                    async move { headers }
                })
            }
            "$retryStatuses" => {
                let statuses: Vec<u64> = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_u64)
                    .collect();
                b.classify(move |failure, by_default| match failure.status {
                    Some(s) if statuses.contains(&u64::from(s)) => Decision::Retry {
                        at_least_ms: failure.retry_after_ms.unwrap_or(0),
                    },
                    _ => by_default,
                })
            }
            "$comments" if v == &Value::Bool(true) => {
                let (trace, comments) = (trace.clone(), comments.clone());
                b.on_comment(move |text| {
                    trace.lock().unwrap().push(json!(["comment", text]));
                    comments.notify_one();
                })
            }
            "$comments" => b,
            _ => return Err(format!("unsupported option {k}")),
        };
    }
    Ok(b)
}

/// The table's `retry` object as a [`RetryPolicy`].
fn retry_policy(v: &Value) -> Result<RetryPolicy, String> {
    let mut p = match v["preset"].as_str() {
        None | Some("spec") => RetryPolicy::default(),
        Some("resilient") => RetryPolicy::resilient(),
        Some(other) => return Err(format!("unknown retry preset {other}")),
    };
    let num = |k: &str, v: &Value| v.as_u64().ok_or(format!("retry.{k} is not a number: {v}"));
    for (k, v) in v.as_object().into_iter().flatten() {
        match k.as_str() {
            "preset" => {}
            "reconnectionTime" => p.reconnection_time_ms = num(k, v)?,
            "minDelay" => p.min_delay_ms = num(k, v)?,
            "maxAttempts" => p.max_attempts = Some(num(k, v)? as u32),
            "classify" => {
                p.classify = match v.as_str() {
                    Some("spec") => Classify::Spec,
                    Some("transient") => Classify::Transient,
                    _ => return Err(format!("retry.classify {v} is not a preset")),
                }
            }
            "backoff" if v.is_null() || v == &Value::Bool(false) => p.backoff = None,
            "backoff" => {
                let mut b = p.backoff.unwrap_or_default();
                for (k, v) in v.as_object().into_iter().flatten() {
                    match k.as_str() {
                        "factor" => {
                            b.factor = v.as_f64().ok_or(format!("backoff.factor: {v}"))?;
                        }
                        "maxDelay" => b.max_delay_ms = num(k, v)?,
                        "jitter" => b.jitter = v.as_bool().ok_or(format!("backoff.jitter: {v}"))?,
                        "resetAfter" => b.reset_after_ms = num(k, v)?,
                        _ => return Err(format!("unsupported option retry.backoff.{k}")),
                    }
                }
                p.backoff = Some::<Backoff>(b);
            }
            _ => return Err(format!("unsupported option retry.{k}")),
        }
    }
    Ok(p)
}

/// Whether observation `got` is what `want` (a trace entry of the table) says: an event's data
/// may be `{"repeat": TEXT, "times": N}`, an error's retryIn a range `[min, max]`.
fn same(got: &Value, want: &Value) -> bool {
    let (Some(g), Some(w)) = (got.as_array(), want.as_array()) else {
        return false;
    };
    g.len() == w.len()
        && g.iter()
            .zip(w)
            .enumerate()
            .all(|(i, (g, w))| match (&want[0], i, w) {
                (k, 2, Value::Object(r)) if k == "event" => {
                    let times = r.get("times").and_then(Value::as_u64).unwrap_or(0) as usize;
                    let text = r.get("repeat").and_then(Value::as_str).unwrap_or("");
                    g.as_str()
                        .is_some_and(|g| g.len() == text.len() * times && g == text.repeat(times))
                }
                (k, 4, Value::Array(range)) if k == "error" => {
                    let (min, max) = (range[0].as_u64(), range[1].as_u64());
                    g.as_u64()
                        .is_some_and(|g| min.is_some_and(|m| g >= m) && max.is_some_and(|m| g <= m))
                }
                _ => g == w,
            })
}

fn check_requests(log: &[LogEntry], want: &Value, fail: &mut impl FnMut(String)) {
    if let Some(n) = want.as_u64() {
        if log.len() as u64 != n {
            fail(format!(
                "requests: expected {n}, got {}: {}",
                log.len(),
                uris(log)
            ));
        }
        return;
    }
    let want = want.as_array().map_or(&[][..], Vec::as_slice);
    if log.len() != want.len() {
        fail(format!(
            "requests: expected {}, got {}: {}",
            want.len(),
            log.len(),
            uris(log)
        ));
    }
    for (i, (w, r)) in want.iter().zip(log).enumerate() {
        let at = format!("request {}", i + 1);
        for (key, v) in w.as_object().into_iter().flatten() {
            match key.as_str() {
                "method" if r.method != *v => {
                    fail(format!("{at}: method {}, expected {v}", r.method))
                }
                "body" if r.body != *v => fail(format!("{at}: body {:?}, expected {v}", r.body)),
                "lastEventId" if json!(r.last_event_id) != *v => fail(format!(
                    "{at}: Last-Event-ID {:?}, expected {v}",
                    r.last_event_id
                )),
                "uriStartsWith" if !v.as_str().is_some_and(|p| r.uri.starts_with(p)) => {
                    fail(format!("{at}: URI {} does not start with {v}", r.uri));
                }
                "uriEndsWith" if !v.as_str().is_some_and(|p| r.uri.ends_with(p)) => {
                    fail(format!("{at}: URI {} does not end with {v}", r.uri));
                }
                "headers" => {
                    for pair in v.as_array().into_iter().flatten() {
                        let (name, value) = (&pair[0], &pair[1]);
                        let got: Vec<&str> = r
                            .headers
                            .iter()
                            .filter(|(n, _)| *n == *name)
                            .map(|(_, v)| v.as_str())
                            .collect();
                        if json!(got) != json!([value]) {
                            fail(format!("{at}: {name} {got:?}, expected [{value}]"));
                        }
                    }
                }
                "absent" => {
                    for name in v.as_array().into_iter().flatten() {
                        if r.headers.iter().any(|(n, _)| *n == *name) {
                            fail(format!("{at}: {name} was sent"));
                        }
                    }
                }
                "method" | "body" | "lastEventId" | "uriStartsWith" | "uriEndsWith" => {}
                other => fail(format!("{at}: unknown request key {other}")),
            }
        }
    }
}

fn uris(log: &[LogEntry]) -> String {
    show(&json!(log
        .iter()
        .map(|e| e.uri.as_str())
        .collect::<Vec<_>>()))
}

async fn read_log(s: &Server, token: &str) -> Result<Vec<LogEntry>, String> {
    let res = reqwest::get(format!("{}/log?token={token}", s.url()))
        .await
        .map_err(|e| e.to_string())?;
    let body = res.text().await.map_err(|e| e.to_string())?;
    serde_json::from_str(&body).map_err(|e| e.to_string())
}

/// The table's camelCase option path in Rust's words (`retry.maxAttempts` → `retry.max_attempts`).
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn obj_keys(v: &Value) -> impl Iterator<Item = &str> {
    v.as_object().into_iter().flatten().map(|(k, _)| k.as_str())
}

/// A value for a failure message, cut short (and every long string in it).
fn show(v: &Value) -> String {
    fn shorten(v: &Value) -> Value {
        match v {
            Value::String(s) if s.chars().count() > 60 => {
                let head: String = s.chars().take(40).collect();
                Value::String(format!("{head}… ({} bytes)", s.len()))
            }
            Value::Array(a) => Value::Array(a.iter().map(shorten).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), shorten(v))).collect())
            }
            v => v.clone(),
        }
    }
    let s = shorten(v).to_string();
    match s.char_indices().nth(600) {
        Some((at, _)) => format!("{}… ({} bytes)", &s[..at], s.len()),
        None => s,
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The server on a multi-threaded runtime of its own, so that the client's work on the test's
/// thread cannot delay the server's clock (the gaps and ends it stamps).
fn server_on_own_thread() -> Server {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            tx.send(sse_testserver::spawn().await.expect("server starts"))
                .unwrap();
            std::future::pending::<()>().await
        });
    });
    rx.recv().unwrap()
}
