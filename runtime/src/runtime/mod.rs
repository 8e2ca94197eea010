//! [`Runtime`], its [`Builder`] and [`Handle`], and [`run`].

pub(crate) mod blocking;
mod builder;
pub(crate) mod context;
mod dump;
#[cfg(unix)]
mod dump_signal;
mod handle;
pub mod metrics;
mod monitor;

use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

pub use builder::Builder;
pub use dump::dump;
pub use handle::Handle;

use crate::loom::thread::{self, JoinHandle};
use crate::scheduler;
use crate::task::Task;

const NESTED_RUNTIME: &str = "Cannot start a corio runtime from within a runtime: \
    `corio::run` / `block_on` would block a thread that drives tasks. Inside async code use \
    `.await` on the future, or `corio::spawn` it, instead";

/// A corio runtime: worker threads (or the current thread), the reactor and timers, the
/// blocking pool, and a monitor thread that warns about slow polls
/// ([`Builder::slow_poll_threshold`]) and hands a stuck worker's queue to the others.
///
/// Dropping it shuts it down: every remaining task is cancelled (its future dropped),
/// the workers are joined and the blocking pool gets `shutdown_timeout` to finish.
///
/// ```
/// use corio_runtime::Runtime;
///
/// let rt = Runtime::new().unwrap();
/// let task = rt.spawn(async { 1 + 1 });
/// assert_eq!(rt.block_on(task).unwrap(), 2);
/// // Tasks survive between block_on calls.
/// let task = rt.spawn(async { 3 });
/// assert_eq!(rt.block_on(async { task.await.unwrap() }), 3);
/// ```
pub struct Runtime {
    handle: Handle,
    threads: Vec<JoinHandle<()>>,
    shutdown_timeout: Duration,
    /// Slow-poll warnings, stuck-worker hand-off, busy-time sampling; stopped on drop.
    monitor: Option<monitor::Monitor>,
}

impl Runtime {
    /// A multi-thread runtime with default settings (see [`Builder::new_multi_thread`]).
    ///
    /// ```
    /// let rt = corio_runtime::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 5 }), 5);
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// Runs `future` to completion on the current thread, driving the runtime meanwhile.
    /// May be called repeatedly; spawned tasks survive between calls.
    ///
    /// On a multi-thread runtime the future runs on this thread and tasks run on the
    /// workers; on a current-thread runtime everything runs here.
    ///
    /// # Panics
    ///
    /// When called from inside a runtime (a task or another `block_on`): use `.await`.
    ///
    /// ```
    /// let rt = corio_runtime::Builder::new_current_thread().build().unwrap();
    /// assert_eq!(rt.block_on(async { "done" }), "done");
    /// assert_eq!(rt.block_on(async { "again" }), "again");
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on this runtime; callable from any thread.
    ///
    /// ```
    /// let rt = corio_runtime::Runtime::new().unwrap();
    /// let task = rt.spawn(async { 7 });
    /// assert_eq!(rt.block_on(task).unwrap(), 7);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// A cheap, clonable handle to this runtime.
    ///
    /// ```
    /// let rt = corio_runtime::Runtime::new().unwrap();
    /// let handle = rt.handle();
    /// let t = std::thread::spawn(move || handle.spawn(async { 1 })).join().unwrap();
    /// assert_eq!(rt.block_on(t).unwrap(), 1);
    /// ```
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // First, so nothing is reported about or handed off from a runtime shutting down.
        drop(self.monitor.take());
        let inner = self.handle.inner.clone();
        match &inner {
            scheduler::Handle::MultiThread(shared) => {
                shared.begin_shutdown();
                let me = thread::current().id();
                for thread in self.threads.drain(..) {
                    // Dropped from inside one of its own tasks: do not join ourselves.
                    if thread.thread().id() != me {
                        let _ = thread.join();
                    }
                }
                let _context = context::enter(inner.clone(), false);
                shared.finish_shutdown();
            }
            scheduler::Handle::CurrentThread(shared) => {
                let _context = context::enter(inner.clone(), false);
                shared.shutdown();
            }
        }
        inner.driver().shutdown();
        let report = inner.blocking().shutdown(self.shutdown_timeout);
        if report.still_running() > 0 {
            // Running jobs cannot be interrupted: say what was left behind.
            eprintln!(
                "corio: runtime shut down after {:?} with blocking jobs still running: {report}",
                self.shutdown_timeout
            );
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let blocking = self.handle.inner.blocking();
        f.debug_struct("Runtime")
            .field("flavor", &self.handle.inner)
            .field("worker_threads", &self.threads.len())
            .field("blocking_pool", blocking.pool())
            .field("shutdown_timeout", &self.shutdown_timeout)
            .finish()
    }
}

/// Runs `future` on a new multi-thread runtime, then shuts the runtime down (asyncio's
/// `asyncio.run`): tasks still running at the end are cancelled.
///
/// # Panics
///
/// When called from inside a runtime (use `.await` or `spawn` there), or if the runtime
/// cannot start (e.g. no threads can be spawned).
///
/// ```
/// let answer = corio_runtime::run(async {
///     let t = corio_runtime::spawn(async { 40 });
///     t.await.unwrap() + 2
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    if context::is_driving() {
        panic!("{NESTED_RUNTIME}");
    }
    let rt = Runtime::new().unwrap_or_else(|e| panic!("corio::run: cannot start the runtime: {e}"));
    rt.block_on(future)
}

/// Blocks this (non-worker) thread on `future`, parking between polls.
#[cfg(not(any(loom, shuttle)))]
fn block_on_thread<F: Future>(future: F) -> F::Output {
    use std::pin::pin;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    use corio_sync::coop;

    struct ThreadWaker {
        thread: std::thread::Thread,
        notified: AtomicBool,
    }
    impl Wake for ThreadWaker {
        fn wake(self: std::sync::Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &std::sync::Arc<Self>) {
            if !self.notified.swap(true, Ordering::Release) {
                self.thread.unpark();
            }
        }
    }
    let inner = std::sync::Arc::new(ThreadWaker {
        thread: std::thread::current(),
        notified: AtomicBool::new(false),
    });
    let waker = Waker::from(inner.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = coop::with_budget(|| future.as_mut().poll(&mut cx)) {
            return out;
        }
        while !inner.notified.swap(false, Ordering::Acquire) {
            std::thread::park();
        }
    }
}

/// Under loom: blocks this model thread on `future` with loom's own parking, so the model
/// sees every park and wake-up (no coop budget: it is off under loom).
#[cfg(any(loom, shuttle))]
fn block_on_thread<F: Future>(future: F) -> F::Output {
    crate::loom::block_on(future)
}
