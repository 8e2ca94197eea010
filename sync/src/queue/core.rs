//! The queue machinery shared by `Queue`, `LifoQueue` and `PriorityQueue`: one lock
//! around the items and three FIFO waiter lists (getters, putters, joiners).
//!
//! Hand-offs go straight into the waiter's node, so nobody can barge:
//! * a `put` while getters wait gives the item to the oldest getter (the queue is empty
//!   then); a getter dropped after receiving it gives it to the next getter or puts it
//!   back where the next `get` finds it first;
//! * a `get` that frees a slot moves the oldest waiting putter's item into the queue,
//!   so that putter completes with the item already enqueued (nothing to hand on if it
//!   is dropped).

use crate::coop;
use crate::error::{GetError, PutError, QueueShutDown, TaskDoneError};
use crate::loom::Mutex;
use crate::queue::store::Store;
use crate::waiters::{List, Waiter, WakeList};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

pub(crate) struct Core<T> {
    maxsize: usize,
    state: Mutex<State<T>>,
}

struct State<T> {
    items: Store<T>,
    /// Data: the item handed over (`None` = woken by shutdown).
    getters: List<Option<T>>,
    /// Data: the item to put (`None` once it was moved into the queue).
    putters: List<Option<T>>,
    joiners: List<()>,
    /// Items put and not yet marked done [asyncio: `_unfinished_tasks`].
    unfinished: usize,
    shutdown: bool,
    immediate: bool,
}

impl<T> State<T> {
    fn is_full(&self, maxsize: usize) -> bool {
        maxsize > 0 && self.items.len() >= maxsize
    }

    /// Puts `v` (to a waiting getter, or into the queue), or gives it back if full.
    fn try_put(&mut self, maxsize: usize, v: T) -> Result<Option<Waker>, T> {
        if !self.getters.is_empty() {
            self.unfinished += 1;
            let mut slot = Some(v);
            return Ok(self.getters.pop_front(|d| *d = slot.take()));
        }
        if self.is_full(maxsize) {
            return Err(v);
        }
        self.items.push(v);
        self.unfinished += 1;
        Ok(None)
    }

    /// Takes the next item; if that freed a slot, admits the oldest waiting putter.
    fn try_get(&mut self, maxsize: usize) -> Option<(T, Option<Waker>)> {
        let v = self.items.pop()?;
        let mut waker = None;
        if !self.putters.is_empty() && !self.is_full(maxsize) {
            let mut item = None;
            waker = self.putters.pop_front(|d| item = d.take());
            if let Some(item) = item {
                self.items.push(item);
                self.unfinished += 1;
            }
        }
        Some((v, waker))
    }

    /// A getter was handed `v` but dropped: give it to the next getter, or back to the
    /// queue front; after an immediate shutdown it is dropped and counted done.
    fn give_back(&mut self, v: T, wakers: &mut WakeList) -> Option<T> {
        if self.shutdown && self.immediate {
            self.unfinished = self.unfinished.saturating_sub(1);
            self.wake_joiners_if_done(wakers);
            return Some(v);
        }
        if !self.getters.is_empty() {
            let mut slot = Some(v);
            if let Some(w) = self.getters.pop_front(|d| *d = slot.take()) {
                wakers.push(w);
            }
        } else {
            self.items.unpop(v);
        }
        None
    }

    fn wake_joiners_if_done(&mut self, wakers: &mut WakeList) {
        if self.unfinished == 0 {
            while let Some(w) = self.joiners.pop_front(|_| ()) {
                wakers.push(w);
            }
        }
    }
}

impl<T> fmt::Debug for Core<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Queue")
            .field("maxsize", &self.maxsize)
            .field("qsize", &st.items.len())
            .field("unfinished", &st.unfinished)
            .field("shutdown", &st.shutdown)
            .finish()
    }
}

impl<T> Core<T> {
    pub(crate) fn new(maxsize: usize, items: Store<T>) -> Self {
        Self {
            maxsize,
            state: Mutex::new(State {
                items,
                getters: List::new(),
                putters: List::new(),
                joiners: List::new(),
                unfinished: 0,
                shutdown: false,
                immediate: false,
            }),
        }
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.maxsize
    }

