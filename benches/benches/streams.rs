//! Criterion front end for the streams line echo defined in `benches/src/streams.rs`,
//! which the `report` binary also runs (area `net`).
//!
//! `cargo bench -p corio-benches --bench streams -- --warm-up-time 1 --measurement-time 3`

// `criterion_group!` expands to an undocumented `pub fn`; a bench binary has no API to document.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};

fn benches(c: &mut Criterion) {
    corio_benches::criterion_register(c, corio_benches::streams::workloads());
}

criterion_group!(all, benches);
criterion_main!(all);
