//! The scenario table (tests/scenarios/table.json, its format in tests/scenarios/README.md)
//! through sse-web's Rust `Stream` API: the table's options become builder calls, each stream
//! item an observation (`event`, `error` with the ready state when it is yielded, `comment`).
//! Reading a scenario and comparing what was seen are this runner's and sse-web-native's alike
//! (tests/scenarios/check.rs); the JS `EventSource` (tests/js/table.js) runs the same table.
//! `maxStallMs` is the worst gap of a `setInterval(…, 10)` ticker on the realm's event loop,
//! `maxMemoryMiB` the peak of the wasm heap (a counting global allocator in the test binary) in
//! every realm.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use futures_util::future::{select, Either};
use serde_json::Value;
use sse_web::EventSource;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::fetch::{fetch, Init};
use super::{sleep, SERVER};

#[path = "../scenarios/check.rs"]
mod check;
use check::{Do, Opt, Scenario};

const RUNNER: &str = "web-rust";

/// Runs every scenario of the table in realm `env`; panics with what diverged.
pub async fn run(env: &str) {
    let table = check::table(super::TABLE);
    let engine = super::engine();
    let mut envs = vec![env];
    envs.extend(engine.as_deref());
    let (mut ran, mut skipped, mut failed) = (0, Vec::new(), Vec::new());
    let mut measures = String::new();
    for sc in &table {
        let name = sc["name"].as_str().unwrap_or("?");
        if let Some(reason) = check::skip_reason(sc, RUNNER, &envs) {
            skipped.push(format!("{name} ({reason})"));
            continue;
        }
        let (failures, measured) = run_one(sc, env).await;
        ran += 1;
        if let Some(m) = measured {
            measures.push_str(&format!("\n  {name}: {m}"));
        }
        if !failures.is_empty() {
            failed.push(format!("{name}: {}", failures.join("; ")));
        }
    }
    let line = format!(
        "scenario table: {RUNNER} ({}) ran {ran} of {}; skipped: {}",
        envs.join(", "),
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
    let posted = format!("{line}{measures}");
    init.body(posted.as_bytes());
    let report = format!("{SERVER}/inline?token=scenario-table&script=%7B%22status%22%3A204%7D");
    let _ = fetch(&report, &init).await;
    if !failed.is_empty() || ran != table.len() - skipped.len() {
        panic!("{line}\n{} diverged:\n{}", failed.len(), failed.join("\n"));
    }
}

/// What one scenario saw, shared with the callbacks that see it.
struct Seen {
    acts: RefCell<check::Acts>,
    trace: RefCell<Vec<Value>>,
    messages: RefCell<Vec<String>>,
    bodies: RefCell<Vec<Option<String>>>,
    /// Unix ms when the runner called `close()`.
    closed_at: Cell<Option<u64>>,
    es: RefCell<Weak<EventSource>>,
}

impl Seen {
    /// Records an observation and does what `act` says after it.
    fn observe(self: &Rc<Self>, entry: Value) {
        self.trace.borrow_mut().push(entry);
        let due = self.acts.borrow_mut().due(&self.trace.borrow());
        for (wait, what) in due {
            if wait.is_zero() {
                self.act(what);
            } else {
                let seen = self.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    sleep(wait.as_millis() as i32).await;
                    seen.act(what);
                });
            }
        }
    }

    fn act(&self, what: Do) {
        let Some(es) = self.es.borrow().upgrade() else {
            return;
        };
        match what {
            Do::Close => {
                self.closed_at.set(Some(js_sys::Date::now() as u64));
                es.close();
            }
            Do::Restart => es.restart(),
        }
    }
}

/// Counts the wasm heap of the test binary (sse-web's engine and Stream, and the runner).
/// (sse-web sets no allocator of its own but in the npm build.)
#[global_allocator]
static ALLOCATOR: check::Counting = check::Counting { counted: || true };

