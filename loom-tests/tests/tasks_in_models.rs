//! Model-checking code that uses corio's *task API*, written the way a user would:
//! `corio::run(async { ... })` inside a model. One set of programs, two checkers:
//!
//! * `RUSTFLAGS="--cfg loom"`: `loom::model` explores every interleaving (up to the
//!   preemption bound) of the user's tasks *and* of corio's internals. The runtime's
//!   workers are loom threads, its scheduler runs on loom's atomics and locks, `to_thread`
//!   runs on a loom thread, and time is virtual (timers fire in deadline order at whatever
//!   point the model picks; with nothing else to run, time jumps to the next deadline).
//! * `RUSTFLAGS="--cfg shuttle"`: the same programs under shuttle's randomized schedulers
//!   (`check_random` and PCT, a fixed seed and number of schedules each), for programs too
//!   large for exhaustive loom. A failing schedule is printed by shuttle and replays from it.
//!
//! The user-style models:
//! * a `TaskGroup` whose failing child cancels its sibling (the sibling's cleanup ran, the
//!   group error carries the failure);
//! * `gather` of spawned tasks on a shared `corio::sync::Mutex` (exact results);
//! * a `wait_for` race whose two outcomes are both reached;
//! * a tour of the rest (`join!`, `wait`, `as_completed`, `cancel`, `yield_now`,
//!   `to_thread`, `sleep` ordering);
//! * broken programs the checker catches (`#[should_panic]`), each next to its fixed twin: a
//!   lost wake-up written with a flag and an `Event`, and a cancel that leaks a `Semaphore`
//!   permit through a hand-written guard.
#![cfg(any(loom, shuttle))]

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use corio::sync::{Event, Mutex, Semaphore};
use corio::{Builder, ReturnWhen, TaskGroup};
#[cfg(loom)]
use corio_loom_tests::explore;
#[cfg(loom)]
use loom::sync::{
    atomic::{AtomicBool, Ordering::SeqCst},
    Arc,
};
#[cfg(all(shuttle, not(loom)))]
use shuttle::sync::{
    atomic::{AtomicBool, Ordering::SeqCst},
    Arc,
};

/// Which checker runs the models, for the printed counts.
const CHECKER: &str = if cfg!(loom) { "loom" } else { "shuttle" };

/// Iterations of each scheduler per model.
#[cfg(all(shuttle, not(loom)))]
const ITERATIONS: usize = 2000;

/// The seed of both schedulers: the same schedules in every run, so CI sees the same
/// result. (`SHUTTLE_RANDOM_SEED` overrides it, e.g. to replay a schedule shuttle printed.)
#[cfg(all(shuttle, not(loom)))]
const SEED: u64 = 0x5EED_C0_10;

/// Runs `f` under shuttle's random scheduler, then under PCT (depth 3), `ITERATIONS`
/// schedules each.
#[cfg(all(shuttle, not(loom)))]
fn explore<F: Fn() + Send + Sync + 'static>(name: &str, f: F) {
    let f = std::sync::Arc::new(f);
    let g = f.clone();
    shuttle::check_random_with_seed(move || f(), SEED, ITERATIONS);
    let pct = shuttle::scheduler::PctScheduler::new_from_seed(SEED, 3, ITERATIONS);
    shuttle::Runner::new(pct, Default::default()).run(move || g());
    println!("shuttle: {name}: {} schedules", 2 * ITERATIONS);
}

/// A runtime with one worker: a smaller state space where two workers add nothing.
fn one_worker() -> corio::Runtime {
    Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap()
}

/// Sets its flag when dropped: proof that a cancelled task's destructors ran.
struct Cleanup(Arc<AtomicBool>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

#[test]
fn task_group_failure_cancels_the_sibling() {
    explore("task_group_failure_cancels_the_sibling", || {
        let cleaned = Arc::new(AtomicBool::new(false));
        let guard = Cleanup(cleaned.clone());
        let rt = one_worker();
        let err = rt.block_on(async move {
            let group = TaskGroup::<u32, &'static str>::new();
            group
                .spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                    Ok(1)
                })
                .unwrap();
            group.spawn(async { Err("boom") }).unwrap();
            group.join().await.unwrap_err()
        });
        assert_eq!(err.errors(), ["boom"]);
        assert!(err.panics().is_empty());
        // `join` returns only after the cancelled sibling was dropped.
        assert!(cleaned.load(SeqCst), "the sibling's cleanup did not run");
        drop(rt);
    });
}

