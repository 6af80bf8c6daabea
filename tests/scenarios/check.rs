//! The scenario table (table.json, its format in README.md) for the Rust runners: reading a
//! scenario, the observation format, and every comparison of what a runner saw (and the
//! server's request log) with the scenario's `expect`. Plain Rust over `serde_json` and
//! sse-web-core, for the host and wasm32 alike; included by
//! `crates/sse-web-native/tests/table.rs` and `tests/common/table.rs` as `mod check`. A runner
//! keeps only what is its client's: building it from [`Opt`]s, driving it and doing the
//! [`Act`]s, recording [`event`]/[`error`]/[`comment`] observations, reading the log over its
//! own HTTP ([`parse_log`]) and its summary line.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use serde_json::{json, Map, Value};
use sse_web_core::options::{Backoff, Classify, RetryPolicy};
use sse_web_core::parser::Event;
use sse_web_core::reconnect::{Decision, Error, Failure, ReadyState};

/// `{unreachable}`: nothing listens there, the connection is refused (port 1 is on fetch's list
/// of bad ports, refused before any connection is tried).
pub const UNREACHABLE: &str = "http://127.0.0.1:2/";

/// The table's scenarios.
pub fn table(text: &str) -> Vec<Value> {
    serde_json::from_str(text).expect("tests/scenarios/table.json is a JSON list")
}

/// The reason `sc` gives to skip runner `runner`: the one for `runner/ENV` first, for each of
/// `envs` in order (the realm, the browser engine), then the one for `runner`.
pub fn skip_reason<'a>(sc: &'a Value, runner: &str, envs: &[&str]) -> Option<&'a str> {
    let skip = &sc["skip"];
    envs.iter()
        .find_map(|env| skip[format!("{runner}/{env}")].as_str())
        .or_else(|| skip[runner].as_str())
}

/// One option of the table's `options`, in table order, for the runner to turn into the builder
/// call of the same words.
#[derive(Clone, Debug)]
pub enum Opt {
    Method(String),
    Headers(Vec<(String, String)>),
    Body(String),
    LastEventId(String),
    /// The query parameter's name (`true` is `lastEventId`); `false` is not listed.
    LastEventIdQuery(String),
    InactivityTimeout(Duration),
    MaxEventSize(usize),
    WithCredentials(bool),
    /// `redirect: "error"` (`"follow"` is not listed).
    RedirectError,
    Retry(RetryPolicy),
    /// `$headersPerAttempt`: a per-attempt headers function making [`attempt_headers`].
    HeadersPerAttempt(Vec<(String, String)>),
    /// `$retryStatuses`: a classifier deciding [`retry_statuses`].
    RetryStatuses(Vec<u16>),
    /// `$fatalWhenBodyHas`: a classifier deciding [`fatal_when_body_has`].
    FatalWhenBodyHas(String),
    /// `$comments: true`: ask for comments and record them ([`comment`]).
    Comments,
}

/// What the test does after the `n`-th observation of kind `on`, `wait` later.
#[derive(Clone, Debug)]
pub struct Act {
    pub on: String,
    pub n: u64,
    pub wait: Duration,
    pub what: Do,
}

/// An act's `do`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Do {
    Close,
    Restart,
}

/// The acts of a scenario, each done once.
#[derive(Debug, Default)]
pub struct Acts {
    acts: Vec<Act>,
    fired: Vec<bool>,
}

impl Acts {
    pub fn new(acts: Vec<Act>) -> Acts {
        let fired = vec![false; acts.len()];
        Acts { acts, fired }
    }

    /// The acts that `trace` has just made due, each returned once: `(wait, what)`.
    pub fn due(&mut self, trace: &[Value]) -> Vec<(Duration, Do)> {
        let mut due = Vec::new();
        for (a, fired) in self.acts.iter().zip(&mut self.fired) {
            let seen = trace.iter().filter(|t| t[0] == a.on.as_str()).count();
            if !*fired && seen as u64 >= a.n {
                *fired = true;
                due.push((a.wait, a.what));
            }
        }
        due
    }
}

