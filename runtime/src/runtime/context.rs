//! The per-thread runtime context: the current runtime handle (for `spawn`,
//! `Handle::current`, `all_tasks`), whether this thread drives a runtime (so nested
//! `block_on` is refused), and the task being polled (for `current_task`).

use std::cell::{Cell, RefCell};

use crate::scheduler::Handle;
use crate::task::RawTask;

struct Context {
    handle: RefCell<Option<Handle>>,
    /// True on worker threads and inside `block_on`: blocking here would stall tasks.
    driving: Cell<bool>,
    current_task: Cell<Option<RawTask>>,
}

std::thread_local! {
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            driving: Cell::new(false),
            current_task: Cell::new(None),
        }
    };
}

/// Restores the previous context when dropped.
pub(crate) struct EnterGuard {
    prev_handle: Option<Handle>,
    prev_driving: bool,
}

/// Makes `handle` the thread's current runtime. `driving` marks a worker or `block_on`.
pub(crate) fn enter(handle: Handle, driving: bool) -> EnterGuard {
    CONTEXT.with(|c| EnterGuard {
        prev_handle: c.handle.replace(Some(handle)),
        prev_driving: c.driving.replace(driving || c.driving.get()),
    })
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev_handle.take();
        let driving = self.prev_driving;
        let _ = CONTEXT.try_with(|c| {
            // Drop the replaced handle outside the borrow (its drop may re-enter).
            let old = c.handle.replace(prev);
            c.driving.set(driving);
            old
        });
    }
}

/// True if this thread drives a runtime (a worker, or inside `block_on`).
pub(crate) fn is_driving() -> bool {
    CONTEXT.try_with(|c| c.driving.get()).unwrap_or(false)
}

/// Runs `f` with the current runtime handle, or returns `None` outside any runtime.
pub(crate) fn with_handle<R>(f: impl FnOnce(&Handle) -> R) -> Option<R> {
    CONTEXT
        .try_with(|c| {
            let handle = c.handle.borrow();
            handle.as_ref().map(f)
        })
        .ok()
        .flatten()
}

/// Clones the current runtime handle.
pub(crate) fn try_current() -> Option<Handle> {
    with_handle(Handle::clone)
}

/// Restores the previously polled task when dropped.
pub(crate) struct CurrentTaskGuard {
    prev: Option<RawTask>,
}

/// Marks `task` as the one being polled on this thread.
pub(crate) fn set_current_task(task: RawTask) -> CurrentTaskGuard {
    let prev = CONTEXT
        .try_with(|c| c.current_task.replace(Some(task)))
        .ok()
        .flatten();
    CurrentTaskGuard { prev }
}

impl Drop for CurrentTaskGuard {
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
