//! The small vocabularies that cross the seam, as Python classes of their own (instead of
//! integers each side would have to agree on by hand). Each mirrors a core type.

use ferroweb_core::{ContentKind as CoreContentKind, JobOutcome as CoreJobOutcome};
use ferroweb_core::{SubmitError, WriteOutcome as CoreWriteOutcome};
use pyo3::prelude::*;

/// The content type a full response is sent with (`RawRequest.respond`).
#[pyclass(
    eq,
    eq_int,
    frozen,
    from_py_object,
    module = "ferroweb._ferroweb",
    name = "ContentKind"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContentKind {
    #[pyo3(name = "JSON")]
    Json,
    #[pyo3(name = "TEXT")]
    Text,
    #[pyo3(name = "HTML")]
    Html,
    #[pyo3(name = "OCTET_STREAM")]
    OctetStream,
    #[pyo3(name = "PROBLEM_JSON")]
    ProblemJson,
    /// No content type is added: the response's own headers say.
    #[pyo3(name = "UNSPECIFIED")]
    Unspecified,
}

impl From<ContentKind> for CoreContentKind {
    fn from(kind: ContentKind) -> Self {
        match kind {
            ContentKind::Json => Self::Json,
            ContentKind::Text => Self::Text,
            ContentKind::Html => Self::Html,
            ContentKind::OctetStream => Self::OctetStream,
            ContentKind::ProblemJson => Self::ProblemJson,
            ContentKind::Unspecified => Self::Unspecified,
        }
    }
}

/// What a non-blocking write (a stream chunk, a WebSocket message) did.
#[pyclass(
    eq,
    eq_int,
    frozen,
    from_py_object,
    module = "ferroweb._ferroweb",
    name = "WriteOutcome"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WriteOutcome {
    /// Taken.
    #[pyo3(name = "WRITTEN")]
    Written,
    /// The buffer is full and nothing was taken: retry once the writable token arrives.
    #[pyo3(name = "FULL")]
    Full,
    /// The peer is gone; nothing more will be sent.
    #[pyo3(name = "CLOSED")]
    Closed,
}

impl From<CoreWriteOutcome> for WriteOutcome {
    fn from(outcome: CoreWriteOutcome) -> Self {
        match outcome {
            CoreWriteOutcome::Written => Self::Written,
            CoreWriteOutcome::Full => Self::Full,
            CoreWriteOutcome::Closed => Self::Closed,
        }
    }
}

/// What a WebSocket `receive` (or a test client's message callback) carries.
#[pyclass(
    eq,
    eq_int,
    frozen,
    from_py_object,
    module = "ferroweb._ferroweb",
    name = "MessageKind"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MessageKind {
    /// A text message (`str`).
    #[pyo3(name = "TEXT")]
    Text,
    /// A binary message (`bytes`).
    #[pyo3(name = "BINARY")]
    Binary,
    /// The connection closed: `(code, reason)`.
    #[pyo3(name = "CLOSED")]
    Closed,
}

/// What submitting a background job did.
#[pyclass(
    eq,
    eq_int,
    frozen,
    from_py_object,
    module = "ferroweb._ferroweb",
    name = "SubmitOutcome"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SubmitOutcome {
    #[pyo3(name = "QUEUED")]
    Queued,
    /// The queue is at `max_queue`: the job was not taken.
    #[pyo3(name = "QUEUE_FULL")]
    QueueFull,
    /// The supervisor is draining for shutdown: the job was not taken.
    #[pyo3(name = "SHUTTING_DOWN")]
    ShuttingDown,
}

impl<T> From<&Result<(), SubmitError<T>>> for SubmitOutcome {
    fn from(result: &Result<(), SubmitError<T>>) -> Self {
        match result {
            Ok(()) => Self::Queued,
            Err(SubmitError::QueueFull(_)) => Self::QueueFull,
            Err(SubmitError::ShuttingDown(_)) => Self::ShuttingDown,
        }
    }
}

/// How a background job ended.
#[pyclass(
    eq,
    eq_int,
    frozen,
    from_py_object,
    module = "ferroweb._ferroweb",
    name = "JobOutcome"
)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JobOutcome {
    #[pyo3(name = "COMPLETED")]
    Completed,
    #[pyo3(name = "FAILED")]
    Failed,
    /// Cancelled at shutdown, past the drain timeout.
    #[pyo3(name = "CANCELLED")]
    Cancelled,
}

impl From<JobOutcome> for CoreJobOutcome {
    fn from(outcome: JobOutcome) -> Self {
        match outcome {
            JobOutcome::Completed => Self::Completed,
            JobOutcome::Failed => Self::Failed,
            JobOutcome::Cancelled => Self::Cancelled,
        }
    }
}

pub(crate) fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<ContentKind>()?;
    module.add_class::<WriteOutcome>()?;
    module.add_class::<MessageKind>()?;
    module.add_class::<SubmitOutcome>()?;
    module.add_class::<JobOutcome>()
}
