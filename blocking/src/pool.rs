//! The pool: handles, builder, worker threads, shutdown, and the current-pool scoping.

use crate::job::{Failure, Run};
use crate::loom::{thread, Arc, AtomicUsize, Condvar, Mutex, Ordering};
use crate::protocol::{PoolState, Submit, TimedOut, GROW_FANOUT, MAX_THREADS_LIMIT};
use crate::queue::{self, Receiver, Recv, Sender};
use crate::to_thread::ToThread;
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A queue message: a job, or (`None`) a shutdown wake-up for one waiting thread.
type Msg = Option<std::sync::Arc<dyn Run>>;

const DEFAULT_MAX_THREADS: usize = 512;
const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);
const DEFAULT_THREAD_NAME: &str = "corio-blocking";
const MAX_THREADS_ENV: &str = "CORIO_MAX_BLOCKING_THREADS";

/// An elastic pool of threads for blocking work (asyncio's `run_in_executor` executor).
///
/// Threads are spawned only when a job arrives and no thread is idle, never more than
/// [`Builder::max_threads`]; a thread that has been idle for [`Builder::keep_alive`]
/// exits. A handle is cheap to clone (an `Arc` inside) and all clones share one pool.
/// When the last handle (and the last not-yet-submitted [`ToThread`]) is dropped, idle
/// threads exit at once and busy ones exit after finishing the queue.
///
/// ```
/// use corio_blocking::ThreadPool;
/// use std::time::Duration;
///
/// let pool = ThreadPool::builder()
///     .max_threads(4)
///     .keep_alive(Duration::from_secs(1))
///     .thread_name("io")
///     .build();
/// let sum = futures::executor::block_on(pool.run(|| (1..=10).sum::<u32>()));
/// assert_eq!(sum, 55);
/// ```
#[derive(Clone)]
pub struct ThreadPool {
    inner: Arc<Inner>,
}

/// What the `ThreadPool` clones share; dropping the last one disconnects the queue.
struct Inner {
    tx: Sender<Msg>,
    shared: Arc<Shared>,
}

/// What the worker threads share (they do not hold the sender).
struct Shared {
    proto: PoolState,
    rx: Receiver<Msg>,
    keep_alive: Duration,
    thread_name: String,
    next_thread_id: AtomicUsize,
    /// Jobs that workers dropped because the pool was shut down.
    dropped: AtomicUsize,
    /// Signalled whenever a thread exits (shutdown waits on it).
    exit_lock: Mutex<()>,
    exit_cv: Condvar,
    /// Test hook: spawn attempts with ids in `fail_spawns` fail with EAGAIN.
    #[cfg(test)]
    fail_spawns: std::sync::Mutex<std::ops::RangeInclusive<usize>>,
    #[cfg(test)]
    injected_failures: std::sync::atomic::AtomicUsize,
}

/// Configures a [`ThreadPool`].
///
/// Defaults: `max_threads` 512 (or `CORIO_MAX_BLOCKING_THREADS` if it is set to a positive
/// number), `keep_alive` 10 s, `thread_name` `"corio-blocking"`.
///
/// ```
/// use corio_blocking::ThreadPool;
/// use std::time::Duration;
///
/// let pool = ThreadPool::builder().max_threads(2).keep_alive(Duration::from_millis(50)).build();
/// assert_eq!(pool.max_threads(), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    max_threads: usize,
    keep_alive: Duration,
    thread_name: String,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

fn max_threads_from(env: Option<&str>) -> usize {
    env.and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .map_or(DEFAULT_MAX_THREADS, |n| n.min(MAX_THREADS_LIMIT))
}

impl Builder {
    /// A builder with the defaults.
    ///
    /// ```
    /// let pool = corio_blocking::Builder::new().build();
    /// assert_eq!(pool.thread_count(), 0); // threads start on demand
    /// ```
    pub fn new() -> Self {
        Builder {
            max_threads: max_threads_from(std::env::var(MAX_THREADS_ENV).ok().as_deref()),
            keep_alive: DEFAULT_KEEP_ALIVE,
            thread_name: DEFAULT_THREAD_NAME.to_owned(),
        }
    }

    /// The most threads the pool runs at once (clamped to 262 143). Jobs beyond that
    /// wait in the queue for a thread to finish.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// ```
    /// let pool = corio_blocking::ThreadPool::builder().max_threads(8).build();
    /// assert_eq!(pool.max_threads(), 8);
    /// ```
    pub fn max_threads(mut self, n: usize) -> Self {
        assert!(n > 0, "corio blocking pool: max_threads must be at least 1");
        self.max_threads = n.min(MAX_THREADS_LIMIT);
        self
    }

