//! [`Queue`], [`LifoQueue`] and [`PriorityQueue`] [asyncio.Queue, LifoQueue,
//! PriorityQueue], and their futures.
//!
//! All three share one implementation and API; they differ only in which item `get`
//! returns: the oldest, the newest, or the smallest. Each is a cheap `Clone` handle to
//! the same queue, and a `futures_core::Stream` of its items (until shutdown): each handle
//! keeps its own pending get, so clones are independent consumers.

mod core;
mod ring;
mod store;
mod stream;

pub use self::core::{Get, Join, Put};

use self::core::{Core, Ops};
use self::store::Store;
use self::stream::Handle;
use crate::error::{GetError, PutError, TaskDoneError};
use futures_core::Stream;
use std::fmt;
use std::panic::Location;

use crate::trace;
use std::pin::Pin;
use std::task::{Context, Poll};

macro_rules! queue_type {
    (
        $(#[$meta:meta])*
        $name:ident, $store:ident, ($($bound:tt)*), $order:literal
    ) => {
        $(#[$meta])*
        pub struct $name<T> {
            /// The shared queue, and this handle's own pending stream get.
            core: Handle<T>,
        }

        impl<T> Clone for $name<T> {
            /// Another handle to the same queue. It starts with no pending stream get of
            /// its own: a get this handle's stream is waiting on stays with this handle.
            fn clone(&self) -> Self {
                Self { core: self.core.clone() }
            }
        }

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&*self.core).finish()
            }
        }

        impl<T: $($bound)*> $name<T> {
            #[doc = concat!("A queue holding at most `maxsize` items (0 = unbounded), ", $order, ".")]
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($name), "::<u32>::new(10);")]
            /// assert_eq!(q.maxsize(), 10);
            /// assert!(q.empty());
            /// ```
            pub fn new(maxsize: usize) -> Self {
                static OPS: Ops = Ops {
                    put: trace::Op { name: concat!(stringify!($name), "::put"), detail: trace::Detail::None },
                    get: trace::Op { name: concat!(stringify!($name), "::get"), detail: trace::Detail::None },
                    join: trace::Op { name: concat!(stringify!($name), "::join"), detail: trace::Detail::None },
                };
                Self { core: Handle::new(Core::new(maxsize, Store::$store(), &OPS)) }
            }
        }

        impl<T> $name<T> {
            /// Puts `v`, waiting while the queue is full. Fails with
            /// [`QueueShutDown(v)`](crate::QueueShutDown) after
            /// [`shutdown`](Self::shutdown), giving `v` back.
            ///
            /// ```
            /// # futures::executor::block_on(async {
            #[doc = concat!("let q = corio_sync::", stringify!($name), "::new(1);")]
            /// q.put(1).await.unwrap();
            /// assert!(q.full());
            /// # });
            /// ```
            #[track_caller]
            pub fn put(&self, v: T) -> Put<'_, T> {
                Put::new(&self.core, v, Location::caller())
            }

            /// Removes and returns an item, waiting while the queue is empty. After
            /// [`shutdown`](Self::shutdown) it drains what is left, then fails with
            /// [`QueueShutDown`](crate::QueueShutDown).
            ///
            /// ```
            /// # futures::executor::block_on(async {
            #[doc = concat!("let q = corio_sync::", stringify!($name), "::new(0);")]
            /// q.put(7).await.unwrap();
            /// assert_eq!(q.get().await, Ok(7));
            /// # });
            /// ```
            #[track_caller]
            pub fn get(&self) -> Get<'_, T> {
                Get::new(&self.core, Location::caller())
            }

            /// Puts `v` without waiting; gives it back in the error if the queue is full
            /// or shut down.
            ///
            /// ```
            /// use corio_sync::PutError;
            #[doc = concat!("let q = corio_sync::", stringify!($name), "::new(1);")]
            /// assert_eq!(q.put_nowait(1), Ok(()));
            /// assert_eq!(q.put_nowait(2), Err(PutError::Full(2)));
            /// ```
            pub fn put_nowait(&self, v: T) -> Result<(), PutError<T>> {
                self.core.put_nowait(v)
            }

            /// Removes and returns an item without waiting.
            ///
            /// ```
            /// use corio_sync::GetError;
            #[doc = concat!("let q = corio_sync::", stringify!($name), "::new(0);")]
            /// assert_eq!(q.get_nowait(), Err(GetError::Empty));
            /// q.put_nowait(1).unwrap();
            /// assert_eq!(q.get_nowait(), Ok(1));
            /// ```
            pub fn get_nowait(&self) -> Result<T, GetError> {
                self.core.get_nowait()
            }

            /// Marks one item as processed; when every item put was marked,
            /// [`join`](Self::join) returns. Calling it more often than items were put is
            /// [`TaskDoneError`].
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($name), "::new(0);")]
            /// q.put_nowait(1).unwrap();
            /// q.get_nowait().unwrap();
            /// assert!(q.task_done().is_ok());
            /// assert!(q.task_done().is_err());
            /// ```
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.core.task_done()
            }

            /// Waits until every item put was marked done with
            /// [`task_done`](Self::task_done) — not merely until the queue is empty.
            ///
            /// ```
            /// # futures::executor::block_on(async {
            #[doc = concat!("let q = corio_sync::", stringify!($name), "::new(0);")]
            /// q.put_nowait(1).unwrap();
            /// q.get_nowait().unwrap();
            /// q.task_done().unwrap();
            /// q.join().await;
            /// # });
            /// ```
            #[track_caller]
            pub fn join(&self) -> Join<'_, T> {
                Join::new(&self.core, Location::caller())
            }

            /// Shuts the queue down: later puts fail; gets drain what is left, then fail;
            /// every waiting getter and putter is woken. With `immediate`, the queued
            /// items are dropped and counted done (so [`join`](Self::join) can return).
            ///
            /// ```
            /// use corio_sync::GetError;
            #[doc = concat!("let q = corio_sync::", stringify!($name), "::new(0);")]
            /// q.put_nowait(1).unwrap();
            /// q.shutdown(false);
            /// assert!(q.put_nowait(2).is_err());
            /// assert_eq!(q.get_nowait(), Ok(1));
            /// assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
            /// ```
            pub fn shutdown(&self, immediate: bool) {
                self.core.shutdown(immediate)
            }

            /// Number of items in the queue [asyncio: `qsize()`]. Items still held by
            /// putters that were woken to fill a reserved slot are not counted yet.
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($name), "::new(0);")]
            /// q.put_nowait(1).unwrap();
            /// q.put_nowait(2).unwrap();
            /// assert_eq!(q.len(), 2);
            /// ```
            #[doc(alias = "qsize")]
            pub fn len(&self) -> usize {
                self.core.qsize()
            }

            /// True if the queue holds no items [asyncio: `empty()`].
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($name), "::new(0);")]
            /// assert!(q.is_empty());
            /// q.put_nowait(1).unwrap();
            /// assert!(!q.is_empty());
            /// ```
            #[doc(alias = "empty")]
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// True if no slot is free [asyncio: `full()`]: the queue holds `maxsize`
            /// items, or its free slots are reserved for putters already woken to fill
            /// them (so `put_nowait` would fail). Never for an unbounded queue.
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($name), "::new(1);")]
            /// assert!(!q.is_full());
            /// q.put_nowait(1).unwrap();
            /// assert!(q.is_full());
            #[doc = concat!("assert!(!corio_sync::", stringify!($name), "::<u8>::new(0).is_full());")]
            /// ```
            #[doc(alias = "full")]
            pub fn is_full(&self) -> bool {
                self.core.is_full()
            }

            /// asyncio's name for [`len`](Self::len): the number of items in the queue.
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($name), "::new(0);")]
            /// q.put_nowait(1).unwrap();
            /// assert_eq!(q.qsize(), 1);
            /// assert_eq!(q.qsize(), q.len());
            /// ```
            pub fn qsize(&self) -> usize {
                self.len()
            }

            /// asyncio's name for [`is_empty`](Self::is_empty): true if the queue holds
            /// no items.
            ///
            /// ```
            #[doc = concat!("assert!(corio_sync::", stringify!($name), "::<u8>::new(0).empty());")]
            /// ```
            pub fn empty(&self) -> bool {
                self.is_empty()
            }

            /// asyncio's name for [`is_full`](Self::is_full): true if no slot is free.
            ///
            /// ```
            #[doc = concat!("let q = corio_sync::", stringify!($name), "::new(1);")]
            /// q.put_nowait(1).unwrap();
            /// assert!(q.full());
            /// ```
            pub fn full(&self) -> bool {
                self.is_full()
            }

            /// The capacity given to `new` (0 = unbounded).
            ///
            /// ```
            #[doc = concat!("assert_eq!(corio_sync::", stringify!($name), "::<u8>::new(3).maxsize(), 3);")]
            /// ```
            pub fn maxsize(&self) -> usize {
                self.core.maxsize()
            }
        }

        /// A stream of the queue's items: `get` until the queue is shut down, then `None`
        /// once it is empty [asyncio: `while True: item = await q.get()` ending at
        /// `QueueShutDown`].
        ///
        /// Each handle keeps its own pending get between polls (it holds its place in the
        /// line of getters), so clones are independent consumers and
        /// `q.clone().collect()` works. Waiting allocates one node per handle, once, and
        /// reuses it: nothing per item.
        ///
        /// Cancel-safe like [`get`](Self::get): dropping a handle whose stream was
        /// already handed an item passes it to the next getter (or back to the front of
        /// the queue). An item handed to a handle's pending stream get waits for that
        /// handle: it is returned by the handle's next `poll_next`, not by a
        /// [`get`](Self::get) on the same handle, so while a `next()` of a handle is
        /// pending elsewhere, take items through another clone.
        ///
        /// ```
        /// use futures::StreamExt;
        /// # futures::executor::block_on(async {
        #[doc = concat!("let q = corio_sync::", stringify!($name), "::new(0);")]
        /// for i in [2, 1, 3] {
        ///     q.put(i).await.unwrap();
        /// }
        /// q.shutdown(false); // the stream ends once the queue is empty
        /// let mut items: Vec<i32> = q.clone().collect().await;
        /// items.sort();
        /// assert_eq!(items, [1, 2, 3]);
        /// # });
        /// ```
        impl<T> Stream for $name<T> {
            type Item = T;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
                self.get_mut().core.poll_next(cx)
            }
        }
    };
}

