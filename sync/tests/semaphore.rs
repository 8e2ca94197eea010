//! Semaphore and BoundedSemaphore: FIFO permits, no barging, cancel-safety, bound.
mod common;

use common::*;
use corio_sync::{BoundExceeded, BoundedSemaphore, Semaphore};
use futures::executor::{block_on, ThreadPool};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn permits_are_counted_and_released_on_drop() {
    let s = Semaphore::new(3);
    let a = s.try_acquire().unwrap();
    let b = block_on(s.acquire());
    assert_eq!(s.available_permits(), 1);
    assert!(!s.is_locked());
    let c = s.try_acquire().unwrap();
    assert!(s.is_locked());
    assert!(s.try_acquire().is_none());
    drop((a, b, c));
    assert_eq!(s.available_permits(), 3);
}

#[test]
fn release_adds_a_permit() {
    let s = Semaphore::new(0);
    assert!(s.is_locked());
    s.release();
    s.release();
    assert_eq!(s.available_permits(), 2);
}

#[test]
fn permits_go_to_waiters_in_fifo_order() {
    let s = Semaphore::new(1);
    let held = s.try_acquire().unwrap();
    let mut a = Box::pin(s.acquire());
    let mut b = Box::pin(s.acquire());
    let mut c = Box::pin(s.acquire());
    pending(&mut a);
    pending(&mut b);
    pending(&mut c);
    s.release(); // one extra permit: to a
    pending(&mut c);
    pending(&mut b);
    let pa = ready(&mut a);
    drop(held); // to b
    pending(&mut c);
    let pb = ready(&mut b);
    drop(pa); // to c
    let _pc = ready(&mut c);
    drop(pb);
    assert_eq!(s.available_permits(), 1);
}

#[test]
fn no_barging_after_release_to_waiter() {
    let s = Semaphore::new(1);
    let held = s.try_acquire().unwrap();
    let mut w = Box::pin(s.acquire());
    pending(&mut w);
    drop(held);
    assert_eq!(s.available_permits(), 0);
    assert!(s.try_acquire().is_none());
    let _p = ready(&mut w);
}

#[test]
fn releasing_task_that_reacquires_goes_to_the_back() {
    let s = Semaphore::new(1);
    let held = s.try_acquire().unwrap();
    let mut other = Box::pin(s.acquire());
    pending(&mut other);
    drop(held); // handed to `other`
    let mut again = Box::pin(s.acquire()); // the releaser comes back
    pending(&mut again);
    let p = ready(&mut other);
    pending(&mut again);
    drop(p);
    let _p = ready(&mut again);
}

#[test]
fn dropped_pending_acquire_is_removed() {
    let s = Semaphore::new(0);
    let mut a = Box::pin(s.acquire());
    let mut b = Box::pin(s.acquire());
    pending(&mut a);
    pending(&mut b);
    drop(a);
    s.release();
    let _p = ready(&mut b);
}

#[test]
fn cancel_after_grant_hands_permit_to_next_waiter() {
    let s = Semaphore::new(0);
    let mut a = Box::pin(s.acquire());
    let mut b = Box::pin(s.acquire());
    pending(&mut a);
    pending(&mut b);
    s.release(); // granted to a
    drop(a); // a never took it: b gets it
    let _p = ready(&mut b);
    assert_eq!(s.available_permits(), 0);
}

#[test]
fn cancel_after_grant_without_waiters_returns_permit_to_pool() {
    let s = Semaphore::new(0);
    let mut a = Box::pin(s.acquire());
    pending(&mut a);
    s.release();
    drop(a);
    assert_eq!(s.available_permits(), 1);
}

#[test]
fn forget_keeps_permit_out_until_release() {
    let s = Semaphore::new(1);
    block_on(s.acquire()).forget();
    assert_eq!(s.available_permits(), 0);
    s.release();
    assert_eq!(s.available_permits(), 1);
}

#[test]
fn bounded_release_beyond_initial_value_fails() {
    let s = BoundedSemaphore::new(2);
    assert_eq!(s.release(), Err(BoundExceeded));
    let p = block_on(s.acquire());
    // A guard-held permit comes back on drop; releasing it by hand would overflow.
    assert_eq!(s.release(), Err(BoundExceeded));
    drop(p);
    assert_eq!(s.available_permits(), 2);
    s.try_acquire().unwrap().forget();
    s.try_acquire().unwrap().forget();
    assert_eq!(s.available_permits(), 0);
    assert_eq!(s.release(), Ok(()));
    assert_eq!(s.release(), Ok(()));
    assert_eq!(s.release(), Err(BoundExceeded));
    assert_eq!(s.available_permits(), 2);
}

