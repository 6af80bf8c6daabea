//! The browser driver of [`sse_web_core::reconnect::Machine`]: it reports to the machine what the
//! platform did, with the time, and does what the machine answers. It decides nothing.
//!
//! The platform calls (the user's per-attempt functions, fetch, body reads, the one timer) are
//! `js/io.js`: the engine tells it what to start, and every outcome comes back through one
//! callback, so no executor is needed. The machine is never borrowed while user code runs,
//! except the user's classifier, which the machine calls: an input that arrives meanwhile (a
//! `close()` or `restart()` from inside it) is applied as soon as the machine is free.

use alloc::boxed::Box;
use alloc::rc::{Rc, Weak};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

use js_sys::{Array, Function, Uint8Array};
use sse_web_core::options::Options;
use sse_web_core::parser::Frame;
use sse_web_core::reconnect::{
    Action, Conn, Decision, Error, ErrorKind, Failure, Machine, ReadyState, Response,
};
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
    fn prepare(this: &Io, conn: f64);
    #[wasm_bindgen(method)]
    fn header(this: &Io, name: &str, value: &str);
    #[wasm_bindgen(method)]
    fn fetch(
        this: &Io,
        conn: f64,
        url: &str,
        method: &str,
        body: Option<Vec<u8>>,
        credentials: &str,
    );
    #[wasm_bindgen(method)]
    fn read(this: &Io, conn: f64);
    #[wasm_bindgen(method)]
    fn timer(this: &Io, ms: f64);
    #[wasm_bindgen(method)]
    fn stop(this: &Io);
    #[wasm_bindgen(method)]
    fn detach(this: &Io);
    /// A monotonic clock, in milliseconds.
    fn now() -> f64;
    /// A headers init (a record, a `Headers`, or `[name, value]` pairs) as flat
    /// `[name, value, ...]` strings; undefined when it is not one.
    #[wasm_bindgen(js_name = headerPairs)]
    fn header_pairs_js(h: &JsValue) -> JsValue;
}

// What comes back through the callback (the same codes as `js/io.js`).
const RESPONDED: u8 = 0;
const READ: u8 = 1;
const FAILED: u8 = 2;
const TIMER: u8 = 3;
const REFUSED: u8 = 4;
const PREPARED: u8 = 5;
/// The fetch was blocked by CORS: io.js tells it from a network error by a no-cors request.
const CORS: u8 = 6;

/// The user's classifier, as the machine holds it.
pub(crate) type Classifier = Box<dyn FnMut(&Failure, Decision) -> Decision>;
type WebMachine = Machine<Classifier>;

/// What the user or the platform tells a source (the rest comes back from `js/io.js`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    Start,
    /// Start from the last event ID the shell gave ([`Engine::start_from`]).
    StartFrom,
    Close,
    /// `restart()`: the machine drops the connection and reconnects now (no error, no failed
    /// attempt); the engine only does the [`Action::Connect`] it answers.
    Restart,
    Abort,
    Hidden(bool),
    Online(bool),
    /// The page went into the back/forward cache, or came back.
    Frozen(bool),
}

/// Where a source's news goes: the JS shell's hooks, or the Rust stream.
pub trait Sink: 'static {
    /// A response head of the attempt under way arrived (before the machine judges it):
    /// `head` is what `js/io.js` reports, `[status, content type, Retry-After, final URL, Unix
    /// time, headers]`.
    fn response(&self, _head: &Array) {}
    /// The stream is open; `url` is the response's final URL.
    fn open(&self, url: &str);
    /// A frame of the chunk being parsed (the machine is borrowed: collect, do not call out).
    fn frame(&self, frame: &Frame<'_>);
    /// The chunk is parsed: hand over what [`Sink::frame`] collected.
    fn flush(&self);
    /// The `error` event: closed for good, or reconnecting (`state` says which); `body` is the
    /// start of an HTTP error's body ([`Machine::error_body`]); `cause` is the platform's or the
    /// user's error behind it, with its words (`[error, words]`, or undefined when none: see
    /// [`cause_parts`]).
    fn error(&self, error: &Error, state: ReadyState, body: Option<&str>, cause: &JsValue);
    /// CONNECTING, no event: a new attempt is made (the first, after a wait, or a `restart()`),
    /// or the connection was dropped while hidden or offline.
    fn connecting(&self);
    /// Closed by `close()`: no event.
    fn closed(&self) {}
}

/// A source's engine, generic over where its news goes.
pub(crate) struct Engine<S: Sink> {
    shared: Rc<Shared<S>>,
}

type Callback = Closure<dyn Fn(u8, f64, JsValue)>;

struct Shared<S> {
    machine: RefCell<WebMachine>,
    /// Inputs that arrived while the machine was busy (from inside the user's classifier). Taken
    /// last first, which is as good: a `close()` wins either way (`restart()` is nothing once
    /// closed).
    later: RefCell<Vec<Input>>,
    sink: S,
    io: Io,
    buffer: RefCell<Vec<u8>>,
    epoch: f64,
    /// The last event ID a start from one resumes after ([`Input::StartFrom`]).
    start_id: RefCell<String>,
    /// The deadline the timer is set for (`u64::MAX`: none), so it is reset only on a change.
    armed: Cell<u64>,
    /// Keeps the callback alive as long as the engine; `io.detach()` drops its use first.
    _callback: Callback,
}

