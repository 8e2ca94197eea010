//! `wait_for` and `wait_until`: give a future a deadline (asyncio's `wait_for` and
//! `timeout_at`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use corio_sync::trace;

use super::timeout_error::TimeoutError;
use crate::time::{deadline_after, Origin, Sleep};

/// Runs `fut` for at most `timeout`: its output, or [`TimeoutError`] once the timeout has
/// elapsed, by which time `fut` has been dropped (its destructors ran). [asyncio:
/// `wait_for`]
///
/// The deadline is fixed when `wait_for` is called. The inner future is polled before the
/// timer, so a future that is ready at the deadline returns its output. Like every Rust
/// future, `fut` runs only while the `wait_for` is being awaited; to bound a spawned task,
/// pass the `Task` (dropping it on timeout detaches the task; cancel it yourself).
///
/// # Panics
///
/// Building it never panics, so `rt.block_on(wait_for(f, d))` works. Polling it outside
/// a corio runtime panics (it needs the runtime's timers), before `fut` is polled.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use corio_runtime::{sleep, wait_for, TimeoutError};
///
/// async fn fetch_data() -> &'static str {
///     sleep(Duration::from_millis(200)).await;
///     "Data fetched"
/// }
///
/// corio_runtime::run(async {
///     assert_eq!(
///         wait_for(fetch_data(), Duration::from_millis(20)).await,
///         Err(TimeoutError)
///     );
///     assert_eq!(
///         wait_for(fetch_data(), Duration::from_secs(5)).await,
///         Ok("Data fetched")
///     );
/// });
/// ```
#[track_caller]
pub fn wait_for<F: Future>(fut: F, timeout: Duration) -> WaitFor<F> {
    WaitFor {
        fut: Some(fut),
        timer: Sleep::new(deadline_after(timeout), Origin::WaitFor),
    }
}

/// Runs `fut` until `deadline`: its output, or [`TimeoutError`] once the deadline has
/// passed, by which time `fut` has been dropped. [asyncio: `timeout_at`]
///
/// A deadline in the past still polls `fut` once: if it is ready, its output is returned.
///
/// # Panics
///
/// Polling it outside a corio runtime panics, before `fut` is polled (building it never
/// does).
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use corio_runtime::{wait_until, TimeoutError};
///
/// corio_runtime::run(async {
///     let deadline = Instant::now() + Duration::from_millis(20);
///     let never = std::future::pending::<()>();
///     assert_eq!(wait_until(never, deadline).await, Err(TimeoutError));
///     assert!(Instant::now() >= deadline);
///     // Ready at (even past) the deadline: the value wins.
///     assert_eq!(wait_until(async { 7 }, deadline).await, Ok(7));
/// });
/// ```
#[track_caller]
pub fn wait_until<F: Future>(fut: F, deadline: Instant) -> WaitFor<F> {
    WaitFor {
        fut: Some(fut),
        timer: Sleep::new(deadline, Origin::WaitUntil),
    }
}

pin_project! {
    /// Future returned by [`wait_for`] and [`wait_until`].
    #[must_use = "futures do nothing unless you .await or poll them"]
    pub struct WaitFor<F> {
        // `None` once finished: the inner future is dropped before returning.
        #[pin]
        fut: Option<F>,
        timer: Sleep,
    }
}

impl<F> WaitFor<F> {
    /// The deadline.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// corio_runtime::run(async {
    ///     let deadline = Instant::now() + Duration::from_secs(1);
    ///     let fut = corio_runtime::wait_until(async { 1 }, deadline);
    ///     assert_eq!(fut.deadline(), deadline);
    ///     assert_eq!(fut.await, Ok(1));
    /// });
    /// ```
    pub fn deadline(&self) -> Instant {
        self.timer.deadline()
    }
}

/// `wait_for (1.2 s left) at src/main.rs:10` in task dumps (`wait_until` too).
static WAIT_FOR: trace::Op = trace::Op {
    name: "wait_for",
    detail: trace::Detail::Deadline,
};

impl<F: Future> Future for WaitFor<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // Find the runtime before anything else: a poll outside every runtime panics
        // before `fut` has run at all.
        this.timer.bind();
        let fut = this
            .fut
            .as_mut()
            .as_pin_mut()
            .expect("`WaitFor` polled after completion");
        // The inner future first: ready at the deadline means ready.
        let mark = trace::mark();
        if let Poll::Ready(out) = fut.poll(cx) {
            this.fut.set(None);
            return Poll::Ready(Ok(out));
        }
        // A fresh budget for the timer: an inner future that used this poll's budget up
        // must not keep the timeout from ever firing.
        let timer = this.timer;
        if corio_sync::coop::with_budget(|| timer.poll_timer(cx)).is_ready() {
            this.fut.set(None);
            return Poll::Ready(Err(TimeoutError));
        }
        // Recorded after the inner future's own records: the dump shows
        // `wait_for (1.2 s left)` around what the inner future awaits.
        trace::record_outer(
            mark,
            trace::MAX_RECORDS,
            &WAIT_FOR,
            timer.deadline_word(),
            timer.created_at(),
        );
        Poll::Pending
    }
}

impl<F> fmt::Debug for WaitFor<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitFor")
            .field("deadline", &self.timer.deadline())
            .field("finished", &self.fut.is_none())
            .finish()
    }
}
