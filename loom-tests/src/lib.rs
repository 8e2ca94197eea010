//! loom models of corio's primitives and scheduler protocols.
//!
//! Build and run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p corio-loom-tests --release --target-dir target/loom`.
//!
//! The models live in `tests/*.rs`, one file per area, each `#![cfg(loom)]`:
//!
//! * the sync primitives (`mutex`, `semaphore`, `event`, `condition`, `barrier`, `queue`,
//!   `oneshot`) and a user-style example (`user_bank`), through corio's public API;
//! * the blocking pool (`blocking_pool`), through `corio_blocking::ThreadPool`, whose
//!   threads, job channel and keep-alive waits are loom's under `cfg(loom)`;
//! * the runtime's task state machine (`task_state`) and worker idle / park protocol
//!   (`scheduler`): these compile corio-runtime's own `task/state.rs`,
//!   `scheduler/multi_thread/idle.rs` and `scheduler/multi_thread/park.rs` into the model
//!   with `#[path]` (they depend only on `crate::loom`), so the runtime exposes nothing
//!   extra for loom, and drive them with harnesses that take the same steps as the
//!   runtime's callers; likewise the
//!   reactor's readiness word (`readiness`: `driver/readiness.rs`, an operation racing an
//!   event never strands data behind a parked task) and the LIFO slot (`lifo`);
//! * `broken_twins`: `#[should_panic]` models proving loom catches the bugs the models
//!   guard against;
//! * `tasks_in_models`: user-style models of code that uses corio's task API,
//!   `loom::model(|| corio::run(...))` (workers on loom threads, virtual time), with broken
//!   user programs loom must catch; built with `RUSTFLAGS="--cfg shuttle"` (and
//!   `--target-dir target/shuttle`) the same file runs under shuttle's randomized
//!   schedulers, for programs too large for loom.
//!
//! This library holds what they share (only under `cfg(loom)`):
//!
//! * `probe`: a counting waker and a one-shot poll helper, so a model controls exactly
//!   when a future is polled and when it is dropped (the "granted, then dropped" cases);
//! * `broken`: deliberately broken twins of corio's protocols, which the
//!   `#[should_panic]` models run to prove loom finds the bug each guards against.

#[cfg(loom)]
pub mod broken;
#[cfg(loom)]
pub mod probe;

/// The preemption bound a model uses when `LOOM_MAX_PREEMPTIONS` is not set.
pub const DEFAULT_PREEMPTIONS: usize = 2;

/// Runs `f` under `loom::model::Builder` with the preemption bound from
/// `LOOM_MAX_PREEMPTIONS`, or [`DEFAULT_PREEMPTIONS`] if it is unset (an unbounded
/// exploration of these models would take hours).
#[cfg(loom)]
pub fn model<F>(f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(DEFAULT_PREEMPTIONS);
    }
    builder.check(f);
}

/// As [`model`], and returns how many executions loom explored (printed by the models
/// of user code, so the cost of each is visible in the test output).
#[cfg(loom)]
pub fn explore<F>(name: &str, f: F) -> usize
where
    F: Fn() + Sync + Send + 'static,
{
    use std::sync::atomic::{AtomicUsize, Ordering};
    let executions = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = executions.clone();
    model(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        f();
    });
    let n = executions.load(Ordering::Relaxed);
    println!("loom: {name}: {n} executions");
    n
}

/// As [`model`], but explores with at least `min` preemptions whatever
/// `LOOM_MAX_PREEMPTIONS` says: for small models that stay fast with a deeper bound.
#[cfg(loom)]
pub fn model_with<F>(min: usize, f: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    let bound = builder.preemption_bound.unwrap_or(DEFAULT_PREEMPTIONS);
    builder.preemption_bound = Some(bound.max(min));
    builder.check(f);
}
