//! Queue / LifoQueue / PriorityQueue as `futures_core::Stream`s: items in `get` order,
//! `None` after shutdown once empty, `StreamExt` combinators with producers, each handle's
//! own pending get (its place in line, not shared by clones), cancel-safety of a dropped
//! handle, and no allocation per item.
#[macro_use]
mod common;

use common::*;
use corio_sync::{GetError, LifoQueue, PriorityQueue, Queue, TaskDoneError};
use futures::executor::{block_on, LocalPool};
use futures::stream::{Stream, StreamExt};
use futures::task::LocalSpawnExt;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashSet;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Counts the allocations made by the current thread.
struct CountingAlloc;

std::thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the count is a const-initialised
// thread-local without a destructor, so counting never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is System's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocs() -> usize {
    ALLOCS.with(Cell::get)
}

/// Polls a stream once with `waker`.
fn poll_next_with<S: Stream + Unpin>(s: &mut S, waker: &Waker) -> Poll<Option<S::Item>> {
    Pin::new(s).poll_next(&mut Context::from_waker(waker))
}

/// Polls a stream once with a no-op waker.
fn poll_next<S: Stream + Unpin>(s: &mut S) -> Poll<Option<S::Item>> {
    poll_next_with(s, futures::task::noop_waker_ref())
}

each_queue_kind! {
    /// `next` returns the items in the order `get` would (oldest, newest or smallest),
    /// waits on an empty queue, and after a shutdown drains what is left, then returns
    /// `None`, again and again.
    fn next_yields_in_get_order_then_none_after_shutdown<Q>() {
        let input = [5, 1, 4, 2, 3];
        let (q, reference) = (Q::new(0), Q::new(0));
        for i in input {
            q.put_nowait(i).unwrap();
            reference.put_nowait(i).unwrap();
        }
        let expected: Vec<_> = input.iter().map(|_| reference.get_nowait().unwrap()).collect();
        let mut s = q.clone();
        let got: Vec<_> = block_on(async {
            let mut got = Vec::new();
            for _ in 0..3 {
                got.push(s.next().await.unwrap());
            }
            got
        });
        assert_eq!(got, expected[..3]);
        q.shutdown(false);
        assert_eq!(block_on(s.next()), Some(expected[3]));
        assert_eq!(block_on(s.next()), Some(expected[4]));
        assert_eq!(block_on(s.next()), None);
        assert_eq!(block_on(s.next()), None);
        assert_eq!(poll_next(&mut q.clone()), Poll::Ready(None));
    }
}

each_queue_kind! {
    /// An empty queue's stream waits; a put wakes it and it yields the item.
    fn next_waits_on_an_empty_queue_and_a_put_wakes_it<Q>() {
        let q = Q::new(0);
        let mut s = q.clone();
        let (waker, woken) = counting_waker();
        assert_eq!(poll_next_with(&mut s, &waker), Poll::Pending);
        assert_eq!(poll_next_with(&mut s, &waker), Poll::Pending, "still waiting");
        q.put_nowait(9).unwrap();
        assert_eq!(woken.get(), 1);
        assert_eq!(q.qsize(), 0, "the item went straight to the waiting stream");
        assert_eq!(poll_next_with(&mut s, &waker), Poll::Ready(Some(9)));
        assert_eq!(poll_next_with(&mut s, &waker), Poll::Pending, "waits again");
        q.put_nowait(10).unwrap();
        assert_eq!(poll_next(&mut s), Poll::Ready(Some(10)));
    }
}

each_queue_kind! {
    /// `q.clone().collect()` gathers what producer threads put, and ends at shutdown.
    fn collect_on_a_clone_with_producer_threads_and_shutdown<Q>() {
        let mut got = within(30, || {
            let q = Q::new(16);
            let consumer = {
                let q = q.clone();
                std::thread::spawn(move || block_on(q.collect::<Vec<u32>>()))
            };
            let producers: Vec<_> = (0..2u32)
                .map(|p| {
                    let q = q.clone();
                    std::thread::spawn(move || {
                        block_on(async {
                            for i in 0..500 {
                                q.put(p * 500 + i).await.unwrap();
                            }
                        })
                    })
                })
                .collect();
            for p in producers {
                p.join().unwrap();
            }
            q.shutdown(false); // the consumer drains what is left, then its stream ends
            consumer.join().unwrap()
        });
        got.sort();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
    }
}

each_queue_kind! {
    /// `map` and `take` compose; `take` stops without taking more than it yields, and a
    /// `take` that has to wait is completed by a producer task.
    fn map_and_take<Q>() {
        let q = Q::new(0);
        let reference = Q::new(0);
        for i in 0..10u32 {
            q.put_nowait(i).unwrap();
            reference.put_nowait(i).unwrap();
        }
        let expected: Vec<_> = (0..3).map(|_| reference.get_nowait().unwrap() * 10).collect();
        let got: Vec<u32> = block_on(q.clone().map(|x| x * 10).take(3).collect());
        assert_eq!(got, expected);
        assert_eq!(q.qsize(), 7, "take took more than it yielded");

        // Drain, then take 2 more: they arrive later, from another task.
        while q.get_nowait().is_ok() {}
        let mut pool = LocalPool::new();
        let producer = q.clone();
        pool.spawner()
            .spawn_local(async move {
                for i in 100..103 {
                    yield_now().await;
                    producer.put(i).await.unwrap();
                }
            })
            .unwrap();
        let mut got: Vec<u32> = pool.run_until(q.clone().take(2).collect());
        got.sort();
        assert_eq!(got, [100, 101]);
        pool.run();
        assert_eq!(q.get_nowait(), Ok(102));
    }
}

