//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use corio_runtime::{Builder, Runtime};
use corio_test_util::within;

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
    within(limit, move || Runtime::new().unwrap().block_on(body))
}
