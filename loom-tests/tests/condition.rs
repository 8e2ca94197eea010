//! loom models of `corio_sync::Condition`.
#![cfg(loom)]

use corio_loom_tests::model_with;
use corio_loom_tests::probe::Probe;
use corio_sync::{Condition, Mutex};
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

/// Three waiters, `notify(2)` on another thread racing the third waiter's registration:
/// exactly the two oldest are woken (once each) and re-acquire the lock in turn; the
/// third keeps waiting.
#[test]
fn condition_notify_n_wakes_exactly_n() {
    model_with(3, || {
        let m = Arc::new(Mutex::new(()));
        let c = Arc::new(Condition::new());
        let probes = [Probe::new(), Probe::new(), Probe::new()];
        let mut fa = Box::pin(c.wait(block_on(m.lock())));
        assert!(probes[0].poll(fa.as_mut()).is_pending());
        let mut fb = Box::pin(c.wait(block_on(m.lock())));
        assert!(probes[1].poll(fb.as_mut()).is_pending());

        let c2 = c.clone();
        let t = thread::spawn(move || c2.notify(2));
        let mut fc = Box::pin(c.wait(block_on(m.lock())));
        assert!(probes[2].poll(fc.as_mut()).is_pending());
        t.join().unwrap();

        let wakes: Vec<_> = probes.iter().map(Probe::wakes).collect();
        assert_eq!(
            wakes,
            [1, 1, 0],
            "notify(2) must wake exactly the two oldest"
        );
        drop(block_on(fa.as_mut()));
        drop(block_on(fb.as_mut()));
        assert!(probes[2].poll(fc.as_mut()).is_pending());
        assert!(!m.is_locked());
    });
}

/// `notify(1)` races the oldest waiter being dropped: if the notification reached it, its
/// drop passes it on, so the second waiter is woken exactly once either way.
#[test]
fn condition_notified_waiter_dropped_passes_it_on() {
    model_with(3, || {
        let m = Arc::new(Mutex::new(()));
        let c = Arc::new(Condition::new());
        let (pa, pb) = (Probe::new(), Probe::new());
        let mut fa = Box::pin(c.wait(block_on(m.lock())));
        assert!(pa.poll(fa.as_mut()).is_pending());
        let mut fb = Box::pin(c.wait(block_on(m.lock())));
        assert!(pb.poll(fb.as_mut()).is_pending());

        let c2 = c.clone();
        let t = thread::spawn(move || c2.notify(1));
        drop(fa);
        t.join().unwrap();
        assert_eq!(pb.wakes(), 1, "the notification was lost or duplicated");
        drop(block_on(fb.as_mut()));
        assert!(!m.is_locked());
    });
}

/// The usual predicate loop: a consumer waits while the value is zero, a producer sets it
/// under the lock and notifies. No wake-up is lost between the check and the wait.
#[test]
fn condition_wait_while_sees_the_update() {
    model_with(3, || {
        let m = Arc::new(Mutex::new(0usize));
        let c = Arc::new(Condition::new());
        let (m2, c2) = (m.clone(), c.clone());
        let t = thread::spawn(move || {
            *block_on(m2.lock()) = 7;
            c2.notify_all();
        });
        let g = block_on(async { c.wait_while(m.lock().await, |v| *v == 0).await });
        assert_eq!(*g, 7);
        drop(g);
        t.join().unwrap();
    });
}
