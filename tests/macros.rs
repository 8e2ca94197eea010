//! `#[corio::main]` and `#[corio::test]` expand to working runtimes of the right flavor.

use std::time::Duration;

#[corio::test]
async fn test_defaults_to_current_thread() {
    let here = std::thread::current().id();
    // A current-thread runtime polls spawned tasks on the test's own thread.
    let there = corio::spawn(async { std::thread::current().id() })
        .await
        .unwrap();
    assert_eq!(here, there);
    // spawn_local works only on a current-thread runtime.
    let rc = std::rc::Rc::new(5);
    assert_eq!(corio::spawn_local(async move { *rc }).await.unwrap(), 5);
}

#[corio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_multi_thread_runs_on_workers() {
    let here = std::thread::current().id();
    let there = corio::spawn(async { std::thread::current().id() })
        .await
        .unwrap();
    assert_ne!(here, there);
    corio::sleep(Duration::from_millis(1)).await;
}

#[corio::test]
async fn test_can_return_result() -> Result<(), std::io::Error> {
    let listener = corio::net::TcpListener::bind("127.0.0.1:0").await?;
    listener.local_addr()?;
    Ok(())
}

mod main_macro {
    #[corio::main(flavor = "current_thread")]
    pub(crate) async fn main() -> u32 {
        corio::yield_now().await;
        7
    }

    #[test]
    fn main_returns_the_body_value() {
        assert_eq!(main(), 7);
    }
}