/// The realm's `performance.now()`, in ms.
fn now_ms() -> f64 {
    let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .expect("performance exists in every realm");
    let now: js_sys::Function = js_sys::Reflect::get(&performance, &"now".into())
        .expect("performance.now")
        .unchecked_into();
    now.call0(&performance)
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or_else(js_sys::Date::now)
}

/// What a scenario with `maxStallMs` or `maxMemoryMiB` measures while it runs: a
/// `setInterval(…, 10)` ticker's worst gap, and the peak of the wasm heap over its start.
struct Measure {
    worst: Rc<Cell<f64>>,
    interval: JsValue,
    _tick: Closure<dyn FnMut()>,
    base: isize,
}

impl Measure {
    fn start() -> Measure {
        let worst = Rc::new(Cell::new(0.0f64));
        let last = Cell::new(now_ms());
        let tick = Closure::<dyn FnMut()>::new({
            let worst = worst.clone();
            move || {
                let now = now_ms();
                worst.set(worst.get().max(now - last.get()));
                last.set(now);
            }
        });
        let global = js_sys::global();
        let set: js_sys::Function = js_sys::Reflect::get(&global, &"setInterval".into())
            .expect("setInterval exists in every realm")
            .unchecked_into();
        let interval = set
            .call2(&global, tick.as_ref(), &10.into())
            .expect("setInterval");
        let base = check::Counting::start();
        Measure {
            worst,
            interval,
            _tick: tick,
            base,
        }
    }

    fn stop(self) -> (std::time::Duration, check::Memory) {
        let global = js_sys::global();
        if let Ok(clear) = js_sys::Reflect::get(&global, &"clearInterval".into()) {
            let _ = clear
                .unchecked_into::<js_sys::Function>()
                .call1(&global, &self.interval);
        }
        let stall = std::time::Duration::from_micros((self.worst.get() * 1000.0) as u64);
        let grew = check::Counting::grew_since(self.base);
        let what = "the peak the wasm heap held";
        (stall, check::Memory { grew, what })
    }
}

/// `{cross}`: the second listener, on the port after the server's.
fn cross_origin() -> String {
    let (base, port) = SERVER.rsplit_once(':').expect("the server URL has a port");
    let port: u32 = port.trim_end_matches('/').parse().expect("port");
    format!("{base}:{}", port + 1)
}

