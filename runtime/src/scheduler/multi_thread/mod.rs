//! The multi-thread, work-stealing scheduler.
//!
//! Each worker has a FIFO local queue (crossbeam `Worker`) plus a LIFO slot holding the
//! task it woke most recently; a shared injector takes work scheduled from outside the
//! workers. Workers find work in the order LIFO slot (at most 3 in a row) → local queue →
//! injector (first every 61 ticks) → steal from a random victim → park.
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
use self::park::Parker;
use self::queue::{Injector, Local, Steal, Stealer};
use crate::driver::Driver;
use crate::loom::{Arc, AtomicBool, AtomicU64, Mutex, Ordering};
use crate::runtime::blocking::BlockingPool;
use crate::task::{self, Notified, RawTask, Registry, Schedule, SpawnMeta, Task};

pub(crate) use worker::{launch, Worker};

/// How long a worker must be stuck in one poll before a watcher takes its LIFO task.
const WATCH_INTERVAL: Duration = Duration::from_millis(1);
/// A watcher gives its role up after this many intervals without any poll on other workers.
const WATCH_QUIET_INTERVALS: u32 = 8;

/// State shared by the workers and every handle.
pub(crate) struct Shared {
    remotes: Box<[CachePadded<Remote>]>,
    injector: Injector<Notified>,
    idle: Idle,
    pub(crate) driver: Arc<Driver>,
    /// Whoever holds it may sleep in the driver ("the reactor holder").
    driver_lock: Mutex<()>,
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
}

/// A worker's own queues, moved into its thread.
pub(crate) struct Queues {
    run: Local<Notified>,
    yielded: Local<Notified>,
}

/// Information for a watchdog: what each worker is doing.
#[allow(dead_code)] // read by the watchdog (a later feature) and by unit tests
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WorkerActivity {
    /// Polls started so far.
    pub(crate) polls: u64,
    /// The task being polled (0 if none).
    pub(crate) current_task: u64,
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
                })
            })
            .collect();
        let shared = Arc::new(Shared {
            remotes,
            injector: Injector::new(),
            idle: Idle::new(workers),
            driver,
            driver_lock: Mutex::new(()),
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

    /// A snapshot of every worker's watchdog counters.
    #[allow(dead_code)] // read by the watchdog (a later feature)
    pub(crate) fn activity(&self) -> Vec<WorkerActivity> {
        self.remotes
            .iter()
            .map(|r| WorkerActivity {
                polls: r.polls.load(Ordering::Relaxed),
                current_task: r.current.load(Ordering::Relaxed),
            })
            .collect()
    }

    fn is_shutdown(&self) -> bool {
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
