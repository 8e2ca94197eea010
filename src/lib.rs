//! corio: asyncio's programming model for Rust, on a multi-threaded work-stealing runtime.
//!
//! If you know asyncio, you know corio: `asyncio.run` is [`run`] (or `#[corio::main]`),
//! `create_task` is [`spawn`], `gather`, `wait`, `wait_for`, `as_completed` and
//! `TaskGroup` keep their names, `asyncio.Queue`/`Lock`/`Event`/`Semaphore` are in
//! [`sync`], `to_thread` runs blocking code on an elastic thread pool, and servers are
//! written with [`net::start_server`] (streams) or [`create_server`] (protocols). Under it
//! runs a work-stealing scheduler on every core, an edge-triggered reactor and a timer
//! wheel, built to be as fast as the fastest Rust runtime, with its synchronization
//! primitives and scheduler protocols model-checked with loom.
//!
//! # A first program
//!
//! ```
//! use std::time::Duration;
//!
//! async fn fetch(n: u64) -> String {
//!     corio::sleep(Duration::from_millis(10 * n)).await; // asyncio.sleep
//!     format!("page {n}")
//! }
//!
//! #[corio::main] // asyncio.run(main())
//! async fn main() {
//!     let background = corio::spawn(fetch(3)); // asyncio.create_task
//!     let pages = corio::gather([fetch(1), fetch(2)]).await; // results in argument order
//!     assert_eq!(pages, ["page 1", "page 2"]);
//!     assert_eq!(background.await.unwrap(), "page 3");
//!     // asyncio.wait_for: a timeout drops (cancels) the slow future
//!     let slow = corio::wait_for(fetch(100), Duration::from_millis(5)).await;
//!     assert!(slow.is_err());
//! }
//! ```
//!
//! # Where things are
//!
//! | asyncio | corio |
//! |---|---|
//! | `asyncio.run`, `loop.run_until_complete` | [`run`], `#[corio::main]`, [`Runtime::block_on`], [`Builder`] |
//! | `create_task`, `Task`, `current_task`, `all_tasks` | [`spawn`], [`Task`], [`current_task`], [`all_tasks`], [`task::Builder`] (names) |
//! | `gather`, `wait`, `wait_for`, `timeout_at`, `as_completed`, `TaskGroup` | [`gather`], [`try_gather`], [`join!`], [`wait`], [`wait_for`], [`wait_until`], [`as_completed`], [`TaskGroup`] |
//! | `asyncio.wait(..., FIRST_COMPLETED)` on coroutines | [`select!`] |
//! | `sleep`, `sleep(0)`, periodic calls | [`sleep`], [`yield_now`], [`interval`] |
//! | `Lock`, `Event`, `Condition`, `Semaphore`, `Barrier`, `Queue`s, futures | [`sync`] |
//! | `to_thread`, `run_in_executor` | [`to_thread`], [`blocking::ThreadPool`] |
//! | streams, `create_server` + `Protocol`, sockets | [`net`] |
//! | `create_subprocess_exec`/`_shell` | [`process`] |
//! | `add_signal_handler`, Ctrl-C | [`signal`] |
//! | `create_datagram_endpoint` | [`create_datagram_endpoint`] |
//! | `CancelledError`, exceptions from tasks | [`TaskError`] (works with `?` into `anyhow`) |
//!
//! The full asyncio → corio table, row by row, is in the crate's `README.md`.
//!
//! # Semantics worth knowing
//!
//! - Futures are lazy, like coroutine objects: nothing runs until awaited or spawned,
//!   and a corio future can be built outside a runtime (`corio::run(corio::sleep(d))`).
//! - Cancellation is Rust's: [`Task::cancel`] (or dropping a future) drops it at its next
//!   suspension point, and its destructors run. Every primitive in [`sync`] is cancel-safe:
//!   a waiter dropped after it was granted something hands it to the next waiter.
//! - A dropped [`Task`] keeps running (asyncio's behaviour); a panic in a task is caught
//!   and returned as [`TaskError::Panicked`] at its `.await`.
//!
//! # Cargo features
//!
//! - `await-chains` (default): corio's futures record what a task awaits when they return
//!   `Pending`, so [`dump`] shows each task's await chain. Without it dumps still list
//!   every task, with empty chains, and polls skip the bookkeeping.
//! - `hyper`: the `corio::hyper` module, hyper 1.x's runtime pieces on corio.
#![forbid(unsafe_code)]

#[doc(inline)]
pub use corio_blocking as blocking;
#[doc(inline)]
pub use corio_blocking::{to_thread, ToThread};
#[doc(inline)]
pub use corio_sync as sync;

#[doc(inline)]
pub use corio_runtime::{
    all_tasks, current_task, dump, run, spawn, spawn_local, yield_now, Builder, Handle, Runtime,
    Task, TaskError, TaskId, TaskInfo,
};

#[doc(inline)]
pub use corio_runtime::metrics;
#[doc(inline)]
pub use corio_runtime::net;
#[doc(inline)]
pub use corio_runtime::net::create_datagram_endpoint;
#[doc(inline)]
pub use corio_runtime::net::create_server;
#[doc(inline)]
pub use corio_runtime::process;
#[cfg(unix)]
#[doc(inline)]
pub use corio_runtime::signal;
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

mod select;
#[doc(hidden)]
pub use select::support as __select;
#[cfg(feature = "hyper")]
pub mod hyper;

/// The README's code runs as a doc test, so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
