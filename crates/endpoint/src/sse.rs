//! An incremental Server-Sent Events parser over a byte stream.
//!
//! HTTP body frames split SSE events anywhere: inside a `data:` line, between
//! the `\r` and `\n` of a line ending, or between the two newlines that end
//! an event. The parser keeps the partial line across [`SseParser::feed`]
//! calls and emits each complete event exactly once, whatever the split, so
//! the time stamp a caller attaches to an event is the arrival time of the
//! frame that completed it. Parsing follows the WHATWG event-stream rules:
//! lines end with `\n`, `\r\n` or `\r`; `:` starts a comment; one space after
//! the field's colon is dropped; several `data:` lines join with `\n`; a
//! blank line dispatches the event.

use thiserror::Error;

/// An SSE stream that cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SseError {
    #[error("an SSE line or event exceeds {limit} bytes")]
    TooLarge { limit: usize },
}

/// Default bound on one line or one event's data: a server that never sends
/// a line end must not make the client buffer without limit.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 << 20;

/// Incremental SSE parser; see the module docs.
#[derive(Debug, Clone)]
pub struct SseParser {
    /// The unfinished line carried over from the previous frame.
    line: Vec<u8>,
    /// The data of the event being assembled (lines joined with `\n`).
    data: Vec<u8>,
    /// The `event:` field of the event being assembled.
    event: Vec<u8>,
    /// The event has at least one `data` field (an event without data is
    /// not dispatched, per the spec).
    has_data: bool,
    /// The previous frame ended with `\r`: a `\n` opening the next frame
    /// belongs to that line ending.
    pending_cr: bool,
    /// Bound on one line or one event's data.
    max_bytes: usize,
    /// Bytes fed in total (diagnostics: a body that is not SSE at all).
    fed: u64,
    /// Events dispatched in total.
    dispatched: u64,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

/// One dispatched event. `event` is empty when the stream named none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseEvent<'a> {
    pub event: &'a [u8],
    pub data: &'a [u8],
}

impl SseParser {
    pub fn new() -> Self {
        Self::with_limit(DEFAULT_MAX_EVENT_BYTES)
    }

    pub fn with_limit(max_bytes: usize) -> Self {
        SseParser {
            line: Vec::new(),
            data: Vec::new(),
            event: Vec::new(),
            has_data: false,
            pending_cr: false,
            max_bytes,
            fed: 0,
            dispatched: 0,
        }
    }

    /// Bytes fed so far.
    pub fn bytes_fed(&self) -> u64 {
        self.fed
    }

    /// Events dispatched so far.
    pub fn events_dispatched(&self) -> u64 {
        self.dispatched
    }

    /// An event or line is partly received (the stream stopped inside it).
    pub fn has_partial(&self) -> bool {
        !self.line.is_empty() || self.has_data
    }

