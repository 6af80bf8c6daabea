//! The one options type both clients take: the request, the retry policy, timeouts and limits.
//!
//! The defaults are the WHATWG `EventSource`: GET, no retry on any HTTP error, a fixed
//! reconnection time after a network error or the end of the stream. Every extension is opt-in.
//!
//! ```
//! use sse_web_core::options::{Backoff, Classify, Options};
//! let mut options = Options::new("https://example.com/events");
//! options.method = "POST".into();
//! options.headers.push(("Authorization".into(), "Bearer t".into()));
//! options.body = Some(b"{\"q\":1}".to_vec());
//! options.retry.backoff = Some(Backoff::default());
//! options.retry.classify = Classify::Transient;
//! options.retry.max_attempts = Some(10);
//! ```

use alloc::string::String;
use alloc::vec::Vec;

use crate::http;
use crate::parser::DEFAULT_MAX_EVENT_SIZE;

/// The request to make and how to keep it going.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The stream's URL (the last event ID query parameter is added to it on every attempt).
    pub url: String,
    /// The HTTP method. Default `GET`.
    pub method: String,
    /// Request headers, sent on every attempt after `Accept: text/event-stream` (a user
    /// `Accept` replaces ours) and before `Last-Event-ID`.
    pub headers: Vec<(String, String)>,
    /// A request body, sent again on every attempt.
    pub body: Option<Vec<u8>>,
    /// Send cookies and credentials cross-origin (the `withCredentials` of `EventSource`).
    pub with_credentials: bool,
    /// When and how to reconnect.
    pub retry: RetryPolicy,
    /// Reconnect when no byte (comments included) arrives for this many milliseconds. Default
    /// none, as in the spec.
    pub inactivity_timeout_ms: Option<u64>,
    /// The bound on one event, in bytes, counted as [`crate::parser::Parser::with_max_event_size`]
    /// says (the data as dispatched, whatever the chunking). Default [`DEFAULT_MAX_EVENT_SIZE`].
    pub max_event_size: usize,
    /// The last event ID to start from (sent on the first request when not empty).
    pub last_event_id: String,
    /// Also send the last event ID as this query parameter, for servers and proxies that drop
    /// the header. Default none.
    pub last_event_id_query: Option<String>,
    /// Pause while the page is hidden and resume when it is shown (browser only). Default off.
    pub pause_when_hidden: bool,
    /// Reconnect at once when the platform reports it is back online. Default on (a wait that
    /// would fail anyway is skipped; the spec leaves the delay to the user agent).
    pub reconnect_on_online: bool,
}

impl Options {
    /// The spec defaults for `url`.
    pub fn new(url: impl Into<String>) -> Options {
        Options {
            url: url.into(),
            method: String::from("GET"),
            headers: Vec::new(),
            body: None,
            with_credentials: false,
            retry: RetryPolicy::default(),
            inactivity_timeout_ms: None,
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            last_event_id: String::new(),
            last_event_id_query: None,
            pause_when_hidden: false,
            reconnect_on_online: true,
        }
    }

    /// Checks every option and normalises what Fetch normalises (the method's case, header
    /// values' surrounding whitespace), so that both clients put the same request on the wire
    /// and a bad option is an error when the source is built, never a retried network error.
    /// The URL is the driver's to parse (the platform's URL parser decides what it accepts).
    pub fn validate(&mut self) -> Result<(), InvalidOption> {
        const AT_LEAST_1: &str = "must be at least 1";
        let bad = |name, reason| Err(InvalidOption { name, reason });
        if !http::normalize_method(&mut self.method) {
            return bad(
                "method",
                "must be an HTTP token, not CONNECT, TRACE or TRACK",
            );
        }
        for (name, value) in &mut self.headers {
            match check_header(name, value) {
                Ok(v) if v.len() != value.len() => *value = String::from(v),
                Ok(_) => {}
                Err(reason) => return bad("headers", reason),
            }
        }
        if !is_event_id(&self.last_event_id) {
            return bad("last_event_id", NO_CR_LF_NUL);
        }
        if self.last_event_id.len() > MAX_LAST_EVENT_ID {
            return bad("last_event_id", "must be at most 4096 bytes");
        }
        if self.last_event_id_query.as_deref() == Some("") {
            return bad("last_event_id_query", "must not be empty");
        }
        if self.max_event_size == 0 {
            return bad("max_event_size", AT_LEAST_1);
        }
        if self.inactivity_timeout_ms == Some(0) {
            return bad("inactivity_timeout", AT_LEAST_1);
        }
        if self.retry.max_attempts == Some(0) {
            return bad("retry.max_attempts", AT_LEAST_1);
        }
        if let Some(b) = &self.retry.backoff {
            if !(b.factor.is_finite() && b.factor >= 1.0) {
                return bad("retry.backoff.factor", "must be finite and at least 1");
            }
        }
        Ok(())
    }
}

const NO_CR_LF_NUL: &str = "must not contain CR, LF or NUL";

/// The longest last event ID sent back (as `Last-Event-ID` or in the query), in bytes. The spec
/// has no limit, but servers do (8 KiB a header line is common, 16 KiB for all): a longer ID
/// would be answered 431 on every reconnect, so the source fails with kind `too-large` instead
/// of sending it.
pub const MAX_LAST_EVENT_ID: usize = 4096;

