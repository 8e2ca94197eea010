//! `corio::wait` with a timeout: handle what finished, cancel what did not.
//!
//! Seeds: 000 "等待任务执行完成" (A finishes, C fails, B is still pending at the 3 s
//! timeout and gets cancelled) and 002 test3 (`asyncio.wait` over a list of futures).
//! asyncio's exception in task C is a Rust `Err` here; a panic would surface as
//! `TaskError::Panicked` the same way.
use std::time::Duration;

use corio::{task, ReturnWhen};

async fn work(name: &'static str, delay: u64) -> Result<&'static str, String> {
    println!("Task {name} started");
    corio::sleep(Duration::from_secs(delay)).await;
    if name == "C" {
        return Err(format!("Task {name} failed"));
    }
    println!("Task {name} completed");
    Ok("Data fetched")
}

// asyncio runs every task on one thread, in a fixed order; corio's current-thread
// runtime is that same model, so the lines come out in the seed's order. (On the
// multi-thread runtime the tasks run in parallel and equal-time lines may swap.)
#[corio::main(flavor = "current_thread")]
async fn main() {
    let tasks = vec![
        task::Builder::new().name("A").spawn(work("A", 2)), // finishes: take its result
        task::Builder::new().name("B").spawn(work("B", 5)), // times out: cancel it
        task::Builder::new().name("C").spawn(work("C", 1)), // fails
    ];

    // Wait for all of them, but at most 3 s; the timeout cancels nothing by itself.
    let (done, pending) = corio::wait(
        tasks,
        ReturnWhen::AllCompleted,
        Some(Duration::from_secs(3)),
    )
    .await;

    for t in done {
        let name = t.name().unwrap_or("?").to_string();
        match t.await {
            Ok(Ok(result)) => println!("Task {name} done,result is {result}"),
            Ok(Err(e)) => println!("Task {name} raised an exception: {e}"),
            Err(e) => println!("Task {name} raised an exception: {e}"),
        }
    }

    for t in pending {
        let name = t.name().unwrap_or("?").to_string();
        println!("Task {name} is still pending");
        t.cancel();
        // Awaiting a cancelled task returns once its future has been dropped.
        if t.await.is_err_and(|e| e.is_cancelled()) {
            println!("Task {name} has been cancelled");
        }
    }
}
