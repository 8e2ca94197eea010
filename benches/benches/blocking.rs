//! Criterion front end for the `blocking` workloads defined in `benches/src/blocking.rs`, which the
//! `report` binary also runs (see BENCHMARKS.md).
//!
//! `cargo bench -p corio-benches --bench blocking -- --warm-up-time 1 --measurement-time 3`
// `criterion_group!` expands to an undocumented `pub fn`; a bench binary has no API to document.
#![allow(missing_docs)]

use criterion::{criterion_group, Criterion};

fn benches(c: &mut Criterion) {
    corio_benches::criterion_register(c, corio_benches::blocking::workloads());
}

criterion_group!(all, benches);

// `criterion_main!` written out: the cold rows re-run this executable as a child process,
// which must measure and exit before criterion reads the command line.
fn main() {
    corio_benches::blocking::cold_child_main();
    all();
    Criterion::default().configure_from_args().final_summary();
}
