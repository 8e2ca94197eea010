//! asyncio's synchronization primitives and queues for corio.
//!
//! Runtime-agnostic: every primitive here works under any executor (corio, tokio,
//! `futures::executor`, smol). All are `Send + Sync`, FIFO-fair and cancel-safe:
//!
//! * **FIFO, no barging.** A released lock or permit goes directly to the oldest
//!   waiter; right after such a hand-off, `try_lock`/`try_acquire` fail.
//! * **Cancel-safe.** Dropping a pending `lock`, `acquire`, `wait`, `get` or `put`
//!   future never loses anything: a waiter that was already granted a lock, permit,
//!   notification, item or queue slot and then dropped hands it to the next waiter (or
//!   back to the pool / the front of the queue). A dropped `put` never enqueues its
//!   item. A dropped waiter leaves the waiter list at once, in O(1).
//! * **No allocation per wait.** Waiters are intrusive list nodes living inside the
//!   futures; the uncontended `Mutex`/`Semaphore` paths are one atomic CAS.
//! * **Cooperative.** Every waiting future consumes corio's task budget, so a task
//!   looping on an always-ready primitive still yields its worker.
//!
//! | asyncio                                  | corio                                            |
//! |------------------------------------------|--------------------------------------------------|
//! | `Lock()`                                 | [`Lock`] (= [`Mutex<()>`](Mutex)), or [`Mutex<T>`] around the data |
//! | `async with lock:` / `await lock.acquire()` | `let guard = m.lock().await;` (unlocks on drop) |
//! | `lock.locked()`                          | [`Mutex::is_locked`]                             |
//! | `Event()` `.set()` `.clear()` `.is_set()` `await .wait()` | [`Event`]: `set`, `clear`, `is_set`, `wait().await` |
//! | `Condition(lock)`                        | [`Condition::new()`] + any corio [`Mutex`]        |
//! | `await cond.wait()`                      | `guard = cond.wait(guard).await`                 |
//! | `await cond.wait_for(pred)`              | `guard = cond.wait_while(guard, \|v\| !pred(v)).await` |
//! | `cond.notify(n)` / `cond.notify_all()`   | [`Condition::notify`] / [`Condition::notify_all`] |
//! | `Semaphore(n)` / `BoundedSemaphore(n)`   | [`Semaphore::new`] / [`BoundedSemaphore::new`]    |
//! | `async with sem:`                        | `let _permit = sem.acquire().await;`             |
//! | `sem.release()` (`ValueError` if bounded) | [`Semaphore::release`] / [`BoundedSemaphore::release`] → `Err(`[`BoundExceeded`]`)` |
//! | `Barrier(n)`, `await b.wait()` → index   | [`Barrier::new`], `b.wait().await` → [`BarrierWaitResult`] |
//! | `Queue(maxsize)`, `LifoQueue`, `PriorityQueue` | [`Queue`], [`LifoQueue`], [`PriorityQueue`] (`Clone` handles) |
//! | `await q.put(x)` / `await q.get()`       | `q.put(x).await?` / `q.get().await?`             |
//! | `q.put_nowait(x)` / `q.get_nowait()`     | [`Queue::put_nowait`] / [`Queue::get_nowait`]     |
//! | `QueueFull` / `QueueEmpty`               | [`PutError::Full`] / [`GetError::Empty`]          |
//! | `QueueShutDown`                          | [`QueueShutDown`], [`PutError::ShutDown`], [`GetError::ShutDown`] |
//! | `q.task_done()`, `await q.join()`        | [`Queue::task_done`] (→ [`TaskDoneError`]), `q.join().await` |
//! | `q.shutdown(immediate)`                  | [`Queue::shutdown`]                              |
//! | `q.qsize()` `.empty()` `.full()` `.maxsize` | [`Queue::qsize`], [`Queue::empty`], [`Queue::full`], [`Queue::maxsize`]; Rust's names [`Queue::len`], [`Queue::is_empty`], [`Queue::is_full`] |
//! | `loop.create_future()`, `set_result`, `await fut` | [`oneshot::channel`], [`oneshot::Sender::send`], `rx.await` |
//!
//! ```
//! use corio_sync::{Mutex, Queue};
//! futures::executor::block_on(async {
//!     let q = Queue::new(0);
//!     let total = Mutex::new(0);
//!     for i in 1..=3 {
//!         q.put(i).await.unwrap();
//!     }
//!     q.shutdown(false);
//!     while let Ok(i) = q.get().await {
//!         *total.lock().await += i;
//!     }
//!     assert_eq!(total.into_inner(), 6);
//! });
//! ```
//!
//! With `RUSTFLAGS="--cfg loom"` every atomic, cell and internal lock comes from
//! `loom`, so a `loom::model` test explores the interleavings of code using these
//! primitives.

#[doc(hidden)]
pub mod coop;
#[doc(hidden)]
pub mod loom;
#[doc(hidden)]
pub mod trace;

pub mod barrier;
pub mod condition;
mod error;
pub mod event;
pub mod mutex;
pub mod oneshot;
pub mod queue;
mod raw_semaphore;
pub mod semaphore;
mod waiters;

pub use barrier::{Barrier, BarrierWaitResult};
pub use condition::Condition;
pub use error::{BoundExceeded, GetError, PutError, QueueShutDown, RecvError, TaskDoneError};
pub use event::Event;
pub use mutex::{Lock, Mutex, MutexGuard};
pub use queue::{LifoQueue, PriorityQueue, Queue};
pub use semaphore::{BoundedSemaphore, Semaphore, SemaphorePermit};

#[cfg(all(test, not(any(loom, shuttle))))]
mod auto_traits {
    use super::*;

    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}

    #[test]
    fn primitives_are_send_sync_and_futures_send() {
        send_sync::<Mutex<Vec<u8>>>();
        send_sync::<MutexGuard<'static, Vec<u8>>>();
        send_sync::<Event>();
        send_sync::<Condition>();
        send_sync::<Semaphore>();
        send_sync::<SemaphorePermit<'static>>();
        send_sync::<BoundedSemaphore>();
        send_sync::<Barrier>();
        send_sync::<Queue<String>>();
        send_sync::<LifoQueue<String>>();
        send_sync::<PriorityQueue<String>>();
        send_sync::<oneshot::Sender<String>>();
        send_sync::<oneshot::Receiver<String>>();
        send::<mutex::LockFuture<'static, Vec<u8>>>();
        send::<semaphore::Acquire<'static>>();
        send::<event::EventWait<'static>>();
        send::<condition::ConditionWait<'static, Vec<u8>>>();
        send::<barrier::BarrierWait<'static>>();
        send::<queue::Put<'static, String>>();
        send::<queue::Get<'static, String>>();
        send::<queue::Join<'static, String>>();
        let (m, c) = (Mutex::new(0), Condition::new());
        let fut = async {
            let g = m.lock().await;
            c.wait_while(g, |v| *v > 0).await
        };
        fn assert_send<F: Send>(_: &F) {}
        assert_send(&fut);
    }
}
