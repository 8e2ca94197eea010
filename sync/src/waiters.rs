//! The waiter list every primitive is built on: an intrusive, doubly-linked FIFO of
//! waiter nodes that live inside the waiting futures themselves.
//!
//! * A node ([`Waiter`]) is a field of a `!Unpin` future, so it never moves once polled.
//!   Linking it costs no allocation; unlinking it (on drop) is O(1).
//! * The list ([`List`]) sits inside the primitive's internal (parking_lot) mutex. Holding
//!   `&mut List` is the proof that the lock is held, so links and wakers are only touched
//!   under the lock.
//! * Popping a node hands it a message in its `data` and then sets its `notified` flag
//!   with `Release` as the very last access. The owner reads the flag with `Acquire`;
//!   once it sees `true` the node is no longer linked, nobody else touches it, and the
//!   owner owns `data` (so a granted waiter is completed without taking the lock).
//! * Wakers are returned to the caller so they are woken (or dropped) after unlocking.

use crate::loom::{AtomicBool, Ordering, UnsafeCell};
use std::fmt;
use std::marker::PhantomPinned;
use std::ptr::NonNull;
use std::task::Waker;

/// One waiting future's node.
pub(crate) struct Waiter<T> {
    /// Links and waker: guarded by the lock of the list the node is linked in.
    links: UnsafeCell<Links<T>>,
    /// Set (`Release`) by whoever pops the node, after writing `data`; final access.
    notified: AtomicBool,
    /// The message: guarded by the list lock while linked, owned by the owner otherwise.
    data: UnsafeCell<T>,
    _pin: PhantomPinned,
}

struct Links<T> {
    prev: Option<NonNull<Waiter<T>>>,
    next: Option<NonNull<Waiter<T>>>,
    waker: Option<Waker>,
}

// SAFETY: links and waker are only accessed under the owning list's lock; `data` is
// handed between threads through the lock or the notified flag's release/acquire pair.
// So a node may be sent or shared whenever its payload may be sent.
unsafe impl<T: Send> Send for Waiter<T> {}
// SAFETY: see above; `&Waiter` gives no unsynchronised access to anything.
unsafe impl<T: Send> Sync for Waiter<T> {}

impl<T> fmt::Debug for Waiter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiter")
            .field("notified", &self.notified.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<T> Waiter<T> {
    /// A new, unlinked, unnotified node carrying `data`.
    pub(crate) fn new(data: T) -> Self {
        Self {
            links: UnsafeCell::new(Links {
                prev: None,
                next: None,
                waker: None,
            }),
            notified: AtomicBool::new(false),
            data: UnsafeCell::new(data),
            _pin: PhantomPinned,
        }
    }

    /// True once the node was popped (it is then unlinked and its data is the owner's).
    #[inline]
    pub(crate) fn is_notified(&self) -> bool {
        self.notified.load(Ordering::Acquire)
    }

    /// Makes a popped node unnotified again, so its owner can link it once more.
    ///
    /// # Safety
    /// The node is notified (unlinked, owned by the caller), and the caller holds the lock
    /// of the list it links the node into next, before anyone else can pop it.
    #[inline]
    pub(crate) unsafe fn reset(&self) {
        self.notified.store(false, Ordering::Relaxed);
    }

    /// Runs `f` on the payload.
    ///
    /// # Safety
    /// The caller has exclusive access to the payload: either it holds the lock of the
    /// list the node is linked in, or the node is not linked (never pushed, removed, or
    /// [`is_notified`](Self::is_notified) returned true).
    #[inline]
    pub(crate) unsafe fn with_data<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: exclusive access is the caller's contract.
        self.data.with_mut(|p| f(unsafe { &mut *p }))
    }
}

/// An intrusive FIFO of [`Waiter`]s. Lives inside the primitive's lock.
///
/// Every linked node's `next` is exact, and so is its `prev` — except the head's, which
/// is unspecified: [`pop_front`](Self::pop_front) does not write the node behind the one
/// it pops (so a hand-off touches one waiter's memory, not two), and the new head keeps
/// a stale `prev`. Nothing reads the head's `prev`: [`remove`](Self::remove) tells the
/// head by comparing with `head`, and linking in front of the head overwrites it.
pub(crate) struct List<T> {
    head: Option<NonNull<Waiter<T>>>,
    tail: Option<NonNull<Waiter<T>>>,
    len: usize,
}

