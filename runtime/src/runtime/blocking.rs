//! The runtime's blocking pool, behind the few calls the runtime makes.
//!
//! Every worker thread and every `block_on` call enters the pool, so `corio::to_thread`
//! finds it as the thread's current pool; `Runtime` drop shuts it down with
//! `Builder::shutdown_timeout`.

use std::time::Duration;

use corio_blocking::{EnterGuard, ShutdownReport, ThreadPool};

/// The runtime's pool for `to_thread` / `run_in_executor` jobs.
#[derive(Debug, Clone)]
pub(crate) struct BlockingPool {
    pool: ThreadPool,
}

/// Keeps the pool current on this thread until dropped.
#[derive(Debug)]
pub(crate) struct BlockingEnterGuard {
    _pool: EnterGuard,
}

impl BlockingPool {
    /// Creates the pool. Threads are spawned lazily, on the first job.
    pub(crate) fn new(max_threads: usize, keep_alive: Duration, thread_name: String) -> Self {
        BlockingPool {
            pool: ThreadPool::builder()
                .max_threads(max_threads)
                .keep_alive(keep_alive)
                .thread_name(thread_name)
                .build(),
        }
    }

    /// Makes the pool the current thread's default pool.
    pub(crate) fn enter(&self) -> BlockingEnterGuard {
        BlockingEnterGuard {
            _pool: self.pool.enter(),
        }
    }

    /// Stops accepting jobs and waits up to `timeout` for running ones.
    pub(crate) fn shutdown(&self, timeout: Duration) -> ShutdownReport {
        self.pool.shutdown(timeout)
    }

    /// The pool itself.
    pub(crate) fn pool(&self) -> &ThreadPool {
        &self.pool
    }
}
