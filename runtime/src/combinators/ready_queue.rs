//! The ready queue behind `gather`, `try_gather`, `wait`, `as_completed` and
//! `TaskGroup::join`: a parent that drives many children polls only the children that
//! were woken since its last poll.
//!
//! Each child gets one small `Arc` waker holding its index and a `queued` flag. Waking a
//! child whose flag is clear sets the flag, pushes the index onto the shared ready list
//! and wakes the parent (only the first wake after the parent's last poll does: it takes
//! the parent's waker). A parent poll registers its waker, moves the ready list into its
//! local buffer and pops indices from that snapshot; popping clears the flag *before* the
//! child is polled, so a wake during or after that poll queues the child again. A round
//! costs O(woken children), never O(all children), and a child that keeps waking itself
//! is polled once per parent poll instead of spinning inside one.

use std::sync::Arc; // std's Arc: `Waker::from` needs it, also under loom.
use std::task::{Wake, Waker};

use crate::loom::{AtomicBool, Mutex, Ordering};

/// Per-child wakers feeding a FIFO of ready child indices.
pub(crate) struct ReadyQueue {
    shared: Arc<Shared>,
    /// One entry per child: the record (for its flag) and a waker built from it once.
    children: Vec<Child>,
    /// Indices taken from the shared list, popped from `pos` on.
    buf: Vec<usize>,
    pos: usize,
}

struct Child {
    record: Arc<ChildWaker>,
    waker: Waker,
}

/// What the parent and all child wakers share.
struct Shared {
    inner: Mutex<Inner>,
}

struct Inner {
    /// Indices woken since the parent last looked, in wake order.
    ready: Vec<usize>,
    /// The parent's waker; taken by the first child wake after the parent's poll.
    parent: Option<Waker>,
}

/// The waker of one child.
struct ChildWaker {
    shared: Arc<Shared>,
    index: usize,
    /// Set while the index is in the ready list or the parent's buffer.
    queued: AtomicBool,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // AcqRel: pairs with the parent's `swap(false)` in `pop`, so whatever the waker's
        // caller wrote before waking is visible to the poll that follows.
        if self.queued.swap(true, Ordering::AcqRel) {
            return; // Already queued: the parent will poll this child anyway.
        }
        let parent = {
            let mut inner = self.shared.inner.lock();
            inner.ready.push(self.index);
            inner.parent.take()
        };
        // Wake outside the lock.
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

impl ReadyQueue {
    /// A queue for `len` children, all of them queued (each child is polled once first).
    pub(crate) fn new(len: usize) -> ReadyQueue {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                ready: Vec::new(),
                parent: None,
            }),
        });
        let mut queue = ReadyQueue {
            shared,
            children: Vec::with_capacity(len),
            buf: Vec::with_capacity(len),
            pos: 0,
        };
        for _ in 0..len {
            queue.push_child();
        }
        queue
    }

    /// Adds a child (queued, so it is polled on the parent's next round); returns its index.
    pub(crate) fn push_child(&mut self) -> usize {
        let index = self.children.len();
        let record = Arc::new(ChildWaker {
            shared: self.shared.clone(),
            index,
            queued: AtomicBool::new(true),
        });
        let waker = Waker::from(record.clone());
        self.children.push(Child { record, waker });
        self.buf.push(index);
        index
    }

    /// Starts a parent poll: registers the parent's waker and takes every index woken
    /// since the last call (after the ones left over from an interrupted round).
    pub(crate) fn begin(&mut self, parent: &Waker) {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let mut inner = self.shared.inner.lock();
        match &inner.parent {
            Some(w) if w.will_wake(parent) => {}
            _ => inner.parent = Some(parent.clone()),
        }
        self.buf.append(&mut inner.ready);
    }

    /// The next child to poll in this round, if any. Its `queued` flag is cleared, so the
    /// caller must poll it now with [`ReadyQueue::waker`].
    pub(crate) fn pop(&mut self) -> Option<usize> {
        let index = *self.buf.get(self.pos)?;
        self.pos += 1;
        self.children[index]
            .record
            .queued
            .swap(false, Ordering::AcqRel);
        Some(index)
    }

    /// The waker to poll child `index` with.
    pub(crate) fn waker(&self, index: usize) -> &Waker {
        &self.children[index].waker
    }
}

impl std::fmt::Debug for ReadyQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadyQueue")
            .field("children", &self.children.len())
            .field("queued_locally", &(self.buf.len() - self.pos))
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use corio_test_util::counting_waker;

    fn drain(q: &mut ReadyQueue) -> Vec<usize> {
        std::iter::from_fn(|| q.pop()).collect()
    }

    #[test]
    fn every_child_is_queued_first() {
        let mut q = ReadyQueue::new(4);
        q.begin(Waker::noop());
        assert_eq!(drain(&mut q), vec![0, 1, 2, 3]);
        q.begin(Waker::noop());
        assert_eq!(drain(&mut q), Vec::<usize>::new());
    }

    #[test]
    fn wakes_are_deduplicated_and_in_wake_order() {
        let (parent_waker, parent) = counting_waker();
        let mut q = ReadyQueue::new(5);
        q.begin(&parent_waker);
        drain(&mut q);
        q.waker(3).wake_by_ref();
        q.waker(1).wake_by_ref();
        q.waker(3).wake_by_ref();
        let by_value = q.waker(1).clone();
        by_value.wake();
        // Only the first wake after the parent's poll wakes the parent.
        assert_eq!(parent.get(), 1);
        q.begin(&parent_waker);
        assert_eq!(drain(&mut q), vec![3, 1]);
        // Popping cleared the flags: a new wake queues again and wakes the parent again.
        q.waker(3).wake_by_ref();
        assert_eq!(parent.get(), 2);
        q.begin(&parent_waker);
        assert_eq!(drain(&mut q), vec![3]);
    }

    #[test]
    fn an_interrupted_round_keeps_its_leftovers_first() {
        let mut q = ReadyQueue::new(3);
        q.begin(Waker::noop());
        assert_eq!(q.pop(), Some(0));
        q.waker(0).wake_by_ref();
        q.begin(Waker::noop());
        assert_eq!(drain(&mut q), vec![1, 2, 0]);
    }

    #[test]
    fn pushed_children_are_queued() {
        let mut q = ReadyQueue::new(0);
        assert_eq!(q.push_child(), 0);
        assert_eq!(q.push_child(), 1);
        q.begin(Waker::noop());
        assert_eq!(drain(&mut q), vec![0, 1]);
    }
}
