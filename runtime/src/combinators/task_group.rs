//! `TaskGroup`: structured concurrency — spawn tasks into a group, join them all; the
//! first failure cancels the rest (asyncio's `TaskGroup`).
//!
//! Every task runs inside a small wrapper ([`Member`]) that reports an `Err` or a panic
//! of its future to the group as soon as it happens, so the siblings are cancelled at
//! once (through their abort handles), whether or not `join` is being awaited yet.
//! `join` polls the tasks through the shared ready queue (one waker per task) and
//! returns only when every task has finished, so cancelled siblings have been dropped.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use corio_sync::trace;
use pin_project_lite::pin_project;

use super::group_error::GroupError;
use super::ready_queue::ReadyQueue;
use crate::loom::Mutex;
use crate::runtime::context;
use crate::task::{AbortHandle, SpawnMeta, Task, TaskError};

/// A group of tasks joined together: values in spawn order, or every failure.
/// [asyncio: `TaskGroup`]
///
/// - [`spawn`](TaskGroup::spawn) starts a task in the group (on the current runtime).
/// - [`join`](TaskGroup::join) waits for all of them and returns their values in spawn
///   order.
/// - The first task to return `Err` or panic cancels every sibling; `join` then returns a
///   [`GroupError`] holding every error and panic (not the cancellations), once the
///   cancelled siblings have been dropped. From then on `spawn` is refused.
/// - Dropping the group (or the `join` future before it finishes) cancels all its tasks.
///
/// # Examples
///
/// ```
/// use corio_runtime::{yield_now, TaskGroup};
///
/// corio_runtime::run(async {
///     let group = TaskGroup::<u32, String>::new();
///     for n in [3, 1, 2] {
///         group
///             .spawn(async move {
///                 for _ in 0..n {
///                     yield_now().await;
///                 }
///                 Ok(n * 10)
///             })
///             .unwrap();
///     }
///     // Spawn order, whatever the completion order.
///     assert_eq!(group.join().await.unwrap(), [30, 10, 20]);
///
///     let group = TaskGroup::<u32, String>::new();
///     group.spawn(std::future::pending()).unwrap(); // cancelled by the failure below
///     group.spawn(async { Err("bad input".to_string()) }).unwrap();
///     let err = group.join().await.unwrap_err();
///     assert_eq!(err.errors(), ["bad input".to_string()]);
/// });
/// ```
pub struct TaskGroup<T, E> {
    /// The tasks, in spawn order. Lock order: `tasks`, then `shared.state`.
    tasks: Mutex<Vec<Task<Result<T, E>>>>,
    shared: Arc<Shared>,
    /// Set by `join`, which takes over the tasks: dropping the group then cancels nothing.
    joined: bool,
}

/// What the group and its tasks' wrappers share.
struct Shared {
    state: Mutex<State>,
}

struct State {
    /// One per task, in spawn order.
    aborts: Vec<AbortHandle>,
    /// A task failed, or the group was dropped: cancellations were sent, spawns refused.
    closed: bool,
}

impl Shared {
    /// Closes the group and cancels every task except `except` (the failing one, which is
    /// finishing anyway). Idempotent.
    fn close_and_cancel(&self, except: Option<usize>) {
        let mut state = self.state.lock();
        if state.closed {
            return;
        }
        state.closed = true;
        for (i, abort) in state.aborts.iter().enumerate() {
            if Some(i) != except {
                // Only marks the task and schedules it; never runs code inline.
                abort.cancel();
            }
        }
    }
}

