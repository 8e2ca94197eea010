//! The in-place child set behind `gather` and `try_gather`: every child future lives in
//! one boxed slice (no per-child box), is polled where it lies, and is replaced by its
//! output when it completes.

use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::ready_queue::ReadyQueue;

/// One child: running, finished with its output, or emptied.
enum Slot<F: Future> {
    Running(F),
    Done(F::Output),
    Taken,
}

/// A fixed set of futures polled concurrently, in place.
pub(crate) struct Children<F: Future> {
    /// Never reallocated or moved out of while a slot is `Running`: the futures are
    /// pinned here (see `poll`).
    slots: Box<[Slot<F>]>,
    queue: ReadyQueue,
    /// Slots still `Running`.
    running: usize,
}

impl<F: Future> Children<F> {
    /// Collects the futures; none is polled yet.
    pub(crate) fn new(futs: impl IntoIterator<Item = F>) -> Children<F> {
        let slots: Box<[Slot<F>]> = futs.into_iter().map(Slot::Running).collect();
        let running = slots.len();
        Children {
            queue: ReadyQueue::new(running),
            slots,
            running,
        }
    }

    /// Children still running.
    pub(crate) fn running(&self) -> usize {
        self.running
    }

    /// Polls the children woken since the last call (all of them the first time).
    ///
    /// Returns `Ready(None)` once every child finished, `Ready(Some(i))` as soon as child
    /// `i` finishes with an output for which `stop` is true (its output stays in its slot
    /// for [`Children::take`]), `Pending` otherwise. Stops early, leaving the rest of the
    /// round queued and waking the parent, when the task's cooperative budget runs out.
    pub(crate) fn poll(
        &mut self,
        cx: &mut Context<'_>,
        mut stop: impl FnMut(&F::Output) -> bool,
    ) -> Poll<Option<usize>> {
        if self.running == 0 {
            return Poll::Ready(None);
        }
        self.queue.begin(cx.waker());
        while self.running > 0 {
            if !corio_sync::coop::has_budget_remaining() {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let Some(i) = self.queue.pop() else {
                return Poll::Pending;
            };
            let Slot::Running(fut) = &mut self.slots[i] else {
                continue; // A stale wake of a finished child.
            };
            // SAFETY: `fut` lives in the heap slice `self.slots`, which is allocated once
            // in `new` and never reallocated; a `Running` slot's future is never moved out
            // (slots are only overwritten in place, which drops the future where it lies,
            // or dropped with the slice). So the future stays at this address until it is
            // dropped, which is what pinning requires, even if `Children` itself moves.
            let fut = unsafe { Pin::new_unchecked(fut) };
            let mut child_cx = Context::from_waker(self.queue.waker(i));
            if let Poll::Ready(out) = fut.poll(&mut child_cx) {
                let stop_here = stop(&out);
                // Drops the finished future in place.
                self.slots[i] = Slot::Done(out);
                self.running -= 1;
                if stop_here {
                    return Poll::Ready(Some(i));
                }
            }
        }
        Poll::Ready(None)
    }

    /// Takes the output of child `i`, which must have finished.
    pub(crate) fn take(&mut self, i: usize) -> F::Output {
        // Check first: moving a `Running` slot out would move a pinned future.
        assert!(
            matches!(self.slots[i], Slot::Done(_)),
            "child {i} has no output to take"
        );
        match mem::replace(&mut self.slots[i], Slot::Taken) {
            Slot::Done(out) => out,
            _ => unreachable!("checked above"),
        }
    }

    /// Takes every output, in argument order; every child must have finished.
    pub(crate) fn take_all(&mut self) -> Vec<F::Output> {
        (0..self.slots.len()).map(|i| self.take(i)).collect()
    }

    /// Drops every child (running futures and unclaimed outputs) now.
    pub(crate) fn clear(&mut self) {
        self.slots = Box::new([]);
        self.running = 0;
    }
}

impl<F: Future> std::fmt::Debug for Children<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Children")
            .field("len", &self.slots.len())
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}
