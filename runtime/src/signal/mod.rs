//! Signals delivered through the reactor, asyncio's `loop.add_signal_handler`:
//! [`ctrl_c`] and [`unix::signal`].
//!
//! How a signal reaches a task: every [`unix::Signal`] owns a non-blocking socket pair.
//! Its signal action (installed with `signal-hook-registry`, which chains to any handler
//! installed before) only sends one byte to the write end; the read end is registered with
//! the reactor of the runtime that first polls the `Signal`, so a waiting task is woken by
//! an ordinary readiness event. [`unix::Signal::recv`] drains every byte and reports one
//! delivery: deliveries between two `recv`s coalesce (as in tokio), and none is lost,
//! because a byte sent after the drain stays in the socket for the next `recv`.
//!
//! Like tokio's (and unlike asyncio's `remove_signal_handler`), once a signal kind has
//! been listened to, its default action (e.g. terminating the process on `SIGTERM`) does
//! not come back after the last `Signal` for it is dropped: the signal is then ignored.
//!
//! # Examples
//!
//! Graceful shutdown: wait for `SIGTERM` or Ctrl-C, whichever comes first.
//!
//! ```
//! use corio_runtime::signal::{self, unix::{signal, SignalKind}};
//! # corio_runtime::run(async {
//! let mut term = signal(SignalKind::terminate())?;
//! # // SAFETY: SIGTERM is handled from the line above on.
//! # unsafe { libc::raise(libc::SIGTERM) }; // as `kill PID` would
//! let ctrl_c = std::pin::pin!(signal::ctrl_c());
//! futures::future::select(ctrl_c, std::pin::pin!(term.recv())).await;
//! println!("shutting down");
//! # std::io::Result::Ok(()) }).unwrap();
//! ```

use std::future::Future;
use std::io;
use std::panic::Location;

pub mod unix;

/// Completes when the process receives Ctrl-C (`SIGINT`), asyncio's
/// `loop.add_signal_handler(signal.SIGINT, ...)`.
///
/// Lazy: the `SIGINT` action is installed when the future is first polled, so a Ctrl-C
/// before that still terminates the process the default way. From then on `SIGINT` no
/// longer terminates the process (also after this future is dropped); listen to it for
/// as long as the program should react to it. An `Err` means the action could not be
/// installed.
///
/// # Panics
///
/// Polling the future outside a corio runtime panics (the message names the line that
/// called `ctrl_c`); building it never panics.
///
/// # Examples
///
/// ```
/// # corio_runtime::run(async {
/// let mut ctrl_c = std::pin::pin!(corio_runtime::signal::ctrl_c());
/// assert!(futures::poll!(ctrl_c.as_mut()).is_pending()); // SIGINT is now handled
/// // SAFETY: raising a signal the process handles is sound.
/// unsafe { libc::raise(libc::SIGINT) }; // what pressing Ctrl-C does
/// ctrl_c.await?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
#[must_use = "futures do nothing unless you .await or poll them"]
pub fn ctrl_c() -> impl Future<Output = io::Result<()>> + Send {
    let created = Location::caller();
    if cfg!(any(loom, shuttle)) {
        crate::driver::unavailable_under_loom("corio::signal::ctrl_c");
    }
    async move {
        let mut sig = unix::Signal::new(unix::SignalKind::interrupt(), created)?;
        match sig.recv().await {
            Some(()) => Ok(()),
            None => Err(io::Error::other("corio runtime is shut down")),
        }
    }
}
