//! The I/O reactor: one `polling::Poller`, sources registered edge-triggered where the
//! OS supports it (epoll, kqueue) and in oneshot mode elsewhere.
//!
//! Each registered source has a [`ScheduledIo`]: readiness bits and an event tick in one
//! atomic word (`readiness.rs`; an operation on a ready socket takes no lock), and separate
//! read and write waiter lists behind a mutex. Readiness starts optimistic (both directions
//! set), so the first operation on a fresh socket is attempted without a trip through the
//! poller. An operation that hits `WouldBlock` clears the direction's bit — only if no
//! event arrived since the readiness was observed (the tick), so an edge delivered between
//! the failed syscall and the clear is never lost — and the next readiness poll stores the
//! waker. Every delivered event sets readiness and wakes the direction's waiters.
//!
//! Edge-triggered (the default): the source is registered once for both directions and the
//! poller is never touched again until `deregister` — no `epoll_ctl` per wait. The tick
//! guard above is what makes edges safe: the kernel reports each new edge once, and the
//! readiness bit remembers it until an operation proves it consumed.
//!
//! Oneshot (fallback): each readiness poll that stores a waker re-arms the source
//! (`Poller::modify`) with the union of the directions that have waiters. Delivery disarms
//! the whole source, so when an event satisfies one direction while the other still has
//! waiters, the dispatcher re-arms the source for the remaining direction: the read half
//! and the write half of one socket, used from two tasks, are both woken.

// Under loom nothing waits on the poller (time is virtual, I/O is unavailable).
#![cfg_attr(any(loom, shuttle), allow(dead_code))]

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::task::{Context, Poll, Waker};

use std::time::Duration;

use polling::{Event, Poller};

use slab::Slab;

use super::readiness::{Cleared, Readiness, Snapshot};
pub(crate) use super::readiness::{READABLE, WRITABLE};
use super::sys::{EventBuf, Selector};
use crate::loom::{Arc, AtomicBool, AtomicUsize, Mutex, Ordering};

/// Which half of a source an operation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    fn bit(self) -> u64 {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }
}

/// Readiness observed by a poll: pass it back to [`ScheduledIo::clear_readiness`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadyEvent {
    seen: Snapshot,
    dir: Direction,
}

/// The reactor half of the driver.
#[derive(Debug)]
pub(crate) struct Reactor {
    pub(crate) poller: Poller,
    /// Registers edge sources on `poller`, blocks for its events and wakes it (see
    /// [`super::sys`]).
    selector: Selector,
    sources: Mutex<Sources>,
    /// How many sources are registered (a lock-free read for the driver's quick turns).
    registered: AtomicUsize,
    /// Sources are registered edge-triggered (never re-armed); otherwise oneshot.
    edge: bool,
    shutdown: AtomicBool,
}

/// Registered sources. A poller key is the slab index plus a registration generation in
/// the high bits, so an event queued for a source that was deregistered (and whose slab
/// slot was reused) before dispatch is recognised as stale and dropped.
#[derive(Debug, Default)]
struct Sources {
    slab: Slab<Arc<ScheduledIo>>,
    generation: usize,
}

#[cfg(target_pointer_width = "64")]
fn make_key(index: usize, generation: usize) -> usize {
    index | ((generation & 0x7fff_ffff) << 32)
}

#[cfg(not(target_pointer_width = "64"))]
fn make_key(index: usize, _generation: usize) -> usize {
    index
}

#[cfg(target_pointer_width = "64")]
fn key_index(key: usize) -> usize {
    key & 0xffff_ffff
}

#[cfg(not(target_pointer_width = "64"))]
fn key_index(key: usize) -> usize {
    key
}

/// Per-source readiness and waiters.
#[derive(Debug)]
pub(crate) struct ScheduledIo {
    key: usize,
    fd: RawFd,
    /// Registered edge-triggered: readiness polls never re-arm.
    edge: bool,
    /// Read without a lock by every operation.
    readiness: Readiness,
    /// Taken only to park a waker or to wake them. Lock order: `Sources`, then this.
    waiters: Mutex<Waiters>,
}

#[derive(Debug, Default)]
struct Waiters {
    readers: Vec<Waker>,
    writers: Vec<Waker>,
    /// Interest currently armed in the poller (oneshot mode; cleared by every delivery).
    armed: u64,
}

fn shutdown_error() -> io::Error {
    io::Error::other("corio runtime is shut down")
}

impl Reactor {
    /// A reactor in the best mode the OS offers (edge-triggered, else oneshot).
    pub(crate) fn new() -> io::Result<Reactor> {
        let poller = Poller::new()?;
        let edge = poller.supports_edge();
        Self::with_poller(poller, edge)
    }

