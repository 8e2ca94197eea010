//! The pool's growth / idle / exit protocol: one packed atomic state word and its named
//! transitions. Every transition is a single read-modify-write (a CAS loop that always
//! writes, even when nothing changes), so all of them are totally ordered on the word and
//! each one acquires everything released by the ones before it. That is what makes the
//! "job pushed, then state read" vs "state written, then queue read" races sound:
//!
//! * a submitter **pushes its job first**, then runs [`PoolState::submit`];
//! * a worker changes its own standing (idle, started, ...) with a transition and only
//!   then looks at the queue.
//!
//! Whichever RMW comes first in the word's modification order, one side sees the other.
//!
//! # Counters
//!
//! * `threads`: live worker threads, including one being spawned.
//! * `idle`: threads blocked (or about to block) in `recv_timeout` that no queued job has
//!   reserved yet: a submitter that sees `idle > 0` moves one to `claimed` and spawns
//!   nothing.
//! * `claimed`: waiting threads reserved by a just-queued job. `idle + claimed` is exactly
//!   the number of threads between [`PoolState::enter_idle`] and leaving the wait.
//! * `starting`: spawned threads that have not yet looked at the queue. Submitters that
//!   find no idle thread while one is starting rely on it: once started, it takes a job
//!   and, if more are still queued than the reserved and starting threads will take,
//!   spawns up to [`GROW_FANOUT`] more threads (at most [`MAX_STARTING`] starting at
//!   once), which do the same. A burst of submissions thus grows the pool in a quickly
//!   widening tree of spawns, off the submitter's thread, and stops growing as soon as
//!   the queue is drained — instead of one spawn per job on the submitter's thread.
//! * `SHUTDOWN`: no new jobs, no new threads, waiting threads leave.
//!
//! # Why no job is stranded
//!
//! A job `J` is pushed, then `submit` decides, on the state at that point:
//! * `Spawn`: a new thread will drain the queue.
//! * `Starting`: a starting thread's [`PoolState::started`] comes later in the order, so
//!   its queue look (and its drain) sees `J`.
//! * `Busy` (no idle thread, at `max`): every thread is running a job or reserved; a busy
//!   thread drains the queue before it can wait, and its `enter_idle` comes after, so it
//!   sees `J`.
//! * `Claimed`: some waiting thread is reserved. A waiting thread leaves only by getting a
//!   message ([`PoolState::got_job`], then drains), by a timeout that finds `idle == 0`
//!   (then it keeps a claim, stays and drains), or by a timeout that finds `idle > 0`
//!   (exits) — and as `idle + claimed` counts the waiting threads, an exit never removes
//!   the last reserved one.
//!
//! Threads only exit from a wait that timed out (so the queue looked empty), at shutdown,
//! or when every pool handle is gone and the queue is drained.

use crate::loom::{AtomicU64, Ordering};

const FIELD_BITS: u32 = 18;
const FIELD_MASK: u64 = (1 << FIELD_BITS) - 1;
const THREADS: u32 = 0;
const IDLE: u32 = FIELD_BITS;
const CLAIMED: u32 = 2 * FIELD_BITS;
const STARTING: u32 = 3 * FIELD_BITS;
const SHUTDOWN: u64 = 1 << 63;

/// How many threads a just-started thread may spawn.
pub(crate) const GROW_FANOUT: usize = 2;
/// The most threads starting at once.
pub(crate) const MAX_STARTING: usize = 4;

/// The largest `max_threads` the packed state can count.
pub(crate) const MAX_THREADS_LIMIT: usize = FIELD_MASK as usize;

/// A decoded copy of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(u64);

impl Snapshot {
    #[inline]
    fn field(self, shift: u32) -> usize {
        ((self.0 >> shift) & FIELD_MASK) as usize
    }

    #[inline]
    fn inc(self, shift: u32) -> Self {
        debug_assert!(self.field(shift) < FIELD_MASK as usize);
        Snapshot(self.0 + (1 << shift))
    }

    #[inline]
    fn dec(self, shift: u32) -> Self {
        debug_assert!(self.field(shift) > 0, "protocol counter underflow");
        Snapshot(self.0 - (1 << shift))
    }

