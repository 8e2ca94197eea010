//! Spawning, awaiting, cancelling and panicking tasks, on both flavors.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use common::{flavors, multi_thread};
use corio_runtime::task::{Builder, TaskState};
use corio_runtime::{spawn, yield_now, TaskError};
use corio_test_util::within;
use futures::channel::oneshot;

/// Sets a flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn spawn_100_000_tasks() {
    within(Duration::from_secs(60), || {
        for (flavor, rt) in flavors() {
            let sum = rt.block_on(async {
                let tasks: Vec<_> = (0..100_000u64).map(|i| spawn(async move { i })).collect();
                let mut sum = 0;
                for t in tasks {
                    sum += t.await.unwrap();
                }
                sum
            });
            assert_eq!(sum, 99_999 * 100_000 / 2, "{flavor}");
        }
    });
}

#[test]
fn spawn_from_outside_then_await() {
    within(Duration::from_secs(30), || {
        for (flavor, rt) in flavors() {
            let tasks: Vec<_> = (0..1000u64)
                .map(|i| rt.spawn(async move { i * 2 }))
                .collect();
            let sum = rt.block_on(async {
                let mut sum = 0;
                for t in tasks {
                    sum += t.await.unwrap();
                }
                sum
            });
            assert_eq!(sum, 999 * 1000, "{flavor}");
        }
    });
}

fn chain(depth: usize, done: oneshot::Sender<usize>) {
    if depth == 0 {
        let _ = done.send(0);
        return;
    }
    drop(spawn(async move { chain(depth - 1, done) }));
}

#[test]
fn chained_spawn_depth_10_000() {
    within(Duration::from_secs(60), || {
        for (flavor, rt) in flavors() {
            let out = rt.block_on(async {
                let (tx, rx) = oneshot::channel();
                chain(10_000, tx);
                rx.await.unwrap()
            });
            assert_eq!(out, 0, "{flavor}");
        }
    });
}

#[test]
fn cancel_before_first_poll() {
    within(Duration::from_secs(30), || {
        for (flavor, rt) in flavors() {
            rt.block_on(async {
                let polled = Arc::new(AtomicBool::new(false));
                let dropped = Arc::new(AtomicBool::new(false));
                let (p, d) = (polled.clone(), DropFlag(dropped.clone()));
                let task = spawn(async move {
                    let _d = d;
                    p.store(true, Ordering::SeqCst);
                });
                // On current-thread nothing ran yet; on multi-thread it may have started.
                let cancelled = task.cancel();
                let res = task.await;
                assert!(dropped.load(Ordering::SeqCst), "{flavor}: future dropped");
                if cancelled {
                    match res {
                        Err(e) => assert!(e.is_cancelled(), "{flavor}"),
                        Ok(()) => assert!(polled.load(Ordering::SeqCst), "{flavor}"),
                    }
                }
                if flavor == "current_thread" {
                    assert!(cancelled);
                    assert!(!polled.load(Ordering::SeqCst), "never polled");
                }
            });
        }
    });
}

#[test]
fn cancel_while_pending_drops_the_future_before_the_awaiter_sees_cancelled() {
    within(Duration::from_secs(30), || {
        for (flavor, rt) in flavors() {
            rt.block_on(async {
                let dropped = Arc::new(AtomicBool::new(false));
                let (started_tx, started_rx) = oneshot::channel::<()>();
                let d = DropFlag(dropped.clone());
                let task = spawn(async move {
                    let _d = d;
                    started_tx.send(()).unwrap();
                    std::future::pending::<()>().await;
                });
                started_rx.await.unwrap();
                assert!(!task.is_finished());
                assert!(task.cancel(), "{flavor}");
                let err = task.await.unwrap_err();
                assert!(err.is_cancelled(), "{flavor}");
                assert!(
                    dropped.load(Ordering::SeqCst),
                    "{flavor}: destructor ran first"
                );
            });
        }
    });
}

#[test]
fn cancel_after_completion_returns_false_and_keeps_the_output() {
    within(Duration::from_secs(30), || {
        for (flavor, rt) in flavors() {
            rt.block_on(async {
                let task = spawn(async { 5 });
                while !task.is_finished() {
                    yield_now().await;
                }
                assert!(!task.cancel(), "{flavor}");
                assert_eq!(task.await.unwrap(), 5, "{flavor}");
            });
        }
    });
}

