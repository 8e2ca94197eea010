//! `gather` and `try_gather`: order, empty input, early error, drops, and poll counts
//! proving that a wake-up re-polls only the woken child.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use corio_runtime::{gather, try_gather};
use corio_test_util::{counting_waker, within};
use futures::channel::oneshot;
use futures::executor::block_on;

/// Polls `fut` once with `waker`.
fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// Wraps a future, counting its polls in `polls` and in `total`.
fn counted<F: Future>(
    polls: Rc<Cell<usize>>,
    total: Rc<Cell<usize>>,
    fut: F,
) -> impl Future<Output = F::Output> {
    let mut fut = Box::pin(fut);
    poll_fn(move |cx| {
        polls.set(polls.get() + 1);
        total.set(total.get() + 1);
        fut.as_mut().poll(cx)
    })
}

/// Sets a flag when dropped.
struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn results_are_in_argument_order_whatever_the_completion_order() {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..5).map(|_| oneshot::channel::<usize>()).unzip();
    let mut g = pin!(gather(rxs));
    assert!(poll_once(g.as_mut(), Waker::noop()).is_pending());
    for (i, tx) in txs.into_iter().enumerate().rev() {
        tx.send(i * 10).unwrap();
    }
    match poll_once(g.as_mut(), Waker::noop()) {
        Poll::Ready(out) => {
            let out: Vec<usize> = out.into_iter().map(Result::unwrap).collect();
            assert_eq!(out, [0, 10, 20, 30, 40]);
        }
        Poll::Pending => panic!("all children finished but gather is pending"),
    }
}

#[test]
fn order_is_kept_when_children_finish_on_other_threads() {
    let out = within(Duration::from_secs(10), || {
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..8).map(|_| oneshot::channel::<usize>()).unzip();
        let senders = thread::spawn(move || {
            for (i, tx) in txs.into_iter().enumerate().rev() {
                thread::sleep(Duration::from_millis(2));
                tx.send(i).unwrap();
            }
        });
        let out = block_on(gather(rxs));
        senders.join().unwrap();
        out
    });
    let out: Vec<usize> = out.into_iter().map(Result::unwrap).collect();
    assert_eq!(out, (0..8).collect::<Vec<_>>());
}

#[test]
fn empty_input_gives_an_empty_vec() {
    let out = block_on(gather(Vec::<std::future::Ready<u8>>::new()));
    assert!(out.is_empty());
    let out = block_on(try_gather(Vec::<std::future::Ready<Result<u8, ()>>>::new()));
    assert_eq!(out, Ok(vec![]));
}

#[test]
fn children_need_not_be_send_or_static() {
    let local = String::from("borrowed");
    let rc = Rc::new(5);
    let futs = (0..3).map(|i| {
        let rc = rc.clone();
        let local = &local;
        async move { format!("{local}-{}", *rc + i) }
    });
    assert_eq!(
        block_on(gather(futs)),
        ["borrowed-5", "borrowed-6", "borrowed-7"]
    );
}

#[test]
fn a_wake_repolls_only_the_woken_child_among_10_000() {
    const N: usize = 10_000;
    let polls: Vec<Rc<Cell<usize>>> = (0..N).map(|_| Rc::new(Cell::new(0))).collect();
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..N).map(|_| oneshot::channel::<usize>()).unzip();
    let total = Rc::new(Cell::new(0));
    let children = rxs
        .into_iter()
        .zip(&polls)
        .map(|(rx, p)| counted(p.clone(), total.clone(), rx));
    let mut g = pin!(gather(children));

    assert!(poll_once(g.as_mut(), Waker::noop()).is_pending());
    assert_eq!(total.get(), N, "the first round polls every child once");

    // Finish children in reverse order, one gather poll per wake-up.
    let mut txs: Vec<_> = txs.into_iter().map(Some).collect();
    for i in (0..N).rev() {
        txs[i].take().unwrap().send(i).unwrap();
        let before = total.get();
        let res = poll_once(g.as_mut(), Waker::noop());
        assert_eq!(total.get(), before + 1, "one wake must cost one child poll");
        assert_eq!(res.is_ready(), i == 0);
        if let Poll::Ready(out) = res {
            assert!(out.into_iter().enumerate().all(|(k, v)| v == Ok(k)));
        }
    }
    assert!(
        polls.iter().all(|p| p.get() == 2),
        "each child polled exactly twice"
    );
}