    /// How long an idle thread waits for a job before it exits.
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = corio_blocking::ThreadPool::builder().keep_alive(Duration::from_secs(60)).build();
    /// # drop(pool);
    /// ```
    pub fn keep_alive(mut self, keep_alive: Duration) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// Threads are named `"{prefix}-{n}"`, `n` counting from 1 per pool.
    ///
    /// ```
    /// let pool = corio_blocking::ThreadPool::builder().thread_name("disk").build();
    /// let name = futures::executor::block_on(
    ///     pool.run(|| std::thread::current().name().map(str::to_owned)),
    /// );
    /// assert!(name.unwrap().starts_with("disk-"));
    /// ```
    pub fn thread_name(mut self, prefix: impl Into<String>) -> Self {
        self.thread_name = prefix.into();
        self
    }

    /// Creates the pool. No thread starts until the first job arrives.
    ///
    /// ```
    /// let pool = corio_blocking::ThreadPool::builder().build();
    /// assert_eq!(futures::executor::block_on(pool.run(|| 7)), 7);
    /// ```
    pub fn build(self) -> ThreadPool {
        let (tx, rx) = queue::channel();
        let shared = Arc::new(Shared {
            proto: PoolState::new(self.max_threads),
            rx,
            keep_alive: self.keep_alive,
            thread_name: self.thread_name,
            next_thread_id: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            exit_lock: Mutex::new(()),
            exit_cv: Condvar::new(),
            #[cfg(test)]
            fail_spawns: std::sync::Mutex::new(0..=0), // ids start at 1: none
            #[cfg(test)]
            injected_failures: std::sync::atomic::AtomicUsize::new(0),
        });
        ThreadPool {
            inner: Arc::new(Inner { tx, shared }),
        }
    }
}

#[cfg(not(any(loom, shuttle)))]
thread_local! {
    static CURRENT: RefCell<Option<ThreadPool>> = const { RefCell::new(None) };
}

// Under loom each model thread needs its own: loom runs every model thread on one OS thread,
// so a std thread-local would be shared between them.
#[cfg(any(loom, shuttle))]
crate::loom::thread_local! {
    static CURRENT: RefCell<Option<ThreadPool>> = RefCell::new(None);
}

static DEFAULT_POOL: OnceLock<ThreadPool> = OnceLock::new();

