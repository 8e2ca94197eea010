//! `TaskGroup`: values in spawn order; the first Err/panic cancels the siblings and join
//! reports every failure after they were dropped; dropping cancels; spawn is refused
//! while shutting down.

mod common;
use common::{run_within, LIMIT};

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

use corio_runtime::{yield_now, TaskGroup};
use futures::channel::oneshot;

/// Sets its flag when dropped, after a (blocking) delay.
struct DropFlag(Arc<AtomicBool>, Duration);
impl Drop for DropFlag {
    fn drop(&mut self) {
        thread::sleep(self.1);
        self.0.store(true, Ordering::SeqCst);
    }
}

fn flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

/// A group task that never finishes on its own and sets `flag` when dropped.
fn forever(
    flag: &Arc<AtomicBool>,
    drop_delay: Duration,
) -> impl Future<Output = Result<u32, String>> + Send + 'static {
    let guard = DropFlag(flag.clone(), drop_delay);
    async move {
        let _guard = guard;
        std::future::pending::<()>().await;
        Ok(0)
    }
}

/// Yields until `flag` is set (at most 5 s).
async fn eventually(flag: &AtomicBool) {
    let start = Instant::now();
    while !flag.load(Ordering::SeqCst) {
        assert!(start.elapsed() < Duration::from_secs(5), "flag never set");
        yield_now().await;
    }
}

/// Yields a few times, letting other tasks run.
async fn yields(n: u32) {
    for _ in 0..n {
        yield_now().await;
    }
}

#[test]
fn join_returns_values_in_spawn_order() {
    run_within(LIMIT, async {
        let group = TaskGroup::<u32, String>::new();
        let mut gates = Vec::new();
        for v in [60, 10, 30, 0] {
            let (tx, rx) = oneshot::channel::<()>();
            gates.push(tx);
            group
                .spawn(async move {
                    rx.await.unwrap();
                    Ok(v)
                })
                .unwrap();
        }
        assert_eq!(group.len(), 4);
        // Finish them in reverse spawn order.
        for tx in gates.into_iter().rev() {
            tx.send(()).unwrap();
            yields(10).await;
        }
        assert_eq!(group.join().await.unwrap(), [60, 10, 30, 0]);
    });
}

#[test]
fn an_empty_group_joins_to_an_empty_vec() {
    run_within(LIMIT, async {
        let group = TaskGroup::<u8, ()>::new();
        assert!(group.is_empty());
        assert!(group.join().await.unwrap().is_empty());
    });
}

#[test]
fn the_first_error_cancels_the_siblings_before_join_returns() {
    run_within(LIMIT, async {
        let a = flag();
        let b = flag();
        let (fail_tx, fail_rx) = oneshot::channel::<()>();
        let group = TaskGroup::<u32, String>::new();
        // Slow destructors: join must still wait for them.
        group.spawn(forever(&a, Duration::from_millis(50))).unwrap();
        group
            .spawn(async {
                fail_rx.await.unwrap();
                Err("bad input".to_string())
            })
            .unwrap();
        group.spawn(forever(&b, Duration::from_millis(50))).unwrap();
        group.spawn(async { Ok(7) }).unwrap();
        let join = corio_runtime::spawn(group.join());
        yields(10).await;
        fail_tx.send(()).unwrap();
        let err = join.await.unwrap().unwrap_err();
        // Both cancelled siblings were dropped before join returned.
        assert!(a.load(Ordering::SeqCst) && b.load(Ordering::SeqCst));
        // Only the failure, not the cancellations.
        assert_eq!(err.errors(), ["bad input".to_string()]);
        assert!(err.panics().is_empty());
    });
}

#[test]
fn a_failure_cancels_the_siblings_even_before_join() {
    run_within(LIMIT, async {
        let a = flag();
        let group = TaskGroup::<u32, String>::new();
        group.spawn(forever(&a, Duration::ZERO)).unwrap();
        group.spawn(async { Err("early".to_string()) }).unwrap();
        // Nobody is joining yet; the sibling is cancelled anyway.
        eventually(&a).await;
        assert!(group.is_shutting_down());
        assert_eq!(
            group.join().await.unwrap_err().errors(),
            ["early".to_string()]
        );
    });
}

