//! The task state word: lifecycle bits and the reference count in one atomic.
//!
//! Every transition is a single atomic read-modify-write (a CAS loop or a `fetch_*`), named
//! `transition_to_*` and returning a `#[must_use]` value that tells the caller what it now
//! owns. The module depends only on `crate::loom`, so loom models can drive it directly.
//!
//! Ownership rules encoded by the bits:
//! - `RUNNING`: the thread that set it has exclusive access to the future (the stage).
//! - `COMPLETE`: the output (or the error) is stored; the future is gone. Terminal.
//! - `NOTIFIED`: a `Notified` reference for this task sits in a run queue (or is about to).
//! - `CANCELLED`: whoever next owns the future must drop it instead of polling it.
//! - `JOIN_INTEREST`: a `Task<T>` handle exists; it, not the runtime, drops the output.
//! - `JOIN_WAKER`: the join waker slot is written and the runtime may read it (to wake the
//!   handle on completion). While unset, the handle has exclusive access to the slot.
//!
//! Layout (64-bit): bits 0–5 the flags above, bits 6–31 the reference count, bits 32–63
//! how many times the task was polled (counted, wrapping, by `transition_to_running`'s
//! CAS, so it costs nothing extra; read by task dumps). On 32-bit targets the reference
//! count has every bit above the flags and polls are not counted.

use std::fmt;

use crate::loom::{AtomicUsize, Ordering};

const RUNNING: usize = 0b00_0001;
const COMPLETE: usize = 0b00_0010;
const NOTIFIED: usize = 0b00_0100;
const JOIN_INTEREST: usize = 0b00_1000;
const JOIN_WAKER: usize = 0b01_0000;
const CANCELLED: usize = 0b10_0000;
const LIFECYCLE_MASK: usize = RUNNING | COMPLETE;
const STATE_BITS: usize = 6;
const REF_ONE: usize = 1 << STATE_BITS;
#[cfg(target_pointer_width = "64")]
const POLL_SHIFT: u32 = 32;
/// The reference-count bits.
#[cfg(target_pointer_width = "64")]
const REF_MASK: usize = ((1 << POLL_SHIFT) - 1) & !(REF_ONE - 1);
#[cfg(not(target_pointer_width = "64"))]
const REF_MASK: usize = !(REF_ONE - 1);

/// A new task has three references (the registry, the first `Notified`, the `Task` handle),
/// is notified (about to be queued) and has a join handle.
const INITIAL: usize = (REF_ONE * 3) | NOTIFIED | JOIN_INTEREST;

/// The atomic state word of a task.
pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word at one instant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// What [`State::transition_to_running`] decided.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// The caller owns the future and must poll it.
    Success,
    /// The caller owns the future and must drop it (the task was cancelled).
    Cancelled,
    /// Someone else runs it or it is complete; the notification's reference was dropped.
    Failed,
    /// As `Failed`, and that was the last reference: deallocate.
    Dealloc,
}

/// What [`State::transition_to_idle`] decided after a `Pending` poll.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// Idle; the notification's reference was dropped.
    Ok,
    /// Woken during the poll: a new reference was created for the caller to schedule.
    OkNotified,
    /// Idle and that was the last reference: deallocate.
    OkDealloc,
    /// Cancelled during the poll: the caller still owns the future and must drop it.
    Cancelled,
}

/// What [`State::transition_to_notified_by_val`] decided (a waker consumed by `wake`).
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotifiedByVal {
    /// Nothing to schedule; the waker's reference was dropped.
    DoNothing,
    /// Schedule a new `Notified` (a reference was added), then drop the waker's reference.
    Submit,
    /// Nothing to schedule and the waker's reference was the last: deallocate.
    Dealloc,
}

/// What [`State::transition_to_notified_by_ref`] decided (`wake_by_ref`).
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotifiedByRef {
    /// Already queued, running (it will be requeued) or complete.
    DoNothing,
    /// Schedule a new `Notified` (a reference was added).
    Submit,
}

