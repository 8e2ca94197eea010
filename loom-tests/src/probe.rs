//! Manual polling with a waker that counts its wake-ups.
//!
//! `loom::future::block_on` is the right tool when a future must simply complete (a lost
//! wake-up then shows up as a loom deadlock). When a model must decide *when* a future is
//! polled or dropped — register a waiter, let another thread grant it, then drop it — it
//! polls by hand through a [`Probe`] and reads [`Probe::wakes`] to check who was woken.

use loom::sync::atomic::{AtomicUsize, Ordering};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

#[derive(Debug)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker that counts how often it was woken (the count is a loom atomic, so reading it
/// is part of the explored execution). Create it inside `loom::model`.
#[derive(Debug, Clone)]
pub struct Probe {
    count: Arc<Count>,
    waker: Waker,
}

impl Default for Probe {
    fn default() -> Self {
        Self::new()
    }
}

impl Probe {
    /// A fresh probe with zero wake-ups.
    pub fn new() -> Self {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        Probe { count, waker }
    }

    /// The probe's waker.
    pub fn waker(&self) -> &Waker {
        &self.waker
    }

    /// How many times the waker was woken so far.
    pub fn wakes(&self) -> usize {
        self.count.0.load(Ordering::SeqCst)
    }

    /// Polls `fut` once with this probe's waker.
    pub fn poll<F: Future + ?Sized>(&self, fut: Pin<&mut F>) -> Poll<F::Output> {
        fut.poll(&mut Context::from_waker(&self.waker))
    }
}

/// Polls `fut` once with a waker that does nothing.
pub fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}