    /// A reactor forced into oneshot mode (tests of the fallback path).
    #[cfg(test)]
    pub(crate) fn new_oneshot() -> io::Result<Reactor> {
        Self::with_poller(Poller::new()?, false)
    }

    fn with_poller(poller: Poller, edge: bool) -> io::Result<Reactor> {
        Ok(Reactor {
            selector: Selector::new(&poller)?,
            poller,
            sources: Mutex::new(Sources::default()),
            registered: AtomicUsize::new(0),
            edge,
            shutdown: AtomicBool::new(false),
        })
    }

    /// Registers `fd` with no interest armed yet; `initial` (`READABLE`/`WRITABLE`) are the
    /// directions whose first operation is attempted without waiting for an event.
    ///
    /// # Safety
    /// `fd` must stay open until [`Reactor::deregister`] is called for the returned source.
    pub(crate) unsafe fn register(&self, fd: RawFd, initial: u64) -> io::Result<Arc<ScheduledIo>> {
        if self.shutdown.load(Ordering::Acquire) {
            return Err(shutdown_error());
        }
        let mut sources = self.sources.lock();
        sources.generation = sources.generation.wrapping_add(1);
        let generation = sources.generation;
        let entry = sources.slab.vacant_entry();
        assert!(entry.key() < 0xffff_fffe, "too many corio I/O sources");
        let key = make_key(entry.key(), generation);
        let sched = Arc::new(ScheduledIo {
            key,
            fd,
            edge: self.edge,
            readiness: Readiness::new(initial),
            waiters: Mutex::new(Waiters::default()),
        });
        // SAFETY: the caller keeps `fd` open until `deregister`, which `delete`s it from
        // the poller before the owner closes it.
        unsafe {
            if self.edge {
                self.selector.add_edge(&self.poller, fd, key)?;
            } else {
                self.poller.add(fd, Event::none(key))?;
            }
        }
        entry.insert(sched.clone());
        self.registered.fetch_add(1, Ordering::Release);
        Ok(sched)
    }

    /// Removes a source from the poller; call before closing its fd.
    pub(crate) fn deregister(&self, sched: &ScheduledIo) {
        let mut sources = self.sources.lock();
        let index = key_index(sched.key);
        if sources.slab.get(index).is_some_and(|s| s.key == sched.key) {
            sources.slab.remove(index);
            self.registered.fetch_sub(1, Ordering::Release);
        }
        drop(sources);
        // SAFETY: the owner guarantees the fd is still open (it closes it after this).
        let fd = unsafe { BorrowedFd::borrow_raw(sched.fd) };
        // ENOENT/EBADF cannot happen for a registered open fd; nothing to do on error.
        let _ = self.poller.delete(fd);
    }

    /// Blocks until an I/O event, a [`Reactor::notify`] or `timeout` (`None`: no limit).
    pub(crate) fn wait(&self, events: &mut EventBuf, timeout: Option<Duration>) -> io::Result<()> {
        self.selector.wait(&self.poller, events, timeout)
    }

    /// Makes the current or next [`Reactor::wait`] return promptly.
    pub(crate) fn notify(&self) {
        self.selector.notify(&self.poller);
    }

    /// Applies delivered events: sets readiness, collects wakers, re-arms leftovers.
    pub(crate) fn dispatch(&self, events: &EventBuf, wakers: &mut Vec<Waker>) {
        let mut events = events.iter().peekable();
        if events.peek().is_none() {
            return;
        }
        let sources = self.sources.lock();
        for ev in events {
            let sched = match sources.slab.get(key_index(ev.key)) {
                Some(s) if s.key == ev.key => s,
                _ => continue, // deregistered since the kernel queued it
            };
            // Readiness first, then the waiters: a poll that parks its waker (under the
            // waiters lock) re-reads readiness after, so it either sees this event or its
            // waker is taken here.
            sched
                .readiness
                .transition_to_event(ev.readable, ev.writable, ev.read_closed);
            let mut w = sched.waiters.lock();
            if ev.readable {
                wakers.append(&mut w.readers);
            }
            if ev.writable {
                wakers.append(&mut w.writers);
            }
            if !sched.edge {
                w.armed = 0;
                let want = interest(&w);
                if want != 0 {
                    sched.arm(&self.poller, &mut w, want, wakers);
                }
            }
        }
    }

