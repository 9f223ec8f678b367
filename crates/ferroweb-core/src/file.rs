//! Serving a file from disk: validators, conditional requests and single byte ranges
//! (RFC 9110 sections 8.8, 13 and 14), streamed from the file without the binding touching
//! its bytes.

mod conditional;
mod range;

use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use bytes::Bytes;
use futures_util::TryStreamExt;
use http::{header, HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

pub use conditional::RequestConditions;

use crate::problem::Problem;
use conditional::{unix_seconds, Precondition, Validators};
use range::RangeAnswer;

/// Bodies up to this size are read whole, in the same blocking step that opened the file:
/// one hop off the runtime per request instead of one per read.
const IN_MEMORY_LIMIT: u64 = 256 * 1024;

/// Larger bodies stream in chunks this big: few reads (each a hop to the blocking pool) per
/// megabyte, while many concurrent downloads stay cheap in memory.
const CHUNK_SIZE: usize = 256 * 1024;

/// `httpdate` panics at and after this instant (year 10000).
const HTTP_DATE_LIMIT: u64 = 253_402_300_800;

/// What a handler asks to send: a file from disk, served without the binding touching bytes.
#[derive(Debug, Clone)]
pub struct FileSpec {
    pub path: PathBuf,
    /// Normally 200. Preconditions only apply to a 2xx and ranges only to a 200, as RFC 9110
    /// sections 13.2.1 and 14.2 ask.
    pub status: StatusCode,
    /// Extra headers from the handler. They replace the derived ones of the same name
    /// (Content-Type, ETag, Last-Modified, ...), except the framing headers, which only the
    /// file decides.
    pub headers: HeaderMap,
    /// `None`: guessed from the extension, `application/octet-stream` when unknown. A `text/*`
    /// type without a charset gets `; charset=utf-8`.
    pub media_type: Option<String>,
    /// `Some`: sent as an attachment under this name (Content-Disposition).
    pub filename: Option<String>,
    pub conditions: RequestConditions,
}

impl FileSpec {
    /// A 200 with the file at `path`, its type guessed, for a plain GET.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            media_type: None,
            filename: None,
            conditions: RequestConditions::default(),
        }
    }
}

/// Builds the response off the runtime (see [`serve_file_blocking`]).
pub(crate) async fn serve_file(spec: FileSpec) -> Response<Body> {
    tokio::task::spawn_blocking(move || serve_file_blocking(spec))
        .await
        .unwrap_or_else(|error| {
            tracing::error!(%error, "serving a file failed");
            Failure::Internal.into_response()
        })
}

/// Blocking: stats and opens the file, answers conditional and range requests, and reads a
/// small body whole; a larger one streams from the runtime in 256 KiB chunks. Every failure is
/// a problem details response (404 for a missing or non-regular file, 403 for a forbidden one).
/// Call it on a blocking thread.
pub(crate) fn serve_file_blocking(spec: FileSpec) -> Response<Body> {
    match serve(spec) {
        Ok(response) => response,
        Err(failure) => failure.into_response(),
    }
}

/// Why no file is sent; small, so that results stay cheap to pass around.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    NotFound,
    Forbidden,
    PreconditionFailed,
    Internal,
}

impl Failure {
    /// The path stays out of the problem details: it is the server's business, not the client's.
    fn into_response(self) -> Response<Body> {
        let problem = match self {
            Self::NotFound => Problem::new(StatusCode::NOT_FOUND)
                .with_detail("The requested file does not exist."),
            Self::Forbidden => Problem::new(StatusCode::FORBIDDEN)
                .with_detail("The requested file may not be read."),
            Self::PreconditionFailed => Problem::new(StatusCode::PRECONDITION_FAILED),
            Self::Internal => Problem::new(StatusCode::INTERNAL_SERVER_ERROR),
        };
        problem.into_response()
    }
}

fn serve(spec: FileSpec) -> Result<Response<Body>, Failure> {
    let path = spec.path.as_path();
    let metadata = std::fs::metadata(path).map_err(|error| io_failure(path, &error))?;
    // Checked before opening: opening a FIFO would wait for a writer, a directory would only
    // fail at the first read.
    if !metadata.is_file() {
        return Err(Failure::NotFound);
    }
    let file = std::fs::File::open(path).map_err(|error| io_failure(path, &error))?;
    respond(
        &spec,
        metadata.len(),
        metadata.modified().ok(),
        Source::Disk(file),
    )
}

/// A file's bytes held in memory, with the modification time its validators come from.
#[derive(Debug, Clone)]
pub(crate) struct MemoryFile {
    pub(crate) bytes: Bytes,
    pub(crate) modified: Option<SystemTime>,
}

