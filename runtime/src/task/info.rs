//! Introspection: [`current_task`], [`all_tasks`] and [`TaskInfo`].

use std::fmt;
use std::panic::Location;
use std::sync::Arc;

use super::error::TaskId;
use super::raw::RawTask;
use crate::runtime::context;

/// A snapshot of a live task, from [`current_task`] or [`all_tasks`].
///
/// ```
/// corio_runtime::run(async {
///     corio_runtime::spawn(async {
///         let me = corio_runtime::current_task().expect("inside a task");
///         println!("{me} spawned at {}", me.location());
///     })
///     .await
///     .unwrap();
/// });
/// ```
#[derive(Clone)]
pub struct TaskInfo {
    id: TaskId,
    name: Option<Arc<String>>,
    location: &'static Location<'static>,
    state: TaskState,
}

/// What a task was doing when its [`TaskInfo`] was taken.
///
/// ```
/// corio_runtime::run(async {
///     corio_runtime::spawn(async {
///         let me = corio_runtime::current_task().unwrap();
///         assert_eq!(me.state(), corio_runtime::task::TaskState::Running);
///     })
///     .await
///     .unwrap();
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Waiting for a wake-up (asyncio: pending, not ready).
    Idle,
    /// Woken and queued, waiting for a worker.
    Scheduled,
    /// Being polled by a worker right now.
    Running,
    /// Cancelled; its future is about to be dropped.
    Cancelling,
    /// Finished (only seen in a snapshot taken just as the task completed).
    Finished,
}

impl TaskInfo {
    pub(crate) fn from_raw(task: RawTask) -> TaskInfo {
        let snap = task.state().load();
        let state = if snap.is_complete() {
            TaskState::Finished
        } else if snap.is_cancelled() {
            TaskState::Cancelling
        } else if snap.is_running() {
            TaskState::Running
        } else if snap.is_notified() {
            TaskState::Scheduled
        } else {
            TaskState::Idle
        };
        let trailer = task.trailer();
        TaskInfo {
            id: task.id(),
            name: trailer.extra.name(),
            location: trailer.extra.location(),
            state,
        }
    }

    /// The task's id.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let task = corio_runtime::spawn(async { corio_runtime::current_task().unwrap().id() });
    ///     let id = task.id();
    ///     assert_eq!(task.await.unwrap(), id);
    /// });
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The task's name, if it was given one.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let task = corio_runtime::task::Builder::new()
    ///         .name("fetcher")
    ///         .spawn(async { corio_runtime::current_task().unwrap().name().map(String::from) });
    ///     assert_eq!(task.await.unwrap().as_deref(), Some("fetcher"));
    /// });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref().map(String::as_str)
    }

    /// Where the task was spawned (the caller of `spawn`).
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let task = corio_runtime::spawn(async { corio_runtime::current_task().unwrap() });
    ///     let info = task.await.unwrap();
    ///     assert!(info.location().file().ends_with(".rs"));
    /// });
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// What the task was doing when the snapshot was taken.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     corio_runtime::spawn(async {
    ///         let me = corio_runtime::current_task().unwrap();
    ///         assert_eq!(me.state(), corio_runtime::task::TaskState::Running);
    ///     })
    ///     .await
    ///     .unwrap();
    /// });
    /// ```
    pub fn state(&self) -> TaskState {
        self.state
    }
}

impl fmt::Debug for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskInfo")
            .field("id", &self.id)
            .field("name", &self.name())
            .field("location", &format_args!("{}", self.location))
            .field("state", &self.state)
            .finish()
    }
}

/// `Task-<id>` for unnamed tasks, like asyncio's default names; the name otherwise.
impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Task-{}", self.id),
        }
    }
}

/// The task being polled on this thread (asyncio's `current_task()`); `None` outside a
/// task (e.g. in the future given to `block_on` or `run`, or outside any runtime).
///
/// ```
/// assert!(corio_runtime::current_task().is_none());
/// corio_runtime::run(async {
///     let task = corio_runtime::spawn(async { corio_runtime::current_task().is_some() });
///     assert!(task.await.unwrap());
/// });
/// ```
pub fn current_task() -> Option<TaskInfo> {
    context::current_task().map(TaskInfo::from_raw)
}

/// Every live (unfinished) task of the current runtime (asyncio's `all_tasks()`); empty
/// outside a runtime.
///
/// ```
/// corio_runtime::run(async {
///     let task = corio_runtime::task::Builder::new()
///         .name("sleeper")
///         .spawn(std::future::pending::<()>());
///     assert!(corio_runtime::all_tasks().iter().any(|t| t.name() == Some("sleeper")));
///     task.cancel();
/// });
/// ```
pub fn all_tasks() -> Vec<TaskInfo> {
    let mut out = Vec::new();
    context::with_handle(|handle| {
        handle.registry().for_each(|task| {
            if !task.state().load().is_complete() {
                out.push(TaskInfo::from_raw(task));
            }
        })
    });
    out
}
