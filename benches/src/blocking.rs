//! Blocking pool: corio's `to_thread` vs tokio's `spawn_blocking` vs smol's
//! `blocking::unblock` vs async-std's `task::spawn_blocking` (the same `blocking` crate's
//! global pool underneath). Every case submits all jobs at once and awaits them concurrently
//! with `futures::future::join_all` from `block_on`, the same shape on every runtime.
//!
//! * `to_thread_10k`: 10 000 jobs that return a number, on a warm pool: each measurement
//!   first runs the batch once untimed, so the pool's threads are already started.
//! * `to_thread_500x10ms`: 500 jobs sleeping 10 ms each, on a warm pool (elasticity).
//! * `*_cold`: **deliberately cold** — a fresh runtime per iteration (built and shut down
//!   outside the timing), so starting the pool's threads is measured. smol's blocking pool
//!   is a process-wide global that cannot be recreated, so its "cold" numbers are of that
//!   global pool (warm, unless its threads exited after their 500 ms keep-alive): compare
//!   smol with the warm rows, and read corio/tokio as the cold comparison. The same holds
//!   for async-std, whose `spawn_blocking` uses that global pool too.

use std::hint::black_box;
use std::time::{Duration, Instant};

use futures::future::join_all;

use crate::{runtimes, time_iters, Workload};

const TRIVIAL: u64 = 10_000;
const SLEEPERS: u64 = 500;
const SLEEP: Duration = Duration::from_millis(10);

fn job(i: u64, sleep: Option<Duration>) -> u64 {
    if let Some(d) = sleep {
        std::thread::sleep(d);
    }
    i
}

fn corio_jobs(rt: &corio::Runtime, n: u64, sleep: Option<Duration>) -> u64 {
    rt.block_on(async {
        let jobs = (0..n).map(|i| corio::to_thread(move || job(i, sleep)));
        join_all(jobs).await.into_iter().sum()
    })
}

fn tokio_jobs(rt: &tokio::runtime::Runtime, n: u64, sleep: Option<Duration>) -> u64 {
    rt.block_on(async {
        let jobs = (0..n).map(|i| tokio::task::spawn_blocking(move || job(i, sleep)));
        join_all(jobs).await.into_iter().map(Result::unwrap).sum()
    })
}

fn smol_jobs(n: u64, sleep: Option<Duration>) -> u64 {
    smol::block_on(async {
        let jobs = (0..n).map(|i| blocking::unblock(move || job(i, sleep)));
        join_all(jobs).await.into_iter().sum()
    })
}

fn async_std_jobs(n: u64, sleep: Option<Duration>) -> u64 {
    runtimes::async_std();
    async_std::task::block_on(async {
        let jobs = (0..n).map(|i| async_std::task::spawn_blocking(move || job(i, sleep)));
        join_all(jobs).await.into_iter().sum()
    })
}

/// Runs `f` once untimed (to start the pool's threads), then times `iters` runs.
fn warm(iters: u64, mut f: impl FnMut() -> u64) -> Duration {
    black_box(f());
    time_iters(iters, || {
        black_box(f());
    })
}

fn cold_corio(iters: u64, n: u64, sleep: Option<Duration>) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let rt = runtimes::new_corio();
        let start = Instant::now();
        black_box(corio_jobs(&rt, n, sleep));
        total += start.elapsed();
        drop(rt);
    }
    total
}

fn cold_tokio(iters: u64, n: u64, sleep: Option<Duration>) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let rt = runtimes::new_tokio();
        let start = Instant::now();
        black_box(tokio_jobs(&rt, n, sleep));
        total += start.elapsed();
        rt.shutdown_background();
    }
    total
}

fn smol_global(iters: u64, n: u64, sleep: Option<Duration>) -> Duration {
    time_iters(iters, || {
        black_box(smol_jobs(n, sleep));
    })
}

fn async_std_global(iters: u64, n: u64, sleep: Option<Duration>) -> Duration {
    time_iters(iters, || {
        black_box(async_std_jobs(n, sleep));
    })
}

fn warm_workload(name: &'static str, n: u64, sleep: Option<Duration>) -> Workload {
    Workload::new("blocking", name)
        .variant("corio", move |iters| {
            let rt = runtimes::corio();
            warm(iters, || corio_jobs(rt, n, sleep))
        })
        .variant("tokio", move |iters| {
            let rt = runtimes::tokio();
            warm(iters, || tokio_jobs(rt, n, sleep))
        })
        .variant("smol", move |iters| warm(iters, || smol_jobs(n, sleep)))
        .variant("async-std", move |iters| {
            warm(iters, || async_std_jobs(n, sleep))
        })
}

fn cold_workload(name: &'static str, n: u64, sleep: Option<Duration>) -> Workload {
    Workload::new("blocking", name)
        .variant("corio", move |iters| cold_corio(iters, n, sleep))
        .variant("tokio", move |iters| cold_tokio(iters, n, sleep))
        // Not cold: smol's pool is global (see the module docs).
        .variant("smol", move |iters| smol_global(iters, n, sleep))
        // Not cold either: the same global pool.
        .variant("async-std", move |iters| async_std_global(iters, n, sleep))
}

/// The blocking-pool workloads.
pub fn workloads() -> Vec<Workload> {
    vec![
        warm_workload("to_thread_10k", TRIVIAL, None),
        warm_workload("to_thread_500x10ms", SLEEPERS, Some(SLEEP)),
        cold_workload("to_thread_10k_cold", TRIVIAL, None),
        cold_workload("to_thread_500x10ms_cold", SLEEPERS, Some(SLEEP)),
    ]
}
