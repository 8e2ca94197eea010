//! The generic functions behind a task's vtable: poll, complete, cancel, join.
//!
//! Each one is monomorphized per (future, scheduler) pair and reached through the header's
//! vtable, so queues, wakers and `Task<T>` handles stay type-erased.

use std::future::Future;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::task::{Context, Poll, Waker};

use corio_sync::{coop, trace};

use super::error::{PanicPayload, TaskError};
use super::raw::{Cell, Header, Notified, Outcome, RawTask, Schedule, Stage, Trailer};
use super::state::{TransitionToIdle, TransitionToRunning};
use super::waker::waker_ref;
use crate::runtime::context;

/// A typed view of a task allocation.
struct Harness<F: Future, S: 'static> {
    cell: NonNull<Cell<F, S>>,
}

impl<F: Future, S: Schedule> Harness<F, S> {
    /// # Safety
    ///
    /// `ptr` points to a live `Cell<F, S>` and the caller holds a reference.
    unsafe fn from_raw(ptr: NonNull<Header>) -> Self {
        Harness { cell: ptr.cast() }
    }

    fn cell(&self) -> &Cell<F, S> {
        // SAFETY: `from_raw`'s contract: the allocation is live while we hold a reference.
        unsafe { self.cell.as_ref() }
    }

    fn header(&self) -> &Header {
        &self.cell().header
    }

    fn trailer(&self) -> &Trailer {
        &self.cell().trailer
    }

    fn raw(&self) -> RawTask {
        RawTask::from_raw(self.cell.cast())
    }

    fn scheduler(&self) -> &S {
        &self.cell().core.scheduler
    }

    /// Polls the future once. Caller must own the stage (RUNNING set by it).
    fn poll_future(&self) -> Poll<()> {
        let waker = waker_ref(self.header());
        let mut cx = Context::from_waker(&waker);
        let _current = context::set_current_task(self.raw());
        let stage = &self.cell().core.stage;
        let extra = &self.trailer().extra;
        let res = coop::with_budget(|| {
            panic::catch_unwind(AssertUnwindSafe(|| {
                stage.with_mut(|ptr| {
                    // SAFETY: RUNNING gives us exclusive access to the stage, and the future
                    // never moves: it lives in the task allocation until it is dropped.
                    match unsafe { &mut *ptr } {
                        // SAFETY: pinned in place, as above.
                        Stage::Running(fut) => unsafe { Pin::new_unchecked(fut) }.poll(&mut cx),
                        _ => unreachable!("polled a task whose future is gone"),
                    }
                })
            }))
        });
        // The records this poll left; the buffer is empty again for the next task poll.
        let recorded = trace::take();
        match res {
            Ok(Poll::Pending) => {
                // What the task now awaits, for task dumps (we are its only poller).
                extra.publish_recorded(recorded);
                Poll::Pending
            }
            Ok(Poll::Ready(output)) => {
                // A panic in the finished future's destructor is reported as the result.
                let result = match self.drop_future_or_output() {
                    Ok(()) => Ok(output),
                    Err(payload) => {
                        drop(output);
                        Err(TaskError::Panicked(PanicPayload::new(payload)))
                    }
                };
                self.store_output(result);
                Poll::Ready(())
            }
            Err(payload) => {
                // Drop the future that panicked; a second panic from its destructor is
                // swallowed: the first one is the interesting one.
                let _ = self.drop_future_or_output();
                self.store_output(Err(TaskError::Panicked(PanicPayload::new(payload))));
                Poll::Ready(())
            }
        }
    }

    /// Drops the future (or the output) where it lies, catching a panic from its
    /// destructor; the stage is `Consumed` afterwards either way. Caller owns the stage.
    ///
    /// In place, never moved out first: the future is pinned, and its destructor may rely
    /// on its address — a corio wait unlinks its waiter node from a primitive's list there,
    /// and a thread waking that list meanwhile must find the node where it was linked.
    fn drop_future_or_output(&self) -> std::thread::Result<()> {
        /// Marks the stage `Consumed` once its old value is dropped (or its destructor
        /// unwound), without dropping anything again.
        struct Consumed<F: Future>(*mut Stage<F>);
        impl<F: Future> Drop for Consumed<F> {
            fn drop(&mut self) {
                // SAFETY: the stage's old value was dropped in place (fully, or as far as
                // a panicking destructor got): overwrite it without dropping it again.
                unsafe { ptr::write(self.0, Stage::Consumed) }
            }
        }
        self.cell().core.stage.with_mut(|ptr| {
            panic::catch_unwind(AssertUnwindSafe(|| {
                let _consumed = Consumed(ptr);
                // SAFETY: the caller owns the stage; it holds a live value (a future, an
                // output or nothing), dropped once here and never touched again before
                // `_consumed` overwrites it.
                unsafe { ptr::drop_in_place(ptr) }
            }))
        })
    }

