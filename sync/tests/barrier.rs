//! Barrier: distinct indices, one leader, reuse, dropped waiters.
mod common;

use common::*;
use corio_sync::Barrier;
use futures::executor::block_on;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn distinct_indices_and_exactly_one_leader() {
    let b = Barrier::new(5);
    let mut ws: Vec<_> = (0..4).map(|_| Box::pin(b.wait())).collect();
    for w in &mut ws {
        pending(w);
    }
    assert_eq!(b.n_waiting(), 4);
    let last = ready(&mut Box::pin(b.wait()));
    assert!(last.is_leader());
    assert_eq!(last.index(), 4);
    let rest: Vec<_> = ws.iter_mut().map(|w| ready(w)).collect();
    // Arrival order.
    assert_eq!(
        rest.iter().map(|r| r.index()).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    assert!(rest.iter().all(|r| !r.is_leader()));
    assert_eq!(b.n_waiting(), 0);
}

#[test]
fn barrier_is_reusable_across_generations() {
    let b = Barrier::new(3);
    for _generation in 0..4 {
        let mut x = Box::pin(b.wait());
        let mut y = Box::pin(b.wait());
        pending(&mut x);
        pending(&mut y);
        let z = ready(&mut Box::pin(b.wait()));
        let (x, y) = (ready(&mut x), ready(&mut y));
        let idx: HashSet<_> = [x.index(), y.index(), z.index()].into();
        assert_eq!(idx, HashSet::from([0, 1, 2]));
        assert_eq!([x, y, z].iter().filter(|r| r.is_leader()).count(), 1);
    }
}

#[test]
fn waiter_dropped_before_release_leaves_the_barrier() {
    let b = Barrier::new(3);
    let mut a = Box::pin(b.wait());
    let mut c = Box::pin(b.wait());
    pending(&mut a);
    pending(&mut c);
    drop(a);
    assert_eq!(b.n_waiting(), 1);
    let mut d = Box::pin(b.wait());
    pending(&mut d); // only 2 of 3 present now
    let e = ready(&mut Box::pin(b.wait()));
    let (c, d) = (ready(&mut c), ready(&mut d));
    let idx: HashSet<_> = [c.index(), d.index(), e.index()].into();
    assert_eq!(idx, HashSet::from([0, 1, 2]));
    assert!(e.is_leader() && !c.is_leader() && !d.is_leader());
}

#[test]
fn waiter_dropped_after_release_changes_nothing_for_others() {
    let b = Barrier::new(2);
    let mut a = Box::pin(b.wait());
    pending(&mut a);
    let leader = ready(&mut Box::pin(b.wait()));
    assert!(leader.is_leader());
    drop(a); // released but never observed it
    assert_eq!(b.n_waiting(), 0);
    // Next generation works normally.
    let mut x = Box::pin(b.wait());
    pending(&mut x);
    assert!(ready(&mut Box::pin(b.wait())).is_leader());
    assert_eq!(ready(&mut x).index(), 0);
}

#[test]
fn single_party_barrier_never_waits() {
    let b = Barrier::new(1);
    for _ in 0..3 {
        let r = block_on(b.wait());
        assert!(r.is_leader());
        assert_eq!(r.index(), 0);
    }
}

#[test]
#[should_panic(expected = "parties must be at least 1")]
fn zero_parties_panics() {
    let _ = Barrier::new(0);
}

#[test]
fn stress_threads_one_leader_per_generation() {
    within(60, || {
        const THREADS: usize = 4;
        const ROUNDS: usize = 300;
        let b = Arc::new(Barrier::new(THREADS));
        let leaders = Arc::new(AtomicUsize::new(0));
        let index_sum = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (b, leaders, index_sum) = (b.clone(), leaders.clone(), index_sum.clone());
                std::thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        let r = block_on(b.wait());
                        index_sum.fetch_add(r.index(), Ordering::SeqCst);
                        if r.is_leader() {
                            leaders.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(leaders.load(Ordering::SeqCst), ROUNDS);
        // Each generation's indices are 0..THREADS: their sum is 0+1+2+3.
        assert_eq!(index_sum.load(Ordering::SeqCst), ROUNDS * 6);
    });
}

/// A waiter released by the barrier and dropped before it ran: the other released waiter
/// (a parked task) proceeds with its own index, indices stay distinct, and the next
/// generation starts from zero.
#[test]
fn released_then_dropped_waiter_leaves_the_others_their_indices() {
    let mut pool = futures::executor::LocalPool::new();
    let b = Arc::new(Barrier::new(3));
    let mut first = Box::pin(b.wait());
    pending(&mut first);
    let (b2, index) = (b.clone(), Arc::new(AtomicUsize::new(usize::MAX)));
    let index2 = index.clone();
    let task = spawn_flagged(&pool, async move {
        index2.store(b2.wait().await.index(), Ordering::SeqCst);
    });
    pool.run_until_stalled();
    assert_eq!(b.n_waiting(), 2);
    let leader = ready(&mut Box::pin(b.wait()));
    assert!(leader.is_leader());
    drop(first); // released as index 0, never ran
    pool.run_until_stalled();
    assert!(finished(&task), "the other waiter did not proceed");
    assert_eq!(index.load(Ordering::SeqCst), 1);
    assert_eq!(b.n_waiting(), 0);
    let mut next = Box::pin(b.wait());
    pending(&mut next); // a new generation: one of three
    assert_eq!(b.n_waiting(), 1);
}