each_queue_kind! {
    /// `for_each_concurrent` processes items concurrently while producers put them, and
    /// finishes after the shutdown once every item was processed.
    fn for_each_concurrent_with_producers_and_shutdown<Q>() {
        let (sum, count) = within(30, || {
            let q = Q::new(8);
            let sum = Arc::new(AtomicUsize::new(0));
            let count = Arc::new(AtomicUsize::new(0));
            let in_flight = Arc::new(AtomicUsize::new(0));
            let max_in_flight = Arc::new(AtomicUsize::new(0));
            let producers: Vec<_> = (0..3usize)
                .map(|p| {
                    let q = q.clone();
                    std::thread::spawn(move || {
                        block_on(async {
                            for i in 0..300 {
                                q.put(p * 300 + i).await.unwrap();
                            }
                        })
                    })
                })
                .collect();
            let consumer = {
                let (q, sum, count) = (q.clone(), sum.clone(), count.clone());
                let (in_flight, max_in_flight) = (in_flight.clone(), max_in_flight.clone());
                std::thread::spawn(move || {
                    block_on(q.for_each_concurrent(4, |x| {
                        let (sum, count) = (sum.clone(), count.clone());
                        let (in_flight, max_in_flight) = (in_flight.clone(), max_in_flight.clone());
                        async move {
                            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                            max_in_flight.fetch_max(now, Ordering::SeqCst);
                            yield_now().await;
                            yield_now().await;
                            sum.fetch_add(x, Ordering::SeqCst);
                            count.fetch_add(1, Ordering::SeqCst);
                            in_flight.fetch_sub(1, Ordering::SeqCst);
                        }
                    }))
                })
            };
            for p in producers {
                p.join().unwrap();
            }
            q.shutdown(false);
            consumer.join().unwrap();
            assert!(max_in_flight.load(Ordering::SeqCst) <= 4);
            (sum.load(Ordering::SeqCst), count.load(Ordering::SeqCst))
        });
        assert_eq!(count, 900);
        assert_eq!(sum, 900 * 899 / 2);
    }
}

each_queue_kind! {
    /// A handle whose stream was handed an item and is dropped before it polled again
    /// passes the item to the next getter (a parked task), once.
    fn dropped_stream_with_a_granted_item_hands_it_to_the_next_getter<Q>() {
        let mut pool = LocalPool::new();
        let q = Q::new(0);
        let mut s = q.clone();
        assert_eq!(poll_next(&mut s), Poll::Pending); // s is the oldest getter
        let (q2, got) = (q.clone(), Arc::new(AtomicUsize::new(0)));
        let got2 = got.clone();
        pool.spawner()
            .spawn_local(async move {
                got2.store(q2.get().await.unwrap(), Ordering::SeqCst);
            })
            .unwrap();
        pool.run_until_stalled();
        q.put_nowait(7).unwrap(); // handed to s
        pool.run_until_stalled();
        assert_eq!(got.load(Ordering::SeqCst), 0, "the item skipped the older stream");
        drop(s);
        pool.run_until_stalled();
        assert_eq!(got.load(Ordering::SeqCst), 7, "the next getter did not get the item");
        assert_eq!(q.get_nowait(), Err(GetError::Empty), "the item was duplicated");
        q.task_done().unwrap();
        assert_eq!(q.task_done(), Err(TaskDoneError));
    }
}

each_queue_kind! {
    /// Dropped with no other getter waiting, such a handle puts the item back where the
    /// next `get` finds it first.
    fn dropped_stream_with_a_granted_item_alone_puts_it_back_first<Q>() {
        let q = Q::new(0);
        let mut s = q.clone();
        assert_eq!(poll_next(&mut s), Poll::Pending);
        q.put_nowait(1).unwrap(); // handed to s
        q.put_nowait(2).unwrap(); // queued
        drop(s);
        assert_eq!(q.qsize(), 2);
        assert_eq!(q.get_nowait(), Ok(1));
        assert_eq!(q.get_nowait(), Ok(2));
    }
}

each_queue_kind! {
    /// After an immediate shutdown, an item handed to a dropped handle's stream is dropped
    /// and counted done, so `join` returns.
    fn dropped_stream_after_immediate_shutdown_counts_its_item_done<Q>() {
        let q = Q::new(0);
        let mut s = q.clone();
        assert_eq!(poll_next(&mut s), Poll::Pending);
        q.put_nowait(1).unwrap(); // handed to s
        pending(&mut Box::pin(q.join()));
        q.shutdown(true);
        drop(s);
        ready(&mut Box::pin(q.join()));
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    }
}