/// A scenario of the table, read.
#[derive(Debug)]
pub struct Scenario<'a> {
    pub name: &'a str,
    /// The URL with its placeholders, for [`Scenario::url`].
    url: &'a str,
    /// The server's scripts (a JSON list) to store under the token first, if any.
    pub scripts: Option<String>,
    pub options: Vec<Opt>,
    acts: Vec<Act>,
    pub timeout: Duration,
    pub settle: Duration,
    pub expect: &'a Value,
}

impl<'a> Scenario<'a> {
    /// Reads `sc`; an `Err` names what a Rust runner cannot play.
    pub fn read(sc: &'a Value) -> Result<Scenario<'a>, String> {
        const KEYS: &[&str] = &[
            "name", "about", "url", "server", "options", "act", "timeout", "settle", "skip",
            "expect",
        ];
        const EXPECT: &[&str] = &[
            "trace",
            "count",
            "inOrder",
            "invalid",
            "message",
            "errorBodies",
            "requests",
            "gaps",
            "ended",
            "maxStallMs",
            "maxMemoryMiB",
        ];
        let expect = &sc["expect"];
        for (keys, v, what) in [(KEYS, sc, "scenario"), (EXPECT, expect, "expect")] {
            if let Some(k) = obj(v).find(|(k, _)| !keys.contains(&k.as_str())) {
                return Err(format!("unknown {what} key {}", k.0));
            }
        }
        let ms = |k: &str, default: u64| match sc.get(k) {
            None => Ok(Duration::from_millis(default)),
            Some(v) => v
                .as_u64()
                .map(Duration::from_millis)
                .ok_or(format!("{k}: not a number of ms: {v}")),
        };
        Ok(Scenario {
            name: sc["name"].as_str().unwrap_or("(unnamed)"),
            url: sc["url"].as_str().unwrap_or("{server}/s?token={token}"),
            scripts: sc.get("server").map(Value::to_string),
            options: options(&sc["options"])?,
            acts: sc["act"]
                .as_array()
                .into_iter()
                .flatten()
                .map(act)
                .collect::<Result<_, _>>()?,
            timeout: ms("timeout", 10_000)?,
            settle: ms("settle", 100)?,
            expect,
        })
    }

    /// The URL with `{server}`, `{cross}` (the second listener), `{token}` and `{unreachable}`
    /// filled in.
    pub fn url(&self, server: &str, cross: &str, token: &str) -> String {
        self.url
            .replace("{server}", server)
            .replace("{cross}", cross)
            .replace("{token}", token)
            .replace("{unreachable}", UNREACHABLE)
    }

    /// The acts, none done yet.
    pub fn acts(&self) -> Acts {
        Acts::new(self.acts.clone())
    }

    /// Whether the checks read the server's request log (`requests`, `gaps`, `ended`).
    pub fn reads_log(&self) -> bool {
        ["requests", "gaps", "ended"]
            .iter()
            .any(|k| self.expect.get(k).is_some())
    }

    /// `maxStallMs`: the longest the runtime of `runner` (in `envs`: its realm, its browser
    /// engine) may stall while the scenario runs; a number, or one per runner as `requests`.
    pub fn max_stall(&self, runner: &str, envs: [Option<&str>; 2]) -> Option<Duration> {
        per_runner(&self.expect["maxStallMs"], runner, envs)
            .and_then(Value::as_u64)
            .map(Duration::from_millis)
    }

    /// `maxMemoryMiB`: how much the memory may grow while the scenario runs, in bytes.
    pub fn max_memory(&self) -> Option<u64> {
        let mib = self.expect["maxMemoryMiB"].as_f64()?;
        Some((mib * 1024.0 * 1024.0) as u64)
    }

    /// Whether the runner measures while the scenario runs (`maxStallMs`, `maxMemoryMiB`):
    /// a 10 ms ticker on the runtime that polls the client, and the memory where it can.
    pub fn measures(&self) -> bool {
        self.expect.get("maxStallMs").is_some() || self.max_memory().is_some()
    }

    /// With `ended`: how long to keep re-reading the log while its last response has not ended
    /// ([`end_pending`]): the bound and 500 ms more.
    pub fn end_wait(&self) -> Option<Duration> {
        let within = self.expect["ended"].as_u64()?;
        Some(Duration::from_millis(within + 500))
    }

    /// What construction did against `invalid`: `refused` is the `BuildError`'s `Display`, `None`
    /// when the source was made. `Ok(true)`: drive the source; `Ok(false)`: not (with `failures`
    /// added); `Err`: the run stops here with that failure.
    pub fn built(&self, refused: Option<&str>, failures: &mut Vec<String>) -> Result<bool, String> {
        let invalid = self.expect["invalid"].as_str();
        match (refused, invalid) {
            (None, None) => Ok(true),
            (Some(e), None) => Err(format!("the build failed: {e}")),
            (None, Some(js)) => {
                failures.push(format!("built, but {js} is invalid"));
                Ok(false)
            }
            (Some(e), Some(js)) => {
                let rust = snake_case(js);
                if !e.contains(&format!("option {rust}:")) {
                    failures.push(format!("the BuildError does not name {rust}: {e}"));
                }
                Ok(false)
            }
        }
    }
}

fn obj(v: &Value) -> impl Iterator<Item = (&String, &Value)> {
    v.as_object().into_iter().flatten()
}

fn act(a: &Value) -> Result<Act, String> {
    let (Some(on), Some(n)) = (a["on"].as_str(), a["n"].as_u64()) else {
        return Err(format!("an act without on and n: {a}"));
    };
    // The Rust streams have no `open` item.
    if !matches!(on, "event" | "error" | "comment") {
        return Err(format!("an act on {on}: the Rust stream has none"));
    }
    let what = match a["do"].as_str() {
        Some("close") => Do::Close,
        Some("restart") => Do::Restart,
        _ => return Err(format!("unknown act {}", a["do"])),
    };
    let wait = Duration::from_millis(a["wait"].as_u64().unwrap_or(0));
    Ok(Act {
        on: on.to_string(),
        n,
        wait,
        what,
    })
}

fn text(k: &str, v: &Value) -> Result<String, String> {
    v.as_str()
        .map(str::to_string)
        .ok_or(format!("option {k}: not a string: {v}"))
}

fn number(k: &str, v: &Value) -> Result<u64, String> {
    v.as_u64().ok_or(format!("option {k}: not a number: {v}"))
}

fn pairs(k: &str, v: &Value) -> Result<Vec<(String, String)>, String> {
    let bad = || format!("option {k}: not [name, value] pairs: {v}");
    v.as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|p| match (p[0].as_str(), p[1].as_str()) {
            (Some(n), Some(v)) => Ok((n.to_string(), v.to_string())),
            _ => Err(bad()),
        })
        .collect()
}

