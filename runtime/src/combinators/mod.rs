//! asyncio's task combinators.
//!
//! | asyncio | corio |
//! |---|---|
//! | `await gather(a(), b(), c())` (one type) | [`gather`]`([a(), b(), c()]).await` → `Vec`, argument order |
//! | `await gather(a(), b())` (mixed types) | [`join!`](crate::join!)`(a(), b())` → tuple |
//! | `gather(...)` raising the first exception | [`try_gather`] / [`try_join!`](crate::try_join!) → first `Err`, the rest dropped |
//!
//! The combinators that drive many children give every child its own small waker feeding
//! a shared ready queue, so a wake-up re-polls only the child that was woken: gathering
//! 10 000 futures costs O(1) per wake-up, not O(n).

mod as_completed;
mod children;
mod gather;
mod group_error;
mod join;
mod ready;
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
