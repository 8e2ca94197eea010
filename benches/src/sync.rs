//! Synchronisation primitives under contention: corio-sync, tokio's `sync`, smol's
//! (`async-lock`, `async-channel` 2) and async-std's (`async_std::sync::Mutex` = async-lock's,
//! async-lock's `Semaphore`, `async_std::channel` = async-channel 1), each on its own runtime.
//!
//! Until corio's runtime existed every variant ran on one tokio runtime so that only the
//! primitive differed. The report now runs each stack on its own runtime — corio's
//! primitives on corio, tokio's on tokio, async-lock/async-channel on smol's executor,
//! each with [`WORKERS`](crate::WORKERS) workers — because that is what a user of each
//! stack gets, and the primitives' wake-ups go through their runtime's scheduler. The
//! scheduler's share can be read off the `runtime` rows.
//! Queue workloads come in two sizes: 100 000 items per iteration and 1 000 000 (the size
//! other runtimes' channel benchmarks use). The semaphore comes in two shapes: a permit
//! dropped right away, and a permit held across one yield (so waiters really queue up).
//! async-std has no Event/Notify equivalent (`–`).

use std::sync::Arc;
use std::time::Duration;

use crate::runtimes::{spawn_all, AsyncStd, Corio, Rt, Smol, Tokio};
use crate::{time_iters, Workload};

const MUTEX_TASKS: usize = 100;
const MUTEX_INCS: usize = 1_000;
const SEM_TASKS: usize = 1_000;
const SEM_ACQS: usize = 100;
const SEM_PERMITS: usize = 10;
const ITEMS: usize = 100_000;
const ITEMS_1M: usize = 1_000_000;
const CAPACITY: usize = 1_024;
const PING_PONGS: usize = 10_000;

/// 100 tasks × 1 000 increments of one counter behind an async mutex.
macro_rules! mutex {
    ($rt:ty, $new:path) => {
        |iters| {
            let rt = <$rt>::get();
            time_iters(iters, || {
                rt.block_on(async {
                    let m = Arc::new($new(0u64));
                    spawn_all::<$rt, _, _>(MUTEX_TASKS, |_| {
                        let m = m.clone();
                        async move {
                            for _ in 0..MUTEX_INCS {
                                *m.lock().await += 1;
                            }
                        }
                    })
                    .await;
                    assert_eq!(*m.lock().await, (MUTEX_TASKS * MUTEX_INCS) as u64);
                })
            })
        }
    };
}

/// 1 000 tasks × 100 acquisitions of a 10-permit semaphore; with `held_across_yield`
/// each task yields once while it holds its permit.
macro_rules! semaphore {
    ($rt:ty, $held_across_yield:expr, $new:path $(, $unwrap:ident)?) => {
        move |iters| {
            let rt = <$rt>::get();
            time_iters(iters, || {
                rt.block_on(async {
                    let s = Arc::new($new(SEM_PERMITS));
                    spawn_all::<$rt, _, _>(SEM_TASKS, |_| {
                        let s = s.clone();
                        async move {
                            for _ in 0..SEM_ACQS {
                                let _p = s.acquire().await$(.$unwrap())?;
                                if $held_across_yield {
                                    <$rt>::yield_now().await;
                                }
                                std::hint::black_box(());
                            }
                        }
                    })
                    .await;
                })
            })
        }
    };
}

/// The sync workloads.
pub fn workloads() -> Vec<Workload> {
    vec![
        Workload::new("sync", "mutex_100x1000")
            .variant("corio", mutex!(Corio, corio::sync::Mutex::new))
            .variant("tokio", mutex!(Tokio, tokio::sync::Mutex::new))
            .variant("smol", mutex!(Smol, async_lock::Mutex::new))
            .variant("async-std", mutex!(AsyncStd, async_std::sync::Mutex::new)),
        semaphore("semaphore_1000x100_of_10", false),
        semaphore("semaphore_1000x100_of_10_held_across_yield", true),
        queue("queue_1to1_100k_cap1024", 1, ITEMS),
        queue("queue_4to1_100k_cap1024", 4, ITEMS),
        queue("queue_1to1_1M_cap1024", 1, ITEMS_1M),
        queue("queue_4to1_1M_cap1024", 4, ITEMS_1M),
        Workload::new("sync", "event_pingpong_10k")
            .variant("corio", |iters| event_corio(Corio::get(), iters))
            .variant("tokio", |iters| notify_tokio(Tokio::get(), iters)),
    ]
}

