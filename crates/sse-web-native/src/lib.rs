#![doc = include_str!("../README.md")]
//!
//! ## API
//!
//! [`EventSource::builder`] gives a [`Builder`]; [`Builder::connect`] opens an [`EventSource`], a
//! [`Stream`] of [`Event`]s and [`Error`]s. The options are [`sse_web_core::options::Options`];
//! [`Builder::on_comment`] receives comments in stream order and [`EventSource::restart`]
//! reconnects on demand.

#![warn(missing_docs)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{BoxStream, Stream, StreamExt};
pub use sse_web_core;
use sse_web_core::options::MAX_REDIRECTS;
pub use sse_web_core::options::{Backoff, Classify, Options, Redirect, RetryPolicy};
pub use sse_web_core::parser::Event;
use sse_web_core::parser::Frame;
use sse_web_core::reconnect::{Action, Conn, Machine, Response, FEED_PER_TURN};
pub use sse_web_core::reconnect::{Decision, ErrorKind, Failure, ReadyState};
use tokio::time::{Instant, Sleep};

/// Headers computed before every attempt (a token that refreshes).
pub type HeadersFn =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Vec<(String, String)>> + Send>> + Send + Sync>;
/// A classification hook: the failure and the built-in decision in, the decision out.
pub type ClassifyFn = Arc<dyn Fn(&Failure, Decision) -> Decision + Send + Sync>;

type Cause = Box<dyn std::error::Error + Send + Sync>;

/// The user's comment callback ([`Builder::on_comment`]).
type CommentFn = Box<dyn FnMut(&str) + Send>;

/// What went wrong: the reconnect machine's [`sse_web_core::reconnect::Error`] (whose accessors it
/// derefs to: `kind()`, `status()`, `will_retry()`, `retry_in()`, `gave_up()`, `attempt()`), and
/// the transport's own error behind it, when there is one ([`std::error::Error::source`]).
#[derive(Debug)]
pub struct Error {
    inner: sse_web_core::reconnect::Error,
    source: Option<Cause>,
    body: Option<String>,
    // Boxed: a HeaderMap is large, and most errors have none.
    headers: Option<Box<reqwest::header::HeaderMap>>,
}

