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

pub mod fetch;
mod options;
pub mod reconnect;

pub use sse_core;
