//! [`Event`] [asyncio.Event].

use std::panic::Location;

use crate::coop;
use crate::loom::{AtomicBool, Mutex, Ordering};
use crate::trace;
use crate::waiters::{List, Waiter, WakeList};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A flag tasks can wait on [asyncio.Event].
///
/// [`set`](Self::set) wakes every task waiting at that moment — even if
/// [`clear`](Self::clear) follows at once: each waiter is marked notified by `set`
/// itself, so it does not re-check the flag. While the flag is set, `wait` returns at
/// once. Dropping a pending [`EventWait`] removes it from the waiter list in O(1); a
/// waiter woken by `set` and dropped before it ran has nothing to hand on (every waiter
/// was woken).
///
/// ```
/// use corio_sync::Event;
/// futures::executor::block_on(async {
///     let ev = Event::new();
///     assert!(!ev.is_set());
///     ev.set();
///     ev.wait().await; // returns at once
///     ev.clear();
///     assert!(!ev.is_set());
/// });
/// ```
pub struct Event {
    flag: AtomicBool,
    waiters: Mutex<List<()>>,
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl Event {
    /// A new, cleared event.
    ///
    /// ```
    /// assert!(!corio_sync::Event::new().is_set());
    /// ```
    pub fn new() -> Self {
        Self {
            flag: AtomicBool::new(false),
            waiters: Mutex::new(List::new()),
        }
    }

    /// Sets the flag and wakes every current waiter.
    ///
    /// ```
    /// let ev = corio_sync::Event::new();
    /// ev.set();
    /// assert!(ev.is_set());
    /// ```
    pub fn set(&self) {
        // A read-modify-write, not a load: it reads the latest value, so a `clear` that
        // came first is never missed (a stale `true` would skip this set and its wake-ups).
        // Setting the flag before taking the lock is safe: a waiter checks it under the
        // lock, and either sees it (the lock orders it after this swap) or is listed before
        // the lock below, which then wakes it.
        if self.flag.swap(true, Ordering::AcqRel) {
            return; // already set: nobody can be waiting
        }
        let mut wakers = WakeList::<16>::new();
        let mut list = self.waiters.lock();
        while let Some(w) = list.pop_front(|_| ()) {
            wakers.push(w);
        }
        drop(list);
        wakers.wake_all();
    }

    /// Clears the flag; later `wait`s block until the next `set`.
    ///
    /// ```
    /// let ev = corio_sync::Event::new();
    /// ev.set();
    /// ev.clear();
    /// assert!(!ev.is_set());
    /// ```
    pub fn clear(&self) {
        // A read-modify-write, not a store: "clear, then check my own flag, then wait" must
        // not have the check overtake the clear, or a `set` between them is erased (a
        // store can wait in a store buffer while the later load runs; the RMW reads and
        // writes the latest value, so it synchronizes with the `set` it follows).
        self.flag.swap(false, Ordering::AcqRel);
    }

    /// True if the flag is set.
    ///
    /// ```
    /// assert!(!corio_sync::Event::new().is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Waits until the flag is set (returns at once if it is).
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let ev = corio_sync::Event::new();
    /// ev.set();
    /// ev.wait().await;
    /// # });
    /// ```
    #[track_caller]
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            at: Location::caller(),
            event: self,
            waiter: Waiter::new(()),
            state: State::Idle,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Waiting,
    Done,
}

/// Future of [`Event::wait`].
///
/// ```
/// # futures::executor::block_on(async {
/// let ev = corio_sync::Event::new();
/// let fut: corio_sync::event::EventWait<'_> = ev.wait();
/// ev.set();
/// fut.await;
/// # });
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct EventWait<'a> {
    at: &'static Location<'static>,
    event: &'a Event,
    waiter: Waiter<()>,
    state: State,
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("state", &self.state)
            .finish()
    }
}

impl EventWait<'_> {
    fn poll_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        ready!(coop::poll_proceed(cx));
        // SAFETY: nothing is moved out of the pinned future; the waiter stays in place.
        let this = unsafe { self.get_unchecked_mut() };
        let ev = this.event;
        match this.state {
            State::Idle => {
                if ev.is_set() {
                    this.state = State::Done;
                    return Poll::Ready(());
                }
                let mut list = ev.waiters.lock();
                if ev.flag.load(Ordering::Acquire) {
                    drop(list);
                    this.state = State::Done;
                    return Poll::Ready(());
                }
                // SAFETY: pinned, unlinked; Drop removes it unless notified.
                unsafe { list.push_back(&this.waiter, cx.waker()) };
                this.state = State::Waiting;
            }
            State::Waiting => {
                if this.waiter.is_notified() {
                    this.state = State::Done;
                    return Poll::Ready(());
                }
                let mut list = ev.waiters.lock();
                if this.waiter.is_notified() {
                    drop(list);
                    this.state = State::Done;
                    return Poll::Ready(());
                }
                // SAFETY: not notified under the lock: linked.
                let old = unsafe { list.update_waker(&this.waiter, cx.waker()) };
                drop(list);
                drop(old);
            }
            State::Done => panic!("EventWait polled after completion"),
        }
        coop::refund();
        Poll::Pending
    }
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let at = self.at;
        let out = self.poll_inner(cx);
        if out.is_pending() {
            trace::record(&EVENT_WAIT, 0, at);
        }
        out
    }
}

/// What a task pending here awaits, for task dumps.
static EVENT_WAIT: trace::Op = trace::Op {
    name: "Event::wait",
    detail: trace::Detail::None,
};

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if self.state != State::Waiting || self.waiter.is_notified() {
            // A notified waiter has nothing to hand on: `set` woke everyone.
            return;
        }
        let mut list = self.event.waiters.lock();
        if !self.waiter.is_notified() {
            // SAFETY: not notified under the lock: linked.
            let waker = unsafe { list.remove(&self.waiter) };
            drop(list);
            drop(waker);
        }
    }
}
