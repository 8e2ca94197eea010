//! `wait`: wait for a set of tasks until the first finishes, the first panics, or all
//! finish, optionally with a timeout; returns `(done, pending)` (asyncio's `wait`).

use std::panic::Location;

use corio_sync::trace;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::ready_queue::ReadyQueue;
use crate::task::{Outcome, Task};
use crate::time::{deadline_after, Origin, Sleep};

/// When [`wait`] returns. [asyncio: `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`]
///
/// # Examples
///
/// ```
/// use corio_runtime::ReturnWhen;
///
/// assert_ne!(ReturnWhen::FirstCompleted, ReturnWhen::AllCompleted);
/// assert_eq!(ReturnWhen::default(), ReturnWhen::AllCompleted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReturnWhen {
    /// As soon as any task finishes (completes, panics or is cancelled).
    FirstCompleted,
    /// As soon as any task panics; if none panics, when all have finished. A cancelled
    /// task does not count as an exception.
    FirstException,
    /// When every task has finished.
    #[default]
    AllCompleted,
}

/// Waits for `tasks` as `return_when` says, or until `timeout` elapses, and returns
/// `(done, pending)`: the finished tasks and the others, each in input order.
/// [asyncio: `wait`]
///
/// The tasks are handed back, not consumed: await a finished task for its output
/// (`Result<T, TaskError>`), and cancel or await the pending ones. The timeout never
/// cancels anything and is not an error: when it elapses, `wait` returns whatever is done
/// by then. `done` may hold several tasks that finished together. Empty input returns
/// `(vec![], vec![])` at once.
///
/// Each task has its own waker, so a task finishing costs O(1), not a re-poll of all.
///
/// # Panics
///
/// With a `timeout`, polling it outside a corio runtime panics (the timer needs the
/// runtime); building it never does. Without one it runs under any executor.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use corio_runtime::{sleep, spawn, wait, ReturnWhen};
///
/// corio_runtime::run(async {
///     let a = spawn(async { sleep(Duration::from_millis(10)).await; "A" });
///     let b = spawn(async { sleep(Duration::from_secs(5)).await; "B" });
///     let (done, pending) =
///         wait([a, b], ReturnWhen::AllCompleted, Some(Duration::from_millis(500))).await;
///     assert_eq!(done.len(), 1);
///     assert_eq!(pending.len(), 1);
///     for task in pending {
///         task.cancel(); // the timeout cancelled nothing: that is the caller's call
///     }
///     for task in done {
///         assert_eq!(task.await.unwrap(), "A");
///     }
/// });
/// ```
#[track_caller]
pub fn wait<T>(
    tasks: impl IntoIterator<Item = Task<T>>,
    return_when: ReturnWhen,
    timeout: Option<Duration>,
) -> Wait<T> {
    // Not `Option::map`: `#[track_caller]` does not reach into a closure, and the timer
    // must record the line that called `wait`.
    #[allow(clippy::manual_map)]
    let timeout = match timeout {
        Some(d) => Some(Sleep::new(deadline_after(d), Origin::Wait)),
        None => None,
    };
    let tasks: Vec<Task<T>> = tasks.into_iter().collect();
    let n = tasks.len();
    Wait {
        queue: ReadyQueue::new(n),
        done: vec![false; n],
        remaining: n,
        tasks,
        return_when,
        timeout,
        finished: false,
        at: Location::caller(),
    }
}

/// Future returned by [`wait`]; resolves to `(done, pending)`.
///
/// ```
/// use corio_runtime::{spawn, wait, ReturnWhen};
///
/// corio_runtime::run(async {
///     let never = spawn(std::future::pending::<()>());
///     let now = spawn(async {});
///     let (done, pending) = wait([never, now], ReturnWhen::FirstCompleted, None).await;
///     assert_eq!((done.len(), pending.len()), (1, 1));
///     pending[0].cancel();
/// });
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct Wait<T> {
    tasks: Vec<Task<T>>,
    /// Tasks whose `poll_done` reported an outcome.
    done: Vec<bool>,
    remaining: usize,
    queue: ReadyQueue,
    return_when: ReturnWhen,
    timeout: Option<Sleep>,
    finished: bool,
    at: &'static Location<'static>,
}

impl<T> Wait<T> {
    /// Checks the woken tasks (`poll_done` costs no budget); true when `return_when` is
    /// satisfied.
    fn poll_tasks(&mut self, cx: &mut Context<'_>) -> bool {
        self.queue.begin(cx.waker());
        let mut satisfied = false;
        while let Some(i) = self.queue.pop() {
            if self.done[i] {
                continue;
            }
            let mut child_cx = Context::from_waker(self.queue.waker(i));
            if let Poll::Ready(outcome) = self.tasks[i].poll_done(&mut child_cx) {
                self.done[i] = true;
                self.remaining -= 1;
                satisfied |= match self.return_when {
                    ReturnWhen::FirstCompleted => true,
                    ReturnWhen::FirstException => matches!(outcome, Outcome::Panicked),
                    ReturnWhen::AllCompleted => false,
                };
            }
        }
        satisfied || self.remaining == 0
    }

    /// Splits the tasks into `(done, pending)`, in input order.
    fn split(&mut self) -> (Vec<Task<T>>, Vec<Task<T>>) {
        let mut done = Vec::new();
        let mut pending = Vec::new();
        for (i, task) in std::mem::take(&mut self.tasks).into_iter().enumerate() {
            // A task that finished after its last poll (or together with the one that
            // ended the wait) counts as done too.
            if self.done[i] || task.is_finished() {
                done.push(task);
            } else {
                pending.push(task);
            }
        }
        (done, pending)
    }
}

/// `wait (3 tasks left) at src/main.rs:10` in task dumps.
static WAIT: trace::Op = trace::Op {
    name: "wait",
    detail: trace::Detail::Count,
};

impl<T> Future for Wait<T> {
    type Output = (Vec<Task<T>>, Vec<Task<T>>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.finished, "`Wait` polled after completion");
        if let Some(timeout) = &mut this.timeout {
            // A poll outside every runtime panics here, before anything else happens.
            timeout.bind();
        }
        let mark = trace::mark();
        let mut ready = this.poll_tasks(cx);
        if !ready {
            if let Some(timeout) = &mut this.timeout {
                // A fresh budget: tasks that used this poll's budget up must not keep
                // the timeout from firing.
                ready = corio_sync::coop::with_budget(|| timeout.poll_timer(cx)).is_ready();
            }
        }
        if ready {
            this.finished = true;
            this.timeout = None;
            Poll::Ready(this.split())
        } else {
            // The tasks' own waits show up under them, not here.
            trace::record_outer(mark, 0, &WAIT, this.remaining as u64, this.at);
            Poll::Pending
        }
    }
}

impl<T> fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("tasks", &self.tasks.len())
            .field("remaining", &self.remaining)
            .field("return_when", &self.return_when)
            .field("has_timeout", &self.timeout.is_some())
            .finish()
    }
}
