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
//! - Memory is bounded by [`Parser::with_max_event_size`]: the carried line plus the data buffer
//!   stay within the limit (and the few bytes of a field name), whatever the chunking.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// Default bound on one event, in bytes: 16 MiB. What it counts: [`Parser::with_max_event_size`].
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 * 1024 * 1024;

/// An event, borrowed from the parser or the chunk it came in (the zero-copy fast path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventRef<'a> {
    /// The event type: the `event:` field, or `"message"` when none or empty.
    pub event_type: &'a str,
    /// The `data:` lines joined with LF.
    pub data: &'a str,
    /// The last event ID after this event (it persists across events, as in `MessageEvent`).
    pub last_event_id: &'a str,
    /// This event changed the last event ID (it differs from the one before: the previous
    /// event's, an [`Frame::Id`]'s, or the starting one), so a driver passes it on only then.
    pub id_changed: bool,
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
    /// Borrows the event (`id_changed` is false: an owned event does not know its predecessor).
    pub fn as_ref(&self) -> EventRef<'_> {
        EventRef {
            event_type: &self.event_type,
            data: &self.data,
            last_event_id: &self.last_event_id,
            id_changed: false,
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
    /// One event (its data plus the line being read) grew past the limit, in bytes; what counts
    /// is defined at [`Parser::with_max_event_size`].
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
enum Data<'c> {
    /// No `data` field yet: nothing to dispatch.
    None,
    /// One data line, still a slice of the current chunk.
    Chunk(&'c str),
    /// In `Parser::data`.
    Owned,
}

/// A complete line: a slice of the chunk, or decoded from the carried buffer or lossily.
#[derive(Clone, Copy)]
enum Line<'c, 'l> {
    Chunk(&'c str),
    Other(&'l str),
}

/// The incremental parser. One per [`crate::reconnect::Machine`] or connection; it keeps the
/// last event ID across streams, as an `EventSource` does.
#[derive(Clone, Debug)]
pub struct Parser {
    /// The unfinished line carried from earlier chunks.
    line: Vec<u8>,
    /// The data buffer without its final LF (valid when `has_data`), from `data_start` on: a
    /// long data line carried across chunks becomes the buffer as it is, prefix and all.
    data: String,
    data_start: usize,
    has_data: bool,
    event_type: String,
    /// The last event ID buffer: set by `id:`, committed at dispatch.
    id_buffer: String,
    /// An `id:` field was seen since the last dispatch (saves a compare per event).
    id_seen: bool,
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
            data_start: 0,
            has_data: false,
            event_type: String::new(),
            id_buffer: String::new(),
            id_seen: false,
            last_event_id: String::new(),
            skip_lf: false,
            first_line: true,
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            failed: None,
        }
    }

    /// Sets the bound on one event, in bytes (default [`DEFAULT_MAX_EVENT_SIZE`]).
    ///
    /// What counts, at every line of the event: its data so far as it would be dispatched (the
    /// values of its `data` lines joined with LF) plus the line being read, which counts its
    /// value (after `name:` and one space) for a `data`, `event`, `id` or `retry` field or a
    /// comment, and all of it for any other field; a leading BOM and the line end never count.
    /// Text is counted after decoding (invalid bytes as the 3-byte U+FFFD that replaces them), so
    /// an event whose dispatched data has `limit` bytes passes and one of `limit + 1` fails.
    ///
    /// The outcome depends only on the bytes, never on how they are chunked: a line split across
    /// chunks counts the same as one inside a chunk, and it fails as soon as its part so far is
    /// already too large, so the data and the line buffer together stay within the limit (plus a
    /// field name's few bytes) even for a line that never ends. (The event type and the id each
    /// stay within it too, so all the parser holds is a few times the limit at most.)
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

    /// Whether the input so far stops inside an event: a line not ended, or fields read since the
    /// last blank line (what [`Parser::finish`] would discard). A body that ends here was cut,
    /// not ended: [`crate::reconnect::Machine::on_error`] reports it as a network error.
    pub fn is_mid_event(&self) -> bool {
        !self.line.is_empty() || self.has_data || !self.event_type.is_empty() || self.id_seen
    }

    /// The stream ended (or the connection is gone): discards the incomplete event and its
    /// uncommitted id, and readies the parser for the next stream (a new BOM may lead it).
    pub fn finish(&mut self) {
        self.line.clear();
        self.clear_data();
        self.event_type.clear();
        self.id_buffer.clear();
        self.id_buffer.push_str(&self.last_event_id);
        self.id_seen = false;
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
        let result = self.feed_lines(chunk, pos, &mut data, &mut sink);
        if result.is_err() {
            return Err(self.fail());
        }
        // The chunk goes away: a data line still borrowed from it moves into the parser.
        if let Data::Chunk(s) = data {
            self.clear_data();
            self.data.push_str(s);
            self.has_data = true;
        }
        Ok(())
    }

    fn feed_lines<'c, F: FnMut(Frame<'_>)>(
        &mut self,
        chunk: &'c [u8],
        mut pos: usize,
        data: &mut Data<'c>,
        sink: &mut F,
    ) -> Result<(), ParseError> {
        // First the line carried from earlier chunks, which this chunk may complete.
        if !self.line.is_empty() && pos < chunk.len() {
            let Some(i) = memchr::memchr2(b'\n', b'\r', &chunk[pos..]) else {
                return self.carry(&chunk[pos..], data);
            };
            let end = pos + i;
            self.carry(&chunk[pos..end], data)?;
            let line = core::mem::take(&mut self.line);
            // The fast validator first; the (byte-by-byte) lossy one only for invalid input.
            let mut recycled = match utf8(&line) {
                Ok(_) => self.carried_line(into_string(line), data, sink)?,
                Err(_) => {
                    self.process_line(Line::Other(&String::from_utf8_lossy(&line)), data, sink)?;
                    line
                }
            };
            recycled.clear();
            self.line = recycled;
            pos = self.after_line_end(chunk, end);
        }
        // Then every complete line of the rest. Line ends are ASCII, so when the region up to the
        // last line end is valid UTF-8 as a whole, so is each line in it: one validation.
        let Some(last) = memchr::memrchr2(b'\n', b'\r', &chunk[pos..]) else {
            return self.carry(&chunk[pos..], data);
        };
        let region_end = pos + last + 1;
        match utf8(&chunk[pos..region_end]) {
            Ok(text) => {
                let base = pos;
                let bytes = text.as_bytes();
                let mut at = 0;
                // One pass finds every line end of the region.
                for end in memchr::memchr2_iter(b'\n', b'\r', bytes) {
                    if end < at {
                        continue; // the LF of a CRLF
                    }
                    if end == at {
                        // The blank line that ends most events.
                        self.first_line = false;
                        self.dispatch(data, sink);
                    } else {
                        self.process_line(Line::Chunk(&text[at..end]), data, sink)?;
                    }
                    at = self.after_line_end(chunk, base + end) - base;
                }
                pos = base + at;
            }
            Err(_) => {
                while pos < region_end {
                    let end = pos
                        + memchr::memchr2(b'\n', b'\r', &chunk[pos..region_end])
                            .unwrap_or(region_end - pos);
                    match utf8(&chunk[pos..end]) {
                        Ok(s) => self.process_line(Line::Chunk(s), data, sink)?,
                        Err(_) => {
                            let s = String::from_utf8_lossy(&chunk[pos..end]);
                            self.process_line(Line::Other(&s), data, sink)?;
                        }
                    }
                    pos = self.after_line_end(chunk, end);
                }
            }
        }
        self.carry(&chunk[pos.min(chunk.len())..], data)
    }

    /// Where the next line starts after the line end at `end`; a CR that ends the chunk makes a
    /// LF at the start of the next chunk part of it.
    fn after_line_end(&mut self, chunk: &[u8], end: usize) -> usize {
        let next = end + 1;
        if chunk[end] == b'\r' {
            match chunk.get(next) {
                None => self.skip_lf = true,
                Some(b'\n') => return next + 1,
                Some(_) => {}
            }
        }
        next
    }

    /// Keeps the start of an unfinished line, within the event size limit: the part so far counts
    /// as [`Parser::process_line`] will count the whole line, so it fails only if that would.
    fn carry(&mut self, bytes: &[u8], data: &Data<'_>) -> Result<(), ParseError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let len = self.line.len() + bytes.len();
        let held = self.data_len(data) + usize::from(self.has_data);
        // Within the limit even counted whole (BOM, field name and all): the usual case.
        if len + held > self.max_event_size {
            // The first bytes of the line tell what counts of it.
            let mut head = [0u8; HEAD];
            let old = self.line.len().min(HEAD);
            head[..old].copy_from_slice(&self.line[..old]);
            let new = (HEAD - old).min(bytes.len());
            head[old..old + new].copy_from_slice(&bytes[..new]);
            if let Some((from, is_data)) = counted_from(&head[..old + new], self.first_line) {
                let held = self.data_len(data) + usize::from(is_data && self.has_data);
                if len - from + held > self.max_event_size {
                    return Err(self.too_large());
                }
            }
            // Otherwise the field name is still being read: at most `HEAD` bytes.
        }
        self.line.extend_from_slice(bytes);
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

    fn data_len(&self, data: &Data<'_>) -> usize {
        match data {
            Data::None => 0,
            Data::Chunk(s) => s.len(),
            Data::Owned => self.data.len() - self.data_start,
        }
    }

    fn too_large(&self) -> ParseError {
        ParseError::EventTooLarge {
            limit: self.max_event_size,
        }
    }

    fn fail(&mut self) -> ParseError {
        let e = self.too_large();
        self.finish();
        // Free what the oversized event held.
        self.line = Vec::new();
        self.data = String::new();
        self.data_start = 0;
        self.failed = Some(e);
        e
    }

    /// A carried line, complete and valid. A data line that starts an event becomes the data
    /// buffer without a copy (long lines are the ones carried). Returns a buffer to reuse.
    fn carried_line<F: FnMut(Frame<'_>)>(
        &mut self,
        line: String,
        data: &mut Data<'_>,
        sink: &mut F,
    ) -> Result<Vec<u8>, ParseError> {
        let bom = if self.first_line && line.starts_with('\u{FEFF}') {
            3
        } else {
            0
        };
        let (name, value_at) = split_field(&line[bom..]);
        if name == "data" && matches!(data, Data::None) {
            self.first_line = false;
            if line.len() - bom - value_at > self.max_event_size {
                return Err(self.too_large());
            }
            let old = core::mem::replace(&mut self.data, line);
            self.data_start = bom + value_at;
            self.has_data = true;
            *data = Data::Owned;
            return Ok(old.into_bytes());
        }
        self.process_line(Line::Other(&line), data, sink)?;
        Ok(line.into_bytes())
    }

    /// One complete line.
    fn process_line<'c, F: FnMut(Frame<'_>)>(
        &mut self,
        line: Line<'c, '_>,
        data: &mut Data<'c>,
        sink: &mut F,
    ) -> Result<(), ParseError> {
        let mut text = match line {
            Line::Chunk(s) | Line::Other(s) => s,
        };
        if self.first_line {
            self.first_line = false;
            if let Some(rest) = text.strip_prefix('\u{FEFF}') {
                text = rest;
            }
        }
        if text.is_empty() {
            self.dispatch(data, sink);
            return Ok(());
        }
        let (name, value_at) = split_field(text);
        let value = &text[value_at..];
        match name {
            "data" => {
                // The data so far plus this line (see `with_max_event_size`).
                let new_len = self.data_len(data) + usize::from(self.has_data) + value.len();
                if new_len > self.max_event_size {
                    return Err(self.too_large());
                }
                match (*data, line) {
                    // The first data line of an event inside the chunk: borrowed, not copied.
                    (Data::None, Line::Chunk(s)) => {
                        *data = Data::Chunk(&s[s.len() - value.len()..])
                    }
                    (Data::None, Line::Other(_)) => {
                        self.clear_data();
                        self.data.push_str(value);
                        *data = Data::Owned;
                    }
                    (Data::Chunk(first), _) => {
                        self.clear_data();
                        self.data.push_str(first);
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
                Ok(())
            }
            _ => self.other_field(name, text, value_at, data, sink),
        }
    }

    /// A complete line of another field than `data`, or a comment: kept apart so that their size
    /// checks stay out of the data lines' path.
    #[inline]
    fn other_field<F: FnMut(Frame<'_>)>(
        &mut self,
        name: &str,
        text: &str,
        value_at: usize,
        data: &Data<'_>,
        sink: &mut F,
    ) -> Result<(), ParseError> {
        let value = &text[value_at..];
        // The data so far plus what the line counts (see `with_max_event_size`): its value, or
        // all of it for a field we do not know (while it is carried, nothing tells it apart).
        let known = matches!(name, "" | "event" | "id" | "retry");
        let counted = if known { value.len() } else { text.len() };
        if self.data_len(data) + counted > self.max_event_size {
            return Err(self.too_large());
        }
        match name {
            "" => sink(Frame::Comment(value)),
            "event" => {
                self.event_type.clear();
                self.event_type.push_str(value);
            }
            "id" if !value.contains('\0') => {
                self.id_seen = true;
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

    fn dispatch<F: FnMut(Frame<'_>)>(&mut self, data: &mut Data<'_>, sink: &mut F) {
        let id_changed = self.id_seen && self.last_event_id != self.id_buffer;
        self.id_seen = false;
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
            Data::Chunk(s) => s,
            Data::Owned => self.data.get(self.data_start..).unwrap_or_default(),
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
            id_changed,
        }));
        *data = Data::None;
        self.clear_data();
        self.event_type.clear();
    }
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

/// Validates UTF-8 (SIMD where the target has it, or the CPU with feature `std`).
fn utf8(bytes: &[u8]) -> Result<&str, simdutf8::basic::Utf8Error> {
    simdutf8::basic::from_utf8(bytes)
}

impl Parser {
    fn clear_data(&mut self) {
        self.data.clear();
        self.data_start = 0;
        self.has_data = false;
    }
}

/// How many first bytes of a line [`counted_from`] needs: a BOM, the longest field name we know
/// (`event`, `retry`), its colon and the space after it.
const HEAD: usize = 3 + 5 + 1 + 1;

/// Where the counted part of a line starts, from its first [`HEAD`] bytes (or all of it, when
/// shorter), and whether it is a `data` line; `None` while its field name is still being read.
/// Agrees with [`split_field`] and the BOM strip of [`Parser::process_line`].
fn counted_from(head: &[u8], first_line: bool) -> Option<(usize, bool)> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let bom = if !first_line {
        0
    } else if head.starts_with(BOM) {
        3
    } else if BOM.starts_with(head) {
        return None;
    } else {
        0
    };
    let rest = &head[bom..];
    let Some(colon) = rest.iter().take(6).position(|&b| b == b':') else {
        // No colon in the first 6 bytes: a name longer than any we know, counted whole.
        return (rest.len() >= 6).then_some((bom, false));
    };
    let name = &rest[..colon];
    if !matches!(name, b"" | b"data" | b"event" | b"id" | b"retry") {
        return Some((bom, false));
    }
    let value_at = match rest.get(colon + 1) {
        None => return None, // a space may follow
        Some(b' ') => colon + 2,
        Some(_) => colon + 1,
    };
    Some((bom + value_at, name == b"data"))
}

/// A line's field name and where its value starts (after the colon and one space).
fn split_field(text: &str) -> (&str, usize) {
    let bytes = text.as_bytes();
    // `data: ` first: nearly every line of a busy stream is one.
    if bytes.get(..6) == Some(b"data: ") {
        return ("data", 6);
    }
    match bytes.iter().position(|&b| b == b':') {
        Some(c) if bytes.get(c + 1) == Some(&b' ') => (&text[..c], c + 2),
        Some(c) => (&text[..c], c + 1),
        None => (text, text.len()),
    }
}

/// A buffer [`utf8`] has validated, as a `String` without a second validation or a copy.
#[allow(unsafe_code)]
fn into_string(valid: Vec<u8>) -> String {
    debug_assert!(utf8(&valid).is_ok());
    // SAFETY: the only caller validated these bytes with `utf8` just before.
    unsafe { String::from_utf8_unchecked(valid) }
}