impl<T, E> TaskGroup<T, E> {
    /// An empty group.
    ///
    /// ```
    /// let group = corio_runtime::TaskGroup::<(), std::io::Error>::new();
    /// assert!(group.is_empty());
    /// ```
    pub fn new() -> TaskGroup<T, E> {
        TaskGroup {
            tasks: Mutex::new(Vec::new()),
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    aborts: Vec::new(),
                    closed: false,
                }),
            }),
            joined: false,
        }
    }

    /// Number of tasks spawned into the group.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let group = corio_runtime::TaskGroup::<(), ()>::new();
    ///     group.spawn(async { Ok(()) }).unwrap();
    ///     assert_eq!(group.len(), 1);
    ///     assert!(!group.is_shutting_down());
    ///     group.join().await.unwrap();
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.tasks.lock().len()
    }

    /// True if no task was spawned into the group.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once a task of the group failed: the others are being cancelled and
    /// [`spawn`](TaskGroup::spawn) is refused.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.state.lock().closed
    }

    /// Waits for every task; their values in spawn order, or a [`GroupError`] with every
    /// error and panic if any task failed (the first failure cancelled the others, and
    /// `join` returns only after those were dropped).
    ///
    /// Dropping the `join` future before it finishes cancels every task of the group.
    ///
    /// ```
    /// use corio_runtime::TaskGroup;
    ///
    /// corio_runtime::run(async {
    ///     let group = TaskGroup::<&str, String>::new();
    ///     group.spawn(async { Ok("a") }).unwrap();
    ///     group.spawn(async { panic!("b exploded") }).unwrap();
    ///     let err = group.join().await.unwrap_err();
    ///     assert_eq!(err.panics().len(), 1);
    ///     assert_eq!(err.to_string(), "1 task of the group failed: panicked: b exploded");
    /// });
    /// ```
    #[track_caller]
    pub fn join(self) -> GroupJoin<T, E> {
        let mut this = self;
        this.joined = true;
        let tasks = std::mem::take(this.tasks.get_mut());
        let n = tasks.len();
        GroupJoin {
            queue: ReadyQueue::new(n),
            outputs: (0..n).map(|_| None).collect(),
            remaining: n,
            tasks,
            shared: this.shared.clone(),
            failed: false,
            finished: false,
            at: Location::caller(),
        }
    }
}

impl<T, E> TaskGroup<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    /// Spawns `fut` as a task of the group, on the current runtime. [asyncio:
    /// `TaskGroup.create_task`]
    ///
    /// Refused with [`GroupShutDown`], which hands `fut` back, once a task of the group
    /// has failed (the group is cancelling its tasks).
    ///
    /// # Panics
    ///
    /// Panics when called outside a corio runtime, like [`spawn`](crate::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_runtime::TaskGroup;
    ///
    /// corio_runtime::run(async {
    ///     let group = TaskGroup::<(), &str>::new();
    ///     group.spawn(async { Err("boom") }).unwrap();
    ///     while !group.is_shutting_down() {
    ///         corio_runtime::yield_now().await;
    ///     }
    ///     // The group is shutting down: new tasks are refused, not started.
    ///     assert!(group.spawn(async { Ok(()) }).is_err());
    ///     assert_eq!(group.join().await.unwrap_err().errors(), ["boom"]);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, fut: F) -> Result<(), GroupShutDown<F>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let mut tasks = self.tasks.lock();
        let mut state = self.shared.state.lock();
        if state.closed {
            return Err(GroupShutDown(fut));
        }
        let index = tasks.len();
        // Spawned under the state lock: a sibling failing now waits for the lock and then
        // sees (and cancels) this task too.
        // Task dumps show the group's tasks under the task that spawned them.
        let parent = context::current_task().map(|t| t.id());
        let task = crate::task::spawn_with(
            Member {
                fut: Some(fut),
                shared: self.shared.clone(),
                index,
            },
            SpawnMeta::new(None).in_group_of(parent),
        );
        state.aborts.push(task.abort_handle());
        tasks.push(task);
        Ok(())
    }
}

impl<T, E> Default for TaskGroup<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, E> Drop for TaskGroup<T, E> {
    fn drop(&mut self) {
        if !self.joined {
            self.shared.close_and_cancel(None);
        }
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("tasks", &self.len())
            .field("shutting_down", &self.is_shutting_down())
            .finish()
    }
}

/// [`TaskGroup::spawn`] was refused because the group is shutting down (a task failed);
/// holds the future that was not spawned.
///
/// ```
/// let err = corio_runtime::GroupShutDown(async { Ok::<(), ()>(()) });
/// assert_eq!(err.to_string(), "the task group is shutting down: spawn refused");
/// let _fut = err.into_inner();
/// ```
pub struct GroupShutDown<F>(pub F);

impl<F> GroupShutDown<F> {
    /// The future that was not spawned.
    pub fn into_inner(self) -> F {
        self.0
    }
}

impl<F> fmt::Debug for GroupShutDown<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GroupShutDown(..)")
    }
}

impl<F> fmt::Display for GroupShutDown<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the task group is shutting down: spawn refused")
    }
}

impl<F> std::error::Error for GroupShutDown<F> {}

pin_project! {
    /// The future a group task runs: the user's future, reporting its failure at once.
    struct Member<F> {
        #[pin]
        fut: Option<F>,
        shared: Arc<Shared>,
        index: usize,
    }
}

