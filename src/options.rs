//! The JS `init` object read into [`sse_core::options::Options`]: the same words as the Rust API,
//! in camelCase. What only JS can express (header and body functions, `fetch` init fields, a
//! `fetch` override, a classification function) stays in [`JsOptions`].

use alloc::string::String;
use js_sys::{Function, Object, Reflect};
use sse_core::options::{Backoff, Classify, Options, RetryPolicy};
use wasm_bindgen::{JsCast, JsValue};

/// Reads a property; `undefined` and `null` read as absent.
pub(crate) fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    if !obj.is_object() {
        return None;
    }
    Reflect::get(obj, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn number(obj: &JsValue, key: &str) -> Option<f64> {
    get(obj, key)
        .and_then(|v| v.as_f64())
        .filter(|n| n.is_finite() && *n >= 0.0)
}

fn ms(obj: &JsValue, key: &str) -> Option<u64> {
    number(obj, key).map(|n| n as u64)
}

fn flag(obj: &JsValue, key: &str) -> Option<bool> {
    get(obj, key).and_then(|v| v.as_bool())
}

fn text(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).and_then(|v| v.as_string())
}

/// What only the JS side can hold.
pub(crate) struct JsOptions {
    /// Extra `fetch` init fields passed through (`mode`, `cache`, `referrer`, ...).
    pub(crate) fetch_init: Object,
    /// A `fetch` to use instead of the global one.
    pub(crate) fetch: Option<Function>,
    /// `retry.classify` when it is a function.
    pub(crate) classify: Option<Function>,
}

/// Reads `init` (or nothing) into the core options and the JS-only ones.
pub(crate) fn read(url: &str, init: &JsValue) -> (Options, JsOptions) {
    let mut o = Options::new(url);
    if let Some(m) = text(init, "method") {
        o.method = m.to_ascii_uppercase();
    }
    o.with_credentials = flag(init, "withCredentials").unwrap_or(false);
    o.inactivity_timeout_ms = ms(init, "inactivityTimeout");
    if let Some(n) = number(init, "maxEventSize") {
        o.max_event_size = n as usize;
    }
    if let Some(id) = text(init, "lastEventId") {
        o.last_event_id = id;
    }
    o.last_event_id_query = match get(init, "lastEventIdQuery") {
        Some(v) if v.as_bool() == Some(true) => Some("lastEventId".into()),
        Some(v) => v.as_string(),
        None => None,
    };
    o.pause_when_hidden = flag(init, "pauseWhenHidden").unwrap_or(false);
    o.reconnect_on_online = flag(init, "reconnectOnOnline").unwrap_or(true);
    let mut classify = None;
    if let Some(r) = get(init, "retry") {
        o.retry = retry_policy(&r);
        classify = get(&r, "classify").and_then(|c| c.dyn_into::<Function>().ok());
    }
    let fetch_init = Object::new();
    for key in [
        "mode",
        "cache",
        "credentials",
        "referrer",
        "referrerPolicy",
        "integrity",
        "keepalive",
        "priority",
        "redirect",
    ] {
        if let Some(v) = get(init, key) {
            let _ = Reflect::set(&fetch_init, &JsValue::from_str(key), &v);
        }
    }
    let fetch = get(init, "fetch").and_then(|f| f.dyn_into::<Function>().ok());
    (
        o,
        JsOptions {
            fetch_init,
            fetch,
            classify,
        },
    )
}

fn retry_policy(r: &JsValue) -> RetryPolicy {
    let mut p = if text(r, "preset").as_deref() == Some("resilient") {
        RetryPolicy::resilient()
    } else {
        RetryPolicy::default()
    };
    if let Some(t) = ms(r, "reconnectionTime") {
        p.reconnection_time_ms = t;
    }
    if let Some(t) = ms(r, "minDelay") {
        p.min_delay_ms = t;
    }
    if let Some(n) = number(r, "maxAttempts") {
        p.max_attempts = Some(n as u32);
    }
    match get(r, "backoff") {
        Some(b) if b.as_bool() == Some(false) => p.backoff = None,
        Some(b) => {
            let d = p.backoff.unwrap_or_default();
            p.backoff = Some(Backoff {
                factor: number(&b, "factor").unwrap_or(d.factor),
                max_delay_ms: ms(&b, "maxDelay").unwrap_or(d.max_delay_ms),
                jitter: flag(&b, "jitter").unwrap_or(d.jitter),
                reset_after_ms: ms(&b, "resetAfter").unwrap_or(d.reset_after_ms),
            });
        }
        None => {}
    }
    match text(r, "classify").as_deref() {
        Some("transient") => p.classify = Classify::Transient,
        Some("spec") => p.classify = Classify::Spec,
        _ => {}
    }
    p
}
