//! [`Condition`] [asyncio.Condition].

use std::panic::Location;

use crate::coop;
use crate::loom::Mutex as InnerMutex;
use crate::mutex::{Mutex, MutexGuard};
use crate::raw_semaphore::RawAcquire;
use crate::trace;
use crate::waiters::{List, Waiter, WakeList};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A condition variable for corio [`Mutex`]es [asyncio.Condition].
///
/// Unlike asyncio's `Condition(lock)`, a `Condition` does not own a lock: like
/// `std::sync::Condvar` it is paired with a `Mutex` by passing that mutex's guard to
/// [`wait`](Self::wait). Any corio `Mutex` works (even different ones over time — the
/// notification bookkeeping does not depend on the mutex). asyncio's
/// `async with cond: await cond.wait()` becomes
/// `let g = m.lock().await; let g = cond.wait(g).await;`.
///
/// * `wait` registers, then unlocks; it returns only after re-acquiring the mutex.
/// * [`notify(n)`](Self::notify) wakes exactly the `n` oldest waiters (all if fewer);
///   a notification with nobody waiting is not remembered.
/// * Cancel-safe: a waiter dropped before it is notified just leaves; one dropped after
///   it was notified but before it re-acquired the mutex passes its notification to
///   the next waiter (the oldest one waiting then, which may have started waiting after
///   the `notify`: as with asyncio, re-check the state with
///   [`wait_while`](Self::wait_while)), and a mutex it was already handed goes to the
///   mutex's next waiter.
///
/// ```
/// use corio_sync::{Condition, Mutex};
/// use futures::{executor::block_on, join};
/// block_on(async {
///     let (m, cond) = (Mutex::new(false), Condition::new());
///     let waiter = async {
///         let g = cond.wait_while(m.lock().await, |ready| !*ready).await;
///         assert!(*g);
///     };
///     let notifier = async {
///         *m.lock().await = true;
///         cond.notify_all();
///     };
///     join!(waiter, notifier);
/// });
/// ```
pub struct Condition {
    waiters: InnerMutex<List<()>>,
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("waiters", &self.waiters.lock().len())
            .finish()
    }
}

impl Default for Condition {
    fn default() -> Self {
        Self::new()
    }
}

impl Condition {
    /// A condition with no waiters.
    ///
    /// ```
    /// let _cond = corio_sync::Condition::new();
    /// ```
    pub fn new() -> Self {
        Self {
            waiters: InnerMutex::new(List::new()),
        }
    }

    /// Unlocks `guard`'s mutex, waits for a notification, re-locks and returns the new
    /// guard. The wait is registered before the mutex is released, so a `notify` from a
    /// task that takes the mutex after us is never missed.
    ///
    /// ```
    /// use corio_sync::{Condition, Mutex};
    /// # futures::executor::block_on(async {
    /// let (m, cond) = (Mutex::new(0), Condition::new());
    /// let (g, ()) = futures::join!(cond.wait(m.lock().await), async {
    ///     *m.lock().await = 1;
    ///     cond.notify(1);
    /// });
    /// assert_eq!(*g, 1);
    /// # });
    /// ```
    #[track_caller]
    pub fn wait<'a, T>(&'a self, guard: MutexGuard<'a, T>) -> ConditionWait<'a, T> {
        self.wait_at(guard, Location::caller())
    }

    /// [`wait`](Self::wait), with the creation site task dumps show.
    fn wait_at<'a, T>(
        &'a self,
        guard: MutexGuard<'a, T>,
        at: &'static Location<'static>,
    ) -> ConditionWait<'a, T> {
        let mutex = MutexGuard::mutex(&guard);
        ConditionWait {
            at,
            cond: self,
            mutex,
            guard: Some(guard),
            waiter: Waiter::new(()),
            relock: RawAcquire::new(mutex.raw()),
            state: State::Idle,
        }
    }

    /// Waits while `condition` returns true (std `Condvar::wait_while` polarity), then
    /// returns the guard. asyncio's `wait_for(pred)` is `wait_while(g, |v| !pred(v))`.
    ///
    /// ```
    /// use corio_sync::{Condition, Mutex};
    /// # futures::executor::block_on(async {
    /// let (m, cond) = (Mutex::new(3), Condition::new());
    /// // Not waiting at all: the condition is already false.
    /// let g = cond.wait_while(m.lock().await, |n| *n == 0).await;
    /// assert_eq!(*g, 3);
    /// # });
    /// ```
    #[track_caller]
    pub fn wait_while<'a, T, F>(
        &'a self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> impl Future<Output = MutexGuard<'a, T>> + use<'a, T, F>
    where
        F: FnMut(&mut T) -> bool,
    {
        // Task dumps show each wait at the caller's line, not this one.
        let at = Location::caller();
        async move {
            while condition(&mut guard) {
                guard = self.wait_at(guard, at).await;
            }
            guard
        }
    }

    /// Wakes the `n` oldest waiters (all of them if fewer wait). Not remembered if
    /// nobody waits.
    ///
    /// ```
    /// let cond = corio_sync::Condition::new();
    /// cond.notify(1); // nobody waits: a no-op
    /// ```
    pub fn notify(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut wakers = WakeList::<16>::new();
        let mut list = self.waiters.lock();
        for _ in 0..n {
            match list.pop_front(|_| ()) {
                Some(w) => wakers.push(w),
                None => break,
            }
        }
        drop(list);
        wakers.wake_all();
    }

    /// Wakes every current waiter.
    ///
    /// ```
    /// corio_sync::Condition::new().notify_all();
    /// ```
    pub fn notify_all(&self) {
        self.notify(usize::MAX);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Holding the guard; not yet registered.
    Idle,
    /// Registered, mutex released, waiting for a notification.
    Waiting,
    /// Notified; re-acquiring the mutex.
    Relocking,
    Done,
}

