//! `corio::gather`: run futures concurrently, get results in argument order.
//!
//! Seeds: 000 "多协程并发执行" (random sleeps; results keep argument order — the seed
//! sleeps 1–10 s, here 1–3 s), 001 "gather" (three 1 s tasks take ≈1 s, not 3 s) and
//! 002 test4 (gather over tasks returns their ids in order).
#[path = "common/web.rs"]
mod web;

use std::time::{Duration, Instant};

async fn fetch_data(name: u32) -> String {
    let sec = 1 + (web::random() * 3.0) as u64; // 1..=3
    println!("{name} wait sec {sec}");
    corio::sleep(Duration::from_secs(sec)).await;
    format!("fetched {name}")
}

async fn task(name: &str, delay: f64) -> String {
    corio::sleep(Duration::from_secs_f64(delay)).await;
    format!("{name} done")
}

#[corio::main]
async fn main() {
    // 000: completion order is random, result order is argument order.
    let results = corio::gather([fetch_data(1), fetch_data(2), fetch_data(3)]).await;
    println!("{results:?}");

    // 001: sequential would take 3 s; gather takes about 1 s.
    let start = Instant::now();
    let results = corio::gather([task("A", 1.0), task("B", 1.0), task("C", 1.0)]).await;
    println!("{results:?}");
    println!("耗时: {:.2}s", start.elapsed().as_secs_f64());

    // 002 test4: gather over spawned tasks (asyncio.ensure_future) gives Result per task.
    let start = Instant::now();
    let tasks: Vec<_> = (0..3)
        .map(|id| {
            corio::spawn(async move {
                corio::sleep(Duration::from_secs(1)).await;
                println!("响应内容 {{'msg': 'ok'}}");
                id
            })
        })
        .collect();
    let rets: Vec<u32> = corio::gather(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task failed"))
        .collect();
    println!("{rets:?}");
    println!("耗时: {:.2}s", start.elapsed().as_secs_f64());
}
