//! [`Scoped`]: a thread-local slot that lends out a reference to a value living on a
//! caller's stack frame, for exactly as long as that frame runs a closure.
//!
//! This is the one place in corio that keeps a raw pointer to a scheduler's per-thread
//! state (a worker, or the current-thread scheduler inside `block_on`). The schedule path
//! reads it on every wake-up, so it is a single `Cell<*const T>`: no borrow flag, no
//! reference count, no destructor.
//!
//! Why it is sound, in three facts:
//!
//! 1. The pointer is non-null only inside [`Scoped::set`], which borrows the value for its
//!    whole call and restores the previous pointer when the closure returns *or unwinds*
//!    (the restore is a destructor on `set`'s own frame). No guard is handed out, so
//!    nothing can `mem::forget` its way past the restore.
//! 2. A `Scoped` is `!Sync` (it holds a `Cell`) and lives in a thread-local, so only the
//!    thread that called `set` can read the pointer; on that thread, any code running while
//!    the pointer is non-null is nested inside `set`'s closure, below the frame that owns
//!    the borrow.
//! 3. [`Scoped::with`] hands out only a shared reference, and only for the duration of its
//!    own closure, which is itself nested inside the `set` that stored the pointer. A
//!    nested `set` (a second runtime entered from inside a task) only shadows the outer
//!    value and puts it back.

use std::cell::Cell;
use std::ptr;

/// A thread-local "current value" lent by [`Scoped::set`] and read by [`Scoped::with`].
pub(super) struct Scoped<T> {
    current: Cell<*const T>,
}

impl<T> Scoped<T> {
    /// An empty slot (usable in a `const` thread-local initializer).
    pub(super) const fn new() -> Scoped<T> {
        Scoped {
            current: Cell::new(ptr::null()),
        }
    }

    /// Makes `value` current while `f` runs, then restores the previous value (also when
    /// `f` panics).
    pub(super) fn set<R>(&self, value: &T, f: impl FnOnce() -> R) -> R {
        /// Puts the previous pointer back when `set` returns or unwinds.
        struct Restore<'a, T> {
            slot: &'a Cell<*const T>,
            prev: *const T,
        }

        impl<T> Drop for Restore<'_, T> {
            fn drop(&mut self) {
                self.slot.set(self.prev);
            }
        }

        let prev = self.current.replace(value);
        let _restore = Restore {
            slot: &self.current,
            prev,
        };
        f()
    }

    /// Runs `f` with the current value, or `None` outside every [`Scoped::set`].
    #[inline]
    pub(super) fn with<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        let ptr = self.current.get();
        // SAFETY: a non-null pointer was stored by `set` from a `&T` that `set` borrows
        // until it restores the previous pointer (fact 1 of the module docs); we are on the
        // thread that called `set` and inside its closure (fact 2), so the value is alive
        // and borrowed shared for at least as long as this call; we hand out only a shared
        // reference bounded by `f` (fact 3). A null pointer becomes `None`.
        f(unsafe { ptr.as_ref() })
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::Scoped;

    std::thread_local! {
        static SLOT: Scoped<u32> = const { Scoped::new() };
    }

    fn current() -> Option<u32> {
        SLOT.with(|s| s.with(|v| v.copied()))
    }

    #[test]
    fn set_lends_the_value_and_nesting_restores_the_outer_one() {
        assert_eq!(current(), None);
        SLOT.with(|s| {
            s.set(&1, || {
                assert_eq!(current(), Some(1));
                SLOT.with(|s| s.set(&2, || assert_eq!(current(), Some(2))));
                assert_eq!(current(), Some(1));
            })
        });
        assert_eq!(current(), None);
    }

    #[test]
    fn a_panic_inside_set_restores_the_previous_value() {
        SLOT.with(|s| {
            s.set(&7, || {
                let caught = std::panic::catch_unwind(|| {
                    SLOT.with(|s| s.set(&8, || panic!("inside a scoped value")))
                });
                assert!(caught.is_err());
                assert_eq!(current(), Some(7));
            })
        });
        assert_eq!(current(), None);
    }

    #[test]
    fn another_thread_does_not_see_the_value() {
        SLOT.with(|s| {
            s.set(&3, || {
                let there = std::thread::spawn(current).join().unwrap();
                assert_eq!(there, None);
                assert_eq!(current(), Some(3));
            })
        });
    }
}
