//! Blocking pool: corio's `to_thread` vs tokio's `spawn_blocking` vs smol's
//! `blocking::unblock` vs async-std's `task::spawn_blocking` (the same `blocking` crate's
//! global pool underneath). Every case submits all jobs at once and awaits them concurrently
//! with `futures::future::join_all` from `block_on`, the same shape on every runtime.
//!
//! * `to_thread_10k`: 10 000 jobs that return a number, on a warm pool: each measurement
//!   first runs the batch once untimed, so the pool's threads are already started.
//! * `to_thread_500x10ms`: 500 jobs sleeping 10 ms each, on a warm pool (elasticity).
//! * `*_cold`: **deliberately cold** — a fresh runtime per iteration (built and shut down
//!   outside the timing), so starting the pool's threads is measured. smol's and
//!   async-std's blocking pool is a process-wide global (the `blocking` crate's) that
//!   cannot be recreated, so each of their cold iterations runs in a fresh child process
//!   (the same executable, see [`cold_child_main`]): the child starts its executor
//!   outside the timing and reports the time of its first batch, so the pool's threads are
//!   started inside it, as for corio and tokio. Process start-up is not timed.

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

/// Set in a child process started by [`cold_in_child`]: `"<runtime> <jobs> <sleep µs>"`.
const COLD_CHILD_ENV: &str = "CORIO_BENCH_COLD_CHILD";

/// Times `iters` first batches of `n` jobs on `runtime`'s global blocking pool, each in a
/// fresh child process (this executable, which must call [`cold_child_main`] first).
fn cold_in_child(runtime: &str, iters: u64, n: u64, sleep: Option<Duration>) -> Duration {
    assert!(
        std::env::var_os(COLD_CHILD_ENV).is_none(),
        "a cold-start child ran a workload: its main must call cold_child_main() first"
    );
    let exe = std::env::current_exe().expect("the benchmark's own executable");
    let spec = format!("{runtime} {n} {}", sleep.map_or(0, |d| d.as_micros()));
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let out = std::process::Command::new(&exe)
            .env(COLD_CHILD_ENV, &spec)
            .stderr(std::process::Stdio::inherit())
            .output()
            .expect("start a cold-start child");
        let text = String::from_utf8_lossy(&out.stdout);
        let nanos: u64 = text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("cold-start child ({:?}) printed {text:?}", out.status));
        total += Duration::from_nanos(nanos);
    }
    total
}

/// If this process is a cold-start child (started by a `*_cold` row for smol or
/// async-std, whose blocking pool is a process-wide global): starts the runtime's
/// executor, times one batch of jobs on its still-cold pool, prints the nanoseconds and
/// exits. Otherwise returns at once. Every executable that runs the `blocking` workloads
/// calls it first thing in `main`.
pub fn cold_child_main() {
    let Ok(spec) = std::env::var(COLD_CHILD_ENV) else {
        return;
    };
    let mut words = spec.split(' ');
    let (Some(runtime), Some(n), Some(sleep_us)) = (words.next(), words.next(), words.next())
    else {
        panic!("bad {COLD_CHILD_ENV}: {spec:?}");
    };
    let n: u64 = n.parse().expect("job count");
    let sleep_us: u64 = sleep_us.parse().expect("sleep in µs");
    let sleep = (sleep_us > 0).then(|| Duration::from_micros(sleep_us));
    let took = match runtime {
        "smol" => {
            // smol's executor has no global state to start; `block_on` is the same call.
            smol::block_on(async {});
            let start = Instant::now();
            black_box(smol_jobs(n, sleep));
            start.elapsed()
        }
        "async-std" => {
            runtimes::async_std();
            let start = Instant::now();
            black_box(async_std_jobs(n, sleep));
            start.elapsed()
        }
        other => panic!("no global blocking pool for {other}"),
    };
    println!("{}", took.as_nanos());
    std::process::exit(0);
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
        // Their pool is a process-wide global: cold only in a fresh process.
        .variant("smol", move |iters| cold_in_child("smol", iters, n, sleep))
        .variant("async-std", move |iters| {
            cold_in_child("async-std", iters, n, sleep)
        })
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
