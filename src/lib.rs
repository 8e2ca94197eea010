//! corio: asyncio's programming model for Rust, on a multi-threaded work-stealing runtime.
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![deny(unsafe_op_in_unsafe_fn)]

#[doc(inline)]
pub use corio_blocking as blocking;
#[doc(inline)]
pub use corio_sync as sync;

#[doc(inline)]
pub use corio_runtime::net;
#[doc(inline)]
pub use corio_runtime::time::{interval, interval_at, sleep, sleep_until, Interval, Sleep};
#[doc(inline)]
pub use corio_runtime::net::create_server;
