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
use readiness::{Readiness, READABLE};

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
            readiness: Readiness::new(),
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
