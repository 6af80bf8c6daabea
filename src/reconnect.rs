//! The browser driver of [`sse_core::reconnect::Machine`]: it feeds the machine what the platform
//! reports and does what the machine answers. It decides nothing.
//!
//! The platform calls (fetch, body reads, timers, the user's per-attempt functions) are
//! `js/io.js`: the engine tells it what to start, and every outcome comes back through one
//! callback, so no executor is needed. The machine is never borrowed while user code runs:
//! a chunk's frames are collected by the [`Sink`] and handed over once the parser is done.

use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::{Array, Function, Uint8Array};
use sse_core::parser::Frame;
use sse_core::reconnect::{Action, Conn, Decision, Error, Failure, Machine, Response};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

#[wasm_bindgen(module = "/src/js/io.js")]
extern "C" {
    /// The platform half of the driver (`js/io.js`).
    pub type Io;
    #[wasm_bindgen(constructor)]
    fn new(cb: &Function, init: &JsValue) -> Io;
    #[wasm_bindgen(method)]
    fn connect(
        this: &Io,
        conn: f64,
        url: &str,
        method: &str,
        headers: &str,
        body: Option<Vec<u8>>,
        credentials: &str,
    );
    #[wasm_bindgen(method)]
    fn read(this: &Io, conn: f64);
    #[wasm_bindgen(method)]
    fn wait(this: &Io, ms: f64);
    #[wasm_bindgen(method)]
    fn idle(this: &Io, conn: f64, ms: f64);
    #[wasm_bindgen(method)]
    fn stop(this: &Io);
    #[wasm_bindgen(method)]
    fn detach(this: &Io);
    /// A monotonic clock, in milliseconds.
    fn now() -> f64;
}

/// What comes back through the callback (the same codes as `js/io.js`).
const RESPONDED: u8 = 0;
const READ: u8 = 1;
const FAILED: u8 = 2;
const RECONNECT_TIMER: u8 = 3;
const IDLE_TIMER: u8 = 4;

/// Where a source's news goes: the JS shell's hooks, or the Rust stream.
pub trait Sink: 'static {
    /// The stream is open; `url` is the response's final URL.
    fn open(&self, url: &str);
    /// A frame of the chunk being parsed (the machine is borrowed: collect, do not call out).
    fn frame(&self, frame: &Frame<'_>);
    /// The chunk is parsed: hand over what [`Sink::frame`] collected.
    fn flush(&self);
    /// The `error` event: closed for good, or reconnecting after `retry_in_ms`.
    fn error(&self, error: &Error);
    /// Dropped while hidden or offline: CONNECTING, no event.
    fn pause(&self);
    /// The user's classification of a failure, given the built-in `default`.
    fn classify(&self, failure: &Failure, default: Decision) -> Decision {
        let _ = failure;
        default
    }
}

/// A source's engine, generic over where its news goes.
pub(crate) struct Engine<S: Sink> {
    shared: Rc<Shared<S>>,
}

type Callback = Closure<dyn FnMut(u8, f64, JsValue)>;

struct Shared<S> {
    machine: RefCell<Machine>,
    sink: S,
    io: Io,
    /// The attempt whose fetch, reader or idle timer is live (0: none).
    active: core::cell::Cell<u64>,
    buffer: RefCell<Vec<u8>>,
    epoch: f64,
    /// Keeps the callback alive as long as the engine; `io.detach()` drops its use first.
    _callback: Callback,
}

impl<S: Sink> Engine<S> {
    /// An engine for `options`; `init` holds what only JS has (header and body functions, fetch
    /// fields, a fetch override, a classification function), read by `js/io.js`.
    pub(crate) fn new(options: sse_core::options::Options, init: &JsValue, sink: S) -> Self {
        let seed = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        let shared = Rc::new_cyclic(|weak: &Weak<Shared<S>>| {
            let weak = weak.clone();
            let callback: Callback = Closure::new(move |what: u8, conn: f64, value: JsValue| {
                if let Some(s) = weak.upgrade() {
                    settled(&s, what, Conn(conn as u64), value);
                }
            });
            Shared {
                machine: RefCell::new(Machine::new(options, seed)),
                sink,
                io: Io::new(callback.as_ref().unchecked_ref(), init),
                active: core::cell::Cell::new(0),
                buffer: RefCell::new(Vec::new()),
                epoch: now(),
                _callback: callback,
            }
        });
        Engine { shared }
    }

