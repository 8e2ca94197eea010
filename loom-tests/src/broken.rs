//! Twins of corio's hand-off and park protocols, each with a switch that breaks it the
//! way a plausible bug would. The `#[should_panic]` models run the broken setting to show
//! that loom finds the failure; the ordinary models run the correct setting of the same
//! code to show that it is the switch, not the harness, that makes the difference.

use loom::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use loom::sync::Mutex;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A FIFO semaphore with direct hand-off, shaped like `corio_sync::Semaphore`: `release`
/// gives the permit straight to the oldest waiter. With `PASS_ON = false` a waiter that is
/// dropped after being granted a permit but before observing it forgets the permit instead
/// of handing it on (the cancel-safety bug corio's `RawAcquire::drop` guards against).
#[derive(Debug)]
pub struct HandoffSemaphore<const PASS_ON: bool> {
    state: Mutex<SemState>,
}

#[derive(Debug)]
struct SemState {
    permits: usize,
    next_id: u64,
    waiters: VecDeque<(u64, Waker)>,
    granted: Vec<u64>,
}

impl<const PASS_ON: bool> HandoffSemaphore<PASS_ON> {
    /// A semaphore holding `permits`.
    pub fn new(permits: usize) -> Self {
        HandoffSemaphore {
            state: Mutex::new(SemState {
                permits,
                next_id: 0,
                waiters: VecDeque::new(),
                granted: Vec::new(),
            }),
        }
    }

    /// Waits for a permit (FIFO). The permit is kept until [`release`](Self::release).
    pub fn acquire(&self) -> HandoffAcquire<'_, PASS_ON> {
        HandoffAcquire {
            sem: self,
            id: None,
            done: false,
        }
    }

    /// Returns a permit: to the oldest waiter if any, else to the count.
    pub fn release(&self) {
        let mut st = self.state.lock().unwrap();
        let waker = Self::release_locked(&mut st);
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn release_locked(st: &mut SemState) -> Option<Waker> {
        match st.waiters.pop_front() {
            Some((id, waker)) => {
                st.granted.push(id);
                Some(waker)
            }
            None => {
                st.permits += 1;
                None
            }
        }
    }

    /// Free permits right now.
    pub fn available(&self) -> usize {
        self.state.lock().unwrap().permits
    }
}

/// Future of [`HandoffSemaphore::acquire`].
#[derive(Debug)]
pub struct HandoffAcquire<'a, const PASS_ON: bool> {
    sem: &'a HandoffSemaphore<PASS_ON>,
    id: Option<u64>,
    done: bool,
}

impl<const PASS_ON: bool> Future for HandoffAcquire<'_, PASS_ON> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut st = this.sem.state.lock().unwrap();
        match this.id {
            Some(id) => {
                if let Some(i) = st.granted.iter().position(|&g| g == id) {
                    st.granted.swap_remove(i);
                    this.done = true;
                    return Poll::Ready(());
                }
                if let Some(entry) = st.waiters.iter_mut().find(|(w, _)| *w == id) {
                    entry.1 = cx.waker().clone();
                }
                Poll::Pending
            }
            None => {
                if st.permits > 0 && st.waiters.is_empty() {
                    st.permits -= 1;
                    this.done = true;
                    return Poll::Ready(());
                }
                let id = st.next_id;
                st.next_id += 1;
                st.waiters.push_back((id, cx.waker().clone()));
                this.id = Some(id);
                Poll::Pending
            }
        }
    }
}

impl<const PASS_ON: bool> Drop for HandoffAcquire<'_, PASS_ON> {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        if self.done {
            return;
        }
        let mut st = self.sem.state.lock().unwrap();
        if let Some(i) = st.waiters.iter().position(|(w, _)| *w == id) {
            st.waiters.remove(i);
            return;
        }
        if let Some(i) = st.granted.iter().position(|&g| g == id) {
            st.granted.swap_remove(i);
            if PASS_ON {
                // Granted but never observed: hand the permit on.
                let waker = HandoffSemaphore::<PASS_ON>::release_locked(&mut st);
                drop(st);
                if let Some(w) = waker {
                    w.wake();
                }
            }
            // PASS_ON = false: the permit is silently lost.
        }
    }
}

/// A thread parker with corio's worker `Parker` state machine (`EMPTY` → `PARKED` →
/// `NOTIFIED`): `unpark` swaps in `NOTIFIED` and wakes the thread only if it saw `PARKED`.
/// With `CAS = true` the parker announces itself with a compare-exchange `EMPTY → PARKED`
/// that fails if a notification arrived, as corio's does. With `CAS = false` it checks for
/// a notification with a load and then *stores* `PARKED`: an `unpark` landing between the
/// two is overwritten and its wake-up lost.
///
/// It sleeps in `loom::thread::park` rather than on a condvar, so that the deadlock loom
/// reports for the lost wake-up unwinds cleanly (a loom mutex guard dropped during that
/// unwind would abort the test process). Share it with `std::sync::Arc` for the same reason.
#[derive(Debug)]
pub struct Parker<const CAS: bool> {
    state: AtomicUsize,
    thread: loom::thread::Thread,
}

