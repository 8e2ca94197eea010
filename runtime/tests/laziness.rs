//! Laziness: every corio future (and `Interval`) can be built outside a runtime, binds to
//! the runtime that first polls it, and panics only when polled outside every runtime —
//! naming itself and the line that built it, before doing anything else.

mod common;

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use common::{current_thread, multi_thread};
use corio_runtime::net::{
    create_server, Protocol, TcpListener, TcpStream, Transport, UdpSocket, UnixListener, UnixStream,
};
use corio_runtime::time::{interval, interval_at, sleep, sleep_until};
use corio_runtime::{
    as_completed, gather, try_gather, wait, wait_for, wait_until, yield_now, ReturnWhen,
    TimeoutError,
};
use corio_test_util::within;

struct Echo;
impl Protocol for Echo {
    fn data_received(&mut self, data: &[u8], transport: &Transport) {
        transport.write(data);
    }
}

/// A socket path unique to this process and `tag`.
fn sock_path(tag: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("corio-lazy-{}-{tag}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// Polls `fut` once outside every runtime and returns the panic message it raised.
fn panic_of_first_poll<F: Future>(fut: F) -> String {
    let mut fut = Box::pin(fut);
    let err = catch_unwind(AssertUnwindSafe(|| {
        let _ = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    }))
    .expect_err("polling outside a runtime must panic");
    match err.downcast::<String>() {
        Ok(msg) => *msg,
        Err(err) => err.downcast_ref::<&str>().unwrap().to_string(),
    }
}

/// The message names `what`, says what to do and points at `line` of this file.
fn assert_names(msg: &str, what: &str, line: u32) {
    assert!(
        msg.starts_with(&format!("{what} must be awaited inside a corio runtime")),
        "{msg}"
    );
    assert!(
        msg.contains("corio::run(...) or Runtime::block_on"),
        "{msg}"
    );
    assert!(msg.contains(&format!("{}:{line}:", file!())), "{msg}");
}

#[test]
fn timer_futures_built_outside_run_on_the_runtime_that_awaits_them() {
    within(Duration::from_secs(20), || {
        for rt in [multi_thread(2), current_thread()] {
            let start = Instant::now();
            rt.block_on(sleep(Duration::from_millis(5)));
            assert!(start.elapsed() >= Duration::from_millis(5));

            let deadline = Instant::now() + Duration::from_millis(5);
            rt.block_on(sleep_until(deadline));
            assert!(Instant::now() >= deadline);

            let never = std::future::pending::<()>();
            let timed_out = wait_for(never, Duration::from_millis(5));
            assert_eq!(rt.block_on(timed_out), Err(TimeoutError));
            assert_eq!(
                rt.block_on(wait_for(async { 7 }, Duration::from_secs(5))),
                Ok(7)
            );

            let deadline = Instant::now() + Duration::from_millis(5);
            let never = std::future::pending::<()>();
            assert_eq!(rt.block_on(wait_until(never, deadline)), Err(TimeoutError));
            assert!(Instant::now() >= deadline);

            let mut iv = interval(Duration::from_millis(5));
            let first = rt.block_on(iv.tick());
            let second = rt.block_on(iv.tick());
            assert_eq!(second - first, Duration::from_millis(5));
            assert!(Instant::now() >= second);

            let task = rt.spawn(std::future::pending::<()>());
            let waiting = wait(
                [task],
                ReturnWhen::AllCompleted,
                Some(Duration::from_millis(5)),
            );
            let (done, pending) = rt.block_on(waiting);
            assert_eq!((done.len(), pending.len()), (0, 1));
            pending[0].cancel();
        }
    });
}

#[test]
fn corio_run_awaits_a_sleep_built_before_the_runtime_exists() {
    within(Duration::from_secs(20), || {
        let start = Instant::now();
        corio_runtime::run(sleep(Duration::from_millis(5)));
        assert!(start.elapsed() >= Duration::from_millis(5));
    });
}

#[test]
fn net_futures_built_outside_run_on_the_runtime_that_awaits_them() {
    within(Duration::from_secs(20), || {
        for rt in [multi_thread(2), current_thread()] {
            let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
            let addr = listener.local_addr().unwrap();
            let mut client = rt.block_on(TcpStream::connect(addr)).unwrap();
            let (mut server, _) = rt.block_on(listener.accept()).unwrap();
            rt.block_on(async {
                client.write_all(b"lazy").await.unwrap();
                let mut buf = [0; 4];
                server.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"lazy");
            });

            let a = rt.block_on(UdpSocket::bind("127.0.0.1:0")).unwrap();
            let b = rt.block_on(UdpSocket::bind("127.0.0.1:0")).unwrap();
            rt.block_on(a.send_to(b"u", b.local_addr().unwrap()))
                .unwrap();
            let mut buf = [0; 1];
            assert_eq!(rt.block_on(b.recv_from(&mut buf)).unwrap().0, 1);

            let path = sock_path("roundtrip");
            let ul = rt.block_on(UnixListener::bind(&path)).unwrap();
            let mut uc = rt.block_on(UnixStream::connect(&path)).unwrap();
            let (mut us, _) = rt.block_on(ul.accept()).unwrap();
            rt.block_on(async {
                uc.write_all(b"x").await.unwrap();
                us.read_exact(&mut buf).await.unwrap();
            });
            std::fs::remove_file(&path).unwrap();

            let server = rt.block_on(create_server(|| Echo, "127.0.0.1:0")).unwrap();
            let mut c = rt
                .block_on(TcpStream::connect(server.local_addr()))
                .unwrap();
            rt.block_on(async {
                c.write_all(b"echo").await.unwrap();
                let mut buf = [0; 4];
                c.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"echo");
            });
            server.close();
        }
    });
}

