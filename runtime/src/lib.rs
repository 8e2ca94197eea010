//! corio's runtime: tasks, the work-stealing scheduler, the reactor, timers, networking
//! and asyncio's task combinators.
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![deny(unsafe_op_in_unsafe_fn)]
#![allow(dead_code)] // TODO(skeleton): removed once the scheduler uses the driver

mod driver;
mod loom;
pub mod net;
pub mod time;

pub use time::{interval, interval_at, sleep, sleep_until, Interval, Sleep};

#[cfg(not(loom))]
#[doc(hidden)]
pub use driver::doc_block_on as __doc_block_on;