    fn store_output(&self, output: Result<F::Output, TaskError>) {
        self.cell().core.stage.with_mut(|ptr| {
            // SAFETY: the caller owns the stage; it is `Consumed`, so nothing is dropped.
            unsafe { ptr.write(Stage::Finished(output)) }
        });
    }

    /// Drops the future of a cancelled task and stores the result. Caller owns the stage.
    fn cancel_task(&self) {
        let _current = context::set_current_task(self.raw());
        let err = match self.drop_future_or_output() {
            Ok(()) => TaskError::Cancelled,
            Err(payload) => TaskError::Panicked(PanicPayload::new(payload)),
        };
        self.store_output(Err(err));
    }

    /// The future is gone and the result stored: publish completion, wake the joiner,
    /// leave the registry and drop the references of the poll and the registry.
    fn complete(self) {
        let snapshot = self.header().state.transition_to_complete();
        // Nothing below may unwind into the worker.
        let _ = panic::catch_unwind(AssertUnwindSafe(|| {
            if !snapshot.is_join_interested() {
                // Nobody will read the output: drop it now, on this thread.
                let _ = self.drop_future_or_output();
            } else if snapshot.is_join_waker_set() {
                self.trailer().waker.with(|ptr| {
                    // SAFETY: JOIN_WAKER is set and COMPLETE now too, so the handle never
                    // writes the slot again; we have shared read access.
                    if let Some(waker) = unsafe { &*ptr } {
                        waker.wake_by_ref();
                    }
                });
            }
        }));
        let released = self.scheduler().release(self.raw());
        let count = if released { 2 } else { 1 };
        if self.header().state.transition_to_terminal(count) {
            self.dealloc();
        }
    }

    fn dealloc(self) {
        // SAFETY: the last reference is gone; the allocation came from `Box::new`. By now
        // the stage holds no future (completed or shut down) unless the runtime leaked a
        // local task on purpose, and no output unless the handle never read it.
        drop(unsafe { Box::from_raw(self.cell.as_ptr()) });
    }

    fn drop_reference(self) {
        if self.header().state.ref_dec() {
            self.dealloc();
        }
    }

    /// True if the output can be read now; otherwise registers `waker` as the join waker.
    fn can_read_output(&self, waker: &Waker) -> bool {
        can_read_output(self.header(), self.trailer(), waker)
    }
}

/// The join side of the JOIN_WAKER protocol (see `state.rs`).
fn can_read_output(header: &Header, trailer: &Trailer, waker: &Waker) -> bool {
    let snapshot = header.state.load();
    debug_assert!(snapshot.is_join_interested());
    if snapshot.is_complete() {
        return true;
    }
    let res = if snapshot.is_join_waker_set() {
        // SAFETY: JOIN_WAKER set: the runtime may read the slot, so may we.
        let will_wake = trailer.waker.with(|ptr| unsafe {
            (*ptr)
                .as_ref()
                .expect("JOIN_WAKER set without a waker")
                .will_wake(waker)
        });
        if will_wake {
            return false;
        }
        header
            .state
            .unset_join_waker()
            .and_then(|_| set_join_waker(header, trailer, waker))
    } else {
        set_join_waker(header, trailer, waker)
    };
    match res {
        Ok(_) => false,
        Err(snapshot) => {
            debug_assert!(snapshot.is_complete());
            true
        }
    }
}

fn set_join_waker(
    header: &Header,
    trailer: &Trailer,
    waker: &Waker,
) -> Result<super::state::Snapshot, super::state::Snapshot> {
    // SAFETY: JOIN_WAKER is unset and the task is not complete: the handle has exclusive
    // access to the slot.
    trailer
        .waker
        .with_mut(|ptr| unsafe { *ptr = Some(waker.clone()) });
    let res = header.state.set_join_waker();
    if res.is_err() {
        // Completed meanwhile; the runtime did not see JOIN_WAKER, the slot is still ours.
        // SAFETY: as above.
        trailer.waker.with_mut(|ptr| unsafe { *ptr = None });
    }
    res
}

