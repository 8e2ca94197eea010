//! Scheduler workloads after tokio's `rt_multi_threaded` benches, on corio, tokio,
//! smol's async-executor and async-std's global executor, each with [`WORKERS`] worker threads, all warm
//! (the shared runtimes are built before the timed region).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use crate::runtimes::{AsyncStd, Corio, Rt, Smol, Tokio};
use crate::{time_iters, Workload, WORKERS};

const NUM_SPAWN: usize = 10_000;
const STALL_DUR: Duration = Duration::from_micros(10);

/// The scheduler workloads.
pub fn workloads() -> Vec<Workload> {
    macro_rules! workload {
        ($name:literal, $f:ident) => {
            Workload::new("runtime", $name)
                .variant("corio", |iters| $f(Corio::get(), iters))
                .variant("tokio", |iters| $f(Tokio::get(), iters))
                .variant("smol", |iters| $f(Smol::get(), iters))
                .variant("async-std", |iters| $f(AsyncStd::get(), iters))
        };
    }
    vec![
        workload!("spawn_many_local", spawn_many_local),
        workload!("spawn_many_remote_idle", spawn_many_remote_idle),
        workload!("spawn_many_remote_busy", spawn_many_remote_busy),
        workload!("spawn_many_remote_busy2", spawn_many_remote_busy2),
        workload!("yield_many", yield_many),
        workload!("ping_pong", ping_pong),
        workload!("chained_spawn", chained_spawn),
    ]
}

/// 10 000 spawns from inside a task (worker-local spawns).
fn spawn_many_local<R: Rt>(rt: &R, iters: u64) -> Duration {
    let (tx, rx) = mpsc::sync_channel(1000);
    let rem = Arc::new(AtomicUsize::new(0));
    time_iters(iters, || {
        rem.store(NUM_SPAWN, Relaxed);
        let tx = tx.clone();
        let rem = rem.clone();
        R::detach(rt.spawn(async move {
            for _ in 0..NUM_SPAWN {
                let tx = tx.clone();
                let rem = rem.clone();
                R::spawn_detached(async move {
                    if 1 == rem.fetch_sub(1, Relaxed) {
                        tx.send(()).unwrap();
                    }
                });
            }
        }));
        rx.recv().unwrap();
    })
}

/// 10 000 spawns from outside onto an idle runtime, then await them all.
fn spawn_many_remote_idle<R: Rt>(rt: &R, iters: u64) -> Duration {
    let mut handles = Vec::with_capacity(NUM_SPAWN);
    time_iters(iters, || spawn_remote(rt, &mut handles))
}

fn spawn_remote<R: Rt>(rt: &R, handles: &mut Vec<R::Join>) {
    for _ in 0..NUM_SPAWN {
        handles.push(rt.spawn(async {}));
    }
    rt.block_on(async {
        for handle in handles.drain(..) {
            let _ = handle.await;
        }
    });
}

/// 10 000 spawns from outside while every worker is kept busy by `2 × WORKERS` tasks that
/// yield and stall 10 µs; starting and stopping the busy tasks is outside the timing.
fn spawn_many_remote_busy<R: Rt>(rt: &R, iters: u64) -> Duration {
    let stop = Arc::new(AtomicBool::new(false));
    let busy: Vec<R::Join> = (0..2 * WORKERS)
        .map(|_| {
            let stop = stop.clone();
            rt.spawn(async move {
                while !stop.load(Relaxed) {
                    R::yield_now().await;
                    std::thread::sleep(STALL_DUR);
                }
            })
        })
        .collect();
    let mut handles = Vec::with_capacity(NUM_SPAWN);
    let start = Instant::now();
    for _ in 0..iters {
        spawn_remote(rt, &mut handles);
    }
    let elapsed = start.elapsed();
    stop.store(true, Relaxed);
    rt.block_on(async {
        for h in busy {
            let _ = h.await;
        }
    });
    elapsed
}

/// 1 000 spawns from outside while `WORKERS` chains of tasks each stall 10 µs and spawn
/// their successor (work from outside competing with local chains, not with yields);
/// starting and stopping the chains is outside the timing.
fn spawn_many_remote_busy2<R: Rt>(rt: &R, iters: u64) -> Duration {
    const NUM_REMOTE: usize = 1_000;
    fn link<R: Rt>(stop: Arc<AtomicBool>, done: mpsc::SyncSender<()>) {
        R::spawn_detached(async move {
            std::thread::sleep(STALL_DUR);
            if stop.load(Relaxed) {
                done.send(()).unwrap();
            } else {
                link::<R>(stop, done);
            }
        });
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = mpsc::sync_channel(WORKERS);
    for _ in 0..WORKERS {
        let (stop, done_tx) = (stop.clone(), done_tx.clone());
        R::detach(rt.spawn(async move { link::<R>(stop, done_tx) }));
    }
    let mut handles = Vec::with_capacity(NUM_REMOTE);
    let start = Instant::now();
    for _ in 0..iters {
        for _ in 0..NUM_REMOTE {
            handles.push(rt.spawn(async {}));
        }
        rt.block_on(async {
            for handle in handles.drain(..) {
                let _ = handle.await;
            }
        });
    }
    let elapsed = start.elapsed();
    stop.store(true, Relaxed);
    for _ in 0..WORKERS {
        done_rx.recv().unwrap();
    }
    elapsed
}

/// 200 tasks × 1 000 yields.
fn yield_many<R: Rt>(rt: &R, iters: u64) -> Duration {
    const NUM_YIELD: usize = 1_000;
    const TASKS: usize = 200;
    let (tx, rx) = mpsc::sync_channel(TASKS);
    time_iters(iters, || {
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
    })
}

/// 1 000 pairs of tasks exchanging a ping and a pong over oneshots.
fn ping_pong<R: Rt>(rt: &R, iters: u64) -> Duration {
    const NUM_PINGS: usize = 1_000;
    let (done_tx, done_rx) = mpsc::sync_channel(1000);
    let rem = Arc::new(AtomicUsize::new(0));
    time_iters(iters, || {
        let done_tx = done_tx.clone();
        let rem = rem.clone();
        rem.store(NUM_PINGS, Relaxed);
        R::detach(rt.spawn(async move {
            for _ in 0..NUM_PINGS {
                let rem = rem.clone();
                let done_tx = done_tx.clone();
                R::spawn_detached(async move {
                    let (tx1, rx1) = oneshot::channel::<()>();
                    let (tx2, rx2) = oneshot::channel::<()>();
                    R::spawn_detached(async move {
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
    })
}

/// A chain of 1 000 tasks, each spawning the next.
fn chained_spawn<R: Rt>(rt: &R, iters: u64) -> Duration {
    const DEPTH: usize = 1_000;
    fn link<R: Rt>(done_tx: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done_tx.send(()).unwrap();
        } else {
            R::spawn_detached(async move { link::<R>(done_tx, n - 1) });
        }
    }
    let (done_tx, done_rx) = mpsc::sync_channel(1000);
    time_iters(iters, || {
        let done_tx = done_tx.clone();
        R::detach(rt.spawn(async move { link::<R>(done_tx, DEPTH) }));
        done_rx.recv().unwrap();
    })
}
