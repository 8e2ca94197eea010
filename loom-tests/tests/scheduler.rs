//! loom models of the multi-thread scheduler's idle / park protocol: corio-runtime's own
//! `scheduler/multi_thread/idle.rs` (who searches, who is parked, whom to wake) and
//! `scheduler/multi_thread/park.rs` (a worker's parker: its condvar, or the driver when it
//! holds the reactor), compiled here verbatim (`#[path]`). The worker loop around them follows
//! `scheduler/multi_thread/worker.rs` (`steal_work`, `park`, `transition_from_parked`,
//! `notify_parked`, `notify_if_work_pending`), with the injector as a `Mutex<VecDeque>`.
//!
//! The driver is a test double with the real one's contract: `park` blocks until
//! `unpark`, and an `unpark` that comes first makes the next `park` return at once (the
//! real driver gets that from the OS poller's notify, which loom cannot run and which is
//! trusted like crossbeam). What is modelled is corio's hand-off into it.
#![cfg(loom)]

#[allow(dead_code)]
#[path = "../../runtime/src/scheduler/multi_thread/idle.rs"]
mod idle;

#[allow(dead_code)]
#[path = "../../runtime/src/scheduler/multi_thread/park.rs"]
mod park;

/// The included modules reach atomics and locks through `crate::loom`, as in corio-runtime.
mod loom {
    pub(crate) use corio_sync::loom::*;
}

/// Test double of corio-runtime's driver (see the module docs).
mod driver {
    use crate::loom::{Condvar, Mutex};
    use std::time::Duration;

    #[derive(Debug)]
    pub(crate) struct Driver {
        unparked: Mutex<bool>,
        condvar: Condvar,
    }

    impl Driver {
        pub(crate) fn new() -> Driver {
            Driver {
                unparked: Mutex::new(false),
                condvar: Condvar::new(),
            }
        }

        /// Blocks until unparked (a pending unpark returns at once); `Some(ZERO)` polls.
        pub(crate) fn park(&self, timeout: Option<Duration>) {
            let mut unparked = self.unparked.lock();
            if timeout != Some(Duration::ZERO) {
                while !*unparked {
                    self.condvar.wait(&mut unparked);
                }
            }
            *unparked = false;
        }

        pub(crate) fn unpark(&self) {
            *self.unparked.lock() = true;
            self.condvar.notify_one();
        }
    }
}

use crate::loom::{thread, Arc, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};
use corio_loom_tests::model_with;
use driver::Driver;
use idle::Idle;
use park::{Parked, Parker};
use std::collections::VecDeque;

// ---------------------------------------------------------------------------------------
// Parker: unpark vs park, on the condvar and in the driver.
// ---------------------------------------------------------------------------------------

/// Another worker holds the reactor, so the parker sleeps on its condvar: an `unpark`
/// racing the park (before the check, between the check and the wait, during the wait)
/// always wakes it. Then a second round reuses the parker.
#[test]
fn parker_unpark_races_park_on_condvar() {
    model_with(3, || {
        let driver = Arc::new(Driver::new());
        let driver_lock = park::DriverLock::new(());
        let parker = Arc::new(Parker::new());
        let _reactor_held_elsewhere = driver_lock.try_lock().unwrap();
        for _ in 0..2 {
            let (p2, d2) = (parker.clone(), driver.clone());
            let t = thread::spawn(move || p2.unpark(&d2));
            assert_eq!(parker.park(&driver, &driver_lock, None), Parked::Condvar);
            t.join().unwrap();
        }
    });
}

/// A watcher parks on its condvar without trying the reactor: an `unpark` racing that park
/// (before the check, between the check and the wait, during the wait) always wakes it.
#[test]
fn parker_unpark_races_park_without_driver() {
    model_with(3, || {
        let driver = Arc::new(Driver::new());
        let parker = Arc::new(Parker::new());
        for _ in 0..2 {
            let (p2, d2) = (parker.clone(), driver.clone());
            let t = thread::spawn(move || p2.unpark(&d2));
            assert_eq!(parker.park_without_driver(None), Parked::Condvar);
            t.join().unwrap();
        }
    });
}

/// The reactor is free, so the parker takes it and sleeps in the driver: an `unpark`
/// racing the park reaches it through `Driver::unpark` (or is seen before it sleeps).
#[test]
fn parker_unpark_races_park_in_driver() {
    model_with(3, || {
        let driver = Arc::new(Driver::new());
        let driver_lock = park::DriverLock::new(());
        let parker = Arc::new(Parker::new());
        let (p2, d2) = (parker.clone(), driver.clone());
        let t = thread::spawn(move || p2.unpark(&d2));
        let _how = parker.park(&driver, &driver_lock, None);
        t.join().unwrap();
        assert!(driver_lock.try_lock().is_some(), "reactor left held");
    });
}