// SAFETY: the list only holds pointers to nodes whose payload is `Send` and whose links
// are accessed under the same lock as the list itself.
unsafe impl<T: Send> Send for List<T> {}

impl<T> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("List").field("len", &self.len).finish()
    }
}

impl<T> List<T> {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        Self {
            head: None,
            tail: None,
            len: 0,
        }
    }

    /// Number of linked waiters.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// True if nobody waits.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Links `w` at the back, remembering `waker`.
    ///
    /// # Safety
    /// `w` is not linked in any list and not notified, it is pinned, and its owner
    /// removes it (under this list's lock) or observes it notified before moving or
    /// freeing it. The caller holds this list's lock (implied by `&mut self`).
    pub(crate) unsafe fn push_back(&mut self, w: &Waiter<T>, waker: &Waker) {
        // SAFETY: the caller's contract; the tail is the last node.
        unsafe { self.link(w, waker, self.tail, None) }
    }

    /// Links `w` at the front, remembering `waker`: it is popped next.
    ///
    /// # Safety
    /// As for [`push_back`](Self::push_back).
    pub(crate) unsafe fn push_front(&mut self, w: &Waiter<T>, waker: &Waker) {
        // SAFETY: the caller's contract; the head is the first node.
        unsafe { self.link(w, waker, None, self.head) }
    }

    /// Links `w` between the adjacent nodes `prev` and `next` (`None` = an end of the
    /// list), remembering `waker`.
    ///
    /// # Safety
    /// As for [`push_back`](Self::push_back), and `prev`/`next` are adjacent in `self`.
    #[inline]
    unsafe fn link(
        &mut self,
        w: &Waiter<T>,
        waker: &Waker,
        prev: Option<NonNull<Waiter<T>>>,
        next: Option<NonNull<Waiter<T>>>,
    ) {
        let ptr = NonNull::from(w);
        w.links.with_mut(|l| {
            // SAFETY: unlinked, so nobody else accesses the links; we hold the lock.
            let l = unsafe { &mut *l };
            l.prev = prev;
            l.next = next;
            l.waker = Some(waker.clone());
        });
        match prev {
            // SAFETY: linked nodes are alive (push_back's contract) and we hold the lock.
            Some(p) => unsafe { p.as_ref() }
                .links
                // SAFETY: as above.
                .with_mut(|l| unsafe { (*l).next = Some(ptr) }),
            None => self.head = Some(ptr),
        }
        match next {
            // SAFETY: as above.
            Some(n) => unsafe { n.as_ref() }
                .links
                // SAFETY: as above.
                .with_mut(|l| unsafe { (*l).prev = Some(ptr) }),
            None => self.tail = Some(ptr),
        }
        self.len += 1;
    }

    /// Replaces the waker of a linked node if `waker` would wake a different task.
    /// Returns the old waker so the caller drops it after unlocking.
    ///
    /// # Safety
    /// `w` is linked in `self`.
    pub(crate) unsafe fn update_waker(&mut self, w: &Waiter<T>, waker: &Waker) -> Option<Waker> {
        w.links.with_mut(|l| {
            // SAFETY: linked in self and we hold self's lock.
            let l = unsafe { &mut *l };
            match &l.waker {
                Some(old) if old.will_wake(waker) => None,
                _ => l.waker.replace(waker.clone()),
            }
        })
    }

    /// Unlinks `w` without notifying it; returns its waker (drop it after unlocking).
    ///
    /// # Safety
    /// `w` is linked in `self`.
    pub(crate) unsafe fn remove(&mut self, w: &Waiter<T>) -> Option<Waker> {
        let (prev, next, waker) = w.links.with_mut(|l| {
            // SAFETY: linked in self and we hold self's lock.
            let l = unsafe { &mut *l };
            (l.prev.take(), l.next.take(), l.waker.take())
        });
        if self.head == Some(NonNull::from(w)) {
            // The head: its `prev` is unspecified (see `List`), so it is not read. The
            // next node becomes the head and keeps whatever `prev` it has.
            self.head = next;
            if next.is_none() {
                self.tail = None;
            }
        } else {
            // Not the head: `prev` is exact, a linked node, hence alive.
            let p = prev.expect("a linked node other than the head has a predecessor");
            // SAFETY: neighbours of a linked node are linked, hence alive; we hold the lock.
            unsafe { p.as_ref() }
                .links
                // SAFETY: as above.
                .with_mut(|l| unsafe { (*l).next = next });
            match next {
                // SAFETY: as above.
                Some(n) => unsafe { n.as_ref() }
                    .links
                    // SAFETY: as above.
                    .with_mut(|l| unsafe { (*l).prev = Some(p) }),
                None => self.tail = Some(p),
            }
        }
        self.len -= 1;
        waker
    }

    /// Pops the oldest waiter: `f` writes its message into the payload, then the node is
    /// marked notified. Returns its waker (wake it after unlocking), or `None` if empty.
    pub(crate) fn pop_front(&mut self, f: impl FnOnce(&mut T)) -> Option<Waker> {
        let head = self.head?;
        // SAFETY: linked nodes are alive until they are removed or notified, and we hold
        // the lock, so we have exclusive access to links and payload.
        let node = unsafe { head.as_ref() };
        let (next, waker) = node.links.with_mut(|l| {
            // SAFETY: as above.
            let l = unsafe { &mut *l };
            l.prev = None;
            (l.next.take(), l.waker.take())
        });
        // The next node becomes the head without being touched: its `prev` goes stale,
        // which the head's may (see `List`). Its line usually sits in another core's
        // cache, last written by the task that linked it.
        self.head = next;
        if next.is_none() {
            self.tail = None;
        }
        self.len -= 1;
        // SAFETY: still linked from the owner's point of view (not yet notified) and we
        // hold the lock: exclusive access to the payload.
        node.data.with_mut(|p| f(unsafe { &mut *p }));
        // Last access: after this store the owner may free the node.
        node.notified.store(true, Ordering::Release);
        waker
    }
}

