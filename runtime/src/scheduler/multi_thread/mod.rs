//! The multi-thread, work-stealing scheduler.
//!
//! Each worker has a FIFO local queue (crossbeam `Worker`) plus a LIFO slot holding the
//! task it woke most recently; a shared injector takes work scheduled from outside the
//! workers. Workers find work in the order LIFO slot (at most 3 in a row) → local queue →
//! injector (first every 61 ticks) → steal from a random victim → park. A LIFO chain that
//! has had its 3 polls and keeps going (each task waking or spawning the next) waits behind
//! the local queue and the injector until it breaks, so it cannot starve work from outside.
//!
//! A task that wakes itself during its poll (`yield_now`, an exhausted coop budget) goes
//! to the worker's second FIFO queue, `yielded`, which is served after the local queue and
//! the injector (and every 61 ticks regardless), so a yield lets everything that is ready
//! run first, including work from outside. It is stealable like the local queue. Parked workers
//! sleep on their own condvar, except one — the reactor holder — that sleeps in the
//! driver. See `worker.rs` for the loop and `idle.rs` for the wake-up protocol.
//!
//! The LIFO slot is an atomic pointer so a stuck worker cannot strand the task in it: a
//! parked worker "watches" while others poll, and takes a LIFO task whose owner has been
//! inside the same poll for a whole watch interval (tokio #4941).
//!
//! The watcher also keeps I/O and timers going behind a stuck worker (tokio #4730): a
//! worker leaving the reactor with a single task wakes nobody if a watcher exists, and a
//! watcher that sees a worker stuck in one poll takes the free reactor over. Otherwise the
//! watcher sleeps on its condvar and leaves the reactor to the worker that runs tasks, so a
//! busy server keeps one worker cycling "reactor → tasks → reactor" without cross-thread
//! wake-ups. It keeps watching for a few quiet intervals after the last poll it saw, so
//! steady load does not make it give the role up and be woken again between requests.
//!
//! The runtime's monitor thread (`runtime/monitor.rs`) reads the same counters from
//! outside: a worker inside one poll for longer than a bound has its LIFO slot and both
//! queues moved to the injector ([`Shared::hand_off`]), so its work runs elsewhere even
//! when every other worker is busy with work of its own (and so never steals).

mod idle;
mod lifo;
mod park;
mod queue;
mod worker;

use std::future::Future;
use std::time::Duration;

use crossbeam_utils::CachePadded;

use self::idle::Idle;
use self::lifo::LifoSlot;
use self::park::{DriverLock, Parker};
use self::queue::{Injector, Local, Steal, Stealer};
use crate::driver::Driver;
use crate::loom::{Arc, AtomicBool, AtomicU64, Ordering};
use crate::runtime::blocking::BlockingPool;
use crate::runtime::metrics::WorkerMetrics;
use crate::scheduler::WorkerActivity;
use crate::task::{self, Notified, RawTask, Registry, Schedule, SpawnMeta, Task};

pub(crate) use worker::{launch, Worker};

/// How long a worker must be stuck in one poll before a watcher takes its LIFO task.
const WATCH_INTERVAL: Duration = Duration::from_millis(1);
#[cfg_attr(any(loom, shuttle), allow(dead_code))]
/// At most this many tasks move per queue in one [`Shared::hand_off`].
const HAND_OFF_MAX: usize = 4096;
/// A watcher gives its role up after this many intervals without any poll on other workers.
const WATCH_QUIET_INTERVALS: u32 = 8;

/// State shared by the workers and every handle.
pub(crate) struct Shared {
    remotes: Box<[CachePadded<Remote>]>,
    injector: Injector<Notified>,
    idle: Idle,
    pub(crate) driver: Arc<Driver>,
    /// Whoever holds it may sleep in the driver ("the reactor holder").
    driver_lock: DriverLock,
    pub(crate) registry: Registry,
    shutdown: AtomicBool,
    /// A parked worker is watching for stuck LIFO slots.
    watching: AtomicBool,
    pub(crate) blocking: BlockingPool,
    thread_name: String,
}

/// The part of a worker other threads may touch.
pub(crate) struct Remote {
    stealer: Stealer<Notified>,
    yielded: Stealer<Notified>,
    /// The LIFO slot: a `Notified` reference (as a header pointer) or null.
    lifo: LifoSlot<crate::task::Header>,
    parker: Parker,
    /// Watchdog: polls started by this worker (relaxed; only the worker writes it).
    polls: AtomicU64,
    /// Watchdog: id of the task being polled, 0 between polls.
    current: AtomicU64,
    /// Metrics: successful steals by this worker (relaxed; only the worker writes it).
    steals: AtomicU64,
    /// Metrics: times this worker went to sleep (relaxed; only the worker writes it).
    parks: AtomicU64,
    /// Metrics: time seen inside polls, in nanoseconds, as sampled by the monitor thread.
    busy_ns: AtomicU64,
}

/// A worker's own queues, moved into its thread.
pub(crate) struct Queues {
    run: Local<Notified>,
    yielded: Local<Notified>,
}

