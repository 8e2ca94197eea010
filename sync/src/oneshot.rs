//! A one-shot channel: one value from one [`Sender`] to one [`Receiver`]
//! [asyncio: `loop.create_future()` + `fut.set_result(v)` + `await fut`].
//!
//! One allocation per channel (the shared cell), no lock: a single atomic state word.
//!
//! ```
//! use corio_sync::oneshot;
//! futures::executor::block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     std::thread::spawn(move || tx.send(42).unwrap());
//!     assert_eq!(rx.await, Ok(42));
//! });
//! ```

use std::panic::Location;

use crate::coop;
use crate::error::RecvError;
use crate::loom::{Arc, AtomicUsize, Ordering, UnsafeCell};
use crate::trace;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

/// The receiver stored a waker in `rx_waker`; the sender may read it.
const RX_WAKER: usize = 1;
/// The sender is finished (sent or dropped); written once.
const COMPLETE: usize = 2;
/// A value was sent (set together with `COMPLETE`).
const VALUE: usize = 4;
/// The receiver is gone; it will never read the value.
const CLOSED: usize = 8;

struct Inner<T> {
    state: AtomicUsize,
    /// Written by the sender before `COMPLETE`; read by the receiver after it.
    value: UnsafeCell<Option<T>>,
    /// Written by the receiver only while `RX_WAKER` is clear and `COMPLETE` is not set;
    /// read by the sender after it set `COMPLETE` and saw `RX_WAKER`.
    rx_waker: UnsafeCell<Option<Waker>>,
    /// Where the channel was made, for task dumps (here rather than in the `Receiver`,
    /// which stays one pointer).
    at: &'static Location<'static>,
}

// SAFETY: the state word's protocol gives the value to exactly one side at a time, and
// the waker is only read concurrently, never written while it may be read.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Inner<T> {}

/// Creates a connected sender/receiver pair.
///
/// ```
/// let (tx, rx) = corio_sync::oneshot::channel();
/// tx.send("hi").unwrap();
/// assert_eq!(futures::executor::block_on(rx), Ok("hi"));
/// ```
#[track_caller]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        at: Location::caller(),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner },
    )
}

/// Sends the value [asyncio: `fut.set_result(v)`]. Dropping it unsent makes the
/// receiver resolve to [`RecvError`].
///
/// ```
/// let (tx, rx) = corio_sync::oneshot::channel::<i32>();
/// assert!(!tx.is_closed());
/// drop(rx);
/// assert!(tx.is_closed());
/// assert_eq!(tx.send(1), Err(1));
/// ```
pub struct Sender<T> {
    inner: Option<Arc<Inner<T>>>,
}

/// Receives the value: a future resolving to `Ok(value)`, or `Err(RecvError)` if the
/// sender was dropped without sending [asyncio: `await fut`].
///
/// Dropped after the value was sent (even if it was woken and never ran again), the
/// value is dropped with the channel, exactly once; the `send` had already succeeded.
///
/// ```
/// let (tx, rx) = corio_sync::oneshot::channel();
/// tx.send(5).unwrap();
/// assert_eq!(futures::executor::block_on(rx), Ok(5));
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
}

/// Why [`Receiver::try_recv`] returned no value.
///
/// ```
/// use corio_sync::oneshot::{channel, TryRecvError};
/// let (tx, mut rx) = channel::<u8>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TryRecvError {
    /// Nothing sent yet; the sender is still alive.
    Empty,
    /// The sender was dropped without sending (or the value was already taken).
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("oneshot channel is empty"),
            TryRecvError::Closed => f.write_str("oneshot sender dropped without sending"),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.inner.state.load(Ordering::Relaxed);
        f.debug_struct("Receiver")
            .field("complete", &(s & COMPLETE != 0))
            .finish()
    }
}