impl Error {
    /// The reconnect machine's view of the error.
    pub fn details(&self) -> &sse_web_core::reconnect::Error {
        &self.inner
    }
    /// For an HTTP error, the start of its body as text (the server's own words, such as
    /// `{"error":"token expired"}`; see [`Failure::body`]), which the classifier saw too.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }
    /// The response's headers, when the server answered (an HTTP error, a wrong
    /// `Content-Type`).
    pub fn headers(&self) -> Option<&reqwest::header::HeaderMap> {
        self.headers.as_deref()
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
        // The transport's own words, from the root cause (e.g. "Connection refused").
        let mut cause: Option<&(dyn std::error::Error + 'static)> =
            self.source.as_deref().map(|e| e as _);
        while let Some(next) = cause.and_then(|c| c.source()) {
            cause = Some(next);
        }
        let cause = cause.map(ToString::to_string);
        let mut s = String::new();
        self.inner.write_message(cause.as_deref(), &mut s);
        f.write_str(&s)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// The `Content-Type` of a response that was not `text/event-stream` (empty: none), behind an
/// [`Error`] of kind `content-type` as its `source()`.
#[derive(Debug)]
struct ContentTypeReceived(String);

impl std::fmt::Display for ContentTypeReceived {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ContentTypeReceived {}

/// An option the builder could not use.
#[derive(Debug)]
pub struct BuildError(String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BuildError {}

/// Options for an [`EventSource`]: the words of [`sse_web_core::options::Options`].
#[must_use]
pub struct Builder {
    options: Options,
    headers_fn: Option<HeadersFn>,
    classify_fn: Option<ClassifyFn>,
    comment_fn: Option<CommentFn>,
    client: Option<reqwest::Client>,
    redirect: Option<Redirect>,
    seed: Option<u64>,
}

impl Builder {
    /// The HTTP method (default `GET`), normalised as fetch does (`post` is sent as `POST`).
    pub fn method(mut self, method: &str) -> Builder {
        self.options.method = method.to_string();
        self
    }
    /// Adds a header sent on every attempt (it replaces one of the same name).
    pub fn header(mut self, name: &str, value: &str) -> Builder {
        self.options
            .headers
            .push((name.to_string(), value.to_string()));
        self
    }
    /// Headers computed before every attempt (e.g. a refreshed token); they come after
    /// [`Builder::header`]'s and replace those of the same name.
    pub fn headers_with<F, Fut>(mut self, f: F) -> Builder
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<(String, String)>> + Send + 'static,
    {
        self.headers_fn = Some(Arc::new(move || Box::pin(f())));
        self
    }
    /// The request body, sent again on every attempt.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Builder {
        self.options.body = Some(body.into());
        self
    }
    /// When and how to reconnect.
    pub fn retry(mut self, policy: RetryPolicy) -> Builder {
        self.options.retry = policy;
        self
    }
    /// Your own classification: gets each failure and the policy's decision, returns the decision.
    pub fn classify<F>(mut self, f: F) -> Builder
    where
        F: Fn(&Failure, Decision) -> Decision + Send + Sync + 'static,
    {
        self.classify_fn = Some(Arc::new(f));
        self
    }
    /// Calls `f` with the text of every comment line (after the `:`, one leading space
    /// stripped: `: hi` gives `"hi"`), such as a server's heartbeats. It is called from the
    /// stream's `poll_next` when the comment's turn comes: after every earlier event was yielded
    /// and before any later one, so a consumer that records both sees the stream's order. Without
    /// it, comments are dropped as they are parsed (nothing is allocated for them).
    pub fn on_comment<F>(mut self, f: F) -> Builder
    where
        F: FnMut(&str) + Send + 'static,
    {
        self.comment_fn = Some(Box::new(f));
        self
    }
    /// Reconnect when nothing (not even a comment) arrives for this long; it covers the whole
    /// attempt, from the [`Builder::headers_with`] function on.
    pub fn inactivity_timeout(mut self, timeout: Duration) -> Builder {
        self.options.inactivity_timeout_ms = Some(millis(timeout));
        self
    }
    /// The last event ID to start from.
    pub fn last_event_id(mut self, id: &str) -> Builder {
        self.options.last_event_id = id.to_string();
        self
    }
    /// Also send the last event ID as this query parameter.
    pub fn last_event_id_query(mut self, name: &str) -> Builder {
        self.options.last_event_id_query = Some(name.to_string());
        self
    }
    /// The bound on one event, in bytes.
    pub fn max_event_size(mut self, bytes: usize) -> Builder {
        self.options.max_event_size = bytes;
        self
    }
    /// Replaces every option at once.
    pub fn options(mut self, options: Options) -> Builder {
        self.options = options;
        self
    }
    /// What a redirect does (default: follow up to 20, as fetch). With [`Builder::client`] the
    /// client's own redirect policy applies, so setting both is a [`BuildError`].
    pub fn redirect(mut self, redirect: Redirect) -> Builder {
        self.redirect = Some(redirect);
        self
    }
    /// The reqwest client to use (proxies, TLS roots, HTTP/2 settings); by default one with
    /// gzip, brotli and HTTP/2 that sends no `Referer` (there is no page to name) and follows
    /// redirects as fetch does.
    pub fn client(mut self, client: reqwest::Client) -> Builder {
        self.client = Some(client);
        self
    }
    /// Fixes the jitter's random seed (tests).
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = Some(seed);
        self
    }

    /// Opens the stream. The first request goes out when the stream is first polled. Options
    /// that [`Options::validate`] refuses, and a URL that does not parse, are a [`BuildError`].
    pub fn connect(mut self) -> Result<EventSource, BuildError> {
        reqwest::Url::parse(&self.options.url)
            .map_err(|e| BuildError(format!("invalid URL: {e}")))?;
        self.options
            .validate()
            .map_err(|e| BuildError(e.to_string()))?;
        // Fetch's rule (no CR, LF or NUL) is sse-web-core's; the http crate also refuses the other
        // control characters, which it cannot send: say so now, not at the first attempt.
        for (name, value) in &self.options.headers {
            if reqwest::header::HeaderValue::from_bytes(value.as_bytes()).is_err() {
                return Err(BuildError(format!(
                    "invalid option headers: the value of {name} holds a control character the HTTP client cannot send"
                )));
            }
        }
        let redirect = self.redirect.unwrap_or_default();
        let client = match self.client {
            Some(_) if self.redirect.is_some() => return Err(BuildError(
                "invalid option redirect: the client given to client() has its own redirect policy"
                    .into(),
            )),
            Some(c) => c,
            None => reqwest::Client::builder()
                .referer(false)
                .redirect(match redirect {
                    Redirect::Follow => reqwest::redirect::Policy::limited(MAX_REDIRECTS),
                    Redirect::Error => reqwest::redirect::Policy::custom(|a| {
                        a.error("a redirect, and the redirect option is error")
                    }),
                })
                .build()
                .map_err(|e| BuildError(format!("cannot build the HTTP client: {e}")))?,
        };
        let seed = self.seed.unwrap_or_else(random_seed);
        let classifier: Classifier = match self.classify_fn {
            Some(f) => Box::new(move |failure: &Failure, d: Decision| f(failure, d)),
            None => Box::new(|_: &Failure, d: Decision| d),
        };
        Ok(EventSource {
            machine: Machine::with_classifier(self.options, seed, classifier),
            client,
            headers_fn: self.headers_fn,
            epoch: Instant::now(),
            timer: Box::pin(tokio::time::sleep_until(Instant::now())),
            armed: None,
            io: Io::Idle,
            queue: VecDeque::new(),
            on_comment: self.comment_fn,
            cause: None,
            headers: None,
            started: false,
            waker: None,
        })
    }
}

type Classifier = Box<dyn FnMut(&Failure, Decision) -> Decision + Send>;

/// What waits to be handed to the user, in stream order.
enum Queued {
    /// An item of the stream.
    Item(Result<Event, Error>),
    /// A comment for [`Builder::on_comment`] (only queued when it is set).
    Comment(String),
}

/// What the driver is waiting for: one step of the attempt under way.
enum Io {
    Idle,
    Preparing(Conn, BoxFuture<'static, Vec<(String, String)>>),
    Sending(Conn, BoxFuture<'static, reqwest::Result<reqwest::Response>>),
    /// The body, and what of its last chunk the machine has not been fed yet.
    Reading(
        Conn,
        BoxStream<'static, reqwest::Result<bytes::Bytes>>,
        bytes::Bytes,
    ),
}

/// A Server-Sent Events stream: `Ok` events, and `Err` for every failure (the stream goes on
/// after those that [`sse_web_core::reconnect::Error::will_retry`], and ends after the others).
/// Dropping it, or [`EventSource::close`], ends the connection and the timer.
///
/// The driver decides nothing: it moves bytes between reqwest and the reconnect machine, and
/// keeps one timer at the machine's [`Machine::poll_timeout`].
pub struct EventSource {
    machine: Machine<Classifier>,
    client: reqwest::Client,
    headers_fn: Option<HeadersFn>,
    epoch: Instant,
    timer: Pin<Box<Sleep>>,
    /// The deadline the timer is set for.
    armed: Option<u64>,
    io: Io,
    queue: VecDeque<Queued>,
    on_comment: Option<CommentFn>,
    /// The transport error behind the failure being reported, for `Error::source`.
    cause: Option<Cause>,
    /// The headers of the attempt's response, for an error it ends in.
    headers: Option<Box<reqwest::header::HeaderMap>>,
    started: bool,
    /// The task that last got `Pending`, woken when [`EventSource::restart`] or
    /// [`EventSource::close`] changes what there is to poll.
    waker: Option<Waker>,
}

impl EventSource {
    /// Starts building a stream of `url`.
    pub fn builder(url: &str) -> Builder {
        Builder {
            options: Options::new(url),
            headers_fn: None,
            classify_fn: None,
            comment_fn: None,
            client: None,
            redirect: None,
            seed: None,
        }
    }

    /// The `readyState`: connecting (or waiting to reconnect), open, or closed.
    pub fn ready_state(&self) -> ReadyState {
        self.machine.ready_state()
    }

    /// The last event ID (sent as `Last-Event-ID` when it reconnects).
    pub fn last_event_id(&self) -> &str {
        self.machine.last_event_id()
    }

    /// Closes the stream now: the connection is dropped and the stream ends.
    pub fn close(&mut self) {
        let action = self.machine.close();
        self.act(action);
        self.queue.clear();
        self.wake();
    }

    /// Drops the connection (or the wait for the next attempt) and reconnects now, sending the
    /// last event ID, as after a network error; but it is no failure: no error item is yielded
    /// and no failed attempt is counted (a stream that was healthy even starts the backoff
    /// over). For when the stream should be made again although nothing failed: the
    /// credentials of [`Builder::headers_with`] changed, or the application suspects a stale
    /// connection. Events already received are still yielded, and the new attempt resumes after
    /// the last of them. Nothing happens when the stream is closed or not yet polled.
    ///
    /// The reconnect machine decides, as for every other input
    /// ([`sse_web_core::reconnect::Machine::restart`]); the driver drops what it holds and does the
    /// returned action, and wakes the task polling the stream so that the new attempt starts.
    pub fn restart(&mut self) {
        let action = self.machine.restart(self.now_ms());
        if action != Action::None {
            // Every action but None and Open drops the fetch under way.
            self.io = Io::Idle;
        }
        self.act(action);
        self.wake();
    }

    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// Keeps the waker of the task that got `Pending`, for [`EventSource::restart`] and
    /// [`EventSource::close`].
    fn park(&mut self, cx: &Context<'_>) {
        if !self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            self.waker = Some(cx.waker().clone());
        }
    }

    fn now_ms(&self) -> u64 {
        millis(self.epoch.elapsed())
    }

    /// Does what the machine said.
    fn act(&mut self, action: Action) {
        match action {
            Action::None | Action::Open | Action::Drain => {}
            Action::Connect(conn) => match &self.headers_fn {
                Some(f) => self.io = Io::Preparing(conn, f()),
                None => self.send(conn, &[]),
            },
            Action::Wait(error) | Action::Fail(error) => {
                self.io = Io::Idle;
                let source = self.cause.take();
                let headers = self.headers.take().filter(|_| error.status.is_some());
                self.queue.push_back(Queued::Item(Err(Error {
                    inner: error,
                    source,
                    body: self.machine.error_body().map(String::from),
                    headers,
                })));
            }
            Action::Pause | Action::Close => {
                self.io = Io::Idle;
                self.headers = None;
            }
        }
        self.cause = None;
    }

    /// Sends attempt `conn`'s request, as the machine builds it with the `extra` headers.
    fn send(&mut self, conn: Conn, extra: &[(String, String)]) {
        let now = self.now_ms();
        let sent = match self.machine.request(conn, extra, now) {
            Err(action) => Err(action),
            Ok(req) => {
                let method = reqwest::Method::from_bytes(req.method.as_bytes());
                let cache = req.cache_headers();
                let headers = req.headers.iter().chain(&cache).map(|(n, v)| {
                    // Values go out as their UTF-8 bytes (a non-ASCII Last-Event-ID included).
                    Ok::<_, Cause>((
                        reqwest::header::HeaderName::from_bytes(n.as_bytes())?,
                        reqwest::header::HeaderValue::from_bytes(v.as_bytes())?,
                    ))
                });
                let built = method.map_err(Cause::from).and_then(|method| {
                    let mut b = self.client.request(method, req.url.as_ref());
                    for header in headers {
                        let (name, value) = header?;
                        b = b.header(name, value);
                    }
                    if let Some(body) = req.body {
                        b = b.body(body.to_vec());
                    }
                    Ok(b)
                });
                Ok(built)
            }
        };
        match sent {
            Err(action) => {
                // Why the machine refused the per-attempt headers, in its own words.
                self.cause = extra
                    .iter()
                    .find_map(|(n, v)| sse_web_core::options::check_header(n, v).err())
                    .map(Cause::from);
                self.act(action);
            }
            Ok(Ok(builder)) => self.io = Io::Sending(conn, Box::pin(builder.send())),
            // A per-attempt header value with a control character the http crate cannot send
            // (static ones are refused at build time): the user's own failure, no panic.
            Ok(Err(e)) => {
                self.cause = Some(e);
                let action = self.machine.on_error(conn, Failure::request(), now);
                self.act(action);
            }
        }
    }

    /// Polls what the attempt under way waits for and reports it to the machine: the body bytes
    /// it fed when something happened, `None` when nothing did.
    fn poll_io(&mut self, cx: &mut Context<'_>) -> Option<usize> {
        let now = || millis(self.epoch.elapsed());
        let mut fed = 0;
        let action = match &mut self.io {
            Io::Idle => return None,
            Io::Preparing(conn, f) => {
                let Poll::Ready(extra) = f.as_mut().poll(cx) else {
                    return None;
                };
                let conn = *conn;
                self.send(conn, &extra);
                return Some(0);
            }
            Io::Sending(conn, f) => {
                let Poll::Ready(sent) = f.as_mut().poll(cx) else {
                    return None;
                };
                let conn = *conn;
                match sent {
                    Ok(response) => {
                        let header = |name| {
                            response
                                .headers()
                                .get(name)
                                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                        };
                        let head = Response {
                            status: response.status().as_u16(),
                            content_type: header(reqwest::header::CONTENT_TYPE),
                            retry_after: header(reqwest::header::RETRY_AFTER),
                            unix_now_ms: std::time::SystemTime::now()
                                .duration_since(std::time::UNIX_EPOCH)
                                .map_or(0, millis),
                        };
                        let action = self.machine.on_response(conn, &head, now());
                        if action != Action::Open {
                            self.headers = Some(Box::new(response.headers().clone()));
                        }
                        match action {
                            // An HTTP error's body is read as a stream's, for the error.
                            Action::Open | Action::Drain => {
                                self.io = Io::Reading(
                                    conn,
                                    response.bytes_stream().boxed(),
                                    bytes::Bytes::new(),
                                );
                            }
                            Action::Wait(e) | Action::Fail(e)
                                if e.kind == ErrorKind::ContentType =>
                            {
                                // sse-web-core's message names the type received.
                                let received = head.content_type.unwrap_or_default();
                                self.cause = Some(Box::new(ContentTypeReceived(received.into())));
                            }
                            _ => {}
                        }
                        action
                    }
                    Err(e) => {
                        self.cause = Some(Box::new(e));
                        self.machine.on_error(conn, Failure::network(), now())
                    }
                }
            }
            Io::Reading(conn, body, rest) => {
                let chunk = if rest.is_empty() {
                    let Poll::Ready(chunk) = body.poll_next_unpin(cx) else {
                        return None;
                    };
                    chunk
                } else {
                    Some(Ok(std::mem::take(rest)))
                };
                let conn = *conn;
                match chunk {
                    Some(Ok(mut bytes)) => {
                        // A decompressed or coalesced chunk can be megabytes: fed in pieces, a
                        // poll at a time.
                        if bytes.len() > FEED_PER_TURN {
                            *rest = bytes.split_off(FEED_PER_TURN);
                        }
                        fed = bytes.len();
                        let queue = &mut self.queue;
                        let comments = self.on_comment.is_some();
                        self.machine
                            .on_chunk(conn, &bytes, now(), |frame| match frame {
                                Frame::Event(e) => queue.push_back(Queued::Item(Ok(e.to_owned()))),
                                Frame::Comment(text) if comments => {
                                    queue.push_back(Queued::Comment(text.to_owned()));
                                }
                                _ => {}
                            })
                    }
                    Some(Err(e)) => {
                        self.cause = Some(Box::new(e));
                        self.machine.on_error(conn, Failure::network(), now())
                    }
                    None => self.machine.on_error(conn, Failure::ended(), now()),
                }
            }
        };
        self.act(action);
        Some(fed)
    }

    /// Sets the one timer to the machine's deadline and polls it: `true` when it fired.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at) = self.machine.poll_timeout() else {
            self.armed = None;
            return false;
        };
        if self.armed != Some(at) {
            self.armed = Some(at);
            // A deadline past what Instant holds is as good as never; the timer fires early and
            // the machine, not due yet, sets it again.
            let deadline = self
                .epoch
                .checked_add(Duration::from_millis(at))
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400 * 365));
            self.timer.as_mut().reset(deadline);
        }
        if self.timer.as_mut().poll(cx).is_pending() {
            return false;
        }
        self.armed = None;
        let action = self.machine.handle_timeout(self.now_ms());
        self.act(action);
        true
    }
}

