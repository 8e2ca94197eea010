//! Watching a child for its exit without blocking a worker, and reaping the children
//! nobody waits for.
//!
//! A [`Reaper`] owns the `std::process::Child` (its pid and, once collected, its exit
//! status) and a [`Watch`] that says when to look again:
//!
//! - Linux: a pidfd (`pidfd_open`) registered with the runtime's reactor. The kernel makes
//!   it readable when the child exits; then `waitpid(pid, WNOHANG)` (std's `try_wait`)
//!   collects the status. No thread blocks and no signal handler is involved. The pidfd
//!   moves to the reactor of whichever runtime waits, so a child spawned on one runtime
//!   can be awaited on another (even while the first is idle or gone).
//! - Fallback (kernels without `pidfd_open` (`ENOSYS`), a pidfd the reactor cannot take,
//!   other Unix systems, or a runtime that shut down under a pidfd): `waitpid(pid,
//!   WNOHANG)` on corio timers with a backoff from 1 ms up to 50 ms. A child's exit is then
//!   noticed at most 50 ms late; nothing blocks either.
//!
//! Only the owner of the `std::process::Child` ever reaps its pid (std records the
//! status), so a pid is never signalled after it was reaped and possibly reused.
//!
//! Never a zombie: a `Child` dropped before its exit was collected hands its `Reaper` to a
//! detached task on the current runtime, which waits for the exit and reaps it. If no
//! runtime is around, or that task is dropped by a runtime shutdown, the still-running
//! child goes to a process-wide orphan list; every later `spawn` and every completed
//! `wait` reaps whatever on that list has exited since.
//!
//! Why no exit is missed and no zombie is left:
//! 1. Pidfd watch. A fresh registration starts with readiness set, so the first poll
//!    always calls `try_wait`. A child that exited before `pidfd_open` is still a zombie
//!    (only this `Reaper` reaps its pid), so the pidfd is valid and already readable.
//!    When `try_wait` says "still running", the reactor clears the readiness only if no
//!    event arrived since it was observed (its tick guard); an exit racing with that
//!    `try_wait` therefore leaves the readiness set or delivers a new edge, which wakes
//!    the stored waker. Re-registering with another runtime's reactor starts from (1)
//!    again.
//! 2. Polling watch. Every wake-up calls `try_wait` before sleeping again, and the sleep
//!    is bounded by [`MAX_BACKOFF`], so an exit is seen at most 50 ms late.
//! 3. A `std::process::Child` whose status was not collected is only ever dropped by
//!    [`Reaper`]'s `Drop`, which checks once more and otherwise adopts it; an adopted
//!    child leaves the list only when `try_wait` collected its status (or reports
//!    `ECHILD`: nothing left to reap). A detached reaper task ends only after collecting
//!    the status, or is dropped (runtime shutdown), which again goes through that `Drop`.
//! 4. A pid is signalled only through its `std::process::Child`, which knows whether it
//!    collected the status; the pid cannot be reused before that collection, because
//!    collecting is what releases it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::process::ExitStatus;
use std::sync::Mutex;
use std::task::{ready, Context, Poll};
use std::time::Duration;

#[cfg(target_os = "linux")]
use crate::driver::poll_evented::PollEvented;
use crate::driver::Driver;
use crate::loom::Arc;
use crate::time::Sleep;

/// First delay of the polling fallback.
const FIRST_BACKOFF: Duration = Duration::from_millis(1);
/// Longest delay of the polling fallback: the most an exit is noticed late.
const MAX_BACKOFF: Duration = Duration::from_millis(50);

/// Children whose `Child` was dropped while they ran and no task could wait for them.
static ORPHANS: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());

/// Reaps every orphan that has exited (skipped if another thread is doing it right now).
pub(crate) fn reap_orphans() {
    let mut orphans = match ORPHANS.try_lock() {
        Ok(list) => list,
        Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return,
    };
    // `try_wait` errors (ECHILD: someone else reaped it) also drop the entry.
    orphans.retain_mut(|child| matches!(child.try_wait(), Ok(None)));
}

/// Puts a still-running child on the orphan list.
fn adopt(child: std::process::Child) {
    ORPHANS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(child);
}

/// The pids on the orphan list (tests).
#[cfg(test)]
pub(crate) fn orphan_pids() -> Vec<u32> {
    let orphans = ORPHANS.lock().unwrap_or_else(|p| p.into_inner());
    orphans.iter().map(std::process::Child::id).collect()
}

/// What tells a [`Reaper`] to look at its child again.
#[derive(Debug)]
enum Watch {
    /// A pidfd on the reactor: readable once the child has exited.
    #[cfg(target_os = "linux")]
    Pidfd(PollEvented<std::os::fd::OwnedFd>),
    /// `waitpid(WNOHANG)` after each sleep, the delay doubling up to [`MAX_BACKOFF`].
    Poll {
        timer: Option<Backoff>,
        backoff: Duration,
    },
}

/// One backoff delay of the polling fallback, and the runtime polling it (a `Sleep`
/// belongs to the runtime that first polled it).
#[derive(Debug)]
struct Backoff {
    sleep: Sleep,
    /// The driver current when the sleep was made (`None`: made outside any runtime,
    /// where polling it panics with corio's message).
    driver: Option<Arc<Driver>>,
}

