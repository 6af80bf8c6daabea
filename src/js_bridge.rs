//! The bridge to the JS `EventSource` class (`js/event_source.js`): the wasm export [`Source`]
//! it drives, and [`JsSink`], which hands it each chunk's frames in one call.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use js_sys::Array;
use sse_web_core::parser::Frame;
use sse_web_core::reconnect::{Decision, Error, Failure, ReadyState};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use crate::engine::{cause_parts, Classifier, Engine, Input, Sink};

#[wasm_bindgen]
extern "C" {
    /// The JS shell's hooks (`js/event_source.js`): `started(reconnectionTime)`,
    /// `response(status, url, headers)`, `open(url)`, `frames(meta, text)`, `error(kind,
    /// status, message, retryIn, attempt, gaveUp, readyState, cause, body)`, `connecting()`,
    /// `classify(kind, status, retry, body)`.
    #[derive(Clone)]
    pub type Hooks;
    #[wasm_bindgen(method, js_name = started)]
    fn hook_started(this: &Hooks, reconnection_time: f64);
    #[wasm_bindgen(method, js_name = response)]
    fn hook_response(this: &Hooks, status: JsValue, url: JsValue, headers: JsValue);
    #[wasm_bindgen(method, js_name = open)]
    fn hook_open(this: &Hooks, url: &str);
    #[wasm_bindgen(method, js_name = frames)]
    fn hook_frames(this: &Hooks, meta: Vec<f64>, text: &str);
    #[wasm_bindgen(method, js_name = error)]
    #[allow(clippy::too_many_arguments)]
    fn hook_error(
        this: &Hooks,
        kind: &str,
        status: Option<u16>,
        message: &str,
        retry_in: Option<f64>,
        attempt: u32,
        gave_up: bool,
        ready_state: u16,
        cause: &JsValue,
        body: Option<&str>,
    );
    #[wasm_bindgen(method, js_name = connecting)]
    fn hook_connecting(this: &Hooks);
    #[wasm_bindgen(method, js_name = classify)]
    fn hook_classify(
        this: &Hooks,
        kind: &str,
        status: Option<u16>,
        retry: bool,
        body: Option<&str>,
    ) -> JsValue;
}

// Frame codes in `meta` (the same as `js/event_source.js`): an event is `EVENT` plus `TYPED` when
// its type is not `message` and plus `NEW_ID` when it changed the ID (each then has a field in
// `text`); `RETRY` is followed by the time in milliseconds; `ID` is an ID set by a block without
// data; `COMMENT` is a comment line (its text in `text`), sent only when the user gave
// `onComment`, in stream order among the events.
const EVENT: u8 = 0;
const TYPED: u8 = 1;
const NEW_ID: u8 = 2;
const RETRY: u8 = 4;
const ID: u8 = 5;
const COMMENT: u8 = 6;

/// The JS shell as a [`Sink`]: a chunk's frames go over in one call, as numbers (`meta`: a code
/// per frame, and the retry time) and one string holding every field, each ended by CR (which no
/// field can hold, as it ends lines), so a chunk costs one string decode instead of one per field.
pub struct JsSink {
    hooks: Hooks,
    meta: RefCell<Vec<f64>>,
    text: RefCell<String>,
    /// The user gave `onComment`. Without it comments stay here: most streams send them only
    /// as keep-alives, and a chunk of them would otherwise cost a call into JS.
    comments: bool,
}

impl JsSink {
    fn push_text(&self, s: &str) {
        let mut text = self.text.borrow_mut();
        text.push_str(s);
        text.push('\r');
    }
}

impl Sink for JsSink {
    fn response(&self, head: &Array) {
        self.hooks
            .hook_response(head.get(0), head.get(3), head.get(5));
    }

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
                if e.id_changed {
                    self.push_text(e.last_event_id);
                    code |= NEW_ID;
                }
                meta.push(code.into());
            }
            Frame::Retry(ms) => meta.extend_from_slice(&[RETRY.into(), *ms as f64]),
            Frame::Id(id) => {
                self.push_text(id);
                meta.push(ID.into());
            }
            Frame::Comment(c) if self.comments => {
                self.push_text(c);
                meta.push(COMMENT.into());
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

    fn error(&self, e: &Error, state: ReadyState, body: Option<&str>, cause: &JsValue) {
        let (cause, words) = cause_parts(cause);
        let mut message = String::new();
        e.write_message(words.as_deref(), &mut message);
        self.hooks.hook_error(
            e.kind.as_str(),
            e.status,
            &message,
            e.retry_in_ms.map(|ms| ms as f64),
            e.attempt,
            e.gave_up,
            state as u16,
            &cause,
            body,
        );
    }

    fn connecting(&self) {
        self.hooks.hook_connecting();
    }
}

