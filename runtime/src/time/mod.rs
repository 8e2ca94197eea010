//! Timers: [`sleep`], [`sleep_until`] and [`interval`] (asyncio's `asyncio.sleep` and the
//! periodic loops people write around it).
//!
//! All timers of a runtime live in one hierarchical timing wheel (6 levels × 64 slots,
//! 1 ms resolution) inside the runtime's driver. A [`Sleep`] is lazy: building one needs
//! no runtime; its first poll binds it to the driver of the runtime polling it (kept for
//! every later poll), registers it and from then on it owns a slab entry until it
//! completes or is dropped: insert and cancel are O(1) with no system call and, once the
//! slab has grown, no allocation. The worker that waits for I/O sleeps in the OS poller
//! exactly until the earliest timer is due.
//!
//! Why slab entries rather than intrusive nodes pinned inside the `Sleep`: the wheel then
//! needs no `unsafe` and no cross-thread pointer hand-off, a `Sleep` is `Unpin` (usable
//! by `&mut` in `select`-style loops without pinning) and `Send`, and the only cost over
//! intrusive nodes is one amortised slab slot (~48 bytes) per live timer.
//!
//! Resolution: deadlines are rounded *up* to the next millisecond tick, so a sleep never
//! completes before its deadline; it completes on the first driver turn after it (usually
//! within a millisecond when a worker is idle).

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use corio_sync::{coop, trace};

use crate::driver::Driver;
use crate::lazy;
use crate::loom::Arc;

/// Waits until `dur` has elapsed. [asyncio.sleep]
///
/// The returned [`Sleep`] does nothing until awaited (polled). `sleep(Duration::ZERO)`
/// completes on its first poll; to give other tasks a turn use `yield_now`. The deadline
/// is fixed now, when `sleep` is called.
///
/// # Panics
///
/// Building the sleep never panics; polling it outside a corio runtime does, with a
/// message naming the line that called `sleep`. So `corio::run(sleep(d))` works.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// # corio_runtime::run(async {
/// let start = Instant::now();
/// corio_runtime::time::sleep(Duration::from_millis(20)).await;
/// assert!(start.elapsed() >= Duration::from_millis(20));
/// # });
/// ```
///
/// Like `asyncio.run(asyncio.sleep(1))`, a sleep built outside the runtime is fine:
///
/// ```
/// use std::time::Duration;
/// let nap = corio_runtime::time::sleep(Duration::from_millis(5)); // no runtime yet
/// corio_runtime::run(nap);
/// ```
#[track_caller]
pub fn sleep(dur: Duration) -> Sleep {
    Sleep::new(deadline_after(dur), Origin::Sleep)
}

/// Waits until `deadline`. A deadline in the past completes on the first poll.
///
/// # Panics
///
/// Polling the sleep outside a corio runtime panics (building it never does).
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// # corio_runtime::run(async {
/// let deadline = Instant::now() + Duration::from_millis(10);
/// corio_runtime::time::sleep_until(deadline).await;
/// assert!(Instant::now() >= deadline);
/// # });
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline, Origin::SleepUntil)
}

/// The time corio's timers measure against: the real clock, or under loom the runtime's
/// virtual clock (which only moves when the model fires a timer).
#[inline]
pub(crate) fn now() -> Instant {
    #[cfg(any(loom, shuttle))]
    {
        crate::driver::with_current(|driver| driver.now()).unwrap_or_else(Instant::now)
    }
    #[cfg(not(any(loom, shuttle)))]
    {
        Instant::now()
    }
}

/// `dur` from now, or effectively never if that is not representable.
pub(crate) fn deadline_after(dur: Duration) -> Instant {
    let now = now();
    now.checked_add(dur).unwrap_or_else(far_future)
}

fn far_future() -> Instant {
    // ~30 years: effectively never, and still representable on every platform.
    now() + Duration::from_secs(86_400 * 365 * 30)
}

/// Future returned by [`sleep`] and [`sleep_until`].
///
/// Binds to the runtime that first polls it and registers its timer then; dropping it
/// cancels the timer in O(1). `Sleep` is `Unpin`, `Send` and `Sync`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// # corio_runtime::run(async {
/// let mut s = corio_runtime::time::sleep(Duration::from_secs(3600));
/// // Move the deadline closer before awaiting.
/// s.reset(std::time::Instant::now() + Duration::from_millis(5));
/// s.await;
/// # });
/// ```
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct Sleep {
    /// The driver of the runtime that first polled this sleep; `None` while `Unbound`.
    driver: Option<Arc<Driver>>,
    deadline: Instant,
    state: State,
    /// Who created it (`#[track_caller]`): named by a poll outside every runtime and by
    /// task dumps.
    at: &'static Location<'static>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Never polled, so bound to no runtime yet: which constructor built it, for the
    /// panic of a poll outside every runtime. (Inside `State` this costs no space: the
    /// variant fits in the 16 bytes `Registered` needs anyway.)
    Unbound(Origin),
    /// Bound, timer not registered.
    Idle,
    /// In the driver's wheel under `key`; `word` is the deadline as a task-dump detail
    /// word, from the wheel's tick (so recording a wait reads no clock).
    Registered {
        key: u32,
        word: u64,
    },
    Done,
}