impl MemoryFile {
    /// Blocking: the regular file at `path` read whole, when it has at most `limit` bytes.
    /// `None` otherwise, or on any error: the caller then serves from disk, which reports the
    /// error as it should.
    pub(crate) fn read(path: &Path, limit: u64) -> Option<Self> {
        let file = std::fs::File::open(path).ok()?;
        // The open file's own metadata: what is read below is what these describe.
        let metadata = file.metadata().ok()?;
        if !metadata.is_file() || metadata.len() > limit {
            return None;
        }
        let len = metadata.len();
        let mut bytes = Vec::with_capacity(usize::try_from(len).ok()?);
        file.take(len).read_to_end(&mut bytes).ok()?;
        // A file that shrank or grew while it was read is left to the disk path.
        (bytes.len() as u64 == len).then(|| Self {
            bytes: Bytes::from(bytes),
            modified: metadata.modified().ok(),
        })
    }

    /// Whether `metadata` still describes the same file contents, as far as its validators can
    /// tell (they are made of the size and the modification time).
    pub(crate) fn matches(&self, metadata: &std::fs::Metadata) -> bool {
        self.bytes.len() as u64 == metadata.len() && self.modified == metadata.modified().ok()
    }
}

/// Answers for a file held in memory: validators, conditions and ranges as for one on disk,
/// with no I/O at all, so it runs on the runtime.
pub(crate) fn serve_memory(spec: &FileSpec, file: &MemoryFile) -> Response<Body> {
    let len = file.bytes.len() as u64;
    respond(spec, len, file.modified, Source::Memory(&file.bytes))
        .unwrap_or_else(Failure::into_response)
}

/// Where the bytes of a response come from.
enum Source<'a> {
    Disk(std::fs::File),
    Memory(&'a Bytes),
}

/// The response for a file of `len` bytes last modified at `modified`.
fn respond(
    spec: &FileSpec,
    len: u64,
    modified: Option<SystemTime>,
    source: Source<'_>,
) -> Result<Response<Body>, Failure> {
    let path = spec.path.as_path();
    let mut headers = derived_headers(spec, modified, len)?;
    let validators = Validators::from_headers(&headers);
    let conditions = &spec.conditions;

    if spec.status.is_success() {
        match conditions.evaluate(&validators) {
            Precondition::Proceed => {}
            Precondition::NotModified => return Ok(not_modified(&headers)),
            Precondition::Failed => return Err(Failure::PreconditionFailed),
        }
    }

    let mut status = spec.status;
    let (mut start, mut count) = (0, len);
    if status == StatusCode::OK {
        if let Some(range) = conditions.range() {
            if conditions.if_range_holds(&validators) {
                match range::resolve(range, len) {
                    RangeAnswer::Full => {}
                    RangeAnswer::Partial(part) => {
                        let (first, last) = part.into_inner();
                        let content_range = format!("bytes {first}-{last}/{len}");
                        headers.insert(header::CONTENT_RANGE, header_value(content_range)?);
                        status = StatusCode::PARTIAL_CONTENT;
                        (start, count) = (first, last - first + 1);
                    }
                    RangeAnswer::Unsatisfiable => return Ok(range_not_satisfiable(len)),
                }
            }
        }
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(count));

    let body = if conditions.is_head() || count == 0 {
        Body::empty()
    } else {
        match source {
            Source::Memory(bytes) => {
                // The range was resolved against `len`, the length of these very bytes.
                let first = usize::try_from(start).map_err(|_| Failure::Internal)?;
                let end = usize::try_from(start + count).map_err(|_| Failure::Internal)?;
                if end > bytes.len() {
                    return Err(Failure::Internal);
                }
                Body::from(bytes.slice(first..end))
            }
            Source::Disk(file) => disk_body(file, path, start, count)?,
        }
    };

    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// `count` bytes of `file` from `start`: read now when small, streamed otherwise.
fn disk_body(
    mut file: std::fs::File,
    path: &Path,
    start: u64,
    count: u64,
) -> Result<Body, Failure> {
    if start > 0 {
        file.seek(SeekFrom::Start(start))
            .map_err(|error| io_failure(path, &error))?;
    }
    if count <= IN_MEMORY_LIMIT {
        return read_whole(file, count, path);
    }
    let shown = path.display().to_string();
    let file = tokio::fs::File::from_std(file);
    let chunks = ReaderStream::with_capacity(file.take(count), CHUNK_SIZE).map_err(move |error| {
        // The status line is gone by now; hyper ends the connection on this error.
        tracing::error!(path = %shown, %error, "reading a file failed mid-response");
        error
    });
    Ok(Body::from_stream(chunks))
}

/// `count` bytes from where `file` stands; a file that shrank since it was measured is an
/// error (the Content-Length is already decided).
fn read_whole(file: std::fs::File, count: u64, path: &Path) -> Result<Body, Failure> {
    let mut bytes = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    file.take(count)
        .read_to_end(&mut bytes)
        .map_err(|error| io_failure(path, &error))?;
    if bytes.len() as u64 != count {
        tracing::error!(path = %path.display(), "a file shrank while it was being served");
        return Err(Failure::Internal);
    }
    Ok(Body::from(bytes))
}

/// The headers describing the whole file, then the handler's, which win on a shared name.
fn derived_headers(
    spec: &FileSpec,
    modified: Option<SystemTime>,
    len: u64,
) -> Result<HeaderMap, Failure> {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, content_type(spec)?);
    if let Some(filename) = &spec.filename {
        headers.insert(header::CONTENT_DISPOSITION, content_disposition(filename)?);
    }
    if let Some(seconds) = modified
        .and_then(unix_seconds)
        .filter(|&seconds| seconds < HTTP_DATE_LIMIT)
    {
        let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(seconds));
        headers.insert(header::LAST_MODIFIED, header_value(date)?);
    }
    // Nanoseconds rather than seconds, so that a rewrite of the same size within one second
    // still changes the tag; that is what lets the tag be strong (and so usable by If-Range).
    if let Some(nanos) = modified.and_then(|time| time.duration_since(UNIX_EPOCH).ok()) {
        let etag = format!("\"{:x}-{len:x}\"", nanos.as_nanos());
        headers.insert(header::ETAG, header_value(etag)?);
    }
    if spec.status == StatusCode::OK {
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    }

    let mut extra = spec.headers.clone();
    for framing in [
        header::CONTENT_LENGTH,
        header::CONTENT_RANGE,
        header::TRANSFER_ENCODING,
    ] {
        extra.remove(framing);
    }
    headers.extend(extra);
    Ok(headers)
}