/// vtable: poll a notified task. Consumes the notification's reference.
pub(super) unsafe fn poll<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller (Notified::run) holds a reference to a Cell<F, S>.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    match harness.header().state.transition_to_running() {
        TransitionToRunning::Success => {
            if harness.poll_future().is_ready() {
                harness.complete();
                return;
            }
            match harness.header().state.transition_to_idle() {
                TransitionToIdle::Ok => {}
                TransitionToIdle::OkNotified => {
                    // Woken during its own poll: behind everything already ready. Our own
                    // reference keeps the task (and the scheduler) alive during the call.
                    harness
                        .scheduler()
                        .yield_now(Notified::from_raw(harness.raw()));
                    harness.drop_reference();
                }
                TransitionToIdle::OkDealloc => harness.dealloc(),
                TransitionToIdle::Cancelled => {
                    harness.cancel_task();
                    harness.complete();
                }
            }
        }
        TransitionToRunning::Cancelled => {
            harness.cancel_task();
            harness.complete();
        }
        TransitionToRunning::Failed => {}
        TransitionToRunning::Dealloc => harness.dealloc(),
    }
}

/// vtable: hand a new notification (whose reference the caller created) to the scheduler.
pub(super) unsafe fn schedule<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller holds the new reference plus its own (waker or handle), so the
    // scheduler stays alive during the call even if `schedule` drops the notification.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    harness
        .scheduler()
        .schedule(Notified::from_raw(harness.raw()));
}

/// vtable: free the allocation.
pub(super) unsafe fn dealloc<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: called on the last reference.
    unsafe { Harness::<F, S>::from_raw(ptr) }.dealloc();
}

/// vtable: `Task<T>::poll`. `dst` is a `*mut Poll<Result<F::Output, TaskError>>`.
pub(super) unsafe fn try_read_output<F: Future, S: Schedule>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: the Task handle holds a reference.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if harness.can_read_output(waker) {
        let stage = harness.cell().core.stage.with_mut(|p| {
            // SAFETY: COMPLETE and JOIN_INTEREST: the handle owns the output.
            unsafe { mem::replace(&mut *p, Stage::Consumed) }
        });
        let output = match stage {
            Stage::Finished(output) => output,
            _ => panic!("a corio Task was polled after it returned its output"),
        };
        // SAFETY: the Task<T> handle passes a pointer to a `Poll<Result<T, TaskError>>`
        // with T = F::Output (the handle was created with this future's output type).
        unsafe { *dst.cast::<Poll<Result<F::Output, TaskError>>>() = Poll::Ready(output) };
    }
}

/// vtable: `Task::poll_done`: register the join waker and report how the task ended,
/// without taking the output.
pub(super) unsafe fn poll_done<F: Future, S: Schedule>(
    ptr: NonNull<Header>,
    waker: &Waker,
) -> Poll<Outcome> {
    // SAFETY: the Task handle holds a reference.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if !harness.can_read_output(waker) {
        return Poll::Pending;
    }
    harness.cell().core.stage.with(|p| {
        // SAFETY: COMPLETE and JOIN_INTEREST: only the handle touches the stage now.
        match unsafe { &*p } {
            Stage::Finished(Ok(_)) => Poll::Ready(Outcome::Completed),
            Stage::Finished(Err(TaskError::Cancelled)) => Poll::Ready(Outcome::Cancelled),
            Stage::Finished(Err(TaskError::Panicked(_))) => Poll::Ready(Outcome::Panicked),
            _ => panic!("Task::poll_done called after the output was taken"),
        }
    })
}

/// vtable: the `Task<T>` handle is dropped (slow path).
pub(super) unsafe fn drop_join_handle_slow<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the Task handle holds a reference, released below.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    let t = harness.header().state.transition_to_join_handle_dropped();
    if t.drop_output {
        // The output is ours; a panic in its destructor must not escape a Drop impl.
        let _ = harness.drop_future_or_output();
    }
    if t.drop_waker {
        // SAFETY: the transition gave the handle exclusive access to the slot.
        let waker = harness.trailer().waker.with_mut(|p| unsafe { (*p).take() });
        drop(waker);
    }
    harness.drop_reference();
}

/// vtable: shut the task down, consuming the caller's reference.
pub(super) unsafe fn shutdown<F: Future, S: Schedule>(ptr: NonNull<Header>) {
    // SAFETY: the caller transfers a reference.
    let harness = unsafe { Harness::<F, S>::from_raw(ptr) };
    if !harness.header().state.transition_to_shutdown() {
        // Running elsewhere (it will see CANCELLED after its poll) or already complete.
        harness.drop_reference();
        return;
    }
    harness.cancel_task();
    harness.complete();
}
