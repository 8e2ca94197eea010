//! One job = one allocation: the closure and the completion cell (result or panic payload,
//! plus the waiter's waker) live in a single `Arc<Job<F, T>>`, seen by the pool as
//! `Arc<dyn Run>` and by the future as `Arc<dyn Completion<T>>`.
//!
//! The cell is a small lock (parking_lot normally, loom's under `cfg(loom)`) around a
//! state enum. Every hand-off happens under it, so there is no lost wake-up: the future
//! stores its waker and checks for the result in one critical section; the pool thread
//! stores the result and takes the waker in one critical section, then wakes outside it.
//! The refcount is std's `Arc` in both modes (loom's `Arc` cannot hold a trait object the
//! way this needs); it is not part of the protocol loom checks.

use crate::loom::Mutex;
use std::any::Any;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Why a job will never run.
#[derive(Debug, Clone)]
pub(crate) enum Failure {
    /// It was still queued when the pool was shut down (or submitted after).
    Shutdown,
    /// The pool had no thread and could not start one.
    Spawn(Arc<str>),
}

pub(crate) const SHUTDOWN_MSG: &str = "corio blocking pool was shut down; the job was not run \
     (submit blocking work before shutting the pool down, or run it on another pool)";

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Shutdown => f.write_str(SHUTDOWN_MSG),
            Failure::Spawn(err) => write!(
                f,
                "corio blocking pool could not start a thread and has none running, \
                 so the job cannot run: {err}"
            ),
        }
    }
}

/// What the future gets.
pub(crate) enum Outcome<T> {
    Value(T),
    Panicked(Box<dyn Any + Send>),
    Failed(Failure),
}

/// The pool's view of a job.
pub(crate) trait Run: Send + Sync {
    /// Runs the job if it is still wanted, catching a panic, and hands over the result.
    fn run(self: Arc<Self>);
    /// Queued → will never run, because of `why`; wakes the waiter. `false` if the job had
    /// already started, finished, failed or been abandoned.
    fn fail(&self, why: &Failure) -> bool;
}

/// The future's view of a job.
pub(crate) trait Completion<T>: Send + Sync {
    /// Takes the outcome if there is one, else (re)registers `cx`'s waker.
    fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<Outcome<T>>;
    /// The future is gone: a queued job will never run (its closure is dropped now), a
    /// running job's result will be dropped when it finishes.
    fn abandon(&self);
    /// See [`Run::fail`].
    fn fail(&self, why: &Failure) -> bool;
    /// The same allocation, as the pool sees it.
    fn runnable(self: Arc<Self>) -> Arc<dyn Run>;
}

enum Slot<F, T> {
    /// Created or queued: the closure and, once polled, the waiter.
    Queued { f: F, waker: Option<Waker> },
    /// A pool thread took the closure.
    Running { waker: Option<Waker> },
    /// Finished: the value or the panic payload.
    Done(std::thread::Result<T>),
    /// Will never run.
    Failed(Failure),
    /// Outcome taken, or the future was dropped.
    Gone,
}

pub(crate) struct Job<F, T> {
    slot: Mutex<Slot<F, T>>,
}

impl<F, T> Job<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    pub(crate) fn new(f: F) -> Arc<Self> {
        Arc::new(Job {
            slot: Mutex::new(Slot::Queued { f, waker: None }),
        })
    }
}

impl<F, T> Run for Job<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn run(self: Arc<Self>) {
        let f = {
            let mut slot = self.slot.lock();
            match std::mem::replace(&mut *slot, Slot::Gone) {
                Slot::Queued { f, waker } => {
                    *slot = Slot::Running { waker };
                    f
                }
                // Abandoned (or failed) before it started: never runs.
                other => {
                    *slot = other;
                    return;
                }
            }
        };
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        let mut slot = self.slot.lock();
        match &mut *slot {
            Slot::Running { waker } => {
                let waker = waker.take();
                *slot = Slot::Done(result);
                drop(slot);
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            // The future was dropped while we ran: discard the result, outside the lock.
            _ => {
                drop(slot);
                drop(result);
            }
        }
    }

    fn fail(&self, why: &Failure) -> bool {
        let mut slot = self.slot.lock();
        if !matches!(*slot, Slot::Queued { .. }) {
            return false;
        }
        let Slot::Queued { f, waker } = std::mem::replace(&mut *slot, Slot::Failed(why.clone()))
        else {
            unreachable!()
        };
        drop(slot);
        drop(f);
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }
}

impl<F, T> Completion<T> for Job<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<Outcome<T>> {
        let mut slot = self.slot.lock();
        let waker = match &mut *slot {
            Slot::Queued { waker, .. } | Slot::Running { waker } => waker,
            Slot::Done(_) | Slot::Failed(_) => {
                let outcome = match std::mem::replace(&mut *slot, Slot::Gone) {
                    Slot::Done(Ok(value)) => Outcome::Value(value),
                    Slot::Done(Err(payload)) => Outcome::Panicked(payload),
                    Slot::Failed(why) => Outcome::Failed(why),
                    _ => unreachable!(),
                };
                return Poll::Ready(outcome);
            }
            Slot::Gone => {
                drop(slot);
                panic!("corio::blocking::ToThread polled after it completed");
            }
        };
        let old = match waker {
            Some(w) if w.will_wake(cx.waker()) => None,
            _ => waker.replace(cx.waker().clone()),
        };
        drop(slot);
        drop(old);
        Poll::Pending
    }

    fn abandon(&self) {
        let old = std::mem::replace(&mut *self.slot.lock(), Slot::Gone);
        // Closure, result or waker are dropped here, outside the lock.
        drop(old);
    }

    fn fail(&self, why: &Failure) -> bool {
        Run::fail(self, why)
    }

    fn runnable(self: Arc<Self>) -> Arc<dyn Run> {
        self
    }
}
