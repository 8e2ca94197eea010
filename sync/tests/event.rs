//! Event: set wakes all current waiters, even if cleared at once; cancel-safety.
mod common;

use common::*;
use corio_sync::Event;
use futures::executor::block_on;
use std::sync::Arc;

#[test]
fn wait_returns_at_once_when_set() {
    let ev = Event::new();
    ev.set();
    let mut w = Box::pin(ev.wait());
    ready(&mut w);
    assert!(ev.is_set());
}

#[test]
fn wait_blocks_until_set_and_set_wakes_every_waiter() {
    let ev = Event::new();
    let (wk, count) = counting_waker();
    let mut ws: Vec<_> = (0..5).map(|_| Box::pin(ev.wait())).collect();
    for w in &mut ws {
        assert!(poll_with(w, &wk).is_pending());
    }
    ev.set();
    assert_eq!(count.get(), 5);
    for w in &mut ws {
        ready(w);
    }
}

#[test]
fn set_then_clear_still_wakes_current_waiters() {
    let ev = Event::new();
    let mut a = Box::pin(ev.wait());
    let mut b = Box::pin(ev.wait());
    pending(&mut a);
    pending(&mut b);
    ev.set();
    ev.clear();
    assert!(!ev.is_set());
    ready(&mut a);
    ready(&mut b);
    // A new waiter after the clear does wait.
    let mut c = Box::pin(ev.wait());
    pending(&mut c);
}

#[test]
fn clear_makes_later_waits_block() {
    let ev = Event::new();
    ev.set();
    ev.clear();
    let mut w = Box::pin(ev.wait());
    pending(&mut w);
    ev.set();
    ready(&mut w);
}

#[test]
fn dropped_waiter_is_removed_and_others_still_wake() {
    let ev = Event::new();
    let mut a = Box::pin(ev.wait());
    let mut b = Box::pin(ev.wait());
    pending(&mut a);
    pending(&mut b);
    drop(a);
    ev.set();
    ready(&mut b);
}

#[test]
fn waiter_dropped_after_notification_does_not_affect_others() {
    let ev = Event::new();
    let mut a = Box::pin(ev.wait());
    let mut b = Box::pin(ev.wait());
    pending(&mut a);
    pending(&mut b);
    ev.set();
    ev.clear();
    drop(a); // notified, never observed it
    ready(&mut b);
}

#[test]
fn set_and_clear_from_another_thread_wakes_registered_waiters() {
    within(30, || {
        for _ in 0..200 {
            let ev = Arc::new(Event::new());
            let (tx, rx) = std::sync::mpsc::channel();
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let (ev, tx) = (ev.clone(), tx.clone());
                    std::thread::spawn(move || {
                        let mut w = Box::pin(ev.wait());
                        pending(&mut w); // registered
                        tx.send(()).unwrap();
                        block_on(w);
                    })
                })
                .collect();
            for _ in 0..3 {
                rx.recv().unwrap();
            }
            ev.set();
            ev.clear();
            for t in waiters {
                t.join().unwrap();
            }
        }
    });
}

/// A waiter woken by `set` and dropped before it ran has nothing to hand on: every other
/// waiter (here a parked task) still proceeds, even after a `clear`.
#[test]
fn granted_then_dropped_waiter_does_not_hold_back_the_others() {
    let mut pool = futures::executor::LocalPool::new();
    let ev = Arc::new(Event::new());
    let mut first = Box::pin(ev.wait());
    pending(&mut first);
    let ev2 = ev.clone();
    let task = spawn_flagged(&pool, async move { ev2.wait().await });
    pool.run_until_stalled();
    ev.set();
    ev.clear();
    drop(first);
    pool.run_until_stalled();
    assert!(finished(&task), "the other waiter did not proceed");
    pending(&mut Box::pin(ev.wait())); // cleared: a new wait waits
}
