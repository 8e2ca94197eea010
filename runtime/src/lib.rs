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

pub mod combinators;
mod driver;
mod loom;

pub use combinators::{gather, try_gather, TimeoutError};
