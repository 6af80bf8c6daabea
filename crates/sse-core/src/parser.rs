//! The incremental event-stream parser of WHATWG HTML §9.2.5–9.2.6.
//!
//! Bytes go in, in any chunking; [`Frame`]s come out through a callback, borrowing from the chunk
//! wherever the event lies inside it (the fast path), or as owned [`Event`]s from
//! [`Parser::events`].
//!
//! Why it is shaped this way:
//! - Line ends (CR, LF) are ASCII and never part of a UTF-8 sequence, so decoding each complete
//!   line on its own equals decoding the stream: a code point split across chunks waits in the
//!   line buffer with the rest of its line, and invalid bytes become U+FFFD exactly as the
//!   WHATWG decoder would (maximal subparts).
//! - Each input byte is scanned once (memchr for CR/LF), and a line split across chunks is only
//!   appended to, so time is linear for every chunking.
//! - Memory is bounded by [`Parser::with_max_event_size`]: the carried line plus the data buffer.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Default bound on one event (its pending line plus its data), in bytes: 16 MiB.
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

/// An event, borrowed from the parser or the chunk it came in (the zero-copy fast path).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EventRef<'a> {
    /// The event type: the `event:` field, or `"message"` when none or empty.
    pub event_type: &'a str,
    /// The `data:` lines joined with LF.
    pub data: &'a str,
    /// The last event ID after this event (it persists across events, as in `MessageEvent`).
    pub last_event_id: &'a str,
}

impl EventRef<'_> {
    /// Copies the event out of the parser.
    pub fn to_owned(&self) -> Event {
        Event {
            event_type: self.event_type.to_string(),
            data: self.data.to_string(),
            last_event_id: self.last_event_id.to_string(),
        }
    }
}

impl fmt::Debug for EventRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("event_type", &self.event_type)
            .field("data", &self.data)
            .field("last_event_id", &self.last_event_id)
            .finish()
    }
}

/// An owned event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Event {
    /// The event type: the `event:` field, or `"message"` when none or empty.
    pub event_type: String,
    /// The `data:` lines joined with LF.
    pub data: String,
    /// The last event ID after this event.
    pub last_event_id: String,
}

impl Event {
    /// Borrows the event.
    pub fn as_ref(&self) -> EventRef<'_> {
        EventRef {
            event_type: &self.event_type,
            data: &self.data,
            last_event_id: &self.last_event_id,
        }
    }
}

/// What the parser reports, in stream order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// An event to dispatch.
    Event(EventRef<'a>),
    /// A valid `retry:` field: the new reconnection time in milliseconds (saturating).
    Retry(u64),
    /// A block without data changed the last event ID (the new value, maybe empty).
    Id(&'a str),
    /// A comment line (`:` and the text after it, one leading space stripped): heartbeats.
    Comment(&'a str),
}

/// A stream the parser refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// One event (its pending line plus its data) grew past the limit, in bytes.
    EventTooLarge {
        /// The limit in force.
        limit: usize,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::EventTooLarge { limit } => {
                write!(f, "event larger than the limit of {limit} bytes")
            }
        }
    }
}

impl core::error::Error for ParseError {}

/// Where the pending data buffer lives during one `feed` call.
#[derive(Clone, Copy)]
enum Data {
    /// No `data` field yet: nothing to dispatch.
    None,
    /// One data line, still a slice of the current chunk (`start..end`).
    Chunk(usize, usize),
    /// In `Parser::data`.
    Owned,
}

/// The incremental parser. One per [`crate::reconnect::Machine`] or connection; it keeps the
/// last event ID across streams, as an `EventSource` does.
#[derive(Clone, Debug)]
pub struct Parser {
    /// The unfinished line carried from earlier chunks.
    line: Vec<u8>,
    /// The data buffer without its final LF (valid when `has_data`).
    data: String,
    has_data: bool,
    event_type: String,
    /// The last event ID buffer: set by `id:`, committed at dispatch.
    id_buffer: String,
    last_event_id: String,
    /// The previous chunk ended in CR: a LF starting the next one ends nothing.
    skip_lf: bool,
    /// No line of this stream completed yet: a leading BOM is still to strip.
    first_line: bool,
    max_event_size: usize,
    failed: Option<ParseError>,
}

impl Default for Parser {
    fn default() -> Self {
        Parser::new()
    }
}

