//! Networking on the real runtime: echo with spawned connection tasks, split halves in
//! two tasks, the seed's asyncio HTTP server, and I/O + timers while a worker is blocked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corio_runtime::net::{create_server, Protocol, TcpListener, TcpStream, Transport};
use corio_runtime::time::sleep;
use corio_runtime::{spawn, Builder, Runtime};
use corio_test_util::within;

async fn echo_server(listener: TcpListener) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            return;
        };
        drop(spawn(async move {
            let mut buf = [0u8; 1024];
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                }
            }
        }));
    }
}

#[test]
fn echo_with_50_concurrent_clients_on_the_runtime() {
    within(Duration::from_secs(30), || {
        corio_runtime::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            drop(spawn(echo_server(listener)));
            let clients: Vec<_> = (0..50)
                .map(|i| {
                    spawn(async move {
                        let mut c = TcpStream::connect(addr).await.unwrap();
                        c.set_nodelay(true).unwrap();
                        for r in 0..50 {
                            let msg = format!("{i}:{r}");
                            c.write_all(msg.as_bytes()).await.unwrap();
                            let mut back = vec![0; msg.len()];
                            c.read_exact(&mut back).await.unwrap();
                            assert_eq!(back, msg.as_bytes());
                        }
                        c.shutdown().await.unwrap();
                        let mut b = [0; 1];
                        assert_eq!(c.read(&mut b).await.unwrap(), 0, "EOF after shutdown");
                    })
                })
                .collect();
            for c in clients {
                c.await.unwrap();
            }
        });
    });
}

#[test]
fn split_halves_in_two_tasks() {
    within(Duration::from_secs(30), || {
        corio_runtime::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            drop(spawn(echo_server(listener)));
            let (mut rd, mut wr) = TcpStream::connect(addr).await.unwrap().into_split();
            const TOTAL: usize = 4 << 20;
            let writer = spawn(async move {
                let chunk = vec![3u8; 32 << 10];
                for _ in 0..TOTAL / chunk.len() {
                    wr.write_all(&chunk).await.unwrap();
                }
            });
            let reader = spawn(async move {
                let mut buf = vec![0; 32 << 10];
                let mut got = 0;
                while got < TOTAL {
                    let n = rd.read(&mut buf).await.unwrap();
                    assert!(n > 0);
                    assert!(buf[..n].iter().all(|&b| b == 3));
                    got += n;
                }
                got
            });
            writer.await.unwrap();
            assert_eq!(reader.await.unwrap(), TOTAL);
        });
    });
}

// ---- the seed: /work/shared/seeds/003 (asyncio's DemoProtocol HTTP server) ------------

const BLOCK_DELAY: Duration = Duration::from_millis(1500);

struct DemoProtocol {
    transport: Option<Transport>,
}

impl DemoProtocol {
    fn url(data: &[u8]) -> Option<&[u8]> {
        // url_re = re.compile(b'GET (.*) HTTP/1.1')
        let rest = data.strip_prefix(b"GET ")?;
        let end = rest.windows(9).position(|w| w == b" HTTP/1.1")?;
        Some(&rest[..end])
    }

    async fn response(transport: Transport, content: &'static [u8]) {
        transport.write(b"HTTP/1.1 200 OK\r\n");
        transport.write(b"Content-Type: text/html\r\n");
        transport.write(b"\r\n");
        transport.write(content);
        transport.write(b"\r\n");
        transport.close();
    }

    async fn response_after(transport: Transport, content: &'static [u8], delay: Duration) {
        sleep(delay).await;
        Self::response(transport, content).await;
    }
}

impl Protocol for DemoProtocol {
    fn connection_made(&mut self, transport: &Transport) {
        println!("Connection from {}", transport.peer_addr());
        self.transport = Some(transport.clone());
    }

