//! The Rust API: [`EventSource`], a [`futures_core::Stream`] of events over the same engine as the
//! JS class (`src/reconnect.rs` + `js/io.js`), built with the words of `sse-web-native`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_core::Stream;
use js_sys::{Array, Object, Reflect};
use sse_web_core::options::{Options, Redirect, RetryPolicy};
use sse_web_core::parser::{Event, Frame};
use sse_web_core::reconnect::{Decision, Failure, ReadyState};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;

use crate::engine::{cause_parts, Engine, Input, Sink};

/// Headers computed before every attempt (a token that refreshes).
type HeadersFn = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = Vec<(String, String)>>>>>;
/// A classification hook: the failure and the built-in decision in, the decision out.
type ClassifyFn = Rc<dyn Fn(&Failure, Decision) -> Decision>;
/// The user's comment callback (shared, as a [`Builder`] is `Clone`).
type CommentFn = Rc<RefCell<dyn FnMut(&str)>>;

/// What went wrong: the reconnect machine's [`sse_web_core::reconnect::Error`] (whose accessors it
/// derefs to: `kind()`, `status()`, `will_retry()`, `retry_in()`, `gave_up()`, `attempt()`), and
/// the platform's own words for the failure behind it, when there are some.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    inner: sse_web_core::reconnect::Error,
    cause: Option<String>,
    body: Option<String>,
}

impl Error {
    /// The reconnect machine's view of the error.
    pub fn details(&self) -> &sse_web_core::reconnect::Error {
        &self.inner
    }
    /// The platform's (or your own code's) message behind the failure, e.g. "Failed to fetch".
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }
    /// For an HTTP error, the start of its body as text (the server's own words, such as
    /// `{"error":"token expired"}`; see [`sse_web_core::reconnect::Failure::body`]).
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }
}

impl std::ops::Deref for Error {
    type Target = sse_web_core::reconnect::Error;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        self.inner.write_message(self.cause.as_deref(), &mut s);
        f.write_str(&s)
    }
}

impl std::error::Error for Error {}

/// An option the builder could not use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError(String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BuildError {}

/// Options for an [`EventSource`]: the words of [`sse_web_core::options::Options`] and of
/// `sse-web-native`'s builder.
#[must_use]
#[derive(Clone)]
pub struct Builder {
    options: Options,
    headers_fn: Option<HeadersFn>,
    classify_fn: Option<ClassifyFn>,
    comment_fn: Option<CommentFn>,
    redirect: Redirect,
}

