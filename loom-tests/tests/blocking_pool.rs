//! loom models of the blocking pool's growth / idle / exit protocol, driven through
//! corio-blocking's public API. Under `cfg(loom)` the pool's threads are loom threads, its
//! crossbeam job channel is a `Mutex<VecDeque>` stand-in, and a keep-alive wait yields
//! once and then times out — so loom explores both "a job arrived in time" and "the
//! keep-alive elapsed" at every wait, i.e. an idle thread exiting right as a job arrives.
//!
//! A job stranded in the queue with no thread coming shows up as a loom deadlock (the
//! submitter's `block_on` never wakes).
#![cfg(loom)]

use corio_blocking::ThreadPool;
use corio_loom_tests::probe::poll_once;
use corio_loom_tests::{model, model_with};
use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::task::Poll;
use std::time::Duration;

/// The shutdown model catches the pool's "was shut down" panics on purpose; keep them out
/// of the test output (every other panic is still reported by the default hook).
fn quiet_shutdown_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !msg.contains("blocking pool was shut down") {
                default(info);
            }
        }));
    });
}

fn pool(max_threads: usize) -> ThreadPool {
    ThreadPool::builder()
        .max_threads(max_threads)
        .keep_alive(Duration::from_secs(60))
        .build()
}

/// One thread at most: a second job submitted while the thread that ran the first goes
/// idle, maybe times out and exits. Either the idle thread is claimed for the job or a
/// new one is spawned — the job always runs; the pool never exceeds its cap.
#[test]
fn blocking_spawn_vs_idle_exit_never_strands_a_job() {
    model_with(3, || {
        let pool = pool(1);
        assert_eq!(block_on(pool.run(|| 1)), 1);
        assert!(pool.thread_count() <= 1);
        assert_eq!(block_on(pool.run(|| 2)), 2);
        assert!(pool.thread_count() <= 1);
    });
}

/// Two submitters race each other on a one-thread pool: the second finds the thread
/// starting, busy, idle, or timing out and exiting after the first job. Both jobs run
/// exactly once, and the pool never counts more than `max_threads` threads.
#[test]
fn blocking_concurrent_submitters_vs_keep_alive_exit() {
    model(|| {
        let pool = pool(1);
        let ran = Arc::new(AtomicUsize::new(0));
        let (p2, r2) = (pool.clone(), ran.clone());
        let t = thread::spawn(move || {
            block_on(p2.run(move || r2.fetch_add(1, Ordering::SeqCst)));
            assert!(p2.thread_count() <= 1);
        });
        let r3 = ran.clone();
        block_on(pool.run(move || r3.fetch_add(1, Ordering::SeqCst)));
        assert!(pool.thread_count() <= 1);
        t.join().unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 2);
    });
}

/// Shutdown races a job's submission: shutdown returns with every thread gone, and the
/// job either ran exactly once (its future yields the value) or never ran (its future
/// fails with the shutdown error) — never both, never neither.
#[test]
fn blocking_shutdown_vs_submit() {
    quiet_shutdown_panics();
    model_with(3, || {
        let pool = pool(1);
        let ran = Arc::new(AtomicUsize::new(0));
        let r2 = ran.clone();
        let mut job = Box::pin(pool.run(move || {
            r2.fetch_add(1, Ordering::SeqCst);
            7
        }));
        let p2 = pool.clone();
        let t = thread::spawn(move || p2.shutdown(Duration::from_secs(600)));
        // Submits, racing the shutdown (a refused submission panics at once).
        let first = panic::catch_unwind(AssertUnwindSafe(|| poll_once(job.as_mut())));
        let report = t.join().unwrap();
        assert_eq!(report.still_running(), 0, "{report}");
        assert_eq!(pool.thread_count(), 0, "a thread outlived shutdown");
        let outcome = match first {
            Ok(Poll::Ready(v)) => Ok(v),
            Ok(Poll::Pending) => panic::catch_unwind(AssertUnwindSafe(|| block_on(job.as_mut()))),
            Err(payload) => Err(payload),
        };
        match ran.load(Ordering::SeqCst) {
            1 => assert_eq!(outcome.ok(), Some(7)),
            0 => assert!(outcome.is_err(), "a job that never ran reported a value"),
            n => panic!("job ran {n} times"),
        }
        assert!(report.dropped_queued() <= 1);
    });
}

/// A burst: two jobs submitted back to back on a two-thread pool. The first spawns a
/// thread; the second relies on it while it is starting, and the started thread grows the
/// pool (fan-out) if the second job is still queued. Both jobs run exactly once and the
/// pool never counts more than two threads.
#[test]
fn blocking_burst_grows_within_max() {
    model(|| {
        let pool = pool(2);
        let ran = Arc::new(AtomicUsize::new(0));
        let (r1, r2) = (ran.clone(), ran.clone());
        let mut a = Box::pin(pool.run(move || r1.fetch_add(1, Ordering::SeqCst)));
        let mut b = Box::pin(pool.run(move || r2.fetch_add(1, Ordering::SeqCst)));
        let a_done = poll_once(a.as_mut()).is_ready();
        let b_done = poll_once(b.as_mut()).is_ready();
        assert!(pool.thread_count() <= 2);
        if !a_done {
            block_on(a.as_mut());
        }
        if !b_done {
            block_on(b.as_mut());
        }
        assert!(pool.thread_count() <= 2);
        assert_eq!(ran.load(Ordering::SeqCst), 2);
    });
}
