//! The JS `init` into [`sse_core::options::Options`]: `js/io.js` reads it (the same words as the
//! Rust API, in camelCase) into a flat array of plain values, taken here by position.

use js_sys::Array;
use sse_core::options::{Backoff, Classify, Options, RetryPolicy};
use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(module = "/src/js/io.js")]
extern "C" {
    #[wasm_bindgen(js_name = readOptions)]
    fn read_options(init: &wasm_bindgen::JsValue) -> Array;
}

/// Reads `init` (or nothing) into the options for `url`.
pub(crate) fn read(url: &str, init: &wasm_bindgen::JsValue) -> Options {
    let a = read_options(init);
    let num = |i| a.get(i).as_f64();
    let ms = |i| num(i).map(|n| n as u64);
    let flag = |i| a.get(i).as_bool();
    let text = |i| a.get(i).as_string();
    let mut o = Options::new(url);
    if let Some(m) = text(0) {
        o.method = m.to_ascii_uppercase();
    }
    o.with_credentials = flag(1).unwrap_or(false);
    o.inactivity_timeout_ms = ms(2);
    if let Some(n) = num(3) {
        o.max_event_size = n as usize;
    }
    if let Some(id) = text(4) {
        o.last_event_id = id;
    }
    o.last_event_id_query = text(5);
    o.pause_when_hidden = flag(6).unwrap_or(false);
    o.reconnect_on_online = flag(7).unwrap_or(true);
    let p = &mut o.retry;
    if text(8).as_deref() == Some("resilient") {
        *p = RetryPolicy::resilient();
    }
    if let Some(t) = ms(9) {
        p.reconnection_time_ms = t;
    }
    if let Some(t) = ms(10) {
        p.min_delay_ms = t;
    }
    if let Some(n) = num(11) {
        p.max_attempts = Some(n as u32);
    }
    match flag(12) {
        Some(false) => p.backoff = None,
        Some(true) => {
            let d = p.backoff.unwrap_or_default();
            p.backoff = Some(Backoff {
                factor: num(13).unwrap_or(d.factor),
                max_delay_ms: ms(14).unwrap_or(d.max_delay_ms),
                jitter: flag(15).unwrap_or(d.jitter),
                reset_after_ms: ms(16).unwrap_or(d.reset_after_ms),
            });
        }
        None => {}
    }
    match text(17).as_deref() {
        Some("transient") => p.classify = Classify::Transient,
        Some("spec") => p.classify = Classify::Spec,
        _ => {}
    }
    o
}
