//! Runs one corio sync workload alone, on a current-thread or a 2-worker runtime, for
//! profilers whose counts repeat exactly (`valgrind --tool=callgrind`) or for `perf`:
//!
//! ```text
//! cargo build --release -p corio-benches --bin profile
//! valgrind --tool=callgrind target/release/profile queue_1to1 current 100000
//! target/release/profile semaphore_held_across_yield multi 100 5   # 5 runs in a row
//! target/release/profile queue_4to1 async-std 1000000 3 waits   # count the waits too
//! ```
//!
//! Workloads: `queue_1to1` / `queue_4to1` (items through a 1 024-slot queue; the count is
//! the total number of items), `semaphore_held_across_yield` (1 000 tasks × `count`
//! acquisitions of a 10-permit semaphore, each held across one yield). The same shapes
//! as the report's `sync` rows. `async_channel_1to1` / `async_channel_4to1` and
//! `async_lock_semaphore_held_across_yield` run the same shapes with async-channel's bounded
//! channel and async-lock's (not FIFO) `Semaphore` on corio, to separate the primitive from
//! the runtime; `async_std_channel_4to1` uses async-std's own channel (async-channel 1.x,
//! the report's async-std row), which waits far less than async-channel 2.
//!
//! Flavors: `current`, `multi` (corio) and `async-std` (its global executor with the same
//! number of threads; the two corio primitives' workloads, the async-channel ones and
//! `async_lock_semaphore_held_across_yield`), so that each primitive can be timed on each
//! runtime. Each run prints its time and CPU time; with `waits` after the repeat count it
//! also counts the operations whose future was not ready at its first poll (the counting
//! costs time of its own).

use std::sync::Arc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: profile <queue_1to1|queue_4to1|async_channel_1to1|async_channel_4to1|\
                 async_std_channel_4to1|semaphore_held_across_yield|\
                 async_lock_semaphore_held_across_yield> <current|multi|async-std> <count> \
                 [repeat] [waits]";
    let (Some(workload), Some(flavor), Some(count)) = (args.first(), args.get(1), args.get(2))
    else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("count is a number");
    if args.get(4).is_some_and(|a| a == "waits") {
        COUNTING.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    if flavor == "async-std" {
        return async_std_main(workload, count, &args);
    }
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
        let cpu = cpu_time();
        match workload.as_str() {
            "queue_1to1" => rt.block_on(queue(1, count)),
            "queue_4to1" => rt.block_on(queue(4, count)),
            "async_channel_1to1" => rt.block_on(async_channel_queue(1, count)),
            "async_channel_4to1" => rt.block_on(async_channel_queue(4, count)),
            "async_std_channel_4to1" => rt.block_on(async_std_channel_on_corio(4, count)),
            "semaphore_held_across_yield" => rt.block_on(semaphore(count)),
            "async_lock_semaphore_held_across_yield" => rt.block_on(async_lock_semaphore(count)),
            _ => panic!("{usage}"),
        }
        let metrics = rt.handle().metrics();
        let polls: u64 = metrics.per_worker.iter().map(|w| w.polls).sum();
        let steals: u64 = metrics.per_worker.iter().map(|w| w.steals).sum();
        let parks: u64 = metrics.per_worker.iter().map(|w| w.parks).sum();
        eprintln!(
            "{workload} on {flavor}: {:?}, CPU {:?} (so far: {polls} task polls, {steals} \
             steals, {parks} parks)",
            start.elapsed(),
            cpu_time() - cpu
        );
        if COUNTING.load(std::sync::atomic::Ordering::Relaxed) {
            let waited = WAITED.swap(0, std::sync::atomic::Ordering::Relaxed);
            eprintln!("  acquisitions / puts / sends that waited: {waited}");
        }
    }
}

/// Acquisitions, puts or sends whose future returned `Pending` at least once: how often the
/// primitive made a task wait, printed after each run.
static WAITED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether to count waits (`waits` after the repeat count): the counting wrapper costs
/// time of its own, so timed runs leave it out.
static COUNTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Awaits the future `$f`, through [`counted`] only when counting, so that timed runs
/// await it directly.
macro_rules! wait {
    ($f:expr) => {
        if COUNTING.load(std::sync::atomic::Ordering::Relaxed) {
            counted($f).await
        } else {
            $f.await
        }
    };
}

/// Awaits `f`, counting it in [`WAITED`] if it was not ready at its first poll.
async fn counted<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut first = true;
    std::future::poll_fn(|cx| {
        let r = f.as_mut().poll(cx);
        if first && r.is_pending() {
            WAITED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        first = false;
        r
    })
    .await
}

