#![doc = include_str!("../README.md")]
//!
//! ## Modules
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