    fn data_received(&mut self, data: &[u8], _transport: &Transport) {
        let Some(url) = Self::url(data) else { return };
        println!("GET {}", String::from_utf8_lossy(url));
        let t = self.transport.clone().expect("connection_made ran first");
        if url == b"/block" {
            let content = b"<h1>Are you block?</h1>";
            drop(spawn(Self::response_after(t, content, BLOCK_DELAY)));
        } else {
            drop(spawn(Self::response(t, b"<h1>hello world</h1>")));
        }
    }
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (String, Duration) {
    let start = Instant::now();
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    let mut buf = [0; 256];
    loop {
        let n = c.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
    }
    (String::from_utf8(out).unwrap(), start.elapsed())
}

#[test]
fn seed_http_server_block_does_not_delay_other_clients() {
    within(Duration::from_secs(30), || {
        corio_runtime::run(async {
            let server = create_server(|| DemoProtocol { transport: None }, "127.0.0.1:0")
                .await
                .unwrap();
            let addr = server.local_addr();
            let serving = {
                let s = server.clone();
                spawn(async move { s.serve_forever().await })
            };
            let blocked = spawn(get(addr, "/block"));
            sleep(Duration::from_millis(50)).await; // /block is in flight
            let (hello, t_hello) = get(addr, "/").await;
            assert_eq!(
                hello,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<h1>hello world</h1>\r\n"
            );
            assert!(t_hello < Duration::from_millis(500), "/ took {t_hello:?}");
            assert!(!blocked.is_finished(), "/block answered too early");
            let (block, t_block) = blocked.await.unwrap();
            assert!(block.ends_with("<h1>Are you block?</h1>\r\n"), "{block}");
            assert!(t_block >= BLOCK_DELAY, "/block took only {t_block:?}");
            assert!(t_block < BLOCK_DELAY + Duration::from_millis(500));
            server.close();
            server.wait_closed().await;
            serving.await.unwrap().unwrap();
            assert!(
                TcpStream::connect(addr).await.is_err(),
                "closed server refuses"
            );
        });
    });
}

#[test]
fn protocol_lifecycle_on_the_runtime() {
    use std::sync::atomic::AtomicUsize;
    static MADE: AtomicUsize = AtomicUsize::new(0);
    static DATA: AtomicUsize = AtomicUsize::new(0);
    static EOF: AtomicUsize = AtomicUsize::new(0);
    static LOST: AtomicUsize = AtomicUsize::new(0);
    struct P;
    impl Protocol for P {
        fn connection_made(&mut self, _t: &Transport) {
            MADE.fetch_add(1, Ordering::SeqCst);
        }
        fn data_received(&mut self, data: &[u8], t: &Transport) {
            DATA.fetch_add(1, Ordering::SeqCst);
            t.write(data);
        }
        fn eof_received(&mut self, _t: &Transport) -> bool {
            EOF.fetch_add(1, Ordering::SeqCst);
            false
        }
        fn connection_lost(&mut self, error: Option<std::io::Error>) {
            assert!(error.is_none(), "{error:?}");
            LOST.fetch_add(1, Ordering::SeqCst);
        }
    }
    within(Duration::from_secs(30), || {
        corio_runtime::run(async {
            let server = create_server(|| P, "127.0.0.1:0").await.unwrap();
            let mut c = TcpStream::connect(server.local_addr()).await.unwrap();
            c.write_all(b"ping").await.unwrap();
            let mut b = [0; 4];
            c.read_exact(&mut b).await.unwrap();
            c.shutdown().await.unwrap();
            assert_eq!(c.read(&mut b).await.unwrap(), 0);
            server.close();
            server.wait_closed().await; // waits for the connection to finish too
        });
    });
    assert_eq!(MADE.load(Ordering::SeqCst), 1);
    assert!(DATA.load(Ordering::SeqCst) >= 1);
    assert_eq!(EOF.load(Ordering::SeqCst), 1);
    assert_eq!(LOST.load(Ordering::SeqCst), 1);
}

/// A runtime with exactly two workers: one to block, one that must keep I/O going.
fn two_workers() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Spawns `echo_server` on a fresh loopback listener; returns its address.
async fn start_echo_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(spawn(echo_server(listener)));
    addr
}

/// Checks that the blocking task is still inside its 1.5 s block, then waits for it.
async fn still_blocked(blocker: corio_runtime::task::Task<()>) {
    assert!(
        !blocker.is_finished(),
        "the blocker should still be sleeping"
    );
    blocker.await.unwrap();
}

#[test]
fn io_and_timers_keep_running_while_a_worker_is_blocked() {
    within(Duration::from_secs(30), || {
        two_workers().block_on(async {
            let addr = start_echo_server().await;
            let started = Arc::new(AtomicBool::new(false));
            let s2 = started.clone();
            let blocker = spawn(async move {
                s2.store(true, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(1500)); // blocks its worker
            });
            while !started.load(Ordering::SeqCst) {
                sleep(Duration::from_millis(1)).await;
            }
            let work = spawn(async move {
                let t = Instant::now();
                let mut c = TcpStream::connect(addr).await.unwrap();
                c.set_nodelay(true).unwrap();
                for i in 0..20u8 {
                    c.write_all(&[i; 16]).await.unwrap();
                    let mut b = [0; 16];
                    c.read_exact(&mut b).await.unwrap();
                    assert_eq!(b, [i; 16]);
                }
                for _ in 0..10 {
                    sleep(Duration::from_millis(10)).await;
                }
                t.elapsed()
            });
            let took = work.await.unwrap();
            println!("with one of two workers blocked: 20 echoes + 10 sleeps took {took:?}");
            assert!(
                took < Duration::from_millis(700),
                "20 echoes + 10×10 ms sleeps took {took:?} with one worker blocked"
            );
            still_blocked(blocker).await;
        });
    });
}

