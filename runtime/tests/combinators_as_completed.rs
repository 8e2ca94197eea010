//! `as_completed`: completion order, `Stream`, failures as items, empty input, drop
//! detaches.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use corio_runtime::{as_completed, spawn, yield_now, Task};
use futures::channel::oneshot;
use futures::StreamExt;
use futures_core::stream::{FusedStream, Stream};

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

/// A task that returns `value` once released through the sender.
fn gated(value: u32) -> (oneshot::Sender<()>, Task<u32>) {
    let (tx, rx) = oneshot::channel::<()>();
    let task = spawn(async move {
        rx.await.unwrap();
        value
    });
    (tx, task)
}

#[test]
fn next_yields_in_completion_order() {
    run_within(LIMIT, async {
        let (tx0, t0) = gated(0);
        let (tx1, t1) = gated(1);
        let (tx2, t2) = gated(2);
        let mut it = as_completed([t0, t1, t2]);
        assert_eq!(it.len(), 3);
        tx2.send(()).unwrap();
        assert_eq!(it.next().await.unwrap().unwrap(), 2);
        tx0.send(()).unwrap();
        assert_eq!(it.next().await.unwrap().unwrap(), 0);
        assert_eq!(it.len(), 1);
        tx1.send(()).unwrap();
        assert_eq!(it.next().await.unwrap().unwrap(), 1);
        assert!(it.is_empty());
        assert!(it.next().await.is_none());
    });
}

#[test]
fn it_is_a_stream_in_completion_order() {
    run_within(LIMIT, async {
        let (tx0, t0) = gated(10);
        let (tx1, t1) = gated(11);
        let (tx2, t2) = gated(12);
        let mut stream = as_completed([t0, t1, t2]);
        assert_eq!(stream.size_hint(), (3, Some(3)));
        tx1.send(()).unwrap();
        assert_eq!(StreamExt::next(&mut stream).await.unwrap().unwrap(), 11);
        tx2.send(()).unwrap();
        assert_eq!(StreamExt::next(&mut stream).await.unwrap().unwrap(), 12);
        assert_eq!(stream.size_hint(), (1, Some(1)));
        tx0.send(()).unwrap();
        let rest: Vec<u32> = stream.map(Result::unwrap).collect().await;
        assert_eq!(rest, [10]);
    });
}

#[test]
fn a_panic_is_an_item() {
    run_within(LIMIT, async {
        let (tx_ok, ok) = gated(7);
        let (tx_panic, rx_panic) = oneshot::channel::<()>();
        let panicked = spawn(async move {
            rx_panic.await.unwrap();
            panic!("boom")
        });
        let never = spawn(std::future::pending::<u32>());
        let mut it = as_completed([ok, panicked, never]);
        tx_panic.send(()).unwrap();
        let first = it.next().await.unwrap();
        assert!(first.unwrap_err().is_panic());
        tx_ok.send(()).unwrap();
        assert_eq!(it.next().await.unwrap().unwrap(), 7);
        assert_eq!(it.len(), 1);
        assert!(!it.is_terminated());
    });
}

#[test]
fn a_cancelled_task_is_an_item() {
    run_within(LIMIT, async {
        let (tx, t) = gated(1);
        let cancelled = spawn(std::future::pending::<u32>());
        assert!(cancelled.cancel());
        let mut it = as_completed([t, cancelled]);
        assert!(it.next().await.unwrap().unwrap_err().is_cancelled());
        tx.send(()).unwrap();
        assert_eq!(it.next().await.unwrap().unwrap(), 1);
        assert!(it.is_terminated());
    });
}

#[test]
fn empty_input_ends_at_once() {
    run_within(LIMIT, async {
        let mut it = as_completed(Vec::<Task<u8>>::new());
        assert!(it.is_terminated());
        assert!(it.next().await.is_none());
    });
}

#[test]
fn dropping_it_leaves_the_tasks_running() {
    run_within(LIMIT, async {
        let (gate_tx, gate_rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = oneshot::channel::<&str>();
        let task = spawn(async move {
            gate_rx.await.unwrap();
            done_tx.send("still ran").unwrap();
        });
        drop(as_completed([task]));
        gate_tx.send(()).unwrap();
        assert_eq!(done_rx.await.unwrap(), "still ran");
    });
}

#[test]
fn many_tasks_come_out_exactly_once() {
    run_within(LIMIT, async {
        let tasks: Vec<_> = (0..5_000u32)
            .map(|i| {
                spawn(async move {
                    for _ in 0..(i % 7) {
                        yield_now().await;
                    }
                    i
                })
            })
            .collect();
        let mut seen: Vec<u32> = as_completed(tasks).map(Result::unwrap).collect().await;
        seen.sort();
        assert_eq!(seen, (0..5_000).collect::<Vec<_>>());
    });
}