    /// Wakes every waiter and fails every later readiness poll and registration.
    pub(crate) fn shutdown(&self, wakers: &mut Vec<Waker>) {
        self.shutdown.store(true, Ordering::Release);
        let sources = self.sources.lock();
        for (_, sched) in sources.slab.iter() {
            sched.readiness.transition_to_shutdown();
            let mut w = sched.waiters.lock();
            wakers.append(&mut w.readers);
            wakers.append(&mut w.writers);
        }
    }

    /// True if any I/O source is registered.
    pub(crate) fn has_sources(&self) -> bool {
        self.registered.load(Ordering::Acquire) > 0
    }

    /// Number of registered sources (tests and metrics).
    pub(crate) fn sources(&self) -> usize {
        self.sources.lock().slab.len()
    }
}

impl Drop for Reactor {
    fn drop(&mut self) {
        self.selector.deregister(&self.poller);
    }
}

fn interest(w: &Waiters) -> u64 {
    let mut want = 0;
    if !w.readers.is_empty() {
        want |= READABLE;
    }
    if !w.writers.is_empty() {
        want |= WRITABLE;
    }
    want
}

fn push_waker(list: &mut Vec<Waker>, waker: &Waker) {
    if !list.iter().any(|w| w.will_wake(waker)) {
        list.push(waker.clone());
    }
}

impl ScheduledIo {
    /// Ready if `dir` is ready; otherwise stores the waker, arms the poller, `Pending`.
    pub(crate) fn poll_ready(
        &self,
        poller: &Poller,
        cx: &mut Context<'_>,
        dir: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        // Fast path: no lock while the socket is ready.
        let seen = self.readiness.load();
        if let Some(ready) = self.ready_event(seen, dir) {
            return Poll::Ready(ready);
        }
        let mut w = self.waiters.lock();
        // Re-check under the lock: an event dispatched since `seen` has either set the
        // readiness read here or will find the waker parked below.
        let seen = self.readiness.load();
        if let Some(ready) = self.ready_event(seen, dir) {
            return Poll::Ready(ready);
        }
        match dir {
            Direction::Read => push_waker(&mut w.readers, cx.waker()),
            Direction::Write => push_waker(&mut w.writers, cx.waker()),
        }
        if !self.edge {
            let want = interest(&w);
            if want & !w.armed != 0 {
                let mut wakers = Vec::new();
                self.arm(poller, &mut w, want, &mut wakers);
                drop(w);
                wakers.into_iter().for_each(Waker::wake);
            }
        }
        Poll::Pending
    }

    fn ready_event(&self, seen: Snapshot, dir: Direction) -> Option<io::Result<ReadyEvent>> {
        if seen.is_shutdown() {
            Some(Err(shutdown_error()))
        } else if seen.is_ready(dir.bit()) {
            Some(Ok(ReadyEvent { seen, dir }))
        } else {
            None
        }
    }

    /// Forgets `ev`'s readiness after a `WouldBlock`, unless an event arrived since (or the
    /// peer closed its side: a read would return at once).
    pub(crate) fn clear_readiness(&self, ev: ReadyEvent) {
        // Either outcome is fine: `Kept` means the next poll retries the operation.
        let _: Cleared = self.readiness.transition_to_cleared(ev.seen, ev.dir.bit());
    }

    /// After a stream operation moved fewer bytes than asked (but some): the socket buffer
    /// is drained (read) or full (write), so the next attempt would only fail with
    /// `WouldBlock`; forget the readiness now, as after that failure. Only where the
    /// poller reports edges and half-closes — otherwise a peer's FIN that arrived with the
    /// last data would never be seen again.
    pub(crate) fn clear_after_short_transfer(&self, ev: ReadyEvent) {
        if self.clears_after_short_transfer() {
            self.clear_readiness(ev);
        }
    }

    /// Whether [`ScheduledIo::clear_after_short_transfer`] clears anything for this source.
    pub(crate) fn clears_after_short_transfer(&self) -> bool {
        Selector::REPORTS_READ_CLOSED && self.edge
    }

    /// Oneshot mode: arms the poller for `want`; if the poller refuses the fd, marks it
    /// ready and collects every waiter so the operations run and report the real error.
    fn arm(&self, poller: &Poller, w: &mut Waiters, want: u64, wakers: &mut Vec<Waker>) {
        // SAFETY: a `ScheduledIo` is only reachable while its owner keeps the fd open
        // (owners deregister before closing).
        let fd = unsafe { BorrowedFd::borrow_raw(self.fd) };
        let ev = Event::new(self.key, want & READABLE != 0, want & WRITABLE != 0);
        match poller.modify(fd, ev) {
            Ok(()) => w.armed = want,
            Err(_) => {
                self.readiness.force_ready(want);
                wakers.append(&mut w.readers);
                wakers.append(&mut w.writers);
            }
        }
    }
}
