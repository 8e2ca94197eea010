//! The current-thread scheduler: asyncio's own model. Every task runs on the thread that
//! calls `block_on`, in FIFO order, deterministically; `!Send` futures may be spawned with
//! `spawn_local`.
//!
//! Each turn of the loop (asyncio's `_run_once`) runs the entries that were ready when the
//! turn started, then collects ready I/O and timers with `driver.park(Some(ZERO))`; with
//! nothing ready it sleeps in `driver.park(None)`. Wakes from other threads go through a
//! shared injector plus `driver.unpark()`.
//!
//! Like a multi-thread worker, the loop publishes a poll counter (advanced once per turn)
//! and the id of what it polls (a task, or [`BLOCK_ON_ID`] for the `block_on` future) in
//! relaxed atomics, so the runtime's monitor thread can warn about a slow poll here too.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::ptr;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::ThreadId;
use std::time::Duration;

use corio_sync::coop;

use crate::driver::Driver;
use crate::loom::{Arc, AtomicBool, AtomicU64, AtomicUsize, Condvar, Mutex, Ordering};
use crate::runtime::blocking::BlockingPool;
use crate::runtime::context;
use crate::runtime::metrics::WorkerMetrics;
use crate::scheduler::{self, WorkerActivity, BLOCK_ON_ID};
use crate::task::{self, Notified, RawTask, Registry, Schedule, SpawnMeta, Task};

/// A ready-queue entry: a task, or the `block_on` future itself.
enum Entry {
    Task(Notified),
    Main,
}

/// The ready queue; owned by whichever thread runs `block_on`.
pub(crate) struct Core {
    queue: VecDeque<Entry>,
}

/// State shared by the runtime, its handles and its tasks.
pub(crate) struct Shared {
    injector: Mutex<VecDeque<Entry>>,
    injector_len: AtomicUsize,
    pub(crate) driver: Arc<Driver>,
    pub(crate) registry: Registry,
    shutdown: AtomicBool,
    /// The core while no `block_on` runs it; `core_cv` signals its return.
    core: Mutex<Option<Box<Core>>>,
    core_cv: Condvar,
    /// The thread that owns the `spawn_local` tasks (the first to spawn one).
    local_owner: Mutex<Option<ThreadId>>,
    live_local_tasks: AtomicUsize,
    pub(crate) blocking: BlockingPool,
    /// Watchdog: polls started, counted per turn (relaxed; only the thread holding the
    /// core writes it).
    polls: AtomicU64,
    /// Watchdog: id of what is being polled, 0 between polls.
    current: AtomicU64,
    /// Metrics: sleeps in the driver with nothing ready.
    parks: AtomicU64,
    /// Metrics: time seen inside polls, in nanoseconds, as sampled by the monitor thread.
    busy_ns: AtomicU64,
}

/// The thread-local view of a running `block_on` (lent to the thread's context).
pub(crate) struct Running {
    shared: Arc<Shared>,
    core: RefCell<Box<Core>>,
    main: std::sync::Arc<MainWaker>,
}

/// Runs `f` with the `block_on` running on this thread, if any.
fn with_running<R>(f: impl FnOnce(Option<&Running>) -> R) -> R {
    context::with_scheduler(|cx| match cx {
        Some(scheduler::Context::CurrentThread(running)) => f(Some(running)),
        _ => f(None),
    })
}

impl Shared {
    pub(crate) fn new(driver: Arc<Driver>, blocking: BlockingPool) -> Arc<Shared> {
        Arc::new(Shared {
            injector: Mutex::new(VecDeque::new()),
            injector_len: AtomicUsize::new(0),
            driver,
            registry: Registry::new(1),
            shutdown: AtomicBool::new(false),
            core: Mutex::new(Some(Box::new(Core {
                queue: VecDeque::with_capacity(64),
            }))),
            core_cv: Condvar::new(),
            local_owner: Mutex::new(None),
            live_local_tasks: AtomicUsize::new(0),
            blocking,
            polls: AtomicU64::new(0),
            current: AtomicU64::new(0),
            parks: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
        })
    }

    fn push(&self, entry: Entry) {
        let local = with_running(|running| match running {
            Some(r) if ptr::eq(Arc::as_ptr(&r.shared), self) => {
                r.core.borrow_mut().queue.push_back(entry);
                None
            }
            _ => Some(entry),
        });
        if let Some(entry) = local {
            self.push_remote(entry);
        }
    }

    fn push_remote(&self, entry: Entry) {
        if self.shutdown.load(Ordering::SeqCst) {
            return; // dropped: the registry cancels the task itself
        }
        {
            let mut injector = self.injector.lock();
            injector.push_back(entry);
            self.injector_len.store(injector.len(), Ordering::Release);
        }
        if self.shutdown.load(Ordering::SeqCst) {
            self.drain_injector();
            return;
        }
        self.driver.unpark();
    }

    fn drain_injector(&self) {
        let drained = std::mem::take(&mut *self.injector.lock());
        self.injector_len.store(0, Ordering::Release);
        drop(drained);
    }

