//! loom models of `corio_sync::Event`.
#![cfg(loom)]

use corio_loom_tests::broken::EventFlag;
use corio_loom_tests::model_with;
use corio_loom_tests::probe::Probe;
use corio_sync::Event;
use loom::future::block_on;
use loom::sync::atomic::Ordering::SeqCst;
use loom::sync::Arc;
use loom::thread;

/// Two waiters registered before `set`, and `set` followed at once by `clear` on another
/// thread while the first waiter re-polls with a new waker: both waiters are woken
/// exactly once and complete, although the flag is already clear when they look.
#[test]
fn event_set_wakes_every_waiter_even_if_cleared() {
    model_with(3, || {
        let e = Arc::new(Event::new());
        let (pa, pa2, pb) = (Probe::new(), Probe::new(), Probe::new());
        let mut wa = Box::pin(e.wait());
        let mut wb = Box::pin(e.wait());
        assert!(pa.poll(wa.as_mut()).is_pending());
        assert!(pb.poll(wb.as_mut()).is_pending());
        let e2 = e.clone();
        let t = thread::spawn(move || {
            e2.set();
            e2.clear();
        });
        let again = pa2.poll(wa.as_mut());
        t.join().unwrap();
        if again.is_pending() {
            assert_eq!(pa2.wakes(), 1, "the re-registered waker was not woken");
            assert!(pa2.poll(wa.as_mut()).is_ready());
        }
        assert_eq!(pb.wakes(), 1);
        assert!(pb.poll(wb.as_mut()).is_ready());
        assert!(!e.is_set());
    });
}

/// `set` races a waiter thread's first poll: the waiter always completes.
#[test]
fn event_set_races_wait() {
    model_with(3, || {
        let e = Arc::new(Event::new());
        let e2 = e.clone();
        let t = thread::spawn(move || block_on(e2.wait()));
        e.set();
        t.join().unwrap();
        assert!(e.is_set());
    });
}

/// A registered waiter woken by `set` on another thread is woken exactly once and is
/// ready even though the flag was cleared before it looked.
#[test]
fn event_registered_waiter_survives_clear() {
    model_with(3, || {
        let e = Arc::new(Event::new());
        let probe = Probe::new();
        let mut w = Box::pin(e.wait());
        assert!(probe.poll(w.as_mut()).is_pending());
        let e2 = e.clone();
        let t = thread::spawn(move || {
            e2.set();
            e2.clear();
        });
        t.join().unwrap();
        assert_eq!(probe.wakes(), 1);
        assert!(probe.poll(w.as_mut()).is_ready());
    });
}

/// "Clear, then check my own flag, then wait" (the consumer) against "raise my flag, then
/// set" (the producer): whatever the order, the consumer sees the flag or the event stays
/// set, so its wait would end. `corio_sync::Event` itself, and the twin's correct setting.
#[test]
fn event_clear_then_check_never_erases_a_set() {
    clear_then_check::<Event>();
    clear_then_check::<EventFlag<true>>();
}

#[test]
#[should_panic(expected = "a set was erased by a clear")]
fn broken_twin_event_clear_as_a_store_erases_a_set() {
    clear_then_check::<EventFlag<false>>();
}

/// What the clear-then-check model needs of an event: `corio_sync::Event`, or the twin's
/// flag with a read-modify-write clear (`EventFlag<true>`) or a plain store (`<false>`).
trait Flag: Send + Sync + 'static {
    fn new() -> Self;
    fn set(&self);
    fn clear(&self);
    fn is_set(&self) -> bool;
}

impl Flag for Event {
    fn new() -> Self {
        Event::new()
    }
    fn set(&self) {
        Event::set(self)
    }
    fn clear(&self) {
        Event::clear(self)
    }
    fn is_set(&self) -> bool {
        Event::is_set(self)
    }
}

impl<const RMW: bool> Flag for EventFlag<RMW> {
    fn new() -> Self {
        EventFlag::new()
    }
    fn set(&self) {
        EventFlag::set(self)
    }
    fn clear(&self) {
        EventFlag::clear(self)
    }
    fn is_set(&self) -> bool {
        EventFlag::is_set(self)
    }
}

fn clear_then_check<E: Flag>() {
    model_with(3, || {
        let e = Arc::new(E::new());
        let ready = Arc::new(loom::sync::atomic::AtomicBool::new(false));
        let (e2, r2) = (e.clone(), ready.clone());
        let producer = thread::spawn(move || {
            r2.store(true, SeqCst);
            e2.set();
        });
        e.clear();
        let saw = ready.load(SeqCst);
        producer.join().unwrap();
        assert!(saw || e.is_set(), "a set was erased by a clear");
    });
}
