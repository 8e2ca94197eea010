//! The driver: what an idle worker blocks in. It owns the runtime's I/O reactor and timers.
//!
//! Contract with the scheduler:
//! - One `Driver` per runtime, shared as `Arc<Driver>`.
//! - At most one thread is inside [`Driver::park`] at a time; the scheduler guarantees it
//!   with a try-lock ("the reactor holder").
//! - [`Driver::park`] blocks until an I/O event, a timer deadline, [`Driver::unpark`] or the
//!   timeout, whichever is first, then wakes the wakers of ready I/O and expired timers.
//!   `park(Some(Duration::ZERO))` only collects what is ready now (scheduler maintenance).
//! - [`Driver::unpark`] is callable from any thread and is never lost: an unpark that
//!   arrives before `park` makes that `park` return at once.
//! - Leaf futures (sleeps, sockets) find their driver with [`with_current`]; the scheduler
//!   makes it current on each worker thread and in `block_on` by entering its runtime
//!   into the thread's context (`runtime/context.rs`), which holds the driver.
//!
//! Inside: one `polling::Poller` (epoll/kqueue) serves both I/O and time. `park` computes
//! the next timer deadline from the timing wheel ([`wheel`]; `crate::time` is the user API
//! on top of it), waits on the poller with the smaller of that and the caller's timeout
//! (one `epoll_pwait` on Linux, `Poller::wait` elsewhere: see [`sys`]), dispatches I/O
//! readiness ([`reactor`]), then advances the wheel and wakes everything that became
//! ready, outside every lock. `unpark` is one eventfd write, skipped while an earlier one
//! is still unconsumed, so a notify that lands before the wait makes that wait return at
//! once.
//!
//! Under `cfg(loom)` time is virtual and no thread ever waits on the poller: the clock
//! (`TimeState::now`, in ticks) moves only when a thread parking in the driver finds a timer
//! filed, and then jumps to the earliest deadline and fires what is due, in deadline order.
//! Which worker parks when is the model's choice, so a timer can fire at any point relative
//! to the tasks (both outcomes of a timeout race are explored), and with nothing else to
//! run time jumps to the next deadline. A park with no timer filed waits on a loom condvar
//! for [`Driver::unpark`]. Registering an I/O source panics: sockets, pipes and signals do
//! not exist inside a model.
//!
//! After [`Driver::shutdown`]: every I/O waiter is woken and I/O readiness polls return an
//! error (`"corio runtime is shut down"`), new registrations fail with that error; every
//! timer waiter is woken and polling a timer (old or new) panics with a message saying the
//! runtime shut down — a sleep after shutdown can neither complete honestly nor wait
//! forever.

pub(crate) mod poll_evented;
pub(crate) mod reactor;
mod readiness;
mod sys;
mod wheel;

use std::io;
use std::task::Waker;
use std::time::{Duration, Instant};

#[cfg(any(loom, shuttle))]
use crate::loom::Condvar;
use crate::loom::{Arc, AtomicBool, Mutex, Ordering};
use crate::runtime::context;

pub(crate) use reactor::{Direction, ScheduledIo};
use wheel::{Inserted, Wheel};

/// Blocks idle workers; wakes I/O and timer waiters.
#[derive(Debug)]
pub(crate) struct Driver {
    pub(crate) io: reactor::Reactor,
    time: Mutex<TimeState>,
    /// Tick 0 of the wheel.
    start: Instant,
    /// `start` as a task-dump detail word (nanoseconds since `corio_sync::trace::epoch`).
    start_word: u64,
    /// Buffers used only by the (single) parked thread.
    park: Mutex<ParkBuffers>,
    shutdown: AtomicBool,
    /// Under loom: where a park with no timer filed waits for [`Driver::unpark`].
    #[cfg(any(loom, shuttle))]
    clock: Condvar,
}

#[derive(Debug)]
struct TimeState {
    wheel: Wheel,
    /// `Some(tick)` while a thread is (about to be) blocked in `park` planning to wake at
    /// `tick` (`u64::MAX`: no timer); a timer inserted earlier than that must notify.
    parked_until: Option<u64>,
    /// Under loom: the virtual clock, in ticks since `start`.
    #[cfg(any(loom, shuttle))]
    now: u64,
    /// Under loom: an [`Driver::unpark`] not yet consumed by a park.
    #[cfg(any(loom, shuttle))]
    notified: bool,
}

