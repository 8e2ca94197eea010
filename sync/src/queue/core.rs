//! The queue machinery shared by `Queue`, `LifoQueue` and `PriorityQueue`: one lock
//! around the waiter lists (getters, putters, joiners) and the slow paths, and — for a
//! bounded FIFO queue — a lock-free ring that holds its items, so that a `put` or `get`
//! that neither waits nor has to wake anyone takes no lock at all.
//!
//! # Hand-offs
//!
//! Every hand-off happens under the lock, and a woken waiter learns what it was given
//! from its own node (written by whoever popped it), so nobody can barge in between.
//!
//! * **Getters** wait only while the queue is empty. A `put` while getters wait gives its
//!   item straight to the oldest getter's node. A getter dropped after receiving an item
//!   gives it to the next getter, or back to the front of the queue ([`Core::give_back`]).
//!   A getter is a [`Get`] future or a queue handle's pending stream get (see
//!   `stream.rs`); both run the one protocol, [`Core::poll_get`] and [`Core::cancel_get`].
//! * **Putters** wait only while the queue is full. A `get` that frees a slot does not
//!   take the oldest putter's item: it *reserves* the slot for that putter and wakes it
//!   ([`Core::admit_putters`]). The item enters the queue only when that put completes
//!   ([`Core::fill_reserved`]); a putter dropped while holding a reservation passes it to
//!   the next putter, or frees the slot. So a cancelled put never enqueues its item
//!   (asyncio's cancelled `put` and tokio's cancelled bounded `send` behave the same).
//! * **Joiners** are all woken together when the unfinished count reaches zero; a dropped
//!   joiner has nothing to hand on.
//!
//! # Where the items are
//!
//! A `LifoQueue`, a `PriorityQueue` and an unbounded or very large `Queue` keep their
//! items in [`State::items`] under the lock, and every operation takes it. A bounded FIFO
//! `Queue` of up to [`RING_MAX_BYTES`] keeps them in a [`Ring`] of `maxsize` slots, and
//! `State::items` holds only items given back by dropped getters, which come out first
//! (the *front*). Either way "the queue" is `items` then the ring, and its length
//! ([`Core::len`]) is both.
//!
//! # Why the slots add up
//!
//! `reserved` counts putters popped with a slot that have neither completed nor been
//! dropped, and [`Core::is_full`] counts their slots as taken: `len + reserved >=
//! maxsize`. Invariant: *while any putter waits, the queue is full.*
//!
//! * A putter is linked only after the queue was found full, under the lock, and after
//!   linking it runs [`Core::admit_putters`] once more (see the fast paths below for why).
//! * Every step that frees a slot is followed by [`Core::admit_putters`], which reserves
//!   free slots for the oldest putters: a `get` (`len - 1`); a reserved putter handing its
//!   item straight to a waiting getter (`reserved - 1`, `len` unchanged); a reserved
//!   putter dropped (`reserved - 1`). A dropped getter's item may go back into the queue,
//!   which only adds to `len`.
//!
//! Hence no putter waits while a slot is free (no lost wake-up), and no new `put` or
//! `put_nowait` takes a slot while older putters wait: the slow path refuses a full queue
//! and waits behind them, and the queue is full whenever putters wait (FIFO among
//! putters; see below for the one exception). Each reservation ends exactly once, by its
//! owner: completing (the item enters, or goes to a getter) or dropping (the slot passes
//! on). A shutdown refuses waiting putters and leaves reservations alone; a reserved
//! putter that completes after it gets its item back, as every put after a shutdown does.
//!
//! # The fast paths (bounded FIFO queues)
//!
//! [`Core::flags`] mirrors, for lock-free readers, what the slow paths must handle:
//! [`GETTERS`] (getters wait), [`PUTTERS`] (putters wait), [`PUT_SLOW`] (putters wait, a
//! front exists, or the queue is shut down), [`RESERVED`] (slots are reserved; their
//! number is in [`Core::reserved_hint`]), [`GET_SLOW`] (a front exists) and [`JOINERS`]
//! (joiners wait). Only the lock's holder writes them, after each change, from the state.
//!
//! * A fast `put` runs only while neither `PUT_SLOW` nor `GETTERS` is set, and, if slots
//!   are reserved, only while the ring has a slot beyond them: it counts the item
//!   unfinished, pushes it into the ring, then (a `SeqCst` fence) reads the flags again,
//!   and takes the lock if getters wait (to hand them the ring's items) or the queue was
//!   shut down meanwhile (an immediate shutdown drops the item). If the ring has no slot
//!   ready it takes the slow path.
//! * A fast `get` runs only while neither `GET_SLOW` nor `GETTERS` is set: it pops the
//!   ring, then (a `SeqCst` fence) reads the flags, and takes the lock to admit putters if
//!   `PUTTERS` is set. With nothing ready it takes the slow path.
//! * A getter or putter that is about to wait links its node, stores the flags, issues a
//!   `SeqCst` fence and only then checks the ring again under the lock (a getter hands the
//!   ring's items to the getters in order, itself included if its turn comes; a putter
//!   runs [`Core::admit_putters`], which reads the ring's length). This is the store–fence–
//!   load pattern on both sides: a fast operation's ring update and the waiter's flag
//!   store are each followed by a fence and a read of the other, so at least one of the
//!   two sees the other — either the waiter finds the item (or the free slot) itself, or
//!   the fast operation sees the flag and takes the lock to hand it over. No wake-up is
//!   lost. The same pattern covers `task_done` (decrement, fence, read `JOINERS`) against
//!   a joiner (link, store the flag, fence, read the count), and an immediate shutdown
//!   (store the flag, fence, drain) against a fast `put`.
//! * The ring never waits for a half-finished operation: a push whose slot is still
//!   being emptied fails, and a pop whose item is still being written finds nothing. On a
//!   fast path that means the slow path; under the lock, where an answer must be exact
//!   (`put_nowait`'s `Full`, `get_nowait`'s `Empty`), [`Core::ring_push`] and
//!   [`Core::ring_pop`] spin until the other side's operation, which never waits, ends.
//! * The exception to FIFO admission: a fast `put` that read the flags (or the reserved
//!   count) just before a putter started waiting, or a slot was reserved, may still take
//!   a slot a `get` frees, even one reserved for that putter (the two puts overlap in
//!   time, so either order is a valid history). The reserved putter then finds the ring
//!   full when it fills its slot: it gives the reservation back and waits again at the
//!   *front* of the putters, where the next freed slot is its. The same overlap lets a
//!   fast `get` take an item ahead of a getter that started waiting at that moment;
//!   nothing is ever lost, only ordered differently between operations that overlap.

