//! Twins of corio's hand-off and park protocols, each with a switch that breaks it the
//! way a plausible bug would. The `#[should_panic]` models run the broken setting to show
//! that loom finds the failure; the ordinary models run the correct setting of the same
//! code to show that it is the switch, not the harness, that makes the difference.

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Mutex;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// A FIFO semaphore with direct hand-off, shaped like `corio_sync::Semaphore`: `release`
/// gives the permit straight to the oldest waiter. With `PASS_ON = false` a waiter that is
/// dropped after being granted a permit but before observing it forgets the permit instead
/// of handing it on (the cancel-safety bug corio's `RawAcquire::drop` guards against).
#[derive(Debug)]
pub struct HandoffSemaphore<const PASS_ON: bool> {
    state: Mutex<SemState>,
}

#[derive(Debug)]
struct SemState {
    permits: usize,
    next_id: u64,
    waiters: VecDeque<(u64, Waker)>,
    granted: Vec<u64>,
}

impl<const PASS_ON: bool> HandoffSemaphore<PASS_ON> {
    /// A semaphore holding `permits`.
    pub fn new(permits: usize) -> Self {
        HandoffSemaphore {
            state: Mutex::new(SemState {
                permits,
                next_id: 0,
                waiters: VecDeque::new(),
                granted: Vec::new(),
            }),
        }
    }

    /// Waits for a permit (FIFO). The permit is kept until [`release`](Self::release).
    pub fn acquire(&self) -> HandoffAcquire<'_, PASS_ON> {
        HandoffAcquire {
            sem: self,
            id: None,
            done: false,
        }
    }

    /// Returns a permit: to the oldest waiter if any, else to the count.
    pub fn release(&self) {
        let mut st = self.state.lock().unwrap();
        let waker = Self::release_locked(&mut st);
        drop(st);
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn release_locked(st: &mut SemState) -> Option<Waker> {
        match st.waiters.pop_front() {
            Some((id, waker)) => {
                st.granted.push(id);
                Some(waker)
            }
            None => {
                st.permits += 1;
                None
            }
        }
    }

    /// Free permits right now.
    pub fn available(&self) -> usize {
        self.state.lock().unwrap().permits
    }
}

/// Future of [`HandoffSemaphore::acquire`].
#[derive(Debug)]
pub struct HandoffAcquire<'a, const PASS_ON: bool> {
    sem: &'a HandoffSemaphore<PASS_ON>,
    id: Option<u64>,
    done: bool,
}

impl<const PASS_ON: bool> Future for HandoffAcquire<'_, PASS_ON> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut st = this.sem.state.lock().unwrap();
        match this.id {
            Some(id) => {
                if let Some(i) = st.granted.iter().position(|&g| g == id) {
                    st.granted.swap_remove(i);
                    this.done = true;
                    return Poll::Ready(());
                }
                if let Some(entry) = st.waiters.iter_mut().find(|(w, _)| *w == id) {
                    entry.1 = cx.waker().clone();
                }
                Poll::Pending
            }
            None => {
                if st.permits > 0 && st.waiters.is_empty() {
                    st.permits -= 1;
                    this.done = true;
                    return Poll::Ready(());
                }
                let id = st.next_id;
                st.next_id += 1;
                st.waiters.push_back((id, cx.waker().clone()));
                this.id = Some(id);
                Poll::Pending
            }
        }
    }
}

impl<const PASS_ON: bool> Drop for HandoffAcquire<'_, PASS_ON> {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        if self.done {
            return;
        }
        let mut st = self.sem.state.lock().unwrap();
        if let Some(i) = st.waiters.iter().position(|(w, _)| *w == id) {
            st.waiters.remove(i);
            return;
        }
        if let Some(i) = st.granted.iter().position(|&g| g == id) {
            st.granted.swap_remove(i);
            if PASS_ON {
                // Granted but never observed: hand the permit on.
                let waker = HandoffSemaphore::<PASS_ON>::release_locked(&mut st);
                drop(st);
                if let Some(w) = waker {
                    w.wake();
                }
            }
            // PASS_ON = false: the permit is silently lost.
        }
    }
}

/// A thread parker with corio's worker `Parker` state machine (`EMPTY` → `PARKED` →
/// `NOTIFIED`): `unpark` swaps in `NOTIFIED` and wakes the thread only if it saw `PARKED`.
/// With `CAS = true` the parker announces itself with a compare-exchange `EMPTY → PARKED`
/// that fails if a notification arrived, as corio's does. With `CAS = false` it checks for
/// a notification with a load and then *stores* `PARKED`: an `unpark` landing between the
/// two is overwritten and its wake-up lost.
///
/// It sleeps in `loom::thread::park` rather than on a condvar, so that the deadlock loom
/// reports for the lost wake-up unwinds cleanly (a loom mutex guard dropped during that
/// unwind would abort the test process). Share it with `std::sync::Arc` for the same reason.
#[derive(Debug)]
pub struct Parker<const CAS: bool> {
    state: AtomicUsize,
    thread: loom::thread::Thread,
}

impl<const CAS: bool> Default for Parker<CAS> {
    fn default() -> Self {
        Self::new()
    }
}

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

impl<const CAS: bool> Parker<CAS> {
    /// A parker for the calling thread (only that thread may [`park`](Self::park)).
    pub fn new() -> Self {
        Parker {
            state: AtomicUsize::new(EMPTY),
            thread: loom::thread::current(),
        }
    }

    /// Blocks until [`unpark`](Self::unpark) was called (before or during the park).
    pub fn park(&self) {
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
        if CAS {
            if let Err(actual) =
                self.state
                    .compare_exchange(EMPTY, PARKED, Ordering::SeqCst, Ordering::SeqCst)
            {
                assert_eq!(actual, NOTIFIED);
                self.state.store(EMPTY, Ordering::SeqCst);
                return;
            }
        } else {
            if self.state.load(Ordering::SeqCst) == NOTIFIED {
                self.state.store(EMPTY, Ordering::SeqCst);
                return;
            }
            self.state.store(PARKED, Ordering::SeqCst);
        }
        loop {
            loom::thread::park();
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Wakes the parked thread, now or at its next `park`.
    pub fn unpark(&self) {
        if self.state.swap(NOTIFIED, Ordering::SeqCst) == PARKED {
            self.thread.unpark();
        }
    }
}
