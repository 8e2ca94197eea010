//! Small loom models of the hand-off protocols (run with
//! `RUSTFLAGS="--cfg loom" cargo test -p corio-sync --test loom_models --release`).
#![cfg(loom)]

use corio_sync::{oneshot, Event, Mutex, Semaphore};
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

#[test]
fn oneshot_send_races_receive() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<usize>();
        let t = thread::spawn(move || tx.send(7).is_ok());
        assert_eq!(block_on(rx), Ok(7));
        assert!(t.join().unwrap());
    });
}

#[test]
fn oneshot_send_races_receiver_drop() {
    loom::model(|| {
        let (tx, rx) = oneshot::channel::<Arc<()>>();
        let v = Arc::new(());
        let v2 = v.clone();
        let t = thread::spawn(move || tx.send(v2).is_err());
        drop(rx);
        let _refused = t.join().unwrap();
        // Whether refused or dropped with the channel, the value is gone exactly once.
        assert_eq!(Arc::strong_count(&v), 1);
    });
}

#[test]
fn mutex_two_threads_increment() {
    loom::model(|| {
        let m = Arc::new(Mutex::new(0));
        let m2 = m.clone();
        let t = thread::spawn(move || *block_on(m2.lock()) += 1);
        *block_on(m.lock()) += 1;
        t.join().unwrap();
        assert_eq!(*block_on(m.lock()), 2);
        assert!(!m.is_locked());
    });
}

#[test]
fn semaphore_release_races_acquire() {
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let s2 = s.clone();
        let t = thread::spawn(move || s2.release());
        block_on(s.acquire()).forget();
        t.join().unwrap();
        assert_eq!(s.available_permits(), 0);
    });
}

#[test]
fn event_set_races_wait() {
    loom::model(|| {
        let e = Arc::new(Event::new());
        let e2 = e.clone();
        let t = thread::spawn(move || e2.set());
        block_on(e.wait());
        t.join().unwrap();
    });
}

#[test]
fn semaphore_cancelled_waiter_races_release() {
    use std::future::Future;
    use std::task::Context;
    loom::model(|| {
        let s = Arc::new(Semaphore::new(0));
        let s2 = s.clone();
        let t = thread::spawn(move || {
            let mut f = Box::pin(s2.acquire());
            let waker = futures::task::noop_waker();
            let polled = f.as_mut().poll(&mut Context::from_waker(&waker));
            drop(polled);
            drop(f); // granted or not: nothing may be lost
        });
        s.release();
        t.join().unwrap();
        assert_eq!(s.available_permits(), 1);
    });
}
