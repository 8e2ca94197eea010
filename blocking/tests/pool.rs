//! Behaviour of the blocking pool under a plain `futures` executor (no corio runtime).

use corio_blocking::{to_thread, ThreadPool, ToThread};
use corio_test_util::{counting_waker, within};
use futures::executor::block_on;
use futures::future::join_all;
use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        thread::sleep(Duration::from_millis(5));
    }
    cond()
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic>".to_owned()
    }
}

/// Polls `fut` once with a no-op waker.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(fut).poll(&mut cx)
}

#[test]
fn value_propagates() {
    let v = within(Duration::from_secs(10), || block_on(to_thread(|| 6 * 7)));
    assert_eq!(v, 42);
    let pool = ThreadPool::builder().max_threads(2).build();
    let s = within(Duration::from_secs(10), move || {
        block_on(pool.run(|| String::from("hello")))
    });
    assert_eq!(s, "hello");
}

#[derive(Debug, PartialEq)]
struct Payload(u32);

#[test]
fn panic_resumes_at_await_with_original_payload_and_thread_survives() {
    let pool = ThreadPool::builder()
        .max_threads(1)
        .thread_name("panicky")
        .build();
    let p = pool.clone();
    let (payload, name_before) = within(Duration::from_secs(10), move || {
        let name = block_on(p.run(|| thread::current().name().unwrap().to_owned()));
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            block_on(p.run(|| -> u32 { panic::panic_any(Payload(7)) }))
        }));
        (
            r.expect_err("the job's panic must resume at the await"),
            name,
        )
    });
    assert_eq!(payload.downcast_ref::<Payload>(), Some(&Payload(7)));
    // The same (only) thread is still alive and runs the next job.
    let p = pool.clone();
    let name_after = within(Duration::from_secs(10), move || {
        block_on(p.run(|| thread::current().name().unwrap().to_owned()))
    });
    assert_eq!(name_before, name_after);
    assert_eq!(pool.thread_count(), 1);
}

#[test]
fn elastic_64_sleeps_run_concurrently() {
    let pool = ThreadPool::builder().thread_name("elastic").build();
    let p = pool.clone();
    let elapsed = within(Duration::from_secs(30), move || {
        let start = Instant::now();
        let futs: Vec<ToThread<()>> = (0..64)
            .map(|_| p.run(|| thread::sleep(Duration::from_millis(200))))
            .collect();
        block_on(join_all(futs));
        start.elapsed()
    });
    assert!(
        elapsed < Duration::from_secs(3),
        "64 concurrent 200 ms sleeps took {elapsed:?}"
    );
    assert!(
        pool.thread_count() >= 8,
        "only {} threads",
        pool.thread_count()
    );
    // Not one thread per job: growth is a tree of spawns that reads the queue's length
    // before its CAS, so under load a grow can act on a length other threads have already
    // shortened. Each such spawn is `starting`, and at most 4 start at once, so the
    // overshoot is a few threads (which find the queue empty and idle out).
    assert!(
        pool.thread_count() <= 64 + 4,
        "{} threads for 64 jobs",
        pool.thread_count()
    );
}

/// Submits `n` jobs at once; each waits (up to 10 s) until all `n` have started. Returns
/// how many saw all `n` start: `n` if every job had a thread of its own at once.
fn rendezvous(pool: &ThreadPool, n: usize) -> usize {
    let started = Arc::new(AtomicUsize::new(0));
    let futs: Vec<_> = (0..n)
        .map(|_| {
            let started = started.clone();
            pool.run(move || {
                started.fetch_add(1, SeqCst);
                wait_until(Duration::from_secs(10), || started.load(SeqCst) == n)
            })
        })
        .collect();
    block_on(join_all(futs))
        .into_iter()
        .filter(|&all| all)
        .count()
}

#[test]
fn every_job_of_a_burst_gets_a_thread_at_once_cold_and_warm() {
    // Below max_threads, no job of a burst waits for another job to finish: not when the
    // pool starts its threads (cold), and not when the burst is bigger than the number of
    // idle threads (warm, so some jobs claim idle threads and the rest need new ones).
    let pool = ThreadPool::builder().max_threads(256).build();
    let p = pool.clone();
    within(Duration::from_secs(60), move || {
        for (round, n) in [(1, 48), (2, 96), (3, 160), (4, 160)] {
            assert_eq!(
                rendezvous(&p, n),
                n,
                "round {round}: not all {n} jobs ran at once ({} threads)",
                p.thread_count()
            );
        }
    });
}

