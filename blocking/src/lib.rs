//! The elastic blocking thread pool behind corio's `to_thread` and `run_in_executor`.
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    rust_2018_idioms
)]
#![deny(unsafe_op_in_unsafe_fn)]

mod loom;
