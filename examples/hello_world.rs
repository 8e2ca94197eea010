//! asyncio's first programs, on corio.
//!
//! Seeds: 000 "事件循环" (Hello … World after 2 s, `fetch_data` returning a value) and
//! 004 "简单例子" (calling a coroutine function runs nothing until the loop runs it).
//!
//! Python warns at run time that a coroutine "was never awaited"; Rust warns at build
//! time instead, because every future is `#[must_use]`:
//!
//! ```text
//! let _unused = say_hello();   // fine: explicitly discarded
//! say_hello();                 // warning: unused implementer of `Future` that must be used
//! ```
use std::time::Duration;

async fn a_func() {
    println!("协程执行了");
}

async fn fetch_data() -> &'static str {
    corio::sleep(Duration::from_secs(2)).await;
    "Data fetched"
}

fn main() {
    // 004: calling an async fn only builds a future (asyncio: a coroutine object).
    let a = a_func();
    println!("<future {}>", std::any::type_name_of_val(&a));
    // Handing it to the runtime is what runs it.
    corio::run(a);

    // 000: asyncio.run(main())
    corio::run(async {
        println!("Hello ...");
        // Simulated I/O: the task sleeps, the thread is free for other tasks.
        corio::sleep(Duration::from_secs(2)).await;
        println!("... World!");

        let data = fetch_data().await;
        println!("{data}");
    });
}
