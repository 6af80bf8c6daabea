//! The scenario table (tests/scenarios/table.json, its format in tests/scenarios/README.md)
//! through sse-web-native, against an in-process sse-testserver. The browser client's runners play
//! the same table; reading a scenario and comparing what was seen are theirs and this runner's
//! alike (tests/scenarios/check.rs).
//!
//! The table runs on the test's current-thread runtime, the client and every task reqwest spawns
//! on one thread: `maxStallMs` is the worst gap of a 10 ms ticker task on that runtime, and
//! `maxMemoryMiB` the peak of what that thread holds (a counting global allocator; the
//! in-process server allocates on threads of its own and is not counted).

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use serde_json::Value;
use sse_testserver::Server;
use sse_web_native::{Builder, EventSource};
use tokio::time::Instant;

#[path = "../../../tests/scenarios/check.rs"]
mod check;
use check::{Do, Opt, Scenario};

const TABLE: &str = include_str!("../../../tests/scenarios/table.json");
const RUNNER: &str = "sse-web-native";

thread_local! {
    /// This thread's allocations count (the test's thread, which polls the client).
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

#[global_allocator]
static ALLOCATOR: check::Counting = check::Counting {
    counted: || COUNTED.try_with(Cell::get).unwrap_or(false),
};

/// What a scenario with `maxStallMs` or `maxMemoryMiB` measures while it runs.
struct Measure {
    worst_us: Arc<AtomicU64>,
    ticker: tokio::task::JoinHandle<()>,
    base: isize,
}

impl Measure {
    /// Starts a 10 ms ticker on this runtime and the peak of this thread's memory.
    async fn start() -> Measure {
        let worst_us = Arc::new(AtomicU64::new(0));
        let ticker = tokio::spawn({
            let worst_us = worst_us.clone();
            async move {
                let mut last = std::time::Instant::now();
                loop {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    let now = std::time::Instant::now();
                    let gap = u64::try_from((now - last).as_micros()).unwrap_or(u64::MAX);
                    worst_us.fetch_max(gap, Ordering::Relaxed);
                    last = now;
                }
            }
        });
        // Let the ticker start.
        tokio::task::yield_now().await;
        let base = check::Counting::start();
        Measure {
            worst_us,
            ticker,
            base,
        }
    }

    fn stop(self) -> (Duration, check::Memory) {
        self.ticker.abort();
        let worst = Duration::from_micros(self.worst_us.load(Ordering::Relaxed));
        let grew = check::Counting::grew_since(self.base);
        let what = "the peak the client's thread held";
        (worst, check::Memory { grew, what })
    }
}

#[tokio::test]
async fn scenario_table() {
    COUNTED.with(|c| c.set(true));
    let table = check::table(TABLE);
    let server = sse_testserver::spawn_on_own_thread().expect("server starts");
    let mut skipped = Vec::new();
    let mut failed = Vec::new();
    let mut ran = 0;
    let mut measures = String::new();
    for (i, sc) in table.iter().enumerate() {
        let name = sc["name"].as_str().unwrap_or("(unnamed)");
        if let Some(reason) = check::skip_reason(sc, RUNNER, &[]) {
            skipped.push(format!("{name} ({reason})"));
            continue;
        }
        let started = std::time::Instant::now();
        let (failures, measured) = run(&server, sc, i).await;
        ran += 1;
        eprintln!(
            "{} {name} ({} ms{})",
            if failures.is_empty() { "ok  " } else { "FAIL" },
            started.elapsed().as_millis(),
            measured
                .as_ref()
                .map_or(String::new(), |m| format!("; {m}"))
        );
        if let Some(m) = measured {
            measures.push_str(&format!("\n  {name}: {m}"));
        }
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
    report(&format!("{line}{measures}")).await;
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

/// Runs one scenario; returns what diverged (empty when it passed), and what it measured.
async fn run(s: &Server, sc: &Value, i: usize) -> (Vec<String>, Option<String>) {
    let sc = match Scenario::read(sc) {
        Ok(sc) => sc,
        Err(e) => return (vec![e], None),
    };
    let token = &format!("{}-{}-{i}", sc.name, std::process::id());
    let mut failures = Vec::new();
    if let Some(scripts) = &sc.scripts {
        let stored = reqwest::Client::new()
            .post(format!("{}/script?token={token}", s.url()))
            .body(scripts.clone())
            .send()
            .await;
        let stored = stored
            .map_err(|e| e.to_string())
            .and_then(|r| r.error_for_status().map_err(|e| e.to_string()));
        if let Err(e) = stored {
            return (vec![format!("scripts not stored: {e}")], None);
        }
    }
    let url = sc.url(&s.url(), &s.cross_origin_url(), token);
    let trace = Arc::new(Mutex::new(Vec::<Value>::new()));
    let comments = Arc::new(tokio::sync::Notify::new());
    let builder = match builder(&url, &sc.options, &trace, &comments) {
        Ok(b) => b,
        Err(e) => return (vec![e], None),
    };
    let mut messages = Vec::new();
    let mut bodies = Vec::new();
    let mut closed_at = None;
    // The source lives to the end of the checks, so that only close() can let the server see
    // the end of its response (dropping it would too).
    let mut source = None;
    let measure = if sc.measures() {
        Some(Measure::start().await)
    } else {
        None
    };
    let built = builder.connect();
    let refused = built.as_ref().err().map(ToString::to_string);
    match (sc.built(refused.as_deref(), &mut failures), built) {
        (Err(e), _) => return (vec![e], None),
        (Ok(true), Ok(mut es)) => {
            let drive = drive(
                &mut es,
                sc.acts(),
                &trace,
                &comments,
                &mut messages,
                &mut bodies,
            );
            match tokio::time::timeout(sc.timeout, drive).await {
                Ok(at) => closed_at = at,
                Err(_) => {
                    let seen = trace.lock().unwrap().clone();
                    failures.push(check::timed_out(sc.timeout, es.ready_state(), &seen));
                    es.close();
                }
            }
            source = Some(es);
        }
        _ => {}
    }
    let (stall, memory) = match measure.map(Measure::stop) {
        Some((stall, memory)) => (Some(stall), Some(memory)),
        None => (None, None),
    };
    tokio::time::sleep(sc.settle).await;
    let trace = trace.lock().unwrap().clone();
    let mut log = None;
    if sc.reads_log() {
        match read_log(s, token).await {
            Ok(mut l) => {
                // The end may be seen a little after the close: wait for it, up to the bound
                // and more.
                let until = sc.end_wait().map(|wait| Instant::now() + wait);
                while until.is_some_and(|u| check::end_pending(&l) && Instant::now() < u) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    if let Ok(again) = read_log(s, token).await {
                        l = again;
                    }
                }
                log = Some(l);
            }
            Err(e) => failures.push(format!("the log: {e}")),
        }
    }
    let seen = check::Observed {
        runner: RUNNER,
        env: None,
        engine: None,
        trace: &trace,
        messages: &messages,
        bodies: &bodies,
        closed_at,
        log: log.as_deref(),
        stall,
        memory,
    };
    let matches = |pattern: &str, text: &str| {
        let re = regex::Regex::new(pattern).expect("the table's message is a regex");
        re.is_match(text)
    };
    failures.extend(check::check(&sc, &seen, &matches));
    drop(source);
    let measured = sc
        .measures()
        .then(|| check::measured(stall, memory.as_ref()));
    (failures, measured)
}

/// Polls the source until it ends, recording every item and doing the scenario's acts;
/// returns the Unix ms at which it called `close()`, if it did.
async fn drive(
    es: &mut EventSource,
    mut acts: check::Acts,
    trace: &Mutex<Vec<Value>>,
    comments: &tokio::sync::Notify,
    messages: &mut Vec<String>,
    bodies: &mut Vec<Option<String>>,
) -> Option<u64> {
    enum Woke {
        Item(Option<Result<sse_web_native::Event, sse_web_native::Error>>),
        Other,
    }
    let mut due: Vec<(Instant, Do)> = Vec::new();
    let mut closed_at = None;
    loop {
        let next_act = due.iter().map(|d| d.0).min();
        let woke = tokio::select! {
            item = es.next() => Woke::Item(item),
            () = comments.notified() => Woke::Other,
            () = tokio::time::sleep_until(next_act.unwrap_or_else(Instant::now)), if next_act.is_some() => Woke::Other,
        };
        match woke {
            Woke::Item(None) => return closed_at,
            Woke::Item(Some(Ok(e))) => trace.lock().unwrap().push(check::event(&e)),
            Woke::Item(Some(Err(e))) => {
                // The readyState right when the error is yielded.
                let seen = check::error(&e, es.ready_state());
                trace.lock().unwrap().push(seen);
                messages.push(e.to_string());
                bodies.push(e.body().map(String::from));
            }
            Woke::Other => {}
        }
        // A comment is seen inside poll_next, which may go on to yield the next event in the
        // same call: an act on a comment happens once that poll returns.
        let now = Instant::now();
        let made_due = acts.due(&trace.lock().unwrap());
        due.extend(made_due.into_iter().map(|(wait, what)| (now + wait, what)));
        let mut i = 0;
        while i < due.len() {
            if due[i].0 > Instant::now() {
                i += 1;
                continue;
            }
            match due.remove(i).1 {
                Do::Close => {
                    closed_at = Some(unix_ms());
                    es.close();
                }
                Do::Restart => es.restart(),
            }
        }
    }
}

/// The builder for the scenario's options, with its `$` test constructs.
fn builder(
    url: &str,
    options: &[Opt],
    trace: &Arc<Mutex<Vec<Value>>>,
    comments: &Arc<tokio::sync::Notify>,
) -> Result<Builder, String> {
    let mut b = EventSource::builder(url);
    for o in options {
        b = match o.clone() {
            Opt::Method(m) => b.method(&m),
            Opt::Headers(h) => h.iter().fold(b, |b, (n, v)| b.header(n, v)),
            Opt::Body(body) => b.body(body),
            Opt::LastEventId(id) => b.last_event_id(&id),
            Opt::LastEventIdQuery(name) => b.last_event_id_query(&name),
            Opt::InactivityTimeout(t) => b.inactivity_timeout(t),
            Opt::MaxEventSize(n) => b.max_event_size(n),
            Opt::RedirectError => b.redirect(sse_web_native::Redirect::Error),
            Opt::Retry(p) => b.retry(p),
            Opt::HeadersPerAttempt(made) => {
                let n = Arc::new(AtomicU32::new(0));
                b.headers_with(move || {
                    let headers = check::attempt_headers(&made, n.fetch_add(1, Ordering::SeqCst));
                    async move { headers }
                })
            }
            Opt::RetryStatuses(statuses) => b.classify(move |failure, by_default| {
                check::retry_statuses(&statuses, failure, by_default)
            }),
            Opt::FatalWhenBodyHas(text) => b.classify(move |failure, by_default| {
                check::fatal_when_body_has(&text, failure, by_default)
            }),
            Opt::Comments => {
                let (trace, comments) = (trace.clone(), comments.clone());
                b.on_comment(move |text| {
                    trace.lock().unwrap().push(check::comment(text));
                    comments.notify_one();
                })
            }
            // No browser credentials mode here: false is what it does anyway.
            Opt::WithCredentials(false) => b,
            Opt::WithCredentials(true) => {
                return Err(format!("option withCredentials: not in {RUNNER}"))
            }
        };
    }
    Ok(b)
}

async fn read_log(s: &Server, token: &str) -> Result<Vec<check::Request>, String> {
    let res = reqwest::get(format!("{}/log?token={token}", s.url()))
        .await
        .map_err(|e| e.to_string())?;
    check::parse_log(&res.text().await.map_err(|e| e.to_string())?)
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
