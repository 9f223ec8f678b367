//! A minimal HTTP/1.1 client over a plain `TcpStream`: enough to send a GET, parse the response
//! head and hand the body (content-length, chunked or read-until-close) to a sink piece by piece,
//! without ever holding a whole body in memory.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Read buffer size: large enough that a 100 MB body costs few syscalls.
const BUFFER: usize = 256 * 1024;

/// Where to send requests: `http://host[:port]/path?query`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    /// Path and query, as sent on the request line.
    pub path: String,
}

impl Target {
    /// Parses an `http://` URL (no TLS, no userinfo).
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url:?}: only http:// URLs are supported"))?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || authority.starts_with('[') => (
                host,
                port.parse::<u16>()
                    .map_err(|_| format!("{url:?}: bad port {port:?}"))?,
            ),
            _ => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("{url:?}: no host"));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
            path,
        })
    }

    /// The bytes of a keep-alive GET request for this target.
    pub fn get_request(&self, extra_headers: &str) -> Vec<u8> {
        format!(
            "GET {} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: ferroweb-loadgen\r\n{extra_headers}\r\n",
            self.path, self.host, self.port
        )
        .into_bytes()
    }
}

/// How the response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Length(u64),
    Chunked,
    UntilClose,
}

/// The parts of a response head the workloads look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: BodyKind,
    /// The server will close the connection after this response.
    pub close: bool,
}

/// One client connection.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    timeout: Duration,
}

impl Conn {
    pub async fn connect(target: &Target, limit: Duration) -> Result<Self, String> {
        let stream = timeout(
            limit,
            TcpStream::connect((target.host.as_str(), target.port)),
        )
        .await
        .map_err(|_| format!("connect timed out after {limit:?}"))?
        .map_err(|err| format!("connect: {err}"))?;
        stream
            .set_nodelay(true)
            .map_err(|err| format!("set_nodelay: {err}"))?;
        Ok(Self {
            stream,
            buf: vec![0; BUFFER],
            start: 0,
            end: 0,
            timeout: limit,
        })
    }

    pub async fn send(&mut self, request: &[u8]) -> Result<(), String> {
        timeout(self.timeout, self.stream.write_all(request))
            .await
            .map_err(|_| format!("write timed out after {:?}", self.timeout))?
            .map_err(|err| format!("write: {err}"))
    }

    /// Reads more bytes into the buffer; `Ok(0)` is end of stream.
    async fn fill(&mut self) -> Result<usize, String> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            if self.start == 0 {
                return Err(format!("response head larger than {BUFFER} bytes"));
            }
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let read = timeout(self.timeout, self.stream.read(&mut self.buf[self.end..]))
            .await
            .map_err(|_| format!("read timed out after {:?}", self.timeout))?
            .map_err(|err| format!("read: {err}"))?;
        self.end += read;
        Ok(read)
    }

    /// Reads and parses the next response head (skipping `1xx` interim responses).
    pub async fn read_head(&mut self) -> Result<Head, String> {
        loop {
            let parsed = {
                let mut headers = [httparse::EMPTY_HEADER; 64];
                let mut response = httparse::Response::new(&mut headers);
                match response.parse(&self.buf[self.start..self.end]) {
                    Ok(httparse::Status::Complete(length)) => Some((length, head_of(&response)?)),
                    Ok(httparse::Status::Partial) => None,
                    Err(err) => return Err(format!("bad response head: {err}")),
                }
            };
            match parsed {
                Some((length, head)) => {
                    self.start += length;
                    if (100..200).contains(&head.status) {
                        continue;
                    }
                    return Ok(head);
                }
                None => {
                    if self.fill().await? == 0 {
                        return Err(if self.start == self.end {
                            "connection closed before a response".to_owned()
                        } else {
                            "connection closed inside the response head".to_owned()
                        });
                    }
                }
            }
        }
    }

    /// Hands the body to `sink` piece by piece; returns its length.
    pub async fn read_body<F>(&mut self, kind: BodyKind, sink: &mut F) -> Result<u64, String>
    where
        F: FnMut(&[u8]) -> Result<(), String>,
    {
        let mut total = 0u64;
        match kind {
            BodyKind::Length(length) => {
                while total < length {
                    if self.start == self.end && self.fill().await? == 0 {
                        return Err(format!(
                            "connection closed after {total} of {length} body bytes"
                        ));
                    }
                    let available = (self.end - self.start) as u64;
                    let take = available.min(length - total) as usize;
                    sink(&self.buf[self.start..self.start + take])?;
                    self.start += take;
                    total += take as u64;
                }
            }
            BodyKind::Chunked => {
                let mut decoder = ChunkedDecoder::default();
                loop {
                    if self.start == self.end && self.fill().await? == 0 {
                        return Err(format!(
                            "connection closed inside a chunked body after {total} bytes"
                        ));
                    }
                    let mut counting = |piece: &[u8]| {
                        total += piece.len() as u64;
                        sink(piece)
                    };
                    let (used, done) =
                        decoder.feed(&self.buf[self.start..self.end], &mut counting)?;
                    self.start += used;
                    if done {
                        break;
                    }
                }
            }
            BodyKind::UntilClose => loop {
                if self.start == self.end && self.fill().await? == 0 {
                    break;
                }
                sink(&self.buf[self.start..self.end])?;
                total += (self.end - self.start) as u64;
                self.start = self.end;
            },
        }
        Ok(total)
    }
}