/// The public constructor behind a [`Sleep`], named when it is polled outside a runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Sleep,
    SleepUntil,
    Interval,
    IntervalAt,
    WaitFor,
    WaitUntil,
    Wait,
}

impl Origin {
    fn name(self) -> &'static str {
        match self {
            Origin::Sleep => "corio::sleep",
            Origin::SleepUntil => "corio::sleep_until",
            Origin::Interval => "corio::interval",
            Origin::IntervalAt => "corio::interval_at",
            Origin::WaitFor => "corio::wait_for",
            Origin::WaitUntil => "corio::wait_until",
            Origin::Wait => "corio::wait (with a timeout)",
        }
    }
}

impl Sleep {
    /// A sleep until `deadline` that binds to a runtime on its first poll; `origin` and
    /// the caller's location go into the panic of a poll outside every runtime.
    #[track_caller]
    pub(crate) fn new(deadline: Instant, origin: Origin) -> Sleep {
        Sleep {
            driver: None,
            deadline,
            state: State::Unbound(origin),
            at: Location::caller(),
        }
    }

    /// Binds the sleep to the runtime polling it now (its first poll does this anyway).
    ///
    /// # Panics
    ///
    /// Outside every runtime, naming the constructor and the line that called it.
    /// Combinators bind their timer before doing anything else, so such a panic happens
    /// before any other effect of their first poll.
    #[inline]
    pub(crate) fn bind(&mut self) {
        if let State::Unbound(origin) = self.state {
            self.driver = Some(lazy::driver(origin.name(), self.at));
            self.state = State::Idle;
        }
    }

    /// The instant at which this sleep completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// # corio_runtime::run(async {
    /// let at = Instant::now() + Duration::from_millis(1);
    /// let s = corio_runtime::time::sleep_until(at);
    /// assert_eq!(s.deadline(), at);
    /// # });
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// True once the sleep has completed (returned `Ready`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # corio_runtime::run(async {
    /// let mut s = corio_runtime::time::sleep(Duration::ZERO);
    /// assert!(!s.is_elapsed());
    /// (&mut s).await;
    /// assert!(s.is_elapsed());
    /// # });
    /// ```
    pub fn is_elapsed(&self) -> bool {
        self.state == State::Done
    }

    /// Moves the deadline (earlier or later), also after completion: the sleep then waits
    /// again. The new deadline takes effect at the next poll, which re-registers the timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// # corio_runtime::run(async {
    /// let mut s = corio_runtime::time::sleep(Duration::ZERO);
    /// (&mut s).await;
    /// let again = Instant::now() + Duration::from_millis(5);
    /// s.reset(again);
    /// (&mut s).await;
    /// assert!(Instant::now() >= again);
    /// # });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        match self.state {
            State::Registered { key, .. } => {
                self.bound_driver().timer_remove(key as usize);
                self.state = State::Idle;
            }
            State::Done => self.state = State::Idle,
            // Not registered; an unbound sleep stays unbound until its first poll.
            State::Idle | State::Unbound(..) => {}
        }
        self.deadline = deadline;
    }

    /// The driver; only called once bound (in every state but `Unbound`).
    fn bound_driver(&self) -> &Arc<Driver> {
        match &self.driver {
            Some(driver) => driver,
            None => unreachable!("corio: an unbound Sleep has no timer"),
        }
    }
}

impl Sleep {
    /// Where the sleep (or the `wait_for`, `interval`... around it) was created.
    pub(crate) fn created_at(&self) -> &'static Location<'static> {
        self.at
    }

    /// The deadline as a task-dump detail word: the registered timer's (no clock read),
    /// else computed (free when recording is off: see `trace::deadline_word`).
    pub(crate) fn deadline_word(&self) -> u64 {
        match self.state {
            State::Registered { word, .. } => word,
            _ => trace::deadline_word(self.deadline),
        }
    }

    /// Polls the timer without leaving a task-dump record: for combinators that record
    /// what they are themselves (`wait_for`, `Interval::tick`, `wait`).
    pub(crate) fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let this = self;
        if this.state == State::Done {
            return Poll::Ready(());
        }
        this.bind();
        ready!(coop::poll_proceed(cx));
        let driver = this.bound_driver();
        let done = match this.state {
            State::Done => true,
            State::Unbound(..) => unreachable!("bound above"),
            State::Idle => {
                if now() >= this.deadline {
                    true
                } else {
                    match driver.timer_register(this.deadline, cx.waker()) {
                        None => true,
                        Some((key, word)) => {
                            let key = u32::try_from(key).expect("fewer than 2^32 timers");
                            this.state = State::Registered { key, word };
                            false
                        }
                    }
                }
            }
            State::Registered { key, .. } => driver.timer_poll(key as usize, cx.waker()),
        };
        if done {
            this.state = State::Done;
            Poll::Ready(())
        } else {
            coop::refund();
            Poll::Pending
        }
    }
}

