//! `sse-web`: a better `EventSource` for the browser (page, Worker) and Node, over `fetch`
//! streams, driven by [`sse_core`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), wasm_bindgen::JsValue> {
//! use sse_core::parser::{Frame, Parser};
//! use sse_web::fetch::{fetch, Init};
//!
//! let mut init = Init::new("GET");
//! init.header("Accept", "text/event-stream");
//! let response = fetch("https://example.com/events", &init).await?;
//! let mut body = response.body()?;
//! let mut parser = Parser::new();
//! while let Some(chunk) = body.chunk().await? {
//!     parser.feed(&chunk, |frame| {
//!         if let Frame::Event(e) = frame {
//!             // e.event_type, e.data, e.last_event_id
//!         }
//!     }).ok();
//! }
//! # Ok(()) }
//! ```
//!
//! The transport ([`fetch`]) uses the global `fetch` of whatever realm it runs in (Window,
//! Worker, Node), never `window`.

#![warn(missing_docs)]
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "std")]
pub mod fetch;
mod options;
pub mod reconnect;

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

pub use sse_core;