impl ThreadPool {
    /// A [`Builder`] with the defaults.
    ///
    /// ```
    /// let pool = corio_blocking::ThreadPool::builder().max_threads(2).build();
    /// # drop(pool);
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A pool with the [`Builder`] defaults.
    ///
    /// ```
    /// let pool = corio_blocking::ThreadPool::new();
    /// assert_eq!(futures::executor::block_on(pool.run(|| "done")), "done");
    /// ```
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Builder::new().build()
    }

    /// Runs `f` on a pool thread; the returned future resolves to its result.
    ///
    /// Lazy: nothing is submitted until the future is first polled. Dropping the future
    /// before the job starts means the job never runs; dropping it while the job runs
    /// discards the result. A panic in `f` resumes at the `.await`, with the original
    /// payload. If the pool has been [shut down](ThreadPool::shutdown), or if it has no
    /// thread and cannot start one, polling the future panics with a message saying so.
    ///
    /// ```
    /// let pool = corio_blocking::ThreadPool::new();
    /// let len = futures::executor::block_on(async {
    ///     pool.run(|| std::fs::read_dir(".").map(|d| d.count()).unwrap_or(0)).await
    /// });
    /// # let _ = len;
    /// ```
    #[track_caller]
    pub fn run<F, T>(&self, f: F) -> ToThread<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        ToThread::new(Some(self.clone()), f)
    }

    /// The pool that [`to_thread`](crate::to_thread) uses on this thread: the one made
    /// current by [`ThreadPool::enter`], else the process-wide default pool (max 512
    /// threads or `CORIO_MAX_BLOCKING_THREADS`, keep-alive 10 s, threads named
    /// `corio-blocking-N`).
    ///
    /// ```
    /// use corio_blocking::ThreadPool;
    ///
    /// let pool = ThreadPool::builder().max_threads(3).build();
    /// let _guard = pool.enter();
    /// assert!(ThreadPool::current().ptr_eq(&pool));
    /// ```
    pub fn current() -> ThreadPool {
        CURRENT
            .try_with(|current| current.borrow().clone())
            .ok()
            .flatten()
            .unwrap_or_else(|| Self::default_pool().clone())
    }

    fn default_pool() -> &'static ThreadPool {
        DEFAULT_POOL.get_or_init(ThreadPool::new)
    }

    /// Makes this pool the current one on this thread until the guard is dropped, which
    /// restores the previous one (guards must be dropped in reverse order of creation).
    /// The corio runtime enters its own pool on its worker threads and in `block_on`.
    ///
    /// ```
    /// use corio_blocking::{to_thread, ThreadPool};
    ///
    /// let pool = ThreadPool::builder().thread_name("mine").build();
    /// let name = {
    ///     let _guard = pool.enter();
    ///     // The pool is the one current where the future is first polled.
    ///     futures::executor::block_on(to_thread(|| {
    ///         std::thread::current().name().unwrap().to_owned()
    ///     }))
    /// };
    /// assert!(name.starts_with("mine-"));
    /// ```
    pub fn enter(&self) -> EnterGuard {
        let prev = CURRENT.with(|current| current.replace(Some(self.clone())));
        EnterGuard {
            prev,
            _not_send: PhantomData,
        }
    }

    /// Whether two handles refer to the same pool.
    ///
    /// ```
    /// let a = corio_blocking::ThreadPool::new();
    /// let b = a.clone();
    /// assert!(a.ptr_eq(&b));
    /// assert!(!a.ptr_eq(&corio_blocking::ThreadPool::new()));
    /// ```
    pub fn ptr_eq(&self, other: &ThreadPool) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The pool's thread cap.
    ///
    /// ```
    /// assert_eq!(corio_blocking::ThreadPool::builder().max_threads(5).build().max_threads(), 5);
    /// ```
    pub fn max_threads(&self) -> usize {
        self.inner.shared.proto.max()
    }

    /// Live pool threads (busy, idle, or starting).
    ///
    /// ```
    /// let pool = corio_blocking::ThreadPool::new();
    /// assert_eq!(pool.thread_count(), 0);
    /// futures::executor::block_on(pool.run(|| ()));
    /// assert!(pool.thread_count() >= 1); // it stays around for keep-alive
    /// ```
    pub fn thread_count(&self) -> usize {
        self.inner.shared.proto.snapshot().threads()
    }

    /// Threads currently waiting for a job (including ones just reserved for a queued job).
    ///
    /// ```
    /// let pool = corio_blocking::ThreadPool::new();
    /// assert_eq!(pool.idle_count(), 0);
    /// ```
    pub fn idle_count(&self) -> usize {
        let s = self.inner.shared.proto.snapshot();
        s.idle() + s.claimed()
    }

    /// Jobs waiting in the queue (a snapshot; it may include jobs whose futures were
    /// already dropped, which are skipped when reached).
    ///
    /// ```
    /// let pool = corio_blocking::ThreadPool::new();
    /// assert_eq!(pool.queued(), 0);
    /// ```
    pub fn queued(&self) -> usize {
        self.inner.shared.rx.len()
    }

    /// Shuts the pool down: stops accepting jobs (polling a [`ToThread`] of this pool that
    /// was not yet submitted panics with "corio blocking pool was shut down; ..."), drops
    /// the queued jobs (their futures panic with the same message when polled), lets
    /// idle threads exit, and waits up to `timeout` for running jobs to finish. It never
    /// waits longer than `timeout`; jobs still running then go on in the background
    /// (they cannot be interrupted) and are counted in the report.
    ///
    /// Shutting down the process-wide default pool makes [`to_thread`](crate::to_thread)
    /// unusable outside a runtime for the rest of the process: shut down only pools you
    /// built.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pool = corio_blocking::ThreadPool::new();
    /// futures::executor::block_on(pool.run(|| ()));
    /// let report = pool.shutdown(Duration::from_secs(1));
    /// assert_eq!(report.still_running(), 0);
    /// assert_eq!(report.dropped_queued(), 0);
    /// assert_eq!(pool.thread_count(), 0);
    /// ```
    pub fn shutdown(&self, timeout: Duration) -> ShutdownReport {
        let start = Instant::now();
        let shared = &*self.inner.shared;
        let before = shared.proto.shutdown();
        let mut dropped = 0;
        while let Some(msg) = shared.rx.try_recv() {
            if let Some(job) = msg {
                if job.fail(&Failure::Shutdown) {
                    dropped += 1;
                }
            }
        }
        // One wake-up per thread that may be waiting: each thread consumes at most one
        // (it leaves as soon as it sees one), and threads that start waiting later see
        // SHUTDOWN in `enter_idle`. Spawning is refused from now on, so none is missed.
        for _ in 0..before.threads() {
            let _ = self.inner.tx.send(None);
        }
        {
            let mut guard = shared.exit_lock.lock();
            while shared.proto.snapshot().threads() > 0 {
                let elapsed = start.elapsed();
                if elapsed >= timeout {
                    break;
                }
                shared.exit_cv.wait_for(&mut guard, timeout - elapsed);
            }
        }
        let after = shared.proto.snapshot();
        if after.threads() == 0 {
            // Leftover wake-ups.
            while shared.rx.try_recv().is_some() {}
        }
        ShutdownReport {
            still_running: after.threads() - (after.idle() + after.claimed()).min(after.threads()),
            dropped_queued: dropped + shared.dropped.swap(0, Ordering::AcqRel),
        }
    }

    /// Queues `job` and makes sure a thread will come for it.
    pub(crate) fn submit(&self, job: std::sync::Arc<dyn Run>) -> Result<(), Failure> {
        let shared = &self.inner.shared;
        if shared.proto.snapshot().is_shutdown() {
            return Err(Failure::Shutdown);
        }
        // Push first, then decide (see protocol.rs).
        if self.inner.tx.send(Some(job)).is_err() {
            return Err(Failure::Shutdown);
        }
        match shared.proto.submit() {
            Submit::Claimed | Submit::Starting | Submit::Busy => Ok(()),
            Submit::Spawn => {
                Shared::spawn_worker(shared);
                Ok(())
            }
            Submit::Shutdown => Err(Failure::Shutdown),
        }
    }

    /// Test hook: thread spawn attempts number `ids` (counting from 1) fail.
    #[cfg(test)]
    pub(crate) fn fail_spawns(&self, ids: std::ops::RangeInclusive<usize>) {
        *self.inner.shared.fail_spawns.lock().unwrap() = ids;
    }

    #[cfg(test)]
    pub(crate) fn injected_failures(&self) -> usize {
        self.inner
            .shared
            .injected_failures
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.inner.shared.proto.snapshot();
        f.debug_struct("ThreadPool")
            .field("threads", &s.threads())
            .field("idle", &(s.idle() + s.claimed()))
            .field("queued", &self.queued())
            .field("max_threads", &self.max_threads())
            .field("keep_alive", &self.inner.shared.keep_alive)
            .field("thread_name", &self.inner.shared.thread_name)
            .field("shut_down", &s.is_shutdown())
            .finish()
    }
}

