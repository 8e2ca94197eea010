//! `corio::to_thread` inside a runtime runs on that runtime's blocking pool.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn thread_name() -> String {
    std::thread::current().name().unwrap_or("").to_string()
}

#[test]
fn to_thread_uses_the_runtime_pool_on_workers_and_in_block_on() {
    let rt = corio::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("rtx")
        .build()
        .unwrap();
    let from_block_on = rt.block_on(corio::to_thread(thread_name));
    assert!(from_block_on.starts_with("rtx-blocking"), "{from_block_on}");
    let from_task = rt
        .block_on(rt.spawn(async { corio::to_thread(thread_name).await }))
        .unwrap();
    assert!(from_task.starts_with("rtx-blocking"), "{from_task}");
}

#[test]
fn to_thread_respects_max_blocking_threads() {
    let rt = corio::Builder::new_current_thread()
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        // Eight jobs in flight at once: the pool runs at most two at a time.
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (running, peak) = (running.clone(), peak.clone());
                corio::spawn(corio::to_thread(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(30));
                    running.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

#[test]
fn to_thread_outside_a_runtime_uses_the_default_pool() {
    let name = futures::executor::block_on(corio::to_thread(thread_name));
    assert!(name.starts_with("corio-blocking"), "{name}");
}