impl<const CAS: bool> Default for Parker<CAS> {
    fn default() -> Self {
        Self::new()
    }
}

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

impl<const CAS: bool> Parker<CAS> {
    /// A parker for the calling thread (only that thread may [`park`](Self::park)).
    pub fn new() -> Self {
        Parker {
            state: AtomicUsize::new(EMPTY),
            thread: loom::thread::current(),
        }
    }

    /// Blocks until [`unpark`](Self::unpark) was called (before or during the park).
    pub fn park(&self) {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
        if CAS {
            if let Err(actual) =
                self.state
                    .compare_exchange(EMPTY, PARKED, Ordering::SeqCst, Ordering::SeqCst)
            {
                assert_eq!(actual, NOTIFIED);
                self.state.store(EMPTY, Ordering::SeqCst);
                return;
            }
        } else {
            if self.state.load(Ordering::SeqCst) == NOTIFIED {
                self.state.store(EMPTY, Ordering::SeqCst);
                return;
            }
            self.state.store(PARKED, Ordering::SeqCst);
        }
        loop {
            loom::thread::park();
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Wakes the parked thread, now or at its next `park`.
    pub fn unpark(&self) {
        if self.state.swap(NOTIFIED, Ordering::SeqCst) == PARKED {
            self.thread.unpark();
        }
    }
}

/// A bounded FIFO queue of `u32`s with the hand-offs of `corio_sync::Queue`: a `put`
/// while getters wait gives its item to the oldest getter; a `get` that frees a slot
/// admits the oldest waiting putter.
///
/// * `RESERVE = true` is corio's putter hand-off: the `get` reserves the slot for the
///   putter, whose item enters only when its put completes; a putter dropped while
///   holding the reservation passes it to the next putter (or frees the slot).
///   `RESERVE = false` is the hand-off corio had before: the `get` moves the putter's
///   item into the queue at once, so a putter dropped after that has "put" an item its
///   owner saw cancelled, and the next putter waits for a slot nobody gives it.
/// * `GIVE_BACK = true` is corio's getter hand-off: a getter dropped after being handed an
///   item passes it to the next getter, or back to the front of the queue.
///   `GIVE_BACK = false` drops the item with the getter: it is lost.
#[derive(Debug)]
pub struct HandoffQueue<const RESERVE: bool, const GIVE_BACK: bool> {
    maxsize: usize,
    state: Mutex<QueueState>,
}

#[derive(Debug)]
struct QueueState {
    items: VecDeque<u32>,
    /// Slots reserved for admitted putters that have not put their item yet.
    reserved: usize,
    next_id: u64,
    getters: VecDeque<(u64, Waker)>,
    putters: VecDeque<(u64, u32, Waker)>,
    /// Getters popped with an item they have not taken yet.
    handed: Vec<(u64, u32)>,
    /// Putters popped (admitted) that have not observed it yet.
    admitted: Vec<u64>,
}

impl QueueState {
    fn is_full(&self, maxsize: usize) -> bool {
        self.items.len() + self.reserved >= maxsize
    }

    fn take_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Gives `v` to the oldest getter, or queues it.
    fn deliver(&mut self, v: u32) -> Option<Waker> {
        match self.getters.pop_front() {
            Some((id, waker)) => {
                self.handed.push((id, v));
                Some(waker)
            }
            None => {
                self.items.push_back(v);
                None
            }
        }
    }

    /// A slot is free: admit the oldest putter into it, the correct or the broken way.
    fn admit_putter<const RESERVE: bool>(&mut self, maxsize: usize) -> Option<Waker> {
        if self.is_full(maxsize) {
            return None;
        }
        let (id, v, waker) = self.putters.pop_front()?;
        if RESERVE {
            self.reserved += 1;
        } else {
            self.items.push_back(v); // moved in at the get
        }
        self.admitted.push(id);
        Some(waker)
    }
}

fn remove_where<T>(v: &mut Vec<T>, f: impl Fn(&T) -> bool) -> Option<T> {
    let i = v.iter().position(f)?;
    Some(v.swap_remove(i))
}

fn wake_all(wakers: impl IntoIterator<Item = Option<Waker>>) {
    wakers.into_iter().flatten().for_each(Waker::wake);
}

impl<const RESERVE: bool, const GIVE_BACK: bool> HandoffQueue<RESERVE, GIVE_BACK> {
    /// A queue holding at most `maxsize` (> 0) items.
    pub fn new(maxsize: usize) -> Self {
        assert!(maxsize > 0, "the twin models bounded queues");
        HandoffQueue {
            maxsize,
            state: Mutex::new(QueueState {
                items: VecDeque::new(),
                reserved: 0,
                next_id: 0,
                getters: VecDeque::new(),
                putters: VecDeque::new(),
                handed: Vec::new(),
                admitted: Vec::new(),
            }),
        }
    }

    /// Puts `v` if a slot is free (to a waiting getter or into the queue), else gives it
    /// back.
    pub fn put_nowait(&self, v: u32) -> Result<(), u32> {
        let mut st = self.state.lock().unwrap();
        if st.is_full(self.maxsize) {
            return Err(v);
        }
        let waker = st.deliver(v);
        drop(st);
        wake_all([waker]);
        Ok(())
    }

    /// Takes the oldest item, admitting the oldest putter to the freed slot.
    pub fn get_nowait(&self) -> Option<u32> {
        let mut st = self.state.lock().unwrap();
        let v = st.items.pop_front()?;
        let waker = st.admit_putter::<RESERVE>(self.maxsize);
        drop(st);
        wake_all([waker]);
        Some(v)
    }

    /// Waits for a free slot, then puts `v`.
    pub fn put(&self, v: u32) -> HandoffPut<'_, RESERVE, GIVE_BACK> {
        HandoffPut {
            q: self,
            v,
            id: None,
            done: false,
        }
    }

    /// Waits for an item.
    pub fn get(&self) -> HandoffGet<'_, RESERVE, GIVE_BACK> {
        HandoffGet {
            q: self,
            id: None,
            done: false,
        }
    }