    /// Moves remotely scheduled entries to the back of the ready queue.
    fn pull_injector(&self, core: &mut Core) {
        if self.injector_len.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut injector = self.injector.lock();
        core.queue.extend(injector.drain(..));
        self.injector_len.store(0, Ordering::Release);
    }

    /// The watchdog counters.
    #[cfg_attr(any(loom, shuttle), allow(dead_code))]
    pub(crate) fn activity(&self) -> WorkerActivity {
        WorkerActivity {
            polls: self.polls.load(Ordering::Relaxed),
            current_task: self.current.load(Ordering::Relaxed),
        }
    }

    /// The monitor saw the loop inside a poll for `busy` (a sample).
    #[cfg_attr(any(loom, shuttle), allow(dead_code))]
    pub(crate) fn add_busy(&self, busy: Duration) {
        let ns = u64::try_from(busy.as_nanos()).unwrap_or(u64::MAX);
        self.busy_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// The loop's metrics (its ready queue belongs to the thread running it, so only
    /// the injector's depth is visible from outside).
    pub(crate) fn worker_metrics(&self) -> WorkerMetrics {
        WorkerMetrics {
            polls: self.polls.load(Ordering::Relaxed),
            steals: 0,
            parks: self.parks.load(Ordering::Relaxed),
            local_queue_depth: 0,
            busy_time: Duration::from_nanos(self.busy_ns.load(Ordering::Relaxed)),
        }
    }

    /// Entries scheduled from other threads, not yet moved to the ready queue.
    pub(crate) fn injector_depth(&self) -> usize {
        self.injector_len.load(Ordering::Relaxed)
    }

    /// A turn of `n` entries starts: the poll counter moves by `n` at once (one relaxed
    /// load and store per turn, not per poll; one writer). A task is queued at most
    /// once, so `(polls, current)` still names one poll: the counter changes every turn.
    #[inline]
    fn begin_turn(&self, n: usize) {
        self.polls.store(
            self.polls.load(Ordering::Relaxed).wrapping_add(n as u64),
            Ordering::Relaxed,
        );
    }

    /// Publishes what is polled now (a single relaxed store per poll). It stays until the
    /// next poll or [`end_polls`](Self::end_polls), so the few instructions between two
    /// polls of a turn count toward the earlier one.
    #[inline]
    fn begin_poll(&self, id: u64) {
        self.current.store(id, Ordering::Relaxed);
    }

    /// Nothing is being polled (end of a turn, or a `block_on` that returned or panicked).
    #[inline]
    fn end_polls(&self) {
        self.current.store(0, Ordering::Relaxed);
    }

    fn check_local_owner(&self) {
        if self.live_local_tasks.load(Ordering::Acquire) == 0 {
            return;
        }
        let owner = *self.local_owner.lock();
        if let Some(owner) = owner {
            assert!(
                owner == std::thread::current().id(),
                "this current-thread runtime has spawn_local tasks bound to thread {owner:?}: \
                 call block_on from that thread (!Send futures cannot move between threads)"
            );
        }
    }

    /// Cancels every task (dropping `spawn_local` futures only on their owner thread) and
    /// drops every queued reference.
    pub(crate) fn shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        let owner = *self.local_owner.lock();
        let here = std::thread::current().id();
        let may_drop_local = owner.is_none_or(|o| o == here);
        self.registry
            .close_and_shutdown_all(|task: RawTask| !task.is_local() || may_drop_local);
        if let Some(core) = self.core.lock().take() {
            drop(core);
        }
        self.drain_injector();
    }
}

/// Runs `future` to completion on this thread, running tasks while it waits.
pub(crate) fn block_on<F: Future>(shared: &Arc<Shared>, future: F) -> F::Output {
    // In a model this thread is the runtime's (for its deadlock report) while it drives.
    #[cfg(any(loom, shuttle))]
    let _driving = crate::loom::stall::drive();
    let mut future = pin!(future);
    let waiter = std::sync::Arc::new(Waiter {
        shared: shared.clone(),
        woken: AtomicBool::new(true),
    });
    let waiter_waker = Waker::from(waiter.clone());
    loop {
        let mut slot = shared.core.lock();
        if let Some(core) = slot.take() {
            drop(slot);
            return run(shared, core, future);
        }
        // Another thread runs the scheduler: poll our future when woken, and take the
        // core when it comes back.
        if waiter.woken.swap(false, Ordering::AcqRel) {
            drop(slot);
            let mut cx = Context::from_waker(&waiter_waker);
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            continue;
        }
        shared.core_cv.wait(&mut slot);
    }
}

