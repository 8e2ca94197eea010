//! `as_completed`: the outputs of a set of tasks in the order they finish.

use std::fmt;
use std::future::{poll_fn, Future};
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::stream::{FusedStream, Stream};

use corio_sync::trace;

use super::ready_queue::ReadyQueue;
use crate::task::{Task, TaskError};

/// Yields the outputs of `tasks` in completion order. [asyncio: `as_completed`]
///
/// Await [`AsCompleted::next`] (or use it as a [`Stream`]) until it returns `None`. Each
/// task has its own waker, so a task finishing costs O(1), not a re-poll of all of them.
/// Dropping the `AsCompleted` detaches the tasks not yet yielded (they keep running).
///
/// # Examples
///
/// ```
/// use corio_runtime::{as_completed, spawn, yield_now};
///
/// corio_runtime::run(async {
///     let (tx, rx) = futures::channel::oneshot::channel::<()>();
///     let slow = spawn(async move {
///         rx.await.unwrap();
///         "slow"
///     });
///     let fast = spawn(async { "fast" });
///     let mut finished = as_completed([slow, fast]);
///     assert_eq!(finished.next().await.unwrap().unwrap(), "fast");
///     tx.send(()).unwrap();
///     assert_eq!(finished.next().await.unwrap().unwrap(), "slow");
///     assert!(finished.next().await.is_none());
/// });
/// ```
#[track_caller]
pub fn as_completed<T>(tasks: impl IntoIterator<Item = Task<T>>) -> AsCompleted<T> {
    let tasks: Vec<Option<Task<T>>> = tasks.into_iter().map(Some).collect();
    AsCompleted {
        queue: ReadyQueue::new(tasks.len()),
        remaining: tasks.len(),
        tasks,
        at: Location::caller(),
    }
}

/// Stream of task outputs in completion order, returned by [`as_completed`].
///
/// ```
/// use futures::StreamExt; // `AsCompleted` is also a `Stream`
///
/// corio_runtime::run(async {
///     let tasks = (0..3).map(|i| corio_runtime::spawn(async move { i * 2 }));
///     let mut outputs: Vec<i32> = corio_runtime::as_completed(tasks)
///         .map(|r| r.unwrap())
///         .collect()
///         .await;
///     outputs.sort();
///     assert_eq!(outputs, [0, 2, 4]);
/// });
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<T> {
    /// `None` once yielded.
    tasks: Vec<Option<Task<T>>>,
    remaining: usize,
    queue: ReadyQueue,
    at: &'static Location<'static>,
}

/// `as_completed (3 tasks left) at src/main.rs:10` in task dumps.
static AS_COMPLETED: trace::Op = trace::Op {
    name: "as_completed",
    detail: trace::Detail::Count,
};

impl<T> AsCompleted<T> {
    /// The output of the next task to finish, or `None` when every task has been yielded.
    ///
    /// Cancel-safe: dropping the returned future loses nothing.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let task = corio_runtime::spawn(async { panic!("boom") });
    ///     let mut finished = corio_runtime::as_completed([task]);
    ///     assert!(finished.next().await.unwrap().unwrap_err().is_panic());
    ///     assert!(finished.next().await.is_none());
    /// });
    /// ```
    pub async fn next(&mut self) -> Option<Result<T, TaskError>> {
        poll_fn(|cx| self.poll_next_task(cx)).await
    }

    /// Number of tasks not yet yielded.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let mut finished = corio_runtime::as_completed([corio_runtime::spawn(async {})]);
    ///     assert_eq!(finished.len(), 1);
    ///     finished.next().await;
    ///     assert_eq!(finished.len(), 0);
    ///     assert!(finished.is_empty());
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.remaining
    }

    /// True when every task has been yielded.
    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }

    fn poll_next_task(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, TaskError>>> {
        let mark = trace::mark();
        let out = self.poll_next_inner(cx);
        if out.is_pending() {
            // The tasks' own waits show up under them, not here.
            trace::record_outer(mark, 0, &AS_COMPLETED, self.remaining as u64, self.at);
        }
        out
    }

    fn poll_next_inner(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, TaskError>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        self.queue.begin(cx.waker());
        while let Some(i) = self.queue.pop() {
            let Some(task) = &mut self.tasks[i] else {
                continue; // A stale wake of a yielded task.
            };
            let mut child_cx = Context::from_waker(self.queue.waker(i));
            if let Poll::Ready(out) = Pin::new(task).poll(&mut child_cx) {
                self.tasks[i] = None;
                self.remaining -= 1;
                return Poll::Ready(Some(out));
            }
            if !corio_sync::coop::has_budget_remaining() {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        Poll::Pending
    }
}

impl<T> Stream for AsCompleted<T> {
    type Item = Result<T, TaskError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_next_task(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<T> FusedStream for AsCompleted<T> {
    fn is_terminated(&self) -> bool {
        self.remaining == 0
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}
