//! `sse-client`: the native async Server-Sent Events client (tokio + reqwest), driven by the same
//! parser and reconnect machine as the browser client ([`sse_core`]).
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use sse_client::{EventSource, RetryPolicy};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut events = EventSource::builder("https://example.com/v1/chat")
//!     .method("POST")
//!     .header("Authorization", "Bearer token")
//!     .body(r#"{"prompt":"hi"}"#)
//!     .retry(RetryPolicy::resilient())
//!     .connect()?;
//! while let Some(item) = events.next().await {
//!     match item {
//!         Ok(event) => println!("{}: {}", event.event_type, event.data),
//!         // A failure the policy retries: the stream goes on after `error.retry_in()`.
//!         Err(error) if error.will_retry() => eprintln!("reconnecting: {error}"),
//!         Err(error) => return Err(error.into()),
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! The defaults are the WHATWG `EventSource`'s: GET, `Accept: text/event-stream`, no retry on any
//! HTTP error, reconnect after the reconnection time (3 s, or the server's `retry:`) with
//! `Last-Event-ID` after a network error or the end of the stream. Every extension is an option of
//! [`Builder`], with the same words as the browser client.

#![warn(missing_docs)]

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::ready;
use futures_util::stream::Stream;
pub use sse_core;
pub use sse_core::options::{Backoff, Classify, Options, RetryPolicy};
pub use sse_core::parser::Event;
use sse_core::parser::Frame;
use sse_core::reconnect::{Action, Conn, Machine, Response};
pub use sse_core::reconnect::{Decision, ErrorKind, Failure, ReadyState};

/// Headers computed before every attempt (a token that refreshes).
pub type HeadersFn =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Vec<(String, String)>> + Send>> + Send + Sync>;
/// A classification hook: the failure and the built-in decision in, the decision out.
pub type ClassifyFn = Arc<dyn Fn(&Failure, Decision) -> Decision + Send + Sync>;

/// What went wrong: the attempt's failure as the reconnect machine saw it, whether and when the
/// stream retries, and the transport's own error when there is one.
#[derive(Debug)]
pub struct Error {
    inner: sse_core::reconnect::Error,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// What happened.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }
    /// Whether the stream reconnects after this error.
    pub fn will_retry(&self) -> bool {
        self.inner.retry_in_ms.is_some()
    }
    /// The wait before the next attempt.
    pub fn retry_in(&self) -> Option<Duration> {
        self.inner.retry_in_ms.map(Duration::from_millis)
    }
    /// Consecutive attempts that failed or ended, this one included.
    pub fn attempt(&self) -> u32 {
        self.inner.attempt
    }
    /// The reconnect machine's view of the error.
    pub fn details(&self) -> &sse_core::reconnect::Error {
        &self.inner
    }
    fn new(inner: sse_core::reconnect::Error, source: Option<reqwest::Error>) -> Error {
        Error {
            inner,
            source: source.map(|e| Box::new(e) as _),
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)?;
        // The transport's own words, from the root cause (e.g. "Connection refused").
        let mut cause: Option<&(dyn std::error::Error + 'static)> =
            self.source.as_deref().map(|e| e as _);
        while let Some(next) = cause.and_then(|c| c.source()) {
            cause = Some(next);
        }
        if let Some(c) = cause {
            write!(f, ": {c}")?;
        }
        if let Some(ms) = self.inner.retry_in_ms {
            write!(f, "; retrying in {ms} ms")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as _)
    }
}

/// An option the builder could not use.
#[derive(Debug)]
pub struct BuildError(String);

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BuildError {}

/// Options for an [`EventSource`]: the words of [`sse_core::options::Options`].
#[must_use]
pub struct Builder {
    options: Options,
    headers_fn: Option<HeadersFn>,
    classify_fn: Option<ClassifyFn>,
    client: Option<reqwest::Client>,
    seed: Option<u64>,
}

impl Builder {
    /// The HTTP method (default `GET`).
    pub fn method(mut self, method: &str) -> Builder {
        self.options.method = method.to_string();
        self
    }
    /// Adds a header sent on every attempt.
    pub fn header(mut self, name: &str, value: &str) -> Builder {
        self.options
            .headers
            .push((name.to_string(), value.to_string()));
        self
    }
    /// Headers computed before every attempt (e.g. a refreshed token), after the static ones.
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
    /// Reconnect when nothing (not even a comment) arrives for this long.
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
    /// The reqwest client to use (proxies, TLS roots, HTTP/2 settings); by default one with
    /// gzip, brotli and HTTP/2.
    pub fn client(mut self, client: reqwest::Client) -> Builder {
        self.client = Some(client);
        self
    }
    /// Fixes the jitter's random seed (tests).
    pub fn seed(mut self, seed: u64) -> Builder {
        self.seed = Some(seed);
        self
    }

