//! The shared suite in Node, against sse-testserver.

#![cfg(target_arch = "wasm32")]

#[macro_use]
mod common;

// No configure: wasm-bindgen-test runs this file in Node.

all_tests!("node");
