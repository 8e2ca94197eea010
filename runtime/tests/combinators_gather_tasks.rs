//! `gather` of `Task`s: asyncio's `return_exceptions=True` — panics and cancellations are
//! entries of the result — and dropping the gather leaves the tasks running.

use std::future::Future;
use std::pin::pin;
use std::sync::mpsc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use corio_runtime::{gather, spawn, Task};
use futures::channel::oneshot;

fn run_within<T: Send + 'static>(
    limit: Duration,
    body: impl Future<Output = T> + Send + 'static,
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

#[test]
fn gathering_tasks_returns_every_result_like_return_exceptions() {
    run_within(LIMIT, async {
        let ok: Task<&str> = spawn(async { "A ok" });
        let panicked: Task<&str> = spawn(async { panic!("B failed!") });
        let cancelled: Task<&str> = spawn(std::future::pending());
        assert!(cancelled.cancel());
        let results = gather([ok, panicked, cancelled]).await;
        assert_eq!(results.len(), 3);
        let mut results = results.into_iter();
        assert_eq!(results.next().unwrap().unwrap(), "A ok");
        let err = results.next().unwrap().unwrap_err();
        assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "B failed!");
        assert!(results.next().unwrap().unwrap_err().is_cancelled());
    });
}

#[test]
fn dropping_a_gather_of_tasks_leaves_them_running() {
    run_within(LIMIT, async {
        let (gate_tx, gate_rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = oneshot::channel::<&str>();
        let task = spawn(async move {
            gate_rx.await.unwrap();
            done_tx.send("finished anyway").unwrap();
        });
        {
            let mut g = pin!(gather([task]));
            let first = std::future::poll_fn(|cx| Poll::Ready(g.as_mut().poll(cx))).await;
            assert!(first.is_pending());
        }
        gate_tx.send(()).unwrap();
        assert_eq!(done_rx.await.unwrap(), "finished anyway");
    });
}
