//! Background tasks: `spawn` returns at once, the task runs while `main` does other work.
//!
//! Seed: 001 "create_task():后台任务".
use std::time::Duration;

async fn background_job(n: u32) {
    corio::sleep(Duration::from_millis(500)).await;
    println!("Job {n} complete");
}

#[corio::main]
async fn main() {
    let t1 = corio::spawn(background_job(1));
    let t2 = corio::spawn(background_job(2));

    println!("做其他事情...");
    corio::sleep(Duration::from_millis(100)).await;
    println!("继续做其他事情...");

    t1.await.unwrap();
    t2.await.unwrap();
}
