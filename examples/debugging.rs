//! When a corio program stalls: the slow-poll warning names the task that blocks its
//! worker, and the task dump shows every task and what it awaits, as a tree.
//!
//! Three things go wrong on purpose:
//! 1. a task calls blocking code (`std::thread::sleep`) and holds its worker for 300 ms:
//!    corio's monitor prints "Executing <Task …> took 0.1xx seconds" after 100 ms;
//! 2. two tasks take two locks in opposite orders and deadlock;
//! 3. a supervisor's TaskGroup of workers waits for jobs that never come.
//!
//! Then `corio::dump()` prints them all. From outside a running process the same dump is
//! one signal away: run with `CORIO_DUMP_SIGNAL=SIGUSR1` and `kill -USR1 <pid>`.
use std::sync::Arc;
use std::time::Duration;

use corio::sync::{Barrier, Lock, Queue};
use corio::{task, TaskGroup};

#[corio::main(worker_threads = 2)]
async fn main() {
    // 1. Blocking code inside async code (use `corio::to_thread` for this instead).
    let blocker = task::Builder::new().name("blocks-its-worker").spawn(async {
        std::thread::sleep(Duration::from_millis(300));
    });

    // 2. A lock-order deadlock: each task holds one lock and waits for the other.
    let (a, b) = (Arc::new(Lock::new(())), Arc::new(Lock::new(())));
    let both_hold_one = Arc::new(Barrier::new(2));
    let left = {
        let (a, b, both) = (a.clone(), b.clone(), both_hold_one.clone());
        task::Builder::new().name("left").spawn(async move {
            let _a = a.lock().await;
            both.wait().await;
            let _b = b.lock().await; // waits for `right` forever
        })
    };
    let right = {
        let (a, b, both) = (a.clone(), b.clone(), both_hold_one.clone());
        task::Builder::new().name("right").spawn(async move {
            let _b = b.lock().await;
            both.wait().await;
            let _a = a.lock().await; // waits for `left` forever
        })
    };

    // 3. Workers in a TaskGroup, waiting (with a timeout) for jobs nobody sends.
    let jobs = Queue::<u32>::new(16);
    let supervisor = task::Builder::new().name("supervisor").spawn(async move {
        let group = TaskGroup::<(), corio::TimeoutError>::new();
        for _ in 0..2 {
            let jobs = jobs.clone();
            group
                .spawn(async move {
                    let job = corio::wait_for(jobs.get(), Duration::from_secs(60)).await?;
                    println!("got job {job:?}");
                    Ok(())
                })
                .unwrap();
        }
        group.join().await
    });

    blocker.await.unwrap();
    corio::sleep(Duration::from_millis(50)).await;

    let dump = corio::dump();
    println!("{dump}");

    // The dump is data too: find tasks stuck on a lock.
    for t in &dump {
        if let Some(link) = t.awaiting().first() {
            if link.what() == "Lock::lock" {
                println!("possible deadlock: {} awaits {link}", t.info());
            }
        }
    }

    for t in [left, right] {
        t.cancel();
    }
    supervisor.cancel();
}