#[test]
fn max_threads_cap_holds_and_is_reached() {
    let pool = ThreadPool::builder().max_threads(4).build();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let p = pool.clone();
    let (r, pk) = (running.clone(), peak.clone());
    within(Duration::from_secs(30), move || {
        let futs: Vec<_> = (0..16)
            .map(|_| {
                let (r, pk) = (r.clone(), pk.clone());
                p.run(move || {
                    let now = r.fetch_add(1, SeqCst) + 1;
                    pk.fetch_max(now, SeqCst);
                    thread::sleep(Duration::from_millis(50));
                    r.fetch_sub(1, SeqCst);
                })
            })
            .collect();
        block_on(join_all(futs));
    });
    assert_eq!(peak.load(SeqCst), 4);
    assert!(pool.thread_count() <= 4);
}

#[test]
fn idle_threads_exit_after_keep_alive() {
    let pool = ThreadPool::builder()
        .keep_alive(Duration::from_millis(100))
        .build();
    let p = pool.clone();
    within(Duration::from_secs(10), move || {
        let futs: Vec<_> = (0..4)
            .map(|_| p.run(|| thread::sleep(Duration::from_millis(50))))
            .collect();
        block_on(join_all(futs));
    });
    assert!(pool.thread_count() >= 1);
    assert!(
        wait_until(Duration::from_secs(5), || pool.thread_count() == 0),
        "threads left: {}",
        pool.thread_count()
    );
    assert_eq!(pool.idle_count(), 0);
    // And the pool grows again on demand.
    let p = pool.clone();
    assert_eq!(
        within(Duration::from_secs(10), move || block_on(p.run(|| 5))),
        5
    );
}

#[test]
fn an_idle_thread_is_reused_rather_than_a_new_one_spawned() {
    let pool = ThreadPool::builder().thread_name("reuse").build();
    let p = pool.clone();
    let names = within(Duration::from_secs(10), move || {
        let mut names = Vec::new();
        for _ in 0..5 {
            names.push(block_on(
                p.run(|| thread::current().name().unwrap().to_owned()),
            ));
            // Let the thread reach its idle wait before the next job.
            assert!(
                wait_until(Duration::from_secs(5), || p.idle_count() >= 1),
                "the worker never went idle"
            );
        }
        names
    });
    // Five jobs, one after another, never needed more than one thread: the idle thread
    // was reused. One spare thread is possible under heavy load: a job is queued before
    // its submitter claims an idle thread, so the idle thread can take the job first and
    // the submitter, seeing nobody idle, starts another; from then on either idle thread
    // may run the next job. Never more than that.
    assert!(
        names.iter().all(|n| n == "reuse-1" || n == "reuse-2"),
        "{names:?}"
    );
    assert!(pool.thread_count() <= 2, "{} threads", pool.thread_count());
}

#[test]
fn a_job_dropped_before_it_starts_never_runs() {
    let pool = ThreadPool::builder().max_threads(1).build();
    let gate = Arc::new(Barrier::new(2));
    let ran = Arc::new(AtomicBool::new(false));
    let p = pool.clone();
    let (g, r) = (gate.clone(), ran.clone());
    within(Duration::from_secs(10), move || {
        // Occupy the only thread.
        let g2 = g.clone();
        let (started_tx, started_rx) = mpsc::channel();
        let mut blocker = p.run(move || {
            started_tx.send(()).unwrap();
            g2.wait();
        });
        assert!(poll_once(&mut blocker).is_pending());
        started_rx.recv().unwrap();
        // Queue a job, then drop its future while it is still queued.
        let r2 = r.clone();
        let mut queued = p.run(move || r2.store(true, SeqCst));
        assert!(poll_once(&mut queued).is_pending());
        assert_eq!(p.queued(), 1);
        drop(queued);
        // A never-polled future never submits anything.
        let r3 = r.clone();
        let lazy = p.run(move || r3.store(true, SeqCst));
        g.wait();
        block_on(blocker);
        // A job queued behind the dropped one has run, so the dropped one was reached.
        block_on(p.run(|| ()));
        drop(lazy);
    });
    assert!(!ran.load(SeqCst), "a dropped job ran");
}

#[test]
fn a_running_job_finishes_and_its_result_is_discarded() {
    struct DropFlag(Arc<AtomicBool>);
    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, SeqCst);
        }
    }
    let pool = ThreadPool::builder().max_threads(1).build();
    let started = Arc::new(Barrier::new(2));
    let finished = Arc::new(AtomicBool::new(false));
    let dropped = Arc::new(AtomicBool::new(false));
    let p = pool.clone();
    let (s, f, d) = (started.clone(), finished.clone(), dropped.clone());
    within(Duration::from_secs(10), move || {
        let (f2, d2) = (f.clone(), d.clone());
        let mut fut = p.run(move || {
            s.wait();
            thread::sleep(Duration::from_millis(100));
            f2.store(true, SeqCst);
            DropFlag(d2)
        });
        assert!(poll_once(&mut fut).is_pending());
        started.wait();
        drop(fut); // while running
        assert!(wait_until(Duration::from_secs(5), || f.load(SeqCst)));
        assert!(wait_until(Duration::from_secs(5), || d.load(SeqCst)));
    });
    assert!(finished.load(SeqCst) && dropped.load(SeqCst));
}

