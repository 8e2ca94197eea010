//! tokio's `rt_multi_threaded` workloads, on corio, tokio and smol's async-executor, with
//! the same number of worker threads (2).
//!
//! `cargo bench -p corio-benches --bench runtime -- --warm-up-time 1 --measurement-time 3`

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc, OnceLock};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use futures::channel::oneshot;

const NUM_WORKERS: usize = 2;
const NUM_SPAWN: usize = 10_000;
const STALL_DUR: Duration = Duration::from_micros(10);

/// What a workload needs from a runtime.
trait Rt: Sync + 'static {
    type Join: Future + Send + 'static;
    /// Spawns from outside the runtime.
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Self::Join;
    /// Lets a spawned task run on without its handle (smol cancels on drop).
    fn detach(join: Self::Join) {
        drop(join);
    }
    /// Spawns a detached task from inside one of the runtime's tasks.
    fn spawn_inside<F: Future<Output = ()> + Send + 'static>(f: F);
    /// Blocks the bench thread on `f` (the bench thread is not a worker).
    fn block_on<F: Future>(&self, f: F) -> F::Output;
    fn yield_now() -> impl Future<Output = ()> + Send;
}

struct Corio(corio::Runtime);

impl Rt for Corio {
    type Join = corio::Task<()>;
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Self::Join {
        self.0.spawn(f)
    }
    fn spawn_inside<F: Future<Output = ()> + Send + 'static>(f: F) {
        drop(corio::spawn(f));
    }
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        corio::yield_now()
    }
}

struct Tokio(tokio::runtime::Runtime);

impl Rt for Tokio {
    type Join = tokio::task::JoinHandle<()>;
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Self::Join {
        self.0.spawn(f)
    }
    fn spawn_inside<F: Future<Output = ()> + Send + 'static>(f: F) {
        drop(tokio::spawn(f));
    }
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
}

/// async-executor with NUM_WORKERS threads running `executor.run(pending)`.
struct Smol(&'static async_executor::Executor<'static>);

fn smol_executor() -> &'static async_executor::Executor<'static> {
    static EX: OnceLock<&'static async_executor::Executor<'static>> = OnceLock::new();
    EX.get_or_init(|| {
        let ex: &'static async_executor::Executor<'static> =
            Box::leak(Box::new(async_executor::Executor::new()));
        for i in 0..NUM_WORKERS {
            std::thread::Builder::new()
                .name(format!("smol-{i}"))
                .spawn(move || smol::future::block_on(ex.run(std::future::pending::<()>())))
                .unwrap();
        }
        ex
    })
}

impl Rt for Smol {
    type Join = async_executor::Task<()>;
    fn detach(join: Self::Join) {
        join.detach();
    }
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, f: F) -> Self::Join {
        self.0.spawn(f)
    }
    fn spawn_inside<F: Future<Output = ()> + Send + 'static>(f: F) {
        smol_executor().spawn(f).detach();
    }
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        smol::future::block_on(f)
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        smol::future::yield_now()
    }
}

fn corio_rt() -> Corio {
    Corio(
        corio::Builder::new_multi_thread()
            .worker_threads(NUM_WORKERS)
            .build()
            .unwrap(),
    )
}

fn tokio_rt() -> Tokio {
    Tokio(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(NUM_WORKERS)
            .enable_all()
            .build()
            .unwrap(),
    )
}

fn smol_rt() -> Smol {
    Smol(smol_executor())
}

/// 10 000 spawns from inside a task (worker-local spawns).
fn spawn_many_local<R: Rt>(rt: &R, b: &mut criterion::Bencher<'_>) {
    let (tx, rx) = mpsc::sync_channel(1000);
    let rem = Arc::new(AtomicUsize::new(0));
    b.iter(|| {
        rem.store(NUM_SPAWN, Relaxed);
        let tx = tx.clone();
        let rem = rem.clone();
        R::detach(rt.spawn(async move {
            for _ in 0..NUM_SPAWN {
                let tx = tx.clone();
                let rem = rem.clone();
                R::spawn_inside(async move {
                    if 1 == rem.fetch_sub(1, Relaxed) {
                        tx.send(()).unwrap();
                    }
                });
            }
        }));
        rx.recv().unwrap();
    });
}

/// 10 000 spawns from outside onto an idle runtime, then await them all.
fn spawn_many_remote<R: Rt>(rt: &R, b: &mut criterion::Bencher<'_>) {
    let mut handles = Vec::with_capacity(NUM_SPAWN);
    b.iter(|| {
        for _ in 0..NUM_SPAWN {
            handles.push(rt.spawn(async {}));
        }
        rt.block_on(async {
            for handle in handles.drain(..) {
                let _ = handle.await;
            }
        });
    });
}

