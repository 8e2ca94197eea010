//! The OS layer under the reactor: edge-triggered registration, blocking for events, and
//! waking the blocked thread.
//!
//! On Linux and Android the driver waits with one `epoll_pwait` on the `polling::Poller`'s
//! epoll descriptor and is woken through its own edge-triggered eventfd. `Poller::wait`
//! wraps every wait in four more system calls (arming a timerfd for the timeout, re-arming
//! the timerfd and its notifier eventfd in oneshot mode, reading the notifier); at a few
//! waits per request that was a large share of a loopback server's CPU. Here a wait is one
//! call: the timeout goes to `epoll_pwait` in whole milliseconds (the timer wheel's
//! resolution), and a wake-up is one eventfd write that is never read back — each write
//! is a new edge, so the counter only needs draining if it ever saturated.
//!
//! Edge-triggered sources are added with `EPOLLRDHUP` as well, which `polling`'s `Event`
//! cannot express: it reports a peer's half-close as "read closed", a state no later read
//! can consume, which lets a stream treat a short read as having drained the socket (see
//! `PollEvented::poll_transfer`). `modify` and `delete` (and oneshot registration) stay with
//! `polling`, and polling's own notifier and timerfd stay registered but idle (never
//! notified or armed), so they report nothing. Elsewhere (kqueue, IOCP, poll) this module
//! is a thin layer over `Poller::add_with_mode`, `Poller::wait` and `Poller::notify`, and
//! "read closed" is never reported.

// Under loom nothing waits on the poller (time is virtual, I/O is unavailable).
#![cfg_attr(any(loom, shuttle), allow(dead_code))]

use std::io;
use std::time::Duration;

use polling::Poller;

/// One readiness report: the source key and the directions it is ready for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IoEvent {
    pub(crate) key: usize,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    /// The peer will send nothing more (half-close or hang-up): reads never block.
    pub(crate) read_closed: bool,
}

#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) use epoll::{EventBuf, Selector};

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) use portable::{EventBuf, Selector};

/// Events fetched per wait; more stay queued in the kernel for the next one.
const CAPACITY: usize = 1024;

