//! A bounded multi-producer multi-consumer ring of items, the lock-free home of a bounded
//! FIFO queue's items (Dmitry Vyukov's bounded queue, as in crossbeam's `ArrayQueue`).
//!
//! Each slot carries a *stamp* that says whose turn the slot is: `stamp == tail` — free for
//! the pusher whose ticket is `tail`; `stamp == head + 1` — holding the item for the
//! popper whose ticket is `head`. A pusher claims its ticket with a CAS on `tail`, writes
//! the item, then publishes it by storing the next stamp (`Release`); a popper claims its
//! ticket with a CAS on `head`, reads the item (after an `Acquire` load of the stamp) and
//! frees the slot for the next lap. A ticket is `lap | index`: the index in the low bits,
//! and the lap above them, counted in units of `one_lap` (the next power of two above the
//! capacity), so a stamp tells one lap from the next.
//!
//! Unlike `ArrayQueue`, neither side ever waits for the other: a push whose slot is still
//! being emptied by a pop in progress fails as if full, and a pop whose item is still
//! being written fails as if empty. The queue core (`core.rs`) treats those like a full or
//! an empty ring and takes its slow path, and the operation in progress, once it has
//! finished, checks for waiters under the same protocol that covers a really full or empty
//! ring, so nobody is left waiting. The ring itself never spins on another thread (only
//! CAS retries); the one place that waits out a half-finished operation is the core's
//! slow path, under its lock, where an answer must be exact.
//!
//! The ring is written against the `crate::loom` facade so the models check it, which is
//! why it is not crossbeam's `ArrayQueue` (whose atomics loom cannot see). Each slot has a
//! cache line of its own (see [`Slot`]), so a ring takes 64 bytes per slot for small items:
//! the queue core gives a ring only to queues whose slots fit in its `RING_MAX_BYTES`.

use crate::loom::{AtomicUsize, Ordering, UnsafeCell};
use crossbeam_utils::CachePadded;
use std::fmt;
use std::mem::MaybeUninit;

/// A slot takes a cache line of its own (64 bytes, or more for a larger item). With
/// slots packed four to a line (`u64` items), a consumer a few items behind a producer on
/// another core reads the very line the producer is writing, and the line moves back and
/// forth for every item on it; one line per slot moves once per item. Measured on the
/// 2-worker runtime, 1 000 000 `u64` items through a 1 024-slot queue from one producer
/// task to one consumer: 75–108 ms packed, 48–49 ms one slot per line (and 53–55 ms with
/// packed slots in a line-spreading order, which costs instructions per operation).
#[repr(align(64))]
struct Slot<T> {
    stamp: AtomicUsize,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// A ring of at most `capacity` items.
pub(crate) struct Ring<T> {
    /// The next pop's ticket.
    head: CachePadded<AtomicUsize>,
    /// The next push's ticket.
    tail: CachePadded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    /// A power of two greater than the capacity: one lap in ticket units.
    one_lap: usize,
}

// SAFETY: an item is written by exactly one pusher and read by exactly one popper, and the
// slot's stamp (release/acquire) hands it from one to the other: `T: Send` is enough for
// the ring to be shared and sent.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    /// An empty ring of `capacity` (≥ 1) slots.
    pub(crate) fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "a ring has at least one slot");
        let one_lap = (capacity + 1).next_power_of_two();
        let slots = (0..capacity)
            .map(|i| Slot {
                stamp: AtomicUsize::new(i),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ring {
            head: CachePadded::new(AtomicUsize::new(0)),
            tail: CachePadded::new(AtomicUsize::new(0)),
            slots,
            one_lap,
        }
    }

    /// The bytes a ring of `capacity` slots allocates.
    pub(crate) fn bytes_for(capacity: usize) -> usize {
        capacity.saturating_mul(std::mem::size_of::<Slot<T>>())
    }

    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The ticket after `ticket`: the next index, or index 0 of the next lap.
    #[inline]
    fn next(&self, ticket: usize) -> usize {
        let index = ticket & (self.one_lap - 1);
        if index + 1 < self.slots.len() {
            ticket + 1
        } else {
            (ticket & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }

    /// Appends `value`, or gives it back if its slot is not free: the ring is full, or the
    /// pop emptying that slot has not finished.
    #[inline]
    pub(crate) fn push(&self, value: T) -> Result<(), T> {
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[tail & (self.one_lap - 1)];
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp != tail {
                if behind(stamp, tail) {
                    // The slot still belongs to the lap before: it holds an item (the ring
                    // is full), or the pop taking it or the push filling it has not
                    // finished.
                    return Err(value);
                }
                // Another pusher took ticket `tail` (and stored a later stamp after its
                // CAS, which our acquire load saw): this load sees the tail moved on.
                tail = self.tail.load(Ordering::Relaxed);
                continue;
            }
            match self.tail.compare_exchange_weak(
                tail,
                self.next(tail),
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    // SAFETY: the CAS made ticket `tail` ours, and the stamp said the slot
                    // is free for it: nobody else reads or writes the value until we
                    // publish it with the stamp below.
                    slot.value.with_mut(|p| unsafe { (*p).write(value) });
                    slot.stamp.store(tail + 1, Ordering::Release);
                    return Ok(());
                }
                Err(now) => tail = now,
            }
        }
    }

    /// Takes the oldest item, or `None` if there is none ready: the ring is empty, or the
    /// push filling the oldest slot has not finished.
    #[inline]
    pub(crate) fn pop(&self) -> Option<T> {
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let slot = &self.slots[head & (self.one_lap - 1)];
            let stamp = slot.stamp.load(Ordering::Acquire);
            if stamp != head + 1 {
                if behind(stamp, head + 1) {
                    // Nothing written for this ticket yet: the ring is empty, or the push
                    // filling the slot (or the pop emptying it a lap before) has not
                    // finished.
                    return None;
                }
                // Another popper took ticket `head` (its later stamp, acquired above, was
                // stored after its CAS): this load sees the head moved on.
                head = self.head.load(Ordering::Relaxed);
                continue;
            }
            match self.head.compare_exchange_weak(
                head,
                self.next(head),
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    // SAFETY: the CAS made ticket `head` ours and the stamp (acquired
                    // above) says the item for it was written: we move it out once and
                    // free the slot for the next lap below.
                    let value = slot.value.with(|p| unsafe { (*p).assume_init_read() });
                    slot.stamp
                        .store(head.wrapping_add(self.one_lap), Ordering::Release);
                    return Some(value);
                }
                Err(now) => head = now,
            }
        }
    }

    /// How many items the ring holds, counting pushes and pops that have claimed their
    /// ticket but not finished (a snapshot: both ends may move at any time).
    pub(crate) fn len(&self) -> usize {
        loop {
            let tail = self.tail.load(Ordering::SeqCst);
            let head = self.head.load(Ordering::SeqCst);
            // A consistent pair: the tail did not move while the head was read.
            if self.tail.load(Ordering::SeqCst) == tail {
                let mask = self.one_lap - 1;
                let (hix, tix) = (head & mask, tail & mask);
                return if hix < tix {
                    tix - hix
                } else if hix > tix {
                    self.slots.len() - hix + tix
                } else if tail == head {
                    0
                } else {
                    self.slots.len()
                };
            }
        }
    }
}