impl<T> Sender<T> {
    /// Sends `value`; gives it back as `Err(value)` if the receiver is gone.
    ///
    /// ```
    /// let (tx, rx) = corio_sync::oneshot::channel();
    /// assert_eq!(tx.send(3), Ok(()));
    /// assert_eq!(futures::executor::block_on(rx), Ok(3));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("sender used after send");
        if inner.state.load(Ordering::Acquire) & CLOSED != 0 {
            return Err(value);
        }
        // SAFETY: until we set COMPLETE the receiver never touches `value`.
        inner.value.with_mut(|p| unsafe { *p = Some(value) });
        let prev = inner.state.fetch_or(COMPLETE | VALUE, Ordering::AcqRel);
        if prev & CLOSED != 0 {
            // The receiver is gone and never reads the value: take it back.
            // SAFETY: the receiver closed before seeing COMPLETE, so it never will.
            let value = inner.value.with_mut(|p| unsafe { (*p).take() });
            return Err(value.expect("value just stored"));
        }
        if prev & RX_WAKER != 0 {
            // SAFETY: RX_WAKER was set before COMPLETE, so the receiver does not write
            // the waker any more.
            inner.rx_waker.with(|p| unsafe {
                if let Some(w) = &*p {
                    w.wake_by_ref();
                }
            });
        }
        Ok(())
    }

    /// True if the receiver was dropped (a `send` would fail).
    ///
    /// ```
    /// let (tx, rx) = corio_sync::oneshot::channel::<()>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        match &self.inner {
            Some(inner) => inner.state.load(Ordering::Acquire) & CLOSED != 0,
            None => true,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let prev = inner.state.fetch_or(COMPLETE, Ordering::AcqRel);
        if prev & RX_WAKER != 0 && prev & CLOSED == 0 {
            // SAFETY: as in `send`.
            inner.rx_waker.with(|p| unsafe {
                if let Some(w) = &*p {
                    w.wake_by_ref();
                }
            });
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it was sent, without waiting.
    ///
    /// ```
    /// use corio_sync::oneshot::{channel, TryRecvError};
    /// let (tx, mut rx) = channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let s = self.inner.state.load(Ordering::Acquire);
        if s & COMPLETE == 0 {
            return Err(TryRecvError::Empty);
        }
        self.take_value(s).map_err(|RecvError| TryRecvError::Closed)
    }

    /// After `COMPLETE` was observed with `Acquire`: the value, if one was sent.
    fn take_value(&self, state: usize) -> Result<T, RecvError> {
        if state & VALUE == 0 {
            return Err(RecvError);
        }
        // SAFETY: COMPLETE is set, so the sender is done with `value`; only the
        // receiver (us, via `&mut self` or the pinned future) reads it now.
        self.inner
            .value
            .with_mut(|p| unsafe { (*p).take() })
            .ok_or(RecvError)
    }
}

impl<T> Receiver<T> {
    fn poll_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        ready!(coop::poll_proceed(cx));
        let this = self.get_mut();
        let inner = &*this.inner;
        let mut s = inner.state.load(Ordering::Acquire);
        if s & COMPLETE != 0 {
            return Poll::Ready(this.take_value(s));
        }
        if s & RX_WAKER != 0 {
            // SAFETY: RX_WAKER is set: only reads happen on the waker.
            let same = inner
                .rx_waker
                .with(|p| unsafe { (*p).as_ref().is_some_and(|w| w.will_wake(cx.waker())) });
            if same {
                coop::refund();
                return Poll::Pending;
            }
            s = inner.state.fetch_and(!RX_WAKER, Ordering::AcqRel);
            if s & COMPLETE != 0 {
                // The sender may be reading the waker: leave it alone.
                return Poll::Ready(this.take_value(s));
            }
        }
        // SAFETY: RX_WAKER is clear and COMPLETE was not set when we cleared it, so
        // the sender will not read the waker until we publish it below.
        inner
            .rx_waker
            .with_mut(|p| unsafe { *p = Some(cx.waker().clone()) });
        s = inner.state.fetch_or(RX_WAKER, Ordering::AcqRel);
        if s & COMPLETE != 0 {
            return Poll::Ready(this.take_value(s));
        }
        coop::refund();
        Poll::Pending
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        let at = self.inner.at;
        let out = self.poll_inner(cx);
        if out.is_pending() {
            trace::record(&ONESHOT_RECV, 0, at);
        }
        out
    }
}

/// What a task pending here awaits, for task dumps.
static ONESHOT_RECV: trace::Op = trace::Op {
    name: "oneshot::Receiver",
    detail: trace::Detail::None,
};

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.inner.state.fetch_or(CLOSED, Ordering::AcqRel);
    }
}
