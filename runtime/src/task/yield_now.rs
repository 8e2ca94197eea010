//! [`yield_now`]: asyncio's `await asyncio.sleep(0)`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields to every other task that is ready, then resumes.
///
/// The task goes to the back of its worker's queue (never the LIFO slot), so everything
/// that was already ready runs first.
///
/// ```
/// let rt = corio_runtime::Builder::new_current_thread().build().unwrap();
/// let order = rt.block_on(async {
///     let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
///     let l = log.clone();
///     let a = corio_runtime::spawn(async move {
///         l.lock().unwrap().push("a1");
///         corio_runtime::yield_now().await;
///         l.lock().unwrap().push("a2");
///     });
///     let l = log.clone();
///     let b = corio_runtime::spawn(async move { l.lock().unwrap().push("b") });
///     a.await.unwrap();
///     b.await.unwrap();
///     let v = log.lock().unwrap().clone();
///     v
/// });
/// assert_eq!(order, ["a1", "b", "a2"]);
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
///
/// ```
/// corio_runtime::run(async {
///     let fut: corio_runtime::task::YieldNow = corio_runtime::yield_now();
///     fut.await;
/// });
/// ```
#[derive(Debug)]
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // A self-wake during the poll requeues the task behind everything ready.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
