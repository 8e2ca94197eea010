//! Producer/consumer over `corio::sync::Queue`.
//!
//! Seeds: 000 "队列" (`task_done` + `join`, then cancel the endless consumer) and 001
//! "生产者消费者" (maxsize 5, two consumers). asyncio's `None` sentinel becomes
//! `Queue::shutdown`: once the queue is shut down and drained, `get` returns `Err` and
//! `while let Ok(item) = queue.get().await` ends by itself.
use std::time::Duration;

use corio::sync::Queue;

async fn producer(queue: Queue<u32>) {
    for i in 0..5 {
        queue.put(i).await.unwrap();
        println!("produced: {i}");
        corio::sleep(Duration::from_secs(1)).await;
    }
}

async fn consumer(queue: Queue<u32>) {
    loop {
        let item = queue.get().await.unwrap(); // keeps consuming
        println!("consumed: {item}");
        corio::sleep(Duration::from_secs(2)).await; // slow consumer
        queue.task_done().unwrap(); // without it, join() would wait forever
    }
}

async fn producer2(queue: Queue<String>, items: Vec<String>) {
    for item in items {
        queue.put(item.clone()).await.unwrap();
        println!("生产: {item}");
        corio::sleep(Duration::from_millis(100)).await;
    }
    // No more items: consumers drain what is queued, then their get() fails.
    queue.shutdown(false);
}

async fn consumer2(queue: Queue<String>, name: &'static str) {
    while let Ok(item) = queue.get().await {
        println!("{name} 消费: {item}");
        corio::sleep(Duration::from_millis(300)).await;
        queue.task_done().unwrap();
    }
}

#[corio::main]
async fn main() {
    println!("-- 000: task_done + join --");
    let queue = Queue::new(0);
    let produce_task = corio::spawn(producer(queue.clone()));
    let consume_task = corio::spawn(consumer(queue.clone()));
    produce_task.await.unwrap(); // all items are in
    queue.join().await; // every item was marked done
    consume_task.cancel(); // stop the endless consumer
    println!("consumer cancelled: {}", consume_task.await.is_err());

    println!("-- 001: maxsize 5, two consumers, shutdown --");
    let queue = Queue::new(5);
    let items: Vec<String> = (0..6).map(|i| format!("task_{i}")).collect();
    corio::join!(
        producer2(queue.clone(), items),
        consumer2(queue.clone(), "Consumer-1"),
        consumer2(queue.clone(), "Consumer-2"),
    );
    println!("all consumed");
}