/// Two parkers, one reactor: whoever loses the reactor try-lock sleeps on its condvar,
/// the other in the driver; unparking both (from a third thread) wakes both, wherever
/// each one sleeps, and the reactor is free again afterwards.
#[test]
fn parker_two_workers_one_reactor() {
    model_with(3, || {
        let driver = Arc::new(Driver::new());
        let driver_lock = Arc::new(park::DriverLock::new(()));
        let parkers = Arc::new([Parker::new(), Parker::new()]);
        let (p2, d2, l2) = (parkers.clone(), driver.clone(), driver_lock.clone());
        let other = thread::spawn(move || p2[1].park(&d2, &l2, None));
        let (p3, d3) = (parkers.clone(), driver.clone());
        let waker = thread::spawn(move || {
            p3[1].unpark(&d3);
            p3[0].unpark(&d3);
        });
        let _mine = parkers[0].park(&driver, &driver_lock, None);
        let _theirs = other.join().unwrap();
        waker.join().unwrap();
        assert!(driver_lock.try_lock().is_some(), "reactor left held");
    });
}

// ---------------------------------------------------------------------------------------
// Idle: searching / parked accounting, no lost wake-up between "queues looked empty" and
// "parked".
// ---------------------------------------------------------------------------------------

/// Worker 0 is parked; worker 1 (a thread) runs out of work, searches the injector, finds
/// it empty and parks. Meanwhile a task is spawned from outside (pushed to the injector,
/// then `worker_to_notify`). The spawner skips the wake-up if it sees a searcher, so the
/// last searcher to park must look at the queues once more (`notify_if_work_pending`).
/// With `rescan = false` it does not: the task can be left in the injector with every
/// worker parked and nobody woken.
fn last_searcher_vs_spawn(rescan: bool) {
    model_with(3, move || {
        let idle = Arc::new(Idle::new(2));
        let injector = Arc::new(Mutex::new(VecDeque::new()));
        let woken = Arc::new(Mutex::new(Vec::new()));
        assert!(!idle.transition_worker_to_parked(0, false));

        let (idle1, inj1, woken1) = (idle.clone(), injector.clone(), woken.clone());
        let worker = thread::spawn(move || {
            // Refused if the spawner already woke worker 0 (it then counts as searching).
            let searching = idle1.transition_worker_to_searching();
            if let Some(task) = inj1.lock().pop_front() {
                if searching && idle1.transition_worker_from_searching() {
                    woken1.lock().extend(idle1.worker_to_notify());
                }
                return Some(task);
            }
            if idle1.transition_worker_to_parked(1, searching) && rescan && !inj1.lock().is_empty()
            {
                woken1.lock().extend(idle1.worker_to_notify());
            }
            None
        });

        injector.lock().push_back(7);
        woken.lock().extend(idle.worker_to_notify());

        let ran = worker.join().unwrap();
        let woken = woken.lock().clone();
        assert!(
            ran.is_some() || !woken.is_empty(),
            "task stranded in the injector with every worker parked"
        );
        // Whoever was woken was unlisted exactly once.
        for &w in &woken {
            assert!(!idle.is_parked(w));
        }
        assert!(woken.len() <= 1, "two wake-ups for one task: {woken:?}");
    });
}

#[test]
fn idle_last_searcher_rescans_before_parking() {
    last_searcher_vs_spawn(true);
}

#[test]
#[should_panic(expected = "task stranded")]
fn broken_twin_idle_last_searcher_skips_rescan() {
    last_searcher_vs_spawn(false);
}

/// Two workers of two try to search at once: the "at most half" cap lets exactly one in
/// (the check and the increment are one compare-and-swap). Both then find nothing and
/// park: the searching count must come back to zero — else every later spawn would see
/// "someone is searching", skip the wake-up, and strand its task. A spawn afterwards
/// wakes one worker.
#[test]
fn idle_searching_count_returns_to_zero() {
    model_with(3, || {
        let idle = Arc::new(Idle::new(2));
        // Searchers between their grant and their park; never above the cap of 1. The
        // grant comes before the increment and the decrement before the park, so this
        // can only exceed 1 if the cap itself let two workers in together.
        let inside = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let (idle, inside) = (idle.clone(), inside.clone());
                thread::spawn(move || {
                    let searching = idle.transition_worker_to_searching();
                    if searching {
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        assert!(now <= 1, "two of two workers search at once");
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                    idle.transition_worker_to_parked(i, searching)
                })
            })
            .collect();
        let last: Vec<bool> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(
            last.contains(&true),
            "nobody was the last searcher: {last:?}"
        );
        let woken = idle
            .worker_to_notify()
            .expect("searching count stuck above zero");
        assert!(!idle.is_parked(woken));
        assert_eq!(
            idle.worker_to_notify(),
            None,
            "the woken worker now searches"
        );
    });
}

// ---------------------------------------------------------------------------------------
// The whole worker park protocol: Idle + Parker + driver, real blocking.
// ---------------------------------------------------------------------------------------

struct Shared {
    idle: Idle,
    parkers: Vec<Parker>,
    driver: Driver,
    driver_lock: park::DriverLock,
    injector: Mutex<VecDeque<u32>>,
    ran: AtomicUsize,
    /// Signalled after each task run, so the spawner can wait without spinning.
    ran_lock: Mutex<()>,
    ran_cv: Condvar,
    shutdown: AtomicBool,
}

