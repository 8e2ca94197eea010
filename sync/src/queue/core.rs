//! The queue machinery shared by `Queue`, `LifoQueue` and `PriorityQueue`: one lock
//! around the items and three FIFO waiter lists (getters, putters, joiners).
//!
//! # Hand-offs
//!
//! Every step below happens under the one lock, and a woken waiter learns what it was
//! given from its own node (written by whoever popped it), so nobody can barge in between.
//!
//! * **Getters** wait only while the queue is empty. A `put` while getters wait gives its
//!   item straight to the oldest getter's node. A getter dropped after receiving an item
//!   gives it to the next getter, or back to the front of the queue ([`State::give_back`]).
//!   A getter is a [`Get`] future or a queue handle's pending stream get (see
//!   `stream.rs`); both run the one protocol, [`Core::poll_get`] and [`Core::cancel_get`].
//! * **Putters** wait only while the queue is full. A `get` that frees a slot does not
//!   take the oldest putter's item: it *reserves* the slot for that putter and wakes it
//!   ([`State::admit_putter`]). The item enters the queue only when that put completes
//!   ([`State::fill_reserved`]); a putter dropped while holding a reservation passes it to
//!   the next putter, or frees the slot. So a cancelled put never enqueues its item
//!   (asyncio's cancelled `put` and tokio's cancelled bounded `send` behave the same).
//! * **Joiners** are all woken together when the unfinished count reaches zero; a dropped
//!   joiner has nothing to hand on.
//!
//! # Why the slots add up
//!
//! `reserved` counts putters popped with a slot that have neither completed nor been
//! dropped, and [`State::is_full`] counts their slots as taken: `items + reserved >=
//! maxsize`. Invariant: *while any putter waits, the queue is full.*
//!
//! * A putter is linked only after [`State::try_put`] found the queue full, under the lock.
//! * Only three steps free a slot, each exactly one and each followed, under the same
//!   lock, by [`State::admit_putter`], which reserves a free slot for the oldest putter:
//!   a `get` (`items - 1`); a reserved putter handing its item straight to a waiting getter
//!   (`reserved - 1`, `items` unchanged); a reserved putter dropped (`reserved - 1`).
//!   A dropped getter's item may go back into the queue, which only adds to `items`.
//!
//! Hence no putter waits while a slot is free (no lost wake-up), and no new `put` or
//! `put_nowait` takes a slot while older putters wait: [`State::try_put`] refuses a full
//! queue, and the queue is full whenever putters wait (no barging; FIFO among putters).
//! Each reservation ends exactly once, by its owner: completing (the item enters, or goes
//! to a getter) or dropping (the slot passes on). A shutdown refuses waiting putters and
//! leaves reservations alone; a reserved putter that completes after it gets its item
//! back, as every put after a shutdown does.

use crate::coop;
use crate::error::{GetError, PutError, QueueShutDown, TaskDoneError};
use crate::loom::Mutex;
use crate::queue::store::Store;
use crate::trace;
use crate::waiters::{List, Waiter, WakeList};
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

pub(crate) struct Core<T> {
    maxsize: usize,
    state: Mutex<State<T>>,
    /// What a task waiting on this queue awaits, for task dumps.
    ops: &'static Ops,
}

/// The task-dump names of one queue type's waits (`Queue::get`, `LifoQueue::put`...).
#[derive(Debug)]
pub(crate) struct Ops {
    pub(crate) put: trace::Op,
    pub(crate) get: trace::Op,
    pub(crate) join: trace::Op,
}

/// What a woken putter's node says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    /// Not woken yet.
    Waiting,
    /// A slot is reserved for this putter's item (counted in `State::reserved`).
    Slot,
    /// Woken by a shutdown: the put fails and gives its item back.
    ShutDown,
}

struct State<T> {
    items: Store<T>,
    /// Data: the item handed over (`None` = woken by shutdown).
    getters: List<Option<T>>,
    /// The items stay in the `Put` futures; the node only says why it was woken.
    putters: List<Admission>,
    joiners: List<()>,
    /// Slots reserved for woken putters that have not put their item yet.
    reserved: usize,
    /// Items put and not yet marked done [asyncio: `_unfinished_tasks`].
    unfinished: usize,
    shutdown: bool,
    immediate: bool,
}

impl<T> State<T> {
    /// True if no slot is free: the items and the slots reserved for woken putters fill
    /// the queue (never for an unbounded queue).
    #[inline]
    fn is_full(&self, maxsize: usize) -> bool {
        maxsize > 0 && self.items.len() + self.reserved >= maxsize
    }

    /// Puts `v` into a free slot (to a waiting getter, or into the queue), or gives it
    /// back if no slot is free.
    #[inline]
    fn try_put(&mut self, maxsize: usize, v: T) -> Result<Option<Waker>, T> {
        if self.is_full(maxsize) {
            return Err(v);
        }
        Ok(self.deliver(v))
    }

