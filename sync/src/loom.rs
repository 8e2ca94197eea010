//! The std ↔ loom facade: every atomic, cell, lock, condvar and thread corio uses comes
//! through here, so `RUSTFLAGS="--cfg loom"` swaps them all for loom's model-checked twins.
//!
//! The API is parking_lot's (a `lock()` that cannot be poisoned, `Condvar::wait(&mut guard)`)
//! in both modes; under loom thin wrappers adapt loom's std-shaped types to it.
//! corio-blocking and corio-runtime re-export this module from their own `src/loom.rs`.

#[cfg(not(loom))]
mod imp {
    pub use std::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
    };
    pub use std::sync::Arc;
    pub use std::thread;

    pub use parking_lot::{Condvar, Mutex, MutexGuard};

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

    /// Tells the CPU it is in a spin loop.
    #[inline(always)]
    pub fn spin_loop() {
        std::hint::spin_loop()
    }
}

#[cfg(loom)]
mod imp {
    pub use loom::cell::UnsafeCell;
    pub use loom::sync::atomic::{
        fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
    };
    pub use loom::sync::Arc;
    pub use loom::thread;

    use std::ops::{Deref, DerefMut};
    use std::time::Duration;

    /// parking_lot-shaped wrapper over loom's mutex.
    #[derive(Debug)]
    pub struct Mutex<T>(loom::sync::Mutex<T>);

    /// Guard of [`Mutex`]; the `Option` lets [`Condvar::wait`] hand the inner guard to loom.
    pub struct MutexGuard<'a, T>(Option<loom::sync::MutexGuard<'a, T>>);

    impl<T> Mutex<T> {
        /// Wraps `value`.
        pub fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }

        /// Locks; loom mutexes cannot be poisoned in a passing model.
        pub fn lock(&self) -> MutexGuard<'_, T> {
            MutexGuard(Some(self.0.lock().unwrap()))
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

    /// parking_lot-shaped wrapper over loom's condvar.
    #[derive(Debug)]
    pub struct Condvar(loom::sync::Condvar);

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
            Self(loom::sync::Condvar::new())
        }

        /// Blocks until notified.
        pub fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            let inner = guard.0.take().expect("guard taken");
            guard.0 = Some(self.0.wait(inner).unwrap());
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

        /// Wakes one waiter.
        pub fn notify_one(&self) -> bool {
            self.0.notify_one();
            true
        }

        /// Wakes all waiters.
        pub fn notify_all(&self) -> usize {
            self.0.notify_all();
            0
        }
    }

    /// Under loom a spin is a yield, so the model explores other threads.
    pub fn spin_loop() {
        loom::thread::yield_now()
    }
}

pub use imp::*;