    /// Applies a machine input and does what it answers.
    pub(crate) fn input(&self, f: impl FnOnce(&mut Machine) -> Action) {
        let action = f(&mut self.shared.machine.borrow_mut());
        act(&self.shared, action);
    }

    /// Closes: no event, no request, no timer.
    pub(crate) fn close(&self) {
        self.shared.machine.borrow_mut().close();
        stop_io(&self.shared);
    }

    /// The machine, to read.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn machine(&self) -> core::cell::Ref<'_, Machine> {
        self.shared.machine.borrow()
    }
}

impl<S> Drop for Shared<S> {
    fn drop(&mut self) {
        self.io.detach();
    }
}

/// Routes a settled fetch or read, or a fired timer, of attempt `conn`.
fn settled<S: Sink>(s: &Rc<Shared<S>>, what: u8, conn: Conn, value: JsValue) {
    if what == RECONNECT_TIMER {
        let action = s.machine.borrow_mut().on_timer();
        return act(s, action);
    }
    if s.active.get() != conn.0 {
        return; // news of an attempt already dropped
    }
    match what {
        RESPONDED => on_response(s, conn, value.unchecked_into()),
        READ if value.is_undefined() => fail(s, conn, Failure::ended()),
        READ => on_read(s, conn, value.unchecked_into()),
        IDLE_TIMER => fail(s, conn, Failure::timeout()),
        FAILED => fail(s, conn, Failure::network()),
        _ => {}
    }
}

fn now_ms<S>(s: &Shared<S>) -> u64 {
    (now() - s.epoch).max(0.0) as u64
}

/// Drops the fetch (and with it the body stream) and every timer.
fn stop_io<S>(s: &Shared<S>) {
    s.active.set(0);
    s.io.stop();
}

/// Does what the machine said. (Not inlined: it is called from everywhere, and size matters.)
#[inline(never)]
fn act<S: Sink>(s: &Rc<Shared<S>>, action: Action) {
    match action {
        Action::None | Action::Open => {}
        Action::Connect(conn) => {
            stop_io(s);
            s.active.set(conn.0);
            let (url, method, headers, body, credentials, idle) = {
                let m = s.machine.borrow();
                let o = m.options();
                let request = m.request();
                // Names and values are single lines (the parser splits IDs at line ends).
                let mut headers = String::new();
                for (name, value) in &request.headers {
                    headers.push_str(name);
                    headers.push('\n');
                    headers.push_str(&crate::byte_string(value));
                    headers.push('\n');
                }
                let credentials = if o.with_credentials {
                    "include"
                } else {
                    "same-origin"
                };
                let body = request.body.map(<[u8]>::to_vec);
                let url = request.url.into_owned();
                (
                    url,
                    o.method.clone(),
                    headers,
                    body,
                    credentials,
                    o.inactivity_timeout_ms,
                )
            };
            let conn = conn.0 as f64;
            if let Some(ms) = idle {
                s.io.idle(conn, ms as f64);
            }
            // Not borrowed: this runs the user's header and body functions.
            s.io.connect(conn, &url, &method, &headers, body, credentials);
        }
        Action::Wait { delay_ms, error } => {
            stop_io(s);
            s.io.wait(delay_ms as f64);
            s.sink.error(&error);
        }
        Action::Pause => {
            stop_io(s);
            s.sink.pause();
        }
        Action::Fail(error) => {
            stop_io(s);
            s.sink.error(&error);
        }
    }
}

/// A failure of attempt `conn`, through the user's classification when there is one.
fn fail<S: Sink>(s: &Rc<Shared<S>>, conn: Conn, failure: Failure) {
    let default = s.machine.borrow().classify(&failure);
    let decision = s.sink.classify(&failure, default);
    let now = now_ms(s);
    let action = s
        .machine
        .borrow_mut()
        .on_error_decided(conn, failure, decision, now);
    act(s, action);
}