impl Builder {
    /// The HTTP method (default `GET`), normalised as fetch does (`post` is sent as `POST`).
    pub fn method(mut self, method: &str) -> Builder {
        self.options.method = method.into();
        self
    }
    /// Adds a request header, sent on every attempt (it replaces one of the same name).
    pub fn header(mut self, name: &str, value: &str) -> Builder {
        self.options.headers.push((name.into(), value.into()));
        self
    }
    /// Headers computed before every attempt (a token that refreshes); they come after
    /// [`Builder::header`]'s and replace those of the same name.
    pub fn headers_with<F, Fut>(mut self, f: F) -> Builder
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = Vec<(String, String)>> + 'static,
    {
        self.headers_fn = Some(Rc::new(move || Box::pin(f())));
        self
    }
    /// A request body, sent again on every attempt.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Builder {
        self.options.body = Some(body.into());
        self
    }
    /// When and how to reconnect (default: the spec's).
    pub fn retry(mut self, policy: RetryPolicy) -> Builder {
        self.options.retry = policy;
        self
    }
    /// Your own classification of failures: the failure and the policy's decision in, yours out.
    pub fn classify<F>(mut self, f: F) -> Builder
    where
        F: Fn(&Failure, Decision) -> Decision + 'static,
    {
        self.classify_fn = Some(Rc::new(f));
        self
    }
    /// Reconnect when nothing arrives for this long (default: never).
    pub fn inactivity_timeout(mut self, timeout: Duration) -> Builder {
        self.options.inactivity_timeout_ms = Some(timeout.as_millis() as u64);
        self
    }
    /// The last event ID to start from (sent as `Last-Event-ID` on the first request).
    pub fn last_event_id(mut self, id: &str) -> Builder {
        self.options.last_event_id = id.into();
        self
    }
    /// Also send the last event ID as this query parameter.
    pub fn last_event_id_query(mut self, name: &str) -> Builder {
        self.options.last_event_id_query = Some(name.into());
        self
    }
    /// The bound on one event, in bytes.
    pub fn max_event_size(mut self, bytes: usize) -> Builder {
        self.options.max_event_size = bytes;
        self
    }
    /// Send cookies cross-origin (`credentials: "include"`).
    pub fn with_credentials(mut self, yes: bool) -> Builder {
        self.options.with_credentials = yes;
        self
    }
    /// Called with each comment line (`: text`, the one leading space stripped) in stream order:
    /// from [`Stream::poll_next`], once every event before it was yielded and before any after
    /// it. Comments are mostly keep-alives, but some servers put progress or debugging there.
    /// Without it they are dropped as they are parsed, at no cost.
    pub fn on_comment(mut self, f: impl FnMut(&str) + 'static) -> Builder {
        self.comment_fn = Some(Rc::new(RefCell::new(f)));
        self
    }
    /// What a redirect does (default: follow, up to 20): fetch's `redirect` mode.
    pub fn redirect(mut self, redirect: Redirect) -> Builder {
        self.redirect = redirect;
        self
    }
    /// Replaces every option at once (the URL included).
    pub fn options(mut self, options: Options) -> Builder {
        self.options = options;
        self
    }

    /// Opens the stream: the first request goes out now, as with the JS `EventSource`. Options
    /// that [`Options::validate`] refuses are a [`BuildError`].
    pub fn connect(mut self) -> Result<EventSource, BuildError> {
        self.options
            .validate()
            .map_err(|e| BuildError(e.to_string()))?;
        let init = Object::new();
        let headers = self.headers_fn.map(|f| {
            Closure::<dyn Fn() -> js_sys::Promise>::new(move || {
                let headers = f();
                wasm_bindgen_futures::future_to_promise(async move {
                    let pairs = Array::new();
                    for (name, value) in headers.await {
                        pairs.push(&Array::of2(&name.into(), &value.into()));
                    }
                    Ok(pairs.into())
                })
            })
        });
        if let Some(f) = &headers {
            let _ = Reflect::set(&init, &"headers".into(), f.as_ref());
        }
        if self.redirect != Redirect::Follow {
            let _ = Reflect::set(&init, &"redirect".into(), &self.redirect.as_str().into());
        }
        let queue = Rc::new(Queue::default());
        let classifier: crate::engine::Classifier = match self.classify_fn {
            Some(f) => Box::new(move |failure: &Failure, d: Decision| f(failure, d)),
            None => Box::new(|_: &Failure, d: Decision| d),
        };
        let sink = RustSink {
            queue: queue.clone(),
            comments: self.comment_fn.is_some(),
        };
        let engine = Engine::new(self.options, classifier, &init, sink);
        engine.input(Input::Start);
        Ok(EventSource {
            engine,
            queue,
            on_comment: self.comment_fn,
            _headers: headers,
        })
    }
}

/// What the stream hands out, in stream order.
enum Item {
    /// An item of the stream.
    Next(Result<Event, Error>),
    /// A comment, for [`Builder::on_comment`] (only queued when there is one).
    Comment(String),
}

/// What the engine delivered and the stream has not handed out yet.
#[derive(Default)]
struct Queue {
    items: RefCell<VecDeque<Item>>,
    waker: RefCell<Option<Waker>>,
}

