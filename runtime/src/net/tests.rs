//! Socket tests on a bare driver (a helper thread parks it; test threads poll futures).

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use futures::future::join_all;

use super::*;
use crate::driver::harness::Harness;

fn within(secs: u64) -> Option<Instant> {
    Some(Instant::now() + Duration::from_secs(secs))
}

#[test]
fn echo_with_50_concurrent_clients() {
    echo_with_50_concurrent_clients_on(Harness::new());
}

#[test]
fn echo_with_50_concurrent_clients_oneshot() {
    echo_with_50_concurrent_clients_on(Harness::oneshot());
}

fn echo_with_50_concurrent_clients_on(h: Harness) {
    let listener = h
        .block_on(within(5), TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    const CLIENTS: usize = 50;
    const ROUNDS: usize = 20;
    std::thread::scope(|s| {
        // The server: one thread, all connections served concurrently.
        let server = s.spawn(|| {
            h.block_on(within(20), async {
                let mut conns = Vec::new();
                for _ in 0..CLIENTS {
                    conns.push(listener.accept().await.unwrap().0);
                }
                join_all(conns.into_iter().map(|mut c| async move {
                    let mut buf = [0u8; 64];
                    loop {
                        let n = c.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        c.write_all(&buf[..n]).await.unwrap();
                    }
                }))
                .await;
            })
        });
        h.block_on(within(20), async {
            join_all((0..CLIENTS).map(|i| async move {
                let mut c = TcpStream::connect(addr).await.unwrap();
                c.set_nodelay(true).unwrap();
                for r in 0..ROUNDS {
                    let msg = format!("client {i} round {r}");
                    c.write_all(msg.as_bytes()).await.unwrap();
                    let mut back = vec![0; msg.len()];
                    c.read_exact(&mut back).await.unwrap();
                    assert_eq!(back, msg.as_bytes());
                }
                c.shutdown().await.unwrap();
            }))
            .await;
        });
        server.join().unwrap();
    });
}

#[test]
fn read_returns_zero_at_eof_and_read_exact_reports_unexpected_eof() {
    let h = Harness::new();
    h.block_on(within(5), async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (mut s, _) = l.accept().await.unwrap();
        s.write_all(b"abc").await.unwrap();
        s.shutdown().await.unwrap();
        let mut buf = [0; 8];
        assert_eq!(c.read(&mut buf).await.unwrap(), 3);
        assert_eq!(c.read(&mut buf).await.unwrap(), 0);
        assert_eq!(c.read(&mut buf).await.unwrap(), 0);
        // The other direction is still open.
        c.write_all(b"more").await.unwrap();
        let mut four = [0; 4];
        s.read_exact(&mut four).await.unwrap();
        drop(c);
        let err = s.read_exact(&mut four).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    });
}

