//! loom models of the task state machine: corio-runtime's own `task/state.rs`, compiled
//! here verbatim (`#[path]`), driven by a harness that takes the same steps as
//! `task/harness.rs`, `task/waker.rs` and `task/join.rs` (poll → idle / complete, wake by
//! value, cancel, join-waker registration, join-handle drop).
//!
//! The task's stage (future → output) and its join-waker slot are loom `UnsafeCell`s, so an
//! ownership bug in the state word — two threads touching the output, the runtime reading
//! the waker while the handle writes it — is reported by loom as a data race. Each model
//! also checks that the future is dropped exactly once, the output is disposed of exactly
//! once, no wake-up is lost, and the reference count reaches zero exactly once (and
//! nothing touches the task after that).
#![cfg(loom)]

#[allow(dead_code)]
#[path = "../../runtime/src/task/state.rs"]
mod state;

/// `state.rs` reaches its atomics through `crate::loom`, as it does inside corio-runtime.
mod loom {
    pub(crate) use corio_sync::loom::*;
}

use crate::loom::{thread, AtomicBool, AtomicUsize, Mutex, Ordering, UnsafeCell};
use corio_loom_tests::model_with;
use corio_loom_tests::probe::Probe;
use state::{
    State, TransitionToCancel, TransitionToIdle, TransitionToNotifiedByVal, TransitionToRunning,
};
use std::mem;
use std::sync::Arc;
use std::task::{Poll, Waker};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cancelled;

enum Stage {
    /// The future: ready once `Task::event` is set.
    Running,
    Finished(Result<u32, Cancelled>),
    Consumed,
}

/// One task allocation. Its lifetime is what the state word's reference count tracks; the
/// `std::sync::Arc` only keeps the memory around so the model can check afterwards.
struct Task {
    state: State,
    stage: UnsafeCell<Stage>,
    join_waker: UnsafeCell<Option<Waker>>,
    /// What the future waits for.
    event: AtomicBool,
    /// `Notified` references sitting in the run queue.
    queued: Mutex<usize>,
    /// Listed in the runtime's registry (which holds a reference while it is).
    listed: Mutex<bool>,
    future_drops: AtomicUsize,
    output_disposals: AtomicUsize,
    freed: AtomicBool,
}

// SAFETY: like corio's task cell: the stage and the join-waker slot are only accessed as
// the state word's ownership rules allow — which is what these models check (loom's cells
// report any access that breaks them).
unsafe impl Send for Task {}
// SAFETY: as above.
unsafe impl Sync for Task {}

impl Task {
    /// A spawned task: registry + first `Notified` (queued) + join handle references.
    fn spawn(ready: bool) -> Arc<Task> {
        Arc::new(Task {
            state: State::new(),
            stage: UnsafeCell::new(Stage::Running),
            join_waker: UnsafeCell::new(None),
            event: AtomicBool::new(ready),
            queued: Mutex::new(1),
            listed: Mutex::new(true),
            future_drops: AtomicUsize::new(0),
            output_disposals: AtomicUsize::new(0),
            freed: AtomicBool::new(false),
        })
    }

    fn alive(&self) {
        assert!(!self.freed.load(Ordering::SeqCst), "task used after free");
    }

    fn dealloc(&self) {
        assert!(!self.freed.swap(true, Ordering::SeqCst), "task freed twice");
        assert_eq!(
            self.state.load().ref_count(),
            0,
            "freed with live references"
        );
    }

    fn drop_reference(&self) {
        self.alive();
        if self.state.ref_dec() {
            self.dealloc();
        }
    }

    fn schedule(&self) {
        *self.queued.lock() += 1;
    }

    // ---- worker side (harness::poll) ----

    /// Takes one `Notified` from the run queue and runs it; false if there was none.
    fn run_one(&self) -> bool {
        {
            let mut q = self.queued.lock();
            if *q == 0 {
                return false;
            }
            *q -= 1;
        }
        self.poll();
        true
    }