/// The user's `retry.classify(info, retry)`, asked through the shell: true retries (after any
/// `Retry-After`), a number of milliseconds retries after at least that long, false fails;
/// anything else keeps the policy's decision.
fn js_classifier(hooks: Hooks) -> Classifier {
    Box::new(move |failure: &Failure, default: Decision| {
        let retry = matches!(default, Decision::Retry { .. });
        let answer =
            hooks.hook_classify(failure.kind.as_str(), failure.status, retry, failure.body);
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
    })
}

/// One JS `EventSource`'s engine, driven by the JS shell (`js/event_source.js`).
#[wasm_bindgen]
pub struct Source {
    engine: Engine<JsSink>,
}

#[wasm_bindgen]
impl Source {
    /// A source for `url` with `options` (what `readOptions(init)` made of `init`); `start()`
    /// makes the first request. Options that sse-web-core refuses throw a `TypeError` naming the
    /// option.
    #[wasm_bindgen(constructor)]
    pub fn new(hooks: Hooks, url: &str, options: Array, init: JsValue) -> Result<Source, JsValue> {
        let read = crate::options::read(url, &options).map_err(|e| {
            let mut m = String::from("sse-web: option ");
            m.push_str(&e.js_name());
            m.push(' ');
            m.push_str(e.reason);
            JsValue::from(js_sys::TypeError::new(&m))
        })?;
        hooks.hook_started(read.options.retry.reconnection_time_ms as f64);
        let classifier = if read.user_classify {
            js_classifier(hooks.clone())
        } else {
            Box::new(|_: &Failure, d: Decision| d)
        };
        let sink = JsSink {
            hooks,
            meta: RefCell::new(Vec::new()),
            text: RefCell::new(String::new()),
            comments: read.comments,
        };
        Ok(Source {
            engine: Engine::new(read.options, classifier, &init, sink),
        })
    }

    /// Makes the first request (or starts paused while hidden with `pauseWhenHidden`).
    pub fn start(&self) {
        self.engine.input(Input::Start);
    }

    /// Makes the first request resuming after `last_event_id` (sent as `Last-Event-ID`): a
    /// source that took over a shared stream.
    #[wasm_bindgen(js_name = startFrom)]
    pub fn start_from(&self, last_event_id: &str) {
        self.engine.start_from(last_event_id);
    }

    /// `close()`: drops the fetch and the timer now; no event. Returns the ready state (CLOSED).
    pub fn close(&self) -> u16 {
        self.engine.input(Input::Close);
        ReadyState::Closed as u16
    }

    /// `restart()`: drops the connection and reconnects now with the last event ID, as after a
    /// network error but with no `error` event and no failed attempt counted (the machine's
    /// decision: the state becomes CONNECTING through the `connecting` hook, and `open` fires
    /// again). Nothing when closed. Safe from inside any handler: the engine is not busy then,
    /// or (inside `retry.classify`) it applies it once it is free.
    pub fn restart(&self) {
        self.engine.input(Input::Restart);
    }

    /// News from the platform: `ABORTED` (0: the abort signal fired, closes with an `aborted`
    /// error), `HIDDEN` (1: the page was hidden, or shown), `ONLINE` (2: the platform went
    /// online, or offline) or `FROZEN` (3: the page went into the back/forward cache, or came
    /// back).
    pub fn signal(&self, what: u8, on: bool) {
        self.engine.input(match what {
            ABORTED => Input::Abort,
            HIDDEN => Input::Hidden(on),
            FROZEN => Input::Frozen(on),
            _ => Input::Online(on),
        });
    }
}

/// [`Source::signal`]: the user's abort signal fired.
pub const ABORTED: u8 = 0;
/// [`Source::signal`]: the page was hidden (`on`) or shown.
pub const HIDDEN: u8 = 1;
/// [`Source::signal`]: the platform went online (`on`) or offline.
#[allow(dead_code)]
pub const ONLINE: u8 = 2;
/// [`Source::signal`]: the page went into the back/forward cache (`on`), or came back.
pub const FROZEN: u8 = 3;
