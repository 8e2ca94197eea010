//! [`Semaphore`] and [`BoundedSemaphore`] [asyncio.Semaphore, asyncio.BoundedSemaphore].

use std::panic::Location;

use crate::error::BoundExceeded;
use crate::loom::{AtomicUsize, Ordering};
use crate::raw_semaphore::{RawAcquire, RawSemaphore, MAX_PERMITS};
use crate::trace;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A counting semaphore: at most `permits` holders at once [asyncio.Semaphore].
///
/// Permits are handed out in FIFO order: a released permit goes straight to the oldest
/// waiter, so `try_acquire` right after such a release fails, and a task that releases
/// and acquires again queues behind the others. Dropping a pending [`Acquire`] never
/// loses a permit (a permit granted to a dropped waiter goes to the next one).
///
/// ```
/// use corio_sync::Semaphore;
/// futures::executor::block_on(async {
///     let sem = Semaphore::new(2);
///     let a = sem.acquire().await;
///     let _b = sem.acquire().await;
///     assert!(sem.try_acquire().is_none());
///     drop(a); // released on drop
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
pub struct Semaphore {
    raw: RawSemaphore,
    /// Permits taken out of circulation with [`SemaphorePermit::forget`]; a bounded
    /// semaphore's `release` may give exactly these back.
    forgotten: AtomicUsize,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available_permits", &self.available_permits())
            .finish()
    }
}

impl Semaphore {
    /// The largest number of permits a semaphore can hold.
    ///
    /// ```
    /// assert!(corio_sync::Semaphore::MAX_PERMITS >= u32::MAX as usize);
    /// ```
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    /// A semaphore with `permits` permits.
    ///
    /// # Panics
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Self {
        Self {
            raw: RawSemaphore::new(permits),
            forgotten: AtomicUsize::new(0),
        }
    }

    /// Waits for a permit; it is released when the returned [`SemaphorePermit`] drops
    /// [asyncio: `async with sem` / `await sem.acquire()`].
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let sem = corio_sync::Semaphore::new(1);
    /// let permit = sem.acquire().await;
    /// assert!(sem.is_locked());
    /// drop(permit);
    /// assert!(!sem.is_locked());
    /// # });
    /// ```
    #[track_caller]
    pub fn acquire(&self) -> Acquire<'_> {
        Acquire {
            at: Location::caller(),
            inner: RawAcquire::new(&self.raw),
            sem: self,
        }
    }

    /// Takes a permit if one is free and nobody is waiting for one.
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_none());
    /// drop(p);
    /// assert!(sem.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.raw
            .try_acquire()
            .then(|| SemaphorePermit { sem: self })
    }

    /// Adds a permit [asyncio: `sem.release()`]: it goes to the oldest waiter, if any.
    ///
    /// Pair it with [`SemaphorePermit::forget`] for asyncio's manual acquire/release.
    ///
    /// # Panics
    /// If the count would exceed [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(0);
    /// sem.release();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn release(&self) {
        self.raw.release();
    }

    /// Permits free right now (0 while tasks wait).
    ///
    /// ```
    /// assert_eq!(corio_sync::Semaphore::new(5).available_permits(), 5);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.raw.available()
    }

    /// True if [`acquire`](Self::acquire) would wait [asyncio: `locked()`].
    ///
    /// ```
    /// assert!(corio_sync::Semaphore::new(0).is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.raw.available() == 0
    }
}

/// A held permit of a [`Semaphore`] or [`BoundedSemaphore`]; released on drop.
///
/// ```
/// let sem = corio_sync::Semaphore::new(1);
/// {
///     let _permit = sem.try_acquire().unwrap();
///     assert_eq!(sem.available_permits(), 0);
/// }
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SemaphorePermit")
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permit out of circulation instead of releasing it on drop; a later
    /// `release()` gives it back (asyncio's manual `acquire()` … `release()`).
    ///
    /// ```
    /// let sem = corio_sync::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// sem.release();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(self) {
        self.sem.forgotten.fetch_add(1, Ordering::Relaxed);
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.raw.release();
    }
}

