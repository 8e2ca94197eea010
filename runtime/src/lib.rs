//! corio's runtime: tasks, the work-stealing scheduler, the reactor, timers, networking
//! and asyncio's task combinators.
//!
//! ```
//! let out = corio_runtime::run(async {
//!     let task = corio_runtime::spawn(async { "hello from a task" });
//!     task.await.unwrap()
//! });
//! assert_eq!(out, "hello from a task");
//! ```

pub mod combinators;
mod driver;
mod lazy;
mod loom;
pub mod net;
pub mod process;
mod runtime;
mod scheduler;
#[cfg(unix)]
pub mod signal;
pub mod task;
pub mod time;

pub use combinators::{
    as_completed, gather, try_gather, wait, wait_for, wait_until, AsCompleted, GroupError,
    GroupShutDown, ReturnWhen, TaskGroup, TimeoutError,
};
pub use net::create_datagram_endpoint;
pub use net::create_server;
pub use runtime::{dump, metrics, run, Builder, Handle, Runtime};
pub use task::{
    all_tasks, current_task, spawn, spawn_local, yield_now, Task, TaskError, TaskId, TaskInfo,
};
pub use time::{interval, interval_at, sleep, sleep_until, Interval, Sleep};
