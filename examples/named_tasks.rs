//! Tasks with names (asyncio's `create_task(coro, name=...)`).
//!
//! Seed: 000 "协程任务(Task)": both tasks start at once and finish together after 2 s.
use std::time::Duration;

use corio::task;

async fn fetch_data() -> &'static str {
    corio::sleep(Duration::from_secs(2)).await;
    "Data fetched"
}

async fn task1() {
    println!("Task 1 started");
    let res = fetch_data().await;
    println!("Task 1 finished {res}");
}

async fn task2() {
    println!("Task 2 started");
    let res = fetch_data().await;
    println!("Task 2 finished {res}");
}

// asyncio runs every task on one thread, in a fixed order; corio's current-thread
// runtime is that same model, so the lines come out in the seed's order. (On the
// multi-thread runtime the tasks run in parallel and equal-time lines may swap.)
#[corio::main(flavor = "current_thread")]
async fn main() {
    let t1 = task::Builder::new().name("1").spawn(task1());
    let t2 = task::Builder::new().name("2").spawn(task2());
    println!(
        "spawned tasks named {:?} and {:?}",
        t1.name().unwrap_or("?"),
        t2.name().unwrap_or("?")
    );
    t1.await.unwrap();
    t2.await.unwrap();
}
