//! `corio::sync::Condition::notify(n)` wakes exactly n waiters.
//!
//! Seed: 002 test7: three waiters; each of three `/random` responses calls `notify(2)`:
//! the first wakes waiters 0 and 1 together, the second wakes waiter 2.
#[path = "common/mod.rs"]
mod common;
#[path = "common/web.rs"]
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use corio::sync::{Condition, Lock};
use corio::ReturnWhen;

struct Cond {
    lock: Lock,
    cond: Condition,
}

async fn waiter(c: Arc<Cond>, id: u32) {
    let guard = c.lock.lock().await;
    let _guard = c.cond.wait(guard).await; // returns holding the lock again
    println!("{} waiter[{id}]等待完成", common::datetime());
}

async fn run(c: Arc<Cond>, addr: SocketAddr) -> f64 {
    let resp = web::get(addr, "/random").await.expect("request failed");
    println!("响应内容 {}", resp.body);
    let _guard = c.lock.lock().await;
    c.cond.notify(2);
    resp.msg_number()
}

// asyncio runs every task on one thread, in a fixed order; corio's current-thread
// runtime is that same model, so the lines come out in the seed's order. (On the
// multi-thread runtime the tasks run in parallel and equal-time lines may swap.)
#[corio::main(flavor = "current_thread")]
async fn main() {
    let addr = web::start().await.expect("start the web service");
    let start = Instant::now();
    let c = Arc::new(Cond {
        lock: Lock::new(()),
        cond: Condition::new(),
    });
    let waiters: Vec<_> = (0..3).map(|i| corio::spawn(waiter(c.clone(), i))).collect();
    // Let every waiter reach `wait` before the first notification (asyncio: the waiters
    // run first because they were scheduled first).
    corio::yield_now().await;
    let futures: Vec<_> = (0..3).map(|_| corio::spawn(run(c.clone(), addr))).collect();
    corio::wait(futures, ReturnWhen::AllCompleted, None).await;
    corio::gather(waiters).await;
    println!("耗时: {:.2}s", start.elapsed().as_secs_f64());
}