impl Shared {
    pub(crate) fn new(
        workers: usize,
        driver: Arc<Driver>,
        blocking: BlockingPool,
        thread_name: String,
    ) -> (Arc<Shared>, Vec<Queues>) {
        let locals: Vec<Queues> = (0..workers)
            .map(|_| Queues {
                run: Local::new_fifo(),
                yielded: Local::new_fifo(),
            })
            .collect();
        let remotes = locals
            .iter()
            .map(|queues| {
                CachePadded::new(Remote {
                    stealer: queues.run.stealer(),
                    yielded: queues.yielded.stealer(),
                    lifo: LifoSlot::new(),
                    parker: Parker::new(),
                    polls: AtomicU64::new(0),
                    current: AtomicU64::new(0),
                    steals: AtomicU64::new(0),
                    parks: AtomicU64::new(0),
                    busy_ns: AtomicU64::new(0),
                })
            })
            .collect();
        let shared = Arc::new(Shared {
            remotes,
            injector: Injector::new(),
            idle: Idle::new(workers),
            driver,
            driver_lock: DriverLock::new(()),
            registry: Registry::new(workers * 4),
            shutdown: AtomicBool::new(false),
            watching: AtomicBool::new(false),
            blocking,
            thread_name,
        });
        (shared, locals)
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    /// Every worker's watchdog counters, appended to `out`.
    #[cfg_attr(any(loom, shuttle), allow(dead_code))]
    pub(crate) fn activity(&self, out: &mut Vec<WorkerActivity>) {
        out.extend(self.remotes.iter().map(|r| WorkerActivity {
            polls: r.polls.load(Ordering::Relaxed),
            current_task: r.current.load(Ordering::Relaxed),
        }));
    }

    /// The monitor saw worker `index` inside a poll for `busy` (a sample).
    #[cfg_attr(any(loom, shuttle), allow(dead_code))]
    pub(crate) fn add_busy(&self, index: usize, busy: Duration) {
        let ns = u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX);
        self.remotes[index].busy_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Every worker's metrics.
    pub(crate) fn worker_metrics(&self) -> Vec<WorkerMetrics> {
        self.remotes
            .iter()
            .map(|r| WorkerMetrics {
                polls: r.polls.load(Ordering::Relaxed),
                steals: r.steals.load(Ordering::Relaxed),
                parks: r.parks.load(Ordering::Relaxed),
                local_queue_depth: r.stealer.len()
                    + r.yielded.len()
                    + usize::from(r.lifo.is_occupied()),
                busy_time: Duration::from_nanos(r.busy_ns.load(Ordering::Relaxed)),
            })
            .collect()
    }

    /// Tasks waiting in the injector.
    pub(crate) fn injector_depth(&self) -> usize {
        self.injector.len()
    }

    /// Hands the work queued on worker `index` (stuck in one poll) to the other workers:
    /// its LIFO slot, then its local queue, then its yielded queue move to the injector,
    /// oldest first, and a parked worker is woken if nobody is searching. Callable from
    /// any thread: the slot is an atomic pointer and the queues are stealable. Returns how
    /// many tasks moved.
    #[cfg_attr(any(loom, shuttle), allow(dead_code))]
    pub(crate) fn hand_off(&self, index: usize) -> usize {
        if self.is_shutdown() {
            return 0;
        }
        let remote = &self.remotes[index];
        let mut moved = 0;
        if let Some(task) = remote.lifo.take() {
            self.schedule_remote(Notified::from_raw(RawTask::from_raw(task)));
            moved += 1;
        }
        for stealer in [&remote.stealer, &remote.yielded] {
            // Bounded, in case the stuck poll keeps queueing work as fast as it moves.
            for _ in 0..HAND_OFF_MAX {
                match stealer.steal() {
                    Steal::Success(task) => {
                        self.schedule_remote(task);
                        moved += 1;
                    }
                    Steal::Retry => crate::loom::spin_loop(),
                    Steal::Empty => break,
                }
            }
        }
        moved
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    fn schedule_remote(&self, task: Notified) {
        if self.shutdown.load(Ordering::SeqCst) {
            // Nobody will run it; the registry cancels the task itself.
            drop(task);
            return;
        }
        self.injector.push(task);
        if self.shutdown.load(Ordering::SeqCst) {
            // Raced with shutdown's final drain: drain again so no reference is stranded.
            self.drain_injector();
            return;
        }
        self.notify_parked();
    }

    /// Wakes a parked worker if nobody is searching.
    fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].parker.unpark(&self.driver);
        }
    }

    /// The last searcher parked: wake someone if any stealable work is left.
    fn notify_if_work_pending(&self) {
        let pending = self
            .remotes
            .iter()
            .any(|r| !r.stealer.is_empty() || !r.yielded.is_empty());
        if pending || !self.injector.is_empty() {
            self.notify_parked();
        }
    }

    fn drain_injector(&self) {
        loop {
            match self.injector.steal() {
                Steal::Success(task) => drop(task),
                Steal::Retry => continue,
                Steal::Empty => break,
            }
        }
    }

    /// Starts shutdown: workers stop after their current poll.
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        for remote in self.remotes.iter() {
            remote.parker.unpark(&self.driver);
        }
    }

    /// After the workers exited: cancel every task (dropping its future on this thread)
    /// and drop every queued reference.
    pub(crate) fn finish_shutdown(&self) {
        self.registry.close_and_shutdown_all(|_| true);
        self.drain_injector();
        for remote in self.remotes.iter() {
            if let Some(lifo) = remote.lifo.take() {
                drop(Notified::from_raw(RawTask::from_raw(lifo)));
            }
        }
    }
}

/// Queues a task: locally if called on one of its workers, else in the injector.
fn schedule_task(shared: &Arc<Shared>, task: Notified, is_yield: bool) {
    if let Err(task) = worker::schedule_local(shared, task, is_yield) {
        shared.schedule_remote(task);
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Notified) {
        schedule_task(self, task, false);
    }

    fn yield_now(&self, task: Notified) {
        schedule_task(self, task, true);
    }

    fn release(&self, task: RawTask) -> bool {
        self.registry.remove(task)
    }
}

/// Spawns on the multi-thread scheduler.
pub(crate) fn spawn<F>(shared: &Arc<Shared>, future: F, meta: SpawnMeta) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    task::bind(shared, &shared.registry, future, meta)
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiThread")
            .field("workers", &self.remotes.len())
            .field("idle", &self.idle)
            .finish()
    }
}
