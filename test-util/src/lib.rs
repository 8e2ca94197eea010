//! Test utilities shared by corio's crates, used as a dev-dependency only (nothing here is
//! part of corio's API):
//!
//! * [`within`] runs a test body on its own thread under a deadline, so a deadlock fails
//!   the test instead of hanging the run, and re-raises the body's panic unchanged;
//! * [`counting_waker`] makes a [`Waker`](std::task::Waker) that counts its wake-ups, for
//!   polling futures by hand;
//! * [`examples`] runs a package's example binaries from its integration tests.
//!
//! ```
//! use std::time::Duration;
//! use corio_test_util::{counting_waker, within};
//!
//! let wakes = within(Duration::from_secs(5), || {
//!     let (waker, count) = counting_waker();
//!     waker.wake_by_ref();
//!     waker.wake();
//!     count.get()
//! });
//! assert_eq!(wakes, 2);
//! ```
#![forbid(unsafe_code)]

pub mod examples;
mod waker;
mod within;

pub use waker::{counting_waker, WakeCount};
pub use within::within;
