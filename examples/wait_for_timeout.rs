//! `corio::wait_for`: give up on a future after a timeout (the future is dropped).
//!
//! Seeds: 000 "执行任务超时控制" (2 s fetch, 1 s timeout → "Timeout!") and 001 "超时控制"
//! (5 s operation, 2 s timeout → "操作超时!").
use std::time::Duration;

async fn fetch_data() -> &'static str {
    corio::sleep(Duration::from_secs(2)).await;
    "Data fetched"
}

async fn slow_operation() -> &'static str {
    corio::sleep(Duration::from_secs(5)).await;
    "done"
}

#[corio::main]
async fn main() {
    // 000: timeout > 2 s succeeds; timeout <= 2 s times out.
    match corio::wait_for(fetch_data(), Duration::from_secs(3)).await {
        Ok(result) => println!("{result}"),
        Err(corio::TimeoutError { .. }) => println!("Timeout!"),
    }
    match corio::wait_for(fetch_data(), Duration::from_secs(1)).await {
        Ok(result) => println!("{result}"),
        Err(_) => println!("Timeout!"),
    }

    // 001
    match corio::wait_for(slow_operation(), Duration::from_secs_f64(2.0)).await {
        Ok(result) => println!("{result}"),
        Err(_) => println!("操作超时!"),
    }
}
