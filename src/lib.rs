//! corio: asyncio's programming model for Rust, on a multi-threaded work-stealing runtime.
//!
//! ```
//! let out = corio::run(async {
//!     let task = corio::spawn(async { 21 * 2 });
//!     task.await.unwrap()
//! });
//! assert_eq!(out, 42);
//! ```
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
pub use corio_blocking::{to_thread, ToThread};
#[doc(inline)]
pub use corio_sync as sync;

#[doc(inline)]
pub use corio_runtime::{
    all_tasks, current_task, run, spawn, spawn_local, yield_now, Builder, Handle, Runtime, Task,
    TaskError, TaskId, TaskInfo,
};

#[doc(inline)]
pub use corio_runtime::net;
#[doc(inline)]
pub use corio_runtime::net::create_server;
#[doc(inline)]
pub use corio_runtime::time::{interval, interval_at, sleep, sleep_until, Interval, Sleep};

/// Tasks: spawning with a name ([`task::Builder`]), errors, introspection.
pub mod task {
    #[doc(inline)]
    pub use corio_runtime::task::*;
}
