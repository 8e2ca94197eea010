//! Proof that the models can fail: each protocol twin in `corio_loom_tests::broken` is run
//! twice by the same model, once correct (must pass) and once with its bug switched on
//! (`#[should_panic]`: loom must find the failing interleaving).
#![cfg(loom)]

use corio_loom_tests::broken::{HandoffSemaphore, Parker};
use corio_loom_tests::model_with;
use corio_loom_tests::probe::poll_once;
use loom::sync::Arc;
use loom::thread;

/// A waiter polled once (queued) and then dropped, racing a `release` on another thread:
/// the permit must end up back in the semaphore whether the waiter was removed or granted
/// before the drop.
fn dropped_waiter_races_release<const PASS_ON: bool>() {
    model_with(3, || {
        let s = Arc::new(HandoffSemaphore::<PASS_ON>::new(0));
        let s2 = s.clone();
        let t = thread::spawn(move || s2.release());
        let mut f = Box::pin(s.acquire());
        if poll_once(f.as_mut()).is_ready() {
            s.release(); // got it at once: give it back
        }
        drop(f);
        t.join().unwrap();
        assert_eq!(s.available(), 1, "permit lost by a dropped waiter");
    });
}

#[test]
fn twin_semaphore_dropped_granted_waiter_passes_permit_on() {
    dropped_waiter_races_release::<true>();
}

#[test]
#[should_panic(expected = "permit lost by a dropped waiter")]
fn broken_twin_semaphore_dropped_granted_waiter_forgets_permit() {
    dropped_waiter_races_release::<false>();
}

/// `unpark` on another thread races `park`: the parker must always return (a lost
/// wake-up is a loom deadlock).
fn unpark_races_park<const CAS: bool>() {
    model_with(3, || {
        let p = std::sync::Arc::new(Parker::<CAS>::new());
        let p2 = p.clone();
        let t = thread::spawn(move || p2.unpark());
        p.park();
        t.join().unwrap();
    });
}

#[test]
fn twin_parker_announces_with_cas() {
    unpark_races_park::<true>();
}

#[test]
#[should_panic(expected = "deadlock")]
fn broken_twin_parker_store_loses_wakeup() {
    unpark_races_park::<false>();
}
