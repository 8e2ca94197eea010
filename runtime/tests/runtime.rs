//! Runtime behaviour: shutdown, misuse messages, flavors, scheduling order, threads.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use common::{current_thread, flavors, multi_thread};
use corio_runtime::{spawn, spawn_local, yield_now, Builder, Handle, Runtime};
use corio_test_util::within;
use futures::channel::oneshot;

struct CountDrop(Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn shutdown_runs_10_000_destructors() {
    within(Duration::from_secs(60), || {
        for (flavor, rt) in flavors() {
            let drops = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                for _ in 0..10_000 {
                    let guard = CountDrop(drops.clone());
                    drop(spawn(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                    }));
                }
                // Let them all start (and park) before shutting down.
                yield_now().await;
            });
            // Some never polled at all: still dropped.
            for _ in 0..100 {
                let guard = CountDrop(drops.clone());
                drop(rt.spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                }));
            }
            assert!(drops.load(Ordering::SeqCst) < 10_100);
            drop(rt);
            assert_eq!(drops.load(Ordering::SeqCst), 10_100, "{flavor}");
        }
    });
}

#[test]
fn awaiting_a_task_of_a_dropped_runtime_gives_cancelled() {
    within(Duration::from_secs(30), || {
        for (flavor, rt) in flavors() {
            let task = rt.spawn(std::future::pending::<()>());
            drop(rt);
            assert!(task.is_finished(), "{flavor}");
            let rt2 = current_thread();
            assert!(rt2.block_on(task).unwrap_err().is_cancelled(), "{flavor}");
        }
    });
}

#[test]
fn spawn_in_a_destructor_during_shutdown_is_cancelled_not_leaked() {
    within(Duration::from_secs(30), || {
        for (flavor, rt) in flavors() {
            let drops = Arc::new(AtomicUsize::new(0));
            struct SpawnOnDrop(Arc<AtomicUsize>);
            impl Drop for SpawnOnDrop {
                fn drop(&mut self) {
                    let guard = CountDrop(self.0.clone());
                    drop(spawn(async move {
                        let _guard = guard;
                        std::future::pending::<()>().await;
                    }));
                }
            }
            let s = SpawnOnDrop(drops.clone());
            drop(rt.spawn(async move {
                let _s = s;
                std::future::pending::<()>().await;
            }));
            drop(rt);
            assert_eq!(drops.load(Ordering::SeqCst), 1, "{flavor}");
        }
    });
}

#[test]
#[should_panic(expected = "Cannot start a corio runtime from within a runtime")]
fn run_inside_a_runtime_panics() {
    let rt = current_thread();
    rt.block_on(async { corio_runtime::run(async {}) });
}

#[test]
#[should_panic(expected = "Cannot start a corio runtime from within a runtime")]
fn block_on_inside_block_on_panics() {
    let rt = multi_thread(1);
    let rt2 = current_thread();
    rt.block_on(async { rt2.block_on(async {}) });
}

#[test]
fn block_on_inside_a_task_is_refused_with_a_panic() {
    within(Duration::from_secs(30), || {
        let rt = multi_thread(1);
        let rt2 = current_thread();
        let err = rt
            .block_on(rt.spawn(async move { rt2.block_on(async {}) }))
            .unwrap_err();
        assert!(err.to_string().contains("use `.await`"), "{err}");
    });
}

#[test]
#[should_panic(
    expected = "corio::spawn must be called from inside a corio runtime: wrap your \
                           code in corio::run(...) or use Runtime::spawn / Handle::spawn"
)]
fn spawn_outside_a_runtime_panics() {
    drop(spawn(async {}));
}

#[test]
#[should_panic(expected = "Handle::current() must be called from inside a corio runtime")]
fn handle_current_outside_a_runtime_panics() {
    let _ = Handle::current();
}

#[test]
#[should_panic(expected = "corio::spawn_local must be called from inside a current-thread runtime")]
fn spawn_local_outside_a_runtime_panics() {
    drop(spawn_local(async {}));
}

#[test]
#[should_panic(expected = "corio::spawn_local must be called from inside a current-thread runtime")]
fn spawn_local_on_multi_thread_panics() {
    let rt = multi_thread(1);
    rt.block_on(async { drop(spawn_local(async {})) });
}

