//! The event encoder, for servers: writes what [`crate::parser::Parser`] reads back.
//!
//! ```
//! use sse_web_core::encoder::{write_event, write_retry};
//! let mut out = Vec::new();
//! write_retry(&mut out, 1000);
//! write_event(&mut out, Some("update"), Some("7"), "line 1\nline 2").unwrap();
//! assert_eq!(out, b"retry: 1000\nevent: update\nid: 7\ndata: line 1\ndata: line 2\n\n");
//! ```
//!
//! Data is split into `data:` lines at LF, CRLF and CR (the parser's line ends), so data whose
//! line ends are LF comes back exactly; a CR or CRLF in data comes back as LF. Event types and ids
//! cannot carry line ends (nor an id U+0000): the wire has no escape for them, so they are refused.

use alloc::vec::Vec;
use core::fmt;

/// A field the wire format cannot carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// The event type contains CR, LF or U+0000.
    InvalidEventType,
    /// The id contains CR, LF or U+0000.
    InvalidId,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncodeError::InvalidEventType => "event type contains CR, LF or NUL",
            EncodeError::InvalidId => "event id contains CR, LF or NUL",
        })
    }
}

impl core::error::Error for EncodeError {}

fn forbidden(s: &str) -> bool {
    s.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// Writes one event: `event:` (when `event_type` is given and not `"message"`), `id:` (when
/// given; an empty id resets the client's last event ID), the data lines, and the blank line that
/// dispatches it. Nothing is written on error.
pub fn write_event(
    out: &mut Vec<u8>,
    event_type: Option<&str>,
    id: Option<&str>,
    data: &str,
) -> Result<(), EncodeError> {
    if event_type.is_some_and(forbidden) {
        return Err(EncodeError::InvalidEventType);
    }
    if id.is_some_and(forbidden) {
        return Err(EncodeError::InvalidId);
    }
    if let Some(t) = event_type.filter(|t| !t.is_empty() && *t != "message") {
        field(out, b"event", t);
    }
    if let Some(id) = id {
        field(out, b"id", id);
    }
    lines(out, b"data", data);
    out.push(b'\n');
    Ok(())
}

/// Writes an `id:` field and dispatches it without data: the client's last event ID changes, and
/// no event fires.
pub fn write_id(out: &mut Vec<u8>, id: &str) -> Result<(), EncodeError> {
    if forbidden(id) {
        return Err(EncodeError::InvalidId);
    }
    field(out, b"id", id);
    out.push(b'\n');
    Ok(())
}

/// Writes a `retry:` field: the client's reconnection time, in milliseconds.
pub fn write_retry(out: &mut Vec<u8>, ms: u64) {
    out.extend_from_slice(b"retry: ");
    out.extend_from_slice(crate::http::decimal(ms, &mut [0; 20]));
    out.push(b'\n');
}

/// Writes a comment (one `:` line per line of `text`): a heartbeat that keeps idle connections
/// and inactivity timeouts alive.
pub fn write_comment(out: &mut Vec<u8>, text: &str) {
    lines(out, b"", text);
}

fn field(out: &mut Vec<u8>, name: &[u8], value: &str) {
    out.extend_from_slice(name);
    // Always a space: a value that starts with one keeps it (the parser strips exactly one).
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

fn lines(out: &mut Vec<u8>, name: &[u8], text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    loop {
        match memchr::memchr2(b'\n', b'\r', &bytes[start..]) {
            Some(i) => {
                let end = start + i;
                field(out, name, &text[start..end]);
                start = end + 1;
                if bytes[end] == b'\r' && bytes.get(start) == Some(&b'\n') {
                    start += 1;
                }
            }
            None => {
                field(out, name, &text[start..]);
                return;
            }
        }
    }
}
