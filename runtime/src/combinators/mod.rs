//! asyncio's task combinators: [`gather`], [`try_gather`], [`join!`](crate::join!) and
//! [`try_join!`](crate::try_join!).
//!
//! The combinators that drive many children ([`gather`], [`try_gather`]) give every child
//! its own small waker feeding a shared ready queue, so a wake-up re-polls only the child
//! that was woken.

mod children;
mod gather;
mod join;
mod ready;
mod timeout_error;
mod try_gather;

pub use gather::{gather, Gather};
pub use timeout_error::TimeoutError;
pub use try_gather::{try_gather, TryGather};

/// Items used by the expansions of `join!` and `try_join!`; not public API.
#[doc(hidden)]
pub mod __private {
    pub use super::join::{MaybeDone, TryMaybeDone};
}
