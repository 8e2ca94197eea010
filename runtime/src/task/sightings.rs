//! What the monitor thread saw, for task dumps: when task ids were handed out (so a
//! task's age needs no clock read at spawn) and since when each worker has been inside
//! its current poll.
//!
//! Ages come from a log of `(next task id, instant)` checkpoints the monitor appends at
//! every tick in which a task was spawned: a task whose id is below a checkpoint's was
//! spawned before that instant, so `now − instant` of the first such checkpoint is a
//! lower bound on its age, short by at most one tick. The log is thinned as it grows
//! (every other entry of its older half is dropped), so it stays small for a process
//! that runs for months, and old tasks' ages stay accurate to a fraction of their age.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::error::TaskId;

/// Checkpoints kept before the log is thinned.
const MAX_CHECKPOINTS: usize = 1024;

/// The monitor's observations, shared with task dumps.
#[derive(Debug, Default)]
pub(crate) struct Sightings {
    births: Mutex<Vec<(u64, Instant)>>,
    /// Per worker: the task it was polling (its id) and since when, as last sampled.
    running: Mutex<Vec<Option<(u64, Instant)>>>,
}

impl Sightings {
    /// Notes that every task id below the counter's current value exists by `now`.
    #[cfg_attr(any(loom, shuttle), allow(dead_code))] // called by the monitor thread
    pub(crate) fn checkpoint(&self, now: Instant) {
        let next = TaskId::peek_next();
        let mut log = self.births.lock();
        if log.last().is_some_and(|&(id, _)| id == next) {
            return;
        }
        if log.len() == MAX_CHECKPOINTS {
            // Keep the newer half whole; keep every other entry of the older half.
            let half = MAX_CHECKPOINTS / 2;
            let mut i = 0;
            log.retain(|_| {
                i += 1;
                i > half || i % 2 == 1
            });
        }
        log.push((next, now));
    }

    /// A lower bound on the age of task `id` at `now` (zero for a task spawned since the
    /// last checkpoint); `None` if no checkpoint exists (no monitor thread).
    #[cfg(test)]
    pub(crate) fn age(&self, id: TaskId, now: Instant) -> Option<Duration> {
        self.births().age(id, now)
    }

    /// A copy of the birth log, for dating many tasks without taking the lock for each.
    pub(crate) fn births(&self) -> Births {
        Births(self.births.lock().clone())
    }

    /// Records that worker `index` is polling task `task` (0: none) since `since`.
    #[cfg_attr(any(loom, shuttle), allow(dead_code))] // called by the monitor thread
    pub(crate) fn set_running(&self, index: usize, task: u64, since: Instant) {
        let mut running = self.running.lock();
        if running.len() <= index {
            running.resize(index + 1, None);
        }
        running[index] = (task != 0).then_some((task, since));
    }

    /// Since when worker `index` has been polling task `task`, if the monitor saw it.
    pub(crate) fn running_since(&self, index: usize, task: u64) -> Option<Instant> {
        let running = self.running.lock();
        match running.get(index) {
            Some(Some((t, since))) if *t == task => Some(*since),
            _ => None,
        }
    }
}

/// A copy of the birth log (see [`Sightings::births`]).
#[derive(Debug)]
pub(crate) struct Births(Vec<(u64, Instant)>);

impl Births {
    /// A lower bound on the age of task `id` at `now` (zero for a task spawned since the
    /// last checkpoint); `None` if no checkpoint exists (no monitor thread).
    pub(crate) fn age(&self, id: TaskId, now: Instant) -> Option<Duration> {
        let log = &self.0;
        if log.is_empty() {
            return None;
        }
        let i = log.partition_point(|&(next, _)| next <= id.as_u64());
        Some(
            log.get(i)
                .map_or(Duration::ZERO, |&(_, at)| now.saturating_duration_since(at)),
        )
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn ages_are_lower_bounds_from_the_first_later_checkpoint() {
        let s = Sightings::default();
        let t0 = Instant::now();
        assert_eq!(s.age(TaskId::next(), t0), None);
        let a = TaskId::next();
        s.checkpoint(t0);
        let b = TaskId::next();
        s.checkpoint(t0 + Duration::from_secs(1));
        let c = TaskId::next();
        let now = t0 + Duration::from_secs(5);
        assert_eq!(s.age(a, now), Some(Duration::from_secs(5)));
        assert_eq!(s.age(b, now), Some(Duration::from_secs(4)));
        assert_eq!(s.age(c, now), Some(Duration::ZERO));
    }

    #[test]
    fn the_log_is_thinned_not_unbounded() {
        let s = Sightings::default();
        let t0 = Instant::now();
        let first = TaskId::next();
        for i in 0..10_000u64 {
            let _ = TaskId::next();
            s.checkpoint(t0 + Duration::from_millis(i));
        }
        assert!(s.births.lock().len() <= MAX_CHECKPOINTS);
        // The oldest task is still dated to the first checkpoint.
        let now = t0 + Duration::from_secs(100);
        assert_eq!(s.age(first, now), Some(Duration::from_secs(100)));
    }

    #[test]
    fn running_since_matches_the_task() {
        let s = Sightings::default();
        let t0 = Instant::now();
        s.set_running(1, 7, t0);
        assert_eq!(s.running_since(1, 7), Some(t0));
        assert_eq!(s.running_since(1, 8), None);
        assert_eq!(s.running_since(0, 7), None);
        s.set_running(1, 0, t0);
        assert_eq!(s.running_since(1, 7), None);
    }
}
