//! asyncio's high-level streams on the real runtime: `open_connection` / `start_server`,
//! `StreamReader` errors and limits, `StreamWriter` back-pressure, half-close and close,
//! slow handlers, `lines()`, `reuse_port`, and the Unix-socket variants.

mod common;

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use corio_runtime::net::{
    open_connection, open_unix_connection, start_server, start_server_with, start_unix_server,
    tcp_streams, ReadError, ServerOptions, StreamReader, StreamWriter, TcpListener, TcpStream,
};
use corio_runtime::{spawn, wait_for};
use corio_sync::Event;
use futures::StreamExt;

use common::{current_thread, multi_thread};
use corio_test_util::within;

/// Runs `fut` on a fresh 2-worker runtime, failing the test after `secs` seconds.
fn run_mt<F>(secs: u64, fut: F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    within(Duration::from_secs(secs), move || {
        multi_thread(2).block_on(fut)
    });
}

fn temp_sock(tag: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "corio-streams-{tag}-{}-{:?}.sock",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
fn echo_lines_over_start_server() {
    run_mt(20, async {
        let server = start_server(
            |mut r: StreamReader, w: StreamWriter| async move {
                loop {
                    let line = r.readline().await.unwrap();
                    if line.is_empty() {
                        break;
                    }
                    w.write(&line);
                    w.drain().await.unwrap();
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut r, w) = open_connection(server.local_addr()).await.unwrap();
        for i in 0..100 {
            let msg = format!("line {i}\n");
            w.write(msg.as_bytes());
            assert_eq!(r.readline().await.unwrap(), msg.as_bytes());
        }
        assert_eq!(w.peer_addr().unwrap(), server.local_addr());
        drop(w); // the server sees EOF, its handler ends, its writer closes
        assert_eq!(r.readline().await.unwrap(), b"");
        assert!(r.at_eof());
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn early_eof_is_incomplete_with_the_partial_bytes() {
    run_mt(20, async {
        let server = start_server(
            |_r, w: StreamWriter| async move {
                w.write(b"abc");
                w.close();
                w.wait_closed().await;
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut r, _w) = open_connection(server.local_addr()).await.unwrap();
        match r.readexactly(10).await {
            Err(ReadError::Incomplete { partial }) => assert_eq!(partial, b"abc"),
            other => panic!("expected Incomplete, got {other:?}"),
        }
        assert!(r.at_eof());

        let (mut r, _w) = open_connection(server.local_addr()).await.unwrap();
        let err = r.readuntil(b"\r\n").await.unwrap_err();
        assert!(matches!(&err, ReadError::Incomplete { partial } if partial == b"abc"));
        let io_err: io::Error = err.into();
        assert_eq!(io_err.kind(), io::ErrorKind::UnexpectedEof);
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn line_longer_than_the_limit_overruns_and_stays_readable() {
    run_mt(20, async {
        let long: Vec<u8> = (0..200u32).map(|i| b'a' + (i % 26) as u8).collect();
        let mut sent = long.clone();
        sent.extend_from_slice(b"\nshort\n");
        let payload = Arc::new(sent.clone());
        let server = start_server(
            move |_r, w: StreamWriter| {
                let payload = payload.clone();
                async move { w.write(&payload) }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut r, _w) = open_connection(server.local_addr()).await.unwrap();
        r.set_limit(64);
        let err = r.readline().await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let inner = err.get_ref().unwrap().downcast_ref::<ReadError>().unwrap();
        let ReadError::LimitOverrun { consumed } = inner else {
            panic!("expected LimitOverrun, got {inner:?}")
        };
        assert!(*consumed > 64, "consumed {consumed}");
        // readuntil reports it too, and nothing was consumed.
        assert!(matches!(
            r.readuntil(b"\n").await,
            Err(ReadError::LimitOverrun { .. })
        ));
        let head = r.readexactly(150).await.unwrap();
        assert_eq!(head, &long[..150]);
        assert_eq!(r.readline().await.unwrap(), [&long[150..], b"\n"].concat());
        assert_eq!(r.readline().await.unwrap(), b"short\n");
        server.close();
    });
}

/// An endless stream of `b'x'` that counts how many bytes were pulled from it.
struct Endless {
    produced: Arc<AtomicUsize>,
}

impl futures::io::AsyncRead for Endless {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        buf.fill(b'x');
        self.produced.fetch_add(buf.len(), Ordering::Relaxed);
        Poll::Ready(Ok(buf.len()))
    }
}

#[test]
fn readline_on_an_endless_stream_overruns_without_buffering_it_all() {
    within(Duration::from_secs(20), || {
        current_thread().block_on(async {
            let produced = Arc::new(AtomicUsize::new(0));
            let mut r = StreamReader::new(Endless {
                produced: produced.clone(),
            });
            let err = r.readline().await.unwrap_err();
            let inner = err.get_ref().unwrap().downcast_ref::<ReadError>().unwrap();
            assert!(matches!(inner, ReadError::LimitOverrun { .. }), "{inner:?}");
            let pulled = produced.load(Ordering::Relaxed);
            // The default limit is 64 KiB; the reader stops soon after it.
            assert!(
                pulled > 64 * 1024 && pulled <= 4 * 64 * 1024,
                "pulled {pulled} bytes"
            );
            // Still failing the same way, without pulling more.
            assert!(r.readline().await.is_err());
            assert_eq!(produced.load(Ordering::Relaxed), pulled);
            // The data is readable.
            assert_eq!(r.read(10).await.unwrap(), b"xxxxxxxxxx");
            // A bigger limit lets the search go on, still bounded.
            r.set_limit(1024 * 1024);
            assert!(r.readuntil(b"\n").await.is_err());
            assert!(produced.load(Ordering::Relaxed) <= 4 * 1024 * 1024);
        })
    });
}

#[test]
fn read_returns_what_is_available_without_waiting_for_n() {
    run_mt(20, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (mut r, _w) = open_connection(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut peer, _) = listener.accept().await.unwrap();
        peer.write_all(b"ab").await.unwrap();
        // The peer keeps the connection open: read(100) must not wait for 100 bytes.
        assert_eq!(r.read(100).await.unwrap(), b"ab");
        peer.write_all(&[7u8; 50_000]).await.unwrap();
        let mut got = 0;
        while got < 50_000 {
            let chunk = r.read(1 << 20).await.unwrap();
            assert!(!chunk.is_empty());
            assert!(chunk.iter().all(|&b| b == 7));
            got += chunk.len();
        }
        assert_eq!(got, 50_000);
        assert!(r.read(0).await.unwrap().is_empty());
        assert!(!r.at_eof());
    });
}

#[test]
fn drain_waits_while_the_peer_does_not_read_and_resumes_when_it_does() {
    run_mt(60, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (_r, w) = open_connection(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut peer, _) = listener.accept().await.unwrap();
        // Fill the socket buffers and the writer's queue until drain stops completing.
        let chunk = vec![1u8; 64 * 1024];
        let mut written = 0usize;
        let mut blocked = false;
        for _ in 0..2_000 {
            w.write(&chunk);
            written += chunk.len();
            if wait_for(w.drain(), Duration::from_millis(200))
                .await
                .is_err()
            {
                blocked = true;
                break;
            }
        }
        assert!(blocked, "drain never waited after {written} bytes");
        // Still pending while the peer does not read.
        assert!(wait_for(w.drain(), Duration::from_millis(300))
            .await
            .is_err());
        // The peer reads everything; drain completes.
        let reader = spawn(async move {
            let mut buf = vec![0u8; 256 * 1024];
            let mut total = 0usize;
            while total < written {
                let n = peer.read(&mut buf).await.unwrap();
                assert!(n > 0);
                total += n;
            }
            peer
        });
        wait_for(w.drain(), Duration::from_secs(30))
            .await
            .expect("drain did not complete once the peer read")
            .unwrap();
        let mut peer = reader.await.unwrap();
        // Everything written arrived; the writer is still usable.
        w.write(b"end");
        let mut end = [0u8; 3];
        peer.read_exact(&mut end).await.unwrap();
        assert_eq!(&end, b"end");
    });
}

#[test]
fn drain_reports_the_error_once_the_connection_is_lost() {
    run_mt(30, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (_r, w) = open_connection(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut peer, _) = listener.accept().await.unwrap();
        w.write(b"unread");
        // Wait until the bytes arrived, then close with them unread: the kernel resets.
        let mut b = [0u8; 1];
        peer.read_exact(&mut b).await.unwrap();
        drop(peer);
        let mut lost = None;
        for _ in 0..500 {
            w.write(&[0u8; 1024]);
            if let Err(e) = w.drain().await {
                lost = Some(e);
                break;
            }
            corio_runtime::sleep(Duration::from_millis(10)).await;
        }
        let e = lost.expect("drain never reported the lost connection");
        assert!(
            matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ),
            "{e:?}"
        );
        assert!(w.is_closing());
        w.wait_closed().await;
        // Every later drain reports it again.
        assert!(w.drain().await.is_err());
    });
}

#[test]
fn writes_go_out_without_drain() {
    run_mt(30, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let big: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| i as u8).collect();
        let big = Arc::new(big);

        // Written, never drained, writer dropped: all of it arrives, then EOF.
        let (_r, w) = open_connection(addr).await.unwrap();
        let (peer, _) = listener.accept().await.unwrap();
        w.write(&big);
        drop(w);
        let (mut pr, _pw) = tcp_streams(peer);
        assert_eq!(pr.read_to_end().await.unwrap(), *big);
    });
}

#[test]
fn close_sends_everything_including_the_last_write() {
    run_mt(30, async {
        const MIB: usize = 1024 * 1024;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (_r, w) = open_connection(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (peer, _) = listener.accept().await.unwrap();
        // More than the socket buffers hold: most of it is still queued at close().
        let chunk = vec![9u8; MIB];
        for _ in 0..16 {
            w.write(&chunk);
        }
        w.writelines([&b"tail"[..], b"!"]);
        w.close();
        assert!(w.is_closing());
        w.write(b"ignored after close");
        let reader = spawn(async move {
            let (mut pr, _pw) = tcp_streams(peer);
            pr.read_to_end().await.unwrap()
        });
        w.wait_closed().await;
        let got = reader.await.unwrap();
        assert_eq!(got.len(), 16 * MIB + 5);
        assert!(got[..16 * MIB].iter().all(|&b| b == 9));
        assert_eq!(&got[16 * MIB..], b"tail!");
        assert!(
            w.drain().await.is_err(),
            "drain after close reports the closed connection"
        );
    });
}

#[test]
fn half_close_peer_sees_eof_and_can_still_answer() {
    run_mt(20, async {
        let server = start_server(
            |mut r: StreamReader, w: StreamWriter| async move {
                let request = r.read_to_end().await.unwrap(); // up to the client's EOF
                w.write(b"got ");
                w.write(&request);
                w.close();
                w.wait_closed().await;
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut r, w) = open_connection(server.local_addr()).await.unwrap();
        assert!(w.can_write_eof());
        w.write(b"question");
        w.write_eof();
        w.write(b"ignored after write_eof");
        assert_eq!(r.read_to_end().await.unwrap(), b"got question");
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn a_slow_handler_does_not_hold_up_the_others() {
    // One thread: the slow handler must be waiting, not blocking, for this to pass.
    within(Duration::from_secs(20), || {
        current_thread().block_on(async {
            let release = Arc::new(Event::new());
            let gate = release.clone();
            let server = start_server(
                move |mut r: StreamReader, w: StreamWriter| {
                    let gate = gate.clone();
                    async move {
                        let line = r.readline().await.unwrap();
                        if line == b"slow\n" {
                            gate.wait().await;
                        }
                        w.write(&line);
                    }
                },
                "127.0.0.1:0",
            )
            .await
            .unwrap();
            let (mut slow_r, slow_w) = open_connection(server.local_addr()).await.unwrap();
            slow_w.write(b"slow\n");
            corio_runtime::sleep(Duration::from_millis(50)).await; // the slow one is served first
            let (mut fast_r, fast_w) = open_connection(server.local_addr()).await.unwrap();
            fast_w.write(b"fast\n");
            assert_eq!(fast_r.readline().await.unwrap(), b"fast\n");
            // The slow one is still waiting for its gate.
            assert!(wait_for(slow_r.readline(), Duration::from_millis(100))
                .await
                .is_err());
            release.set();
            assert_eq!(slow_r.readline().await.unwrap(), b"slow\n");
            server.close();
            server.wait_closed().await;
        })
    });
}

#[test]
fn wait_closed_waits_for_running_handlers_even_panicking_ones() {
    run_mt(20, async {
        let release = Arc::new(Event::new());
        let gate = release.clone();
        let server = start_server(
            move |mut r: StreamReader, _w| {
                let gate = gate.clone();
                async move {
                    let line = r.readline().await.unwrap();
                    if line == b"panic\n" {
                        panic!("handler panics on purpose");
                    }
                    gate.wait().await;
                }
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (_r1, w1) = open_connection(server.local_addr()).await.unwrap();
        w1.write(b"panic\n");
        let (_r2, w2) = open_connection(server.local_addr()).await.unwrap();
        w2.write(b"wait\n");
        corio_runtime::sleep(Duration::from_millis(100)).await;
        server.close();
        assert!(
            wait_for(server.wait_closed(), Duration::from_millis(200))
                .await
                .is_err(),
            "a handler is still running"
        );
        release.set();
        wait_for(server.wait_closed(), Duration::from_secs(10))
            .await
            .expect("wait_closed after every handler finished (one panicked)");
        assert!(TcpStream::connect(server.local_addr()).await.is_err());
    });
}

#[test]
fn wait_closed_waits_until_a_finished_handler_has_sent_everything() {
    run_mt(30, async {
        const LEN: usize = 16 * 1024 * 1024;
        let server = start_server(
            |_r, w: StreamWriter| async move {
                w.write(&vec![5u8; LEN]); // more than the socket buffers hold
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut r, _w) = open_connection(server.local_addr()).await.unwrap();
        let first = r.read(1).await.unwrap(); // the handler has run
        assert_eq!(first, [5]);
        server.close();
        assert!(
            wait_for(server.wait_closed(), Duration::from_millis(300))
                .await
                .is_err(),
            "the handler's writer is still sending"
        );
        let rest = r.read_to_end().await.unwrap();
        assert_eq!(rest.len(), LEN - 1);
        wait_for(server.wait_closed(), Duration::from_secs(10))
            .await
            .expect("wait_closed once everything was sent");
    });
}

#[test]
fn lines_is_a_stream() {
    run_mt(20, async {
        let server = start_server(
            |_r, w: StreamWriter| async move {
                w.writelines([&b"one\n"[..], b"two\n", b"three"]);
            },
            "127.0.0.1:0",
        )
        .await
        .unwrap();
        let (mut r, _w) = open_connection(server.local_addr()).await.unwrap();
        let lines: Vec<Vec<u8>> = r.lines().map(|l| l.unwrap()).collect().await;
        assert_eq!(lines, [&b"one\n"[..], b"two\n", b"three"]);
        // Upper-cased and counted with StreamExt combinators.
        let (mut r, _w) = open_connection(server.local_addr()).await.unwrap();
        let n = r
            .lines()
            .filter(|l| std::future::ready(l.as_ref().is_ok_and(|l| l.starts_with(b"t"))))
            .count()
            .await;
        assert_eq!(n, 2);
        server.close();
    });
}

#[test]
fn separator_beyond_the_limit_reports_its_offset() {
    within(Duration::from_secs(20), || {
        current_thread().block_on(async {
            let mut r = StreamReader::new(&b"0123456789\r\nrest"[..]);
            r.set_limit(4);
            match r.readuntil(b"\r\n").await {
                Err(ReadError::LimitOverrun { consumed }) => assert_eq!(consumed, 10),
                other => panic!("{other:?}"),
            }
            r.set_limit(64);
            assert_eq!(r.readuntil(b"\r\n").await.unwrap(), b"0123456789\r\n");
            assert_eq!(r.read_to_end().await.unwrap(), b"rest");
        })
    });
}

#[test]
fn lines_ends_after_an_error() {
    within(Duration::from_secs(20), || {
        current_thread().block_on(async {
            let mut r = StreamReader::new(&b"ok\nthis line is far too long\nafter\n"[..]);
            r.set_limit(8);
            let items: Vec<io::Result<Vec<u8>>> = r.lines().collect().await;
            assert_eq!(items.len(), 2);
            assert_eq!(items[0].as_ref().unwrap(), b"ok\n");
            assert_eq!(
                items[1].as_ref().unwrap_err().kind(),
                io::ErrorKind::InvalidData
            );
        })
    });
}

#[test]
fn reuse_port_lets_two_listeners_share_a_port() {
    run_mt(30, async {
        let a = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port_taken = TcpListener::bind(a.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(port_taken.kind(), io::ErrorKind::AddrInUse);

        let opts = ServerOptions::new().reuse_port(true);
        let l1 = TcpListener::bind_with("127.0.0.1:0", opts.clone())
            .await
            .unwrap();
        let l2 = TcpListener::bind_with(l1.local_addr().unwrap(), opts.clone())
            .await
            .unwrap();
        assert_eq!(l1.local_addr().unwrap(), l2.local_addr().unwrap());
        // Without the option on the second socket the port stays taken.
        let err = TcpListener::bind(l1.local_addr().unwrap())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        drop((l1, l2));

        // Two stream servers on one port: the kernel spreads connections over both.
        let s1 = start_server_with(
            |_r, w: StreamWriter| async move { w.write(b"1") },
            "127.0.0.1:0",
            opts.clone(),
        )
        .await
        .unwrap();
        let s2 = start_server_with(
            |_r, w: StreamWriter| async move { w.write(b"2") },
            s1.local_addr(),
            opts,
        )
        .await
        .unwrap();
        let mut seen = [false; 2];
        for _ in 0..200 {
            let (mut r, _w) = open_connection(s1.local_addr()).await.unwrap();
            match r.read_to_end().await.unwrap().as_slice() {
                b"1" => seen[0] = true,
                b"2" => seen[1] = true,
                other => panic!("unexpected reply {other:?}"),
            }
            if seen == [true, true] {
                break;
            }
        }
        assert_eq!(seen, [true, true], "both servers served connections");
        s1.close();
        s2.close();
        s1.wait_closed().await;
        s2.wait_closed().await;
    });
}

#[test]
fn unix_stream_server_and_connection() {
    let path = temp_sock("echo");
    run_mt(20, async move {
        let server = start_unix_server(
            |mut r: StreamReader, w: StreamWriter| async move {
                while let Some(line) = r.lines().next().await {
                    w.write(&line.unwrap().to_ascii_uppercase());
                }
                w.write_eof();
            },
            &path,
        )
        .await
        .unwrap();
        assert_eq!(server.local_path(), Some(path.as_path()));
        let (mut r, w) = open_unix_connection(&path).await.unwrap();
        assert!(w.peer_addr().is_err()); // no IP address on a Unix socket
        w.write(b"hello\n");
        assert_eq!(r.readline().await.unwrap(), b"HELLO\n");
        w.write(b"partial");
        w.write_eof();
        assert_eq!(r.read_to_end().await.unwrap(), b"PARTIAL");
        match r.readexactly(1).await {
            Err(ReadError::Incomplete { partial }) => assert!(partial.is_empty()),
            other => panic!("{other:?}"),
        }
        server.close();
        server.wait_closed().await;
        assert!(!path.exists(), "closing the server removes its socket file");
        assert!(open_unix_connection(&path).await.is_err());
    });
}

#[test]
fn unix_server_on_an_existing_path_is_addr_in_use() {
    let path = temp_sock("inuse");
    run_mt(20, async move {
        let server = start_unix_server(|_r, _w| async {}, &path).await.unwrap();
        let err = start_unix_server(|_r, _w| async {}, &path)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        server.close();
        server.wait_closed().await;
    });
}

#[test]
fn stream_futures_are_lazy() {
    // Built outside any runtime, awaited inside one.
    let fut = open_connection("127.0.0.1:1");
    let server_fut = start_server(|_r, _w| async {}, "127.0.0.1:0");
    within(Duration::from_secs(20), move || {
        current_thread().block_on(async move {
            let server = server_fut.await.unwrap();
            assert!(fut.await.is_err()); // nothing listens on port 1
            server.close();
        })
    });
}