#[test]
fn a_panic_cancels_the_siblings_and_is_reported() {
    run_within(LIMIT, async {
        let a = flag();
        let group = TaskGroup::<u32, String>::new();
        group.spawn(forever(&a, Duration::from_millis(20))).unwrap();
        group
            .spawn(async {
                yields(3).await;
                panic!("task exploded");
            })
            .unwrap();
        let err = group.join().await.unwrap_err();
        assert!(a.load(Ordering::SeqCst));
        assert!(err.errors().is_empty());
        assert_eq!(err.panics().len(), 1);
        assert_eq!(err.panics()[0].message(), Some("task exploded"));
        assert!(err.to_string().contains("panicked: task exploded"));
    });
}

#[test]
fn every_failure_is_reported() {
    let rt = corio_runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let out = rt.block_on(async {
            // Both tasks fail inside polls that overlap in time, so neither can be
            // cancelled first (a poll that returns keeps its output even if the task was
            // cancelled meanwhile).
            let arrived = Arc::new(AtomicUsize::new(0));
            let group = TaskGroup::<u32, String>::new();
            for name in ["one", "two"] {
                let arrived = arrived.clone();
                group
                    .spawn(async move {
                        arrived.fetch_add(1, Ordering::SeqCst);
                        let start = Instant::now();
                        // Block this worker until both are running (bounded).
                        while arrived.load(Ordering::SeqCst) < 2
                            && start.elapsed() < Duration::from_secs(2)
                        {
                            std::hint::spin_loop();
                        }
                        Err(name.to_string())
                    })
                    .unwrap();
            }
            let err = group.join().await.unwrap_err();
            (arrived.load(Ordering::SeqCst), err.into_errors())
        });
        let _ = tx.send(out);
    });
    let (arrived, mut errors) = rx.recv_timeout(LIMIT).expect("timed out");
    errors.sort();
    assert_eq!(arrived, 2, "both tasks ran concurrently");
    assert_eq!(errors, ["one", "two"]);
}

#[test]
fn spawn_is_refused_while_shutting_down() {
    run_within(LIMIT, async {
        let group = TaskGroup::<u32, &str>::new();
        assert!(!group.is_shutting_down());
        group.spawn(async { Err("boom") }).unwrap();
        while !group.is_shutting_down() {
            yield_now().await;
        }
        let ran = flag();
        let ran2 = ran.clone();
        let refused = group
            .spawn(async move {
                ran2.store(true, Ordering::SeqCst);
                Ok(1)
            })
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "the task group is shutting down: spawn refused"
        );
        // The refused future is handed back, never started.
        let fut = refused.into_inner();
        assert_eq!(group.len(), 1);
        assert_eq!(group.join().await.unwrap_err().errors(), ["boom"]);
        assert!(!ran.load(Ordering::SeqCst));
        assert_eq!(fut.await, Ok(1));
    });
}

#[test]
fn dropping_the_group_cancels_its_tasks() {
    run_within(LIMIT, async {
        let flags: Vec<_> = (0..3).map(|_| flag()).collect();
        let group = TaskGroup::<u32, String>::new();
        for f in &flags {
            group.spawn(forever(f, Duration::ZERO)).unwrap();
        }
        yields(5).await;
        assert!(!flags.iter().any(|f| f.load(Ordering::SeqCst)));
        drop(group);
        for f in &flags {
            eventually(f).await;
        }
    });
}

#[test]
fn dropping_the_join_future_cancels_the_tasks() {
    run_within(LIMIT, async {
        let a = flag();
        let group = TaskGroup::<u32, String>::new();
        group.spawn(forever(&a, Duration::ZERO)).unwrap();
        {
            let mut join = pin!(group.join());
            let polled = std::future::poll_fn(|cx| Poll::Ready(join.as_mut().poll(cx))).await;
            assert!(polled.is_pending());
        }
        eventually(&a).await;
    });
}

#[test]
fn many_tasks_join_in_spawn_order() {
    run_within(LIMIT, async {
        let group = TaskGroup::<u32, ()>::new();
        for i in 0..5_000u32 {
            group
                .spawn(async move {
                    yields(i % 5).await;
                    Ok(i)
                })
                .unwrap();
        }
        assert_eq!(group.join().await.unwrap(), (0..5_000).collect::<Vec<_>>());
    });
}
