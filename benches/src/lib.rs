//! Shared helpers for corio's benchmarks against tokio and smol.
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
