//! The reconnect machine: one `EventSource`'s life, without IO or a clock (WHATWG HTML §9.2.3).
//!
//! Every decision is the machine's: what to request, when to open, what a response or a failure
//! means (the user's classifier included), how long to wait, when nothing has arrived for too
//! long. A driver reports what happened, each input with the time `now_ms` of its monotonic
//! clock, and does what the returned [`Action`] says; it keeps one timer, set to
//! [`Machine::poll_timeout`] after every input, and calls [`Machine::handle_timeout`] when it
//! fires (in the style of `quinn-proto`). Every action but [`Action::None`], [`Action::Open`] and
//! [`Action::Drain`] tells it to drop the fetch it holds first, which is why there are never two
//! connections.
//!
//! ```
//! use sse_web_core::options::Options;
//! use sse_web_core::parser::Frame;
//! use sse_web_core::reconnect::{Action, Failure, Machine, Response};
//!
//! let mut m = Machine::new(Options::new("https://example.com/events"), 1);
//! let Action::Connect(conn) = m.start(0) else { unreachable!() };
//! let req = m.request(conn, &[], 0).unwrap();
//! assert_eq!(req.headers, [("Accept", "text/event-stream")]);
//! let ok = Response::new(200, Some("text/event-stream"));
//! assert_eq!(m.on_response(conn, &ok, 0), Action::Open);
//! let mut got = Vec::new();
//! let chunk = b"id: 1\ndata: hi\n\n";
//! m.on_chunk(conn, chunk, 5, |f| if let Frame::Event(e) = f { got.push(e.to_owned()) });
//! assert_eq!(got[0].data, "hi");
//! // The server ends the stream: wait the reconnection time, then reconnect with Last-Event-ID.
//! let Action::Wait(error) = m.on_error(conn, Failure::ended(), 10) else { unreachable!() };
//! assert_eq!(error.retry_in_ms, Some(3000));
//! assert_eq!(m.poll_timeout(), Some(3010));
//! let Action::Connect(next) = m.handle_timeout(3010) else { unreachable!() };
//! assert!(m.request(next, &[], 3010).unwrap().headers.contains(&("Last-Event-ID", "1")));
//! ```

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use crate::http;
use crate::options::{check_header, Classify, Options};
use crate::parser::{Frame, Parser};

/// The `readyState` of an `EventSource`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum ReadyState {
    /// Connecting, or waiting to reconnect.
    Connecting = 0,
    /// The stream is open.
    Open = 1,
    /// Closed for good.
    Closed = 2,
}

/// Names one connection attempt, so that late news of an attempt the driver dropped is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conn(pub u64);

/// What happened to a connection, or why it could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The connection could not be made or broke.
    Network,
    /// The server answered with an HTTP status other than 200.
    Http,
    /// The server answered 200 with a type other than `text/event-stream`.
    ContentType,
    /// Nothing arrived within the inactivity timeout.
    Timeout,
    /// One event was larger than the limit, or the last event ID is longer than the 4096 bytes
    /// sent back ([`MAX_LAST_EVENT_ID`](crate::options::MAX_LAST_EVENT_ID)), found when reconnecting.
    TooLarge,
    /// The user's abort signal fired.
    Aborted,
    /// The server ended the stream, between events (a body that ends inside an event, a line or
    /// fields after the last blank line, was cut: [`ErrorKind::Network`]).
    Ended,
    /// The user's own code failed: a header or body function threw, computed headers were
    /// invalid, a `fetch` override threw or gave no readable body.
    Request,
    /// The browser blocked a cross-origin response: the server does not allow this origin (no
    /// or a wrong `Access-Control-Allow-Origin`, or a preflight it refused). Closes for good by
    /// default, as the spec fails the connection.
    Cors,
}

impl ErrorKind {
    /// The kind's name in the JS API (`error.kind`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Network => "network",
            ErrorKind::Http => "http",
            ErrorKind::ContentType => "content-type",
            ErrorKind::Timeout => "timeout",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::Aborted => "aborted",
            ErrorKind::Ended => "ended",
            ErrorKind::Request => "request",
            ErrorKind::Cors => "cors",
        }
    }
}