impl<S: Sink> Engine<S> {
    /// An engine for `options` (validated), failures going through `classifier`; `init` holds
    /// what only JS has (header and body functions, fetch fields, a fetch override), which
    /// `js/io.js` uses.
    pub(crate) fn new(options: Options, classifier: Classifier, init: &JsValue, sink: S) -> Self {
        let seed = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        let shared = Rc::new_cyclic(|weak: &Weak<Shared<S>>| {
            let weak = weak.clone();
            let callback: Callback = Closure::new(move |what: u8, conn: f64, value: JsValue| {
                if let Some(s) = weak.upgrade() {
                    settled(&s, what, Conn(conn as u64), value);
                    after(&s);
                }
            });
            Shared {
                machine: RefCell::new(Machine::with_classifier(options, seed, classifier)),
                later: RefCell::new(Vec::new()),
                sink,
                io: Io::new(callback.as_ref().unchecked_ref(), init),
                buffer: RefCell::new(Vec::new()),
                start_id: RefCell::new(String::new()),
                epoch: now(),
                armed: Cell::new(u64::MAX),
                _callback: callback,
            }
        });
        Engine { shared }
    }

    /// Applies an input of the user or the platform and does what the machine answers; while
    /// the machine is busy, as soon as it is free.
    pub(crate) fn input(&self, input: Input) {
        let s = &self.shared;
        if s.machine.try_borrow_mut().is_err() {
            return s.later.borrow_mut().push(input);
        }
        apply(s, input);
        after(s);
    }

    /// Starts from `last_event_id` instead of the options' (a source taking over a shared
    /// stream resumes after the last event it received).
    pub(crate) fn start_from(&self, last_event_id: &str) {
        *self.shared.start_id.borrow_mut() = last_event_id.into();
        self.input(Input::StartFrom);
    }

    /// The machine, to read.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn machine(&self) -> core::cell::Ref<'_, WebMachine> {
        self.shared.machine.borrow()
    }
}

impl<S> Drop for Shared<S> {
    fn drop(&mut self) {
        self.io.detach();
    }
}

fn now_ms<S>(s: &Shared<S>) -> u64 {
    (now() - s.epoch).max(0.0) as u64
}

fn apply<S: Sink>(s: &Rc<Shared<S>>, input: Input) {
    let now = now_ms(s);
    let action = {
        let mut m = s.machine.borrow_mut();
        match input {
            Input::Start => m.start(now),
            Input::StartFrom => {
                let id = core::mem::take(&mut *s.start_id.borrow_mut());
                m.start_from(&id, now)
            }
            Input::Close => m.close(),
            Input::Restart => m.restart(now),
            Input::Abort => m.abort(),
            Input::Hidden(on) => m.set_hidden(on, now),
            Input::Online(on) => m.set_online(on, now),
            Input::Frozen(on) => m.set_frozen(on, now),
        }
    };
    act(s, action, &JsValue::UNDEFINED);
}

/// After every input: the inputs that waited for the machine, then the one timer.
fn after<S: Sink>(s: &Rc<Shared<S>>) {
    loop {
        let next = s.later.borrow_mut().pop();
        match next {
            Some(input) => apply(s, input),
            None => break,
        }
    }
    let deadline = s.machine.borrow().poll_timeout().unwrap_or(u64::MAX);
    if deadline != s.armed.get() {
        s.armed.set(deadline);
        let ms = if deadline == u64::MAX {
            -1.0
        } else {
            deadline.saturating_sub(now_ms(s)) as f64
        };
        s.io.timer(ms);
    }
}

/// Routes a settled step of attempt `conn`, or the fired timer.
fn settled<S: Sink>(s: &Rc<Shared<S>>, what: u8, conn: Conn, value: JsValue) {
    if what == TIMER {
        // Spent (or clamped short of a far deadline): set again by `after`.
        s.armed.set(u64::MAX);
    } else if !s.machine.borrow().is_current(conn) {
        return; // news of an attempt already dropped
    }
    let failure = match what {
        PREPARED => return fetch(s, conn, &value),
        RESPONDED => return on_response(s, conn, value.unchecked_into()),
        READ if !value.is_undefined() => return on_read(s, conn, value.unchecked_into()),
        READ => Failure::ended(),
        FAILED => Failure::network(),
        REFUSED => Failure::request(),
        CORS => Failure::cors(),
        _ => {
            let action = s.machine.borrow_mut().handle_timeout(now_ms(s));
            return act(s, action, &value);
        }
    };
    let action = s.machine.borrow_mut().on_error(conn, failure, now_ms(s));
    act(s, action, &value);
}