impl Shared {
    /// Starts a worker (already counted by `Submit::Spawn` / `grow`). On failure the
    /// count is undone; if that leaves no thread at all, the queued jobs are failed with
    /// the OS error rather than left waiting for a thread that will never come.
    fn spawn_worker(this: &Arc<Self>) {
        let id = this.next_thread_id.fetch_add(1, Ordering::Relaxed) + 1;
        let shared = Arc::clone(this);
        let result = this.spawn_thread(id, move || worker_main(shared));
        if let Err(err) = result {
            let after = this.proto.spawn_failed();
            if after.threads() == 0 {
                let why = Failure::Spawn(err.to_string().into());
                loop {
                    let now = this.proto.snapshot();
                    if now.threads() > 0 || now.starting() > 0 {
                        break; // someone else got a thread going: it will drain the queue
                    }
                    match this.rx.try_recv() {
                        Some(Some(job)) => {
                            job.fail(&why);
                        }
                        Some(None) => {}
                        None => break,
                    }
                }
            }
        }
    }

    fn spawn_thread(&self, id: usize, main: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
        #[cfg(test)]
        if self.fail_spawns.lock().unwrap().contains(&id) {
            self.injected_failures
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Err(rustix::io::Errno::AGAIN.into());
        }
        let builder = thread::Builder::new().name(format!("{}-{}", self.thread_name, id));
        #[cfg(not(any(loom, shuttle)))]
        let spawned = builder.spawn(main);
        // Under loom a pool thread counts as running for the model's deadlock check
        // (`corio_sync::loom::stall`) from before its spawn until it exits: a job it runs
        // may wake a task.
        #[cfg(any(loom, shuttle))]
        let spawned = {
            struct Exit;
            impl Drop for Exit {
                fn drop(&mut self) {
                    crate::loom::stall::thread_exited();
                }
            }
            crate::loom::stall::thread_spawning();
            let spawned = builder.spawn(move || {
                let _exit = Exit;
                main()
            });
            if spawned.is_err() {
                crate::loom::stall::thread_exited();
            }
            spawned
        };
        spawned.map(drop)
    }