each_queue_kind! {
    /// A waiting stream keeps its place in the FIFO line of getters across polls: older
    /// than a later `get`, it receives the first item; the `get` the second.
    fn a_waiting_stream_keeps_its_place_in_line<Q>() {
        let q = Q::new(0);
        let mut s = q.clone();
        assert_eq!(poll_next(&mut s), Poll::Pending);
        let mut g = Box::pin(q.get());
        pending(&mut g);
        q.put_nowait(1).unwrap();
        q.put_nowait(2).unwrap();
        assert_eq!(ready(&mut g), Ok(2));
        assert_eq!(poll_next(&mut s), Poll::Ready(Some(1)));
    }
}

each_queue_kind! {
    /// Cloning a handle does not clone its pending get: the clone starts with none, and
    /// an item handed to the original stays with the original.
    fn clone_does_not_clone_the_pending_get<Q>() {
        let q = Q::new(0);
        let mut s = q.clone();
        assert_eq!(poll_next(&mut s), Poll::Pending);
        let mut s2 = s.clone();
        q.put_nowait(1).unwrap(); // to s, the only getter
        assert_eq!(poll_next(&mut s2), Poll::Pending, "the clone shared s's item");
        q.put_nowait(2).unwrap(); // to s2, now waiting
        assert_eq!(poll_next(&mut s2), Poll::Ready(Some(2)));
        assert_eq!(poll_next(&mut s), Poll::Ready(Some(1)));
        drop(s2);
        drop(s);
        assert_eq!(q.get_nowait(), Err(GetError::Empty));
    }
}

each_queue_kind! {
    /// A shutdown wakes a waiting stream, which then ends.
    fn shutdown_wakes_a_waiting_stream<Q>() {
        let q = Q::<u8>::new(0);
        let mut s = q.clone();
        let (waker, woken) = counting_waker();
        assert_eq!(poll_next_with(&mut s, &waker), Poll::Pending);
        q.shutdown(false);
        assert_eq!(woken.get(), 1);
        assert_eq!(poll_next_with(&mut s, &waker), Poll::Ready(None));
    }
}

each_queue_kind! {
    /// A handle allocates once, for its first wait, and never per item; a handle whose
    /// stream never waits allocates nothing.
    fn no_allocation_per_item<Q>() {
        let q = Q::new(0);
        let mut s = q.clone();
        for i in 0..4 {
            q.put_nowait(i).unwrap(); // may grow the item storage
        }
        let before = allocs();
        for _ in 0..4 {
            assert!(matches!(poll_next(&mut s), Poll::Ready(Some(_))));
        }
        assert_eq!(allocs() - before, 0, "a stream that never waited allocated");

        assert_eq!(poll_next(&mut s), Poll::Pending); // first wait: the node
        q.put_nowait(0).unwrap();
        assert_eq!(poll_next(&mut s), Poll::Ready(Some(0)));
        let before = allocs();
        for i in 1..1000 {
            assert_eq!(poll_next(&mut s), Poll::Pending);
            q.put_nowait(i).unwrap();
            assert_eq!(poll_next(&mut s), Poll::Ready(Some(i)));
        }
        assert_eq!(allocs() - before, 0, "waiting allocated per item");
    }
}

/// Consumers whose streams are often dropped while waiting (maybe just handed an item):
/// every item still arrives exactly once.
#[test]
fn stress_streams_dropped_while_waiting_lose_nothing() {
    let seen = within(60, || {
        const N: u64 = 20_000;
        let q = Queue::new(8);
        let producer = {
            let q = q.clone();
            std::thread::spawn(move || {
                block_on(async {
                    for i in 0..N {
                        q.put(i).await.unwrap();
                    }
                })
            })
        };
        let consumers: Vec<_> = (0..3u64)
            .map(|k| {
                let q = q.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    let mut round = k;
                    loop {
                        let mut s = q.clone();
                        round += 1;
                        if round % 2 == 0 {
                            // Start waiting, then drop the handle: a granted item passes on.
                            match poll_next(&mut s) {
                                Poll::Ready(Some(x)) => {
                                    got.push(x);
                                    continue;
                                }
                                Poll::Ready(None) => return got,
                                Poll::Pending => std::thread::yield_now(),
                            }
                            drop(s);
                            continue;
                        }
                        match block_on(s.next()) {
                            Some(x) => got.push(x),
                            None => return got,
                        }
                    }
                })
            })
            .collect();
        producer.join().unwrap();
        while !q.empty() {
            std::thread::yield_now();
        }
        q.shutdown(false);
        let mut seen = HashSet::new();
        for c in consumers {
            for x in c.join().unwrap() {
                assert!(seen.insert(x), "{x} received twice");
            }
        }
        seen.len() as u64
    });
    assert_eq!(seen, 20_000);
}

#[test]
fn handles_stay_unpin_send_and_sync() {
    fn unpin_send_sync<T: Unpin + Send + Sync>() {}
    unpin_send_sync::<Queue<std::marker::PhantomPinned>>();
    unpin_send_sync::<LifoQueue<String>>();
    unpin_send_sync::<PriorityQueue<String>>();
}