/// What [`State::transition_to_notified_and_cancel`] decided (`Task::cancel`).
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToCancel {
    /// The task had already completed: nothing changed.
    AlreadyComplete,
    /// Marked cancelled; whoever runs it next drops the future.
    DoNothing,
    /// Marked cancelled and notified: schedule the new `Notified` so a worker drops it.
    Submit,
}

/// What the `Task` handle must clean up when it is dropped.
#[must_use]
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TransitionToJoinHandleDropped {
    /// The task completed: the handle owns the output and must drop it.
    pub(crate) drop_output: bool,
    /// The handle has exclusive access to the join waker slot and must clear it.
    pub(crate) drop_waker: bool,
}

impl State {
    /// The state of a freshly spawned task.
    pub(crate) fn new() -> State {
        State {
            val: AtomicUsize::new(INITIAL),
        }
    }

    /// Loads the current state.
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Ordering::Acquire))
    }

    /// Applies `f` in a CAS loop; `f` returns the result and the next state (or `None` to
    /// leave the word unchanged).
    fn fetch_update_action<T>(&self, mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut curr = self.load();
        loop {
            let (output, next) = f(curr);
            let Some(next) = next else {
                return output;
            };
            match self.val.compare_exchange_weak(
                curr.0,
                next.0,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return output,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// A worker took a `Notified` from a queue and wants to poll the task.
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update_action(|mut next| {
            debug_assert!(next.is_notified(), "running a task that was not notified");
            if !next.is_idle() {
                // Running elsewhere or complete (e.g. shut down): consume our reference.
                next.ref_dec();
                let action = if next.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (action, Some(next));
            }
            next.0 |= RUNNING;
            next.0 &= !NOTIFIED;
            next.count_poll();
            let action = if next.is_cancelled() {
                TransitionToRunning::Cancelled
            } else {
                TransitionToRunning::Success
            };
            (action, Some(next))
        })
    }

    /// The poll returned `Pending`: give up the future.
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_running());
            if curr.is_cancelled() {
                return (TransitionToIdle::Cancelled, None);
            }
            let mut next = curr;
            next.0 &= !RUNNING;
            let action = if next.is_notified() {
                // Woken while running: the caller schedules a new notification.
                next.ref_inc();
                TransitionToIdle::OkNotified
            } else {
                // The poll consumed the notification's reference.
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToIdle::OkDealloc
                } else {
                    TransitionToIdle::Ok
                }
            };
            (action, Some(next))
        })
    }

    /// The future finished (or was dropped): `RUNNING` → `COMPLETE` in one `fetch_xor`.
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        const DELTA: usize = RUNNING | COMPLETE;
        let prev = Snapshot(self.val.fetch_xor(DELTA, Ordering::AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        Snapshot(prev.0 ^ DELTA)
    }

    /// Drops `count` references after completion; true if they were the last.
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Snapshot(self.val.fetch_sub(count * REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= count, "task reference count underflow");
        prev.ref_count() == count
    }

    /// `wake()`: consumes the waker's reference.
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotifiedByVal {
        self.fetch_update_action(|mut next| {
            let action = if next.is_running() {
                // The poller will see NOTIFIED in `transition_to_idle` and requeue.
                next.0 |= NOTIFIED;
                next.ref_dec();
                debug_assert!(next.ref_count() > 0);
                TransitionToNotifiedByVal::DoNothing
            } else if next.is_complete() || next.is_notified() {
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToNotifiedByVal::Dealloc
                } else {
                    TransitionToNotifiedByVal::DoNothing
                }
            } else {
                next.0 |= NOTIFIED;
                next.ref_inc();
                TransitionToNotifiedByVal::Submit
            };
            (action, Some(next))
        })
    }

    /// `wake_by_ref()`.
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotifiedByRef {
        self.fetch_update_action(|mut next| {
            if next.is_complete() || next.is_notified() {
                (TransitionToNotifiedByRef::DoNothing, None)
            } else if next.is_running() {
                next.0 |= NOTIFIED;
                (TransitionToNotifiedByRef::DoNothing, Some(next))
            } else {
                next.0 |= NOTIFIED;
                next.ref_inc();
                (TransitionToNotifiedByRef::Submit, Some(next))
            }
        })
    }

    /// `Task::cancel()`: mark cancelled and make sure a worker gets to drop the future.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> TransitionToCancel {
        self.fetch_update_action(|mut next| {
            if next.is_complete() {
                return (TransitionToCancel::AlreadyComplete, None);
            }
            if next.is_cancelled() {
                return (TransitionToCancel::DoNothing, None);
            }
            next.0 |= CANCELLED;
            if next.is_running() || next.is_notified() {
                // Running: dropped after this poll. Queued: dropped instead of polled.
                next.0 |= NOTIFIED;
                (TransitionToCancel::DoNothing, Some(next))
            } else {
                next.0 |= NOTIFIED;
                next.ref_inc();
                (TransitionToCancel::Submit, Some(next))
            }
        })
    }

    /// Runtime shutdown: mark cancelled and, if nobody runs it, claim the future (sets
    /// `RUNNING`). True if the caller now owns the future and must drop it.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        let mut claimed = false;
        self.fetch_update_action(|mut next| {
            claimed = next.is_idle();
            if claimed {
                next.0 |= RUNNING;
            }
            next.0 |= CANCELLED;
            ((), Some(next))
        });
        claimed
    }

    /// Fast path of dropping a `Task` handle that was never polled: only succeeds from the
    /// initial state (the common `spawn(..);` pattern).
    pub(crate) fn drop_join_handle_fast(&self) -> Result<(), ()> {
        self.val
            .compare_exchange(
                INITIAL,
                (INITIAL - REF_ONE) & !JOIN_INTEREST,
                Ordering::Release,
                Ordering::Relaxed,
            )
            .map(|_| ())
            .map_err(|_| ())
    }

    /// The `Task` handle is dropped: give up join interest (and the waker slot if the task
    /// is still running). The caller then drops its reference.
    pub(crate) fn transition_to_join_handle_dropped(&self) -> TransitionToJoinHandleDropped {
        self.fetch_update_action(|mut next| {
            debug_assert!(next.is_join_interested());
            next.0 &= !JOIN_INTEREST;
            let drop_output = next.is_complete();
            if !drop_output {
                // Take the waker slot back: the runtime reads it only if JOIN_WAKER is set
                // when it completes, which now cannot happen.
                next.0 &= !JOIN_WAKER;
            }
            let drop_waker = !next.is_join_waker_set();
            (
                TransitionToJoinHandleDropped {
                    drop_output,
                    drop_waker,
                },
                Some(next),
            )
        })
    }

    /// The handle wrote the join waker: publish it to the runtime. Fails (returning the
    /// state) if the task completed meanwhile; the handle keeps exclusive access then.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_join_interested() && !curr.is_join_waker_set());
            if curr.is_complete() {
                return (Err(curr), None);
            }
            let next = Snapshot(curr.0 | JOIN_WAKER);
            (Ok(next), Some(next))
        })
    }

    /// The handle wants to replace the join waker: take the slot back. Fails if complete.
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_join_interested() && curr.is_join_waker_set());
            if curr.is_complete() {
                return (Err(curr), None);
            }
            let next = Snapshot(curr.0 & !JOIN_WAKER);
            (Ok(next), Some(next))
        })
    }

    /// Adds a reference (waker clone, new notification).
    pub(crate) fn ref_inc(&self) {
        let prev = Snapshot(self.val.fetch_add(REF_ONE, Ordering::Relaxed));
        if prev.ref_count() > REF_MASK >> (STATE_BITS + 1) {
            // Like `Arc`: a count this large (half the field) means references are being
            // leaked in a loop; stop before the count could carry into the poll counter.
            std::process::abort();
        }
    }

    /// Drops a reference; true if it was the last (the caller deallocates).
    #[must_use]
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.val.fetch_sub(REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= 1, "task reference count underflow");
        prev.ref_count() == 1
    }
}

