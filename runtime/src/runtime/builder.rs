//! [`Builder`]: configure and build a [`Runtime`].

use std::fmt;
use std::io;
use std::time::Duration;

use super::blocking::BlockingPool;
use super::{Handle, Runtime};
use crate::driver::Driver;
use crate::loom::Arc;
use crate::scheduler::{self, current_thread, multi_thread};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    MultiThread,
    CurrentThread,
}

/// Configures a [`Runtime`].
///
/// ```
/// use std::time::Duration;
///
/// let rt = corio_runtime::Builder::new_multi_thread()
///     .worker_threads(2)
///     .max_blocking_threads(16)
///     .blocking_keep_alive(Duration::from_secs(5))
///     .thread_name("my-worker")
///     .shutdown_timeout(Duration::from_secs(1))
///     .slow_poll_threshold(Duration::from_millis(50))
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 }), 1);
/// ```
pub struct Builder {
    flavor: Flavor,
    worker_threads: Option<usize>,
    max_blocking_threads: Option<usize>,
    blocking_keep_alive: Duration,
    thread_name: String,
    shutdown_timeout: Duration,
    slow_poll_threshold: Option<Duration>,
    /// `None`: not set, so `CORIO_DUMP_SIGNAL` decides; `Some(None)`: off.
    dump_signal: Option<Option<i32>>,
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&n| n > 0)
}

