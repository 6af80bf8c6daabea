//! The reconnect machine: one `EventSource`'s life, without IO or timers (WHATWG HTML §9.2.3).
//!
//! A driver feeds it what happened ([`Machine::start`], [`Machine::on_response`],
//! [`Machine::on_chunk`], [`Machine::on_error`], [`Machine::on_timer`], visibility and network
//! changes) and does what each returned [`Action`] says. The driver owns at most one fetch and one
//! timer. Every action other than [`Action::None`] and [`Action::Open`] tells it to drop the fetch
//! and the timer it holds before doing anything else, which is why there are never two
//! connections at once.
//!
//! ```
//! use sse_core::options::Options;
//! use sse_core::parser::Frame;
//! use sse_core::reconnect::{Action, Failure, Machine, Response};
//!
//! let mut m = Machine::new(Options::new("https://example.com/events"), 1);
//! let Action::Connect(conn) = m.start() else { unreachable!() };
//! let req = m.request();
//! assert_eq!(req.headers, [("Accept", "text/event-stream")]);
//! let ok = Response { status: 200, content_type: Some("text/event-stream"), retry_after_ms: None };
//! assert_eq!(m.on_response(conn, &ok, 0), Ok(Action::Open));
//! let mut got = Vec::new();
//! m.on_chunk(conn, b"id: 1\ndata: hi\n\n", |f| if let Frame::Event(e) = f { got.push(e.to_owned()) })
//!     .unwrap();
//! assert_eq!(got[0].data, "hi");
//! // The server ends the stream: wait the reconnection time, then reconnect with Last-Event-ID.
//! let Action::Wait { delay_ms, .. } = m.on_error(conn, Failure::ended(), 10) else { unreachable!() };
//! assert_eq!(delay_ms, 3000);
//! let Action::Connect(_) = m.on_timer() else { unreachable!() };
//! assert!(m.request().headers.contains(&("Last-Event-ID", "1")));
//! ```

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::options::{Classify, Options};
use crate::parser::{Frame, ParseError, Parser};

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
    /// One event was larger than the limit.
    TooLarge,
    /// The user's abort signal fired.
    Aborted,
    /// The server ended the stream.
    Ended,
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
        }
    }
}

/// The failure of one attempt: what the classification looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    /// The server's `Retry-After`, in milliseconds, when it sent one.
    pub retry_after_ms: Option<u64>,
}

impl Failure {
    fn of(kind: ErrorKind) -> Failure {
        Failure {
            kind,
            status: None,
            retry_after_ms: None,
        }
    }
    /// The connection could not be made or broke.
    pub fn network() -> Failure {
        Failure::of(ErrorKind::Network)
    }
    /// The inactivity timeout passed without a byte.
    pub fn timeout() -> Failure {
        Failure::of(ErrorKind::Timeout)
    }
    /// The server ended the stream.
    pub fn ended() -> Failure {
        Failure::of(ErrorKind::Ended)
    }
}

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
    /// A sentence for people (the HTTP status, when there is one, is in `status`).
    pub fn message(&self) -> &'static str {
        if self.gave_up {
            return "gave up: too many failed attempts in a row";
        }
        match self.kind {
            ErrorKind::Network => "the connection failed",
            ErrorKind::Http if self.status == Some(204) => {
                "the server answered 204 No Content: do not reconnect"
            }
            ErrorKind::Http => "the server answered with an HTTP error status",
            ErrorKind::ContentType => "the response is not text/event-stream",
            ErrorKind::Timeout => "no data arrived within the inactivity timeout",
            ErrorKind::TooLarge => "an event exceeded the maximum event size",
            ErrorKind::Aborted => "aborted by the signal",
            ErrorKind::Ended => "the server ended the stream",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())?;
        if let Some(s) = self.status {
            write!(f, " (HTTP {s})")?;
        }
        Ok(())
    }
}

impl core::error::Error for Error {}

/// What the driver must do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    None,
    /// Fetch [`Machine::request`] now, and report on it with this `Conn`.
    Connect(Conn),
    /// The stream is open: set `readyState` to OPEN and fire `open`.
    Open,
    /// Drop the fetch; `readyState` is CONNECTING; fire `error`; call [`Machine::on_timer`]
    /// after `delay_ms`.
    Wait {
        /// The wait, in milliseconds.
        delay_ms: u64,
        /// What the `error` event carries.
        error: Error,
    },
    /// Drop the fetch and the timer; `readyState` stays CONNECTING; no event (paused while hidden
    /// or offline).
    Pause,
    /// Drop everything; `readyState` is CLOSED; fire `error`.
    Fail(Error),
}

/// The response head of an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response<'a> {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
    /// `Retry-After`, parsed by [`parse_retry_after`].
    pub retry_after_ms: Option<u64>,
}

/// The request of an attempt. A driver adds what only it can (a header function's result, a body
/// it cannot express as bytes, the platform's cache mode `no-store`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The URL, with the last event ID query parameter when configured.
    pub url: Cow<'a, str>,
    /// Headers in order: `Accept` (unless the user set one), the user's, `Last-Event-ID`
    /// (UTF-8, only when not empty).
    pub headers: Vec<(&'a str, &'a str)>,
    /// The body, the same on every attempt.
    pub body: Option<&'a [u8]>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Connecting,
    Open,
    Waiting,
    Paused,
    Closed,
}