    /// Feeds one body frame; calls `on_event` for every event it completes,
    /// in order. Returns early with the callback's `Err` if it gives one.
    pub fn feed<E>(
        &mut self,
        mut chunk: &[u8],
        on_event: &mut dyn FnMut(SseEvent<'_>) -> Result<(), E>,
    ) -> Result<(), FeedError<E>> {
        self.fed += chunk.len() as u64;
        if chunk.is_empty() {
            // An empty frame must not consume a pending `\r`: the `\n`
            // completing that line end may come in the next one.
            return Ok(());
        }
        if self.pending_cr {
            self.pending_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while !chunk.is_empty() {
            match memchr::memchr2(b'\n', b'\r', chunk) {
                None => {
                    if self.line.len() + chunk.len() > self.max_bytes {
                        return Err(FeedError::Sse(SseError::TooLarge {
                            limit: self.max_bytes,
                        }));
                    }
                    self.line.extend_from_slice(chunk);
                    return Ok(());
                }
                Some(i) => {
                    let end = i;
                    let mut next = i + 1;
                    if chunk[i] == b'\r' {
                        if next < chunk.len() {
                            if chunk[next] == b'\n' {
                                next += 1;
                            }
                        } else {
                            self.pending_cr = true;
                        }
                    }
                    if self.line.is_empty() {
                        self.process_line_slice(&chunk[..end], on_event)?;
                    } else {
                        if self.line.len() + end > self.max_bytes {
                            return Err(FeedError::Sse(SseError::TooLarge {
                                limit: self.max_bytes,
                            }));
                        }
                        let mut line = std::mem::take(&mut self.line);
                        line.extend_from_slice(&chunk[..end]);
                        let r = self.process_line_slice(&line, on_event);
                        line.clear();
                        self.line = line;
                        r?;
                    }
                    chunk = &chunk[next..];
                }
            }
        }
        Ok(())
    }

    fn process_line_slice<E>(
        &mut self,
        line: &[u8],
        on_event: &mut dyn FnMut(SseEvent<'_>) -> Result<(), E>,
    ) -> Result<(), FeedError<E>> {
        if line.is_empty() {
            // Blank line: dispatch.
            if self.has_data {
                let r = on_event(SseEvent {
                    event: &self.event,
                    data: &self.data,
                });
                self.dispatched += 1;
                self.data.clear();
                self.event.clear();
                self.has_data = false;
                r.map_err(FeedError::Callback)?;
            } else {
                self.event.clear();
            }
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(()); // comment (keep-alive pings)
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(c) => {
                let v = &line[c + 1..];
                (&line[..c], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                if self.data.len() + value.len() + 1 > self.max_bytes {
                    return Err(FeedError::Sse(SseError::TooLarge {
                        limit: self.max_bytes,
                    }));
                }
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => {
                self.event.clear();
                self.event.extend_from_slice(value);
            }
            _ => {} // id, retry and unknown fields do not matter here
        }
        Ok(())
    }

    /// The stream ended. Per the spec an event without its terminating blank
    /// line is discarded; many servers omit the final blank line after
    /// `data: [DONE]`, so a complete last `data:` line is dispatched here.
    pub fn finish<E>(
        &mut self,
        on_event: &mut dyn FnMut(SseEvent<'_>) -> Result<(), E>,
    ) -> Result<(), FeedError<E>> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line_slice(&line, on_event)?;
        }
        if self.has_data {
            self.process_line_slice(b"", on_event)?;
        }
        Ok(())
    }
}

/// Why [`SseParser::feed`] stopped: the stream itself, or the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedError<E> {
    Sse(SseError),
    Callback(E),
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<(String, String)> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        let mut cb = |e: SseEvent<'_>| -> Result<(), ()> {
            out.push((
                String::from_utf8_lossy(e.event).into_owned(),
                String::from_utf8_lossy(e.data).into_owned(),
            ));
            Ok(())
        };
        for c in chunks {
            p.feed(c, &mut cb).unwrap();
        }
        p.finish(&mut cb).unwrap();
        out
    }

    #[test]
    fn basic_events_and_comments() {
        let s = b": ping\n\ndata: {\"a\":1}\n\nevent: error\ndata: x\ndata: y\n\n";
        let ev = parse_all(&[s]);
        assert_eq!(
            ev,
            vec![
                (String::new(), "{\"a\":1}".into()),
                ("error".into(), "x\ny".into())
            ]
        );
    }

    #[test]
    fn crlf_and_cr_line_ends() {
        let ev = parse_all(&[b"data: a\r\n\r\ndata: b\r\rdata:c\n\n"]);
        assert_eq!(ev.len(), 3);
        assert_eq!(ev[1].1, "b");
        assert_eq!(ev[2].1, "c");
    }

    #[test]
    fn crlf_split_between_frames_is_one_line_end() {
        let ev = parse_all(&[b"data: a\r", b"\n\r", b"\ndata: b\n\n"]);
        assert_eq!(
            ev.iter().map(|e| e.1.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn empty_frame_between_cr_and_lf() {
        let ev = parse_all(&[b"data: a\r", b"", b"\ndata: b\n\n"]);
        assert_eq!(ev, vec![(String::new(), "a\nb".into())]);
    }

    #[test]
    fn final_event_without_blank_line_is_dispatched_at_finish() {
        let ev = parse_all(&[b"data: x\n\ndata: [DONE]"]);
        assert_eq!(ev.last().unwrap().1, "[DONE]");
    }

    #[test]
    fn too_large_line_is_an_error_not_unbounded_memory() {
        let mut p = SseParser::with_limit(16);
        let mut cb = |_: SseEvent<'_>| -> Result<(), ()> { Ok(()) };
        let r = p.feed(&[b'a'; 64], &mut cb);
        assert!(matches!(r, Err(FeedError::Sse(SseError::TooLarge { .. }))));
    }

    fn stream_strategy() -> impl Strategy<Value = Vec<u8>> {
        let data = "[a-z{}\":, ]{0,12}";
        let ending = prop_oneof![Just("\n"), Just("\r\n"), Just("\r")];
        prop::collection::vec((data, ending.clone(), ending, any::<bool>()), 0..12).prop_map(
            |evs| {
                let mut s = Vec::new();
                for (d, e1, e2, comment) in evs {
                    if comment {
                        s.extend_from_slice(b": keep-alive");
                        s.extend_from_slice(e1.as_bytes());
                    }
                    s.extend_from_slice(b"data: ");
                    s.extend_from_slice(d.as_bytes());
                    s.extend_from_slice(e1.as_bytes());
                    s.extend_from_slice(e2.as_bytes());
                }
                s
            },
        )
    }

    proptest! {
        /// Any split of a stream into frames yields the same events as the
        /// unsplit stream.
        #[test]
        fn arbitrary_splits_give_the_same_events(
            stream in stream_strategy(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        ) {
            let whole = parse_all(&[&stream]);
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
            points.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut prev = 0;
            for p in points {
                chunks.push(&stream[prev..p]);
                prev = p;
            }
            chunks.push(&stream[prev..]);
            prop_assert_eq!(parse_all(&chunks), whole);
        }

        /// Byte-at-a-time delivery (the worst split) also agrees.
        #[test]
        fn byte_at_a_time(stream in stream_strategy()) {
            let whole = parse_all(&[&stream]);
            let chunks: Vec<&[u8]> = stream.chunks(1).collect();
            prop_assert_eq!(parse_all(&chunks), whole);
        }
    }
}