    fn poll(&self) {
        self.alive();
        match self.state.transition_to_running() {
            TransitionToRunning::Success => {
                if self.poll_future().is_ready() {
                    self.complete();
                    return;
                }
                match self.state.transition_to_idle() {
                    TransitionToIdle::Ok => {}
                    TransitionToIdle::OkNotified => {
                        self.schedule();
                        self.drop_reference();
                    }
                    TransitionToIdle::OkDealloc => self.dealloc(),
                    TransitionToIdle::Cancelled => {
                        self.cancel_task();
                        self.complete();
                    }
                }
            }
            TransitionToRunning::Cancelled => {
                self.cancel_task();
                self.complete();
            }
            TransitionToRunning::Failed => {}
            TransitionToRunning::Dealloc => self.dealloc(),
        }
    }

    fn poll_future(&self) -> Poll<()> {
        let ready = self.event.load(Ordering::SeqCst);
        self.stage.with_mut(|p| {
            // SAFETY: RUNNING gives this thread the stage (loom checks it).
            let stage = unsafe { &mut *p };
            assert!(matches!(stage, Stage::Running), "polled a finished task");
            if ready {
                *stage = Stage::Finished(Ok(42));
                self.future_drops.fetch_add(1, Ordering::SeqCst);
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    fn cancel_task(&self) {
        self.stage.with_mut(|p| {
            // SAFETY: as in poll_future.
            let stage = unsafe { &mut *p };
            assert!(matches!(stage, Stage::Running), "cancelled a finished task");
            *stage = Stage::Finished(Err(Cancelled));
        });
        self.future_drops.fetch_add(1, Ordering::SeqCst);
    }

    fn dispose_output(&self) -> Option<Result<u32, Cancelled>> {
        let old = self.stage.with_mut(|p| {
            // SAFETY: the caller owns the output by the state word's rules.
            mem::replace(unsafe { &mut *p }, Stage::Consumed)
        });
        match old {
            Stage::Finished(out) => {
                self.output_disposals.fetch_add(1, Ordering::SeqCst);
                Some(out)
            }
            Stage::Consumed => None,
            Stage::Running => panic!("output taken from a running task"),
        }
    }

    fn complete(&self) {
        let snapshot = self.state.transition_to_complete();
        if !snapshot.is_join_interested() {
            self.dispose_output();
        } else if snapshot.is_join_waker_set() {
            self.join_waker.with(|p| {
                // SAFETY: JOIN_WAKER set at completion: the runtime may read the slot.
                let waker = unsafe { &*p };
                waker
                    .as_ref()
                    .expect("JOIN_WAKER without a waker")
                    .wake_by_ref();
            });
        }
        // The `Notified` being run, and the registry's reference if it still listed the
        // task (`Schedule::release`); if runtime shutdown unlisted it first, the reference
        // being run *is* the registry's.
        let released = mem::replace(&mut *self.listed.lock(), false);
        if self
            .state
            .transition_to_terminal(if released { 2 } else { 1 })
        {
            self.dealloc();
        }
    }

    // ---- waker side (waker.rs) ----

    /// A waker clone taken by the future during a poll.
    fn clone_waker(&self) {
        self.state.ref_inc();
    }

    fn wake_by_val(&self) {
        self.alive();
        match self.state.transition_to_notified_by_val() {
            TransitionToNotifiedByVal::Submit => {
                self.schedule();
                self.drop_reference();
            }
            TransitionToNotifiedByVal::Dealloc => self.dealloc(),
            TransitionToNotifiedByVal::DoNothing => {}
        }
    }

    // ---- join handle side (join.rs, harness::can_read_output) ----

    fn cancel(&self) -> bool {
        self.alive();
        match self.state.transition_to_notified_and_cancel() {
            TransitionToCancel::AlreadyComplete => false,
            TransitionToCancel::DoNothing => true,
            TransitionToCancel::Submit => {
                self.schedule();
                true
            }
        }
    }

    fn set_join_waker(&self, waker: &Waker) -> Result<(), ()> {
        // SAFETY: JOIN_WAKER is clear: the handle owns the slot.
        self.join_waker
            .with_mut(|p| unsafe { *p = Some(waker.clone()) });
        match self.state.set_join_waker() {
            Ok(_) => Ok(()),
            Err(_) => {
                // SAFETY: completed first, so the runtime never read the slot.
                self.join_waker.with_mut(|p| unsafe { *p = None });
                Err(())
            }
        }
    }

    fn poll_join(&self, waker: &Waker) -> Poll<Result<u32, Cancelled>> {
        self.alive();
        let snapshot = self.state.load();
        let readable = if snapshot.is_complete() {
            true
        } else {
            let res = if snapshot.is_join_waker_set() {
                // SAFETY: JOIN_WAKER set: shared reads only.
                let same = self.join_waker.with(|p| unsafe {
                    (*p).as_ref()
                        .expect("JOIN_WAKER without a waker")
                        .will_wake(waker)
                });
                if same {
                    return Poll::Pending;
                }
                self.state
                    .unset_join_waker()
                    .map_err(|_| ())
                    .and_then(|_| self.set_join_waker(waker))
            } else {
                self.set_join_waker(waker)
            };
            res.is_err()
        };
        if !readable {
            return Poll::Pending;
        }
        Poll::Ready(self.dispose_output().expect("output already taken"))
    }

    fn drop_join_handle(&self) {
        self.alive();
        if self.state.drop_join_handle_fast().is_ok() {
            return;
        }
        let t = self.state.transition_to_join_handle_dropped();
        if t.drop_output {
            self.dispose_output();
        }
        if t.drop_waker {
            // SAFETY: the transition gave the slot back to the handle.
            let waker = self.join_waker.with_mut(|p| unsafe { (*p).take() });
            drop(waker);
        }
        self.drop_reference();
    }

    // ---- runtime shutdown (registry.rs close_and_shutdown_all, harness::shutdown) ----

    /// The registry pops the task (if still listed) and shuts it down with its reference.
    fn shutdown_from_registry(&self) {
        if !mem::replace(&mut *self.listed.lock(), false) {
            return; // completed and released first
        }
        if !self.state.transition_to_shutdown() {
            // Running (the worker finishes or cancels it) or complete: drop our reference.
            self.drop_reference();
            return;
        }
        self.cancel_task();
        self.complete();
    }

    /// Workers exiting at shutdown drop the `Notified`s left in their queues.
    fn drop_queued(&self) {
        loop {
            {
                let mut q = self.queued.lock();
                if *q == 0 {
                    return;
                }
                *q -= 1;
            }
            self.drop_reference();
        }
    }

    /// Runs whatever is still queued (the worker keeps going after the racing part).
    fn drain(&self) {
        while self.run_one() {}
    }

    fn assert_done(&self) {
        assert!(self.freed.load(Ordering::SeqCst), "task leaked");
        assert_eq!(self.future_drops.load(Ordering::SeqCst), 1, "future drops");
        assert_eq!(
            self.output_disposals.load(Ordering::SeqCst),
            1,
            "output disposals"
        );
    }
}

/// The worker completes the task while the join handle is dropped: the output is dropped
/// by exactly one side, and the task is freed exactly once.
#[test]
fn task_complete_races_join_handle_drop() {
    model_with(3, || {
        let task = Task::spawn(true);
        let t2 = task.clone();
        let worker = thread::spawn(move || t2.drain());
        task.drop_join_handle();
        worker.join().unwrap();
        task.assert_done();
    });
}

/// The join handle registers (and then swaps) its waker while the worker completes the
/// task: if the handle sees `Pending`, its latest waker is woken exactly once and the
/// output is then readable. Then the handle is dropped and the task freed exactly once.
#[test]
fn task_join_waker_races_completion() {
    model_with(3, || {
        let task = Task::spawn(true);
        let t2 = task.clone();
        let worker = thread::spawn(move || t2.drain());
        let (p1, p2) = (Probe::new(), Probe::new());
        let mut out = task.poll_join(p1.waker());
        if out.is_pending() {
            out = task.poll_join(p2.waker());
        }
        worker.join().unwrap();
        let out = match out {
            Poll::Ready(out) => out,
            Poll::Pending => {
                assert_eq!(p2.wakes(), 1, "join wake-up lost");
                match task.poll_join(p2.waker()) {
                    Poll::Ready(out) => out,
                    Poll::Pending => panic!("woken but not complete"),
                }
            }
        };
        assert_eq!(out, Ok(42));
        task.drop_join_handle();
        task.assert_done();
    });
}

/// A pending task is woken (event set) while a worker polls it after a spurious wake-up:
/// whether the wake lands before, during (`NOTIFIED` while `RUNNING` → requeued) or after
/// the poll, the task is polled again and completes — no wake-up is lost.
#[test]
fn task_wake_races_poll() {
    model_with(3, || {
        let task = Task::spawn(false);
        // First poll: pending; the future keeps two waker clones (e.g. a timer and a
        // socket), one of which fires spuriously.
        assert!(task.state.transition_to_running() == TransitionToRunning::Success);
        assert!(task.poll_future().is_pending());
        task.clone_waker();
        task.clone_waker();
        *task.queued.lock() -= 1;
        assert_eq!(task.state.transition_to_idle(), TransitionToIdle::Ok);
        task.wake_by_val(); // spurious: event not set

        let t2 = task.clone();
        let source = thread::spawn(move || {
            t2.event.store(true, Ordering::SeqCst);
            t2.wake_by_val();
        });
        let t3 = task.clone();
        let worker = thread::spawn(move || {
            t3.run_one();
        });
        source.join().unwrap();
        worker.join().unwrap();
        task.drain();
        let probe = Probe::new();
        assert_eq!(
            task.poll_join(probe.waker()),
            Poll::Ready(Ok(42)),
            "lost wake-up"
        );
        task.drop_join_handle();
        task.assert_done();
    });
}

/// `cancel` races a wake and a poll: the future is dropped exactly once (completed or
/// cancelled), a `cancel` that returned false means the task had completed, and the task
/// is freed exactly once.
#[test]
fn task_cancel_races_wake_and_poll() {
    model_with(3, || {
        let task = Task::spawn(false);
        // First poll: pending, one waker clone kept by the event source.
        assert!(task.state.transition_to_running() == TransitionToRunning::Success);
        assert!(task.poll_future().is_pending());
        task.clone_waker();
        *task.queued.lock() -= 1;
        assert_eq!(task.state.transition_to_idle(), TransitionToIdle::Ok);

        let t2 = task.clone();
        let source = thread::spawn(move || {
            t2.event.store(true, Ordering::SeqCst);
            t2.wake_by_val();
        });
        let t3 = task.clone();
        let worker = thread::spawn(move || {
            t3.run_one();
        });
        let cancelled = task.cancel();
        source.join().unwrap();
        worker.join().unwrap();
        task.drain();
        let probe = Probe::new();
        let out = match task.poll_join(probe.waker()) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("task neither completed nor cancelled"),
        };
        if !cancelled {
            assert_eq!(out, Ok(42), "cancel() said complete, output says otherwise");
        }
        task.drop_join_handle();
        task.assert_done();
    });
}

/// Runtime shutdown (the registry shutting every listed task down) races a wake and a
/// worker's poll: the future is dropped exactly once — completed by the worker, or claimed
/// and cancelled by shutdown, or cancelled by the worker that finds `CANCELLED` after its
/// poll — the join handle sees a finished task, and the last reference (a `Notified` left
/// in a queue and dropped by the exiting worker, the registry's, the handle's) frees it
/// exactly once.
#[test]
fn task_shutdown_races_wake_and_poll() {
    model_with(3, || {
        let task = Task::spawn(false);
        assert!(task.state.transition_to_running() == TransitionToRunning::Success);
        assert!(task.poll_future().is_pending());
        task.clone_waker();
        *task.queued.lock() -= 1;
        assert_eq!(task.state.transition_to_idle(), TransitionToIdle::Ok);

        let t2 = task.clone();
        let source = thread::spawn(move || {
            t2.event.store(true, Ordering::SeqCst);
            t2.wake_by_val();
        });
        let t3 = task.clone();
        let worker = thread::spawn(move || {
            t3.run_one();
        });
        task.shutdown_from_registry();
        source.join().unwrap();
        worker.join().unwrap();
        task.drop_queued();
        let probe = Probe::new();
        match task.poll_join(probe.waker()) {
            Poll::Ready(out) => assert!(out == Ok(42) || out == Err(Cancelled), "{out:?}"),
            Poll::Pending => panic!("shutdown left the task unfinished"),
        }
        task.drop_join_handle();
        task.assert_done();
    });
}