fn head_of(response: &httparse::Response<'_, '_>) -> Result<Head, String> {
    let status = response.code.ok_or("response without a status code")?;
    let mut content_type = None;
    let mut length = None;
    let mut chunked = false;
    let mut close = response.version == Some(0);
    for header in response.headers.iter() {
        let value = String::from_utf8_lossy(header.value);
        if header.name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.into_owned());
        } else if header.name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| format!("bad content-length {value:?}"))?,
            );
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        } else if header.name.eq_ignore_ascii_case("connection") {
            let value = value.to_ascii_lowercase();
            if value.contains("close") {
                close = true;
            } else if value.contains("keep-alive") {
                close = false;
            }
        }
    }
    let no_body = (100..200).contains(&status) || status == 204 || status == 304;
    let body = if no_body {
        BodyKind::Length(0)
    } else if chunked {
        BodyKind::Chunked
    } else if let Some(length) = length {
        BodyKind::Length(length)
    } else {
        close = true;
        BodyKind::UntilClose
    };
    Ok(Head {
        status,
        content_type,
        body,
        close,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Size,
    Extension,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    TrailerStart,
    TrailerLine,
    FinalLf,
    Done,
}

/// Decodes `Transfer-Encoding: chunked` incrementally, across arbitrary read boundaries.
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: State,
    size: u64,
    digits: u32,
    remaining: u64,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self {
            state: State::Size,
            size: 0,
            digits: 0,
            remaining: 0,
        }
    }
}

impl ChunkedDecoder {
    /// Feeds bytes; chunk data goes to `sink`. Returns how many bytes were used and whether the
    /// body ended (bytes after the end are left for the next response).
    pub fn feed<F>(&mut self, input: &[u8], sink: &mut F) -> Result<(usize, bool), String>
    where
        F: FnMut(&[u8]) -> Result<(), String>,
    {
        let mut at = 0;
        while at < input.len() && self.state != State::Done {
            if self.state == State::Data {
                let take =
                    (input.len() - at).min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
                sink(&input[at..at + take])?;
                at += take;
                self.remaining -= take as u64;
                if self.remaining == 0 {
                    self.state = State::DataCr;
                }
                continue;
            }
            let byte = input[at];
            at += 1;
            self.state = match (self.state, byte) {
                (State::Size, b) if b.is_ascii_hexdigit() => {
                    let digit = u64::from((b as char).to_digit(16).unwrap_or(0));
                    self.size = self
                        .size
                        .checked_mul(16)
                        .and_then(|size| size.checked_add(digit))
                        .ok_or("chunk size overflows")?;
                    self.digits += 1;
                    State::Size
                }
                (State::Size, b';' | b' ' | b'\t') if self.digits > 0 => State::Extension,
                (State::Size | State::Extension, b'\r') if self.digits > 0 => State::SizeLf,
                (State::Size | State::Extension | State::SizeLf, b'\n') if self.digits > 0 => {
                    self.end_of_size_line()
                }
                (State::Extension, _) => State::Extension,
                (State::DataCr, b'\r') => State::DataLf,
                (State::DataCr | State::DataLf, b'\n') => State::Size,
                (State::TrailerStart, b'\r') => State::FinalLf,
                (State::TrailerStart | State::FinalLf, b'\n') => State::Done,
                (State::TrailerLine, b'\n') => State::TrailerStart,
                (State::TrailerStart | State::TrailerLine, _) => State::TrailerLine,
                (state, b) => {
                    return Err(format!(
                        "malformed chunked body: byte {b:#04x} in state {state:?}"
                    ))
                }
            };
        }
        Ok((at, self.state == State::Done))
    }