#[test]
fn bounded_release_goes_to_waiter() {
    let s = BoundedSemaphore::new(1);
    s.try_acquire().unwrap().forget();
    let mut w = Box::pin(s.acquire());
    pending(&mut w);
    assert_eq!(s.release(), Ok(()));
    assert!(s.try_acquire().is_none());
    let _p = ready(&mut w);
}

#[test]
fn stress_never_more_than_4_holders() {
    // 4 OS threads, each running 8 tasks with `join_all`: tasks hold permits across a
    // yield, so permits really are held concurrently, from several threads.
    let (max_seen, done) = within(60, || {
        let s = Arc::new(Semaphore::new(4));
        let holders = Arc::new(AtomicUsize::new(0));
        let max_seen = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (s, holders, max_seen, done) =
                    (s.clone(), holders.clone(), max_seen.clone(), done.clone());
                std::thread::spawn(move || {
                    let task = || async {
                        for _ in 0..500 {
                            let _p = s.acquire().await;
                            let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                            max_seen.fetch_max(now, Ordering::SeqCst);
                            yield_now().await;
                            holders.fetch_sub(1, Ordering::SeqCst);
                            done.fetch_add(1, Ordering::SeqCst);
                        }
                    };
                    block_on(futures::future::join_all((0..8).map(|_| task())));
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(s.available_permits(), 4);
        (max_seen.load(Ordering::SeqCst), done.load(Ordering::SeqCst))
    });
    assert!(max_seen <= 4, "{max_seen} holders at once");
    assert_eq!(max_seen, 4, "4 permits were never all in use");
    assert_eq!(done, 32 * 500);
}

#[test]
fn stress_thread_pool_acquire_release() {
    let total = within(60, || {
        let pool = ThreadPool::builder().pool_size(4).create().unwrap();
        let s = Arc::new(Semaphore::new(2));
        let count = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..16 {
            let (s, count, tx) = (s.clone(), count.clone(), tx.clone());
            pool.spawn_ok(async move {
                for _ in 0..1000 {
                    let _p = s.acquire().await;
                    count.fetch_add(1, Ordering::Relaxed);
                }
                tx.send(()).unwrap();
            });
        }
        for _ in 0..16 {
            rx.recv().unwrap();
        }
        assert_eq!(s.available_permits(), 2);
        count.load(Ordering::Relaxed)
    });
    assert_eq!(total, 16_000);
}

/// A permit handed to a waiter that is dropped before it ran goes to the next waiter, a
/// parked task, exactly once: the task proceeds, later waiters wait their turn, and the
/// permit is back in the pool at the end.
#[test]
fn granted_then_dropped_permit_goes_to_the_next_waiter_once() {
    let mut pool = futures::executor::LocalPool::new();
    let s = Arc::new(Semaphore::new(0));
    let mut first = Box::pin(s.acquire());
    pending(&mut first);
    let s2 = s.clone();
    let task = spawn_flagged(&pool, async move { drop(s2.acquire().await) });
    pool.run_until_stalled();
    let mut third = Box::pin(s.acquire());
    pending(&mut third);
    s.release(); // to `first`
    drop(first); // it never ran: the permit goes to the task
    pending(&mut third);
    assert_eq!(s.available_permits(), 0, "the permit was duplicated");
    pool.run_until_stalled();
    assert!(finished(&task), "the next waiter did not proceed");
    let p = ready(&mut third); // the task's permit, handed on when it finished
    assert!(s.try_acquire().is_none());
    drop(p);
    assert_eq!(s.available_permits(), 1, "the permit was lost");
}

/// The same for a bounded semaphore: the handed-on permit never counts against the bound
/// twice — at the end exactly the initial permit is back and `release` is refused.
#[test]
fn bounded_granted_then_dropped_permit_goes_to_the_next_waiter_once() {
    let mut pool = futures::executor::LocalPool::new();
    let s = Arc::new(BoundedSemaphore::new(1));
    s.try_acquire().unwrap().forget();
    let mut first = Box::pin(s.acquire());
    pending(&mut first);
    let s2 = s.clone();
    let task = spawn_flagged(&pool, async move { drop(s2.acquire().await) });
    pool.run_until_stalled();
    assert_eq!(s.release(), Ok(())); // the forgotten permit, to `first`
    drop(first);
    assert_eq!(s.available_permits(), 0);
    pool.run_until_stalled();
    assert!(finished(&task), "the next waiter did not proceed");
    assert_eq!(s.available_permits(), 1, "the permit was lost");
    assert_eq!(s.release(), Err(BoundExceeded), "the permit was duplicated");
}
