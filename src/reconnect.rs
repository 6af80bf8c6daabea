//! The browser driver of [`sse_core::reconnect::Machine`]: it owns the fetch, the body reader and
//! the timer, feeds the machine what they report and does what it answers. It decides nothing.
//!
//! Callback-driven (every promise settles into exactly one callback), so no executor is needed,
//! and the machine is never borrowed while user code runs: frames go to the JS shell in a batch
//! after the parser is done with a chunk.

use alloc::rc::{Rc, Weak};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use sse_core::parser::Frame;
use sse_core::reconnect::{Action, Conn, Decision, Error, Failure, Machine, Response};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortController, ReadableStreamDefaultReader};

use crate::options::{get, read, JsOptions};

#[wasm_bindgen(inline_js = "
export function settle(p, cb, what, conn) { Promise.resolve(p).then(v => cb(what, conn, true, v), e => cb(what, conn, false, e)); }
export function set_timeout(cb, what, conn, ms) { return setTimeout(() => cb(what, conn, true, undefined), ms); }
export function clear_timeout(id) { clearTimeout(id); }
export function now() { return performance.now(); }
export function guard(cb) { const g = (w, c, ok, v) => { if (g.cb) g.cb(w, c, ok, v); }; g.cb = cb; return g; }
export function unguard(g) { g.cb = null; }")]
extern "C" {
    /// Calls `cb(what, conn, true, value)` or `cb(what, conn, false, error)` once `p` settles.
    fn settle(p: &JsValue, cb: &Function, what: u8, conn: f64);
    /// Calls `cb(what, conn, true, undefined)` after `ms`.
    fn set_timeout(cb: &Function, what: u8, conn: f64, ms: f64) -> JsValue;
    fn clear_timeout(id: &JsValue);
    fn now() -> f64;
    /// A JS function that calls `cb` until [`unguard`]: promises still pending when the source
    /// is freed must find nothing to call, not a dropped closure.
    fn guard(cb: &JsValue) -> Function;
    fn unguard(g: &Function);
}

/// Frame codes in the batches handed to the shell's `frames(batch)`.
const EVENT: u8 = 0;
const RETRY: u8 = 1;
const ID: u8 = 2;

/// What settled or fired: every promise and timer of a source comes back through one closure.
const PREPARED: u8 = 0;
const RESPONDED: u8 = 1;
const READ: u8 = 2;
const RECONNECT_TIMER: u8 = 3;
const IDLE_TIMER: u8 = 4;

/// One `EventSource`'s engine, driven by the JS shell (`src/js/event_source.js`).
///
/// The shell passes `hooks`: `prepare()` (headers and body for an attempt, maybe a promise),
/// `open(url)`, `frames(batch)`, `error(kind, status, message, retryIn, attempt, gaveUp)`,
/// `pause()` (dropped while hidden or offline: CONNECTING, no event).
#[wasm_bindgen]
pub struct Source {
    shared: Rc<Shared>,
}

/// The closure every promise and timer of a source settles into: (what, attempt, ok, value).
type Callback = Closure<dyn FnMut(u8, f64, bool, JsValue)>;

struct Shared {
    machine: RefCell<Machine>,
    hooks: JsValue,
    js: JsOptions,
    /// The attempt whose fetch, reader or timers are live (0: none).
    active: Cell<u64>,
    controller: RefCell<Option<AbortController>>,
    reader: RefCell<Option<ReadableStreamDefaultReader>>,
    timer: RefCell<Option<JsValue>>,
    idle_timer: RefCell<Option<JsValue>>,
    callback: RefCell<Option<(Callback, Function)>>,
    buffer: RefCell<Vec<u8>>,
    epoch: f64,
    message: JsValue,
}

#[wasm_bindgen]
impl Source {
    /// A source for `url` with the `init` options; `start()` makes the first request.
    #[wasm_bindgen(constructor)]
    pub fn new(hooks: JsValue, url: &str, init: JsValue) -> Source {
        let (options, js) = read(url, &init);
        let seed = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        let shared = Rc::new(Shared {
            machine: RefCell::new(Machine::new(options, seed)),
            hooks,
            js,
            active: Cell::new(0),
            controller: RefCell::new(None),
            reader: RefCell::new(None),
            timer: RefCell::new(None),
            idle_timer: RefCell::new(None),
            callback: RefCell::new(None),
            buffer: RefCell::new(Vec::new()),
            epoch: now(),
            message: JsValue::from_str("message"),
        });
        let weak: Weak<Shared> = Rc::downgrade(&shared);
        let callback = Closure::new(move |what: u8, conn: f64, ok: bool, value: JsValue| {
            if let Some(s) = weak.upgrade() {
                settled(&s, what, Conn(conn as u64), ok, value);
            }
        });
        let guarded = guard(callback.as_ref());
        *shared.callback.borrow_mut() = Some((callback, guarded));
        Source { shared }
    }