    /// Items in the queue.
    pub fn len(&self) -> usize {
        self.state.lock().unwrap().items.len()
    }

    /// True if the queue holds no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Future of [`HandoffQueue::put`].
#[derive(Debug)]
pub struct HandoffPut<'a, const RESERVE: bool, const GIVE_BACK: bool> {
    q: &'a HandoffQueue<RESERVE, GIVE_BACK>,
    v: u32,
    id: Option<u64>,
    done: bool,
}

impl<const RESERVE: bool, const GIVE_BACK: bool> Future for HandoffPut<'_, RESERVE, GIVE_BACK> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let maxsize = this.q.maxsize;
        let mut st = this.q.state.lock().unwrap();
        match this.id {
            None => {
                if !st.is_full(maxsize) {
                    let waker = st.deliver(this.v);
                    drop(st);
                    wake_all([waker]);
                    this.done = true;
                    return Poll::Ready(());
                }
                let id = st.take_id();
                st.putters.push_back((id, this.v, cx.waker().clone()));
                this.id = Some(id);
                Poll::Pending
            }
            Some(id) => {
                if remove_where(&mut st.admitted, |&a| a == id).is_some() {
                    this.done = true;
                    if !RESERVE {
                        return Poll::Ready(()); // the item was moved in at the get
                    }
                    st.reserved -= 1;
                    let to_getter = st.deliver(this.v);
                    let to_putter = st.admit_putter::<RESERVE>(maxsize);
                    drop(st);
                    wake_all([to_getter, to_putter]);
                    return Poll::Ready(());
                }
                if let Some(entry) = st.putters.iter_mut().find(|(p, _, _)| *p == id) {
                    entry.2 = cx.waker().clone();
                }
                Poll::Pending
            }
        }
    }
}

impl<const RESERVE: bool, const GIVE_BACK: bool> Drop for HandoffPut<'_, RESERVE, GIVE_BACK> {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        if self.done {
            return;
        }
        let mut st = self.q.state.lock().unwrap();
        if let Some(i) = st.putters.iter().position(|(p, _, _)| *p == id) {
            st.putters.remove(i);
            return;
        }
        if remove_where(&mut st.admitted, |&a| a == id).is_some() && RESERVE {
            // Admitted but never put: pass the slot on.
            st.reserved -= 1;
            let waker = st.admit_putter::<RESERVE>(self.q.maxsize);
            drop(st);
            wake_all([waker]);
        }
        // RESERVE = false: the item is already in the queue, the put "happened".
    }
}

/// Future of [`HandoffQueue::get`].
#[derive(Debug)]
pub struct HandoffGet<'a, const RESERVE: bool, const GIVE_BACK: bool> {
    q: &'a HandoffQueue<RESERVE, GIVE_BACK>,
    id: Option<u64>,
    done: bool,
}

