//! Cooperative budget: how many operations a task may complete in one poll.
//!
//! The runtime grants each task poll a budget of [`BUDGET`] units with [`with_budget`];
//! corio's sync primitives, timers and I/O call [`poll_proceed`] before completing an
//! operation. When the budget is spent, `poll_proceed` wakes the task and returns
//! `Pending`, so one busy task yields its worker to the others. Outside a budgeted poll
//! (another executor, `block_on` of a plain future) every operation proceeds.

#[cfg(not(any(loom, shuttle)))]
use std::cell::Cell;
use std::task::{Context, Poll};

/// Units of budget granted to each task poll.
pub const BUDGET: u8 = 128;

#[cfg(not(any(loom, shuttle)))]
std::thread_local! {
    // None = unconstrained (not inside a budgeted task poll).
    static CURRENT: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Runs `f` with a fresh budget of [`BUDGET`] units, restoring the previous budget after.
#[inline]
pub fn with_budget<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(not(any(loom, shuttle)))]
    {
        // Restores the outer budget even if `f` panics.
        struct Reset(Option<u8>);
        impl Drop for Reset {
            fn drop(&mut self) {
                let prev = self.0;
                let _ = CURRENT.try_with(|c| c.set(prev));
            }
        }
        let prev = CURRENT.with(|c| c.replace(Some(BUDGET)));
        let _reset = Reset(prev);
        f()
    }
    #[cfg(any(loom, shuttle))]
    {
        f()
    }
}

/// Consumes one unit of budget, or wakes the task and returns `Pending` if none is left.
///
/// Call it at the top of a leaf future's `poll`, before doing work that would complete.
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    #[cfg(not(any(loom, shuttle)))]
    {
        let ok = CURRENT
            .try_with(|c| match c.get() {
                None => true,
                Some(0) => false,
                Some(n) => {
                    c.set(Some(n - 1));
                    true
                }
            })
            .unwrap_or(true);
        if ok {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    #[cfg(any(loom, shuttle))]
    {
        let _ = cx;
        Poll::Ready(())
    }
}

/// Gives back the unit taken by the last [`poll_proceed`] when the operation turned out
/// to be `Pending` after all (it did no work, so it should not cost budget).
#[inline]
pub fn refund() {
    #[cfg(not(any(loom, shuttle)))]
    {
        let _ = CURRENT.try_with(|c| {
            if let Some(n) = c.get() {
                c.set(Some(n.saturating_add(1).min(BUDGET)));
            }
        });
    }
}

/// True if the current poll still has budget (or is unconstrained).
#[inline]
pub fn has_budget_remaining() -> bool {
    #[cfg(not(any(loom, shuttle)))]
    {
        CURRENT.try_with(|c| c.get() != Some(0)).unwrap_or(true)
    }
    #[cfg(any(loom, shuttle))]
    {
        true
    }
}

#[cfg(all(test, not(any(loom, shuttle))))]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn unconstrained_outside_a_budgeted_poll() {
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..1000 {
            assert!(poll_proceed(&mut cx).is_ready());
        }
    }

    #[test]
    fn budget_runs_out_after_128_operations() {
        let mut cx = Context::from_waker(Waker::noop());
        let ready = with_budget(|| {
            (0..1000)
                .take_while(|_| poll_proceed(&mut cx).is_ready())
                .count()
        });
        assert_eq!(ready, BUDGET as usize);
        // The outer (unconstrained) state is restored.
        assert!(has_budget_remaining());
    }

    #[test]
    fn refund_returns_a_unit() {
        let mut cx = Context::from_waker(Waker::noop());
        with_budget(|| {
            for _ in 0..BUDGET {
                assert!(poll_proceed(&mut cx).is_ready());
            }
            assert!(!has_budget_remaining());
            refund();
            assert!(poll_proceed(&mut cx).is_ready());
            assert!(poll_proceed(&mut cx).is_pending());
        });
    }
}