#[test]
fn a_short_read_then_eof_needs_no_further_event() {
    // The last bytes and the FIN arrive together and the poller reports them in one event
    // before the read: the short read that drains the bytes must not leave the next read
    // waiting for an edge that never comes.
    for h in [Harness::new(), Harness::oneshot()] {
        h.block_on(within(5), async {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0; 64];
            // Park once on read so the source has seen an event before the data comes.
            let pending = futures::poll!(std::pin::pin!(c.read(&mut buf)));
            assert!(pending.is_pending());
            s.write_all(b"last words").await.unwrap();
            s.shutdown().await.unwrap();
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(c.read(&mut buf).await.unwrap(), 10);
            assert_eq!(c.read(&mut buf).await.unwrap(), 0);
        });
        let dir = std::env::temp_dir().join(format!("corio-eof-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("eof.sock");
        let _ = std::fs::remove_file(&path);
        h.block_on(within(5), async {
            let l = UnixListener::bind(&path).await.unwrap();
            let mut c = UnixStream::connect(&path).await.unwrap();
            let (mut s, _) = l.accept().await.unwrap();
            s.write_all(b"last words").await.unwrap();
            s.shutdown().await.unwrap();
            std::thread::sleep(Duration::from_millis(50));
            let mut buf = [0; 64];
            assert_eq!(c.read(&mut buf).await.unwrap(), 10);
            assert_eq!(c.read(&mut buf).await.unwrap(), 0);
        });
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_short_read_waits_for_the_next_event_instead_of_reading_again() {
    // Edge mode: a read that returned fewer bytes than asked drained the socket, so the next
    // read waits for an event without calling `read` (which could only fail with
    // `WouldBlock`). Oneshot mode cannot know, and tries once more.
    use std::io::{Read, Write};
    use std::task::{Context, Poll};

    use crate::driver::poll_evented::PollEvented;
    use crate::driver::Direction;

    for (h, edge) in [(Harness::new(), true), (Harness::oneshot(), false)] {
        let (a, mut b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let io = PollEvented::with_driver(h.driver.clone(), a).unwrap();
        b.write_all(b"abc").unwrap();
        // Let the driver thread dispatch the registration's and the data's events first: an
        // event that arrives after the read observed readiness (rightly) keeps it.
        std::thread::sleep(Duration::from_millis(100));
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        let mut buf = [0; 16];
        let first = stream::poll_read(&io, &mut cx, &mut buf);
        assert!(matches!(first, Poll::Ready(Ok(3))), "{first:?}");
        let mut calls = 0;
        let second = io.poll_transfer(&mut cx, Direction::Read, buf.len(), |mut s| {
            calls += 1;
            s.read(&mut buf)
        });
        assert!(second.is_pending(), "{second:?}");
        assert_eq!(
            calls,
            usize::from(!edge),
            "read attempts after a short read (edge: {edge})"
        );
        // More data: the next event makes the read go through.
        b.write_all(b"de").unwrap();
        let n = h
            .block_on(
                within(5),
                std::future::poll_fn(|cx| stream::poll_read(&io, cx, &mut buf)),
            )
            .unwrap();
        assert_eq!(&buf[..n], b"de");
    }
}

#[test]
fn a_tcp_read_that_fills_its_buffer_and_drains_the_socket_waits_without_reading_again() {
    // Edge mode: once a TCP read has filled its buffer, later reads ask the kernel how many
    // bytes they left behind (`TCP_INQ`); none left clears readiness as a short read does,
    // so the next read waits for an event without calling `read`. Bytes left, bytes that
    // arrive later and a half-close are all still seen. Oneshot mode always tries again.
    use std::io::{Read, Write};
    use std::task::{Context, Poll};

    use crate::driver::poll_evented::PollEvented;
    use crate::driver::Direction;

    let settle = || std::thread::sleep(Duration::from_millis(100));
    for (h, edge) in [(Harness::new(), true), (Harness::oneshot(), false)] {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        client.set_nodelay(true).unwrap();
        let (server, _) = l.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        let io = PollEvented::with_driver(h.driver.clone(), server).unwrap();
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        let mut buf = [0; 8];
        let mut read_once = |io: &PollEvented<std::net::TcpStream>, buf: &mut [u8; 8]| {
            let mut calls = 0;
            let r = io.poll_transfer(&mut cx, Direction::Read, buf.len(), |mut s| {
                calls += 1;
                s.read(buf)
            });
            (r, calls)
        };

        // The first full read is plain (and switches the kernel's count on).
        client.write_all(b"12345678").unwrap();
        settle();
        let first = stream::poll_read(
            &io,
            &mut Context::from_waker(futures::task::noop_waker_ref()),
            &mut buf,
        );
        assert!(matches!(first, Poll::Ready(Ok(8))), "{first:?}");
        // 16 bytes: a full read leaves 8, so readiness stays and the next read gets them.
        client.write_all(b"abcdefghABCDEFGH").unwrap();
        settle();
        let full = stream::poll_read(
            &io,
            &mut Context::from_waker(futures::task::noop_waker_ref()),
            &mut buf,
        );
        assert!(matches!(full, Poll::Ready(Ok(8))), "{full:?}");
        assert_eq!(&buf, b"abcdefgh");
        // The full read that drained the socket: nothing left.
        let drained = stream::poll_read(
            &io,
            &mut Context::from_waker(futures::task::noop_waker_ref()),
            &mut buf,
        );
        assert!(matches!(drained, Poll::Ready(Ok(8))), "{drained:?}");
        assert_eq!(&buf, b"ABCDEFGH");
        let (next, calls) = read_once(&io, &mut buf);
        assert!(next.is_pending(), "{next:?}");
        assert_eq!(
            calls,
            usize::from(!edge),
            "read attempts after a full read that drained the socket (edge: {edge})"
        );

        // Bytes that arrive later bring an event: the read goes through.
        client.write_all(b"87654321").unwrap();
        let n = h
            .block_on(
                within(5),
                std::future::poll_fn(|cx| stream::poll_read(&io, cx, &mut buf)),
            )
            .unwrap();
        assert_eq!(&buf[..n], b"87654321");

        // A half-close that arrives with the last bytes: the read after them sees EOF.
        client.write_all(b"lastword").unwrap();
        client.shutdown(std::net::Shutdown::Write).unwrap();
        settle();
        let mut got = Vec::new();
        loop {
            let n = h
                .block_on(
                    within(5),
                    std::future::poll_fn(|cx| stream::poll_read(&io, cx, &mut buf)),
                )
                .unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"lastword");
    }
}

#[test]
fn a_connect_completed_before_its_first_wait_is_not_lost() {
    // Edge mode reports a socket that is already connected as soon as it is registered
    // (on loopback the handshake is done before `connect` returns). When another thread
    // dispatches that report before the connecting task first waits, the task must still
    // see the socket writable: the write side starts "not ready" at registration, never
    // cleared after it (which would erase the report and wait forever for a second edge).
    use std::future::Future;
    use std::task::{Context, Poll};

    use socket2::{Domain, Socket, Type};

    use crate::driver::poll_evented::PollEvented;
    use crate::driver::{enter, Driver};
    use crate::loom::Arc;

    for driver in [Driver::new(), Driver::new_oneshot()] {
        let driver = Arc::new(driver.unwrap());
        let _entered = enter(driver.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        socket.set_nonblocking(true).unwrap();
        let err = socket.connect(&addr.into()).unwrap_err();
        let io =
            PollEvented::new_connecting(driver.clone(), std::net::TcpStream::from(socket)).unwrap();
        // The driver collects and dispatches whatever the registration reported.
        driver.park(Some(Duration::from_millis(50)));
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        let mut connect = std::pin::pin!(stream::finish_connect(
            &io,
            err,
            |s| s.take_error(),
            |s| s.peer_addr().is_ok()
        ));
        let mut outcome = connect.as_mut().poll(&mut cx);
        if outcome.is_pending() {
            // Oneshot mode arms the source only now; edge mode has nothing more to report.
            driver.park(Some(Duration::from_millis(50)));
            outcome = connect.as_mut().poll(&mut cx);
        }
        assert!(
            matches!(outcome, Poll::Ready(Ok(()))),
            "connect lost its completion: {outcome:?}"
        );
    }
}

#[test]
fn connection_refused_is_an_error_not_a_hang() {
    let h = Harness::new();
    h.block_on(within(5), async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    });
}

#[test]
fn address_in_use() {
    let h = Harness::new();
    h.block_on(within(5), async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let err = TcpListener::bind(l.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
        let u = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let err = UdpSocket::bind(u.local_addr().unwrap()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse);
    });
}

#[test]
fn bad_addresses_are_errors() {
    let h = Harness::new();
    h.block_on(within(10), async {
        let e = TcpStream::connect("not an address").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e:?}");
        let e = TcpListener::bind(&[][..] as &[std::net::SocketAddr])
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    });
}

#[test]
fn host_names_are_resolved() {
    let h = Harness::new();
    h.block_on(within(10), async {
        let l = TcpListener::bind("localhost:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let c = TcpStream::connect(("localhost", port)).await.unwrap();
        assert!(c.peer_addr().unwrap().ip().is_loopback());
    });
}

#[test]
fn udp_round_trip_connected_and_not() {
    let h = Harness::new();
    h.block_on(within(5), async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let mut buf = [0; 64];
        // recv before send: must wait for readiness, then be woken.
        let (got, sent) = futures::join!(b.recv_from(&mut buf), async {
            crate::time::sleep(Duration::from_millis(10)).await;
            a.send_to(b"ping", ba).await
        });
        assert_eq!(sent.unwrap(), 4);
        assert_eq!(got.unwrap(), (4, aa));
        assert_eq!(&buf[..4], b"ping");
        a.connect(ba).await.unwrap();
        b.connect(aa).await.unwrap();
        assert_eq!(b.send(b"pong!").await.unwrap(), 5);
        assert_eq!(a.recv(&mut buf).await.unwrap(), 5);
        assert_eq!(&buf[..5], b"pong!");
    });
}

#[test]
fn unix_sockets_echo_and_errors() {
    let h = Harness::new();
    let dir = std::env::temp_dir().join(format!("corio-net-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("echo.sock");
    let _ = std::fs::remove_file(&path);
    h.block_on(within(5), async {
        let l = UnixListener::bind(&path).await.unwrap();
        assert_eq!(
            UnixListener::bind(&path).await.unwrap_err().kind(),
            ErrorKind::AddrInUse
        );
        let client = async {
            let mut c = UnixStream::connect(&path).await.unwrap();
            c.write_all(b"hello unix").await.unwrap();
            c.shutdown().await.unwrap();
            let mut back = Vec::new();
            let mut buf = [0; 4];
            loop {
                let n = c.read(&mut buf).await.unwrap();
                if n == 0 {
                    break back;
                }
                back.extend_from_slice(&buf[..n]);
            }
        };
        let server = async {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = [0; 3];
            loop {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).await.unwrap();
            }
        };
        let (back, ()) = futures::join!(client, server);
        assert_eq!(back, b"hello unix");
        drop(l);
        let err = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        let err = UnixStream::connect(dir.join("missing.sock"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn split_halves_used_from_two_threads_are_both_woken() {
    split_halves_used_from_two_threads_are_both_woken_on(Harness::new());
}

#[test]
fn split_halves_used_from_two_threads_are_both_woken_oneshot() {
    split_halves_used_from_two_threads_are_both_woken_on(Harness::oneshot());
}

fn split_halves_used_from_two_threads_are_both_woken_on(h: Harness) {
    // The writer pushes far more than the socket buffers hold while the reader waits for
    // the echo: the writer parks on write readiness and the reader on read readiness of
    // the same fd at the same time; both must be woken.
    const TOTAL: usize = 8 << 20;
    let listener = h
        .block_on(within(5), TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            h.block_on(within(30), async {
                let (conn, _) = listener.accept().await.unwrap();
                let (mut rd, mut wr) = conn.into_split();
                let mut buf = vec![0; 16 << 10];
                loop {
                    let n = rd.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    wr.write_all(&buf[..n]).await.unwrap();
                }
            })
        });
        let client = h.block_on(within(5), TcpStream::connect(addr)).unwrap();
        let (mut rd, mut wr) = client.into_split();
        let writer = s.spawn(|| {
            h.block_on(within(30), async move {
                let chunk: Vec<u8> = (0..64 << 10).map(|i| i as u8).collect();
                let mut sent = 0;
                while sent < TOTAL {
                    wr.write_all(&chunk).await.unwrap();
                    sent += chunk.len();
                }
                // Dropping the write half sends FIN.
            })
        });
        let reader = s.spawn(|| {
            h.block_on(within(30), async move {
                let mut buf = vec![0; 64 << 10];
                let mut got = 0usize;
                loop {
                    let n = rd.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break got;
                    }
                    for (k, b) in buf[..n].iter().enumerate() {
                        assert_eq!(*b, ((got + k) % (64 << 10)) as u8);
                    }
                    got += n;
                }
            })
        });
        writer.join().unwrap();
        assert_eq!(reader.join().unwrap(), TOTAL);
    });
}

#[test]
fn sockets_deregister_on_drop_and_into_std() {
    let h = Harness::new();
    h.block_on(within(5), async {
        let base = h.driver.io.sources();
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        assert_eq!(h.driver.io.sources(), base + 3);
        drop(s);
        let std_c = c.into_std().unwrap();
        assert_eq!(h.driver.io.sources(), base + 1);
        // ... and the std socket works and can come back.
        let c = TcpStream::from_std(std_c).unwrap();
        assert_eq!(h.driver.io.sources(), base + 2);
        drop((c, l));
        assert_eq!(h.driver.io.sources(), base);
    });
}

#[test]
fn peer_reset_is_an_error() {
    let h = Harness::new();
    h.block_on(within(5), async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut c = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (s, _) = l.accept().await.unwrap();
        // SO_LINGER 0 + close = RST.
        let s = socket2::Socket::from(s.into_std().unwrap());
        s.set_linger(Some(Duration::ZERO)).unwrap();
        drop(s);
        let mut buf = [0; 8];
        let mut saw_error = None;
        for _ in 0..100 {
            match c.write_all(&[0; 1024]).await.and(c.read(&mut buf).await) {
                Err(e) => {
                    saw_error = Some(e);
                    break;
                }
                Ok(_) => crate::time::sleep(Duration::from_millis(1)).await,
            }
        }
        let e = saw_error.expect("a reset peer must surface as an error");
        assert!(
            matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
            "{e:?}"
        );
    });
}

#[test]
fn shutdown_fails_io_waiters() {
    let h = Harness::new();
    let (mut a, _b) = h.block_on(within(1), async { UnixStream::pair() }).unwrap();
    let t = std::thread::spawn({
        let d = h.driver.clone();
        move || {
            std::thread::sleep(Duration::from_millis(30));
            d.shutdown();
        }
    });
    let err = h
        .block_on(within(5), async { a.read(&mut [0; 4]).await })
        .unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
    t.join().unwrap();
    let err = h
        .block_on(within(1), async { UdpSocket::bind("127.0.0.1:0").await })
        .unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
}

#[test]
#[should_panic(expected = "must be called from inside a corio runtime")]
fn sockets_outside_a_runtime_panic_with_the_fix() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let _ = TcpListener::from_std(l);
}

#[test]
fn streams_are_send_sync_unpin() {
    fn check<T: Send + Sync + Unpin>() {}
    check::<TcpStream>();
    check::<TcpListener>();
    check::<tcp::OwnedReadHalf>();
    check::<tcp::OwnedWriteHalf>();
    check::<UdpSocket>();
    check::<UnixStream>();
    check::<UnixListener>();
    check::<unix::OwnedReadHalf>();
    check::<unix::OwnedWriteHalf>();
    check::<crate::time::Sleep>();
}

#[test]
fn futures_io_traits_work() {
    use futures::{AsyncReadExt, AsyncWriteExt};
    let h = Harness::new();
    h.block_on(within(5), async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        AsyncWriteExt::write_all(&mut a, b"via futures-io")
            .await
            .unwrap();
        AsyncWriteExt::close(&mut a).await.unwrap();
        let mut s = String::new();
        AsyncReadExt::read_to_string(&mut b, &mut s).await.unwrap();
        assert_eq!(s, "via futures-io");
    });
}

#[test]
fn a_read_event_does_not_lose_the_blocked_writer_of_the_same_socket() {
    a_read_event_does_not_lose_the_blocked_writer_of_the_same_socket_on(Harness::new());
}

#[test]
fn a_read_event_does_not_lose_the_blocked_writer_of_the_same_socket_oneshot() {
    a_read_event_does_not_lose_the_blocked_writer_of_the_same_socket_on(Harness::oneshot());
}

fn a_read_event_does_not_lose_the_blocked_writer_of_the_same_socket_on(h: Harness) {
    // Oneshot delivery disarms the whole fd: when a read event wakes the reader (who then
    // goes away), the writer still parked on the same fd must have been re-armed. With
    // edge-triggered registration the writer's edge comes later, when the peer drains.
    const TOTAL: usize = 16 << 20;
    let listener = h
        .block_on(within(5), TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let client = h
        .block_on(
            within(5),
            TcpStream::connect(listener.local_addr().unwrap()),
        )
        .unwrap();
    let (mut server, _) = h.block_on(within(5), listener.accept()).unwrap();
    let (mut rd, mut wr) = client.into_split();
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            h.block_on(within(20), async move {
                let chunk = vec![7u8; 1 << 20];
                for _ in 0..TOTAL / chunk.len() {
                    wr.write_all(&chunk).await.unwrap();
                }
            })
        });
        let reader = s.spawn(|| {
            h.block_on(within(20), async move {
                let mut b = [0; 5];
                rd.read_exact(&mut b).await.unwrap();
                b
            })
        });
        // Let the writer fill the buffers and park, and the reader park too.
        std::thread::sleep(Duration::from_millis(100));
        h.block_on(within(5), server.write_all(b"hello")).unwrap();
        assert_eq!(&reader.join().unwrap(), b"hello");
        std::thread::sleep(Duration::from_millis(50));
        // Now drain: the writer must be woken to finish.
        h.block_on(within(20), async {
            let mut buf = vec![0; 1 << 16];
            let mut got = 0;
            while got < TOTAL {
                got += server.read(&mut buf).await.unwrap();
            }
        });
        writer.join().unwrap();
    });
}

