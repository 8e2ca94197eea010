//! A worker thread's loop: find work, run it, park.

use std::cell::{Cell, RefCell};
use std::io;
use std::time::Duration;

use super::park::Parked;
use super::queue::{Local, Steal};
use super::{Queues, Shared, WATCH_INTERVAL, WATCH_QUIET_INTERVALS};
use crate::loom::{thread, Arc, AtomicU64, Ordering};
use crate::runtime::context;
use crate::scheduler::{self, Handle};
use crate::task::{Notified, RawTask};

/// Every this many ticks a worker checks the injector first, then does maintenance.
const GLOBAL_QUEUE_INTERVAL: u32 = 61;
/// At most this many LIFO-slot tasks in a row, so a ping-pong pair cannot starve the queue;
/// after that the chain waits its turn behind the local queue and the injector until it
/// breaks.
const MAX_LIFO_POLLS_IN_A_ROW: u8 = 3;

/// Worker state; lives on the worker's stack and is only used through `&Worker` (the
/// schedule path reaches it through the thread's context while the loop runs).
pub(crate) struct Worker {
    shared: Arc<Shared>,
    index: usize,
    local: Local<Notified>,
    /// Tasks that woke themselves during their poll: served after `local` and the injector.
    yielded: Local<Notified>,
    tick: Cell<u32>,
    lifo_streak: Cell<u8>,
    searching: Cell<bool>,
    /// Inside `park` (possibly dispatching I/O in the driver): still listed as a sleeper.
    parked: Cell<bool>,
    rng: Cell<u32>,
    /// This worker is the LIFO watcher (`Shared::watching` is ours).
    watcher: Cell<bool>,
    /// Watcher's last observation of every worker's poll counter.
    observed: RefCell<Vec<u64>>,
    /// Watcher: consecutive intervals in which no other worker polled anything.
    quiet: Cell<u32>,
    /// Watcher: at the last look a worker was stuck in a poll, so take the reactor over if
    /// it is free. Kept across watch sessions, so a watcher that ran a task and watches
    /// again does not wait a whole interval to re-check a worker it already saw stuck.
    take_reactor: Cell<bool>,
}

/// Starts `n` worker threads named `<thread_name>-<i>`.
pub(crate) fn launch(
    shared: &Arc<Shared>,
    locals: Vec<Queues>,
) -> io::Result<Vec<thread::JoinHandle<()>>> {
    let mut threads = Vec::with_capacity(locals.len());
    for (index, local) in locals.into_iter().enumerate() {
        let shared2 = shared.clone();
        #[cfg(any(loom, shuttle))]
        crate::loom::stall::thread_spawning();
        let spawned = thread::Builder::new()
            .name(format!("{}-{}", shared.thread_name, index))
            .spawn(move || {
                #[cfg(any(loom, shuttle))]
                let _exit = StallExit::start();
                run(shared2, index, local)
            });
        match spawned {
            Ok(handle) => threads.push(handle),
            Err(e) => {
                #[cfg(any(loom, shuttle))]
                crate::loom::stall::thread_exited();
                shared.begin_shutdown();
                for t in threads {
                    let _ = t.join();
                }
                return Err(e);
            }
        }
    }
    Ok(threads)
}

/// Under loom: a worker is one of the runtime's threads for the model's deadlock check
/// (`corio_sync::loom::stall`) from its start until it exits.
#[cfg(any(loom, shuttle))]
struct StallExit;

#[cfg(any(loom, shuttle))]
impl StallExit {
    fn start() -> StallExit {
        crate::loom::stall::become_participant();
        StallExit
    }
}

#[cfg(any(loom, shuttle))]
impl Drop for StallExit {
    fn drop(&mut self) {
        crate::loom::stall::thread_exited();
    }
}

fn run(shared: Arc<Shared>, index: usize, queues: Queues) {
    let _context = context::enter(Handle::MultiThread(shared.clone()), true);
    let n = shared.num_workers();
    let cx = scheduler::Context::MultiThread(Worker {
        shared,
        index,
        local: queues.run,
        yielded: queues.yielded,
        tick: Cell::new(0),
        lifo_streak: Cell::new(0),
        searching: Cell::new(false),
        parked: Cell::new(false),
        rng: Cell::new((0x9E37_79B9 ^ (index as u32).wrapping_mul(0x85EB_CA6B)) | 1),
        watcher: Cell::new(false),
        observed: RefCell::new(vec![0; n]),
        quiet: Cell::new(0),
        take_reactor: Cell::new(false),
    });
    let scheduler::Context::MultiThread(worker) = &cx else {
        unreachable!("built as a worker just above")
    };
    context::set_scheduler(&cx, || {
        worker.run();
        // Shutdown: drop the references still queued here; the registry cancels the tasks.
        while let Some(task) = worker.local.pop().or_else(|| worker.yielded.pop()) {
            drop(task);
        }
        if let Some(task) = worker.take_lifo(index) {
            drop(task);
        }
    });
}

