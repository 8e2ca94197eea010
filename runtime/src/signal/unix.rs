//! Unix signals as async streams: [`signal`] → [`Signal`], one per [`SignalKind`].

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::raw::c_int;
use std::os::unix::net::UnixStream;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll};

use corio_sync::trace;
use signal_hook_registry::SigId;

use crate::driver::poll_evented::PollEvented;
use crate::driver::Direction;
use crate::lazy;

/// A kind of Unix signal, by number (`SIGTERM`, `SIGUSR1`, ...).
///
/// # Examples
///
/// ```
/// use corio_runtime::signal::unix::SignalKind;
/// assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
/// assert_eq!(SignalKind::from_raw(libc::SIGHUP), SignalKind::hangup());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(c_int);

impl SignalKind {
    /// The signal with number `signum` (e.g. `libc::SIGCHLD`, or a real-time signal).
    /// Whether it can be listened to is checked by [`signal`].
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_runtime::signal::unix::SignalKind;
    /// let child = SignalKind::from_raw(libc::SIGCHLD);
    /// assert_eq!(child.as_raw_value(), libc::SIGCHLD);
    /// ```
    pub const fn from_raw(signum: c_int) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_runtime::signal::unix::SignalKind;
    /// assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    /// ```
    pub const fn as_raw_value(&self) -> c_int {
        self.0
    }

    /// `SIGINT`: Ctrl-C in a terminal (see also [`crate::signal::ctrl_c`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # use corio_runtime::signal::unix::SignalKind;
    /// assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(libc::SIGINT)
    }

    /// `SIGTERM`: the polite request to terminate (what `kill PID`, systemd and
    /// container runtimes send first).
    ///
    /// # Examples
    ///
    /// ```
    /// # use corio_runtime::signal::unix::SignalKind;
    /// assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(libc::SIGTERM)
    }

    /// `SIGHUP`: the terminal went away; daemons use it as "reload the configuration".
    ///
    /// # Examples
    ///
    /// ```
    /// # use corio_runtime::signal::unix::SignalKind;
    /// assert_eq!(SignalKind::hangup().as_raw_value(), libc::SIGHUP);
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(libc::SIGHUP)
    }

    /// `SIGQUIT`: Ctrl-\ in a terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// # use corio_runtime::signal::unix::SignalKind;
    /// assert_eq!(SignalKind::quit().as_raw_value(), libc::SIGQUIT);
    /// ```
    pub const fn quit() -> SignalKind {
        SignalKind(libc::SIGQUIT)
    }

    /// `SIGUSR1`, free for the application's own use.
    ///
    /// # Examples
    ///
    /// ```
    /// # use corio_runtime::signal::unix::SignalKind;
    /// assert_eq!(SignalKind::user_defined1().as_raw_value(), libc::SIGUSR1);
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(libc::SIGUSR1)
    }

    /// `SIGUSR2`, free for the application's own use.
    ///
    /// # Examples
    ///
    /// ```
    /// # use corio_runtime::signal::unix::SignalKind;
    /// assert_eq!(SignalKind::user_defined2().as_raw_value(), libc::SIGUSR2);
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(libc::SIGUSR2)
    }

    /// `SIGCHLD`: a child process stopped or exited.
    ///
    /// # Examples
    ///
    /// ```
    /// # use corio_runtime::signal::unix::SignalKind;
    /// assert_eq!(SignalKind::child().as_raw_value(), libc::SIGCHLD);
    /// ```
    pub const fn child() -> SignalKind {
        SignalKind(libc::SIGCHLD)
    }
}

impl From<c_int> for SignalKind {
    fn from(signum: c_int) -> SignalKind {
        SignalKind(signum)
    }
}

impl From<SignalKind> for c_int {
    fn from(kind: SignalKind) -> c_int {
        kind.0
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignalKind({})", self.0)
    }
}

