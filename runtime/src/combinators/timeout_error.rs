//! [`TimeoutError`]: what `wait_for` and `wait_until` return when time runs out.

use std::fmt;

/// The deadline of a `wait_for` / `wait_until` passed before the future finished; the
/// future has been dropped. [asyncio: `TimeoutError`]
///
/// # Examples
///
/// ```
/// use corio_runtime::TimeoutError;
///
/// let err = TimeoutError;
/// assert_eq!(err.to_string(), "deadline elapsed before the future completed");
/// let io: std::io::Error = err.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TimeoutError;

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline elapsed before the future completed")
    }
}

impl std::error::Error for TimeoutError {}

impl From<TimeoutError> for std::io::Error {
    fn from(err: TimeoutError) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::TimedOut, err)
    }
}