#[test]
fn cancel_during_a_poll_waits_for_the_poll_to_return() {
    within(Duration::from_secs(30), || {
        let rt = multi_thread(2);
        let (in_poll_tx, in_poll_rx) = mpsc::channel();
        let release = Arc::new(AtomicBool::new(false));
        let finished_poll = Arc::new(AtomicBool::new(false));
        let dropped = Arc::new(AtomicBool::new(false));
        let (r, f, d) = (
            release.clone(),
            finished_poll.clone(),
            DropFlag(dropped.clone()),
        );
        let task = rt.spawn(async move {
            let _d = d;
            in_poll_tx.send(()).unwrap();
            while !r.load(Ordering::SeqCst) {
                std::thread::yield_now();
            }
            f.store(true, Ordering::SeqCst);
            yield_now().await;
            unreachable!("cancelled at the suspension point");
        });
        in_poll_rx.recv().unwrap();
        assert!(task.cancel());
        // Still inside the poll: the future must not have been dropped under it.
        std::thread::sleep(Duration::from_millis(20));
        assert!(!dropped.load(Ordering::SeqCst));
        release.store(true, Ordering::SeqCst);
        let err = rt.block_on(task).unwrap_err();
        assert!(err.is_cancelled());
        assert!(finished_poll.load(Ordering::SeqCst));
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn panic_is_caught_with_its_payload_and_the_worker_survives() {
    within(Duration::from_secs(30), || {
        let rts = vec![
            ("one worker", multi_thread(1)),
            ("current_thread", common::current_thread()),
        ];
        for (flavor, rt) in rts {
            rt.block_on(async {
                for i in 0..10 {
                    let task = spawn(async move {
                        if i >= 0 {
                            panic!("boom {i}");
                        }
                    });
                    let err = task.await.unwrap_err();
                    assert!(err.is_panic(), "{flavor}");
                    assert!(err.to_string().contains("boom"), "{flavor}: {err}");
                    let payload = err.into_panic();
                    assert_eq!(
                        payload.downcast_ref::<String>().unwrap(),
                        &format!("boom {i}")
                    );
                }
                // The (only) worker still runs tasks.
                assert_eq!(spawn(async { 3 }).await.unwrap(), 3, "{flavor}");
            });
        }
    });
}

#[test]
fn panic_in_destructor_during_cancel_is_caught() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop panicked");
        }
    }
    within(Duration::from_secs(30), || {
        for (flavor, rt) in flavors() {
            rt.block_on(async {
                let (started_tx, started_rx) = oneshot::channel::<()>();
                let task = spawn(async move {
                    let _p = PanicOnDrop;
                    started_tx.send(()).unwrap();
                    std::future::pending::<()>().await;
                });
                started_rx.await.unwrap();
                assert!(task.cancel());
                let err = task.await.unwrap_err();
                assert!(err.is_panic(), "{flavor}: {err:?}");
                assert_eq!(
                    *err.into_panic().downcast::<&str>().unwrap(),
                    "drop panicked"
                );
                assert_eq!(spawn(async { 1 }).await.unwrap(), 1, "{flavor}");
            });
        }
    });
}

#[test]
fn dropping_a_task_detaches_it() {
    within(Duration::from_secs(30), || {
        for (flavor, rt) in flavors() {
            let (tx, rx) = oneshot::channel();
            rt.block_on(async move {
                drop(spawn(async move {
                    yield_now().await;
                    tx.send(9).unwrap();
                }));
                assert_eq!(rx.await.unwrap(), 9, "{flavor}");
            });
        }
    });
}

#[test]
fn names_and_default_display() {
    within(Duration::from_secs(30), || {
        for (flavor, rt) in flavors() {
            rt.block_on(async {
                let named = Builder::new()
                    .name("worker-1")
                    .spawn(async { corio_runtime::current_task().unwrap().to_string() });
                assert_eq!(named.name(), Some("worker-1"));
                assert_eq!(named.to_string(), "worker-1");
                assert_eq!(named.await.unwrap(), "worker-1", "{flavor}");

                let unnamed = spawn(async { corio_runtime::current_task().unwrap().to_string() });
                let id = unnamed.id();
                assert_eq!(unnamed.name(), None);
                assert_eq!(unnamed.to_string(), format!("Task-{id}"));
                assert_eq!(unnamed.await.unwrap(), format!("Task-{id}"), "{flavor}");
            });
        }
    });
}