/// The response head: `[status, content type, Retry-After, final URL, has a body]`.
fn on_response<S: Sink>(s: &Rc<Shared<S>>, conn: Conn, head: Array) {
    let text = |i| head.get(i).as_string();
    let content_type = text(1);
    let retry_after = text(2)
        .and_then(|v| sse_core::reconnect::parse_retry_after(&v, js_sys::Date::now() as u64));
    let response = Response {
        status: head.get(0).as_f64().unwrap_or(0.0) as u16,
        content_type: content_type.as_deref(),
        retry_after_ms: retry_after,
    };
    let result = s
        .machine
        .borrow_mut()
        .on_response(conn, &response, now_ms(s));
    match result {
        Ok(Action::Open) => {
            s.sink.open(&text(3).unwrap_or_default());
            if s.active.get() != conn.0 {
                // closed by the open handler
            } else if head.get(4).as_bool() == Some(true) {
                s.io.read(conn.0 as f64);
            } else {
                fail(s, conn, Failure::ended());
            }
        }
        Ok(other) => act(s, other),
        Err(failure) => fail(s, conn, failure),
    }
}

fn on_read<S: Sink>(s: &Rc<Shared<S>>, conn: Conn, chunk: Uint8Array) {
    let fed = {
        let m = &mut s.machine.borrow_mut();
        if let Some(ms) = m.options().inactivity_timeout_ms {
            s.io.idle(conn.0 as f64, ms as f64);
        }
        let mut buffer = s.buffer.borrow_mut();
        buffer.resize(chunk.length() as usize, 0);
        chunk.copy_to(&mut buffer);
        m.on_chunk(conn, &buffer, |frame| s.sink.frame(&frame))
    };
    // The machine is free again: user handlers may call close() or read getters.
    s.sink.flush();
    match fed {
        Err(failure) => fail(s, conn, failure),
        Ok(()) if s.active.get() == conn.0 => s.io.read(conn.0 as f64),
        Ok(()) => {}
    }
}

#[wasm_bindgen]
extern "C" {
    /// The JS shell's hooks (`js/event_source.js`): `open(url)`, `frames(meta, text)`,
    /// `error(kind, status, message, retryIn, attempt, gaveUp)`, `pause()`,
    /// `classify(kind, status, retry)`.
    pub type Hooks;
    #[wasm_bindgen(method, js_name = open)]
    fn hook_open(this: &Hooks, url: &str);
    #[wasm_bindgen(method, js_name = frames)]
    fn hook_frames(this: &Hooks, meta: Vec<f64>, text: &str);
    #[wasm_bindgen(method, js_name = error)]
    fn hook_error(
        this: &Hooks,
        kind: &str,
        status: Option<u16>,
        message: &str,
        retry_in: Option<f64>,
        attempt: u32,
        gave_up: bool,
    );
    #[wasm_bindgen(method, js_name = pause)]
    fn hook_pause(this: &Hooks);
    #[wasm_bindgen(method, js_name = classify)]
    fn hook_classify(this: &Hooks, kind: &str, status: Option<u16>, retry: bool) -> JsValue;
}

/// Frame codes in `meta`: an event is `EVENT` plus `TYPED` when its type is not `message` and
/// plus `NEW_ID` when its ID differs from the event before (each then has a field in `text`).
const EVENT: u8 = 0;
const TYPED: u8 = 1;
const NEW_ID: u8 = 2;
/// A `retry:` field; the next number in `meta` is the time in milliseconds.
const RETRY: u8 = 4;
/// An ID set by a block without data.
const ID: u8 = 5;

/// The JS shell as a [`Sink`]: a chunk's frames go over in one call, as numbers (`meta`: a code
/// per frame, and the retry time) and one string holding every field, each ended by CR (which no
/// field can hold, as it ends lines), so a chunk costs one string decode instead of one per field.
pub struct JsSink {
    hooks: Hooks,
    meta: RefCell<Vec<f64>>,
    text: RefCell<String>,
    last_id: RefCell<String>,
}

impl JsSink {
    fn push_text(&self, s: &str) {
        let mut text = self.text.borrow_mut();
        text.push_str(s);
        text.push('\r');
    }

    /// Remembers `id` as the last one sent, and sends it.
    fn push_id(&self, id: &str) {
        let mut last = self.last_id.borrow_mut();
        last.clear();
        last.push_str(id);
        self.push_text(id);
    }
}

