//! The thread's runtime context, all in one thread-local: the runtime entered on this
//! thread (its scheduler handle, hence its driver and blocking pool), whether this thread
//! drives a runtime, the task being polled, and the running scheduler's per-thread state.
//!
//! Everything in it is scoped, and put back as it was when the scope ends, also while
//! unwinding:
//! - [`enter`] (a worker thread, `block_on`, runtime shutdown) returns an [`EnterGuard`];
//!   it makes the runtime, its driver and its blocking pool current, all at once.
//! - [`set_current_task`] returns a [`CurrentTaskGuard`] around each poll.
//! - [`set_scheduler`] lends the scheduler's per-thread state (a worker's queues, the
//!   current-thread core) for the duration of a closure, through [`scoped::Scoped`], the
//!   only raw pointer to that state; the schedule path reads it with [`with_scheduler`] to
//!   queue a woken task locally.
//!
//! Reads are cheap on the hot paths: the thread-local is `const`-initialized and needs no
//! destructor (so an access is a plain thread-local address, with no registration or
//! liveness check), the task and scheduler slots are plain `Cell`s, and only the entered
//! runtime (read by `spawn`, sleeps and sockets, never by wake-ups) sits behind a
//! `RefCell`.

mod scoped;

use std::cell::{Cell, RefCell};
use std::mem::ManuallyDrop;

use self::scoped::Scoped;
use crate::driver::Driver;
use crate::loom::Arc;
use crate::runtime::blocking::BlockingEnterGuard;
use crate::scheduler;
use crate::task::RawTask;

struct Context {
    /// Never dropped, so that the context needs no destructor. Every [`enter`] is scoped
    /// by an [`EnterGuard`] that puts back what it replaced, so a thread ends with `None`
    /// here; only a leaked guard (`mem::forget`) would leak its runtime handle with it.
    entered: ManuallyDrop<RefCell<Option<Entered>>>,
    /// True on worker threads and inside `block_on`: blocking here would stall tasks.
    driving: Cell<bool>,
    current_task: Cell<Option<RawTask>>,
    scheduler: Scoped<scheduler::Context>,
}

/// What [`enter`] made current.
enum Entered {
    /// A runtime: `spawn` goes to it, and its driver serves sleeps and sockets.
    Runtime(scheduler::Handle),
    /// A driver alone: tests of the driver, timers and sockets without a scheduler.
    #[cfg(test)]
    Driver(Arc<Driver>),
}

impl Entered {
    fn handle(&self) -> Option<&scheduler::Handle> {
        match self {
            Entered::Runtime(handle) => Some(handle),
            #[cfg(test)]
            Entered::Driver(_) => None,
        }
    }

    fn driver(&self) -> &Arc<Driver> {
        match self {
            Entered::Runtime(handle) => handle.driver(),
            #[cfg(test)]
            Entered::Driver(driver) => driver,
        }
    }
}

#[cfg(not(any(loom, shuttle)))]
std::thread_local! {
    static CONTEXT: Context = const { Context::new() };
}

// Under loom each model thread needs its own context: loom runs every model thread on one
// OS thread, so a std thread-local would be shared between them.
#[cfg(any(loom, shuttle))]
crate::loom::thread_local! {
    static CONTEXT: Context = Context::new();
}

impl Context {
    const fn new() -> Context {
        Context {
            entered: ManuallyDrop::new(RefCell::new(None)),
            driving: Cell::new(false),
            current_task: Cell::new(None),
            scheduler: Scoped::new(),
        }
    }
}

/// Restores what [`enter`] replaced when dropped.
pub(crate) struct EnterGuard {
    prev: Option<Entered>,
    prev_driving: bool,
    /// Dropped after `drop` restored the context: the runtime's pool stops being current.
    _blocking: Option<BlockingEnterGuard>,
}

/// Makes `handle`'s runtime the thread's current one: `spawn`, `Handle::current` and
/// `all_tasks` see it, sleeps and sockets use its driver, `to_thread` its blocking pool.
/// `driving` marks a worker thread or `block_on` (where a nested `block_on` is refused).
pub(crate) fn enter(handle: scheduler::Handle, driving: bool) -> EnterGuard {
    let blocking = handle.blocking().enter();
    replace(Entered::Runtime(handle), driving, Some(blocking))
}

/// Makes `driver` current without a runtime around it (tests of the driver alone).
#[cfg(test)]
pub(crate) fn enter_driver(driver: Arc<Driver>) -> EnterGuard {
    replace(Entered::Driver(driver), false, None)
}

fn replace(entered: Entered, driving: bool, blocking: Option<BlockingEnterGuard>) -> EnterGuard {
    CONTEXT.with(|c| EnterGuard {
        prev: c.entered.replace(Some(entered)),
        prev_driving: c.driving.replace(driving || c.driving.get()),
        _blocking: blocking,
    })
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let driving = self.prev_driving;
        // The replaced runtime is dropped after the borrow ends: dropping the last handle
        // to a runtime runs destructors that may read the context again.
        let _replaced = CONTEXT.try_with(|c| {
            c.driving.set(driving);
            c.entered.replace(prev)
        });
    }
}

/// True if this thread drives a runtime (a worker, or inside `block_on`).
pub(crate) fn is_driving() -> bool {
    CONTEXT.try_with(|c| c.driving.get()).unwrap_or(false)
}