/// Where the task running this future was spawned, as its `TaskInfo` reports it.
async fn spawned_at() -> (&'static str, u32) {
    let location = corio_runtime::current_task().unwrap().location();
    (location.file(), location.line())
}

#[test]
fn every_spawn_path_records_the_callers_line() {
    within(Duration::from_secs(30), || {
        let rt = common::current_thread();
        let handle = rt.handle();
        let (task, line) = (rt.spawn(spawned_at()), line!());
        assert_eq!(
            rt.block_on(task).unwrap(),
            (file!(), line),
            "Runtime::spawn"
        );
        let (task, line) = (handle.spawn(spawned_at()), line!());
        assert_eq!(rt.block_on(task).unwrap(), (file!(), line), "Handle::spawn");
        let (task, line) = (Builder::new().spawn_on(spawned_at(), &handle), line!());
        assert_eq!(
            rt.block_on(task).unwrap(),
            (file!(), line),
            "Builder::spawn_on"
        );
        rt.block_on(async {
            let (task, line) = (spawn(spawned_at()), line!());
            assert_eq!(task.await.unwrap(), (file!(), line), "spawn");
            let (task, line) = (Builder::new().spawn(spawned_at()), line!());
            assert_eq!(task.await.unwrap(), (file!(), line), "Builder::spawn");
            let (task, line) = (corio_runtime::spawn_local(spawned_at()), line!());
            assert_eq!(task.await.unwrap(), (file!(), line), "spawn_local");
            let (task, line) = (Builder::new().spawn_local(spawned_at()), line!());
            assert_eq!(task.await.unwrap(), (file!(), line), "Builder::spawn_local");
        });
    });
}

#[test]
fn task_ids_are_unique_and_increasing_per_thread() {
    within(Duration::from_secs(30), || {
        let rt = common::current_thread();
        rt.block_on(async {
            let a = spawn(async {});
            let b = spawn(async {});
            assert!(b.id() > a.id());
            assert_ne!(a.id(), b.id());
            assert!(a.id().as_u64() >= 1);
            assert_eq!(format!("{:?}", a.id()), format!("TaskId({})", a.id()));
        });
    });
}

#[test]
fn current_task_and_all_tasks() {
    within(Duration::from_secs(30), || {
        assert!(corio_runtime::current_task().is_none());
        assert!(corio_runtime::all_tasks().is_empty());
        for (flavor, rt) in flavors() {
            rt.block_on(async {
                // block_on's own future is not a task.
                assert!(corio_runtime::current_task().is_none(), "{flavor}");
                let (started_tx, started_rx) = oneshot::channel::<()>();
                let sleeper = Builder::new().name("sleeper").spawn(async move {
                    started_tx.send(()).unwrap();
                    std::future::pending::<()>().await;
                });
                started_rx.await.unwrap();
                let me = spawn(async { corio_runtime::current_task().unwrap() })
                    .await
                    .unwrap();
                assert_eq!(me.state(), TaskState::Running);
                assert!(
                    me.location().file().ends_with("tasks.rs"),
                    "{}",
                    me.location()
                );

                // The sleeper's poll may still be returning after its send (another
                // worker): it is `Running` until then, and `Idle` from then on.
                let sleeper_info = || {
                    corio_runtime::all_tasks()
                        .into_iter()
                        .find(|t| t.id() == sleeper.id())
                        .expect("sleeper listed")
                };
                while sleeper_info().state() == TaskState::Running {
                    yield_now().await;
                }
                let all = corio_runtime::all_tasks();
                let info = all
                    .iter()
                    .find(|t| t.id() == sleeper.id())
                    .expect("sleeper listed");
                assert_eq!(info.name(), Some("sleeper"));
                assert_eq!(info.state(), TaskState::Idle, "{flavor}");
                assert!(
                    !all.iter().any(|t| t.id() == me.id()),
                    "finished tasks are not listed"
                );
                sleeper.cancel();
                let _ = sleeper.await;
                assert!(corio_runtime::all_tasks().is_empty(), "{flavor}");
            });
        }
    });
}