    /// Live threads (including one being spawned).
    pub(crate) fn threads(self) -> usize {
        self.field(THREADS)
    }

    /// Waiting threads that no job has reserved.
    pub(crate) fn idle(self) -> usize {
        self.field(IDLE)
    }

    /// Waiting threads reserved by a queued job.
    pub(crate) fn claimed(self) -> usize {
        self.field(CLAIMED)
    }

    /// Spawned threads that have not looked at the queue yet.
    pub(crate) fn starting(self) -> usize {
        self.field(STARTING)
    }

    /// The pool was shut down.
    pub(crate) fn is_shutdown(self) -> bool {
        self.0 & SHUTDOWN != 0
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("threads", &self.threads())
            .field("idle", &self.idle())
            .field("claimed", &self.claimed())
            .field("starting", &self.starting())
            .field("shutdown", &self.is_shutdown())
            .finish()
    }
}

/// What a submitter must do after pushing its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Submit {
    /// A waiting thread was reserved for the job; nothing to do.
    Claimed,
    /// A thread is starting and will take it (and grow the pool if needed).
    Starting,
    /// At `max_threads` and all busy: a thread takes it when it finishes its job.
    Busy,
    /// Spawn a thread (already counted in `threads` and `starting`).
    Spawn,
    /// The pool is shut down: withdraw the job.
    Shutdown,
}

/// How a timed-out wait ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum TimedOut {
    /// The thread was unreserved: it has been removed from `threads`; return.
    Exit,
    /// Every waiting thread is reserved, so this one keeps a reservation: drain and wait again.
    Stay,
}

/// The pool is shut down (returned by [`PoolState::enter_idle`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IsShutdown;

/// The state word plus the pool's thread cap.
#[derive(Debug)]
pub(crate) struct PoolState {
    state: AtomicU64,
    max: usize,
}

impl PoolState {
    /// An empty pool allowing `max` threads (`1..=MAX_THREADS_LIMIT`).
    pub(crate) fn new(max: usize) -> Self {
        assert!((1..=MAX_THREADS_LIMIT).contains(&max));
        PoolState {
            state: AtomicU64::new(0),
            max,
        }
    }

