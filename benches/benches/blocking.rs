//! Blocking pool: corio's `ThreadPool::run` vs tokio's `spawn_blocking` vs smol's
//! `blocking::unblock`. Every case submits all jobs at once and awaits them concurrently
//! with `futures::future::join_all`, the same shape on every runtime.
//!
//! * `trivial_10k`: 10 000 jobs that return a number, on a warm pool (pool / runtime
//!   built once, threads already started).
//! * `sleep10ms_500`: 500 jobs sleeping 10 ms each, on a warm pool.
//! * `trivial_10k_cold` and `sleep10ms_500_cold`: a fresh pool (corio) or runtime (tokio)
//!   per iteration, so thread start-up is measured. smol's blocking pool is a process-wide
//!   global that cannot be recreated, so its "cold" numbers are of that global pool (cold
//!   only when its threads have exited after their 500 ms keep-alive): compare smol with
//!   the warm cases.
//!
//! corio is driven by `futures::executor::block_on` (the pool is runtime-agnostic).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use futures::future::join_all;
use std::hint::black_box;
use std::time::{Duration, Instant};

const TRIVIAL: u64 = 10_000;
const SLEEPERS: u64 = 500;
const SLEEP: Duration = Duration::from_millis(10);

fn corio_jobs(pool: &corio::blocking::ThreadPool, n: u64, sleep: Option<Duration>) -> u64 {
    futures::executor::block_on(async {
        let jobs = (0..n).map(|i| {
            pool.run(move || {
                if let Some(d) = sleep {
                    std::thread::sleep(d);
                }
                i
            })
        });
        join_all(jobs).await.into_iter().sum()
    })
}

fn tokio_jobs(rt: &tokio::runtime::Runtime, n: u64, sleep: Option<Duration>) -> u64 {
    rt.block_on(async {
        let jobs = (0..n).map(|i| {
            tokio::task::spawn_blocking(move || {
                if let Some(d) = sleep {
                    std::thread::sleep(d);
                }
                i
            })
        });
        join_all(jobs).await.into_iter().map(Result::unwrap).sum()
    })
}

fn smol_jobs(n: u64, sleep: Option<Duration>) -> u64 {
    smol::block_on(async {
        let jobs = (0..n).map(|i| {
            blocking::unblock(move || {
                if let Some(d) = sleep {
                    std::thread::sleep(d);
                }
                i
            })
        });
        join_all(jobs).await.into_iter().sum()
    })
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn cold_corio(iters: u64, n: u64, sleep: Option<Duration>) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let pool = corio::blocking::ThreadPool::builder().build();
        let start = Instant::now();
        black_box(corio_jobs(&pool, n, sleep));
        total += start.elapsed();
        // Outside the timing: its idle threads exit as the last handle drops.
        drop(pool);
    }
    total
}

fn cold_tokio(iters: u64, n: u64, sleep: Option<Duration>) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let rt = tokio_rt();
        let start = Instant::now();
        black_box(tokio_jobs(&rt, n, sleep));
        total += start.elapsed();
        rt.shutdown_background();
    }
    total
}

fn cold_smol(iters: u64, n: u64, sleep: Option<Duration>) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(smol_jobs(n, sleep));
    }
    start.elapsed()
}

fn blocking(c: &mut Criterion) {
    let mut group = c.benchmark_group("blocking");
    group.sample_size(10);

    let pool = corio::blocking::ThreadPool::builder().build();
    group.bench_function(BenchmarkId::new("trivial_10k", "corio"), |b| {
        b.iter(|| black_box(corio_jobs(&pool, TRIVIAL, None)))
    });
    drop(pool);
    let rt = tokio_rt();
    group.bench_function(BenchmarkId::new("trivial_10k", "tokio"), |b| {
        b.iter(|| black_box(tokio_jobs(&rt, TRIVIAL, None)))
    });
    drop(rt);
    group.bench_function(BenchmarkId::new("trivial_10k", "smol"), |b| {
        b.iter(|| black_box(smol_jobs(TRIVIAL, None)))
    });

    let pool = corio::blocking::ThreadPool::builder().build();
    group.bench_function(BenchmarkId::new("sleep10ms_500", "corio"), |b| {
        b.iter(|| black_box(corio_jobs(&pool, SLEEPERS, Some(SLEEP))))
    });
    drop(pool);
    let rt = tokio_rt();
    group.bench_function(BenchmarkId::new("sleep10ms_500", "tokio"), |b| {
        b.iter(|| black_box(tokio_jobs(&rt, SLEEPERS, Some(SLEEP))))
    });
    rt.shutdown_background();
    group.bench_function(BenchmarkId::new("sleep10ms_500", "smol"), |b| {
        b.iter(|| black_box(smol_jobs(SLEEPERS, Some(SLEEP))))
    });

    group.bench_function(BenchmarkId::new("trivial_10k_cold", "corio"), |b| {
        b.iter_custom(|iters| cold_corio(iters, TRIVIAL, None))
    });
    group.bench_function(BenchmarkId::new("trivial_10k_cold", "tokio"), |b| {
        b.iter_custom(|iters| cold_tokio(iters, TRIVIAL, None))
    });
    group.bench_function(BenchmarkId::new("trivial_10k_cold", "smol"), |b| {
        b.iter_custom(|iters| cold_smol(iters, TRIVIAL, None))
    });

    group.bench_function(BenchmarkId::new("sleep10ms_500_cold", "corio"), |b| {
        b.iter_custom(|iters| cold_corio(iters, SLEEPERS, Some(SLEEP)))
    });
    group.bench_function(BenchmarkId::new("sleep10ms_500_cold", "tokio"), |b| {
        b.iter_custom(|iters| cold_tokio(iters, SLEEPERS, Some(SLEEP)))
    });
    group.bench_function(BenchmarkId::new("sleep10ms_500_cold", "smol"), |b| {
        b.iter_custom(|iters| cold_smol(iters, SLEEPERS, Some(SLEEP)))
    });
    group.finish();
}

criterion_group!(benches, blocking);
criterion_main!(benches);