/// The failure of one attempt: what the classification looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure<'a> {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    /// The server's `Retry-After`, in milliseconds, when it sent one.
    pub retry_after_ms: Option<u64>,
    /// For an HTTP error, the start of its body as text (at most [`ERROR_BODY_LIMIT`] bytes,
    /// read for at most [`ERROR_BODY_WAIT_MS`]; invalid UTF-8 replaced): the server's own
    /// words, such as `{"error":"token expired"}`.
    pub body: Option<&'a str>,
}

impl Failure<'static> {
    /// A failure of `kind`, with no status.
    pub fn of(kind: ErrorKind) -> Self {
        Failure {
            kind,
            status: None,
            retry_after_ms: None,
            body: None,
        }
    }
    /// The connection could not be made or broke.
    pub fn network() -> Self {
        Failure::of(ErrorKind::Network)
    }
    /// The server ended the stream.
    pub fn ended() -> Self {
        Failure::of(ErrorKind::Ended)
    }
    /// The user's own code failed (see [`ErrorKind::Request`]).
    pub fn request() -> Self {
        Failure::of(ErrorKind::Request)
    }
    /// The browser blocked a cross-origin response (see [`ErrorKind::Cors`]).
    pub fn cors() -> Self {
        Failure::of(ErrorKind::Cors)
    }
}

/// The most of an HTTP error's body kept for the error and the classifier, in bytes.
pub const ERROR_BODY_LIMIT: usize = 65536;

/// How long an HTTP error's body is read at most, in milliseconds, before the error fires with
/// what came: an error body that never ends delays the `error` event by this much, no more.
pub const ERROR_BODY_WAIT_MS: u64 = 1000;

/// What to do about a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Reconnect after the usual delay, and not sooner than `at_least_ms` (a `Retry-After`).
    Retry {
        /// A lower bound on the delay, in milliseconds.
        at_least_ms: u64,
    },
    /// Close for good.
    Fatal,
}

/// The `error` an `EventSource` fires: what happened, and whether it will retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    /// What happened.
    pub kind: ErrorKind,
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    /// Consecutive attempts that failed or ended, this one included.
    pub attempt: u32,
    /// The wait before the next attempt, in milliseconds; `None` when closed for good.
    pub retry_in_ms: Option<u64>,
    /// Closed for good because the maximum number of attempts was reached.
    pub gave_up: bool,
}

impl Error {
    /// What happened.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }
    /// Consecutive attempts that failed or ended, this one included.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }
    /// Whether the source reconnects after this error.
    pub fn will_retry(&self) -> bool {
        self.retry_in_ms.is_some()
    }
    /// The wait before the next attempt; `None` when closed for good.
    pub fn retry_in(&self) -> Option<Duration> {
        self.retry_in_ms.map(Duration::from_millis)
    }
    /// Closed for good because the maximum number of attempts in a row was reached.
    pub fn gave_up(&self) -> bool {
        self.gave_up
    }

    /// The sentence for people, in every client: what happened (with the HTTP status), the
    /// platform's own words when there are some (`cause`: "Connection refused"; for
    /// [`ErrorKind::ContentType`] the `Content-Type` received, empty when there was none), and
    /// what comes next. A [`ErrorKind::Cors`] says what the server must fix instead of the
    /// platform's words (a browser gives none that say more: "Failed to fetch"). Written without
    /// `core::fmt`, so the browser build stays small.
    pub fn write_message(&self, cause: Option<&str>, out: &mut String) {
        let cause = cause.filter(|c| !c.is_empty() && self.kind != ErrorKind::Cors);
        if self.kind == ErrorKind::ContentType {
            // Name what came instead, once: "the response is text/html, not text/event-stream".
            match cause {
                Some(received) => {
                    out.push_str("the response is ");
                    out.push_str(received);
                }
                None => out.push_str("the response has no Content-Type"),
            }
            out.push_str(", not text/event-stream");
            return self.write_next(out);
        }
        out.push_str(match (self.kind, self.status) {
            (ErrorKind::Http, Some(_)) => "the server answered HTTP ",
            (ErrorKind::Http, None) => "the server answered with an HTTP error",
            (ErrorKind::Network, _) => "the connection failed",
            (ErrorKind::ContentType, _) => "",
            (ErrorKind::Timeout, _) => "no data arrived within the inactivity timeout",
            (ErrorKind::TooLarge, _) => {
                "an event exceeded the maximum event size, or its ID the 4096 bytes sent back"
            }
            (ErrorKind::Aborted, _) => "aborted by the signal",
            (ErrorKind::Ended, _) => "the server ended the stream",
            (ErrorKind::Request, _) => "the request could not be made",
            (ErrorKind::Cors, _) => {
                "the browser blocked the response (CORS): the server must send \
                 Access-Control-Allow-Origin for this origin"
            }
        });
        if let (ErrorKind::Http, Some(status)) = (self.kind, self.status) {
            http::push_decimal(out, status.into());
            if status == 204 {
                out.push_str(" No Content");
            }
        }
        if let Some(cause) = cause {
            out.push_str(": ");
            out.push_str(cause);
        }
        self.write_next(out);
    }

