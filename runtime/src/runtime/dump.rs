//! [`dump`] and [`Handle::dump`]: a task dump of a runtime, with the workers' view (which
//! task each worker is polling) added to what the task registry knows.

use super::context;
use super::handle::Handle;
use crate::scheduler::{self, BLOCK_ON_ID};
use crate::task::Dump;

/// A dump of every live task of the current runtime: id, name, spawn location, state
/// (idle, scheduled, running on worker N for t), polls, age and what it awaits (see
/// [`Dump`]). Print it (`{dump}`) for a tree like `python -m asyncio pstree`.
///
/// Never blocks the workers: the tasks keep running while it is taken.
///
/// # Panics
///
/// Outside a corio runtime; use [`Handle::dump`] from other threads.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// corio_runtime::run(async {
///     let lock = Arc::new(corio_sync::Lock::new(()));
///     let guard = lock.lock().await;
///     let waiter = {
///         let lock = lock.clone();
///         corio_runtime::spawn(async move { drop(lock.lock().await) })
///     };
///     corio_runtime::sleep(Duration::from_millis(20)).await;
///     let dump = corio_runtime::dump();
///     let task = dump.iter().find(|t| t.info().id() == waiter.id()).unwrap();
///     assert_eq!(task.awaiting()[0].what(), "Lock::lock");
///     print!("{dump}");
///     drop(guard);
///     waiter.await.unwrap();
/// });
/// ```
#[track_caller]
pub fn dump() -> Dump {
    match context::with_handle(collect) {
        Some(dump) => dump,
        None => panic!(
            "corio::dump() must be called from inside a corio runtime: call it from a task \
             or a block_on future, or use Handle::dump() from another thread"
        ),
    }
}

/// The dump of the runtime behind `handle`.
pub(crate) fn collect(handle: &scheduler::Handle) -> Dump {
    let mut activity = Vec::new();
    handle.activity(&mut activity);
    let running: Vec<(usize, u64)> = activity
        .iter()
        .enumerate()
        .filter(|(_, a)| a.current_task != 0 && a.current_task != BLOCK_ON_ID)
        .map(|(w, a)| (w, a.current_task))
        .collect();
    Dump::collect(handle.registry(), activity.len(), &running)
}

impl Handle {
    /// A dump of every live task of this runtime, from any thread (see [`dump`]).
    ///
    /// ```
    /// let rt = corio_runtime::Runtime::new().unwrap();
    /// let task = rt.spawn(std::future::pending::<()>());
    /// let dump = rt.handle().dump();
    /// assert_eq!(dump.len(), 1);
    /// println!("{dump}");
    /// task.cancel();
    /// ```
    pub fn dump(&self) -> Dump {
        collect(&self.inner)
    }
}
