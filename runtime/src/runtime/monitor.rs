//! The monitor thread: one per runtime, it samples what every worker publishes (a poll
//! counter and the id of the task being polled, in relaxed atomics) and acts on a poll
//! that takes too long, without any clock read on the workers' hot path.
//!
//! Every tick (a quarter of the slow-poll threshold, clamped to 1..=25 ms) it reads each
//! worker's `(polls, current task)` pair:
//!
//! - The pair it saw at the previous tick, with a task: the same poll is still running.
//!   It has run at least since the tick that first saw the pair, so "now − first seen" is
//!   a lower bound on the poll's duration: a warning is never raised for a poll shorter
//!   than the threshold, and a longer one is caught within one tick of crossing it.
//! - Past the slow-poll threshold: one `tracing` WARN event (target `corio::slow_poll`)
//!   naming the task, once per poll (the pair changes when the next poll starts, since
//!   the counter only grows). With no `tracing` subscriber the line goes to stderr.
//! - Past [`STUCK_AFTER`]: the worker's LIFO slot and queues are handed to the other
//!   workers through the injector, at every tick while the poll lasts.
//! - Busy time: a worker seen inside a poll gets the tick's length added to its busy
//!   time (a sampling estimate).
//!
//! The thread sleeps on a condvar between ticks; dropping the runtime wakes it and it
//! exits. The runtime never joins it (a subscriber or a full stderr pipe could hold it),
//! so shutdown cannot wait on it. The tick loop is where other sampled reports (a task
//! dump on request) can hook in.
//!
//! Loom models start no monitor thread, so there all of this is unused.
#![cfg_attr(any(loom, shuttle), allow(dead_code))]

use std::fmt::{self, Write as _};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use tracing::Dispatch;

use crate::scheduler::{self, WorkerActivity, BLOCK_ON_ID};

/// A worker inside one poll for this long has its queued work handed to the others.
pub(crate) const STUCK_AFTER: Duration = Duration::from_millis(250);
/// The longest tick (also used when slow-poll warnings are off).
const MAX_TICK: Duration = Duration::from_millis(25);
/// The shortest tick.
const MIN_TICK: Duration = Duration::from_millis(1);

