//! Runs one corio sync workload alone, on a current-thread or a 2-worker runtime, for
//! profilers whose counts repeat exactly (`valgrind --tool=callgrind`) or for `perf`:
//!
//! ```text
//! cargo build --release -p corio-benches --bin profile
//! valgrind --tool=callgrind target/release/profile queue_1to1 current 100000
//! target/release/profile semaphore_held_across_yield multi 100 5   # 5 runs in a row
//! ```
//!
//! Workloads: `queue_1to1` / `queue_4to1` (items through a 1 024-slot queue; the count is
//! the total number of items), `semaphore_held_across_yield` (1 000 tasks × `count`
//! acquisitions of a 10-permit semaphore, each held across one yield). The same shapes
//! as the report's `sync` rows. `async_channel_1to1` / `async_channel_4to1` and
//! `async_lock_semaphore_held_across_yield` run the same shapes with async-channel's bounded
//! channel and async-lock's (not FIFO) `Semaphore` on corio, to separate the primitive from
//! the runtime.

use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: profile <queue_1to1|queue_4to1|async_channel_1to1|async_channel_4to1|\
                 semaphore_held_across_yield|async_lock_semaphore_held_across_yield> \
                 <current|multi> <count> [repeat]";
    let (Some(workload), Some(flavor), Some(count)) = (args.first(), args.get(1), args.get(2))
    else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("count is a number");
    let rt = match flavor.as_str() {
        "current" => corio::Builder::new_current_thread().build(),
        "multi" => corio::Builder::new_multi_thread()
            .worker_threads(corio_benches::WORKERS)
            .build(),
        _ => panic!("{usage}"),
    }
    .expect("runtime");
    let repeat: usize = args
        .get(3)
        .map_or(1, |r| r.parse().expect("repeat is a number"));
    for _ in 0..repeat {
        let start = std::time::Instant::now();
        match workload.as_str() {
            "queue_1to1" => rt.block_on(queue(1, count)),
            "queue_4to1" => rt.block_on(queue(4, count)),
            "async_channel_1to1" => rt.block_on(async_channel_queue(1, count)),
            "async_channel_4to1" => rt.block_on(async_channel_queue(4, count)),
            "semaphore_held_across_yield" => rt.block_on(semaphore(count)),
            "async_lock_semaphore_held_across_yield" => rt.block_on(async_lock_semaphore(count)),
            _ => panic!("{usage}"),
        }
        let metrics = rt.handle().metrics();
        let polls: u64 = metrics.per_worker.iter().map(|w| w.polls).sum();
        let steals: u64 = metrics.per_worker.iter().map(|w| w.steals).sum();
        let parks: u64 = metrics.per_worker.iter().map(|w| w.parks).sum();
        eprintln!(
            "{workload} on {flavor}: {:?} (so far: {polls} task polls, {steals} steals, \
             {parks} parks)",
            start.elapsed()
        );
    }
}

async fn queue(producers: usize, items: usize) {
    let per = items / producers;
    let q = corio::sync::Queue::new(1024);
    let consumer = {
        let q = q.clone();
        corio::spawn(async move {
            let mut sum = 0u64;
            for _ in 0..per * producers {
                sum += q.get().await.unwrap() as u64;
            }
            sum
        })
    };
    let putters: Vec<_> = (0..producers)
        .map(|_| {
            let q = q.clone();
            corio::spawn(async move {
                for i in 0..per {
                    q.put(i).await.unwrap();
                }
            })
        })
        .collect();
    for p in putters {
        p.await.unwrap();
    }
    std::hint::black_box(consumer.await.unwrap());
}

async fn async_channel_queue(producers: usize, items: usize) {
    let per = items / producers;
    let (tx, rx) = async_channel::bounded(1024);
    let consumer = corio::spawn(async move {
        let mut sum = 0u64;
        for _ in 0..per * producers {
            sum += rx.recv().await.unwrap() as u64;
        }
        sum
    });
    let putters: Vec<_> = (0..producers)
        .map(|_| {
            let tx = tx.clone();
            corio::spawn(async move {
                for i in 0..per {
                    tx.send(i).await.unwrap();
                }
            })
        })
        .collect();
    for p in putters {
        p.await.unwrap();
    }
    std::hint::black_box(consumer.await.unwrap());
}

async fn semaphore(acquisitions: usize) {
    let s = Arc::new(corio::sync::Semaphore::new(10));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let s = s.clone();
            corio::spawn(async move {
                for _ in 0..acquisitions {
                    let _p = s.acquire().await;
                    corio::yield_now().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

async fn async_lock_semaphore(acquisitions: usize) {
    let s = Arc::new(async_lock::Semaphore::new(10));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let s = s.clone();
            corio::spawn(async move {
                for _ in 0..acquisitions {
                    let _p = s.acquire().await;
                    corio::yield_now().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}