    pub(crate) fn qsize(&self) -> usize {
        self.state.lock().items.len()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.state.lock().is_full(self.maxsize)
    }

    pub(crate) fn put_nowait(&self, v: T) -> Result<(), PutError<T>> {
        let mut st = self.state.lock();
        if st.shutdown {
            return Err(PutError::ShutDown(v));
        }
        match st.try_put(self.maxsize, v) {
            Ok(waker) => {
                drop(st);
                if let Some(w) = waker {
                    w.wake();
                }
                Ok(())
            }
            Err(v) => Err(PutError::Full(v)),
        }
    }

    pub(crate) fn get_nowait(&self) -> Result<T, GetError> {
        let mut st = self.state.lock();
        match st.try_get(self.maxsize) {
            Some((v, waker)) => {
                drop(st);
                if let Some(w) = waker {
                    w.wake();
                }
                Ok(v)
            }
            None if st.shutdown => Err(GetError::ShutDown),
            None => Err(GetError::Empty),
        }
    }

    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut wakers = WakeList::new();
        let mut st = self.state.lock();
        if st.unfinished == 0 {
            return Err(TaskDoneError);
        }
        st.unfinished -= 1;
        st.wake_joiners_if_done(&mut wakers);
        drop(st);
        wakers.wake_all();
        Ok(())
    }

    pub(crate) fn shutdown(&self, immediate: bool) {
        let mut wakers = WakeList::new();
        let mut st = self.state.lock();
        st.shutdown = true;
        let dropped = if immediate {
            st.immediate = true;
            let items = st.items.take_all();
            st.unfinished = st.unfinished.saturating_sub(items.len());
            st.wake_joiners_if_done(&mut wakers);
            items
        } else {
            Vec::new()
        };
        // Getters only wait on an empty queue: they fail. Putters get their item back.
        while let Some(w) = st.getters.pop_front(|_| ()) {
            wakers.push(w);
        }
        while let Some(w) = st.putters.pop_front(|_| ()) {
            wakers.push(w);
        }
        drop(st);
        wakers.wake_all();
        drop(dropped);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Waiting,
    Done,
}

/// Future of `put` on [`Queue`](crate::Queue), [`LifoQueue`](crate::LifoQueue) and
/// [`PriorityQueue`](crate::PriorityQueue): waits while the queue is full.
///
/// Cancel-safe: dropped before its item was accepted, the item is dropped with it and
/// the queue is unchanged; once accepted, the item is in the queue.
///
/// ```
/// # futures::executor::block_on(async {
/// let q = corio_sync::Queue::new(1);
/// let fut: corio_sync::queue::Put<'_, i32> = q.put(1);
/// fut.await.unwrap();
/// assert_eq!(q.qsize(), 1);
/// # });
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct Put<'a, T> {
    core: &'a Core<T>,
    waiter: Waiter<Option<T>>,
    phase: Phase,
}

impl<'a, T> Put<'a, T> {
    pub(crate) fn new(core: &'a Core<T>, v: T) -> Self {
        Self {
            core,
            waiter: Waiter::new(Some(v)),
            phase: Phase::Idle,
        }
    }
}

impl<T> fmt::Debug for Put<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put").field("phase", &self.phase).finish()
    }
}