fn run<F: Future>(
    shared: &Arc<Shared>,
    core: Box<Core>,
    future: std::pin::Pin<&mut F>,
) -> F::Output {
    let main = std::sync::Arc::new(MainWaker {
        shared: shared.clone(),
        queued: AtomicBool::new(true),
    });
    let cx = scheduler::Context::CurrentThread(Running {
        shared: shared.clone(),
        core: RefCell::new(core),
        main: main.clone(),
    });
    let scheduler::Context::CurrentThread(running) = &cx else {
        unreachable!("built as a current-thread scheduler just above")
    };
    running.core.borrow_mut().queue.push_back(Entry::Main);
    // Gives the core back even if a poll panics (after `set_scheduler` has taken `running`
    // out of the thread's context).
    let _guard = RunGuard { shared, running };
    let waker = Waker::from(main);
    context::set_scheduler(&cx, || {
        shared.check_local_owner();
        run_turns(shared, running, &waker, future)
    })
}

/// The scheduler loop: each turn runs what was ready when it started, then collects I/O
/// and timers.
fn run_turns<F: Future>(
    shared: &Arc<Shared>,
    running: &Running,
    waker: &Waker,
    mut future: std::pin::Pin<&mut F>,
) -> F::Output {
    loop {
        let n = {
            let mut core = running.core.borrow_mut();
            shared.pull_injector(&mut core);
            core.queue.len()
        };
        if n == 0 {
            shared.parks.store(
                shared.parks.load(Ordering::Relaxed).wrapping_add(1),
                Ordering::Relaxed,
            );
            shared.driver.park(None);
            continue;
        }
        shared.begin_turn(n);
        for _ in 0..n {
            let entry = running.core.borrow_mut().queue.pop_front();
            match entry {
                None => break,
                Some(Entry::Task(task)) => {
                    shared.begin_poll(task.id().as_u64());
                    task.run();
                }
                Some(Entry::Main) => {
                    if !running.main.queued.swap(false, Ordering::AcqRel) {
                        continue; // a stale entry from an earlier block_on
                    }
                    let mut cx = Context::from_waker(waker);
                    shared.begin_poll(BLOCK_ON_ID);
                    if let Poll::Ready(out) = coop::with_budget(|| future.as_mut().poll(&mut cx)) {
                        return out; // `RunGuard` ends the poll
                    }
                }
            }
        }
        shared.end_polls();
        // Collect ready I/O and timers between turns, like asyncio's select(0).
        shared.driver.park(Some(Duration::ZERO));
    }
}

/// Returns the core to `Shared` when `run` exits.
struct RunGuard<'a> {
    shared: &'a Arc<Shared>,
    running: &'a Running,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        // `block_on` returned (or its future panicked) inside a turn.
        self.shared.end_polls();
        let core = std::mem::replace(
            &mut *self.running.core.borrow_mut(),
            Box::new(Core {
                queue: VecDeque::new(),
            }),
        );
        *self.shared.core.lock() = Some(core);
        self.shared.core_cv.notify_all();
    }
}

/// The waker of the `block_on` future while this thread runs the scheduler.
struct MainWaker {
    shared: Arc<Shared>,
    /// An `Entry::Main` is queued for this `block_on`.
    queued: AtomicBool,
}

impl Wake for MainWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.shared.push(Entry::Main);
        }
    }
}

/// The waker of a `block_on` future waiting for another thread to release the core.
struct Waiter {
    shared: Arc<Shared>,
    woken: AtomicBool,
}

impl Wake for Waiter {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        let _slot = self.shared.core.lock();
        self.shared.core_cv.notify_all();
    }
}

impl Schedule for Arc<Shared> {
    fn schedule(&self, task: Notified) {
        self.push(Entry::Task(task));
    }

    fn yield_now(&self, task: Notified) {
        self.push(Entry::Task(task));
    }

    fn release(&self, task: RawTask) -> bool {
        if task.is_local() {
            self.live_local_tasks.fetch_sub(1, Ordering::AcqRel);
        }
        self.registry.remove(task)
    }
}

/// Spawns a `Send` task on the current-thread scheduler.
pub(crate) fn spawn<F>(shared: &Arc<Shared>, future: F, meta: SpawnMeta) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    task::bind(shared, &shared.registry, future, meta)
}

/// Spawns a `!Send` task on `shared` if this thread is running it (inside its `block_on`);
/// gives the future back otherwise.
pub(crate) fn spawn_local<F>(
    shared: &Arc<Shared>,
    future: F,
    meta: SpawnMeta,
) -> Result<Task<F::Output>, F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    if !with_running(|r| r.is_some_and(|r| Arc::ptr_eq(&r.shared, shared))) {
        return Err(future);
    }
    {
        let mut owner = shared.local_owner.lock();
        let here = std::thread::current().id();
        match *owner {
            None => *owner = Some(here),
            Some(o) => assert!(
                o == here,
                "spawn_local: this runtime's local tasks are bound to thread {o:?}"
            ),
        }
    }
    shared.live_local_tasks.fetch_add(1, Ordering::AcqRel);
    // SAFETY: local tasks are polled only by the thread running this runtime's core, and
    // `check_local_owner` refuses to run the core on another thread while local tasks
    // live; shutdown on another thread leaks their futures instead of dropping them.
    Ok(unsafe { task::bind_local(shared, &shared.registry, future, meta) })
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentThread")
            .field("injected", &self.injector_len.load(Ordering::Relaxed))
            .finish()
    }
}
