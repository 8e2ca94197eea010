//! A waker that counts its wake-ups, for tests that poll futures by hand.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

/// The wake-up counter behind [`counting_waker`]: every `wake` and `wake_by_ref` of a
/// waker made from it (or from any clone of that waker) adds one.
///
/// ```
/// use std::sync::Arc;
/// use std::task::Waker;
/// use corio_test_util::WakeCount;
///
/// let count = Arc::new(WakeCount::default());
/// let waker = Waker::from(count.clone());
/// waker.wake();
/// assert_eq!(count.get(), 1);
/// ```
#[derive(Debug, Default)]
pub struct WakeCount(AtomicUsize);

impl WakeCount {
    /// How many wake-ups so far.
    ///
    /// ```
    /// let (waker, count) = corio_test_util::counting_waker();
    /// assert_eq!(count.get(), 0);
    /// waker.wake_by_ref();
    /// assert_eq!(count.get(), 1);
    /// ```
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A fresh waker that counts its wake-ups, and the counter to read them from.
///
/// ```
/// use std::future::Future;
/// use std::pin::pin;
/// use std::task::{Context, Poll};
///
/// let (waker, count) = corio_test_util::counting_waker();
/// let mut fut = pin!(std::future::pending::<()>());
/// assert_eq!(fut.as_mut().poll(&mut Context::from_waker(&waker)), Poll::Pending);
/// assert_eq!(count.get(), 0, "a pending future does not wake itself");
/// ```
pub fn counting_waker() -> (Waker, Arc<WakeCount>) {
    let count = Arc::new(WakeCount::default());
    (Waker::from(count.clone()), count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wake_and_wake_by_ref_both_count_across_clones_and_threads() {
        let (waker, count) = counting_waker();
        waker.wake_by_ref();
        let by_value = waker.clone();
        by_value.wake();
        let w = waker.clone();
        std::thread::spawn(move || w.wake()).join().unwrap();
        assert_eq!(count.get(), 3);
        drop(waker);
        assert_eq!(count.get(), 3, "dropping a waker is not a wake-up");
    }

    #[test]
    fn each_waker_has_its_own_count() {
        let (a, a_count) = counting_waker();
        let (_b, b_count) = counting_waker();
        a.wake();
        assert_eq!((a_count.get(), b_count.get()), (1, 0));
    }
}
