//! [`RuntimeMetrics`]: a snapshot of a runtime's counters, from [`Handle::metrics`].
//!
//! Every number but `live_tasks` is read with relaxed loads from counters the runtime
//! keeps anyway (or counts off the hot path); `live_tasks` walks the task registry like
//! `all_tasks()`. The numbers of one snapshot are not taken at the same instant.
//!
//! [`Handle::metrics`]: crate::Handle::metrics

use std::time::Duration;

/// A snapshot of a runtime's counters, from [`Handle::metrics`](crate::Handle::metrics).
///
/// ```
/// let rt = corio_runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// rt.block_on(async {
///     corio_runtime::spawn(async {}).await.unwrap();
/// });
/// let m = rt.handle().metrics();
/// assert_eq!(m.workers, 2);
/// assert_eq!(m.per_worker.len(), 2);
/// assert!(m.spawned_total >= 1);
/// println!("{m:#?}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Worker threads (1 for the current-thread flavor: the thread running `block_on`).
    pub workers: usize,
    /// Tasks spawned and not finished yet (asyncio's `len(all_tasks())`).
    pub live_tasks: usize,
    /// Tasks spawned since the runtime started.
    pub spawned_total: u64,
    /// One entry per worker, in worker-index order.
    pub per_worker: Vec<WorkerMetrics>,
    /// Tasks queued from outside any worker (spawns and wake-ups from other threads,
    /// work handed off from a stuck worker), not yet taken by a worker.
    pub injector_depth: usize,
    /// The blocking pool behind `to_thread`.
    pub blocking: BlockingMetrics,
    /// Timers registered with the runtime (pending `sleep`s, timeouts, intervals).
    pub timers: usize,
    /// I/O sources registered with the runtime's reactor (sockets, listeners).
    pub io_sources: usize,
}

/// One worker's counters, in [`RuntimeMetrics::per_worker`].
///
/// ```
/// let rt = corio_runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
/// rt.block_on(async {
///     corio_runtime::spawn(async {}).await.unwrap();
/// });
/// let w = &rt.handle().metrics().per_worker[0];
/// assert!(w.polls >= 1);
/// println!("{} polls, {} steals, {} parks, busy {:?}", w.polls, w.steals, w.parks, w.busy_time);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Polls this worker started.
    pub polls: u64,
    /// Successful steals from other workers' queues (each may move a batch).
    pub steals: u64,
    /// Times this worker went to sleep with nothing to run.
    pub parks: u64,
    /// Tasks waiting in this worker's queues and LIFO slot (always 0 for the
    /// current-thread flavor, whose ready queue is private to the thread running it).
    pub local_queue_depth: usize,
    /// Time spent inside polls, estimated by the runtime's monitor thread, which samples
    /// every worker every few milliseconds (no clock is read per poll). Short runs show
    /// little or nothing; over seconds it converges on the real figure.
    pub busy_time: Duration,
}

/// The blocking pool's state, in [`RuntimeMetrics::blocking`].
///
/// ```
/// let rt = corio_runtime::Runtime::new().unwrap();
/// rt.block_on(async { corio_blocking::to_thread(|| ()).await });
/// let b = rt.handle().metrics().blocking;
/// assert!(b.threads >= b.idle);
/// println!("{} threads, {} idle, {} queued", b.threads, b.idle, b.queued);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlockingMetrics {
    /// Live pool threads (busy, idle or starting).
    pub threads: usize,
    /// Threads waiting for a job.
    pub idle: usize,
    /// Jobs submitted and not yet picked up by a thread.
    pub queued: usize,
}