impl Parser {
    /// A parser with the default event size limit ([`DEFAULT_MAX_EVENT_SIZE`]).
    pub fn new() -> Parser {
        Parser {
            line: Vec::new(),
            data: String::new(),
            has_data: false,
            event_type: String::new(),
            id_buffer: String::new(),
            last_event_id: String::new(),
            skip_lf: false,
            first_line: true,
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            failed: None,
        }
    }

    /// Sets the bound on one event (pending line plus data), in bytes.
    pub fn with_max_event_size(mut self, limit: usize) -> Parser {
        self.max_event_size = limit;
        self
    }

    /// The last event ID committed so far (sent as `Last-Event-ID` on reconnect).
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// Sets the last event ID, e.g. an initial one from the options.
    pub fn set_last_event_id(&mut self, id: &str) {
        self.last_event_id.clear();
        self.last_event_id.push_str(id);
        self.id_buffer.clear();
        self.id_buffer.push_str(id);
    }

    /// The stream ended (or the connection is gone): discards the incomplete event and its
    /// uncommitted id, and readies the parser for the next stream (a new BOM may lead it).
    pub fn finish(&mut self) {
        self.line.clear();
        self.data.clear();
        self.has_data = false;
        self.event_type.clear();
        self.id_buffer.clear();
        self.id_buffer.push_str(&self.last_event_id);
        self.skip_lf = false;
        self.first_line = true;
        self.failed = None;
    }