struct ParkBuffers {
    #[cfg_attr(any(loom, shuttle), allow(dead_code))] // under loom nothing waits on the poller
    events: sys::EventBuf,
    wakers: Vec<Waker>,
}

impl std::fmt::Debug for ParkBuffers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParkBuffers").finish_non_exhaustive()
    }
}

impl Driver {
    /// Creates the driver (the OS poller and the timer wheel).
    pub(crate) fn new() -> io::Result<Driver> {
        Self::with_reactor(reactor::Reactor::new()?)
    }

    /// A driver whose reactor uses oneshot registrations (tests of the fallback path).
    #[cfg(test)]
    pub(crate) fn new_oneshot() -> io::Result<Driver> {
        Self::with_reactor(reactor::Reactor::new_oneshot()?)
    }

    fn with_reactor(io: reactor::Reactor) -> io::Result<Driver> {
        // The epoch first, so that it is not after `start` (`start_word` is then exact).
        let _ = corio_sync::trace::epoch();
        let start = Instant::now();
        Ok(Driver {
            io,
            time: Mutex::new(TimeState {
                wheel: Wheel::new(),
                parked_until: None,
                #[cfg(any(loom, shuttle))]
                now: 0,
                #[cfg(any(loom, shuttle))]
                notified: false,
            }),
            start,
            start_word: corio_sync::trace::deadline_word(start),
            park: Mutex::new(ParkBuffers {
                events: sys::EventBuf::new(),
                wakers: Vec::new(),
            }),
            shutdown: AtomicBool::new(false),
            #[cfg(any(loom, shuttle))]
            clock: Condvar::new(),
        })
    }

    /// Waits for events up to `timeout` (`None` = no limit) and wakes whatever is ready.
    #[cfg(not(any(loom, shuttle)))]
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        // A maintenance turn with no I/O source registered has nothing to collect from the
        // poller (and asking it is a system call even with a zero timeout): only expired
        // timers. A pending `unpark` stays pending for the next real park.
        let mut buffers = self.park.lock();
        let ParkBuffers { events, wakers } = &mut *buffers;
        if timeout == Some(Duration::ZERO) && !self.io.has_sources() {
            self.process_timers(wakers);
            return;
        }
        let wait = if timeout == Some(Duration::ZERO) {
            Some(Duration::ZERO)
        } else {
            let mut time = self.time.lock();
            let next = time.wheel.next_expiration();
            time.parked_until = Some(next.unwrap_or(u64::MAX));
            let until_timer = next.map(|tick| self.until_tick(tick));
            match (timeout, until_timer) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        if let Err(e) = self.io.wait(events, wait) {
            // Nothing sensible to do but not spin: the scheduler parks again. EINTR is
            // retried inside; other errors mean a broken epoll fd.
            debug_assert!(false, "corio: waiting for I/O events failed: {e}");
        }
        self.io.dispatch(events, wakers);
        wakers.drain(..).for_each(Waker::wake);
        self.process_timers(wakers);
    }

    /// Makes the current or next [`Driver::park`] return promptly.
    #[cfg(not(any(loom, shuttle)))]
    pub(crate) fn unpark(&self) {
        self.io.notify();
    }

    /// Under loom: fires the timers due at the virtual clock; unless `timeout` is zero (a
    /// maintenance turn), first consumes a pending [`Driver::unpark`], or else moves the
    /// clock to the earliest filed deadline, or else waits on the condvar for an unpark (a
    /// timer filed while we wait unparks us). Any other timeout is treated as none: time
    /// does not pass on its own in a model.
    #[cfg(any(loom, shuttle))]
    pub(crate) fn park(&self, timeout: Option<Duration>) {
        let mut buffers = self.park.lock();
        if timeout != Some(Duration::ZERO) {
            let mut time = self.time.lock();
            loop {
                if std::mem::take(&mut time.notified) {
                    break;
                }
                if let Some(tick) = time.wheel.next_expiration() {
                    time.now = time.now.max(tick);
                    break;
                }
                time.parked_until = Some(u64::MAX);
                self.clock.wait(&mut time);
            }
        }
        self.process_timers(&mut buffers.wakers);
    }

