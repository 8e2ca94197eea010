//! `try_gather`: like `gather` for fallible futures, but the first error returns at once.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use corio_sync::trace;

use super::children::Children;

/// Runs every future in `futs` concurrently; returns all their `Ok` values in argument
/// order, or the first `Err`. [asyncio: `gather` without `return_exceptions`]
///
/// "First" is the earliest in time: as soon as a child finishes with `Err`, the
/// `try_gather` returns it and drops every other child (running futures and values
/// already produced) before returning. Like [`gather`](super::gather), the children are
/// polled in place on the awaiting task and a wake-up re-polls only the woken children.
/// Empty input gives `Ok(vec![])`.
///
/// # Examples
///
/// ```
/// use futures::executor::block_on;
/// use corio_runtime::try_gather;
///
/// async fn risky(name: &str) -> Result<String, String> {
///     if name == "B" {
///         return Err(format!("{name} failed!"));
///     }
///     Ok(format!("{name} ok"))
/// }
///
/// assert_eq!(
///     block_on(try_gather([risky("A"), risky("C")])),
///     Ok(vec!["A ok".to_string(), "C ok".to_string()])
/// );
/// assert_eq!(
///     block_on(try_gather([risky("A"), risky("B"), risky("C")])),
///     Err("B failed!".to_string())
/// );
/// ```
#[track_caller]
pub fn try_gather<I, T, E>(futs: I) -> TryGather<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    TryGather {
        children: Children::new(futs),
        done: false,
        at: Location::caller(),
    }
}

/// Future returned by [`try_gather`]; `Unpin`, and `Send` when the futures and outputs are.
///
/// ```
/// use std::future::{ready, Ready};
///
/// let g: corio_runtime::combinators::TryGather<Ready<Result<u8, ()>>> =
///     corio_runtime::try_gather([ready(Ok(1)), ready(Err(()))]);
/// assert_eq!(futures::executor::block_on(g), Err(()));
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct TryGather<F: Future> {
    children: Children<F>,
    done: bool,
    at: &'static Location<'static>,
}

/// `try_gather (3 futures left) at src/main.rs:10` in task dumps.
static TRY_GATHER: trace::Op = trace::Op {
    name: "try_gather",
    detail: trace::Detail::Count,
};

impl<F, T, E> Future for TryGather<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `TryGather` is `Unpin`: its children are pinned in their own heap slice.
        let this = self.get_mut();
        assert!(!this.done, "`TryGather` polled after completion");
        let mark = trace::mark();
        let ready = match this.children.poll(cx, Result::is_err) {
            Poll::Pending => {
                let left = this.children.running() as u64;
                trace::record_outer(mark, trace::MAX_RECORDS, &TRY_GATHER, left, this.at);
                return Poll::Pending;
            }
            Poll::Ready(ready) => ready,
        };
        this.done = true;
        match ready {
            Some(failed) => {
                let out = this.children.take(failed);
                // Drop the siblings before handing the error out.
                this.children.clear();
                match out {
                    Err(err) => Poll::Ready(Err(err)),
                    Ok(_) => unreachable!("`poll` stops only on an `Err`"),
                }
            }
            None => Poll::Ready(this.children.take_all().into_iter().collect()),
        }
    }
}

impl<F: Future> std::fmt::Debug for TryGather<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TryGather")
            .field("children", &self.children)
            .field("done", &self.done)
            .finish()
    }
}