    /// Runs (or, after shutdown, drops) one job; a panic escaping here (a waker or a
    /// result destructor panicking) must not kill the thread.
    fn handle(&self, job: std::sync::Arc<dyn Run>) {
        if self.proto.snapshot().is_shutdown() {
            if job.fail(&Failure::Shutdown) {
                self.dropped.fetch_add(1, Ordering::AcqRel);
            }
            return;
        }
        let _ = panic::catch_unwind(AssertUnwindSafe(|| job.run()));
    }

    fn notify_exit(&self) {
        let _guard = self.exit_lock.lock();
        self.exit_cv.notify_all();
    }
}

/// A pool thread's life.
fn worker_main(shared: Arc<Shared>) {
    shared.proto.started();
    // Take the job this thread was started for (after `started`, so every job whose
    // submitter relied on this thread is visible), then: if more are queued than the
    // reserved and starting threads will take, spawn up to GROW_FANOUT more threads,
    // which do the same (see protocol.rs).
    let mut next = shared.rx.try_recv();
    if next.is_some() {
        shared.proto.drained_job();
    }
    for _ in 0..GROW_FANOUT {
        if !shared.proto.grow(shared.rx.len()) {
            break;
        }
        Shared::spawn_worker(&shared);
    }
    loop {
        // Busy: drain without waiting.
        while let Some(msg) = next.take().or_else(|| {
            let msg = shared.rx.try_recv();
            if matches!(msg, Some(Some(_))) {
                shared.proto.drained_job();
            }
            msg
        }) {
            match msg {
                Some(job) => shared.handle(job),
                None => break, // a shutdown wake-up: `enter_idle` refuses below
            }
        }
        if shared.proto.enter_idle().is_err() {
            break;
        }
        match shared.rx.recv_timeout(shared.keep_alive) {
            Recv::Msg(msg) => {
                shared.proto.got_job();
                next = Some(msg);
            }
            Recv::Timeout => match shared.proto.timed_out() {
                TimedOut::Exit => {
                    shared.notify_exit();
                    return;
                }
                TimedOut::Stay => {}
            },
            Recv::Disconnected => {
                shared.proto.got_job();
                break;
            }
        }
    }
    shared.proto.exit();
    shared.notify_exit();
}

/// Restores the previously current pool when dropped; see [`ThreadPool::enter`].
///
/// ```
/// use corio_blocking::ThreadPool;
///
/// let outer = ThreadPool::new();
/// let inner = ThreadPool::new();
/// let _a = outer.enter();
/// {
///     let _b = inner.enter();
///     assert!(ThreadPool::current().ptr_eq(&inner));
/// }
/// assert!(ThreadPool::current().ptr_eq(&outer));
/// ```
#[must_use = "the pool is current only until the guard is dropped"]
pub struct EnterGuard {
    prev: Option<ThreadPool>,
    /// Restoring must happen on the thread that entered.
    _not_send: PhantomData<*const ()>,
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard")
            .field("restores", &self.prev)
            .finish()
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let replaced = CURRENT.try_with(|current| current.replace(prev));
        drop(replaced);
    }
}

/// What [`ThreadPool::shutdown`] left behind.
///
/// ```
/// use std::time::Duration;
///
/// let pool = corio_blocking::ThreadPool::new();
/// let report = pool.shutdown(Duration::ZERO);
/// assert!(report.is_clean());
/// println!("{report}");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    still_running: usize,
    dropped_queued: usize,
}

impl ShutdownReport {
    /// Jobs still running when the timeout expired (they finish in the background and
    /// their results are discarded).
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = corio_blocking::ThreadPool::new();
    /// assert_eq!(pool.shutdown(Duration::from_millis(10)).still_running(), 0);
    /// ```
    pub fn still_running(&self) -> usize {
        self.still_running
    }

    /// Queued jobs that were dropped without running.
    ///
    /// ```
    /// use std::time::Duration;
    /// let pool = corio_blocking::ThreadPool::new();
    /// assert_eq!(pool.shutdown(Duration::from_millis(10)).dropped_queued(), 0);
    /// ```
    pub fn dropped_queued(&self) -> usize {
        self.dropped_queued
    }

