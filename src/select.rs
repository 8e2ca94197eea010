//! `corio::select!`: race several futures on the current task; the first to finish with
//! a value matching its pattern wins, the others are dropped. Plus the rotating start
//! that keeps an unbiased `select!` fair.

/// Races futures on the current task: the first branch whose future finishes with a value
/// matching its pattern runs its handler; every other branch is dropped (cancelled).
/// [asyncio: `asyncio.wait(coros, return_when=FIRST_COMPLETED)`, then cancelling the
/// pending ones]
///
/// ```text
/// corio::select! {
///     biased;                                      // optional: poll in the order written
///     <pattern> = <future> (, if <precondition>)? => <handler>,
///     ...
///     else => <expression>                         // optional
/// }
/// ```
///
/// Must be used inside an `async` context. What happens, in order:
///
/// 1. Every `if` precondition is evaluated, top to bottom. A branch whose precondition is
///    `false` is *disabled*.
/// 2. Every `<future>` expression is evaluated once, top to bottom (disabled branches
///    included; their futures are never polled), converted with `IntoFuture`, and pinned
///    on the stack. No `.fuse()`, no `Unpin`, no allocation; any future works, not just
///    corio's.
/// 3. The enabled futures are polled concurrently, on the current task. By default each
///    poll starts at a different branch (a per-thread pseudo-random start) so that a
///    branch that is always ready cannot starve the others; after `biased;` they are
///    polled in the order written, first to last.
/// 4. When a future finishes, its value is matched against its `<pattern>`. If it matches,
///    that branch wins. If not, the branch is disabled and the others keep racing.
/// 5. When a branch wins, **every future is dropped first** (the losers are cancelled:
///    their destructors run), and then the winner's `<handler>` runs with the pattern's
///    bindings. So the handler may use whatever the futures borrowed, and by the time it
///    runs, the cancelled operations have released what they held. (tokio's `select!`
///    drops them at the same point.) The value of `select!` is the handler's value.
/// 6. If every branch is disabled, the `else` expression is the value of `select!`;
///    without an `else` branch, `select!` panics.
///
/// A handler is an expression; like a `match` arm, a block handler needs no trailing
/// comma. Handlers run in the enclosing function, so `return`, `?`, `break` and
/// `continue` (in a surrounding loop) work in them.
///
/// The generated future is `Send` when every branch's future is, so `select!` works in
/// tasks on the multi-thread runtime.
///
/// # Cancellation in a loop
///
/// A `select!` in a loop creates its futures afresh on every iteration and drops the
/// losers each time, so use operations that lose nothing when dropped. Every waiting
/// future of [`corio::sync`](crate::sync) is cancel-safe: a dropped `Queue::get`, `Lock`
/// acquisition or `Event::wait` that was already granted its item, lock or notification
/// hands it to the next waiter (or back to the front of the queue). A queue handle used
/// as a stream (`Some(item) = items.next()`, with `futures::StreamExt`) goes further: its
/// pending get stays with the handle between iterations, so it keeps its place in line.
///
/// # asyncio → corio
///
/// | asyncio | corio |
/// |---|---|
/// | `done, pending = await asyncio.wait({a, b}, return_when=FIRST_COMPLETED)`, then `for t in pending: t.cancel()` | `select! { x = a => .., y = b => .. }` |
/// | the same, keeping the losers running | spawn them, then `select! { r = &mut task_a => .., r = &mut task_b => .. }` (dropping a `&mut Task` leaves the task running) |
/// | `await asyncio.wait_for(coro, t)` | `select! { v = coro => Ok(v), _ = corio::sleep(t) => Err(..) }` (or [`corio::wait_for`](crate::wait_for)) |
/// | `while True:` waiting for an item *or* a stop event | `loop { select! { Ok(item) = q.get() => .., _ = stop.wait() => break } }` |
///
/// # Examples
///
/// The first of two coroutines to finish wins; the other is cancelled before the
/// handler runs:
///
/// ```
/// use std::time::Duration;
///
/// async fn fetch(name: &'static str, ms: u64) -> &'static str {
///     corio::sleep(Duration::from_millis(ms)).await;
///     name
/// }
///
/// corio::run(async {
///     let first = corio::select! {
///         a = fetch("slow", 500) => a,
///         b = fetch("fast", 10) => b,
///     };
///     assert_eq!(first, "fast");
/// });
/// ```
///
/// A consumer that handles queue items until a shutdown event is set, with a timeout on
/// each wait. `Ok(job) = q.get()` disables its branch when the queue is shut down, and
/// `else` runs once every branch is disabled:
///
/// ```
/// use corio::sync::{Event, Queue};
/// use std::time::Duration;
///
/// corio::run(async {
///     let q = Queue::new(0);
///     let stop = Event::new();
///     for job in 1..=3 {
///         q.put(job).await.unwrap();
///     }
///     let mut done = Vec::new();
///     loop {
///         corio::select! {
///             Ok(job) = q.get() => {
///                 done.push(job);
///                 if done.len() == 3 {
///                     stop.set();
///                 }
///             }
///             _ = stop.wait() => break,
///             _ = corio::sleep(Duration::from_secs(5)) => panic!("stalled"),
///         }
///     }
///     assert_eq!(done, [1, 2, 3]);
///
///     // Preconditions and `else`: with both branches disabled, `else` decides.
///     q.shutdown(false);
///     let idle = corio::select! {
///         Ok(job) = q.get() => Some(job),              // shut down: disabled on Err
///         _ = stop.wait(), if !stop.is_set() => None,  // precondition false: disabled
///         else => None,
///     };
///     assert_eq!(idle, None);
/// });
/// ```
///
/// `biased;` polls in the order written, so a shutdown branch placed first is always
/// noticed even if the others are always ready:
///
/// ```
/// corio::run(async {
///     let winner = corio::select! {
///         biased;
///         _ = async {} => "first",
///         _ = async {} => "second",
///     };
///     assert_eq!(winner, "first");
/// });
/// ```
///
/// Patterns are `match` patterns, with the same binding modes, in every edition:
///
/// ```edition2024
/// corio::run(async {
///     let limit = 5;
///     let mut total = 7;
///     let got = corio::select! {
///         biased;
///         (name, &6) = async { ("six", &limit) } => name,   // 5 != 6: disabled
///         &mut (ref mut t) = async { &mut total } => { *t += 1; "total" }
///     };
///     assert_eq!((got, total), ("total", 8));
/// });
/// ```
#[macro_export]
macro_rules! select {
    ($($input:tt)*) => {
        $crate::__select::select_impl! { ($crate) $($input)* }
    };
}

