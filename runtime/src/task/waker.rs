//! Task wakers: a `RawWaker` over the task pointer, each clone one reference.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::raw::{Header, RawTask};
use super::state::TransitionToNotifiedByVal;

/// A waker borrowed for one poll: no reference is taken unless it is cloned.
pub(super) struct WakerRef<'a> {
    waker: ManuallyDrop<Waker>,
    _task: PhantomData<&'a Header>,
}

impl Deref for WakerRef<'_> {
    type Target = Waker;
    fn deref(&self) -> &Waker {
        &self.waker
    }
}

/// A waker for `header` that lives no longer than the borrow.
pub(super) fn waker_ref(header: &Header) -> WakerRef<'_> {
    let ptr = (header as *const Header).cast::<()>();
    // SAFETY: the vtable's functions follow the RawWaker contract for task pointers; the
    // ManuallyDrop means this borrowed waker never releases a reference it did not take.
    let waker = unsafe { Waker::from_raw(RawWaker::new(ptr, &VTABLE)) };
    WakerRef {
        waker: ManuallyDrop::new(waker),
        _task: PhantomData,
    }
}

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

fn raw(ptr: *const ()) -> RawTask {
    // SAFETY (for callers): wakers are only built from non-null task header pointers.
    RawTask::from_raw(NonNull::new(ptr.cast_mut().cast::<Header>()).expect("null task waker"))
}

unsafe fn clone(ptr: *const ()) -> RawWaker {
    raw(ptr).state().ref_inc();
    RawWaker::new(ptr, &VTABLE)
}

unsafe fn wake(ptr: *const ()) {
    let task = raw(ptr);
    match task.state().transition_to_notified_by_val() {
        TransitionToNotifiedByVal::Submit => {
            // SAFETY: the transition created a reference for the notification; ours (the
            // waker's) keeps the task alive during the call and is dropped after.
            unsafe { (task.header().vtable.schedule)(task.header_ptr()) };
            task.drop_reference();
        }
        TransitionToNotifiedByVal::Dealloc => {
            // SAFETY: that was the last reference.
            unsafe { (task.header().vtable.dealloc)(task.header_ptr()) };
        }
        TransitionToNotifiedByVal::DoNothing => {}
    }
}

unsafe fn wake_by_ref(ptr: *const ()) {
    raw(ptr).wake_by_ref();
}

unsafe fn drop_waker(ptr: *const ()) {
    raw(ptr).drop_reference();
}