    /// Makes the first request (or starts paused while hidden with `pauseWhenHidden`).
    pub fn start(&self) {
        let action = self.shared.machine.borrow_mut().start();
        act(&self.shared, action);
    }

    /// `close()`: drops the fetch and the timer now; no event.
    pub fn close(&self) {
        self.shared.machine.borrow_mut().close();
        stop_io(&self.shared);
    }

    /// The abort signal fired: closes with an `aborted` error.
    pub fn abort(&self) {
        let action = self.shared.machine.borrow_mut().abort();
        act(&self.shared, action);
    }

    /// The page was hidden or shown.
    #[wasm_bindgen(js_name = setHidden)]
    pub fn set_hidden(&self, hidden: bool) {
        let action = self.shared.machine.borrow_mut().set_hidden(hidden);
        act(&self.shared, action);
    }

    /// The platform went offline or online.
    #[wasm_bindgen(js_name = setOnline)]
    pub fn set_online(&self, online: bool) {
        let action = self.shared.machine.borrow_mut().set_online(online);
        act(&self.shared, action);
    }

    /// The reconnection time in milliseconds.
    #[wasm_bindgen(getter, js_name = reconnectionTime)]
    pub fn reconnection_time(&self) -> f64 {
        self.shared.machine.borrow().reconnection_time_ms() as f64
    }

    /// The last event ID.
    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> String {
        self.shared.machine.borrow().last_event_id().to_string()
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some((_, g)) = self.callback.get_mut().take() {
            unguard(&g);
        }
    }
}

/// Routes a settled promise or a fired timer of attempt `conn`.
fn settled(s: &Rc<Shared>, what: u8, conn: Conn, ok: bool, value: JsValue) {
    if what == RECONNECT_TIMER {
        s.timer.borrow_mut().take();
        let action = s.machine.borrow_mut().on_timer();
        return act(s, action);
    }
    if s.active.get() != conn.0 {
        return; // news of an attempt already dropped
    }
    match (what, ok) {
        (PREPARED, true) => start_fetch(s, conn, &value),
        (RESPONDED, true) => on_response(s, conn, value),
        (READ, true) => on_read(s, conn, value),
        (IDLE_TIMER, _) => {
            s.idle_timer.borrow_mut().take();
            fail(s, conn, Failure::timeout());
        }
        _ => fail(s, conn, Failure::network()),
    }
}

/// Hands `p`'s outcome to [`settled`] as `what` of attempt `conn`.
fn watch(s: &Shared, p: &JsValue, what: u8, conn: Conn) {
    if let Some((_, g)) = s.callback.borrow().as_ref() {
        settle(p, g, what, conn.0 as f64);
    }
}

/// Starts a timer that comes back to [`settled`] as `what`.
fn timer(s: &Shared, what: u8, conn: Conn, ms: u64) -> Option<JsValue> {
    let cb = s.callback.borrow();
    cb.as_ref()
        .map(|(_, g)| set_timeout(g, what, conn.0 as f64, ms as f64))
}

fn call(hooks: &JsValue, name: &str, args: &Array) -> JsValue {
    match get(hooks, name).and_then(|f| f.dyn_into::<Function>().ok()) {
        Some(f) => f.apply(hooks, args).unwrap_or(JsValue::UNDEFINED),
        None => JsValue::UNDEFINED,
    }
}

fn now_ms(s: &Shared) -> u64 {
    (now() - s.epoch).max(0.0) as u64
}

/// Drops the fetch (and with it the body stream) and every timer.
fn stop_io(s: &Shared) {
    s.active.set(0);
    s.reader.borrow_mut().take();
    if let Some(c) = s.controller.borrow_mut().take() {
        c.abort();
    }
    for t in [&s.timer, &s.idle_timer] {
        if let Some(id) = t.borrow_mut().take() {
            clear_timeout(&id);
        }
    }
}