impl Snapshot {
    pub(crate) fn is_idle(self) -> bool {
        self.0 & LIFECYCLE_MASK == 0
    }
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) >> STATE_BITS
    }
    /// How many times the task was polled (or began being dropped), wrapping at 2^32; `None`
    /// where the state word has no room for the count (32-bit targets).
    pub(crate) fn polls(self) -> Option<u32> {
        #[cfg(target_pointer_width = "64")]
        {
            Some((self.0 >> POLL_SHIFT) as u32)
        }
        #[cfg(not(target_pointer_width = "64"))]
        {
            None
        }
    }
    fn count_poll(&mut self) {
        #[cfg(target_pointer_width = "64")]
        {
            // Wrapping: the carry out of the top bit is dropped, the other bits are untouched.
            self.0 = self.0.wrapping_add(1 << POLL_SHIFT);
        }
    }
    fn ref_inc(&mut self) {
        self.0 += REF_ONE;
    }
    fn ref_dec(&mut self) {
        debug_assert!(self.ref_count() > 0);
        self.0 -= REF_ONE;
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.load().fmt(f)
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .finish()
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn run_to_completion_releases_references() {
        let s = State::new();
        assert_eq!(s.load().ref_count(), 3);
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        let snap = s.transition_to_complete();
        assert!(snap.is_complete() && !snap.is_running());
        // The poll's (notification) reference and the registry's.
        assert!(!s.transition_to_terminal(2));
        // The handle's.
        let t = s.transition_to_join_handle_dropped();
        assert!(t.drop_output && t.drop_waker);
        assert!(s.ref_dec());
    }

    #[test]
    fn wake_while_running_requeues_after_poll() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(
            s.transition_to_notified_by_ref(),
            TransitionToNotifiedByRef::DoNothing
        );
        assert_eq!(s.transition_to_idle(), TransitionToIdle::OkNotified);
        assert_eq!(s.load().ref_count(), 4);
    }

    #[test]
    fn cancel_idle_task_submits_and_running_it_cancels() {
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Ok);
        assert_eq!(
            s.transition_to_notified_and_cancel(),
            TransitionToCancel::Submit
        );
        assert_eq!(
            s.transition_to_notified_and_cancel(),
            TransitionToCancel::DoNothing
        );
        assert_eq!(s.transition_to_running(), TransitionToRunning::Cancelled);
        let _ = s.transition_to_complete();
        assert_eq!(
            s.transition_to_notified_and_cancel(),
            TransitionToCancel::AlreadyComplete
        );
    }

    #[test]
    fn shutdown_claims_only_idle_tasks() {
        let s = State::new();
        assert!(s.transition_to_shutdown());
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert!(!s.transition_to_shutdown());
        assert_eq!(s.transition_to_idle(), TransitionToIdle::Cancelled);
    }

    #[test]
    fn join_waker_cannot_be_set_after_completion() {
        let s = State::new();
        assert!(s.set_join_waker().is_ok());
        assert!(s.unset_join_waker().is_ok());
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        let _ = s.transition_to_complete();
        assert!(s.set_join_waker().is_err());
    }

    #[test]
    fn fast_drop_only_from_initial_state() {
        let s = State::new();
        assert!(s.drop_join_handle_fast().is_ok());
        assert!(!s.load().is_join_interested());
        let s = State::new();
        assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
        assert!(s.drop_join_handle_fast().is_err());
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn polls_are_counted_apart_from_the_references() {
        let s = State::new();
        assert_eq!(s.load().polls(), Some(0));
        for n in 1..=3u32 {
            assert_eq!(s.transition_to_running(), TransitionToRunning::Success);
            assert_eq!(s.load().polls(), Some(n));
            assert_eq!(
                s.transition_to_notified_by_ref(),
                TransitionToNotifiedByRef::DoNothing
            );
            assert_eq!(s.transition_to_idle(), TransitionToIdle::OkNotified);
            assert_eq!(s.load().ref_count(), 4, "after poll {n}");
            assert!(!s.ref_dec());
        }
        // The count wraps without touching the flags or the references.
        let mut snap = Snapshot(s.load().0 | (u32::MAX as usize) << POLL_SHIFT);
        snap.count_poll();
        assert_eq!(snap.polls(), Some(0));
        assert_eq!(snap.ref_count(), 3);
        assert!(snap.is_join_interested() && !snap.is_running());
    }
}
