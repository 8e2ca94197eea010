//! asyncio's synchronization primitives and queues for corio.
//!
//! Runtime-agnostic: every primitive here works under any executor.
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![deny(unsafe_op_in_unsafe_fn)]

#[doc(hidden)]
pub mod coop;
#[doc(hidden)]
pub mod loom;
