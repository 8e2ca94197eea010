//! The schedulers: multi-thread (work-stealing, the default) and current-thread.

pub(crate) mod current_thread;
pub(crate) mod multi_thread;

use std::future::Future;

use crate::driver::Driver;
use crate::loom::Arc;
use crate::runtime::blocking::BlockingPool;
use crate::task::{Registry, SpawnMeta, Task};

/// A handle to either scheduler; what `Handle`, the thread context and tasks hold.
#[derive(Clone)]
pub(crate) enum Handle {
    MultiThread(Arc<multi_thread::Shared>),
    CurrentThread(Arc<current_thread::Shared>),
}

/// A scheduler's per-thread state, lent to the thread's context
/// ([`context::set_scheduler`](crate::runtime::context::set_scheduler)) while its loop
/// runs there: the schedule path finds it to queue a woken task locally.
pub(crate) enum Context {
    /// A worker of the multi-thread scheduler.
    MultiThread(multi_thread::Worker),
    /// The current-thread scheduler inside `block_on`.
    CurrentThread(current_thread::Running),
}

impl Handle {
    /// Spawns a `Send` task.
    pub(crate) fn spawn<F>(&self, future: F, meta: SpawnMeta) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::MultiThread(shared) => multi_thread::spawn(shared, future, meta),
            Handle::CurrentThread(shared) => current_thread::spawn(shared, future, meta),
        }
    }

    /// Spawns a `!Send` task if this thread runs this scheduler (a current-thread runtime,
    /// inside its `block_on`); gives the future back otherwise.
    pub(crate) fn spawn_local<F>(&self, future: F, meta: SpawnMeta) -> Result<Task<F::Output>, F>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        match self {
            Handle::MultiThread(_) => Err(future),
            Handle::CurrentThread(shared) => current_thread::spawn_local(shared, future, meta),
        }
    }

    /// The live-task registry.
    pub(crate) fn registry(&self) -> &Registry {
        match self {
            Handle::MultiThread(shared) => &shared.registry,
            Handle::CurrentThread(shared) => &shared.registry,
        }
    }

    /// The runtime's driver (reactor and timers).
    pub(crate) fn driver(&self) -> &Arc<Driver> {
        match self {
            Handle::MultiThread(shared) => &shared.driver,
            Handle::CurrentThread(shared) => &shared.driver,
        }
    }

    /// The runtime's blocking pool.
    pub(crate) fn blocking(&self) -> &BlockingPool {
        match self {
            Handle::MultiThread(shared) => &shared.blocking,
            Handle::CurrentThread(shared) => &shared.blocking,
        }
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Handle::MultiThread(_) => f.write_str("MultiThread"),
            Handle::CurrentThread(_) => f.write_str("CurrentThread"),
        }
    }
}
