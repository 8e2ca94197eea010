//! `corio::select!`: the first matching branch wins and the losers are dropped before its
//! handler runs; `biased;` order, fair rotation, preconditions, pattern mismatch, `else`,
//! timeouts, and a consumer loop over a queue with a shutdown event.

use corio::sync::{Event, Queue};
use std::cell::{Cell, RefCell};
use std::future::{pending, poll_fn, Future};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

/// A future that holds a drop flag and never finishes.
fn never(flag: &Arc<AtomicBool>) -> impl Future<Output = ()> {
    let guard = DropFlag(flag.clone());
    async move {
        let _guard = guard;
        pending::<()>().await
    }
}

/// A future that logs each poll and is ready on its `ready_on`-th poll (1-based).
fn logged<'a>(
    log: &'a RefCell<Vec<usize>>,
    id: usize,
    ready_on: usize,
) -> impl Future<Output = usize> + 'a {
    let mut polls = 0;
    poll_fn(move |cx| {
        log.borrow_mut().push(id);
        polls += 1;
        if polls >= ready_on {
            Poll::Ready(id)
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

#[corio::test]
async fn first_ready_wins_and_the_losers_are_dropped_before_the_handler() {
    let (a, b, winner) = (flag(), flag(), flag());
    let winner_guard = DropFlag(winner.clone());
    let got = corio::select! {
        _ = never(&a) => unreachable!("never finishes"),
        v = async move { let _g = winner_guard; corio::yield_now().await; 7 } => {
            // Every future, the winner's included, is gone before the handler runs.
            assert!(a.load(Ordering::SeqCst), "loser a still alive in the handler");
            assert!(b.load(Ordering::SeqCst), "loser b still alive in the handler");
            assert!(winner.load(Ordering::SeqCst));
            v
        }
        _ = never(&b) => unreachable!("never finishes"),
    };
    assert_eq!(got, 7);
}

/// A future holding a mutable borrow until it is dropped (its `Drop` uses the borrow).
struct PushOnPoll<'a>(&'a mut Vec<usize>);
impl Future for PushOnPoll<'_> {
    type Output = usize;
    fn poll(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<usize> {
        self.0.push(4);
        Poll::Ready(self.0.len())
    }
}
impl Drop for PushOnPoll<'_> {
    fn drop(&mut self) {
        self.0.push(0);
    }
}

#[corio::test]
async fn the_handler_may_use_what_the_futures_borrowed() {
    let mut items = vec![1, 2, 3];
    // The future borrows `items` mutably until it is dropped, and the handlers use
    // `items` again: this compiles only because the futures are dropped before a handler
    // runs (the 0 pushed by the drop comes before the handler's push).
    let len = corio::select! {
        n = PushOnPoll(&mut items) => { items.push(n); items.len() }
        _ = pending::<()>() => items.len(),
    };
    assert_eq!(len, 6);
    assert_eq!(items, [1, 2, 3, 4, 0, 4]);
}

#[corio::test]
async fn biased_polls_in_the_order_written() {
    let log = RefCell::new(Vec::new());
    let won = corio::select! {
        biased;
        a = logged(&log, 0, 3) => a,
        b = logged(&log, 1, 2) => b,
        c = logged(&log, 2, 2) => c,
    };
    // Round 1 polls 0, 1, 2 (all pending); round 2 polls 0 (pending), then 1 (ready).
    assert_eq!(won, 1);
    assert_eq!(*log.borrow(), [0, 1, 2, 0, 1]);
}

#[corio::test]
async fn unbiased_select_rotates_its_first_branch() {
    let mut wins = [0u32; 3];
    let mut first_polled = [0u32; 3];
    for _ in 0..300 {
        let log = RefCell::new(Vec::new());
        let w = corio::select! {
            a = logged(&log, 0, 1) => a,
            b = logged(&log, 1, 1) => b,
            c = logged(&log, 2, 1) => c,
        };
        // Every branch is ready at once: the branch polled first wins.
        assert_eq!(log.borrow().as_slice(), [w]);
        wins[w] += 1;
        first_polled[log.borrow()[0]] += 1;
    }
    assert_eq!(wins, first_polled);
    assert!(
        wins.iter().all(|&n| n > 0),
        "some branch never went first: {wins:?}"
    );
}

#[corio::test]
async fn a_branch_whose_value_does_not_match_is_disabled_and_the_rest_race_on() {
    let polls_a = Cell::new(0);
    let got = corio::select! {
        biased; // the finished branch comes first in every round
        Some(x) = poll_fn(|_| { polls_a.set(polls_a.get() + 1); Poll::Ready(None::<u32>) }) => x,
        Some(y) = async { corio::sleep(Duration::from_millis(5)).await; Some(9) } => y + 100,
    };
    assert_eq!(got, 109);
    // Finished with a mismatch: never polled again.
    assert_eq!(polls_a.get(), 1);
}

#[corio::test]
async fn patterns_bind_by_value_with_modifiers_alternatives_and_structs() {
    let v = corio::select! {
        mut x = async { 1 } => { x += 1; x }
    };
    assert_eq!(v, 2);

    let s = corio::select! {
        (ref name, mut n) = async { (String::from("n"), 1) } => { n += 1; format!("{name}{n}") }
    };
    assert_eq!(s, "n2");

    struct Reply {
        code: u16,
        body: &'static str,
    }
    let mut calls = 0;
    let body = corio::select! {
        biased;
        Reply { code: 200 | 204, body } = async { calls += 1; Reply { code: 500, body: "error" } } => body,
        Reply { code: 200..=299, body } = async { Reply { code: 201, body: "created" } } => body,
    };
    assert_eq!(body, "created");
    assert_eq!(calls, 1);

    // Reference patterns: `&6` does not match `&5`, so that branch is disabled.
    let (five, mut seven) = (5, 7);
    let got = corio::select! {
        biased;
        (_, &6) = async { ("six", &five) } => 6,
        Some(&n) = async { Some(&five) } => n,
    };
    assert_eq!(got, 5);
    let got = corio::select! {
        &mut ref mut n = async { &mut seven } => { *n += 1; *n }
    };
    assert_eq!((got, seven), (8, 8));
}

#[corio::test]
async fn else_runs_when_every_branch_is_disabled() {
    // By mismatching patterns.
    let v = corio::select! {
        Some(x) = async { None::<u8> } => x,
        Ok(y) = async { Err::<u8, ()>(()) } => y,
        else => 42,
    };
    assert_eq!(v, 42);

    // By preconditions: the futures are evaluated but never polled.
    let polled = Cell::new(false);
    let limit = 3;
    let v = corio::select! {
        _ = poll_fn(|_| { polled.set(true); Poll::Ready(()) }), if false => 1,
        _ = async { polled.set(true) }, if limit < 2 => 2,
        else => 3,
    };
    assert_eq!(v, 3);
    assert!(!polled.get());

    // One precondition true: that branch runs even though it is written last.
    let v = corio::select! {
        _ = async {}, if false => 1,
        _ = async {}, if true => 2,
        else => 3,
    };
    assert_eq!(v, 2);

    // `else` alone.
    let v: u8 = corio::select! { else => 5 };
    assert_eq!(v, 5);
}

#[test]
#[should_panic(expected = "all branches of select! are disabled and there is no `else` branch")]
fn without_else_all_disabled_panics() {
    let _ = corio::run(async {
        corio::select! {
            Some(x) = async { None::<u8> } => x,
        }
    });
}

#[corio::test]
async fn preconditions_then_futures_are_evaluated_once_in_order() {
    let log = RefCell::new(Vec::new());
    let note = |s: &'static str| log.borrow_mut().push(s);
    let v = corio::select! {
        biased;
        x = { note("fut0"); async { corio::yield_now().await; 0 } }, if { note("cond0"); true } => x,
        y = { note("fut1"); async { 1 } }, if { note("cond1"); true } => y,
    };
    assert_eq!(v, 1);
    assert_eq!(*log.borrow(), ["cond0", "cond1", "fut0", "fut1"]);
}

#[corio::test]
async fn a_sleep_branch_times_out_a_slow_future() {
    let dropped = flag();
    let timed_out = corio::select! {
        _ = never(&dropped) => false,
        _ = corio::sleep(Duration::from_millis(20)) => true,
    };
    assert!(timed_out);
    assert!(dropped.load(Ordering::SeqCst));

    // And a fast future beats a long timeout (which is dropped, not waited for).
    let start = std::time::Instant::now();
    let v = corio::select! {
        v = async { corio::sleep(Duration::from_millis(1)).await; "done" } => Ok(v),
        _ = corio::sleep(Duration::from_secs(30)) => Err("timed out"),
    };
    assert_eq!(v, Ok("done"));
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[corio::test]
async fn a_pinned_future_can_be_shared_by_selects_in_a_loop() {
    let mut deadline = std::pin::pin!(corio::sleep(Duration::from_millis(30)));
    let mut ticks = 0u32;
    loop {
        corio::select! {
            _ = &mut deadline => break,
            _ = corio::sleep(Duration::from_millis(1)) => ticks += 1,
        }
    }
    assert!(ticks > 0);
}

#[corio::test]
async fn handlers_can_return_and_use_question_mark() {
    async fn first(fail: bool) -> Result<u32, String> {
        let v = corio::select! {
            r = async move { if fail { Err("boom".to_string()) } else { Ok(5) } } => r?,
            _ = pending::<()>() => return Err("unreachable".into()),
        };
        Ok(v * 2)
    }
    assert_eq!(first(false).await, Ok(10));
    assert_eq!(first(true).await, Err("boom".to_string()));
}

/// The consumer loop from asyncio's producer/consumer tutorials, with a shutdown event:
/// on the multi-thread runtime (so the select! future is Send), with a competing branch
/// that often wins, so `get`s are frequently dropped mid-wait — no item may be lost or
/// duplicated.
#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_consumer_loop_with_a_shutdown_event() {
    const N: u32 = 2000;
    let q = Queue::new(8);
    let stop = Arc::new(Event::new());
    let cancelled_gets = Arc::new(AtomicUsize::new(0));

    let consumer = corio::spawn({
        let (q, stop, cancelled_gets) = (q.clone(), stop.clone(), cancelled_gets.clone());
        async move {
            let mut got = Vec::new();
            loop {
                corio::select! {
                    Ok(x) = q.get() => {
                        got.push(x);
                        q.task_done().unwrap();
                    }
                    _ = stop.wait() => break,
                    _ = corio::yield_now() => {
                        cancelled_gets.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            got
        }
    });
    let producer = corio::spawn({
        let (q, stop) = (q.clone(), stop.clone());
        async move {
            for i in 0..N {
                if i % 500 == 0 {
                    // Let the consumer find the queue empty now and then.
                    corio::sleep(Duration::from_millis(2)).await;
                }
                q.put(i).await.unwrap();
            }
            q.join().await; // every item taken and marked done
            stop.set();
        }
    });

    let got = corio::wait_for(consumer, Duration::from_secs(30))
        .await
        .expect("consumer loop hung")
        .unwrap();
    producer.await.unwrap();
    assert_eq!(got, (0..N).collect::<Vec<_>>());
    assert!(q.is_empty());
    // The yield branch won some rounds, so gets were dropped while waiting.
    assert!(cancelled_gets.load(Ordering::Relaxed) > 0);
}

#[test]
fn select_future_is_send_when_its_branches_are() {
    fn assert_send<F: Future + Send>(f: F) -> F {
        f
    }
    let q = Queue::<u32>::new(0);
    let stop = Event::new();
    let fut = assert_send(async {
        corio::select! {
            Ok(x) = q.get() => Some(x),
            _ = stop.wait() => None,
            _ = corio::sleep(Duration::from_millis(1)) => None,
        }
    });
    q.put_nowait(3).unwrap();
    assert_eq!(corio::run(fut), Some(3));
}

#[test]
fn works_with_any_future_under_any_executor() {
    use futures::channel::oneshot;
    let (tx1, rx1) = oneshot::channel::<&str>();
    let (tx2, rx2) = oneshot::channel::<&str>();
    let waiter = std::thread::spawn(move || {
        futures::executor::block_on(async {
            corio::select! {
                Ok(v) = rx1 => v,
                Ok(v) = rx2 => v,
                else => "both senders dropped",
            }
        })
    });
    drop(tx1); // rx1 resolves to Err(Canceled): its branch is disabled
    tx2.send("second").unwrap();
    assert_eq!(waiter.join().unwrap(), "second");
}

/// Queues are streams: a consumer races the next item of its queue handle against a
/// shutdown event and a branch that often wins (so the `next()` futures are often dropped
/// mid-wait). The handle keeps its pending get between iterations: nothing is lost.
#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_over_a_queue_stream_and_a_shutdown_event() {
    use futures::StreamExt;
    const N: u32 = 2000;
    let q = Queue::new(4);
    let stop = Arc::new(Event::new());
    let producer = corio::spawn({
        let (q, stop) = (q.clone(), stop.clone());
        async move {
            for i in 0..N {
                if i % 500 == 0 {
                    // Let the consumer find the queue empty now and then.
                    corio::sleep(Duration::from_millis(2)).await;
                }
                q.put(i).await.unwrap();
            }
            q.join().await;
            stop.set();
        }
    });
    let consume = async {
        let mut items = q.clone();
        let mut got = Vec::new();
        let mut other = 0u32;
        loop {
            corio::select! {
                Some(x) = items.next() => {
                    got.push(x);
                    q.task_done().unwrap();
                }
                _ = stop.wait() => break,
                _ = corio::yield_now() => other += 1,
            }
        }
        (got, other)
    };
    let (got, other) = corio::wait_for(consume, Duration::from_secs(30))
        .await
        .expect("consumer loop hung");
    producer.await.unwrap();
    assert_eq!(got, (0..N).collect::<Vec<_>>());
    assert!(other > 0, "the competing branch never won");
}

/// Merging two queue streams until both end (tokio's stream-merge loop): a stream that
/// returned `None` disables its branch, and `else` breaks once both are done.
#[corio::test]
async fn merge_two_queue_streams_until_both_end() {
    use futures::StreamExt;
    let (a, b) = (Queue::new(0), Queue::new(0));
    for i in 0..3 {
        a.put_nowait(i).unwrap();
        b.put_nowait(10 + i).unwrap();
    }
    a.shutdown(false);
    b.shutdown(false);
    let (mut sa, mut sb) = (a.clone(), b.clone());
    let mut got = Vec::new();
    loop {
        corio::select! {
            Some(x) = sa.next() => got.push(x),
            Some(y) = sb.next() => got.push(y),
            else => break,
        }
    }
    got.sort();
    assert_eq!(got, [0, 1, 2, 10, 11, 12]);
}