    /// Counts `v` as put and delivers it: to the oldest getter, or into the queue.
    #[inline]
    fn deliver(&mut self, v: T) -> Option<Waker> {
        self.unfinished += 1;
        if self.getters.is_empty() {
            self.items.push(v);
            return None;
        }
        let mut slot = Some(v);
        self.getters.pop_front(|d| *d = slot.take())
    }

    /// If a slot is free and putters wait, reserves it for the oldest one and returns its
    /// waker.
    #[inline]
    fn admit_putter(&mut self, maxsize: usize) -> Option<Waker> {
        if self.putters.is_empty() || self.is_full(maxsize) {
            return None;
        }
        self.reserved += 1;
        self.putters.pop_front(|a| *a = Admission::Slot)
    }

    /// Takes the next item; if that freed a slot, reserves it for the oldest putter.
    #[inline]
    fn try_get(&mut self, maxsize: usize) -> Option<(T, Option<Waker>)> {
        let v = self.items.pop()?;
        let waker = self.admit_putter(maxsize);
        Some((v, waker))
    }

    /// A putter holding a reservation puts `v` into its slot, or, after a shutdown, frees
    /// the slot and gets `v` back. Returns the wakers of the getter that received `v` and
    /// of the putter admitted to the slot that freed.
    fn fill_reserved(&mut self, maxsize: usize, v: T) -> Result<[Option<Waker>; 2], T> {
        self.reserved -= 1;
        if self.shutdown {
            // Nobody waits to put after a shutdown: nothing to admit.
            return Err(v);
        }
        let getter = self.deliver(v);
        // Handed straight to a getter, the item left the slot free again.
        let putter = self.admit_putter(maxsize);
        Ok([getter, putter])
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
            .field("reserved", &st.reserved)
            .field("unfinished", &st.unfinished)
            .field("shutdown", &st.shutdown)
            .finish()
    }
}

