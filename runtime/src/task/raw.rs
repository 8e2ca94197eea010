//! The task allocation: header, core (scheduler + stage) and trailer in one block, and
//! the type-erased pointers the scheduler and the handles hold.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::Arc as StdArc;
use std::task::{Poll, Waker};

use super::error::{TaskError, TaskId};
use super::extra::ExtraSlot;
use super::harness;
use super::state::State;
use crate::loom::UnsafeCell;

/// What a task needs from the scheduler that owns it.
pub(crate) trait Schedule: Send + Sync + Sized + 'static {
    /// Queues a woken (or newly spawned, or cancelled) task.
    fn schedule(&self, task: Notified);

    /// Queues a task that woke itself during its own poll (`yield_now`, budget exhaustion):
    /// behind every task that is already ready.
    fn yield_now(&self, task: Notified);

    /// Removes the task from the live-task registry; true if it was still registered (its
    /// registry reference is then the caller's to drop).
    fn release(&self, task: RawTask) -> bool;
}

/// How a finished task ended, without taking its output (for `wait` / `as_completed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The future returned its output.
    Completed,
    /// The future (or its destructor) panicked.
    Panicked,
    /// The task was cancelled before it completed.
    Cancelled,
}

/// The hot, type-independent part of a task, at offset 0 of the allocation.
#[repr(C)]
pub(crate) struct Header {
    pub(super) state: State,
    pub(super) vtable: &'static Vtable,
    pub(super) id: TaskId,
    /// Links of the live-task registry's intrusive list, guarded by the registry shard.
    pub(super) registry_prev: UnsafeCell<Option<NonNull<Header>>>,
    pub(super) registry_next: UnsafeCell<Option<NonNull<Header>>>,
}

/// Cold, type-independent data at the end of the allocation.
pub(crate) struct Trailer {
    /// The `Task` handle's waker; see the JOIN_WAKER rules in `state.rs`.
    pub(super) waker: UnsafeCell<Option<Waker>>,
    /// Spawn location, and out of line the name, `TaskGroup` owner and await records: one
    /// word, the block allocated only for tasks that use it (see `extra.rs`).
    pub(super) extra: ExtraSlot,
}

/// The future, then its output.
pub(super) enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, TaskError>),
    Consumed,
}

pub(super) struct Core<F: Future, S> {
    pub(super) scheduler: S,
    pub(super) stage: UnsafeCell<Stage<F>>,
}

/// The single allocation of a task.
#[repr(C)]
pub(super) struct Cell<F: Future, S> {
    pub(super) header: Header,
    pub(super) core: Core<F, S>,
    pub(super) trailer: Trailer,
}

/// Per-(future, scheduler) type functions, reached from the type-erased header.
pub(crate) struct Vtable {
    pub(super) poll: unsafe fn(NonNull<Header>),
    pub(super) schedule: unsafe fn(NonNull<Header>),
    pub(super) dealloc: unsafe fn(NonNull<Header>),
    pub(super) try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    pub(super) poll_done: unsafe fn(NonNull<Header>, &Waker) -> Poll<Outcome>,
    pub(super) drop_join_handle_slow: unsafe fn(NonNull<Header>),
    pub(super) shutdown: unsafe fn(NonNull<Header>),
    pub(super) trailer_offset: usize,
    /// A `spawn_local` task: its future must only be touched on its owner thread.
    pub(super) local: bool,
}

/// The vtable for tasks of future `F` on scheduler `S`.
fn vtable<F: Future, S: Schedule>(local: bool) -> &'static Vtable {
    // One static per instantiation; `local` picks between two.
    struct Tables<F, S>(std::marker::PhantomData<(F, S)>);
    impl<F: Future, S: Schedule> Tables<F, S> {
        const fn table(local: bool) -> Vtable {
            Vtable {
                poll: harness::poll::<F, S>,
                schedule: harness::schedule::<F, S>,
                dealloc: harness::dealloc::<F, S>,
                try_read_output: harness::try_read_output::<F, S>,
                poll_done: harness::poll_done::<F, S>,
                drop_join_handle_slow: harness::drop_join_handle_slow::<F, S>,
                shutdown: harness::shutdown::<F, S>,
                trailer_offset: std::mem::offset_of!(Cell<F, S>, trailer),
                local,
            }
        }
        const SEND: &'static Vtable = &Self::table(false);
        const LOCAL: &'static Vtable = &Self::table(true);
    }
    if local {
        Tables::<F, S>::LOCAL
    } else {
        Tables::<F, S>::SEND
    }
}

/// What a new task records besides its future and scheduler: its id, where it was
/// spawned, its optional name, and the task owning the `TaskGroup` it joins, if any.
pub(crate) struct SpawnMeta {
    id: TaskId,
    /// Location, and name and group out of line if there is one (see `extra.rs`).
    extra: ExtraSlot,
}

impl SpawnMeta {
    /// A fresh task id and the caller's location (through every `#[track_caller]` frame
    /// above: the user's `spawn` call).
    #[inline]
    #[track_caller]
    pub(crate) fn new(name: Option<StdArc<String>>) -> SpawnMeta {
        SpawnMeta {
            id: TaskId::next(),
            extra: ExtraSlot::new(Location::caller(), name, None),
        }
    }