/// One `EventSource`'s protocol state: the parser, the last event ID, the reconnection time and
/// the retry policy.
#[derive(Clone, Debug)]
pub struct Machine {
    options: Options,
    parser: Parser,
    state: State,
    conn: u64,
    reconnection_time_ms: u64,
    /// Consecutive attempts that failed or ended before they were healthy.
    attempts: u32,
    opened_at_ms: Option<u64>,
    hidden: bool,
    offline: bool,
    rng: u64,
}

impl Machine {
    /// A machine for `options`; `seed` drives the jitter (drivers seed it at random; tests fix it).
    pub fn new(options: Options, seed: u64) -> Machine {
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
            hidden: false,
            offline: false,
            // xorshift must not start at zero.
            rng: seed | 1,
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

    /// The request to make for the attempt [`Action::Connect`] announced.
    pub fn request(&self) -> Request<'_> {
        let o = &self.options;
        let id = self.parser.last_event_id();
        let mut headers = Vec::with_capacity(o.headers.len() + 2);
        if !o
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("accept"))
        {
            headers.push(("Accept", "text/event-stream"));
        }
        headers.extend(o.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        if !id.is_empty() {
            headers.push(("Last-Event-ID", id));
        }
        let url = match (&o.last_event_id_query, id.is_empty()) {
            (Some(name), false) => {
                let mut url = String::with_capacity(o.url.len() + name.len() + id.len() * 3 + 2);
                let (base, fragment) = match o.url.find('#') {
                    Some(i) => o.url.split_at(i),
                    None => (o.url.as_str(), ""),
                };
                url.push_str(base);
                url.push(if base.contains('?') { '&' } else { '?' });
                percent_encode(&mut url, name);
                url.push('=');
                percent_encode(&mut url, id);
                url.push_str(fragment);
                Cow::Owned(url)
            }
            _ => Cow::Borrowed(o.url.as_str()),
        };
        Request {
            method: &o.method,
            url,
            headers,
            body: o.body.as_deref(),
        }
    }

    /// Starts the first attempt (paused instead while hidden with `pause_when_hidden`).
    pub fn start(&mut self) -> Action {
        if self.state != State::Idle {
            return Action::None;
        }
        if self.hidden && self.options.pause_when_hidden {
            self.state = State::Paused;
            return Action::Pause;
        }
        self.connect()
    }

    /// The response head arrived: [`Action::Open`], or the failure to pass to
    /// [`Machine::on_error`] (or, with a user hook, [`Machine::on_error_decided`]).
    pub fn on_response(
        &mut self,
        conn: Conn,
        response: &Response<'_>,
        now_ms: u64,
    ) -> Result<Action, Failure> {
        if !self.is_current(conn, State::Connecting) {
            return Ok(Action::None);
        }
        check_response(response)?;
        self.state = State::Open;
        self.opened_at_ms = Some(now_ms);
        Ok(Action::Open)
    }

    /// A chunk of the body arrived: frames go to `sink` (a `retry:` also sets the reconnection
    /// time). An event over the size limit is a failure to pass to [`Machine::on_error`].
    pub fn on_chunk<F: FnMut(Frame<'_>)>(
        &mut self,
        conn: Conn,
        chunk: &[u8],
        mut sink: F,
    ) -> Result<(), Failure> {
        if !self.is_current(conn, State::Open) {
            return Ok(());
        }
        let time = &mut self.reconnection_time_ms;
        self.parser
            .feed(chunk, |frame| {
                if let Frame::Retry(ms) = frame {
                    *time = ms;
                }
                sink(frame)
            })
            .map_err(|ParseError::EventTooLarge { .. }| Failure::of(ErrorKind::TooLarge))
    }

    /// The attempt failed or the stream ended; the built-in classification decides.
    pub fn on_error(&mut self, conn: Conn, failure: Failure, now_ms: u64) -> Action {
        let decision = self.classify(&failure);
        self.on_error_decided(conn, failure, decision, now_ms)
    }

    /// As [`Machine::on_error`], with the decision of the user's own classification hook (which
    /// may start from [`Machine::classify`]).
    pub fn on_error_decided(
        &mut self,
        conn: Conn,
        failure: Failure,
        decision: Decision,
        now_ms: u64,
    ) -> Action {
        if conn.0 != self.conn || !matches!(self.state, State::Connecting | State::Open) {
            return Action::None;
        }
        self.parser.finish();
        // Opened counts as healthy; with a backoff, only once open for `reset_after_ms`.
        let reset_after = self.options.retry.backoff.map_or(0, |b| b.reset_after_ms);
        let healthy = self
            .opened_at_ms
            .is_some_and(|t| now_ms.saturating_sub(t) >= reset_after);
        self.opened_at_ms = None;
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
        Action::Wait { delay_ms, error }
    }

