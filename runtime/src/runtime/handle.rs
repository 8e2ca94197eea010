//! [`Handle`]: a clonable reference to a runtime.

use std::fmt;
use std::future::Future;

use super::metrics::{BlockingMetrics, RuntimeMetrics};
use super::{block_on_thread, context, NESTED_RUNTIME};
use crate::scheduler::{self, current_thread};
use crate::task::{self, SpawnMeta, Task};

/// A handle to a runtime: spawn onto it from anywhere, even from other threads.
/// `Clone + Send + Sync`.
///
/// ```
/// let rt = corio_runtime::Runtime::new().unwrap();
/// let handle = rt.handle();
/// let task = handle.spawn(async { 1 });
/// assert_eq!(rt.block_on(task).unwrap(), 1);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: scheduler::Handle,
}

impl Handle {
    /// The runtime this code runs on.
    ///
    /// # Panics
    ///
    /// Outside a corio runtime; use [`Handle::try_current`] to check.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let handle = corio_runtime::Handle::current();
    ///     let t = handle.spawn(async { 2 });
    ///     assert_eq!(t.await.unwrap(), 2);
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!(
                "Handle::current() must be called from inside a corio runtime: call it from \
                 a task or a block_on future, or keep the Handle returned by Runtime::handle()"
            ),
        }
    }

    /// The runtime this code runs on, or `None` outside any runtime.
    ///
    /// ```
    /// assert!(corio_runtime::Handle::try_current().is_none());
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::try_current().map(|inner| Handle { inner })
    }

    /// Spawns a task on this runtime.
    ///
    /// ```
    /// let rt = corio_runtime::Runtime::new().unwrap();
    /// let t = rt.handle().spawn(async { 3 });
    /// assert_eq!(rt.block_on(t).unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.spawn(future, SpawnMeta::new(None))
    }

    /// Runs `future` to completion on this thread, like [`Runtime::block_on`](crate::Runtime::block_on).
    ///
    /// # Panics
    ///
    /// When called from inside a runtime.
    ///
    /// ```
    /// let rt = corio_runtime::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let out = std::thread::spawn(move || handle.block_on(async { 4 })).join().unwrap();
    /// assert_eq!(out, 4);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        if context::is_driving() {
            panic!("{NESTED_RUNTIME}");
        }
        let _context = context::enter(self.inner.clone(), true);
        // Listed for task dumps, with what it awaits.
        let entry = self.inner.registry().enter_block_on();
        let mut future = std::pin::pin!(future);
        let future = std::future::poll_fn(|cx| entry.poll(future.as_mut(), cx));
        match &self.inner {
            scheduler::Handle::MultiThread(_) => block_on_thread(future),
            scheduler::Handle::CurrentThread(shared) => current_thread::block_on(shared, future),
        }
    }

    /// Every live task of this runtime (like [`all_tasks`](crate::all_tasks), from outside).
    ///
    /// ```
    /// let rt = corio_runtime::Runtime::new().unwrap();
    /// let t = rt.spawn(std::future::pending::<()>());
    /// assert!(rt.handle().all_tasks().iter().any(|i| i.id() == t.id()));
    /// ```
    pub fn all_tasks(&self) -> Vec<task::TaskInfo> {
        let mut out = Vec::new();
        self.inner.registry().for_each(|t| {
            if !t.state().load().is_complete() {
                out.push(task::TaskInfo::from_raw(t));
            }
        });
        out
    }
}

impl Handle {
    /// A snapshot of this runtime's counters: workers, live and spawned tasks, per-worker
    /// polls / steals / parks / queue depth / busy time, the injector, the blocking pool,
    /// timers and I/O sources. Reads relaxed counters, except `live_tasks`, which looks
    /// at each listed task's state like [`all_tasks`](Handle::all_tasks) (a short lock per
    /// registry shard; about a millisecond per 100 000 tasks). Never blocks a worker for
    /// longer than that; fine for a metrics endpoint.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = corio_runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    /// let handle = rt.handle();
    /// rt.block_on(async {
    ///     let sleeper = corio_runtime::spawn(corio_runtime::sleep(Duration::from_secs(60)));
    ///     corio_runtime::sleep(Duration::from_millis(10)).await; // let it register its timer
    ///     let m = handle.metrics();
    ///     assert_eq!(m.workers, 2);
    ///     assert!(m.live_tasks >= 1);
    ///     assert!(m.timers >= 1);
    ///     println!("{m:#?}");
    ///     sleeper.cancel();
    /// });
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        let (live_tasks, spawned_total) = self.inner.registry().counts();
        let (per_worker, injector_depth) = self.inner.worker_metrics();
        let pool = self.inner.blocking().pool();
        let driver = self.inner.driver();
        RuntimeMetrics {
            workers: per_worker.len(),
            live_tasks,
            spawned_total,
            per_worker,
            injector_depth,
            blocking: BlockingMetrics {
                threads: pool.thread_count(),
                idle: pool.idle_count(),
                queued: pool.queued(),
            },
            timers: driver.timer_entries(),
            io_sources: driver.io.sources(),
        }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("flavor", &self.inner)
            .finish()
    }
}