#[test]
fn the_parent_is_woken_once_per_round_and_only_when_needed() {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..4).map(|_| oneshot::channel::<()>()).unzip();
    let (waker, wakes) = counting_waker();
    let mut g = pin!(gather(rxs));
    assert!(poll_once(g.as_mut(), &waker).is_pending());
    assert_eq!(wakes.get(), 0);
    let mut txs = txs.into_iter();
    txs.next().unwrap().send(()).unwrap();
    txs.next().unwrap().send(()).unwrap();
    assert_eq!(wakes.get(), 1, "two wakes, one parent wake-up");
    assert!(poll_once(g.as_mut(), &waker).is_pending());
    for tx in txs {
        tx.send(()).unwrap();
    }
    assert_eq!(wakes.get(), 2);
    assert!(poll_once(g.as_mut(), &waker).is_ready());
}

#[test]
fn a_self_waking_child_is_polled_once_per_gather_poll() {
    let polls = Rc::new(Cell::new(0));
    let spinner = {
        let polls = polls.clone();
        poll_fn(move |cx| {
            polls.set(polls.get() + 1);
            if polls.get() < 5 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
    };
    let mut g = pin!(gather([spinner]));
    for round in 1..5 {
        assert!(poll_once(g.as_mut(), Waker::noop()).is_pending());
        assert_eq!(polls.get(), round);
    }
    assert!(poll_once(g.as_mut(), Waker::noop()).is_ready());
    assert_eq!(polls.get(), 5);
}

#[test]
fn gather_yields_when_the_cooperative_budget_runs_out() {
    use corio_sync::coop;
    const N: usize = 300;
    let polled = Rc::new(Cell::new(0));
    let children = (0..N).map(|_| {
        let polled = polled.clone();
        poll_fn(move |cx| {
            polled.set(polled.get() + 1);
            coop::poll_proceed(cx)
        })
    });
    let mut g = pin!(gather(children));
    let (waker, wakes) = counting_waker();
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(rounds < 10, "gather did not finish");
        let before = polled.get();
        let res = coop::with_budget(|| poll_once(g.as_mut(), &waker));
        // A budget of 128 finishes 128 children; the 129th is told to yield and gather
        // stops there instead of polling the rest for nothing.
        assert!(polled.get() - before <= coop::BUDGET as usize + 1);
        if res.is_ready() {
            break;
        }
        assert!(wakes.get() >= rounds, "gather yields with a wake");
    }
    assert_eq!(rounds, 3);
}

#[test]
fn dropping_a_gather_drops_its_children() {
    let flags: Vec<Arc<AtomicBool>> = (0..3).map(|_| Arc::new(AtomicBool::new(false))).collect();
    let children = flags.iter().map(|f| {
        let guard = DropFlag(f.clone());
        async move {
            let _guard = guard;
            std::future::pending::<()>().await
        }
    });
    let mut g = Box::pin(gather(children));
    assert!(poll_once(g.as_mut(), Waker::noop()).is_pending());
    assert!(!flags.iter().any(|f| f.load(Ordering::SeqCst)));
    drop(g);
    assert!(flags.iter().all(|f| f.load(Ordering::SeqCst)));
}

#[test]
fn try_gather_returns_all_values_in_argument_order() {
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..4).map(|_| oneshot::channel::<u32>()).unzip();
    let children = rxs
        .into_iter()
        .map(|rx| async move { rx.await.map_err(|_| "cancelled") });
    let mut g = pin!(try_gather(children));
    assert!(poll_once(g.as_mut(), Waker::noop()).is_pending());
    for (i, tx) in txs.into_iter().enumerate().rev() {
        tx.send(i as u32).unwrap();
    }
    assert_eq!(
        poll_once(g.as_mut(), Waker::noop()),
        Poll::Ready(Ok(vec![0, 1, 2, 3]))
    );
}

