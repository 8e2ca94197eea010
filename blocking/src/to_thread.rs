//! [`ToThread`]: the future of a job on the blocking pool.

use std::fmt;
use std::future::Future;
use std::panic::{self, Location};

use corio_sync::trace;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::job::{Completion, Job, Outcome};
use crate::pool::ThreadPool;

/// The future of a job on a blocking pool, from [`to_thread`](crate::to_thread) or
/// [`ThreadPool::run`]; resolves to the closure's return value.
///
/// Lazy: the job is submitted on the first poll. Dropping it before the job starts means
/// the job never runs; dropping it while the job runs discards the result. A panic in the
/// job resumes at the `.await` with the original payload. Polling panics if the pool was
/// shut down before the job ran, or if the pool has no thread and cannot start one (the
/// message includes the OS error). `Send` and `Unpin`.
///
/// ```
/// use corio_blocking::to_thread;
///
/// let fut = to_thread(|| 6 * 7); // nothing runs yet
/// assert_eq!(futures::executor::block_on(fut), 42);
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct ToThread<T> {
    /// Where the job goes on the first poll.
    target: Target,
    job: std::sync::Arc<dyn Completion<T>>,
    done: bool,
    /// Where the job was made, for task dumps.
    at: &'static Location<'static>,
}

/// The pool a [`ToThread`] submits to.
enum Target {
    /// A pool chosen up front ([`ThreadPool::run`]).
    Pool(ThreadPool),
    /// The pool current on the thread of the first poll ([`crate::to_thread`]).
    Current,
    /// Already submitted.
    Submitted,
}

impl<T: Send + 'static> ToThread<T> {
    /// A job for `pool`, or for the current pool at first poll if `pool` is `None`.
    #[track_caller]
    pub(crate) fn new<F>(pool: Option<ThreadPool>, f: F) -> Self
    where
        F: FnOnce() -> T + Send + 'static,
    {
        ToThread {
            target: pool.map_or(Target::Current, Target::Pool),
            job: Job::new(f),
            done: false,
            at: Location::caller(),
        }
    }
}

/// `to_thread job at src/main.rs:10` in task dumps.
static TO_THREAD: trace::Op = trace::Op {
    name: "to_thread job",
    detail: trace::Detail::None,
};

impl<T> Future for ToThread<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        let pool = match std::mem::replace(&mut this.target, Target::Submitted) {
            Target::Pool(pool) => Some(pool),
            Target::Current => Some(ThreadPool::current()),
            Target::Submitted => None,
        };
        if let Some(pool) = pool {
            if let Err(why) = pool.submit(std::sync::Arc::clone(&this.job).runnable()) {
                this.job.fail(&why);
            }
        }
        match this.job.poll_outcome(cx) {
            Poll::Pending => {
                trace::record(&TO_THREAD, 0, this.at);
                Poll::Pending
            }
            Poll::Ready(outcome) => {
                this.done = true;
                match outcome {
                    Outcome::Value(value) => Poll::Ready(value),
                    Outcome::Panicked(payload) => panic::resume_unwind(payload),
                    Outcome::Failed(why) => panic!("{why}"),
                }
            }
        }
    }
}

impl<T> Drop for ToThread<T> {
    fn drop(&mut self) {
        if matches!(self.target, Target::Submitted) && !self.done {
            self.job.abandon();
        }
    }
}

impl<T> fmt::Debug for ToThread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToThread")
            .field("submitted", &matches!(self.target, Target::Submitted))
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