    /// Nothing was left running and nothing was dropped.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert!(corio_blocking::ThreadPool::new().shutdown(Duration::ZERO).is_clean());
    /// ```
    pub fn is_clean(&self) -> bool {
        self.still_running == 0 && self.dropped_queued == 0
    }
}

impl fmt::Display for ShutdownReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "blocking pool shut down: {} job(s) still running, {} queued job(s) dropped",
            self.still_running, self.dropped_queued
        )
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::mpsc;
    use std::task::Context;

    /// Generous bound for a test body; a hang fails the test instead of stalling the run.
    fn within<R: Send + 'static>(body: impl FnOnce() -> R + Send + 'static) -> R {
        corio_test_util::within(Duration::from_secs(20), body)
    }

    #[test]
    fn spawn_failure_with_no_thread_panics_with_the_os_error() {
        let pool = ThreadPool::builder().build();
        pool.fail_spawns(1..=1);
        let p = pool.clone();
        let msg = within(move || {
            let err = panic::catch_unwind(AssertUnwindSafe(|| {
                futures::executor::block_on(p.run(|| 1))
            }))
            .expect_err("must panic, not hang");
            err.downcast_ref::<String>().cloned().unwrap_or_default()
        });
        assert!(msg.contains("could not start a thread"), "{msg}");
        let eagain = std::io::Error::from(rustix::io::Errno::AGAIN).to_string();
        assert!(msg.contains(&eagain), "{msg}");
        assert_eq!(pool.thread_count(), 0);
        // Nothing is poisoned: the next spawn works.
        let p = pool.clone();
        assert_eq!(within(move || futures::executor::block_on(p.run(|| 2))), 2);
    }

    #[test]
    fn spawn_failure_with_a_live_thread_waits_for_it() {
        let pool = ThreadPool::builder().build();
        let release = std::sync::Arc::new(AtomicBool::new(false));
        let p = pool.clone();
        let r = release.clone();
        let (first, second) = within(move || {
            let r2 = r.clone();
            let (started_tx, started_rx) = mpsc::channel();
            let mut first = p.run(move || {
                started_tx.send(()).unwrap();
                while !r2.load(SeqCst) {
                    std::thread::sleep(Duration::from_millis(2));
                }
                "first"
            });
            let mut cx = Context::from_waker(std::task::Waker::noop());
            assert!(Pin::new(&mut first).poll(&mut cx).is_pending());
            started_rx.recv().unwrap();
            // The only thread is busy: the second job wants a new one, which fails.
            p.fail_spawns(2..=2);
            let mut second = p.run(|| "second");
            assert!(Pin::new(&mut second).poll(&mut cx).is_pending());
            assert_eq!(p.thread_count(), 1);
            assert_eq!(p.queued(), 1, "the job must stay queued");
            assert_eq!(p.injected_failures(), 1);
            r.store(true, SeqCst);
            (
                futures::executor::block_on(first),
                futures::executor::block_on(second),
            )
        });
        assert_eq!((first, second), ("first", "second"));
        assert_eq!(pool.thread_count(), 1);
    }

    #[test]
    fn a_failed_growth_spawn_loses_no_job() {
        // The first thread starts, sees a burst queued behind it and tries to grow; that
        // spawn fails. Every job still runs, on the threads that do exist.
        let pool = ThreadPool::builder().build();
        let p = pool.clone();
        let sum = within(move || {
            let futs: Vec<_> = (0..200u32)
                .map(|i| {
                    p.run(move || {
                        std::thread::sleep(Duration::from_micros(200));
                        i
                    })
                })
                .collect();
            // Only the first spawn succeeds.
            p.fail_spawns(2..=usize::MAX);
            futures::executor::block_on(futures::future::join_all(futs))
                .into_iter()
                .sum::<u32>()
        });
        assert_eq!(sum, (0..200).sum::<u32>());
        assert_eq!(pool.thread_count(), 1);
        assert!(
            pool.injected_failures() >= 1,
            "no growth spawn was attempted"
        );
    }

    #[test]
    fn env_override_parsing() {
        assert_eq!(max_threads_from(None), 512);
        assert_eq!(max_threads_from(Some("8")), 8);
        assert_eq!(max_threads_from(Some(" 16 ")), 16);
        assert_eq!(max_threads_from(Some("0")), 512);
        assert_eq!(max_threads_from(Some("lots")), 512);
        assert_eq!(max_threads_from(Some("99999999999")), MAX_THREADS_LIMIT);
        assert_eq!(MAX_THREADS_LIMIT, 262_143);
    }
}
