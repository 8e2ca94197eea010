//! loom models of `corio_sync::Mutex`: exclusion, FIFO hand-off without barging, and a
//! waiter dropped after being granted the lock handing it on.
#![cfg(loom)]

use corio_loom_tests::model_with;
use corio_loom_tests::probe::{poll_once, Probe};
use corio_sync::Mutex;
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use std::task::Poll;

fn bump(m: &Mutex<usize>) {
    let mut g = block_on(m.lock());
    let v = *g;
    thread::yield_now();
    *g = v + 1;
}

/// Two lockers doing a read-yield-write increment: no update is lost, and loom's
/// `UnsafeCell` tracking inside the mutex reports any overlapping access to the value.
#[test]
fn mutex_exclusion() {
    model_with(3, || {
        let m = Arc::new(Mutex::new(0usize));
        let m2 = m.clone();
        let t = thread::spawn(move || bump(&m2));
        bump(&m);
        t.join().unwrap();
        assert!(!m.is_locked());
        assert_eq!(*m.try_lock().unwrap(), 2);
    });
}

/// Waiters A then B (polled in that order) while another thread takes and releases the
/// lock: B never gets the lock before A, an unlock with waiters hands the lock over
/// directly (`try_lock` right after fails), and every holder gets its turn.
#[test]
fn mutex_fifo_handoff_without_barging() {
    model_with(3, || {
        let m = Arc::new(Mutex::new(Vec::new()));
        let m2 = m.clone();
        let t = thread::spawn(move || block_on(m2.lock()).push(0));

        let (pa, pb) = (Probe::new(), Probe::new());
        let mut fa = Box::pin(m.lock());
        let mut fb = Box::pin(m.lock());
        let ra = pa.poll(fa.as_mut());
        let rb = pb.poll(fb.as_mut());
        // FIFO: B cannot be granted while A, queued before it, still waits.
        assert!(ra.is_ready() || rb.is_pending(), "B barged past A");
        let mut ga = match ra {
            Poll::Ready(g) => g,
            Poll::Pending => block_on(fa.as_mut()),
        };
        // A holds the lock: B stays pending.
        assert!(rb.is_pending());
        assert!(pb.poll(fb.as_mut()).is_pending());
        ga.push(1);
        drop(ga);
        // B (or the other thread, if it queued first) was handed the lock: no barging.
        assert!(m.try_lock().is_none(), "try_lock barged past a waiter");
        block_on(fb.as_mut()).push(2);
        t.join().unwrap();

        let v = m.try_lock().expect("unlocked at the end").clone();
        let mut sorted = v.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2]);
        let pos = |x| v.iter().position(|&y| y == x).unwrap();
        assert!(pos(1) < pos(2), "A and B served out of order: {v:?}");
    });
}

/// A waiter is granted the lock by the holder's unlock and then dropped before it ever
/// observes it: the lock must go on to the next waiter (another thread), not be lost.
#[test]
fn mutex_granted_waiter_dropped_hands_lock_on() {
    model_with(3, || {
        let m = Arc::new(Mutex::new(0usize));
        let held = m.try_lock().unwrap();
        let m2 = m.clone();
        let t = thread::spawn(move || *block_on(m2.lock()) += 1);

        let mut fa = Box::pin(m.lock());
        assert!(poll_once(fa.as_mut()).is_pending());
        drop(held); // hands the lock to the oldest waiter: A, or the thread if it queued first
        drop(fa); // A never looked: hand it on
        t.join().unwrap(); // deadlocks (and loom reports it) if the lock was lost
        assert!(!m.is_locked());
        assert_eq!(*m.try_lock().unwrap(), 1);
    });
}

/// The holder's unlock (on another thread) races a waiter being dropped: whether the
/// waiter was removed first or granted first, the lock ends up free.
#[test]
fn mutex_unlock_races_waiter_drop() {
    model_with(3, || {
        let m = Arc::new(Mutex::new(()));
        let m2 = m.clone();
        let (tx, rx) = corio_sync::oneshot::channel::<()>();
        let t = thread::spawn(move || {
            let g = block_on(m2.lock());
            tx.send(()).unwrap();
            thread::yield_now();
            drop(g);
        });
        block_on(rx).unwrap(); // the thread holds the lock now
        let mut fa = Box::pin(m.lock());
        let r = poll_once(fa.as_mut());
        drop(r);
        drop(fa);
        t.join().unwrap();
        assert!(!m.is_locked(), "lock lost by a dropped waiter");
        assert!(m.try_lock().is_some());
    });
}