#[test]
fn futures_built_outside_every_runtime_and_dropped_unpolled_do_nothing() {
    let path = sock_path("unpolled");
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();

    drop(sleep(Duration::from_millis(1)));
    drop(sleep_until(Instant::now()));
    drop(interval(Duration::from_millis(1)));
    drop(interval_at(Instant::now(), Duration::from_millis(1)));
    drop(wait_for(async {}, Duration::from_millis(1)));
    drop(wait_until(async {}, Instant::now()));
    drop(wait(
        Vec::<corio_runtime::Task<()>>::new(),
        ReturnWhen::AllCompleted,
        Some(Duration::ZERO),
    ));
    drop(gather([async {}]));
    drop(try_gather([async { Ok::<(), ()>(()) }]));
    drop(as_completed(Vec::<corio_runtime::Task<()>>::new()));
    drop(yield_now());
    drop(corio_blocking::to_thread(|| ()));
    drop(TcpListener::bind("127.0.0.1:0"));
    drop(TcpStream::connect(addr));
    drop(UdpSocket::bind("127.0.0.1:0"));
    drop(UnixListener::bind(&path));
    drop(UnixStream::connect(&path));
    drop(create_server(|| Echo, "127.0.0.1:0"));

    // Nothing happened: no connection attempt, no socket file.
    assert_eq!(
        std_listener.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
    assert!(!path.exists());
}

#[test]
fn polling_a_timer_future_outside_every_runtime_panics_naming_it_and_its_line() {
    let line = line!() + 1;
    let fut = sleep(Duration::from_millis(1));
    assert_names(&panic_of_first_poll(fut), "corio::sleep", line);

    let line = line!() + 1;
    let fut = sleep_until(Instant::now());
    assert_names(&panic_of_first_poll(fut), "corio::sleep_until", line);

    let line = line!() + 1;
    let mut iv = interval(Duration::from_millis(1));
    assert_names(&panic_of_first_poll(iv.tick()), "corio::interval", line);

    let line = line!() + 1;
    let mut iv = interval_at(Instant::now(), Duration::from_millis(1));
    assert_names(&panic_of_first_poll(iv.tick()), "corio::interval_at", line);

    let line = line!() + 1;
    let fut = wait(
        Vec::<corio_runtime::Task<()>>::new(),
        ReturnWhen::AllCompleted,
        Some(Duration::ZERO),
    );
    assert_names(
        &panic_of_first_poll(fut),
        "corio::wait (with a timeout)",
        line,
    );
}

#[test]
fn wait_for_panics_outside_a_runtime_before_polling_its_future() {
    let polled = Arc::new(AtomicBool::new(false));
    let inner = {
        let polled = polled.clone();
        std::future::poll_fn(move |_| {
            polled.store(true, Ordering::SeqCst);
            Poll::Ready(1)
        })
    };
    let line = line!() + 1;
    let fut = wait_for(inner, Duration::from_secs(1));
    assert_names(&panic_of_first_poll(fut), "corio::wait_for", line);

    let line = line!() + 1;
    let fut = wait_until(async { 1 }, Instant::now());
    assert_names(&panic_of_first_poll(fut), "corio::wait_until", line);
    assert!(!polled.load(Ordering::SeqCst), "the inner future never ran");
}

#[test]
fn polling_a_net_future_outside_every_runtime_panics_before_any_socket_is_made() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let path = sock_path("outside");

    let line = line!() + 1;
    let fut = TcpListener::bind("127.0.0.1:0");
    assert_names(
        &panic_of_first_poll(fut),
        "corio::net::TcpListener::bind",
        line,
    );

    let line = line!() + 1;
    let fut = TcpStream::connect(addr);
    assert_names(
        &panic_of_first_poll(fut),
        "corio::net::TcpStream::connect",
        line,
    );

    let line = line!() + 1;
    let fut = UdpSocket::bind("127.0.0.1:0");
    assert_names(
        &panic_of_first_poll(fut),
        "corio::net::UdpSocket::bind",
        line,
    );

    let line = line!() + 1;
    let fut = UnixListener::bind(&path);
    assert_names(
        &panic_of_first_poll(fut),
        "corio::net::UnixListener::bind",
        line,
    );

    let line = line!() + 1;
    let fut = UnixStream::connect(&path);
    assert_names(
        &panic_of_first_poll(fut),
        "corio::net::UnixStream::connect",
        line,
    );

    let line = line!() + 1;
    let fut = create_server(|| Echo, "127.0.0.1:0");
    assert_names(&panic_of_first_poll(fut), "corio::net::create_server", line);

    assert_eq!(
        std_listener.accept().unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "connect panicked before connecting"
    );
    assert!(!path.exists(), "bind panicked before binding");
}

