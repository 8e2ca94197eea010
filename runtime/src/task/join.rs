//! [`Task<T>`]: the handle `spawn` returns.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use corio_sync::{coop, trace};

use super::error::{TaskError, TaskId};
use super::raw::{Outcome, RawTask};
use super::state::TransitionToCancel;

/// A spawned task: await it for its output, or [`cancel`](Task::cancel) it.
///
/// `Task<T>` is a `Future<Output = Result<T, TaskError>>`. Dropping it *detaches* the
/// task: it keeps running, like an asyncio task nobody awaits.
///
/// ```
/// let out = corio_runtime::run(async {
///     let task = corio_runtime::spawn(async { 6 * 7 });
///     task.await.unwrap()
/// });
/// assert_eq!(out, 42);
/// ```
#[must_use = "dropping a Task detaches it; await it to get its output or call .cancel()"]
pub struct Task<T> {
    raw: RawTask,
    _output: PhantomData<T>,
}

// SAFETY: the handle gives access to the output only (moved out on completion), so it can
// move to / be shared with another thread exactly when T can be sent.
unsafe impl<T: Send> Send for Task<T> {}
// SAFETY: `&Task` only allows id/name/cancel/is_finished, which use atomics and immutable
// data; the output is only reachable through `&mut` (poll).
unsafe impl<T: Send> Sync for Task<T> {}

impl<T> Unpin for Task<T> {}

impl<T> Task<T> {
    /// Wraps the handle's reference (one of the three a new task starts with).
    pub(crate) fn new(raw: RawTask) -> Task<T> {
        Task {
            raw,
            _output: PhantomData,
        }
    }

    /// The task's id.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let task = corio_runtime::spawn(async { corio_runtime::current_task().unwrap().id() });
    ///     let id = task.id();
    ///     assert_eq!(task.await.unwrap(), id);
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.raw.id()
    }

    /// The name given with [`task::Builder::name`](crate::task::Builder::name), if any
    /// (asyncio's `get_name`; `Display` shows `Task-<id>` for unnamed tasks).
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let named = corio_runtime::task::Builder::new().name("worker-1").spawn(async {});
    ///     assert_eq!(named.name(), Some("worker-1"));
    ///     let unnamed = corio_runtime::spawn(async {});
    ///     assert_eq!(unnamed.name(), None);
    ///     assert_eq!(unnamed.to_string(), format!("Task-{}", unnamed.id()));
    /// });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.raw.trailer().extra.name_str()
    }

    /// Requests cancellation: the future is dropped at its next suspension point (never in
    /// the middle of a poll) and awaiting the task then gives [`TaskError::Cancelled`].
    ///
    /// Returns `false` if the task had already finished (its output stays available),
    /// `true` otherwise (including when it was already being cancelled).
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let task = corio_runtime::spawn(std::future::pending::<()>());
    ///     assert!(task.cancel());
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) -> bool {
        cancel_raw(self.raw)
    }

    /// True once the task completed, panicked or was cancelled (asyncio's `done()`).
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let task = corio_runtime::spawn(async {});
    ///     while !task.is_finished() {
    ///         corio_runtime::yield_now().await;
    ///     }
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.state().load().is_complete()
    }

    /// Registers the join waker and reports whether and how the task finished, without
    /// taking its output: the `Task` can still be awaited afterwards (for `wait` and
    /// `as_completed`).
    pub(crate) fn poll_done(&self, cx: &mut Context<'_>) -> Poll<Outcome> {
        // SAFETY: the handle holds a reference and has join interest.
        unsafe { (self.raw.header().vtable.poll_done)(self.raw.header_ptr(), cx.waker()) }
    }

    /// A cheap, clonable handle that can cancel the task while the `Task` sits elsewhere.
    pub(crate) fn abort_handle(&self) -> AbortHandle {
        self.raw.state().ref_inc();
        AbortHandle { raw: self.raw }
    }
}