#[test]
fn spawn_local_on_a_thread_waiting_for_the_core_panics() {
    within(Duration::from_secs(30), || {
        // One thread runs the current-thread scheduler; another enters the same runtime
        // with block_on and waits for the core: it does not run the scheduler, so it
        // cannot own local tasks.
        let rt = Arc::new(current_thread());
        let (running_tx, running_rx) = mpsc::channel();
        let (release_tx, release_rx) = oneshot::channel::<()>();
        let runner = {
            let rt = rt.clone();
            std::thread::spawn(move || {
                rt.block_on(async move {
                    running_tx.send(()).unwrap();
                    release_rx.await.unwrap();
                })
            })
        };
        running_rx.recv().unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async { drop(spawn_local(async {})) })
        }));
        release_tx.send(()).unwrap();
        runner.join().unwrap();
        let payload = outcome.expect_err("spawn_local without the core must panic");
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        assert!(
            message.contains("corio::spawn_local must be called from inside a current-thread"),
            "{message}"
        );
        // This thread's context was put back by the unwind.
        assert!(Handle::try_current().is_none());
    });
}

#[test]
fn handle_current_and_try_current() {
    within(Duration::from_secs(30), || {
        assert!(Handle::try_current().is_none());
        for (flavor, rt) in flavors() {
            let v = rt.block_on(async {
                assert!(Handle::try_current().is_some());
                let h = Handle::current();
                spawn(async move { h.spawn(async { 4 }).await.unwrap() })
                    .await
                    .unwrap()
            });
            assert_eq!(v, 4, "{flavor}");
        }
    });
}

#[test]
fn spawn_local_runs_an_rc_future() {
    within(Duration::from_secs(30), || {
        let rt = current_thread();
        let out = rt.block_on(async {
            let shared = Rc::new(RefCell::new(Vec::new()));
            let tasks: Vec<_> = (0..10)
                .map(|i| {
                    let s = shared.clone();
                    spawn_local(async move {
                        yield_now().await;
                        s.borrow_mut().push(i);
                        Rc::new(i)
                    })
                })
                .collect();
            let mut outs = Vec::new();
            for t in tasks {
                outs.push(*t.await.unwrap());
            }
            assert_eq!(*shared.borrow(), (0..10).collect::<Vec<_>>());
            outs
        });
        assert_eq!(out, (0..10).collect::<Vec<_>>());
    });
}

