//! `wait`: the three `ReturnWhen` modes, `done` holding several, the timeout returning
//! without cancelling anything, empty input.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use corio_runtime::{sleep, spawn, wait, yield_now, ReturnWhen, Task};

/// Runs `body` on a fresh multi-thread runtime, failing the test after `limit`.
fn run_within<T: Send + 'static>(
    limit: Duration,
    body: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let rt = corio_runtime::Runtime::new().unwrap();
        let _ = tx.send(rt.block_on(body));
    });
    rx.recv_timeout(limit)
        .expect("test body timed out or panicked")
}

const LIMIT: Duration = Duration::from_secs(20);

fn after(ms: u64, value: &'static str) -> Task<&'static str> {
    spawn(async move {
        sleep(Duration::from_millis(ms)).await;
        value
    })
}

async fn until_finished<T>(tasks: &[&Task<T>]) {
    while !tasks.iter().all(|t| t.is_finished()) {
        yield_now().await;
    }
}

#[test]
fn all_completed_waits_for_every_task() {
    run_within(LIMIT, async {
        let tasks = vec![after(30, "a"), after(10, "b"), after(20, "c")];
        let (done, pending) = wait(tasks, ReturnWhen::AllCompleted, None).await;
        assert!(pending.is_empty());
        let mut out = Vec::new();
        for t in done {
            out.push(t.await.unwrap());
        }
        // Input order, whatever the completion order.
        assert_eq!(out, ["a", "b", "c"]);
    });
}

#[test]
fn first_completed_returns_at_the_first_finished_task() {
    run_within(LIMIT, async {
        let start = Instant::now();
        let slow = after(10_000, "slow");
        let fast = after(10, "fast");
        let slow_id = slow.id();
        let (done, pending) = wait([slow, fast], ReturnWhen::FirstCompleted, None).await;
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(done.len(), 1);
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id(), slow_id);
        for t in pending {
            assert!(t.cancel());
        }
        assert_eq!(done.into_iter().next().unwrap().await.unwrap(), "fast");
    });
}

#[test]
fn first_completed_done_may_hold_several_tasks() {
    run_within(LIMIT, async {
        let a = spawn(async { 1 });
        let b = spawn(async { 2 });
        let c = spawn(std::future::pending::<i32>());
        until_finished(&[&a, &b]).await;
        let (done, pending) = wait([a, b, c], ReturnWhen::FirstCompleted, None).await;
        assert_eq!(done.len(), 2);
        assert_eq!(pending.len(), 1);
        pending[0].cancel();
    });
}

#[test]
fn first_exception_returns_at_the_first_panic() {
    run_within(LIMIT, async {
        let start = Instant::now();
        let ok = after(5, "A");
        let slow = after(10_000, "B");
        let failing = spawn(async {
            sleep(Duration::from_millis(30)).await;
            panic!("Task C failed");
        });
        let (ok_id, failing_id) = (ok.id(), failing.id());
        let (done, pending) = wait([ok, slow, failing], ReturnWhen::FirstException, None).await;
        assert!(start.elapsed() < Duration::from_secs(2));
        let done_ids: Vec<_> = done.iter().map(|t| t.id()).collect();
        assert_eq!(done_ids, [ok_id, failing_id]);
        assert_eq!(pending.len(), 1);
        for t in pending {
            t.cancel();
        }
        let mut done = done.into_iter();
        assert_eq!(done.next().unwrap().await.unwrap(), "A");
        let err = done.next().unwrap().await.unwrap_err();
        assert_eq!(
            *err.into_panic().downcast::<&str>().unwrap(),
            "Task C failed"
        );
    });
}

#[test]
fn first_exception_does_not_count_a_cancelled_task() {
    run_within(LIMIT, async {
        let cancelled = spawn(std::future::pending::<&str>());
        let later = after(50, "later");
        assert!(cancelled.cancel());
        let start = Instant::now();
        let (done, pending) = wait([cancelled, later], ReturnWhen::FirstException, None).await;
        // No panic: it behaved like AllCompleted and waited for `later` too.
        assert!(pending.is_empty());
        assert_eq!(done.len(), 2);
        assert!(start.elapsed() >= Duration::from_millis(40));
        let mut done = done.into_iter();
        assert!(done.next().unwrap().await.unwrap_err().is_cancelled());
        assert_eq!(done.next().unwrap().await.unwrap(), "later");
    });
}

#[test]
fn the_timeout_returns_what_is_done_and_cancels_nothing() {
    run_within(LIMIT, async {
        let start = Instant::now();
        let a = after(10, "A");
        let b = after(300, "B");
        let (done, pending) = wait(
            [a, b],
            ReturnWhen::AllCompleted,
            Some(Duration::from_millis(100)),
        )
        .await;
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(100), "{waited:?}");
        assert!(waited < Duration::from_millis(290), "{waited:?}");
        assert_eq!(done.len(), 1);
        assert_eq!(pending.len(), 1);
        // The timeout did not cancel B: it still completes.
        let b = pending.into_iter().next().unwrap();
        assert_eq!(b.await.unwrap(), "B");
    });
}

#[test]
fn empty_input_returns_at_once() {
    run_within(LIMIT, async {
        let (done, pending) = wait(Vec::<Task<()>>::new(), ReturnWhen::FirstCompleted, None).await;
        assert!(done.is_empty() && pending.is_empty());
        let start = Instant::now();
        let (done, pending) = wait(
            Vec::<Task<()>>::new(),
            ReturnWhen::AllCompleted,
            Some(Duration::from_secs(10)),
        )
        .await;
        assert!(done.is_empty() && pending.is_empty());
        assert!(start.elapsed() < Duration::from_secs(1));
    });
}

#[test]
fn many_tasks_finishing_one_by_one() {
    run_within(LIMIT, async {
        let tasks: Vec<_> = (0..2_000u64)
            .map(|i| {
                spawn(async move {
                    sleep(Duration::from_millis(i % 50)).await;
                    i
                })
            })
            .collect();
        let (done, pending) = wait(tasks, ReturnWhen::AllCompleted, None).await;
        assert_eq!(done.len(), 2_000);
        assert!(pending.is_empty());
        for (i, t) in done.into_iter().enumerate() {
            assert_eq!(t.await.unwrap(), i as u64);
        }
    });
}