/// The process's user + system CPU time so far.
fn cpu_time() -> std::time::Duration {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `getrusage` writes a `rusage` into the buffer it is given, which is valid
    // and large enough for one.
    let ru = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr());
        ru.assume_init()
    };
    let tv = |t: libc::timeval| {
        std::time::Duration::from_secs(t.tv_sec as u64)
            + std::time::Duration::from_micros(t.tv_usec as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// The peer primitives' workloads on async-std's global executor ([`corio_benches::WORKERS`]
/// threads), to compare with the same primitives on corio.
fn async_std_main(workload: &str, count: usize, args: &[String]) {
    corio_benches::runtimes::async_std();
    let repeat: usize = args
        .get(3)
        .map_or(1, |r| r.parse().expect("repeat is a number"));
    for _ in 0..repeat {
        let start = std::time::Instant::now();
        let cpu = cpu_time();
        async_std::task::block_on(async {
            match workload {
                "async_channel_1to1" => async_std_channel(1, count).await,
                "async_channel_4to1" => async_std_channel(4, count).await,
                "async_std_channel_4to1" => async_std_own_channel(4, count).await,
                "async_lock_semaphore_held_across_yield" => async_std_semaphore(count).await,
                "semaphore_held_across_yield" => corio_semaphore_on_async_std(count).await,
                "queue_4to1" => corio_queue_on_async_std(4, count).await,
                _ => panic!(
                    "on async-std: queue_4to1, async_channel_1to1, async_channel_4to1, \
                     async_std_channel_4to1, semaphore_held_across_yield or \
                     async_lock_semaphore_held_across_yield"
                ),
            }
        });
        eprintln!(
            "{workload} on async-std: {:?}, CPU {:?}",
            start.elapsed(),
            cpu_time() - cpu
        );
        if COUNTING.load(std::sync::atomic::Ordering::Relaxed) {
            let waited = WAITED.swap(0, std::sync::atomic::Ordering::Relaxed);
            eprintln!("  acquisitions / puts / sends that waited: {waited}");
        }
    }
}

async fn async_std_channel(producers: usize, items: usize) {
    let per = items / producers;
    let (tx, rx) = async_channel::bounded(1024);
    let consumer = async_std::task::spawn(async move {
        let mut sum = 0u64;
        for _ in 0..per * producers {
            sum += rx.recv().await.unwrap() as u64;
        }
        sum
    });
    let putters: Vec<_> = (0..producers)
        .map(|_| {
            let tx = tx.clone();
            async_std::task::spawn(async move {
                for i in 0..per {
                    wait!(tx.send(i)).unwrap();
                }
            })
        })
        .collect();
    for p in putters {
        p.await;
    }
    std::hint::black_box(consumer.await);
}

async fn async_std_own_channel(producers: usize, items: usize) {
    let per = items / producers;
    let (tx, rx) = async_std::channel::bounded(1024);
    let consumer = async_std::task::spawn(async move {
        let mut sum = 0u64;
        for _ in 0..per * producers {
            sum += rx.recv().await.unwrap() as u64;
        }
        sum
    });
    let putters: Vec<_> = (0..producers)
        .map(|_| {
            let tx = tx.clone();
            async_std::task::spawn(async move {
                for i in 0..per {
                    wait!(tx.send(i)).unwrap();
                }
            })
        })
        .collect();
    for p in putters {
        p.await;
    }
    std::hint::black_box(consumer.await);
}

async fn corio_semaphore_on_async_std(acquisitions: usize) {
    let s = Arc::new(corio::sync::Semaphore::new(10));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let s = s.clone();
            async_std::task::spawn(async move {
                for _ in 0..acquisitions {
                    let _p = wait!(s.acquire());
                    async_std::task::yield_now().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await;
    }
}

async fn corio_queue_on_async_std(producers: usize, items: usize) {
    let per = items / producers;
    let q = corio::sync::Queue::new(1024);
    let consumer = {
        let q = q.clone();
        async_std::task::spawn(async move {
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
            async_std::task::spawn(async move {
                for i in 0..per {
                    wait!(q.put(i)).unwrap();
                }
            })
        })
        .collect();
    for p in putters {
        p.await;
    }
    std::hint::black_box(consumer.await);
}

async fn async_std_semaphore(acquisitions: usize) {
    let s = Arc::new(async_lock::Semaphore::new(10));
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let s = s.clone();
            async_std::task::spawn(async move {
                for _ in 0..acquisitions {
                    let _p = wait!(s.acquire());
                    async_std::task::yield_now().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await;
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
                    wait!(q.put(i)).unwrap();
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
                    wait!(tx.send(i)).unwrap();
                }
            })
        })
        .collect();
    for p in putters {
        p.await.unwrap();
    }
    std::hint::black_box(consumer.await.unwrap());
}

async fn async_std_channel_on_corio(producers: usize, items: usize) {
    let per = items / producers;
    let (tx, rx) = async_std::channel::bounded(1024);
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
                    wait!(tx.send(i)).unwrap();
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
                    let _p = wait!(s.acquire());
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
                    let _p = wait!(s.acquire());
                    corio::yield_now().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}
