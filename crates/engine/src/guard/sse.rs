//! Server-sent events, framed incrementally: bytes arrive in arbitrary chunks, whole
//! events come out (fields parsed, raw bytes kept so an untouched event is passed on
//! byte for byte).

/// One event: its `event:` name, its `data:` lines joined with `\n`, and its raw bytes
/// (terminating blank line included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: Option<String>,
    pub data: String,
    pub raw: Vec<u8>,
}

impl Event {
    /// An event written by the gateway.
    pub fn encode(name: Option<&str>, data: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 32);
        if let Some(name) = name {
            out.extend_from_slice(b"event: ");
            out.extend_from_slice(name.as_bytes());
            out.push(b'\n');
        }
        for line in data.split('\n') {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a server-sent event is larger than {0} bytes")]
pub struct EventTooLarge(pub usize);

/// Splits a byte stream into events. Memory is bounded by the largest event; each byte
/// is searched once, however the stream is chunked.
#[derive(Debug)]
pub struct Framer {
    buf: Vec<u8>,
    /// Where the line being read starts in `buf`.
    line_start: usize,
    /// How far `buf` has been searched for a line feed.
    searched: usize,
    max_event: usize,
}

impl Framer {
    pub fn new(max_event: usize) -> Self {
        Framer {
            buf: Vec::new(),
            line_start: 0,
            searched: 0,
            max_event,
        }
    }

    /// Takes in a chunk and returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Event>, EventTooLarge> {
        self.buf.extend_from_slice(chunk);
        let mut events = Vec::new();
        while let Some(end) = self.event_end() {
            let raw: Vec<u8> = self.buf.drain(..end).collect();
            self.line_start = 0;
            self.searched = 0;
            events.push(parse(raw));
        }
        if self.buf.len() > self.max_event {
            return Err(EventTooLarge(self.max_event));
        }
        Ok(events)
    }

    /// Bytes held for an event not yet complete.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The stream ended: a last event without its blank line, if any.
    pub fn finish(&mut self) -> Option<Event> {
        let raw = std::mem::take(&mut self.buf);
        self.line_start = 0;
        self.searched = 0;
        (!raw.iter().all(u8::is_ascii_whitespace)).then(|| parse(raw))
    }

    /// The end (exclusive) of the first complete event: the line feed of an empty line.
    fn event_end(&mut self) -> Option<usize> {
        loop {
            let from = self.searched.max(self.line_start);
            let Some(offset) = self
                .buf
                .get(from..)
                .and_then(|rest| memchr::memchr(b'\n', rest))
            else {
                self.searched = self.buf.len();
                return None;
            };
            let newline = from + offset;
            let line = self.buf.get(self.line_start..newline).unwrap_or_default();
            self.line_start = newline + 1;
            self.searched = newline + 1;
            if line.is_empty() || line == b"\r" {
                return Some(newline + 1);
            }
        }
    }
}

fn parse(raw: Vec<u8>) -> Event {
    let text = String::from_utf8_lossy(&raw);
    let mut name = None;
    let mut data: Option<String> = None;
    for line in text.lines() {
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => name = Some(value.to_owned()),
            "data" => match data.as_mut() {
                Some(joined) => {
                    joined.push('\n');
                    joined.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    Event {
        name,
        data: data.unwrap_or_default(),
        raw,
    }
}
