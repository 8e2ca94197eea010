//! Condition: notify(n) counts, not remembered, relock before return, cancel-safety.
mod common;

use common::*;
use corio_sync::{Condition, Mutex};
use futures::executor::block_on;
use std::sync::Arc;

#[test]
fn wait_releases_the_mutex_and_reacquires_it() {
    let (m, c) = (Mutex::new(0), Condition::new());
    let mut w = Box::pin(c.wait(block_on(m.lock())));
    pending(&mut w);
    // The mutex is free while waiting.
    *m.try_lock().unwrap() = 7;
    c.notify(1);
    let g = ready(&mut w);
    assert_eq!(*g, 7);
    assert!(m.is_locked());
    drop(g);
    assert!(!m.is_locked());
}

#[test]
fn wait_returns_only_after_reacquiring() {
    let (m, c) = (Mutex::new(()), Condition::new());
    let mut w = Box::pin(c.wait(block_on(m.lock())));
    pending(&mut w);
    let held = m.try_lock().unwrap();
    c.notify(1);
    pending(&mut w); // notified, but the mutex is held
    drop(held);
    let _g = ready(&mut w);
}

#[test]
fn notify_n_wakes_exactly_the_n_oldest() {
    let (m, c) = (Mutex::new(()), Condition::new());
    let mut ws: Vec<_> = (0..5)
        .map(|_| {
            let mut w = Box::pin(c.wait(m.try_lock().unwrap()));
            pending(&mut w);
            w
        })
        .collect();
    c.notify(2);
    // Waiters 2..5 stay put even with the mutex free.
    for w in &mut ws[2..] {
        pending(w);
    }
    drop(ready(&mut ws[0]));
    drop(ready(&mut ws[1]));
    for w in &mut ws[2..] {
        pending(w);
    }
    c.notify(10); // more than wait: all of them
    for w in &mut ws[2..] {
        drop(ready(w));
    }
}

#[test]
fn notify_all_wakes_everyone() {
    let (m, c) = (Mutex::new(()), Condition::new());
    let mut ws: Vec<_> = (0..4)
        .map(|_| {
            let mut w = Box::pin(c.wait(m.try_lock().unwrap()));
            pending(&mut w);
            w
        })
        .collect();
    c.notify_all();
    for w in &mut ws {
        drop(ready(w));
    }
}

#[test]
fn notify_without_waiters_is_not_remembered() {
    let (m, c) = (Mutex::new(()), Condition::new());
    c.notify(1);
    c.notify_all();
    let mut w = Box::pin(c.wait(m.try_lock().unwrap()));
    pending(&mut w);
    pending(&mut w);
}

#[test]
fn dropped_waiter_is_removed_so_notify_reaches_the_next() {
    let (m, c) = (Mutex::new(()), Condition::new());
    let mut a = Box::pin(c.wait(m.try_lock().unwrap()));
    pending(&mut a);
    let mut b = Box::pin(c.wait(m.try_lock().unwrap()));
    pending(&mut b);
    drop(a);
    c.notify(1);
    drop(ready(&mut b));
}

#[test]
fn notified_waiter_dropped_before_relock_passes_notification_on() {
    let (m, c) = (Mutex::new(()), Condition::new());
    let mut a = Box::pin(c.wait(m.try_lock().unwrap()));
    pending(&mut a);
    let mut b = Box::pin(c.wait(m.try_lock().unwrap()));
    pending(&mut b);
    c.notify(1); // a
    drop(a); // never re-acquired: b inherits the notification
    drop(ready(&mut b));
    assert!(!m.is_locked());
}

#[test]
fn waiter_dropped_while_relocking_passes_notification_and_mutex_on() {
    let (m, c) = (Mutex::new(()), Condition::new());
    let mut a = Box::pin(c.wait(m.try_lock().unwrap()));
    pending(&mut a);
    let mut b = Box::pin(c.wait(m.try_lock().unwrap()));
    pending(&mut b);
    let held = m.try_lock().unwrap();
    c.notify(1);
    pending(&mut a); // notified, now queued for the mutex
    drop(held); // mutex handed to a's relock
    drop(a); // a gives up: mutex and notification go on
    let _g = ready(&mut b);
}

#[test]
fn unpolled_wait_just_unlocks() {
    let (m, c) = (Mutex::new(()), Condition::new());
    drop(c.wait(m.try_lock().unwrap()));
    assert!(!m.is_locked());
    c.notify(1);
}