/// Does what the machine said. (Not inlined: it is called from everywhere, and size matters.)
#[inline(never)]
fn act<S: Sink>(s: &Rc<Shared<S>>, action: Action, cause: &JsValue) {
    match action {
        Action::None | Action::Open | Action::Drain => {}
        Action::Connect(_) | Action::Pause => {
            s.io.stop();
            // The sink hears CONNECTING from here, as every state (after a `restart()` it was
            // OPEN).
            s.sink.connecting();
            if let Action::Connect(conn) = action {
                // Not borrowed: this runs the user's header and body functions.
                s.io.prepare(conn.0 as f64);
            }
        }
        Action::Wait(error) | Action::Fail(error) => {
            s.io.stop();
            let (state, body) = {
                let m = s.machine.borrow();
                (m.ready_state(), m.error_body().map(String::from))
            };
            s.sink.error(&error, state, body.as_deref(), cause);
        }
        Action::Close => {
            s.io.stop();
            s.sink.closed();
        }
    }
}

/// A headers init (a record, a `Headers`, or `[name, value]` pairs; undefined: none) as pairs,
/// or `None` when it is not one.
pub(crate) fn header_pairs(h: &JsValue) -> Option<Vec<(String, String)>> {
    let flat = header_pairs_js(h);
    (!flat.is_undefined()).then(|| flat_pairs(flat.unchecked_ref()))
}

/// `[name, value, ...]` strings as pairs.
fn flat_pairs(flat: &Array) -> Vec<(String, String)> {
    let text = |i| flat.get(i).as_string().unwrap_or_default();
    (0..flat.length() / 2)
        .map(|i| (text(2 * i), text(2 * i + 1)))
        .collect()
}

/// The user's functions ran: fetch the request the machine builds with their headers.
fn fetch<S: Sink>(s: &Rc<Shared<S>>, conn: Conn, extra: &JsValue) {
    let extra = flat_pairs(extra.unchecked_ref());
    let now = now_ms(s);
    let mut m = s.machine.borrow_mut();
    match m.request(conn, &extra, now) {
        Ok(r) => {
            // The cache headers are fetch's own, from its cache mode `no-store`.
            for (name, value) in &r.headers {
                s.io.header(name, &crate::byte_string(value));
            }
            let body = r.body.map(<[u8]>::to_vec);
            let (url, method) = (r.url.into_owned(), String::from(r.method));
            let credentials = r.credentials.as_str();
            drop(m);
            // Not borrowed: a fetch override is the user's code.
            s.io.fetch(conn.0 as f64, &url, &method, body, credentials);
        }
        Err(action) => {
            drop(m);
            act(s, action, &JsValue::UNDEFINED);
        }
    }
}

/// The response head: `[status, content type, Retry-After, final URL, Unix time in ms, headers]`.
fn on_response<S: Sink>(s: &Rc<Shared<S>>, conn: Conn, head: Array) {
    s.sink.response(&head);
    let text = |i| head.get(i).as_string();
    let (content_type, retry_after) = (text(1), text(2));
    let response = Response {
        status: head.get(0).as_f64().unwrap_or(0.0) as u16,
        content_type: content_type.as_deref(),
        retry_after: retry_after.as_deref(),
        unix_now_ms: head.get(4).as_f64().unwrap_or(0.0) as u64,
    };
    let action = s
        .machine
        .borrow_mut()
        .on_response(conn, &response, now_ms(s));
    if matches!(action, Action::Drain) {
        // An HTTP error's body, for the error: read as a stream's, without opening.
        return s.io.read(conn.0 as f64);
    }
    if !matches!(action, Action::Open) {
        // A wrong type's message names the type received (sse-core's words for it).
        let cause = match action {
            Action::Wait(e) | Action::Fail(e) if e.kind == ErrorKind::ContentType => {
                Array::of2(&JsValue::UNDEFINED, &head.get(1)).into()
            }
            _ => JsValue::UNDEFINED,
        };
        return act(s, action, &cause);
    }
    s.sink.open(&text(3).unwrap_or_default());
    // The open handler may have closed it.
    if s.machine.borrow().is_current(conn) {
        s.io.read(conn.0 as f64);
    }
}

fn on_read<S: Sink>(s: &Rc<Shared<S>>, conn: Conn, chunk: Uint8Array) {
    let action = {
        let mut buffer = s.buffer.borrow_mut();
        buffer.resize(chunk.length() as usize, 0);
        chunk.copy_to(&mut buffer);
        let now = now_ms(s);
        s.machine
            .borrow_mut()
            .on_chunk(conn, &buffer, now, |frame| s.sink.frame(&frame))
    };
    // The machine is free again: user handlers may call close().
    s.sink.flush();
    if !matches!(action, Action::None) {
        act(s, action, &JsValue::UNDEFINED);
    } else if s.machine.borrow().is_current(conn) {
        s.io.read(conn.0 as f64);
    }
}

/// A failure's cause as io.js reports it, `[error, its words]` (undefined: none), split.
pub(crate) fn cause_parts(cause: &JsValue) -> (JsValue, Option<String>) {
    if cause.is_undefined() {
        return (JsValue::UNDEFINED, None);
    }
    let pair: &Array = cause.unchecked_ref();
    (pair.get(0), pair.get(1).as_string())
}
