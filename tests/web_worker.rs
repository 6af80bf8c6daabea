//! The shared suite in a dedicated Worker, against sse-testserver.

#![cfg(target_arch = "wasm32")]

#[macro_use]
mod common;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

all_tests!("worker");