fn content_type(spec: &FileSpec) -> Result<HeaderValue, Failure> {
    let mut media_type = match &spec.media_type {
        Some(media_type) => media_type.clone(),
        None => mime_guess::from_path(&spec.path)
            .first_raw()
            .unwrap_or("application/octet-stream")
            .to_owned(),
    };
    if media_type.starts_with("text/") && !media_type.to_ascii_lowercase().contains("charset=") {
        media_type.push_str("; charset=utf-8");
    }
    header_value(media_type)
}

/// RFC 5987 attr-char: what may stand unescaped in `filename*`.
const ATTR_CHAR_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `filename="..."` alone when the name fits a quoted string as it is; otherwise an ASCII
/// stand-in for old clients plus the exact name in `filename*` (RFC 6266 section 4.3), which
/// current clients prefer.
fn content_disposition(filename: &str) -> Result<HeaderValue, Failure> {
    let quotable = |c: char| (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\';
    let value = if filename.chars().all(quotable) {
        format!("attachment; filename=\"{filename}\"")
    } else {
        let fallback: String = filename
            .chars()
            .map(|c| if quotable(c) { c } else { '_' })
            .collect();
        let encoded = utf8_percent_encode(filename, ATTR_CHAR_ESCAPES);
        format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
    };
    header_value(value)
}

/// A handler's media type may hold bytes no header can carry; that is the handler's bug.
fn header_value(value: String) -> Result<HeaderValue, Failure> {
    HeaderValue::try_from(value).map_err(|error| {
        tracing::error!(%error, "a file response header is not a valid header value");
        Failure::Internal
    })
}

/// RFC 9110 section 15.4.5: a 304 carries the headers a cache needs to refresh its stored
/// response, and nothing that describes a body.
fn not_modified(headers: &HeaderMap) -> Response<Body> {
    const KEPT: [HeaderName; 7] = [
        header::ETAG,
        header::LAST_MODIFIED,
        header::CACHE_CONTROL,
        header::CONTENT_LOCATION,
        header::DATE,
        header::EXPIRES,
        header::VARY,
    ];
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    for name in KEPT {
        for value in headers.get_all(&name) {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    response
}

fn range_not_satisfiable(len: u64) -> Response<Body> {
    let mut extra = HeaderMap::new();
    if let Ok(value) = HeaderValue::try_from(format!("bytes */{len}")) {
        extra.insert(header::CONTENT_RANGE, value);
    }
    Problem::new(StatusCode::RANGE_NOT_SATISFIABLE)
        .with_detail(format!("The file has {len} bytes."))
        .into_response_with(extra)
}

fn io_failure(path: &Path, error: &io::Error) -> Failure {
    match error.kind() {
        // InvalidInput: a path with a NUL byte, which cannot name a file.
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory | io::ErrorKind::InvalidInput => {
            Failure::NotFound
        }
        io::ErrorKind::PermissionDenied => Failure::Forbidden,
        _ => {
            tracing::error!(path = %path.display(), %error, "serving a file failed");
            Failure::Internal
        }
    }
}

#[cfg(test)]
mod tests;
