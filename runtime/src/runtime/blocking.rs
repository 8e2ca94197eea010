//! The runtime's blocking pool, behind the few calls the runtime makes.
//!
//! WIRE(corio-blocking): this is the only place that knows the pool. When the blocking
//! branch lands, replace the body of this module's four functions:
//! - `BlockingPool::new`: `corio_blocking::ThreadPool::builder().max_threads(max_threads)
//!   .keep_alive(keep_alive).thread_name(thread_name).build()` stored in `pool`;
//! - `BlockingPool::enter`: `self.pool.enter()` stored in the guard (`_pool` field);
//! - `BlockingPool::shutdown`: `self.pool.shutdown(timeout)` (log/ignore the report).
//!
//! Every worker thread and every `block_on` call enters the pool, so `corio::to_thread`
//! finds it as the thread's current pool; `Runtime` drop shuts it down with
//! `Builder::shutdown_timeout`.

use std::time::Duration;

/// The runtime's pool for `to_thread` / `run_in_executor` jobs.
#[derive(Debug, Clone)]
pub(crate) struct BlockingPool {
    // WIRE(corio-blocking): `pool: corio_blocking::ThreadPool,`
    max_threads: usize,
    keep_alive: Duration,
    thread_name: String,
}

/// Keeps the pool current on this thread until dropped.
#[derive(Debug)]
pub(crate) struct BlockingEnterGuard {
    // WIRE(corio-blocking): `_pool: corio_blocking::EnterGuard,`
    _private: (),
}

impl BlockingPool {
    /// Creates the pool. Threads are spawned lazily, on the first job.
    pub(crate) fn new(max_threads: usize, keep_alive: Duration, thread_name: String) -> Self {
        BlockingPool {
            max_threads,
            keep_alive,
            thread_name,
        }
    }

    /// Makes the pool the current thread's default pool.
    pub(crate) fn enter(&self) -> BlockingEnterGuard {
        BlockingEnterGuard { _private: () }
    }

    /// Waits up to `timeout` for running jobs, then returns.
    pub(crate) fn shutdown(&self, timeout: Duration) {
        let _ = timeout;
    }

    /// The configured maximum number of blocking threads.
    pub(crate) fn max_threads(&self) -> usize {
        self.max_threads
    }

    /// The configured idle time after which a blocking thread exits.
    pub(crate) fn keep_alive(&self) -> Duration {
        self.keep_alive
    }

    /// The configured thread name prefix.
    pub(crate) fn thread_name(&self) -> &str {
        &self.thread_name
    }
}
