//! `corio::sync::Event` releases every task waiting on it at once.
//!
//! Seed: 002 test6: two "big" and two "small" waiters; each `/random` response sets one
//! of the two events; whatever is still unset is set at the end.
#[path = "common/mod.rs"]
mod common;
#[path = "common/web.rs"]
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use corio::sync::Event;
use corio::ReturnWhen;

struct Events {
    big: Event,
    small: Event,
}

async fn big_waiter(ev: Arc<Events>) {
    ev.small.wait().await;
    println!("{} big waiter 收到任务事件", common::datetime());
}

async fn small_waiter(ev: Arc<Events>) {
    ev.big.wait().await;
    println!("{} small waiter 收到任务事件", common::datetime());
}

async fn run(ev: Arc<Events>, addr: SocketAddr) -> f64 {
    let resp = web::get(addr, "/random").await.expect("request failed");
    println!("响应内容 {}", resp.body);
    let data = resp.msg_number();
    if data > 0.5 {
        ev.big.set();
    } else {
        ev.small.set();
    }
    data
}

// asyncio runs every task on one thread, in a fixed order; corio's current-thread
// runtime is that same model, so the lines come out in the seed's order. (On the
// multi-thread runtime the tasks run in parallel and equal-time lines may swap.)
#[corio::main(flavor = "current_thread")]
async fn main() {
    let addr = web::start().await.expect("start the web service");
    let start = Instant::now();
    let ev = Arc::new(Events {
        big: Event::new(),
        small: Event::new(),
    });
    let waiters = vec![
        corio::spawn(big_waiter(ev.clone())),
        corio::spawn(big_waiter(ev.clone())),
        corio::spawn(small_waiter(ev.clone())),
        corio::spawn(small_waiter(ev.clone())),
    ];
    let futures: Vec<_> = (0..3)
        .map(|_| corio::spawn(run(ev.clone(), addr)))
        .collect();
    corio::wait(futures, ReturnWhen::AllCompleted, None).await;
    if !ev.big.is_set() {
        ev.big.set();
    }
    if !ev.small.is_set() {
        ev.small.set();
    }
    // Let the released waiters print (asyncio: `await asyncio.sleep(0)`).
    corio::gather(waiters).await;
    println!("耗时: {:.2}s", start.elapsed().as_secs_f64());
}
