//! Queue / LifoQueue / PriorityQueue: order, waiting, hand-off, cancel-safety,
//! task_done/join, shutdown (both modes), stress.
#[macro_use]
mod common;

use common::*;
use corio_sync::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, QueueShutDown, TaskDoneError,
};
use futures::executor::block_on;
use futures::task::LocalSpawnExt;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts its own drops.
struct Tracked(Arc<AtomicUsize>);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
// All equal, so `(n, Tracked)` orders by `n` in a priority queue.
impl PartialEq for Tracked {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Tracked {}
impl PartialOrd for Tracked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Tracked {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

#[test]
fn fifo_order() {
    let q = Queue::new(0);
    for i in 0..5 {
        q.put_nowait(i).unwrap();
    }
    let got: Vec<_> = (0..5).map(|_| q.get_nowait().unwrap()).collect();
    assert_eq!(got, [0, 1, 2, 3, 4]);
}

#[test]
fn lifo_order() {
    let q = LifoQueue::new(0);
    for i in 0..5 {
        block_on(q.put(i)).unwrap();
    }
    let got: Vec<_> = (0..5).map(|_| block_on(q.get()).unwrap()).collect();
    assert_eq!(got, [4, 3, 2, 1, 0]);
}

#[test]
fn priority_order_smallest_first() {
    let q = PriorityQueue::new(0);
    let input = [5, 3, 9, 1, 7, 1, 0, 8, 2, 6, 4];
    for i in input {
        q.put_nowait((i, format!("job{i}"))).unwrap();
    }
    let got: Vec<_> = (0..input.len())
        .map(|_| q.get_nowait().unwrap().0)
        .collect();
    let mut sorted = input.to_vec();
    sorted.sort();
    assert_eq!(got, sorted);
}

#[test]
fn sizes_and_flags() {
    let q = Queue::new(2);
    assert_eq!(
        (q.qsize(), q.empty(), q.full(), q.maxsize()),
        (0, true, false, 2)
    );
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert_eq!((q.qsize(), q.empty(), q.full()), (2, false, true));
    assert_eq!(q.put_nowait(3), Err(PutError::Full(3)));
    let unbounded = Queue::new(0);
    for i in 0..1000 {
        unbounded.put_nowait(i).unwrap();
    }
    assert!(!unbounded.full());
}

#[test]
fn nowait_errors_give_values_back() {
    let q = Queue::new(1);
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
    q.put_nowait(String::from("a")).unwrap();
    match q.put_nowait(String::from("b")) {
        Err(PutError::Full(v)) => assert_eq!(v, "b"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn clones_share_the_queue() {
    let q = Queue::new(0);
    let q2 = q.clone();
    q.put_nowait(1).unwrap();
    assert_eq!(q2.get_nowait(), Ok(1));
}

#[test]
fn put_waits_while_full_and_is_admitted_by_get() {
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let (wk, count) = counting_waker();
    let mut p = Box::pin(q.put(2));
    assert!(poll_with(&mut p, &wk).is_pending());
    pending(&mut p);
    assert!(poll_with(&mut p, &wk).is_pending());
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(count.get(), 1);
    // The freed slot is reserved for the putter; its item enters when the put completes.
    assert_eq!(q.qsize(), 0);
    assert!(q.full());
    assert_eq!(
        q.put_nowait(9),
        Err(PutError::Full(9)),
        "barged past a woken putter"
    );
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
    assert_eq!(ready(&mut p), Ok(()));
    assert_eq!(q.qsize(), 1);
    assert_eq!(q.get_nowait(), Ok(2));
}

#[test]
fn putters_are_admitted_in_fifo_order() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let mut ps: Vec<_> = (1..4).map(|i| Box::pin(q.put(i))).collect();
    for p in &mut ps {
        pending(p);
    }
    let mut got = vec![q.get_nowait().unwrap()];
    for i in 0..ps.len() {
        // Only the oldest waiting putter was admitted.
        for later in &mut ps[i + 1..] {
            pending(later);
        }
        assert_eq!(ready(&mut ps[i]), Ok(()));
        got.push(q.get_nowait().unwrap());
    }
    assert_eq!(got, [0, 1, 2, 3]);
}

#[test]
fn getters_are_served_fifo_without_barging() {
    let q = Queue::new(0);
    let (wk, count) = counting_waker();
    let mut g1 = Box::pin(q.get());
    let mut g2 = Box::pin(q.get());
    assert!(poll_with(&mut g1, &wk).is_pending());
    assert!(poll_with(&mut g2, &wk).is_pending());
    q.put_nowait(10).unwrap();
    assert_eq!(count.get(), 1);
    // The item is g1's: nobody else can take it.
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
    pending(&mut g2);
    q.put_nowait(20).unwrap();
    assert_eq!(ready(&mut g2), Ok(20));
    assert_eq!(ready(&mut g1), Ok(10));
}

#[test]
fn dropped_pending_getter_is_removed() {
    let q = Queue::new(0);
    let mut g1 = Box::pin(q.get());
    let mut g2 = Box::pin(q.get());
    pending(&mut g1);
    pending(&mut g2);
    drop(g1);
    q.put_nowait(1).unwrap();
    assert_eq!(ready(&mut g2), Ok(1));
}

#[test]
fn getter_dropped_after_grant_hands_item_to_next_getter() {
    let q = Queue::new(0);
    let mut g1 = Box::pin(q.get());
    let mut g2 = Box::pin(q.get());
    pending(&mut g1);
    pending(&mut g2);
    q.put_nowait(1).unwrap(); // to g1
    drop(g1);
    assert_eq!(ready(&mut g2), Ok(1));
}

#[test]
fn getter_dropped_after_grant_puts_item_back_at_the_front() {
    let q = Queue::new(0);
    let mut g = Box::pin(q.get());
    pending(&mut g);
    q.put_nowait(1).unwrap(); // handed to g
    q.put_nowait(2).unwrap(); // queued
    drop(g);
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(q.get_nowait(), Ok(2));
}

/// The same on a bounded queue, whose items live in a lock-free ring: the given-back item
/// comes out before the ring's, counts in `qsize` and `full`, and puts wait behind it.
#[test]
fn bounded_getter_dropped_after_grant_puts_item_back_before_the_ring() {
    let q = Queue::new(2);
    let mut g = Box::pin(q.get());
    pending(&mut g);
    q.put_nowait(1).unwrap(); // handed to g
    q.put_nowait(2).unwrap(); // into the ring
    q.put_nowait(3).unwrap(); // into the ring: full
    drop(g);
    assert_eq!(q.qsize(), 3, "the given-back item is in the queue");
    assert!(q.full());
    assert!(matches!(q.put_nowait(4), Err(PutError::Full(4))));
    assert_eq!(q.get_nowait(), Ok(1));
    assert!(
        matches!(q.put_nowait(4), Err(PutError::Full(4))),
        "still full: 2 items"
    );
    assert_eq!(q.get_nowait(), Ok(2));
    q.put_nowait(4).unwrap();
    assert_eq!(q.get_nowait(), Ok(3));
    assert_eq!(q.get_nowait(), Ok(4));
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
}

/// A bounded queue too large for a ring (its slots would take more than 256 KiB) keeps
/// its items under the lock, with the same behaviour.
#[test]
fn large_bounded_queue_without_a_ring_behaves_the_same() {
    let q = Queue::<[u8; 1024]>::new(1_000);
    for i in 0..1_000u32 {
        q.put_nowait([i as u8; 1024]).unwrap();
    }
    assert!(q.full());
    assert!(q.put_nowait([0; 1024]).is_err());
    let mut put = Box::pin(q.put([7; 1024]));
    pending(&mut put);
    assert_eq!(q.get_nowait().map(|v| v[0]), Ok(0));
    assert_eq!(ready(&mut put), Ok(()));
    for i in 1..1_000u32 {
        assert_eq!(q.get_nowait().map(|v| v[0]), Ok(i as u8));
    }
    assert_eq!(q.get_nowait().map(|v| v[0]), Ok(7));
}

#[test]
fn lifo_getter_dropped_after_grant_puts_item_back_on_top() {
    let q = LifoQueue::new(0);
    let mut g = Box::pin(q.get());
    pending(&mut g);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    drop(g);
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(q.get_nowait(), Ok(2));
}

#[test]
fn putter_dropped_before_acceptance_drops_its_item_only() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(1);
    q.put_nowait(Tracked(drops.clone())).unwrap();
    let mut p1 = Box::pin(q.put(Tracked(drops.clone())));
    let mut p2 = Box::pin(q.put(Tracked(drops.clone())));
    pending(&mut p1);
    pending(&mut p2);
    drop(p1);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(q.get_nowait().unwrap()); // admits p2
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert!(ready(&mut p2).is_ok());
    assert_eq!(q.qsize(), 1);
}

#[test]
fn putter_dropped_after_admission_never_enqueues() {
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let mut p = Box::pin(q.put(2));
    pending(&mut p);
    assert_eq!(q.get_nowait(), Ok(1)); // a slot is reserved for p
    drop(p); // p never completed: its item stays out, the slot is free again
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
    assert!(!q.full());
    assert_eq!(q.put_nowait(3), Ok(()));
    assert_eq!(q.get_nowait(), Ok(3));
}

#[test]
fn task_done_more_than_put_fails() {
    let q = Queue::new(0);
    assert_eq!(q.task_done(), Err(TaskDoneError));
    q.put_nowait(1).unwrap();
    assert_eq!(q.task_done(), Ok(()));
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

#[test]
fn join_waits_for_task_done_not_for_empty() {
    let q = Queue::new(0);
    ready(&mut Box::pin(q.join())); // nothing unfinished
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    let (wk, count) = counting_waker();
    let mut j = Box::pin(q.join());
    let mut j2 = Box::pin(q.join());
    assert!(poll_with(&mut j, &wk).is_pending());
    pending(&mut j2);
    q.get_nowait().unwrap();
    q.get_nowait().unwrap();
    assert!(q.empty());
    assert!(poll_with(&mut j, &wk).is_pending()); // empty, but not done
    q.task_done().unwrap();
    assert!(poll_with(&mut j, &wk).is_pending());
    assert_eq!(count.get(), 0);
    q.task_done().unwrap();
    assert_eq!(count.get(), 1);
    ready(&mut j);
    ready(&mut j2);
}

#[test]
fn items_handed_to_getters_count_for_join() {
    let q = Queue::new(0);
    let mut g = Box::pin(q.get());
    pending(&mut g);
    q.put_nowait(1).unwrap();
    let mut j = Box::pin(q.join());
    pending(&mut j);
    assert_eq!(ready(&mut g), Ok(1));
    q.task_done().unwrap();
    ready(&mut j);
}

#[test]
fn shutdown_puts_fail_and_gets_drain_then_fail() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    q.shutdown(false);
    assert_eq!(block_on(q.put(3)), Err(QueueShutDown(3)));
    assert_eq!(q.put_nowait(4), Err(PutError::ShutDown(4)));
    assert_eq!(block_on(q.get()), Ok(1));
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(block_on(q.get()), Err(QueueShutDown(())));
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
}

#[test]
fn shutdown_wakes_waiting_getters_and_putters() {
    let q = Queue::<u8>::new(0);
    let mut g = Box::pin(q.get());
    pending(&mut g);
    let full = Queue::new(1);
    full.put_nowait(String::from("in")).unwrap();
    let mut p = Box::pin(full.put(String::from("waiting")));
    pending(&mut p);
    let (wk, count) = counting_waker();
    assert!(poll_with(&mut g, &wk).is_pending());
    assert!(poll_with(&mut p, &wk).is_pending());
    q.shutdown(false);
    full.shutdown(false);
    assert_eq!(count.get(), 2);
    assert_eq!(ready(&mut g), Err(QueueShutDown(())));
    assert_eq!(ready(&mut p), Err(QueueShutDown(String::from("waiting"))));
    // Non-immediate: queued items stay and can be drained.
    assert_eq!(full.get_nowait().as_deref(), Ok("in"));
}

#[test]
fn shutdown_non_immediate_does_not_release_join() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    let mut j = Box::pin(q.join());
    pending(&mut j);
    q.shutdown(false);
    pending(&mut j);
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    ready(&mut j);
}

#[test]
fn shutdown_immediate_drops_items_and_counts_them_done() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(0);
    for _ in 0..3 {
        q.put_nowait(Tracked(drops.clone())).unwrap();
    }
    let mut j = Box::pin(q.join());
    pending(&mut j);
    q.shutdown(true);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    assert_eq!(q.qsize(), 0);
    ready(&mut j);
    assert!(matches!(q.get_nowait(), Err(GetError::ShutDown)));
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

#[test]
fn getter_granted_then_dropped_after_immediate_shutdown_counts_item_done() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(0);
    let mut g = Box::pin(q.get());
    pending(&mut g);
    q.put_nowait(Tracked(drops.clone())).unwrap(); // handed to g
    let mut j = Box::pin(q.join());
    pending(&mut j);
    q.shutdown(true);
    pending(&mut j); // the handed item is still unfinished
    drop(g);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    ready(&mut j);
}

#[test]
fn drain_until_shutdown_loop() {
    let q = Queue::new(3);
    let producer = {
        let q = q.clone();
        async move {
            for i in 0..10 {
                q.put(i).await.unwrap();
            }
            q.shutdown(false);
        }
    };
    let consumer = async {
        let mut got = vec![];
        while let Ok(x) = q.get().await {
            got.push(x);
            q.task_done().unwrap();
        }
        got
    };
    let ((), got) = block_on(futures::future::join(producer, consumer));
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    block_on(q.join());
}

#[test]
fn stress_4_producers_10k_items_each_received_exactly_once() {
    let (seen, total) = within(60, || {
        const PER: u64 = 10_000;
        let q = Queue::new(64);
        let producers: Vec<_> = (0..4u64)
            .map(|p| {
                let q = q.clone();
                std::thread::spawn(move || {
                    block_on(async {
                        for i in 0..PER {
                            q.put(p * PER + i).await.unwrap();
                        }
                    })
                })
            })
            .collect();
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let q = q.clone();
                std::thread::spawn(move || {
                    block_on(async {
                        let mut got = Vec::new();
                        while let Ok(x) = q.get().await {
                            got.push(x);
                            q.task_done().unwrap();
                        }
                        got
                    })
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        block_on(q.join()); // every item was taken and marked done
        q.shutdown(false);
        let mut seen = HashSet::new();
        let mut total = 0;
        for c in consumers {
            for x in c.join().unwrap() {
                assert!(seen.insert(x), "{x} received twice");
                total += 1;
            }
        }
        (seen, total)
    });
    assert_eq!(total, 40_000);
    assert_eq!(seen.len(), 40_000);
}

#[test]
fn stress_with_cancelled_getters_loses_nothing() {
    let total = within(60, || {
        let q = Queue::new(8);
        let producer = {
            let q = q.clone();
            std::thread::spawn(move || {
                block_on(async {
                    for i in 0..20_000u64 {
                        q.put(i).await.unwrap();
                    }
                })
            })
        };
        let consumers: Vec<_> = (0..3)
            .map(|k| {
                let q = q.clone();
                std::thread::spawn(move || {
                    let mut sum = 0u64;
                    let mut n = 0u64;
                    loop {
                        // Every other round: start a get, poll it once, then drop it
                        // (it may have been handed an item by then: it must give it back).
                        if (n + k) % 2 == 0 {
                            let mut g = Box::pin(q.get());
                            match poll(&mut g) {
                                std::task::Poll::Ready(Ok(x)) => {
                                    sum += x;
                                    n += 1;
                                    continue;
                                }
                                std::task::Poll::Ready(Err(_)) => return sum,
                                std::task::Poll::Pending => std::thread::yield_now(),
                            }
                            drop(g);
                        }
                        match block_on(q.get()) {
                            Ok(x) => sum += x,
                            Err(QueueShutDown(())) => return sum,
                        }
                        n += 1;
                    }
                })
            })
            .collect();
        producer.join().unwrap();
        // Wait until drained, then shut down so consumers exit.
        while !q.empty() {
            std::thread::yield_now();
        }
        q.shutdown(false);
        consumers
            .into_iter()
            .map(|c| c.join().unwrap())
            .sum::<u64>()
    });
    assert_eq!(total, 20_000 * 19_999 / 2);
}

each_queue_kind! {
    /// A put that was pending when a `get` freed a slot, and is then dropped without
    /// being polled again (a lost `select!` branch, a timeout, a cancelled task): its item
    /// never enters the queue, and the slot goes to the next putter, a task parked in
    /// `put`, which completes. asyncio: a cancelled `put` never enqueues.
    fn cancelled_put_never_enqueues_and_passes_its_slot_on<Q>() {
        let mut pool = futures::executor::LocalPool::new();
        let q = Q::new(1);
        q.put_nowait(1).unwrap();
        let mut first = Box::pin(q.put(2));
        pending(&mut first);
        let (q3, done) = (q.clone(), Arc::new(AtomicUsize::new(0)));
        let done3 = done.clone();
        pool.spawner()
            .spawn_local(async move {
                q3.put(3).await.unwrap();
                done3.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
        pool.run_until_stalled(); // the task parks in `put`
        assert_eq!(done.load(Ordering::SeqCst), 0);
        assert_eq!(q.get_nowait(), Ok(1)); // the slot is reserved for `first`
        drop(first); // cancelled before it ran again
        pool.run_until_stalled();
        assert_eq!(done.load(Ordering::SeqCst), 1, "the next putter did not proceed");
        assert_eq!(q.get_nowait(), Ok(3));
        assert_eq!(q.get_nowait(), Err(GetError::Empty), "the cancelled put enqueued");
        // Every item that entered was counted once: join returns after two task_done.
        q.task_done().unwrap();
        q.task_done().unwrap();
        assert_eq!(q.task_done(), Err(TaskDoneError));
        ready(&mut Box::pin(q.join()));
    }
}

each_queue_kind! {
    /// A putter admitted to a slot and then dropped with nobody else waiting frees the
    /// slot; its item is dropped exactly once, with the future, and not counted for
    /// `join`.
    fn admitted_putter_dropped_alone_frees_the_slot<Q>() {
        let drops = Arc::new(AtomicUsize::new(0));
        let q = Q::new(1);
        q.put_nowait((1, Tracked(drops.clone()))).map_err(drop).unwrap();
        let mut p = Box::pin(q.put((2, Tracked(drops.clone()))));
        pending(&mut p);
        let (first, _) = q.get_nowait().unwrap();
        assert_eq!(first, 1);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(q.full(), "the slot is reserved for the woken putter");
        drop(p);
        assert_eq!(drops.load(Ordering::SeqCst), 2, "the cancelled item was kept");
        assert!(!q.full() && q.empty());
        q.task_done().unwrap();
        assert_eq!(q.task_done(), Err(TaskDoneError), "the cancelled item was counted");
        ready(&mut Box::pin(q.join()));
    }
}

each_queue_kind! {
    /// A getter handed an item and then dropped before it ran: the item goes to the next
    /// getter (a parked task), which proceeds; it is received once and the queue is empty.
    fn cancelled_get_passes_its_item_on<Q>() {
        let mut pool = futures::executor::LocalPool::new();
        let q = Q::new(0);
        let mut first = Box::pin(q.get());
        pending(&mut first);
        let (q2, got) = (q.clone(), Arc::new(AtomicUsize::new(0)));
        let got2 = got.clone();
        pool.spawner()
            .spawn_local(async move {
                got2.store(q2.get().await.unwrap(), Ordering::SeqCst);
            })
            .unwrap();
        pool.run_until_stalled();
        q.put_nowait(7).unwrap(); // to `first`, the oldest getter
        drop(first);
        pool.run_until_stalled();
        assert_eq!(got.load(Ordering::SeqCst), 7, "the next getter did not get the item");
        assert_eq!(q.get_nowait(), Err(GetError::Empty), "the item was duplicated");
        q.task_done().unwrap();
        assert_eq!(q.task_done(), Err(TaskDoneError));
    }
}

each_queue_kind! {
    /// A getter handed an item and dropped with no other getter puts it back where the
    /// next `get` finds it first (FIFO: front; LIFO: top; priority: by its priority).
    fn cancelled_get_alone_puts_its_item_back_first<Q>() {
        let q = Q::new(0);
        let mut g = Box::pin(q.get());
        pending(&mut g);
        q.put_nowait(1).unwrap(); // handed to g
        q.put_nowait(2).unwrap(); // queued
        drop(g);
        assert_eq!(q.qsize(), 2);
        assert_eq!(q.get_nowait(), Ok(1));
        assert_eq!(q.get_nowait(), Ok(2));
        assert_eq!(q.get_nowait(), Err(GetError::Empty));
    }
}

each_queue_kind! {
    /// Two joiners woken by the last `task_done`; one is dropped before it ran: the other
    /// still returns (joiners are released together, there is nothing to hand on).
    fn cancelled_join_does_not_hold_back_other_joiners<Q>() {
        let q = Q::new(0);
        q.put_nowait(1).unwrap();
        let (wk, count) = counting_waker();
        let mut j1 = Box::pin(q.join());
        let mut j2 = Box::pin(q.join());
        assert!(poll_with(&mut j1, &wk).is_pending());
        assert!(poll_with(&mut j2, &wk).is_pending());
        q.get_nowait().unwrap();
        q.task_done().unwrap();
        assert_eq!(count.get(), 2);
        drop(j1);
        ready(&mut j2);
        // A later join waits for later items only.
        q.put_nowait(2).unwrap();
        pending(&mut Box::pin(q.join()));
    }
}

each_queue_kind! {
    /// An admitted putter whose item goes straight to a getter that started waiting in
    /// the meantime leaves its slot free: the next putter is admitted at once.
    fn admitted_putter_feeding_a_getter_admits_the_next_putter<Q>() {
        let q = Q::new(1);
        q.put_nowait(1).unwrap();
        let (wk2, woken2) = counting_waker();
        let (wk3, woken3) = counting_waker();
        let mut p2 = Box::pin(q.put(2));
        let mut p3 = Box::pin(q.put(3));
        assert!(poll_with(&mut p2, &wk2).is_pending());
        assert!(poll_with(&mut p3, &wk3).is_pending());
        assert_eq!(q.get_nowait(), Ok(1)); // the slot is reserved for p2
        assert_eq!(woken2.get(), 1);
        let mut g = Box::pin(q.get());
        pending(&mut g); // empty (the only slot is reserved)
        assert_eq!(q.put_nowait(9), Err(PutError::Full(9)));
        assert_eq!(ready(&mut p2), Ok(())); // 2 goes straight to g
        assert_eq!(ready(&mut g), Ok(2));
        assert_eq!(woken3.get(), 1, "the freed slot was not passed on");
        assert_eq!(ready(&mut p3), Ok(()));
        assert_eq!(q.get_nowait(), Ok(3));
        assert_eq!(q.get_nowait(), Err(GetError::Empty));
    }
}

#[test]
fn admitted_putter_after_shutdown_gets_its_item_back() {
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let mut p = Box::pin(q.put(2));
    let mut p3 = Box::pin(q.put(3));
    pending(&mut p);
    pending(&mut p3);
    assert_eq!(q.get_nowait(), Ok(1)); // a slot is reserved for p
    q.shutdown(false); // p3 is refused at once; p finds out when it runs
    assert_eq!(ready(&mut p3), Err(QueueShutDown(3)));
    assert_eq!(ready(&mut p), Err(QueueShutDown(2)));
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    q.task_done().unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

#[test]
fn stress_cancelled_putters_enqueue_nothing_and_lose_nothing() {
    let (sent, received) = within(60, || {
        let q = Queue::new(4);
        let producers: Vec<_> = (0..3u64)
            .map(|p| {
                let q = q.clone();
                std::thread::spawn(move || {
                    let mut sent = Vec::new();
                    for i in 0..5_000u64 {
                        let v = p * 1_000_000 + i;
                        let mut put = Box::pin(q.put(v));
                        match poll(&mut put) {
                            std::task::Poll::Ready(r) => {
                                r.unwrap();
                                sent.push(v);
                                continue;
                            }
                            std::task::Poll::Pending => std::thread::yield_now(),
                        }
                        if i % 2 == 0 {
                            // Cancelled: whether or not a slot was reserved for it by
                            // now, `v` must never be received.
                            drop(put);
                        } else {
                            block_on(put).unwrap();
                            sent.push(v);
                        }
                    }
                    sent
                })
            })
            .collect();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                std::thread::spawn(move || {
                    block_on(async {
                        let mut got = Vec::new();
                        while let Ok(x) = q.get().await {
                            got.push(x);
                            q.task_done().unwrap();
                        }
                        got
                    })
                })
            })
            .collect();
        let mut sent = HashSet::new();
        for p in producers {
            sent.extend(p.join().unwrap());
        }
        // Every completed put was received and marked done; cancelled ones count nothing.
        block_on(q.join());
        q.shutdown(false);
        let mut received = HashSet::new();
        for c in consumers {
            for x in c.join().unwrap() {
                assert!(received.insert(x), "{x} received twice");
            }
        }
        (sent, received)
    });
    assert_eq!(
        received, sent,
        "a cancelled put enqueued, or a completed one was lost"
    );
}

each_queue_kind! {
    /// `len`/`is_empty`/`is_full` answer as asyncio's `qsize`/`empty`/`full` do, also while
    /// a slot is reserved for a woken putter (full, though fewer than `maxsize` items).
    fn rust_names_agree_with_asyncio_names<Q>() {
        let q = Q::new(2);
        let same = |q: &Q<u32>| {
            assert_eq!(q.len(), q.qsize());
            assert_eq!(q.is_empty(), q.empty());
            assert_eq!(q.is_full(), q.full());
            (q.len(), q.is_empty(), q.is_full())
        };
        assert_eq!(same(&q), (0, true, false));
        q.put_nowait(1).unwrap();
        assert_eq!(same(&q), (1, false, false));
        q.put_nowait(2).unwrap();
        assert_eq!(same(&q), (2, false, true));
        let mut p = Box::pin(q.put(3));
        pending(&mut p);
        q.get_nowait().unwrap(); // the freed slot is reserved for p
        assert_eq!(same(&q), (1, false, true));
        assert_eq!(ready(&mut p), Ok(()));
        assert_eq!(same(&q), (2, false, true));
        let unbounded = Q::new(0);
        for i in 0..100 {
            unbounded.put_nowait(i).unwrap();
        }
        assert_eq!(same(&unbounded), (100, false, false));
    }
}
