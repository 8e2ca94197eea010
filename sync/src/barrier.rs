//! [`Barrier`] [asyncio.Barrier].

use std::panic::Location;

use crate::coop;
use crate::loom::Mutex;
use crate::trace;
use crate::waiters::{List, Waiter, WakeList};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Lets `parties` tasks wait until all of them have arrived [asyncio.Barrier].
///
/// When the last party arrives the barrier releases everyone and resets for the next
/// generation (it is reusable). Each released waiter gets a distinct
/// [`index`](BarrierWaitResult::index) in `0..parties` — its arrival order within the
/// generation — and exactly one, the last to arrive (index `parties - 1`), is the
/// [leader](BarrierWaitResult::is_leader).
///
/// A waiter dropped before the barrier trips leaves it: the barrier then needs one more
/// arrival (asyncio: a cancelled `wait()` decrements the count). Indices are assigned
/// when the barrier trips, so they stay distinct. A waiter dropped after the barrier
/// tripped (but before it was polled again) changes nothing for the others.
///
/// ```
/// use corio_sync::Barrier;
/// futures::executor::block_on(async {
///     let b = Barrier::new(2);
///     let (x, y) = futures::join!(b.wait(), b.wait());
///     assert_ne!(x.index(), y.index());
///     assert!(x.is_leader() ^ y.is_leader());
/// });
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<BarrierState>,
}

struct BarrierState {
    arrived: usize,
    waiters: List<usize>,
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("waiting", &self.n_waiting())
            .finish()
    }
}

impl Barrier {
    /// A barrier for `parties` tasks.
    ///
    /// # Panics
    /// If `parties` is 0 (asyncio raises `ValueError`).
    ///
    /// ```
    /// let b = corio_sync::Barrier::new(3);
    /// assert_eq!(b.parties(), 3);
    /// ```
    pub fn new(parties: usize) -> Self {
        assert!(parties > 0, "Barrier::new: parties must be at least 1");
        Self {
            parties,
            state: Mutex::new(BarrierState {
                arrived: 0,
                waiters: List::new(),
            }),
        }
    }

    /// Number of parties needed to trip the barrier.
    ///
    /// ```
    /// assert_eq!(corio_sync::Barrier::new(4).parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// Number of tasks waiting in the current generation [asyncio: `n_waiting`].
    ///
    /// ```
    /// assert_eq!(corio_sync::Barrier::new(2).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.state.lock().arrived
    }

    /// Arrives and waits for the other parties.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let b = corio_sync::Barrier::new(1);
    /// let r = b.wait().await;
    /// assert!(r.is_leader());
    /// assert_eq!(r.index(), 0);
    /// # });
    /// ```
    #[track_caller]
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            at: Location::caller(),
            barrier: self,
            waiter: Waiter::new(0),
            state: State::Idle,
        }
    }
}

/// What [`Barrier::wait`] resolves to.
///
/// ```
/// # futures::executor::block_on(async {
/// let r: corio_sync::BarrierWaitResult = corio_sync::Barrier::new(1).wait().await;
/// assert_eq!((r.index(), r.is_leader()), (0, true));
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult {
    index: usize,
    leader: bool,
}

impl BarrierWaitResult {
    /// This waiter's arrival order in its generation, distinct in `0..parties`.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// assert_eq!(corio_sync::Barrier::new(1).wait().await.index(), 0);
    /// # });
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// True for exactly one waiter per generation: the last to arrive.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// assert!(corio_sync::Barrier::new(1).wait().await.is_leader());
    /// # });
    /// ```
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Waiting,
    Done,
}

/// Future of [`Barrier::wait`].
///
/// ```
/// # futures::executor::block_on(async {
/// let b = corio_sync::Barrier::new(1);
/// let fut: corio_sync::barrier::BarrierWait<'_> = b.wait();
/// fut.await;
/// # });
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct BarrierWait<'a> {
    at: &'static Location<'static>,
    barrier: &'a Barrier,
    waiter: Waiter<usize>,
    state: State,
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait")
            .field("state", &self.state)
            .finish()
    }
}

impl BarrierWait<'_> {
    fn poll_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        ready!(coop::poll_proceed(cx));
        // SAFETY: nothing is moved out of the pinned future; the waiter stays in place.
        let this = unsafe { self.get_unchecked_mut() };
        let parties = this.barrier.parties;
        match this.state {
            State::Idle => {
                let mut st = this.barrier.state.lock();
                if st.arrived + 1 == parties {
                    // Last arrival: release this generation, oldest first.
                    st.arrived = 0;
                    let mut wakers = WakeList::<16>::new();
                    let mut index = 0;
                    while let Some(w) = st.waiters.pop_front(|i| *i = index) {
                        wakers.push(w);
                        index += 1;
                    }
                    drop(st);
                    wakers.wake_all();
                    this.state = State::Done;
                    return Poll::Ready(BarrierWaitResult {
                        index: parties - 1,
                        leader: true,
                    });
                }
                st.arrived += 1;
                // SAFETY: pinned, unlinked; Drop removes it unless notified.
                unsafe { st.waiters.push_back(&this.waiter, cx.waker()) };
                this.state = State::Waiting;
            }
            State::Waiting => {
                if !this.waiter.is_notified() {
                    let mut st = this.barrier.state.lock();
                    if !this.waiter.is_notified() {
                        // SAFETY: not notified under the lock: linked.
                        let old = unsafe { st.waiters.update_waker(&this.waiter, cx.waker()) };
                        drop(st);
                        drop(old);
                        coop::refund();
                        return Poll::Pending;
                    }
                }
                this.state = State::Done;
                // SAFETY: notified, so unlinked: the payload is ours.
                let index = unsafe { this.waiter.with_data(|i| *i) };
                return Poll::Ready(BarrierWaitResult {
                    index,
                    leader: false,
                });
            }
            State::Done => panic!("BarrierWait polled after completion"),
        }
        coop::refund();
        Poll::Pending
    }
}

impl Future for BarrierWait<'_> {
    type Output = BarrierWaitResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let at = self.at;
        let out = self.poll_inner(cx);
        if out.is_pending() {
            trace::record(&BARRIER_WAIT, 0, at);
        }
        out
    }
}

/// What a task pending here awaits, for task dumps.
static BARRIER_WAIT: trace::Op = trace::Op {
    name: "Barrier::wait",
    detail: trace::Detail::None,
};

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if self.state != State::Waiting || self.waiter.is_notified() {
            return;
        }
        let mut st = self.barrier.state.lock();
        if !self.waiter.is_notified() {
            // SAFETY: not notified under the lock: linked.
            let waker = unsafe { st.waiters.remove(&self.waiter) };
            st.arrived -= 1;
            drop(st);
            drop(waker);
        }
    }
}