    /// Under loom: makes the current or next [`Driver::park`] return promptly.
    #[cfg(any(loom, shuttle))]
    pub(crate) fn unpark(&self) {
        let mut time = self.time.lock();
        time.notified = true;
        drop(time);
        self.clock.notify_one();
    }

    /// Under loom: the virtual clock.
    #[cfg(any(loom, shuttle))]
    pub(crate) fn now(&self) -> Instant {
        self.start + Duration::from_millis(self.time.lock().now)
    }

    /// Wakes every registered I/O and timer waiter; later registrations fail.
    pub(crate) fn shutdown(&self) {
        if self.shutdown.swap(true, Ordering::SeqCst) {
            return;
        }
        let mut wakers = Vec::new();
        self.io.shutdown(&mut wakers);
        self.time.lock().wheel.fire_all(&mut wakers);
        wakers.into_iter().for_each(Waker::wake);
        self.unpark();
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    // ---- time --------------------------------------------------------------------------

    /// Advances the wheel to now and wakes expired timers outside the lock.
    fn process_timers(&self, wakers: &mut Vec<Waker>) {
        #[cfg(not(any(loom, shuttle)))]
        let now = self.now_tick(Instant::now());
        let mut time = self.time.lock();
        #[cfg(any(loom, shuttle))]
        let now = time.now;
        time.parked_until = None;
        time.wheel.advance(now, wakers);
        drop(time);
        wakers.drain(..).for_each(Waker::wake);
    }

    /// Ticks are whole milliseconds since `start`; a deadline rounds up so a timer never
    /// fires early.
    fn deadline_tick(&self, deadline: Instant) -> u64 {
        let d = deadline.saturating_duration_since(self.start);
        let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
        u64::try_from(ms).unwrap_or(u64::MAX / 2).min(u64::MAX / 2)
    }

    /// A deadline that rounded up to `tick` as a task-dump detail word (nanoseconds since
    /// `corio_sync::trace::epoch`), up to a millisecond early, without reading a clock.
    fn tick_word(&self, tick: u64) -> u64 {
        let ms = tick.saturating_sub(1);
        self.start_word.saturating_add(ms.saturating_mul(1_000_000))
    }

    #[cfg(not(any(loom, shuttle)))]
    fn now_tick(&self, now: Instant) -> u64 {
        let ms = now.saturating_duration_since(self.start).as_millis();
        u64::try_from(ms).unwrap_or(u64::MAX / 2).min(u64::MAX / 2)
    }

    /// Time from now until `tick` begins, rounded up to a whole millisecond.
    #[cfg(not(any(loom, shuttle)))]
    fn until_tick(&self, tick: u64) -> Duration {
        let at = self.start + Duration::from_millis(tick);
        let d = at.saturating_duration_since(Instant::now());
        let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
        Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
    }

    fn assert_timers_alive(&self) {
        if self.is_shutdown() {
            panic!(
                "a corio timer was polled after its runtime shut down: \
                 sleeps cannot be awaited once the runtime is dropped"
            );
        }
    }

    /// Files a timer for `deadline`: its key and the deadline as a task-dump detail word
    /// (see [`Driver::tick_word`]), or `None` if it is already due.
    pub(crate) fn timer_register(&self, deadline: Instant, waker: &Waker) -> Option<(usize, u64)> {
        self.assert_timers_alive();
        let when = self.deadline_tick(deadline);
        let mut time = self.time.lock();
        match time.wheel.insert(when, waker.clone()) {
            Inserted::Elapsed => None,
            Inserted::Pending(key) => {
                let notify = time.parked_until.is_some_and(|t| when < t);
                drop(time);
                if notify {
                    self.unpark();
                }
                Some((key, self.tick_word(when)))
            }
        }
    }

    /// True (and the entry removed) if the timer fired; otherwise refreshes its waker.
    pub(crate) fn timer_poll(&self, key: usize, waker: &Waker) -> bool {
        self.assert_timers_alive();
        let mut time = self.time.lock();
        if time.wheel.is_fired(key) {
            time.wheel.remove(key);
            true
        } else {
            time.wheel.set_waker(key, waker);
            false
        }
    }

    /// Removes a timer entry (a dropped or reset sleep).
    pub(crate) fn timer_remove(&self, key: usize) {
        self.time.lock().wheel.remove(key);
    }

    /// Number of timer entries alive (tests and metrics).
    pub(crate) fn timer_entries(&self) -> usize {
        self.time.lock().wheel.len()
    }
}

/// Makes `driver` the current thread's driver until the guard drops (tests of the driver,
/// timers and sockets without a scheduler; runtimes enter theirs with
/// [`context::enter`]).
#[cfg(test)]
pub(crate) fn enter(driver: Arc<Driver>) -> context::EnterGuard {
    context::enter_driver(driver)
}

/// Panics saying `what` does not exist inside a model (called only under `cfg(loom)` or
/// `cfg(shuttle)`: the callers test for them, so normal builds compile the call away).
#[cold]
#[track_caller]
pub(crate) fn unavailable_under_loom(what: &str) -> ! {
    panic!(
        "{what} is not available inside a loom or shuttle model (`--cfg loom`, \
         `--cfg shuttle`): a corio model may use tasks, \
         timers (virtual time), corio::sync and to_thread, but no sockets, pipes, \
         subprocesses or signals"
    )
}

/// Runs `f` with the current thread's driver, or returns `None` outside a runtime.
pub(crate) fn with_current<R>(f: impl FnOnce(&Arc<Driver>) -> R) -> Option<R> {
    context::with_driver(f)
}

/// The current driver, or a panic naming `what` and how to fix the call site.
#[track_caller]
pub(crate) fn current(what: &str) -> Arc<Driver> {
    match with_current(Arc::clone) {
        Some(d) => d,
        None => panic!(
            "{what} must be called from inside a corio runtime: \
             wrap your code in corio::run(...) or Runtime::block_on"
        ),
    }
}

/// A driver parked in a loop by a helper thread, and a thread-parking `block_on` that
/// enters it: tests of the driver, timers and sockets in isolation from the scheduler.
#[cfg(all(test, not(any(loom, shuttle))))]
pub(crate) mod harness {
    use std::future::Future;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::task::{Context, Poll, Wake, Waker};
    use std::thread::JoinHandle;
    use std::time::Instant;

