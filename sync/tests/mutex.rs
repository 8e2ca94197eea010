//! Mutex / Lock: FIFO hand-off, no barging, cancel-safety, stress.
mod common;

use common::*;
use corio_sync::{Lock, Mutex};
use futures::executor::{block_on, ThreadPool};
use std::sync::Arc;

#[test]
fn lock_gives_exclusive_access_and_unlocks_on_drop() {
    let m = Mutex::new(1);
    {
        let mut g = block_on(m.lock());
        *g += 1;
        assert!(m.is_locked());
        assert!(m.try_lock().is_none());
    }
    assert!(!m.is_locked());
    assert_eq!(*m.try_lock().unwrap(), 2);
    let mut m = m;
    *m.get_mut() = 5;
    assert_eq!(m.into_inner(), 5);
}

#[test]
fn lock_type_alias_is_a_unit_mutex() {
    let lock: Lock = Lock::new(());
    let g = block_on(lock.lock());
    assert!(lock.is_locked());
    drop(g);
    assert!(!lock.is_locked());
}

#[test]
fn fifo_handoff_to_oldest_waiter() {
    let m = Mutex::new(Vec::new());
    let held = m.try_lock().unwrap();
    let mut b = Box::pin(m.lock());
    let mut c = Box::pin(m.lock());
    let mut d = Box::pin(m.lock());
    pending(&mut b);
    pending(&mut c);
    pending(&mut d);
    drop(held);
    // c and d polled first: still waiting, b owns the lock.
    pending(&mut d);
    pending(&mut c);
    let mut gb = ready(&mut b);
    gb.push('b');
    drop(gb);
    pending(&mut d);
    let mut gc = ready(&mut c);
    gc.push('c');
    drop(gc);
    ready(&mut d).push('d');
    assert_eq!(*m.try_lock().unwrap(), ['b', 'c', 'd']);
}

#[test]
fn no_barging_after_unlock_with_waiters() {
    let m = Mutex::new(());
    let held = m.try_lock().unwrap();
    let mut waiter = Box::pin(m.lock());
    pending(&mut waiter);
    drop(held);
    // The lock went to the waiter, not to whoever asks first.
    assert!(m.is_locked());
    assert!(m.try_lock().is_none());
    let mut newcomer = Box::pin(m.lock());
    pending(&mut newcomer);
    drop(ready(&mut waiter));
    let _g = ready(&mut newcomer);
}

#[test]
fn unlock_wakes_the_next_waiter() {
    let m = Mutex::new(());
    let held = m.try_lock().unwrap();
    let mut waiter = Box::pin(m.lock());
    let (w, count) = counting_waker();
    assert!(poll_with(&mut waiter, &w).is_pending());
    assert_eq!(count.get(), 0);
    drop(held);
    assert_eq!(count.get(), 1);
}

#[test]
fn latest_waker_is_woken() {
    let m = Mutex::new(());
    let held = m.try_lock().unwrap();
    let mut waiter = Box::pin(m.lock());
    let (w1, c1) = counting_waker();
    let (w2, c2) = counting_waker();
    assert!(poll_with(&mut waiter, &w1).is_pending());
    assert!(poll_with(&mut waiter, &w2).is_pending());
    drop(held);
    assert_eq!((c1.get(), c2.get()), (0, 1));
}

#[test]
fn dropped_pending_waiter_is_removed() {
    let m = Mutex::new(());
    let held = m.try_lock().unwrap();
    let mut b = Box::pin(m.lock());
    let mut c = Box::pin(m.lock());
    pending(&mut b);
    pending(&mut c);
    drop(b); // leaves the queue at once
    drop(held);
    let _g = ready(&mut c);
}

#[test]
fn cancel_after_grant_hands_lock_to_next_waiter() {
    let m = Mutex::new(());
    let held = m.try_lock().unwrap();
    let mut b = Box::pin(m.lock());
    let mut c = Box::pin(m.lock());
    pending(&mut b);
    pending(&mut c);
    drop(held); // granted to b
    drop(b); // b never saw it: passes it to c
    let _g = ready(&mut c);
}

#[test]
fn cancel_after_grant_without_waiters_unlocks() {
    let m = Mutex::new(());
    let held = m.try_lock().unwrap();
    let mut b = Box::pin(m.lock());
    pending(&mut b);
    drop(held);
    drop(b);
    assert!(!m.is_locked());
    assert!(m.try_lock().is_some());
}

#[test]
fn unpolled_lock_future_drop_is_a_noop() {
    let m = Mutex::new(());
    drop(m.lock());
    assert!(!m.is_locked());
}

#[test]
fn debug_shows_value_or_locked() {
    let m = Mutex::new(3);
    assert_eq!(format!("{m:?}"), "Mutex { data: 3 }");
    let _g = m.try_lock().unwrap();
    assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
}

#[test]
fn stress_64_tasks_times_1000_increments() {
    let total = within(60, || {
        let pool = ThreadPool::builder().pool_size(4).create().unwrap();
        let m = Arc::new(Mutex::new(0u64));
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..64 {
            let (m, tx) = (m.clone(), tx.clone());
            pool.spawn_ok(async move {
                for _ in 0..1000 {
                    let mut g = m.lock().await;
                    let v = *g;
                    // Widen the race window: a broken mutex loses increments here.
                    std::hint::black_box(());
                    *g = v + 1;
                }
                tx.send(()).unwrap();
            });
        }
        for _ in 0..64 {
            rx.recv().unwrap();
        }
        let v = *block_on(m.lock());
        v
    });
    assert_eq!(total, 64_000);
}

#[test]
fn stress_threads_with_block_on_and_cancellation() {
    // Real threads race lock, try_lock and cancelled lock futures.
    let total = within(60, || {
        let m = Arc::new(Mutex::new(0u64));
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for j in 0..2000 {
                        if (i + j) % 7 == 0 {
                            // Start waiting, then give up.
                            let mut f = Box::pin(m.lock());
                            let _ = poll(&mut f);
                            drop(f);
                        }
                        if j % 3 == 0 {
                            if let Some(mut g) = m.try_lock() {
                                *g += 1;
                                continue;
                            }
                        }
                        *block_on(m.lock()) += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(!m.is_locked());
        let v = *block_on(m.lock());
        v
    });
    assert_eq!(total, 8 * 2000);
}

/// The lock handed to a waiter that is dropped before it ran (a lost `select!` branch, a
/// timeout, a cancelled task) goes to the next waiter, a parked task, exactly once: the
/// task proceeds, nobody else holds the lock meanwhile, and it is free at the end.
#[test]
fn granted_then_dropped_lock_goes_to_the_next_waiter_once() {
    let mut pool = futures::executor::LocalPool::new();
    let m = Arc::new(Mutex::new(0));
    let held = m.try_lock().unwrap();
    let mut first = Box::pin(m.lock());
    pending(&mut first);
    let m2 = m.clone();
    let task = spawn_flagged(&pool, async move { *m2.lock().await += 1 });
    pool.run_until_stalled(); // the task waits behind `first`
    let mut third = Box::pin(m.lock());
    pending(&mut third);
    drop(held); // handed to `first`
    assert!(m.try_lock().is_none());
    drop(first); // it never ran: the lock goes to the task, not to `third`
    pending(&mut third);
    assert!(m.try_lock().is_none(), "the lock was duplicated or freed");
    pool.run_until_stalled();
    assert!(finished(&task), "the next waiter did not proceed");
    let g = ready(&mut third);
    assert_eq!(*g, 1);
    drop(g);
    assert!(!m.is_locked(), "the lock was lost");
}
