//! One I/O source's readiness as a single atomic word: what the poller last reported and
//! how many events it has delivered, so the hot path (an operation on a ready socket)
//! needs no lock.
//!
//! Layout: bit 0 readable, bit 1 writable, bit 2 read closed (the peer sends nothing more;
//! never cleared), bit 3 shut down (the runtime is gone; never cleared), bits 16.. the
//! event tick. An operation that fails with `WouldBlock` clears its direction only if the
//! tick it observed is still current: an event that arrived in between keeps the bit.

use crate::loom::{AtomicU64, Ordering};

pub(crate) const READABLE: u64 = 0b0001;
pub(crate) const WRITABLE: u64 = 0b0010;
const READ_CLOSED: u64 = 0b0100;
const SHUTDOWN: u64 = 0b1000;
const TICK_SHIFT: u32 = 16;

/// A snapshot of the word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(u64);

impl Snapshot {
    /// Whether an operation needing `bit` (`READABLE`/`WRITABLE`) should be attempted.
    pub(crate) fn is_ready(self, bit: u64) -> bool {
        self.0 & bit != 0 || (bit == READABLE && self.0 & READ_CLOSED != 0)
    }

    pub(crate) fn is_shutdown(self) -> bool {
        self.0 & SHUTDOWN != 0
    }

    pub(crate) fn tick(self) -> u64 {
        self.0 >> TICK_SHIFT
    }
}

/// What [`Readiness::transition_to_cleared`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Cleared {
    /// The direction is no longer ready: the next poll waits for an event.
    Cleared,
    /// An event arrived since the observation (or the read side is closed): kept.
    Kept,
}

/// The atomic readiness word of one source.
#[derive(Debug)]
pub(crate) struct Readiness(AtomicU64);

impl Readiness {
    /// A fresh source's word with `bits` (`READABLE`/`WRITABLE`) ready and tick 0.
    ///
    /// Set before the source is registered, so no event can precede it: a direction that
    /// must wait for the poller's first report (the write side of a connect in progress)
    /// starts cleared instead of being cleared after registration, which would race
    /// the dispatch of that report and lose it.
    pub(crate) fn new(bits: u64) -> Readiness {
        Readiness(AtomicU64::new(bits & (READABLE | WRITABLE)))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// The poller delivered an event: set its directions and bump the tick.
    #[cfg_attr(any(loom, shuttle), allow(dead_code))] // under loom nothing waits on the poller
    pub(crate) fn transition_to_event(&self, readable: bool, writable: bool, closed: bool) {
        let mut bits = 0;
        if readable {
            bits |= READABLE;
        }
        if writable {
            bits |= WRITABLE;
        }
        if closed {
            bits |= READ_CLOSED;
        }
        let mut cur = self.0.load(Ordering::Relaxed);
        loop {
            let next = (cur | bits).wrapping_add(1 << TICK_SHIFT);
            match self
                .0
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// An operation observed `seen` and then found `bit` not ready: clear it unless an event
    /// arrived since (tick moved) or the read side is closed.
    pub(crate) fn transition_to_cleared(&self, seen: Snapshot, bit: u64) -> Cleared {
        let mut cur = self.0.load(Ordering::Acquire);
        loop {
            let snap = Snapshot(cur);
            if snap.tick() != seen.tick() || (bit == READABLE && cur & READ_CLOSED != 0) {
                return Cleared::Kept;
            }
            match self
                .0
                .compare_exchange_weak(cur, cur & !bit, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Cleared::Cleared,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Clears `bit` whatever happened. Not used by the runtime: it is the lost wake-up
    /// the loom models' broken twins commit (a clear that ignores the tick).
    #[cfg(any(test, loom, shuttle))]
    #[allow(dead_code)] // corio-runtime's loom build includes it, but only the models call it
    pub(crate) fn clear(&self, bit: u64) {
        self.0.fetch_and(!bit, Ordering::AcqRel);
    }

    /// Marks `bits` ready without an event (the poller refused the source: let the
    /// operation run and report the real error).
    pub(crate) fn force_ready(&self, bits: u64) {
        self.0.fetch_or(bits, Ordering::AcqRel);
    }

    /// The runtime shut down: every later poll fails.
    pub(crate) fn transition_to_shutdown(&self) {
        self.0.fetch_or(SHUTDOWN, Ordering::AcqRel);
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn a_clear_after_a_newer_event_is_ignored() {
        let r = Readiness::new(READABLE | WRITABLE);
        let seen = r.load();
        assert!(seen.is_ready(READABLE) && seen.is_ready(WRITABLE));
        r.transition_to_event(true, false, false);
        assert_eq!(r.transition_to_cleared(seen, READABLE), Cleared::Kept);
        assert!(r.load().is_ready(READABLE));
        let seen = r.load();
        assert_eq!(r.transition_to_cleared(seen, READABLE), Cleared::Cleared);
        assert!(!r.load().is_ready(READABLE));
        assert!(r.load().is_ready(WRITABLE));
    }

    #[test]
    fn read_closed_keeps_reads_ready_and_shutdown_sticks() {
        let r = Readiness::new(READABLE | WRITABLE);
        r.transition_to_event(true, false, true);
        let seen = r.load();
        assert_eq!(r.transition_to_cleared(seen, READABLE), Cleared::Kept);
        r.clear(READABLE);
        assert!(
            r.load().is_ready(READABLE),
            "read closed: reads never block"
        );
        assert!(!r.load().is_shutdown());
        r.transition_to_shutdown();
        r.transition_to_event(false, true, false);
        assert!(r.load().is_shutdown());
    }
}