/// Queues `task` on the current worker if this thread is one of `shared`'s workers;
/// otherwise gives it back.
pub(super) fn schedule_local(
    shared: &Arc<Shared>,
    task: Notified,
    is_yield: bool,
) -> Result<(), Notified> {
    context::with_scheduler(|cx| match cx {
        Some(scheduler::Context::MultiThread(worker)) if Arc::ptr_eq(&worker.shared, shared) => {
            worker.schedule(task, is_yield);
            Ok(())
        }
        _ => Err(task),
    })
}

impl Worker {
    fn remote(&self) -> &super::Remote {
        &self.shared.remotes[self.index]
    }

    fn run(&self) {
        while !self.shared.is_shutdown() {
            let tick = self.tick.get().wrapping_add(1);
            self.tick.set(tick);
            if tick % GLOBAL_QUEUE_INTERVAL == 0 {
                self.maintenance();
            }
            match self.next_task(tick).or_else(|| self.steal_work()) {
                Some(task) => {
                    self.transition_from_searching();
                    self.run_task(task);
                }
                None => self.park(),
            }
        }
    }

    /// Collects ready I/O and timers without blocking, if nobody else holds the driver.
    fn maintenance(&self) {
        if let Some(_holder) = self.shared.driver_lock.try_lock() {
            self.shared.driver.park(Some(Duration::ZERO));
        }
    }

