//! [`TaskId`], [`TaskError`] and the [`PanicPayload`] it carries.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// A task's unique id within the process: ids come from a global counter starting at 1.
///
/// ```
/// let rt = corio_runtime::Runtime::new().unwrap();
/// let a = rt.spawn(async {});
/// let b = rt.spawn(async {});
/// assert_ne!(a.id(), b.id());
/// assert!(a.id().as_u64() >= 1);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(NonZeroU64);

/// The global task id counter (ids are unique across runtimes).
#[cfg(not(any(loom, shuttle)))]
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

// Under loom the counter starts again in every execution of a model (loom requires each
// execution to be deterministic; ids pick the registry shard). A std atomic: ids are not
// part of what the model explores.
#[cfg(any(loom, shuttle))]
crate::loom::lazy_static! {
    static ref NEXT_ID: AtomicU64 = AtomicU64::new(1);
}

impl TaskId {
    /// Takes the next id from the global counter.
    pub(crate) fn next() -> TaskId {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        TaskId(NonZeroU64::new(id).expect("task id counter overflowed"))
    }

    pub(crate) fn from_nonzero(id: NonZeroU64) -> TaskId {
        TaskId(id)
    }

    /// The id the next task will get (every id below it is taken).
    #[cfg_attr(any(loom, shuttle), allow(dead_code))] // read by the monitor thread
    pub(crate) fn peek_next() -> u64 {
        NEXT_ID.load(Ordering::Relaxed)
    }

    /// The id as a number.
    ///
    /// ```
    /// let rt = corio_runtime::Runtime::new().unwrap();
    /// let task = rt.spawn(async {});
    /// assert_eq!(format!("{}", task.id()), task.id().as_u64().to_string());
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskId({})", self.0)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Why awaiting a [`Task`](crate::Task) did not produce its output.
///
/// `Send + Sync + 'static` and a `std::error::Error`, so `task.await?` converts into
/// `anyhow::Error` or `Box<dyn Error + Send + Sync>`.
///
/// ```
/// use corio_runtime::{Runtime, TaskError};
///
/// let rt = Runtime::new().unwrap();
/// let err = rt.block_on(async {
///     let task = corio_runtime::spawn(async { panic!("boom") });
///     task.await.unwrap_err()
/// });
/// assert!(err.is_panic());
/// assert_eq!(err.to_string(), "task panicked: boom");
/// assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
///
/// // `?` into a boxed error that can cross threads:
/// fn join(rt: &Runtime) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
///     Ok(rt.block_on(rt.spawn(async { 7 }))?)
/// }
/// assert_eq!(join(&rt).unwrap(), 7);
/// ```
pub enum TaskError {
    /// The task was cancelled (with [`Task::cancel`](crate::Task::cancel) or by runtime
    /// shutdown) before it completed.
    Cancelled,
    /// The task panicked; the payload is what `panic!` was given.
    Panicked(PanicPayload),
}

impl TaskError {
    /// True for [`TaskError::Cancelled`].
    ///
    /// ```
    /// assert!(corio_runtime::TaskError::Cancelled.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, TaskError::Cancelled)
    }

    /// True for [`TaskError::Panicked`].
    ///
    /// ```
    /// use corio_runtime::task::{PanicPayload, TaskError};
    ///
    /// let err = TaskError::Panicked(PanicPayload::new(Box::new("oops")));
    /// assert!(err.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, TaskError::Panicked(_))
    }

    /// The panic payload, by value, e.g. to resume the panic with
    /// [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// If the error is [`TaskError::Cancelled`]; use [`TaskError::try_into_panic`] to check.
    ///
    /// ```
    /// use corio_runtime::task::{PanicPayload, TaskError};
    ///
    /// let err = TaskError::Panicked(PanicPayload::new(Box::new(7_u32)));
    /// assert_eq!(*err.into_panic().downcast::<u32>().unwrap(), 7);
    /// ```
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self {
            TaskError::Panicked(payload) => payload.into_inner(),
            TaskError::Cancelled => panic!("TaskError::into_panic called on a cancelled task"),
        }
    }

    /// The panic payload, or the error back if it is not a panic.
    ///
    /// ```
    /// let err = corio_runtime::TaskError::Cancelled;
    /// assert!(err.try_into_panic().is_err());
    /// ```
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, TaskError> {
        match self {
            TaskError::Panicked(payload) => Ok(payload.into_inner()),
            other => Err(other),
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Cancelled => f.write_str("Cancelled"),
            TaskError::Panicked(p) => f.debug_tuple("Panicked").field(p).finish(),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Cancelled => f.write_str("task was cancelled"),
            TaskError::Panicked(p) => match p.message() {
                Some(msg) => write!(f, "task panicked: {msg}"),
                None => f.write_str("task panicked"),
            },
        }
    }
}