    use super::{enter, Driver};
    use crate::loom::Arc;

    struct ThreadWaker(std::thread::Thread);

    impl Wake for ThreadWaker {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }

    #[derive(Debug)]
    pub(crate) struct Harness {
        pub(crate) driver: Arc<Driver>,
        stop: std::sync::Arc<AtomicBool>,
        parker: Option<JoinHandle<()>>,
    }

    impl Harness {
        pub(crate) fn new() -> Harness {
            Self::with_driver(Driver::new().expect("corio: cannot create the I/O driver"))
        }

        /// A harness whose reactor registers sources in oneshot mode.
        pub(crate) fn oneshot() -> Harness {
            Self::with_driver(Driver::new_oneshot().expect("corio: cannot create the I/O driver"))
        }

        fn with_driver(driver: Driver) -> Harness {
            let driver = Arc::new(driver);
            let stop = std::sync::Arc::new(AtomicBool::new(false));
            let parker = {
                let driver = driver.clone();
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        driver.park(None);
                    }
                })
            };
            Harness {
                driver,
                stop,
                parker: Some(parker),
            }
        }

        /// Polls `fut` on this thread (with the driver entered) until it completes;
        /// panics if `deadline` passes first.
        pub(crate) fn block_on<F: Future>(&self, deadline: Option<Instant>, fut: F) -> F::Output {
            let _guard = enter(self.driver.clone());
            let waker = Waker::from(std::sync::Arc::new(ThreadWaker(std::thread::current())));
            let mut cx = Context::from_waker(&waker);
            let mut fut = std::pin::pin!(fut);
            loop {
                if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                    return v;
                }
                match deadline {
                    None => std::thread::park(),
                    Some(d) => {
                        let now = Instant::now();
                        assert!(now < d, "test future did not complete in time");
                        std::thread::park_timeout(d - now);
                    }
                }
            }
        }
    }

    impl Drop for Harness {
        fn drop(&mut self) {
            self.stop.store(true, Ordering::SeqCst);
            self.driver.unpark();
            if let Some(p) = self.parker.take() {
                let _ = p.join();
            }
        }
    }
}