/// What `select!`'s expansion calls: the proc-macro and the rotating start.
pub mod support {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[doc(hidden)]
    pub use corio_macros::select_impl;

    /// The branch an unbiased `select!` with `branches` branches polls first: a per-thread
    /// xorshift, so different polls (and different threads) start at different branches.
    ///
    /// ```
    /// let start = corio::__select::start(3);
    /// assert!(start < 3);
    /// ```
    pub fn start(branches: u32) -> u32 {
        if cfg!(any(loom, shuttle)) {
            // A model must be deterministic: every execution starts at the first branch.
            return 0;
        }
        std::thread_local! {
            static STATE: Cell<u32> = const { Cell::new(0) };
        }
        STATE
            .try_with(|state| {
                let mut x = state.get();
                if x == 0 {
                    x = seed();
                }
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                state.set(x);
                // Maps x uniformly enough onto 0..branches without a division.
                ((u64::from(x) * u64::from(branches)) >> 32) as u32
            })
            .unwrap_or(0)
    }

    /// A distinct, non-zero seed per thread (Weyl sequence; the odd step visits every
    /// `u32`, and zero, which xorshift cannot leave, is skipped).
    fn seed() -> u32 {
        static NEXT: AtomicU32 = AtomicU32::new(0x9E37_79B9);
        loop {
            let s = NEXT.fetch_add(0x9E37_79B9, Ordering::Relaxed);
            if s != 0 {
                return s;
            }
        }
    }
}