fn cancel_raw(raw: RawTask) -> bool {
    match raw.state().transition_to_notified_and_cancel() {
        TransitionToCancel::AlreadyComplete => false,
        TransitionToCancel::DoNothing => true,
        TransitionToCancel::Submit => {
            // SAFETY: the transition created the reference the notification carries; our
            // own reference keeps the task alive during the call.
            unsafe { (raw.header().vtable.schedule)(raw.header_ptr()) };
            true
        }
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        std::task::ready!(coop::poll_proceed(cx));
        let mut ret: Poll<Result<T, TaskError>> = Poll::Pending;
        // SAFETY: `ret` has the type the vtable writes (this task's output type), and the
        // handle holds a reference with join interest.
        unsafe {
            (self.raw.header().vtable.try_read_output)(
                self.raw.header_ptr(),
                (&mut ret as *mut Poll<Result<T, TaskError>>).cast(),
                cx.waker(),
            )
        };
        if ret.is_pending() {
            coop::refund();
            trace::record_at(&JOIN, self.raw.id().as_u64(), None);
        }
        ret
    }
}

/// `join Task-17` in task dumps.
static JOIN: trace::Op = trace::Op {
    name: "join",
    detail: trace::Detail::Task,
};

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        if self.raw.state().drop_join_handle_fast().is_ok() {
            return;
        }
        // SAFETY: the handle's reference is released by the call.
        unsafe { (self.raw.header().vtable.drop_join_handle_slow)(self.raw.header_ptr()) }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<T> fmt::Display for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Task-{}", self.id()),
        }
    }
}

/// Cancels a task without owning its [`Task`] handle (used by the combinators).
pub(crate) struct AbortHandle {
    raw: RawTask,
}

impl AbortHandle {
    /// Same as [`Task::cancel`].
    pub(crate) fn cancel(&self) -> bool {
        cancel_raw(self.raw)
    }

    #[cfg(test)]
    pub(crate) fn id(&self) -> TaskId {
        self.raw.id()
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        self.raw.state().ref_inc();
        AbortHandle { raw: self.raw }
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AbortHandle({})", self.raw.id())
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use std::future::poll_fn;

    use super::*;
    use crate::{spawn, yield_now, Builder};

    #[test]
    fn poll_done_reports_the_outcome_without_taking_the_output() {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let ok = spawn(async { 5 });
            let panicked = spawn(async { panic!("p") });
            let cancelled = spawn(std::future::pending::<i32>());
            let pending = spawn(std::future::pending::<i32>());
            yield_now().await;
            assert!(cancelled.cancel());
            assert_eq!(
                poll_fn(|cx| ok.poll_done(cx)).await,
                Outcome::Completed,
                "completed"
            );
            assert_eq!(
                poll_fn(|cx| panicked.poll_done(cx)).await,
                Outcome::Panicked
            );
            assert_eq!(
                poll_fn(|cx| cancelled.poll_done(cx)).await,
                Outcome::Cancelled
            );
            // Still pending: registers the waker and returns Pending.
            let polled = poll_fn(|cx| Poll::Ready(pending.poll_done(cx))).await;
            assert!(polled.is_pending());
            // The outputs are still there.
            assert_eq!(ok.await.unwrap(), 5);
            assert!(panicked.await.unwrap_err().is_panic());
            assert!(cancelled.await.unwrap_err().is_cancelled());
            // The waker registered by poll_done fires on completion.
            let abort = pending.abort_handle();
            let abort2 = abort.clone();
            assert_eq!(abort.id(), pending.id());
            assert!(abort2.cancel());
            drop((abort, abort2));
            assert_eq!(
                poll_fn(|cx| pending.poll_done(cx)).await,
                Outcome::Cancelled
            );
            assert!(!pending.cancel());
        });
    }

    #[test]
    fn abort_handle_outlives_the_task_handle() {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let task = spawn(std::future::pending::<()>());
            let abort = task.abort_handle();
            drop(task);
            assert!(abort.cancel());
            yield_now().await;
            assert!(!abort.cancel(), "finished by now");
        });
    }
}