#[test]
fn shutdown_reports_and_later_runs_panic() {
    let pool = ThreadPool::builder().max_threads(1).build();
    let release = Arc::new(AtomicBool::new(false));
    let ran_queued = Arc::new(AtomicUsize::new(0));
    let p = pool.clone();
    let (rel, rq) = (release.clone(), ran_queued.clone());
    let (report, elapsed, queued_msg, later_msg) = within(Duration::from_secs(20), move || {
        let rel2 = rel.clone();
        let mut running = p.run(move || {
            while !rel2.load(SeqCst) {
                thread::sleep(Duration::from_millis(5));
            }
            "finished"
        });
        assert!(poll_once(&mut running).is_pending());
        assert!(wait_until(Duration::from_secs(5), || p.idle_count() == 0
            && p.queued() == 0));
        let mut queued: Vec<_> = (0..2)
            .map(|_| {
                let rq = rq.clone();
                p.run(move || {
                    rq.fetch_add(1, SeqCst);
                })
            })
            .collect();
        for q in &mut queued {
            assert!(poll_once(q).is_pending());
        }
        let start = Instant::now();
        let report = p.shutdown(Duration::from_millis(100));
        let elapsed = start.elapsed();
        // A dropped queued job's future panics with the shutdown message.
        let queued_msg = panic::catch_unwind(AssertUnwindSafe(|| block_on(queued.pop().unwrap())))
            .map(|_| ())
            .expect_err("a dropped job's future must panic");
        // A job submitted after shutdown panics at its first poll.
        let later_msg = panic::catch_unwind(AssertUnwindSafe(|| block_on(p.run(|| 1))))
            .expect_err("run after shutdown must panic");
        // The running job still finishes and its future gets the value.
        rel.store(true, SeqCst);
        assert_eq!(block_on(running), "finished");
        (
            report,
            elapsed,
            panic_message(&*queued_msg),
            panic_message(&*later_msg),
        )
    });
    assert_eq!(report.still_running(), 1, "{report}");
    assert_eq!(report.dropped_queued(), 2, "{report}");
    assert!(!report.is_clean());
    assert!(
        report.to_string().contains("1 job(s) still running"),
        "{report}"
    );
    assert!(
        elapsed < Duration::from_secs(2),
        "shutdown took {elapsed:?}"
    );
    assert!(
        queued_msg.contains("corio blocking pool was shut down"),
        "{queued_msg}"
    );
    assert!(
        later_msg.contains("corio blocking pool was shut down"),
        "{later_msg}"
    );
    assert_eq!(ran_queued.load(SeqCst), 0);
    assert!(wait_until(Duration::from_secs(5), || pool.thread_count() == 0));
}

#[test]
fn shutdown_waits_for_running_jobs_within_the_timeout() {
    let pool = ThreadPool::builder().build();
    let p = pool.clone();
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let report = within(Duration::from_secs(20), move || {
        let mut futs: Vec<_> = (0..3)
            .map(|_| {
                let d = d.clone();
                p.run(move || {
                    thread::sleep(Duration::from_millis(150));
                    d.fetch_add(1, SeqCst);
                })
            })
            .collect();
        for f in &mut futs {
            assert!(poll_once(f).is_pending());
        }
        // Let them start.
        wait_until(Duration::from_secs(5), || p.queued() == 0);
        let report = p.shutdown(Duration::from_secs(10));
        for f in futs {
            block_on(f);
        }
        report
    });
    assert_eq!(
        done.load(SeqCst),
        3,
        "shutdown returned before running jobs finished"
    );
    assert!(report.is_clean(), "{report}");
    assert_eq!(pool.thread_count(), 0);
}

#[test]
fn enter_and_current_scope_the_pool() {
    within(Duration::from_secs(10), || {
        let a = ThreadPool::builder().thread_name("pool-a").build();
        let b = ThreadPool::builder().thread_name("pool-b").build();
        let default = ThreadPool::current();
        assert!(!default.ptr_eq(&a) && !default.ptr_eq(&b));
        let name = || thread::current().name().unwrap().to_owned();
        let ga = a.enter();
        assert!(ThreadPool::current().ptr_eq(&a));
        let on_a = to_thread(name); // not polled yet
        {
            let _gb = b.enter();
            assert!(ThreadPool::current().ptr_eq(&b));
            // Chosen at first poll: created in a's scope, polled in b's, runs on b.
            assert!(block_on(on_a).starts_with("pool-b-"));
            assert!(block_on(to_thread(name)).starts_with("pool-b-"));
        }
        assert!(ThreadPool::current().ptr_eq(&a));
        drop(ga);
        assert!(ThreadPool::current().ptr_eq(&default));
        assert!(block_on(to_thread(name)).starts_with("corio-blocking-"));
        // Other threads are unaffected by this thread's guard.
        let _g = a.enter();
        let other = thread::spawn(move || ThreadPool::current().ptr_eq(&default))
            .join()
            .unwrap();
        assert!(other);
    });
}