#[test]
fn many_wakes_from_many_threads() {
    // Stress the wake/park protocol: tasks woken from plain threads must all run.
    within(Duration::from_secs(60), || {
        for (flavor, rt) in flavors() {
            for _round in 0..20 {
                let mut senders = Vec::new();
                let mut tasks = Vec::new();
                for i in 0..200u32 {
                    let (tx, rx) = oneshot::channel::<u32>();
                    senders.push((i, tx));
                    tasks.push(rt.spawn(async move { rx.await.unwrap() }));
                }
                let mut batches: Vec<Vec<(u32, oneshot::Sender<u32>)>> = Vec::new();
                while !senders.is_empty() {
                    let rest = senders.split_off(senders.len().min(50));
                    batches.push(std::mem::replace(&mut senders, rest));
                }
                let threads: Vec<_> = batches
                    .into_iter()
                    .map(|batch| {
                        std::thread::spawn(move || {
                            for (i, tx) in batch {
                                tx.send(i).unwrap();
                            }
                        })
                    })
                    .collect();
                let sum = rt.block_on(async {
                    let mut sum = 0;
                    for t in tasks {
                        sum += t.await.unwrap();
                    }
                    sum
                });
                for t in threads {
                    t.join().unwrap();
                }
                assert_eq!(sum, 199 * 200 / 2, "{flavor}");
            }
        }
    });
}

#[test]
fn awaiting_task_cancelled_while_it_awaits_another() {
    within(Duration::from_secs(30), || {
        for (flavor, rt) in flavors() {
            rt.block_on(async {
                let victim_dropped = Arc::new(AtomicBool::new(false));
                let d = DropFlag(victim_dropped.clone());
                let victim = spawn(async move {
                    let _d = d;
                    std::future::pending::<u8>().await
                });
                let victim_id = victim.id();
                let watcher = spawn(victim);
                yield_now().await;
                assert!(watcher.cancel());
                assert!(
                    matches!(watcher.await, Err(TaskError::Cancelled)),
                    "{flavor}"
                );
                // Dropping the watcher's future dropped its Task<u8>: the victim is
                // detached, not cancelled.
                assert!(!victim_dropped.load(Ordering::SeqCst), "{flavor}");
                assert!(corio_runtime::all_tasks()
                    .iter()
                    .any(|t| t.id() == victim_id));
            });
        }
    });
}

#[test]
fn coop_budget_makes_a_busy_task_yield_to_others() {
    // A task completing 1 000 always-ready operations in a row is preempted by the
    // 128-unit budget, so a task spawned after it runs before it finishes.
    within(Duration::from_secs(30), || {
        let rt = common::current_thread();
        rt.block_on(async {
            let other_ran = Arc::new(AtomicBool::new(false));
            let o = other_ran.clone();
            let busy = spawn(async move {
                for i in 0..1000 {
                    std::future::poll_fn(corio_sync::coop::poll_proceed).await;
                    if o.load(Ordering::SeqCst) {
                        return Some(i);
                    }
                }
                None
            });
            let o = other_ran.clone();
            let other = spawn(async move { o.store(true, Ordering::SeqCst) });
            let preempted_at = busy
                .await
                .unwrap()
                .expect("the busy task was never preempted");
            assert_eq!(preempted_at, corio_sync::coop::BUDGET as usize);
            other.await.unwrap();
        });
    });
}

/// A future that remembers where it was polled and checks, when dropped, that it is
/// dropped at that same address (a pinned future must never move, not even to be dropped).
struct PinnedProbe {
    polled_at: Option<usize>,
    polled: Arc<AtomicBool>,
    ready: bool,
    dropped_in_place: Arc<std::sync::Mutex<Option<bool>>>,
    _pin: std::marker::PhantomPinned,
}