/// The running monitor thread, owned by the runtime; dropping it stops the thread.
pub(crate) struct Monitor {
    stop: Arc<Stop>,
    /// Joined on drop, so that a dropped runtime leaves no thread of its own behind (and
    /// the monitor's handle to the runtime is gone when `Runtime::drop` returns).
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Stop {
    stopped: Mutex<bool>,
    cv: Condvar,
}

impl Stop {
    /// Sleeps for `tick` or until stopped; true once stopped.
    fn wait(&self, tick: Duration) -> bool {
        let mut stopped = self.stopped.lock();
        if !*stopped {
            let _ = self.cv.wait_for(&mut stopped, tick);
        }
        *stopped
    }
}

/// What the monitor tracks about one worker between ticks.
#[derive(Clone, Copy)]
struct Watch {
    seen: WorkerActivity,
    /// When the current `seen` pair was first sampled.
    since: Instant,
    warned: bool,
}

/// The tick for a slow-poll threshold.
fn tick_for(threshold: Option<Duration>) -> Duration {
    threshold.map_or(MAX_TICK, |t| (t / 4).clamp(MIN_TICK, MAX_TICK))
}

/// `<prefix>-monitor`, with a trailing `-worker` dropped from the prefix
/// (`corio-worker` → `corio-monitor`).
pub(crate) fn thread_name(prefix: &str) -> String {
    format!(
        "{}-monitor",
        prefix.strip_suffix("-worker").unwrap_or(prefix)
    )
}

impl Monitor {
    /// Starts the monitor thread of the runtime behind `handle`. `dispatch` is the
    /// `tracing` dispatcher current where the runtime was built.
    pub(crate) fn start(
        handle: scheduler::Handle,
        slow_poll: Option<Duration>,
        dump_signal: Option<i32>,
        name: String,
        dispatch: Dispatch,
    ) -> io::Result<Monitor> {
        #[cfg(unix)]
        let dump_signal = dump_signal
            .map(super::dump_signal::DumpSignal::register)
            .transpose()?;
        #[cfg(not(unix))]
        let _ = dump_signal;
        let stop = Arc::new(Stop {
            stopped: Mutex::new(false),
            cv: Condvar::new(),
        });
        let stop2 = stop.clone();
        // Task ages count from the runtime's start until the first tick.
        handle.registry().sightings().checkpoint(Instant::now());
        let thread = std::thread::Builder::new().name(name).spawn(move || {
            let mut state = State {
                handle,
                slow_poll,
                dispatch,
                watches: Vec::new(),
                sample: Vec::new(),
                #[cfg(unix)]
                dump_signal,
            };
            state.run(&stop2);
        })?;
        Ok(Monitor {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        *self.stop.stopped.lock() = true;
        self.stop.cv.notify_all();
        if let Some(thread) = self.thread.take() {
            // The monitor wakes at once and finishes its tick. (A runtime dropped on the
            // monitor thread itself, from a `tracing` subscriber, must not join itself.)
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor").finish_non_exhaustive()
    }
}

/// The monitor thread's own state.
struct State {
    handle: scheduler::Handle,
    slow_poll: Option<Duration>,
    dispatch: Dispatch,
    watches: Vec<Option<Watch>>,
    sample: Vec<WorkerActivity>,
    /// Set when dumps are printed on a signal; dropped (unregistered) with the thread.
    #[cfg(unix)]
    dump_signal: Option<super::dump_signal::DumpSignal>,
}

impl State {
    fn run(&mut self, stop: &Stop) {
        let tick = tick_for(self.slow_poll);
        let mut last = Instant::now();
        while !stop.wait(tick) {
            let now = Instant::now();
            let elapsed = now - last;
            last = now;
            self.tick(now, elapsed);
            #[cfg(unix)]
            if self.dump_signal.as_ref().is_some_and(|s| s.take()) {
                self.print_dump();
            }
        }
    }

    /// The task dump, to stderr in one write.
    #[cfg(unix)]
    fn print_dump(&self) {
        use std::io::Write as _;
        let text = super::dump::collect(&self.handle).to_string();
        let _ = io::stderr().lock().write_all(text.as_bytes());
    }

    fn tick(&mut self, now: Instant, elapsed: Duration) {
        let sightings = self.handle.registry().sightings();
        sightings.checkpoint(now);
        self.sample.clear();
        self.handle.activity(&mut self.sample);
        self.watches.resize(self.sample.len(), None);
        for index in 0..self.sample.len() {
            let seen = self.sample[index];
            if seen.current_task == 0 {
                self.watches[index] = None;
                sightings.set_running(index, 0, now);
                continue;
            }
            self.handle.add_busy(index, elapsed);
            let watch = match &mut self.watches[index] {
                Some(w) if w.seen == seen => w,
                slot => {
                    *slot = Some(Watch {
                        seen,
                        since: now,
                        warned: false,
                    });
                    sightings.set_running(index, seen.current_task, now);
                    continue;
                }
            };
            let running = now - watch.since;
            if let Some(threshold) = self.slow_poll {
                if !watch.warned && running >= threshold {
                    watch.warned = true;
                    self.report(index, seen.current_task, running);
                }
            }
            if running >= STUCK_AFTER {
                self.handle.hand_off(index);
            }
        }
    }

    /// One slow-poll report: a `tracing` WARN event, or a line on stderr without a
    /// subscriber.
    fn report(&self, worker: usize, task: u64, running: Duration) {
        let info = if task == BLOCK_ON_ID {
            None
        } else {
            self.handle.registry().find(task)
        };
        let mut what = String::new();
        if task == BLOCK_ON_ID {
            what.push_str("<block_on future>");
        } else {
            let _ = write!(what, "<Task id={task}");
            if let Some(info) = &info {
                let _ = write!(what, " name='{info}' spawned at {}", info.location());
            }
            what.push('>');
        }
        let place = match self.handle {
            scheduler::Handle::MultiThread(_) => format!("on worker {worker}"),
            scheduler::Handle::CurrentThread(_) => "on the current-thread runtime".to_owned(),
        };
        let secs = running.as_secs_f64();
        let dispatch = if self.dispatch.is::<tracing::subscriber::NoSubscriber>() {
            // Built before any subscriber was set: a global one may exist by now.
            tracing::dispatcher::get_default(Dispatch::clone)
        } else {
            self.dispatch.clone()
        };
        if dispatch.is::<tracing::subscriber::NoSubscriber>() {
            eprintln!("corio: Executing {what} took {secs:.3} seconds {place} (still running)");
            return;
        }
        let name = info.as_ref().map(|i| i.to_string());
        let location = info.as_ref().map(|i| i.location().to_string());
        let elapsed_ms = u64::try_from(running.as_millis()).unwrap_or(u64::MAX);
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::warn!(
                target: "corio::slow_poll",
                task_id = task,
                task_name = name.as_deref(),
                spawned_at = location.as_deref(),
                worker,
                elapsed_ms,
                "Executing {what} took {secs:.3} seconds {place} (still running)"
            );
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_is_a_quarter_of_the_threshold_within_bounds() {
        assert_eq!(tick_for(None), MAX_TICK);
        assert_eq!(tick_for(Some(Duration::from_millis(100))), MAX_TICK);
        assert_eq!(
            tick_for(Some(Duration::from_millis(40))),
            Duration::from_millis(10)
        );
        assert_eq!(tick_for(Some(Duration::from_micros(10))), MIN_TICK);
    }

    #[test]
    fn thread_name_drops_the_worker_suffix() {
        assert_eq!(thread_name("corio-worker"), "corio-monitor");
        assert_eq!(thread_name("app"), "app-monitor");
    }
}