impl<const RESERVE: bool, const GIVE_BACK: bool> Future for HandoffGet<'_, RESERVE, GIVE_BACK> {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        let this = &mut *self;
        let mut st = this.q.state.lock().unwrap();
        match this.id {
            None => {
                if let Some(v) = st.items.pop_front() {
                    let waker = st.admit_putter::<RESERVE>(this.q.maxsize);
                    drop(st);
                    wake_all([waker]);
                    this.done = true;
                    return Poll::Ready(v);
                }
                let id = st.take_id();
                st.getters.push_back((id, cx.waker().clone()));
                this.id = Some(id);
                Poll::Pending
            }
            Some(id) => {
                if let Some((_, v)) = remove_where(&mut st.handed, |&(g, _)| g == id) {
                    this.done = true;
                    return Poll::Ready(v);
                }
                if let Some(entry) = st.getters.iter_mut().find(|(g, _)| *g == id) {
                    entry.1 = cx.waker().clone();
                }
                Poll::Pending
            }
        }
    }
}

impl<const RESERVE: bool, const GIVE_BACK: bool> Drop for HandoffGet<'_, RESERVE, GIVE_BACK> {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        if self.done {
            return;
        }
        let mut st = self.q.state.lock().unwrap();
        if let Some(i) = st.getters.iter().position(|(g, _)| *g == id) {
            st.getters.remove(i);
            return;
        }
        if let Some((_, v)) = remove_where(&mut st.handed, |&(g, _)| g == id) {
            if GIVE_BACK {
                // Handed an item but never took it: to the next getter, or back in front.
                let waker = match st.getters.pop_front() {
                    Some((next, waker)) => {
                        st.handed.push((next, v));
                        Some(waker)
                    }
                    None => {
                        st.items.push_front(v);
                        None
                    }
                };
                drop(st);
                wake_all([waker]);
            }
            // GIVE_BACK = false: `v` is dropped here, lost.
        }
    }
}

/// The flag of an event shaped like `corio_sync::Event`'s (`set` and `clear` only: what the
/// "clear, then check my own flag" pattern depends on). With `RMW = false` they are what
/// `Event` once had: `clear` a release store and `set` a load fast path, then a store. The
/// store of a `clear` may then be ordered after a `set` that the clearing thread's next
/// check does not see, and the set is erased; with `RMW = true` both are swaps, as in
/// `Event` now.
#[derive(Debug)]
pub struct EventFlag<const RMW: bool> {
    flag: loom::sync::atomic::AtomicBool,
}

impl<const RMW: bool> EventFlag<RMW> {
    /// A clear flag.
    pub fn new() -> Self {
        EventFlag {
            flag: loom::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Sets the flag (`Event::set` without its waiter list).
    pub fn set(&self) {
        if RMW {
            self.flag.swap(true, Ordering::AcqRel);
        } else if !self.flag.load(Ordering::Acquire) {
            self.flag.store(true, Ordering::Release);
        }
    }

    /// Clears the flag.
    pub fn clear(&self) {
        if RMW {
            self.flag.swap(false, Ordering::AcqRel);
        } else {
            self.flag.store(false, Ordering::Release);
        }
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }
}

impl<const RMW: bool> Default for EventFlag<RMW> {
    fn default() -> Self {
        Self::new()
    }
}

/// The store–fence–load hand-off of `corio_sync::Queue`'s lock-free fast paths, reduced
/// to one counter: `put` adds an item without a lock, fences, and wakes the getter if its
/// `waiting` flag is set; `get` takes an item, or sets the flag, fences, looks once more
/// and sleeps. With `RECHECK = false` the getter sleeps without that second look: a put
/// that read the flag just before it was set wakes nobody, and its item waits forever.
///
/// The getter sleeps in `loom::thread::park` (see [`Parker`] for why); the putter learns
/// the getter's thread with [`set_getter`](Self::set_getter) before it puts.
#[derive(Debug, Default)]
pub struct FastPathHandoff<const RECHECK: bool> {
    items: AtomicUsize,
    waiting: AtomicBool,
    getter: std::sync::OnceLock<loom::thread::Thread>,
}

impl<const RECHECK: bool> FastPathHandoff<RECHECK> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the thread that gets (before any `put`).
    pub fn set_getter(&self, thread: loom::thread::Thread) {
        self.getter.set(thread).expect("one getter");
    }

    fn take(&self) -> bool {
        self.items
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Adds an item and wakes the getter if it announced itself.
    pub fn put(&self) {
        self.items.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        if self.waiting.load(Ordering::Relaxed) {
            self.getter.get().expect("getter set before put").unpark();
        }
    }

    /// Takes an item, sleeping until there is one (only the getter thread may call it).
    pub fn get(&self) {
        loop {
            if self.take() {
                return;
            }
            self.waiting.store(true, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            if RECHECK && self.take() {
                self.waiting.store(false, Ordering::Relaxed);
                return;
            }
            loom::thread::park();
            self.waiting.store(false, Ordering::Relaxed);
        }
    }
}
