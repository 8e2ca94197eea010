//! The std ↔ loom facade: every atomic, cell, lock, condvar and thread corio uses comes
//! through here, so `RUSTFLAGS="--cfg loom"` swaps them all for loom's model-checked twins
//! (and `RUSTFLAGS="--cfg shuttle"` for shuttle's, the same way: "model" below means
//! either).
//!
//! The API is parking_lot's (a `lock()` that cannot be poisoned, `Condvar::wait(&mut guard)`)
//! in both modes; under loom thin wrappers adapt loom's std-shaped types to it.
//! corio-blocking and corio-runtime re-export this module from their own `src/loom.rs`.

#[cfg(not(any(loom, shuttle)))]
mod imp {
    pub use std::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
    };
    pub use std::sync::Arc;
    pub use std::thread;

    pub use parking_lot::{Condvar, Mutex, MutexGuard};
    pub use std::thread_local;

    pub use super::std_cell::UnsafeCell;

    /// Tells the CPU it is in a spin loop.
    #[inline(always)]
    pub fn spin_loop() {
        std::hint::spin_loop()
    }
}

#[cfg(not(loom))]
mod std_cell {
    /// An `UnsafeCell` with loom's closure-based access API.
    #[derive(Debug)]
    pub struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        /// Wraps `value`.
        pub const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }

        /// Gives `f` a shared raw pointer to the contents.
        #[inline(always)]
        pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Gives `f` a mutable raw pointer to the contents.
        #[inline(always)]
        pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }

        /// Consumes the cell.
        pub fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }
}

#[cfg(any(loom, shuttle))]
mod imp {
    #[cfg(loom)]
    use loom as model;
    #[cfg(all(shuttle, not(loom)))]
    use shuttle as model;

