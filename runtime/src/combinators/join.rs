//! `join!` and `try_join!`: await a fixed number of futures of different types
//! concurrently, on the current task.
//!
//! The macros pin one [`MaybeDone`]/[`TryMaybeDone`] per argument on the stack and poll
//! them from one `poll_fn`; a finished argument is not polled again.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

/// Awaits every future concurrently and returns their outputs as a tuple, in argument
/// order. [asyncio: `gather(a, b, ...)` of differently typed coroutines]
///
/// Must be used inside an `async` context. Arguments may be anything `IntoFuture`; they
/// are polled in place on the current task (no `Send` or `'static` needed).
///
/// # Examples
///
/// ```
/// use futures::executor::block_on;
///
/// block_on(async {
///     let (a, b, c) = corio_runtime::join!(async { 1 }, async { "two" }, async { 3.0 });
///     assert_eq!((a, b, c), (1, "two", 3.0));
/// });
/// ```
#[macro_export]
macro_rules! join {
    ($($fut:expr),+ $(,)?) => {
        $crate::__corio_join_impl!(@acc [] $($fut,)+)
    };
}

/// Awaits every fallible future concurrently: `Ok` with all values as a tuple in argument
/// order, or the first `Err` (earliest in time), dropping the others at once.
///
/// Every argument's output must be `Result<_, E>` with the same `E`. Must be used inside
/// an `async` context.
///
/// # Examples
///
/// ```
/// use futures::executor::block_on;
///
/// block_on(async {
///     let ok = corio_runtime::try_join!(async { Ok::<_, String>(1) }, async { Ok("two") });
///     assert_eq!(ok, Ok((1, "two")));
///
///     let failed = corio_runtime::try_join!(
///         async { Ok::<u8, String>(1) },
///         async { Err::<u8, String>("boom".into()) },
///     );
///     assert_eq!(failed, Err("boom".to_string()));
/// });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($fut:expr),+ $(,)?) => {
        $crate::__corio_try_join_impl!(@acc [] $($fut,)+)
    };
}

// Each recursion step names its argument `fut`; identifiers made by different macro
// expansions are distinct (hygiene), so every argument gets its own binding.
#[doc(hidden)]
#[macro_export]
macro_rules! __corio_join_impl {
    (@acc [$($acc:tt)*] $fut:expr, $($rest:tt)*) => {
        $crate::__corio_join_impl!(@acc [$($acc)* (fut $fut)] $($rest)*)
    };
    (@acc [$(($name:ident $fut:expr))+]) => {{
        $(
            let mut $name = ::core::pin::pin!($crate::combinators::__private::MaybeDone::new(
                ::core::future::IntoFuture::into_future($fut),
            ));
        )+
        ::core::future::poll_fn(|cx| {
            let mut done = true;
            $( done &= $name.as_mut().poll_step(cx); )+
            if done {
                ::core::task::Poll::Ready(($( $name.as_mut().take_output(), )+))
            } else {
                ::core::task::Poll::Pending
            }
        })
        .await
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __corio_try_join_impl {
    (@acc [$($acc:tt)*] $fut:expr, $($rest:tt)*) => {
        $crate::__corio_try_join_impl!(@acc [$($acc)* (fut $fut)] $($rest)*)
    };
    (@acc [$(($name:ident $fut:expr))+]) => {{
        $(
            let mut $name = ::core::pin::pin!($crate::combinators::__private::TryMaybeDone::new(
                ::core::future::IntoFuture::into_future($fut),
            ));
        )+
        ::core::future::poll_fn(|cx| {
            let mut done = true;
            $(
                match $name.as_mut().poll_step(cx) {
                    ::core::result::Result::Ok(finished) => done &= finished,
                    ::core::result::Result::Err(err) => {
                        return ::core::task::Poll::Ready(::core::result::Result::Err(err));
                    }
                }
            )+
            if done {
                ::core::task::Poll::Ready(::core::result::Result::Ok((
                    $( $name.as_mut().take_output(), )+
                )))
            } else {
                ::core::task::Poll::Pending
            }
        })
        .await
    }};
}

pin_project! {
    /// One `join!` argument: running, finished with its output, or emptied.
    #[doc(hidden)]
    #[project = MaybeDoneProj]
    #[project_replace = MaybeDoneReplace]
    pub enum MaybeDone<F: Future> {
        /// Still running.
        Running { #[pin] fut: F },
        /// Finished; holds the output.
        Done { out: F::Output },
        /// The output was taken.
        Gone,
    }
}

impl<F: Future> MaybeDone<F> {
    /// Wraps a future.
    pub fn new(fut: F) -> Self {
        MaybeDone::Running { fut }
    }

    /// Polls the future if it is still running; true once it has finished.
    pub fn poll_step(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        match self.as_mut().project() {
            MaybeDoneProj::Running { fut } => match fut.poll(cx) {
                Poll::Ready(out) => {
                    self.project_replace(MaybeDone::Done { out });
                    true
                }
                Poll::Pending => false,
            },
            MaybeDoneProj::Done { .. } => true,
            MaybeDoneProj::Gone => panic!("`join!` polled after completion"),
        }
    }

    /// Takes the output; the future must have finished.
    pub fn take_output(mut self: Pin<&mut Self>) -> F::Output {
        match self.as_mut().project() {
            MaybeDoneProj::Done { .. } => {}
            _ => panic!("`join!` output taken before completion"),
        }
        match self.project_replace(MaybeDone::Gone) {
            MaybeDoneReplace::Done { out } => out,
            _ => unreachable!("checked above"),
        }
    }
}

impl<F: Future> std::fmt::Debug for MaybeDone<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MaybeDone::Running { .. } => "MaybeDone::Running",
            MaybeDone::Done { .. } => "MaybeDone::Done",
            MaybeDone::Gone => "MaybeDone::Gone",
        })
    }
}