/// The semaphore workload on every runtime (async-std's is async-lock's, on its executor).
fn semaphore(name: &'static str, held_across_yield: bool) -> Workload {
    Workload::new("sync", name)
        .variant(
            "corio",
            semaphore!(Corio, held_across_yield, corio::sync::Semaphore::new),
        )
        .variant(
            "tokio",
            semaphore!(
                Tokio,
                held_across_yield,
                tokio::sync::Semaphore::new,
                unwrap
            ),
        )
        .variant(
            "smol",
            semaphore!(Smol, held_across_yield, async_lock::Semaphore::new),
        )
        .variant(
            "async-std",
            semaphore!(AsyncStd, held_across_yield, async_lock::Semaphore::new),
        )
}

/// `producers` tasks put `items` items in total into a 1 024-slot queue; one task gets
/// them all.
fn queue(name: &'static str, producers: usize, items: usize) -> Workload {
    let per = items / producers;
    Workload::new("sync", name)
        .variant("corio", move |iters| {
            let rt = Corio::get();
            time_iters(iters, || {
                rt.block_on(async {
                    let q = corio::sync::Queue::new(CAPACITY);
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
                    spawn_all::<Corio, _, _>(producers, |_| {
                        let q = q.clone();
                        async move {
                            for i in 0..per {
                                q.put(i).await.unwrap();
                            }
                        }
                    })
                    .await;
                    std::hint::black_box(consumer.await.unwrap());
                })
            })
        })
        .variant("tokio", move |iters| {
            let rt = Tokio::get();
            time_iters(iters, || {
                rt.block_on(async {
                    let (tx, mut rx) = tokio::sync::mpsc::channel(CAPACITY);
                    let consumer = tokio::spawn(async move {
                        let mut sum = 0u64;
                        for _ in 0..per * producers {
                            sum += rx.recv().await.unwrap() as u64;
                        }
                        sum
                    });
                    spawn_all::<Tokio, _, _>(producers, |_| {
                        let tx = tx.clone();
                        async move {
                            for i in 0..per {
                                tx.send(i).await.unwrap();
                            }
                        }
                    })
                    .await;
                    std::hint::black_box(consumer.await.unwrap());
                })
            })
        })
        .variant("smol", move |iters| {
            let rt = Smol::get();
            time_iters(iters, || {
                rt.block_on(async {
                    let (tx, rx) = async_channel::bounded(CAPACITY);
                    let consumer = crate::runtimes::smol().spawn(async move {
                        let mut sum = 0u64;
                        for _ in 0..per * producers {
                            sum += rx.recv().await.unwrap() as u64;
                        }
                        sum
                    });
                    spawn_all::<Smol, _, _>(producers, |_| {
                        let tx = tx.clone();
                        async move {
                            for i in 0..per {
                                tx.send(i).await.unwrap();
                            }
                        }
                    })
                    .await;
                    std::hint::black_box(consumer.await);
                })
            })
        })
        .variant("async-std", move |iters| {
            let rt = AsyncStd::get();
            time_iters(iters, || {
                rt.block_on(async {
                    let (tx, rx) = async_std::channel::bounded(CAPACITY);
                    let consumer = async_std::task::spawn(async move {
                        let mut sum = 0u64;
                        for _ in 0..per * producers {
                            sum += rx.recv().await.unwrap() as u64;
                        }
                        sum
                    });
                    spawn_all::<AsyncStd, _, _>(producers, |_| {
                        let tx = tx.clone();
                        async move {
                            for i in 0..per {
                                tx.send(i).await.unwrap();
                            }
                        }
                    })
                    .await;
                    std::hint::black_box(consumer.await);
                })
            })
        })
}

/// Two tasks hand control back and forth 10 000 times through a pair of corio Events.
fn event_corio(rt: &Corio, iters: u64) -> Duration {
    time_iters(iters, || {
        rt.block_on(async {
            let e = Arc::new((corio::sync::Event::new(), corio::sync::Event::new()));
            e.0.set();
            spawn_all::<Corio, _, _>(2, |side| {
                let e = e.clone();
                async move {
                    let (mine, theirs) = if side == 0 {
                        (&e.0, &e.1)
                    } else {
                        (&e.1, &e.0)
                    };
                    for _ in 0..PING_PONGS {
                        mine.wait().await;
                        mine.clear();
                        theirs.set();
                    }
                }
            })
            .await;
        })
    })
}

/// The same hand-off through a pair of tokio Notifys.
fn notify_tokio(rt: &Tokio, iters: u64) -> Duration {
    time_iters(iters, || {
        rt.block_on(async {
            let n = Arc::new((tokio::sync::Notify::new(), tokio::sync::Notify::new()));
            n.0.notify_one();
            spawn_all::<Tokio, _, _>(2, |side| {
                let n = n.clone();
                async move {
                    let (mine, theirs) = if side == 0 {
                        (&n.0, &n.1)
                    } else {
                        (&n.1, &n.0)
                    };
                    for _ in 0..PING_PONGS {
                        mine.notified().await;
                        theirs.notify_one();
                    }
                }
            })
            .await;
        })
    })
}