    /// Marks the task as a child of the `TaskGroup` owned by task `owner` (for dumps).
    pub(crate) fn in_group_of(mut self, owner: Option<TaskId>) -> SpawnMeta {
        let name = self.extra.name();
        self.extra = ExtraSlot::new(self.extra.location(), name, owner);
        self
    }
}

/// A type-erased pointer to a task. Copying it does not touch the reference count.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawTask {
    ptr: NonNull<Header>,
}

// SAFETY: a RawTask is only an address; what may be done through it (poll, drop the
// future) is governed by the state word, and `!Send` (local) futures are only polled or
// dropped by their owner thread (checked by the current-thread scheduler).
unsafe impl Send for RawTask {}
// SAFETY: as above; all shared access goes through atomics or state-guarded cells.
unsafe impl Sync for RawTask {}

impl RawTask {
    /// Allocates a task with the initial state (three references: see `state.rs`).
    ///
    /// # Safety
    ///
    /// If `local` is true the caller guarantees the task is only ever polled and dropped on
    /// the current thread (`F` may be `!Send`).
    #[inline]
    pub(crate) unsafe fn new<F, S>(future: F, scheduler: S, meta: SpawnMeta, local: bool) -> RawTask
    where
        F: Future + 'static,
        S: Schedule,
    {
        let cell = Box::new(Cell {
            header: Header {
                state: State::new(),
                vtable: vtable::<F, S>(local),
                id: meta.id,
                registry_prev: UnsafeCell::new(None),
                registry_next: UnsafeCell::new(None),
            },
            core: Core {
                scheduler,
                stage: UnsafeCell::new(Stage::Running(future)),
            },
            trailer: Trailer {
                waker: UnsafeCell::new(None),
                extra: meta.extra,
            },
        });
        let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
        RawTask { ptr }
    }

    pub(crate) fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(crate) fn header_ptr(self) -> NonNull<Header> {
        self.ptr
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a RawTask is only created for a live allocation, and every holder of one
        // holds (or is borrowed from someone who holds) a reference count.
        unsafe { self.ptr.as_ref() }
    }

    pub(crate) fn trailer(&self) -> &Trailer {
        let header = self.header();
        // SAFETY: `trailer_offset` is the offset of the trailer in this task's `Cell`, so
        // the pointer is in bounds of the same live allocation.
        unsafe {
            &*self
                .ptr
                .as_ptr()
                .cast::<u8>()
                .add(header.vtable.trailer_offset)
                .cast::<Trailer>()
        }
    }

    pub(crate) fn state(&self) -> &State {
        &self.header().state
    }

    pub(crate) fn id(&self) -> TaskId {
        self.header().id
    }

    pub(crate) fn is_local(&self) -> bool {
        self.header().vtable.local
    }

    /// Drops one reference, deallocating on the last.
    pub(crate) fn drop_reference(self) {
        if self.state().ref_dec() {
            // SAFETY: that was the last reference, so nobody else can reach the task.
            unsafe { (self.header().vtable.dealloc)(self.ptr) }
        }
    }

    /// Wakes the task like `Waker::wake_by_ref`.
    pub(crate) fn wake_by_ref(self) {
        use super::state::TransitionToNotifiedByRef;
        match self.state().transition_to_notified_by_ref() {
            TransitionToNotifiedByRef::Submit => {
                // SAFETY: the transition created the reference `schedule` hands to the
                // scheduler as a Notified.
                unsafe { (self.header().vtable.schedule)(self.ptr) }
            }
            TransitionToNotifiedByRef::DoNothing => {}
        }
    }

    /// Shuts the task down (runtime shutdown or a spawn on a closed runtime), consuming the
    /// reference the caller holds (the registry's).
    pub(crate) fn shutdown(self) {
        // SAFETY: the caller transfers its reference to `shutdown`.
        unsafe { (self.header().vtable.shutdown)(self.ptr) }
    }
}

/// A reference to a task that is (or is about to be) in a run queue. Dropping it drops
/// the reference; [`Notified::run`] polls the task.
pub(crate) struct Notified(RawTask);

impl Notified {
    /// Wraps a reference the caller owns.
    pub(crate) fn from_raw(raw: RawTask) -> Notified {
        Notified(raw)
    }

    /// Gives up ownership without dropping the reference.
    pub(crate) fn into_raw(self) -> RawTask {
        let this = ManuallyDrop::new(self);
        this.0
    }

    pub(crate) fn id(&self) -> TaskId {
        self.0.id()
    }

    /// Polls the task (or drops its future if cancelled). Consumes the reference.
    pub(crate) fn run(self) {
        let raw = self.into_raw();
        // SAFETY: we transfer the Notified's reference to the poll, which releases it.
        unsafe { (raw.header().vtable.poll)(raw.ptr) }
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        self.0.drop_reference();
    }
}

impl std::fmt::Debug for Notified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Notified({})", self.0.id())
    }
}