impl Shared {
    fn new(workers: usize) -> Arc<Shared> {
        Arc::new(Shared {
            idle: Idle::new(workers),
            parkers: (0..workers).map(|_| Parker::new()).collect(),
            driver: Driver::new(),
            driver_lock: park::DriverLock::new(()),
            injector: Mutex::new(VecDeque::new()),
            ran: AtomicUsize::new(0),
            ran_lock: Mutex::new(()),
            ran_cv: Condvar::new(),
            shutdown: AtomicBool::new(false),
        })
    }

    fn notify_parked(&self) {
        if let Some(i) = self.idle.worker_to_notify() {
            self.parkers[i].unpark(&self.driver);
        }
    }

    fn notify_if_work_pending(&self) {
        if !self.injector.lock().is_empty() {
            self.notify_parked();
        }
    }

    /// `schedule_remote`: push, then wake a parked worker unless someone searches.
    fn spawn(&self, task: u32) {
        self.injector.lock().push_back(task);
        self.notify_parked();
    }

    /// One worker's loop (worker.rs `run` → `next_task` / `steal_work` → `park` →
    /// `transition_from_parked`), without a local queue, until `stop` says so.
    fn worker(&self, index: usize, stop: impl Fn(&Shared) -> bool) {
        let mut searching = false;
        while !stop(self) {
            // next_task: the injector (local queue and LIFO slot are not modelled).
            let mut task = self.injector.lock().pop_front();
            if task.is_none() {
                // steal_work: as one of at most half the workers.
                if !searching {
                    searching = self.idle.transition_worker_to_searching();
                }
                if searching {
                    task = self.injector.lock().pop_front();
                }
            }
            if task.is_some() {
                // transition_from_searching: the last searcher to find work wakes another.
                if std::mem::replace(&mut searching, false)
                    && self.idle.transition_worker_from_searching()
                {
                    self.notify_parked();
                }
                {
                    let _g = self.ran_lock.lock();
                    self.ran.fetch_add(1, Ordering::SeqCst);
                    self.ran_cv.notify_all();
                }
                continue;
            }
            // park
            let was_searching = std::mem::replace(&mut searching, false);
            if self.idle.transition_worker_to_parked(index, was_searching) {
                self.notify_if_work_pending();
            }
            loop {
                self.parkers[index].park(&self.driver, &self.driver_lock, None);
                if self.shutdown.load(Ordering::SeqCst) {
                    return;
                }
                // transition_from_parked: still listed as parked = spurious wake-up.
                if !self.idle.is_parked(index) {
                    searching = true; // the notifier counted us as searching
                    break;
                }
            }
        }
    }

    fn shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        for p in &self.parkers {
            p.unpark(&self.driver);
        }
    }
}

/// One worker, one task spawned from outside while the worker goes from "nothing to do"
/// to parked (in the driver, as the reactor holder): the worker always wakes up and runs
/// the task — a lost wake-up is a loom deadlock.
#[test]
fn worker_park_no_lost_wakeup_one_worker() {
    model_with(3, || {
        let shared = Shared::new(1);
        let s2 = shared.clone();
        let worker = thread::spawn(move || s2.worker(0, |s| s.ran.load(Ordering::SeqCst) > 0));
        shared.spawn(1);
        worker.join().unwrap();
        assert_eq!(shared.ran.load(Ordering::SeqCst), 1);
    });
}

/// Two workers (threads), a task spawned from outside: it runs exactly once, no worker
/// stays asleep with the task queued (the spawner waits for it on a condvar, so a lost
/// wake-up is a loom deadlock), and shutdown wakes both workers.
///
/// The reactor is held by the spawner throughout, so both workers sleep on their condvars.
/// (With a loom mutex as the reactor lock, two workers racing `driver_lock.try_lock()` hit
/// tokio-rs/loom#376: loom marks the loser blocked when the winner acquires, a false
/// deadlock; under loom `park::DriverLock` is therefore an atomic flag.) The driver path
/// is covered by the one-worker model, the parker models above and the runtime models of
/// `tasks_in_models.rs`.
#[test]
fn worker_park_two_workers_one_task() {
    model_with(3, || {
        let shared = Shared::new(2);
        let _reactor_held_elsewhere = shared.driver_lock.try_lock().unwrap();
        let workers: Vec<_> = (0..2)
            .map(|i| {
                let s = shared.clone();
                thread::spawn(move || s.worker(i, |s| s.shutdown.load(Ordering::SeqCst)))
            })
            .collect();
        shared.spawn(1);
        {
            let mut g = shared.ran_lock.lock();
            while shared.ran.load(Ordering::SeqCst) == 0 {
                shared.ran_cv.wait(&mut g);
            }
        }
        shared.shutdown();
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(shared.ran.load(Ordering::SeqCst), 1);
        assert!(shared.injector.lock().is_empty());
    });
}
