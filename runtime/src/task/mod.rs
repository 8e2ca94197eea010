//! Tasks: [`spawn`], [`spawn_local`], [`Task`], [`TaskError`], [`yield_now`], the task
//! [`Builder`], and introspection with [`current_task`] / [`all_tasks`].
//!
//! A task is one allocation: a header (state word, vtable, id, registry links), the
//! scheduler handle and the future/output stage, then a cold trailer (join waker, and one
//! word that is the spawn location until the task needs its out-of-line extras: name,
//! group, await records).
//!
//! ```
//! use corio_runtime::task::{Builder, TaskError};
//!
//! corio_runtime::run(async {
//!     let task = Builder::new().name("greeter").spawn(async { "hi" });
//!     assert_eq!(task.await.unwrap(), "hi");
//!     let stuck = corio_runtime::spawn(std::future::pending::<()>());
//!     stuck.cancel();
//!     assert!(matches!(stuck.await, Err(TaskError::Cancelled)));
//! });
//! ```

mod builder;
mod dump;
mod error;
mod extra;
mod harness;
mod info;
mod join;
mod raw;
mod registry;
mod sightings;
mod state;
mod waker;
mod yield_now;

use std::future::Future;

pub use builder::Builder;
pub use dump::{AwaitDetail, Awaiting, BlockOnDump, Dump, TaskDump};
pub use error::{PanicPayload, TaskError, TaskId};
pub use info::{all_tasks, current_task, TaskInfo, TaskState};
pub use join::Task;
pub use yield_now::{yield_now, YieldNow};

#[allow(unused_imports)] // used by the combinators
pub(crate) use join::AbortHandle;
#[allow(unused_imports)] // used by the combinators
pub(crate) use raw::Outcome;
pub(crate) use raw::{Header, Notified, RawTask, Schedule, SpawnMeta};
pub(crate) use registry::Registry;

use crate::runtime::context;

/// Spawns a task on the current runtime (asyncio's `create_task`) and returns its handle.
///
/// The task starts running without being awaited; dropping the returned [`Task`] detaches
/// it.
///
/// # Panics
///
/// Outside a corio runtime.
///
/// ```
/// corio_runtime::run(async {
///     let tasks: Vec<_> = (0..4).map(|i| corio_runtime::spawn(async move { i * 2 })).collect();
///     let mut sum = 0;
///     for t in tasks {
///         sum += t.await.unwrap();
///     }
///     assert_eq!(sum, 12);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_with(future, SpawnMeta::new(None))
}

#[track_caller]
pub(crate) fn spawn_with<F>(future: F, meta: SpawnMeta) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match context::with_handle(move |h| h.spawn(future, meta)) {
        Some(task) => task,
        None => panic!(
            "corio::spawn must be called from inside a corio runtime: wrap your code in \
             corio::run(...) or use Runtime::spawn / Handle::spawn"
        ),
    }
}

/// Spawns a `!Send` future on the current-thread runtime this thread is running.
///
/// # Panics
///
/// Unless called from inside `block_on` of a current-thread runtime
/// (`Builder::new_current_thread()`), including from its tasks.
///
/// ```
/// use std::rc::Rc;
///
/// let rt = corio_runtime::Builder::new_current_thread().build().unwrap();
/// let n = rt.block_on(async {
///     let shared = Rc::new(5);
///     let task = corio_runtime::spawn_local(async move { *shared + 1 });
///     task.await.unwrap()
/// });
/// assert_eq!(n, 6);
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    spawn_local_with(future, SpawnMeta::new(None))
}

#[track_caller]
pub(crate) fn spawn_local_with<F>(future: F, meta: SpawnMeta) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match context::with_handle(move |h| h.spawn_local(future, meta)) {
        Some(Ok(task)) => task,
        Some(Err(_)) | None => panic!(
            "corio::spawn_local must be called from inside a current-thread runtime's \
             block_on (Builder::new_current_thread()); !Send futures cannot move between \
             worker threads — use corio::spawn for Send futures"
        ),
    }
}

/// Creates a task, registers it and schedules its first poll.
pub(crate) fn bind<F, S>(
    scheduler: &S,
    registry: &Registry,
    future: F,
    meta: SpawnMeta,
) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule + Clone,
{
    // SAFETY: not local: `F` is `Send`, so any thread may poll or drop it.
    unsafe { bind_inner(scheduler, registry, future, meta, false) }
}

/// Like [`bind`] for a `!Send` future.
///
/// # Safety
///
/// The scheduler polls the task only on the current thread, and the future is only dropped
/// there (shutdown elsewhere leaks it).
pub(crate) unsafe fn bind_local<F, S>(
    scheduler: &S,
    registry: &Registry,
    future: F,
    meta: SpawnMeta,
) -> Task<F::Output>
where
    F: Future + 'static,
    S: Schedule + Clone,
{
    // SAFETY: forwarded to the caller.
    unsafe { bind_inner(scheduler, registry, future, meta, true) }
}

unsafe fn bind_inner<F, S>(
    scheduler: &S,
    registry: &Registry,
    future: F,
    meta: SpawnMeta,
    local: bool,
) -> Task<F::Output>
where
    F: Future + 'static,
    S: Schedule + Clone,
{
    // SAFETY: forwarded from the callers (`local` only with a single-thread guarantee).
    let raw = unsafe { RawTask::new(future, scheduler.clone(), meta, local) };
    // The three initial references: the handle, the first notification, the registry.
    let task = Task::new(raw);
    let notified = Notified::from_raw(raw);
    match registry.insert(raw) {
        Ok(()) => scheduler.schedule(notified),
        Err(raw) => {
            // The runtime is shutting down: the task is cancelled before it starts.
            drop(notified);
            raw.shutdown();
        }
    }
    task
}
