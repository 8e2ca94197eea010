//! The reactor's readiness protocol: a task operating on a socket races the driver
//! dispatching an event for it, and no data is ever stranded behind a parked task.
//!
//! Runs the runtime's own `driver/readiness.rs` (one atomic word: direction bits and the
//! event tick). The socket is an atomic "bytes available" flag and the waiter list a
//! loom mutex holding "a waker is parked", driven in the same steps as
//! `ScheduledIo::poll_ready` (lock-free check, then lock, re-check, park) and
//! `Reactor::dispatch` (readiness first, then take the parked waker). The twin with an
//! unconditional clear (no tick check) proves the model finds the lost wake-up that the
//! tick prevents.
//!
//! The second model is a connect in progress: edge mode reports an already-connected socket
//! the moment it is registered, so the driver may dispatch that report before the task
//! first waits for "writable". The write side starts not-ready in the word built before
//! registration; the twin registers it ready and clears it afterwards (unconditionally),
//! and loom finds the interleaving where that clear erases the only report.
#![cfg(loom)]

#[allow(dead_code)]
#[path = "../../runtime/src/driver/readiness.rs"]
mod readiness;

/// The included module reaches atomics through `crate::loom`, as in corio-runtime.
mod loom {
    pub(crate) use corio_sync::loom::*;
}

use ::loom::sync::atomic::{AtomicBool, Ordering};
use ::loom::sync::{Arc, Mutex};
use ::loom::thread;
use corio_loom_tests::model_with;
use readiness::{Readiness, READABLE, WRITABLE};

struct Socket {
    readiness: Readiness,
    /// Bytes are waiting in the kernel buffer.
    data: AtomicBool,
    /// The waiter list: a task's waker is parked here.
    parked: Mutex<bool>,
}

/// What the task's read loop ended with.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Read,
    Parked,
}

/// The task: "poll readiness, read, clear on WouldBlock" until it reads or parks (a clear
/// is refused only after a new event, and there is one, so this loops at most twice).
fn read_or_park<const TICK_CHECKED: bool>(s: &Socket) -> Outcome {
    loop {
        // Lock-free fast path, then the locked re-check that parks the waker.
        let mut seen = s.readiness.load();
        if !seen.is_ready(READABLE) {
            let mut parked = s.parked.lock().unwrap();
            seen = s.readiness.load();
            if !seen.is_ready(READABLE) {
                *parked = true;
                return Outcome::Parked;
            }
        }
        // The read syscall.
        if s.data.swap(false, Ordering::SeqCst) {
            return Outcome::Read;
        }
        // WouldBlock.
        if TICK_CHECKED {
            let _ = s.readiness.transition_to_cleared(seen, READABLE);
        } else {
            s.readiness.clear(READABLE);
        }
    }
}

/// Data arrives (kernel) and the driver dispatches the edge: readiness, then waiters.
fn deliver(s: &Socket) -> bool {
    s.data.store(true, Ordering::SeqCst);
    s.readiness.transition_to_event(true, false, false);
    std::mem::take(&mut *s.parked.lock().unwrap())
}

fn data_is_never_stranded<const TICK_CHECKED: bool>() {
    model_with(3, || {
        let s = Arc::new(Socket {
            readiness: Readiness::new(READABLE | WRITABLE),
            data: AtomicBool::new(false),
            parked: Mutex::new(false),
        });
        let s2 = s.clone();
        let driver = thread::spawn(move || deliver(&s2));
        let outcome = read_or_park::<TICK_CHECKED>(&s);
        let woke = driver.join().unwrap();
        if outcome == Outcome::Parked && !woke {
            // Nobody will poll the task again: it must not have left bytes unread.
            assert!(
                !s.data.load(Ordering::SeqCst),
                "data stranded: the task is parked and was not woken"
            );
        }
    });
}

#[test]
fn a_read_racing_an_event_never_strands_data() {
    data_is_never_stranded::<true>();
}

#[test]
#[should_panic(expected = "data stranded")]
fn broken_twin_clear_without_tick_check_strands_data() {
    data_is_never_stranded::<false>();
}

/// A socket whose non-blocking connect is in progress, registered with the reactor.
struct Connecting {
    readiness: Readiness,
    /// The handshake finished: the socket is writable.
    connected: AtomicBool,
    /// The waiter list: the connecting task's waker is parked here.
    parked: Mutex<bool>,
}

/// The connecting task: (twin: clear the optimistic write readiness), then wait until
/// writable in `ScheduledIo::poll_ready`'s steps. True if it saw the socket writable.
fn wait_connected<const CLEAR_AFTER_REGISTER: bool>(s: &Connecting) -> bool {
    if CLEAR_AFTER_REGISTER {
        s.readiness.clear(WRITABLE);
    }
    if s.readiness.load().is_ready(WRITABLE) {
        return true;
    }
    let mut parked = s.parked.lock().unwrap();
    if s.readiness.load().is_ready(WRITABLE) {
        return true;
    }
    *parked = true;
    false
}

fn a_connect_is_never_stranded<const CLEAR_AFTER_REGISTER: bool>() {
    model_with(3, || {
        // The word is built before registration; only then can the kernel report.
        let initial = if CLEAR_AFTER_REGISTER {
            READABLE | WRITABLE
        } else {
            READABLE
        };
        let s = Arc::new(Connecting {
            readiness: Readiness::new(initial),
            connected: AtomicBool::new(false),
            parked: Mutex::new(false),
        });
        let s2 = s.clone();
        // The handshake completes and the driver dispatches the (only) writable edge.
        let driver = thread::spawn(move || {
            s2.connected.store(true, Ordering::SeqCst);
            s2.readiness.transition_to_event(false, true, false);
            std::mem::take(&mut *s2.parked.lock().unwrap())
        });
        let saw_writable = wait_connected::<CLEAR_AFTER_REGISTER>(&s);
        let woke = driver.join().unwrap();
        if !saw_writable && !woke {
            assert!(
                !s.connected.load(Ordering::SeqCst),
                "connect stranded: the task waits for an edge that was already dispatched"
            );
        }
    });
}

#[test]
fn a_connect_reported_at_registration_is_never_lost() {
    a_connect_is_never_stranded::<false>();
}

#[test]
#[should_panic(expected = "connect stranded")]
fn broken_twin_clearing_write_readiness_after_registration_strands_a_connect() {
    a_connect_is_never_stranded::<true>();
}
