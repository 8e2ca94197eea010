//! A worker's parker: sleep on its own condvar, or inside the driver when it holds the
//! reactor. An `unpark` that arrives before `park` is never lost.

use std::time::Duration;

use crate::driver::Driver;
use crate::loom::{AtomicUsize, Condvar, Mutex, Ordering};

/// The reactor-holder role: only ever taken with `try_lock`, never waited for.
#[cfg(not(any(loom, shuttle)))]
pub(crate) type DriverLock = Mutex<()>;

/// Under loom the reactor-holder role is an atomic flag: loom models a `try_lock` racing
/// an acquire of the same mutex as blocked until that mutex is released, and the holder
/// keeps the role while it sleeps in the driver, so a loom mutex here would report a
/// deadlock no real try-lock can have.
#[cfg(any(loom, shuttle))]
pub(crate) struct DriverLock(crate::loom::AtomicBool);

#[cfg(any(loom, shuttle))]
pub(crate) struct DriverGuard<'a>(&'a DriverLock);

#[cfg(any(loom, shuttle))]
impl DriverLock {
    pub(crate) fn new((): ()) -> DriverLock {
        DriverLock(crate::loom::AtomicBool::new(false))
    }

    pub(crate) fn try_lock(&self) -> Option<DriverGuard<'_>> {
        self.0
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| DriverGuard(self))
    }
}

#[cfg(any(loom, shuttle))]
impl Drop for DriverGuard<'_> {
    fn drop(&mut self) {
        self.0 .0.store(false, Ordering::Release);
    }
}

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// One per worker; shared so other threads can unpark it.
pub(crate) struct Parker {
    state: AtomicUsize,
    lock: Mutex<()>,
    condvar: Condvar,
}

/// What a park ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parked {
    /// Slept on the condvar (or not at all).
    Condvar,
    /// Slept in the driver (this thread was the reactor holder).
    Driver,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            lock: Mutex::new(()),
            condvar: Condvar::new(),
        }
    }

    /// Sleeps until unparked or `timeout`. Becomes the reactor holder if `driver_lock` is
    /// free: then it blocks in `driver.park` (which also wakes ready I/O and timers).
    pub(crate) fn park(
        &self,
        driver: &Driver,
        driver_lock: &DriverLock,
        timeout: Option<Duration>,
    ) -> Parked {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return Parked::Condvar;
        }
        if let Some(_holder) = driver_lock.try_lock() {
            match self.state.compare_exchange(
                EMPTY,
                PARKED_DRIVER,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => {}
                Err(NOTIFIED) => {
                    self.state.swap(EMPTY, Ordering::SeqCst);
                    return Parked::Condvar;
                }
                Err(actual) => unreachable!("parker in state {actual}"),
            }
            driver.park(timeout);
            // Consume a notification that arrived while we slept (it also unparked the
            // driver, so it is not lost).
            self.state.swap(EMPTY, Ordering::SeqCst);
            return Parked::Driver;
        }
        self.park_condvar(timeout);
        Parked::Condvar
    }

    /// Sleeps on the condvar until unparked or `timeout`, leaving the driver to others.
    pub(crate) fn park_without_driver(&self, timeout: Option<Duration>) -> Parked {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            self.park_condvar(timeout);
        }
        Parked::Condvar
    }

    fn park_condvar(&self, timeout: Option<Duration>) {
        let mut guard = self.lock.lock();
        match self
            .state
            .compare_exchange(EMPTY, PARKED_CONDVAR, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                self.state.swap(EMPTY, Ordering::SeqCst);
                return;
            }
            Err(actual) => unreachable!("parker in state {actual}"),
        }
        match timeout {
            None => loop {
                self.condvar.wait(&mut guard);
                if self
                    .state
                    .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
                {
                    return;
                }
                // Spurious wake-up: keep waiting.
            },
            Some(timeout) => {
                self.condvar.wait_for(&mut guard, timeout);
                // Notified or timed out: either way we are awake now.
                self.state.swap(EMPTY, Ordering::SeqCst);
            }
        }
    }

    /// Whether the worker is (about to be) blocked in the driver, or dispatching from it.
    pub(crate) fn is_in_driver(&self) -> bool {
        self.state.load(Ordering::SeqCst) == PARKED_DRIVER
    }

    /// Wakes the worker (now, or at its next `park`).
    pub(crate) fn unpark(&self, driver: &Driver) {
        match self.state.swap(NOTIFIED, Ordering::SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                // Taking the lock orders us after the parker's check-then-wait.
                drop(self.lock.lock());
                self.condvar.notify_one();
            }
            PARKED_DRIVER => driver.unpark(),
            actual => unreachable!("parker in state {actual}"),
        }
    }
}

impl std::fmt::Debug for Parker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parker")
            .field("state", &self.state.load(Ordering::Relaxed))
            .finish()
    }
}
