//! Timers on the real runtime (multi-thread and current-thread).

use std::time::{Duration, Instant};

use corio_runtime::time::{interval, sleep, sleep_until};
use corio_runtime::{spawn, Builder, Runtime};
use corio_test_util::within;

#[test]
fn sleeps_of_various_durations_on_the_multi_thread_runtime() {
    within(Duration::from_secs(20), || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let tasks: Vec<_> = [1u64, 5, 10, 30, 60, 100]
                .into_iter()
                .map(|ms| {
                    spawn(async move {
                        let d = Duration::from_millis(ms);
                        let t = Instant::now();
                        sleep(d).await;
                        (d, t.elapsed())
                    })
                })
                .collect();
            for t in tasks {
                let (d, took) = t.await.unwrap();
                assert!(took >= d, "{d:?} sleep took only {took:?}");
                assert!(
                    took < d + Duration::from_millis(50),
                    "{d:?} sleep took {took:?}"
                );
            }
            assert!(start.elapsed() < Duration::from_millis(400));
        });
    });
}

#[test]
fn sleeps_on_the_current_thread_runtime() {
    within(Duration::from_secs(20), || {
        let rt = Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            // Each sleeper records when it woke: neither wakes early. No upper bound but a
            // generous one: a loaded machine may deschedule this thread past both
            // deadlines, and then both fire in one turn, in either order.
            let t = Instant::now();
            let a = spawn(async move {
                sleep(Duration::from_millis(30)).await;
                t.elapsed()
            });
            let b = spawn(async move {
                sleep(Duration::from_millis(10)).await;
                t.elapsed()
            });
            let tb = b.await.unwrap();
            let ta = a.await.unwrap();
            assert!(tb >= Duration::from_millis(10), "{tb:?}");
            assert!(ta >= Duration::from_millis(30), "{ta:?}");
            assert!(ta < Duration::from_secs(5), "{ta:?}");
        });
    });
}

#[test]
fn hundred_thousand_spawned_sleeping_tasks() {
    within(Duration::from_secs(60), || {
        let rt = Runtime::new().unwrap();
        let took = rt.block_on(async {
            let start = Instant::now();
            let tasks: Vec<_> = (0..100_000u64)
                .map(|i| spawn(sleep(Duration::from_millis(1 + i % 50))))
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            start.elapsed()
        });
        assert!(took >= Duration::from_millis(50));
        assert!(
            took < Duration::from_secs(10),
            "100k sleeping tasks took {took:?}"
        );
    });
}

#[test]
fn interval_ticks_and_bursts_on_the_runtime() {
    within(Duration::from_secs(20), || {
        corio_runtime::run(async {
            let period = Duration::from_millis(15);
            let mut iv = interval(period);
            let t0 = iv.tick().await;
            assert_eq!(iv.tick().await, t0 + period);
            // Block this task (not a sleep): ticks fall behind, then burst.
            std::thread::sleep(period * 3);
            let b = Instant::now();
            assert_eq!(iv.tick().await, t0 + period * 2);
            assert_eq!(iv.tick().await, t0 + period * 3);
            assert!(b.elapsed() < Duration::from_millis(10));
        });
    });
}

#[test]
fn sleep_until_and_spawned_timers_from_another_thread_wake_a_parked_runtime() {
    within(Duration::from_secs(20), || {
        let rt = Runtime::new().unwrap();
        // Spawned from outside the runtime while every worker is parked.
        std::thread::sleep(Duration::from_millis(20));
        let deadline = Instant::now() + Duration::from_millis(25);
        let task = rt.spawn(async move {
            sleep_until(deadline).await;
            Instant::now()
        });
        let woke = rt.block_on(task).unwrap();
        assert!(woke >= deadline);
        assert!(woke < deadline + Duration::from_millis(50));
    });
}

#[test]
fn a_sleep_built_outside_a_runtime_runs_on_the_runtime_that_awaits_it() {
    within(Duration::from_secs(20), || {
        let s = sleep(Duration::from_millis(5)); // building it needs no runtime
        let start = Instant::now();
        Builder::new_current_thread().build().unwrap().block_on(s);
        assert!(start.elapsed() >= Duration::from_millis(5));
    });
}

#[test]
#[should_panic(expected = "corio::sleep must be awaited inside a corio runtime")]
fn awaiting_a_sleep_outside_a_runtime_panics() {
    futures::executor::block_on(sleep(Duration::from_millis(1)));
}

#[test]
fn interval_is_a_stream_of_ticks() {
    use futures::StreamExt;
    within(Duration::from_secs(20), || {
        // Built outside the runtime, consumed with StreamExt combinators inside it.
        let ticks = corio_runtime::time::interval(Duration::from_millis(5));
        let rt = Builder::new_current_thread().build().unwrap();
        let gaps: Vec<Duration> = rt.block_on(async {
            let at: Vec<Instant> = ticks.take(4).collect().await;
            at.windows(2).map(|w| w[1] - w[0]).collect()
        });
        assert_eq!(gaps, [Duration::from_millis(5); 3]);
        // A stream that never ends: `next` always yields.
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        rt.block_on(async {
            let mut s = corio_runtime::time::interval(Duration::from_millis(1)).map(|_| 1u32);
            let mut n = 0;
            while let Some(one) = s.next().await {
                n += one;
                if n == 10 {
                    break;
                }
            }
            assert_eq!(n, 10);
        });
    });
}
