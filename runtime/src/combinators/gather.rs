//! `gather`: run many futures concurrently, in place, and collect their outputs in
//! argument order (asyncio's `gather`).

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use corio_sync::trace;

use super::children::Children;

/// Runs every future in `futs` concurrently and returns their outputs in argument order,
/// whatever order they finish in. [asyncio: `gather`]
///
/// The futures are polled in place inside the returned future, on the task that awaits
/// it: they need not be `Send` or `'static`, and nothing is spawned. After the first
/// round, a poll of the gather polls only the children that were woken, so gathering
/// thousands of futures costs O(woken) per wake-up, not O(n). Empty input gives an empty
/// `Vec`.
///
/// Gathering `Task`s gives `Vec<Result<T, TaskError>>`: like asyncio's
/// `return_exceptions=True`, a panicked or cancelled task is one entry of the result, and
/// dropping the gather leaves the tasks running (dropping a `Task` detaches it). To stop at
/// the first error instead, use [`try_gather`](super::try_gather).
///
/// # Examples
///
/// ```
/// use futures::executor::block_on;
/// use corio_runtime::gather;
///
/// async fn fetch(name: u32) -> String {
///     format!("fetched {name}")
/// }
///
/// let results = block_on(gather([fetch(1), fetch(2), fetch(3)]));
/// assert_eq!(results, ["fetched 1", "fetched 2", "fetched 3"]);
/// ```
#[track_caller]
pub fn gather<I>(futs: I) -> Gather<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    Gather {
        children: Children::new(futs),
        done: false,
        at: Location::caller(),
    }
}

/// Future returned by [`gather`]; `Unpin`, and `Send` when the futures and outputs are.
///
/// ```
/// let g: corio_runtime::combinators::Gather<std::future::Ready<u8>> =
///     corio_runtime::gather([std::future::ready(1), std::future::ready(2)]);
/// assert_eq!(futures::executor::block_on(g), [1, 2]);
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct Gather<F: Future> {
    children: Children<F>,
    done: bool,
    at: &'static Location<'static>,
}

/// `gather (3 futures left) at src/main.rs:10` in task dumps.
static GATHER: trace::Op = trace::Op {
    name: "gather",
    detail: trace::Detail::Count,
};

impl<F: Future> Future for Gather<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Gather` is `Unpin`: its children are pinned in their own heap slice.
        let this = self.get_mut();
        assert!(!this.done, "`Gather` polled after completion");
        let mark = trace::mark();
        match this.children.poll(cx, |_| false) {
            Poll::Pending => {
                let left = this.children.running() as u64;
                trace::record_outer(mark, trace::MAX_RECORDS, &GATHER, left, this.at);
                Poll::Pending
            }
            Poll::Ready(_) => {
                this.done = true;
                Poll::Ready(this.children.take_all())
            }
        }
    }
}

impl<F: Future> std::fmt::Debug for Gather<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gather")
            .field("children", &self.children)
            .field("done", &self.done)
            .finish()
    }
}
