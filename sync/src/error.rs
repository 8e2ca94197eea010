//! The error types of corio's primitives and queues.

use std::fmt;

/// Why [`put_nowait`](crate::Queue::put_nowait) failed; carries the value back.
///
/// ```
/// use corio_sync::{PutError, Queue};
/// let q = Queue::new(1);
/// q.put_nowait(1).unwrap();
/// assert_eq!(q.put_nowait(2), Err(PutError::Full(2)));
/// q.shutdown(false);
/// assert_eq!(q.put_nowait(3), Err(PutError::ShutDown(3)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PutError<T> {
    /// The queue is at its `maxsize` [asyncio.QueueFull].
    Full(T),
    /// The queue was shut down [asyncio.QueueShutDown].
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The value that was not put.
    ///
    /// ```
    /// # use corio_sync::PutError;
    /// assert_eq!(PutError::Full(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(v) | PutError::ShutDown(v) => v,
        }
    }

    /// True for [`PutError::Full`].
    ///
    /// ```
    /// # use corio_sync::PutError;
    /// assert!(PutError::Full(()).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, PutError::Full(_))
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("queue is full"),
            PutError::ShutDown(_) => f.write_str("queue is shut down"),
        }
    }
}

impl<T> std::error::Error for PutError<T> {}

/// Why [`get_nowait`](crate::Queue::get_nowait) failed.
///
/// ```
/// use corio_sync::{GetError, Queue};
/// let q = Queue::<u8>::new(0);
/// assert_eq!(q.get_nowait(), Err(GetError::Empty));
/// q.shutdown(false);
/// assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GetError {
    /// Nothing to get right now [asyncio.QueueEmpty].
    Empty,
    /// The queue was shut down and is drained [asyncio.QueueShutDown].
    ShutDown,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => f.write_str("queue is empty"),
            GetError::ShutDown => f.write_str("queue is shut down"),
        }
    }
}

impl std::error::Error for GetError {}

/// The queue was shut down [asyncio.QueueShutDown]. `put` gives its value back in it;
/// `get` carries `()`.
///
/// ```
/// use corio_sync::{Queue, QueueShutDown};
/// futures::executor::block_on(async {
///     let q = Queue::new(0);
///     q.shutdown(false);
///     assert_eq!(q.put(5).await, Err(QueueShutDown(5)));
///     assert_eq!(q.get().await, Err(QueueShutDown(())));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is shut down")
    }
}

impl<T> std::error::Error for QueueShutDown<T> {}

/// [`task_done`](crate::Queue::task_done) was called more times than items were put
/// (asyncio raises `ValueError`).
///
/// ```
/// use corio_sync::{Queue, TaskDoneError};
/// let q = Queue::<u8>::new(0);
/// assert_eq!(q.task_done(), Err(TaskDoneError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called too many times")
    }
}

impl std::error::Error for TaskDoneError {}

/// [`BoundedSemaphore::release`](crate::BoundedSemaphore::release) would raise the
/// permit count above its initial value (asyncio raises `ValueError`).
///
/// ```
/// use corio_sync::{BoundedSemaphore, BoundExceeded};
/// let s = BoundedSemaphore::new(1);
/// assert_eq!(s.release(), Err(BoundExceeded));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BoundExceeded;

impl fmt::Display for BoundExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoundedSemaphore released too many times")
    }
}

impl std::error::Error for BoundExceeded {}

/// The [`oneshot::Sender`](crate::oneshot::Sender) was dropped without sending.
///
/// ```
/// use corio_sync::{oneshot, RecvError};
/// let (tx, rx) = oneshot::channel::<u8>();
/// drop(tx);
/// assert_eq!(futures::executor::block_on(rx), Err(RecvError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot sender dropped without sending")
    }
}

impl std::error::Error for RecvError {}
