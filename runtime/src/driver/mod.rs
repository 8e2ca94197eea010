//! The driver: what an idle worker blocks in. It owns the runtime's I/O reactor and timers.
//!
//! Contract with the scheduler:
//! - One `Driver` per runtime, shared as `Arc<Driver>`.
//! - At most one thread is inside [`Driver::park`] at a time; the scheduler guarantees it
//!   with a try-lock ("the reactor holder").
//! - [`Driver::park`] blocks until an I/O event, a timer deadline, [`Driver::unpark`] or the
//!   timeout, whichever is first, then wakes the wakers of ready I/O and expired timers.
//!   `park(Some(Duration::ZERO))` only collects what is ready now (scheduler maintenance).
//! - [`Driver::unpark`] is callable from any thread and is never lost: an unpark that
//!   arrives before `park` makes that `park` return at once.
//! - Leaf futures (sleeps, sockets) find their driver with [`with_current`]; the scheduler
//!   makes it current on each worker thread and in `block_on` with [`enter`].

use std::cell::RefCell;
use std::io;
use std::time::Duration;

use crate::loom::{Arc, Condvar, Mutex};

/// Blocks idle workers; wakes I/O and timer waiters.
#[derive(Debug)]
pub(crate) struct Driver {
    unparked: Mutex<bool>,
    condvar: Condvar,
}

impl Driver {
    /// Creates the driver (the OS poller and the timer wheel).
    pub(crate) fn new() -> io::Result<Driver> {
        Ok(Driver {
            unparked: Mutex::new(false),
            condvar: Condvar::new(),
        })
    }

    /// Waits for events up to `timeout` (`None` = no limit) and wakes whatever is ready.
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        let mut unparked = self.unparked.lock();
        if !*unparked {
            match timeout {
                Some(t) if t.is_zero() => {}
                Some(t) => {
                    self.condvar.wait_for(&mut unparked, t);
                }
                None => {
                    while !*unparked {
                        self.condvar.wait(&mut unparked);
                    }
                }
            }
        }
        *unparked = false;
    }

    /// Makes the current or next [`Driver::park`] return promptly.
    pub(crate) fn unpark(&self) {
        *self.unparked.lock() = true;
        self.condvar.notify_one();
    }

    /// Wakes every registered I/O and timer waiter; later registrations fail.
    pub(crate) fn shutdown(&self) {
        self.unpark();
    }
}

std::thread_local! {
    static CURRENT: RefCell<Option<Arc<Driver>>> = const { RefCell::new(None) };
}

/// Restores the previously current driver when dropped.
#[derive(Debug)]
pub(crate) struct EnterGuard {
    prev: Option<Arc<Driver>>,
}

/// Makes `driver` the current thread's driver until the guard drops.
pub(crate) fn enter(driver: Arc<Driver>) -> EnterGuard {
    let prev = CURRENT.with(|c| c.borrow_mut().replace(driver));
    EnterGuard { prev }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = prev);
    }
}

/// Runs `f` with the current thread's driver, or returns `None` outside a runtime.
pub(crate) fn with_current<R>(f: impl FnOnce(&Arc<Driver>) -> R) -> Option<R> {
    CURRENT.with(|c| c.borrow().as_ref().map(f))
}
