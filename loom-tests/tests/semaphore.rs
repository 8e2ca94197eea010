//! loom models of `corio_sync::Semaphore` and `BoundedSemaphore`: permit conservation,
//! hand-off without barging, and hand-off when a granted waiter is dropped.
#![cfg(loom)]

use corio_loom_tests::model_with;
use corio_loom_tests::probe::{poll_once, Probe};
use corio_sync::{BoundExceeded, BoundedSemaphore, Semaphore};
use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

/// One permit, two tasks: never both inside, and the permit is back at the end.
#[test]
fn semaphore_permit_conservation() {
    model_with(3, || {
        let s = Arc::new(Semaphore::new(1));
        let inside = Arc::new(AtomicUsize::new(0));
        let enter = |s: &Semaphore, inside: &AtomicUsize| {
            let permit = block_on(s.acquire());
            assert_eq!(
                inside.fetch_add(1, Ordering::SeqCst),
                0,
                "two permit holders"
            );
            thread::yield_now();
            inside.fetch_sub(1, Ordering::SeqCst);
            drop(permit);
        };
        let (s2, inside2) = (s.clone(), inside.clone());
        let t = thread::spawn(move || enter(&s2, &inside2));
        enter(&s, &inside);
        t.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}

/// A release on another thread while a waiter is queued goes straight to the waiter:
/// `try_acquire` never gets it, the waiter is woken exactly once, and nothing is left over.
#[test]
fn semaphore_release_hands_off_without_barging() {
    model_with(3, || {
        let s = Arc::new(Semaphore::new(0));
        let probe = Probe::new();
        let mut fa = Box::pin(s.acquire());
        assert!(probe.poll(fa.as_mut()).is_pending());
        let s2 = s.clone();
        let t = thread::spawn(move || s2.release());
        assert!(
            s.try_acquire().is_none(),
            "try_acquire barged past a waiter"
        );
        t.join().unwrap();
        assert!(
            s.try_acquire().is_none(),
            "released permit went to the count"
        );
        assert_eq!(probe.wakes(), 1);
        match probe.poll(fa.as_mut()) {
            std::task::Poll::Ready(p) => p.forget(),
            std::task::Poll::Pending => panic!("woken waiter not granted"),
        }
        assert_eq!(s.available_permits(), 0);
    });
}

/// A waiter dropped while a release races it (granted first, or removed first): the
/// permit is never lost.
#[test]
fn semaphore_cancelled_waiter_races_release() {
    model_with(3, || {
        let s = Arc::new(Semaphore::new(0));
        let s2 = s.clone();
        let t = thread::spawn(move || {
            let mut f = Box::pin(s2.acquire());
            let polled = poll_once(f.as_mut());
            drop(polled); // granted at once (and released again) or queued
            drop(f); // granted or not: nothing may be lost
        });
        s.release();
        t.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}

/// A granted-then-dropped waiter hands its permit to the next waiter (another thread),
/// which must complete; the permit is not duplicated.
#[test]
fn semaphore_granted_waiter_dropped_hands_permit_on() {
    model_with(3, || {
        let s = Arc::new(Semaphore::new(0));
        let mut fa = Box::pin(s.acquire());
        assert!(poll_once(fa.as_mut()).is_pending());
        let s2 = s.clone();
        let t = thread::spawn(move || block_on(s2.acquire()).forget());
        s.release(); // to A, the oldest waiter (or to the thread if A was gone)
        drop(fa); // A never looked: hand it on
        t.join().unwrap(); // deadlock if the permit was lost
        assert_eq!(s.available_permits(), 0, "permit duplicated");
    });
}

/// Bounded: one permit taken and forgotten, then two racing `release`s: exactly one is
/// accepted, and the semaphore is back at its bound.
#[test]
fn bounded_semaphore_release_respects_bound() {
    model_with(3, || {
        let s = Arc::new(BoundedSemaphore::new(1));
        let s2 = s.clone();
        let t = thread::spawn(move || {
            block_on(s2.acquire()).forget();
            s2.release()
        });
        let mine = s.release();
        let theirs = t.join().unwrap();
        let accepted = [mine, theirs].iter().filter(|r| r.is_ok()).count();
        assert_eq!(accepted, 1, "{mine:?} {theirs:?}");
        assert!([mine, theirs].contains(&Err(BoundExceeded)));
        assert_eq!(s.available_permits(), 1);
        assert_eq!(s.release(), Err(BoundExceeded));
    });
}

/// Bounded: a permit holder on another thread releases while a waiter is dropped: the
/// permit is handed on or returned, never lost, and never exceeds the bound.
#[test]
fn bounded_semaphore_granted_waiter_dropped_hands_permit_on() {
    model_with(3, || {
        let s = Arc::new(BoundedSemaphore::new(1));
        let (tx, rx) = corio_sync::oneshot::channel::<()>();
        let s2 = s.clone();
        let t = thread::spawn(move || {
            let p = block_on(s2.acquire());
            tx.send(()).unwrap();
            drop(p);
        });
        block_on(rx).unwrap();
        let mut fa = Box::pin(s.acquire());
        let r = poll_once(fa.as_mut());
        drop(r);
        drop(fa);
        // The permit is free again, whoever ended up with it on the way.
        let p = block_on(s.acquire());
        assert!(s.try_acquire().is_none(), "bound exceeded");
        drop(p);
        t.join().unwrap();
        assert_eq!(s.available_permits(), 1);
        assert_eq!(s.release(), Err(BoundExceeded));
    });
}
