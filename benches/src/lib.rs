//! Workloads for corio's benchmarks, each written once per runtime with the same code
//! shape, shared by the criterion benches (`benches/*.rs`) and the `report` binary.
//!
//! A [`Workload`] has one [`Variant`] per runtime; a variant measures `iters` runs of the
//! workload and returns the total time (criterion's `iter_custom` shape), so setup such as
//! building a runtime stays outside the measurement unless the workload says it is cold.
//!
//! Every runtime gets [`WORKERS`] worker threads. Warm workloads share one runtime per
//! kind for the whole process ([`runtimes::corio`], [`runtimes::tokio`],
//! [`runtimes::smol`], [`runtimes::async_std`]), built outside any timed region.

use std::fmt;
use std::time::Duration;

pub mod blocking;
pub mod http;
pub mod net;
pub mod runtime;
pub mod runtimes;
pub mod stats;
pub mod streams;
pub mod sync;
pub mod time;

/// Worker threads used by every multi-thread runtime in the benches.
pub const WORKERS: usize = 2;

/// One runtime's implementation of a workload.
pub struct Variant {
    /// `"corio"`, `"tokio"`, `"smol"` or `"async-std"`.
    pub runtime: &'static str,
    /// Runs the workload `iters` times and returns the measured time.
    pub run: Box<dyn FnMut(u64) -> Duration>,
}

impl fmt::Debug for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Variant")
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

/// A workload measured on several runtimes.
#[derive(Debug)]
pub struct Workload {
    /// Area: runtime, sync, blocking, time, net.
    pub group: &'static str,
    /// Workload name, e.g. `spawn_many_local`.
    pub name: &'static str,
    /// One entry per runtime; corio first.
    pub variants: Vec<Variant>,
}

impl Workload {
    /// A workload with no variants yet.
    pub fn new(group: &'static str, name: &'static str) -> Self {
        Workload {
            group,
            name,
            variants: Vec::new(),
        }
    }

    /// Adds a runtime's variant.
    pub fn variant(
        mut self,
        runtime: &'static str,
        run: impl FnMut(u64) -> Duration + 'static,
    ) -> Self {
        self.variants.push(Variant {
            runtime,
            run: Box::new(run),
        });
        self
    }
}

/// Every workload of every area, in report order.
pub fn all_workloads() -> Vec<Workload> {
    let mut all = runtime::workloads();
    all.extend(sync::workloads());
    all.extend(blocking::workloads());
    all.extend(time::workloads());
    all.extend(net::workloads());
    all.extend(streams::workloads());
    all
}

/// Registers every variant of `workloads` with criterion under `group/name/runtime`.
pub fn criterion_register(c: &mut criterion::Criterion, workloads: Vec<Workload>) {
    for mut w in workloads {
        let mut group = c.benchmark_group(format!("{}/{}", w.group, w.name));
        group.sample_size(10);
        for v in &mut w.variants {
            let run = &mut v.run;
            group.bench_function(v.runtime, |b| b.iter_custom(&mut *run));
        }
        group.finish();
    }
}

/// Times `iters` runs of `f` (for workloads whose every iteration is measured whole).
pub fn time_iters(iters: u64, mut f: impl FnMut()) -> Duration {
    let start = std::time::Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed()
}