pin_project! {
    /// One `try_join!` argument: running, finished with its `Ok` value, or emptied.
    #[doc(hidden)]
    #[project = TryMaybeDoneProj]
    #[project_replace = TryMaybeDoneReplace]
    pub enum TryMaybeDone<F, T> {
        /// Still running.
        Running { #[pin] fut: F },
        /// Finished with `Ok`; holds the value.
        Done { out: T },
        /// The value was taken, or the future failed.
        Gone,
    }
}

impl<F, T, E> TryMaybeDone<F, T>
where
    F: Future<Output = Result<T, E>>,
{
    /// Wraps a future.
    pub fn new(fut: F) -> Self {
        TryMaybeDone::Running { fut }
    }

    /// Polls the future if it is still running: `Ok(true)` once it has finished with
    /// `Ok`, `Err` when it finishes with `Err` (which is handed out, not kept).
    pub fn poll_step(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Result<bool, E> {
        match self.as_mut().project() {
            TryMaybeDoneProj::Running { fut } => match fut.poll(cx) {
                Poll::Ready(Ok(out)) => {
                    self.project_replace(TryMaybeDone::Done { out });
                    Ok(true)
                }
                Poll::Ready(Err(err)) => {
                    self.project_replace(TryMaybeDone::Gone);
                    Err(err)
                }
                Poll::Pending => Ok(false),
            },
            TryMaybeDoneProj::Done { .. } => Ok(true),
            TryMaybeDoneProj::Gone => panic!("`try_join!` polled after completion"),
        }
    }

    /// Takes the value; the future must have finished with `Ok`.
    pub fn take_output(mut self: Pin<&mut Self>) -> T {
        match self.as_mut().project() {
            TryMaybeDoneProj::Done { .. } => {}
            _ => panic!("`try_join!` output taken before completion"),
        }
        match self.project_replace(TryMaybeDone::Gone) {
            TryMaybeDoneReplace::Done { out } => out,
            _ => unreachable!("checked above"),
        }
    }
}

impl<F, T> std::fmt::Debug for TryMaybeDone<F, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TryMaybeDone::Running { .. } => "TryMaybeDone::Running",
            TryMaybeDone::Done { .. } => "TryMaybeDone::Done",
            TryMaybeDone::Gone => "TryMaybeDone::Gone",
        })
    }
}
