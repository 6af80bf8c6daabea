//! `sse-web`: a better `EventSource` for the browser (page, Worker) and Node, over `fetch`
//! streams, driven by [`sse_web_core`]. From JS it is the npm package `sse-web`; from Rust it is
//! [`EventSource`], a [`futures_core::Stream`] with the builder words of `sse-web-native`. A
//! page's whole program (`examples/stream.rs`):
//!
//! ```no_run
#![doc = include_str!("../examples/stream.rs")]
//! ```
//!
//! The defaults are the WHATWG `EventSource`'s; every extension is an option. Dropping the
//! stream (or [`EventSource::close`]) aborts the fetch and every timer. With the `yew` or `leptos`
//! feature, `yew::use_event_source` and `leptos::use_event_source` wrap it for components;
//! [`gloo`] has `gloo-net`'s `EventSource` API over it (`subscribe(type)`).
//!
//! The transport is the global `fetch` of whatever realm it runs in (Window, Worker, Node),
//! never `window`.
//!
//! Inside: `engine` drives [`sse_web_core::reconnect::Machine`] over `js/io.js` (fetch, reads, one
//! timer); `js_bridge` is the wasm export the JS `EventSource` class drives; `event_source` is
//! the Rust API over the same engine.

#![warn(missing_docs)]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod engine;
#[cfg(feature = "std")]
mod event_source;
mod js_bridge;
mod options;

/// A header value as fetch takes it, a byte string: its UTF-8 bytes one per code unit, so a
/// non-ASCII value (a `Last-Event-ID`, say) goes out as UTF-8 instead of making fetch throw.
pub(crate) fn byte_string(value: &str) -> alloc::string::String {
    value.bytes().map(char::from).collect()
}

/// The npm build has no std: a panic (a bug; nothing from the network or the user panics) traps
/// without formatting a message, and a small allocator does (the engine reuses its buffers, so
/// it allocates per connection, not per event).
#[cfg(all(feature = "npm", not(feature = "std"), target_arch = "wasm32"))]
mod npm {
    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        core::arch::wasm32::unreachable()
    }

    #[global_allocator]
    static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
        // SAFETY: wasm32-unknown-unknown without atomics runs one thread.
        unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
}

#[cfg(feature = "std")]
pub use event_source::{BuildError, Builder, Error, EventSource, HookError};
#[cfg(feature = "std")]
pub mod gloo;
#[cfg(feature = "leptos")]
pub mod leptos;
#[cfg(feature = "yew")]
pub mod yew;
pub use js_bridge::Source;
pub use sse_web_core;
pub use sse_web_core::options::{Backoff, Classify, Options, Redirect, RetryPolicy};
pub use sse_web_core::parser::Event;
pub use sse_web_core::reconnect::{Decision, ErrorKind, Failure, ReadyState};
