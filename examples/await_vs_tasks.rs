//! `await` runs one coroutine after another; `spawn` (asyncio's `create_task`) runs them
//! at the same time.
//!
//! Seeds: 003 "await的示例" (2 s) vs "asyncio.create_task的示例" (1 s); 004 "await 例子1–3"
//! and "Task对象" (tasks finish while `main` sleeps; `wait` collects them).
#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use common::clock;
use corio::ReturnWhen;

async fn say_hello() {
    println!("hello {}", clock());
    corio::sleep(Duration::from_secs(1)).await;
    println!("hello {}", clock());
}

async fn say_world() {
    println!("world {}", clock());
    corio::sleep(Duration::from_secs(1)).await;
    println!("world {}", clock());
}

async fn others() -> &'static str {
    println!("任务开始执行");
    corio::sleep(Duration::from_secs(2)).await;
    println!("任务执行结束");
    "我是返回值"
}

async fn func(s: u64) -> String {
    println!("start");
    corio::sleep(Duration::from_secs(s)).await;
    println!("end");
    format!("返回值:{s}")
}

// asyncio runs every task on one thread, in a fixed order; corio's current-thread
// runtime is that same model, so the lines come out in the seed's order. (On the
// multi-thread runtime the tasks run in parallel and equal-time lines may swap.)
#[corio::main(flavor = "current_thread")]
async fn main() {
    println!("-- await: one after the other (2 s) --");
    say_hello().await;
    say_world().await;

    println!("-- spawn: at the same time (1 s) --");
    let task_say_hello = corio::spawn(say_hello());
    let task_say_world = corio::spawn(say_world());
    task_say_hello.await.unwrap();
    task_say_world.await.unwrap();

    println!("-- 004 例子3: await twice --");
    println!("协程开始执行");
    let response = others().await;
    println!("结果为： {response}");
    let response1 = others().await;
    println!("协程执行完毕，最终结果： {response1}");

    println!("-- 004 Task对象 --");
    println!("main 协程执行");
    let task_list = vec![corio::spawn(func(2)), corio::spawn(func(3))];
    // Both tasks finish while main sleeps: awaiting them afterwards returns at once.
    corio::sleep(Duration::from_secs(5)).await;
    let (done, pending) = corio::wait(task_list, ReturnWhen::AllCompleted, None).await;
    assert!(pending.is_empty());
    for task in done {
        println!("{}", task.await.unwrap());
    }
}
