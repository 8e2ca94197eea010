//! The LIFO slot: where a worker's most recent wake-up lands, run next for message-passing
//! locality. An atomic pointer, so other workers can take a task out of it when its owner
//! is stuck in a long poll (no task is ever stranded behind a busy worker).
//!
//! Ownership rule: a pointer is owned by whoever swapped it out of the slot — the pusher
//! whose `push` displaced it, or the owner or thief whose `take` got it. Every operation is
//! one atomic swap, so each task leaves the slot exactly once.

use std::ptr::{self, NonNull};

use crate::loom::{AtomicPtr, Ordering};

/// One task pointer (or none), shared between its worker and thieves.
pub(crate) struct LifoSlot<T> {
    ptr: AtomicPtr<T>,
}

impl<T> LifoSlot<T> {
    /// An empty slot.
    pub(crate) fn new() -> Self {
        LifoSlot {
            ptr: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Puts `task` in the slot and hands back the task it displaced, if any (the caller
    /// now owns that one and must queue it). SeqCst: the worker reads the watcher flag
    /// right after, and that pair must not be reordered.
    pub(crate) fn push(&self, task: NonNull<T>) -> Option<NonNull<T>> {
        NonNull::new(self.ptr.swap(task.as_ptr(), Ordering::SeqCst))
    }

    /// Takes the task out of the slot, if any: the owner running it next, or a thief
    /// rescuing it from a stuck owner. A relaxed look first keeps an empty slot cheap.
    pub(crate) fn take(&self) -> Option<NonNull<T>> {
        if self.ptr.load(Ordering::Relaxed).is_null() {
            return None;
        }
        NonNull::new(self.ptr.swap(ptr::null_mut(), Ordering::AcqRel))
    }

    /// True if the slot holds a task (a hint: it may be taken at any moment).
    pub(crate) fn is_occupied(&self) -> bool {
        !self.ptr.load(Ordering::Acquire).is_null()
    }
}
