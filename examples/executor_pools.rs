//! Blocking I/O and CPU-bound jobs next to async code (asyncio's `run_in_executor` with a
//! `ThreadPoolExecutor` and a `ProcessPoolExecutor`).
//!
//! Seed: 002 test9: four 1 s I/O jobs and three CPU-bound jobs all run at once: ≈1 s.
//!
//! Why no process pool: Python needs processes for CPU work because the GIL lets only one
//! thread run Python code at a time. Rust threads run truly in parallel, so CPU-bound work
//! goes to a thread pool sized to the cores — no pickling, no process start-up.
#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use corio::blocking::ThreadPool;

fn wait_io(id: u32) -> String {
    // Simulated I/O: a blocking sleep.
    std::thread::sleep(Duration::from_secs(1));
    format!("threading({id}): done at {}", common::datetime())
}

fn more_cpu(id: u32) -> String {
    // sum(i * i for i in range(10 ** 7)), in wrapping u64 arithmetic.
    let sum = (0..10_u64.pow(7)).fold(0u64, |acc, i| acc.wrapping_add(black_box(i * i)));
    black_box(sum);
    format!("cpu({id}): done at {}", common::datetime())
}

#[corio::main]
async fn main() {
    let workers = 3;
    let start = Instant::now();
    let thread_pool = ThreadPool::builder().max_threads(workers + 1).build();
    let cpu_pool = ThreadPool::builder()
        .max_threads(num_cpus())
        .thread_name("cpu")
        .build();

    // Like the seed's `ret`, an extra job that runs but whose result is not printed.
    let ret = corio::spawn(thread_pool.run(move || wait_io(0)));
    let mut futures = Vec::new();
    for i in 0..workers as u32 {
        futures.push(corio::spawn(thread_pool.run(move || wait_io(i))));
    }
    for i in 0..workers as u32 {
        futures.push(corio::spawn(cpu_pool.run(move || more_cpu(i))));
    }
    let lines: Vec<String> = corio::gather(futures)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    println!("{}", lines.join("\n"));
    let _ = ret.await;
    println!("耗时: {:.2}s", start.elapsed().as_secs_f64());
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