/// The table's `options`, in the JS API's words, with its `$` test constructs.
fn options(v: &Value) -> Result<Vec<Opt>, String> {
    let mut out = Vec::new();
    for (k, v) in obj(v) {
        let k = k.as_str();
        out.push(match k {
            "method" => Opt::Method(text(k, v)?),
            "headers" => Opt::Headers(pairs(k, v)?),
            "body" => Opt::Body(text(k, v)?),
            "lastEventId" => Opt::LastEventId(text(k, v)?),
            "lastEventIdQuery" => match v {
                Value::Bool(true) => Opt::LastEventIdQuery("lastEventId".into()),
                Value::Bool(false) => continue,
                v => Opt::LastEventIdQuery(text(k, v)?),
            },
            "inactivityTimeout" => Opt::InactivityTimeout(Duration::from_millis(number(k, v)?)),
            "maxEventSize" => Opt::MaxEventSize(number(k, v)? as usize),
            "redirect" => match text(k, v)?.as_str() {
                "error" => Opt::RedirectError,
                "follow" => continue,
                other => return Err(format!("option {k}: {other}")),
            },
            "withCredentials" => {
                Opt::WithCredentials(v.as_bool().ok_or(format!("option {k}: {v}"))?)
            }
            "retry" => Opt::Retry(retry_policy(v)?),
            "$headersPerAttempt" => Opt::HeadersPerAttempt(pairs(k, v)?),
            "$retryStatuses" => Opt::RetryStatuses(
                v.as_array()
                    .ok_or(format!("option {k}: not a list: {v}"))?
                    .iter()
                    .map(|s| s.as_u64().and_then(|s| u16::try_from(s).ok()))
                    .collect::<Option<_>>()
                    .ok_or(format!("option {k}: not statuses: {v}"))?,
            ),
            "$fatalWhenBodyHas" => Opt::FatalWhenBodyHas(text(k, v)?),
            "$comments" if v == &Value::Bool(true) => Opt::Comments,
            "$comments" => continue,
            _ => return Err(format!("option {k}: not mapped by the Rust runners")),
        });
    }
    Ok(out)
}

