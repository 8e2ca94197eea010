//! Every waiting future consumes the cooperative budget and refunds it when Pending.
mod common;

use common::*;
use corio_sync::coop;
use corio_sync::{oneshot, Barrier, Event, Mutex, Queue, Semaphore};
use std::future::Future;
use std::pin::Pin;

/// Inside one budgeted poll, how many times does a fresh, always-ready future from
/// `make` complete before one returns Pending? Also checks the Pending one woke us.
fn ready_count<F: Future>(mut make: impl FnMut() -> F) -> usize {
    let (wk, count) = counting_waker();
    coop::with_budget(|| {
        let mut n = 0;
        loop {
            let mut f: Pin<Box<F>> = Box::pin(make());
            if poll_with(&mut f, &wk).is_pending() {
                assert_eq!(count.get(), 1, "budget exhaustion must wake the task");
                return n;
            }
            n += 1;
            assert!(n <= 10_000, "never ran out of budget");
        }
    })
}

const BUDGET: usize = coop::BUDGET as usize;

#[test]
fn mutex_lock_consumes_budget() {
    let m = Mutex::new(());
    assert_eq!(ready_count(|| async { drop(m.lock().await) }), BUDGET);
}

#[test]
fn semaphore_acquire_consumes_budget() {
    let s = Semaphore::new(1);
    assert_eq!(ready_count(|| async { drop(s.acquire().await) }), BUDGET);
}

#[test]
fn event_wait_consumes_budget() {
    let e = Event::new();
    e.set();
    assert_eq!(ready_count(|| e.wait()), BUDGET);
}

#[test]
fn queue_get_and_put_consume_budget() {
    let q = Queue::new(0);
    for i in 0..1000 {
        q.put_nowait(i).unwrap();
    }
    assert_eq!(ready_count(|| q.get()), BUDGET);
    assert_eq!(ready_count(|| q.put(0)), BUDGET);
}

#[test]
fn barrier_wait_consumes_budget() {
    let b = Barrier::new(1);
    assert_eq!(ready_count(|| b.wait()), BUDGET);
}

#[test]
fn oneshot_recv_consumes_budget() {
    assert_eq!(
        ready_count(|| {
            let (tx, rx) = oneshot::channel();
            tx.send(1).unwrap();
            rx
        }),
        BUDGET
    );
}

#[test]
fn pending_polls_are_refunded() {
    let m = Mutex::new(());
    let _held = m.try_lock().unwrap();
    let mut waiter = Box::pin(m.lock());
    let other = Event::new();
    other.set();
    coop::with_budget(|| {
        for _ in 0..1000 {
            pending(&mut waiter);
        }
        // Still budget left for real work.
        assert!(coop::has_budget_remaining());
        ready(&mut Box::pin(other.wait()));
    });
}
