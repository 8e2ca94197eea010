//! Blocking calls inside async code: what goes wrong, and `to_thread` / `run_in_executor`.
//!
//! Seeds: 000 "to_thread" (a blocking function on a thread, main keeps control) and 001
//! "常见坑" (bad: `time.sleep` blocks the loop; good: `run_in_executor`; better:
//! `to_thread`). The pitfall part runs on a current-thread runtime — asyncio's own model,
//! one thread for every task — so a blocking call stops everything, just like in Python.
use std::time::{Duration, Instant};

use corio::blocking::ThreadPool;

fn blocking_io() {
    println!("Blocking IO started");
    std::thread::sleep(Duration::from_secs(2)); // a blocking operation
    println!("Blocking IO finished");
}

// ❌ blocks the whole thread: no other task can run meanwhile
async fn bad() -> &'static str {
    std::thread::sleep(Duration::from_secs(2));
    "done"
}

// ✅ run it on a thread pool (asyncio: loop.run_in_executor(pool, time.sleep, 2))
async fn good(pool: &ThreadPool) -> &'static str {
    pool.run(|| std::thread::sleep(Duration::from_secs(2)))
        .await;
    "done"
}

// ✅ or the shorthand (asyncio.to_thread(time.sleep, 2))
async fn better() -> &'static str {
    corio::to_thread(|| std::thread::sleep(Duration::from_secs(2))).await;
    "done"
}

fn main() {
    corio::run(async {
        println!("Main started");
        corio::to_thread(blocking_io).await;
        println!("Main finished");
    });

    let rt = corio::Builder::new_current_thread()
        .build()
        .expect("build the runtime");
    rt.block_on(async {
        let pool = ThreadPool::builder().max_threads(4).build();

        let start = Instant::now();
        corio::join!(bad(), bad());
        println!(
            "bad    (time.sleep):      {:.1}s",
            start.elapsed().as_secs_f64()
        );

        let start = Instant::now();
        corio::join!(good(&pool), good(&pool));
        println!(
            "good   (run_in_executor): {:.1}s",
            start.elapsed().as_secs_f64()
        );

        let start = Instant::now();
        corio::join!(better(), better());
        println!(
            "better (to_thread):       {:.1}s",
            start.elapsed().as_secs_f64()
        );
    });
}
