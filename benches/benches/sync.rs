//! corio-sync against tokio's and async-lock/async-channel's primitives.
//!
//! corio's runtime is not in this comparison: every variant runs on the same tokio
//! multi-thread runtime (2 workers), so only the primitive differs.
//! Queue workloads move 100 000 items (not 1 M) per iteration to keep bench time short.

use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::Arc;
use tokio::runtime::Runtime;

const MUTEX_TASKS: usize = 100;
const MUTEX_INCS: usize = 1_000;
const SEM_TASKS: usize = 1_000;
const SEM_ACQS: usize = 100;
const SEM_PERMITS: usize = 10;
const ITEMS: usize = 100_000;
const CAPACITY: usize = 1_024;
const PING_PONGS: usize = 10_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Spawns `n` copies of `task(i)` and waits for all.
async fn spawn_all<F, Fut>(n: usize, task: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(task(i))).collect();
    for h in handles {
        h.await.unwrap();
    }
}

fn mutex(c: &mut Criterion, rt: &Runtime) {
    let mut g = c.benchmark_group("sync/mutex_100x1000");
    g.sample_size(10);
    g.bench_function("corio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let m = Arc::new(corio::sync::Mutex::new(0u64));
                spawn_all(MUTEX_TASKS, |_| {
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
    });
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let m = Arc::new(tokio::sync::Mutex::new(0u64));
                spawn_all(MUTEX_TASKS, |_| {
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
    });
    g.bench_function("async-lock", |b| {
        b.iter(|| {
            rt.block_on(async {
                let m = Arc::new(async_lock::Mutex::new(0u64));
                spawn_all(MUTEX_TASKS, |_| {
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
    });
    g.finish();
}

fn semaphore(c: &mut Criterion, rt: &Runtime) {
    let mut g = c.benchmark_group("sync/semaphore_1000x100_of_10");
    g.sample_size(10);
    g.bench_function("corio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let s = Arc::new(corio::sync::Semaphore::new(SEM_PERMITS));
                spawn_all(SEM_TASKS, |_| {
                    let s = s.clone();
                    async move {
                        for _ in 0..SEM_ACQS {
                            let _p = s.acquire().await;
                            std::hint::black_box(());
                        }
                    }
                })
                .await;
            })
        })
    });
    g.bench_function("tokio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let s = Arc::new(tokio::sync::Semaphore::new(SEM_PERMITS));
                spawn_all(SEM_TASKS, |_| {
                    let s = s.clone();
                    async move {
                        for _ in 0..SEM_ACQS {
                            let _p = s.acquire().await.unwrap();
                            std::hint::black_box(());
                        }
                    }
                })
                .await;
            })
        })
    });
    g.bench_function("async-lock", |b| {
        b.iter(|| {
            rt.block_on(async {
                let s = Arc::new(async_lock::Semaphore::new(SEM_PERMITS));
                spawn_all(SEM_TASKS, |_| {
                    let s = s.clone();
                    async move {
                        for _ in 0..SEM_ACQS {
                            let _p = s.acquire().await;
                            std::hint::black_box(());
                        }
                    }
                })
                .await;
            })
        })
    });
    g.finish();
}

fn queue(c: &mut Criterion, rt: &Runtime, producers: usize) {
    let per = ITEMS / producers;
    let mut g = c.benchmark_group(format!("sync/queue_{producers}to1_100k_cap1024"));
    g.sample_size(10);
    g.bench_function("corio", |b| {
        b.iter(|| {
            rt.block_on(async {
                let q = corio::sync::Queue::new(CAPACITY);
                let consumer = {
                    let q = q.clone();
                    tokio::spawn(async move {
                        let mut sum = 0u64;
                        for _ in 0..per * producers {
                            sum += q.get().await.unwrap() as u64;
                        }
                        sum
                    })
                };
                spawn_all(producers, |_| {
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
    });
    g.bench_function("tokio-mpsc", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, mut rx) = tokio::sync::mpsc::channel(CAPACITY);
                let consumer = tokio::spawn(async move {
                    let mut sum = 0u64;
                    for _ in 0..per * producers {
                        sum += rx.recv().await.unwrap() as u64;
                    }
                    sum
                });
                spawn_all(producers, |_| {
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
    });
    g.bench_function("async-channel", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, rx) = async_channel::bounded(CAPACITY);
                let consumer = tokio::spawn(async move {
                    let mut sum = 0u64;
                    for _ in 0..per * producers {
                        sum += rx.recv().await.unwrap() as u64;
                    }
                    sum
                });
                spawn_all(producers, |_| {
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
    });
    g.finish();
}

/// Two tasks hand control back and forth 10 000 times through a pair of signals.
fn event(c: &mut Criterion, rt: &Runtime) {
    let mut g = c.benchmark_group("sync/event_pingpong_10k");
    g.sample_size(10);
    g.bench_function("corio-Event", |b| {
        b.iter(|| {
            rt.block_on(async {
                let e = Arc::new((corio::sync::Event::new(), corio::sync::Event::new()));
                e.0.set();
                spawn_all(2, |side| {
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
    });
    g.bench_function("tokio-Notify", |b| {
        b.iter(|| {
            rt.block_on(async {
                let n = Arc::new((tokio::sync::Notify::new(), tokio::sync::Notify::new()));
                n.0.notify_one();
                spawn_all(2, |side| {
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
    });
    g.finish();
}

fn sync(c: &mut Criterion) {
    let rt = runtime();
    mutex(c, &rt);
    semaphore(c, &rt);
    queue(c, &rt, 1);
    queue(c, &rt, 4);
    event(c, &rt);
}

criterion_group!(benches, sync);
criterion_main!(benches);
