//! Laziness: a corio future finds its runtime when it is first polled, not when it is
//! built (asyncio's coroutine objects do nothing until awaited either).
//!
//! So `corio::run(corio::sleep(d))` works: the `Sleep` is built before `run` enters the
//! runtime and binds to it on the first poll. Constructors that return a future record
//! their caller's location (`#[track_caller]` + [`Location::caller`]) so that a poll
//! outside every runtime can name both the future and the line that created it. The
//! panic itself is raised at the poll; `std` offers no way to attribute a panic to
//! another location, so the user's line is in the message.

use std::panic::Location;

use crate::driver::{self, Driver};
use crate::loom::Arc;
use crate::runtime::Handle;

/// The driver of the runtime polling the current future; panics outside every runtime,
/// naming `what` and where it was created.
pub(crate) fn driver(what: &str, created: &Location<'_>) -> Arc<Driver> {
    match driver::with_current(Arc::clone) {
        Some(driver) => driver,
        None => polled_outside(what, created),
    }
}

/// The runtime polling the current future; panics like [`driver`] outside every runtime.
pub(crate) fn handle(what: &str, created: &Location<'_>) -> Handle {
    match Handle::try_current() {
        Some(handle) => handle,
        None => polled_outside(what, created),
    }
}

#[cold]
#[inline(never)]
fn polled_outside(what: &str, created: &Location<'_>) -> ! {
    panic!(
        "{what} must be awaited inside a corio runtime, but it was polled outside one \
         (the future was created at {created}): await it in code run by corio::run(...) \
         or Runtime::block_on, or in a task spawned on a runtime"
    )
}