impl Sink for JsSink {
    fn open(&self, url: &str) {
        self.hooks.hook_open(url);
    }

    fn frame(&self, frame: &Frame<'_>) {
        let mut meta = self.meta.borrow_mut();
        match frame {
            Frame::Event(e) => {
                let mut code = EVENT;
                if e.event_type != "message" {
                    self.push_text(e.event_type);
                    code |= TYPED;
                }
                self.push_text(e.data);
                if *self.last_id.borrow() != e.last_event_id {
                    self.push_id(e.last_event_id);
                    code |= NEW_ID;
                }
                meta.push(code.into());
            }
            Frame::Retry(ms) => meta.extend_from_slice(&[RETRY.into(), *ms as f64]),
            Frame::Id(id) => {
                self.push_id(id);
                meta.push(ID.into());
            }
            Frame::Comment(_) => {}
        }
    }

    fn flush(&self) {
        let meta = core::mem::take(&mut *self.meta.borrow_mut());
        if meta.is_empty() {
            return;
        }
        let mut text = core::mem::take(&mut *self.text.borrow_mut());
        self.hooks.hook_frames(meta, &text);
        // Kept for the next chunk (whose fields take about as much), so the buffer grows once
        // instead of doubling its way up per chunk; a handler may have put one there meanwhile.
        text.clear();
        let mut slot = self.text.borrow_mut();
        if slot.capacity() == 0 {
            *slot = text;
        }
    }

    fn error(&self, e: &Error) {
        self.hooks.hook_error(
            e.kind.as_str(),
            e.status,
            e.message(),
            e.retry_in_ms.map(|ms| ms as f64),
            e.attempt,
            e.gave_up,
        );
    }

    fn pause(&self) {
        self.hooks.hook_pause();
    }

    fn classify(&self, failure: &Failure, default: Decision) -> Decision {
        let retry = matches!(default, Decision::Retry { .. });
        let answer = self
            .hooks
            .hook_classify(failure.kind.as_str(), failure.status, retry);
        match (answer.as_bool(), answer.as_f64()) {
            (Some(true), _) => Decision::Retry {
                at_least_ms: failure.retry_after_ms.unwrap_or(0),
            },
            (_, Some(ms)) if ms >= 0.0 => Decision::Retry {
                at_least_ms: ms as u64,
            },
            (Some(false), _) => Decision::Fatal,
            _ => default,
        }
    }
}

/// One JS `EventSource`'s engine, driven by the JS shell (`js/event_source.js`).
#[wasm_bindgen]
pub struct Source {
    engine: Engine<JsSink>,
}

#[wasm_bindgen]
impl Source {
    /// A source for `url` with the `init` options; `start()` makes the first request.
    #[wasm_bindgen(constructor)]
    pub fn new(hooks: Hooks, url: &str, init: JsValue) -> Source {
        let options = crate::options::read(url, &init);
        let last_id = RefCell::new(options.last_event_id.clone());
        let sink = JsSink {
            hooks,
            meta: RefCell::new(Vec::new()),
            text: RefCell::new(String::new()),
            last_id,
        };
        Source {
            engine: Engine::new(options, &init, sink),
        }
    }

    /// Makes the first request (or starts paused while hidden with `pauseWhenHidden`).
    pub fn start(&self) {
        self.engine.input(Machine::start);
    }

    /// `close()`: drops the fetch and the timers now; no event.
    pub fn close(&self) {
        self.engine.close();
    }

    /// News from the platform: [`ABORTED`] (the abort signal fired: closes with an `aborted`
    /// error), [`HIDDEN`] (the page was hidden, or shown) or [`ONLINE`] (the platform went
    /// online, or offline).
    pub fn signal(&self, what: u8, on: bool) {
        self.engine.input(|m| match what {
            HIDDEN => m.set_hidden(on),
            ONLINE => m.set_online(on),
            _ => m.abort(),
        });
    }
}

/// [`Source::signal`]: the user's abort signal fired.
pub const ABORTED: u8 = 0;
/// [`Source::signal`]: the page was hidden (`on`) or shown.
pub const HIDDEN: u8 = 1;
/// [`Source::signal`]: the platform went online (`on`) or offline.
pub const ONLINE: u8 = 2;
