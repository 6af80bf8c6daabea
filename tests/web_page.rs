//! The shared suite in a browser page, against sse-testserver.

#![cfg(target_arch = "wasm32")]

#[macro_use]
mod common;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

all_tests!("page");

// The document's visibility and the window's online state exist only here.
suite!(
    pause_when_hidden,
    online_reconnects_at_once,
    back_forward_cache_lets_go_and_resumes
);
