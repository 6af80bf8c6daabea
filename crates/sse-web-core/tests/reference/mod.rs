//! A plain, obviously-correct reading of WHATWG HTML §9.2.6, line by line over the whole input:
//! the oracle the incremental parser is checked against (tests and the fuzz target).

#![allow(dead_code)]

/// A frame, owned, as both parsers report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Owned {
    Event {
        event_type: String,
        data: String,
        last_event_id: String,
    },
    Retry(u64),
    Id(String),
    Comment(String),
}

impl Owned {
    pub fn from_frame(f: sse_web_core::parser::Frame<'_>) -> Owned {
        use sse_web_core::parser::Frame;
        match f {
            Frame::Event(e) => Owned::Event {
                event_type: e.event_type.into(),
                data: e.data.into(),
                last_event_id: e.last_event_id.into(),
            },
            Frame::Retry(ms) => Owned::Retry(ms),
            Frame::Id(id) => Owned::Id(id.into()),
            Frame::Comment(c) => Owned::Comment(c.into()),
        }
    }
}

/// The frames of a whole stream.
pub fn reference(input: &[u8]) -> Vec<Owned> {
    let decoded = String::from_utf8_lossy(input);
    let text = decoded.strip_prefix('\u{FEFF}').unwrap_or(&decoded);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                lines.push(std::mem::take(&mut line));
            }
            '\n' => lines.push(std::mem::take(&mut line)),
            c => line.push(c),
        }
    }
    // An unterminated last line is never processed: the incomplete event is discarded.
    let mut out = Vec::new();
    let (mut data, mut event_type, mut id_buffer, mut last_id) =
        (String::new(), String::new(), String::new(), String::new());
    for line in lines {
        if line.is_empty() {
            let changed = last_id != id_buffer;
            last_id = id_buffer.clone();
            if data.is_empty() {
                event_type.clear();
                if changed {
                    out.push(Owned::Id(last_id.clone()));
                }
                continue;
            }
            if data.ends_with('\n') {
                data.pop();
            }
            out.push(Owned::Event {
                event_type: if event_type.is_empty() {
                    "message".into()
                } else {
                    event_type.clone()
                },
                data: std::mem::take(&mut data),
                last_event_id: last_id.clone(),
            });
            event_type.clear();
            continue;
        }
        let (name, value) = match line.find(':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line.as_str(), ""),
        };
        match name {
            "" => out.push(Owned::Comment(value.into())),
            "event" => event_type = value.into(),
            "data" => {
                data.push_str(value);
                data.push('\n');
            }
            "id" if !value.contains('\0') => id_buffer = value.into(),
            "retry" if !value.is_empty() && value.chars().all(|c| c.is_ascii_digit()) => {
                let ms = value.parse::<u64>().unwrap_or(u64::MAX);
                out.push(Owned::Retry(ms));
            }
            _ => {}
        }
    }
    out
}