/// Runs `f` with the current runtime's scheduler handle, or returns `None` outside any
/// runtime.
pub(crate) fn with_handle<R>(f: impl FnOnce(&scheduler::Handle) -> R) -> Option<R> {
    CONTEXT
        .try_with(|c| c.entered.borrow().as_ref()?.handle().map(f))
        .ok()
        .flatten()
}

/// Clones the current runtime's scheduler handle.
pub(crate) fn try_current() -> Option<scheduler::Handle> {
    with_handle(scheduler::Handle::clone)
}

/// Runs `f` with the current driver, or returns `None` outside any runtime.
pub(crate) fn with_driver<R>(f: impl FnOnce(&Arc<Driver>) -> R) -> Option<R> {
    CONTEXT
        .try_with(|c| c.entered.borrow().as_ref().map(|e| f(e.driver())))
        .ok()
        .flatten()
}

/// Restores the previously polled task when dropped.
pub(crate) struct CurrentTaskGuard {
    prev: Option<RawTask>,
}

/// Marks `task` as the one being polled on this thread.
#[inline]
pub(crate) fn set_current_task(task: RawTask) -> CurrentTaskGuard {
    let prev = CONTEXT
        .try_with(|c| c.current_task.replace(Some(task)))
        .ok()
        .flatten();
    CurrentTaskGuard { prev }
}

impl Drop for CurrentTaskGuard {
    #[inline]
    fn drop(&mut self) {
        let prev = self.prev;
        let _ = CONTEXT.try_with(|c| c.current_task.set(prev));
    }
}

/// The task being polled on this thread. Valid while that poll runs: the poller holds a
/// reference.
pub(crate) fn current_task() -> Option<RawTask> {
    CONTEXT.try_with(|c| c.current_task.get()).ok().flatten()
}

/// Runs `f` (a scheduler's loop) with `cx` as this thread's scheduler state; the previous
/// state is back when `f` returns or unwinds.
pub(crate) fn set_scheduler<R>(cx: &scheduler::Context, f: impl FnOnce() -> R) -> R {
    // Task polls rely on starting from an empty await-record buffer, and each leaves it
    // empty; records made on this thread before it ran a scheduler do not count.
    corio_sync::trace::begin();
    CONTEXT.with(|c| c.scheduler.set(cx, f))
}

/// Runs `f` with the scheduler state of the loop running on this thread, or `None` (not a
/// scheduler thread, or the thread-local is already destroyed). Inlined: every wake-up
/// goes through here.
#[inline]
pub(crate) fn with_scheduler<R>(f: impl FnOnce(Option<&scheduler::Context>) -> R) -> R {
    let mut f = Some(f);
    CONTEXT
        .try_with(|c| {
            let f = f.take().expect("with_scheduler's closure runs once");
            c.scheduler.with(f)
        })
        .unwrap_or_else(|_| (f.take().expect("with_scheduler's closure runs once"))(None))
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use corio_blocking::ThreadPool;

    use super::{enter, is_driving, try_current, with_driver};
    use crate::loom::Arc;
    use crate::runtime::{Builder, Runtime};

    fn current_thread() -> Runtime {
        Builder::new_current_thread().build().unwrap()
    }

    /// The driver and blocking pool current on this thread are those of `rt`.
    fn is_current(rt: &Runtime) -> bool {
        let inner = rt.handle().inner;
        let driver = with_driver(|d| Arc::ptr_eq(d, inner.driver())).unwrap_or(false);
        let handle = try_current().is_some_and(|h| Arc::ptr_eq(h.driver(), inner.driver()));
        let pool = ThreadPool::current().ptr_eq(inner.blocking().pool());
        driver && handle && pool
    }

    #[test]
    fn enter_restores_the_previous_runtime_also_when_unwinding() {
        let (a, b) = (current_thread(), current_thread());
        assert!(try_current().is_none() && with_driver(|_| ()).is_none() && !is_driving());
        {
            let _a = enter(a.handle().inner, false);
            assert!(is_current(&a) && !is_driving());
            let unwound = catch_unwind(AssertUnwindSafe(|| {
                let _b = enter(b.handle().inner, true);
                assert!(is_current(&b) && is_driving());
                panic!("inside the inner runtime");
            }));
            assert!(unwound.is_err());
            assert!(is_current(&a) && !is_driving());
        }
        assert!(try_current().is_none() && with_driver(|_| ()).is_none() && !is_driving());
        assert!(!ThreadPool::current().ptr_eq(a.handle().inner.blocking().pool()));
    }

    #[test]
    fn a_panicking_task_leaves_no_scheduler_state_behind() {
        let rt = current_thread();
        let caught = catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(async { panic!("in the block_on future") })
        }));
        assert!(caught.is_err());
        assert!(super::with_scheduler(|cx| cx.is_none()));
        assert!(try_current().is_none() && !is_driving());
        // The core came back: a task still runs (on a helper thread, so a lost core fails
        // the test instead of hanging it).
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let out = rt.block_on(async { crate::spawn(async { 5 }).await.unwrap() });
            let _ = tx.send(out);
        });
        let out = rx.recv_timeout(std::time::Duration::from_secs(10));
        assert_eq!(out, Ok(5), "the scheduler core was not given back");
    }
}