/// The table's `retry` object as a [`RetryPolicy`], built as the JS shell builds it.
fn retry_policy(v: &Value) -> Result<RetryPolicy, String> {
    let retry = v
        .as_object()
        .ok_or(format!("option retry: not an object: {v}"))?;
    let mut p = match retry.get("preset").map(|p| p.as_str()) {
        None | Some(Some("spec")) => RetryPolicy::default(),
        Some(Some("resilient")) => RetryPolicy::resilient(),
        Some(other) => return Err(format!("option retry.preset: {other:?}")),
    };
    for (k, v) in retry {
        let num = |v: &Value| number(&format!("retry.{k}"), v);
        match k.as_str() {
            "preset" => {}
            "reconnectionTime" => p.reconnection_time_ms = num(v)?,
            "minDelay" => p.min_delay_ms = num(v)?,
            "maxAttempts" => p.max_attempts = Some(num(v)? as u32),
            "closeOnEnd" => {
                p.close_on_end = v.as_bool().ok_or(format!("option retry.closeOnEnd: {v}"))?
            }
            "classify" => {
                p.classify = match v.as_str() {
                    Some("spec") => Classify::Spec,
                    Some("transient") => Classify::Transient,
                    _ => return Err(format!("option retry.classify: {v} is not a preset")),
                }
            }
            "backoff" => match v {
                Value::Null | Value::Bool(false) => p.backoff = None,
                Value::Bool(true) => p.backoff = Some(p.backoff.unwrap_or_default()),
                Value::Object(b) => p.backoff = Some(backoff(p.backoff.unwrap_or_default(), b)?),
                _ => return Err(format!("option retry.backoff: {v}")),
            },
            _ => return Err(format!("option retry.{k}: not mapped by the Rust runners")),
        }
    }
    Ok(p)
}

fn backoff(mut b: Backoff, v: &Map<String, Value>) -> Result<Backoff, String> {
    for (k, v) in v {
        let bad = || format!("option retry.backoff.{k}: {v}");
        match k.as_str() {
            "factor" => b.factor = v.as_f64().ok_or_else(bad)?,
            "maxDelay" => b.max_delay_ms = v.as_u64().ok_or_else(bad)?,
            "jitter" => b.jitter = v.as_bool().ok_or_else(bad)?,
            "resetAfter" => b.reset_after_ms = v.as_u64().ok_or_else(bad)?,
            _ => {
                return Err(format!(
                    "option retry.backoff.{k}: not mapped by the Rust runners"
                ))
            }
        }
    }
    Ok(b)
}

/// `$headersPerAttempt`'s headers for attempt `n` (from 0): `{n}` in each value is `n`.
pub fn attempt_headers(made: &[(String, String)], n: u32) -> Vec<(String, String)> {
    let n = n.to_string();
    made.iter()
        .map(|(k, v)| (k.clone(), v.replace("{n}", &n)))
        .collect()
}

/// `$retryStatuses`' classifier: these statuses retry (after their `Retry-After`), the rest keep
/// the default decision.
pub fn retry_statuses(statuses: &[u16], failure: &Failure, by_default: Decision) -> Decision {
    match failure.status {
        Some(s) if statuses.contains(&s) => Decision::Retry {
            at_least_ms: failure.retry_after_ms.unwrap_or(0),
        },
        _ => by_default,
    }
}

