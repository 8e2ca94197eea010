//! `corio::sync::Semaphore` limits how many tasks run a section at once.
//!
//! Seeds: 000 "信号量" (5 workers, 2 at a time: ≈3 s) and 002 test8 (3 requests to the
//! local web service through a Semaphore(2): ≈2 s).
#[path = "common/mod.rs"]
mod common;
#[path = "common/web.rs"]
mod web;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio::sync::Semaphore;

async fn worker(semaphore: &Semaphore, id: u32) {
    let _permit = semaphore.acquire().await; // released when dropped
    println!("Worker {id} started");
    corio::sleep(Duration::from_secs(1)).await;
    println!("Worker {id} finished");
}

async fn run(semp: Arc<Semaphore>, addr: SocketAddr, id: u32) -> f64 {
    let _permit = semp.acquire().await;
    let resp = web::get(addr, "/random").await.expect("request failed");
    println!("{} worker[{id}] 响应内容 {}", common::datetime(), resp.body);
    resp.msg_number()
}

#[corio::main]
async fn main() {
    println!("-- 000: 5 workers, 2 at a time --");
    let start = Instant::now();
    let semaphore = Semaphore::new(2);
    corio::gather((0..5).map(|i| worker(&semaphore, i))).await;
    println!("耗时: {:.2}s", start.elapsed().as_secs_f64());

    println!("-- 002 test8: 3 requests, 2 at a time --");
    let addr = web::start().await.expect("start the web service");
    let start = Instant::now();
    let semp = Arc::new(Semaphore::new(2));
    let tasks: Vec<_> = (0..3)
        .map(|i| corio::spawn(run(semp.clone(), addr, i)))
        .collect();
    corio::wait(tasks, corio::ReturnWhen::AllCompleted, None).await;
    println!("耗时: {:.2}s", start.elapsed().as_secs_f64());
}
