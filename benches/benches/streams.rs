//! Criterion front end for the streams line echo defined in `benches/src/streams.rs`,
//! which the `report` binary also runs (area `net`).
//!
//! `cargo bench -p corio-benches --bench streams -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, criterion_main, Criterion};

fn benches(c: &mut Criterion) {
    corio_benches::criterion_register(c, corio_benches::streams::workloads());
}

criterion_group!(all, benches);
criterion_main!(all);
