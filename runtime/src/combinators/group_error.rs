//! [`GroupError`]: why a `TaskGroup` failed — every error and every panic of its tasks.

use std::any::Any;
use std::fmt;

use crate::task::PanicPayload;

/// Every failure of a `TaskGroup`'s tasks: the `Err`s they returned and the panics they
/// raised, each in spawn order. Tasks the group cancelled because of those failures are
/// not listed. [asyncio: the `ExceptionGroup` raised by `TaskGroup`]
///
/// If both lists are empty, a task was cancelled by something other than the group (the
/// runtime shutting down), so the group has no value for it.
///
/// For `E: Send + Sync` it is `Send + Sync + 'static` (the panics sit in
/// [`PanicPayload`]s), so `group.join().await?` converts into `anyhow::Error` or
/// `Box<dyn Error + Send + Sync>` when `E` is an error type.
///
/// # Examples
///
/// ```
/// use corio_runtime::{GroupError, TaskGroup};
///
/// # let rt = corio_runtime::Runtime::new().unwrap();
/// # rt.block_on(async {
/// let group = TaskGroup::<u32, String>::new();
/// group.spawn(async { Ok(1) }).unwrap();
/// group.spawn(async { Err("bad input".to_string()) }).unwrap();
/// let err: GroupError<String> = group.join().await.unwrap_err();
/// assert_eq!(err.errors(), ["bad input".to_string()]);
/// assert!(err.panics().is_empty());
/// assert_eq!(err.to_string(), "1 task of the group failed: bad input");
/// # });
/// ```
pub struct GroupError<E> {
    errors: Vec<E>,
    panics: Vec<PanicPayload>,
}

impl<E> GroupError<E> {
    pub(crate) fn new(errors: Vec<E>, panics: Vec<PanicPayload>) -> Self {
        GroupError { errors, panics }
    }

    /// The errors returned by the group's tasks, in spawn order.
    pub fn errors(&self) -> &[E] {
        &self.errors
    }

    /// The panics of the group's tasks, in spawn order: read their messages with
    /// [`PanicPayload::message`]; [`GroupError::into_parts`] hands the payloads out.
    pub fn panics(&self) -> &[PanicPayload] {
        &self.panics
    }

    /// The errors, dropping the panics.
    pub fn into_errors(self) -> Vec<E> {
        self.errors
    }

    /// The errors and the panic payloads (to re-raise one, pass it to
    /// `std::panic::resume_unwind`).
    #[allow(clippy::type_complexity)]
    pub fn into_parts(self) -> (Vec<E>, Vec<Box<dyn Any + Send + 'static>>) {
        let panics = self.panics.into_iter().map(PanicPayload::into_inner);
        (self.errors, panics.collect())
    }

    /// Number of failed tasks (errors plus panics).
    pub fn len(&self) -> usize {
        self.errors.len() + self.panics.len()
    }

    /// True if no task failed: a task was cancelled from outside the group.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<E: fmt::Debug> fmt::Debug for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("errors", &self.errors)
            .field("panics", &self.panics)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.len();
        if n == 0 {
            return f.write_str("a task of the group was cancelled from outside the group");
        }
        let tasks = if n == 1 { "task" } else { "tasks" };
        write!(f, "{n} {tasks} of the group failed: ")?;
        let mut first = true;
        for e in &self.errors {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "{e}")?;
        }
        for p in &self.panics {
            if !first {
                f.write_str("; ")?;
            }
            first = false;
            write!(f, "panicked: {p}")?;
        }
        Ok(())
    }
}

impl<E: std::error::Error + 'static> std::error::Error for GroupError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.errors
            .first()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

// `group.join().await?` into `anyhow::Error` / `Box<dyn Error + Send + Sync>` needs these.
const _: () = {
    const fn send_sync_static<T: Send + Sync + 'static>() {}
    send_sync_static::<GroupError<std::io::Error>>();
    send_sync_static::<GroupError<String>>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_lists_errors_then_panics() {
        let err = GroupError::new(
            vec!["a".to_string(), "b".to_string()],
            vec![
                PanicPayload::new(Box::new("boom")),
                PanicPayload::new(Box::new(7_u8)),
            ],
        );
        assert_eq!(
            err.to_string(),
            "4 tasks of the group failed: a; b; panicked: boom; panicked: Box<dyn Any>"
        );
        assert_eq!(
            format!("{err:?}"),
            r#"GroupError { errors: ["a", "b"], panics: ["boom", Box<dyn Any>] }"#
        );
        assert_eq!(err.len(), 4);
        let (errors, panics) = err.into_parts();
        assert_eq!(errors, ["a", "b"]);
        assert_eq!(panics.len(), 2);
        assert_eq!(*panics[1].downcast_ref::<u8>().unwrap(), 7);
    }

    #[test]
    fn empty_group_error_says_cancelled_from_outside() {
        let err = GroupError::<String>::new(vec![], vec![]);
        assert!(err.is_empty());
        assert!(err.to_string().contains("cancelled from outside"));
    }

    #[test]
    fn source_is_the_first_error() {
        let io = std::io::Error::other("disk");
        let err = GroupError::new(vec![io], vec![]);
        let src = std::error::Error::source(&err).unwrap();
        assert_eq!(src.to_string(), "disk");
    }
}