#[test]
#[allow(clippy::async_yields_async)] // block_on hands the Task out on purpose
fn local_tasks_survive_between_block_on_calls_and_are_dropped_at_shutdown() {
    within(Duration::from_secs(30), || {
        let rt = current_thread();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let (tx, rx) = oneshot::channel::<()>();
        let task = rt.block_on(async move {
            spawn_local(async move {
                let _g = CountDrop(d);
                let _rc = Rc::new(());
                rx.await.unwrap();
                7
            })
        });
        tx.send(()).unwrap();
        assert_eq!(rt.block_on(task).unwrap(), 7);
        assert_eq!(drops.load(Ordering::SeqCst), 1);

        let d = drops.clone();
        rt.block_on(async move {
            drop(spawn_local(async move {
                let _g = CountDrop(d);
                std::future::pending::<()>().await;
            }));
            yield_now().await;
        });
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn yield_now_goes_behind_every_ready_task_on_current_thread() {
    within(Duration::from_secs(30), || {
        let rt = current_thread();
        let log = Arc::new(Mutex::new(Vec::new()));
        rt.block_on(async {
            let mut tasks = Vec::new();
            for name in ["a", "b", "c"] {
                let log = log.clone();
                tasks.push(spawn(async move {
                    for round in 0..3 {
                        log.lock().unwrap().push(format!("{name}{round}"));
                        yield_now().await;
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!(
            *log.lock().unwrap(),
            ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]
        );
    });
}

#[test]
fn current_thread_runs_in_fifo_order_like_asyncio() {
    within(Duration::from_secs(30), || {
        let rt = current_thread();
        let log = Arc::new(Mutex::new(Vec::new()));
        rt.block_on(async {
            let l = log.clone();
            let first = spawn(async move {
                l.lock().unwrap().push("first");
                let l2 = l.clone();
                // Spawned from a task: queued behind "second".
                drop(spawn(async move { l2.lock().unwrap().push("grandchild") }));
            });
            let l = log.clone();
            let second = spawn(async move { l.lock().unwrap().push("second") });
            log.lock().unwrap().push("main");
            yield_now().await;
            log.lock().unwrap().push("main again");
            first.await.unwrap();
            second.await.unwrap();
            yield_now().await;
        });
        assert_eq!(
            *log.lock().unwrap(),
            ["main", "first", "second", "main again", "grandchild"]
        );
    });
}

#[test]
fn current_thread_wakes_from_other_threads() {
    within(Duration::from_secs(30), || {
        let rt = current_thread();
        let (tx, rx) = oneshot::channel();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            tx.send(11).unwrap();
        });
        let task = rt.spawn(async move { rx.await.unwrap() });
        assert_eq!(rt.block_on(task).unwrap(), 11);
        t.join().unwrap();
    });
}

#[test]
fn lifo_slot_does_not_strand_a_task_behind_a_blocked_worker() {
    // Task A wakes B (B lands in A's worker's LIFO slot) and then blocks its worker for
    // a second. B must run on the other worker long before that.
    within(Duration::from_secs(30), || {
        let rt = multi_thread(2);
        for _ in 0..3 {
            let (b_tx, b_rx) = oneshot::channel::<()>();
            let (done_tx, done_rx) = mpsc::channel::<Instant>();
            let (a_go_tx, a_go_rx) = oneshot::channel::<()>();
            // B waits first, so A's send wakes an idle task.
            let b = rt.spawn(async move {
                b_rx.await.unwrap();
                done_tx.send(Instant::now()).unwrap();
            });
            let a = rt.spawn(async move {
                a_go_rx.await.unwrap();
                let woke_b = Instant::now();
                b_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_secs(1));
                woke_b
            });
            // Let both park, then start A from outside.
            std::thread::sleep(Duration::from_millis(50));
            a_go_tx.send(()).unwrap();
            let b_done = done_rx
                .recv_timeout(Duration::from_secs(5))
                .expect("B never ran");
            let woke_b = rt.block_on(a).unwrap();
            rt.block_on(b).unwrap();
            let delay = b_done.duration_since(woke_b);
            assert!(
                delay < Duration::from_millis(500),
                "B ran {delay:?} after being woken: stranded in the LIFO slot"
            );
        }
    });
}

#[test]
fn block_on_can_be_called_repeatedly_and_tasks_survive() {
    within(Duration::from_secs(30), || {
        for (flavor, rt) in flavors() {
            let counter = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = oneshot::channel::<()>();
            let c = counter.clone();
            let task = rt.spawn(async move {
                rx.await.unwrap();
                c.fetch_add(1, Ordering::SeqCst);
                "survived"
            });
            for i in 0..5 {
                assert_eq!(rt.block_on(async move { i * 2 }), i * 2, "{flavor}");
            }
            tx.send(()).unwrap();
            assert_eq!(rt.block_on(task).unwrap(), "survived", "{flavor}");
            assert_eq!(counter.load(Ordering::SeqCst), 1);
        }
    });
}

#[test]
fn block_on_from_several_threads_at_once() {
    within(Duration::from_secs(30), || {
        for (flavor, rt) in flavors() {
            let rt = Arc::new(rt);
            let threads: Vec<_> = (0..4)
                .map(|i| {
                    let rt = rt.clone();
                    std::thread::spawn(move || {
                        rt.block_on(async move {
                            let mut sum = 0;
                            for j in 0..100 {
                                sum += spawn(async move { i * j }).await.unwrap();
                            }
                            sum
                        })
                    })
                })
                .collect();
            let sums: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            assert_eq!(sums, [0, 4950, 9900, 14850], "{flavor}");
        }
    });
}

fn threads_named(prefix: &str) -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .map(|s| s.trim().to_owned())
        .filter(|name| name.starts_with(prefix))
        .collect()
}

#[test]
fn worker_threads_n_spawns_exactly_n_named_threads() {
    within(Duration::from_secs(30), || {
        for n in [1usize, 3] {
            let prefix = format!("wt{n}x");
            let rt = Builder::new_multi_thread()
                .worker_threads(n)
                .thread_name(prefix.clone())
                .build()
                .unwrap();
            // Threads name themselves as they start: give them a moment. Besides the
            // workers, the runtime runs its monitor thread (slow polls, stuck workers).
            let expected: Vec<_> = (0..n)
                .map(|i| format!("{prefix}-{i}"))
                .chain([format!("{prefix}-monitor")])
                .collect();
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let mut names = threads_named(&prefix);
                names.sort();
                if names == expected || Instant::now() > deadline {
                    assert_eq!(names, expected);
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            // Tasks run on those threads, never on the block_on thread.
            let here = std::thread::current().id();
            let (name, id) = rt.block_on(async {
                spawn(async {
                    let t = std::thread::current();
                    (t.name().unwrap().to_owned(), t.id())
                })
                .await
                .unwrap()
            });
            assert!(name.starts_with(&prefix), "{name}");
            assert_ne!(id, here);
            drop(rt);
            assert!(threads_named(&prefix).is_empty(), "workers joined on drop");
        }
    });
}

#[test]
fn all_workers_run_tasks_in_parallel() {
    // 4 tasks that each wait for all 4 to have started: only possible on 4 threads.
    within(Duration::from_secs(30), || {
        let rt = multi_thread(4);
        let barrier = Arc::new(std::sync::Barrier::new(4));
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let b = barrier.clone();
                rt.spawn(async move {
                    b.wait();
                    std::thread::current().id()
                })
            })
            .collect();
        let mut ids: Vec<_> = rt.block_on(async {
            let mut ids = Vec::new();
            for t in tasks {
                ids.push(t.await.unwrap());
            }
            ids
        });
        ids.sort_by_key(|id| format!("{id:?}"));
        ids.dedup();
        assert_eq!(ids.len(), 4);
    });
}

#[test]
fn run_shuts_the_runtime_down() {
    within(Duration::from_secs(30), || {
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = CountDrop(drops.clone());
        let out = corio_runtime::run(async move {
            drop(spawn(async move {
                let _g = guard;
                std::future::pending::<()>().await;
            }));
            yield_now().await;
            "done"
        });
        assert_eq!(out, "done");
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn runtime_is_send_and_sync_and_handle_is_clone_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_clone<T: Clone>() {}
    assert_send_sync::<Runtime>();
    assert_send_sync::<Handle>();
    assert_clone::<Handle>();
    assert_send_sync::<corio_runtime::Task<u8>>();
    assert_send_sync::<corio_runtime::TaskId>();
    fn assert_send<T: Send>() {}
    assert_send::<corio_runtime::TaskError>();
}

#[test]
fn builder_options_are_kept() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(7)
        .blocking_keep_alive(Duration::from_secs(3))
        .shutdown_timeout(Duration::from_millis(250))
        .thread_name("opt")
        .build()
        .unwrap();
    let dbg = format!("{rt:?}");
    // The runtime's blocking pool carries the blocking options.
    assert!(dbg.contains("max_threads: 7"), "{dbg}");
    assert!(dbg.contains("keep_alive: 3s"), "{dbg}");
    assert!(dbg.contains("thread_name: \"opt-blocking\""), "{dbg}");
    assert!(dbg.contains("shutdown_timeout: 250ms"), "{dbg}");
    assert!(dbg.contains("worker_threads: 1"), "{dbg}");
}

/// A task that spawns its successor forever keeps its worker's LIFO slot full; work from
/// outside still gets its turn a few links later, not a whole fairness interval later.
#[test]
fn work_from_outside_is_not_starved_by_an_endless_spawn_chain() {
    fn link(links: Arc<AtomicUsize>, stop: Arc<AtomicBool>) {
        let _detached = spawn(async move {
            links.fetch_add(1, Ordering::SeqCst);
            if !stop.load(Ordering::SeqCst) {
                link(links, stop);
            }
        });
    }
    within(Duration::from_secs(60), || {
        let rt = multi_thread(1);
        let links = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (l, s) = (links.clone(), stop.clone());
        let _chain = rt.spawn(async move { link(l, s) });
        while links.load(Ordering::SeqCst) < 100 {
            std::thread::yield_now();
        }
        // Links run between a spawn from outside and that task's poll. The spawning
        // thread can be preempted between its two steps, so judge the median.
        let mut waits: Vec<usize> = (0..101)
            .map(|_| {
                let before = links.load(Ordering::SeqCst);
                let l = links.clone();
                let at_poll = rt.block_on(rt.spawn(async move { l.load(Ordering::SeqCst) }));
                at_poll.unwrap() - before
            })
            .collect();
        stop.store(true, Ordering::SeqCst);
        waits.sort_unstable();
        assert!(
            waits[50] <= 16,
            "median wait {} links: {waits:?}",
            waits[50]
        );
    });
}