/// Wakers collected under a lock and woken after it is released. Holds `N` inline (16
/// unless said otherwise: enough for most `notify_all`s) and spills to the heap only
/// beyond that; a path that wakes one or two at a time uses a small `N`, which is cheaper
/// to create and to drop.
pub(crate) struct WakeList<const N: usize = 16> {
    inline: [Option<Waker>; N],
    len: usize,
    spill: Vec<Waker>,
}

impl<const N: usize> Default for WakeList<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> WakeList<N> {
    /// An empty list (no allocation).
    #[inline]
    pub(crate) fn new() -> Self {
        Self {
            inline: [const { None }; N],
            len: 0,
            spill: Vec::new(),
        }
    }

    /// Adds a waker.
    #[inline]
    pub(crate) fn push(&mut self, w: Waker) {
        if self.len < N {
            self.inline[self.len] = Some(w);
            self.len += 1;
        } else {
            self.spill.push(w);
        }
    }

    /// Wakes everything collected.
    #[inline(always)]
    pub(crate) fn wake_all(self) {
        if self.len == 0 {
            // Nothing collected (the common case): every slot is `None` and the spill
            // never allocated, so there is nothing to drop either.
            std::mem::forget(self);
            return;
        }
        self.wake_collected();
    }

    #[inline(never)]
    fn wake_collected(mut self) {
        for w in self.inline[..self.len].iter_mut() {
            if let Some(w) = w.take() {
                w.wake();
            }
        }
        for w in self.spill.drain(..) {
            w.wake();
        }
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn fifo_order_remove_middle_and_payloads() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let a = pin!(Waiter::new(0u32));
        let b = pin!(Waiter::new(0u32));
        let c = pin!(Waiter::new(0u32));
        let mut list = List::new();
        // SAFETY: pinned on this stack frame, removed or popped before the frame ends.
        unsafe {
            list.push_back(&a, &waker);
            list.push_back(&b, &waker);
            list.push_back(&c, &waker);
        }
        assert_eq!(list.len(), 3);
        // SAFETY: b is linked in list.
        let w = unsafe { list.remove(&b) };
        assert!(w.is_some());
        assert_eq!(list.len(), 2);
        list.pop_front(|d| *d = 1).unwrap().wake();
        list.pop_front(|d| *d = 2).unwrap().wake();
        assert!(list.pop_front(|_| unreachable!()).is_none());
        assert!(list.is_empty());
        assert!(a.is_notified() && c.is_notified() && !b.is_notified());
        // SAFETY: all unlinked.
        unsafe {
            assert_eq!(a.with_data(|d| *d), 1);
            assert_eq!(c.with_data(|d| *d), 2);
            assert_eq!(b.with_data(|d| *d), 0);
        }
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }

