//! The contract between the core and a language binding.

use tokio::sync::oneshot;

use crate::request::PendingRequest;
use crate::response::HandlerResponse;

/// Runs handlers for routed requests. Implementations must not block: `dispatch` is called on
/// a tokio worker thread and should only enqueue the request for the binding's own thread.
pub trait Dispatch: Send + Sync + 'static {
    /// Takes the request, or gives it back when the binding can no longer accept work (for
    /// example while shutting down); the core then answers 503 itself.
    fn dispatch(&self, request: PendingRequest) -> Result<(), Box<PendingRequest>>;

    /// Called on a runtime thread that has run out of work and is about to sleep. A binding
    /// that batches hand-overs wakes its own thread here: everything dispatched during this
    /// runtime tick then costs a single wake-up (and a single context switch).
    fn runtime_idle(&self) {}
}

/// The slot a handler's response goes into. Answering twice is impossible by construction;
/// dropping it unanswered makes the core send a 500.
#[derive(Debug)]
pub struct Reply(oneshot::Sender<HandlerResponse>);

impl Reply {
    pub(crate) fn channel() -> (Self, oneshot::Receiver<HandlerResponse>) {
        let (sender, receiver) = oneshot::channel();
        (Self(sender), receiver)
    }

    /// Sends the response; returns false if the client is gone (the request was cancelled).
    pub fn send(self, response: HandlerResponse) -> bool {
        self.0.send(response).is_ok()
    }

    /// True when nobody waits for the answer any more (client disconnected, server stopped).
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
}