/// `$fatalWhenBodyHas`' classifier: an HTTP error whose body holds `text` closes for good, any
/// other retries (after its `Retry-After`); errors without a body keep the default decision.
pub fn fatal_when_body_has(text: &str, failure: &Failure, by_default: Decision) -> Decision {
    match failure.body {
        Some(body) if body.contains(text) => Decision::Fatal,
        Some(_) => Decision::Retry {
            at_least_ms: failure.retry_after_ms.unwrap_or(0),
        },
        None => by_default,
    }
}

/// The observation of an event.
pub fn event(e: &Event) -> Value {
    json!(["event", e.event_type, e.data, e.last_event_id])
}

/// The observation of an error, with the readyState right when it is yielded.
pub fn error(e: &Error, state: ReadyState) -> Value {
    json!([
        "error",
        e.kind().as_str(),
        e.status(),
        e.will_retry(),
        e.retry_in_ms,
        state as u16
    ])
}

/// The observation of a comment (with `$comments`).
pub fn comment(text: &str) -> Value {
    json!(["comment", text])
}

/// The failure of a scenario that did not end in time.
pub fn timed_out(timeout: Duration, state: ReadyState, trace: &[Value]) -> String {
    format!(
        "timed out after {} ms in readyState {}; trace so far {}",
        timeout.as_millis(),
        state as u16,
        show(&json!(trace))
    )
}

/// One request of the server's log.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub method: String,
    pub uri: String,
    /// Names lowercase.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub last_event_id: Option<String>,
    /// When it arrived, in Unix ms (the server's clock).
    pub at: u64,
    /// When its response ended, in Unix ms; `None` while it is open.
    pub ended: Option<u64>,
}

/// The request log sse-testserver answers `/log?token=...` with.
pub fn parse_log(text: &str) -> Result<Vec<Request>, String> {
    let log: Value = serde_json::from_str(text).map_err(|e| format!("the log is not JSON: {e}"))?;
    let entries = log
        .as_array()
        .ok_or(format!("the log is not a list: {}", show(&log)))?;
    entries
        .iter()
        .map(|r| entry(r).ok_or(format!("not a log entry: {}", show(r))))
        .collect()
}

fn entry(r: &Value) -> Option<Request> {
    let s = |k: &str| r[k].as_str().map(str::to_string);
    let ms = |k: &str| r[k].as_u64().or_else(|| r[k].as_f64().map(|n| n as u64));
    Some(Request {
        method: s("method")?,
        uri: s("uri")?,
        headers: pairs("headers", &r["headers"]).ok()?,
        body: s("body")?,
        last_event_id: s("last_event_id"),
        at: ms("at").unwrap_or(0),
        ended: ms("ended"),
    })
}

/// Whether the log's last response has not ended yet.
pub fn end_pending(log: &[Request]) -> bool {
    log.last().is_some_and(|r| r.ended.is_none())
}

/// What a run saw.
#[derive(Clone, Copy, Debug)]
pub struct Observed<'a> {
    /// The runner (`sse-web-native`, `web-rust`) and its environment (`page`, `worker`,
    /// `node`), for the `requests` that differ by runner.
    pub runner: &'a str,
    pub env: Option<&'a str>,
    /// The browser engine (`chromium`, `firefox`, `webkit`), for what differs by engine.
    pub engine: Option<&'a str>,
    pub trace: &'a [Value],
    /// Each error's message (its `Display`), in order.
    pub messages: &'a [String],
    /// Each error's body (`Error::body`), in order.
    pub bodies: &'a [Option<String>],
    /// The Unix ms at which the runner called `close()`, if it did.
    pub closed_at: Option<u64>,
    /// The server's request log, read when [`Scenario::reads_log`].
    pub log: Option<&'a [Request]>,
    /// With [`Scenario::measures`]: the worst gap between the ticks of a 10 ms ticker on the
    /// runtime that polled the client, from the build to the end of the stream.
    pub stall: Option<Duration>,
    /// With [`Scenario::measures`]: the memory growth over the same time, where the runner can
    /// measure it (`None`: it cannot, which its summary line names).
    pub memory: Option<Memory>,
}