#[test]
fn wait_while_waits_while_condition_is_true() {
    let (m, c) = (Mutex::new(0), Condition::new());
    let mut w = Box::pin(c.wait_while(m.try_lock().unwrap(), |n| *n < 3));
    pending(&mut w);
    for i in 1..3 {
        *m.try_lock().unwrap() = i;
        c.notify_all();
        pending(&mut w); // woken, re-checked, still < 3
    }
    *m.try_lock().unwrap() = 3;
    c.notify_all();
    assert_eq!(*ready(&mut w), 3);
}

#[test]
fn works_with_guards_of_different_mutexes() {
    let (m1, m2, c) = (Mutex::new(1), Mutex::new(2), Condition::new());
    let mut a = Box::pin(c.wait(m1.try_lock().unwrap()));
    let mut b = Box::pin(c.wait(m2.try_lock().unwrap()));
    pending(&mut a);
    pending(&mut b);
    c.notify_all();
    assert_eq!(*ready(&mut a), 1);
    assert_eq!(*ready(&mut b), 2);
}

#[test]
fn stress_producer_consumer_across_threads() {
    let sum = within(60, || {
        let state = Arc::new((Mutex::new((Vec::<u32>::new(), false)), Condition::new()));
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let state = state.clone();
                std::thread::spawn(move || {
                    block_on(async {
                        let (m, c) = &*state;
                        let mut sum = 0u64;
                        loop {
                            let mut g = c
                                .wait_while(m.lock().await, |(items, done)| {
                                    items.is_empty() && !*done
                                })
                                .await;
                            match g.0.pop() {
                                Some(v) => sum += u64::from(v),
                                None => return sum, // done and drained
                            }
                        }
                    })
                })
            })
            .collect();
        block_on(async {
            let (m, c) = &*state;
            for i in 1..=3000u32 {
                m.lock().await.0.push(i);
                c.notify(1);
            }
            m.lock().await.1 = true;
            c.notify_all();
        });
        consumers
            .into_iter()
            .map(|t| t.join().unwrap())
            .sum::<u64>()
    });
    assert_eq!(sum, 3000 * 3001 / 2);
}

/// A notified waiter dropped before it ran passes its notification to the next waiter
/// (a parked task), which proceeds; a third waiter is not woken (nothing duplicated) and
/// the mutex is free at the end.
#[test]
fn granted_then_dropped_notification_goes_to_the_next_waiter_once() {
    let mut pool = futures::executor::LocalPool::new();
    let (m, c) = (Arc::new(Mutex::new(0)), Arc::new(Condition::new()));
    let mut first = Box::pin(c.wait(m.try_lock().unwrap()));
    pending(&mut first);
    let (m2, c2) = (m.clone(), c.clone());
    let task = spawn_flagged(&pool, async move {
        let mut g = c2.wait(m2.lock().await).await;
        *g += 1;
    });
    pool.run_until_stalled();
    let (wk, woken) = counting_waker();
    let mut third = Box::pin(c.wait(m.try_lock().unwrap()));
    assert!(poll_with(&mut third, &wk).is_pending());
    c.notify(1); // to `first`
    drop(first); // it never ran: the task inherits the notification
    pool.run_until_stalled();
    assert!(finished(&task), "the next waiter did not proceed");
    assert_eq!(woken.get(), 0, "the notification was duplicated");
    assert!(poll_with(&mut third, &wk).is_pending());
    assert_eq!(*m.try_lock().expect("the mutex was lost"), 1);
}

/// A notified waiter that was granted the mutex while re-acquiring it, then dropped
/// before it ran, passes both on: the next condition waiter (a parked task) is notified
/// and re-acquires the mutex, and a task queued for the mutex gets it after that.
#[test]
fn dropped_while_relocking_passes_notification_and_mutex_on_once() {
    let mut pool = futures::executor::LocalPool::new();
    let (m, c) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Condition::new()));
    let mut first = Box::pin(c.wait(m.try_lock().unwrap()));
    pending(&mut first);
    let (m2, c2) = (m.clone(), c.clone());
    let waiter = spawn_flagged(&pool, async move {
        c2.wait(m2.lock().await).await.push("waiter");
    });
    pool.run_until_stalled();
    let held = m.try_lock().unwrap();
    c.notify(1); // to `first`
    pending(&mut first); // notified; now queued for the mutex
    let m3 = m.clone();
    let locker = spawn_flagged(&pool, async move { m3.lock().await.push("locker") });
    pool.run_until_stalled(); // queued for the mutex behind `first`
    drop(held); // the mutex goes to `first`'s re-acquire
    drop(first); // it never ran: mutex to `locker`, notification to `waiter`
    pool.run_until_stalled();
    assert!(
        finished(&waiter) && finished(&locker),
        "a waiter did not proceed"
    );
    let g = m.try_lock().expect("the mutex was lost");
    assert_eq!(*g, ["locker", "waiter"]);
}