    #[cfg(all(shuttle, not(loom)))]
    pub use super::std_cell::UnsafeCell;
    #[cfg(loom)]
    pub use loom::cell::UnsafeCell;
    pub use model::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
    };
    pub use model::sync::Arc;
    pub use model::thread;
    pub use model::{lazy_static, thread_local};

    use std::ops::{Deref, DerefMut};
    use std::time::Duration;

    /// parking_lot-shaped wrapper over loom's mutex.
    #[derive(Debug)]
    pub struct Mutex<T>(model::sync::Mutex<T>);

    /// Guard of [`Mutex`]; the `Option` lets [`Condvar::wait`] hand the inner guard to loom.
    pub struct MutexGuard<'a, T>(Option<model::sync::MutexGuard<'a, T>>);

    impl<T> Mutex<T> {
        /// Wraps `value`.
        pub fn new(value: T) -> Self {
            Self(model::sync::Mutex::new(value))
        }

        /// Locks. A poisoned lock (a model already failing, unwinding) is taken anyway,
        /// as parking_lot's would be, so the model's first panic is the one reported.
        pub fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(
                self.0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            ))
        }

        /// Locks if free.
        pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock().ok().map(|g| MutexGuard(Some(g)))
        }

        /// Consumes the mutex.
        pub fn into_inner(self) -> T {
            self.0.into_inner().unwrap()
        }

        /// Mutable access without locking.
        pub fn get_mut(&mut self) -> &mut T {
            self.0.get_mut().unwrap()
        }
    }

    impl<T: Default> Default for Mutex<T> {
        fn default() -> Self {
            Self::new(T::default())
        }
    }

    impl<T> std::fmt::Debug for MutexGuard<'_, T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("MutexGuard")
        }
    }

    impl<T> Deref for MutexGuard<'_, T> {
        type Target = T;
        fn deref(&self) -> &T {
            self.0.as_ref().expect("guard taken")
        }
    }

    impl<T> DerefMut for MutexGuard<'_, T> {
        fn deref_mut(&mut self) -> &mut T {
            self.0.as_mut().expect("guard taken")
        }
    }

    /// parking_lot-shaped wrapper over loom's condvar. It also keeps the books of
    /// [`stall`]: how many runtime threads wait on it.
    #[derive(Debug)]
    pub struct Condvar {
        inner: model::sync::Condvar,
        /// Runtime threads ([`stall::is_participant`]) waiting here, not yet notified,
        /// longest waiting first (loom's own order).
        waiters: std::sync::Mutex<std::collections::VecDeque<model::thread::ThreadId>>,
    }

    impl Default for Condvar {
        fn default() -> Self {
            Self::new()
        }
    }

    /// Whether a timed wait timed out (parking_lot's shape).
    #[derive(Debug, Clone, Copy)]
    pub struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        /// True if the wait ended by timeout.
        pub fn timed_out(&self) -> bool {
            self.0
        }
    }

    impl Condvar {
        /// A new condvar.
        pub fn new() -> Self {
            Self {
                inner: model::sync::Condvar::new(),
                waiters: std::sync::Mutex::new(std::collections::VecDeque::new()),
            }
        }

        fn waiters(
            &self,
        ) -> std::sync::MutexGuard<'_, std::collections::VecDeque<model::thread::ThreadId>>
        {
            self.waiters
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }

        /// Blocks until notified (or a spurious wake-up: callers re-check in a loop).
        pub fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let me = stall::is_participant().then(|| model::thread::current().id());
            if let Some(me) = me {
                self.waiters().push_back(me);
                // May panic (a deadlock): before blocking, while the model is intact.
                stall::going_idle();
            }
            let inner = guard.0.take().expect("guard taken");
            guard.0 = Some(
                self.inner
                    .wait(inner)
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            if let Some(me) = me {
                // Woken without a notify that counted us: count ourselves back.
                let mut waiters = self.waiters();
                if let Some(at) = waiters.iter().position(|&id| id == me) {
                    waiters.remove(at);
                    stall::woken(1);
                }
            }
        }

        /// Under loom a timed wait is an untimed one: models must not rely on time passing.
        pub fn wait_for<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            _timeout: Duration,
        ) -> WaitTimeoutResult {
            self.wait(guard);
            WaitTimeoutResult(false)
        }

        /// Wakes one waiter (loom wakes the longest waiting).
        pub fn notify_one(&self) -> bool {
            if self.waiters().pop_front().is_some() {
                stall::woken(1);
            }
            self.inner.notify_one();
            true
        }

        /// Wakes all waiters.
        pub fn notify_all(&self) -> usize {
            let woken = std::mem::take(&mut *self.waiters()).len();
            stall::woken(woken);
            self.inner.notify_all();
            0
        }
    }

    /// Under loom a spin is a yield, so the model explores other threads.
    pub fn spin_loop() {
        model::thread::yield_now()
    }

    /// Runs `future` to completion on the current model thread, waiting on a model condvar
    /// between polls; the thread is one of the runtime's threads for [`stall`] meanwhile.
    pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
        use std::task::{Context, Poll, Wake, Waker};

        struct Signal {
            woken: Mutex<bool>,
            condvar: Condvar,
        }
        impl Wake for Signal {
            fn wake(self: std::sync::Arc<Self>) {
                self.wake_by_ref();
            }
            fn wake_by_ref(self: &std::sync::Arc<Self>) {
                *self.woken.lock() = true;
                self.condvar.notify_one();
            }
        }

        let signal = std::sync::Arc::new(Signal {
            woken: Mutex::new(false),
            condvar: Condvar::new(),
        });
        let waker = Waker::from(signal.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = std::pin::pin!(future);
        let _driving = stall::drive();
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            let mut woken = signal.woken.lock();
            while !*woken {
                signal.condvar.wait(&mut woken);
            }
            *woken = false;
        }
    }

    /// Turns a model whose runtime threads all wait, with nothing left that could wake
    /// them, into a panic saying so, while the model is still intact. (loom finds such a
    /// deadlock itself, but its report unwinds through a torn-down model, which aborts the
    /// test process whenever a loom object is dropped on the way; this report is an
    /// ordinary panic, so `#[should_panic]` tests can expect it.)
    ///
    /// The books: `running` counts the runtime's threads (workers, blocking-pool threads,
    /// a thread inside [`block_on`]) that are not waiting on a [`Condvar`]. A thread that
    /// starts waiting takes itself off; whoever notifies a condvar puts the waiters it
    /// wakes back on (before they run, so nobody counts a woken thread as waiting). Worker
    /// threads park idle only on condvars (their parker, the driver's clock), and a parked
    /// driver means no timer is filed. So when the count reaches zero while some thread is
    /// inside `block_on`, no runtime thread can ever run again. A model's own
    /// `model::thread` that would wake a task is not counted: inside a model, wake tasks
    /// from tasks, `to_thread` jobs or the `block_on` future.
    pub mod stall {
        use std::cell::Cell;
        use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

        struct Books {
            running: AtomicUsize,
            driving: AtomicUsize,
            /// The execution these books are about.
            execution: AtomicUsize,
        }

        // A std thread-local of the OS thread running the model (loom runs all of a
        // model's threads there, one at a time, so the books need no model of their own;
        // models running in parallel tests each have their own), started afresh in each
        // execution. Not a loom `lazy_static`: a blocking-pool thread may still exit after
        // the model's main thread returned, when loom no longer lets anyone read one.
        std::thread_local! {
            static BOOKS: Books = const {
                Books {
                    running: AtomicUsize::new(0),
                    driving: AtomicUsize::new(0),
                    execution: AtomicUsize::new(usize::MAX),
                }
            };
        }
        static EXECUTIONS: AtomicUsize = AtomicUsize::new(0);

        super::model::lazy_static! {
            // Initialised at its first read in each execution, with a new number.
            static ref EXECUTION: usize = EXECUTIONS.fetch_add(1, Relaxed);
        }

        /// The books, cleared if they are about an earlier execution (call only while the
        /// model runs).
        fn books<R>(f: impl FnOnce(&Books) -> R) -> R {
            let now = *EXECUTION;
            BOOKS.with(|books| {
                if books.execution.swap(now, Relaxed) != now {
                    books.running.store(0, Relaxed);
                    books.driving.store(0, Relaxed);
                }
                f(books)
            })
        }

        /// The books as they are (callable also after the model's main thread returned).
        fn books_now<R>(f: impl FnOnce(&Books) -> R) -> R {
            BOOKS.with(f)
        }

        super::model::thread_local! {
            static PARTICIPANT: Cell<bool> = Cell::new(false);
        }

        /// True on a runtime thread (a worker, or a thread inside `block_on`).
        pub fn is_participant() -> bool {
            PARTICIPANT.try_with(Cell::get).unwrap_or(false)
        }

        /// A runtime thread is about to be spawned (call before spawning it).
        pub fn thread_spawning() {
            books(|b| b.running.fetch_add(1, Relaxed));
        }

        /// The spawned runtime thread ended (or its spawn failed).
        pub fn thread_exited() {
            books_now(|b| b.running.fetch_sub(1, Relaxed));
        }

        /// Marks the current thread as a worker (it parks on condvars when idle).
        pub fn become_participant() {
            PARTICIPANT.with(|p| p.set(true));
        }

        /// The current thread drives a runtime in `block_on` until the guard drops.
        pub fn drive() -> Driving {
            books(|b| {
                b.running.fetch_add(1, Relaxed);
                b.driving.fetch_add(1, Relaxed);
            });
            Driving(PARTICIPANT.with(|p| p.replace(true)))
        }

        /// From [`drive`]: the thread stops counting as the runtime's when it drops.
        #[derive(Debug)]
        pub struct Driving(bool);

        impl Drop for Driving {
            fn drop(&mut self) {
                let prev = self.0;
                let _ = PARTICIPANT.try_with(|p| p.set(prev));
                books_now(|b| {
                    b.driving.fetch_sub(1, Relaxed);
                    b.running.fetch_sub(1, Relaxed);
                });
            }
        }

        /// A runtime thread starts waiting on a condvar.
        pub(super) fn going_idle() {
            let stalled =
                books(|b| b.running.fetch_sub(1, Relaxed) == 1 && b.driving.load(Relaxed) > 0);
            if stalled {
                panic!(
                    "deadlock: every thread of the corio runtime is waiting and nothing can \
                     wake them (no task is runnable, no timer is filed, no to_thread job \
                     runs): a lost wake-up, or a task waiting for something that never \
                     happens"
                );
            }
        }

        /// `n` waiting runtime threads were notified.
        pub(super) fn woken(n: usize) {
            books_now(|b| b.running.fetch_add(n, Relaxed));
        }
    }
}

pub use imp::*;
