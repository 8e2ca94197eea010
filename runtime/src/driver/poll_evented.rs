//! `PollEvented<T>`: a non-blocking OS object registered with the driver's reactor.
//!
//! Owns the object; dropping it (or [`PollEvented::into_inner`]) deletes the fd from the
//! poller before the object is closed, as `polling`'s `add` contract requires.

use std::cell::Cell;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{ready, Context, Poll};

use corio_sync::coop;
use corio_sync::trace::{self, Detail, Op};

use super::reactor::{ReadyEvent, READABLE, WRITABLE};
use super::{Direction, Driver, ScheduledIo};
use crate::loom::Arc;

/// A registered I/O object.
#[derive(Debug)]
pub(crate) struct PollEvented<T: AsRawFd> {
    driver: Arc<Driver>,
    sched: Arc<ScheduledIo>,
    io: Option<T>,
    /// What a task waiting on it awaits, per direction, for task dumps.
    names: &'static IoNames,
    /// Stream reads: whether they ask the kernel for the bytes left (`BYTES_LEFT_*`).
    bytes_left: AtomicU8,
}

/// No read has filled its buffer yet: reads are plain.
const BYTES_LEFT_UNASKED: u8 = 0;
/// Reads ask the kernel for the bytes left (`TCP_INQ` is on).
const BYTES_LEFT_ASKED: u8 = 1;
/// The kernel refused: reads stay plain.
const BYTES_LEFT_UNAVAILABLE: u8 = 2;
/// `TCP_INQ` is on but the last asking read came back short: reads are plain (cheaper)
/// until one fills its buffer again.
const BYTES_LEFT_IDLE: u8 = 3;

/// Task-dump names of the two directions of an I/O object (`TcpStream::read (fd 7)`).
#[derive(Debug)]
pub(crate) struct IoNames {
    read: Op,
    write: Op,
}

/// The OS objects corio registers, named for task dumps.
pub(crate) trait Named {
    /// The names of its read and write waits.
    const NAMES: &'static IoNames;
}

macro_rules! named {
    ($($ty:ty => $read:literal, $write:literal;)*) => {$(
        impl Named for $ty {
            const NAMES: &'static IoNames = &IoNames {
                read: Op { name: $read, detail: Detail::Fd },
                write: Op { name: $write, detail: Detail::Fd },
            };
        }
    )*};
}

named! {
    std::net::TcpStream => "TcpStream::read", "TcpStream::write";
    std::net::TcpListener => "TcpListener::accept", "TcpListener (writable)";
    std::net::UdpSocket => "UdpSocket::recv", "UdpSocket::send";
    std::os::unix::net::UnixStream => "UnixStream::read", "UnixStream::write";
    std::os::unix::net::UnixListener => "UnixListener::accept", "UnixListener (writable)";
    std::fs::File => "pipe read", "pipe write";
    std::os::fd::OwnedFd => "Child::wait (pidfd)", "pidfd (writable)";
}

impl<T: AsRawFd + Named> PollEvented<T> {
    /// Registers `io` (already non-blocking) with the current runtime's driver.
    ///
    /// Panics outside a runtime, naming `what` (e.g. `"corio::net::TcpStream::from_std"`).
    #[track_caller]
    pub(crate) fn new(io: T, what: &str) -> io::Result<Self> {
        Self::with_driver(super::current(what), io)
    }

    /// Registers with `driver` a stream whose non-blocking `connect` is still in progress:
    /// its write side waits for the poller's first report (the connection's outcome)
    /// instead of being assumed ready.
    pub(crate) fn new_connecting(driver: Arc<Driver>, io: T) -> io::Result<Self> {
        Self::register(driver, io, READABLE)
    }

    /// Registers `io` (already non-blocking) with `driver`.
    pub(crate) fn with_driver(driver: Arc<Driver>, io: T) -> io::Result<Self> {
        Self::register(driver, io, READABLE | WRITABLE)
    }

    /// Registers `io` with `initial` directions assumed ready (the rest wait for an event).
    fn register(driver: Arc<Driver>, io: T, initial: u64) -> io::Result<Self> {
        if cfg!(any(loom, shuttle)) {
            super::unavailable_under_loom("I/O (sockets and pipes)");
        }
        // SAFETY: `io` is owned by the returned value, whose `Drop`/`into_inner`
        // deregister the fd before `io` can be closed.
        let sched = unsafe { driver.io.register(io.as_raw_fd(), initial)? };
        Ok(PollEvented {
            driver,
            sched,
            io: Some(io),
            names: T::NAMES,
            bytes_left: AtomicU8::new(BYTES_LEFT_UNASKED),
        })
    }
}

impl<T: AsRawFd> PollEvented<T> {
    /// Leaves a task-dump record: the task waits for `dir` on this object.
    fn record(&self, dir: Direction) {
        let op = match dir {
            Direction::Read => &self.names.read,
            Direction::Write => &self.names.write,
        };
        let fd = self.io.as_ref().map_or(-1, AsRawFd::as_raw_fd);
        trace::record_at(op, fd as u64, None);
    }