/// A memory growth a runner measured.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// The growth in bytes: the peak (or the high-water mark) over the start.
    pub grew: u64,
    /// What was measured, for the messages.
    pub what: &'static str,
}

impl Memory {
    /// The growth in MiB, for the messages.
    pub fn mib(&self) -> f64 {
        self.grew as f64 / (1024.0 * 1024.0)
    }
}

/// What a runner measured (`maxStallMs`, `maxMemoryMiB`), for its output: `stall 12 ms,
/// memory +1.3 MiB (the peak of ...)`.
pub fn measured(stall: Option<Duration>, memory: Option<&Memory>) -> String {
    let stall = stall.map_or("stall not measured".into(), |s| {
        format!("stall {} ms", s.as_millis())
    });
    match memory {
        Some(m) => format!("{stall}, memory +{:.1} MiB ({})", m.mib(), m.what),
        None => format!("{stall}, memory not measured"),
    }
}

/// Compares what a run saw with the scenario's `expect`; returns what diverged.
/// `matches(pattern, text)` is the runner's regular expression test (for `message`).
pub fn check(sc: &Scenario, seen: &Observed, matches: &dyn Fn(&str, &str) -> bool) -> Vec<String> {
    let mut failures = Vec::new();
    let mut fail = |what: String| failures.push(what);
    let (expect, trace) = (sc.expect, seen.trace);
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
    for (kind, n) in obj(&expect["count"]) {
        if kind == "open" {
            continue; // no open item in the Rust stream
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
        // The error that ends the stream ("gave up after 2 ..."), as tests/js/table.js reads it.
        match seen.messages.last() {
            Some(m) if matches(pattern, m) => {}
            Some(m) => fail(format!("message {m:?} does not match {pattern}")),
            None => fail(format!("no error, expected a message matching {pattern}")),
        }
    }
    if let Some(want) = expect.get("errorBodies") {
        if &json!(seen.bodies) != want {
            fail(format!(
                "error bodies {}, expected {}",
                show(&json!(seen.bodies)),
                show(want)
            ));
        }
    }
    if let Some(max) = sc.max_stall(seen.runner, [seen.env, seen.engine]) {
        match seen.stall {
            Some(worst) if worst > max => fail(format!(
                "the runtime stalled {} ms (the worst gap between 10 ms ticks), expected at most {} ms",
                worst.as_millis(),
                max.as_millis()
            )),
            Some(_) => {}
            None => fail("maxStallMs: the runner did not measure the stalls".into()),
        }
    }
    if let (Some(max), Some(m)) = (sc.max_memory(), seen.memory) {
        if m.grew > max {
            fail(format!(
                "the memory grew {:.1} MiB ({}), expected under {} MiB",
                m.mib(),
                m.what,
                expect["maxMemoryMiB"]
            ));
        }
    }
    if let Some(log) = seen.log {
        let runner = (seen.runner, [seen.env, seen.engine]);
        check_log(expect, log, seen.closed_at, runner, &mut fail);
    } else if sc.reads_log() {
        fail("the request log was not read".into());
    }
    failures
}

/// The value for `runner` of an expectation that differs by runner: a plain value, or an object
/// looked up at `RUNNER/ENV` (each of `envs`: the realm, the browser engine), `RUNNER`, then `*`.
fn per_runner<'a>(v: &'a Value, runner: &str, envs: [Option<&str>; 2]) -> Option<&'a Value> {
    let Value::Object(per) = v else {
        return (!v.is_null()).then_some(v);
    };
    envs.iter()
        .flatten()
        .find_map(|env| per.get(&format!("{runner}/{env}")))
        .or_else(|| per.get(runner))
        .or_else(|| per.get("*"))
}