    /// What comes next: the wait, or that it gave up.
    fn write_next(&self, out: &mut String) {
        if let Some(ms) = self.retry_in_ms {
            out.push_str("; retrying in ");
            http::push_decimal(out, ms);
            out.push_str(" ms");
        } else if self.gave_up {
            out.push_str("; gave up after ");
            http::push_decimal(out, self.attempt.into());
            out.push_str(" failed attempts in a row");
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write_message(None, &mut s);
        f.write_str(&s)
    }
}

impl core::error::Error for Error {}

/// The most body bytes a driver feeds [`Machine::on_chunk`] in one turn of its event loop (a
/// larger chunk goes in pieces), and feeds before it yields: a flood of lines that hold no event
/// (a gzip bomb of comments) would otherwise hold the loop for as long as it lasts.
pub const FEED_PER_TURN: usize = 65536;

/// What the driver must do now. After every input it also sets its one timer to
/// [`Machine::poll_timeout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    None,
    /// Drop the fetch; `readyState` is CONNECTING; run the user's per-attempt functions (if any)
    /// and fetch [`Machine::request`], reporting on it with this `Conn`.
    Connect(Conn),
    /// The stream is open: set `readyState` to OPEN and fire `open`.
    Open,
    /// The response is an HTTP error: read its body as an open stream's (feed
    /// [`Machine::on_chunk`], report its end or failure to [`Machine::on_error`]) without opening;
    /// `readyState` stays CONNECTING. The machine keeps the start of it
    /// ([`Machine::error_body`]) and answers [`Action::Wait`] or [`Action::Fail`] once it has
    /// [`ERROR_BODY_LIMIT`] bytes, the body ends, or [`ERROR_BODY_WAIT_MS`] have passed.
    Drain,
    /// Drop the fetch; `readyState` is CONNECTING; fire `error` (it says when the next attempt
    /// is; the timer goes off then).
    Wait(Error),
    /// Drop the fetch; `readyState` stays CONNECTING; no event (paused while hidden or offline).
    Pause,
    /// Drop everything; `readyState` is CLOSED; fire `error`.
    Fail(Error),
    /// Drop everything; `readyState` is CLOSED; no event (`close()`).
    Close,
}

/// The response head of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// The `Retry-After` header.
    pub retry_after: Option<&'a str>,
    /// The Unix time in milliseconds, for a `Retry-After` given as a date.
    pub unix_now_ms: u64,
}

impl<'a> Response<'a> {
    /// A head with `status` and `content_type` and no `Retry-After`.
    pub fn new(status: u16, content_type: Option<&'a str>) -> Response<'a> {
        Response {
            status,
            content_type,
            retry_after: None,
            unix_now_ms: 0,
        }
    }
}

/// The `credentials` mode of the request (`withCredentials`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// Cookies only to the same origin (the default).
    SameOrigin,
    /// Cookies cross-origin too.
    Include,
}

impl Credentials {
    /// Fetch's name for the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Credentials::SameOrigin => "same-origin",
            Credentials::Include => "include",
        }
    }
}

/// The request of an attempt, exactly as it goes on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The HTTP method, normalised as Fetch does.
    pub method: &'a str,
    /// The URL, with the last event ID query parameter when configured.
    pub url: Cow<'a, str>,
    /// Every header, each name once: `Accept: text/event-stream` unless the user set one, the
    /// user's (a later one replaces an earlier one of the same name; the per-attempt headers
    /// come last), then `Last-Event-ID` (UTF-8, only when not empty).
    pub headers: Vec<(&'a str, &'a str)>,
    /// The body, the same on every attempt.
    pub body: Option<&'a [u8]>,
    /// The credentials mode.
    pub credentials: Credentials,
}