#[test]
fn try_gather_returns_the_earliest_error_and_drops_the_rest_at_once() {
    let flags: Vec<Arc<AtomicBool>> = (0..4).map(|_| Arc::new(AtomicBool::new(false))).collect();
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..4)
        .map(|_| oneshot::channel::<Result<u32, String>>())
        .unzip();
    let children = rxs.into_iter().zip(&flags).map(|(rx, flag)| {
        let guard = DropFlag(flag.clone());
        async move {
            let _guard = guard;
            rx.await.unwrap()
        }
    });
    let mut g = pin!(try_gather(children));
    assert!(poll_once(g.as_mut(), Waker::noop()).is_pending());
    let mut txs: Vec<_> = txs.into_iter().map(Some).collect();
    txs[1].take().unwrap().send(Ok(1)).unwrap();
    assert!(poll_once(g.as_mut(), Waker::noop()).is_pending());
    // Child 3 fails first in time, child 0 later: child 3's error wins, although child 0
    // comes first in argument order.
    txs[3].take().unwrap().send(Err("three".into())).unwrap();
    txs[0].take().unwrap().send(Err("zero".into())).unwrap();
    assert_eq!(
        poll_once(g.as_mut(), Waker::noop()),
        Poll::Ready(Err("three".to_string()))
    );
    // Every child, finished or not, is dropped before the error is handed out, while
    // the `try_gather` future itself is still alive.
    assert!(flags.iter().all(|f| f.load(Ordering::SeqCst)));
    // Child 2 was still running: its sender sees the receiver gone.
    assert!(txs[2].as_ref().unwrap().is_canceled());
}

#[test]
fn try_gather_error_does_not_wait_for_pending_siblings() {
    let out = within(Duration::from_secs(10), || {
        block_on(try_gather(vec![
            Box::pin(async { std::future::pending::<Result<u8, &str>>().await })
                as Pin<Box<dyn Future<Output = Result<u8, &str>> + Send>>,
            Box::pin(async { Err("fast failure") }),
        ]))
    });
    assert_eq!(out, Err("fast failure"));
}

#[test]
fn try_gather_repolls_only_the_woken_child() {
    const N: usize = 2_000;
    let polls: Vec<Rc<Cell<usize>>> = (0..N).map(|_| Rc::new(Cell::new(0))).collect();
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..N).map(|_| oneshot::channel::<usize>()).unzip();
    let children = rxs.into_iter().zip(&polls).map(|(rx, p)| {
        let fut = async move { rx.await.map_err(|_| ()) };
        counted(p.clone(), Rc::new(Cell::new(0)), fut)
    });
    let mut g = pin!(try_gather(children));
    assert!(poll_once(g.as_mut(), Waker::noop()).is_pending());
    for (i, tx) in txs.into_iter().enumerate() {
        tx.send(i).unwrap();
        let res = poll_once(g.as_mut(), Waker::noop());
        assert_eq!(res.is_ready(), i == N - 1);
    }
    assert!(
        polls.iter().all(|p| p.get() == 2),
        "each child polled exactly twice"
    );
}

#[test]
#[should_panic(expected = "polled after completion")]
fn polling_a_finished_gather_panics() {
    let mut g = pin!(gather([std::future::ready(1)]));
    assert!(poll_once(g.as_mut(), Waker::noop()).is_ready());
    let _ = poll_once(g.as_mut(), Waker::noop());
}

#[test]
fn gather_of_send_futures_is_send_and_unpin() {
    fn assert_send_unpin<T: Send + Unpin>(_: &T) {}
    let g = gather((1..3).map(|i| async move { i }));
    assert_send_unpin(&g);
    let t = try_gather([async { Ok::<_, ()>(1) }]);
    assert_send_unpin(&t);
    // And it can move to another thread mid-way.
    let (tx, rx) = oneshot::channel::<u8>();
    let mut g = gather([rx]);
    assert!(poll_once(Pin::new(&mut g), Waker::noop()).is_pending());
    let out = within(Duration::from_secs(10), move || {
        tx.send(9).unwrap();
        block_on(g)
    });
    assert_eq!(out, [Ok(9)]);
}

#[test]
fn no_wake_is_lost_when_children_finish_on_many_threads_at_once() {
    const N: usize = 10_000;
    const THREADS: usize = 4;
    for _ in 0..3 {
        let out = within(Duration::from_secs(30), || {
            let (txs, rxs): (Vec<_>, Vec<_>) = (0..N).map(|_| oneshot::channel::<usize>()).unzip();
            let mut chunks: Vec<Vec<(usize, oneshot::Sender<usize>)>> =
                (0..THREADS).map(|_| Vec::new()).collect();
            for (i, tx) in txs.into_iter().enumerate() {
                chunks[i % THREADS].push((i, tx));
            }
            let senders: Vec<_> = chunks
                .into_iter()
                .map(|chunk| {
                    thread::spawn(move || {
                        for (i, tx) in chunk.into_iter().rev() {
                            tx.send(i).unwrap();
                        }
                    })
                })
                .collect();
            let out = block_on(gather(rxs));
            for s in senders {
                s.join().unwrap();
            }
            out
        });
        assert!(out.into_iter().enumerate().all(|(i, v)| v == Ok(i)));
    }
}
