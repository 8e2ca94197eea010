//! Proof that the models can fail: each protocol twin in `corio_loom_tests::broken` is run
//! twice by the same model, once correct (must pass) and once with its bug switched on
//! (`#[should_panic]`: loom must find the failing interleaving). The queue twins run the
//! scenarios of `queue.rs`'s hand-off models.
#![cfg(loom)]

use corio_loom_tests::broken::{FastPathHandoff, HandoffQueue, HandoffSemaphore, Parker};
use corio_loom_tests::model_with;
use corio_loom_tests::probe::{poll_once, Probe};
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

/// A full queue (maxsize 1) with two waiting putters, A (2) and B (3); a `get` on another
/// thread races A being dropped without being polled again. Whether the get admitted A
/// first or A left first, the cancelled put must not enqueue 2, and B must be woken once
/// and complete, leaving exactly `[3]`. (Every assertion comes after the futures are
/// gone, so a failing one unwinds without touching the queue's loom mutex.)
fn dropped_putter_races_get<const RESERVE: bool>() {
    model_with(3, || {
        let q = Arc::new(HandoffQueue::<RESERVE, true>::new(1));
        q.put_nowait(1).unwrap();
        let mut a = Box::pin(q.put(2));
        assert!(poll_once(a.as_mut()).is_pending());
        let pb = Probe::new();
        let mut b = Box::pin(q.put(3));
        assert!(pb.poll(b.as_mut()).is_pending());

        let q2 = q.clone();
        let t = thread::spawn(move || q2.get_nowait());
        drop(a);
        let got = t.join().unwrap();
        let woken = pb.wakes();
        let b_done = pb.poll(b.as_mut()).is_ready();
        drop(b);
        let rest: Vec<_> = std::iter::from_fn(|| q.get_nowait()).collect();
        assert_eq!(got, Some(1));
        assert_eq!(
            (woken, b_done),
            (1, true),
            "a cancelled put kept its slot: the next putter was not admitted"
        );
        assert_eq!(rest, [3], "a cancelled put enqueued its item");
    });
}

#[test]
fn twin_queue_dropped_admitted_putter_passes_its_slot_on() {
    dropped_putter_races_get::<true>();
}

#[test]
#[should_panic(expected = "a cancelled put kept its slot")]
fn broken_twin_queue_get_moves_putter_item_in() {
    dropped_putter_races_get::<false>();
}

/// Two waiting getters, A and B; a `put` on another thread races A being dropped. Whether
/// the item was handed to A first or A left first, B must be woken once and receive it,
/// and the queue is empty after: nothing lost, nothing duplicated.
fn dropped_getter_races_put<const GIVE_BACK: bool>() {
    model_with(3, || {
        let q = Arc::new(HandoffQueue::<true, GIVE_BACK>::new(1));
        let mut a = Box::pin(q.get());
        assert!(poll_once(a.as_mut()).is_pending());
        let pb = Probe::new();
        let mut b = Box::pin(q.get());
        assert!(pb.poll(b.as_mut()).is_pending());

        let q2 = q.clone();
        let t = thread::spawn(move || q2.put_nowait(7));
        drop(a);
        let put = t.join().unwrap();
        let woken = pb.wakes();
        let got = pb.poll(b.as_mut());
        drop(b);
        let left = q.len();
        assert_eq!(put, Ok(()));
        assert_eq!(
            (woken, got),
            (1, std::task::Poll::Ready(7)),
            "an item handed to a dropped getter was lost"
        );
        assert_eq!(left, 0, "the item was duplicated");
    });
}

#[test]
fn twin_queue_dropped_getter_passes_its_item_on() {
    dropped_getter_races_put::<true>();
}

#[test]
#[should_panic(expected = "an item handed to a dropped getter was lost")]
fn broken_twin_queue_dropped_getter_loses_its_item() {
    dropped_getter_races_put::<false>();
}

/// A lock-free `put` on another thread races the getter announcing that it waits: the
/// getter must always get the item (a lost wake-up is a loom deadlock).
fn fast_put_races_waiting_getter<const RECHECK: bool>() {
    model_with(3, || {
        let q = std::sync::Arc::new(FastPathHandoff::<RECHECK>::new());
        let q2 = q.clone();
        let t = thread::spawn(move || q2.get());
        q.set_getter(t.thread().clone());
        q.put();
        t.join().unwrap();
    });
}

#[test]
fn twin_queue_waiting_getter_looks_again_after_its_flag() {
    fast_put_races_waiting_getter::<true>();
}

#[test]
#[should_panic(expected = "deadlock")]
fn broken_twin_queue_waiting_getter_sleeps_without_looking_again() {
    fast_put_races_waiting_getter::<false>();
}
