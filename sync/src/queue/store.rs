//! The item containers behind the three queue kinds, behind one concrete type so the
//! queue core and its futures are shared: FIFO (`VecDeque`), LIFO (`Vec`) and priority
//! (a min-heap; its `T: Ord` operations are captured as function pointers when a
//! `PriorityQueue` is created, so the rest of the code needs no `Ord` bound).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

type Heap<T> = BinaryHeap<Reverse<T>>;

pub(crate) enum Store<T> {
    Fifo(VecDeque<T>),
    Lifo(Vec<T>),
    Priority {
        heap: Heap<T>,
        push: fn(&mut Heap<T>, T),
        pop: fn(&mut Heap<T>) -> Option<T>,
    },
}

fn heap_push<T: Ord>(heap: &mut Heap<T>, v: T) {
    heap.push(Reverse(v));
}

fn heap_pop<T: Ord>(heap: &mut Heap<T>) -> Option<T> {
    heap.pop().map(|Reverse(v)| v)
}

impl<T> Store<T> {
    pub(crate) fn fifo() -> Self {
        Store::Fifo(VecDeque::new())
    }

    pub(crate) fn lifo() -> Self {
        Store::Lifo(Vec::new())
    }

    pub(crate) fn priority() -> Self
    where
        T: Ord,
    {
        Store::Priority {
            heap: BinaryHeap::new(),
            push: heap_push::<T>,
            pop: heap_pop::<T>,
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        match self {
            Store::Fifo(q) => q.len(),
            Store::Lifo(v) => v.len(),
            Store::Priority { heap, .. } => heap.len(),
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, item: T) {
        match self {
            Store::Fifo(q) => q.push_back(item),
            Store::Lifo(v) => v.push(item),
            Store::Priority { heap, push, .. } => push(heap, item),
        }
    }

    /// The next item a getter receives: oldest, newest, or smallest.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        match self {
            Store::Fifo(q) => q.pop_front(),
            Store::Lifo(v) => v.pop(),
            Store::Priority { heap, pop, .. } => pop(heap),
        }
    }

    /// Puts back an item a getter received but dropped, so it is the next one out.
    pub(crate) fn unpop(&mut self, item: T) {
        match self {
            Store::Fifo(q) => q.push_front(item),
            Store::Lifo(v) => v.push(item),
            Store::Priority { heap, push, .. } => push(heap, item),
        }
    }

    /// Removes every item (to be dropped after the lock is released).
    pub(crate) fn take_all(&mut self) -> Vec<T> {
        match self {
            Store::Fifo(q) => std::mem::take(q).into(),
            Store::Lifo(v) => std::mem::take(v),
            Store::Priority { heap, .. } => heap.drain().map(|Reverse(v)| v).collect(),
        }
    }
}