/// `sleep (1.2 s left) at src/main.rs:10` in task dumps.
static SLEEP: trace::Op = trace::Op {
    name: "sleep",
    detail: trace::Detail::Deadline,
};

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let out = this.poll_timer(cx);
        if out.is_pending() {
            trace::record(&SLEEP, this.deadline_word(), this.at);
        }
        out
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let State::Registered { key, .. } = self.state {
            self.bound_driver().timer_remove(key as usize);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("state", &self.state)
            .finish()
    }
}

/// Creates an [`Interval`] that ticks now and then every `period`.
///
/// Missed ticks *burst*: if the task falls behind (a slow iteration, a blocked worker),
/// the late ticks complete immediately one after another until the schedule is caught up,
/// exactly like an asyncio loop `while True: ...; await asyncio.sleep(next - now)` that
/// computes `next += period`. Call [`Interval::reset`] to restart the schedule from now
/// instead.
///
/// # Panics
///
/// Panics if `period` is zero. Building an `Interval` needs no runtime: it binds to the
/// runtime that first ticks it, and ticking it outside every runtime panics.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// # corio_runtime::run(async {
/// let start = Instant::now();
/// let mut iv = corio_runtime::time::interval(Duration::from_millis(10));
/// iv.tick().await; // immediately
/// iv.tick().await; // ~10 ms
/// iv.tick().await; // ~20 ms
/// assert!(start.elapsed() >= Duration::from_millis(20));
/// # });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    new_interval(now(), period, Origin::Interval)
}

/// Creates an [`Interval`] whose first tick is at `start`, then every `period`.
///
/// # Panics
///
/// Panics if `period` is zero; ticking it outside a corio runtime panics too (building it
/// does not).
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// # corio_runtime::run(async {
/// let start = Instant::now() + Duration::from_millis(5);
/// let mut iv = corio_runtime::time::interval_at(start, Duration::from_millis(5));
/// assert_eq!(iv.tick().await, start);
/// # });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    new_interval(start, period, Origin::IntervalAt)
}

#[track_caller]
fn new_interval(start: Instant, period: Duration, origin: Origin) -> Interval {
    assert!(
        !period.is_zero(),
        "{}: the period must be non-zero",
        origin.name()
    );
    Interval {
        period,
        sleep: Sleep::new(start, origin),
    }
}

/// Ticks at a fixed period; see [`interval`]. Missed ticks burst.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// # corio_runtime::run(async {
/// let mut iv = corio_runtime::time::interval(Duration::from_millis(1));
/// for _ in 0..3 {
///     iv.tick().await;
/// }
/// # });
/// ```
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    /// Sleeps until the next scheduled tick.
    sleep: Sleep,
}

/// `Interval::tick (0.4 s left) at src/main.rs:10` in task dumps.
static INTERVAL_TICK: trace::Op = trace::Op {
    name: "Interval::tick",
    detail: trace::Detail::Deadline,
};

impl Interval {
    /// Waits for the next tick and returns the instant it was *scheduled* for (which is in
    /// the past when ticks burst to catch up).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// # corio_runtime::run(async {
    /// let mut iv = corio_runtime::time::interval(Duration::from_millis(3));
    /// let first = iv.tick().await;
    /// let second = iv.tick().await;
    /// assert_eq!(second - first, Duration::from_millis(3));
    /// # });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick (the building block of [`Interval::tick`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # corio_runtime::run(async {
    /// let mut iv = corio_runtime::time::interval(Duration::from_millis(1));
    /// std::future::poll_fn(|cx| iv.poll_tick(cx)).await;
    /// # });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if self.sleep.poll_timer(cx).is_pending() {
            let deadline = self.sleep.deadline_word();
            trace::record(&INTERVAL_TICK, deadline, self.sleep.created_at());
            return Poll::Pending;
        }
        let at = self.sleep.deadline();
        let next = at.checked_add(self.period).unwrap_or_else(far_future);
        self.sleep.reset(next);
        Poll::Ready(at)
    }

    /// Restarts the schedule: the next tick is one period from now.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// # corio_runtime::run(async {
    /// let mut iv = corio_runtime::time::interval(Duration::from_millis(5));
    /// iv.tick().await;
    /// let before = Instant::now();
    /// iv.reset();
    /// iv.tick().await;
    /// assert!(before.elapsed() >= Duration::from_millis(5));
    /// # });
    /// ```
    pub fn reset(&mut self) {
        self.sleep.reset(now() + self.period);
    }

    /// The period between ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # corio_runtime::run(async {
    /// let iv = corio_runtime::time::interval(Duration::from_secs(1));
    /// assert_eq!(iv.period(), Duration::from_secs(1));
    /// # });
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }
}

impl futures_core::Stream for Interval {
    type Item = Instant;

    /// Each item is a tick (the instant it was scheduled for); the stream never ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures::StreamExt;
    /// # corio_runtime::run(async {
    /// let ticks: Vec<_> = corio_runtime::time::interval(Duration::from_millis(2))
    ///     .take(3)
    ///     .collect()
    ///     .await;
    /// assert_eq!(ticks[2] - ticks[0], Duration::from_millis(4));
    /// # });
    /// ```
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests;