impl<T> Future for Put<'_, T> {
    type Output = Result<(), QueueShutDown<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(coop::poll_proceed(cx));
        // SAFETY: nothing is moved out of the pinned future; the waiter stays in place.
        let this = unsafe { self.get_unchecked_mut() };
        let core = this.core;
        match this.phase {
            Phase::Idle => {
                let mut st = core.state.lock();
                // SAFETY: not linked yet: the payload is ours.
                let v = unsafe { this.waiter.with_data(Option::take) }.expect("item present");
                if st.shutdown {
                    this.phase = Phase::Done;
                    return Poll::Ready(Err(QueueShutDown(v)));
                }
                match st.try_put(core.maxsize, v) {
                    Ok(waker) => {
                        drop(st);
                        this.phase = Phase::Done;
                        if let Some(w) = waker {
                            w.wake();
                        }
                        return Poll::Ready(Ok(()));
                    }
                    Err(v) => {
                        // SAFETY: still not linked.
                        unsafe { this.waiter.with_data(|d| *d = Some(v)) };
                        // SAFETY: pinned, unlinked; Drop removes it unless notified.
                        unsafe { st.putters.push_back(&this.waiter, cx.waker()) };
                        this.phase = Phase::Waiting;
                    }
                }
            }
            Phase::Waiting => {
                if !this.waiter.is_notified() {
                    let mut st = core.state.lock();
                    if !this.waiter.is_notified() {
                        // SAFETY: not notified under the lock: linked.
                        let old = unsafe { st.putters.update_waker(&this.waiter, cx.waker()) };
                        drop(st);
                        drop(old);
                        coop::refund();
                        return Poll::Pending;
                    }
                }
                this.phase = Phase::Done;
                // SAFETY: notified: unlinked, the payload is ours.
                return Poll::Ready(match unsafe { this.waiter.with_data(Option::take) } {
                    None => Ok(()),
                    Some(v) => Err(QueueShutDown(v)),
                });
            }
            Phase::Done => panic!("queue put future polled after completion"),
        }
        coop::refund();
        Poll::Pending
    }
}

impl<T> Drop for Put<'_, T> {
    fn drop(&mut self) {
        if self.phase != Phase::Waiting || self.waiter.is_notified() {
            // Accepted (the item is in the queue) or refused by shutdown: nothing to do.
            return;
        }
        let mut st = self.core.state.lock();
        if !self.waiter.is_notified() {
            // SAFETY: not notified under the lock: linked.
            let waker = unsafe { st.putters.remove(&self.waiter) };
            drop(st);
            drop(waker);
        }
        // The unaccepted item drops with the waiter, outside the lock.
    }
}

/// Future of `get` on the queues: waits while the queue is empty; after a shutdown it
/// drains the remaining items, then fails with [`QueueShutDown`].
///
/// Cancel-safe: an item handed to a dropped getter goes to the next getter or back to
/// the front of the queue.
///
/// ```
/// # futures::executor::block_on(async {
/// let q = corio_sync::Queue::new(0);
/// q.put_nowait("x").unwrap();
/// let fut: corio_sync::queue::Get<'_, &str> = q.get();
/// assert_eq!(fut.await, Ok("x"));
/// # });
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct Get<'a, T> {
    core: &'a Core<T>,
    waiter: Waiter<Option<T>>,
    phase: Phase,
}

impl<'a, T> Get<'a, T> {
    pub(crate) fn new(core: &'a Core<T>) -> Self {
        Self {
            core,
            waiter: Waiter::new(None),
            phase: Phase::Idle,
        }
    }
}

impl<T> fmt::Debug for Get<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get").field("phase", &self.phase).finish()
    }
}

impl<T> Future for Get<'_, T> {
    type Output = Result<T, QueueShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(coop::poll_proceed(cx));
        // SAFETY: nothing is moved out of the pinned future; the waiter stays in place.
        let this = unsafe { self.get_unchecked_mut() };
        let core = this.core;
        match this.phase {
            Phase::Idle => {
                let mut st = core.state.lock();
                if let Some((v, waker)) = st.try_get(core.maxsize) {
                    drop(st);
                    this.phase = Phase::Done;
                    if let Some(w) = waker {
                        w.wake();
                    }
                    return Poll::Ready(Ok(v));
                }
                if st.shutdown {
                    this.phase = Phase::Done;
                    return Poll::Ready(Err(QueueShutDown(())));
                }
                // SAFETY: pinned, unlinked; Drop removes it unless notified.
                unsafe { st.getters.push_back(&this.waiter, cx.waker()) };
                this.phase = Phase::Waiting;
            }
            Phase::Waiting => {
                if !this.waiter.is_notified() {
                    let mut st = core.state.lock();
                    if !this.waiter.is_notified() {
                        // SAFETY: not notified under the lock: linked.
                        let old = unsafe { st.getters.update_waker(&this.waiter, cx.waker()) };
                        drop(st);
                        drop(old);
                        coop::refund();
                        return Poll::Pending;
                    }
                }
                this.phase = Phase::Done;
                // SAFETY: notified: unlinked, the payload is ours.
                return Poll::Ready(match unsafe { this.waiter.with_data(Option::take) } {
                    Some(v) => Ok(v),
                    None => Err(QueueShutDown(())),
                });
            }
            Phase::Done => panic!("queue get future polled after completion"),
        }
        coop::refund();
        Poll::Pending
    }
}