impl<T> Core<T> {
    /// The task-dump names of this queue type's waits.
    pub(crate) fn ops(&self) -> &'static Ops {
        self.ops
    }

    pub(crate) fn new(maxsize: usize, items: Store<T>, ops: &'static Ops) -> Self {
        Self {
            maxsize,
            ops,
            state: Mutex::new(State {
                items,
                getters: List::new(),
                putters: List::new(),
                joiners: List::new(),
                reserved: 0,
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
        // Getters only wait on an empty queue: they fail. Putters get their item back;
        // putters already holding a reservation find the shutdown when they complete.
        while let Some(w) = st.getters.pop_front(|_| ()) {
            wakers.push(w);
        }
        while let Some(w) = st.putters.pop_front(|a| *a = Admission::ShutDown) {
            wakers.push(w);
        }
        drop(st);
        wakers.wake_all();
        drop(dropped);
    }
}

impl<T> Core<T> {
    /// Polls one get: takes an item, or links `waiter` at the back of the getters and
    /// waits until a `put` (or a dropped getter) hands it one, or a shutdown wakes it.
    /// Used by [`Get`] and by each queue handle's `Stream` implementation.
    ///
    /// # Safety
    /// `waiter` and `phase` belong to one get, polled only on this core; once `phase` is
    /// `Waiting`, `waiter` stays at the same address until [`cancel_get`](Self::cancel_get)
    /// was called with them or this poll returned `Ready`.
    pub(super) unsafe fn poll_get(
        &self,
        waiter: &Waiter<Option<T>>,
        phase: &mut Phase,
        cx: &mut Context<'_>,
    ) -> Poll<Result<T, QueueShutDown>> {
        ready!(coop::poll_proceed(cx));
        match *phase {
            Phase::Idle => {
                let mut st = self.state.lock();
                if let Some((v, waker)) = st.try_get(self.maxsize) {
                    drop(st);
                    *phase = Phase::Done;
                    if let Some(w) = waker {
                        w.wake();
                    }
                    return Poll::Ready(Ok(v));
                }
                if st.shutdown {
                    *phase = Phase::Done;
                    return Poll::Ready(Err(QueueShutDown(())));
                }
                // SAFETY: unlinked, and stays in place until cancelled or completed (our
                // contract); cancel_get removes it unless notified.
                unsafe { st.getters.push_back(waiter, cx.waker()) };
                *phase = Phase::Waiting;
            }
            Phase::Waiting => {
                if !waiter.is_notified() {
                    let mut st = self.state.lock();
                    if !waiter.is_notified() {
                        // SAFETY: not notified under the lock: linked.
                        let old = unsafe { st.getters.update_waker(waiter, cx.waker()) };
                        drop(st);
                        drop(old);
                        coop::refund();
                        return Poll::Pending;
                    }
                }
                *phase = Phase::Done;
                // SAFETY: notified: unlinked, the payload is ours.
                return Poll::Ready(match unsafe { waiter.with_data(Option::take) } {
                    Some(v) => Ok(v),
                    None => Err(QueueShutDown(())),
                });
            }
            Phase::Done => panic!("queue get future polled after completion"),
        }
        coop::refund();
        Poll::Pending
    }

    /// Cancels one get (its future or handle is being dropped): unlinks a waiting
    /// `waiter`, or, if it was already handed an item, gives the item to the next getter
    /// or back to the front of the queue ([`State::give_back`]).
    ///
    /// # Safety
    /// `waiter` and `phase` belong to one get polled only on this core with
    /// [`poll_get`](Self::poll_get), and `phase` is its current phase.
    #[inline]
    pub(super) unsafe fn cancel_get(&self, waiter: &Waiter<Option<T>>, phase: Phase) {
        // Most gets complete before they are dropped: keep that check inline, at the
        // call site, and the hand-on below out of line.
        if phase == Phase::Waiting {
            // SAFETY: the caller's contract, and the get is waiting.
            unsafe { self.cancel_waiting_get(waiter) }
        }
    }

    /// [`cancel_get`](Self::cancel_get) of a get in [`Phase::Waiting`].
    ///
    /// # Safety
    /// As for `cancel_get`, with `phase == Phase::Waiting`.
    #[inline(never)]
    unsafe fn cancel_waiting_get(&self, waiter: &Waiter<Option<T>>) {
        let mut st = if waiter.is_notified() {
            None
        } else {
            let mut st = self.state.lock();
            if !waiter.is_notified() {
                // SAFETY: not notified under the lock: linked.
                let waker = unsafe { st.getters.remove(waiter) };
                drop(st);
                drop(waker);
                return;
            }
            Some(st)
        };
        // Notified: unlinked. Handed an item we will never return? Give it back.
        // SAFETY: notified, so the payload is ours.
        let Some(v) = (unsafe { waiter.with_data(Option::take) }) else {
            return;
        };
        let mut st = st.take().unwrap_or_else(|| self.state.lock());
        let mut wakers = WakeList::new();
        let dropped = st.give_back(v, &mut wakers);
        drop(st);
        wakers.wake_all();
        drop(dropped);
    }
}

/// Where one get, put or join is: not started, linked in a waiter list (or woken and not
/// yet completed), or completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Idle,
    Waiting,
    Done,
}

/// Future of `put` on [`Queue`](crate::Queue), [`LifoQueue`](crate::LifoQueue) and
/// [`PriorityQueue`](crate::PriorityQueue): waits while the queue is full.
///
/// Putters are admitted in FIFO order: a `get` that frees a slot reserves it for the
/// oldest waiting putter, and the item enters the queue when that put completes.
///
/// Cancel-safe: dropped before it completes, the put never enqueues its item (it is
/// dropped with the future); a slot already reserved for it goes to the next waiting
/// putter, or is freed.
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
    /// Where it was created, for task dumps.
    at: &'static Location<'static>,
    /// The item, until it is put or given back.
    item: Option<T>,
    waiter: Waiter<Admission>,
    phase: Phase,
}

impl<'a, T> Put<'a, T> {
    pub(crate) fn new(core: &'a Core<T>, v: T, at: &'static Location<'static>) -> Self {
        Self {
            core,
            at,
            item: Some(v),
            waiter: Waiter::new(Admission::Waiting),
            phase: Phase::Idle,
        }
    }
}

impl<T> fmt::Debug for Put<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put").field("phase", &self.phase).finish()
    }
}

impl<T> Put<'_, T> {
    #[inline(always)]
    fn poll_inner(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), QueueShutDown<T>>> {
        ready!(coop::poll_proceed(cx));
        // SAFETY: nothing is moved out of the pinned future; the waiter stays in place.
        let this = unsafe { self.get_unchecked_mut() };
        let core = this.core;
        match this.phase {
            Phase::Idle => {
                let v = this.item.take().expect("item present");
                let mut st = core.state.lock();
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
                        this.item = Some(v);
                        // SAFETY: pinned, unlinked; Drop removes it unless notified.
                        unsafe { st.putters.push_back(&this.waiter, cx.waker()) };
                        this.phase = Phase::Waiting;
                    }
                }
            }
            Phase::Waiting => {
                let mut st = None;
                if !this.waiter.is_notified() {
                    let mut locked = core.state.lock();
                    if !this.waiter.is_notified() {
                        // SAFETY: not notified under the lock: linked.
                        let old = unsafe { locked.putters.update_waker(&this.waiter, cx.waker()) };
                        drop(locked);
                        drop(old);
                        coop::refund();
                        return Poll::Pending;
                    }
                    st = Some(locked);
                }
                this.phase = Phase::Done;
                let v = this.item.take().expect("item present");
                // SAFETY: notified: unlinked, the payload is ours.
                return Poll::Ready(match unsafe { this.waiter.with_data(|a| *a) } {
                    Admission::Slot => {
                        let mut st = st.unwrap_or_else(|| core.state.lock());
                        match st.fill_reserved(core.maxsize, v) {
                            Ok(wakers) => {
                                drop(st);
                                wakers.into_iter().flatten().for_each(Waker::wake);
                                Ok(())
                            }
                            Err(v) => Err(QueueShutDown(v)),
                        }
                    }
                    Admission::ShutDown => Err(QueueShutDown(v)),
                    Admission::Waiting => unreachable!("a woken putter is admitted or refused"),
                });
            }
            Phase::Done => panic!("queue put future polled after completion"),
        }
        coop::refund();
        Poll::Pending
    }
}

