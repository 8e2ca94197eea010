//! Helpers to drive futures step by step, deterministically, and to bound test time.
#![allow(dead_code, unreachable_pub)]

use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// A waker that counts its wakes, and its counter (`WakeCount::get`). Not every test file
/// uses them (`dead_code` does not cover re-exports).
#[allow(unused_imports)]
pub use corio_test_util::{counting_waker, WakeCount};

/// Polls once with a no-op waker.
pub fn poll<F: Future + ?Sized>(f: &mut Pin<Box<F>>) -> Poll<F::Output> {
    poll_with(f, &futures::task::noop_waker())
}

/// Polls once with `waker`.
pub fn poll_with<F: Future + ?Sized>(f: &mut Pin<Box<F>>, waker: &Waker) -> Poll<F::Output> {
    f.as_mut().poll(&mut Context::from_waker(waker))
}

/// Polls once and expects `Ready`.
#[track_caller]
pub fn ready<F: Future + ?Sized>(f: &mut Pin<Box<F>>) -> F::Output {
    match poll(f) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("expected Ready, got Pending"),
    }
}

/// Polls once and expects `Pending`.
#[track_caller]
pub fn pending<F: Future + ?Sized>(f: &mut Pin<Box<F>>) {
    assert!(poll(f).is_pending(), "expected Pending, got Ready");
}

/// Runs `f` on its own thread and fails the test if it does not finish in `secs`; a
/// panic in `f` is re-raised with its own payload.
#[track_caller]
pub fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    corio_test_util::within(Duration::from_secs(secs), f)
}

/// Yields to the executor once (returns `Pending` after waking itself).
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// Spawns `fut` as a task on `pool` (a current-thread executor, driven by the test with
/// `run_until_stalled`) and returns a flag that is set once the task finished.
pub fn spawn_flagged(pool: &LocalPool, fut: impl Future<Output = ()> + 'static) -> Arc<AtomicBool> {
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    pool.spawner()
        .spawn_local(async move {
            fut.await;
            flag.store(true, Ordering::SeqCst);
        })
        .expect("spawn on a local pool");
    done
}

/// True once a task from [`spawn_flagged`] finished.
pub fn finished(flag: &AtomicBool) -> bool {
    flag.load(Ordering::SeqCst)
}

/// Runs a test body once per queue kind, with `$Q` naming the queue type (the invoking
/// file brings `Queue`, `LifoQueue` and `PriorityQueue` into scope).
#[allow(unused_macros)]
macro_rules! each_queue_kind {
    ($(#[doc = $doc:literal])* fn $name:ident<$Q:ident>() $body:block) => {
        $(#[doc = $doc])*
        mod $name {
            use super::*;

            #[test]
            fn fifo() {
                type $Q<T> = Queue<T>;
                $body
            }

            #[test]
            fn lifo() {
                type $Q<T> = LifoQueue<T>;
                $body
            }

            #[test]
            fn priority() {
                type $Q<T> = PriorityQueue<T>;
                $body
            }
        }
    };
}