/// Future of [`Condition::wait`]; resolves to the re-acquired guard.
///
/// ```
/// # futures::executor::block_on(async {
/// let (m, cond) = (corio_sync::Mutex::new(()), corio_sync::Condition::new());
/// let fut: corio_sync::condition::ConditionWait<'_, ()> = cond.wait(m.lock().await);
/// drop(fut); // never polled: just unlocks
/// assert!(!m.is_locked());
/// # });
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct ConditionWait<'a, T> {
    at: &'static Location<'static>,
    cond: &'a Condition,
    mutex: &'a Mutex<T>,
    guard: Option<MutexGuard<'a, T>>,
    waiter: Waiter<()>,
    relock: RawAcquire<'a>,
    state: State,
}

impl<T> fmt::Debug for ConditionWait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionWait")
            .field("state", &self.state)
            .finish()
    }
}

impl<'a, T> ConditionWait<'a, T> {
    fn poll_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        // SAFETY: `waiter` and `relock` are never moved out of the pinned future.
        let this = unsafe { self.get_unchecked_mut() };
        loop {
            match this.state {
                State::Idle => {
                    ready!(coop::poll_proceed(cx));
                    let mut list = this.cond.waiters.lock();
                    // SAFETY: pinned, unlinked; Drop removes it unless notified.
                    unsafe { list.push_back(&this.waiter, cx.waker()) };
                    this.state = State::Waiting;
                    drop(list);
                    // Registered first, then unlock: no notification can slip between.
                    if let Some(guard) = this.guard.take() {
                        MutexGuard::into_mutex(guard);
                    }
                    coop::refund();
                    return Poll::Pending;
                }
                State::Waiting => {
                    ready!(coop::poll_proceed(cx));
                    if !this.waiter.is_notified() {
                        let mut list = this.cond.waiters.lock();
                        if !this.waiter.is_notified() {
                            // SAFETY: not notified under the lock: linked.
                            let old = unsafe { list.update_waker(&this.waiter, cx.waker()) };
                            drop(list);
                            drop(old);
                            coop::refund();
                            return Poll::Pending;
                        }
                    }
                    coop::refund(); // the relock poll below charges the budget
                    this.state = State::Relocking;
                }
                State::Relocking => {
                    // SAFETY: `relock` is structurally pinned.
                    ready!(unsafe { Pin::new_unchecked(&mut this.relock) }.poll(cx));
                    this.state = State::Done;
                    return Poll::Ready(MutexGuard::new_locked(this.mutex));
                }
                State::Done => panic!("ConditionWait polled after completion"),
            }
        }
    }
}

impl<'a, T> Future for ConditionWait<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let at = self.at;
        let out = self.poll_inner(cx);
        if out.is_pending() {
            trace::record(&CONDITION_WAIT, 0, at);
        }
        out
    }
}

/// What a task pending here awaits, for task dumps.
static CONDITION_WAIT: trace::Op = trace::Op {
    name: "Condition::wait",
    detail: trace::Detail::None,
};

impl<T> Drop for ConditionWait<'_, T> {
    fn drop(&mut self) {
        let notified = match self.state {
            State::Idle | State::Done => false,
            State::Relocking => true,
            State::Waiting => {
                if self.waiter.is_notified() {
                    true
                } else {
                    let mut list = self.cond.waiters.lock();
                    if self.waiter.is_notified() {
                        true
                    } else {
                        // SAFETY: not notified under the lock: linked.
                        let waker = unsafe { list.remove(&self.waiter) };
                        drop(list);
                        drop(waker);
                        false
                    }
                }
            }
        };
        if notified {
            // Dropped between notification and re-acquiring: pass the notification on.
            // (`relock`, dropped after us, hands on the mutex if it was granted.)
            self.cond.notify(1);
        }
    }
}