    fn end_of_size_line(&mut self) -> State {
        let size = self.size;
        self.size = 0;
        self.digits = 0;
        if size == 0 {
            State::TrailerStart
        } else {
            self.remaining = size;
            State::Data
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &[u8], piece: usize) -> (Vec<u8>, usize, bool) {
        let mut decoder = ChunkedDecoder::default();
        let mut out = Vec::new();
        let mut used_total = 0;
        let mut done = false;
        for part in input.chunks(piece) {
            let mut sink = |data: &[u8]| {
                out.extend_from_slice(data);
                Ok(())
            };
            let (used, finished) = decoder.feed(part, &mut sink).unwrap();
            used_total += used;
            if finished {
                done = true;
                break;
            }
        }
        (out, used_total, done)
    }

    #[test]
    fn chunked_across_any_boundary() {
        let body = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-trailer: 1\r\n\r\nNEXT";
        for piece in 1..body.len() {
            let (out, used, done) = decode_in_pieces(body, piece);
            assert!(done, "piece {piece}");
            assert_eq!(out, b"hello world");
            assert_eq!(used, body.len() - 4, "piece {piece}");
        }
    }

    #[test]
    fn chunked_without_trailer_and_lf_only() {
        let (out, _, done) = decode_in_pieces(b"3\r\nabc\r\n0\r\n\r\n", 1000);
        assert!(done);
        assert_eq!(out, b"abc");
        let (out, _, done) = decode_in_pieces(b"3\nabc\n0\n\n", 1000);
        assert!(done);
        assert_eq!(out, b"abc");
    }

    #[test]
    fn chunked_errors() {
        let mut sink = |_: &[u8]| Ok(());
        assert!(ChunkedDecoder::default()
            .feed(b"zz\r\n", &mut sink)
            .is_err());
        assert!(ChunkedDecoder::default()
            .feed(b"3\r\nabcX", &mut sink)
            .is_err());
        assert!(ChunkedDecoder::default()
            .feed(b"ffffffffffffffffff\r\n", &mut sink)
            .is_err());
    }

    #[test]
    fn urls() {
        let target = Target::parse("http://127.0.0.1:8000/stream?mb=100").unwrap();
        assert_eq!(target.host, "127.0.0.1");
        assert_eq!(target.port, 8000);
        assert_eq!(target.path, "/stream?mb=100");
        let target = Target::parse("http://localhost").unwrap();
        assert_eq!((target.port, target.path.as_str()), (80, "/"));
        let target = Target::parse("http://[::1]:9/x").unwrap();
        assert_eq!((target.host.as_str(), target.port), ("::1", 9));
        assert!(Target::parse("https://x/").is_err());
        assert!(Target::parse("http://x:port/").is_err());
    }

    #[test]
    fn heads() {
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut response = httparse::Response::new(&mut headers);
        response
            .parse(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            .unwrap();
        let head = head_of(&response).unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(head.content_type.as_deref(), Some("text/event-stream"));
        assert_eq!(head.body, BodyKind::Chunked);
        assert!(!head.close);

        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut response = httparse::Response::new(&mut headers);
        response.parse(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
        let head = head_of(&response).unwrap();
        assert_eq!(head.body, BodyKind::UntilClose);
        assert!(head.close);
    }
}
