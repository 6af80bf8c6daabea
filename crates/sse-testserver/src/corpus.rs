//! The benchmark corpora, generated (deterministically) rather than shipped, so the parser
//! benchmark, the client benchmarks and the server's `/bench` stream use the very same bytes.

use sse_web_core::encoder::write_event;

/// A named event stream for benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corpus {
    /// An LLM-token stream: ~130-byte JSON chunks, one per event (default 200,000 events).
    Llm,
    /// Events with an id, a name and 8 data lines (default 50,000 events).
    Multiline,
    /// 64 KiB single-line events (default 400 events).
    Large,
    /// The LLM stream with CRLF line ends.
    LlmCrlf,
}

impl Corpus {
    /// All corpora, in the order benchmarks print them.
    pub const ALL: [Corpus; 4] = [
        Corpus::Llm,
        Corpus::Multiline,
        Corpus::Large,
        Corpus::LlmCrlf,
    ];

    /// The corpus' name in URLs and tables.
    pub fn name(self) -> &'static str {
        match self {
            Corpus::Llm => "llm",
            Corpus::Multiline => "multiline",
            Corpus::Large => "large",
            Corpus::LlmCrlf => "llm-crlf",
        }
    }

    /// The corpus of a name.
    pub fn from_name(name: &str) -> Option<Corpus> {
        Corpus::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The number of events the benchmarks use.
    pub fn default_events(self) -> usize {
        match self {
            Corpus::Llm | Corpus::LlmCrlf => 200_000,
            Corpus::Multiline => 50_000,
            Corpus::Large => 400,
        }
    }

    /// The stream of `events` events.
    pub fn generate(self, events: usize) -> Vec<u8> {
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        let mut out = Vec::new();
        let mut data = String::new();
        for i in 0..events {
            data.clear();
            match self {
                Corpus::Llm | Corpus::LlmCrlf => llm_chunk(&mut data, i, &mut rng),
                Corpus::Multiline => {
                    for line in 0..8 {
                        if line > 0 {
                            data.push('\n');
                        }
                        data.push_str("line ");
                        push_num(&mut data, line);
                        data.push_str(": ");
                        push_words(&mut data, 6, &mut rng);
                    }
                }
                Corpus::Large => {
                    while data.len() < 64 * 1024 {
                        push_words(&mut data, 16, &mut rng);
                    }
                    let mut cut = 64 * 1024;
                    while !data.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    data.truncate(cut);
                }
            }
            let id = matches!(self, Corpus::Multiline).then(|| i.to_string());
            let name = matches!(self, Corpus::Multiline).then_some("update");
            // The corpus only writes valid ids and names.
            let _ = write_event(&mut out, name, id.as_deref(), &data);
        }
        if self == Corpus::LlmCrlf {
            let mut crlf = Vec::with_capacity(out.len() + out.len() / 40);
            for b in out {
                if b == b'\n' {
                    crlf.push(b'\r');
                }
                crlf.push(b);
            }
            return crlf;
        }
        out
    }
}

const WORDS: [&str; 16] = [
    " the",
    " stream",
    " token",
    " model",
    " event",
    " parser",
    " quick",
    " data",
    " server",
    " browser",
    " fetch",
    " reconnect",
    " chunk",
    " answer",
    " value",
    " é",
];

fn next(rng: &mut u64) -> u64 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    *rng
}

fn push_num(s: &mut String, n: usize) {
    s.push_str(&n.to_string());
}

fn push_words(s: &mut String, n: usize, rng: &mut u64) {
    for _ in 0..n {
        s.push_str(WORDS[(next(rng) % 16) as usize]);
    }
}

fn llm_chunk(s: &mut String, i: usize, rng: &mut u64) {
    s.push_str(r#"{"id":"chatcmpl-9x","object":"chat.completion.chunk","created":1732400000,"choices":[{"index":0,"delta":{"content":""#);
    push_words(s, 1 + (next(rng) % 2) as usize, rng);
    s.push_str(r#""}}],"n":"#);
    push_num(s, i);
    s.push('}');
}