/// Starts listening to `kind`: from this call on, every delivery of the signal is
/// recorded for the returned [`Signal`] (asyncio's `loop.add_signal_handler`).
///
/// The action is installed at once (so nothing sent after this call is missed), but the
/// `Signal` joins a runtime only when it is first polled: it can be made before
/// `corio::run` and awaited inside it. Several `Signal`s of one kind each receive every
/// delivery. After the first `signal(kind)` the signal's default action (terminating the
/// process, for most) no longer happens, even once every `Signal` of that kind is dropped.
///
/// # Errors
///
/// `InvalidInput` for signals that must not be handled (`SIGKILL`, `SIGSTOP`, `SIGILL`,
/// `SIGFPE`, `SIGSEGV`) and for numbers that are not signals; the OS error if the socket
/// pair or the action cannot be created.
///
/// # Examples
///
/// ```
/// use corio_runtime::signal::unix::{signal, SignalKind};
/// # corio_runtime::run(async {
/// let mut usr1 = signal(SignalKind::user_defined1())?;
/// // SAFETY: raising a signal the process handles is sound.
/// unsafe { libc::raise(libc::SIGUSR1) };
/// assert_eq!(usr1.recv().await, Some(()));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
///
/// Refused kinds are errors, not panics:
///
/// ```
/// use corio_runtime::signal::unix::{signal, SignalKind};
/// let err = signal(SignalKind::from_raw(libc::SIGKILL)).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
/// ```
#[track_caller]
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    if cfg!(any(loom, shuttle)) {
        crate::driver::unavailable_under_loom("corio::signal::unix::signal");
    }
    Signal::new(kind, Location::caller())
}

/// Deliveries of one signal kind, made by [`signal`]: await [`recv`](Signal::recv), or use
/// it as a `futures_core::Stream` of `()`.
///
/// Deliveries between two `recv`s coalesce into one `Some(())` (never zero): a `Signal`
/// says "the signal arrived at least once since the last `recv`". `recv` never returns
/// `None` while the runtime it joined runs. Dropping the `Signal` removes its action.
///
/// A `Signal` belongs to the runtime that first polls it (like a socket); it can be
/// polled from any task of that runtime.
///
/// # Examples
///
/// ```
/// use corio_runtime::signal::unix::{signal, SignalKind};
/// use futures::StreamExt;
/// # corio_runtime::run(async {
/// let mut hup = signal(SignalKind::hangup())?;
/// for _ in 0..2 {
///     // SAFETY: raising a signal the process handles is sound.
///     unsafe { libc::raise(libc::SIGHUP) };
///     assert_eq!(hup.next().await, Some(())); // "reload the configuration" here
/// }
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct Signal {
    kind: SignalKind,
    id: SigId,
    /// Where [`signal`] was called, for the message of a poll outside every runtime.
    created: &'static Location<'static>,
    read: ReadEnd,
}

/// `Signal::recv (signal 10) at src/main.rs:5` in task dumps.
static SIGNAL_RECV: trace::Op = trace::Op {
    name: "Signal::recv",
    detail: trace::Detail::Signal,
};

enum ReadEnd {
    /// Not polled yet: not registered with any reactor.
    Unbound(UnixStream),
    /// Registered with the reactor of the runtime that first polled.
    Bound(PollEvented<UnixStream>),
    /// Registration failed (the runtime was shut down): `recv` returns `None`.
    Failed,
}

/// `send` flags for the action: never block, and never raise `SIGPIPE` (the read end is
/// closed only after the action is removed, but a stray `SIGPIPE` would kill the process).
#[cfg(any(target_os = "linux", target_os = "android"))]
const SEND_FLAGS: c_int = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SEND_FLAGS: c_int = libc::MSG_DONTWAIT;