/// Checks a request header given by the user (static or computed per attempt): its name is a
/// token other than `Last-Event-ID` (the source's own: the `last_event_id` option sets where it
/// starts), and its value, normalised as Fetch does, holds no CR, LF or NUL. Returns the
/// normalised value, or what is wrong.
pub fn check_header<'a>(name: &str, value: &'a str) -> Result<&'a str, &'static str> {
    if !http::is_token(name) {
        return Err("must have names that are HTTP tokens");
    }
    if name.eq_ignore_ascii_case("last-event-id") {
        return Err("must not set Last-Event-ID: the lastEventId option does");
    }
    http::normalize_header_value(value).ok_or(NO_CR_LF_NUL)
}

/// Whether `id` can be a last event ID: what the parser can produce (no CR, LF or NUL).
fn is_event_id(id: &str) -> bool {
    !id.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// An option that [`Options::validate`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidOption {
    /// The option's path in Rust (`max_event_size`, `retry.max_attempts`).
    pub name: &'static str,
    /// What is wrong with it ("must be at least 1").
    pub reason: &'static str,
}

impl InvalidOption {
    /// The option's path in the JS API: the same words in camelCase (`retry.maxAttempts`).
    pub fn js_name(&self) -> String {
        let mut out = String::with_capacity(self.name.len());
        let mut upper = false;
        // The names are ASCII.
        for &b in self.name.as_bytes() {
            if b == b'_' {
                upper = true;
            } else {
                out.push(char::from(if upper { b.to_ascii_uppercase() } else { b }));
                upper = false;
            }
        }
        out
    }
}

impl core::fmt::Display for InvalidOption {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("invalid option ")?;
        f.write_str(self.name)?;
        f.write_str(": ")?;
        f.write_str(self.reason)
    }
}

impl core::error::Error for InvalidOption {}

/// What a redirect does: Fetch's `redirect` mode (the JS option passes fetch's own words).
/// Both follow at most [`MAX_REDIRECTS`]. On a change of origin `Authorization` is dropped and
/// every other header follows, as fetch does: `Error` is the way to keep a key in a custom
/// header from reaching another origin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Redirect {
    /// Follow redirects (the default).
    #[default]
    Follow,
    /// A redirect is a network error (kind `network`, retried as one).
    Error,
}

impl Redirect {
    /// Fetch's word for it (`redirect: "error"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Redirect::Follow => "follow",
            Redirect::Error => "error",
        }
    }
}

/// Redirects followed before the attempt is a network error: Fetch's limit.
pub const MAX_REDIRECTS: usize = 20;

/// When to reconnect, and after how long.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// The reconnection time before the server sets one with `retry:`, in milliseconds; also
    /// the initial delay of the backoff. Default 3000, as browsers.
    pub reconnection_time_ms: u64,
    /// Exponential backoff with full jitter over the reconnection time. Default none: every
    /// wait is the reconnection time, as in the spec.
    pub backoff: Option<Backoff>,
    /// No wait is shorter than this, whatever the server's `retry:` says. Default 0 (the spec).
    pub min_delay_ms: u64,
    /// Give up after this many attempts in a row that failed or ended. Default none (forever).
    pub max_attempts: Option<u32>,
    /// Which failures are retried.
    pub classify: Classify,
    /// A clean end of the response closes for good (kind `ended`, `willRetry` false), while a
    /// connection that breaks (or a response that ends inside an event) still resumes with
    /// `Last-Event-ID`: for a stream that is one answer,
    /// such as an LLM's over POST, which would otherwise be asked again. Default false (the spec
    /// reconnects).
    pub close_on_end: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            reconnection_time_ms: 3000,
            backoff: None,
            min_delay_ms: 0,
            max_attempts: None,
            classify: Classify::Spec,
            close_on_end: false,
        }
    }
}

impl RetryPolicy {
    /// What most services want: backoff with jitter (1 s doubling to 30 s), a 100 ms floor,
    /// and 5xx/429/408 retried as [`Classify::Transient`].
    pub fn resilient() -> RetryPolicy {
        RetryPolicy {
            reconnection_time_ms: 1000,
            backoff: Some(Backoff::default()),
            min_delay_ms: 100,
            max_attempts: None,
            classify: Classify::Transient,
            close_on_end: false,
        }
    }
}

/// Exponential backoff with full jitter: attempt `n` waits a random time in
/// `[min_delay, min(max, initial * factor^(n-1))]`, the initial being the reconnection time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// Growth per failed attempt. Default 2.
    pub factor: f64,
    /// The largest wait, in milliseconds. Default 30 000.
    pub max_delay_ms: u64,
    /// Draw each wait at random below the cap (full jitter), so that many clients cut off
    /// together do not come back together. Default on.
    pub jitter: bool,
    /// An attempt that stayed open this long counts as healthy: the backoff starts over.
    /// Default 5000 ms.
    pub reset_after_ms: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            factor: 2.0,
            max_delay_ms: 30_000,
            jitter: true,
            reset_after_ms: 5000,
        }
    }
}

/// Which failures are retried by the policy (the user's own classifier, given to
/// [`crate::reconnect::Machine::with_classifier`], starts from its decision).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Classify {
    /// As the spec: network errors, timeouts and the end of the stream reconnect; any HTTP status
    /// but 200, and any other content type, fail for good.
    #[default]
    Spec,
    /// As the spec, and also retry 5xx, 429 and 408, waiting at least their `Retry-After`.
    Transient,
}
