//! [`Mutex`] and [`MutexGuard`] [asyncio.Lock].

use std::panic::Location;

use crate::loom::UnsafeCell;
use crate::raw_semaphore::{RawAcquire, RawSemaphore};
use crate::trace;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// asyncio's `Lock`: a [`Mutex`] guarding nothing.
///
/// ```
/// # futures::executor::block_on(async {
/// let lock = corio_sync::Lock::new(());
/// let _held = lock.lock().await; // asyncio: `async with lock:`
/// assert!(lock.is_locked());
/// # });
/// ```
pub type Lock = Mutex<()>;

/// An async mutual-exclusion lock around a `T` [asyncio.Lock].
///
/// Fair: when it is released while tasks wait, ownership passes directly to the oldest
/// waiter (no barging — `try_lock` right after fails). Uncontended `lock`/unlock are a
/// single atomic compare-and-swap each. Dropping a pending [`LockFuture`] never loses
/// the lock: if it had already been handed the lock, it passes it to the next waiter.
///
/// ```
/// use corio_sync::Mutex;
/// futures::executor::block_on(async {
///     let m = Mutex::new(0);
///     *m.lock().await += 1;
///     assert_eq!(m.into_inner(), 1);
/// });
/// ```
pub struct Mutex<T> {
    raw: RawSemaphore,
    value: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `T` to one task at a time, possibly on another
// thread, so `T: Send` suffices for both (like std's Mutex).
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// A new, unlocked mutex holding `value`.
    ///
    /// ```
    /// let m = corio_sync::Mutex::new(5);
    /// assert!(!m.is_locked());
    /// ```
    pub fn new(value: T) -> Self {
        Self {
            raw: RawSemaphore::new(1),
            value: UnsafeCell::new(value),
        }
    }

    /// Waits for the lock, FIFO [asyncio: `await lock.acquire()` / `async with lock`].
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let m = corio_sync::Mutex::new(vec![1]);
    /// m.lock().await.push(2);
    /// assert_eq!(*m.lock().await, [1, 2]);
    /// # });
    /// ```
    #[track_caller]
    pub fn lock(&self) -> LockFuture<'_, T> {
        LockFuture {
            at: Location::caller(),
            inner: RawAcquire::new(&self.raw),
            mutex: self,
        }
    }

    /// Takes the lock if it is free and nobody waits for it.
    ///
    /// ```
    /// let m = corio_sync::Mutex::new(());
    /// let g = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_none());
    /// drop(g);
    /// assert!(m.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.raw.try_acquire().then(|| MutexGuard::new_locked(self))
    }

    /// True if the lock is held (or was just handed to a waiter) [asyncio: `locked()`].
    ///
    /// ```
    /// let m = corio_sync::Mutex::new(());
    /// let _g = m.try_lock();
    /// assert!(m.is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.raw.available() == 0
    }

    /// Consumes the mutex, returning the value.
    ///
    /// ```
    /// assert_eq!(corio_sync::Mutex::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }

    /// Mutable access without locking: `&mut self` proves nobody else holds it.
    ///
    /// ```
    /// let mut m = corio_sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` excludes every guard.
        self.value.with_mut(|p| unsafe { &mut *p })
    }

    pub(crate) fn raw(&self) -> &RawSemaphore {
        &self.raw
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Exclusive access to a [`Mutex`]'s value; unlocks on drop, handing the lock to the
/// oldest waiter if there is one.
///
/// ```
/// # futures::executor::block_on(async {
/// let m = corio_sync::Mutex::new(String::new());
/// let mut g = m.lock().await;
/// g.push_str("hi");
/// drop(g);
/// assert_eq!(*m.lock().await, "hi");
/// # });
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    // Sync only if T: Sync (a shared guard hands out `&T`); Send if T: Send.
    _marker: PhantomData<&'a mut T>,
}

impl<'a, T> MutexGuard<'a, T> {
    /// A guard for a mutex whose permit the caller already holds.
    pub(crate) fn new_locked(mutex: &'a Mutex<T>) -> Self {
        Self {
            mutex,
            _marker: PhantomData,
        }
    }

    /// The mutex this guard locks.
    ///
    /// ```
    /// let m = corio_sync::Mutex::new(());
    /// let g = m.try_lock().unwrap();
    /// assert!(std::ptr::eq(corio_sync::MutexGuard::mutex(&g), &m));
    /// ```
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }

    /// Unlocks (drops the guard) and returns the mutex; for [`Condition`](crate::Condition).
    pub(crate) fn into_mutex(this: Self) -> &'a Mutex<T> {
        let m = this.mutex;
        drop(this);
        m
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock, so no `&mut T` exists elsewhere.
        self.mutex.value.with(|p| unsafe { &*p })
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock exclusively and is borrowed mutably.
        self.mutex.value.with_mut(|p| unsafe { &mut *p })
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.raw.release();
    }
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Future of [`Mutex::lock`]. Cancel-safe: dropping it never loses the lock.
///
/// ```
/// # futures::executor::block_on(async {
/// let m = corio_sync::Mutex::new(1);
/// let fut: corio_sync::mutex::LockFuture<'_, i32> = m.lock();
/// assert_eq!(*fut.await, 1);
/// # });
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct LockFuture<'a, T> {
    at: &'static Location<'static>,
    inner: RawAcquire<'a>,
    mutex: &'a Mutex<T>,
}

impl<T> fmt::Debug for LockFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockFuture")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<'a, T> LockFuture<'a, T> {
    fn poll_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        // SAFETY: `inner` is structurally pinned: never moved out of `self`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above.
        ready!(unsafe { Pin::new_unchecked(&mut this.inner) }.poll(cx));
        Poll::Ready(MutexGuard::new_locked(this.mutex))
    }
}

impl<'a, T> Future for LockFuture<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let at = self.at;
        let out = self.poll_inner(cx);
        if out.is_pending() {
            trace::record(&LOCK, 0, at);
        }
        out
    }
}

/// What a task pending here awaits, for task dumps.
static LOCK: trace::Op = trace::Op {
    name: "Lock::lock",
    detail: trace::Detail::None,
};