mod server {
    use super::*;
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    /// Runs `fut` on a fresh multi-thread runtime; fails if it takes longer than `secs`.
    fn on_runtime<F: Future>(secs: u64, fut: F) -> F::Output {
        let rt = crate::Runtime::new().unwrap();
        rt.block_on(async {
            let timeout = crate::time::sleep(Duration::from_secs(secs));
            match futures::future::select(std::pin::pin!(fut), timeout).await {
                futures::future::Either::Left((v, _)) => v,
                futures::future::Either::Right(_) => panic!("test timed out after {secs} s"),
            }
        })
    }

    #[derive(Default, Debug)]
    struct Counts {
        made: AtomicUsize,
        data: AtomicUsize,
        bytes: AtomicUsize,
        eof: AtomicUsize,
        lost_clean: AtomicUsize,
        lost_err: AtomicUsize,
        order: Mutex<Vec<&'static str>>,
    }

    struct Counted {
        c: Arc<Counts>,
        keep_open_on_eof: bool,
    }

    impl Protocol for Counted {
        fn connection_made(&mut self, t: &Transport) {
            assert!(t.peer_addr().ip().is_loopback());
            self.c.made.fetch_add(1, Ordering::SeqCst);
            self.c.order.lock().unwrap().push("made");
        }
        fn data_received(&mut self, data: &[u8], t: &Transport) {
            self.c.data.fetch_add(1, Ordering::SeqCst);
            self.c.bytes.fetch_add(data.len(), Ordering::SeqCst);
            self.c.order.lock().unwrap().push("data");
            t.write(data);
        }
        fn eof_received(&mut self, t: &Transport) -> bool {
            self.c.eof.fetch_add(1, Ordering::SeqCst);
            self.c.order.lock().unwrap().push("eof");
            if self.keep_open_on_eof {
                t.write(b"<after eof>");
                t.close();
            }
            self.keep_open_on_eof
        }
        fn connection_lost(&mut self, error: Option<std::io::Error>) {
            self.c.order.lock().unwrap().push("lost");
            match error {
                None => self.c.lost_clean.fetch_add(1, Ordering::SeqCst),
                Some(_) => self.c.lost_err.fetch_add(1, Ordering::SeqCst),
            };
        }
    }

