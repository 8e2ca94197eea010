//! The facade's futures are lazy, like asyncio's coroutine objects: build them anywhere,
//! hand them to `corio::run` or `block_on`.

use std::time::{Duration, Instant};

use corio_test_util::within;

#[test]
fn corio_run_sleep() {
    within(Duration::from_secs(20), || {
        let start = Instant::now();
        corio::run(corio::sleep(Duration::from_millis(10)));
        assert!(start.elapsed() >= Duration::from_millis(10));
    });
}

#[test]
fn block_on_wait_for_wait_until_and_an_interval_built_outside() {
    within(Duration::from_secs(20), || {
        let rt = corio::Runtime::new().unwrap();
        let slow = corio::sleep(Duration::from_secs(60));
        let res = rt.block_on(corio::wait_for(slow, Duration::from_millis(5)));
        assert_eq!(res, Err(corio::TimeoutError));
        let res = rt.block_on(corio::wait_for(async { "ok" }, Duration::from_secs(5)));
        assert_eq!(res, Ok("ok"));

        let deadline = Instant::now() + Duration::from_millis(5);
        let res = rt.block_on(corio::wait_until(std::future::pending::<()>(), deadline));
        assert_eq!(res, Err(corio::TimeoutError));
        assert!(Instant::now() >= deadline);

        let mut iv = corio::interval(Duration::from_millis(5));
        let ticks = rt.block_on(async {
            let a = iv.tick().await;
            let b = iv.tick().await;
            b - a
        });
        assert_eq!(ticks, Duration::from_millis(5));
    });
}

#[test]
fn block_on_tcp_connect_built_outside() {
    within(Duration::from_secs(20), || {
        let rt = corio::Runtime::new().unwrap();
        let listener = rt
            .block_on(corio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let connect = corio::net::TcpStream::connect(addr);
        let stream = rt.block_on(connect).unwrap();
        assert_eq!(stream.peer_addr().unwrap(), addr);
        let (_server, peer) = rt.block_on(listener.accept()).unwrap();
        assert_eq!(peer, stream.local_addr().unwrap());
    });
}

#[test]
#[should_panic(expected = "corio::sleep must be awaited inside a corio runtime")]
fn awaiting_a_sleep_under_another_executor_panics_with_the_fix() {
    futures::executor::block_on(corio::sleep(Duration::from_millis(1)));
}