impl Queue {
    fn wake(&self) {
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

struct RustSink {
    queue: Rc<Queue>,
    /// The user asked for comments.
    comments: bool,
}

impl Sink for RustSink {
    fn open(&self, _url: &str) {
        self.queue.wake();
    }
    fn frame(&self, frame: &Frame<'_>) {
        let item = match frame {
            Frame::Event(e) => Item::Next(Ok(e.to_owned())),
            Frame::Comment(c) if self.comments => Item::Comment((*c).into()),
            _ => return,
        };
        self.queue.items.borrow_mut().push_back(item);
    }
    fn flush(&self) {
        self.queue.wake();
    }
    fn error(
        &self,
        error: &sse_web_core::reconnect::Error,
        _: ReadyState,
        body: Option<&str>,
        cause: &JsValue,
    ) {
        let e = Error {
            inner: *error,
            cause: cause_parts(cause).1,
            body: body.map(String::from),
        };
        self.queue.items.borrow_mut().push_back(Item::Next(Err(e)));
        self.queue.wake();
    }
    fn connecting(&self) {
        self.queue.wake();
    }
    fn closed(&self) {
        // Nothing after close(), as the JS close() and sse-web-native: what is still queued (the
        // rest of a chunk, say) is dropped.
        self.queue.items.borrow_mut().clear();
        self.queue.wake();
    }
}

/// A Server-Sent Events stream in the browser (page or Worker) or Node: `Ok` events, and `Err`
/// for every failure (the stream goes on after those that [`will_retry`](sse_web_core::reconnect::Error::will_retry), and ends after
/// the others). Dropping it, or [`EventSource::close`], aborts the fetch and every timer.
pub struct EventSource {
    engine: Engine<RustSink>,
    queue: Rc<Queue>,
    on_comment: Option<CommentFn>,
    _headers: Option<Closure<dyn Fn() -> js_sys::Promise>>,
}

impl EventSource {
    /// Starts building a stream of `url` (resolved by `fetch`, so it may be relative).
    pub fn builder(url: &str) -> Builder {
        Builder {
            options: Options::new(url),
            headers_fn: None,
            classify_fn: None,
            comment_fn: None,
            redirect: Redirect::Follow,
        }
    }

    /// The `readyState`: connecting (or waiting to reconnect), open, or closed.
    pub fn ready_state(&self) -> ReadyState {
        self.engine.machine().ready_state()
    }

    /// The last event ID (sent as `Last-Event-ID` when it reconnects).
    pub fn last_event_id(&self) -> String {
        self.engine.machine().last_event_id().into()
    }

    /// Closes now: the fetch and every timer are dropped, and so is what was received but not
    /// handed out yet (as the JS `close()` and sse-web-native's): the stream ends at once.
    pub fn close(&self) {
        self.engine.input(Input::Close);
    }

    /// Drops the connection and reconnects now with the last event ID, as after a network error
    /// but with no `Err` item and no failed attempt counted (the state is
    /// [`ReadyState::Connecting`] until the new response opens). What was already received is
    /// still handed out, so nothing is lost or repeated. Nothing when closed.
    pub fn restart(&self) {
        self.engine.input(Input::Restart);
    }

    /// [`Stream::poll_next`] through a shared reference, for handles kept in an `Rc` (the
    /// framework hooks poll it and close it from their cleanup).
    pub fn poll_event(&self, cx: &mut Context<'_>) -> Poll<Option<Result<Event, Error>>> {
        loop {
            // Not borrowed while the user's callback runs: it may close or restart the stream.
            let item = self.queue.items.borrow_mut().pop_front();
            match item {
                Some(Item::Next(item)) => return Poll::Ready(Some(item)),
                Some(Item::Comment(text)) => {
                    // Busy only if the callback polls this stream itself: then it is skipped.
                    if let Some(Ok(mut f)) = self.on_comment.as_ref().map(|f| f.try_borrow_mut()) {
                        f(&text);
                    }
                }
                None => break,
            }
        }
        if self.ready_state() == ReadyState::Closed {
            return Poll::Ready(None);
        }
        *self.queue.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// What a framework hook reports as its error: the stream's, or options the builder refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookError {
    /// An error of the stream (see [`will_retry`](sse_web_core::reconnect::Error::will_retry)).
    Stream(Error),
    /// The builder refused the options: nothing was opened.
    Build(BuildError),
}

impl std::fmt::Display for HookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HookError::Stream(e) => e.fmt(f),
            HookError::Build(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for HookError {}

/// What [`drive`] reports.
pub(crate) enum Change {
    /// The ready state changed (what the framework hooks show).
    #[cfg_attr(not(any(feature = "yew", feature = "leptos")), allow(dead_code))]
    Ready(ReadyState),
    /// The stream's next item.
    Item(Result<Event, Error>),
}

/// Runs `es` to its end, reporting every ready state change and item to `report`: the loop
/// behind the framework hooks (which close `es` from their cleanup) and [`crate::gloo`].
pub(crate) async fn drive(es: Rc<EventSource>, mut report: impl FnMut(Change)) {
    let mut state = ReadyState::Connecting;
    loop {
        let item = std::future::poll_fn(|cx| {
            let item = es.poll_event(cx);
            let now = es.ready_state();
            if now != state {
                state = now;
                report(Change::Ready(now));
            }
            item
        })
        .await;
        match item {
            Some(item) => report(Change::Item(item)),
            None => break,
        }
    }
}

impl Stream for EventSource {
    type Item = Result<Event, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.poll_event(cx)
    }
}