#[test]
fn gather_on_a_shared_mutex_default_runtime() {
    explore("gather_on_a_shared_mutex_default_runtime", || {
        // `corio::run`: the default runtime, two workers inside a model.
        let (mut seen, total) = corio::run(async {
            let counter = Arc::new(Mutex::new(0u32));
            let tasks = (0..2).map(|_| {
                let counter = counter.clone();
                corio::spawn(async move {
                    let mut n = counter.lock().await;
                    *n += 1;
                    *n
                })
            });
            let seen: Vec<u32> = corio::gather(tasks)
                .await
                .into_iter()
                .map(|r| r.unwrap())
                .collect();
            let total = *counter.lock().await;
            (seen, total)
        });
        seen.sort_unstable();
        assert_eq!(seen, [1, 2], "each task saw a distinct count");
        assert_eq!(total, 2);
    });
}

static SET_FIRST: AtomicUsize = AtomicUsize::new(0);
static TIMED_OUT: AtomicUsize = AtomicUsize::new(0);

#[test]
fn wait_for_race_reaches_both_outcomes() {
    explore("wait_for_race_reaches_both_outcomes", || {
        corio::run(async {
            let event = Arc::new(Event::new());
            let setter = event.clone();
            let task = corio::spawn(async move { setter.set() });
            match corio::wait_for(event.wait(), Duration::from_millis(10)).await {
                Ok(()) => SET_FIRST.fetch_add(1, Relaxed),
                Err(_) => TIMED_OUT.fetch_add(1, Relaxed),
            };
            task.await.unwrap();
            assert!(event.is_set());
        });
    });
    let (set, timed_out) = (SET_FIRST.load(Relaxed), TIMED_OUT.load(Relaxed));
    println!("{CHECKER}: wait_for race: set first in {set}, timed out in {timed_out} executions");
    assert!(set > 0, "the event never won the race");
    assert!(timed_out > 0, "the timeout never won the race");
}

#[test]
fn sleeps_fire_in_deadline_order() {
    explore("sleeps_fire_in_deadline_order", || {
        let rt = one_worker();
        let order = rt.block_on(async {
            // One task files both timers in one poll; its worker, the only one, is busy
            // meanwhile, so the clock cannot move between them.
            let sleeper = corio::spawn(async {
                let order = Mutex::new(Vec::new());
                corio::join!(
                    async {
                        corio::sleep(Duration::from_millis(20)).await;
                        order.lock().await.push(20);
                    },
                    async {
                        corio::sleep(Duration::from_millis(10)).await;
                        order.lock().await.push(10);
                    },
                );
                order.into_inner()
            });
            let start = std::time::Instant::now();
            // Virtual: an hour passes without a real wait.
            corio::sleep(Duration::from_secs(3600)).await;
            assert!(start.elapsed() < Duration::from_secs(600));
            sleeper.await.unwrap()
        });
        assert_eq!(order, [10, 20]);
    });
}

#[test]
fn join_wait_as_completed_cancel_yield() {
    explore("join_wait_as_completed_cancel_yield", || {
        let rt = one_worker();
        rt.block_on(async {
            let (a, b) = corio::join!(async { 1 }, async {
                corio::yield_now().await;
                2
            });
            assert_eq!(a + b, 3);

            let quick = corio::spawn(async { 5 });
            let stuck = corio::spawn(std::future::pending::<u32>());
            let (done, pending) =
                corio::wait([quick, stuck], ReturnWhen::FirstCompleted, None).await;
            assert_eq!((done.len(), pending.len()), (1, 1));
            for task in pending {
                assert!(task.cancel());
                assert!(task.await.unwrap_err().is_cancelled());
            }
            let mut results = corio::as_completed(done);
            assert_eq!(results.next().await.unwrap().unwrap(), 5);
            assert!(results.next().await.is_none());
        });
    });
}