#[test]
fn the_sync_socket_constructors_still_need_a_runtime_and_blame_the_callers_line() {
    // `from_std` and `pair` return registered sockets, not futures: they cannot wait for
    // a poll, so they panic at once, and `#[track_caller]` makes the panic point here.
    static HOOK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = HOOK.lock().unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let prev: Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync> =
        Arc::from(std::panic::take_hook());
    let me = std::thread::current().id();
    {
        let seen = seen.clone();
        let prev = prev.clone();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == me {
                let at = info.location().unwrap();
                seen.lock()
                    .unwrap()
                    .push(format!("{}:{}", at.file(), at.line()));
            } else {
                prev(info);
            }
        }));
    }
    let std_l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let std_s = std::net::TcpStream::connect(std_l.local_addr().unwrap()).unwrap();
    let std_u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let (ua, _ub) = std::os::unix::net::UnixStream::pair().unwrap();
    let first_line = line!() + 1;
    let r1 = catch_unwind(|| TcpListener::from_std(std_l).map(drop));
    let r2 = catch_unwind(|| TcpStream::from_std(std_s).map(drop));
    let r3 = catch_unwind(|| UdpSocket::from_std(std_u).map(drop));
    let r4 = catch_unwind(|| UnixStream::from_std(ua).map(drop));
    let r5 = catch_unwind(|| UnixStream::pair().map(drop));
    std::panic::set_hook(Box::new(move |info| prev(info)));
    let names = [
        "corio::net::TcpListener::from_std",
        "corio::net::TcpStream::from_std",
        "corio::net::UdpSocket::from_std",
        "corio::net::UnixStream::from_std",
        "corio::net::UnixStream::pair",
    ];
    let seen = seen.lock().unwrap().clone();
    for (i, r) in [r1, r2, r3, r4, r5].into_iter().enumerate() {
        let err = r.unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(
            msg.starts_with(&format!(
                "{} must be called from inside a corio runtime",
                names[i]
            )),
            "{msg}"
        );
        assert_eq!(seen[i], format!("{}:{}", file!(), first_line + i as u32));
    }
}

#[test]
fn a_sleep_stays_bound_to_the_runtime_that_first_polled_it() {
    within(Duration::from_secs(20), || {
        let rt = multi_thread(1);
        let mut s = sleep(Duration::from_millis(20));
        rt.block_on(std::future::poll_fn(|cx| {
            assert!(Pin::new(&mut s).poll(cx).is_pending());
            Poll::Ready(())
        }));
        // Bound: a later poll from a plain thread uses that runtime's timers.
        futures::executor::block_on(s);
        drop(rt);
    });
}

#[test]
fn a_spawned_task_can_await_futures_built_outside() {
    within(Duration::from_secs(20), || {
        let fut = wait_for(sleep(Duration::from_millis(1)), Duration::from_secs(5));
        let rt = multi_thread(2);
        assert_eq!(rt.block_on(rt.spawn(fut)).unwrap(), Ok(()));
    });
}