impl std::future::Future for PinnedProbe {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        // SAFETY: only plain fields are written; nothing is moved out.
        let this = unsafe { self.get_unchecked_mut() };
        this.polled_at = Some(std::ptr::from_mut(this) as usize);
        this.polled.store(true, Ordering::SeqCst);
        if this.ready {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

impl Drop for PinnedProbe {
    fn drop(&mut self) {
        if let Some(at) = self.polled_at {
            *self.dropped_in_place.lock().unwrap() = Some(at == std::ptr::from_mut(self) as usize);
        }
    }
}

/// A task's future is dropped where it was polled — when it completes, when it is
/// cancelled, and when the runtime shuts down with it pending. (A corio wait unlinks its
/// waiter node from the primitive's list in its destructor; a future moved before being
/// dropped left the list pointing at its old place, which a concurrent wake-up then
/// wrote into.)
#[test]
fn a_task_future_is_dropped_in_place() {
    within(Duration::from_secs(30), || {
        let probe = |ready| {
            let flag = Arc::new(std::sync::Mutex::new(None));
            let polled = Arc::new(AtomicBool::new(false));
            let fut = PinnedProbe {
                polled_at: None,
                polled: polled.clone(),
                ready,
                dropped_in_place: flag.clone(),
                _pin: std::marker::PhantomPinned,
            };
            (fut, flag, polled)
        };
        let polled_once = |polled: Arc<AtomicBool>| async move {
            while !polled.load(Ordering::SeqCst) {
                yield_now().await;
            }
        };
        for (flavor, rt) in flavors() {
            let (done, done_flag, _) = probe(true);
            let (cancelled, cancelled_flag, cancelled_polled) = probe(false);
            let (left, left_flag, left_polled) = probe(false);
            rt.block_on(async {
                spawn(done).await.unwrap();
                let task = spawn(cancelled);
                polled_once(cancelled_polled).await;
                assert!(task.cancel(), "{flavor}");
                assert!(task.await.unwrap_err().is_cancelled(), "{flavor}");
                drop(spawn(left));
                polled_once(left_polled).await;
            });
            drop(rt); // shuts the pending `left` task down
            for (what, flag) in [
                ("completed", done_flag),
                ("cancelled", cancelled_flag),
                ("shut down", left_flag),
            ] {
                assert_eq!(
                    *flag.lock().unwrap(),
                    Some(true),
                    "{flavor}: a {what} task's future was moved before it was dropped"
                );
            }
        }
    });
}

/// The race that moving a future before dropping it lost: a task waits on a `Lock`, and
/// is cancelled; the part of its future dropped first releases the lock, which hands it
/// to the task's own waiter node, still linked. The lock must end up free (the node,
/// found where it was linked, passes the lock on), not lost to a stale node.
#[test]
fn cancelling_a_task_whose_drop_wakes_its_own_waiter_loses_no_lock() {
    /// Drops `_release` (a held guard) before `wait` (a pending `lock()` of the same lock).
    struct Racer {
        _release: Option<corio_sync::MutexGuard<'static, ()>>,
        wait: corio_sync::mutex::LockFuture<'static, ()>,
        polled: Arc<AtomicBool>,
    }
    impl std::future::Future for Racer {
        type Output = ();
        fn poll(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            // SAFETY: `wait` is structurally pinned: never moved out of `Racer`, which is
            // itself pinned and !Unpin (through `wait`).
            let this = unsafe { self.get_unchecked_mut() };
            this.polled.store(true, Ordering::SeqCst);
            // SAFETY: as above.
            unsafe { std::pin::Pin::new_unchecked(&mut this.wait) }
                .poll(cx)
                .map(drop)
        }
    }
    within(Duration::from_secs(30), || {
        for (flavor, rt) in flavors() {
            let lock: &'static corio_sync::Lock = Box::leak(Box::new(corio_sync::Lock::new(())));
            let polled = Arc::new(AtomicBool::new(false));
            rt.block_on(async {
                let guard = lock.try_lock().unwrap();
                let task = spawn(Racer {
                    _release: Some(guard),
                    wait: lock.lock(),
                    polled: polled.clone(),
                });
                // Until its first poll has linked its waiter node.
                while !polled.load(Ordering::SeqCst) {
                    yield_now().await;
                }
                assert!(!task.is_finished(), "{flavor}: waits for its own guard");
                assert!(task.cancel(), "{flavor}");
                let err = task.await.unwrap_err();
                assert!(err.is_cancelled(), "{flavor}: {err:?}");
                assert!(
                    lock.try_lock().is_some(),
                    "{flavor}: the lock was handed to a stale waiter node and lost"
                );
            });
        }
    });
}
