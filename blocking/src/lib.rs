//! The elastic blocking thread pool behind corio's `to_thread` and `run_in_executor`.
//!
//! Blocking work (file I/O, CPU-heavy computation, blocking C libraries) must not run on
//! an async executor's threads. [`to_thread`] runs a closure on a pool thread and gives
//! back a future of its result, like asyncio's `asyncio.to_thread`; [`ThreadPool::run`]
//! does the same on a specific pool, like `loop.run_in_executor(executor, f)`.
//!
//! The pool is runtime-agnostic: the futures work under any executor.
//!
//! ```
//! use corio_blocking::to_thread;
//!
//! let answer = futures::executor::block_on(async {
//!     let a = to_thread(|| 20);
//!     let b = to_thread(|| 22);
//!     a.await + b.await
//! });
//! assert_eq!(answer, 42);
//! ```
//!
//! * **Elastic**: a thread is spawned only when a job arrives and no thread is idle, up to
//!   [`Builder::max_threads`]; idle threads exit after [`Builder::keep_alive`].
//! * **Lazy and cancellable**: a job is submitted when its future is first polled; a job
//!   whose future is dropped before it starts never runs. A running job cannot be
//!   interrupted: it finishes and its result is discarded.
//! * **Panics propagate**: a panic in the job resumes at the `.await` with its payload;
//!   pool threads survive it.
//! * **Bounded shutdown**: [`ThreadPool::shutdown`] waits at most its timeout and reports
//!   what was still running.
#![forbid(unsafe_code)]

mod job;
mod loom;
mod pool;
mod protocol;
mod queue;
mod to_thread;

pub use pool::{Builder, EnterGuard, ShutdownReport, ThreadPool};
pub use to_thread::ToThread;

/// Runs `f` on a thread of the current blocking pool and returns a future of its result
/// (asyncio's `to_thread`).
///
/// Lazy, like every Rust future: the job is submitted when the future is first polled,
/// to the pool current on the polling thread — the one made current with
/// [`ThreadPool::enter`] (the corio runtime does that on its threads and in `block_on`),
/// else a process-wide default pool, so this works under any executor. See [`ToThread`] for cancellation and panics.
///
/// ```
/// use corio_blocking::to_thread;
/// use std::time::Duration;
///
/// let slept = futures::executor::block_on(to_thread(|| {
///     std::thread::sleep(Duration::from_millis(10));
///     "slept"
/// }));
/// assert_eq!(slept, "slept");
/// ```
#[track_caller]
pub fn to_thread<F, T>(f: F) -> ToThread<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    ToThread::new(None, f)
}