    /// Pushes at both ends, pops and removes (the head included, whose `prev` may be
    /// stale) in a pseudo-random order, checking the list against a `VecDeque`.
    #[test]
    fn matches_a_deque_under_pushes_pops_and_removes_anywhere() {
        use std::collections::VecDeque;
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let nodes: Vec<_> = (0..8).map(|i| Box::pin(Waiter::new(i))).collect();
        let mut list = List::new();
        let mut model: VecDeque<usize> = VecDeque::new();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut removed_heads = 0;
        for _ in 0..20_000 {
            let id = next(nodes.len());
            let node = &nodes[id];
            if let Some(pos) = model.iter().position(|&m| m == id) {
                if next(2) == 0 {
                    removed_heads += usize::from(pos == 0);
                    // SAFETY: linked in `list` (the model says so).
                    drop(unsafe { list.remove(node) });
                    model.remove(pos);
                } else {
                    let mut got = None;
                    drop(list.pop_front(|d| got = Some(*d)));
                    assert_eq!(got, model.pop_front());
                }
            } else {
                // SAFETY: not linked (popped nodes are reset first); the nodes are boxed
                // and pinned, and outlive the list's use of them (unlinked at the end).
                unsafe {
                    node.reset();
                    if next(2) == 0 {
                        list.push_back(node, &waker);
                        model.push_back(id);
                    } else {
                        list.push_front(node, &waker);
                        model.push_front(id);
                    }
                }
            }
            assert_eq!(list.len(), model.len());
            assert_eq!(list.is_empty(), model.is_empty());
        }
        assert!(
            removed_heads > 100,
            "the head was removed {removed_heads} times"
        );
        while let Some(want) = model.pop_front() {
            let mut got = None;
            drop(list.pop_front(|d| got = Some(*d)));
            assert_eq!(got, Some(want));
        }
        assert!(list.pop_front(|_| unreachable!()).is_none());
    }

    /// A hand-off writes the popped node only: the node behind it (another waiter's
    /// memory, usually in another core's cache) keeps its now stale `prev`.
    #[test]
    fn popping_the_head_does_not_write_the_next_node() {
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let a = pin!(Waiter::new(0u32));
        let b = pin!(Waiter::new(0u32));
        let mut list = List::new();
        // SAFETY: pinned on this stack frame, popped or removed before the frame ends.
        unsafe {
            list.push_back(&a, &waker);
            list.push_back(&b, &waker);
        }
        drop(list.pop_front(|d| *d = 1));
        // SAFETY: `b` is linked and we hold the (only) `&mut` to its list: nobody else
        // touches its links.
        let prev = b.links.with_mut(|l| unsafe { (*l).prev });
        assert_eq!(
            prev,
            Some(NonNull::from(&*a)),
            "pop_front wrote the next node"
        );
        // The stale `prev` is never followed: removing the head by identity still works.
        // SAFETY: `b` is linked in `list`.
        drop(unsafe { list.remove(&b) });
        assert!(list.is_empty());
    }

    #[test]
    fn wake_list_spills() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let mut wl = WakeList::<16>::new();
        for _ in 0..40 {
            wl.push(Waker::from(count.clone()));
        }
        wl.wake_all();
        assert_eq!(count.0.load(Ordering::SeqCst), 40);
    }
}
