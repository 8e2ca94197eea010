//! loom models of corio's primitives and scheduler protocols.
//!
//! Build and run with `RUSTFLAGS="--cfg loom" cargo test -p corio-loom-tests --release`.
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