#[test]
fn thread_names_use_the_prefix() {
    let pool = ThreadPool::builder().thread_name("my-prefix").build();
    let names = within(Duration::from_secs(10), move || {
        let futs: Vec<_> = (0..4)
            .map(|_| {
                pool.run(|| {
                    thread::sleep(Duration::from_millis(30));
                    thread::current().name().unwrap().to_owned()
                })
            })
            .collect();
        block_on(join_all(futs))
    });
    for n in &names {
        let suffix = n
            .strip_prefix("my-prefix-")
            .unwrap_or_else(|| panic!("{n}"));
        assert!(suffix.parse::<usize>().is_ok(), "{n}");
    }
}

#[test]
fn repolling_with_a_new_waker_updates_the_waker() {
    let pool = ThreadPool::builder().max_threads(1).build();
    within(Duration::from_secs(10), move || {
        let gate = Arc::new(Barrier::new(2));
        let g = gate.clone();
        let mut fut = pool.run(move || {
            g.wait();
            9
        });
        let (w1, first) = counting_waker();
        let (w2, second) = counting_waker();
        assert!(Pin::new(&mut fut)
            .poll(&mut Context::from_waker(&w1))
            .is_pending());
        assert!(Pin::new(&mut fut)
            .poll(&mut Context::from_waker(&w2))
            .is_pending());
        gate.wait();
        assert!(wait_until(Duration::from_secs(5), || second.get() == 1));
        assert_eq!(first.get(), 0);
        assert_eq!(
            Pin::new(&mut fut).poll(&mut Context::from_waker(&w2)),
            Poll::Ready(9)
        );
    });
}

#[test]
fn no_job_is_lost_under_churn() {
    // Tiny keep-alive: threads exit and respawn constantly while four submitters race.
    for keep_alive in [
        Duration::ZERO,
        Duration::from_micros(200),
        Duration::from_millis(2),
    ] {
        let pool = ThreadPool::builder()
            .max_threads(3)
            .keep_alive(keep_alive)
            .build();
        let total = within(Duration::from_secs(60), move || {
            let submitters: Vec<_> = (0..4)
                .map(|t| {
                    let pool = pool.clone();
                    thread::spawn(move || {
                        let mut sum = 0usize;
                        for i in 0..1500usize {
                            if i % 64 == 0 {
                                thread::sleep(Duration::from_micros(300));
                            }
                            if i % 3 == 0 {
                                let futs: Vec<_> =
                                    (0..4).map(|k| pool.run(move || i + k + t)).collect();
                                sum += block_on(join_all(futs)).into_iter().sum::<usize>();
                            } else {
                                sum += block_on(pool.run(move || i + t));
                            }
                        }
                        sum
                    })
                })
                .collect();
            submitters
                .into_iter()
                .map(|h| h.join().unwrap())
                .sum::<usize>()
        });
        let expected: usize = (0..4usize)
            .map(|t| {
                (0..1500usize)
                    .map(|i| if i % 3 == 0 { 4 * (i + t) + 6 } else { i + t })
                    .sum::<usize>()
            })
            .sum();
        assert_eq!(total, expected, "keep_alive {keep_alive:?}");
    }
}

#[test]
fn the_future_is_send_and_unpin() {
    fn assert_send_unpin<T: Send + Unpin>(_: &T) {}
    let fut = to_thread(|| vec![1u8]);
    assert_send_unpin(&fut);
    // And it can be awaited from another thread than the one that created it.
    let v = within(Duration::from_secs(10), move || block_on(fut));
    assert_eq!(v, vec![1]);
}

#[test]
fn a_burst_of_trivial_jobs_does_not_spawn_a_thread_per_job() {
    let pool = ThreadPool::builder().build();
    let p = pool.clone();
    let sum = within(Duration::from_secs(30), move || {
        let futs: Vec<_> = (0..10_000u64).map(|i| p.run(move || i)).collect();
        block_on(join_all(futs)).into_iter().sum::<u64>()
    });
    assert_eq!(sum, 10_000 * 9_999 / 2);
    assert!(
        pool.thread_count() < 512,
        "{} threads for trivial jobs",
        pool.thread_count()
    );
}