/// The scenario's source: its options as builder calls, its `$` constructs built with them.
fn connect(
    url: &str,
    options: &[Opt],
    seen: &Rc<Seen>,
) -> Result<EventSource, sse_web::BuildError> {
    let mut b = EventSource::builder(url);
    for o in options {
        b = match o.clone() {
            Opt::Method(m) => b.method(&m),
            Opt::Headers(h) => h.iter().fold(b, |b, (name, value)| b.header(name, value)),
            Opt::Body(body) => b.body(body),
            Opt::LastEventId(id) => b.last_event_id(&id),
            Opt::LastEventIdQuery(name) => b.last_event_id_query(&name),
            Opt::InactivityTimeout(t) => b.inactivity_timeout(t),
            Opt::MaxEventSize(n) => b.max_event_size(n),
            Opt::RedirectError => b.redirect(sse_web::Redirect::Error),
            Opt::WithCredentials(yes) => b.with_credentials(yes),
            Opt::Retry(p) => b.retry(p),
            Opt::HeadersPerAttempt(made) => {
                let attempt = Rc::new(Cell::new(0u32));
                b.headers_with(move || {
                    let n = attempt.get();
                    attempt.set(n + 1);
                    let headers = check::attempt_headers(&made, n);
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
                let seen = seen.clone();
                b.on_comment(move |text| seen.observe(check::comment(text)))
            }
        };
    }
    b.connect()
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
async fn read_log(token: &str) -> Result<Vec<check::Request>, String> {
    let (_, text) = read_text(&format!("{SERVER}/log?token={token}"), &Init::new("GET")).await?;
    check::parse_log(&text)
}

/// Runs one scenario in realm `env`; returns what diverged (empty when it passed), and what it
/// measured.
async fn run_one(sc: &Value, env: &str) -> (Vec<String>, Option<String>) {
    let sc = match Scenario::read(sc) {
        Ok(sc) => sc,
        Err(e) => return (vec![e], None),
    };
    let token = format!("{}-{}", sc.name, js_sys::Math::random().to_bits());
    if let Some(scripts) = &sc.scripts {
        let mut init = Init::new("POST");
        init.body(scripts.as_bytes());
        match read_text(&format!("{SERVER}/script?token={token}"), &init).await {
            Ok((200..=299, _)) => {}
            Ok((status, text)) => {
                return (vec![format!("scripts not stored: {status} {text}")], None)
            }
            Err(e) => return (vec![format!("scripts not stored: {e}")], None),
        }
    }
    let url = sc.url(SERVER, &cross_origin(), &token);
    let seen = Rc::new(Seen {
        acts: RefCell::new(sc.acts()),
        trace: RefCell::default(),
        messages: RefCell::default(),
        bodies: RefCell::default(),
        closed_at: Cell::new(None),
        es: RefCell::default(),
    });
    let mut failures = Vec::new();
    let measure = sc.measures().then(Measure::start);
    let built = connect(&url, &sc.options, &seen);
    let refused = built.as_ref().err().map(ToString::to_string);
    let es = match (sc.built(refused.as_deref(), &mut failures), built) {
        (Err(e), _) => return (vec![e], measure.map(|_| "not measured".into())),
        (Ok(true), Ok(es)) => Some(Rc::new(es)),
        (_, Ok(es)) => {
            es.close();
            None
        }
        _ => None,
    };
    if let Some(es) = &es {
        *seen.es.borrow_mut() = Rc::downgrade(es);
        let consume = async {
            loop {
                let item = std::future::poll_fn(|cx| es.poll_event(cx)).await;
                match item {
                    None => break,
                    Some(Ok(e)) => seen.observe(check::event(&e)),
                    Some(Err(e)) => {
                        seen.messages.borrow_mut().push(e.to_string());
                        seen.bodies.borrow_mut().push(e.body().map(String::from));
                        seen.observe(check::error(&e, es.ready_state()));
                    }
                }
            }
        };
        let timeout = sleep(sc.timeout.as_millis() as i32);
        if let Either::Right(_) = select(Box::pin(consume), Box::pin(timeout)).await {
            let trace = seen.trace.borrow().clone();
            failures.push(check::timed_out(sc.timeout, es.ready_state(), &trace));
            es.close();
        }
    }
    let (stall, memory) = match measure.map(Measure::stop) {
        Some((stall, memory)) => (Some(stall), Some(memory)),
        None => (None, None),
    };
    sleep(sc.settle.as_millis() as i32).await;
    let mut log = None;
    if sc.reads_log() {
        match read_log(&token).await {
            Ok(mut l) => {
                if let Some(wait) = sc.end_wait() {
                    let until = js_sys::Date::now() + wait.as_millis() as f64;
                    while check::end_pending(&l) && js_sys::Date::now() < until {
                        sleep(10).await;
                        l = read_log(&token).await.unwrap_or(l);
                    }
                }
                log = Some(l);
            }
            Err(e) => failures.push(format!("the log: {e}")),
        }
    }
    let trace = seen.trace.borrow().clone();
    let messages = seen.messages.borrow().clone();
    let bodies = seen.bodies.borrow().clone();
    let engine = super::engine();
    let observed = check::Observed {
        runner: RUNNER,
        env: Some(env),
        engine: engine.as_deref(),
        trace: &trace,
        messages: &messages,
        bodies: &bodies,
        closed_at: seen.closed_at.get(),
        log: log.as_deref(),
        stall,
        memory,
    };
    let matches = |pattern: &str, text: &str| js_sys::RegExp::new(pattern, "").test(text);
    failures.extend(check::check(&sc, &observed, &matches));
    drop(es);
    let measured = sc
        .measures()
        .then(|| check::measured(stall, memory.as_ref()));
    (failures, measured)
}
