//! The counting core shared by [`Semaphore`](crate::Semaphore) and
//! [`Mutex`](crate::Mutex): an atomic state word for the uncontended paths and a FIFO
//! [`List`] for everyone who has to wait.
//!
//! State word: `permits << 1 | WAITERS`. Invariants (under the waiter lock):
//! `WAITERS` is set iff the waiter list is non-empty, and while it is set the permit
//! count is zero. So:
//! * acquire fast path: CAS `permits - 1` while `permits > 0`; never succeeds while
//!   anyone waits, so a newcomer cannot barge past the queue;
//! * release fast path: CAS `permits + 1` while `WAITERS` is clear; no lock taken;
//! * release slow path (`WAITERS` set): under the lock the permit goes straight to the
//!   oldest waiter (it never shows up in the count, so `try_acquire` right after fails);
//! * while `WAITERS` is set the word only changes under the lock;
//! * a release that would push the count past [`MAX_PERMITS`] panics *before* changing
//!   the word, on either path (the slow path finds no waiter when the last one left
//!   between its load and the lock, and then adds like the fast path).

use crate::coop;
use crate::loom::{AtomicUsize, Mutex, Ordering};
use crate::waiters::{List, Waiter};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

const WAITERS: usize = 1;
const ONE: usize = 2;

/// Largest number of permits a semaphore can hold.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 1;

pub(crate) struct RawSemaphore {
    state: AtomicUsize,
    waiters: Mutex<List<()>>,
}

impl fmt::Debug for RawSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSemaphore")
            .field("permits", &self.available())
            .field("waiting", &self.has_waiters())
            .finish()
    }
}

impl RawSemaphore {
    pub(crate) fn new(permits: usize) -> Self {
        assert!(
            permits <= MAX_PERMITS,
            "a semaphore holds at most {MAX_PERMITS} permits"
        );
        Self {
            state: AtomicUsize::new(permits << 1),
            waiters: Mutex::new(List::new()),
        }
    }

    /// Permits available right now (0 while anyone waits).
    #[inline]
    pub(crate) fn available(&self) -> usize {
        self.state.load(Ordering::Acquire) >> 1
    }

    #[inline]
    fn has_waiters(&self) -> bool {
        self.state.load(Ordering::Relaxed) & WAITERS != 0
    }

    /// Takes a permit if one is free and nobody waits.
    #[inline]
    pub(crate) fn try_acquire(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        while s >= ONE {
            match self
                .state
                .compare_exchange_weak(s, s - ONE, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => s = actual,
            }
        }
        false
    }

    /// Returns one permit: to the oldest waiter if there is one, else to the count.
    #[inline]
    pub(crate) fn release(&self) {
        let mut s = self.state.load(Ordering::Relaxed);
        while s & WAITERS == 0 {
            assert!(s >> 1 < MAX_PERMITS, "semaphore permit count overflow");
            match self
                .state
                .compare_exchange_weak(s, s + ONE, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => s = actual,
            }
        }
        self.release_slow();
    }