use crate::coop;
use crate::error::{GetError, PutError, QueueShutDown, TaskDoneError};
use crate::loom::{fence, AtomicU32, AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::queue::ring::Ring;
use crate::queue::store::Store;
use crate::trace;
use crate::waiters::{List, Waiter, WakeList};
use crossbeam_utils::CachePadded;
use std::fmt;
use std::future::Future;
use std::mem::{self, ManuallyDrop};
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The wakers one queue operation collects, woken after the lock is released: usually
/// none or one.
type Wakers = WakeList<2>;

/// A bounded FIFO queue keeps its items in a ring if its slots take at most this much:
/// up to 4 096 slots of a cache line each (the ring's slots are padded; see `ring.rs`).
/// A larger queue keeps its items under the lock, in a store that grows as items come.
pub(crate) const RING_MAX_BYTES: usize = 1 << 18;

/// [`Core::flags`]: getters are linked.
const GETTERS: u32 = 1;
/// [`Core::flags`]: a `put` must take the lock (putters linked, a front of given-back
/// items, a shutdown, or no ring).
const PUT_SLOW: u32 = 2;
/// [`Core::flags`]: a `get` must take the lock (a front of given-back items, or no ring).
const GET_SLOW: u32 = 4;
/// [`Core::flags`]: joiners are linked.
const JOINERS: u32 = 8;
/// [`Core::flags`]: putters are linked (a get that frees a slot must admit one).
const PUTTERS: u32 = 16;
/// [`Core::flags`]: slots are reserved for admitted putters ([`Core::reserved_hint`]): a
/// fast put counts them as taken.
const RESERVED: u32 = 32;

pub(crate) struct Core<T> {
    maxsize: usize,
    /// What the slow paths must handle, for lock-free readers (see "The fast paths").
    flags: CachePadded<AtomicU32>,
    /// `State::reserved` as of the last [`publish`](Self::publish), for fast puts.
    reserved_hint: CachePadded<AtomicUsize>,
    /// Items put and not yet marked done [asyncio: `_unfinished_tasks`]. Counted before an
    /// item becomes visible, so a `task_done` for it never finds zero.
    unfinished: CachePadded<AtomicUsize>,
    /// A bounded FIFO queue's items (after any front in `State::items`).
    ring: Option<Ring<T>>,
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
    /// The items, or with a ring only the front: items given back by dropped getters.
    items: Store<T>,
    /// Data: the item handed over (`None` = woken by shutdown).
    getters: List<Option<T>>,
    /// The items stay in the `Put` futures; the node only says why it was woken.
    putters: List<Admission>,
    joiners: List<()>,
    /// Slots reserved for woken putters that have not put their item yet.
    reserved: usize,
    shutdown: bool,
    immediate: bool,
}

impl<T> fmt::Debug for Core<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Queue")
            .field("maxsize", &self.maxsize)
            .field("qsize", &self.len(&st))
            .field("reserved", &st.reserved)
            .field("unfinished", &self.unfinished.load(Ordering::Relaxed))
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
        let ring = (matches!(items, Store::Fifo(_))
            && maxsize > 0
            && Ring::<T>::bytes_for(maxsize) <= RING_MAX_BYTES)
            .then(|| Ring::new(maxsize));
        let flags = if ring.is_some() {
            0
        } else {
            PUT_SLOW | GET_SLOW
        };
        Self {
            maxsize,
            flags: CachePadded::new(AtomicU32::new(flags)),
            unfinished: CachePadded::new(AtomicUsize::new(0)),
            reserved_hint: CachePadded::new(AtomicUsize::new(0)),
            ring,
            ops,
            state: Mutex::new(State {
                items,
                getters: List::new(),
                putters: List::new(),
                joiners: List::new(),
                reserved: 0,
                shutdown: false,
                immediate: false,
            }),
        }
    }

    pub(crate) fn maxsize(&self) -> usize {
        self.maxsize
    }

    pub(crate) fn qsize(&self) -> usize {
        self.len(&self.state.lock())
    }

    pub(crate) fn is_full(&self) -> bool {
        let st = self.state.lock();
        self.full(&st)
    }

    // ----- Under the lock -------------------------------------------------------------

    /// The items in the queue: the front (or all of them) and the ring's.
    fn len(&self, st: &State<T>) -> usize {
        st.items.len() + self.ring.as_ref().map_or(0, Ring::len)
    }

    /// True if no slot is free: the items and the slots reserved for woken putters fill
    /// the queue (never for an unbounded queue).
    fn full(&self, st: &State<T>) -> bool {
        self.maxsize > 0 && self.len(st) + st.reserved >= self.maxsize
    }

    /// Rewrites [`flags`](Self::flags) from the state, if it changed.
    fn publish(&self, st: &State<T>) {
        let flags = self.flags_of(st);
        // Only the lock's holder writes these, so the loads see the last stores.
        if self.reserved_hint.load(Ordering::Relaxed) != st.reserved {
            self.reserved_hint.store(st.reserved, Ordering::Relaxed);
        }
        if self.flags.load(Ordering::Relaxed) != flags {
            self.flags.store(flags, Ordering::SeqCst);
        }
    }

    /// Stores the flags (always) and fences: the waiter's half of the store–fence–load
    /// pattern, before it looks at the ring (or the count) again.
    fn publish_before_recheck(&self, st: &State<T>) {
        self.reserved_hint.store(st.reserved, Ordering::Relaxed);
        self.flags.store(self.flags_of(st), Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    fn flags_of(&self, st: &State<T>) -> u32 {
        let no_ring = self.ring.is_none();
        let front = no_ring || st.items.len() > 0;
        let mut flags = 0;
        if !st.getters.is_empty() {
            flags |= GETTERS;
        }
        if front || !st.putters.is_empty() || st.shutdown {
            flags |= PUT_SLOW;
        }
        if st.reserved > 0 {
            flags |= RESERVED;
        }
        if front {
            flags |= GET_SLOW;
        }
        if !st.joiners.is_empty() {
            flags |= JOINERS;
        }
        if !st.putters.is_empty() {
            flags |= PUTTERS;
        }
        flags
    }

    /// Appends `v` to the queue, or gives it back if the ring has no free slot. A slot
    /// still being emptied by a pop in progress is waited for (the pop never waits).
    fn ring_push(&self, st: &mut State<T>, v: T) -> Result<(), T> {
        let Some(ring) = &self.ring else {
            st.items.push(v);
            return Ok(());
        };
        let mut v = match ring.push(v) {
            Ok(()) => return Ok(()),
            Err(back) => back,
        };
        for spins in 0u32.. {
            if ring.len() >= ring.capacity() {
                return Err(v);
            }
            spin(spins);
            match ring.push(v) {
                Ok(()) => return Ok(()),
                Err(back) => v = back,
            }
        }
        unreachable!("the loop only ends by returning")
    }

    /// Takes the next item: the front first, then the ring. An item still being written
    /// by a push in progress is waited for (the push never waits).
    fn ring_pop(&self, st: &mut State<T>) -> Option<T> {
        if let Some(v) = st.items.pop() {
            return Some(v);
        }
        let ring = self.ring.as_ref()?;
        if let Some(v) = ring.pop() {
            return Some(v);
        }
        for spins in 0u32.. {
            if ring.len() == 0 {
                return None;
            }
            spin(spins);
            if let Some(v) = ring.pop() {
                return Some(v);
            }
        }
        unreachable!("the loop only ends by returning")
    }

    /// Counts `v` as put and delivers it: to the oldest getter, or into the queue; gives
    /// it back if the ring has no free slot.
    fn deliver(&self, st: &mut State<T>, v: T, wakers: &mut Wakers) -> Result<(), T> {
        // Counted before anyone can take it (a fast get needs no lock).
        self.unfinished.fetch_add(1, Ordering::Relaxed);
        if st.getters.is_empty() {
            let pushed = self.ring_push(st, v);
            if pushed.is_err() {
                self.finish_locked(st, 1, wakers);
            }
            return pushed;
        }
        let mut slot = Some(v);
        if let Some(w) = st.getters.pop_front(|d| *d = slot.take()) {
            wakers.push(w);
        }
        Ok(())
    }

    /// Hands the queue's items to the waiting getters, oldest first, while both last.
    #[inline]
    fn feed_getters(&self, st: &mut State<T>, wakers: &mut Wakers) {
        if !st.getters.is_empty() {
            self.feed_waiting_getters(st, wakers);
        }
    }

    /// [`feed_getters`](Self::feed_getters) with getters waiting.
    #[inline(never)]
    fn feed_waiting_getters(&self, st: &mut State<T>, wakers: &mut Wakers) {
        while !st.getters.is_empty() {
            let Some(v) = self.ring_pop(st) else { return };
            let mut slot = Some(v);
            if let Some(w) = st.getters.pop_front(|d| *d = slot.take()) {
                wakers.push(w);
            }
        }
    }

    /// While slots are free and putters wait, reserves a slot for the oldest one and
    /// collects its waker.
    fn admit_putters(&self, st: &mut State<T>, wakers: &mut Wakers) {
        while !st.putters.is_empty() && !self.full(st) {
            st.reserved += 1;
            if let Some(w) = st.putters.pop_front(|a| *a = Admission::Slot) {
                wakers.push(w);
            }
        }
    }

    /// A put under the lock: delivers `v` if a slot is free and no putter waits ahead of
    /// it (after handing any items to waiting getters, which came first); else gives it
    /// back, to wait or to fail as full.
    fn put_locked(&self, st: &mut State<T>, v: T, wakers: &mut Wakers) -> Result<(), T> {
        self.feed_getters(st, wakers);
        // Reserved slots count as taken in `full`: free ones beyond them are anyone's.
        if !st.putters.is_empty() || self.full(st) {
            return Err(v);
        }
        self.deliver(st, v, wakers)
    }

    /// A get under the lock: the next item, after handing items to the getters waiting
    /// ahead of this one; admits putters to the slot it frees.
    fn get_locked(&self, st: &mut State<T>, wakers: &mut Wakers) -> Option<T> {
        self.feed_getters(st, wakers);
        if !st.getters.is_empty() {
            return None;
        }
        let v = self.ring_pop(st)?;
        self.admit_putters(st, wakers);
        Some(v)
    }

    /// A putter holding a reservation puts `v` into its slot (or hands it to a getter),
    /// or, after a shutdown, frees the slot and gets `v` back ([`FillError::ShutDown`]).
    /// If an overlapping fast put took the ring's last slot, the reservation is given up
    /// and `v` comes back ([`FillError::Taken`]): the putter waits again at the front.
    fn fill_reserved(
        &self,
        st: &mut State<T>,
        v: T,
        wakers: &mut Wakers,
    ) -> Result<(), FillError<T>> {
        st.reserved -= 1;
        if st.shutdown {
            // Nobody waits to put after a shutdown: nothing to admit.
            return Err(FillError::ShutDown(v));
        }
        self.feed_getters(st, wakers);
        match self.deliver(st, v, wakers) {
            Ok(()) => {
                // Handed straight to a getter, the item left the slot free again.
                self.admit_putters(st, wakers);
                Ok(())
            }
            Err(v) => Err(FillError::Taken(v)),
        }
    }

    /// A getter was handed `v` but dropped: give it to the next getter, or back to the
    /// queue front; after an immediate shutdown it is dropped and counted done.
    fn give_back(&self, st: &mut State<T>, v: T, wakers: &mut Wakers) -> Option<T> {
        if st.shutdown && st.immediate {
            self.finish_locked(st, 1, wakers);
            return Some(v);
        }
        if !st.getters.is_empty() {
            let mut slot = Some(v);
            if let Some(w) = st.getters.pop_front(|d| *d = slot.take()) {
                wakers.push(w);
            }
        } else {
            st.items.unpop(v);
        }
        None
    }

    /// Takes every item out (an immediate shutdown), counting them done.
    fn drain(&self, st: &mut State<T>, wakers: &mut Wakers) -> Vec<T> {
        let mut items = st.items.take_all();
        while let Some(v) = self.ring_pop(st) {
            items.push(v);
        }
        self.finish_locked(st, items.len(), wakers);
        items
    }

    /// Counts `n` items done (saturating at zero) and, at zero, collects the joiners.
    fn finish_locked(&self, st: &mut State<T>, n: usize, wakers: &mut Wakers) {
        if n == 0 {
            return;
        }
        let left = match self
            .unfinished
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(n))
            }) {
            Ok(before) | Err(before) => before.saturating_sub(n),
        };
        if left == 0 {
            while let Some(w) = st.joiners.pop_front(|_| ()) {
                wakers.push(w);
            }
        }
    }

    // ----- Lock-free fast paths --------------------------------------------------------

    /// Puts `v` without the lock if no slow case applies (see "The fast paths"); gives it
    /// back otherwise.
    #[inline]
    fn put_fast(&self, v: T) -> Result<(), T> {
        let Some(ring) = &self.ring else {
            return Err(v);
        };
        let flags = self.flags.load(Ordering::Acquire);
        if flags & (PUT_SLOW | GETTERS) != 0 {
            return Err(v);
        }
        // Slots reserved for admitted putters are not ours to take.
        if flags & RESERVED != 0
            && ring.len() + self.reserved_hint.load(Ordering::Relaxed) >= self.maxsize
        {
            return Err(v);
        }
        self.unfinished.fetch_add(1, Ordering::Relaxed);
        match ring.push(v) {
            Ok(()) => {
                fence(Ordering::SeqCst);
                if self.flags.load(Ordering::Relaxed) & (PUT_SLOW | GETTERS) != 0 {
                    self.after_fast_put();
                }
                Ok(())
            }
            Err(v) => {
                self.finish(1);
                Err(v)
            }
        }
    }

    /// A fast put found getters waiting or a shutdown after pushing: hand the ring's items
    /// to the getters, or drop them after an immediate shutdown.
    #[cold]
    #[inline(never)]
    fn after_fast_put(&self) {
        let mut locked = self.lock();
        let (st, wakers) = locked.parts();
        let dropped = if st.shutdown && st.immediate {
            self.drain(st, wakers)
        } else {
            self.feed_getters(st, wakers);
            // Fed items free slots (putters rarely wait while getters do, but may).
            self.admit_putters(st, wakers);
            Vec::new()
        };
        drop(locked);
        drop(dropped);
    }

    /// Takes an item without the lock if no slow case applies (see "The fast paths").
    #[inline]
    fn get_fast(&self) -> Option<T> {
        let ring = self.ring.as_ref()?;
        if self.flags.load(Ordering::Relaxed) & (GET_SLOW | GETTERS) != 0 {
            return None;
        }
        let v = ring.pop()?;
        fence(Ordering::SeqCst);
        if self.flags.load(Ordering::Relaxed) & PUTTERS != 0 {
            self.after_fast_get();
        }
        Some(v)
    }

    /// A fast get freed a slot while putters may wait: admit them.
    #[cold]
    #[inline(never)]
    fn after_fast_get(&self) {
        let mut locked = self.lock();
        let (st, wakers) = locked.parts();
        self.admit_putters(st, wakers);
    }

    /// Counts `n` items done without the lock (saturating at zero); at zero, wakes the
    /// joiners if any are linked.
    fn finish(&self, n: usize) {
        let before = match self
            .unfinished
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(n))
            }) {
            Ok(before) | Err(before) => before,
        };
        if before <= n {
            self.after_zero();
        }
    }

    /// The unfinished count reached zero: wake the joiners, if any (the count's half of
    /// the store–fence–load pattern with a joiner).
    fn after_zero(&self) {
        fence(Ordering::SeqCst);
        if self.flags.load(Ordering::Relaxed) & JOINERS == 0 {
            return;
        }
        let mut locked = self.lock();
        if self.unfinished.load(Ordering::Acquire) == 0 {
            let (st, wakers) = locked.parts();
            while let Some(w) = st.joiners.pop_front(|_| ()) {
                wakers.push(w);
            }
        }
    }

    // ----- The operations ---------------------------------------------------------------

    pub(crate) fn put_nowait(&self, v: T) -> Result<(), PutError<T>> {
        let Err(v) = self.put_fast(v) else {
            return Ok(());
        };
        let mut locked = self.lock();
        if locked.shutdown {
            return Err(PutError::ShutDown(v));
        }
        let (st, wakers) = locked.parts();
        self.put_locked(st, v, wakers).map_err(PutError::Full)
    }

    pub(crate) fn get_nowait(&self) -> Result<T, GetError> {
        if let Some(v) = self.get_fast() {
            return Ok(v);
        }
        let mut locked = self.lock();
        let (st, wakers) = locked.parts();
        let got = self.get_locked(st, wakers);
        let shutdown = st.shutdown;
        drop(locked);
        match got {
            Some(v) => Ok(v),
            None if shutdown => Err(GetError::ShutDown),
            None => Err(GetError::Empty),
        }
    }

    pub(crate) fn task_done(&self) -> Result<(), TaskDoneError> {
        let before = self
            .unfinished
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| u.checked_sub(1))
            .map_err(|_| TaskDoneError)?;
        if before == 1 {
            self.after_zero();
        }
        Ok(())
    }

    pub(crate) fn shutdown(&self, immediate: bool) {
        let mut locked = self.lock();
        let (st, wakers) = locked.parts();
        st.shutdown = true;
        // The flag first, then the ring: a fast put racing with this either sees the
        // shutdown or has its item found below.
        self.publish_before_recheck(st);
        let dropped = if immediate {
            st.immediate = true;
            self.drain(st, wakers)
        } else {
            // Items a fast put left for the getters go to them before they are refused.
            self.feed_getters(st, wakers);
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
        drop(locked);
        drop(dropped);
    }
}

