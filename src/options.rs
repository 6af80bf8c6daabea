//! The JS `init` into [`sse_web_core::options::Options`]: `js/io.js` (`readOptions`) converts it into
//! a flat array of plain values at construction, taken here by the positions its
//! `OPTION_FIELDS` names (tests/node/codes.test.mjs checks that the two lists agree).

use js_sys::Array;
use sse_web_core::options::{Backoff, Classify, InvalidOption, Options, RetryPolicy};

const METHOD: u32 = 0;
const WITH_CREDENTIALS: u32 = 1;
const INACTIVITY_TIMEOUT: u32 = 2;
const MAX_EVENT_SIZE: u32 = 3;
const LAST_EVENT_ID: u32 = 4;
const LAST_EVENT_ID_QUERY: u32 = 5;
const PAUSE_WHEN_HIDDEN: u32 = 6;
const RECONNECT_ON_ONLINE: u32 = 7;
const PRESET: u32 = 8;
const RECONNECTION_TIME: u32 = 9;
const MIN_DELAY: u32 = 10;
const MAX_ATTEMPTS: u32 = 11;
const BACKOFF: u32 = 12;
const FACTOR: u32 = 13;
const MAX_DELAY: u32 = 14;
const JITTER: u32 = 15;
const RESET_AFTER: u32 = 16;
const CLASSIFY: u32 = 17;
const HEADERS: u32 = 18;
const ON_COMMENT: u32 = 19;
const CLOSE_ON_END: u32 = 20;

/// What [`read`] makes of readOptions' array.
pub(crate) struct Read {
    /// The options, checked by [`Options::validate`].
    pub options: Options,
    /// `retry.classify` is the user's function.
    pub user_classify: bool,
    /// `onComment` is given: comments cross to JS (else they are dropped in Rust, at no cost).
    pub comments: bool,
}

/// The options `a` (readOptions' array) gives for `url`.
pub(crate) fn read(url: &str, a: &Array) -> Result<Read, InvalidOption> {
    let num = |i| a.get(i).as_f64();
    let ms = |i| num(i).map(|n| n as u64);
    let flag = |i| a.get(i).as_bool();
    let text = |i| a.get(i).as_string();
    let mut o = Options::new(url);
    if let Some(m) = text(METHOD) {
        o.method = m;
    }
    o.with_credentials = flag(WITH_CREDENTIALS).unwrap_or(false);
    o.inactivity_timeout_ms = ms(INACTIVITY_TIMEOUT);
    if let Some(n) = num(MAX_EVENT_SIZE) {
        o.max_event_size = n as usize;
    }
    if let Some(id) = text(LAST_EVENT_ID) {
        o.last_event_id = id;
    }
    o.last_event_id_query = text(LAST_EVENT_ID_QUERY);
    o.pause_when_hidden = flag(PAUSE_WHEN_HIDDEN).unwrap_or(false);
    o.reconnect_on_online = flag(RECONNECT_ON_ONLINE).unwrap_or(true);
    o.headers = crate::engine::header_pairs(&a.get(HEADERS)).ok_or(InvalidOption {
        name: "headers",
        reason: "must be a record, a Headers or [name, value] pairs of strings",
    })?;
    let p = &mut o.retry;
    if text(PRESET).is_some() {
        *p = RetryPolicy::resilient();
    }
    if let Some(t) = ms(RECONNECTION_TIME) {
        p.reconnection_time_ms = t;
    }
    if let Some(t) = ms(MIN_DELAY) {
        p.min_delay_ms = t;
    }
    if let Some(n) = num(MAX_ATTEMPTS) {
        p.max_attempts = Some(n as u32);
    }
    match flag(BACKOFF) {
        Some(false) => p.backoff = None,
        Some(true) => {
            let d = p.backoff.unwrap_or_default();
            p.backoff = Some(Backoff {
                factor: num(FACTOR).unwrap_or(d.factor),
                max_delay_ms: ms(MAX_DELAY).unwrap_or(d.max_delay_ms),
                jitter: flag(JITTER).unwrap_or(d.jitter),
                reset_after_ms: ms(RESET_AFTER).unwrap_or(d.reset_after_ms),
            });
        }
        None => {}
    }
    p.close_on_end = flag(CLOSE_ON_END).unwrap_or(false);
    let classify = text(CLASSIFY);
    match classify.as_deref() {
        Some("transient") => p.classify = Classify::Transient,
        Some("spec") => p.classify = Classify::Spec,
        _ => {}
    }
    o.validate()?;
    Ok(Read {
        options: o,
        user_classify: classify.as_deref() == Some("function"),
        comments: flag(ON_COMMENT).unwrap_or(false),
    })
}