impl<F, T, E> Future for Member<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let polled = catch_unwind(AssertUnwindSafe(|| {
            let fut = this
                .fut
                .as_mut()
                .as_pin_mut()
                .expect("group task polled after completion");
            let out = fut.poll(cx);
            if out.is_ready() {
                // Drop the finished future here, so a panicking destructor is reported
                // like a panic of the future.
                this.fut.set(None);
            }
            out
        }));
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => {
                if out.is_err() {
                    this.shared.close_and_cancel(Some(*this.index));
                }
                Poll::Ready(out)
            }
            Err(panic) => {
                this.shared.close_and_cancel(Some(*this.index));
                resume_unwind(panic)
            }
        }
    }
}

/// Future returned by [`TaskGroup::join`]; dropping it before it finishes cancels every
/// task of the group.
///
/// ```
/// corio_runtime::run(async {
///     let group = corio_runtime::TaskGroup::<u8, ()>::new();
///     group.spawn(async { Ok(1) }).unwrap();
///     let join: corio_runtime::combinators::GroupJoin<u8, ()> = group.join();
///     assert_eq!(join.await.unwrap(), [1]);
/// });
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct GroupJoin<T, E> {
    tasks: Vec<Task<Result<T, E>>>,
    outputs: Vec<Option<Result<Result<T, E>, TaskError>>>,
    remaining: usize,
    queue: ReadyQueue,
    shared: Arc<Shared>,
    /// A failure was seen: the siblings were told to cancel.
    failed: bool,
    finished: bool,
    at: &'static Location<'static>,
}

// Nothing in a `GroupJoin` is ever pinned: the outputs are plain values in a `Vec`.
impl<T, E> Unpin for GroupJoin<T, E> {}

impl<T, E> GroupJoin<T, E> {
    fn assemble(&mut self) -> Result<Vec<T>, GroupError<E>> {
        let outputs = std::mem::take(&mut self.outputs);
        let mut values = Vec::with_capacity(if self.failed { 0 } else { outputs.len() });
        let mut errors = Vec::new();
        let mut panics = Vec::new();
        let mut cancelled = false;
        for out in outputs {
            match out.expect("every task finished") {
                Ok(Ok(value)) => values.push(value),
                Ok(Err(err)) => errors.push(err),
                Err(TaskError::Panicked(payload)) => panics.push(payload),
                Err(TaskError::Cancelled) => cancelled = true,
            }
        }
        if errors.is_empty() && panics.is_empty() && !cancelled {
            Ok(values)
        } else {
            Err(GroupError::new(errors, panics))
        }
    }
}

/// `TaskGroup::join (3 tasks left) at src/main.rs:10` in task dumps.
static GROUP_JOIN: trace::Op = trace::Op {
    name: "TaskGroup::join",
    detail: trace::Detail::Count,
};

impl<T, E> GroupJoin<T, E> {
    /// The tasks' own waits (recorded when they were polled since `mark`) show up under
    /// them, not here.
    fn record(&self, mark: usize) {
        trace::record_outer(mark, 0, &GROUP_JOIN, self.remaining as u64, self.at);
    }
}

impl<T, E> Future for GroupJoin<T, E> {
    type Output = Result<Vec<T>, GroupError<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.finished, "`GroupJoin` polled after completion");
        this.queue.begin(cx.waker());
        let mark = trace::mark();
        while this.remaining > 0 {
            if !corio_sync::coop::has_budget_remaining() {
                cx.waker().wake_by_ref();
                this.record(mark);
                return Poll::Pending;
            }
            let Some(i) = this.queue.pop() else {
                this.record(mark);
                return Poll::Pending;
            };
            if this.outputs[i].is_some() {
                continue;
            }
            let mut child_cx = Context::from_waker(this.queue.waker(i));
            if let Poll::Ready(out) = Pin::new(&mut this.tasks[i]).poll(&mut child_cx) {
                let failure = matches!(out, Ok(Err(_)) | Err(TaskError::Panicked(_)));
                if failure && !this.failed {
                    this.failed = true;
                    this.shared.close_and_cancel(Some(i));
                }
                this.outputs[i] = Some(out);
                this.remaining -= 1;
            }
        }
        this.finished = true;
        Poll::Ready(this.assemble())
    }
}

impl<T, E> Drop for GroupJoin<T, E> {
    fn drop(&mut self) {
        if !self.finished {
            self.shared.close_and_cancel(None);
        }
    }
}

impl<T, E> fmt::Debug for GroupJoin<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupJoin")
            .field("tasks", &self.tasks.len())
            .field("remaining", &self.remaining)
            .field("failed", &self.failed)
            .finish()
    }
}
