//! The four runtimes, built the same way: [`WORKERS`] worker threads, the measuring
//! thread blocking on the workload's main future outside the worker pool.
//!
//! Warm workloads use one shared runtime per kind ([`corio()`], [`tokio()`], [`smol()`],
//! [`async_std()`]), built on first use — outside the timed region — and kept for the life
//! of the process. Cold workloads build their own with [`new_corio`] / [`new_tokio`].

use std::future::Future;
use std::sync::OnceLock;

use crate::WORKERS;

/// A new corio multi-thread runtime with [`WORKERS`] workers.
pub fn new_corio() -> corio::Runtime {
    corio::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .expect("corio runtime")
}

/// A new tokio multi-thread runtime with [`WORKERS`] workers, I/O and time enabled.
pub fn new_tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The process's shared corio runtime.
pub fn corio() -> &'static corio::Runtime {
    static RT: OnceLock<corio::Runtime> = OnceLock::new();
    RT.get_or_init(new_corio)
}

/// The process's shared tokio runtime.
pub fn tokio() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(new_tokio)
}

/// The process's shared smol executor (`async-executor`), run by [`WORKERS`] threads that
/// live as long as the process. Timers and sockets use smol's `async-io` reactor.
pub fn smol() -> &'static async_executor::Executor<'static> {
    static EX: OnceLock<&'static async_executor::Executor<'static>> = OnceLock::new();
    EX.get_or_init(|| {
        let ex: &'static async_executor::Executor<'static> =
            Box::leak(Box::new(async_executor::Executor::new()));
        for i in 0..WORKERS {
            std::thread::Builder::new()
                .name(format!("smol-{i}"))
                .spawn(move || smol::block_on(ex.run(std::future::pending::<()>())))
                .expect("smol thread");
        }
        ex
    })
}

/// Starts async-std's global executor with [`WORKERS`] threads: it reads
/// `ASYNC_STD_THREAD_COUNT` once, on first use, so this sets it first. Call before any
/// other async-std use (the report calls it at start-up, before other threads exist).
pub fn async_std() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        std::env::set_var("ASYNC_STD_THREAD_COUNT", WORKERS.to_string());
        // Any spawn initialises the global executor with that thread count.
        async_std::task::block_on(async_std::task::spawn(async {}));
    });
}

/// What a workload needs from a runtime, so each workload is written once.
pub(crate) trait Rt: Sync + 'static {
    /// A spawned task's handle; awaiting it waits for the task.
    type Join: Future + Send + 'static;
    /// The shared runtime.
    fn get() -> &'static Self;
    /// Spawns from outside the runtime.
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Self::Join;
    /// Lets a spawned task run on without its handle (smol cancels on drop).
    fn detach(join: Self::Join) {
        drop(join);
    }
    /// Spawns from inside one of the runtime's tasks, keeping the handle.
    fn spawn_inside<F: Future<Output = ()> + Send + 'static>(f: F) -> Self::Join;
    /// Spawns a detached task from inside one of the runtime's tasks.
    fn spawn_detached<F: Future<Output = ()> + Send + 'static>(f: F) {
        Self::detach(Self::spawn_inside(f));
    }
    /// Blocks the measuring thread on `f` (the measuring thread is not a worker).
    fn block_on<F: Future>(&self, f: F) -> F::Output;
    /// Yields to the scheduler once.
    fn yield_now() -> impl Future<Output = ()> + Send;
}

/// corio's shared runtime.
#[derive(Debug)]
pub(crate) struct Corio(&'static corio::Runtime);

impl Rt for Corio {
    type Join = corio::Task<()>;
    fn get() -> &'static Self {
        static RT: OnceLock<Corio> = OnceLock::new();
        RT.get_or_init(|| Corio(corio()))
    }
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Self::Join {
        self.0.spawn(f)
    }
    fn spawn_inside<F: Future<Output = ()> + Send + 'static>(f: F) -> Self::Join {
        corio::spawn(f)
    }
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        corio::yield_now()
    }
}

/// tokio's shared runtime.
#[derive(Debug)]
pub(crate) struct Tokio(&'static tokio::runtime::Runtime);

impl Rt for Tokio {
    type Join = tokio::task::JoinHandle<()>;
    fn get() -> &'static Self {
        static RT: OnceLock<Tokio> = OnceLock::new();
        RT.get_or_init(|| Tokio(tokio()))
    }
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Self::Join {
        self.0.spawn(f)
    }
    fn spawn_inside<F: Future<Output = ()> + Send + 'static>(f: F) -> Self::Join {
        tokio::spawn(f)
    }
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

/// smol's shared executor; the measuring thread blocks with `smol::block_on`.
#[derive(Debug)]
pub(crate) struct Smol(&'static async_executor::Executor<'static>);

impl Rt for Smol {
    type Join = async_executor::Task<()>;
    fn get() -> &'static Self {
        static RT: OnceLock<Smol> = OnceLock::new();
        RT.get_or_init(|| Smol(smol()))
    }
    fn detach(join: Self::Join) {
        join.detach();
    }
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Self::Join {
        self.0.spawn(f)
    }
    fn spawn_inside<F: Future<Output = ()> + Send + 'static>(f: F) -> Self::Join {
        smol().spawn(f)
    }
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        smol::block_on(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        smol::future::yield_now()
    }
}

/// Spawns `n` copies of `task(i)` from inside the runtime and waits for all of them.
pub(crate) async fn spawn_all<R: Rt, F, Fut>(n: usize, task: F)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|i| R::spawn_inside(task(i))).collect();
    for h in handles {
        let _ = h.await;
    }
}

/// async-std's global executor (async-global-executor) with [`WORKERS`] threads; the
/// measuring thread blocks with `async_std::task::block_on`.
#[derive(Debug)]
pub(crate) struct AsyncStd;

impl Rt for AsyncStd {
    type Join = async_std::task::JoinHandle<()>;
    fn get() -> &'static Self {
        async_std();
        &AsyncStd
    }
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Self::Join {
        async_std::task::spawn(f)
    }
    fn spawn_inside<F: Future<Output = ()> + Send + 'static>(f: F) -> Self::Join {
        async_std::task::spawn(f)
    }
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        async_std::task::block_on(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        async_std::task::yield_now()
    }
}