    /// The driver this object is registered with (so what it produces, e.g. an accepted
    /// stream, is registered with the same runtime).
    pub(crate) fn driver(&self) -> &Arc<Driver> {
        &self.driver
    }

    /// The wrapped object.
    pub(crate) fn get_ref(&self) -> &T {
        self.io.as_ref().expect("PollEvented used after into_inner")
    }

    /// Deregisters and returns the object (still in non-blocking mode).
    pub(crate) fn into_inner(mut self) -> T {
        let io = self.io.take().expect("PollEvented used after into_inner");
        self.driver.io.deregister(&self.sched);
        io
    }

    /// Waits until the poller reports `dir` ready (no operation, no budget).
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<io::Result<()>> {
        let out = self
            .sched
            .poll_ready(&self.driver.io.poller, cx, dir)
            .map_ok(|_| ());
        if out.is_pending() {
            self.record(dir);
        }
        out
    }

    /// Runs `f` once `dir` is ready, retrying on `WouldBlock` (which clears readiness and
    /// waits for the next event) and on `Interrupted`. Consumes one unit of coop budget.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        f: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_then(cx, dir, f, |_, _| {})
    }

    /// [`PollEvented::poll_io`] for a byte-stream transfer of at most `len` bytes: a
    /// transfer of fewer (but some) bytes drained the receive buffer or filled the send
    /// buffer, so readiness is cleared at once instead of after a second, failing call.
    pub(crate) fn poll_transfer(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        len: usize,
        f: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io_then(cx, dir, f, |r, ev| {
            if matches!(*r, Ok(n) if n > 0 && n < len) {
                self.sched.clear_after_short_transfer(ev);
            }
        })
    }

    /// A TCP stream read ([`PollEvented::poll_transfer`] for reads, plus): once a read
    /// has filled its buffer exactly, the stream switches `TCP_INQ` on and later reads
    /// learn from the kernel how many bytes they left behind. None left means the
    /// receive queue is drained, so readiness is cleared as after a short read, and the
    /// next read waits for the next edge instead of failing with `EAGAIN` first (a
    /// `read_exact` of a whole message, then a wait, is one system call instead of two).
    /// An asking read (`recvmsg(2)` with a control buffer) costs more than a plain one,
    /// so a stream asks only while its reads keep filling their buffers: after a short
    /// one it reads plainly until a read fills its buffer again.
    ///
    /// Sound for the same reason as the short-transfer clear: the clear only happens if
    /// no event arrived since the readiness was observed, bytes that arrive later bring a
    /// new edge, and a half-close is a sticky bit that no clear removes.
    pub(crate) fn poll_read_asking_bytes_left(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>
    where
        for<'a> &'a T: Read,
    {
        let len = buf.len();
        let asking = self.bytes_left.load(Ordering::Relaxed) == BYTES_LEFT_ASKED;
        let left = Cell::new(None);
        self.poll_io_then(
            cx,
            Direction::Read,
            |s| {
                if asking {
                    let (n, l) = crate::net::tcp::inq::recv(s.as_raw_fd(), buf)?;
                    left.set(l);
                    Ok(n)
                } else {
                    let mut s = s;
                    s.read(buf)
                }
            },
            |r, ev| {
                let Ok(n) = *r else { return };
                if n == 0 || !self.sched.clears_after_short_transfer() {
                    return;
                }
                if n < len || left.get() == Some(0) {
                    self.sched.clear_after_short_transfer(ev);
                }
                // Racing readers of one stream (a shared half) only race on this hint.
                let next = match (self.bytes_left.load(Ordering::Relaxed), n < len) {
                    (BYTES_LEFT_ASKED, true) => BYTES_LEFT_IDLE,
                    (BYTES_LEFT_IDLE, false) => BYTES_LEFT_ASKED,
                    (BYTES_LEFT_UNASKED, false) => {
                        if crate::net::tcp::inq::enable(self.get_ref().as_raw_fd()) {
                            BYTES_LEFT_ASKED
                        } else {
                            BYTES_LEFT_UNAVAILABLE
                        }
                    }
                    (state, _) => state,
                };
                if next != self.bytes_left.load(Ordering::Relaxed) {
                    self.bytes_left.store(next, Ordering::Relaxed);
                }
            },
        )
    }

    /// [`PollEvented::poll_io`], running `done` on the final result with its readiness.
    fn poll_io_then<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        mut f: impl FnMut(&T) -> io::Result<R>,
        done: impl FnOnce(&io::Result<R>, ReadyEvent),
    ) -> Poll<io::Result<R>> {
        ready!(coop::poll_proceed(cx));
        loop {
            let ev = match self.sched.poll_ready(&self.driver.io.poller, cx, dir) {
                Poll::Pending => {
                    coop::refund();
                    self.record(dir);
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(ev)) => ev,
            };
            match f(self.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.sched.clear_readiness(ev),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => {
                    done(&r, ev);
                    return Poll::Ready(r);
                }
            }
        }
    }
}

impl<T: AsRawFd> Drop for PollEvented<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            self.driver.io.deregister(&self.sched);
            drop(io);
        }
    }
}
