//! `wait_for` / `wait_until`: the value path, a prompt timeout that drops the inner
//! future first, and the value winning at the deadline instant.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use corio_runtime::{sleep, sleep_until, wait_for, wait_until, yield_now, TimeoutError};

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

struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn the_value_is_returned_before_the_timeout() {
    run_within(LIMIT, async {
        let fetch = async {
            sleep(Duration::from_millis(20)).await;
            "Data fetched"
        };
        assert_eq!(
            wait_for(fetch, Duration::from_secs(5)).await,
            Ok("Data fetched")
        );
        assert_eq!(wait_for(async { 1 }, Duration::ZERO).await, Ok(1));
    });
}

#[test]
fn the_timeout_fires_promptly_and_drops_the_future_first() {
    run_within(LIMIT, async {
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = DropFlag(dropped.clone());
        let slow = async move {
            let _guard = guard;
            sleep(Duration::from_secs(10)).await;
        };
        let start = Instant::now();
        let res = wait_for(slow, Duration::from_millis(50)).await;
        let took = start.elapsed();
        assert_eq!(res, Err(TimeoutError));
        assert!(
            dropped.load(Ordering::SeqCst),
            "inner future dropped before returning"
        );
        assert!(took >= Duration::from_millis(50), "{took:?}");
        assert!(took < Duration::from_millis(900), "{took:?}");
    });
}

#[test]
fn a_value_ready_at_the_deadline_wins() {
    run_within(LIMIT, async {
        for _ in 0..20 {
            let deadline = Instant::now() + Duration::from_millis(5);
            // Inner future and timer fire in the same timer tick.
            let res = wait_until(sleep_until(deadline), deadline).await;
            assert_eq!(res, Ok(()));
        }
        // A deadline already passed: the inner future is still polled first.
        let past = Instant::now() - Duration::from_millis(1);
        assert_eq!(wait_until(async { "ready" }, past).await, Ok("ready"));
        assert_eq!(
            wait_until(std::future::pending::<()>(), past).await,
            Err(TimeoutError)
        );
    });
}

#[test]
fn wait_until_times_out_at_the_deadline() {
    run_within(LIMIT, async {
        let deadline = Instant::now() + Duration::from_millis(40);
        let fut = wait_until(std::future::pending::<()>(), deadline);
        assert_eq!(fut.deadline(), deadline);
        assert_eq!(fut.await, Err(TimeoutError));
        let now = Instant::now();
        assert!(now >= deadline);
        assert!(now < deadline + Duration::from_millis(900));
    });
}

#[test]
fn a_budget_hungry_inner_future_cannot_starve_the_timer() {
    run_within(LIMIT, async {
        // Uses up the task's whole cooperative budget on every poll, then yields.
        let hungry = std::future::poll_fn(|cx| {
            while corio_sync::coop::poll_proceed(cx).is_ready() {}
            std::task::Poll::<()>::Pending
        });
        let start = Instant::now();
        assert_eq!(
            wait_for(hungry, Duration::from_millis(30)).await,
            Err(TimeoutError)
        );
        assert!(start.elapsed() < Duration::from_secs(2));
        // And a task that just keeps yielding.
        let busy = async {
            loop {
                yield_now().await;
            }
        };
        assert_eq!(
            wait_for(busy, Duration::from_millis(30)).await,
            Err(TimeoutError)
        );
    });
}