/// What one step other than body bytes (a response, a timer) counts against a poll's
/// [`FEED_PER_TURN`].
const STEP_COST: usize = 4 * 1024;

impl Stream for EventSource {
    type Item = Result<Event, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if !this.started {
            this.started = true;
            let action = this.machine.start(this.now_ms());
            this.act(action);
        }
        let mut budget = FEED_PER_TURN;
        while budget > 0 {
            while let Some(queued) = this.queue.pop_front() {
                match queued {
                    Queued::Item(item) => return Poll::Ready(Some(item)),
                    Queued::Comment(text) => {
                        if let Some(f) = &mut this.on_comment {
                            f(&text);
                        }
                    }
                }
            }
            if this.machine.ready_state() == ReadyState::Closed {
                return Poll::Ready(None);
            }
            let spent = if this.poll_timer(cx) {
                STEP_COST
            } else {
                match this.poll_io(cx) {
                    Some(bytes) => bytes.max(STEP_COST),
                    None => {
                        this.park(cx);
                        return Poll::Pending;
                    }
                }
            };
            budget = budget.saturating_sub(spent);
        }
        // Yielded, not just woken: tokio runs its timers and IO only between rounds of tasks
        // (every 61 polls), so a task that wakes itself would still starve them. A yield_now
        // waits for that round (outside tokio it is a plain wake).
        let _ = pin!(tokio::task::yield_now()).poll(cx);
        Poll::Pending
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id().into());
    h.finish()
}
