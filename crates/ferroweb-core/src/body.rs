//! The body of a response served in process ([`crate::AppService::call_in_process`]). It is the
//! core's own type, so a binding depends on `http-body` alone, never on the framework the core
//! is built with.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// A response body as the core produced it; read it with any `http-body` utility.
pub struct InProcessBody(axum::body::Body);

impl InProcessBody {
    pub(crate) fn new(body: axum::body::Body) -> Self {
        Self(body)
    }
}

impl fmt::Debug for InProcessBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InProcessBody")
    }
}

/// Why a response body broke off (a stream aborted by the handler, a file that failed).
#[derive(Debug)]
pub struct BodyError(axum::Error);

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl http_body::Body for InProcessBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        Pin::new(&mut self.0).poll_frame(cx).map_err(BodyError)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}
