//! `corio::sync::Lock` makes concurrent requests take turns.
//!
//! Seed: 002 test5: three concurrent 1 s requests to the local web service, serialized
//! by a lock, take ≈3 s.
#[path = "common/web.rs"]
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use corio::sync::Lock;

async fn run(lock: Arc<Lock>, addr: SocketAddr, id: u32) -> u32 {
    let _guard = lock.lock().await; // one request at a time
    let resp = web::get(addr, "/").await.expect("request failed");
    println!("响应内容 {}", resp.body);
    id
}

#[corio::main]
async fn main() {
    let addr = web::start().await.expect("start the web service");
    let start = Instant::now();
    let lock = Arc::new(Lock::new(()));
    let futures: Vec<_> = (0..3)
        .map(|i| corio::spawn(run(lock.clone(), addr, i)))
        .collect();
    let rets: Vec<u32> = corio::gather(futures)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    println!("{rets:?}");
    println!("耗时: {:.2}s", start.elapsed().as_secs_f64());
}