/// True if `stamp` is older than `expected` (tickets and stamps only grow, wrapping).
#[inline(always)]
fn behind(stamp: usize, expected: usize) -> bool {
    (stamp.wrapping_sub(expected) as isize) < 0
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // `&mut self`: no push or pop is in progress, so every slot between head and tail
        // holds an item.
        while self.pop().is_some() {}
    }
}

impl<T> fmt::Debug for Ring<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ring")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn fifo_up_to_capacity_over_many_laps() {
        let ring = Ring::new(3);
        for lap in 0..10 {
            for i in 0..3 {
                ring.push(lap * 10 + i).unwrap();
            }
            assert_eq!(ring.len(), 3);
            assert_eq!(ring.push(99), Err(99), "full");
            for i in 0..3 {
                assert_eq!(ring.pop(), Some(lap * 10 + i));
            }
            assert_eq!(ring.len(), 0);
            assert_eq!(ring.pop(), None);
        }
    }

    #[test]
    fn a_slot_takes_a_cache_line_and_4096_small_slots_fit_the_ring_limit() {
        // What `Slot`'s padding and the `Queue` docs promise.
        assert_eq!(std::mem::size_of::<Slot<u64>>(), 64);
        assert_eq!(std::mem::size_of::<Slot<[u8; 56]>>(), 64);
        assert_eq!(std::mem::size_of::<Slot<[u8; 57]>>(), 128);
        let limit = super::super::core::RING_MAX_BYTES;
        assert!(Ring::<[u8; 56]>::bytes_for(4096) <= limit);
        assert!(Ring::<u8>::bytes_for(4097) > limit);
    }

    #[test]
    fn dropping_the_ring_drops_its_items() {
        let item = Arc::new(());
        let ring = Ring::new(4);
        ring.push(item.clone()).unwrap();
        ring.push(item.clone()).unwrap();
        assert_eq!(ring.pop().map(|_| ()), Some(()));
        drop(ring);
        assert_eq!(Arc::strong_count(&item), 1);
    }

    #[test]
    fn two_producers_two_consumers_lose_nothing() {
        const PER: u64 = 100_000;
        let ring = Arc::new(Ring::new(8));
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let ring = ring.clone();
                std::thread::spawn(move || {
                    for i in 0..PER {
                        let mut v = p * PER + i;
                        while let Err(back) = ring.push(v) {
                            v = back;
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let ring = ring.clone();
                std::thread::spawn(move || {
                    let (mut sum, mut n, mut last) = (0u64, 0u64, [None::<u64>; 2]);
                    while n < PER {
                        match ring.pop() {
                            Some(v) => {
                                // Each producer's items come out in order.
                                let p = usize::from(v >= PER);
                                assert!(last[p].is_none_or(|l| l < v), "out of order");
                                last[p] = Some(v);
                                sum += v;
                                n += 1;
                            }
                            None => std::thread::yield_now(),
                        }
                    }
                    sum
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        let total: u64 = consumers.into_iter().map(|c| c.join().unwrap()).sum();
        assert_eq!(total, (0..2 * PER).sum::<u64>());
        assert_eq!(ring.len(), 0);
    }
}