/// Future of [`Semaphore::acquire`] and [`BoundedSemaphore::acquire`].
///
/// Cancel-safe: dropping it never loses a permit.
///
/// ```
/// # futures::executor::block_on(async {
/// let sem = corio_sync::Semaphore::new(1);
/// let fut: corio_sync::semaphore::Acquire<'_> = sem.acquire();
/// let _permit = fut.await;
/// # });
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct Acquire<'a> {
    at: &'static Location<'static>,
    inner: RawAcquire<'a>,
    sem: &'a Semaphore,
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<'a> Acquire<'a> {
    fn poll_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        // SAFETY: `inner` is structurally pinned: never moved out of `self`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above.
        ready!(unsafe { Pin::new_unchecked(&mut this.inner) }.poll(cx));
        Poll::Ready(SemaphorePermit { sem: this.sem })
    }
}

impl<'a> Future for Acquire<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let at = self.at;
        let out = self.poll_inner(cx);
        if out.is_pending() {
            trace::record(&ACQUIRE, 0, at);
        }
        out
    }
}

/// What a task pending here awaits, for task dumps.
static ACQUIRE: trace::Op = trace::Op {
    name: "Semaphore::acquire",
    detail: trace::Detail::None,
};

/// A semaphore that refuses to be released above its initial value
/// [asyncio.BoundedSemaphore].
///
/// FIFO and cancel-safe like [`Semaphore`]: a permit handed to a waiter that is dropped
/// before it ran goes to the next waiter. Permits acquired with
/// [`acquire`](Self::acquire) return on drop and can never overflow the bound. [`release`](Self::release) is for permits taken out of
/// circulation with [`SemaphorePermit::forget`] (asyncio's manual `acquire()` …
/// `release()`); releasing more than were forgotten is [`BoundExceeded`]. Unlike
/// asyncio, a `release()` while only guard-held permits are out is refused at once,
/// rather than later when the guard would push the count over the bound.
///
/// ```
/// use corio_sync::{BoundedSemaphore, BoundExceeded};
/// futures::executor::block_on(async {
///     let sem = BoundedSemaphore::new(1);
///     sem.acquire().await.forget();
///     assert_eq!(sem.release(), Ok(()));
///     assert_eq!(sem.release(), Err(BoundExceeded));
/// });
/// ```
pub struct BoundedSemaphore {
    sem: Semaphore,
    bound: usize,
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("available_permits", &self.available_permits())
            .field("bound", &self.bound)
            .finish()
    }
}

impl BoundedSemaphore {
    /// A semaphore with `permits` permits, which is also its upper bound.
    ///
    /// # Panics
    /// If `permits` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    pub fn new(permits: usize) -> Self {
        Self {
            sem: Semaphore::new(permits),
            bound: permits,
        }
    }

    /// Waits for a permit, FIFO; released when the permit drops.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// let _p = sem.acquire().await;
    /// assert!(sem.is_locked());
    /// # });
    /// ```
    #[track_caller]
    pub fn acquire(&self) -> Acquire<'_> {
        self.sem.acquire()
    }

    /// Takes a permit if one is free and nobody waits.
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// let _p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_none());
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.sem.try_acquire()
    }

    /// Gives back a permit taken with [`SemaphorePermit::forget`]; handed to the oldest
    /// waiter if any. `Err(BoundExceeded)` if that would exceed the initial value.
    ///
    /// ```
    /// let sem = corio_sync::BoundedSemaphore::new(1);
    /// assert!(sem.release().is_err());
    /// sem.try_acquire().unwrap().forget();
    /// assert!(sem.release().is_ok());
    /// ```
    pub fn release(&self) -> Result<(), BoundExceeded> {
        let forgotten = &self.sem.forgotten;
        let mut n = forgotten.load(Ordering::Relaxed);
        loop {
            if n == 0 {
                return Err(BoundExceeded);
            }
            match forgotten.compare_exchange_weak(n, n - 1, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break,
                Err(actual) => n = actual,
            }
        }
        self.sem.release();
        Ok(())
    }

    /// Permits free right now.
    ///
    /// ```
    /// assert_eq!(corio_sync::BoundedSemaphore::new(3).available_permits(), 3);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.sem.available_permits()
    }

    /// True if `acquire` would wait.
    ///
    /// ```
    /// assert!(!corio_sync::BoundedSemaphore::new(1).is_locked());
    /// ```
    pub fn is_locked(&self) -> bool {
        self.sem.is_locked()
    }
}