    /// Parses one chunk, handing each frame to `sink` as soon as it is complete (a CR at the end
    /// of the chunk ends its line now). Frames borrow from the chunk or the parser.
    ///
    /// After an error the parser refuses input until [`Parser::finish`].
    pub fn feed<F: FnMut(Frame<'_>)>(
        &mut self,
        chunk: &[u8],
        mut sink: F,
    ) -> Result<(), ParseError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let mut pos = 0;
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if chunk[0] == b'\n' {
                pos = 1;
            }
        }
        let mut data = if self.has_data {
            Data::Owned
        } else {
            Data::None
        };
        while pos < chunk.len() {
            let Some(i) = memchr::memchr2(b'\n', b'\r', &chunk[pos..]) else {
                // No line end: carry the rest.
                let rest = &chunk[pos..];
                if self.line.len() + rest.len() + self.data_len(data) > self.max_event_size {
                    return Err(self.fail());
                }
                self.line.extend_from_slice(rest);
                break;
            };
            let end = pos + i;
            let result = if self.line.is_empty() {
                self.line_from_chunk(chunk, pos, end, &mut data, &mut sink)
            } else {
                if self.line.len() + i + self.data_len(data) > self.max_event_size {
                    return Err(self.fail());
                }
                self.line.extend_from_slice(&chunk[pos..end]);
                let line = core::mem::take(&mut self.line);
                let r = match String::from_utf8_lossy(&line) {
                    Cow::Borrowed(s) => self.process_line(s, None, chunk, &mut data, &mut sink),
                    Cow::Owned(s) => self.process_line(&s, None, chunk, &mut data, &mut sink),
                };
                self.line = line;
                self.line.clear();
                r
            };
            if result.is_err() {
                return Err(self.fail());
            }
            pos = end + 1;
            if chunk[end] == b'\r' {
                if pos == chunk.len() {
                    self.skip_lf = true;
                } else if chunk[pos] == b'\n' {
                    pos += 1;
                }
            }
        }
        // The chunk goes away: a data line still borrowed from it moves into the parser.
        if let Data::Chunk(s, e) = data {
            self.data.clear();
            self.data.push_str(chunk_str(chunk, s, e));
        }
        Ok(())
    }

    /// Parses one chunk into owned events (the convenient API); `retry`, id and comment frames
    /// are dropped.
    pub fn events(&mut self, chunk: &[u8]) -> Result<Vec<Event>, ParseError> {
        let mut out = Vec::new();
        self.feed(chunk, |f| {
            if let Frame::Event(e) = f {
                out.push(e.to_owned());
            }
        })?;
        Ok(out)
    }

    fn data_len(&self, data: Data) -> usize {
        match data {
            Data::None => 0,
            Data::Chunk(s, e) => e - s,
            Data::Owned => self.data.len(),
        }
    }

    fn fail(&mut self) -> ParseError {
        let e = ParseError::EventTooLarge {
            limit: self.max_event_size,
        };
        self.finish();
        // Free what the oversized event held.
        self.line = Vec::new();
        self.data = String::new();
        self.failed = Some(e);
        e
    }

    fn line_from_chunk<F: FnMut(Frame<'_>)>(
        &mut self,
        chunk: &[u8],
        start: usize,
        end: usize,
        data: &mut Data,
        sink: &mut F,
    ) -> Result<(), ParseError> {
        match core::str::from_utf8(&chunk[start..end]) {
            Ok(s) => self.process_line(s, Some(start), chunk, data, sink),
            Err(_) => {
                let s = String::from_utf8_lossy(&chunk[start..end]);
                self.process_line(&s, None, chunk, data, sink)
            }
        }
    }

    /// One complete line. `at` is where `line` starts in `chunk` when it is a slice of it.
    fn process_line<F: FnMut(Frame<'_>)>(
        &mut self,
        mut line: &str,
        mut at: Option<usize>,
        chunk: &[u8],
        data: &mut Data,
        sink: &mut F,
    ) -> Result<(), ParseError> {
        if self.first_line {
            self.first_line = false;
            if let Some(rest) = line.strip_prefix('\u{FEFF}') {
                line = rest;
                at = at.map(|a| a + 3);
            }
        }
        if line.is_empty() {
            self.dispatch(chunk, data, sink);
            return Ok(());
        }
        let (name, value, value_off) = match memchr::memchr(b':', line.as_bytes()) {
            Some(c) => {
                let v = &line[c + 1..];
                match v.strip_prefix(' ') {
                    Some(v) => (&line[..c], v, c + 2),
                    None => (&line[..c], v, c + 1),
                }
            }
            None => (line, "", line.len()),
        };
        match name {
            "" => sink(Frame::Comment(value)),
            "data" => {
                let new_len = self.data_len(*data) + usize::from(self.has_data) + value.len();
                if new_len > self.max_event_size {
                    return Err(ParseError::EventTooLarge {
                        limit: self.max_event_size,
                    });
                }
                match (*data, at) {
                    (Data::None, Some(a)) => {
                        *data = Data::Chunk(a + value_off, a + value_off + value.len())
                    }
                    (Data::None, None) => {
                        self.data.clear();
                        self.data.push_str(value);
                        *data = Data::Owned;
                    }
                    (Data::Chunk(s, e), _) => {
                        self.data.clear();
                        self.data.push_str(chunk_str(chunk, s, e));
                        self.data.push('\n');
                        self.data.push_str(value);
                        *data = Data::Owned;
                    }
                    (Data::Owned, _) => {
                        self.data.push('\n');
                        self.data.push_str(value);
                    }
                }
                self.has_data = true;
            }
            "event" => {
                self.event_type.clear();
                self.event_type.push_str(value);
            }
            "id" if !value.contains('\0') => {
                self.id_buffer.clear();
                self.id_buffer.push_str(value);
            }
            "retry" => {
                if let Some(ms) = parse_digits(value) {
                    sink(Frame::Retry(ms));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch<F: FnMut(Frame<'_>)>(&mut self, chunk: &[u8], data: &mut Data, sink: &mut F) {
        let id_changed = self.last_event_id != self.id_buffer;
        if id_changed {
            self.last_event_id.clear();
            self.last_event_id.push_str(&self.id_buffer);
        }
        let payload = match *data {
            Data::None => {
                self.event_type.clear();
                if id_changed {
                    sink(Frame::Id(&self.last_event_id));
                }
                return;
            }
            Data::Chunk(s, e) => chunk_str(chunk, s, e),
            Data::Owned => self.data.as_str(),
        };
        let event_type = if self.event_type.is_empty() {
            "message"
        } else {
            self.event_type.as_str()
        };
        sink(Frame::Event(EventRef {
            event_type,
            data: payload,
            last_event_id: &self.last_event_id,
        }));
        *data = Data::None;
        self.has_data = false;
        self.data.clear();
        self.event_type.clear();
    }
}

/// A slice of the chunk known to be valid UTF-8 (it was checked when the line was read).
fn chunk_str(chunk: &[u8], start: usize, end: usize) -> &str {
    core::str::from_utf8(&chunk[start..end]).unwrap_or_default()
}

/// A non-empty run of ASCII digits as a number, saturating instead of overflowing.
pub(crate) fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}
