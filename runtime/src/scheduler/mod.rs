//! The schedulers: multi-thread (work-stealing, the default) and current-thread.

pub(crate) mod current_thread;
pub(crate) mod multi_thread;

use std::future::Future;
use std::time::Duration;

use crate::driver::Driver;
use crate::loom::Arc;
use crate::runtime::blocking::BlockingPool;
use crate::runtime::metrics::WorkerMetrics;
use crate::task::{Registry, SpawnMeta, Task};

/// What one worker is doing, as published for the monitor thread: each worker stores its
/// poll counter and the id of the task it polls in relaxed atomics (no clock read per
/// poll); a counter that did not move between two samples means one long poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(loom, shuttle), allow(dead_code))] // loom models run no monitor thread
pub(crate) struct WorkerActivity {
    /// Polls started so far.
    pub(crate) polls: u64,
    /// The task being polled (0 if none; [`BLOCK_ON_ID`] for a `block_on` future).
    pub(crate) current_task: u64,
}

/// `current_task` while the current-thread scheduler polls the `block_on` future itself
/// (task ids never reach it).
pub(crate) const BLOCK_ON_ID: u64 = u64::MAX;

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

#[cfg_attr(any(loom, shuttle), allow(dead_code))] // loom models run no monitor thread
impl Handle {
    /// Every worker's watchdog counters (one entry for the current-thread scheduler),
    /// appended to `out`.
    pub(crate) fn activity(&self, out: &mut Vec<WorkerActivity>) {
        match self {
            Handle::MultiThread(shared) => shared.activity(out),
            Handle::CurrentThread(shared) => out.push(shared.activity()),
        }
    }

    /// The monitor saw worker `index` inside a poll for `busy` (a sample).
    pub(crate) fn add_busy(&self, index: usize, busy: Duration) {
        match self {
            Handle::MultiThread(shared) => shared.add_busy(index, busy),
            Handle::CurrentThread(shared) => shared.add_busy(busy),
        }
    }

    /// Moves the work queued behind worker `index`, stuck in one poll, to the others.
    /// Returns how many tasks moved (always 0 on the current-thread scheduler: there is
    /// no other worker).
    pub(crate) fn hand_off(&self, index: usize) -> usize {
        match self {
            Handle::MultiThread(shared) => shared.hand_off(index),
            Handle::CurrentThread(_) => 0,
        }
    }

    /// Per-worker metrics and the injector's depth.
    pub(crate) fn worker_metrics(&self) -> (Vec<WorkerMetrics>, usize) {
        match self {
            Handle::MultiThread(shared) => (shared.worker_metrics(), shared.injector_depth()),
            Handle::CurrentThread(shared) => {
                (vec![shared.worker_metrics()], shared.injector_depth())
            }
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
