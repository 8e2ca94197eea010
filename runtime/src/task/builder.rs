//! [`Builder`]: spawn a task with a name (asyncio's `create_task(coro, name=...)`).

use std::future::Future;
use std::sync::Arc;

use super::raw::SpawnMeta;
use super::{spawn_local_with, spawn_with, Task};
use crate::runtime::Handle;

/// Configures a task before spawning it.
///
/// ```
/// corio_runtime::run(async {
///     let task = corio_runtime::task::Builder::new()
///         .name("worker-1")
///         .spawn(async { 1 });
///     assert_eq!(task.name(), Some("worker-1"));
///     assert_eq!(task.await.unwrap(), 1);
/// });
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    name: Option<Arc<String>>,
}

impl Builder {
    /// A builder for an unnamed task.
    ///
    /// ```
    /// let _b = corio_runtime::task::Builder::new();
    /// ```
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task (shown by `Display`, `TaskInfo::name` and `Task::name`).
    ///
    /// ```
    /// let b = corio_runtime::task::Builder::new().name("fetch");
    /// # let _ = b;
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(Arc::new(name.into()));
        self
    }

    #[track_caller]
    fn meta(self) -> SpawnMeta {
        SpawnMeta::new(self.name)
    }

    /// Spawns on the current runtime, like [`spawn`](crate::spawn).
    ///
    /// # Panics
    ///
    /// Outside a corio runtime.
    ///
    /// ```
    /// corio_runtime::run(async {
    ///     let t = corio_runtime::task::Builder::new().name("x").spawn(async { 2 });
    ///     assert_eq!(t.await.unwrap(), 2);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_with(future, self.meta())
    }

    /// Spawns on the runtime of `handle`, like [`Handle::spawn`].
    ///
    /// ```
    /// let rt = corio_runtime::Runtime::new().unwrap();
    /// let t = corio_runtime::task::Builder::new().name("y").spawn_on(async { 3 }, &rt.handle());
    /// assert_eq!(rt.block_on(t).unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.inner.spawn(future, self.meta())
    }

    /// Spawns a `!Send` future, like [`spawn_local`](crate::spawn_local).
    ///
    /// # Panics
    ///
    /// Unless called inside a current-thread runtime's `block_on`.
    ///
    /// ```
    /// let rt = corio_runtime::Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let rc = std::rc::Rc::new(1);
    ///     let t = corio_runtime::task::Builder::new().name("l").spawn_local(async move { *rc });
    ///     assert_eq!(t.await.unwrap(), 1);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        spawn_local_with(future, self.meta())
    }
}