    /// Opens the stream. The first request goes out when the stream is first polled.
    pub fn connect(self) -> Result<EventSource, BuildError> {
        reqwest::Url::parse(&self.options.url)
            .map_err(|e| BuildError(format!("invalid URL: {e}")))?;
        reqwest::Method::from_bytes(self.options.method.as_bytes())
            .map_err(|_| BuildError(format!("invalid method {:?}", self.options.method)))?;
        let client = match self.client {
            Some(c) => c,
            None => reqwest::Client::builder()
                .build()
                .map_err(|e| BuildError(format!("cannot build the HTTP client: {e}")))?,
        };
        let seed = self.seed.unwrap_or_else(random_seed);
        let state = Arc::new(AtomicU8::new(ReadyState::Connecting as u8));
        let driver = Driver {
            machine: Machine::new(self.options, seed),
            client,
            headers_fn: self.headers_fn,
            classify_fn: self.classify_fn,
            state: state.clone(),
            epoch: tokio::time::Instant::now(),
            queue: VecDeque::new(),
            phase: Phase::Start,
            cause: None,
        };
        Ok(EventSource {
            driver: Some(Box::new(driver)),
            step: None,
            state,
        })
    }
}

/// A Server-Sent Events stream: `Ok` events, and `Err` for every failure (the stream goes on
/// after those that [`Error::will_retry`], and ends after the others). Dropping it, or
/// [`EventSource::close`], ends the connection and every timer.
pub struct EventSource {
    /// Between steps; queued events are handed out from here without a future per event.
    driver: Option<Box<Driver>>,
    /// The step under way (it owns the driver until it is done).
    step: Option<BoxFuture<'static, Box<Driver>>>,
    state: Arc<AtomicU8>,
}

impl EventSource {
    /// Starts building a stream of `url`.
    pub fn builder(url: &str) -> Builder {
        Builder {
            options: Options::new(url),
            headers_fn: None,
            classify_fn: None,
            client: None,
            seed: None,
        }
    }

    /// The `readyState`: connecting (or waiting to reconnect), open, or closed.
    pub fn ready_state(&self) -> ReadyState {
        match self.state.load(Ordering::Relaxed) {
            1 => ReadyState::Open,
            2 => ReadyState::Closed,
            _ => ReadyState::Connecting,
        }
    }

    /// Closes the stream now: the connection is dropped and the stream ends.
    pub fn close(&mut self) {
        self.driver = None;
        self.step = None;
        self.state
            .store(ReadyState::Closed as u8, Ordering::Relaxed);
    }
}

impl Stream for EventSource {
    type Item = Result<Event, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(step) = self.step.as_mut() {
                let driver = ready!(step.as_mut().poll(cx));
                self.step = None;
                self.driver = Some(driver);
            }
            let Some(mut driver) = self.driver.take() else {
                return Poll::Ready(None);
            };
            if let Some(item) = driver.queue.pop_front() {
                self.driver = Some(driver);
                return Poll::Ready(Some(item));
            }
            if matches!(driver.phase, Phase::Done) {
                return Poll::Ready(None);
            }
            self.step = Some(Box::pin(async move {
                driver.step().await;
                driver
            }));
        }
    }
}

enum Phase {
    Start,
    Connect(Conn),
    Read(Conn, reqwest::Response),
    Wait(Duration),
    Done,
}

struct Driver {
    machine: Machine,
    client: reqwest::Client,
    headers_fn: Option<HeadersFn>,
    classify_fn: Option<ClassifyFn>,
    state: Arc<AtomicU8>,
    epoch: tokio::time::Instant,
    queue: VecDeque<Result<Event, Error>>,
    phase: Phase,
    /// The transport error behind the failure being reported, for `Error::source`.
    cause: Option<reqwest::Error>,
}

impl Driver {
    fn now_ms(&self) -> u64 {
        millis(self.epoch.elapsed())
    }