impl<T> Future for Put<'_, T> {
    type Output = Result<(), QueueShutDown<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The queue's names are read only when waiting: the core's cache line is
        // contended, and a ready poll should not touch it for a dump.
        let out = self.as_mut().poll_inner(cx);
        if out.is_pending() {
            trace::record(&self.core.ops.put, 0, self.at);
        }
        out
    }
}

impl<T> Drop for Put<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // Most puts complete before they are dropped: only a waiting one has work here.
        if self.phase == Phase::Waiting {
            self.cancel_waiting();
        }
    }
}

impl<T> Put<'_, T> {
    /// Drop of a put that is waiting: unlinks it, or passes on a slot reserved for it.
    #[inline(never)]
    fn cancel_waiting(&mut self) {
        let st = if self.waiter.is_notified() {
            None
        } else {
            let mut st = self.core.state.lock();
            if !self.waiter.is_notified() {
                // SAFETY: not notified under the lock: linked.
                let waker = unsafe { st.putters.remove(&self.waiter) };
                drop(st);
                drop(waker);
                return; // the item drops with the future, outside the lock
            }
            Some(st)
        };
        // SAFETY: notified: unlinked, the payload is ours.
        if unsafe { self.waiter.with_data(|a| *a) } != Admission::Slot {
            return; // refused by a shutdown: nothing to hand on
        }
        // A slot was reserved for us and we never used it: pass it on (or free it).
        let mut st = st.unwrap_or_else(|| self.core.state.lock());
        st.reserved -= 1;
        let waker = st.admit_putter(self.core.maxsize);
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
        // The item, never enqueued, drops with the future, outside the lock.
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
    /// Where it was created, for task dumps.
    at: &'static Location<'static>,
    waiter: Waiter<Option<T>>,
    phase: Phase,
}

impl<'a, T> Get<'a, T> {
    pub(crate) fn new(core: &'a Core<T>, at: &'static Location<'static>) -> Self {
        Self {
            core,
            at,
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

impl<T> Get<'_, T> {
    #[inline(always)]
    fn poll_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, QueueShutDown>> {
        // SAFETY: nothing is moved out of the pinned future; the waiter stays in place.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: the waiter is pinned in this future, belongs to this get only, and
        // `Drop` cancels the get before the waiter is freed.
        unsafe { this.core.poll_get(&this.waiter, &mut this.phase, cx) }
    }
}

impl<T> Future for Get<'_, T> {
    type Output = Result<T, QueueShutDown>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The queue's names are read only when waiting: the core's cache line is
        // contended, and a ready poll should not touch it for a dump.
        let out = self.as_mut().poll_inner(cx);
        if out.is_pending() {
            trace::record(&self.core.ops.get, 0, self.at);
        }
        out
    }
}

impl<T> Drop for Get<'_, T> {
    fn drop(&mut self) {
        // SAFETY: `waiter` and `phase` are this get's, only ever polled on `self.core`.
        unsafe { self.core.cancel_get(&self.waiter, self.phase) }
    }
}

/// Future of `join` on the queues: resolves once every item put was marked done with
/// `task_done` (or dropped by an immediate shutdown).
///
/// All waiting joiners are released together; one dropped after that has nothing to
/// hand on.
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
    /// Where it was created, for task dumps.
    at: &'static Location<'static>,
    waiter: Waiter<()>,
    phase: Phase,
}

impl<'a, T> Join<'a, T> {
    pub(crate) fn new(core: &'a Core<T>, at: &'static Location<'static>) -> Self {
        Self {
            core,
            at,
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

impl<T> Join<'_, T> {
    #[inline(always)]
    fn poll_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
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

impl<T> Future for Join<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // The queue's names are read only when waiting: the core's cache line is
        // contended, and a ready poll should not touch it for a dump.
        let out = self.as_mut().poll_inner(cx);
        if out.is_pending() {
            trace::record(&self.core.ops.join, 0, self.at);
        }
        out
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
