//! corio: asyncio's programming model for Rust, on a multi-threaded work-stealing runtime.
//!
//! ```
//! let out = corio::run(async {
//!     let task = corio::spawn(async { 21 * 2 });
//!     task.await.unwrap()
//! });
//! assert_eq!(out, 42);
//! ```
#![forbid(unsafe_code)]

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
pub use corio_runtime::metrics;
#[doc(inline)]
pub use corio_runtime::net;
#[doc(inline)]
pub use corio_runtime::net::create_server;
#[doc(inline)]
pub use corio_runtime::time::{interval, interval_at, sleep, sleep_until, Interval, Sleep};

/// Runs `async fn main` on a corio runtime (asyncio's `asyncio.run(main())`).
///
/// Multi-thread by default; options: `flavor = "current_thread"`, `worker_threads = N`.
/// A non-async function, arguments or unknown options are compile errors that say what
/// is wrong.
///
/// ```
/// #[corio::main(worker_threads = 2)]
/// async fn main() {
///     let task = corio::spawn(async { 1 + 1 });
///     assert_eq!(task.await.unwrap(), 2);
/// }
/// # fn _unused() {}
/// ```
///
/// Misuse is a compile error naming the fix, e.g. "the `async` keyword is missing from
/// the function declaration":
///
/// ```compile_fail
/// #[corio::main]
/// fn main() {}
/// ```
///
/// "`worker_threads` only applies to `flavor = \"multi_thread\"`":
///
/// ```compile_fail
/// #[corio::main(flavor = "current_thread", worker_threads = 2)]
/// async fn main() {}
/// ```
#[doc(inline)]
pub use corio_macros::main;

/// Runs an `async fn` test on a corio runtime (current-thread by default, like tokio).
///
/// Options: `flavor = "multi_thread"`, `worker_threads = N`.
///
/// ```
/// #[corio::test]
/// async fn sleeps() {
///     corio::sleep(std::time::Duration::from_millis(1)).await;
/// }
/// # fn main() {}
/// ```
///
/// Unknown options are rejected ("unknown option `flavour` ... expected `flavor`, ..."):
///
/// ```compile_fail
/// #[corio::test(flavour = "multi_thread")]
/// async fn typo() {}
/// # fn main() {}
/// ```
#[doc(inline)]
pub use corio_macros::test;

/// Tasks: spawning with a name ([`task::Builder`]), errors, introspection.
pub mod task {
    #[doc(inline)]
    pub use corio_runtime::task::*;
}

#[doc(inline)]
pub use corio_runtime::{
    as_completed, gather, join, try_gather, try_join, wait, wait_for, wait_until, AsCompleted,
    GroupError, GroupShutDown, ReturnWhen, TaskGroup, TimeoutError,
};

/// The README's code runs as a doc test, so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