queue_type! {
    /// A FIFO queue for producer/consumer tasks [asyncio.Queue].
    ///
    /// FIFO-fair for both getters and putters, cancel-safe (see [`Get`] and [`Put`]),
    /// with asyncio's `task_done`/`join` accounting and `shutdown`.
    ///
    /// * A `put` while getters wait hands its item to the oldest getter. A getter that
    ///   is dropped after being handed an item passes it to the next getter, or puts it
    ///   back at the front; if in the meantime putters refilled the queue, the queue may
    ///   briefly hold one item more than `maxsize` (the item is never lost).
    /// * A `get` that frees a slot while putters wait reserves that slot for the oldest
    ///   putter and wakes it; the item enters the queue when that put completes. Until
    ///   then [`full`](Self::full) stays true and `put_nowait` fails, so nobody barges
    ///   past a woken putter. A put dropped before it completes never enqueues its item
    ///   (as in asyncio); a slot reserved for it goes to the next putter.
    ///
    /// Memory: a bounded queue whose slots take at most 256 KiB (up to 4 096 items of up
    /// to 56 bytes) allocates them when it is created, a cache line (64 bytes) per slot,
    /// so that a producer and a consumer running on different cores do not share lines;
    /// its `put` and `get` take no lock unless someone waits. An unbounded or larger
    /// queue allocates as items arrive.
    ///
    /// ```
    /// use corio_sync::Queue;
    /// futures::executor::block_on(async {
    ///     let q = Queue::new(2);
    ///     let producer = q.clone();
    ///     for i in 0..2 {
    ///         producer.put(i).await.unwrap();
    ///     }
    ///     producer.shutdown(false);
    ///     let mut got = vec![];
    ///     while let Ok(x) = q.get().await {
    ///         got.push(x);
    ///         q.task_done().unwrap();
    ///     }
    ///     q.join().await;
    ///     assert_eq!(got, [0, 1]);
    /// });
    /// ```
    Queue, fifo, (Sized), "first in, first out"
}

queue_type! {
    /// A last-in, first-out queue [asyncio.LifoQueue]: `get` returns the newest item.
    /// Otherwise exactly like [`Queue`].
    ///
    /// ```
    /// use corio_sync::LifoQueue;
    /// let q = LifoQueue::new(0);
    /// for i in 1..=3 {
    ///     q.put_nowait(i).unwrap();
    /// }
    /// assert_eq!(q.get_nowait(), Ok(3));
    /// ```
    LifoQueue, lifo, (Sized), "last in, first out"
}

queue_type! {
    /// A priority queue [asyncio.PriorityQueue]: `get` returns the smallest item
    /// (use `(priority, value)` tuples, or `std::cmp::Reverse` for largest first).
    /// Otherwise exactly like [`Queue`].
    ///
    /// ```
    /// use corio_sync::PriorityQueue;
    /// let q = PriorityQueue::new(0);
    /// for p in [3, 1, 2] {
    ///     q.put_nowait((p, "job")).unwrap();
    /// }
    /// assert_eq!(q.get_nowait(), Ok((1, "job")));
    /// ```
    PriorityQueue, priority, (Ord), "smallest first"
}