impl Backoff {
    /// True if the sleep can be polled on the thread whose current driver is `current`:
    /// same runtime, still running.
    fn usable_from(&self, current: Option<&Arc<Driver>>) -> bool {
        match (&self.driver, current) {
            (Some(mine), Some(now)) => Arc::ptr_eq(mine, now) && !mine.is_shutdown(),
            _ => false,
        }
    }
}

impl Watch {
    fn polling() -> Watch {
        Watch::Poll {
            timer: None,
            backoff: FIRST_BACKOFF,
        }
    }
}

/// A spawned child and the way its exit is observed.
#[derive(Debug)]
pub(crate) struct Reaper {
    /// `None` only after `Drop` moved it away.
    child: Option<std::process::Child>,
    watch: Watch,
}

impl Reaper {
    /// Watches `child` through a pidfd on `driver`'s reactor, or by polling if that is not
    /// available (or `force_polling` asks for the fallback).
    pub(crate) fn new(
        child: std::process::Child,
        driver: &Arc<Driver>,
        force_polling: bool,
    ) -> Reaper {
        let watch = if force_polling {
            Watch::polling()
        } else {
            pidfd_watch(&child, driver).unwrap_or_else(Watch::polling)
        };
        Reaper {
            child: Some(child),
            watch,
        }
    }

    fn child(&mut self) -> &mut std::process::Child {
        self.child.as_mut().expect("corio: Reaper used after drop")
    }

    /// The pid.
    pub(crate) fn id(&self) -> u32 {
        self.child
            .as_ref()
            .expect("corio: Reaper used after drop")
            .id()
    }

    /// True if this reaper watches through a pidfd (tests).
    #[cfg(test)]
    pub(crate) fn uses_pidfd(&self) -> bool {
        !matches!(self.watch, Watch::Poll { .. })
    }

    /// The exit status if the child has exited (reaping it), without waiting.
    pub(crate) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child().try_wait()
    }

    /// Sends SIGKILL (std's `kill`); the caller checks the child was not reaped yet.
    pub(crate) fn kill(&mut self) -> io::Result<()> {
        self.child().kill()
    }

    /// Waits for the exit and reaps the child. Cancel-safe: all state lives in `self`, and
    /// once collected the status is returned again by every later call.
    pub(crate) fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        let child = self.child.as_mut().expect("corio: Reaper used after drop");
        loop {
            match &mut self.watch {
                #[cfg(target_os = "linux")]
                Watch::Pidfd(pidfd) => {
                    // The pidfd follows the runtime that waits: the runtime it was
                    // registered with may be idle (a current-thread runtime outside
                    // `block_on`) or gone.
                    let elsewhere = crate::driver::with_current(|now| {
                        (!Arc::ptr_eq(now, pidfd.driver())).then(|| now.clone())
                    });
                    if let Some(Some(now)) = elsewhere {
                        self.watch = match std::mem::replace(&mut self.watch, Watch::polling()) {
                            Watch::Pidfd(old) => PollEvented::with_driver(now, old.into_inner())
                                .map_or_else(|_| Watch::polling(), Watch::Pidfd),
                            other => other,
                        };
                        continue;
                    }
                    // Readiness says the child may have exited: look. "Not yet" is reported
                    // as WouldBlock, which clears the readiness and waits for the next event;
                    // std's own errors travel inside the Ok, told apart from the reactor's.
                    let look = |_: &std::os::fd::OwnedFd| match child.try_wait() {
                        Ok(Some(status)) => Ok(Ok(status)),
                        Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
                        Err(e) => Ok(Err(e)),
                    };
                    match ready!(pidfd.poll_io(cx, crate::driver::Direction::Read, look)) {
                        Ok(result) => return Poll::Ready(result),
                        // The pidfd's runtime shut down: keep watching by polling.
                        Err(_) => self.watch = Watch::polling(),
                    }
                }
                Watch::Poll { timer, backoff } => {
                    if let Some(status) = child.try_wait()? {
                        return Poll::Ready(Ok(status));
                    }
                    let current = crate::driver::with_current(Arc::clone);
                    let pending = match timer {
                        // A wait cut short on a runtime that is gone since: its timer cannot
                        // be polled any more, so the same deadline moves to this runtime.
                        Some(t) if !t.usable_from(current.as_ref()) => {
                            t.sleep = crate::time::sleep_until(t.sleep.deadline());
                            t.driver = current;
                            t
                        }
                        Some(t) => t,
                        None => timer.insert(Backoff {
                            sleep: crate::time::sleep(*backoff),
                            driver: current,
                        }),
                    };
                    ready!(Pin::new(&mut pending.sleep).poll(cx));
                    *timer = None;
                    *backoff = (*backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            if let Ok(None) = child.try_wait() {
                adopt(child);
            }
        }
    }
}

/// A pidfd for `child` registered with `driver`, or `None` (no `pidfd_open` on this
/// kernel, out of file descriptors, or the reactor refused it).
#[cfg(target_os = "linux")]
fn pidfd_watch(child: &std::process::Child, driver: &Arc<Driver>) -> Option<Watch> {
    use rustix::process::{pidfd_open, Pid, PidfdFlags};
    let pid = Pid::from_child(child);
    let fd = pidfd_open(pid, PidfdFlags::empty()).ok()?;
    PollEvented::with_driver(driver.clone(), fd)
        .ok()
        .map(Watch::Pidfd)
}

#[cfg(not(target_os = "linux"))]
fn pidfd_watch(_child: &std::process::Child, _driver: &Arc<Driver>) -> Option<Watch> {
    None
}
