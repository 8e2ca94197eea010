//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::mpsc;
use std::time::Duration;

use corio_runtime::{Builder, Runtime};

/// Runs `f` on its own thread and fails the test if it does not finish within `secs`.
pub fn with_timeout<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => {
            handle.join().unwrap();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The closure panicked: re-raise its panic here.
            match handle.join() {
                Err(payload) => std::panic::resume_unwind(payload),
                Ok(()) => unreachable!(),
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test timed out after {secs} s"),
    }
}

pub fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

pub fn current_thread() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

/// Both flavors, labelled for assertion messages.
pub fn flavors() -> Vec<(&'static str, Runtime)> {
    vec![
        ("multi_thread", multi_thread(2)),
        ("current_thread", current_thread()),
    ]
}

/// Generous bound for a test body: never reached on a slow machine, but a hang fails the
/// test instead of stalling CI.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Runs `body` on a fresh multi-thread runtime, failing the test after `limit`.
pub fn run_within<T: Send + 'static>(
    limit: Duration,
    body: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    with_timeout(limit.as_secs().max(1), move || {
        Runtime::new().unwrap().block_on(body)
    })
}
