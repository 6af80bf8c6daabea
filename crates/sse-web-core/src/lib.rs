//! Server-Sent Events without IO: the WHATWG event-stream parser, an encoder for servers, and the
//! reconnect machine that every client (browser or native) drives.
//!
//! ```
//! use sse_web_core::parser::{Frame, Parser};
//!
//! let mut parser = Parser::new();
//! let mut events = Vec::new();
//! // Any chunking: here a CRLF and a multi-byte code point are split across chunks.
//! for chunk in [&b"id: 1\r"[..], b"\ndata: caf\xC3", b"\xA9\n\n"] {
//!     parser
//!         .feed(chunk, |frame| {
//!             if let Frame::Event(e) = frame {
//!                 events.push(e.to_owned());
//!             }
//!         })
//!         .unwrap();
//! }
//! assert_eq!(events[0].data, "café");
//! assert_eq!(events[0].event_type, "message");
//! assert_eq!(events[0].last_event_id, "1");
//! ```
//!
//! - [`parser`]: bytes in, [`parser::Frame`]s out, in any chunking, bounded memory, linear time.
//! - [`encoder`]: events to bytes that the parser reads back.
//! - [`reconnect`]: the state machine of one `EventSource`: requests to make, when to open,
//!   dispatch, wait or fail.
//! - [`options`]: the one options type both clients take, and its validation.
//! - [`http`]: the HTTP and Fetch rules both clients apply (tokens, header values, methods,
//!   `Retry-After`).
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod encoder;
pub mod http;
pub mod options;
pub mod parser;
pub mod reconnect;
