//! The deadline runner: a test body on its own thread, a bounded wait for it, and its
//! panic re-raised on the test's thread.

use std::panic;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Runs `body` on its own thread and returns its value, failing the calling test if `body`
/// has not finished within `limit` (a deadlock then fails one test instead of hanging the
/// whole run).
///
/// * A panic in `body` is re-raised here with its original payload (by
///   [`resume_unwind`](std::panic::resume_unwind)), so `#[should_panic(expected = "..")]`
///   and [`catch_unwind`](std::panic::catch_unwind) see the body's own message.
/// * The body's thread is joined before `within` returns; its thread-local destructors
///   count against the same `limit`.
/// * On a timeout the body's thread is left behind (a thread cannot be stopped from
///   outside) and `within` panics with "did not finish within".
/// * The thread is named after the calling thread, which under the test harness is the
///   test's name, so the body's panic message names the test.
///
/// ```
/// use std::time::Duration;
/// use corio_test_util::within;
///
/// assert_eq!(within(Duration::from_secs(5), || 6 * 7), 42);
///
/// let err = std::panic::catch_unwind(|| {
///     within(Duration::from_secs(5), || -> () { std::panic::panic_any(7u8) })
/// })
/// .unwrap_err();
/// assert_eq!(err.downcast_ref::<u8>(), Some(&7));
/// ```
#[track_caller]
pub fn within<T: Send + 'static>(limit: Duration, body: impl FnOnce() -> T + Send + 'static) -> T {
    let deadline = Instant::now() + limit;
    let (tx, rx) = mpsc::channel();
    let mut builder = thread::Builder::new();
    if let Some(name) = thread::current().name() {
        builder = builder.name(name.to_owned());
    }
    let handle = builder
        .spawn(move || {
            // The receiver outlives the wait below; after a timeout nobody reads this.
            let _ = tx.send(body());
        })
        .expect("could not start the test body's thread");
    match rx.recv_timeout(limit) {
        Ok(value) => match join_by(handle, deadline) {
            Some(Ok(())) => value,
            // A panic after the value was sent: in a thread-local destructor.
            Some(Err(payload)) => panic::resume_unwind(payload),
            None => panic!("test body returned but its thread did not exit within {limit:?}"),
        },
        // The sender was dropped without sending: `body` panicked.
        Err(RecvTimeoutError::Disconnected) => match join_by(handle, deadline) {
            Some(Err(payload)) => panic::resume_unwind(payload),
            Some(Ok(())) => unreachable!("the test body's thread exited without a result"),
            None => panic!("test body panicked and did not finish unwinding within {limit:?}"),
        },
        Err(RecvTimeoutError::Timeout) => panic!("test body did not finish within {limit:?}"),
    }
}

/// Joins `handle` if its thread exits by `deadline`; `None` if it is still running then.
fn join_by(handle: JoinHandle<()>, deadline: Instant) -> Option<thread::Result<()>> {
    // A thread that has produced its result exits within microseconds, so a short sleep
    // between looks costs nothing measurable.
    while !handle.is_finished() {
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(1));
    }
    Some(handle.join())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    #[test]
    fn returns_the_body_value() {
        assert_eq!(within(Duration::from_secs(5), || "done"), "done");
    }

    #[test]
    fn reraises_a_str_panic_with_its_message() {
        let err = catch_unwind(|| within(Duration::from_secs(5), || panic!("boom"))).unwrap_err();
        assert_eq!(err.downcast_ref::<&str>(), Some(&"boom"));
    }

    #[test]
    fn reraises_a_formatted_panic_with_its_message() {
        let n = 3;
        let err =
            catch_unwind(|| within(Duration::from_secs(5), move || -> () { panic!("boom {n}") }))
                .unwrap_err();
        assert_eq!(
            err.downcast_ref::<String>().map(String::as_str),
            Some("boom 3")
        );
    }

    #[test]
    fn reraises_a_non_string_payload_unchanged() {
        #[derive(Debug, PartialEq)]
        struct Marker(u32);
        let err = catch_unwind(|| {
            within(Duration::from_secs(5), || -> () {
                panic::panic_any(Marker(9))
            })
        })
        .unwrap_err();
        assert_eq!(err.downcast_ref::<Marker>(), Some(&Marker(9)));
    }

    #[test]
    #[should_panic(expected = "assertion `left == right` failed")]
    fn should_panic_sees_the_body_message() {
        within(Duration::from_secs(5), || assert_eq!(1, 2));
    }

    #[test]
    fn a_body_that_blocks_past_the_limit_fails_the_test() {
        let (release, blocked) = mpsc::channel::<()>();
        let err = catch_unwind(AssertUnwindSafe(|| {
            within(Duration::from_millis(50), move || {
                // Blocks until `release` is dropped, well after the limit.
                let _ = blocked.recv();
            })
        }))
        .unwrap_err();
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("did not finish within 50ms"), "{msg}");
        drop(release);
    }

    #[test]
    fn the_body_thread_is_named_after_the_test() {
        let name = within(Duration::from_secs(5), || {
            thread::current().name().map(str::to_owned)
        });
        assert_eq!(name, thread::current().name().map(str::to_owned));
    }
}