/// `ended`, `requests` and `gaps` against the log.
fn check_log(
    expect: &Value,
    log: &[Request],
    closed_at: Option<u64>,
    (runner, envs): (&str, [Option<&str>; 2]),
    fail: &mut dyn FnMut(String),
) {
    if let Some(within) = expect["ended"].as_u64() {
        match (closed_at, log.last().and_then(|r| r.ended)) {
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
    match expect.get("requests") {
        // Per runner, where the clients differ (`RUNNER/ENV`, `RUNNER/ENGINE`, `RUNNER`, `*`).
        Some(per @ Value::Object(_)) => match per_runner(per, runner, envs) {
            Some(want) => check_requests(log, want, fail),
            None => fail(format!("requests: no count for {runner}")),
        },
        Some(want) => check_requests(log, want, fail),
        None => {}
    }
    for (i, gap) in expect["gaps"].as_array().into_iter().flatten().enumerate() {
        let (min, max) = (gap[0].as_u64().unwrap_or(0), gap[1].as_u64().unwrap_or(0));
        match (log.get(i), log.get(i + 1)) {
            (Some(a), Some(b)) => {
                let got = b.at as i64 - a.at as i64;
                if got < min as i64 || got > max as i64 {
                    fail(format!("gap {}: {got} ms, expected {min}..={max}", i + 1));
                }
            }
            _ => fail(format!("gap {}: no request {}", i + 1, i + 2)),
        }
    }
}

fn check_requests(log: &[Request], want: &Value, fail: &mut dyn FnMut(String)) {
    let uris = || {
        show(&json!(log
            .iter()
            .map(|r| r.uri.as_str())
            .collect::<Vec<_>>()))
    };
    if let Some(n) = want.as_u64() {
        if log.len() as u64 != n {
            fail(format!(
                "requests: expected {n}, got {}: {}",
                log.len(),
                uris()
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
            uris()
        ));
    }
    for (i, (w, r)) in want.iter().zip(log).enumerate() {
        let at = format!("request {}", i + 1);
        let sent = |name: &Value| -> Vec<&str> {
            let named = r.headers.iter().filter(|(n, _)| *n == *name);
            named.map(|(_, v)| v.as_str()).collect()
        };
        for (key, v) in obj(w) {
            match key.as_str() {
                "method" if r.method != *v => {
                    fail(format!("{at}: method {}, expected {v}", r.method))
                }
                "body" if r.body != *v => fail(format!(
                    "{at}: body {}, expected {}",
                    show(&json!(r.body)),
                    show(v)
                )),
                "lastEventId" if json!(r.last_event_id) != *v => fail(format!(
                    "{at}: Last-Event-ID {}, expected {v}",
                    json!(r.last_event_id)
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
                        let got = sent(name);
                        if json!(got) != json!([value]) {
                            fail(format!("{at}: {name} {got:?}, expected [{value}]"));
                        }
                    }
                }
                "absent" => {
                    for name in v.as_array().into_iter().flatten() {
                        if !sent(name).is_empty() {
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
                    let (min, max) = (range[0].as_f64(), range[1].as_f64());
                    g.as_f64()
                        .is_some_and(|g| min.is_some_and(|m| g >= m) && max.is_some_and(|m| g <= m))
                }
                (_, _, Value::Number(w)) => g.as_f64().is_some_and(|g| Some(g) == w.as_f64()),
                _ => g == w,
            })
}

/// The table's camelCase option path in Rust's words (`retry.maxAttempts` → `retry.max_attempts`).
pub fn snake_case(name: &str) -> String {
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

/// A value for a failure message, cut short (and every long string in it).
pub fn show(v: &Value) -> String {
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

/// A runner's global allocator for `maxMemoryMiB`: counts the bytes held by the allocations
/// `counted` admits (native: the client's thread; wasm: all of them), and their peak.
pub struct Counting {
    pub counted: fn() -> bool,
}

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

impl Counting {
    /// Starts a measure: the bytes held now, which the peak restarts from.
    pub fn start() -> isize {
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        base
    }

    /// How far the peak rose over `base`, in bytes.
    pub fn grew_since(base: isize) -> u64 {
        (PEAK.load(Ordering::Relaxed) - base).max(0) as u64
    }

    fn grow(&self, by: isize) {
        if (self.counted)() {
            let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call is System's; the counters only add up sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            self.grow(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            self.grow(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        System.dealloc(p, layout);
        self.grow(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        let q = System.realloc(p, layout, size);
        if !q.is_null() {
            self.grow(size as isize - layout.size() as isize);
        }
        q
    }
}