/// Why a reserved putter could not fill its slot.
enum FillError<T> {
    /// The queue was shut down: the put fails with its item.
    ShutDown(T),
    /// A fast put took the ring's last free slot: wait again, first in line.
    Taken(T),
}

/// The queue's lock, held, with the wakers collected under it. Dropping it rewrites the
/// flags from the state ([`Core::publish`]), unlocks, and then wakes what was collected:
/// in that order on every path, so no change goes unpublished and no waker runs under
/// the lock.
struct Locked<'a, T> {
    core: &'a Core<T>,
    st: ManuallyDrop<MutexGuard<'a, State<T>>>,
    wakers: Wakers,
}

impl<T> Core<T> {
    fn lock(&self) -> Locked<'_, T> {
        Locked {
            core: self,
            st: ManuallyDrop::new(self.state.lock()),
            wakers: Wakers::new(),
        }
    }
}

impl<T> Locked<'_, T> {
    /// The state and the wakers, borrowed together.
    fn parts(&mut self) -> (&mut State<T>, &mut Wakers) {
        (&mut self.st, &mut self.wakers)
    }
}

impl<T> Deref for Locked<'_, T> {
    type Target = State<T>;
    fn deref(&self) -> &State<T> {
        &self.st
    }
}

impl<T> DerefMut for Locked<'_, T> {
    fn deref_mut(&mut self) -> &mut State<T> {
        &mut self.st
    }
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        self.core.publish(&self.st);
        // SAFETY: dropped here only, and `st` is not used again.
        unsafe { ManuallyDrop::drop(&mut self.st) };
        mem::take(&mut self.wakers).wake_all();
    }
}