impl Request<'_> {
    /// What Fetch's cache mode `no-store` adds by itself (`Cache-Control: no-cache`,
    /// `Pragma: no-cache`, each unless the request has it). A browser driver sets the cache mode
    /// and leaves these to fetch (set by hand they would make a cross-origin request need a
    /// preflight); a native driver sends them.
    pub fn cache_headers(&self) -> Vec<(&'static str, &'static str)> {
        [("Cache-Control", "no-cache"), ("Pragma", "no-cache")]
            .into_iter()
            .filter(|(name, _)| {
                !self
                    .headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name))
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Connecting,
    /// Reading an HTTP error's body ([`Action::Drain`]).
    Draining,
    Open,
    Waiting,
    Paused,
    Closed,
}

/// The built-in classifier: keeps the policy's decision.
pub type Builtin = fn(&Failure<'_>, Decision) -> Decision;

fn keep(_: &Failure<'_>, default: Decision) -> Decision {
    default
}

/// One `EventSource`'s protocol state: the parser, the last event ID, the reconnection time, the
/// retry policy with the user's classifier `C` (given each failure and the policy's decision, it
/// returns the decision), and the two deadlines (the reconnect wait and the inactivity timeout).
#[derive(Clone)]
pub struct Machine<C = Builtin> {
    options: Options,
    parser: Parser,
    state: State,
    conn: u64,
    reconnection_time_ms: u64,
    /// Consecutive attempts that failed or ended before they were healthy.
    attempts: u32,
    opened_at_ms: Option<u64>,
    /// When the wait ends (`Waiting`), or when the attempt times out (`Connecting`, `Open`).
    deadline: Option<u64>,
    hidden: bool,
    offline: bool,
    /// The page is in the back/forward cache ([`Machine::set_frozen`]).
    frozen: bool,
    rng: u64,
    classifier: C,
    /// The HTTP error being drained (its body is read into `error_body`).
    draining: Option<Failure<'static>>,
    /// The start of the last HTTP error's body: bytes while draining, then its text.
    error_body: Option<Vec<u8>>,
}

impl<C> fmt::Debug for Machine<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Machine")
            .field("state", &self.state)
            .field("conn", &self.conn)
            .field("last_event_id", &self.parser.last_event_id())
            .field("reconnection_time_ms", &self.reconnection_time_ms)
            .field("attempts", &self.attempts)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl Machine {
    /// A machine for `options` with the built-in classification; `seed` drives the jitter
    /// (drivers seed it at random; tests fix it). The options should have passed
    /// [`Options::validate`].
    pub fn new(options: Options, seed: u64) -> Machine {
        Machine::with_classifier(options, seed, keep as Builtin)
    }
}

impl<C: FnMut(&Failure<'_>, Decision) -> Decision> Machine<C> {
    /// A machine whose failures also go through `classifier`.
    pub fn with_classifier(options: Options, seed: u64, classifier: C) -> Machine<C> {
        let mut parser = Parser::new().with_max_event_size(options.max_event_size);
        parser.set_last_event_id(&options.last_event_id);
        Machine {
            reconnection_time_ms: options.retry.reconnection_time_ms,
            options,
            parser,
            state: State::Idle,
            conn: 0,
            attempts: 0,
            opened_at_ms: None,
            deadline: None,
            hidden: false,
            offline: false,
            frozen: false,
            // xorshift must not start at zero.
            rng: seed | 1,
            classifier,
            draining: None,
            error_body: None,
        }
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The `readyState`.
    pub fn ready_state(&self) -> ReadyState {
        match self.state {
            State::Open => ReadyState::Open,
            State::Closed => ReadyState::Closed,
            _ => ReadyState::Connecting,
        }
    }

    /// The last event ID (committed at dispatch).
    pub fn last_event_id(&self) -> &str {
        self.parser.last_event_id()
    }

    /// The reconnection time in milliseconds: the server's last `retry:`, or the option's.
    pub fn reconnection_time_ms(&self) -> u64 {
        self.reconnection_time_ms
    }

    /// Whether `conn` is the attempt under way (news of any other is stale and ignored).
    pub fn is_current(&self, conn: Conn) -> bool {
        conn.0 == self.conn
            && matches!(
                self.state,
                State::Connecting | State::Draining | State::Open
            )
    }

    /// The start of the last HTTP error's body, as text (see [`Failure::body`]): there from the
    /// error until the next attempt; `None` for any other error, and while it is being read.
    pub fn error_body(&self) -> Option<&str> {
        if self.draining.is_some() {
            return None;
        }
        // Made text when the draining ended.
        core::str::from_utf8(self.error_body.as_deref()?).ok()
    }

    /// When [`Machine::handle_timeout`] is due: the end of the reconnect wait, or the inactivity
    /// deadline of the attempt under way. `None`: no timer.
    pub fn poll_timeout(&self) -> Option<u64> {
        match self.state {
            State::Waiting | State::Connecting | State::Draining | State::Open => self.deadline,
            _ => None,
        }
    }

    /// The driver's timer fired: the wait is over (connect), or nothing arrived in time (the
    /// attempt fails with a timeout). Early or stale calls do nothing.
    pub fn handle_timeout(&mut self, now_ms: u64) -> Action {
        if self.deadline.is_none_or(|at| now_ms < at) {
            return Action::None;
        }
        match self.state {
            State::Waiting => self.connect(now_ms),
            State::Draining => self.drained(now_ms),
            State::Connecting | State::Open => {
                self.on_error(Conn(self.conn), Failure::of(ErrorKind::Timeout), now_ms)
            }
            _ => Action::None,
        }
    }

    /// Starts the first attempt from `last_event_id` instead of the options' (sent as
    /// `Last-Event-ID`): a source that took over a stream other sources shared, resuming after
    /// the last event it received. Nothing once started.
    pub fn start_from(&mut self, last_event_id: &str, now_ms: u64) -> Action {
        if self.state != State::Idle {
            return Action::None;
        }
        self.parser.set_last_event_id(last_event_id);
        self.start(now_ms)
    }

    /// Starts the first attempt (paused instead while hidden with `pause_when_hidden`).
    pub fn start(&mut self, now_ms: u64) -> Action {
        if self.state != State::Idle {
            return Action::None;
        }
        if self.held_back() {
            self.state = State::Paused;
            return Action::Pause;
        }
        self.connect(now_ms)
    }

    /// The request for attempt `conn`, with `extra`: the headers the user's function computed for
    /// this attempt. Invalid extra headers fail the attempt (kind `request`, through the
    /// classifier): `Err` holds the action to do instead; so does a stale `conn`
    /// ([`Action::None`]).
    pub fn request<'a>(
        &'a mut self,
        conn: Conn,
        extra: &'a [(String, String)],
        now_ms: u64,
    ) -> Result<Request<'a>, Action> {
        if !self.is_current(conn) || self.state != State::Connecting {
            return Err(Action::None);
        }
        if extra.iter().any(|(n, v)| check_header(n, v).is_err()) {
            return Err(self.on_error(conn, Failure::request(), now_ms));
        }
        if self.parser.last_event_id().len() > crate::options::MAX_LAST_EVENT_ID {
            return Err(self.on_error(conn, Failure::of(ErrorKind::TooLarge), now_ms));
        }
        let o = &self.options;
        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(o.headers.len() + extra.len() + 2);
        headers.push(("Accept", "text/event-stream"));
        for (name, value) in &o.headers {
            // Normalised by `Options::validate`.
            put(&mut headers, name, value);
        }
        for (name, value) in extra {
            put(
                &mut headers,
                name,
                check_header(name, value).unwrap_or(value),
            );
        }
        let id = self.parser.last_event_id();
        if !id.is_empty() {
            headers.push(("Last-Event-ID", id));
        }
        let url = match (&o.last_event_id_query, id.is_empty()) {
            (Some(name), false) => {
                let mut url = String::with_capacity(o.url.len() + name.len() + id.len() * 3 + 2);
                let hash = o.url.bytes().position(|b| b == b'#').unwrap_or(o.url.len());
                let (base, fragment) = o.url.split_at(hash);
                url.push_str(base);
                url.push(if base.bytes().any(|b| b == b'?') {
                    '&'
                } else {
                    '?'
                });
                http::percent_encode(&mut url, name);
                url.push('=');
                http::percent_encode(&mut url, id);
                url.push_str(fragment);
                Cow::Owned(url)
            }
            _ => Cow::Borrowed(o.url.as_str()),
        };
        Ok(Request {
            method: &o.method,
            url,
            headers,
            body: o.body.as_deref(),
            credentials: if o.with_credentials {
                Credentials::Include
            } else {
                Credentials::SameOrigin
            },
        })
    }

    /// The response head of attempt `conn` arrived: [`Action::Open`], [`Action::Drain`] for an HTTP
    /// error (its body is read first, for the error and the classifier), or what its failure
    /// means.
    pub fn on_response(&mut self, conn: Conn, response: &Response<'_>, now_ms: u64) -> Action {
        if !self.is_current(conn) || self.state != State::Connecting {
            return Action::None;
        }
        self.arm_inactivity(now_ms);
        match check_response(response) {
            // 204 has no body by definition.
            Err(failure) if failure.kind == ErrorKind::Http && failure.status != Some(204) => {
                self.state = State::Draining;
                self.draining = Some(failure);
                let wait = now_ms.saturating_add(ERROR_BODY_WAIT_MS);
                self.deadline = Some(self.deadline.map_or(wait, |d| d.min(wait)));
                return Action::Drain;
            }
            Err(failure) => return self.on_error(conn, failure, now_ms),
            Ok(()) => {}
        }
        self.state = State::Open;
        self.opened_at_ms = Some(now_ms);
        Action::Open
    }

    /// A chunk of attempt `conn`'s body arrived: its frames go to `sink` as they complete (a
    /// `retry:` also sets the reconnection time). An event over the size limit fails the attempt.
    /// A driver feeds at most [`FEED_PER_TURN`] bytes before giving its event loop a turn.
    pub fn on_chunk<F: FnMut(Frame<'_>)>(
        &mut self,
        conn: Conn,
        chunk: &[u8],
        now_ms: u64,
        mut sink: F,
    ) -> Action {
        if !self.is_current(conn) {
            return Action::None;
        }
        if self.state == State::Draining {
            let body = self.error_body.get_or_insert_with(Vec::new);
            let room = ERROR_BODY_LIMIT - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if chunk.len() < room {
                return Action::None;
            }
            return self.drained(now_ms);
        }
        if self.state != State::Open {
            return Action::None;
        }
        self.arm_inactivity(now_ms);
        let time = &mut self.reconnection_time_ms;
        let fed = self.parser.feed(chunk, |frame| {
            if let Frame::Retry(ms) = frame {
                *time = ms;
            }
            sink(frame)
        });
        match fed {
            Ok(()) => Action::None,
            Err(_) => self.on_error(conn, Failure::of(ErrorKind::TooLarge), now_ms),
        }
    }

    /// Attempt `conn` failed, or its stream ended: the policy and the user's classifier decide
    /// whether and when to reconnect. An end ([`Failure::ended`]) that leaves an event incomplete
    /// in the parser counts as a cut ([`ErrorKind::Network`]), so `close_on_end` still resumes.
    pub fn on_error(&mut self, conn: Conn, failure: Failure<'_>, now_ms: u64) -> Action {
        if !self.is_current(conn) {
            return Action::None;
        }
        if self.state == State::Draining {
            // However the error's body ends, it is the HTTP error that failed the attempt.
            return self.drained(now_ms);
        }
        // A body that ends inside an event was cut, whatever the platform says: WebKit reports a
        // chunked response cut by a dropped connection as a clean end.
        let failure = if failure.kind == ErrorKind::Ended && self.parser.is_mid_event() {
            Failure::network()
        } else {
            failure
        };
        let default = self.classify(&failure);
        let decision = (self.classifier)(&failure, default);
        self.parser.finish();
        self.deadline = None;
        // Opened counts as healthy; with a backoff, only once open for `reset_after_ms`.
        let reset_after = self.options.retry.backoff.map_or(0, |b| b.reset_after_ms);
        let healthy = self
            .opened_at_ms
            .take()
            .is_some_and(|t| now_ms.saturating_sub(t) >= reset_after);
        self.attempts = if healthy {
            1
        } else {
            self.attempts.saturating_add(1)
        };
        let mut error = Error {
            kind: failure.kind,
            status: failure.status,
            attempt: self.attempts,
            retry_in_ms: None,
            gave_up: false,
        };
        let at_least_ms = match decision {
            Decision::Fatal => return self.fail(error),
            Decision::Retry { at_least_ms } => at_least_ms,
        };
        if self
            .options
            .retry
            .max_attempts
            .is_some_and(|max| self.attempts >= max)
        {
            error.gave_up = true;
            return self.fail(error);
        }
        let delay_ms = self.delay_ms().max(at_least_ms);
        error.retry_in_ms = Some(delay_ms);
        if self.offline {
            self.state = State::Paused;
            return Action::Pause;
        }
        self.state = State::Waiting;
        self.deadline = Some(now_ms.saturating_add(delay_ms));
        Action::Wait(error)
    }

    /// The HTTP error's body is read (or as much as it gets): its text goes with the failure.
    fn drained(&mut self, now_ms: u64) -> Action {
        let Some(mut failure) = self.draining.take() else {
            return Action::None;
        };
        let mut body = self.error_body.take().unwrap_or_default();
        if let Cow::Owned(text) = String::from_utf8_lossy(&body) {
            body = text.into_bytes();
        }
        let text = core::str::from_utf8(&body).unwrap_or_default();
        failure.body = Some(text);
        // Still current: `on_error` decides as for any failure.
        self.state = State::Connecting;
        let action = self.on_error(Conn(self.conn), failure, now_ms);
        self.error_body = Some(body);
        action
    }

    /// The built-in classification of `failure` under the options' [`Classify`] and
    /// `close_on_end` (what the user's classifier is given as the default).
    pub fn classify(&self, failure: &Failure<'_>) -> Decision {
        if failure.kind == ErrorKind::Ended && self.options.retry.close_on_end {
            return Decision::Fatal;
        }
        classify(self.options.retry.classify, failure)
    }

    /// `close()`: closed for good, no event.
    pub fn close(&mut self) -> Action {
        if self.state == State::Closed {
            return Action::None;
        }
        self.state = State::Closed;
        self.deadline = None;
        self.parser.finish();
        Action::Close
    }

    /// The user's abort signal fired: closed for good, with an `aborted` error.
    pub fn abort(&mut self) -> Action {
        if self.state == State::Closed {
            return Action::None;
        }
        let error = Error {
            kind: ErrorKind::Aborted,
            status: None,
            attempt: self.attempts,
            retry_in_ms: None,
            gave_up: false,
        };
        self.fail(error)
    }

    /// `restart()`: drops the connection (or the wait) and reconnects now with the last event
    /// ID, as after a network error but without counting a failed attempt. Nothing while closed,
    /// not started, or paused (a paused source connects when it may).
    pub fn restart(&mut self, now_ms: u64) -> Action {
        match self.state {
            State::Connecting | State::Draining | State::Open | State::Waiting => {
                // A healthy stream starts the count over, as its failure would have.
                let reset_after = self.options.retry.backoff.map_or(0, |b| b.reset_after_ms);
                if self
                    .opened_at_ms
                    .take()
                    .is_some_and(|t| now_ms.saturating_sub(t) >= reset_after)
                {
                    self.attempts = 0;
                }
                self.parser.finish();
                self.connect(now_ms)
            }
            _ => Action::None,
        }
    }

    /// The page was hidden or shown. With `pause_when_hidden`, hiding drops the connection and
    /// showing makes one (never a second one).
    pub fn set_hidden(&mut self, hidden: bool, now_ms: u64) -> Action {
        self.hidden = hidden;
        if !self.options.pause_when_hidden {
            return Action::None;
        }
        match (hidden, self.state) {
            (true, State::Connecting | State::Draining | State::Open | State::Waiting) => {
                self.pause()
            }
            (false, State::Paused) if !self.offline && !self.frozen => self.connect(now_ms),
            _ => Action::None,
        }
    }

    /// The page went into the back/forward cache (`pagehide` with `persisted`), or came back
    /// (`pageshow`): frozen, the connection is dropped and nothing is waited for (a page nobody
    /// sees holds no connection the server keeps busy); back, it reconnects at once with the last
    /// event ID. Whatever the options: a frozen page runs no code to read a stream.
    pub fn set_frozen(&mut self, frozen: bool, now_ms: u64) -> Action {
        self.frozen = frozen;
        match (frozen, self.state) {
            (true, State::Connecting | State::Draining | State::Open | State::Waiting) => {
                self.pause()
            }
            (false, State::Paused) if !self.offline && !self.held_back() => self.connect(now_ms),
            _ => Action::None,
        }
    }

    /// Paused by the page: hidden (with `pause_when_hidden`) or frozen.
    fn held_back(&self) -> bool {
        self.frozen || (self.hidden && self.options.pause_when_hidden)
    }

    /// The platform went offline or online. Offline, a pending wait pauses (no attempt is burnt);
    /// online, a wait or pause ends at once (with `reconnect_on_online`).
    pub fn set_online(&mut self, online: bool, now_ms: u64) -> Action {
        self.offline = !online;
        match (online, self.state) {
            (false, State::Waiting) => self.pause(),
            (true, State::Paused) if !self.held_back() => self.connect(now_ms),
            (true, State::Waiting) if self.options.reconnect_on_online => self.connect(now_ms),
            _ => Action::None,
        }
    }

    fn arm_inactivity(&mut self, now_ms: u64) {
        self.deadline = self
            .options
            .inactivity_timeout_ms
            .map(|ms| now_ms.saturating_add(ms));
    }

    fn connect(&mut self, now_ms: u64) -> Action {
        self.conn += 1;
        self.state = State::Connecting;
        // The last error's body is news of the last attempt; a long one gives its memory back.
        self.error_body = None;
        self.draining = None;
        // The timeout covers the whole attempt: the user's per-attempt functions included.
        self.arm_inactivity(now_ms);
        Action::Connect(Conn(self.conn))
    }

    fn pause(&mut self) -> Action {
        self.parser.finish();
        self.opened_at_ms = None;
        self.deadline = None;
        self.state = State::Paused;
        Action::Pause
    }

    fn fail(&mut self, error: Error) -> Action {
        self.state = State::Closed;
        self.deadline = None;
        self.parser.finish();
        Action::Fail(error)
    }

    /// The next wait: the reconnection time, grown and jittered by the backoff, never below the
    /// floor. A backoff grows from the larger of the server's `retry:` and the policy's initial
    /// delay, so a server's `retry: 0` cannot turn it into a tight loop.
    fn delay_ms(&mut self) -> u64 {
        let delay = match self.options.retry.backoff {
            None => self.reconnection_time_ms,
            Some(b) => {
                let base = self
                    .reconnection_time_ms
                    .max(self.options.retry.reconnection_time_ms);
                let mut cap = base.min(b.max_delay_ms) as f64;
                for _ in 1..self.attempts {
                    cap *= b.factor;
                    if cap >= b.max_delay_ms as f64 {
                        break;
                    }
                }
                let cap = (cap as u64).min(b.max_delay_ms);
                if b.jitter {
                    // Uniform over [floor, cap]: drawn over [0, cap] and raised to the floor, a
                    // tenth of a storm (resilient: 100 of 1000 ms) would land on the floor at once.
                    let floor = self.options.retry.min_delay_ms.min(cap);
                    floor + self.next_random() % (cap - floor).saturating_add(1)
                } else {
                    cap
                }
            }
        };
        delay.max(self.options.retry.min_delay_ms)
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: small, fast, and good enough to spread reconnects.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Adds a header, replacing an earlier one of the same name (case-insensitive).
fn put<'a>(headers: &mut Vec<(&'a str, &'a str)>, name: &'a str, value: &'a str) {
    match headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
    {
        Some(slot) => *slot = (name, value),
        None => headers.push((name, value)),
    }
}

/// The spec's check of a response head: 200 with the media type `text/event-stream`.
fn check_response(r: &Response<'_>) -> Result<(), Failure<'static>> {
    if r.status != 200 {
        return Err(Failure {
            kind: ErrorKind::Http,
            status: Some(r.status),
            retry_after_ms: r
                .retry_after
                .and_then(|v| http::parse_retry_after(v, r.unix_now_ms)),
            body: None,
        });
    }
    if !r.content_type.is_some_and(http::is_event_stream) {
        return Err(Failure {
            kind: ErrorKind::ContentType,
            status: Some(200),
            retry_after_ms: None,
            body: None,
        });
    }
    Ok(())
}

/// The decision of a built-in classification.
pub fn classify(classify: Classify, failure: &Failure<'_>) -> Decision {
    let retry = Decision::Retry {
        at_least_ms: failure.retry_after_ms.unwrap_or(0),
    };
    match failure.kind {
        ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Ended => {
            Decision::Retry { at_least_ms: 0 }
        }
        ErrorKind::Http => match (classify, failure.status) {
            (Classify::Transient, Some(s)) if s >= 500 || s == 429 || s == 408 => retry,
            _ => Decision::Fatal,
        },
        ErrorKind::ContentType
        | ErrorKind::TooLarge
        | ErrorKind::Aborted
        | ErrorKind::Request
        | ErrorKind::Cors => Decision::Fatal,
    }
}