    /// Does what the current phase needs, then what the machine answers.
    async fn step(&mut self) {
        let action = match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Start => self.machine.start(),
            Phase::Connect(conn) => self.connect(conn).await,
            Phase::Read(conn, response) => self.read(conn, response).await,
            Phase::Wait(delay) => {
                tokio::time::sleep(delay).await;
                self.machine.on_timer()
            }
            Phase::Done => return,
        };
        self.act(action);
    }

    fn act(&mut self, action: Action) {
        let source = self.cause.take();
        match action {
            Action::None => {}
            Action::Connect(conn) => self.phase = Phase::Connect(conn),
            Action::Open => {}
            Action::Wait { delay_ms, error } => {
                self.queue.push_back(Err(Error::new(error, source)));
                self.phase = Phase::Wait(Duration::from_millis(delay_ms));
            }
            // Native platforms have no visibility or online signal that pauses.
            Action::Pause => {}
            Action::Fail(error) => {
                self.queue.push_back(Err(Error::new(error, source)));
                self.phase = Phase::Done;
            }
        }
        self.state
            .store(self.machine.ready_state() as u8, Ordering::Relaxed);
    }

    /// A failure of attempt `conn`, through the user's hook when there is one.
    fn failed(&mut self, conn: Conn, failure: Failure) -> Action {
        let now = self.now_ms();
        match &self.classify_fn {
            Some(hook) => {
                let decision = hook(&failure, self.machine.classify(&failure));
                self.machine.on_error_decided(conn, failure, decision, now)
            }
            None => self.machine.on_error(conn, failure, now),
        }
    }

    async fn connect(&mut self, conn: Conn) -> Action {
        let extra = match &self.headers_fn {
            Some(f) => f().await,
            None => Vec::new(),
        };
        let request = self.machine.request();
        let method =
            reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut builder = self
            .client
            .request(method, request.url.as_ref())
            .header(reqwest::header::CACHE_CONTROL, "no-store");
        for (name, value) in request
            .headers
            .iter()
            .copied()
            .chain(extra.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        {
            // Values go out as their UTF-8 bytes (a non-ASCII Last-Event-ID included).
            if let Ok(v) = reqwest::header::HeaderValue::from_bytes(value.as_bytes()) {
                builder = builder.header(name, v);
            }
        }
        if let Some(body) = request.body {
            builder = builder.body(body.to_vec());
        }
        let sent = match self.machine.options().inactivity_timeout_ms {
            Some(ms) => match tokio::time::timeout(Duration::from_millis(ms), builder.send()).await
            {
                Ok(r) => r,
                Err(_) => return self.failed(conn, Failure::timeout()),
            },
            None => builder.send().await,
        };
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                self.cause = Some(e);
                return self.failed(conn, Failure::network());
            }
        };
        let header = |name: reqwest::header::HeaderName| {
            response.headers().get(name).and_then(|v| v.to_str().ok())
        };
        let now_unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, millis);
        let head = Response {
            status: response.status().as_u16(),
            content_type: header(reqwest::header::CONTENT_TYPE),
            retry_after_ms: header(reqwest::header::RETRY_AFTER)
                .and_then(|v| sse_core::reconnect::parse_retry_after(v, now_unix_ms)),
        };
        let now = self.now_ms();
        match self.machine.on_response(conn, &head, now) {
            Ok(Action::Open) => {
                self.phase = Phase::Read(conn, response);
                Action::Open
            }
            Ok(other) => other,
            Err(failure) => self.failed(conn, failure),
        }
    }

    async fn read(&mut self, conn: Conn, mut response: reqwest::Response) -> Action {
        let chunk = match self.machine.options().inactivity_timeout_ms {
            Some(ms) => {
                match tokio::time::timeout(Duration::from_millis(ms), response.chunk()).await {
                    Ok(c) => c,
                    Err(_) => return self.failed(conn, Failure::timeout()),
                }
            }
            None => response.chunk().await,
        };
        match chunk {
            Ok(Some(bytes)) => {
                let queue = &mut self.queue;
                let fed = self.machine.on_chunk(conn, &bytes, |frame| {
                    if let Frame::Event(e) = frame {
                        queue.push_back(Ok(e.to_owned()));
                    }
                });
                match fed {
                    Ok(()) => {
                        self.phase = Phase::Read(conn, response);
                        Action::None
                    }
                    Err(failure) => self.failed(conn, failure),
                }
            }
            Ok(None) => self.failed(conn, Failure::ended()),
            Err(e) => {
                self.cause = Some(e);
                self.failed(conn, Failure::network())
            }
        }
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