impl std::error::Error for TaskError {}

/// The payload of a panic (what `panic!` was given), held so that the error carrying it
/// is `Send + Sync`: [`TaskError::Panicked`] and the panics of a
/// [`GroupError`](crate::GroupError).
///
/// The payload is a `Box<dyn Any + Send>`, which is not `Sync`; a `PanicPayload` hands it
/// out only by value ([`PanicPayload::into_inner`]), never by reference, so sharing a
/// `&PanicPayload` between threads cannot reach it (tokio's `JoinError` does the same).
/// The panic message, when the payload is a string, is copied out at creation and can
/// be read through `&self` ([`PanicPayload::message`], `Display`).
///
/// One pointer wide, so a `TaskError` costs a finished task's output slot no more than
/// a `Box`.
///
/// ```
/// use corio_runtime::task::PanicPayload;
///
/// let payload = PanicPayload::new(Box::new(String::from("disk full")));
/// assert_eq!(payload.message(), Some("disk full"));
/// assert_eq!(payload.to_string(), "disk full");
/// let inner = payload.into_inner();
/// assert_eq!(*inner.downcast::<String>().unwrap(), "disk full");
/// ```
pub struct PanicPayload(Box<PayloadInner>);

struct PayloadInner {
    // Why `Mutex`: it makes `PanicPayload: Sync` without `unsafe` (`Mutex<T>` is `Sync`
    // for any `T: Send`), and that is sound for the reason `Mutex` states: no `&self`
    // method reaches the payload. It is never locked; `into_inner` takes it out by value
    // and no `&`-access to it exists. (A `SyncWrapper` would need an `unsafe impl`.)
    payload: Mutex<Box<dyn Any + Send + 'static>>,
    /// The payload's text if it is a `&'static str` or a `String`.
    message: Option<Cow<'static, str>>,
}

impl PanicPayload {
    /// Wraps the payload of a caught panic (e.g. from [`std::panic::catch_unwind`]).
    ///
    /// ```
    /// let caught = std::panic::catch_unwind(|| panic!("no")).unwrap_err();
    /// let payload = corio_runtime::task::PanicPayload::new(caught);
    /// assert_eq!(payload.message(), Some("no"));
    /// ```
    pub fn new(payload: Box<dyn Any + Send + 'static>) -> PanicPayload {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some(Cow::Borrowed(*s))
        } else {
            payload
                .downcast_ref::<String>()
                .map(|s| Cow::Owned(s.clone()))
        };
        PanicPayload(Box::new(PayloadInner {
            payload: Mutex::new(payload),
            message,
        }))
    }

    /// The panic message, if the payload is a string (`panic!("...")` with or without
    /// format arguments).
    ///
    /// ```
    /// use corio_runtime::task::PanicPayload;
    ///
    /// assert_eq!(PanicPayload::new(Box::new("boom")).message(), Some("boom"));
    /// assert_eq!(PanicPayload::new(Box::new(42_u8)).message(), None);
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    /// The payload itself, e.g. for [`std::panic::resume_unwind`] or to downcast it.
    ///
    /// ```
    /// let payload = corio_runtime::task::PanicPayload::new(Box::new(42_u8));
    /// assert_eq!(*payload.into_inner().downcast::<u8>().unwrap(), 42);
    /// ```
    pub fn into_inner(self) -> Box<dyn Any + Send + 'static> {
        // Never locked, so never poisoned; `into_inner` hands it back either way.
        self.0
            .payload
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl From<Box<dyn Any + Send + 'static>> for PanicPayload {
    /// Same as [`PanicPayload::new`].
    ///
    /// ```
    /// let caught = std::panic::catch_unwind(|| panic!("x")).unwrap_err();
    /// let payload: corio_runtime::task::PanicPayload = caught.into();
    /// assert_eq!(payload.message(), Some("x"));
    /// ```
    fn from(payload: Box<dyn Any + Send + 'static>) -> PanicPayload {
        PanicPayload::new(payload)
    }
}

impl fmt::Debug for PanicPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message() {
            Some(msg) => fmt::Debug::fmt(msg, f),
            None => f.write_str("Box<dyn Any>"),
        }
    }
}

impl fmt::Display for PanicPayload {
    /// The panic message, or `Box<dyn Any>` when the payload is not a string.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message().unwrap_or("Box<dyn Any>"))
    }
}

// `task.await?` into `anyhow::Error` / `Box<dyn Error + Send + Sync>` needs these.
const _: () = {
    const fn send_sync_static<T: Send + Sync + 'static>() {}
    send_sync_static::<TaskError>();
    send_sync_static::<PanicPayload>();
};