    #[cold]
    fn release_slow(&self) {
        let mut list = self.waiters.lock();
        match list.pop_front(|_| ()) {
            Some(waker) => {
                if list.is_empty() {
                    // WAITERS was set, so permits are 0 and only lock holders write.
                    self.state.store(0, Ordering::Release);
                }
                drop(list);
                waker.wake();
            }
            None => {
                // The last waiter left between our load and the lock, so WAITERS is clear
                // and stays clear while we hold the lock; lock-free acquires and releases
                // may still move the count. As on the fast path: check, then add.
                let mut s = self.state.load(Ordering::Relaxed);
                loop {
                    if s >> 1 >= MAX_PERMITS {
                        drop(list);
                        panic!("semaphore permit count overflow");
                    }
                    match self.state.compare_exchange_weak(
                        s,
                        s + ONE,
                        Ordering::Release,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) => return,
                        Err(actual) => s = actual,
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Waiting,
    Done,
}

/// Waits for one permit of a [`RawSemaphore`]; FIFO, cancel-safe.
pub(crate) struct RawAcquire<'a> {
    sem: &'a RawSemaphore,
    waiter: Waiter<()>,
    state: State,
}

impl fmt::Debug for RawAcquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawAcquire")
            .field("state", &self.state)
            .finish()
    }
}

impl<'a> RawAcquire<'a> {
    pub(crate) fn new(sem: &'a RawSemaphore) -> Self {
        Self {
            sem,
            waiter: Waiter::new(()),
            state: State::Idle,
        }
    }
}

impl Future for RawAcquire<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        ready!(coop::poll_proceed(cx));
        // SAFETY: nothing is moved out of the pinned future; the waiter stays in place.
        let this = unsafe { self.get_unchecked_mut() };
        let sem = this.sem;
        match this.state {
            State::Idle => {
                if sem.try_acquire() {
                    this.state = State::Done;
                    return Poll::Ready(());
                }
                let mut list = sem.waiters.lock();
                let mut s = sem.state.load(Ordering::Relaxed);
                loop {
                    if s >= ONE {
                        match sem.state.compare_exchange_weak(
                            s,
                            s - ONE,
                            Ordering::Acquire,
                            Ordering::Relaxed,
                        ) {
                            Ok(_) => {
                                this.state = State::Done;
                                return Poll::Ready(());
                            }
                            Err(actual) => s = actual,
                        }
                    } else if s & WAITERS != 0 {
                        break;
                    } else {
                        match sem.state.compare_exchange_weak(
                            s,
                            WAITERS,
                            Ordering::Relaxed,
                            Ordering::Relaxed,
                        ) {
                            Ok(_) => break,
                            Err(actual) => s = actual,
                        }
                    }
                }
                // SAFETY: the waiter is pinned inside this future, unlinked and
                // unnotified; Drop removes it under the lock unless it was notified.
                unsafe { list.push_back(&this.waiter, cx.waker()) };
                this.state = State::Waiting;
                drop(list);
                coop::refund();
                Poll::Pending
            }
            State::Waiting => {
                if this.waiter.is_notified() {
                    this.state = State::Done;
                    return Poll::Ready(());
                }
                let mut list = sem.waiters.lock();
                if this.waiter.is_notified() {
                    drop(list);
                    this.state = State::Done;
                    return Poll::Ready(());
                }
                // SAFETY: Waiting and not notified (checked under the lock): linked.
                let old = unsafe { list.update_waker(&this.waiter, cx.waker()) };
                drop(list);
                drop(old);
                coop::refund();
                Poll::Pending
            }
            State::Done => panic!("acquire future polled after completion"),
        }
    }
}

impl Drop for RawAcquire<'_> {
    fn drop(&mut self) {
        if self.state != State::Waiting {
            return;
        }
        if !self.waiter.is_notified() {
            let mut list = self.sem.waiters.lock();
            if !self.waiter.is_notified() {
                // SAFETY: not notified under the lock, so still linked.
                let waker = unsafe { list.remove(&self.waiter) };
                if list.is_empty() {
                    self.sem.state.store(0, Ordering::Release);
                }
                drop(list);
                drop(waker);
                return;
            }
        }
        // Granted but never observed: hand the permit on.
        self.sem.release();
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    /// A release that saw `WAITERS` set and took the slow path after the last waiter left
    /// (`release_slow` with an empty list) at the maximum count: it must refuse before
    /// touching the count, as the fast path does, not wrap it to zero and then panic.
    #[test]
    fn slow_release_at_the_maximum_checks_before_adding() {
        let sem = RawSemaphore::new(MAX_PERMITS);
        let overflow = catch_unwind(AssertUnwindSafe(|| sem.release_slow()));
        assert!(overflow.is_err(), "overflow not reported");
        assert_eq!(sem.available(), MAX_PERMITS, "the count wrapped");
        assert!(sem.try_acquire());
        // Below the maximum the slow path adds the permit back.
        sem.release_slow();
        assert_eq!(sem.available(), MAX_PERMITS);
    }

    #[test]
    fn fast_release_at_the_maximum_checks_before_adding() {
        let sem = RawSemaphore::new(MAX_PERMITS);
        assert!(catch_unwind(AssertUnwindSafe(|| sem.release())).is_err());
        assert_eq!(sem.available(), MAX_PERMITS);
    }
}