    /// The thread cap.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// The current state (for introspection and cheap pre-checks only).
    #[inline]
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot(self.state.load(Ordering::Acquire))
    }

    /// One RMW: `f` maps the current state to the next one and a result. Always writes,
    /// so every transition takes part in the word's release sequence.
    #[inline]
    fn transition<R>(&self, mut f: impl FnMut(Snapshot) -> (Snapshot, R)) -> R {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            let (next, r) = f(Snapshot(cur));
            match self
                .state
                .compare_exchange_weak(cur, next.0, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return r,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Submitter, right after pushing a job: reserve an idle thread, rely on a starting
    /// or busy one, or grow the pool.
    pub(crate) fn submit(&self) -> Submit {
        let max = self.max;
        self.transition(|s| {
            if s.is_shutdown() {
                (s, Submit::Shutdown)
            } else if s.idle() > 0 {
                (s.dec(IDLE).inc(CLAIMED), Submit::Claimed)
            } else if s.starting() > 0 {
                (s, Submit::Starting)
            } else if s.threads() < max {
                (s.inc(THREADS).inc(STARTING), Submit::Spawn)
            } else {
                (s, Submit::Busy)
            }
        })
    }

    /// A spawned thread is running: it is no longer `starting`. It must look at the queue
    /// after this (and maybe call [`PoolState::grow`]).
    pub(crate) fn started(&self) {
        self.transition(|s| (s.dec(STARTING), ()))
    }

    /// A just-started thread took its first job and then saw `queued` messages: spawn one
    /// more thread if more are queued than the reserved and starting threads will take,
    /// fewer than [`MAX_STARTING`] are starting and the cap allows. `true`: spawn (already
    /// counted in `threads` and `starting`). Called up to [`GROW_FANOUT`] times.
    ///
    /// Idle threads do not count against the queue: an idle thread waits for the *next*
    /// submission's wake-up and takes none of the jobs already queued. (They are there
    /// when a burst is bigger than the idle set: the first jobs claim the idle threads,
    /// the rest rely on a starting thread; the started thread takes the oldest job, one
    /// a claimed thread was woken for, and [`PoolState::drained_job`] hands that claim
    /// back to `idle`. Requiring `idle == 0` here left every job past the idle set to wait
    /// for a busy thread.)
    #[must_use]
    pub(crate) fn grow(&self, queued: usize) -> bool {
        let max = self.max;
        self.transition(|s| {
            if !s.is_shutdown()
                && s.starting() < MAX_STARTING
                && s.threads() < max
                && queued > s.claimed() + s.starting()
            {
                (s.inc(THREADS).inc(STARTING), true)
            } else {
                (s, false)
            }
        })
    }

    /// The spawn promised by `Submit::Spawn` / `grow` failed: uncount it. Returns the new
    /// state (if it has no threads, nothing will run queued jobs).
    pub(crate) fn spawn_failed(&self) -> Snapshot {
        self.transition(|s| {
            let next = s.dec(THREADS).dec(STARTING);
            (next, next)
        })
    }

    /// A busy thread took a job straight from the queue. If a waiting thread was reserved,
    /// that reservation was probably for this job: give the waiting thread back to `idle`
    /// so the next submitter uses it instead of spawning.
    #[inline]
    pub(crate) fn drained_job(&self) {
        if self.snapshot().claimed() == 0 {
            return;
        }
        self.transition(|s| {
            if s.claimed() > 0 {
                (s.dec(CLAIMED).inc(IDLE), ())
            } else {
                (s, ())
            }
        })
    }

    /// A thread found the queue empty and is about to wait: count it idle, unless the
    /// pool is shut down (then it must exit; call [`PoolState::exit`]).
    pub(crate) fn enter_idle(&self) -> Result<(), IsShutdown> {
        self.transition(|s| {
            if s.is_shutdown() {
                (s, Err(IsShutdown))
            } else {
                (s.inc(IDLE), Ok(()))
            }
        })
    }

    /// A waiting thread got a message (or saw the queue disconnect): it is busy again.
    /// It consumes a reservation if there is one (it was woken for a reserved job).
    pub(crate) fn got_job(&self) {
        self.transition(|s| {
            debug_assert!(s.idle() + s.claimed() > 0);
            if s.claimed() > 0 {
                (s.dec(CLAIMED), ())
            } else {
                (s.dec(IDLE), ())
            }
        })
    }

    /// A wait timed out with nothing received.
    pub(crate) fn timed_out(&self) -> TimedOut {
        self.transition(|s| {
            if s.idle() > 0 {
                (s.dec(IDLE).dec(THREADS), TimedOut::Exit)
            } else {
                (s.dec(CLAIMED), TimedOut::Stay)
            }
        })
    }

    /// A busy thread leaves (shutdown, or the queue is disconnected and drained).
    /// Returns the new state.
    pub(crate) fn exit(&self) -> Snapshot {
        self.transition(|s| {
            let next = s.dec(THREADS);
            (next, next)
        })
    }

    /// Sets `SHUTDOWN`; returns the state before.
    pub(crate) fn shutdown(&self) -> Snapshot {
        Snapshot(self.state.fetch_or(SHUTDOWN, Ordering::AcqRel))
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn spawns_then_relies_on_the_starting_thread() {
        let p = PoolState::new(3);
        assert_eq!(p.submit(), Submit::Spawn);
        assert_eq!(p.submit(), Submit::Starting);
        p.started();
        // The started thread took one job and sees another queued: grow.
        assert!(p.grow(1));
        assert!(
            !p.grow(1),
            "one queued job, one thread already starting for it"
        );
        assert!(p.grow(2));
        assert!(!p.grow(5), "at max");
        p.started();
        p.started();
        assert_eq!(p.submit(), Submit::Busy);
        let s = p.snapshot();
        assert_eq!(
            (s.threads(), s.idle(), s.claimed(), s.starting()),
            (3, 0, 0, 0)
        );
    }

    #[test]
    fn idle_threads_are_claimed_not_spawned_for() {
        let p = PoolState::new(4);
        assert_eq!(p.submit(), Submit::Spawn);
        p.started();
        assert_eq!(p.enter_idle(), Ok(()));
        assert_eq!(p.submit(), Submit::Claimed);
        // The idle thread is reserved now: the next job spawns.
        assert_eq!(p.submit(), Submit::Spawn);
        p.got_job();
        let s = p.snapshot();
        assert_eq!((s.threads(), s.idle(), s.claimed()), (2, 0, 0));
    }

    #[test]
    fn a_reserved_thread_stays_on_timeout_an_unreserved_one_exits() {
        let p = PoolState::new(4);
        assert_eq!(p.submit(), Submit::Spawn);
        p.started();
        assert_eq!(p.enter_idle(), Ok(()));
        assert_eq!(p.submit(), Submit::Claimed);
        assert_eq!(p.timed_out(), TimedOut::Stay);
        assert_eq!(p.enter_idle(), Ok(()));
        assert_eq!(p.timed_out(), TimedOut::Exit);
        assert_eq!(p.snapshot().threads(), 0);
    }

    #[test]
    fn a_drained_reserved_job_frees_the_reservation() {
        let p = PoolState::new(4);
        assert_eq!(p.submit(), Submit::Spawn);
        p.started();
        assert_eq!(p.enter_idle(), Ok(()));
        assert_eq!(p.submit(), Submit::Claimed);
        p.drained_job();
        let s = p.snapshot();
        assert_eq!((s.idle(), s.claimed()), (1, 0));
        assert_eq!(p.submit(), Submit::Claimed);
    }

    #[test]
    fn shutdown_stops_submission_and_idling() {
        let p = PoolState::new(4);
        assert_eq!(p.submit(), Submit::Spawn);
        p.started();
        let before = p.shutdown();
        assert!(!before.is_shutdown());
        assert_eq!(p.submit(), Submit::Shutdown);
        assert_eq!(p.enter_idle(), Err(IsShutdown));
        assert!(!p.grow(10));
        assert_eq!(p.exit().threads(), 0);
    }

    #[test]
    fn growth_fans_out_up_to_the_starting_limit() {
        let p = PoolState::new(100);
        assert_eq!(p.submit(), Submit::Spawn);
        p.started();
        let mut spawned = 0;
        while p.grow(50) {
            spawned += 1;
        }
        assert_eq!(spawned, MAX_STARTING);
        assert_eq!(p.snapshot().starting(), MAX_STARTING);
        p.started();
        assert!(p.grow(50));
        assert_eq!(p.submit(), Submit::Starting);
    }

    #[test]
    fn growth_ignores_idle_threads_that_no_queued_job_will_wake() {
        let p = PoolState::new(100);
        assert_eq!(p.submit(), Submit::Spawn);
        p.started();
        // Two idle threads (as counts).
        assert_eq!(p.enter_idle(), Ok(()));
        assert_eq!(p.enter_idle(), Ok(()));
        // A burst of 10: two claim the idle threads, one spawns, seven rely on it.
        assert_eq!(p.submit(), Submit::Claimed);
        assert_eq!(p.submit(), Submit::Claimed);
        assert_eq!(p.submit(), Submit::Spawn);
        for _ in 0..7 {
            assert_eq!(p.submit(), Submit::Starting);
        }
        p.started();
        // It took the oldest job (a claimed thread's), which frees that claim.
        p.drained_job();
        assert_eq!(p.snapshot().idle(), 1);
        // Nine jobs queued, one claimed thread coming: grow despite the idle count.
        assert!(p.grow(9));
        assert!(p.grow(9));
    }

    #[test]
    fn failed_spawn_is_uncounted() {
        let p = PoolState::new(4);
        assert_eq!(p.submit(), Submit::Spawn);
        let s = p.spawn_failed();
        assert_eq!((s.threads(), s.starting()), (0, 0));
        assert_eq!(p.submit(), Submit::Spawn);
    }
}