    /// Adds one to a counter only this worker writes (a relaxed load and store).
    fn count(&self, counter: &AtomicU64) {
        counter.store(
            counter.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }

    fn run_task(&self, task: Notified) {
        let remote = self.remote();
        // Watchdog counters: plain relaxed stores, only this thread writes them.
        remote.polls.store(
            remote.polls.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
        remote.current.store(task.id().as_u64(), Ordering::Relaxed);
        task.run();
        remote.current.store(0, Ordering::Relaxed);
    }

    fn schedule(&self, task: Notified, is_yield: bool) {
        let notify = if is_yield {
            // Behind everything already ready (local queue and injector), and stealable.
            self.yielded.push(task);
            true
        } else {
            let new = task.into_raw().header_ptr();
            match self.remote().lifo.push(new) {
                Some(prev) => {
                    self.local.push(Notified::from_raw(RawTask::from_raw(prev)));
                    true
                }
                // Only the LIFO slot got work: make sure someone watches it in case this
                // poll turns out long (a parked worker becomes the watcher).
                None => !self.shared.watching.load(Ordering::SeqCst),
            }
        };
        // Local work never needs a wake-up for correctness (this worker will run it), only
        // for parallelism, so a racy hint is enough here. A worker waking tasks from inside
        // its own park (driver dispatch) is still listed as a sleeper and could pick itself;
        // it decides once, when it leaves the park with the whole batch queued.
        if notify && !self.parked.get() && self.shared.idle.has_sleepers_hint() {
            self.shared.notify_parked();
        }
    }

    fn take_lifo(&self, index: usize) -> Option<Notified> {
        self.shared.remotes[index]
            .lifo
            .take()
            .map(|p| Notified::from_raw(RawTask::from_raw(p)))
    }

    fn next_task(&self, tick: u32) -> Option<Notified> {
        if tick % GLOBAL_QUEUE_INTERVAL == 0 {
            // Fairness: neither the injector nor yielded tasks wait forever behind a busy
            // local queue.
            if let Some(task) = self.pop_injector().or_else(|| self.yielded.pop()) {
                return Some(task);
            }
        }
        if self.lifo_streak.get() >= MAX_LIFO_POLLS_IN_A_ROW && !self.remote().lifo.is_occupied() {
            // The chain broke.
            self.lifo_streak.set(0);
        }
        if self.lifo_streak.get() < MAX_LIFO_POLLS_IN_A_ROW {
            if let Some(task) = self.take_lifo(self.index) {
                self.lifo_streak.set(self.lifo_streak.get() + 1);
                return Some(task);
            }
            self.lifo_streak.set(0);
            return self
                .local
                .pop()
                .or_else(|| self.pop_injector())
                .or_else(|| self.yielded.pop());
        }
        // The chain in the LIFO slot had its polls in a row. Until it breaks (the slot is
        // found empty) it waits behind the local queue and the injector: a task that keeps
        // waking or spawning its successor cannot starve work from outside, which would
        // otherwise get one look every `GLOBAL_QUEUE_INTERVAL` ticks.
        // (A plain look at the injector first: stealing from an empty one costs a fence.)
        self.local
            .pop()
            .or_else(|| (!self.shared.injector.is_empty()).then(|| self.pop_injector())?)
            .or_else(|| self.take_lifo(self.index))
            .or_else(|| {
                self.lifo_streak.set(0);
                self.yielded.pop()
            })
    }

    fn pop_injector(&self) -> Option<Notified> {
        loop {
            match self.shared.injector.steal_batch_and_pop(&self.local) {
                Steal::Success(task) => return Some(task),
                Steal::Empty => return None,
                Steal::Retry => crate::loom::spin_loop(),
            }
        }
    }

    fn rand(&self) -> u32 {
        // xorshift32
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng.set(x);
        x
    }

    /// Steals from other workers and the injector, as one of at most half the workers.
    fn steal_work(&self) -> Option<Notified> {
        if !self.searching.get() {
            if !self.shared.idle.transition_worker_to_searching() {
                return None;
            }
            self.searching.set(true);
        }
        let n = self.shared.remotes.len();
        for _ in 0..4 {
            let start = self.rand() as usize % n;
            let mut retry = false;
            for i in 0..n {
                let victim = (start + i) % n;
                if victim == self.index {
                    continue;
                }
                let remote = &self.shared.remotes[victim];
                for stealer in [&remote.stealer, &remote.yielded] {
                    match stealer.steal_batch_and_pop(&self.local) {
                        Steal::Success(task) => {
                            self.count(&self.remote().steals);
                            return Some(task);
                        }
                        Steal::Retry => retry = true,
                        Steal::Empty => {}
                    }
                }
            }
            if let Some(task) = self.pop_injector() {
                return Some(task);
            }
            if !retry {
                break;
            }
        }
        None
    }

    fn transition_from_searching(&self) {
        if self.searching.replace(false) && self.shared.idle.transition_worker_from_searching() {
            // We were the last searcher and found work: there may be more.
            self.shared.notify_parked();
        }
    }

    fn has_local_work(&self) -> bool {
        !self.local.is_empty() || !self.yielded.is_empty() || self.remote().lifo.is_occupied()
    }

    fn park(&self) {
        if self.has_local_work() {
            return;
        }
        // Once per idle period, however many watch ticks it takes.
        self.count(&self.remote().parks);
        let was_searching = self.searching.replace(false);
        if self
            .shared
            .idle
            .transition_worker_to_parked(self.index, was_searching)
        {
            // Last searcher out: work that arrived while we searched is ours to announce.
            self.shared.notify_if_work_pending();
        }
        loop {
            let timeout = if self.watch() {
                Some(WATCH_INTERVAL)
            } else {
                None
            };
            self.parked.set(true);
            let parker = &self.remote().parker;
            let parked = if self.watcher.get() && !self.take_reactor.get() {
                parker.park_without_driver(timeout)
            } else {
                parker.park(&self.shared.driver, &self.shared.driver_lock, timeout)
            };
            self.parked.set(false);
            if self.shared.is_shutdown() {
                self.stop_watching();
                return;
            }
            if self.watcher.get() {
                self.rescue_stranded();
            }
            if self.transition_from_parked() {
                self.stop_watching();
                if parked == Parked::Driver && self.should_hand_over_driver() {
                    self.shared.notify_parked();
                }
                return;
            }
        }
    }

    /// Leaving the driver with tasks: should a parked worker be woken now? Yes for more
    /// than one task (parallelism; the woken worker steals some and takes the reactor
    /// over). For a single task only if nobody watches: a watcher takes the free reactor
    /// over at its next tick should this task's poll turn out long (tokio #4730), so the
    /// common short poll costs no wake-up at all.
    fn should_hand_over_driver(&self) -> bool {
        let queued = !self.local.is_empty() || !self.yielded.is_empty();
        let lifo = self.remote().lifo.is_occupied();
        queued || (lifo && !self.shared.watching.load(Ordering::SeqCst))
    }

    /// Decides whether this parking worker watches for stuck LIFO slots (while any other
    /// worker is inside a poll, or in the reactor and so about to run what it collects).
    /// Returns true if it watches.
    ///
    /// A worker in the reactor counts: it leaves with the tasks of one turn, and a turn of
    /// a single task wakes nobody only if a watcher exists. Without one, every such turn
    /// under steady load would wake this worker just to find nothing to steal (the task
    /// is in the LIFO slot) and park again: a futex wake, two context switches and a park
    /// per turn, for a request that takes a few microseconds.
    fn watch(&self) -> bool {
        if cfg!(any(loom, shuttle)) {
            // Watching runs on real time (a timed park every interval); a model has none,
            // and a stuck poll in a model is the model's own bug to find.
            return false;
        }
        let someone_polling = |shared: &Shared| {
            shared
                .remotes
                .iter()
                .enumerate()
                .any(|(i, r)| i != self.index && r.current.load(Ordering::SeqCst) != 0)
        };
        let someone_active = |shared: &Shared| {
            shared.remotes.iter().enumerate().any(|(i, r)| {
                i != self.index
                    && (r.current.load(Ordering::SeqCst) != 0 || r.parker.is_in_driver())
            })
        };
        if self.watcher.get() {
            if someone_polling(&self.shared) || self.quiet.get() < WATCH_QUIET_INTERVALS {
                return true;
            }
            self.stop_watching();
            // A LIFO push may have skipped its wake-up because we were watching: look once
            // more after giving the role up.
            if !someone_polling(&self.shared) {
                return false;
            }
        } else if !someone_active(&self.shared) {
            return false;
        }
        if self.shared.watching.swap(true, Ordering::SeqCst) {
            return false; // someone else watches
        }
        self.watcher.set(true);
        self.quiet.set(0);
        let mut observed = self.observed.borrow_mut();
        for (o, r) in observed.iter_mut().zip(self.shared.remotes.iter()) {
            *o = r.polls.load(Ordering::Relaxed);
        }
        true
    }

    fn stop_watching(&self) {
        if self.watcher.replace(false) {
            self.shared.watching.store(false, Ordering::SeqCst);
        }
    }

    /// Takes work from workers that stayed inside the same poll for a whole watch interval:
    /// their LIFO slot and half their queue go to our local queue. Also notes whether any
    /// other worker polled at all (the watcher's quiet count) and whether one is stuck (the
    /// watcher then takes the reactor over if it is free).
    fn rescue_stranded(&self) {
        let mut observed = self.observed.borrow_mut();
        let mut active = false;
        let mut any_stuck = false;
        for (i, r) in self.shared.remotes.iter().enumerate() {
            if i == self.index {
                continue;
            }
            let polls = r.polls.load(Ordering::Relaxed);
            let polling = r.current.load(Ordering::Relaxed) != 0;
            let stuck = polls == observed[i] && polling;
            active |= polls != observed[i] || polling;
            any_stuck |= stuck;
            observed[i] = polls;
            if !stuck {
                continue;
            }
            if let Some(task) = self.take_lifo(i) {
                self.local.push(task);
            }
            for stealer in [&r.stealer, &r.yielded] {
                if let Steal::Success(task) = stealer.steal_batch_and_pop(&self.local) {
                    self.local.push(task);
                    self.count(&self.remote().steals);
                }
            }
        }
        self.quiet.set(if active {
            0
        } else {
            self.quiet.get().saturating_add(1)
        });
        self.take_reactor.set(any_stuck);
    }

    /// After a wake-up: true if the worker should run (it has work or was notified),
    /// false to park again (spurious wake-up or a watch tick with nothing to do).
    fn transition_from_parked(&self) -> bool {
        if self.has_local_work() {
            // Woken by the driver (or a rescue): run as a non-searcher unless a notifier
            // already counted us as searching.
            self.searching
                .set(!self.shared.idle.unpark_worker_by_id(self.index));
            return true;
        }
        if self.shared.idle.is_parked(self.index) {
            return false;
        }
        // A notifier unlisted us and counted us as searching.
        self.searching.set(true);
        true
    }
}
