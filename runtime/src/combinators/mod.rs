//! asyncio's task combinators.
//!
//! | asyncio | corio |
//! |---|---|
//! | `await gather(a(), b(), c())` (one type) | [`gather`]`([a(), b(), c()]).await` → `Vec`, argument order |
//! | `await gather(a(), b())` (mixed types) | [`join!`](crate::join!)`(a(), b())` → tuple |
//! | `gather(...)` raising the first exception | [`try_gather`] / [`try_join!`](crate::try_join!) → first `Err`, the rest dropped |
//! | `gather(*tasks, return_exceptions=True)` | [`gather`]`(tasks)` → `Vec<Result<T, TaskError>>` |
//! | `done, pending = await wait(tasks, timeout=3)` | [`wait`]`(tasks, ReturnWhen::AllCompleted, Some(3s)).await` |
//! | `for c in as_completed(tasks): await c` | `while let Some(r) = `[`as_completed`]`(tasks).next().await` (also a `Stream`) |
//! | `async with TaskGroup() as tg: tg.create_task(c())` | [`TaskGroup`]`::new()`, `tg.spawn(c())?`, `tg.join().await?` |
//! | `await wait_for(c(), 1)`, `except TimeoutError` | [`wait_for`]`(c(), 1s).await` → `Err(`[`TimeoutError`]`)` |
//! | `async with timeout_at(when)` | [`wait_until`]`(c(), deadline).await` |
//!
//! The combinators that drive many children ([`gather`], [`try_gather`], [`wait`],
//! [`as_completed`], [`TaskGroup::join`]) give every child its own small waker feeding a
//! shared ready queue, so a wake-up re-polls only the child that was woken: gathering
//! 10 000 futures costs O(1) per wake-up, not O(n).

mod as_completed;
mod children;
mod gather;
mod group_error;
mod join;
mod ready_queue;
mod task_group;
mod timeout_error;
mod try_gather;
mod wait;
mod wait_for;

pub use as_completed::{as_completed, AsCompleted};
pub use gather::{gather, Gather};
pub use group_error::GroupError;
pub use task_group::{GroupJoin, GroupShutDown, TaskGroup};
pub use timeout_error::TimeoutError;
pub use try_gather::{try_gather, TryGather};
pub use wait::{wait, ReturnWhen, Wait};
pub use wait_for::{wait_for, wait_until, WaitFor};

/// Items used by the expansions of `join!` and `try_join!`; not public API.
#[doc(hidden)]
pub mod __private {
    pub use super::join::{MaybeDone, TryMaybeDone};
}