/// Keeps every worker busy with tasks that yield and stall, until `stop` is set.
fn make_busy<R: Rt>(rt: &R, stop: &Arc<std::sync::atomic::AtomicBool>) -> Vec<R::Join> {
    (0..2 * NUM_WORKERS)
        .map(|_| {
            let stop = stop.clone();
            rt.spawn(async move {
                while !stop.load(Relaxed) {
                    R::yield_now().await;
                    std::thread::sleep(STALL_DUR);
                }
            })
        })
        .collect()
}

/// 200 tasks × 1 000 yields.
fn yield_many<R: Rt>(rt: &R, b: &mut criterion::Bencher<'_>) {
    const NUM_YIELD: usize = 1_000;
    const TASKS: usize = 200;
    b.iter(|| {
        let (tx, rx) = mpsc::sync_channel(TASKS);
        for _ in 0..TASKS {
            let tx = tx.clone();
            R::detach(rt.spawn(async move {
                for _ in 0..NUM_YIELD {
                    R::yield_now().await;
                }
                tx.send(()).unwrap();
            }));
        }
        for _ in 0..TASKS {
            rx.recv().unwrap();
        }
    });
}

/// 1 000 pairs of tasks exchanging a ping and a pong over oneshots.
fn ping_pong<R: Rt>(rt: &R, b: &mut criterion::Bencher<'_>) {
    const NUM_PINGS: usize = 1_000;
    let (done_tx, done_rx) = mpsc::sync_channel(1000);
    let rem = Arc::new(AtomicUsize::new(0));
    b.iter(|| {
        let done_tx = done_tx.clone();
        let rem = rem.clone();
        rem.store(NUM_PINGS, Relaxed);
        R::detach(rt.spawn(async move {
            for _ in 0..NUM_PINGS {
                let rem = rem.clone();
                let done_tx = done_tx.clone();
                R::spawn_inside(async move {
                    let (tx1, rx1) = oneshot::channel::<()>();
                    let (tx2, rx2) = oneshot::channel::<()>();
                    R::spawn_inside(async move {
                        rx1.await.unwrap();
                        tx2.send(()).unwrap();
                    });
                    tx1.send(()).unwrap();
                    rx2.await.unwrap();
                    if 1 == rem.fetch_sub(1, Relaxed) {
                        done_tx.send(()).unwrap();
                    }
                });
            }
        }));
        done_rx.recv().unwrap();
    });
}

/// A chain of 1 000 tasks, each spawning the next.
fn chained_spawn<R: Rt>(rt: &R, b: &mut criterion::Bencher<'_>) {
    const ITER: usize = 1_000;
    fn iter<R: Rt>(done_tx: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done_tx.send(()).unwrap();
        } else {
            R::spawn_inside(async move { iter::<R>(done_tx, n - 1) });
        }
    }
    let (done_tx, done_rx) = mpsc::sync_channel(1000);
    b.iter(|| {
        let done_tx = done_tx.clone();
        R::detach(rt.spawn(async move { iter::<R>(done_tx, ITER) }));
        done_rx.recv().unwrap();
    });
}

fn bench_all(c: &mut Criterion) {
    let corio = corio_rt();
    let tokio = tokio_rt();
    let smol = smol_rt();

    macro_rules! group {
        ($name:literal, $f:ident) => {{
            let mut g = c.benchmark_group($name);
            g.bench_function("corio", |b| $f(&corio, b));
            g.bench_function("tokio", |b| $f(&tokio, b));
            g.bench_function("smol", |b| $f(&smol, b));
            g.finish();
        }};
    }

    group!("spawn_many_local", spawn_many_local);
    group!("spawn_many_remote_idle", spawn_many_remote);
    {
        let mut g = c.benchmark_group("spawn_many_remote_busy");
        macro_rules! busy {
            ($label:literal, $rt:expr, $ty:ty) => {{
                let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let busy = make_busy::<$ty>($rt, &stop);
                g.bench_function($label, |b| spawn_many_remote($rt, b));
                stop.store(true, Relaxed);
                $rt.block_on(async {
                    for h in busy {
                        let _ = h.await;
                    }
                });
            }};
        }
        busy!("corio", &corio, Corio);
        busy!("tokio", &tokio, Tokio);
        busy!("smol", &smol, Smol);
        g.finish();
    }
    group!("yield_many", yield_many);
    group!("ping_pong", ping_pong);
    group!("chained_spawn", chained_spawn);
}

criterion_group!(benches, bench_all);
criterion_main!(benches);