#[test]
fn to_thread_runs_on_a_model_thread() {
    explore("to_thread_runs_on_a_model_thread", || {
        let rt = one_worker();
        let flag = Arc::new(AtomicBool::new(false));
        let seen = flag.clone();
        let out = rt.block_on(async move {
            corio::to_thread(move || {
                seen.store(true, SeqCst);
                7
            })
            .await
        });
        assert_eq!(out, 7);
        assert!(flag.load(SeqCst));
    });
}

// ---- a lost wake-up, written with a flag and an Event --------------------------------

/// Waits until `ready` is set. `check_first` is the broken order: check the flag, *then*
/// clear the event, then wait — a `set` that lands between the check and the clear is
/// erased, and the consumer waits forever. The fixed order clears first, then checks.
async fn wait_ready(ready: &AtomicBool, event: &Event, check_first: bool) {
    loop {
        if check_first {
            if ready.load(SeqCst) {
                return;
            }
            event.clear();
        } else {
            event.clear();
            if ready.load(SeqCst) {
                return;
            }
        }
        event.wait().await;
    }
}

/// A consumer that missed its wake-up never finishes: every runtime thread ends up waiting
/// with nothing left to wake it, and the model reports a deadlock. (Not a timeout: a timer
/// may fire at any point of a model, so a timeout also fires while a correct consumer
/// waits.)
fn flag_and_event(check_first: bool) {
    let rt = one_worker();
    rt.block_on(async {
        let ready = Arc::new(AtomicBool::new(false));
        let event = Arc::new(Event::new());
        let (r, e) = (ready.clone(), event.clone());
        let consumer = corio::spawn(async move { wait_ready(&r, &e, check_first).await });
        ready.store(true, SeqCst);
        event.set();
        consumer.await.unwrap();
    });
}

#[test]
fn flag_and_event_clear_then_check() {
    explore("flag_and_event_clear_then_check", || flag_and_event(false));
}

#[test]
#[should_panic(expected = "deadlock")]
fn broken_flag_and_event_check_then_clear() {
    explore("broken_flag_and_event_check_then_clear", || {
        flag_and_event(true)
    });
}

// ---- a cancel that leaks a Semaphore permit ------------------------------------------

/// Releases one permit of a semaphore when dropped (a hand-written permit guard).
struct Release(Arc<Semaphore>);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.release();
    }
}

/// Takes a permit and manages it by hand. `guard_late` is the broken version: between the
/// acquire and the guard there is an `.await`, and a cancel landing there drops the future
/// with the permit owned by nobody. The fixed version builds the guard right away.
async fn hold_permit(sem: Arc<Semaphore>, guard_late: bool) {
    sem.acquire().await.forget();
    let _guard = if guard_late {
        corio::yield_now().await; // e.g. logging, a metrics call
        Release(sem)
    } else {
        let guard = Release(sem);
        corio::yield_now().await;
        guard
    };
    std::future::pending::<()>().await;
}

fn cancel_with_permit(guard_late: bool) {
    let rt = one_worker();
    let permits = rt.block_on(async {
        let sem = Arc::new(Semaphore::new(1));
        let task = corio::spawn(hold_permit(sem.clone(), guard_late));
        corio::yield_now().await;
        task.cancel();
        let _ = task.await;
        sem.available_permits()
    });
    drop(rt);
    assert_eq!(permits, 1, "a cancelled task leaked its permit");
}

#[test]
fn cancel_with_permit_guarded_at_once() {
    explore("cancel_with_permit_guarded_at_once", || {
        cancel_with_permit(false)
    });
}

#[test]
#[should_panic(expected = "leaked its permit")]
fn broken_cancel_with_permit_guarded_after_an_await() {
    explore("broken_cancel_with_permit_guarded_after_an_await", || {
        cancel_with_permit(true)
    });
}

#[test]
fn current_thread_runtime_in_a_model() {
    explore("current_thread_runtime_in_a_model", || {
        let rt = Builder::new_current_thread().build().unwrap();
        let out = rt.block_on(async {
            let task = corio::spawn(async {
                corio::sleep(Duration::from_millis(5)).await;
                corio::to_thread(|| 2).await
            });
            corio::yield_now().await;
            task.await.unwrap() + 1
        });
        assert_eq!(out, 3);
    });
}