    /// The built-in classification of `failure` under the options' [`Classify`].
    pub fn classify(&self, failure: &Failure) -> Decision {
        classify(self.options.retry.classify, failure)
    }

    /// The wait of [`Action::Wait`] is over.
    pub fn on_timer(&mut self) -> Action {
        if self.state != State::Waiting {
            return Action::None;
        }
        self.connect()
    }

    /// `close()`: closed for good, no event. The driver drops its fetch and timer.
    pub fn close(&mut self) {
        self.state = State::Closed;
        self.parser.finish();
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

    /// The page was hidden or shown. With `pause_when_hidden`, hiding drops the connection and
    /// showing makes one (never a second one).
    pub fn set_hidden(&mut self, hidden: bool) -> Action {
        self.hidden = hidden;
        if !self.options.pause_when_hidden {
            return Action::None;
        }
        match (hidden, self.state) {
            (true, State::Connecting | State::Open | State::Waiting) => self.pause(),
            (false, State::Paused) if !self.offline => self.connect(),
            _ => Action::None,
        }
    }

    /// The platform went offline or online. Offline, a pending wait pauses (no attempt is burnt);
    /// online, a wait or pause ends at once (with `reconnect_on_online`).
    pub fn set_online(&mut self, online: bool) -> Action {
        self.offline = !online;
        let paused_by_hidden = self.hidden && self.options.pause_when_hidden;
        match (online, self.state) {
            (false, State::Waiting) => self.pause(),
            (true, State::Paused) if !paused_by_hidden => self.connect(),
            (true, State::Waiting) if self.options.reconnect_on_online => self.connect(),
            _ => Action::None,
        }
    }

    fn is_current(&self, conn: Conn, state: State) -> bool {
        conn.0 == self.conn && self.state == state
    }

    fn connect(&mut self) -> Action {
        self.conn += 1;
        self.state = State::Connecting;
        Action::Connect(Conn(self.conn))
    }

    fn pause(&mut self) -> Action {
        self.parser.finish();
        self.opened_at_ms = None;
        self.state = State::Paused;
        Action::Pause
    }

    fn fail(&mut self, error: Error) -> Action {
        self.state = State::Closed;
        self.parser.finish();
        Action::Fail(error)
    }

    /// The next wait: the reconnection time, grown and jittered by the backoff, never below the
    /// floor.
    fn delay_ms(&mut self) -> u64 {
        let base = self.reconnection_time_ms;
        let delay = match self.options.retry.backoff {
            None => base,
            Some(b) => {
                let mut cap = base.min(b.max_delay_ms) as f64;
                for _ in 1..self.attempts {
                    cap *= b.factor;
                    if cap >= b.max_delay_ms as f64 {
                        break;
                    }
                }
                let cap = (cap as u64).min(b.max_delay_ms);
                if b.jitter {
                    self.next_random() % (cap + 1)
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

/// The spec's check of a response head: 200 with the media type `text/event-stream`.
fn check_response(r: &Response<'_>) -> Result<(), Failure> {
    if r.status != 200 {
        return Err(Failure {
            kind: ErrorKind::Http,
            status: Some(r.status),
            retry_after_ms: r.retry_after_ms,
        });
    }
    if !r.content_type.is_some_and(is_event_stream) {
        return Err(Failure {
            kind: ErrorKind::ContentType,
            status: Some(200),
            retry_after_ms: None,
        });
    }
    Ok(())
}

/// Whether a `Content-Type` value's essence is `text/event-stream` (case-insensitive,
/// parameters ignored).
pub fn is_event_stream(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default();
    essence
        .trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
        .eq_ignore_ascii_case("text/event-stream")
}

/// The decision of a built-in classification.
pub fn classify(classify: Classify, failure: &Failure) -> Decision {
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
        ErrorKind::ContentType | ErrorKind::TooLarge | ErrorKind::Aborted => Decision::Fatal,
    }
}

/// Parses a `Retry-After` value (delta-seconds, or an HTTP date given the current Unix time in
/// milliseconds) into a wait in milliseconds. `None` when it is neither.
pub fn parse_retry_after(value: &str, now_unix_ms: u64) -> Option<u64> {
    let v = value.trim();
    if let Some(secs) = crate::parser::parse_digits(v) {
        return Some(secs.saturating_mul(1000));
    }
    let at = parse_http_date(v)?;
    Some(at.saturating_mul(1000).saturating_sub(now_unix_ms))
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form servers must send, in Unix seconds.
fn parse_http_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 29 || &b[3..5] != b", " || &b[25..] != b" GMT" {
        return None;
    }
    let num = |r: core::ops::Range<usize>| -> Option<u64> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let day = num(5..7)?;
    let month = MONTHS.iter().position(|m| s.get(8..11) == Some(*m))? as u64 + 1;
    let year = num(12..16)?;
    let (h, m, sec) = (num(17..19)?, num(20..22)?, num(23..25)?);
    if year < 1970 || day == 0 || day > 31 || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), for years from 1970.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + m * 60 + sec)
}

fn percent_encode(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}