/// One step of a wait for another thread's half-finished ring operation (which never
/// waits): spin briefly, then yield the CPU to it.
fn spin(spins: u32) {
    if spins < 16 {
        crate::loom::spin_loop();
    } else {
        crate::loom::thread::yield_now();
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
                if let Some(v) = self.get_fast() {
                    *phase = Phase::Done;
                    return Poll::Ready(Ok(v));
                }
                let mut locked = self.lock();
                let (st, wakers) = locked.parts();
                if let Some(v) = self.get_locked(st, wakers) {
                    *phase = Phase::Done;
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
                // A fast put may have pushed after we looked and before it could see us.
                self.publish_before_recheck(st);
                self.feed_getters(st, wakers);
                self.admit_putters(st, wakers);
                drop(locked);
                if waiter.is_notified() {
                    // Fed right away (its waker was woken too: one spare poll, rare).
                    return self.complete_get(waiter, phase);
                }
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
                return self.complete_get(waiter, phase);
            }
            Phase::Done => panic!("queue get future polled after completion"),
        }
        coop::refund();
        Poll::Pending
    }

    /// A notified getter's result.
    fn complete_get(
        &self,
        waiter: &Waiter<Option<T>>,
        phase: &mut Phase,
    ) -> Poll<Result<T, QueueShutDown>> {
        *phase = Phase::Done;
        // SAFETY: notified: unlinked, the payload is ours.
        Poll::Ready(match unsafe { waiter.with_data(Option::take) } {
            Some(v) => Ok(v),
            None => Err(QueueShutDown(())),
        })
    }

    /// Cancels one get (its future or handle is being dropped): unlinks a waiting
    /// `waiter`, or, if it was already handed an item, gives the item to the next getter
    /// or back to the front of the queue ([`Core::give_back`]).
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
        let mut locked = if waiter.is_notified() {
            None
        } else {
            let mut locked = self.lock();
            if !waiter.is_notified() {
                // SAFETY: not notified under the lock: linked.
                let waker = unsafe { locked.getters.remove(waiter) };
                drop(locked);
                drop(waker);
                return;
            }
            Some(locked)
        };
        // Notified: unlinked. Handed an item we will never return? Give it back.
        // SAFETY: notified, so the payload is ours.
        let Some(v) = (unsafe { waiter.with_data(Option::take) }) else {
            return;
        };
        let mut locked = locked.take().unwrap_or_else(|| self.lock());
        let (st, wakers) = locked.parts();
        let dropped = self.give_back(st, v, wakers);
        drop(locked);
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
/// oldest waiting putter, and the item enters the queue when that put completes. (A put
/// that starts at the very moment another starts waiting may go first: they overlap.)
///
/// A bounded FIFO [`Queue`](crate::Queue) keeps its items in a lock-free ring: a put or
/// get that neither waits nor has to wake anyone takes no lock.
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
                let Err(v) = core.put_fast(v) else {
                    this.phase = Phase::Done;
                    return Poll::Ready(Ok(()));
                };
                let mut locked = core.lock();
                let (st, wakers) = locked.parts();
                if st.shutdown {
                    this.phase = Phase::Done;
                    return Poll::Ready(Err(QueueShutDown(v)));
                }
                match core.put_locked(st, v, wakers) {
                    Ok(()) => {
                        this.phase = Phase::Done;
                        Poll::Ready(Ok(()))
                    }
                    Err(v) => {
                        this.item = Some(v);
                        // SAFETY: pinned, unlinked; Drop removes it unless notified.
                        unsafe { st.putters.push_back(&this.waiter, cx.waker()) };
                        this.phase = Phase::Waiting;
                        // A fast get may have freed a slot after we looked and before it
                        // could see us: admit (maybe ourselves) if so.
                        core.publish_before_recheck(st);
                        core.admit_putters(st, wakers);
                        drop(locked);
                        if !this.waiter.is_notified() {
                            coop::refund();
                            return Poll::Pending;
                        }
                        // Admitted right away (its waker was woken too: one spare poll).
                        this.fill(cx, None)
                    }
                }
            }
            Phase::Waiting => {
                let mut held = None;
                if !this.waiter.is_notified() {
                    let mut locked = core.lock();
                    if !this.waiter.is_notified() {
                        // SAFETY: not notified under the lock: linked.
                        let old = unsafe { locked.putters.update_waker(&this.waiter, cx.waker()) };
                        drop(locked);
                        drop(old);
                        coop::refund();
                        return Poll::Pending;
                    }
                    held = Some(locked);
                }
                this.fill(cx, held)
            }
            Phase::Done => panic!("queue put future polled after completion"),
        }
    }

    /// Completes a notified put: fills the reserved slot, or fails after a shutdown. If a
    /// fast put took the slot, waits again at the front of the putters.
    fn fill(
        &mut self,
        cx: &mut Context<'_>,
        mut held: Option<Locked<'_, T>>,
    ) -> Poll<Result<(), QueueShutDown<T>>> {
        let core = self.core;
        loop {
            // SAFETY: notified: unlinked, the payload is ours.
            match unsafe { self.waiter.with_data(|a| *a) } {
                Admission::Slot => {}
                Admission::ShutDown => {
                    self.phase = Phase::Done;
                    let v = self.item.take().expect("item present");
                    return Poll::Ready(Err(QueueShutDown(v)));
                }
                Admission::Waiting => unreachable!("a woken putter is admitted or refused"),
            }
            let v = self.item.take().expect("item present");
            let mut locked = held.take().unwrap_or_else(|| core.lock());
            let (st, wakers) = locked.parts();
            let v = match core.fill_reserved(st, v, wakers) {
                Ok(()) => {
                    self.phase = Phase::Done;
                    return Poll::Ready(Ok(()));
                }
                Err(FillError::ShutDown(v)) => {
                    self.phase = Phase::Done;
                    return Poll::Ready(Err(QueueShutDown(v)));
                }
                Err(FillError::Taken(v)) => v,
            };
            // Our slot went to a put that overlapped our wait: first in line again.
            self.item = Some(v);
            // SAFETY: the node is notified (popped, unlinked), so its payload is ours.
            unsafe { self.waiter.with_data(|a| *a = Admission::Waiting) };
            // SAFETY: notified and ours, and we hold the lock of the list it joins next,
            // linked below before the lock is released.
            unsafe { self.waiter.reset() };
            // SAFETY: the node is pinned in this future, unlinked and (just reset) not
            // notified; Drop removes it under the lock unless it is notified first.
            unsafe { st.putters.push_front(&self.waiter, cx.waker()) };
            core.publish_before_recheck(st);
            core.admit_putters(st, wakers);
            drop(locked);
            if !self.waiter.is_notified() {
                coop::refund();
                return Poll::Pending;
            }
        }
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
        let held = if self.waiter.is_notified() {
            None
        } else {
            let mut locked = self.core.lock();
            if !self.waiter.is_notified() {
                // SAFETY: not notified under the lock: linked.
                let waker = unsafe { locked.putters.remove(&self.waiter) };
                drop(locked);
                drop(waker);
                return; // the item drops with the future, outside the lock
            }
            Some(locked)
        };
        // SAFETY: notified: unlinked, the payload is ours.
        if unsafe { self.waiter.with_data(|a| *a) } != Admission::Slot {
            return; // refused by a shutdown: nothing to hand on
        }
        // A slot was reserved for us and we never used it: pass it on (or free it).
        let mut locked = held.unwrap_or_else(|| self.core.lock());
        let (st, wakers) = locked.parts();
        st.reserved -= 1;
        self.core.admit_putters(st, wakers);
        drop(locked);
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
        let core = this.core;
        match this.phase {
            Phase::Idle => {
                if core.unfinished.load(Ordering::Acquire) == 0 {
                    this.phase = Phase::Done;
                    return Poll::Ready(());
                }
                let mut locked = core.lock();
                let (st, wakers) = locked.parts();
                // SAFETY: pinned, unlinked; Drop removes it unless notified.
                unsafe { st.joiners.push_back(&this.waiter, cx.waker()) };
                this.phase = Phase::Waiting;
                // The count may have reached zero before its last decrement could see us.
                core.publish_before_recheck(st);
                if core.unfinished.load(Ordering::Acquire) == 0 {
                    while let Some(w) = st.joiners.pop_front(|_| ()) {
                        wakers.push(w);
                    }
                }
                drop(locked);
                if this.waiter.is_notified() {
                    this.phase = Phase::Done;
                    return Poll::Ready(());
                }
            }
            Phase::Waiting => {
                if this.waiter.is_notified() {
                    this.phase = Phase::Done;
                    return Poll::Ready(());
                }
                let mut st = core.state.lock();
                if this.waiter.is_notified() {
                    this.phase = Phase::Done;
                    return Poll::Ready(());
                }
                // SAFETY: not notified under the lock: linked.
                let old = unsafe { st.joiners.update_waker(&this.waiter, cx.waker()) };
                drop(st);
                drop(old);
            }
            Phase::Done => panic!("queue join future polled after completion"),
        }
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
        let mut locked = self.core.lock();
        if !self.waiter.is_notified() {
            // SAFETY: not notified under the lock: linked.
            let waker = unsafe { locked.joiners.remove(&self.waiter) };
            drop(locked);
            drop(waker);
        }
    }
}
