//! Which workers are idle, how many search for work, and which one to wake.
//!
//! The rule that makes wake-ups never lost (tokio's protocol, modelled in loom):
//! - A scheduler that queued work calls [`Idle::worker_to_notify`]. It wakes a parked
//!   worker only if nobody is searching (a searcher will find the work) — the check is a
//!   `SeqCst` read-modify-write after the push.
//! - The last searcher to park ([`Idle::transition_worker_to_parked`] returns true) must
//!   look at every queue once more (after its own `SeqCst` RMW) and wake a worker if it
//!   finds work.
//!   Either the notifier sees "nobody searching" and wakes someone, or the last searcher's
//!   final scan sees the work.
//! - At most half the workers search at once.

use crate::loom::{AtomicUsize, Mutex, Ordering};

const SEARCH_BITS: usize = 16;
const SEARCH_MASK: usize = (1 << SEARCH_BITS) - 1;
const UNPARK_ONE: usize = 1 << SEARCH_BITS;

/// The idle set and the searching / unparked counters.
pub(crate) struct Idle {
    /// Low bits: workers searching; high bits: workers not parked.
    state: AtomicUsize,
    /// Parked workers, by index.
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

fn searching(state: usize) -> usize {
    state & SEARCH_MASK
}

fn unparked(state: usize) -> usize {
    state >> SEARCH_BITS
}

impl Idle {
    /// All `num_workers` workers start unparked and not searching.
    pub(crate) fn new(num_workers: usize) -> Idle {
        assert!(num_workers < SEARCH_MASK, "too many worker threads");
        Idle {
            state: AtomicUsize::new(num_workers << SEARCH_BITS),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// Work was queued: the index of a parked worker to wake (now counted as unparked and
    /// searching), or `None` if a searcher exists or nobody is parked.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        if !self.notify_should_wakeup() {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        // Re-check under the lock: another notifier may have woken someone meanwhile.
        if !self.notify_should_wakeup() {
            return None;
        }
        let worker = sleepers.pop()?;
        self.state.fetch_add(UNPARK_ONE | 1, Ordering::SeqCst);
        Some(worker)
    }

    fn notify_should_wakeup(&self) -> bool {
        // An RMW, not a load: it is ordered (SeqCst) after the caller's push and before the
        // last searcher's final scan, or after that scan and then it sees the sleeper.
        let state = self.state.fetch_add(0, Ordering::SeqCst);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// A cheap, racy hint: is any worker parked and nobody searching?
    pub(crate) fn has_sleepers_hint(&self) -> bool {
        let state = self.state.load(Ordering::Relaxed);
        searching(state) == 0 && unparked(state) < self.num_workers
    }

    /// An unparked worker ran out of local work: may it search (steal)? At most half the
    /// workers search at once: the check and the increment are one compare-and-swap, so
    /// two workers cannot both pass the check on the same count. (A notifier only wakes a
    /// searcher when none is searching, so that path keeps the cap too.)
    pub(crate) fn transition_worker_to_searching(&self) -> bool {
        let mut state = self.state.load(Ordering::SeqCst);
        loop {
            if 2 * searching(state) >= self.num_workers {
                return false;
            }
            match self.state.compare_exchange_weak(
                state,
                state + 1,
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }

    /// A searcher found work. True if it was the last searcher: it must then wake another
    /// worker so the remaining work is searched for.
    pub(crate) fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(searching(prev) > 0);
        searching(prev) == 1
    }

    /// `worker` is about to park. True if it was the last searcher: it must then scan
    /// every queue once more and wake a worker if there is work.
    pub(crate) fn transition_worker_to_parked(&self, worker: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        let dec = UNPARK_ONE | usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, Ordering::SeqCst);
        sleepers.push(worker);
        is_searching && searching(prev) == 1
    }

    /// `worker` woke up by itself (timeout, driver event) with work: if it was still
    /// listed as parked, unlist it and count it as unparked, not searching (true).
    /// False if a notifier already unlisted it (it is then counted as searching).
    pub(crate) fn unpark_worker_by_id(&self, worker: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        match sleepers.iter().position(|&w| w == worker) {
            Some(i) => {
                sleepers.swap_remove(i);
                self.state.fetch_add(UNPARK_ONE, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Is `worker` still listed as parked (i.e. it was not notified)?
    pub(crate) fn is_parked(&self, worker: usize) -> bool {
        self.sleepers.lock().contains(&worker)
    }
}

impl std::fmt::Debug for Idle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Idle")
            .field("searching", &searching(state))
            .field("unparked", &unparked(state))
            .field("workers", &self.num_workers)
            .finish()
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn notify_wakes_a_sleeper_only_without_searchers() {
        let idle = Idle::new(2);
        assert_eq!(idle.worker_to_notify(), None); // nobody parked
        assert!(!idle.transition_worker_to_parked(1, false));
        assert_eq!(idle.worker_to_notify(), Some(1));
        // Worker 1 is now searching: no second wake.
        assert!(!idle.transition_worker_to_parked(0, false));
        assert_eq!(idle.worker_to_notify(), None);
        assert!(idle.transition_worker_from_searching());
        assert_eq!(idle.worker_to_notify(), Some(0));
    }

    #[test]
    fn at_most_half_search() {
        let idle = Idle::new(4);
        assert!(idle.transition_worker_to_searching());
        assert!(idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_to_searching());
        assert!(!idle.transition_worker_to_parked(0, true));
        assert!(idle.transition_worker_to_parked(1, true));
    }
}
