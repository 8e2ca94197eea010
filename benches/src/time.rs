//! 100 000 timers on corio, tokio, smol (`async-io`'s `Timer`) and async-std
//! (`task::sleep`, also async-io's timers), warm runtimes.
//!
//! - `timers_100k_concurrent`: the measuring thread awaits 100 000 sleeps of 1–50 ms
//!   (`join_all` in `block_on`); the floor is the 50 ms longest sleep, the rest is timer
//!   overhead.
//! - `timers_100k_spawned`: 100 000 spawned tasks, each sleeping 1–50 ms.
//! - `timers_100k_register_cancel`: create, register (poll once) and drop 100 000 sleeps:
//!   pure insert + cancel cost, no waiting.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::future::join_all;

use crate::runtimes::{AsyncStd, Corio, Rt, Smol, Tokio};
use crate::{time_iters, Workload};

const N: u64 = 100_000;

fn dur(i: u64) -> Duration {
    Duration::from_millis(1 + (i * 7919) % 50)
}

fn poll_once<F: Future>(f: F) -> bool {
    let f = pin!(f);
    matches!(
        f.poll(&mut Context::from_waker(Waker::noop())),
        Poll::Pending
    )
}

fn concurrent<R: Rt, S: Future + Send>(rt: &R, iters: u64, sleep: fn(Duration) -> S) -> Duration {
    time_iters(iters, || {
        rt.block_on(async { join_all((0..N).map(|i| sleep(dur(i)))).await });
    })
}

fn spawned<R: Rt, S: Future + Send + 'static>(
    rt: &R,
    iters: u64,
    sleep: fn(Duration) -> S,
) -> Duration {
    time_iters(iters, || {
        rt.block_on(async {
            let tasks: Vec<_> = (0..N)
                .map(|i| {
                    let s = sleep(dur(i));
                    R::spawn_inside(async move {
                        s.await;
                    })
                })
                .collect();
            for t in tasks {
                let _ = t.await;
            }
        })
    })
}

fn register_cancel<R: Rt, S: Future>(rt: &R, iters: u64, sleep: fn(Duration) -> S) -> Duration {
    time_iters(iters, || {
        rt.block_on(async {
            for i in 0..N {
                assert!(poll_once(sleep(Duration::from_secs(10) + dur(i))));
            }
        })
    })
}

/// The timer workloads.
pub fn workloads() -> Vec<Workload> {
    macro_rules! workload {
        ($name:literal, $f:ident) => {
            Workload::new("time", $name)
                .variant("corio", |iters| $f(Corio::get(), iters, corio::sleep))
                .variant("tokio", |iters| $f(Tokio::get(), iters, tokio::time::sleep))
                .variant("smol", |iters| $f(Smol::get(), iters, smol::Timer::after))
                .variant("async-std", |iters| {
                    $f(AsyncStd::get(), iters, async_std::task::sleep)
                })
        };
    }
    vec![
        workload!("timers_100k_concurrent", concurrent),
        workload!("timers_100k_spawned", spawned),
        workload!("timers_100k_register_cancel", register_cancel),
    ]
}