#[test]
fn io_keeps_running_when_an_io_woken_task_blocks_its_worker_under_load() {
    // A busy echo loop keeps both workers active (so a watcher exists and a worker leaving
    // the reactor with a single task wakes nobody); then a task woken by I/O — the only
    // task of that reactor turn — blocks its worker for 1.5 s. The echo loop must keep
    // going: the watcher takes the reactor (and any stranded task) over.
    within(Duration::from_secs(30), || {
        two_workers().block_on(async {
            let addr = start_echo_server().await;
            let (trigger_rx, trigger_tx) = std::os::unix::net::UnixStream::pair().unwrap();
            trigger_rx.set_nonblocking(true).unwrap();
            let mut trigger_rx = corio_runtime::net::UnixStream::from_std(trigger_rx).unwrap();
            let blocker = spawn(async move {
                let mut b = [0; 1];
                trigger_rx.read_exact(&mut b).await.unwrap();
                std::thread::sleep(Duration::from_millis(1500)); // blocks its worker
            });
            let trigger = std::sync::Mutex::new(Some(trigger_tx));
            let work = spawn(async move {
                let mut c = TcpStream::connect(addr).await.unwrap();
                c.set_nodelay(true).unwrap();
                let mut worst = Duration::ZERO;
                let start = Instant::now();
                for i in 0..600u32 {
                    if i == 200 {
                        use std::io::Write;
                        let tx = trigger.lock().unwrap().take().unwrap();
                        (&tx).write_all(b"!").unwrap();
                    }
                    let t = Instant::now();
                    c.write_all(&i.to_le_bytes()).await.unwrap();
                    let mut b = [0; 4];
                    c.read_exact(&mut b).await.unwrap();
                    assert_eq!(u32::from_le_bytes(b), i);
                    worst = worst.max(t.elapsed());
                }
                (worst, start.elapsed())
            });
            let (worst, took) = work.await.unwrap();
            println!("600 echoes around a blocked worker: {took:?}, worst round trip {worst:?}");
            assert!(
                worst < Duration::from_millis(500),
                "an echo round trip waited {worst:?} behind the blocked worker"
            );
            still_blocked(blocker).await;
        });
    });
}

#[test]
fn udp_and_unix_on_the_runtime() {
    within(Duration::from_secs(20), || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let a = corio_runtime::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .unwrap();
            let b = corio_runtime::net::UdpSocket::bind("127.0.0.1:0")
                .await
                .unwrap();
            let ba = b.local_addr().unwrap();
            let recv = spawn(async move {
                let mut buf = [0; 8];
                let (n, _) = b.recv_from(&mut buf).await.unwrap();
                buf[..n].to_vec()
            });
            sleep(Duration::from_millis(10)).await;
            a.send_to(b"dgram", ba).await.unwrap();
            assert_eq!(recv.await.unwrap(), b"dgram");

            let (mut x, mut y) = corio_runtime::net::UnixStream::pair().unwrap();
            let t = spawn(async move {
                let mut b = [0; 3];
                y.read_exact(&mut b).await.unwrap();
                y.write_all(&b).await.unwrap();
            });
            x.write_all(b"uds").await.unwrap();
            let mut b = [0; 3];
            x.read_exact(&mut b).await.unwrap();
            assert_eq!(&b, b"uds");
            t.await.unwrap();
        });
    });
}

#[test]
fn sockets_lend_their_descriptors_to_socket_option_crates() {
    use corio_runtime::net::{UdpSocket, UnixListener, UnixStream};
    use socket2::SockRef;
    use std::os::fd::{AsFd, AsRawFd};
    within(Duration::from_secs(10), || {
        corio_runtime::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            // socket2 sees the very sockets corio drives, through the borrowed descriptors.
            assert_eq!(
                SockRef::from(&listener).local_addr().unwrap().as_socket(),
                Some(addr)
            );
            assert_eq!(
                SockRef::from(&client).peer_addr().unwrap().as_socket(),
                Some(addr)
            );
            SockRef::from(&client).set_nodelay(true).unwrap();
            assert!(client.nodelay().unwrap());
            SockRef::from(&server).set_nodelay(false).unwrap();
            assert!(!server.nodelay().unwrap());
            assert_eq!(client.as_fd().as_raw_fd(), client.as_raw_fd());
            assert_ne!(client.as_raw_fd(), server.as_raw_fd());

            let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
            assert_eq!(
                SockRef::from(&udp).local_addr().unwrap().as_socket(),
                Some(udp.local_addr().unwrap())
            );

            let dir = std::env::temp_dir().join(format!("corio-asfd-{}", std::process::id()));
            let _ = std::fs::remove_file(&dir);
            let unix = UnixListener::bind(&dir).await.unwrap();
            let a = UnixStream::connect(&dir).await.unwrap();
            let (b, _) = unix.accept().await.unwrap();
            for fd in [unix.as_raw_fd(), a.as_raw_fd(), b.as_raw_fd()] {
                assert!(fd >= 0);
            }
            assert_eq!(SockRef::from(&a).r#type().unwrap(), socket2::Type::STREAM);
            drop((a, b, unix));
            let _ = std::fs::remove_file(&dir);
        });
    });
}
