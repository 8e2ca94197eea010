//! Slow-poll warnings: asyncio's debug mode says "Executing <Task …> took 0.2 seconds";
//! corio says it by default, naming the task, where it was spawned and the worker.
//!
//! One task sleeps the async way (`corio::sleep`: its worker stays free), the other calls
//! blocking code (`std::thread::sleep`) and holds its worker for 300 ms. After 100 ms (the
//! default `Builder::slow_poll_threshold`) corio's monitor thread reports the second one
//! — to stderr here, or as a `tracing` WARN event (target `corio::slow_poll`) when a
//! subscriber is installed. Then the runtime's metrics show what the workers did.
use std::time::Duration;

use corio::task;

#[corio::main(worker_threads = 2)]
async fn main() {
    let polite = task::Builder::new()
        .name("polite")
        .spawn(corio::sleep(Duration::from_millis(300)));
    let blocker = task::Builder::new().name("blocks-its-worker").spawn(async {
        // Blocking call inside async code: use `corio::to_thread` for this instead.
        std::thread::sleep(Duration::from_millis(300));
    });
    polite.await.unwrap();
    blocker.await.unwrap();

    let m = corio::Handle::current().metrics();
    println!(
        "{} tasks spawned, {} still running, {} worker threads",
        m.spawned_total, m.live_tasks, m.workers
    );
    for (i, w) in m.per_worker.iter().enumerate() {
        println!(
            "worker {i}: {} polls, {} steals, {} parks, busy about {} ms",
            w.polls,
            w.steals,
            w.parks,
            w.busy_time.as_millis()
        );
    }
}
