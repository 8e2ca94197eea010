//! 100 000 timers: corio vs tokio vs smol, in the same run.
//!
//! - `timers_100k/*/concurrent`: one task awaits 100 000 sleeps of 1–50 ms (join_all);
//!   the floor is the 50 ms longest sleep, the rest is timer overhead.
//! - `timers_100k/*/spawned`: 100 000 spawned tasks, each sleeping 1–50 ms.
//! - `timers_100k/*/register_cancel`: create, register (poll once) and drop 100 000
//!   sleeps: pure insert + cancel cost, no waiting.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use futures::future::join_all;

const N: u64 = 100_000;

fn dur(i: u64) -> Duration {
    Duration::from_millis(1 + (i * 7919) % 50)
}

fn poll_once<F: Future>(f: F) -> bool {
    let f = pin!(f);
    matches!(
        f.poll(&mut Context::from_waker(Waker::noop())),
        Poll::Pending
    )
}

fn timers(c: &mut Criterion) {
    let corio_rt = corio::Runtime::new().unwrap();
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    let mut g = c.benchmark_group("timers_100k");
    g.sample_size(10);

    g.bench_function("corio/concurrent", |b| {
        b.iter(|| corio_rt.block_on(async { join_all((0..N).map(|i| corio::sleep(dur(i)))).await }))
    });
    g.bench_function("tokio/concurrent", |b| {
        b.iter(|| {
            tokio_rt.block_on(async { join_all((0..N).map(|i| tokio::time::sleep(dur(i)))).await })
        })
    });
    g.bench_function("smol/concurrent", |b| {
        b.iter(|| smol::block_on(join_all((0..N).map(|i| smol::Timer::after(dur(i))))))
    });

    g.bench_function("corio/spawned", |b| {
        b.iter(|| {
            corio_rt.block_on(async {
                let tasks: Vec<_> = (0..N).map(|i| corio::spawn(corio::sleep(dur(i)))).collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });
    g.bench_function("tokio/spawned", |b| {
        b.iter(|| {
            tokio_rt.block_on(async {
                let tasks: Vec<_> = (0..N)
                    .map(|i| tokio::spawn(tokio::time::sleep(dur(i))))
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            })
        })
    });
    g.bench_function("smol/spawned", |b| {
        b.iter(|| {
            smol::block_on(async {
                let tasks: Vec<_> = (0..N)
                    .map(|i| {
                        smol::spawn(async move {
                            smol::Timer::after(dur(i)).await;
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await;
                }
            })
        })
    });

    g.bench_function("corio/register_cancel", |b| {
        b.iter(|| {
            corio_rt.block_on(async {
                for i in 0..N {
                    assert!(poll_once(corio::sleep(Duration::from_secs(10) + dur(i))));
                }
            })
        })
    });
    g.bench_function("tokio/register_cancel", |b| {
        b.iter(|| {
            tokio_rt.block_on(async {
                for i in 0..N {
                    assert!(poll_once(tokio::time::sleep(
                        Duration::from_secs(10) + dur(i)
                    )));
                }
            })
        })
    });
    g.bench_function("smol/register_cancel", |b| {
        b.iter(|| {
            for i in 0..N {
                assert!(poll_once(smol::Timer::after(
                    Duration::from_secs(10) + dur(i)
                )));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, timers);
criterion_main!(benches);