#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll {
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

    use rustix::event::epoll::{self, EventFlags};
    use rustix::event::{eventfd, EventfdFlags, Timespec};
    use rustix::io::Errno;

    use super::*;
    use crate::loom::{AtomicBool, Ordering};

    /// The wake-up eventfd's key (polling reserves `usize::MAX`; sources stay below 2^63).
    const WAKE_KEY: u64 = usize::MAX as u64 - 1;

    /// Waits on the poller's epoll descriptor; wakes it with an eventfd.
    #[derive(Debug)]
    pub(crate) struct Selector {
        wake: OwnedFd,
        /// A wake-up is written and not yet consumed by a wait: later ones need no write.
        notified: AtomicBool,
    }

    /// Raw epoll events of the last wait.
    pub(crate) struct EventBuf {
        list: Vec<epoll::Event>,
    }

    // SAFETY: an epoll event is a flags word and 64 bits of user data. rustix types the data
    // as a union that may hold a pointer (hence `!Send`), but corio only ever stores and
    // reads integer keys in it, so the buffer holds no pointer to share across threads.
    unsafe impl Send for EventBuf {}

    impl std::fmt::Debug for EventBuf {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("EventBuf")
                .field("len", &self.list.len())
                .finish()
        }
    }

    impl EventBuf {
        pub(crate) fn new() -> EventBuf {
            EventBuf {
                list: Vec::with_capacity(CAPACITY),
            }
        }

        /// The I/O events of the last wait (wake-ups filtered out).
        pub(crate) fn iter(&self) -> impl Iterator<Item = IoEvent> + '_ {
            let read = EventFlags::IN | EventFlags::HUP | EventFlags::ERR | EventFlags::PRI;
            let write = EventFlags::OUT | EventFlags::HUP | EventFlags::ERR;
            // `EPOLLERR` alone is not "closed": on a datagram socket it is a transient error
            // (an ICMP "port unreachable" on a connected UDP socket) that one receive
            // consumes, after which reads block again; a stream's fatal errors come with
            // `EPOLLHUP`.
            let closed = EventFlags::RDHUP | EventFlags::HUP;
            self.list
                .iter()
                .filter(|ev| ev.data.u64() < WAKE_KEY)
                .map(move |ev| {
                    // Copy out of the (packed) event before using the fields.
                    let flags = ev.flags;
                    IoEvent {
                        key: ev.data.u64() as usize,
                        readable: flags.intersects(read | EventFlags::RDHUP),
                        writable: flags.intersects(write),
                        read_closed: flags.intersects(closed),
                    }
                })
        }
    }

    impl Selector {
        pub(crate) fn new(poller: &Poller) -> io::Result<Selector> {
            let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
            // SAFETY: `wake` is owned by the returned `Selector`, and its owner calls
            // `Selector::deregister` before dropping it (the `Reactor`'s `Drop`).
            unsafe {
                poller.add_with_mode(
                    wake.as_raw_fd(),
                    polling::Event::readable(WAKE_KEY as usize),
                    polling::PollMode::Edge,
                )?
            };
            Ok(Selector {
                wake,
                notified: AtomicBool::new(false),
            })
        }

        /// True: events carry `read_closed`.
        pub(crate) const REPORTS_READ_CLOSED: bool = true;

        /// Registers `fd` for both directions, edge-triggered, with half-close reports.
        ///
        /// # Safety
        /// `fd` must stay open until it is `delete`d from `poller`.
        pub(crate) unsafe fn add_edge(
            &self,
            poller: &Poller,
            fd: RawFd,
            key: usize,
        ) -> io::Result<()> {
            let flags = EventFlags::IN
                | EventFlags::OUT
                | EventFlags::RDHUP
                | EventFlags::PRI
                | EventFlags::ET;
            // SAFETY: the caller keeps `fd` open while it is registered.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            epoll::add(
                poller.as_fd(),
                fd,
                epoll::EventData::new_u64(key as u64),
                flags,
            )?;
            Ok(())
        }

        /// Blocks until an event, a wake-up or `timeout` (`None`: no limit).
        pub(crate) fn wait(
            &self,
            poller: &Poller,
            buf: &mut EventBuf,
            timeout: Option<Duration>,
        ) -> io::Result<()> {
            // Whole milliseconds, rounded up so a timer is never woken early; `None` (or an
            // overflow) blocks without limit.
            let timeout = timeout.map(|d| {
                let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
                let ms = ms.min(i32::MAX as u128) as i64;
                Timespec {
                    tv_sec: ms / 1000,
                    tv_nsec: (ms % 1000) * 1_000_000,
                }
            });
            buf.list.clear();
            loop {
                let spare = rustix::buffer::spare_capacity(&mut buf.list);
                match epoll::wait(poller.as_fd(), spare, timeout.as_ref()) {
                    Ok(_) => break,
                    Err(Errno::INTR) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            // This wait consumed any pending wake-up (or is returning anyway).
            self.notified.store(false, Ordering::SeqCst);
            Ok(())
        }

        /// Removes the wake-up eventfd from the poller; call before dropping the selector.
        pub(crate) fn deregister(&self, poller: &Poller) {
            let _ = poller.delete(self.wake.as_fd());
        }

        /// Makes the current or next [`Selector::wait`] return promptly.
        pub(crate) fn notify(&self, _poller: &Poller) {
            if self.notified.swap(true, Ordering::SeqCst) {
                return;
            }
            let one = 1u64.to_ne_bytes();
            loop {
                match rustix::io::write(&self.wake, &one) {
                    Ok(_) => return,
                    Err(Errno::INTR) => continue,
                    // The counter is saturated (after ~2^64 wake-ups): drain and retry.
                    Err(Errno::AGAIN) => {
                        let mut drain = [0u8; 8];
                        let _ = rustix::io::read(&self.wake, &mut drain);
                    }
                    Err(e) => {
                        debug_assert!(false, "corio: eventfd write failed: {e}");
                        return;
                    }
                }
            }
        }
    }
}

// Compiled everywhere so the fallback is type-checked on Linux too; used off Linux.
#[cfg_attr(any(target_os = "linux", target_os = "android"), allow(dead_code))]
mod portable {
    use polling::Events;

    use super::*;

    /// Waits with `Poller::wait`; wakes with `Poller::notify`.
    #[derive(Debug)]
    pub(crate) struct Selector(());

    /// polling's events of the last wait.
    #[derive(Debug)]
    pub(crate) struct EventBuf {
        events: Events,
    }

    impl EventBuf {
        pub(crate) fn new() -> EventBuf {
            EventBuf {
                events: Events::with_capacity(std::num::NonZeroUsize::new(CAPACITY).unwrap()),
            }
        }