impl Signal {
    pub(crate) fn new(kind: SignalKind, created: &'static Location<'static>) -> io::Result<Signal> {
        let signum = kind.0;
        if signum <= 0 || signal_hook_registry::FORBIDDEN.contains(&signum) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "signal {signum} cannot be listened to (SIGKILL, SIGSTOP, SIGILL, SIGFPE \
                     and SIGSEGV are refused, and the number must be a valid signal)"
                ),
            ));
        }
        let (read, write) = UnixStream::pair()?;
        read.set_nonblocking(true)?;
        write.set_nonblocking(true)?;
        let fd = write.as_raw_fd();
        let action = move || {
            // Keeps the write end open for as long as the action exists.
            let _owner = &write;
            let byte = 1u8;
            // SAFETY: `fd` is the open write end owned by this closure; the buffer is one
            // valid byte. A full socket (EAGAIN) already means "pending"; any error is
            // ignored, and errno is restored by signal-hook-registry's handler.
            let _ = unsafe { libc::send(fd, (&byte as *const u8).cast(), 1, SEND_FLAGS) };
        };
        // SAFETY: `register` requires the action to be async-signal-safe. It reads one
        // captured integer and makes one `send(2)` call, which POSIX lists as
        // async-signal-safe; it allocates nothing, takes no lock, and cannot panic.
        // `signum` is not in `FORBIDDEN` (checked above), so `register` does not panic.
        // The captured write end is dropped only after `unregister` has removed the action
        // and no handler still runs it (signal-hook-registry waits for running handlers
        // before dropping a removed action).
        let id = unsafe { signal_hook_registry::register(signum, action) }.map_err(|e| {
            if e.raw_os_error() == Some(libc::EINVAL) {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("signal {signum} is not a signal that can be listened to"),
                )
            } else {
                e
            }
        })?;
        Ok(Signal {
            kind,
            id,
            created,
            read: ReadEnd::Unbound(read),
        })
    }

    /// Waits for the next delivery: `Some(())` once the signal arrived at least once since
    /// the previous `recv`; `None` only if the runtime this `Signal` joined was shut down.
    ///
    /// Cancel-safe: dropping the future loses nothing; the delivery stays pending.
    ///
    /// # Panics
    ///
    /// Polling it outside a corio runtime panics, naming the line that called [`signal`].
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_runtime::signal::unix::{signal, SignalKind};
    /// let mut usr2 = signal(SignalKind::user_defined2()).unwrap(); // before the runtime
    /// // SAFETY: raising a signal the process handles is sound.
    /// unsafe { libc::raise(libc::SIGUSR2) };
    /// unsafe { libc::raise(libc::SIGUSR2) };
    /// corio_runtime::run(async move {
    ///     assert_eq!(usr2.recv().await, Some(())); // both deliveries, coalesced
    /// });
    /// ```
    pub async fn recv(&mut self) -> Option<()> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery (see [`recv`](Signal::recv)); for hand-written futures.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_runtime::signal::unix::{signal, SignalKind};
    /// # corio_runtime::run(async {
    /// let mut usr1 = signal(SignalKind::user_defined1())?;
    /// // SAFETY: raising a signal the process handles is sound.
    /// unsafe { libc::raise(libc::SIGUSR1) };
    /// std::future::poll_fn(|cx| usr1.poll_recv(cx)).await;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if let ReadEnd::Unbound(_) = self.read {
            let driver = lazy::driver("corio::signal::unix::Signal::recv", self.created);
            let ReadEnd::Unbound(read) = std::mem::replace(&mut self.read, ReadEnd::Failed) else {
                unreachable!()
            };
            if let Ok(io) = PollEvented::with_driver(driver, read) {
                self.read = ReadEnd::Bound(io);
            }
        }
        let ReadEnd::Bound(io) = &self.read else {
            return Poll::Ready(None);
        };
        let mark = trace::mark();
        match io.poll_io(cx, Direction::Read, drain) {
            Poll::Ready(Ok(())) => Poll::Ready(Some(())),
            Poll::Ready(Err(_)) => Poll::Ready(None),
            Poll::Pending => {
                // In task dumps: `Signal::recv (signal 10)`, not its internal pipe.
                let signum = self.kind.as_raw_value() as u64;
                trace::record_outer(mark, 0, &SIGNAL_RECV, signum, self.created);
                Poll::Pending
            }
        }
    }

    /// The signal kind this `Signal` listens to.
    ///
    /// # Examples
    ///
    /// ```
    /// use corio_runtime::signal::unix::{signal, SignalKind};
    /// let s = signal(SignalKind::user_defined1()).unwrap();
    /// assert_eq!(s.kind(), SignalKind::user_defined1());
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    #[cfg(all(test, not(any(loom, shuttle))))]
    pub(crate) fn sig_id(&self) -> SigId {
        self.id
    }
}

/// Reads every pending byte; `Ok` if there was at least one, `WouldBlock` if none.
fn drain(mut read: &UnixStream) -> io::Result<()> {
    let mut buf = [0u8; 64];
    let mut got = false;
    loop {
        match read.read(&mut buf) {
            Ok(0) => {
                return if got {
                    Ok(())
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                }
            }
            Ok(_) => got = true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && got => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

impl futures_core::Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        // Removes the action (and, once no handler runs it, closes the write end) before
        // the read end is closed by the field drops.
        signal_hook_registry::unregister(self.id);
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("kind", &self.kind)
            .field("bound", &matches!(self.read, ReadEnd::Bound(_)))
            .finish()
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests;
