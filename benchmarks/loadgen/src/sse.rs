//! An incremental `text/event-stream` parser (the WHATWG rules: lines end in CRLF, LF or CR;
//! `field: value` lines; `:` comments; a blank line dispatches the event if it has data).

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    /// The `event:` field of this event, if it had one.
    pub event: Option<String>,
    /// The `data:` lines joined by `\n`.
    pub data: String,
    /// The `id:` field of this event, if it had one.
    pub id: Option<String>,
}

#[derive(Debug, Default)]
pub struct Parser {
    line: Vec<u8>,
    /// The previous byte was a CR: an LF right after it belongs to the same line ending.
    after_cr: bool,
    pending: Event,
    has_data: bool,
    /// Comment lines seen (keep-alive pings).
    pub comments: u64,
}

impl Parser {
    /// Feeds bytes; every complete event goes to `on_event`.
    pub fn feed<F>(&mut self, mut input: &[u8], on_event: &mut F) -> Result<(), String>
    where
        F: FnMut(Event) -> Result<(), String>,
    {
        if self.after_cr && !input.is_empty() {
            self.after_cr = false;
            if let Some(rest) = input.strip_prefix(b"\n") {
                input = rest;
            }
        }
        while let Some(at) = input.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&input[..at]);
            let ending = input[at];
            input = &input[at + 1..];
            if ending == b'\r' {
                match input.first() {
                    Some(b'\n') => input = &input[1..],
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, on_event)?;
            self.line = line;
            self.line.clear();
        }
        self.line.extend_from_slice(input);
        if self.line.len() > 1 << 20 {
            return Err("event-stream line longer than 1 MiB".to_owned());
        }
        Ok(())
    }

    fn line_done<F>(&mut self, line: &[u8], on_event: &mut F) -> Result<(), String>
    where
        F: FnMut(Event) -> Result<(), String>,
    {
        if line.is_empty() {
            if self.has_data {
                self.has_data = false;
                let mut event = std::mem::take(&mut self.pending);
                if event.data.ends_with('\n') {
                    event.data.pop();
                }
                return on_event(event);
            }
            self.pending = Event::default();
            return Ok(());
        }
        if line[0] == b':' {
            self.comments += 1;
            return Ok(());
        }
        let line = std::str::from_utf8(line)
            .map_err(|_| format!("event-stream line is not UTF-8: {line:?}"))?;
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "data" => {
                self.pending.data.push_str(value);
                self.pending.data.push('\n');
                self.has_data = true;
            }
            "event" => self.pending.event = Some(value.to_owned()),
            "id" => self.pending.id = Some(value.to_owned()),
            _ => {} // retry and unknown fields
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(input: &[u8], piece: usize) -> (Vec<Event>, u64) {
        let mut parser = Parser::default();
        let mut events = Vec::new();
        for part in input.chunks(piece) {
            parser
                .feed(part, &mut |event| {
                    events.push(event);
                    Ok(())
                })
                .unwrap();
        }
        (events, parser.comments)
    }

    #[test]
    fn events_across_any_boundary_and_line_ending() {
        for ending in ["\r\n", "\n", "\r"] {
            let stream = [
                "event: tick",
                "data: {\"n\": 1}",
                "id: 1",
                "",
                ": ping - 2026-01-01",
                "",
                "data:a",
                "data: b",
                "",
                "id: 9",
                "",
                "",
            ]
            .join(ending);
            for piece in 1..=stream.len() {
                let (events, comments) = parse_in_pieces(stream.as_bytes(), piece);
                assert_eq!(comments, 1, "{ending:?} piece {piece}");
                assert_eq!(
                    events,
                    vec![
                        Event {
                            event: Some("tick".into()),
                            data: "{\"n\": 1}".into(),
                            id: Some("1".into()),
                        },
                        Event {
                            event: None,
                            data: "a\nb".into(),
                            id: None,
                        },
                    ],
                    "{ending:?} piece {piece}"
                );
            }
        }
    }

    #[test]
    fn not_utf8_is_an_error() {
        let mut parser = Parser::default();
        assert!(parser.feed(b"data: \xff\n", &mut |_| Ok(())).is_err());
    }
}