    async fn read_to_end(c: &mut TcpStream) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0; 1024];
        loop {
            let n = c.read(&mut buf).await.unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    async fn wait_for(cond: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !cond() {
            assert!(Instant::now() < deadline, "condition not reached");
            crate::time::sleep(Duration::from_millis(2)).await;
        }
    }

    #[test]
    fn protocol_lifecycle_callbacks_in_order_exactly_once() {
        let counts = Arc::new(Counts::default());
        on_runtime(10, async {
            let c2 = counts.clone();
            let server = create_server(
                move || Counted {
                    c: c2.clone(),
                    keep_open_on_eof: false,
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
            let mut c = TcpStream::connect(server.local_addr()).await.unwrap();
            c.write_all(b"hello").await.unwrap();
            let mut back = [0; 5];
            c.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, b"hello");
            c.shutdown().await.unwrap();
            // The transport closes itself after EOF: we read EOF too.
            assert_eq!(read_to_end(&mut c).await, b"");
            wait_for(|| counts.lost_clean.load(Ordering::SeqCst) == 1).await;
            server.close();
            server.wait_closed().await;
        });
        assert_eq!(counts.made.load(Ordering::SeqCst), 1);
        assert!(counts.data.load(Ordering::SeqCst) >= 1);
        assert_eq!(counts.bytes.load(Ordering::SeqCst), 5);
        assert_eq!(counts.eof.load(Ordering::SeqCst), 1);
        assert_eq!(counts.lost_clean.load(Ordering::SeqCst), 1);
        assert_eq!(counts.lost_err.load(Ordering::SeqCst), 0);
        let order = counts.order.lock().unwrap().clone();
        assert_eq!(order.first(), Some(&"made"));
        assert_eq!(&order[order.len() - 2..], &["eof", "lost"]);
    }

    #[test]
    fn eof_received_true_keeps_the_transport_open_for_writing() {
        let counts = Arc::new(Counts::default());
        on_runtime(10, async {
            let c2 = counts.clone();
            let server = create_server(
                move || Counted {
                    c: c2.clone(),
                    keep_open_on_eof: true,
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
            let mut c = TcpStream::connect(server.local_addr()).await.unwrap();
            c.write_all(b"ab").await.unwrap();
            c.shutdown().await.unwrap();
            assert_eq!(read_to_end(&mut c).await, b"ab<after eof>");
            wait_for(|| counts.lost_clean.load(Ordering::SeqCst) == 1).await;
            server.close();
            server.wait_closed().await;
        });
        assert_eq!(counts.eof.load(Ordering::SeqCst), 1);
        assert_eq!(counts.lost_clean.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn peer_reset_reports_connection_lost_with_an_error_once() {
        let counts = Arc::new(Counts::default());
        on_runtime(10, async {
            let c2 = counts.clone();
            let server = create_server(
                move || Counted {
                    c: c2.clone(),
                    keep_open_on_eof: false,
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
            let c = TcpStream::connect(server.local_addr()).await.unwrap();
            wait_for(|| counts.made.load(Ordering::SeqCst) == 1).await;
            let s = socket2::Socket::from(c.into_std().unwrap());
            s.set_linger(Some(Duration::ZERO)).unwrap();
            drop(s); // RST
            wait_for(|| {
                counts.lost_err.load(Ordering::SeqCst) + counts.lost_clean.load(Ordering::SeqCst)
                    == 1
            })
            .await;
            server.close();
            server.wait_closed().await;
        });
        assert_eq!(counts.lost_err.load(Ordering::SeqCst), 1);
        assert_eq!(counts.lost_clean.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn close_then_wait_closed_refuses_new_connections() {
        on_runtime(10, async {
            struct Nop;
            impl Protocol for Nop {
                fn data_received(&mut self, _: &[u8], _: &Transport) {}
            }
            let server = create_server(|| Nop, "127.0.0.1:0").await.unwrap();
            let addr = server.local_addr();
            drop(TcpStream::connect(addr).await.unwrap());
            let s2 = server.clone();
            let forever = async move { s2.serve_forever().await };
            let closer = async {
                crate::time::sleep(Duration::from_millis(20)).await;
                server.close();
                server.wait_closed().await;
            };
            let (r, ()) = futures::join!(forever, closer);
            r.unwrap();
            let err = TcpStream::connect(addr).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
        });
    }

    #[test]
    fn back_pressure_pauses_reading_at_the_high_water_mark() {
        // An echo protocol whose client sends 64 MiB without reading the echo: replies
        // pile up in the transport. Reading must pause once more than WRITE_HIGH_WATER
        // bytes wait (so at most one read more is buffered), and the client's writes
        // must stall, instead of the server buffering everything.
        let max_buffered = Arc::new(AtomicUsize::new(0));
        on_runtime(20, async {
            struct Echo(Arc<AtomicUsize>);
            impl Protocol for Echo {
                fn data_received(&mut self, data: &[u8], t: &Transport) {
                    t.write(data);
                    self.0
                        .fetch_max(t.get_write_buffer_size(), Ordering::SeqCst);
                }
            }
            let m = max_buffered.clone();
            let server = create_server(move || Echo(m.clone()), "127.0.0.1:0")
                .await
                .unwrap();
            let mut c = TcpStream::connect(server.local_addr()).await.unwrap();
            let chunk = vec![0u8; 64 * 1024];
            let fill = async {
                for _ in 0..1024 {
                    c.write_all(&chunk).await.unwrap();
                }
            };
            let timeout = crate::time::sleep(Duration::from_millis(500));
            let fill = std::pin::pin!(fill);
            let r = futures::future::select(fill, timeout).await;
            assert!(
                matches!(r, futures::future::Either::Right(_)),
                "64 MiB went through although nobody read the echo"
            );
            server.close();
        });
        let max = max_buffered.load(Ordering::SeqCst);
        assert!(max > 0);
        assert!(max <= WRITE_HIGH_WATER + 64 * 1024, "buffered {max} bytes");
    }
}
