//! `join!` and `try_join!`: tuples in argument order, finished arguments not re-polled,
//! early error return with the other arguments dropped.

use std::cell::Cell;
use std::future::{pending, poll_fn, Future, IntoFuture};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures::channel::oneshot;
use futures::executor::block_on;

struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn join_returns_a_tuple_in_argument_order() {
    let (tx_a, rx_a) = oneshot::channel::<u8>();
    let (tx_b, rx_b) = oneshot::channel::<&str>();
    let (tx_c, rx_c) = oneshot::channel::<f64>();
    let mut fut = pin!(async { corio_runtime::join!(rx_a, rx_b, rx_c) });
    assert!(poll_once(fut.as_mut()).is_pending());
    tx_c.send(3.5).unwrap();
    assert!(poll_once(fut.as_mut()).is_pending());
    tx_b.send("b").unwrap();
    tx_a.send(1).unwrap();
    match poll_once(fut.as_mut()) {
        Poll::Ready((a, b, c)) => assert_eq!((a, b, c), (Ok(1), Ok("b"), Ok(3.5))),
        Poll::Pending => panic!("join! pending after all arguments finished"),
    }
}

#[test]
fn join_does_not_repoll_a_finished_argument() {
    let polls_done = Cell::new(0);
    let polls_slow = Cell::new(0);
    let done = poll_fn(|_| {
        polls_done.set(polls_done.get() + 1);
        Poll::Ready("done")
    });
    let slow = poll_fn(|_| {
        polls_slow.set(polls_slow.get() + 1);
        if polls_slow.get() < 4 {
            Poll::Pending
        } else {
            Poll::Ready(4)
        }
    });
    let mut fut = pin!(async { corio_runtime::join!(done, slow) });
    for _ in 0..3 {
        assert!(poll_once(fut.as_mut()).is_pending());
    }
    assert_eq!(poll_once(fut.as_mut()), Poll::Ready(("done", 4)));
    assert_eq!(polls_done.get(), 1);
    assert_eq!(polls_slow.get(), 4);
}

#[test]
fn join_accepts_one_argument_trailing_commas_and_into_future() {
    struct Seven;
    impl IntoFuture for Seven {
        type Output = u8;
        type IntoFuture = std::future::Ready<u8>;
        fn into_future(self) -> Self::IntoFuture {
            std::future::ready(7)
        }
    }
    block_on(async {
        assert_eq!(corio_runtime::join!(async { 1 }), (1,));
        assert_eq!(corio_runtime::join!(Seven, async { 2 },), (7, 2));
    });
}

#[test]
fn join_keeps_many_arguments_apart() {
    let out = block_on(async {
        corio_runtime::join!(
            async { 0 },
            async { 1 },
            async { 2 },
            async { 3 },
            async { 4 },
            async { 5 },
            async { 6 },
            async { 7 },
            async { 8 },
            async { 9 },
            async { 10 },
            async { 11 },
        )
    });
    assert_eq!(out, (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));
}

#[test]
fn join_of_borrowing_futures() {
    let mut a = vec![1];
    let b = String::from("b");
    block_on(async {
        let (len, s) = corio_runtime::join!(
            async {
                a.push(2);
                a.len()
            },
            async { b.as_str() }
        );
        assert_eq!((len, s), (2, "b"));
    });
}

#[test]
fn try_join_returns_all_values_when_all_succeed() {
    let (tx, rx) = oneshot::channel::<u8>();
    let mut fut = pin!(async {
        corio_runtime::try_join!(async { rx.await.map_err(|_| "gone") }, async { Ok("b") })
    });
    assert!(poll_once(fut.as_mut()).is_pending());
    tx.send(1).unwrap();
    assert_eq!(poll_once(fut.as_mut()), Poll::Ready(Ok((1, "b"))));
}

#[test]
fn try_join_returns_the_first_error_at_once_and_drops_the_others() {
    let slow_dropped = Arc::new(AtomicBool::new(false));
    let guard = DropFlag(slow_dropped.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let mut fut = pin!(async {
        let out = corio_runtime::try_join!(
            async move {
                let _guard = guard;
                pending::<Result<u8, String>>().await
            },
            async {
                rx.await.unwrap();
                Err::<u8, String>("failed".into())
            },
        );
        // The pending argument was dropped by the time the macro hands out the error.
        (out, slow_dropped.load(Ordering::SeqCst))
    });
    assert!(poll_once(fut.as_mut()).is_pending());
    tx.send(()).unwrap();
    assert_eq!(
        poll_once(fut.as_mut()),
        Poll::Ready((Err("failed".to_string()), true))
    );
}

#[test]
fn try_join_earliest_error_in_time_wins() {
    let (tx_a, rx_a) = oneshot::channel::<()>();
    let (tx_b, rx_b) = oneshot::channel::<()>();
    let mut fut = pin!(async {
        corio_runtime::try_join!(
            async {
                rx_a.await.unwrap();
                Err::<(), &str>("a")
            },
            async {
                rx_b.await.unwrap();
                Err::<(), &str>("b")
            },
        )
    });
    assert!(poll_once(fut.as_mut()).is_pending());
    tx_b.send(()).unwrap();
    assert_eq!(poll_once(fut.as_mut()), Poll::Ready(Err("b")));
    drop(tx_a);
}