/// Does what the machine said.
fn act(s: &Rc<Shared>, action: Action) {
    match action {
        Action::None | Action::Open => {}
        Action::Connect(conn) => {
            stop_io(s);
            s.active.set(conn.0);
            // The shell runs the user's header and body functions for this attempt.
            let prepared = call(&s.hooks, "prepare", &Array::new());
            watch(s, &prepared, PREPARED, conn);
        }
        Action::Wait { delay_ms, error } => {
            stop_io(s);
            let id = timer(s, RECONNECT_TIMER, Conn(0), delay_ms);
            *s.timer.borrow_mut() = id;
            report(s, &error);
        }
        Action::Pause => {
            stop_io(s);
            call(&s.hooks, "pause", &Array::new());
        }
        Action::Fail(error) => {
            stop_io(s);
            report(s, &error);
        }
    }
}

fn report(s: &Shared, e: &Error) {
    let args = Array::new();
    args.push(&JsValue::from_str(e.kind.as_str()));
    args.push(&e.status.map_or(JsValue::UNDEFINED, JsValue::from));
    args.push(&JsValue::from_str(e.message()));
    args.push(
        &e.retry_in_ms
            .map_or(JsValue::UNDEFINED, |ms| JsValue::from(ms as f64)),
    );
    args.push(&JsValue::from(e.attempt));
    args.push(&JsValue::from(e.gave_up));
    call(&s.hooks, "error", &args);
}

/// A failure of attempt `conn`, through the user's classification function when there is one.
fn fail(s: &Rc<Shared>, conn: Conn, failure: Failure) {
    let now = now_ms(s);
    let action = {
        let mut m = s.machine.borrow_mut();
        let default = m.classify(&failure);
        match &s.js.classify {
            None => m.on_error(conn, failure, now),
            Some(f) => {
                drop(m);
                let info = Object::new();
                let _ = Reflect::set(&info, &"kind".into(), &failure.kind.as_str().into());
                let status = failure.status.map_or(JsValue::UNDEFINED, JsValue::from);
                let _ = Reflect::set(&info, &"status".into(), &status);
                let default_js = JsValue::from(matches!(default, Decision::Retry { .. }));
                let answer = f
                    .call2(&JsValue::UNDEFINED, &info, &default_js)
                    .unwrap_or(default_js);
                let decision = match (answer.as_bool(), answer.as_f64()) {
                    (Some(true), _) => Decision::Retry {
                        at_least_ms: failure.retry_after_ms.unwrap_or(0),
                    },
                    (_, Some(ms)) if ms >= 0.0 => Decision::Retry {
                        at_least_ms: ms as u64,
                    },
                    (Some(false), _) => Decision::Fatal,
                    _ => default,
                };
                s.machine
                    .borrow_mut()
                    .on_error_decided(conn, failure, decision, now)
            }
        }
    };
    act(s, action);
}

fn start_fetch(s: &Rc<Shared>, conn: Conn, prepared: &JsValue) {
    let init = Object::assign(&Object::new(), &s.js.fetch_init);
    let headers = web_sys::Headers::new().unwrap_or_else(|_| Object::new().unchecked_into());
    let url = {
        let m = s.machine.borrow();
        let request = m.request();
        let set = |k: &str, v: &JsValue| {
            let _ = Reflect::set(&init, &JsValue::from_str(k), v);
        };
        set("method", &JsValue::from_str(request.method));
        if get(&init, "cache").is_none() {
            set("cache", &JsValue::from_str("no-store"));
        }
        if get(&init, "credentials").is_none() {
            let c = if m.options().with_credentials {
                "include"
            } else {
                "same-origin"
            };
            set("credentials", &JsValue::from_str(c));
        }
        for (name, value) in &request.headers {
            let _ = headers.set(name, &crate::byte_string(value));
        }
        if let Some(body) = request.body {
            set("body", &Uint8Array::from(body).into());
        }
        request.url.into_owned()
    };
    if let Some(extra) = get(prepared, "headers") {
        for entry in Array::from(&extra).iter() {
            let pair = Array::from(&entry);
            if let (Some(n), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                let _ = headers.set(&n, &v);
            }
        }
    }
    if let Some(body) = get(prepared, "body") {
        let _ = Reflect::set(&init, &"body".into(), &body);
    }
    let _ = Reflect::set(&init, &"headers".into(), &headers);
    let controller = AbortController::new().ok();
    if let Some(c) = &controller {
        let _ = Reflect::set(&init, &"signal".into(), &c.signal());
    }
    *s.controller.borrow_mut() = controller;
    arm_idle(s);
    let global = js_sys::global();
    let fetch =
        s.js.fetch
            .clone()
            .or_else(|| get(&global, "fetch").and_then(|f| f.dyn_into::<Function>().ok()));
    let promise = match fetch {
        Some(f) => f
            .call2(&global, &JsValue::from_str(&url), &init)
            .unwrap_or_else(|e| Promise::reject(&e).into()),
        None => Promise::reject(&JsValue::from_str("no fetch in this realm")).into(),
    };
    watch(s, &promise, RESPONDED, conn);
}