impl<T> Drop for Get<'_, T> {
    fn drop(&mut self) {
        if self.phase != Phase::Waiting {
            return;
        }
        let mut st = if self.waiter.is_notified() {
            None
        } else {
            let mut st = self.core.state.lock();
            if !self.waiter.is_notified() {
                // SAFETY: not notified under the lock: linked.
                let waker = unsafe { st.getters.remove(&self.waiter) };
                drop(st);
                drop(waker);
                return;
            }
            Some(st)
        };
        // Notified: unlinked. Handed an item we will never return? Give it back.
        // SAFETY: notified, so the payload is ours.
        let Some(v) = (unsafe { self.waiter.with_data(Option::take) }) else {
            return;
        };
        let mut st = st.take().unwrap_or_else(|| self.core.state.lock());
        let mut wakers = WakeList::new();
        let dropped = st.give_back(v, &mut wakers);
        drop(st);
        wakers.wake_all();
        drop(dropped);
    }
}

/// Future of `join` on the queues: resolves once every item put was marked done with
/// `task_done` (or dropped by an immediate shutdown).
///
/// ```
/// # futures::executor::block_on(async {
/// let q = corio_sync::Queue::<u8>::new(0);
/// let fut: corio_sync::queue::Join<'_, u8> = q.join();
/// fut.await; // nothing unfinished
/// # });
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct Join<'a, T> {
    core: &'a Core<T>,
    waiter: Waiter<()>,
    phase: Phase,
}

impl<'a, T> Join<'a, T> {
    pub(crate) fn new(core: &'a Core<T>) -> Self {
        Self {
            core,
            waiter: Waiter::new(()),
            phase: Phase::Idle,
        }
    }
}

impl<T> fmt::Debug for Join<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join").field("phase", &self.phase).finish()
    }
}

impl<T> Future for Join<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        ready!(coop::poll_proceed(cx));
        // SAFETY: nothing is moved out of the pinned future; the waiter stays in place.
        let this = unsafe { self.get_unchecked_mut() };
        let mut st = this.core.state.lock();
        match this.phase {
            Phase::Idle => {
                if st.unfinished == 0 {
                    this.phase = Phase::Done;
                    return Poll::Ready(());
                }
                // SAFETY: pinned, unlinked; Drop removes it unless notified.
                unsafe { st.joiners.push_back(&this.waiter, cx.waker()) };
                this.phase = Phase::Waiting;
            }
            Phase::Waiting => {
                if this.waiter.is_notified() {
                    this.phase = Phase::Done;
                    return Poll::Ready(());
                }
                // SAFETY: not notified under the lock: linked.
                let old = unsafe { st.joiners.update_waker(&this.waiter, cx.waker()) };
                drop(st);
                drop(old);
                coop::refund();
                return Poll::Pending;
            }
            Phase::Done => panic!("queue join future polled after completion"),
        }
        drop(st);
        coop::refund();
        Poll::Pending
    }
}

impl<T> Drop for Join<'_, T> {
    fn drop(&mut self) {
        if self.phase != Phase::Waiting || self.waiter.is_notified() {
            return; // joiners are all woken together: nothing to hand on
        }
        let mut st = self.core.state.lock();
        if !self.waiter.is_notified() {
            // SAFETY: not notified under the lock: linked.
            let waker = unsafe { st.joiners.remove(&self.waiter) };
            drop(st);
            drop(waker);
        }
    }
}