impl Builder {
    fn new(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            max_blocking_threads: None,
            blocking_keep_alive: Duration::from_secs(10),
            thread_name: "corio-worker".to_owned(),
            shutdown_timeout: Duration::from_secs(10),
            slow_poll_threshold: Some(Duration::from_millis(100)),
            dump_signal: None,
        }
    }

    /// The default flavor: a work-stealing scheduler on `worker_threads` threads.
    ///
    /// ```
    /// let rt = corio_runtime::Builder::new_multi_thread().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn new_multi_thread() -> Builder {
        Builder::new(Flavor::MultiThread)
    }

    /// asyncio's model: every task runs on the thread calling `block_on`, in FIFO order;
    /// allows [`spawn_local`](crate::spawn_local) of `!Send` futures.
    ///
    /// ```
    /// let rt = corio_runtime::Builder::new_current_thread().build().unwrap();
    /// let here = std::thread::current().id();
    /// let there = rt.block_on(async {
    ///     corio_runtime::spawn(async { std::thread::current().id() }).await.unwrap()
    /// });
    /// assert_eq!(here, there);
    /// ```
    pub fn new_current_thread() -> Builder {
        Builder::new(Flavor::CurrentThread)
    }

    /// Exactly `n` worker threads (multi-thread flavor; ignored by current-thread).
    /// Default: the `CORIO_WORKER_THREADS` environment variable, else the number of CPUs
    /// (2 inside a loom model, `--cfg loom`).
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// ```
    /// let rt = corio_runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn worker_threads(mut self, n: usize) -> Builder {
        assert!(n > 0, "worker_threads must be at least 1");
        self.worker_threads = Some(n);
        self
    }

    /// The most threads the blocking pool (`to_thread`) may run at once. Default: the
    /// `CORIO_MAX_BLOCKING_THREADS` environment variable, else 512.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// ```
    /// let rt = corio_runtime::Builder::new_multi_thread().max_blocking_threads(4).build().unwrap();
    /// # drop(rt);
    /// ```
    #[track_caller]
    pub fn max_blocking_threads(mut self, n: usize) -> Builder {
        assert!(n > 0, "max_blocking_threads must be at least 1");
        self.max_blocking_threads = Some(n);
        self
    }

    /// How long an idle blocking thread waits for a job before exiting. Default: 10 s.
    ///
    /// ```
    /// let rt = corio_runtime::Builder::new_multi_thread()
    ///     .blocking_keep_alive(std::time::Duration::from_secs(1))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn blocking_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.blocking_keep_alive = keep_alive;
        self
    }

    /// The worker threads' name prefix: threads are named `<prefix>-<index>`. Default:
    /// `corio-worker`. The monitor thread is `<prefix>-monitor`, without a trailing
    /// `-worker` (`corio-monitor` by default).
    ///
    /// ```
    /// let rt = corio_runtime::Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .thread_name("app")
    ///     .build()
    ///     .unwrap();
    /// let name = rt.block_on(async {
    ///     corio_runtime::spawn(async { std::thread::current().name().unwrap().to_owned() })
    ///         .await
    ///         .unwrap()
    /// });
    /// assert_eq!(name, "app-0");
    /// ```
    pub fn thread_name(mut self, prefix: impl Into<String>) -> Builder {
        self.thread_name = prefix.into();
        self
    }

    /// How long dropping the runtime waits for running blocking jobs. Default: 10 s.
    ///
    /// ```
    /// let rt = corio_runtime::Builder::new_multi_thread()
    ///     .shutdown_timeout(std::time::Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Builder {
        self.shutdown_timeout = timeout;
        self
    }

    /// A poll that holds its thread longer than this is reported (asyncio's
    /// `slow_callback_duration`): one `tracing` WARN event with target `corio::slow_poll`
    /// naming the task (id, name, spawn location), the worker and the time so far; with
    /// no `tracing` subscriber installed, a line on stderr instead:
    ///
    /// ```text
    /// corio: Executing <Task id=7 name='worker-1' spawned at src/main.rs:10:5> took 0.100 seconds on worker 1 (still running)
    /// ```
    ///
    /// Default: 100 ms, on without any builder call; `None` turns the warnings off.
    ///
    /// The runtime's monitor thread (named after [`thread_name`](Builder::thread_name):
    /// `corio-monitor` by default) measures it by sampling the counters each worker
    /// publishes, every quarter of the threshold (at most every 25 ms, at least every
    /// 1 ms), so workers read no clock per poll; a poll is reported within one sampling
    /// interval after it crosses the threshold, never before. Covered: tasks on every
    /// worker, and on the current-thread flavor also the `block_on` future itself (on the
    /// multi-thread flavor that future runs on the caller's thread, outside any worker).
    ///
    /// Independently of this setting the monitor also hands the queued work of a worker
    /// stuck in one poll for 250 ms to the other workers.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = corio_runtime::Builder::new_multi_thread()
    ///     .slow_poll_threshold(Duration::from_millis(20))
    ///     .build()
    ///     .unwrap();
    /// // Reported (to stderr here: no tracing subscriber is installed).
    /// rt.block_on(rt.spawn(async { std::thread::sleep(Duration::from_millis(50)) }))
    ///     .unwrap();
    ///
    /// let quiet = corio_runtime::Builder::new_current_thread()
    ///     .slow_poll_threshold(None)
    ///     .build()
    ///     .unwrap();
    /// # drop((rt, quiet));
    /// ```
    pub fn slow_poll_threshold(mut self, threshold: impl Into<Option<Duration>>) -> Builder {
        self.slow_poll_threshold = threshold.into();
        self
    }

    /// Prints a task dump (see [`dump`](crate::dump)) to stderr each time the process
    /// receives `signal`, like Go's `SIGQUIT` or Java's `kill -3`; `None` turns it off.
    /// Default: the signal named by the `CORIO_DUMP_SIGNAL` environment variable
    /// (`SIGUSR1`, `usr1` or a number), else off.
    ///
    /// The handler only sets a flag; the runtime's monitor thread takes and prints the
    /// dump within 25 ms, so nothing runs inside the handler or on a worker. Registering
    /// the handler replaces the signal's default action (for `SIGUSR1`: terminating
    /// the process) while the runtime lives.
    ///
    /// [`build`](Builder::build) fails for a signal that cannot be caught (`SIGKILL`,
    /// `SIGSTOP`, `SIGSEGV`...) and for a `CORIO_DUMP_SIGNAL` that names no signal.
    ///
    /// ```
    /// use corio_runtime::signal::unix::SignalKind;
    ///
    /// let rt = corio_runtime::Builder::new_multi_thread()
    ///     .dump_on_signal(SignalKind::user_defined1())
    ///     .build()
    ///     .unwrap();
    /// // `kill -USR1 <pid>` now prints every task and what it awaits to stderr.
    /// # drop(rt);
    /// ```
    #[cfg(unix)]
    pub fn dump_on_signal(
        mut self,
        signal: impl Into<Option<crate::signal::unix::SignalKind>>,
    ) -> Builder {
        self.dump_signal = Some(signal.into().map(|s| s.as_raw_value()));
        self
    }

    fn resolved_worker_threads(&self) -> usize {
        self.worker_threads
            .or_else(|| env_usize("CORIO_WORKER_THREADS"))
            .unwrap_or_else(|| {
                if cfg!(any(loom, shuttle)) {
                    // Two model threads: enough for stealing and a reactor hand-over, small
                    // enough for loom.
                    2
                } else {
                    num_cpus::get()
                }
            })
            .max(1)
    }

    /// Builds the runtime (starting its worker threads).
    ///
    /// ```
    /// let rt = corio_runtime::Builder::new_current_thread().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn build(self) -> io::Result<Runtime> {
        #[cfg(unix)]
        let dump_signal = match self.dump_signal {
            Some(set) => set,
            None => super::dump_signal::from_env()?,
        };
        #[cfg(not(unix))]
        let dump_signal = None;
        // Models run no monitor thread, so no dump signal either.
        #[cfg(any(loom, shuttle))]
        let _ = dump_signal;
        let driver = Arc::new(Driver::new()?);
        let blocking = BlockingPool::new(
            self.max_blocking_threads
                .or_else(|| env_usize("CORIO_MAX_BLOCKING_THREADS"))
                .unwrap_or(512),
            self.blocking_keep_alive,
            format!("{}-blocking", self.thread_name),
        );
        let (inner, threads) = match self.flavor {
            Flavor::MultiThread => {
                let workers = self.resolved_worker_threads();
                let (shared, locals) =
                    multi_thread::Shared::new(workers, driver, blocking, self.thread_name.clone());
                let threads = multi_thread::launch(&shared, locals)?;
                (scheduler::Handle::MultiThread(shared), threads)
            }
            Flavor::CurrentThread => (
                scheduler::Handle::CurrentThread(current_thread::Shared::new(driver, blocking)),
                Vec::new(),
            ),
        };
        #[cfg_attr(any(loom, shuttle), allow(unused_mut))]
        let mut runtime = Runtime {
            handle: Handle { inner },
            threads,
            shutdown_timeout: self.shutdown_timeout,
            monitor: None,
        };
        // Loom models run no background threads of their own.
        #[cfg(not(any(loom, shuttle)))]
        {
            // On failure `runtime` drops here, shutting its workers down.
            use super::monitor::{self, Monitor};
            runtime.monitor = Some(Monitor::start(
                runtime.handle.inner.clone(),
                self.slow_poll_threshold,
                dump_signal,
                monitor::thread_name(&self.thread_name),
                tracing::dispatcher::get_default(tracing::Dispatch::clone),
            )?);
        }
        Ok(runtime)
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("blocking_keep_alive", &self.blocking_keep_alive)
            .field("thread_name", &self.thread_name)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("slow_poll_threshold", &self.slow_poll_threshold)
            .field("dump_signal", &self.dump_signal)
            .finish()
    }
}
