//! One queue handle: a reference to the shared core plus the handle's own pending get,
//! which is what makes every queue handle a `Stream` (as async-channel's `Receiver` is).
//!
//! # Why a heap node, reused
//!
//! A waiting get is an intrusive node in the core's getter list, so it must stay at one
//! address while linked. A `Get` future can hold its node inline because it is pinned; a
//! handle cannot: it is `Unpin` (so `q.next().await` needs no pinning) and is moved
//! freely between polls. So the handle keeps its node on the heap, allocated the first
//! time its stream has to wait and reused for every later wait: no allocation per item,
//! none at all for a handle whose stream never waits. The node is held as a raw pointer
//! (not a `Box`), because other threads reach it through the list while the handle moves,
//! and a moved `Box` would claim unique access to it.
//!
//! The pending get runs the very protocol of the `Get` future
//! ([`Core::poll_get`]/[`Core::cancel_get`]), so its hand-offs are the same: it keeps its
//! place in the FIFO line across polls, and dropping the handle while it waits hands an
//! item it was already given to the next getter (or back to the front of the queue).
//! Cloning a handle does not clone its pending get.

use super::core::{Core, Phase};
use crate::coop;
use crate::error::GetError;
use crate::loom::Arc;
use crate::waiters::Waiter;
use std::ops::Deref;
use std::ptr::NonNull;
use std::task::{ready, Context, Poll};

type Node<T> = Waiter<Option<T>>;

/// A queue handle's share of the core, and its stream's pending get.
pub(crate) struct Handle<T> {
    core: Arc<Core<T>>,
    /// The stream's getter node: allocated on the first wait, then reused; freed on drop.
    node: Option<NonNull<Node<T>>>,
    /// The stream's get: `Idle` (no get in progress) or `Waiting` (node linked, or woken
    /// and not yet polled). Never left `Done`.
    phase: Phase,
}

// SAFETY: the node is owned by the handle (freed only by it) and the core reaches it only
// under the core's lock or through the node's notified flag, as for a `Get` future, which
// is `Send` when `T: Send`. Moving the handle moves only the pointer.
unsafe impl<T: Send> Send for Handle<T> {}
// SAFETY: through `&Handle` nothing touches the node or the phase (only `&mut self`
// methods and `Drop` do); what remains is `&Core<T>`, which is `Sync` when `T: Send`.
unsafe impl<T: Send> Sync for Handle<T> {}

impl<T> Handle<T> {
    pub(crate) fn new(core: Core<T>) -> Self {
        Self::from_arc(Arc::new(core))
    }

    fn from_arc(core: Arc<Core<T>>) -> Self {
        Self {
            core,
            node: None,
            phase: Phase::Idle,
        }
    }

    /// The stream's next item: `Some(item)`, or `None` once the queue is shut down and
    /// empty. While it waits, this handle keeps its place among the getters.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let node = match self.node {
            Some(node) => node,
            None => {
                // This handle's stream never waited: take an item without a node if there
                // is one (the same check a get starts with), else allocate the node.
                ready!(coop::poll_proceed(cx));
                match self.core.get_nowait() {
                    Ok(v) => return Poll::Ready(Some(v)),
                    Err(GetError::ShutDown) => return Poll::Ready(None),
                    Err(GetError::Empty) => coop::refund(),
                }
                let node = Box::new(Waiter::new(None));
                // Never null; owned by this handle until `Drop` turns it back into a Box.
                let node = NonNull::from(Box::leak(node));
                self.node = Some(node);
                node
            }
        };
        // SAFETY: the node is alive while the handle is (freed only in `Drop`); shared
        // access only, as the core's other users have.
        let waiter = unsafe { node.as_ref() };
        // SAFETY: this node and phase belong to this handle's get, polled only on this
        // core; the node stays at its heap address until `Drop` cancels the get.
        match unsafe { self.core.poll_get(waiter, &mut self.phase, cx) } {
            Poll::Pending => {
                // A stream has no creation site of its own to name.
                crate::trace::record_at(&self.core.ops().get, 0, None);
                Poll::Pending
            }
            Poll::Ready(result) => {
                // The get completed: the node is unlinked (never linked, or popped and
                // notified) and ours alone. Reset it for the next wait.
                // SAFETY: unlinked and unshared; the old node is dropped in place first,
                // as `Pin::set` does, so the pinning contract holds.
                unsafe { *node.as_ptr() = Waiter::new(None) };
                self.phase = Phase::Idle;
                // `Err(QueueShutDown)`: shut down and empty, the stream ends.
                Poll::Ready(result.ok())
            }
        }
    }
}

impl<T> Deref for Handle<T> {
    type Target = Core<T>;

    fn deref(&self) -> &Core<T> {
        &self.core
    }
}

impl<T> Clone for Handle<T> {
    /// A new handle to the same queue, with no pending get of its own.
    fn clone(&self) -> Self {
        Self::from_arc(self.core.clone())
    }
}

impl<T> Drop for Handle<T> {
    fn drop(&mut self) {
        let Some(node) = self.node.take() else {
            return;
        };
        // SAFETY: alive until freed below.
        let waiter = unsafe { node.as_ref() };
        // Unlinks a waiting node, or hands on an item it was already given.
        // SAFETY: this handle's get, polled only on this core; `phase` is current.
        unsafe { self.core.cancel_get(waiter, self.phase) };
        // SAFETY: allocated as a Box in `poll_next`, now unlinked (cancelled or never
        // waiting) and no longer reachable by anyone else.
        drop(unsafe { Box::from_raw(node.as_ptr()) });
    }
}