        pub(crate) fn iter(&self) -> impl Iterator<Item = IoEvent> + '_ {
            self.events.iter().map(|ev| IoEvent {
                key: ev.key,
                readable: ev.readable,
                writable: ev.writable,
                read_closed: false,
            })
        }
    }

    impl Selector {
        pub(crate) fn new(_poller: &Poller) -> io::Result<Selector> {
            Ok(Selector(()))
        }

        /// False: events never carry `read_closed`.
        pub(crate) const REPORTS_READ_CLOSED: bool = false;

        /// Registers `fd` for both directions, edge-triggered.
        ///
        /// # Safety
        /// `fd` must stay open until it is `delete`d from `poller`.
        pub(crate) unsafe fn add_edge(
            &self,
            poller: &Poller,
            fd: std::os::fd::RawFd,
            key: usize,
        ) -> io::Result<()> {
            // SAFETY: the caller keeps `fd` open while it is registered.
            unsafe { poller.add_with_mode(fd, polling::Event::all(key), polling::PollMode::Edge) }
        }

        pub(crate) fn wait(
            &self,
            poller: &Poller,
            buf: &mut EventBuf,
            timeout: Option<Duration>,
        ) -> io::Result<()> {
            buf.events.clear();
            poller.wait(&mut buf.events, timeout).map(drop)
        }

        pub(crate) fn deregister(&self, _poller: &Poller) {}

        pub(crate) fn notify(&self, poller: &Poller) {
            // An eventfd/pipe write fails only if a wake-up is already pending.
            let _ = poller.notify();
        }
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};

    use polling::Poller;

    /// Both waiters (the one in use and, on Linux, the portable fallback) report an
    /// edge-registered source's readiness with its key, time out, and return promptly when
    /// notified from another thread.
    macro_rules! waiter_contract {
        ($name:ident, $module:path) => {
            #[test]
            fn $name() {
                use $module as imp;
                let poller = Poller::new().unwrap();
                let selector = imp::Selector::new(&poller).unwrap();
                let mut buf = imp::EventBuf::new();
                let (a, mut b) = UnixStream::pair().unwrap();
                a.set_nonblocking(true).unwrap();
                // SAFETY: `a` outlives its registration: it is deleted below before `a`
                // is dropped.
                unsafe { selector.add_edge(&poller, a.as_raw_fd(), 7).unwrap() };
                // Fresh registration: writable at once.
                selector
                    .wait(&poller, &mut buf, Some(Duration::from_secs(5)))
                    .unwrap();
                let ev = buf.iter().find(|e| e.key == 7).expect("initial event");
                assert!(ev.writable && !ev.readable);
                // Nothing new: the edge was reported once, so the wait times out.
                let start = Instant::now();
                selector
                    .wait(&poller, &mut buf, Some(Duration::from_millis(20)))
                    .unwrap();
                assert!(buf.iter().next().is_none());
                assert!(start.elapsed() >= Duration::from_millis(15));
                // Data arrives: a read edge.
                b.write_all(b"x").unwrap();
                selector
                    .wait(&poller, &mut buf, Some(Duration::from_secs(5)))
                    .unwrap();
                assert!(buf.iter().any(|e| e.key == 7 && e.readable));
                // A notify from another thread ends a wait without a limit.
                std::thread::scope(|s| {
                    s.spawn(|| {
                        std::thread::sleep(Duration::from_millis(20));
                        selector.notify(&poller);
                    });
                    selector.wait(&poller, &mut buf, None).unwrap();
                });
                assert!(buf.iter().all(|e| e.key != 7), "no new edge for the socket");
                poller.delete(&a).unwrap();
                selector.deregister(&poller);
            }
        };
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    waiter_contract!(epoll_waiter_contract, super::epoll);
    waiter_contract!(portable_waiter_contract, super::portable);

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn epoll_reports_a_half_close_as_read_closed() {
        let poller = Poller::new().unwrap();
        let selector = super::epoll::Selector::new(&poller).unwrap();
        let mut buf = super::epoll::EventBuf::new();
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        // SAFETY: `a` is deleted from the poller below before it is dropped.
        unsafe { selector.add_edge(&poller, a.as_raw_fd(), 3).unwrap() };
        b.shutdown(std::net::Shutdown::Write).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut closed = false;
        while !closed && Instant::now() < deadline {
            selector
                .wait(&poller, &mut buf, Some(Duration::from_millis(100)))
                .unwrap();
            closed = buf
                .iter()
                .any(|e| e.key == 3 && e.read_closed && e.readable);
        }
        assert!(
            closed,
            "the peer's shutdown(Write) was not reported as read closed"
        );
        poller.delete(&a).unwrap();
        selector.deregister(&poller);
    }

    /// An ICMP error on a connected UDP socket (`EPOLLERR` without `EPOLLHUP`) is reported
    /// readable, not read closed: one `recv` consumes it and later reads block again, so
    /// a sticky "closed" state would make every later read spin on `WouldBlock`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn epoll_reports_a_datagram_error_as_readable_not_read_closed() {
        let poller = Poller::new().unwrap();
        let selector = super::epoll::Selector::new(&poller).unwrap();
        let mut buf = super::epoll::EventBuf::new();
        let unreachable = std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap(); // bound, then closed: nobody listens there
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        a.connect(unreachable).unwrap();
        a.set_nonblocking(true).unwrap();
        // SAFETY: `a` is deleted from the poller below before it is dropped.
        unsafe { selector.add_edge(&poller, a.as_raw_fd(), 5).unwrap() };
        a.send(b"anyone?").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut reported = None;
        while reported.is_none() && Instant::now() < deadline {
            selector
                .wait(&poller, &mut buf, Some(Duration::from_millis(100)))
                .unwrap();
            reported = buf.iter().find(|e| e.key == 5 && e.readable);
        }
        let ev = reported.expect("the ICMP error was not reported");
        assert!(
            !ev.read_closed,
            "a datagram error was reported as read closed"
        );
        let mut rbuf = [0u8; 16];
        let err = a.recv(&mut rbuf).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
        let again = a.recv(&mut rbuf).unwrap_err();
        assert_eq!(again.kind(), std::io::ErrorKind::WouldBlock);
        poller.delete(&a).unwrap();
        selector.deregister(&poller);
    }
}