/// (Re)arms the inactivity timer, when there is one.
fn arm_idle(s: &Shared) {
    let Some(ms) = s.machine.borrow().options().inactivity_timeout_ms else {
        return;
    };
    if let Some(id) = s.idle_timer.borrow_mut().take() {
        clear_timeout(&id);
    }
    let id = timer(s, IDLE_TIMER, Conn(s.active.get()), ms);
    *s.idle_timer.borrow_mut() = id;
}

fn on_response(s: &Rc<Shared>, conn: Conn, value: JsValue) {
    let response: web_sys::Response = value.unchecked_into();
    let headers = response.headers();
    let header = |n: &str| headers.get(n).ok().flatten();
    let content_type = header("content-type");
    let retry_after = header("retry-after")
        .and_then(|v| sse_core::reconnect::parse_retry_after(&v, js_sys::Date::now() as u64));
    let head = Response {
        status: response.status(),
        content_type: content_type.as_deref(),
        retry_after_ms: retry_after,
    };
    let result = s.machine.borrow_mut().on_response(conn, &head, now_ms(s));
    match result {
        Ok(Action::Open) => {
            let reader = response.body().map(|b| {
                b.get_reader()
                    .unchecked_into::<ReadableStreamDefaultReader>()
            });
            call(
                &s.hooks,
                "open",
                &Array::of1(&JsValue::from_str(&response.url())),
            );
            match reader {
                Some(r) if s.active.get() == conn.0 => {
                    *s.reader.borrow_mut() = Some(r);
                    read_next(s, conn);
                }
                Some(_) => {}
                None => fail(s, conn, Failure::ended()),
            }
        }
        Ok(other) => act(s, other),
        Err(failure) => fail(s, conn, failure),
    }
}

fn read_next(s: &Rc<Shared>, conn: Conn) {
    let promise = match s.reader.borrow().as_ref() {
        Some(r) => r.read(),
        None => return,
    };
    watch(s, &promise, READ, conn);
}

fn on_read(s: &Rc<Shared>, conn: Conn, value: JsValue) {
    if get(&value, "done").and_then(|d| d.as_bool()) == Some(true) {
        return fail(s, conn, Failure::ended());
    }
    let Some(chunk) = get(&value, "value").and_then(|v| v.dyn_into::<Uint8Array>().ok()) else {
        return read_next(s, conn);
    };
    arm_idle(s);
    let batch = Array::new();
    let fed = {
        let mut buffer = s.buffer.borrow_mut();
        buffer.resize(chunk.length() as usize, 0);
        chunk.copy_to(&mut buffer);
        let mut last_id = String::new();
        let mut id_js = JsValue::from_str("");
        let message = &s.message;
        s.machine
            .borrow_mut()
            .on_chunk(conn, &buffer, |frame| match frame {
                Frame::Event(e) => {
                    if e.last_event_id != last_id {
                        last_id.clear();
                        last_id.push_str(e.last_event_id);
                        id_js = JsValue::from_str(e.last_event_id);
                    }
                    let t = if e.event_type == "message" {
                        message.clone()
                    } else {
                        JsValue::from_str(e.event_type)
                    };
                    batch.push(&JsValue::from(EVENT));
                    batch.push(&t);
                    batch.push(&JsValue::from_str(e.data));
                    batch.push(&id_js);
                }
                Frame::Retry(ms) => {
                    batch.push(&JsValue::from(RETRY));
                    batch.push(&JsValue::from(ms as f64));
                }
                Frame::Id(id) => {
                    batch.push(&JsValue::from(ID));
                    batch.push(&JsValue::from_str(id));
                }
                Frame::Comment(_) => {}
            })
    };
    // The machine is free again: user handlers may call close() or read getters.
    if batch.length() > 0 {
        call(&s.hooks, "frames", &Array::of1(&batch));
    }
    match fed {
        Err(failure) => fail(s, conn, failure),
        Ok(()) if s.active.get() == conn.0 => read_next(s, conn),
        Ok(()) => {}
    }
}
