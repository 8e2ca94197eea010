//! Dump on signal: `CORIO_DUMP_SIGNAL=SIGUSR1` (or `Builder::dump_on_signal`) makes the
//! runtime print its task dump to stderr whenever the process gets that signal, like Go's
//! SIGQUIT or Java's `kill -3`.
//!
//! The signal handler only sets a flag (an atomic store: async-signal-safe); the runtime's
//! monitor thread, which wakes at least every 25 ms, sees the flag, takes the dump and
//! writes it. So the dump never runs inside a handler or on a worker.
#![cfg_attr(any(loom, shuttle), allow(dead_code))]

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use libc::c_int;

/// The environment variable naming the dump signal.
pub(crate) const ENV: &str = "CORIO_DUMP_SIGNAL";

/// Signal names accepted in [`ENV`] (with or without `SIG`, any case), besides numbers.
const NAMES: &[(&str, c_int)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("USR1", libc::SIGUSR1),
    ("USR2", libc::SIGUSR2),
    ("TERM", libc::SIGTERM),
    ("WINCH", libc::SIGWINCH),
];

/// `SIGUSR1`, `usr1` or `10` → the signal number.
pub(crate) fn parse(value: &str) -> Option<c_int> {
    let v = value.trim();
    if let Ok(n) = v.parse::<c_int>() {
        return (n > 0).then_some(n);
    }
    let upper = v.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    NAMES.iter().find(|(n, _)| *n == name).map(|&(_, s)| s)
}

/// The signal named by [`ENV`], if set; an error naming the variable if it is not a signal.
pub(crate) fn from_env() -> io::Result<Option<c_int>> {
    match std::env::var(ENV) {
        Err(_) => Ok(None),
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => parse(&v).map(Some).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{ENV}={v:?} is not a signal: use a name like SIGUSR1 or a number"),
            )
        }),
    }
}

/// A registered dump signal; unregistered on drop.
pub(crate) struct DumpSignal {
    requested: Arc<AtomicBool>,
    id: signal_hook_registry::SigId,
}

impl DumpSignal {
    /// Registers the handler for `signum`.
    pub(crate) fn register(signum: c_int) -> io::Result<DumpSignal> {
        if signum <= 0 || signal_hook_registry::FORBIDDEN.contains(&signum) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "cannot print task dumps on signal {signum}: it cannot be caught \
                     (use SIGUSR1, SIGUSR2, SIGQUIT...)"
                ),
            ));
        }
        let requested = Arc::new(AtomicBool::new(false));
        let flag = requested.clone();
        // SAFETY: the action only stores to an atomic, which is async-signal-safe; the
        // `Arc` it captures stays alive until `unregister` has removed the action (and
        // signal-hook-registry waits for running handlers before dropping it).
        let id = unsafe {
            signal_hook_registry::register(signum, move || flag.store(true, Ordering::SeqCst))
        }
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot print task dumps on signal {signum}: {e}"),
            )
        })?;
        Ok(DumpSignal { requested, id })
    }

    /// True once per delivery (coalesced: several signals between two checks are one).
    pub(crate) fn take(&self) -> bool {
        self.requested.swap(false, Ordering::SeqCst)
    }
}

impl Drop for DumpSignal {
    fn drop(&mut self) {
        signal_hook_registry::unregister(self.id);
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_parse() {
        assert_eq!(parse("SIGUSR1"), Some(libc::SIGUSR1));
        assert_eq!(parse(" usr2 "), Some(libc::SIGUSR2));
        assert_eq!(parse("sigquit"), Some(libc::SIGQUIT));
        assert_eq!(parse("10"), Some(10));
        assert_eq!(parse("SIGNOPE"), None);
        assert_eq!(parse("0"), None);
        assert_eq!(parse("-3"), None);
    }

    #[test]
    fn forbidden_signals_are_refused_with_a_clear_error() {
        let err = DumpSignal::register(libc::SIGKILL).err().unwrap();
        assert!(err.to_string().contains("signal 9"), "{err}");
    }
}
